import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import {
  findEcho,
  GUEST_PROMPT,
  SerialSession,
  SerialTimeoutError,
  startSerialProcess,
} from './serial-session.js';

/** A session on in-memory streams: `guest` writes console output, `typed` collects what was sent. */
function fakeConsole(): { session: SerialSession; guest: PassThrough; typed: () => string } {
  const toGuest = new PassThrough();
  const guest = new PassThrough();
  let typed = '';
  toGuest.setEncoding('utf8');
  toGuest.on('data', (d: string) => (typed += d));
  return { session: new SerialSession(toGuest, guest, { timeoutMs: 1000 }), guest, typed: () => typed };
}

describe('SerialSession', () => {
  it('matches across chunks, strips CR and escape sequences even when split between chunks', async () => {
    const { session, guest } = fakeConsole();
    const wait = session.waitFor(/guest ready \((\w+)\)/);
    guest.write('boot...\r\nVM Studio gu');
    guest.write('est \x1b[1');
    guest.write(';32mready (riscv64)\x1b[0m\r\n~ # \x1b[');
    guest.write('6n');
    const { match, before } = await wait;
    expect(match[1]).toBe('riscv64');
    expect(before).toBe('boot...\nVM Studio ');
    await session.waitFor(GUEST_PROMPT);
    expect(session.output).toBe('boot...\nVM Studio guest ready (riscv64)\n~ # ');
    expect(session.pending).toBe('');
  });

  it('consumes matches in order, so the same text must appear again to match again', async () => {
    const { session, guest } = fakeConsole();
    guest.write('tick\n');
    await session.waitFor('tick');
    await expect(session.waitFor('tick', 50)).rejects.toBeInstanceOf(SerialTimeoutError);
    guest.write('tick\n');
    await session.waitFor('tick');
  });

  it('reports timeouts and a closed console with the last output', async () => {
    const { session, guest } = fakeConsole();
    guest.write('last words\n');
    await expect(session.waitFor(/never/, 30)).rejects.toThrow(
      /timed out after 30 ms waiting for \/never\/; last output:\nlast words/,
    );
    const pending = session.waitFor(/never/, 5000);
    guest.end();
    await expect(pending).rejects.toThrow(/console closed while waiting/);
    expect(session.closed).toBe(true);
  });

  it('runs a command: sends CR, strips a wrapped echo, returns the output before the prompt', async () => {
    const { session, guest, typed } = fakeConsole();
    const cmd = 'echo ' + '1234567890'.repeat(9);
    const out = session.run(cmd);
    expect(typed()).toBe(`${cmd}\r`);
    guest.write(`${cmd.slice(0, 76)}\r\r\n${cmd.slice(76)}\r\n${'1234567890'.repeat(9)}\r\n~ # `);
    expect(await out).toBe(`${'1234567890'.repeat(9)}\n`);
    const bad = session.run('true');
    guest.write('something else\r\n~ # ');
    await expect(bad).rejects.toThrow(/'true': command echo not found/);
  });

  it('finds an echo after unrelated output and not a partial one', () => {
    expect(findEcho('counter 3\nls -l\nfoo', 'ls -l')).toBe(15);
    expect(findEcho('ls -\n', 'ls -l')).toBe(-1);
    expect(findEcho('\nls', 'ls')).toBe(3);
  });

  it('drives a process over stdio and reports its exit', async () => {
    const vm = startSerialProcess('sh', ['-c', 'printf "ready\\n~ # "; read line; echo "got:$line"; exit 3']);
    await vm.session.waitFor(GUEST_PROMPT);
    vm.session.send('hello\n'); // a pipe, not a tty: no CR to NL mapping
    await vm.session.waitFor('got:hello\n');
    expect(await vm.waitExit(5000)).toEqual({ code: 3, signal: null });
    const stuck = startSerialProcess('sleep', ['30']);
    await expect(stuck.waitExit(50)).rejects.toThrow(/sleep did not exit within 50 ms/);
    expect((await stuck.exited).signal).toBe('SIGKILL');
  });
});
