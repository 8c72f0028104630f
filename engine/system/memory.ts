/**
 * The memory API (QEMU's softmmu/memory.c): a tree of MemoryRegions rendered by an AddressSpace
 * into a flat, sorted list of ranges for fast lookup.
 *
 * Regions: RAM and ROM (backed by a RamBlock), MMIO ("i/o", device callbacks), ROM devices (read
 * like ROM in romd mode, writes go to callbacks), containers (subregions only) and aliases (a window
 * onto part of another region). Subregions have a priority; a higher priority hides lower ones where
 * they overlap, at equal priority the later-added one wins (as in QEMU's render_memory_region).
 *
 * Addresses are JS numbers. Guest physical addresses that matter are far below 2^53; region sizes of
 * 2^64 (the `system` container) are exact as doubles. Anything at or above 2^53 is never mapped.
 *
 * MMIO without allocation: `MemoryRegionOps.read(offset, size)` returns the value as an unsigned
 * number for 1/2/4-byte accesses. For an 8-byte access (only when `impl.maxAccessSize` is 8) it
 * returns the low 32 bits and stores the high 32 bits in `io64.hi`. `write(offset, value, size, hi)`
 * gets the low 32 bits in `value` and the high 32 bits in `hi` (0 for narrower accesses). With the
 * default `impl.maxAccessSize` of 4, 8-byte guest accesses are split into two 4-byte calls (low
 * address first), so most devices never deal with 64-bit values.
 *
 * Results: accesses return a MemTxResult; MEMTX_DECODE_ERROR for addresses no region claims and
 * for accesses the region's `valid` constraints reject. The RISC-V CPU turns any error into an
 * access fault, which is what QEMU does for unassigned memory on riscv.
 */
import { RamBlock, TARGET_PAGE_BITS } from './physmem.js';

export const MEMTX_OK = 0;
export const MEMTX_ERROR = 1;
export const MEMTX_DECODE_ERROR = 2;
export type MemTxResult = 0 | 1 | 2;

export interface AccessConstraints {
  minAccessSize?: number;
  maxAccessSize?: number;
  unaligned?: boolean;
}

export interface MemoryRegionOps {
  read(offset: number, size: number): number;
  write(offset: number, value: number, size: number, hi: number): void;
  /** What the guest may do; violating accesses fail with MEMTX_DECODE_ERROR. No maximum = any size; misaligned accesses fail unless `unaligned`. */
  valid?: AccessConstraints & { accepts?: (offset: number, size: number, isWrite: boolean) => boolean };
  /** What the callbacks implement; other sizes are split or widened. Default 1..4. */
  impl?: AccessConstraints;
}

/** High 32 bits of the last 8-byte MMIO read (see module comment). */
export const io64 = { hi: 0 };

export type RegionKind = 'container' | 'ram' | 'rom' | 'io' | 'romd' | 'alias';

let nextSeq = 0;

export class MemoryRegion {
  /** Object owning the region (a device); `info mtree -o` would print it. */
  owner: unknown = null;
  container: MemoryRegion | null = null;
  addr = 0;
  priority = 0;
  enabled = true;
  readonly = false;
  /** For ROM devices: reads come from RAM while true. */
  romdMode = true;
  readonly subregions: MemoryRegion[] = [];
  ops: MemoryRegionOps | null = null;
  ramBlock: RamBlock | null = null;
  alias: MemoryRegion | null = null;
  aliasOffset = 0;
  /** Insertion order among siblings: later wins at equal priority. */
  seq = nextSeq++;
  private listeners: AddressSpace[] = [];

  private constructor(
    readonly kind: RegionKind,
    readonly name: string,
    public size: number,
  ) {}

  static container(name: string, size: number): MemoryRegion {
    return new MemoryRegion('container', name, size);
  }
  static ram(name: string, size: number): MemoryRegion {
    const mr = new MemoryRegion('ram', name, size);
    mr.ramBlock = new RamBlock(name, size);
    return mr;
  }
  static rom(name: string, size: number): MemoryRegion {
    const mr = new MemoryRegion('rom', name, size);
    mr.ramBlock = new RamBlock(name, size);
    mr.readonly = true;
    return mr;
  }
  static io(name: string, size: number, ops: MemoryRegionOps): MemoryRegion {
    const mr = new MemoryRegion('io', name, size);
    mr.ops = ops;
    return mr;
  }
  /** memory_region_init_rom_device: RAM-backed reads (romd mode), writes to `ops`. */
  static romDevice(name: string, size: number, ops: MemoryRegionOps): MemoryRegion {
    const mr = new MemoryRegion('romd', name, size);
    mr.ramBlock = new RamBlock(name, size);
    mr.ops = ops;
    return mr;
  }
  static alias(name: string, target: MemoryRegion, offset: number, size: number): MemoryRegion {
    const mr = new MemoryRegion('alias', name, size);
    mr.alias = target;
    mr.aliasOffset = offset;
    return mr;
  }

  addSubregion(offset: number, sub: MemoryRegion): void {
    this.addSubregionOverlap(offset, sub, 0);
  }

  addSubregionOverlap(offset: number, sub: MemoryRegion, priority: number): void {
    if (sub.container) throw new Error(`memory region ${sub.name} already has a container`);
    sub.container = this;
    sub.addr = offset;
    sub.priority = priority;
    sub.seq = nextSeq++;
    this.subregions.push(sub);
    this.changed();
  }

  delSubregion(sub: MemoryRegion): void {
    const i = this.subregions.indexOf(sub);
    if (i < 0) return;
    this.subregions.splice(i, 1);
    sub.container = null;
    this.changed();
  }

  setEnabled(enabled: boolean): void {
    if (this.enabled === enabled) return;
    this.enabled = enabled;
    this.changed();
  }
  setAddress(addr: number): void {
    if (this.addr === addr) return;
    this.addr = addr;
    this.changed();
  }
  setAliasOffset(offset: number): void {
    this.aliasOffset = offset;
    this.changed();
  }
  setReadonly(ro: boolean): void {
    this.readonly = ro;
    this.changed();
  }
  setRomdMode(on: boolean): void {
    this.romdMode = on;
    this.changed();
  }
  setSize(size: number): void {
    this.size = size;
    this.changed();
  }

  /** QEMU's memory_region_type(), used by `info mtree`. */
  typeName(): string {
    if (this.alias) return this.alias.typeName();
    if (this.kind === 'romd') return this.romdMode ? 'romd' : 'i/o';
    if (this.ramBlock) return this.readonly ? 'rom' : 'ram';
    return 'i/o';
  }

  /** Host view of a RAM-backed region (loaders use it). */
  get hostBlock(): RamBlock | null {
    return this.ramBlock;
  }

  /** @internal */
  attach(as: AddressSpace): void {
    if (!this.listeners.includes(as)) this.listeners.push(as);
  }

  private changed(): void {
    // Walk up: every address space whose root contains this region must re-render.
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- a walk that starts at this region
    for (let r: MemoryRegion | null = this; r; r = r.container) for (const as of r.listeners) as.invalidate();
    // Aliases pointing into us are found through the global list of address spaces.
    for (const as of allAddressSpaces) as.invalidate();
  }
}

/** One piece of the flattened view: [start, end) maps to `mr` at `offset`. */
export class FlatRange {
  constructor(
    readonly start: number,
    readonly end: number,
    readonly mr: MemoryRegion,
    /** Offset inside `mr` of `start`. */
    readonly offset: number,
    readonly readonly: boolean,
  ) {}
  /** RAM-backed for reads (RAM, ROM, ROM device in romd mode). */
  get ramBlock(): RamBlock | null {
    return this.mr.kind === 'romd' && !this.mr.romdMode ? null : this.mr.ramBlock;
  }
}

const allAddressSpaces: AddressSpace[] = [];

export class AddressSpace {
  private ranges: FlatRange[] | null = null;
  private starts: Float64Array = new Float64Array(0);
  private last: FlatRange | null = null;
  private readonly changeListeners: Array<() => void> = [];
  /** High word of the last 8-byte `read`. */
  hi = 0;
  /** Result of the last `read`. */
  result: MemTxResult = MEMTX_OK;

  constructor(
    readonly root: MemoryRegion,
    readonly name: string,
  ) {
    root.attach(this);
    allAddressSpaces.push(this);
  }

  /** Stop tracking (tests create many address spaces). */
  destroy(): void {
    const i = allAddressSpaces.indexOf(this);
    if (i >= 0) allAddressSpaces.splice(i, 1);
  }

  /** Called on any topology change; CPUs flush their TLBs here. */
  onChange(fn: () => void): void {
    this.changeListeners.push(fn);
  }

  invalidate(): void {
    if (this.ranges === null) return;
    this.ranges = null;
    this.last = null;
    for (const fn of this.changeListeners) fn();
  }

  /** The flattened view (rendered on demand). */
  flatView(): readonly FlatRange[] {
    if (this.ranges === null) this.render();
    return this.ranges!;
  }

  private render(): void {
    const out: FlatRange[] = [];
    renderRegion(this.root, 0, 0, Number.POSITIVE_INFINITY, false, out);
    out.sort((a, b) => a.start - b.start);
    this.ranges = out;
    this.starts = Float64Array.from(out, (r) => r.start);
  }

  /** The flat range containing `addr`, or null if nothing is mapped there. */
  lookup(addr: number): FlatRange | null {
    const l = this.last;
    if (l !== null && addr >= l.start && addr < l.end) return l;
    if (this.ranges === null) this.render();
    const starts = this.starts;
    let lo = 0;
    let hi = starts.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (starts[mid] <= addr) lo = mid + 1;
      else hi = mid - 1;
    }
    if (hi < 0) return null;
    const r = this.ranges![hi];
    if (addr >= r.end) return null;
    this.last = r;
    return r;
  }

  /**
   * Read `size` (1, 2, 4, 8) bytes at `addr`. Returns the value (low 32 bits for size 8; high bits in
   * `this.hi`); `this.result` tells whether it worked. Unsigned results.
   */
  read(addr: number, size: number): number {
    this.hi = 0;
    const r = this.lookup(addr);
    if (r === null || addr + size > r.end) {
      if (r !== null && size > 1) return this.readSplit(addr, size);
      this.result = MEMTX_DECODE_ERROR;
      return 0;
    }
    const off = addr - r.start + r.offset;
    const blk = r.ramBlock;
    this.result = MEMTX_OK;
    if (blk !== null) {
      const u8 = blk.u8;
      if (size === 1) return u8[off];
      if (size === 2) return u8[off] | (u8[off + 1] << 8);
      const lo = (u8[off] | (u8[off + 1] << 8) | (u8[off + 2] << 16) | (u8[off + 3] << 24)) >>> 0;
      if (size === 8)
        this.hi = (u8[off + 4] | (u8[off + 5] << 8) | (u8[off + 6] << 16) | (u8[off + 7] << 24)) >>> 0;
      return lo;
    }
    const v = dispatchRead(r.mr, off, size);
    if (v < 0) {
      this.result = MEMTX_DECODE_ERROR;
      return 0;
    }
    this.hi = io64.hi;
    return v;
  }

  /** An access straddling two flat ranges: do it byte by byte. */
  private readSplit(addr: number, size: number): number {
    let lo = 0;
    let hi = 0;
    for (let i = 0; i < size; i++) {
      const b = this.read(addr + i, 1);
      if (this.result !== MEMTX_OK) return 0;
      if (i < 4) lo |= b << (8 * i);
      else hi |= b << (8 * (i - 4));
    }
    this.hi = hi >>> 0;
    this.result = MEMTX_OK;
    return lo >>> 0;
  }

  /** Write `size` bytes: `value` holds the low 32 bits, `hi` the high 32 bits of an 8-byte write. */
  write(addr: number, size: number, value: number, hi = 0): MemTxResult {
    const r = this.lookup(addr);
    if (r === null || addr + size > r.end) {
      if (r !== null && size > 1) {
        for (let i = 0; i < size; i++) {
          const b = i < 4 ? value >>> (8 * i) : hi >>> (8 * (i - 4));
          const res = this.write(addr + i, 1, b & 0xff, 0);
          if (res !== MEMTX_OK) return res;
        }
        return MEMTX_OK;
      }
      return MEMTX_DECODE_ERROR;
    }
    const off = addr - r.start + r.offset;
    const mr = r.mr;
    if (mr.ramBlock !== null && mr.kind !== 'romd') {
      if (r.readonly) return MEMTX_OK; // writes to ROM are dropped
      const blk = mr.ramBlock;
      const u8 = blk.u8;
      for (let i = 0; i < size; i++) u8[off + i] = i < 4 ? value >>> (8 * i) : hi >>> (8 * (i - 4));
      if (blk.onCodeWrite !== null) blk.notifyWrite(off, size);
      return MEMTX_OK;
    }
    return dispatchWrite(mr, off, size, value, hi);
  }

  /** Copy bytes out of guest memory (RAM/ROM only or byte-wise MMIO). Returns false on a fault. */
  readBytes(addr: number, out: Uint8Array): boolean {
    for (let i = 0; i < out.length;) {
      const r = this.lookup(addr + i);
      if (r === null) return false;
      const blk = r.ramBlock;
      if (blk !== null) {
        const n = Math.min(out.length - i, r.end - (addr + i));
        const off = addr + i - r.start + r.offset;
        out.set(blk.u8.subarray(off, off + n), i);
        i += n;
      } else {
        out[i] = this.read(addr + i, 1);
        if (this.result !== MEMTX_OK) return false;
        i++;
      }
    }
    return true;
  }

  /** Copy bytes into guest memory, RAM and ROM alike (like QEMU's rom loader); false on a fault. */
  writeBytes(addr: number, data: Uint8Array, intoRom = true): boolean {
    for (let i = 0; i < data.length;) {
      const r = this.lookup(addr + i);
      if (r === null) return false;
      const blk = r.mr.ramBlock;
      if (blk !== null && (intoRom || !r.readonly)) {
        const n = Math.min(data.length - i, r.end - (addr + i));
        const off = addr + i - r.start + r.offset;
        blk.write(off, data.subarray(i, i + n));
        i += n;
      } else {
        if (this.write(addr + i, 1, data[i]) !== MEMTX_OK) return false;
        i++;
      }
    }
    return true;
  }
}

/** Collect the visible terminal ranges of `mr` placed at `base`, clipped to [clipStart, clipEnd). */
function renderRegion(
  mr: MemoryRegion,
  base: number,
  clipStart: number,
  clipEnd: number,
  readonly: boolean,
  out: FlatRange[],
): void {
  if (!mr.enabled) return;
  const start = Math.max(base, clipStart);
  const end = Math.min(base + mr.size, clipEnd);
  if (start >= end) return;
  readonly = readonly || mr.readonly;
  if (mr.alias) {
    // The alias shows the target's [aliasOffset, aliasOffset+size) at `base`.
    const delta = base - mr.aliasOffset;
    renderRegion(mr.alias, delta, start, end, readonly, out);
    return;
  }
  if (mr.kind === 'container') {
    // Highest priority first, later-added first at equal priority; each takes only the holes left.
    const subs = [...mr.subregions].sort((a, b) => b.priority - a.priority || b.seq - a.seq);
    for (const sub of subs) {
      const holes = gaps(out, base + sub.addr, base + sub.addr + sub.size, start, end);
      for (const [hs, he] of holes) renderRegion(sub, base + sub.addr, hs, he, readonly, out);
    }
    return;
  }
  // Terminal region: fill whatever is still free in [start, end).
  for (const [hs, he] of gaps(out, start, end, start, end)) {
    out.push(new FlatRange(hs, he, mr, hs - base, readonly));
  }
}

/** Parts of [s, e) ∩ [clipS, clipE) not yet covered by `taken`. */
function gaps(
  taken: FlatRange[],
  s: number,
  e: number,
  clipS: number,
  clipE: number,
): Array<[number, number]> {
  let segs: Array<[number, number]> = [[Math.max(s, clipS), Math.min(e, clipE)]];
  if (segs[0][0] >= segs[0][1]) return [];
  for (const t of taken) {
    const next: Array<[number, number]> = [];
    for (const [a, b] of segs) {
      if (t.end <= a || t.start >= b) next.push([a, b]);
      else {
        if (t.start > a) next.push([a, t.start]);
        if (t.end < b) next.push([t.end, b]);
      }
    }
    segs = next;
    if (segs.length === 0) break;
  }
  return segs;
}

function implMax(ops: MemoryRegionOps): number {
  return ops.impl?.maxAccessSize ?? 4;
}
function implMin(ops: MemoryRegionOps): number {
  return ops.impl?.minAccessSize ?? 1;
}

/** QEMU's memory_region_access_valid(). */
export function accessValid(mr: MemoryRegion, offset: number, size: number, isWrite: boolean): boolean {
  const ops = mr.ops;
  if (ops === null) return false;
  const v = ops.valid;
  if (v?.accepts && !v.accepts(offset, size, isWrite)) return false;
  if (!v?.unaligned && offset & (size - 1)) return false;
  // A zero/absent maximum means "any size" (QEMU's compatibility rule).
  if (!v?.maxAccessSize) return true;
  return size <= v.maxAccessSize && size >= (v.minAccessSize ?? 1);
}

/** Read through MMIO callbacks with size adjustment; -1 when the access is invalid. */
function dispatchRead(mr: MemoryRegion, off: number, size: number): number {
  if (!accessValid(mr, off, size, false)) return -1;
  const ops = mr.ops!;
  const max = implMax(ops);
  const min = implMin(ops);
  io64.hi = 0;
  if (size >= min && size <= max) {
    const v = ops.read(off, size);
    return size === 8 ? v >>> 0 : size === 4 ? v >>> 0 : v & ((1 << (8 * size)) - 1);
  }
  if (size < min) {
    // Widen: read the aligned wider unit and extract our bytes.
    const base = off & ~(min - 1);
    const v = ops.read(base, min);
    const hiw = io64.hi;
    const sh = (off - base) * 8;
    io64.hi = 0;
    const word = sh >= 32 ? hiw >>> (sh - 32) : v >>> sh;
    return size === 4 ? word >>> 0 : word & ((1 << (8 * size)) - 1);
  }
  // Split into `max`-sized pieces, little-endian.
  let lo = 0;
  let hi = 0;
  for (let i = 0; i < size; i += max) {
    const v = ops.read(off + i, max) >>> 0;
    if (max === 4) {
      if (i === 0) lo = v;
      else hi = v;
    } else {
      const sh = 8 * i;
      if (sh < 32) lo |= (v & ((1 << (8 * max)) - 1)) << sh;
      else hi |= (v & ((1 << (8 * max)) - 1)) << (sh - 32);
    }
  }
  io64.hi = hi >>> 0;
  return lo >>> 0;
}

function dispatchWrite(mr: MemoryRegion, off: number, size: number, value: number, hi: number): MemTxResult {
  if (!accessValid(mr, off, size, true)) return MEMTX_DECODE_ERROR;
  const ops = mr.ops!;
  const max = implMax(ops);
  const min = implMin(ops);
  if (size >= min && size <= max) {
    ops.write(
      off,
      size === 4 || size === 8 ? value >>> 0 : value & ((1 << (8 * size)) - 1),
      size,
      size === 8 ? hi >>> 0 : 0,
    );
    return MEMTX_OK;
  }
  if (size < min) {
    // QEMU widens the access and shifts the value into place (other bytes written as zero).
    const base = off & ~(min - 1);
    const sh = (off - base) * 8;
    const v = value & (size === 4 ? -1 : (1 << (8 * size)) - 1);
    if (sh >= 32) ops.write(base, 0, min, (v << (sh - 32)) >>> 0);
    else ops.write(base, (v << sh) >>> 0, min, sh > 0 && min === 8 ? v >>> (32 - sh) : 0);
    return MEMTX_OK;
  }
  for (let i = 0; i < size; i += max) {
    const sh = 8 * i;
    const w = sh < 32 ? value >>> sh : hi >>> (sh - 32);
    ops.write(off + i, max === 4 ? w >>> 0 : w & ((1 << (8 * max)) - 1), max, 0);
  }
  return MEMTX_OK;
}

// ---------------------------------------------------------------------------------------------
// info mtree

function hex16(n: number): string {
  return BigInt(n).toString(16).padStart(16, '0');
}

/** Last address of a region of `size` bytes at `start` (QEMU's MR_SIZE: size - 1, or 0 if empty). */
function lastAddr(start: number, size: number): string {
  if (size === 0) return hex16(start);
  return (BigInt(start) + BigInt(size) - 1n).toString(16).padStart(16, '0');
}

function printRegion(
  mr: MemoryRegion,
  level: number,
  base: number,
  aliasQueue: MemoryRegion[],
  out: string[],
): void {
  const start = base + mr.addr;
  const indent = '  '.repeat(level);
  if (mr.alias) {
    if (!aliasQueue.includes(mr.alias)) aliasQueue.push(mr.alias);
    out.push(
      `${indent}${hex16(start)}-${lastAddr(start, mr.size)} (prio ${mr.priority}, ${mr.typeName()}): alias ${mr.name} @${mr.alias.name} ` +
        `${hex16(mr.aliasOffset)}-${lastAddr(mr.aliasOffset, mr.size)}${mr.enabled ? '' : ' [disabled]'}`,
    );
  } else {
    out.push(
      `${indent}${hex16(start)}-${lastAddr(start, mr.size)} (prio ${mr.priority}, ${mr.typeName()}): ${mr.name}${mr.enabled ? '' : ' [disabled]'}`,
    );
  }
  // Sorted by address, higher priority first at the same address; stable otherwise.
  const subs = [...mr.subregions].sort((a, b) => a.addr - b.addr || b.priority - a.priority || a.seq - b.seq);
  for (const sub of subs) printRegion(sub, level + 1, start, aliasQueue, out);
}

/**
 * `info mtree` text for a set of address spaces (in QEMU's layout): address spaces sharing a root are
 * listed together (sorted by name), then every alias target as a `memory-region:` section.
 */
export function formatMtree(spaces: readonly AddressSpace[]): string {
  const out: string[] = [];
  const aliasQueue: MemoryRegion[] = [];
  const byRoot = new Map<MemoryRegion, AddressSpace[]>();
  for (const as of spaces) {
    const l = byRoot.get(as.root) ?? [];
    l.push(as);
    byRoot.set(as.root, l);
  }
  for (const [root, list] of byRoot) {
    list.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const as of list) out.push(`address-space: ${as.name}`);
    printRegion(root, 1, 0, aliasQueue, out);
    out.push('');
  }
  for (let i = 0; i < aliasQueue.length; i++) {
    const mr = aliasQueue[i];
    out.push(`memory-region: ${mr.name}`);
    printRegion(mr, 1, 0, aliasQueue, out);
    out.push('');
  }
  return out.join('\n') + '\n';
}

export { TARGET_PAGE_BITS };
