/**
 * F and D extensions. Registers are read as bits (`f`) for moves, NaN-boxing and signalling-NaN
 * checks, and as numbers (`f64`/`f32` views) for arithmetic in softfloat.ts. Results that are NaN are
 * written as the canonical NaN; binary32 results are NaN-boxed.
 */
import type { RiscvCpu } from './cpu.js';
import { CSR_FCSR } from './cpu-state.js';
import { def, type Handler, type InsnDef } from './insn-def.js';
import {
  F32,
  F64,
  FLAG_NV,
  fadd,
  fclass,
  fconvert,
  fdiv,
  ffma,
  fmul,
  fpst,
  fromInt,
  fsqrt,
  roundToInt,
  type FloatFormat,
} from './softfloat.js';
import { ea } from './insns-int.js';
import { r } from './int64.js';

const OPFP = 0x53;
const CANON32 = 0x7fc00000;

// ---- operand access (register indices are doubled) ----

/** binary32 value of f[i]; an improperly boxed value reads as the canonical NaN. */
function s32(c: RiscvCpu, i: number): number {
  return c.f[i + 1] === -1 ? c.f32[i] : NaN;
}
function isSnan32(c: RiscvCpu, i: number): boolean {
  if (c.f[i + 1] !== -1) return false;
  const b = c.f[i];
  return (b & 0x7fc00000) === 0x7f800000 && (b & 0x3fffff) !== 0;
}
function isSnan64(c: RiscvCpu, i: number): boolean {
  const hi = c.f[i + 1];
  return (hi & 0x7ff80000) === 0x7ff00000 && ((hi & 0x7ffff) | c.f[i]) !== 0;
}
function put32(c: RiscvCpu, d: number, v: number): void {
  if (v !== v) c.f[d] = CANON32;
  else c.f32[d] = v;
  c.f[d + 1] = -1;
  c.fsDirty();
}
function put64(c: RiscvCpu, d: number, v: number): void {
  if (v !== v) {
    c.f[d] = 0;
    c.f[d + 1] = 0x7ff80000;
  } else c.f64[d >> 1] = v;
  c.fsDirty();
}
function flags(c: RiscvCpu): void {
  if (fpst.flags) {
    c.csr[CSR_FCSR * 2] |= fpst.flags;
    c.fsDirty();
  }
}

type Kind = 'S' | 'D';
const get = (k: Kind) => (k === 'S' ? s32 : (c: RiscvCpu, i: number) => c.f64[i >> 1]);
const snan = (k: Kind) => (k === 'S' ? isSnan32 : isSnan64);
const put = (k: Kind) => (k === 'S' ? put32 : put64);
const FMT = (k: Kind): FloatFormat => (k === 'S' ? F32 : F64);

/** Guard shared by every FP instruction: FS off -> illegal; returns the rounding mode (or -1). */
function enter(c: RiscvCpu, raw: number, useRm: boolean): number {
  if (c.fsOff) {
    c.illegal(raw);
    return -1;
  }
  fpst.flags = 0;
  if (!useRm) return 0;
  const rm = c.roundingMode(raw);
  if (rm < 0) c.illegal(raw);
  return rm;
}

function binop(k: Kind, fn: (a: number, b: number, rm: number, fmt: FloatFormat) => number): Handler {
  const g = get(k);
  const sn = snan(k);
  const p = put(k);
  const fmt = FMT(k);
  return (c, d, a, b, _imm, raw) => {
    const rm = enter(c, raw, true);
    if (rm < 0) return;
    if (sn(c, a) || sn(c, b)) fpst.flags |= FLAG_NV;
    p(c, d, fn(g(c, a), g(c, b), rm, fmt));
    flags(c);
  };
}

function fma(k: Kind, negProd: boolean, negAdd: boolean): Handler {
  const g = get(k);
  const sn = snan(k);
  const p = put(k);
  const fmt = FMT(k);
  return (c, d, a, b, _imm, raw) => {
    const rm = enter(c, raw, true);
    if (rm < 0) return;
    const e = (raw >>> 27) * 2;
    if (sn(c, a) || sn(c, b) || sn(c, e)) fpst.flags |= FLAG_NV;
    let x = g(c, a);
    let z = g(c, e);
    if (negProd) x = -x;
    if (negAdd) z = -z;
    p(c, d, ffma(x, g(c, b), z, rm, fmt));
    flags(c);
  };
}

/** Float -> integer conversion with saturation and NV/NX as RISC-V specifies. */
function toInt(k: Kind, bits: 32 | 64, signed: boolean): Handler {
  const g = get(k);
  const sn = snan(k);
  const min = signed ? -(2 ** (bits - 1)) : 0;
  const max = signed ? 2 ** (bits - 1) - 1 : 2 ** bits - 1;
  return (c, d, a, _b, _imm, raw) => {
    const rm = enter(c, raw, true);
    if (rm < 0) return;
    const v = g(c, a);
    let res: number;
    if (v !== v) {
      fpst.flags |= FLAG_NV;
      res = max;
      void sn;
    } else {
      const saved = fpst.flags;
      const t = v === Infinity || v === -Infinity ? v : roundToInt(v, rm);
      if (
        t < min ||
        t > max ||
        (bits === 64 && t >= 2 ** 63 && signed) ||
        (bits === 64 && !signed && t >= 2 ** 64)
      ) {
        fpst.flags = saved | FLAG_NV;
        res = t < min ? min : max;
      } else res = t;
    }
    const x = c.x;
    if (bits === 32) {
      const w = res | 0; // wu results are sign-extended from bit 31 too
      x[d] = w;
      x[d + 1] = w >> 31;
    } else if (!signed && res === max) {
      x[d] = -1; // 2^64 - 1 (max rounds to 2^64 as a double; legal results are below it)
      x[d + 1] = -1;
    } else if (signed && res === max) {
      x[d] = -1; // 2^63 - 1
      x[d + 1] = 0x7fffffff;
    } else {
      const hi = Math.floor(res / 4294967296);
      x[d] = (res - hi * 4294967296) | 0;
      x[d + 1] = hi | 0;
    }
    flags(c);
  };
}

/** Integer -> float conversion. */
function fromIntH(k: Kind, bits: 32 | 64, signed: boolean): Handler {
  const p = put(k);
  const fmt = FMT(k);
  return (c, d, a, _b, _imm, raw) => {
    const rm = enter(c, raw, true);
    if (rm < 0) return;
    const lo = c.x[a];
    const hi = c.x[a + 1];
    let v = 0;
    let big: bigint | null = null;
    if (bits === 32) v = signed ? lo : lo >>> 0;
    else if (signed ? hi >= -0x200000 && hi < 0x200000 : hi >>> 0 < 0x200000)
      v = (signed ? hi : hi >>> 0) * 4294967296 + (lo >>> 0);
    else {
      big = (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
      if (signed) big = BigInt.asIntN(64, big);
    }
    p(c, d, fromInt(v, big, rm, fmt));
    flags(c);
  };
}

function sgnj(k: Kind, mode: 0 | 1 | 2): Handler {
  return (c, d, a, b, _imm, raw) => {
    if (enter(c, raw, false) < 0) return;
    const f = c.f;
    if (k === 'S') {
      const av = f[a + 1] === -1 ? f[a] : CANON32;
      const bv = f[b + 1] === -1 ? f[b] : CANON32;
      const sign = mode === 0 ? bv & 0x80000000 : mode === 1 ? ~bv & 0x80000000 : (av ^ bv) & 0x80000000;
      f[d] = (av & 0x7fffffff) | sign;
      f[d + 1] = -1;
    } else {
      const ah = f[a + 1];
      const bh = f[b + 1];
      const sign = mode === 0 ? bh & 0x80000000 : mode === 1 ? ~bh & 0x80000000 : (ah ^ bh) & 0x80000000;
      f[d] = f[a];
      f[d + 1] = (ah & 0x7fffffff) | sign;
    }
    c.fsDirty();
  };
}

function minmax(k: Kind, isMax: boolean): Handler {
  const g = get(k);
  const sn = snan(k);
  const p = put(k);
  return (c, d, a, b, _imm, raw) => {
    if (enter(c, raw, false) < 0) return;
    if (sn(c, a) || sn(c, b)) fpst.flags |= FLAG_NV;
    const x = g(c, a);
    const y = g(c, b);
    let res: number;
    if (x !== x) res = y;
    else if (y !== y) res = x;
    else if (x === 0 && y === 0) {
      const xn = Object.is(x, -0);
      const yn = Object.is(y, -0);
      res = isMax ? (xn && yn ? -0 : 0) : xn || yn ? -0 : 0;
    } else res = isMax ? (x > y ? x : y) : x < y ? x : y;
    p(c, d, res);
    flags(c);
  };
}

function cmp(k: Kind, op: 'eq' | 'lt' | 'le'): Handler {
  const g = get(k);
  const sn = snan(k);
  return (c, d, a, b, _imm, raw) => {
    if (enter(c, raw, false) < 0) return;
    const x = g(c, a);
    const y = g(c, b);
    if (x !== x || y !== y) {
      if (op !== 'eq' || sn(c, a) || sn(c, b)) fpst.flags |= FLAG_NV;
    }
    const res = op === 'eq' ? x === y : op === 'lt' ? x < y : x <= y;
    c.x[d] = res ? 1 : 0;
    c.x[d + 1] = 0;
    flags(c);
  };
}

const fp = (f5: number, k: Kind, extra: { f3?: number; rs2?: number } = {}) => ({
  op: OPFP,
  f7: (f5 << 2) | (k === 'S' ? 0 : 1),
  ...extra,
});

function kindInsns(k: Kind): InsnDef[] {
  const ext = k === 'S' ? 'f' : 'd';
  const n = (s: string): string => `${s}.${k.toLowerCase()}`;
  const g = get(k);
  const sn = snan(k);
  const fmtBits = k === 'S' ? 0 : 1;
  return [
    def(n('fadd'), fp(0, k), 'R', ext, 'fff-', binop(k, fadd), true),
    def(
      n('fsub'),
      fp(1, k),
      'R',
      ext,
      'fff-',
      binop(k, (a, b, rm, fmt) => fadd(a, -b, rm, fmt)),
      true,
    ),
    def(n('fmul'), fp(2, k), 'R', ext, 'fff-', binop(k, fmul), true),
    def(n('fdiv'), fp(3, k), 'R', ext, 'fff-', binop(k, fdiv), true),
    def(
      n('fsqrt'),
      fp(11, k, { rs2: 0 }),
      'R1',
      ext,
      'ff--',
      binop(k, (a, _b, rm, fmt) => fsqrt(a, rm, fmt)),
      true,
    ),
    def(n('fsgnj'), fp(4, k, { f3: 0 }), 'R', ext, 'fff-', sgnj(k, 0)),
    def(n('fsgnjn'), fp(4, k, { f3: 1 }), 'R', ext, 'fff-', sgnj(k, 1)),
    def(n('fsgnjx'), fp(4, k, { f3: 2 }), 'R', ext, 'fff-', sgnj(k, 2)),
    def(n('fmin'), fp(5, k, { f3: 0 }), 'R', ext, 'fff-', minmax(k, false)),
    def(n('fmax'), fp(5, k, { f3: 1 }), 'R', ext, 'fff-', minmax(k, true)),
    def(n('feq'), fp(20, k, { f3: 2 }), 'R', ext, 'xff-', cmp(k, 'eq')),
    def(n('flt'), fp(20, k, { f3: 1 }), 'R', ext, 'xff-', cmp(k, 'lt')),
    def(n('fle'), fp(20, k, { f3: 0 }), 'R', ext, 'xff-', cmp(k, 'le')),
    def(n('fclass'), fp(28, k, { f3: 1, rs2: 0 }), 'R1', ext, 'xf--', (c, d, a, _b, _imm, raw) => {
      if (enter(c, raw, false) < 0) return;
      c.x[d] = fclass(g(c, a), sn(c, a), k === 'S' ? 1.1754943508222875e-38 : 2.2250738585072014e-308);
      c.x[d + 1] = 0;
    }),
    def(`fcvt.w.${k.toLowerCase()}`, fp(24, k, { rs2: 0 }), 'R1', ext, 'xf--', toInt(k, 32, true), true),
    def(`fcvt.wu.${k.toLowerCase()}`, fp(24, k, { rs2: 1 }), 'R1', ext, 'xf--', toInt(k, 32, false), true),
    def(`fcvt.l.${k.toLowerCase()}`, fp(24, k, { rs2: 2 }), 'R1', ext, 'xf--', toInt(k, 64, true), true),
    def(`fcvt.lu.${k.toLowerCase()}`, fp(24, k, { rs2: 3 }), 'R1', ext, 'xf--', toInt(k, 64, false), true),
    def(`fcvt.${k.toLowerCase()}.w`, fp(26, k, { rs2: 0 }), 'R1', ext, 'fx--', fromIntH(k, 32, true), true),
    def(`fcvt.${k.toLowerCase()}.wu`, fp(26, k, { rs2: 1 }), 'R1', ext, 'fx--', fromIntH(k, 32, false), true),
    def(`fcvt.${k.toLowerCase()}.l`, fp(26, k, { rs2: 2 }), 'R1', ext, 'fx--', fromIntH(k, 64, true), true),
    def(`fcvt.${k.toLowerCase()}.lu`, fp(26, k, { rs2: 3 }), 'R1', ext, 'fx--', fromIntH(k, 64, false), true),
    def(n('fmadd'), { op: 0x43, fmt: fmtBits }, 'R4', ext, 'ffff', fma(k, false, false), true),
    def(n('fmsub'), { op: 0x47, fmt: fmtBits }, 'R4', ext, 'ffff', fma(k, false, true), true),
    def(n('fnmsub'), { op: 0x4b, fmt: fmtBits }, 'R4', ext, 'ffff', fma(k, true, false), true),
    def(n('fnmadd'), { op: 0x4f, fmt: fmtBits }, 'R4', ext, 'ffff', fma(k, true, true), true),
  ];
}

export const FP_INSNS: InsnDef[] = [
  def('flw', { op: 0x07, f3: 2 }, 'L', 'f', 'fx--', (c, d, a, _b, imm, raw) => {
    if (enter(c, raw, false) < 0) return;
    const x = c.x;
    const lo = ea(x, a, imm);
    const v = c.ld32(lo, eaHiOf(x, a, imm));
    if (c.fault) return;
    c.f[d] = v;
    c.f[d + 1] = -1;
    c.fsDirty();
  }),
  def('fld', { op: 0x07, f3: 3 }, 'L', 'd', 'fx--', (c, d, a, _b, imm, raw) => {
    if (enter(c, raw, false) < 0) return;
    const x = c.x;
    const lo = ea(x, a, imm);
    const v = c.ld64(lo, eaHiOf(x, a, imm));
    if (c.fault) return;
    c.f[d] = v;
    c.f[d + 1] = c.rhi;
    c.fsDirty();
  }),
  def('fsw', { op: 0x27, f3: 2 }, 'S', 'f', '-xf-', (c, _d, a, b, imm, raw) => {
    if (enter(c, raw, false) < 0) return;
    const x = c.x;
    c.st32(ea(x, a, imm), eaHiOf(x, a, imm), c.f[b]);
  }),
  def('fsd', { op: 0x27, f3: 3 }, 'S', 'd', '-xf-', (c, _d, a, b, imm, raw) => {
    if (enter(c, raw, false) < 0) return;
    const x = c.x;
    c.st64(ea(x, a, imm), eaHiOf(x, a, imm), c.f[b], c.f[b + 1]);
  }),
  ...kindInsns('S'),
  ...kindInsns('D'),
  def(
    'fcvt.s.d',
    fp(8, 'S', { rs2: 1 }),
    'R1',
    'd',
    'ff--',
    (c, d, a, _b, _imm, raw) => {
      const rm = enter(c, raw, true);
      if (rm < 0) return;
      if (isSnan64(c, a)) fpst.flags |= FLAG_NV;
      put32(c, d, fconvert(c.f64[a >> 1], rm, F32));
      flags(c);
    },
    true,
  ),
  def(
    'fcvt.d.s',
    fp(8, 'D', { rs2: 0 }),
    'R1',
    'd',
    'ff--',
    (c, d, a, _b, _imm, raw) => {
      const rm = enter(c, raw, true);
      if (rm < 0) return;
      if (isSnan32(c, a)) fpst.flags |= FLAG_NV;
      put64(c, d, s32(c, a));
      flags(c);
    },
    true,
  ),
  def('fmv.x.w', fp(28, 'S', { f3: 0, rs2: 0 }), 'R1', 'f', 'xf--', (c, d, a, _b, _imm, raw) => {
    if (enter(c, raw, false) < 0) return;
    const v = c.f[a];
    c.x[d] = v;
    c.x[d + 1] = v >> 31;
  }),
  def('fmv.w.x', fp(30, 'S', { f3: 0, rs2: 0 }), 'R1', 'f', 'fx--', (c, d, a, _b, _imm, raw) => {
    if (enter(c, raw, false) < 0) return;
    c.f[d] = c.x[a];
    c.f[d + 1] = -1;
    c.fsDirty();
  }),
  def('fmv.x.d', fp(28, 'D', { f3: 0, rs2: 0 }), 'R1', 'd', 'xf--', (c, d, a, _b, _imm, raw) => {
    if (enter(c, raw, false) < 0) return;
    c.x[d] = c.f[a];
    c.x[d + 1] = c.f[a + 1];
  }),
  def('fmv.d.x', fp(30, 'D', { f3: 0, rs2: 0 }), 'R1', 'd', 'fx--', (c, d, a, _b, _imm, raw) => {
    if (enter(c, raw, false) < 0) return;
    c.f[d] = c.x[a];
    c.f[d + 1] = c.x[a + 1];
    c.fsDirty();
  }),
];

/** High word of x[a] + imm (the int module's scratch is overwritten by the time we need it). */
function eaHiOf(x: Int32Array, a: number, imm: number): number {
  const al = x[a];
  const lo = (al + imm) | 0;
  return (x[a + 1] + (imm >> 31) + (lo >>> 0 < al >>> 0 ? 1 : 0)) | 0;
}

export { r };
