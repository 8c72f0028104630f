/**
 * The `spike` board with HTIF: the ISA test programs (tests/isa, built with Debian's riscv64 cross
 * compiler) run as `-M spike -bios none -kernel prog.elf`, print through HTIF's console and report
 * pass/fail with an HTIF exit code, on the real machine this time (QOM harts, CLINT, roms, run loop).
 */
import { afterEach, describe, expect, it } from 'vitest';
import '../../engine/system/modules.js';
import { qemuInit } from '../../engine/system/vl.js';
import { qomResetRoot, objectResolvePath } from '../../engine/qom/object.js';
import { runstateResetForTests } from '../../engine/system/runstate.js';
import { romsClear, formatInfoRoms } from '../../engine/hw/core/loader.js';
import { chardevDeleteAll, qmpRingbufRead } from '../../engine/chardev/char-registry.js';
import { setHtifExitHandler } from '../../engine/hw/char/riscv_htif.js';
import { currentRunLoop } from '../../engine/hw/riscv/riscv-machine.js';
import { findDefaultMachine } from '../../engine/hw/core/machine.js';
import type { SpikeState } from '../../engine/hw/riscv/spike.js';
import { buildIsaTests, haveCrossCompiler } from '../isa/isa-build.js';

const cc = haveCrossCompiler();
if (!cc) console.warn('spike ISA runs skipped: riscv64-linux-gnu-gcc not installed');

async function cleanup(): Promise<void> {
  currentRunLoop()?.stop();
  qomResetRoot();
  runstateResetForTests();
  romsClear();
  await chardevDeleteAll();
  setHtifExitHandler(null);
}

afterEach(cleanup);

async function runOnSpike(elf: string, timeoutMs: number): Promise<{ code: number | null; output: string }> {
  await cleanup();
  let done!: (code: number) => void;
  const exited = new Promise<number>((r) => (done = r));
  setHtifExitHandler((code) => {
    currentRunLoop()?.stop();
    done(code);
  });
  const r = await qemuInit(
    [
      '-M',
      'spike',
      '-bios',
      'none',
      '-kernel',
      elf,
      '-display',
      'none',
      '-chardev',
      'ringbuf,id=con,size=1048576',
      '-serial',
      'chardev:con',
    ],
    { out: () => undefined, err: () => undefined },
  );
  expect(r.kind).toBe('running');
  const timer = new Promise<null>((res) => setTimeout(() => res(null), timeoutMs));
  const code = await Promise.race([exited, timer]);
  return { code, output: qmpRingbufRead('con', 1048576) };
}

describe('spike machine', () => {
  it('is the default machine, as in QEMU', () => {
    expect(findDefaultMachine()?.name).toBe('spike');
  });
});

describe.skipIf(!cc)('ISA test programs on -M spike (HTIF)', () => {
  const elfs = cc ? buildIsaTests() : new Map<string, string>();

  it('places HTIF at the ELF tohost/fromhost symbols and loads the ELF as roms', async () => {
    const elf = elfs.get('alu')!;
    const { code } = await runOnSpike(elf, 60_000);
    expect(code).toBe(0);
    const m = objectResolvePath('/machine') as SpikeState;
    expect(m.htif).not.toBeNull();
    expect(m.fdt?.getprop('/htif', 'reg')).toBeUndefined(); // no fixed base in the DT
    expect(formatInfoRoms()).toMatch(/addr=0000000080000000 size=0x[0-9a-f]{6} mem=ram name=".*alu\.elf"/);
  });

  for (const [name, path] of elfs) {
    if (name.startsWith('bench-')) continue;
    it(`${name} passes`, async () => {
      const r = await runOnSpike(path, 90_000);
      expect(r.code, `console so far:\n${r.output}`).toBe(0);
    }, 120_000);
  }
});
