#!/usr/bin/env node
// A stand-in for vmstudio-engine in supervisor tests: QEMU's command-line shape for -qmp, QEMU's QMP
// protocol (greeting, capabilities negotiation, ids, errors, events) and a serial console on stdio
// that echoes input. Behaviour switches (env): FAKE_ENGINE_CRASH_ON=<command> aborts on that command;
// FAKE_ENGINE_IGNORE_TERM=1 survives SIGTERM; FAKE_ENGINE_IGNORE_POWERDOWN=1 ignores the power button;
// FAKE_ENGINE_FAIL_START=<message> exits with that error before opening QMP;
// FAKE_ENGINE_FAIL_AFTER_QMP=<message> opens QMP, drops the first client and exits with that error a
// little later (as an engine whose -device fails after its monitors exist); FAKE_ENGINE_SILENT_QMP=1
// accepts QMP connections but never greets (a hung engine).
import fs from 'node:fs';
import net from 'node:net';
import process from 'node:process';
import { setTimeout } from 'node:timers';

const argv = process.argv.slice(2);
const env = process.env;
const qmpIdx = argv.indexOf('-qmp');
if (qmpIdx < 0) {
  process.stderr.write('fake-engine: no -qmp option\n');
  process.exit(1);
}
/** The first field of a QEMU option string (',,' is a literal comma). */
function firstField(opt) {
  let out = '';
  for (let i = 0; i < opt.length; i++) {
    if (opt[i] === ',') {
      if (opt[i + 1] !== ',') break;
      i++;
    }
    out += opt[i];
  }
  return out;
}
const qmpArg = firstField(argv[qmpIdx + 1]);
const socketPath = qmpArg.replace(/^unix:/, '');
const nameIdx = argv.indexOf('-name');
const name = nameIdx >= 0 ? argv[nameIdx + 1].replace(/,,/g, ',') : 'guest';

if (env.FAKE_ENGINE_FAIL_START) {
  process.stderr.write(`qemu-system-riscv64: ${env.FAKE_ENGINE_FAIL_START}\n`);
  process.exit(1);
}
if (env.FAKE_ENGINE_IGNORE_TERM)
  process.on('SIGTERM', () => process.stderr.write('fake-engine: ignoring SIGTERM\n'));

let running = !argv.includes('-S');
const clients = new Set();

function send(sock, obj) {
  sock.write(JSON.stringify(obj) + '\r\n');
}
function now() {
  const t = Date.now();
  return { seconds: Math.floor(t / 1000), microseconds: (t % 1000) * 1000 };
}
function event(name, data) {
  for (const c of clients) if (c.negotiated) send(c.sock, { event: name, data, timestamp: now() });
}
function exitSoon(code) {
  setTimeout(() => process.exit(code), 20);
}

const commands = {
  'query-status': () => ({ status: running ? 'running' : 'paused', singlestep: false, running }),
  'query-name': () => ({ name }),
  stop: () => {
    if (running) {
      running = false;
      event('STOP', {});
    }
    return {};
  },
  cont: () => {
    if (!running) {
      running = true;
      event('RESUME', {});
    }
    return {};
  },
  system_reset: () => {
    event('RESET', { guest: false, reason: 'host-qmp-system-reset' });
    process.stdout.write('\r\n[reset]\r\nlogin: ');
    return {};
  },
  system_powerdown: () => {
    event('POWERDOWN', {});
    if (!env.FAKE_ENGINE_IGNORE_POWERDOWN) {
      setTimeout(() => {
        event('SHUTDOWN', { guest: true, reason: 'guest-shutdown' });
        exitSoon(0);
      }, 30);
    }
    return {};
  },
  quit: () => {
    event('SHUTDOWN', { guest: false, reason: 'host-qmp-quit' });
    exitSoon(0);
    return {};
  },
  'x-big-number': () => ({ value: 18446744073709551615n }),
  // Test hook: the command line this engine was started with.
  'x-argv': () => ({ argv }),
};

function handle(client, msg) {
  const id = msg.id;
  const reply = (body) => send(client.sock, id === undefined ? body : { ...body, id });
  if (typeof msg.execute !== 'string') {
    reply({ error: { class: 'GenericError', desc: "QMP input lacks member 'execute'" } });
    return;
  }
  if (!client.negotiated) {
    if (msg.execute === 'qmp_capabilities') {
      client.negotiated = true;
      reply({ return: {} });
    } else {
      reply({
        error: {
          class: 'CommandNotFound',
          desc: "Expecting capabilities negotiation with 'qmp_capabilities'",
        },
      });
    }
    return;
  }
  if (env.FAKE_ENGINE_CRASH_ON === msg.execute) {
    process.stderr.write(`fake-engine: assertion failed while running '${msg.execute}'\n`);
    process.kill(process.pid, 'SIGABRT');
    return;
  }
  const fn = commands[msg.execute];
  if (!fn) {
    reply({ error: { class: 'CommandNotFound', desc: `The command ${msg.execute} has not been found` } });
    return;
  }
  const ret = fn(msg.arguments ?? {});
  const text = JSON.stringify(id === undefined ? { return: ret } : { return: ret, id }, (_k, v) =>
    typeof v === 'bigint' ? `@@${v}@@` : v,
  ).replace(/"@@(\d+)@@"/g, '$1');
  client.sock.write(text + '\r\n');
}

try {
  fs.rmSync(socketPath, { force: true });
} catch {
  // ignore
}
const server = net.createServer((sock) => {
  if (env.FAKE_ENGINE_FAIL_AFTER_QMP) {
    sock.destroy();
    process.stderr.write(`qemu-system-riscv64: ${env.FAKE_ENGINE_FAIL_AFTER_QMP}\n`);
    setTimeout(() => process.exit(1), 300);
    return;
  }
  if (env.FAKE_ENGINE_SILENT_QMP) return;
  const client = { sock, negotiated: false, buf: '' };
  clients.add(client);
  sock.on('close', () => clients.delete(client));
  sock.on('error', () => undefined);
  send(sock, {
    QMP: { version: { qemu: { micro: 0, minor: 2, major: 7 }, package: 'fake' }, capabilities: ['oob'] },
  });
  sock.on('data', (d) => {
    client.buf += d.toString('utf8');
    let nl;
    while ((nl = client.buf.indexOf('\n')) >= 0) {
      const line = client.buf.slice(0, nl).trim();
      client.buf = client.buf.slice(nl + 1);
      if (!line) continue;
      let msg;
      try {
        msg = JSON.parse(line);
      } catch {
        send(sock, { error: { class: 'GenericError', desc: 'JSON parse error, invalid literal' } });
        continue;
      }
      handle(client, msg);
    }
  });
});
server.listen(socketPath, () => {
  process.stderr.write(`fake-engine: ${name} listening on ${socketPath}\n`);
  process.stdout.write(`Booting ${name}...\r\nlogin: `);
});
process.stdin.on('data', (d) => process.stdout.write(d.toString('utf8').replace(/\r/g, '\r\n')));
process.stdin.on('error', () => undefined);
