/**
 * 64-bit big-endian table entries (L1, L2, refcount table) as two 32-bit halves, so the hot paths
 * stay on plain numbers: every offset we accept is below 2^53.
 */
export const OFLAG_COPIED_HI = 0x80000000;
export const OFLAG_COMPRESSED_HI = 0x40000000;
export const OFLAG_ZERO_LO = 1;

export function entryHi(t: Uint8Array, i: number): number {
  const o = i * 8;
  return ((t[o]! << 24) | (t[o + 1]! << 16) | (t[o + 2]! << 8) | t[o + 3]!) >>> 0;
}

export function entryLo(t: Uint8Array, i: number): number {
  const o = i * 8 + 4;
  return ((t[o]! << 24) | (t[o + 1]! << 16) | (t[o + 2]! << 8) | t[o + 3]!) >>> 0;
}

export function setEntry(t: Uint8Array, i: number, hi: number, lo: number): void {
  const o = i * 8;
  t[o] = hi >>> 24;
  t[o + 1] = (hi >>> 16) & 0xff;
  t[o + 2] = (hi >>> 8) & 0xff;
  t[o + 3] = hi & 0xff;
  t[o + 4] = lo >>> 24;
  t[o + 5] = (lo >>> 16) & 0xff;
  t[o + 6] = (lo >>> 8) & 0xff;
  t[o + 7] = lo & 0xff;
}

/** Bits 9..55: the host offset of an L1 entry or a standard L2 entry. */
export function entryOffset(t: Uint8Array, i: number): number {
  return (entryHi(t, i) & 0x00ffffff) * 0x100000000 + ((entryLo(t, i) & 0xfffffe00) >>> 0);
}

/** Set an entry to `offset` with flag bits (COPIED/COMPRESSED in hi, ZERO in lo). */
export function setEntryOffset(t: Uint8Array, i: number, offset: number, hiFlags = 0, loFlags = 0): void {
  setEntry(t, i, (Math.floor(offset / 0x100000000) | hiFlags) >>> 0, ((offset >>> 0) | loFlags) >>> 0);
}

export function entryIsZero(t: Uint8Array, i: number): boolean {
  return entryHi(t, i) === 0 && entryLo(t, i) === 0;
}

/** Full 64-bit value (for compressed descriptors and messages). */
export function entryBig(t: Uint8Array, i: number): bigint {
  return (BigInt(entryHi(t, i)) << 32n) | BigInt(entryLo(t, i));
}

export const hex = (n: number | bigint): string => '0x' + n.toString(16);
