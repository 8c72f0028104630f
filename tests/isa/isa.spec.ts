import { describe, expect, it } from 'vitest';
import { buildIsaTests, haveCrossCompiler } from './isa-build.js';
import { SpikeHarness, parseElf } from './harness.js';
import { readFileSync } from 'node:fs';
import { INSNS } from '../../engine/target/riscv/decode.js';
import { disassemble } from '../../engine/target/riscv/disas.js';

const cc = haveCrossCompiler();
if (!cc)
  console.warn(
    'ISA tests skipped: riscv64-linux-gnu-gcc not installed (apt-get install gcc-riscv64-linux-gnu)',
  );

describe.skipIf(!cc)('ISA test programs on our spike-like harness', () => {
  const elfs = cc ? buildIsaTests() : new Map<string, string>();
  for (const [name, path] of elfs) {
    if (name.startsWith('bench-')) continue;
    it(`${name} passes`, () => {
      const h = SpikeHarness.fromFile(path);
      try {
        const r = h.run(200_000_000);
        expect(r.exitCode, `output so far:\n${r.output}`).toBe(0);
      } finally {
        h.destroy();
      }
    });
  }

  it('covers every instruction of the table somewhere in the programs', () => {
    // Static coverage: disassemble every halfword-aligned instruction of the test images and record
    // which table entries appear. Data words decode as noise, but only real code makes names appear
    // reliably, and the programs are written to use every instruction.
    const seen = new Set<string>();
    for (const path of elfs.values()) {
      const img = parseElf(new Uint8Array(readFileSync(path)));
      for (const s of img.segments) {
        const d = s.data;
        for (let i = 0; i + 2 <= d.length;) {
          const lo = d[i] | (d[i + 1] << 8);
          const raw = (lo & 3) === 3 && i + 4 <= d.length ? lo | (d[i + 2] << 16) | (d[i + 3] << 24) : lo;
          const text = disassemble(raw);
          seen.add(
            text
              .split(' ')[0]
              .replace(/^c\./, '')
              .replace(/\.aq|\.rl/g, ''),
          );
          i += (lo & 3) === 3 ? 4 : 2;
        }
      }
    }
    const missing = INSNS.map((d) => d.name).filter((n) => !seen.has(n));
    expect(missing).toEqual([]);
  });
});
