/**
 * -serial / -nographic wiring: which chardev becomes serial0, QEMU's errors, and the console escape
 * keys (C-a h/x/b/C-a) that stand in for QEMU's mux on stdio.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import '../../engine/system/modules.js';
import { qemuInit, VlError } from '../../engine/system/vl.js';
import { qomResetRoot } from '../../engine/qom/object.js';
import { runstateResetForTests, setRunStateHooks } from '../../engine/system/runstate.js';
import { romsClear } from '../../engine/hw/core/loader.js';
import { chardevDeleteAll, qemuChardevNew, qmpRingbufRead } from '../../engine/chardev/char-registry.js';
import { serialHd, setSerialHd, withEscapeKeys, escapeHelpText } from '../../engine/hw/char/serial-hds.js';
import { addressSpaceMemory } from '../../engine/hw/riscv/machine-memory.js';
import type { ChrEvent } from '../../engine/chardev/char.js';

async function reset(): Promise<void> {
  qomResetRoot();
  runstateResetForTests();
  romsClear();
  await chardevDeleteAll();
}
afterEach(reset);

async function virt(args: string[]): Promise<string> {
  await reset();
  try {
    await qemuInit(['-M', 'virt', '-S', '-bios', 'none', '-display', 'none', ...args], {
      out: () => undefined,
      err: () => undefined,
    });
    return 'ok';
  } catch (e) {
    if (e instanceof VlError) return `${e.location}: ${e.message}`;
    throw e;
  }
}

describe('-serial', () => {
  it('file: the UART writes into the file', async () => {
    const f = join(mkdtempSync(join(tmpdir(), 'serial-')), 'out.txt');
    expect(await virt(['-serial', `file:${f}`])).toBe('ok');
    expect(serialHd(0)?.label).toBe('serial0');
    for (const c of 'hi\n') addressSpaceMemory().write(0x10000000, 1, c.charCodeAt(0));
    await chardevDeleteAll();
    expect(readFileSync(f, 'utf8')).toBe('hi\n');
  });

  it('chardev:ID uses an existing chardev; none leaves the port unconnected', async () => {
    expect(await virt(['-chardev', 'ringbuf,id=rb', '-serial', 'chardev:rb'])).toBe('ok');
    addressSpaceMemory().write(0x10000000, 1, 0x21);
    expect(qmpRingbufRead('rb', 10)).toBe('!');
    expect(await virt(['-serial', 'none'])).toBe('ok');
    expect(serialHd(0)).toBeNull();
    addressSpaceMemory().write(0x10000000, 1, 0x21); // goes nowhere, no error
  });

  it('QEMU errors', async () => {
    expect(await virt(['-serial', 'chardev:nope'])).toBe(
      "-serial chardev:nope: could not connect serial device to character backend 'chardev:nope'",
    );
    expect(await virt(['-serial', 'bogus'])).toBe("-serial bogus: 'bogus' is not a valid char driver");
    const five = Array.from({ length: 5 }, () => ['-serial', 'null']).flat();
    expect(await virt(five)).toBe('-serial null: too many serial ports');
  });
});

describe('console escape keys', () => {
  it('C-a h prints help, C-a C-a sends C-a, C-a b sends a break, C-a x quits', async () => {
    const chr = await qemuChardevNew('con', { type: 'ringbuf', data: {} });
    setSerialHd(0, chr, true);
    const got: number[] = [];
    const events: ChrEvent[] = [];
    const fe = withEscapeKeys(chr, {
      canRead: () => 16,
      read: (d) => got.push(...d),
      event: (e) => events.push(e),
    });
    fe.read(Buffer.from([0x61, 0x01]));
    fe.read(Buffer.from([0x68, 0x62]));
    expect(qmpRingbufRead('con', 4096)).toBe(escapeHelpText());
    expect(escapeHelpText()).toContain('C-a x    exit emulator\n\r');
    fe.read(Buffer.from([0x01, 0x01, 0x01, 0x62]));
    expect(got).toEqual([0x61, 0x62, 0x01]);
    expect(events).toEqual(['break']);
    const quit = new Promise<string>((r) => setRunStateHooks({ exit: (c) => r(c) }));
    fe.read(Buffer.from([0x01, 0x78, 0x7a]));
    expect(qmpRingbufRead('con', 100)).toBe('QEMU: Terminated\n\r');
    expect(await quit).toBe('host-qmp-quit');
    expect(got).toEqual([0x61, 0x62, 0x01]); // nothing after C-a x reaches the guest
  });

  it('a plain chardev passes C-a through', async () => {
    const chr = await qemuChardevNew('plain', { type: 'ringbuf', data: {} });
    const got: number[] = [];
    const fe = withEscapeKeys(chr, {
      canRead: () => 16,
      read: (d) => got.push(...d),
      event: () => undefined,
    });
    fe.read(Buffer.from([0x01, 0x78]));
    expect(got).toEqual([0x01, 0x78]);
  });
});
