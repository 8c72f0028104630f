import { describe, expect, it } from 'vitest';
import { buildIsaTests, failingIsaTest, haveCrossCompiler, haveQemu, runInQemu } from './isa-build.js';
import { SpikeHarness } from './harness.js';

const ok = haveCrossCompiler() && haveQemu();
if (!ok) console.warn('ISA differential tests skipped: need riscv64-linux-gnu-gcc and qemu-system-riscv64');

/** Programs QEMU 7.2 cannot run to completion, with the reason. */
const QEMU_DIVERGES: Record<string, string> = {
  sstc: "QEMU 7.2's spike machine never fires the Sstc stimecmp timer (the guest waits forever)",
};

describe.skipIf(!ok)('ISA programs: our engine vs qemu-system-riscv64 -M spike', () => {
  const elfs = ok ? buildIsaTests() : new Map<string, string>();
  for (const [name, path] of elfs) {
    if (name.startsWith('bench-')) continue;
    const why = QEMU_DIVERGES[name];
    (why ? it.skip : it)(
      why ? `${name}: skipped, ${why}` : `${name}: same console output and exit code`,
      () => {
        const q = runInQemu(path);
        const h = SpikeHarness.fromFile(path);
        try {
          const r = h.run(200_000_000);
          expect(r.output.split('\n')).toEqual(q.output.split('\n'));
          expect(r.exitCode).toBe(q.exitCode);
        } finally {
          h.destroy();
        }
      },
    );
  }

  it('a failing program: same output and exit code (HTIF exit with code 42)', () => {
    const path = failingIsaTest('spike');
    const q = runInQemu(path);
    const h = SpikeHarness.fromFile(path);
    try {
      const r = h.run(1_000_000);
      expect(r.output.split('\n')).toEqual(q.output.split('\n'));
      expect(r.exitCode).toBe(q.exitCode);
      expect(q.exitCode).toBe(42);
    } finally {
      h.destroy();
    }
  });
});
