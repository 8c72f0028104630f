/**
 * IEEE 754 binary32/binary64 arithmetic with every RISC-V rounding mode and exception flag.
 *
 * Values travel as JS numbers (a binary32 value is an exact double); NaN stands for "the canonical
 * NaN" on output. Callers detect signalling-NaN inputs from the raw register bits and raise NV
 * themselves, since a JS number cannot carry the signalling bit reliably.
 *
 * Fast path: round-to-nearest-even with results in the normal range is computed with host doubles,
 * and exactness (the NX flag) is decided with error-free transformations (TwoSum, Veltkamp/Dekker
 * TwoProduct), so no allocation happens. Everything else (directed rounding, subnormals, overflow,
 * binary64 FMA) goes through an exact slow path on BigInt significands and one rounding routine —
 * correct by construction, and rare in practice.
 */

export const FLAG_NX = 1;
export const FLAG_UF = 2;
export const FLAG_OF = 4;
export const FLAG_DZ = 8;
export const FLAG_NV = 16;

export const RM_RNE = 0;
export const RM_RTZ = 1;
export const RM_RDN = 2;
export const RM_RUP = 3;
export const RM_RMM = 4;

/** Accumulated exception flags of the current operation(s); the CPU ORs them into fflags. */
export const fpst = { flags: 0 };

export interface FloatFormat {
  mant: number; // explicit mantissa bits
  emin: number; // minimum normal exponent (unbiased)
  emax: number;
}
export const F32: FloatFormat = { mant: 23, emin: -126, emax: 127 };
export const F64: FloatFormat = { mant: 52, emin: -1022, emax: 1023 };

const scratch = new Float64Array(1);
const scratchI = new Int32Array(scratch.buffer);

/** Decompose a finite non-zero double: returns mantissa as BigInt, exponent in `dexp`. */
let dexp = 0;
function decompose(x: number): bigint {
  scratch[0] = x;
  const hi = scratchI[1];
  const lo = scratchI[0] >>> 0;
  const e = (hi >>> 20) & 0x7ff;
  const m = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo);
  if (e === 0) {
    dexp = -1074;
    return m;
  }
  dexp = e - 1075;
  return m | (1n << 52n);
}

function bitLength(m: bigint): number {
  return m.toString(2).length;
}

/**
 * Round sign * m * 2^e (+ a sticky bit below m's last bit) to `fmt` with mode `rm`; sets flags.
 * Tininess is detected after rounding, as RISC-V specifies.
 */
export function roundPack(
  sign: number,
  m: bigint,
  e: number,
  sticky: boolean,
  fmt: FloatFormat,
  rm: number,
): number {
  if (m === 0n) {
    if (sticky) fpst.flags |= FLAG_NX | FLAG_UF;
    return sign ? -0 : 0;
  }
  const n = bitLength(m);
  const E = e + n - 1;
  const p = fmt.mant;
  let q = E < fmt.emin ? fmt.emin - p : E - p;
  let kept: bigint;
  let inexact = sticky;
  const shift = q - e;
  if (shift > 0) {
    const sb = BigInt(shift);
    kept = m >> sb;
    const rem = m & ((1n << sb) - 1n);
    const half = 1n << (sb - 1n);
    if (rem !== 0n) inexact = true;
    if (roundUp(sign, kept, rem, half, sticky, rm)) kept += 1n;
  } else {
    kept = m << BigInt(-shift);
    if (sticky && roundUp(sign, kept, 0n, 1n, true, rm)) kept += 1n;
  }
  const limit = 1n << BigInt(p + 1);
  if (kept >= limit) {
    kept >>= 1n;
    q += 1;
  }
  // Overflow: exponent of the rounded result above emax.
  if (kept !== 0n && q + bitLength(kept) - 1 > fmt.emax) {
    fpst.flags |= FLAG_OF | FLAG_NX;
    const toInf = rm === RM_RNE || rm === RM_RMM || (rm === RM_RUP && !sign) || (rm === RM_RDN && sign);
    const v = toInf ? Infinity : (2 - 2 ** -p) * 2 ** fmt.emax;
    return sign ? -v : v;
  }
  if (inexact) {
    fpst.flags |= FLAG_NX;
    if (E < fmt.emin) {
      // Tiny after rounding? Round with unbounded exponent range and compare with 2^emin.
      let tiny = true;
      if (E === fmt.emin - 1) {
        const q2 = E - p;
        const sh2 = q2 - e;
        let k2: bigint;
        if (sh2 > 0) {
          const sb = BigInt(sh2);
          k2 = m >> sb;
          const rem = m & ((1n << sb) - 1n);
          if (roundUp(sign, k2, rem, 1n << (sb - 1n), sticky, rm)) k2 += 1n;
        } else {
          k2 = m << BigInt(-sh2);
          if (sticky && roundUp(sign, k2, 0n, 1n, true, rm)) k2 += 1n;
        }
        if (k2 >= limit) tiny = false;
      }
      if (tiny) fpst.flags |= FLAG_UF;
    }
  }
  const v = Number(kept) * 2 ** q;
  return sign ? -v : v;
}

function roundUp(
  sign: number,
  kept: bigint,
  rem: bigint,
  half: bigint,
  sticky: boolean,
  rm: number,
): boolean {
  const nonzero = rem !== 0n || sticky;
  switch (rm) {
    case RM_RNE:
      if (rem > half || (rem === half && sticky)) return true;
      if (rem === half && !sticky) return (kept & 1n) === 1n;
      return false;
    case RM_RMM:
      return rem >= half && rem !== 0n;
    case RM_RTZ:
      return false;
    case RM_RDN:
      return sign === 1 && nonzero;
    case RM_RUP:
      return sign === 0 && nonzero;
  }
  return false;
}

function isNeg(x: number): number {
  return x < 0 || Object.is(x, -0) ? 1 : 0;
}

// ------------------------------------------------------------------------------------------------
// Error-free transformations for the fast path

const SPLIT = 134217729; // 2^27 + 1
/** Does a*b (rounded to `p`) equal the exact product? Valid for moderate magnitudes. */
function productExact(a: number, b: number, p: number): boolean {
  let t = SPLIT * a;
  const ahi = t - (t - a);
  const alo = a - ahi;
  t = SPLIT * b;
  const bhi = t - (t - b);
  const blo = b - bhi;
  const err = alo * blo - (p - ahi * bhi - alo * bhi - ahi * blo);
  return err === 0;
}
/** Exact residual sign test: returns a - p*b exactly as a double (Sterbenz + TwoProduct). */
function residual(a: number, q: number, b: number): number {
  const p = q * b;
  let t = SPLIT * q;
  const qhi = t - (t - q);
  const qlo = q - qhi;
  t = SPLIT * b;
  const bhi = t - (t - b);
  const blo = b - bhi;
  const e = qlo * blo - (p - qhi * bhi - qlo * bhi - qhi * blo);
  return a - p - e;
}

const NORMAL_LO = 2 ** -960; // keeps TwoProduct error terms clear of underflow
const NORMAL_HI = 2 ** 990; // keeps splits clear of overflow

function fastOk64(r: number): boolean {
  const m = Math.abs(r);
  return m > NORMAL_LO && m < NORMAL_HI;
}
function fastOk32(r: number): boolean {
  const m = Math.abs(r);
  return m >= 1.1754943508222875e-38 && m < 3.4028234663852886e38;
}

// ------------------------------------------------------------------------------------------------
// Operations. `fmt` chooses binary32 (F32) or binary64 (F64).

export function fadd(a: number, b: number, rm: number, fmt: FloatFormat): number {
  if (rm === RM_RNE) {
    const s = a + b;
    if (fmt === F64) {
      if (fastOk64(s) && fastOk64(a) && fastOk64(b)) {
        const bb = s - a;
        if (a - (s - bb) + (b - bb) !== 0) fpst.flags |= FLAG_NX;
        return s;
      }
    } else if (fastOk32(a) && fastOk32(b)) {
      const f = Math.fround(s);
      if (fastOk32(f)) {
        const bb = s - a;
        if (f !== s || a - (s - bb) + (b - bb) !== 0) fpst.flags |= FLAG_NX;
        return f;
      }
    }
  }
  return addSlow(a, b, rm, fmt);
}

function addSlow(a: number, b: number, rm: number, fmt: FloatFormat): number {
  if (a !== a || b !== b) return NaN;
  if (a === Infinity || a === -Infinity) {
    if (b === -a) {
      fpst.flags |= FLAG_NV;
      return NaN;
    }
    return a;
  }
  if (b === Infinity || b === -Infinity) return b;
  if (a === 0 && b === 0) {
    const sa = isNeg(a);
    const sb = isNeg(b);
    if (sa === sb) return a;
    return rm === RM_RDN ? -0 : 0;
  }
  if (a === 0) return b;
  if (b === 0) return a;
  const ma = decompose(a);
  const ea = dexp;
  const mb = decompose(b);
  const eb = dexp;
  const e = Math.min(ea, eb);
  let sum = (a < 0 ? -ma : ma) << BigInt(ea - e);
  sum += (b < 0 ? -mb : mb) << BigInt(eb - e);
  if (sum === 0n) return rm === RM_RDN ? -0 : 0;
  return sum < 0n ? roundPack(1, -sum, e, false, fmt, rm) : roundPack(0, sum, e, false, fmt, rm);
}

export function fmul(a: number, b: number, rm: number, fmt: FloatFormat): number {
  if (rm === RM_RNE) {
    const p = a * b;
    if (fmt === F64) {
      if (fastOk64(p) && fastOk64(a) && fastOk64(b)) {
        if (!productExact(a, b, p)) fpst.flags |= FLAG_NX;
        return p;
      }
    } else {
      const f = Math.fround(p); // p is exact: 24x24 bits fit a double
      if (fastOk32(f) && p === p) {
        if (f !== p) fpst.flags |= FLAG_NX;
        return f;
      }
    }
  }
  if (a !== a || b !== b) return NaN;
  const sign = isNeg(a) ^ isNeg(b);
  const ainf = a === Infinity || a === -Infinity;
  const binf = b === Infinity || b === -Infinity;
  if (ainf || binf) {
    if (a === 0 || b === 0) {
      fpst.flags |= FLAG_NV;
      return NaN;
    }
    return sign ? -Infinity : Infinity;
  }
  if (a === 0 || b === 0) return sign ? -0 : 0;
  const ma = decompose(a);
  const ea = dexp;
  const mb = decompose(b);
  return roundPack(sign, ma * mb, ea + dexp, false, fmt, rm);
}

export function fdiv(a: number, b: number, rm: number, fmt: FloatFormat): number {
  if (rm === RM_RNE) {
    const q = a / b;
    if (fmt === F64) {
      if (fastOk64(q) && fastOk64(a) && fastOk64(b)) {
        if (residual(a, q, b) !== 0) fpst.flags |= FLAG_NX;
        return q;
      }
    } else if (fastOk32(a) && fastOk32(b)) {
      const f = Math.fround(q);
      if (fastOk32(f)) {
        if (f * b !== a) fpst.flags |= FLAG_NX;
        return f;
      }
    }
  }
  if (a !== a || b !== b) return NaN;
  const sign = isNeg(a) ^ isNeg(b);
  const ainf = a === Infinity || a === -Infinity;
  const binf = b === Infinity || b === -Infinity;
  if (ainf && binf) {
    fpst.flags |= FLAG_NV;
    return NaN;
  }
  if (ainf) return sign ? -Infinity : Infinity;
  if (binf) return sign ? -0 : 0;
  if (b === 0) {
    if (a === 0) {
      fpst.flags |= FLAG_NV;
      return NaN;
    }
    fpst.flags |= FLAG_DZ;
    return sign ? -Infinity : Infinity;
  }
  if (a === 0) return sign ? -0 : 0;
  const ma = decompose(a);
  const ea = dexp;
  const mb = decompose(b);
  const eb = dexp;
  const k = Math.max(0, fmt.mant + 4 + bitLength(mb) - bitLength(ma));
  const num = ma << BigInt(k);
  const q = num / mb;
  const rem = num - q * mb;
  return roundPack(sign, q, ea - eb - k, rem !== 0n, fmt, rm);
}

function isqrt(n: bigint): bigint {
  if (n < 2n) return n;
  let x = 1n << BigInt(Math.ceil(bitLength(n) / 2));
  for (;;) {
    const y = (x + n / x) >> 1n;
    if (y >= x) return x;
    x = y;
  }
}

export function fsqrt(a: number, rm: number, fmt: FloatFormat): number {
  if (rm === RM_RNE && a > 0) {
    const s = Math.sqrt(a);
    if (fmt === F64) {
      if (fastOk64(a)) {
        if (residual(a, s, s) !== 0) fpst.flags |= FLAG_NX;
        return s;
      }
    } else if (fastOk32(a) && a !== Infinity) {
      const f = Math.fround(s);
      if (f * f !== a) fpst.flags |= FLAG_NX;
      return f;
    }
  }
  if (a !== a) return NaN;
  if (a === 0) return a;
  if (a < 0) {
    fpst.flags |= FLAG_NV;
    return NaN;
  }
  if (a === Infinity) return a;
  let m = decompose(a);
  let e = dexp;
  if (e & 1) {
    m <<= 1n;
    e -= 1;
  }
  // Make the root at least mant+4 bits long: shift by an even amount.
  let sh = Math.max(0, 2 * (fmt.mant + 4) - bitLength(m) + 2);
  if (sh & 1) sh++;
  m <<= BigInt(sh);
  e -= sh;
  const root = isqrt(m);
  return roundPack(0, root, e / 2, root * root !== m, fmt, rm);
}

/** Fused multiply-add a*b + c (negations applied by the caller). */
export function ffma(a: number, b: number, c: number, rm: number, fmt: FloatFormat): number {
  if (rm === RM_RNE && fmt === F32) {
    const p = a * b; // exact
    const s = p + c;
    const bb = s - p;
    if (fastOk32(a) && fastOk32(b) && fastOk32(c) && p - (s - bb) + (c - bb) === 0) {
      const f = Math.fround(s);
      if (fastOk32(f)) {
        if (f !== s) fpst.flags |= FLAG_NX;
        return f;
      }
    }
  }
  const ainf = a === Infinity || a === -Infinity;
  const binf = b === Infinity || b === -Infinity;
  if ((ainf && b === 0) || (binf && a === 0)) {
    fpst.flags |= FLAG_NV;
    return NaN;
  }
  if (a !== a || b !== b || c !== c) return NaN;
  const psign = isNeg(a) ^ isNeg(b);
  const cinf = c === Infinity || c === -Infinity;
  if (ainf || binf) {
    const pinf = psign ? -Infinity : Infinity;
    if (cinf && c !== pinf) {
      fpst.flags |= FLAG_NV;
      return NaN;
    }
    return pinf;
  }
  if (cinf) return c;
  if (a === 0 || b === 0) {
    if (c === 0) {
      const sc = isNeg(c);
      if (psign === sc) return c;
      return rm === RM_RDN ? -0 : 0;
    }
    return c;
  }
  const ma = decompose(a);
  const ea = dexp;
  const mb = decompose(b);
  const eb = dexp;
  const mp = ma * mb;
  const ep = ea + eb;
  if (c === 0) return roundPack(psign, mp, ep, false, fmt, rm);
  const mc = decompose(c);
  const ec = dexp;
  const e = Math.min(ep, ec);
  let sum = (psign ? -mp : mp) << BigInt(ep - e);
  sum += (c < 0 ? -mc : mc) << BigInt(ec - e);
  if (sum === 0n) return rm === RM_RDN ? -0 : 0;
  return sum < 0n ? roundPack(1, -sum, e, false, fmt, rm) : roundPack(0, sum, e, false, fmt, rm);
}

/** Convert a value to another format (binary64 -> binary32 rounds). */
export function fconvert(a: number, rm: number, fmt: FloatFormat): number {
  if (a !== a) return NaN;
  if (a === 0 || a === Infinity || a === -Infinity) return a;
  if (fmt === F64) return a;
  if (rm === RM_RNE) {
    const f = Math.fround(a);
    if (fastOk32(f)) {
      if (f !== a) fpst.flags |= FLAG_NX;
      return f;
    }
  }
  const m = decompose(a);
  return roundPack(a < 0 ? 1 : 0, m, dexp, false, fmt, rm);
}

/** Integer (given as an exact JS number, or a BigInt when beyond 2^53) to float. */
export function fromInt(v: number, big: bigint | null, rm: number, fmt: FloatFormat): number {
  if (big === null) {
    if (v === 0) return 0;
    if (fmt === F64) return v; // |v| < 2^53: exact
    const f = Math.fround(v);
    if (rm === RM_RNE) {
      if (f !== v) fpst.flags |= FLAG_NX;
      return f;
    }
    big = BigInt(v);
  }
  if (big === 0n) return 0;
  return big < 0n ? roundPack(1, -big, 0, false, fmt, rm) : roundPack(0, big, 0, false, fmt, rm);
}

/** Round a finite value to an integer value with mode rm (sets NX when it changes). */
export function roundToInt(a: number, rm: number): number {
  const t = Math.trunc(a);
  if (t === a) return a;
  fpst.flags |= FLAG_NX;
  const frac = Math.abs(a - t); // exact for |a| < 2^52
  switch (rm) {
    case RM_RTZ:
      return t;
    case RM_RDN:
      return Math.floor(a);
    case RM_RUP:
      return Math.ceil(a);
    case RM_RMM:
      return frac >= 0.5 ? t + Math.sign(a) : t;
    default:
      if (frac > 0.5) return t + Math.sign(a);
      if (frac < 0.5) return t;
      return t % 2 === 0 ? t : t + Math.sign(a);
  }
}

/** RISC-V fclass bits for a value whose bits are known (isSnan tells signalling NaNs apart). */
export function fclass(a: number, isSnan: boolean, subnormalBelow: number): number {
  if (a !== a) return isSnan ? 1 << 8 : 1 << 9;
  if (a === -Infinity) return 1 << 0;
  if (a === Infinity) return 1 << 7;
  if (a === 0) return Object.is(a, -0) ? 1 << 3 : 1 << 4;
  const sub = Math.abs(a) < subnormalBelow;
  if (a < 0) return sub ? 1 << 2 : 1 << 1;
  return sub ? 1 << 5 : 1 << 6;
}
