/**
 * The wasm translator's arithmetic templates against a BigInt model of the RISC-V spec, on edge
 * values and random operands: one region `op x3, x1, x2; jalr x0, 0(x5)` per instruction, run
 * directly on a state block in the arena (no CPU object: these templates never call out).
 */
import { describe, expect, it } from 'vitest';
import { arenaAlloc, arenaBuffer } from '../../system/guest-arena.js';
import { decodeInsn } from './decode.js';
import { compileRegions, genRegionWasm, ST_NPC } from './wasm-jit.js';

const M64 = (1n << 64n) - 1n;
const s64 = (v: bigint): bigint => BigInt.asIntN(64, v);
const u64 = (v: bigint): bigint => BigInt.asUintN(64, v);
const sx32 = (v: bigint): bigint => BigInt.asIntN(32, v);

/** R-type encoding: funct7 rs2 rs1 funct3 rd opcode. */
const rtype = (f7: number, f3: number, opc: number): number =>
  ((f7 << 25) | (2 << 20) | (1 << 15) | (f3 << 12) | (3 << 7) | opc) >>> 0;
const OP = 0x33;
const OP32 = 0x3b;

const MODEL: Record<string, [number, (a: bigint, b: bigint) => bigint]> = {
  mul: [rtype(1, 0, OP), (a, b) => a * b],
  mulh: [rtype(1, 1, OP), (a, b) => (s64(a) * s64(b)) >> 64n],
  mulhsu: [rtype(1, 2, OP), (a, b) => (s64(a) * u64(b)) >> 64n],
  mulhu: [rtype(1, 3, OP), (a, b) => (u64(a) * u64(b)) >> 64n],
  div: [
    rtype(1, 4, OP),
    (a, b) => (b === 0n ? -1n : s64(a) === -(1n << 63n) && s64(b) === -1n ? a : s64(a) / s64(b)),
  ],
  divu: [rtype(1, 5, OP), (a, b) => (u64(b) === 0n ? M64 : u64(a) / u64(b))],
  rem: [rtype(1, 6, OP), (a, b) => (b === 0n ? a : s64(b) === -1n ? 0n : s64(a) % s64(b))],
  remu: [rtype(1, 7, OP), (a, b) => (u64(b) === 0n ? a : u64(a) % u64(b))],
  mulw: [rtype(1, 0, OP32), (a, b) => sx32(a * b)],
  divw: [
    rtype(1, 4, OP32),
    (a, b) => {
      const x = sx32(a);
      const y = sx32(b);
      return y === 0n ? -1n : x === -(1n << 31n) && y === -1n ? x : sx32(x / y);
    },
  ],
  divuw: [
    rtype(1, 5, OP32),
    (a, b) => (BigInt.asUintN(32, b) === 0n ? -1n : sx32(BigInt.asUintN(32, a) / BigInt.asUintN(32, b))),
  ],
  remw: [
    rtype(1, 6, OP32),
    (a, b) => {
      const x = sx32(a);
      const y = sx32(b);
      return y === 0n ? x : y === -1n ? 0n : sx32(x % y);
    },
  ],
  remuw: [
    rtype(1, 7, OP32),
    (a, b) => (BigInt.asUintN(32, b) === 0n ? sx32(a) : sx32(BigInt.asUintN(32, a) % BigInt.asUintN(32, b))),
  ],
};

const JALR_X0_X5 = ((5 << 15) | 0x67) >>> 0;

function compile(raw: number): (a: bigint, b: bigint) => bigint {
  const page = new Int32Array(2048 * 3);
  decodeInsn(raw, page, 0);
  decodeInsn(JALR_X0_X5, page, 2 * 3);
  const region = genRegionWasm(page, 0, () => {
    throw new Error('every slot is decoded');
  });
  if (region === null) throw new Error('nothing to compile');
  const [fn] = compileRegions([region]);
  const st = arenaAlloc(1024, 64);
  const x = new BigInt64Array(arenaBuffer(), st, 34);
  return (a, b) => {
    x[1] = s64(a);
    x[2] = s64(b);
    x[5] = 0x1000n;
    const n = fn(st, 0x80000000 | 0, 0, 10, 0);
    expect(n).toBe(2);
    expect(new BigInt64Array(arenaBuffer(), st + ST_NPC, 1)[0]).toBe(0x1000n);
    return x[3];
  };
}

const EDGES = [0n, 1n, 2n, 3n, -1n, -2n, 7n, -7n, 0x7fffffffn, -0x80000000n, 0xffffffffn, 0x100000000n];
EDGES.push((1n << 63n) - 1n, -(1n << 63n), 0x123456789abcdef0n, -0x0fedcba987654321n);

/** xorshift64* for reproducible random operands. */
function rng(seed: bigint): () => bigint {
  let s = seed;
  return () => {
    s ^= s >> 12n;
    s ^= u64(s << 25n);
    s ^= s >> 27n;
    return s64(u64(s * 0x2545f4914f6cdd1dn));
  };
}

describe('wasm translator arithmetic', () => {
  for (const [name, [raw, model]] of Object.entries(MODEL)) {
    it(`${name} matches the spec on edge values and random operands`, () => {
      const run = compile(raw);
      const next = rng(BigInt(raw) | 1n);
      const pairs: Array<[bigint, bigint]> = [];
      for (const a of EDGES) for (const b of EDGES) pairs.push([a, b]);
      for (let k = 0; k < 500; k++) pairs.push([next(), next()]);
      for (const [a, b] of pairs) {
        expect(run(a, b), `${name} ${a} ${b}`).toBe(s64(model(a, b)));
      }
    });
  }
});
