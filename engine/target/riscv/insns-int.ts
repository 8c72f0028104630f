/**
 * RV64I, M, A and the Zba/Zbb/Zbc/Zbs bit-manipulation instructions.
 * Registers are (lo, hi) int32 pairs; each handler reads all sources before writing rd.
 */
import type { RiscvCpu } from './cpu.js';
import { def, type InsnDef } from './insn-def.js';
import {
  clmul,
  clmulOut,
  clz64,
  ctz32,
  ctz64,
  div64,
  divu64,
  mul64,
  mulh64,
  mulhsu64,
  mulhu64,
  popcnt32,
  r,
  rem64,
  remu64,
} from './int64.js';

const OP = 0x33;
const OPIMM = 0x13;
const OP32 = 0x3b;
const OPIMM32 = 0x1b;
const LOAD = 0x03;
const STORE = 0x23;
const BRANCH = 0x63;
const AMO = 0x2f;

/** High word of the last effective address (module scratch to avoid allocation). */
let eaHi = 0;
/** Effective address x[a] + imm: returns lo, high word in eaHi. */
function ea(x: Int32Array, a: number, imm: number): number {
  const al = x[a];
  const lo = (al + imm) | 0;
  eaHi = (x[a + 1] + (imm >> 31) + (lo >>> 0 < al >>> 0 ? 1 : 0)) | 0;
  return lo;
}

function ltS(alo: number, ahi: number, blo: number, bhi: number): boolean {
  return ahi < bhi || (ahi === bhi && alo >>> 0 < blo >>> 0);
}
function ltU(alo: number, ahi: number, blo: number, bhi: number): boolean {
  return ahi >>> 0 < bhi >>> 0 || (ahi === bhi && alo >>> 0 < blo >>> 0);
}

function setSll(x: Int32Array, d: number, lo: number, hi: number, s: number): void {
  if (s === 0) {
    x[d] = lo;
    x[d + 1] = hi;
  } else if (s < 32) {
    x[d + 1] = (hi << s) | (lo >>> (32 - s));
    x[d] = lo << s;
  } else {
    x[d + 1] = lo << (s - 32);
    x[d] = 0;
  }
}
function setSrl(x: Int32Array, d: number, lo: number, hi: number, s: number): void {
  if (s === 0) {
    x[d] = lo;
    x[d + 1] = hi;
  } else if (s < 32) {
    x[d] = (lo >>> s) | (hi << (32 - s));
    x[d + 1] = hi >>> s;
  } else {
    x[d] = hi >>> (s - 32);
    x[d + 1] = 0;
  }
}
function setSra(x: Int32Array, d: number, lo: number, hi: number, s: number): void {
  if (s === 0) {
    x[d] = lo;
    x[d + 1] = hi;
  } else if (s < 32) {
    x[d] = (lo >>> s) | (hi << (32 - s));
    x[d + 1] = hi >> s;
  } else {
    x[d] = hi >> (s - 32);
    x[d + 1] = hi >> 31;
  }
}
function setRor(x: Int32Array, d: number, lo: number, hi: number, s: number): void {
  s &= 63;
  if (s === 0) {
    x[d] = lo;
    x[d + 1] = hi;
    return;
  }
  if (s >= 32) {
    const t = lo;
    lo = hi;
    hi = t;
    s -= 32;
    if (s === 0) {
      x[d] = lo;
      x[d + 1] = hi;
      return;
    }
  }
  x[d] = (lo >>> s) | (hi << (32 - s));
  x[d + 1] = (hi >>> s) | (lo << (32 - s));
}
function setW(x: Int32Array, d: number, v: number): void {
  x[d] = v;
  x[d + 1] = v >> 31;
}

function branch(c: RiscvCpu, imm: number): void {
  const lo = (c.pcLo + imm) | 0;
  c.npcHi = (c.pcHi + (imm >> 31) + (lo >>> 0 < c.pcLo >>> 0 ? 1 : 0)) | 0;
  c.npcLo = lo;
}

type Op64 = (alo: number, ahi: number, blo: number, bhi: number) => number;
function rop(fn: Op64) {
  return (c: RiscvCpu, d: number, a: number, b: number): void => {
    const x = c.x;
    const lo = fn(x[a], x[a + 1], x[b], x[b + 1]);
    x[d + 1] = r.hi;
    x[d] = lo;
  };
}

/** AMO on a 32-bit word: op(old, src) -> new. */
function amoW(op: (o: number, s: number) => number) {
  return (c: RiscvCpu, d: number, a: number, b: number): void => {
    const x = c.x;
    const src = x[b];
    if (c.amoAddr(x[a], x[a + 1], 4, true) < 0) return;
    const mem = c.amoBlk.i32;
    const i = c.amoOff >>> 2;
    const old = mem[i];
    mem[i] = op(old, src);
    setW(x, d, old);
  };
}
/** AMO on a doubleword: op(oldLo, oldHi, srcLo, srcHi) -> new lo, new hi in r.hi. */
function amoD(op: Op64) {
  return (c: RiscvCpu, d: number, a: number, b: number): void => {
    const x = c.x;
    const sl = x[b];
    const sh = x[b + 1];
    if (c.amoAddr(x[a], x[a + 1], 8, true) < 0) return;
    const mem = c.amoBlk.i32;
    const i = c.amoOff >>> 2;
    const ol = mem[i];
    const oh = mem[i + 1];
    mem[i] = op(ol, oh, sl, sh);
    mem[i + 1] = r.hi;
    x[d] = ol;
    x[d + 1] = oh;
  };
}
const add64: Op64 = (al, ah, bl, bh) => {
  const lo = (al + bl) | 0;
  r.hi = (ah + bh + (lo >>> 0 < al >>> 0 ? 1 : 0)) | 0;
  return lo;
};
const pick = (take: boolean, al: number, ah: number, bl: number, bh: number): number => {
  r.hi = take ? ah : bh;
  return take ? al : bl;
};

function revBytes32(v: number): number {
  return ((v & 0xff) << 24) | ((v & 0xff00) << 8) | ((v >>> 8) & 0xff00) | (v >>> 24);
}
function orcb(v: number): number {
  let out = 0;
  for (let i = 0; i < 32; i += 8) if ((v >>> i) & 0xff) out |= 0xff << i;
  return out;
}

export const INT_INSNS: InsnDef[] = [
  // ---- RV64I ----
  def('lui', { op: 0x37 }, 'U', 'i', 'x---', (c, d, _a, _b, imm) => setW(c.x, d, imm)),
  def('auipc', { op: 0x17 }, 'U', 'i', 'x---', (c, d, _a, _b, imm) => {
    const lo = (c.pcLo + imm) | 0;
    c.x[d + 1] = (c.pcHi + (imm >> 31) + (lo >>> 0 < c.pcLo >>> 0 ? 1 : 0)) | 0;
    c.x[d] = lo;
  }),
  def('jal', { op: 0x6f }, 'J', 'i', 'x---', (c, d, _a, _b, imm) => {
    const x = c.x;
    x[d] = c.npcLo;
    x[d + 1] = c.npcHi;
    branch(c, imm);
  }),
  def('jalr', { op: 0x67, f3: 0 }, 'L', 'i', 'xx--', (c, d, a, _b, imm) => {
    const x = c.x;
    const lo = ea(x, a, imm) & ~1;
    const hi = eaHi;
    x[d] = c.npcLo;
    x[d + 1] = c.npcHi;
    c.npcLo = lo;
    c.npcHi = hi;
  }),
  def('beq', { op: BRANCH, f3: 0 }, 'B', 'i', '-xx-', (c, _d, a, b, imm) => {
    const x = c.x;
    if (x[a] === x[b] && x[a + 1] === x[b + 1]) branch(c, imm);
  }),
  def('bne', { op: BRANCH, f3: 1 }, 'B', 'i', '-xx-', (c, _d, a, b, imm) => {
    const x = c.x;
    if (x[a] !== x[b] || x[a + 1] !== x[b + 1]) branch(c, imm);
  }),
  def('blt', { op: BRANCH, f3: 4 }, 'B', 'i', '-xx-', (c, _d, a, b, imm) => {
    const x = c.x;
    if (ltS(x[a], x[a + 1], x[b], x[b + 1])) branch(c, imm);
  }),
  def('bge', { op: BRANCH, f3: 5 }, 'B', 'i', '-xx-', (c, _d, a, b, imm) => {
    const x = c.x;
    if (!ltS(x[a], x[a + 1], x[b], x[b + 1])) branch(c, imm);
  }),
  def('bltu', { op: BRANCH, f3: 6 }, 'B', 'i', '-xx-', (c, _d, a, b, imm) => {
    const x = c.x;
    if (ltU(x[a], x[a + 1], x[b], x[b + 1])) branch(c, imm);
  }),
  def('bgeu', { op: BRANCH, f3: 7 }, 'B', 'i', '-xx-', (c, _d, a, b, imm) => {
    const x = c.x;
    if (!ltU(x[a], x[a + 1], x[b], x[b + 1])) branch(c, imm);
  }),
  def('lb', { op: LOAD, f3: 0 }, 'L', 'i', 'xx--', (c, d, a, _b, imm) => {
    const x = c.x;
    const lo = ea(x, a, imm);
    const v = c.ld8(lo, eaHi);
    if (c.fault) return;
    setW(x, d, (v << 24) >> 24);
  }),
  def('lh', { op: LOAD, f3: 1 }, 'L', 'i', 'xx--', (c, d, a, _b, imm) => {
    const x = c.x;
    const lo = ea(x, a, imm);
    const v = c.ld16(lo, eaHi);
    if (c.fault) return;
    setW(x, d, (v << 16) >> 16);
  }),
  def('lw', { op: LOAD, f3: 2 }, 'L', 'i', 'xx--', (c, d, a, _b, imm) => {
    const x = c.x;
    const lo = ea(x, a, imm);
    const v = c.ld32(lo, eaHi);
    if (c.fault) return;
    x[d] = v;
    x[d + 1] = v >> 31;
  }),
  def('ld', { op: LOAD, f3: 3 }, 'L', 'i', 'xx--', (c, d, a, _b, imm) => {
    const x = c.x;
    const lo = ea(x, a, imm);
    const v = c.ld64(lo, eaHi);
    if (c.fault) return;
    x[d] = v;
    x[d + 1] = c.rhi;
  }),
  def('lbu', { op: LOAD, f3: 4 }, 'L', 'i', 'xx--', (c, d, a, _b, imm) => {
    const x = c.x;
    const lo = ea(x, a, imm);
    const v = c.ld8(lo, eaHi);
    if (c.fault) return;
    x[d] = v;
    x[d + 1] = 0;
  }),
  def('lhu', { op: LOAD, f3: 5 }, 'L', 'i', 'xx--', (c, d, a, _b, imm) => {
    const x = c.x;
    const lo = ea(x, a, imm);
    const v = c.ld16(lo, eaHi);
    if (c.fault) return;
    x[d] = v;
    x[d + 1] = 0;
  }),
  def('lwu', { op: LOAD, f3: 6 }, 'L', 'i', 'xx--', (c, d, a, _b, imm) => {
    const x = c.x;
    const lo = ea(x, a, imm);
    const v = c.ld32(lo, eaHi);
    if (c.fault) return;
    x[d] = v;
    x[d + 1] = 0;
  }),
  def('sb', { op: STORE, f3: 0 }, 'S', 'i', '-xx-', (c, _d, a, b, imm) => {
    const x = c.x;
    c.st8(ea(x, a, imm), eaHi, x[b] & 0xff);
  }),
  def('sh', { op: STORE, f3: 1 }, 'S', 'i', '-xx-', (c, _d, a, b, imm) => {
    const x = c.x;
    c.st16(ea(x, a, imm), eaHi, x[b] & 0xffff);
  }),
  def('sw', { op: STORE, f3: 2 }, 'S', 'i', '-xx-', (c, _d, a, b, imm) => {
    const x = c.x;
    c.st32(ea(x, a, imm), eaHi, x[b]);
  }),
  def('sd', { op: STORE, f3: 3 }, 'S', 'i', '-xx-', (c, _d, a, b, imm) => {
    const x = c.x;
    c.st64(ea(x, a, imm), eaHi, x[b], x[b + 1]);
  }),
  def('addi', { op: OPIMM, f3: 0 }, 'I', 'i', 'xx--', (c, d, a, _b, imm) => {
    const x = c.x;
    const lo = ea(x, a, imm);
    x[d + 1] = eaHi;
    x[d] = lo;
  }),
  def('slti', { op: OPIMM, f3: 2 }, 'I', 'i', 'xx--', (c, d, a, _b, imm) => {
    const x = c.x;
    setW(x, d, ltS(x[a], x[a + 1], imm, imm >> 31) ? 1 : 0);
  }),
  def('sltiu', { op: OPIMM, f3: 3 }, 'I', 'i', 'xx--', (c, d, a, _b, imm) => {
    const x = c.x;
    setW(x, d, ltU(x[a], x[a + 1], imm, imm >> 31) ? 1 : 0);
  }),
  def('xori', { op: OPIMM, f3: 4 }, 'I', 'i', 'xx--', (c, d, a, _b, imm) => {
    const x = c.x;
    x[d + 1] = x[a + 1] ^ (imm >> 31);
    x[d] = x[a] ^ imm;
  }),
  def('ori', { op: OPIMM, f3: 6 }, 'I', 'i', 'xx--', (c, d, a, _b, imm) => {
    const x = c.x;
    x[d + 1] = x[a + 1] | (imm >> 31);
    x[d] = x[a] | imm;
  }),
  def('andi', { op: OPIMM, f3: 7 }, 'I', 'i', 'xx--', (c, d, a, _b, imm) => {
    const x = c.x;
    x[d + 1] = x[a + 1] & (imm >> 31);
    x[d] = x[a] & imm;
  }),
  def('slli', { op: OPIMM, f3: 1, f6: 0 }, 'SH', 'i', 'xx--', (c, d, a, _b, imm) =>
    setSll(c.x, d, c.x[a], c.x[a + 1], imm),
  ),
  def('srli', { op: OPIMM, f3: 5, f6: 0 }, 'SH', 'i', 'xx--', (c, d, a, _b, imm) =>
    setSrl(c.x, d, c.x[a], c.x[a + 1], imm),
  ),
  def('srai', { op: OPIMM, f3: 5, f6: 0x10 }, 'SH', 'i', 'xx--', (c, d, a, _b, imm) =>
    setSra(c.x, d, c.x[a], c.x[a + 1], imm),
  ),
  def('add', { op: OP, f3: 0, f7: 0 }, 'R', 'i', 'xxx-', (c, d, a, b) => {
    const x = c.x;
    const al = x[a];
    const lo = (al + x[b]) | 0;
    x[d + 1] = (x[a + 1] + x[b + 1] + (lo >>> 0 < al >>> 0 ? 1 : 0)) | 0;
    x[d] = lo;
  }),
  def('sub', { op: OP, f3: 0, f7: 0x20 }, 'R', 'i', 'xxx-', (c, d, a, b) => {
    const x = c.x;
    const al = x[a];
    const bl = x[b];
    x[d + 1] = (x[a + 1] - x[b + 1] - (al >>> 0 < bl >>> 0 ? 1 : 0)) | 0;
    x[d] = (al - bl) | 0;
  }),
  def('sll', { op: OP, f3: 1, f7: 0 }, 'R', 'i', 'xxx-', (c, d, a, b) =>
    setSll(c.x, d, c.x[a], c.x[a + 1], c.x[b] & 63),
  ),
  def('slt', { op: OP, f3: 2, f7: 0 }, 'R', 'i', 'xxx-', (c, d, a, b) => {
    const x = c.x;
    setW(x, d, ltS(x[a], x[a + 1], x[b], x[b + 1]) ? 1 : 0);
  }),
  def('sltu', { op: OP, f3: 3, f7: 0 }, 'R', 'i', 'xxx-', (c, d, a, b) => {
    const x = c.x;
    setW(x, d, ltU(x[a], x[a + 1], x[b], x[b + 1]) ? 1 : 0);
  }),
  def('xor', { op: OP, f3: 4, f7: 0 }, 'R', 'i', 'xxx-', (c, d, a, b) => {
    const x = c.x;
    x[d + 1] = x[a + 1] ^ x[b + 1];
    x[d] = x[a] ^ x[b];
  }),
  def('srl', { op: OP, f3: 5, f7: 0 }, 'R', 'i', 'xxx-', (c, d, a, b) =>
    setSrl(c.x, d, c.x[a], c.x[a + 1], c.x[b] & 63),
  ),
  def('sra', { op: OP, f3: 5, f7: 0x20 }, 'R', 'i', 'xxx-', (c, d, a, b) =>
    setSra(c.x, d, c.x[a], c.x[a + 1], c.x[b] & 63),
  ),
  def('or', { op: OP, f3: 6, f7: 0 }, 'R', 'i', 'xxx-', (c, d, a, b) => {
    const x = c.x;
    x[d + 1] = x[a + 1] | x[b + 1];
    x[d] = x[a] | x[b];
  }),
  def('and', { op: OP, f3: 7, f7: 0 }, 'R', 'i', 'xxx-', (c, d, a, b) => {
    const x = c.x;
    x[d + 1] = x[a + 1] & x[b + 1];
    x[d] = x[a] & x[b];
  }),
  def('addiw', { op: OPIMM32, f3: 0 }, 'I', 'i', 'xx--', (c, d, a, _b, imm) =>
    setW(c.x, d, (c.x[a] + imm) | 0),
  ),
  def('slliw', { op: OPIMM32, f3: 1, f7: 0 }, 'SH', 'i', 'xx--', (c, d, a, _b, imm) =>
    setW(c.x, d, c.x[a] << imm),
  ),
  def('srliw', { op: OPIMM32, f3: 5, f7: 0 }, 'SH', 'i', 'xx--', (c, d, a, _b, imm) =>
    setW(c.x, d, (c.x[a] >>> imm) | 0),
  ),
  def('sraiw', { op: OPIMM32, f3: 5, f7: 0x20 }, 'SH', 'i', 'xx--', (c, d, a, _b, imm) =>
    setW(c.x, d, c.x[a] >> imm),
  ),
  def('addw', { op: OP32, f3: 0, f7: 0 }, 'R', 'i', 'xxx-', (c, d, a, b) =>
    setW(c.x, d, (c.x[a] + c.x[b]) | 0),
  ),
  def('subw', { op: OP32, f3: 0, f7: 0x20 }, 'R', 'i', 'xxx-', (c, d, a, b) =>
    setW(c.x, d, (c.x[a] - c.x[b]) | 0),
  ),
  def('sllw', { op: OP32, f3: 1, f7: 0 }, 'R', 'i', 'xxx-', (c, d, a, b) =>
    setW(c.x, d, c.x[a] << (c.x[b] & 31)),
  ),
  def('srlw', { op: OP32, f3: 5, f7: 0 }, 'R', 'i', 'xxx-', (c, d, a, b) =>
    setW(c.x, d, (c.x[a] >>> (c.x[b] & 31)) | 0),
  ),
  def('sraw', { op: OP32, f3: 5, f7: 0x20 }, 'R', 'i', 'xxx-', (c, d, a, b) =>
    setW(c.x, d, c.x[a] >> (c.x[b] & 31)),
  ),

  // ---- M ----
  def('mul', { op: OP, f3: 0, f7: 1 }, 'R', 'm', 'xxx-', rop(mul64)),
  def('mulh', { op: OP, f3: 1, f7: 1 }, 'R', 'm', 'xxx-', rop(mulh64)),
  def('mulhsu', { op: OP, f3: 2, f7: 1 }, 'R', 'm', 'xxx-', rop(mulhsu64)),
  def('mulhu', { op: OP, f3: 3, f7: 1 }, 'R', 'm', 'xxx-', rop(mulhu64)),
  def('div', { op: OP, f3: 4, f7: 1 }, 'R', 'm', 'xxx-', rop(div64)),
  def('divu', { op: OP, f3: 5, f7: 1 }, 'R', 'm', 'xxx-', rop(divu64)),
  def('rem', { op: OP, f3: 6, f7: 1 }, 'R', 'm', 'xxx-', rop(rem64)),
  def('remu', { op: OP, f3: 7, f7: 1 }, 'R', 'm', 'xxx-', rop(remu64)),
  def('mulw', { op: OP32, f3: 0, f7: 1 }, 'R', 'm', 'xxx-', (c, d, a, b) =>
    setW(c.x, d, Math.imul(c.x[a], c.x[b])),
  ),
  def('divw', { op: OP32, f3: 4, f7: 1 }, 'R', 'm', 'xxx-', (c, d, a, b) => {
    const n = c.x[a];
    const m = c.x[b];
    setW(c.x, d, m === 0 ? -1 : n === -0x80000000 && m === -1 ? n : (n / m) | 0);
  }),
  def('divuw', { op: OP32, f3: 5, f7: 1 }, 'R', 'm', 'xxx-', (c, d, a, b) => {
    const m = c.x[b] >>> 0;
    setW(c.x, d, m === 0 ? -1 : ((c.x[a] >>> 0) / m) | 0);
  }),
  def('remw', { op: OP32, f3: 6, f7: 1 }, 'R', 'm', 'xxx-', (c, d, a, b) => {
    const n = c.x[a];
    const m = c.x[b];
    setW(c.x, d, m === 0 ? n : m === -1 ? 0 : (n % m) | 0);
  }),
  def('remuw', { op: OP32, f3: 7, f7: 1 }, 'R', 'm', 'xxx-', (c, d, a, b) => {
    const m = c.x[b] >>> 0;
    setW(c.x, d, m === 0 ? c.x[a] : ((c.x[a] >>> 0) % m) | 0);
  }),

  // ---- A ----
  def('lr.w', { op: AMO, f3: 2, f5: 0x02, rs2: 0 }, 'LR', 'a', 'xx--', (c, d, a) => {
    const x = c.x;
    const pa = c.amoAddr(x[a], x[a + 1], 4, false);
    if (pa < 0) return;
    const v = c.amoBlk.i32[c.amoOff >>> 2];
    c.resAddr = pa;
    c.resValLo = v;
    setW(x, d, v);
  }),
  def('sc.w', { op: AMO, f3: 2, f5: 0x03 }, 'A', 'a', 'xxx-', (c, d, a, b) => {
    const x = c.x;
    const src = x[b];
    const pa = c.amoAddr(x[a], x[a + 1], 4, true);
    if (pa < 0) return;
    const mem = c.amoBlk.i32;
    const i = c.amoOff >>> 2;
    const ok = c.resAddr === pa && mem[i] === c.resValLo;
    c.resAddr = -1;
    if (ok) mem[i] = src;
    setW(x, d, ok ? 0 : 1);
  }),
  def('lr.d', { op: AMO, f3: 3, f5: 0x02, rs2: 0 }, 'LR', 'a', 'xx--', (c, d, a) => {
    const x = c.x;
    const pa = c.amoAddr(x[a], x[a + 1], 8, false);
    if (pa < 0) return;
    const mem = c.amoBlk.i32;
    const i = c.amoOff >>> 2;
    c.resAddr = pa;
    c.resValLo = mem[i];
    c.resValHi = mem[i + 1];
    x[d] = mem[i];
    x[d + 1] = mem[i + 1];
  }),
  def('sc.d', { op: AMO, f3: 3, f5: 0x03 }, 'A', 'a', 'xxx-', (c, d, a, b) => {
    const x = c.x;
    const sl = x[b];
    const sh = x[b + 1];
    const pa = c.amoAddr(x[a], x[a + 1], 8, true);
    if (pa < 0) return;
    const mem = c.amoBlk.i32;
    const i = c.amoOff >>> 2;
    const ok = c.resAddr === pa && mem[i] === c.resValLo && mem[i + 1] === c.resValHi;
    c.resAddr = -1;
    if (ok) {
      mem[i] = sl;
      mem[i + 1] = sh;
    }
    setW(x, d, ok ? 0 : 1);
  }),
  def(
    'amoswap.w',
    { op: AMO, f3: 2, f5: 0x01 },
    'A',
    'a',
    'xxx-',
    amoW((_o, s) => s),
  ),
  def(
    'amoadd.w',
    { op: AMO, f3: 2, f5: 0x00 },
    'A',
    'a',
    'xxx-',
    amoW((o, s) => (o + s) | 0),
  ),
  def(
    'amoxor.w',
    { op: AMO, f3: 2, f5: 0x04 },
    'A',
    'a',
    'xxx-',
    amoW((o, s) => o ^ s),
  ),
  def(
    'amoand.w',
    { op: AMO, f3: 2, f5: 0x0c },
    'A',
    'a',
    'xxx-',
    amoW((o, s) => o & s),
  ),
  def(
    'amoor.w',
    { op: AMO, f3: 2, f5: 0x08 },
    'A',
    'a',
    'xxx-',
    amoW((o, s) => o | s),
  ),
  def(
    'amomin.w',
    { op: AMO, f3: 2, f5: 0x10 },
    'A',
    'a',
    'xxx-',
    amoW((o, s) => (o < s ? o : s)),
  ),
  def(
    'amomax.w',
    { op: AMO, f3: 2, f5: 0x14 },
    'A',
    'a',
    'xxx-',
    amoW((o, s) => (o > s ? o : s)),
  ),
  def(
    'amominu.w',
    { op: AMO, f3: 2, f5: 0x18 },
    'A',
    'a',
    'xxx-',
    amoW((o, s) => (o >>> 0 < s >>> 0 ? o : s)),
  ),
  def(
    'amomaxu.w',
    { op: AMO, f3: 2, f5: 0x1c },
    'A',
    'a',
    'xxx-',
    amoW((o, s) => (o >>> 0 > s >>> 0 ? o : s)),
  ),
  def(
    'amoswap.d',
    { op: AMO, f3: 3, f5: 0x01 },
    'A',
    'a',
    'xxx-',
    amoD((_al, _ah, bl, bh) => {
      r.hi = bh;
      return bl;
    }),
  ),
  def('amoadd.d', { op: AMO, f3: 3, f5: 0x00 }, 'A', 'a', 'xxx-', amoD(add64)),
  def(
    'amoxor.d',
    { op: AMO, f3: 3, f5: 0x04 },
    'A',
    'a',
    'xxx-',
    amoD((al, ah, bl, bh) => {
      r.hi = ah ^ bh;
      return al ^ bl;
    }),
  ),
  def(
    'amoand.d',
    { op: AMO, f3: 3, f5: 0x0c },
    'A',
    'a',
    'xxx-',
    amoD((al, ah, bl, bh) => {
      r.hi = ah & bh;
      return al & bl;
    }),
  ),
  def(
    'amoor.d',
    { op: AMO, f3: 3, f5: 0x08 },
    'A',
    'a',
    'xxx-',
    amoD((al, ah, bl, bh) => {
      r.hi = ah | bh;
      return al | bl;
    }),
  ),
  def(
    'amomin.d',
    { op: AMO, f3: 3, f5: 0x10 },
    'A',
    'a',
    'xxx-',
    amoD((al, ah, bl, bh) => pick(ltS(al, ah, bl, bh), al, ah, bl, bh)),
  ),
  def(
    'amomax.d',
    { op: AMO, f3: 3, f5: 0x14 },
    'A',
    'a',
    'xxx-',
    amoD((al, ah, bl, bh) => pick(!ltS(al, ah, bl, bh), al, ah, bl, bh)),
  ),
  def(
    'amominu.d',
    { op: AMO, f3: 3, f5: 0x18 },
    'A',
    'a',
    'xxx-',
    amoD((al, ah, bl, bh) => pick(ltU(al, ah, bl, bh), al, ah, bl, bh)),
  ),
  def(
    'amomaxu.d',
    { op: AMO, f3: 3, f5: 0x1c },
    'A',
    'a',
    'xxx-',
    amoD((al, ah, bl, bh) => pick(!ltU(al, ah, bl, bh), al, ah, bl, bh)),
  ),

  // ---- Zba ----
  def('add.uw', { op: OP32, f3: 0, f7: 0x04 }, 'R', 'zba', 'xxx-', (c, d, a, b) => {
    const x = c.x;
    const al = x[a];
    const lo = (al + x[b]) | 0;
    x[d + 1] = (x[b + 1] + (lo >>> 0 < al >>> 0 ? 1 : 0)) | 0;
    x[d] = lo;
  }),
  ...[1, 2, 3].flatMap((n) => [
    def(`sh${n}add`, { op: OP, f3: 2 * n, f7: 0x10 }, 'R', 'zba', 'xxx-', (c, d, a, b) => {
      const x = c.x;
      const sl = x[a] << n;
      const sh = (x[a + 1] << n) | (x[a] >>> (32 - n));
      const bl = x[b];
      const lo = (sl + bl) | 0;
      x[d + 1] = (sh + x[b + 1] + (lo >>> 0 < bl >>> 0 ? 1 : 0)) | 0;
      x[d] = lo;
    }),
    def(`sh${n}add.uw`, { op: OP32, f3: 2 * n, f7: 0x10 }, 'R', 'zba', 'xxx-', (c, d, a, b) => {
      const x = c.x;
      const sl = x[a] << n;
      const sh = x[a] >>> (32 - n);
      const bl = x[b];
      const lo = (sl + bl) | 0;
      x[d + 1] = (sh + x[b + 1] + (lo >>> 0 < bl >>> 0 ? 1 : 0)) | 0;
      x[d] = lo;
    }),
  ]),
  def('slli.uw', { op: OPIMM32, f3: 1, f6: 0x02 }, 'SH', 'zba', 'xx--', (c, d, a, _b, imm) =>
    setSll(c.x, d, c.x[a], 0, imm),
  ),

  // ---- Zbb ----
  def('andn', { op: OP, f3: 7, f7: 0x20 }, 'R', 'zbb', 'xxx-', (c, d, a, b) => {
    const x = c.x;
    x[d + 1] = x[a + 1] & ~x[b + 1];
    x[d] = x[a] & ~x[b];
  }),
  def('orn', { op: OP, f3: 6, f7: 0x20 }, 'R', 'zbb', 'xxx-', (c, d, a, b) => {
    const x = c.x;
    x[d + 1] = x[a + 1] | ~x[b + 1];
    x[d] = x[a] | ~x[b];
  }),
  def('xnor', { op: OP, f3: 4, f7: 0x20 }, 'R', 'zbb', 'xxx-', (c, d, a, b) => {
    const x = c.x;
    x[d + 1] = ~(x[a + 1] ^ x[b + 1]);
    x[d] = ~(x[a] ^ x[b]);
  }),
  def('clz', { op: OPIMM, f3: 1, f12: 0x600 }, 'R1', 'zbb', 'xx--', (c, d, a) =>
    setW(c.x, d, clz64(c.x[a], c.x[a + 1])),
  ),
  def('ctz', { op: OPIMM, f3: 1, f12: 0x601 }, 'R1', 'zbb', 'xx--', (c, d, a) =>
    setW(c.x, d, ctz64(c.x[a], c.x[a + 1])),
  ),
  def('cpop', { op: OPIMM, f3: 1, f12: 0x602 }, 'R1', 'zbb', 'xx--', (c, d, a) =>
    setW(c.x, d, popcnt32(c.x[a]) + popcnt32(c.x[a + 1])),
  ),
  def('clzw', { op: OPIMM32, f3: 1, f12: 0x600 }, 'R1', 'zbb', 'xx--', (c, d, a) =>
    setW(c.x, d, Math.clz32(c.x[a])),
  ),
  def('ctzw', { op: OPIMM32, f3: 1, f12: 0x601 }, 'R1', 'zbb', 'xx--', (c, d, a) =>
    setW(c.x, d, ctz32(c.x[a])),
  ),
  def('cpopw', { op: OPIMM32, f3: 1, f12: 0x602 }, 'R1', 'zbb', 'xx--', (c, d, a) =>
    setW(c.x, d, popcnt32(c.x[a])),
  ),
  def('max', { op: OP, f3: 6, f7: 0x05 }, 'R', 'zbb', 'xxx-', (c, d, a, b) => {
    const x = c.x;
    const s = ltS(x[a], x[a + 1], x[b], x[b + 1]) ? b : a;
    x[d + 1] = x[s + 1];
    x[d] = x[s];
  }),
  def('maxu', { op: OP, f3: 7, f7: 0x05 }, 'R', 'zbb', 'xxx-', (c, d, a, b) => {
    const x = c.x;
    const s = ltU(x[a], x[a + 1], x[b], x[b + 1]) ? b : a;
    x[d + 1] = x[s + 1];
    x[d] = x[s];
  }),
  def('min', { op: OP, f3: 4, f7: 0x05 }, 'R', 'zbb', 'xxx-', (c, d, a, b) => {
    const x = c.x;
    const s = ltS(x[a], x[a + 1], x[b], x[b + 1]) ? a : b;
    x[d + 1] = x[s + 1];
    x[d] = x[s];
  }),
  def('minu', { op: OP, f3: 5, f7: 0x05 }, 'R', 'zbb', 'xxx-', (c, d, a, b) => {
    const x = c.x;
    const s = ltU(x[a], x[a + 1], x[b], x[b + 1]) ? a : b;
    x[d + 1] = x[s + 1];
    x[d] = x[s];
  }),
  def('sext.b', { op: OPIMM, f3: 1, f12: 0x604 }, 'R1', 'zbb', 'xx--', (c, d, a) =>
    setW(c.x, d, (c.x[a] << 24) >> 24),
  ),
  def('sext.h', { op: OPIMM, f3: 1, f12: 0x605 }, 'R1', 'zbb', 'xx--', (c, d, a) =>
    setW(c.x, d, (c.x[a] << 16) >> 16),
  ),
  def('zext.h', { op: OP32, f3: 4, f12: 0x080 }, 'R1', 'zbb', 'xx--', (c, d, a) => {
    c.x[d] = c.x[a] & 0xffff;
    c.x[d + 1] = 0;
  }),
  def('rol', { op: OP, f3: 1, f7: 0x30 }, 'R', 'zbb', 'xxx-', (c, d, a, b) =>
    setRor(c.x, d, c.x[a], c.x[a + 1], 64 - (c.x[b] & 63)),
  ),
  def('ror', { op: OP, f3: 5, f7: 0x30 }, 'R', 'zbb', 'xxx-', (c, d, a, b) =>
    setRor(c.x, d, c.x[a], c.x[a + 1], c.x[b] & 63),
  ),
  def('rori', { op: OPIMM, f3: 5, f6: 0x18 }, 'SH', 'zbb', 'xx--', (c, d, a, _b, imm) =>
    setRor(c.x, d, c.x[a], c.x[a + 1], imm),
  ),
  def('rolw', { op: OP32, f3: 1, f7: 0x30 }, 'R', 'zbb', 'xxx-', (c, d, a, b) => {
    const v = c.x[a];
    const s = c.x[b] & 31;
    setW(c.x, d, (v << s) | ((v >>> ((32 - s) & 31)) & (s ? -1 : 0)));
  }),
  def('rorw', { op: OP32, f3: 5, f7: 0x30 }, 'R', 'zbb', 'xxx-', (c, d, a, b) => {
    const v = c.x[a];
    const s = c.x[b] & 31;
    setW(c.x, d, s ? (v >>> s) | (v << (32 - s)) : v);
  }),
  def('roriw', { op: OPIMM32, f3: 5, f7: 0x30 }, 'SH', 'zbb', 'xx--', (c, d, a, _b, imm) => {
    const v = c.x[a];
    const s = imm & 31;
    setW(c.x, d, s ? (v >>> s) | (v << (32 - s)) : v);
  }),
  def('orc.b', { op: OPIMM, f3: 5, f12: 0x287 }, 'R1', 'zbb', 'xx--', (c, d, a) => {
    const x = c.x;
    x[d + 1] = orcb(x[a + 1]);
    x[d] = orcb(x[a]);
  }),
  def('rev8', { op: OPIMM, f3: 5, f12: 0x6b8 }, 'R1', 'zbb', 'xx--', (c, d, a) => {
    const x = c.x;
    const lo = x[a];
    x[d] = revBytes32(x[a + 1]);
    x[d + 1] = revBytes32(lo);
  }),

  // ---- Zbc ----
  def('clmul', { op: OP, f3: 1, f7: 0x05 }, 'R', 'zbc', 'xxx-', (c, d, a, b) => {
    const x = c.x;
    clmul(x[a], x[a + 1], x[b], x[b + 1]);
    x[d] = clmulOut[0];
    x[d + 1] = clmulOut[1];
  }),
  def('clmulh', { op: OP, f3: 3, f7: 0x05 }, 'R', 'zbc', 'xxx-', (c, d, a, b) => {
    const x = c.x;
    clmul(x[a], x[a + 1], x[b], x[b + 1]);
    x[d] = clmulOut[2];
    x[d + 1] = clmulOut[3];
  }),
  def('clmulr', { op: OP, f3: 2, f7: 0x05 }, 'R', 'zbc', 'xxx-', (c, d, a, b) => {
    const x = c.x;
    clmul(x[a], x[a + 1], x[b], x[b + 1]);
    // bits 126..63 of the product
    x[d] = (clmulOut[1] >>> 31) | (clmulOut[2] << 1);
    x[d + 1] = (clmulOut[2] >>> 31) | (clmulOut[3] << 1);
  }),

  // ---- Zbs ----
  ...(
    [
      ['bclr', 0x24, 1, (v: number, m: number) => v & ~m],
      ['bset', 0x14, 1, (v: number, m: number) => v | m],
      ['binv', 0x34, 1, (v: number, m: number) => v ^ m],
    ] as const
  ).flatMap(([name, f7, f3, fn]) => [
    def(name, { op: OP, f3, f7 }, 'R', 'zbs', 'xxx-', (c, d, a, b) => {
      const x = c.x;
      const s = x[b] & 63;
      const lo = x[a];
      const hi = x[a + 1];
      x[d] = s < 32 ? fn(lo, 1 << s) : lo;
      x[d + 1] = s >= 32 ? fn(hi, 1 << (s - 32)) : hi;
    }),
    def(`${name}i`, { op: OPIMM, f3, f6: f7 >> 1 }, 'SH', 'zbs', 'xx--', (c, d, a, _b, s) => {
      const x = c.x;
      const lo = x[a];
      const hi = x[a + 1];
      x[d] = s < 32 ? fn(lo, 1 << s) : lo;
      x[d + 1] = s >= 32 ? fn(hi, 1 << (s - 32)) : hi;
    }),
  ]),
  def('bext', { op: OP, f3: 5, f7: 0x24 }, 'R', 'zbs', 'xxx-', (c, d, a, b) => {
    const x = c.x;
    const s = x[b] & 63;
    setW(x, d, s < 32 ? (x[a] >>> s) & 1 : (x[a + 1] >>> (s - 32)) & 1);
  }),
  def('bexti', { op: OPIMM, f3: 5, f6: 0x12 }, 'SH', 'zbs', 'xx--', (c, d, a, _b, s) => {
    const x = c.x;
    setW(x, d, s < 32 ? (x[a] >>> s) & 1 : (x[a + 1] >>> (s - 32)) & 1);
  }),
];

export { ea };
