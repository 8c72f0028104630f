/**
 * QMP protocol behaviour against a real server on a Unix socket and a TCP loopback port: greeting,
 * negotiation, id echo, QEMU's error texts for malformed requests, out-of-band ordering and the
 * request queue limit, events, several clients, disconnects, slow readers, pretty output.
 */
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { chardevDeleteAll } from '../../engine/chardev/char-registry.js';
import { QMP_REQ_QUEUE_LEN_MAX, type MonitorQMP } from '../../engine/monitor/qmp.js';
import { QEMU_COMPAT_VERSION, ENGINE_PACKAGE } from '../../engine/version.js';
import { resetEventThrottling } from '../../engine/monitor/monitor.js';
import { setChardevReportSink } from '../../engine/chardev/report.js';
import { boundPort, gate, sockPath, startQmp } from './qmp-fixtures.js';
import { until } from '../helpers/until.js';
import { QmpTestClient } from './qmp-test-client.js';

const clients: QmpTestClient[] = [];
const monitors: MonitorQMP[] = [];

async function client(target: { path: string } | { port: number }): Promise<QmpTestClient> {
  const c = await QmpTestClient.connect(target);
  clients.push(c);
  return c;
}

async function unixServer(
  name: string,
  extra = '',
  monOpts = {},
): Promise<{ path: string; mon: MonitorQMP }> {
  const path = sockPath(name);
  const { mon } = await startQmp(`unix:${path},server=on,wait=off${extra}`, monOpts);
  monitors.push(mon);
  return { path, mon };
}

beforeEach(() => {
  gate.reset();
});

afterEach(async () => {
  gate.release();
  for (const c of clients.splice(0)) await c.close();
  for (const m of monitors.splice(0)) m.destroy();
  await chardevDeleteAll();
  resetEventThrottling();
});

afterAll(() => {
  setChardevReportSink(null);
});

describe('greeting and negotiation', () => {
  it('greets with the version and the oob capability, line terminated by \\r\\n', async () => {
    const { path } = await unixServer('greet.sock');
    const c = await client({ path });
    await c.greeting();
    const { major, minor, micro } = QEMU_COMPAT_VERSION;
    expect(c.lines[0]).toBe(
      `{"QMP": {"version": {"qemu": {"micro": ${micro}, "minor": ${minor}, "major": ${major}}, "package": "${ENGINE_PACKAGE}"}, "capabilities": ["oob"]}}`,
    );
    expect(c.partial).toBe('');
  });

  it('accepts only qmp_capabilities before negotiation, and refuses it afterwards', async () => {
    const { path } = await unixServer('neg.sock');
    const c = await client({ path });
    await c.greeting();
    expect(await c.execute('query-version', undefined, { id: 1 })).toEqual({
      id: 1,
      error: { class: 'CommandNotFound', desc: "Expecting capabilities negotiation with 'qmp_capabilities'" },
    });
    // Even an existing command in negotiation mode gets the negotiation text, like QEMU's.
    expect((await c.execute('no-such-command', undefined, { id: 'x' }))['error']).toEqual({
      class: 'CommandNotFound',
      desc: "Expecting capabilities negotiation with 'qmp_capabilities'",
    });
    await c.execute('qmp_capabilities', undefined, { id: 2 });
    expect(c.lines.at(-1)).toBe('{"return": {}, "id": 2}');
    expect(await c.execute('qmp_capabilities', undefined, { id: 3 })).toEqual({
      id: 3,
      error: {
        class: 'CommandNotFound',
        desc: 'Capabilities negotiation is already complete, command ignored',
      },
    });
    expect(c.lines.at(-1)).toBe(
      '{"id": 3, "error": {"class": "CommandNotFound", "desc": "Capabilities negotiation is already complete, command ignored"}}',
    );
    const v = await c.execute('query-version');
    expect(v['return']).toEqual({ qemu: { micro: 0, minor: 2, major: 7 }, package: ENGINE_PACKAGE });
  });

  it('rejects unknown capabilities and leaves the monitor in negotiation mode', async () => {
    const { path } = await unixServer('cap.sock');
    const c = await client({ path });
    await c.greeting();
    expect((await c.execute('qmp_capabilities', { enable: ['bogus'] }))['error']).toEqual({
      class: 'GenericError',
      desc: "Parameter 'enable[0]' does not accept value 'bogus'",
    });
    expect((await c.execute('echo'))['error']).toMatchObject({ class: 'CommandNotFound' });
    expect(await c.execute('qmp_capabilities', { enable: ['oob'] })).toMatchObject({ return: {} });
  });
});

describe('request validation (qmp_dispatch texts)', () => {
  let c: QmpTestClient;
  beforeEach(async () => {
    const { path } = await unixServer('val.sock');
    c = await client({ path });
    await c.negotiate();
  });

  async function raw(text: string): Promise<unknown> {
    const n = c.messages.length;
    c.send(text + '\n');
    return (await c.message(n))['error'];
  }

  const generic = (desc: string) => ({ class: 'GenericError', desc });

  it('explains each malformed request', async () => {
    expect(await raw('[1, 2]')).toEqual(generic('QMP input must be a JSON object'));
    expect(await raw('"execute"')).toEqual(generic('QMP input must be a JSON object'));
    expect(await raw('null')).toEqual(generic('QMP input must be a JSON object'));
    expect(await raw('{"execute": 1}')).toEqual(generic("QMP input member 'execute' must be a string"));
    expect(await raw('{"execute": "echo", "arguments": [1]}')).toEqual(
      generic("QMP input member 'arguments' must be an object"),
    );
    expect(await raw('{"foo": 1}')).toEqual(generic("QMP input member 'foo' is unexpected"));
    expect(await raw('{}')).toEqual(generic("QMP input lacks member 'execute'"));
    expect(await raw('{"exec-oob": "oob-ping"}')).toEqual(
      generic("QMP input member 'exec-oob' is unexpected"),
    );
    expect(await raw('{"execute": "nope"}')).toEqual({
      class: 'CommandNotFound',
      desc: 'The command nope has not been found',
    });
    expect(await raw('{"execute": "disabled-cmd"}')).toEqual({
      class: 'CommandNotFound',
      desc: 'The command disabled-cmd has been disabled for this instance',
    });
  });

  it('echoes any JSON id verbatim, on errors too', async () => {
    for (const id of [0, -1.5, 'str', null, true, [1, { a: 'b' }], { deep: { x: [null] } }]) {
      expect((await c.execute('echo', { v: 1 }, { id }))['id']).toEqual(id);
    }
    c.send('{"id": {"k": [1, 2]}, "bogus": 1}\n');
    const r = await c.reply({ k: [1, 2] });
    expect(r['error']).toEqual(generic("QMP input member 'bogus' is unexpected"));
    expect(c.lines.at(-1)).toBe(
      '{"id": {"k": [1, 2]}, "error": {"class": "GenericError", "desc": "QMP input member \'bogus\' is unexpected"}}',
    );
  });

  it('reports JSON syntax errors without an id and keeps the stream usable', async () => {
    const n = c.messages.length;
    c.send('{"execute": }\n');
    const e = (await c.message(n))['error'] as { class: string; desc: string };
    expect(e.class).toBe('GenericError');
    expect(e.desc).toMatch(/^JSON parse error, /);
    expect(c.messages[n]).not.toHaveProperty('id');
    expect((await c.execute('echo', { after: 'error' }))['return']).toEqual({ after: 'error' });
  });

  it('turns handler exceptions into errors without crashing', async () => {
    const bug = await c.execute('throw-bug');
    expect(bug['error']).toMatchObject({ class: 'GenericError' });
    expect((bug['error'] as { desc: string }).desc).toMatch(/undefined/);
    expect((await c.execute('throw-qapi'))['error']).toEqual({
      class: 'DeviceNotFound',
      desc: "Device 'nope' not found",
    });
    expect((await c.execute('reject-async'))['error']).toEqual(generic('async failure'));
    expect((await c.execute('echo', { ok: true }))['return']).toEqual({ ok: true });
  });
});

describe('in-band and out-of-band execution', () => {
  it('answers in-band requests strictly in order', async () => {
    const { path } = await unixServer('order.sock');
    const c = await client({ path });
    await c.negotiate();
    const start = c.messages.length;
    c.send(
      '{"execute": "slow", "arguments": {"ms": 60}, "id": 1}\n{"execute": "echo", "id": 2}\n' +
        '{"execute": "slow", "arguments": {"ms": 10}, "id": 3}\n{"execute": "echo", "id": 4}\n',
    );
    await c.reply(4);
    expect(c.messages.slice(start).map((m) => m['id'])).toEqual([1, 2, 3, 4]);
  });

  it('answers exec-oob while an in-band command is still running', async () => {
    const { path } = await unixServer('oob.sock');
    const c = await client({ path });
    await c.negotiate(['oob']);
    const start = c.messages.length;
    c.send(
      '{"execute": "block", "id": "ib"}\n{"exec-oob": "oob-ping", "id": "oob", "arguments": {"n": 7}}\n',
    );
    expect((await c.reply('oob'))['return']).toEqual({ pong: 7 });
    expect(c.messages.slice(start).map((m) => m['id'])).toEqual(['oob']);
    gate.release();
    await c.reply('ib');
    expect(c.messages.slice(start).map((m) => m['id'])).toEqual(['oob', 'ib']);
  });

  it('refuses exec-oob for commands without allow-oob, and execute+exec-oob together', async () => {
    const { path } = await unixServer('oob2.sock');
    const c = await client({ path });
    await c.negotiate(['oob']);
    expect((await c.execute('echo', undefined, { oob: true }))['error']).toEqual({
      class: 'GenericError',
      desc: 'The command echo does not support OOB',
    });
    c.send('{"execute": "echo", "exec-oob": "oob-ping", "id": 9}\n');
    expect((await c.reply(9))['error']).toEqual({
      class: 'GenericError',
      desc: "QMP input member 'exec-oob' clashes with 'execute'",
    });
  });

  it('stops reading at 8 queued in-band requests; an oob request behind them waits its turn', async () => {
    const { path, mon } = await unixServer('queue.sock');
    const c = await client({ path });
    await c.negotiate(['oob']);
    const start = c.messages.length;
    let batch = '';
    for (let i = 0; i < 20; i++) batch += `{"execute": "block", "arguments": {"n": ${i}}, "id": ${i}}\n`;
    batch += '{"exec-oob": "oob-ping", "id": "oob"}\n';
    c.send(batch);
    // The first request is running, the queue holds the next 8 and reading is suspended.
    await until(() => gate.waiting === 1, 10_000, 'the first request runs');
    await until(() => mon.queuedRequests === QMP_REQ_QUEUE_LEN_MAX, 10_000, 'the queue is full');
    await new Promise((r) => setTimeout(r, 50));
    expect(mon.queuedRequests).toBe(QMP_REQ_QUEUE_LEN_MAX);
    expect(c.messages.length).toBe(start);
    gate.release();
    await c.reply(19);
    const ids = c.messages.slice(start).map((m) => m['id']);
    expect(ids.filter((i) => i !== 'oob')).toEqual([...Array(20).keys()]);
    // Request k+8 is read when request k is taken from the queue; request 19 is read when request 11
    // starts, and the oob request right after it when request 12 starts: after 12 replies.
    expect(ids.indexOf('oob')).toBe(12);
  });

  it('with oob disabled, handles one request at a time', async () => {
    const { path, mon } = await unixServer('one.sock');
    const c = await client({ path });
    await c.negotiate();
    c.send('{"execute": "block", "id": 1}\n{"execute": "echo", "id": 2}\n{"execute": "echo", "id": 3}\n');
    await new Promise((r) => setTimeout(r, 100));
    expect(mon.queuedRequests).toBe(0);
    gate.release();
    await c.reply(3);
  });
});

describe('events', () => {
  it('sends events with timestamps to negotiated monitors only, before the reply', async () => {
    const a = await unixServer('ev-a.sock');
    const b = await unixServer('ev-b.sock');
    const ca = await client({ path: a.path });
    const cb = await client({ path: b.path });
    await ca.negotiate();
    await cb.greeting();
    const start = ca.messages.length;
    const before = Date.now() / 1000;
    await ca.execute('emit-event', { name: 'RESUME' }, { id: 5 });
    const [ev, reply] = ca.messages.slice(start);
    expect(ev).toMatchObject({ event: 'RESUME' });
    expect(ev).not.toHaveProperty('data');
    expect(reply).toEqual({ return: {}, id: 5 });
    expect(ca.lines[ca.lines.length - 2]).toMatch(
      /^\{"timestamp": \{"seconds": \d+, "microseconds": \d+\}, "event": "RESUME"\}$/,
    );
    const ts = ev!['timestamp'] as { seconds: number; microseconds: number };
    expect(ts.microseconds).toBeGreaterThanOrEqual(0);
    expect(ts.microseconds).toBeLessThan(1e6);
    expect(Math.abs(ts.seconds + ts.microseconds / 1e6 - before)).toBeLessThan(5);
    await ca.execute('emit-event', { name: 'SHUTDOWN', data: { guest: false, reason: 'host-qmp-quit' } });
    expect((await ca.event('SHUTDOWN'))['data']).toEqual({ guest: false, reason: 'host-qmp-quit' });
    await new Promise((r) => setTimeout(r, 50));
    expect(cb.messages.length).toBe(1); // greeting only
    await cb.execute('qmp_capabilities');
    await ca.execute('emit-event', { name: 'STOP' });
    await cb.event('STOP');
  });
});

describe('connections', () => {
  it('serves clients on several Unix and TCP monitors concurrently', async () => {
    const u1 = await unixServer('multi1.sock');
    const u2 = await unixServer('multi2.sock');
    const t = await startQmp('tcp:127.0.0.1:0,server=on,wait=off');
    monitors.push(t.mon);
    expect(t.chr.filename).toMatch(/^disconnected:tcp:127\.0\.0\.1:\d+,server=on$/);
    const cs = [
      await client({ path: u1.path }),
      await client({ path: u2.path }),
      await client({ port: boundPort(t.chr) }),
    ];
    await Promise.all(cs.map((c) => c.negotiate()));
    expect(t.chr.filename).toMatch(/^tcp:127\.0\.0\.1:\d+,server=on <-> 127\.0\.0\.1:\d+$/);
    // A command blocked on one monitor does not hold up the others.
    const blocked = cs[0]!.execute('block', undefined, { id: 'blocked' });
    const results = await Promise.all(cs.slice(1).map((c, i) => c.execute('echo', { i })));
    expect(results.map((r) => r['return'])).toEqual([{ i: 0 }, { i: 1 }]);
    expect(cs[0]!.messages.some((m) => m['id'] === 'blocked')).toBe(false);
    gate.release();
    expect((await blocked)['return']).toEqual({ n: null });
  });

  it('serves one client per chardev: the next one is greeted when the first leaves', async () => {
    const { path } = await unixServer('single.sock');
    const first = await client({ path });
    await first.negotiate();
    const second = await client({ path });
    await new Promise((r) => setTimeout(r, 100));
    expect(second.messages.length).toBe(0);
    await first.close();
    await second.negotiate();
    expect((await second.execute('echo', { who: 2 }))['return']).toEqual({ who: 2 });
  });

  it('survives a client disconnecting mid-command; its reply does not reach the next client', async () => {
    const { path, mon } = await unixServer('midcmd.sock');
    const a = await client({ path });
    await a.negotiate();
    a.send('{"execute": "block", "id": "lost"}\n{"execute": "echo", "id": "queued"}\n');
    await until(() => gate.waiting === 1, 10_000, "the first client's command runs");
    await a.close();
    const b = await client({ path });
    await b.greeting();
    // As in QEMU, the monitor reads no input while the in-band command of the previous client runs
    // (oob off: one request at a time), so the new client is served once it finishes.
    b.send('{"execute": "qmp_capabilities", "id": "neg"}\n');
    await new Promise((r) => setTimeout(r, 50));
    expect(b.messages.length).toBe(1);
    gate.release();
    await b.reply('neg');
    expect((await b.execute('echo', { b: 1 }))['return']).toEqual({ b: 1 });
    await new Promise((r) => setTimeout(r, 50));
    expect(b.messages.some((m) => m['id'] === 'lost' || m['id'] === 'queued')).toBe(false);
    expect(mon.queuedRequests).toBe(0);
  });

  it('disconnects a client that does not read, while others keep being served', async () => {
    const slow = await unixServer('noread.sock', '', { maxOutputBacklog: 512 * 1024 });
    const other = await unixServer('reader.sock');
    const lazy = await client({ path: slow.path });
    await lazy.negotiate();
    const good = await client({ path: other.path });
    await good.negotiate();
    lazy.socket.pause();
    let batch = '';
    for (let i = 0; i < 40; i++) batch += `{"execute": "big", "arguments": {"size": 262144}, "id": ${i}}\n`;
    lazy.send(batch);
    for (let i = 0; i < 5; i++) expect((await good.execute('echo', { i }))['return']).toEqual({ i });
    await lazy.until(() => slow.mon.chr.beOpen === false || undefined, 10000, 'server-side disconnect');
    lazy.socket.resume();
    await lazy.until(() => lazy.closed || undefined, 10000, 'close');
    expect((await good.execute('echo', { last: true }))['return']).toEqual({ last: true });
  });
});

describe('input limits', () => {
  it('answers an oversized message with the streamer limit error and continues', async () => {
    const { path } = await unixServer('huge.sock', '', { jsonLimits: { maxTokenSize: 64 * 1024 } });
    const c = await client({ path });
    await c.negotiate();
    const n = c.messages.length;
    c.send(
      `{"execute": "echo", "arguments": {"s": ["${'a'.repeat(1000)}"` +
        `, "${'b'.repeat(1000)}"`.repeat(100) +
        ']}}\n',
    );
    const e = (await c.message(n))['error'] as { desc: string };
    expect(e.desc).toBe('JSON token size limit exceeded');
    await c.until(() => c.messages.length > n);
    const r = await c.execute('echo', { fine: 1 }, { id: 'after' });
    expect(r['return']).toEqual({ fine: 1 });
  });

  it('does not buffer endless input without a newline', async () => {
    const { path } = await unixServer('endless.sock', '', { jsonLimits: { maxTokenSize: 256 * 1024 } });
    const c = await client({ path });
    await c.negotiate();
    const n = c.messages.length;
    c.send('{"execute": "echo", "arguments": {"s": "');
    const chunk = 'z'.repeat(64 * 1024);
    for (let i = 0; i < 64; i++) c.send(chunk); // 4 MiB in one unterminated string
    await c.until(() => c.messages.length > n, 10000, 'limit error');
    expect(c.messages[n]!['error']).toMatchObject({ class: 'GenericError' });
    const used = process.memoryUsage().heapUsed;
    expect(used).toBeLessThan(1024 * 1024 * 1024);
  });
});

describe('pretty output', () => {
  it('prints indented JSON with \\r\\n line ends', async () => {
    const path = sockPath('pretty.sock');
    const { mon } = await startQmp(`unix:${path},server=on,wait=off`, { pretty: true });
    monitors.push(mon);
    const c = await client({ path });
    await c.until(() => c.lines.length >= 1 && c.lines.includes('}') && c.lines);
    c.send('{"execute": "qmp_capabilities", "id": 1}\n');
    await c.until(() => c.lines.filter((l) => l === '}').length >= 2);
    const text = c.lines.join('\r\n');
    expect(text).toContain('{\r\n    "QMP": {\r\n        "version": {');
    expect(text).toContain('{\r\n    "return": {\r\n    },\r\n    "id": 1\r\n}');
  });
});
