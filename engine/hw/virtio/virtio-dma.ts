/**
 * Guest memory as virtio devices see it (QEMU's dma_memory_map / address_space_cache): every access a
 * device makes on the guest's behalf goes through the transport's AddressSpace, and only RAM can be
 * mapped. A mapping is a list of Uint8Array views bounded by the RAM block they live in, so a device
 * can never read or write host memory outside the guest's RAM, whatever addresses the guest hands it.
 * Writes tell the RAM block, so CPU code caches covering those pages are dropped (QEMU marks the
 * pages dirty when it unmaps).
 */
import type { AddressSpace } from '../../system/memory.js';
import type { RamBlock } from '../../system/physmem.js';

/** One contiguous piece of guest RAM: `view` covers guest [addr, addr + view.length). */
export interface DmaSegment {
  readonly addr: number;
  readonly view: Uint8Array;
  readonly block: RamBlock;
  /** Offset of `view` in `block`. */
  readonly offset: number;
}

/** Largest guest physical address we accept (addresses above are never mapped). */
const ADDR_LIMIT = 2 ** 53;

/**
 * Map guest [addr, addr + len) for device access; null when any byte is not RAM (or, for
 * `isWrite`, is read-only). Splits at flat-range boundaries; `maxSegments` bounds the split.
 */
export function dmaMap(
  as: AddressSpace,
  addr: number,
  len: number,
  isWrite: boolean,
  maxSegments = Infinity,
): DmaSegment[] | null {
  if (!Number.isFinite(addr) || !Number.isFinite(len) || addr < 0 || len < 0) return null;
  if (addr + len > ADDR_LIMIT) return null;
  const out: DmaSegment[] = [];
  let a = addr;
  let left = len;
  while (left > 0) {
    if (out.length >= maxSegments) return null;
    const r = as.lookup(a);
    if (r === null) return null;
    const blk = r.ramBlock;
    if (blk === null || r.mr.ramBlock !== blk) return null;
    if (isWrite && (r.readonly || r.mr.kind === 'romd')) return null;
    const off = a - r.start + r.offset;
    const n = Math.min(left, r.end - a, blk.size - off);
    if (n <= 0 || off < 0) return null;
    out.push({ addr: a, view: blk.u8.subarray(off, off + n), block: blk, offset: off });
    a += n;
    left -= n;
  }
  return out;
}

/** A single contiguous RAM mapping (rings and indirect tables must not be split). */
export function dmaMapContiguous(
  as: AddressSpace,
  addr: number,
  len: number,
  isWrite: boolean,
): DmaSegment | null {
  const segs = dmaMap(as, addr, len, isWrite, 1);
  if (segs === null) return null;
  if (segs.length === 0) return null;
  return segs[0]!;
}

/** Tell the RAM block that the device wrote [at, at + n) of `seg` (code caches, like dirty marking). */
export function dmaWritten(seg: DmaSegment, at: number, n: number): void {
  if (n > 0 && seg.block.onCodeWrite !== null) seg.block.notifyWrite(seg.offset + at, n);
}

/** Total bytes of a scatter-gather list (iov_size). */
export function iovSize(sg: readonly DmaSegment[]): number {
  let n = 0;
  for (const s of sg) n += s.view.length;
  return n;
}

/** Copy up to `out.length` bytes starting at `offset` of the list into `out` (iov_to_buf); returns the count. */
export function iovToBuf(sg: readonly DmaSegment[], offset: number, out: Uint8Array): number {
  let done = 0;
  let skip = offset;
  for (const s of sg) {
    if (done >= out.length) break;
    const v = s.view;
    if (skip >= v.length) {
      skip -= v.length;
      continue;
    }
    const n = Math.min(v.length - skip, out.length - done);
    out.set(v.subarray(skip, skip + n), done);
    done += n;
    skip = 0;
  }
  return done;
}

/** Copy `data` into the list starting at `offset` (iov_from_buf); returns the count written. */
export function iovFromBuf(sg: readonly DmaSegment[], offset: number, data: Uint8Array): number {
  let done = 0;
  let skip = offset;
  for (const s of sg) {
    if (done >= data.length) break;
    const v = s.view;
    if (skip >= v.length) {
      skip -= v.length;
      continue;
    }
    const n = Math.min(v.length - skip, data.length - done);
    v.set(data.subarray(done, done + n), skip);
    dmaWritten(s, skip, n);
    done += n;
    skip = 0;
  }
  return done;
}

/** The list without its first `n` bytes (iov_discard_front), as new segments (views are shared). */
export function iovDiscardFront(sg: readonly DmaSegment[], n: number): DmaSegment[] {
  const out: DmaSegment[] = [];
  let skip = n;
  for (const s of sg) {
    if (skip >= s.view.length) {
      skip -= s.view.length;
      continue;
    }
    out.push(skip ? sliceSeg(s, skip, s.view.length) : s);
    skip = 0;
  }
  return out;
}

/** The list without its last `n` bytes (iov_discard_back). */
export function iovDiscardBack(sg: readonly DmaSegment[], n: number): DmaSegment[] {
  const out = [...sg];
  let cut = n;
  while (cut > 0 && out.length) {
    const last = out[out.length - 1]!;
    if (cut >= last.view.length) {
      cut -= last.view.length;
      out.pop();
    } else {
      out[out.length - 1] = sliceSeg(last, 0, last.view.length - cut);
      cut = 0;
    }
  }
  return out;
}

function sliceSeg(s: DmaSegment, from: number, to: number): DmaSegment {
  return { addr: s.addr + from, view: s.view.subarray(from, to), block: s.block, offset: s.offset + from };
}
