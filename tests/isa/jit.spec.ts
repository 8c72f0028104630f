/**
 * The JIT (engine/target/riscv/jit.ts, both back ends: wasm-jit.ts and generated JS) against the interpreter: every ISA program runs once
 * interpreted and once with blocks compiled after their first execution, and the whole
 * architectural state at the end must be identical (registers, FP registers, CSRs, pc, privilege,
 * retired instructions, RAM, console output). The programs include self-modifying code and faults
 * in the middle of hot blocks (src/jit.S), traps, paging, interrupts and FP.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildIsaTests, haveCrossCompiler } from './isa-build.js';
import { SpikeHarness } from './harness.js';
import { jitConfig, jitStats } from '../../engine/target/riscv/jit.js';

const cc = haveCrossCompiler();

interface Final {
  exitCode: number | null;
  output: string;
  instructions: number;
  x: number[];
  f: number[];
  csr: number[];
  pc: bigint;
  priv: number;
  instret: number;
  ram: Uint8Array;
}

function runOnce(path: string, jit: boolean): Final {
  const h = SpikeHarness.fromFile(path);
  try {
    h.cpu.jit = jit;
    const r = h.run(200_000_000);
    const c = h.cpu;
    return {
      exitCode: r.exitCode,
      output: r.output,
      instructions: r.instructions,
      x: [...c.x.subarray(0, 64)],
      f: [...c.f],
      csr: [...c.csr],
      pc: c.pc,
      priv: c.priv,
      instret: c.instret,
      ram: h.ram.ramBlock!.u8.slice(),
    };
  } finally {
    h.destroy();
  }
}

/** First differing byte offset of two RAM images, or -1. */
function firstDiff(a: Uint8Array, b: Uint8Array): number {
  if (a.length !== b.length) return 0;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return i;
  return -1;
}

function expectSame(a: Final, b: Final): void {
  expect(b.output).toBe(a.output);
  expect(b.exitCode).toBe(a.exitCode);
  expect(b.instructions).toBe(a.instructions);
  expect(b.instret).toBe(a.instret);
  expect(b.pc).toBe(a.pc);
  expect(b.priv).toBe(a.priv);
  expect(b.x).toEqual(a.x);
  expect(b.f).toEqual(a.f);
  expect(b.csr).toEqual(a.csr);
  expect(firstDiff(a.ram, b.ram), 'first RAM byte that differs').toBe(-1);
}

describe.skipIf(!cc).each(['wasm', 'js'] as const)(
  'JIT (%s back end) and interpreter reach identical architectural state',
  (backend) => {
    const elfs = cc ? buildIsaTests() : new Map<string, string>();
    const saved = { ...jitConfig };
    beforeEach(() => {
      jitConfig.backend = backend;
    });
    afterEach(() => Object.assign(jitConfig, saved));

    for (const [name, path] of elfs) {
      if (name.startsWith('bench-')) continue;
      it(`${name}`, () => {
        jitConfig.threshold = 1; // translate everything that runs
        const before = jitStats.compiled;
        const interp = runOnce(path, false);
        expect(jitStats.compiled, 'the interpreter run compiles nothing').toBe(before);
        const jit = runOnce(path, true);
        expect(jitStats.compiled).toBeGreaterThan(before);
        expect(interp.exitCode).toBe(0);
        expectSame(interp, jit);
      });
    }

    it('self-modifying code invalidates translated blocks (jit.S)', () => {
      jitConfig.threshold = 1;
      const before = jitStats.invalidations;
      const r = runOnce(elfs.get('jit')!, true);
      expect(r.exitCode).toBe(0);
      // patchme's page and the loop that patches its own block were both translated, then written
      expect(jitStats.invalidations - before).toBeGreaterThanOrEqual(2);
    });

    it('keeps working when the block cache is full and flushed', () => {
      jitConfig.threshold = 1;
      jitConfig.maxBlocks = 3;
      const flushes = jitStats.flushes;
      const interp = runOnce(elfs.get('ext')!, false);
      const jit = runOnce(elfs.get('ext')!, true);
      expect(jitStats.flushes).toBeGreaterThan(flushes);
      expectSame(interp, jit);
    });
  },
);
