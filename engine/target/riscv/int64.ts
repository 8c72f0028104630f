/**
 * 64-bit integer arithmetic on (lo, hi) int32 pairs without allocation.
 *
 * Functions return the low word and leave the high word in `r.hi` (a module-level scratch), so
 * callers write both halves straight into the register file. Division of values that do not fit in
 * 53 bits is the one rare slow path that uses BigInt.
 */
export const r = { hi: 0 };

/** High 32 bits of the unsigned 64-bit product of two uint32 values. */
export function mulhu32(a: number, b: number): number {
  const a0 = a & 0xffff;
  const a1 = a >>> 16;
  const b0 = b & 0xffff;
  const b1 = b >>> 16;
  const p00 = a0 * b0;
  const p01 = a0 * b1;
  const p10 = a1 * b0;
  const p11 = a1 * b1;
  const mid = (p00 >>> 16) + (p01 & 0xffff) + (p10 & 0xffff);
  return (p11 + (p01 >>> 16) + (p10 >>> 16) + (mid >>> 16)) | 0;
}

/** Low 64 bits of a*b. */
export function mul64(alo: number, ahi: number, blo: number, bhi: number): number {
  r.hi = (mulhu32(alo, blo) + Math.imul(alo, bhi) + Math.imul(ahi, blo)) | 0;
  return Math.imul(alo, blo);
}

/** High 64 bits of the unsigned 128-bit product. */
export function mulhu64(alo: number, ahi: number, blo: number, bhi: number): number {
  // Partial products, each 64 bits as (hi, lo).
  const ll_hi = mulhu32(alo, blo) >>> 0;
  const lh_lo = Math.imul(alo, bhi) >>> 0;
  const lh_hi = mulhu32(alo, bhi) >>> 0;
  const hl_lo = Math.imul(ahi, blo) >>> 0;
  const hl_hi = mulhu32(ahi, blo) >>> 0;
  const hh_lo = Math.imul(ahi, bhi) >>> 0;
  const hh_hi = mulhu32(ahi, bhi) >>> 0;
  // Column 1 (bits 32..63): ll_hi + lh_lo + hl_lo -> carry into column 2.
  const c1 = ll_hi + lh_lo + hl_lo;
  const carry1 = Math.floor(c1 / 4294967296);
  // Column 2 (bits 64..95)
  const c2 = lh_hi + hl_hi + hh_lo + carry1;
  const carry2 = Math.floor(c2 / 4294967296);
  r.hi = (hh_hi + carry2) | 0;
  return c2 | 0;
}

/** High 64 bits of the signed x signed product. */
export function mulh64(alo: number, ahi: number, blo: number, bhi: number): number {
  let lo = mulhu64(alo, ahi, blo, bhi);
  let hi = r.hi;
  if (ahi < 0) {
    // subtract b
    const nlo = (lo - blo) | 0;
    hi = (hi - bhi - (lo >>> 0 < blo >>> 0 ? 1 : 0)) | 0;
    lo = nlo;
  }
  if (bhi < 0) {
    const nlo = (lo - alo) | 0;
    hi = (hi - ahi - (lo >>> 0 < alo >>> 0 ? 1 : 0)) | 0;
    lo = nlo;
  }
  r.hi = hi;
  return lo;
}

/** High 64 bits of signed a x unsigned b. */
export function mulhsu64(alo: number, ahi: number, blo: number, bhi: number): number {
  let lo = mulhu64(alo, ahi, blo, bhi);
  let hi = r.hi;
  if (ahi < 0) {
    const nlo = (lo - blo) | 0;
    hi = (hi - bhi - (lo >>> 0 < blo >>> 0 ? 1 : 0)) | 0;
    lo = nlo;
  }
  r.hi = hi;
  return lo;
}

const TWO32 = 4294967296;
const SAFE_HI = 0x200000; // |value| < 2^53 <=> -2^21 <= hi < 2^21

function toBig(lo: number, hi: number, signed: boolean): bigint {
  const v = (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
  return signed ? BigInt.asIntN(64, v) : v;
}
function fromBig(v: bigint): number {
  const u = BigInt.asUintN(64, v);
  r.hi = Number(u >> 32n) | 0;
  return Number(u & 0xffffffffn) | 0;
}
function fromNum(v: number): number {
  // v is an integer with |v| < 2^64 representable exactly; two's complement split.
  let hi = Math.floor(v / TWO32);
  const lo = v - hi * TWO32;
  hi = hi | 0;
  r.hi = hi;
  return lo | 0;
}

/** Signed 64-bit division with RISC-V semantics (x/0 = -1, MIN/-1 = MIN). */
export function div64(alo: number, ahi: number, blo: number, bhi: number): number {
  if ((blo | bhi) === 0) {
    r.hi = -1;
    return -1;
  }
  if (ahi >= -SAFE_HI && ahi < SAFE_HI && bhi >= -SAFE_HI && bhi < SAFE_HI) {
    const a = ahi * TWO32 + (alo >>> 0);
    const b = bhi * TWO32 + (blo >>> 0);
    return fromNum(Math.trunc(a / b));
  }
  if (ahi === -0x80000000 && alo === 0 && bhi === -1 && blo === -1) {
    r.hi = ahi;
    return 0;
  }
  return fromBig(toBig(alo, ahi, true) / toBig(blo, bhi, true));
}

/** Remainder of the last `divu32` (module scratch). */
let remOut = 0;
/** Unsigned 64 / 32-bit divisor by 16-bit long division (every step exact in doubles). */
function divu64by32(alo: number, ahi: number, b: number): number {
  let rem = 0;
  const d3 = Math.floor((rem * 65536 + (ahi >>> 16)) / b);
  rem = rem * 65536 + (ahi >>> 16) - d3 * b;
  const d2 = Math.floor((rem * 65536 + (ahi & 0xffff)) / b);
  rem = rem * 65536 + (ahi & 0xffff) - d2 * b;
  const d1 = Math.floor((rem * 65536 + (alo >>> 16)) / b);
  rem = rem * 65536 + (alo >>> 16) - d1 * b;
  const d0 = Math.floor((rem * 65536 + (alo & 0xffff)) / b);
  rem = rem * 65536 + (alo & 0xffff) - d0 * b;
  remOut = rem;
  r.hi = (d3 * 65536 + d2) | 0;
  return (d1 * 65536 + d0) | 0;
}

export function divu64(alo: number, ahi: number, blo: number, bhi: number): number {
  if ((blo | bhi) === 0) {
    r.hi = -1;
    return -1;
  }
  if (ahi >>> 0 < SAFE_HI && bhi >>> 0 < SAFE_HI) {
    const a = (ahi >>> 0) * TWO32 + (alo >>> 0);
    const b = (bhi >>> 0) * TWO32 + (blo >>> 0);
    return fromNum(Math.floor(a / b));
  }
  if (bhi === 0) return divu64by32(alo, ahi, blo >>> 0);
  return fromBig(toBig(alo, ahi, false) / toBig(blo, bhi, false));
}

export function rem64(alo: number, ahi: number, blo: number, bhi: number): number {
  if ((blo | bhi) === 0) {
    r.hi = ahi;
    return alo;
  }
  if (ahi >= -SAFE_HI && ahi < SAFE_HI && bhi >= -SAFE_HI && bhi < SAFE_HI) {
    const a = ahi * TWO32 + (alo >>> 0);
    const b = bhi * TWO32 + (blo >>> 0);
    const q = Math.trunc(a / b);
    return fromNum(a - q * b);
  }
  if (bhi === -1 && blo === -1) {
    r.hi = 0;
    return 0;
  }
  return fromBig(toBig(alo, ahi, true) % toBig(blo, bhi, true));
}

export function remu64(alo: number, ahi: number, blo: number, bhi: number): number {
  if ((blo | bhi) === 0) {
    r.hi = ahi;
    return alo;
  }
  if (ahi >>> 0 < SAFE_HI && bhi >>> 0 < SAFE_HI) {
    const a = (ahi >>> 0) * TWO32 + (alo >>> 0);
    const b = (bhi >>> 0) * TWO32 + (blo >>> 0);
    return fromNum(a - Math.floor(a / b) * b);
  }
  if (bhi === 0) {
    divu64by32(alo, ahi, blo >>> 0);
    r.hi = 0;
    return remOut | 0;
  }
  return fromBig(toBig(alo, ahi, false) % toBig(blo, bhi, false));
}

/** Count leading zeros of a 64-bit value. */
export function clz64(lo: number, hi: number): number {
  return hi !== 0 ? Math.clz32(hi) : 32 + Math.clz32(lo);
}
export function ctz32(v: number): number {
  return v === 0 ? 32 : 31 - Math.clz32(v & -v);
}
export function ctz64(lo: number, hi: number): number {
  return lo !== 0 ? ctz32(lo) : 32 + ctz32(hi);
}
export function popcnt32(v: number): number {
  v = v - ((v >>> 1) & 0x55555555);
  v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
  return (Math.imul((v + (v >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24) & 0xff;
}

/** Carry-less multiply: low 64 bits, high 64 bits in r.hi... returns all 128 bits via clmulOut. */
export const clmulOut = new Int32Array(4);
export function clmul(alo: number, ahi: number, blo: number, bhi: number): void {
  let r0 = 0,
    r1 = 0,
    r2 = 0,
    r3 = 0;
  for (let i = 0; i < 64; i++) {
    const bit = i < 32 ? (blo >>> i) & 1 : (bhi >>> (i - 32)) & 1;
    if (!bit) continue;
    // (ahi:alo) << i into the 128-bit accumulator
    if (i === 0) {
      r0 ^= alo;
      r1 ^= ahi;
    } else if (i < 32) {
      r0 ^= alo << i;
      r1 ^= (ahi << i) | (alo >>> (32 - i));
      r2 ^= ahi >>> (32 - i);
    } else if (i === 32) {
      r1 ^= alo;
      r2 ^= ahi;
    } else {
      const s = i - 32;
      r1 ^= alo << s;
      r2 ^= (ahi << s) | (alo >>> (32 - s));
      r3 ^= ahi >>> (32 - s);
    }
  }
  clmulOut[0] = r0;
  clmulOut[1] = r1;
  clmulOut[2] = r2;
  clmulOut[3] = r3;
}
