import { describe, expect, it } from 'vitest';
import { buildIsaTests, haveCrossCompiler, haveQemu, runInQemu } from './isa-build.js';
import { SpikeHarness } from './harness.js';

const ok = haveCrossCompiler() && haveQemu();
if (!ok) console.warn('ISA differential tests skipped: need riscv64-linux-gnu-gcc and qemu-system-riscv64');

describe.skipIf(!ok)('ISA programs: our engine vs qemu-system-riscv64 -M spike', () => {
  const elfs = ok ? buildIsaTests() : new Map<string, string>();
  for (const [name, path] of elfs) {
    it(`${name}: same console output and exit code`, () => {
      const q = runInQemu(path);
      const h = SpikeHarness.fromFile(path);
      try {
        const r = h.run(200_000_000);
        expect(r.output.split('\n')).toEqual(q.output.split('\n'));
        expect(r.exitCode).toBe(q.exitCode);
      } finally {
        h.destroy();
      }
    });
  }
});
