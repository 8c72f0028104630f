/**
 * The qcow2 format driver (QEMU's block/qcow2.c and qcow2-cluster.c): two-level L1/L2 mapping from
 * guest clusters to host clusters, copy-on-write against the backing file and internal snapshots,
 * zero clusters (v3), compressed clusters (deflate), and the refcounts of qcow2-refcount.ts.
 *
 * Metadata is written through (no dirty caches; lazy refcounts are off), in the order that keeps
 * the image consistent if the process dies between any two writes:
 *   refcount of a new cluster -> its contents (guest data, or a new L2 table) -> the L2 entry
 *   (or L1 entry) pointing at it -> refcount drops of whatever the entry pointed at before.
 * A crash can leak clusters (qemu-img check reports leaks) but never leaves a reference to a
 * cluster whose refcount does not count it. Guest flushes reach the disk with fdatasync.
 */
import { inflateRawSync } from 'node:zlib';
import { QapiError } from '../qapi/error.js';
import { qdict, type QDict } from '../qobject/qobject.js';
import { AioRwLock } from './aio-lock.js';
import { BlockIoError } from './block-error.js';
import type { BlockStatus, NodeDriver } from './block-driver.js';
import { blockWarn } from './block-warn.js';
import {
  COMPAT_LAZY_REFCOUNTS,
  INCOMPAT_CORRUPT,
  INCOMPAT_DIRTY,
  MAX_CLUSTER_BITS,
  MIN_CLUSTER_BITS,
  QCOW_MAGIC,
  parseQcow2Header,
  type Qcow2Header,
} from './qcow2-header.js';
import { Qcow2Refcounts, type RefcountHost } from './qcow2-refcount.js';
import { readSnapshotTable, type Qcow2Snapshot } from './qcow2-snapshot-table.js';
import {
  OFLAG_COMPRESSED_HI,
  OFLAG_COPIED_HI,
  OFLAG_ZERO_LO,
  entryBig,
  entryHi,
  entryLo,
  entryOffset,
  hex,
  setEntry,
  setEntryOffset,
} from './qcow2-table.js';

/** What one guest cluster maps to. */
export type ClusterKind = 'unallocated' | 'zero' | 'normal' | 'compressed';

export interface ClusterMapping {
  kind: ClusterKind;
  /** Host offset of the cluster (normal, zero-allocated) or of the compressed data. */
  host: number;
  /** COPIED flag: the cluster's refcount is 1, writable in place. */
  copied: boolean;
  /** Compressed: bytes of compressed data at `host` (sector-rounded as stored). */
  compressedBytes: number;
}

/** Read-side view of the backing node, set by the block graph after open. */
export interface BackingReader {
  getLength(): number;
  pread(offset: number, buf: Uint8Array): Promise<void>;
}

export interface Qcow2OpenOptions {
  readOnly: boolean;
}

export class Qcow2Driver implements NodeDriver, RefcountHost {
  readonly format = 'qcow2';
  header!: Qcow2Header;
  clusterBits = 16;
  clusterSize = 65536;
  /** Entries per L2 table. */
  l2Size = 8192;
  l1Size = 0;
  l1Offset = 0;
  l1!: Uint8Array;
  rc!: Qcow2Refcounts;
  snapshots: Qcow2Snapshot[] = [];
  backing: BackingReader | null = null;
  readonly lock = new AioRwLock();
  private readonly l2Cache = new Map<number, Uint8Array>();
  private l2CacheMax = 64;
  private lastCompressed: { host: number; data: Uint8Array } | null = null;
  /** A fatal corruption was found: the node refuses further I/O (QEMU drops the driver). */
  private broken = false;
  private corruptionReported = false;
  /** Next free byte for packing compressed clusters (qcow2_alloc_bytes()), or 0. */
  compressedTail = 0;

  private constructor(
    readonly file: NodeDriver,
    readonly readOnly: boolean,
  ) {}

  static async open(file: NodeDriver, o: Qcow2OpenOptions): Promise<Qcow2Driver> {
    const d = new Qcow2Driver(file, o.readOnly);
    await d.load();
    return d;
  }

  private async load(): Promise<void> {
    const head = new Uint8Array(512);
    await this.file.pread(0, head);
    const hv = new DataView(head.buffer);
    let bits = hv.getUint32(20);
    if (hv.getUint32(0) !== QCOW_MAGIC || bits < MIN_CLUSTER_BITS || bits > MAX_CLUSTER_BITS) bits = 9;
    const cluster0 = new Uint8Array(2 ** bits);
    await this.file.pread(0, cluster0);
    const h = parseQcow2Header(cluster0);
    if (!this.readOnly && h.incompatibleFeatures & BigInt(INCOMPAT_CORRUPT)) {
      throw new QapiError('qcow2: Image is corrupt; cannot be opened read/write');
    }
    this.header = h;
    this.clusterBits = h.clusterBits;
    this.clusterSize = 2 ** h.clusterBits;
    this.l2Size = this.clusterSize / 8;
    this.l2CacheMax = Math.max(16, Math.floor((32 * 1024 * 1024) / this.clusterSize));
    this.l1Size = h.l1Size;
    this.l1Offset = h.l1TableOffset;
    this.l1 = new Uint8Array(h.l1Size * 8);
    await this.file.pread(h.l1TableOffset, this.l1);
    this.rc = new Qcow2Refcounts(this, h.refcountOrder);
    await this.rc.load(h.refcountTableOffset, h.refcountTableClusters);
    this.snapshots = await readSnapshotTable(this.file, h, this.clusterSize);
    if (!this.readOnly) {
      // Autoclear features we do not maintain (persistent bitmaps) become invalid once we write.
      if (h.autoclearFeatures !== 0n) {
        h.autoclearFeatures = 0n;
        await this.writeHeaderU64(88, 0n);
      }
      if (h.incompatibleFeatures & BigInt(INCOMPAT_DIRTY)) {
        // Only lazy refcounts leave the dirty bit set; their refcounts must be rebuilt.
        const { qcow2Check } = await import('./qcow2-check.js');
        await qcow2Check(this, 'all');
        h.incompatibleFeatures &= ~BigInt(INCOMPAT_DIRTY);
        await this.writeHeaderU64(72, h.incompatibleFeatures);
        await this.file.flush();
      }
    }
  }

  // ---- NodeDriver --------------------------------------------------------------------------

  getLength(): number {
    return this.header.size;
  }

  clusterSizeInfo(): number {
    return this.clusterSize;
  }

  async pread(offset: number, buf: Uint8Array): Promise<void> {
    this.checkUsable();
    await this.lock.read(() => this.readLocked(offset, buf));
  }

  async pwrite(offset: number, buf: Uint8Array): Promise<void> {
    this.checkWritable();
    await this.lock.write(() => this.writeLocked(offset, buf));
  }

  async pwriteZeroes(offset: number, bytes: number, _mayUnmap: boolean): Promise<void> {
    this.checkWritable();
    await this.lock.write(() => this.zeroLocked(offset, bytes, 'zero'));
  }

  async pdiscard(offset: number, bytes: number): Promise<void> {
    this.checkWritable();
    await this.lock.write(() => this.zeroLocked(offset, bytes, 'discard'));
  }

  async flush(): Promise<void> {
    if (this.readOnly) return;
    await this.file.flush();
  }

  async close(): Promise<void> {
    if (!this.readOnly && !this.broken) await this.file.flush().catch(() => undefined);
  }

  async blockStatus(offset: number, bytes: number): Promise<BlockStatus> {
    this.checkUsable();
    return this.lock.read(async () => {
      const first = await this.lookup(offset);
      const st = (m: ClusterMapping): BlockStatus => ({
        bytes: 0,
        allocated: m.kind !== 'unallocated',
        zero: m.kind === 'zero' || (m.kind === 'unallocated' && !this.backing),
      });
      const want = st(first);
      let done = Math.min(bytes, this.clusterSize - (offset % this.clusterSize));
      while (done < bytes) {
        const s = st(await this.lookup(offset + done));
        if (s.allocated !== want.allocated || s.zero !== want.zero) break;
        done = Math.min(bytes, done + this.clusterSize);
      }
      want.bytes = done;
      return want;
    });
  }

  async allocatedFileSize(): Promise<number> {
    return this.file.allocatedFileSize ? this.file.allocatedFileSize() : this.file.getLength();
  }

  formatSpecific(): QDict {
    const h = this.header;
    const data = qdict({ compat: h.version === 3 ? '1.1' : '0.10', 'compression-type': 'zlib' });
    if (h.version === 3)
      data['lazy-refcounts'] = (h.compatibleFeatures & BigInt(COMPAT_LAZY_REFCOUNTS)) !== 0n;
    data['refcount-bits'] = 2 ** h.refcountOrder;
    if (h.version === 3) {
      data['corrupt'] = (h.incompatibleFeatures & BigInt(INCOMPAT_CORRUPT)) !== 0n;
      data['extended-l2'] = false;
    }
    return qdict({ type: 'qcow2', data });
  }

  dirtyFlag(): boolean {
    return (this.header.incompatibleFeatures & BigInt(INCOMPAT_DIRTY)) !== 0n;
  }

  // ---- errors ------------------------------------------------------------------------------

  private checkUsable(): void {
    if (this.broken) throw new BlockIoError('ENOMEDIUM');
  }

  private checkWritable(): void {
    this.checkUsable();
    if (this.readOnly) throw new BlockIoError('EPERM');
  }

  /** qcow2_signal_corruption(): report once, mark the image corrupt on disk when writable. */
  corruption(message: string): Error {
    if (!this.corruptionReported) {
      this.corruptionReported = true;
      blockWarn(
        this.readOnly
          ? `qcow2: Image is corrupt: ${message}; further non-fatal corruption events will be suppressed`
          : `qcow2: Marking image as corrupt: ${message}; further corruption events will be suppressed`,
      );
    }
    if (!this.readOnly && !this.broken) {
      this.broken = true;
      this.header.incompatibleFeatures |= BigInt(INCOMPAT_CORRUPT);
      if (this.header.version === 3)
        void this.writeHeaderU64(72, this.header.incompatibleFeatures).catch(() => {});
    }
    return new BlockIoError('EIO', message);
  }

  // ---- header ------------------------------------------------------------------------------

  async writeHeaderU64(off: number, v: bigint): Promise<void> {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setBigUint64(0, v);
    await this.file.pwrite(off, b);
  }

  async writeRefcountTableHeader(offset: number, clusters: number): Promise<void> {
    const b = new Uint8Array(12);
    const v = new DataView(b.buffer);
    v.setBigUint64(0, BigInt(offset));
    v.setUint32(8, clusters);
    await this.file.pwrite(48, b);
    this.header.refcountTableOffset = offset;
    this.header.refcountTableClusters = clusters;
  }

  /** l1_size and l1_table_offset are adjacent: one write switches to a new L1 table. */
  async writeL1Header(size: number, offset: number): Promise<void> {
    const b = new Uint8Array(12);
    const v = new DataView(b.buffer);
    v.setUint32(0, size);
    v.setBigUint64(4, BigInt(offset));
    await this.file.pwrite(36, b);
    this.header.l1Size = size;
    this.header.l1TableOffset = offset;
  }

  /** nb_snapshots and snapshots_offset are adjacent too. */
  async writeSnapshotHeader(count: number, offset: number): Promise<void> {
    const b = new Uint8Array(12);
    const v = new DataView(b.buffer);
    v.setUint32(0, count);
    v.setBigUint64(4, BigInt(offset));
    await this.file.pwrite(60, b);
    this.header.nbSnapshots = count;
    this.header.snapshotsOffset = offset;
  }

  // ---- mapping -----------------------------------------------------------------------------

  /** Guest bytes covered by one L2 table. */
  get l2Coverage(): number {
    return this.clusterSize * this.l2Size;
  }

  async l2Table(l2Offset: number, l1Index: number): Promise<Uint8Array> {
    let t = this.l2Cache.get(l2Offset);
    if (t) {
      this.l2Cache.delete(l2Offset);
      this.l2Cache.set(l2Offset, t);
      return t;
    }
    if (l2Offset % this.clusterSize !== 0) {
      throw this.corruption(`L2 table offset ${hex(l2Offset)} unaligned (L1 index: ${hex(l1Index)})`);
    }
    if (l2Offset < this.clusterSize) {
      throw this.corruption(
        `L2 table offset ${hex(l2Offset)} overlaps the image header (L1 index: ${hex(l1Index)})`,
      );
    }
    t = new Uint8Array(this.clusterSize);
    await this.file.pread(l2Offset, t);
    this.cacheL2(l2Offset, t);
    return t;
  }

  private cacheL2(off: number, t: Uint8Array): void {
    this.l2Cache.set(off, t);
    if (this.l2Cache.size > this.l2CacheMax) this.l2Cache.delete(this.l2Cache.keys().next().value!);
  }

  /** Forget cached L2 tables (after snapshot operations rewrote them on disk). */
  dropL2Cache(): void {
    this.l2Cache.clear();
    this.lastCompressed = null;
  }

  /** Classify L2 entry `i` of `t` without validating the offset (qemu-img check uses this). */
  decodeL2Raw(t: Uint8Array, i: number): ClusterMapping {
    const hi = entryHi(t, i);
    const lo = entryLo(t, i);
    if (hi & OFLAG_COMPRESSED_HI) {
      const e = entryBig(t, i);
      const csizeShift = BigInt(62 - (this.clusterBits - 8));
      const csizeMask = (1n << BigInt(this.clusterBits - 8)) - 1n;
      const host = Number(e & ((1n << csizeShift) - 1n));
      const sectors = Number((e >> csizeShift) & csizeMask) + 1;
      return { kind: 'compressed', host, copied: false, compressedBytes: sectors * 512 - (host % 512) };
    }
    const host = (hi & 0x00ffffff) * 0x100000000 + ((lo & 0xfffffe00) >>> 0);
    const copied = (hi & OFLAG_COPIED_HI) !== 0;
    if (lo & OFLAG_ZERO_LO && this.header.version === 3)
      return { kind: 'zero', host, copied, compressedBytes: 0 };
    if (host === 0) return { kind: 'unallocated', host: 0, copied: false, compressedBytes: 0 };
    return { kind: 'normal', host, copied, compressedBytes: 0 };
  }

  /** Classify L2 entry `i` of `t`; a misaligned host offset is a corruption. */
  decodeL2(t: Uint8Array, i: number, l2Offset: number): ClusterMapping {
    const m = this.decodeL2Raw(t, i);
    if ((m.kind === 'normal' || m.kind === 'zero') && m.host % this.clusterSize !== 0) {
      throw this.corruption(
        `Cluster allocation offset ${hex(m.host)} unaligned (L2 offset: ${hex(l2Offset)}, L2 index: ${hex(i)})`,
      );
    }
    return m;
  }

  /** What the guest cluster containing `guest` maps to in the active L1 table. */
  async lookup(guest: number): Promise<ClusterMapping> {
    const l1i = Math.floor(guest / this.l2Coverage);
    if (l1i >= this.l1Size) return { kind: 'unallocated', host: 0, copied: false, compressedBytes: 0 };
    const l2Off = entryOffset(this.l1, l1i);
    if (l2Off === 0) return { kind: 'unallocated', host: 0, copied: false, compressedBytes: 0 };
    const t = await this.l2Table(l2Off, l1i);
    return this.decodeL2(t, Math.floor(guest / this.clusterSize) % this.l2Size, l2Off);
  }

  // ---- reads -------------------------------------------------------------------------------

  private async readLocked(offset: number, buf: Uint8Array): Promise<void> {
    const cs = this.clusterSize;
    let pos = 0;
    while (pos < buf.length) {
      const guest = offset + pos;
      const inCl = guest % cs;
      let n = Math.min(cs - inCl, buf.length - pos);
      const m = await this.lookup(guest);
      if (m.kind === 'normal') {
        // Extend over following clusters that are contiguous on the host.
        let hostEnd = m.host + cs;
        while (pos + n < buf.length) {
          const next = await this.lookup(guest + n);
          if (next.kind !== 'normal' || next.host !== hostEnd) break;
          n += Math.min(cs, buf.length - pos - n);
          hostEnd += cs;
        }
        await this.file.pread(m.host + inCl, buf.subarray(pos, pos + n));
      } else {
        await this.readMapped(guest, m, buf.subarray(pos, pos + n));
      }
      pos += n;
    }
  }

  /** Read `out` (within one cluster) as mapping `m` shows it. */
  async readMapped(guest: number, m: ClusterMapping, out: Uint8Array): Promise<void> {
    const inCl = guest % this.clusterSize;
    switch (m.kind) {
      case 'normal':
        await this.file.pread(m.host + inCl, out);
        return;
      case 'zero':
        out.fill(0);
        return;
      case 'compressed': {
        const data = await this.decompress(m);
        out.set(data.subarray(inCl, inCl + out.length));
        return;
      }
      case 'unallocated':
        await this.readBacking(guest, out);
    }
  }

  private async readBacking(guest: number, out: Uint8Array): Promise<void> {
    const b = this.backing;
    const avail = b ? Math.max(0, Math.min(out.length, b.getLength() - guest)) : 0;
    if (avail > 0) await b!.pread(guest, out.subarray(0, avail));
    out.fill(0, avail);
  }

  private async decompress(m: ClusterMapping): Promise<Uint8Array> {
    if (this.lastCompressed?.host === m.host) return this.lastCompressed.data;
    const raw = new Uint8Array(m.compressedBytes);
    await this.file.pread(m.host, raw);
    let data: Uint8Array;
    try {
      data = inflateRawSync(raw, { finishFlush: 2 /* Z_SYNC_FLUSH: tolerate sector padding */ });
    } catch {
      throw new BlockIoError('EIO', 'qcow2: compressed cluster is not valid deflate data');
    }
    if (data.length < this.clusterSize) {
      throw new BlockIoError('EIO', 'qcow2: compressed cluster decompresses to less than a cluster');
    }
    data = data.subarray(0, this.clusterSize);
    this.lastCompressed = { host: m.host, data };
    return data;
  }

  // ---- writes ------------------------------------------------------------------------------

  /** Metadata overlap check before writing guest data to the host (QEMU's overlap-check=cached). */
  private checkOverlap(host: number, len: number, activeL2 = false): void {
    const cs = this.clusterSize;
    const hit = (name: string): never => {
      throw this.corruption(`Preventing invalid write on metadata (overlaps with ${name})`);
    };
    const overlaps = (off: number, size: number): boolean =>
      size > 0 && host < off + size && off < host + len;
    if (host < cs) hit('qcow2_header');
    if (overlaps(this.l1Offset, this.l1Size * 8)) hit('active L1 table');
    if (overlaps(this.rc.tableOffset, this.rc.tableClusters * cs)) hit('refcount table');
    for (let c = Math.floor(host / cs) * cs; c < host + len; c += cs) {
      if (this.rc.isRefcountBlock(c)) hit('refcount block');
      if (!activeL2 && this.l2Cache.has(c)) hit('active L2 table');
    }
    if (this.header.nbSnapshots && overlaps(this.header.snapshotsOffset, this.snapshotTableSize())) {
      hit('snapshot table');
    }
    for (const s of this.snapshots) if (overlaps(s.l1TableOffset, s.l1Size * 8)) hit('inactive L1 table');
  }

  snapshotTableSize(): number {
    return this.snapshots.reduce((n, s) => n + s.entrySize, 0);
  }

  private async writeL1Entry(l1i: number, offset: number): Promise<void> {
    setEntryOffset(this.l1, l1i, offset, offset ? OFLAG_COPIED_HI : 0);
    await this.file.pwrite(this.l1Offset + l1i * 8, this.l1.subarray(l1i * 8, l1i * 8 + 8));
  }

  /**
   * The L2 table for L1 index `l1i`, allocated if missing and copied if shared with a snapshot,
   * so its entries may be changed in place.
   */
  private async l2ForWrite(l1i: number): Promise<{ table: Uint8Array; offset: number }> {
    const old = entryOffset(this.l1, l1i);
    if (old !== 0 && entryHi(this.l1, l1i) & OFLAG_COPIED_HI) {
      return { table: await this.l2Table(old, l1i), offset: old };
    }
    const oldTable = old ? await this.l2Table(old, l1i) : null;
    const off = await this.rc.allocClusters(1);
    const table = oldTable ? oldTable.slice() : new Uint8Array(this.clusterSize);
    await this.file.pwrite(off, table);
    this.cacheL2(off, table);
    await this.writeL1Entry(l1i, off);
    if (old) {
      this.l2Cache.delete(old);
      await this.rc.free(old, this.clusterSize);
    }
    return { table, offset: off };
  }

  /** Drop the references an L2 entry held once nothing points at them any more. */
  private async releaseMapping(m: ClusterMapping): Promise<void> {
    if (m.kind === 'normal' || (m.kind === 'zero' && m.host !== 0)) {
      await this.rc.free(m.host, this.clusterSize);
    } else if (m.kind === 'compressed') {
      const start = m.host - (m.host % 512);
      await this.rc.free(start, m.compressedBytes + (m.host % 512));
      if (this.lastCompressed?.host === m.host) this.lastCompressed = null;
    }
  }

  private async writeL2Range(offset: number, table: Uint8Array, first: number, last: number): Promise<void> {
    // An L2 table (from a corrupted L1 entry) sitting on other metadata must not be written.
    this.checkOverlap(offset + first * 8, (last - first + 1) * 8, true);
    await this.file.pwrite(offset + first * 8, table.subarray(first * 8, (last + 1) * 8));
  }

  async writeLocked(offset: number, buf: Uint8Array): Promise<void> {
    let pos = 0;
    while (pos < buf.length) {
      const guest = offset + pos;
      const l1i = Math.floor(guest / this.l2Coverage);
      const l2End = Math.min(buf.length, (l1i + 1) * this.l2Coverage - offset);
      await this.writeInL2(l1i, guest, buf.subarray(pos, l2End));
      pos = l2End;
    }
  }

  /** A write that stays within the guest range of one L2 table. */
  private async writeInL2(l1i: number, offset: number, data: Uint8Array): Promise<void> {
    const cs = this.clusterSize;
    // Only the VM state area (past the disk size) can lie beyond the L1 table.
    if (l1i >= this.l1Size) await this.growL1(l1i + 1);
    let l2Off = entryOffset(this.l1, l1i);
    let table: Uint8Array | null = l2Off ? await this.l2Table(l2Off, l1i) : null;
    let pos = 0;
    while (pos < data.length) {
      const guest = offset + pos;
      const inCl = guest % cs;
      const l2i = Math.floor(guest / cs) % this.l2Size;
      const m = table
        ? this.decodeL2(table, l2i, l2Off)
        : { kind: 'unallocated' as const, host: 0, copied: false, compressedBytes: 0 };
      if (m.kind === 'normal' && m.copied) {
        // In place, merged with following clusters that are in place and contiguous.
        let n = Math.min(cs - inCl, data.length - pos);
        let hostEnd = m.host + cs;
        while (pos + n < data.length) {
          const nm = this.decodeL2(table!, Math.floor((guest + n) / cs) % this.l2Size, l2Off);
          if (nm.kind !== 'normal' || !nm.copied || nm.host !== hostEnd) break;
          n += Math.min(cs, data.length - pos - n);
          hostEnd += cs;
        }
        this.checkOverlap(m.host + inCl, n);
        await this.file.pwrite(m.host + inCl, data.subarray(pos, pos + n));
        pos += n;
        continue;
      }
      // Allocating write: gather the run of clusters that all need a new host cluster.
      const olds: ClusterMapping[] = [m];
      let end = Math.min(data.length, pos + cs - inCl);
      while (end < data.length) {
        const ni = Math.floor((offset + end) / cs) % this.l2Size;
        const nm = table
          ? this.decodeL2(table, ni, l2Off)
          : { kind: 'unallocated' as const, host: 0, copied: false, compressedBytes: 0 };
        if (nm.kind === 'normal' && nm.copied) break;
        olds.push(nm);
        end = Math.min(data.length, end + cs);
      }
      const k = olds.length;
      // Refuse before allocating when the L2 table to update sits on other metadata.
      if (table && entryHi(this.l1, l1i) & OFLAG_COPIED_HI) this.checkOverlap(l2Off, cs, true);
      const firstGuestCluster = guest - inCl;
      const buf = new Uint8Array(k * cs);
      // Copy-on-write: the parts of the first and last cluster the request does not cover.
      if (inCl > 0) await this.readMapped(firstGuestCluster, olds[0]!, buf.subarray(0, cs));
      const tailEnd = inCl + (end - pos);
      if (tailEnd % cs !== 0 && (k > 1 || inCl === 0)) {
        const lastStart = (k - 1) * cs;
        await this.readMapped(
          firstGuestCluster + lastStart,
          olds[k - 1]!,
          buf.subarray(lastStart, lastStart + cs),
        );
      }
      buf.set(data.subarray(pos, end), inCl);
      const host = await this.rc.allocClusters(k);
      this.checkOverlap(host, k * cs);
      await this.file.pwrite(host, buf);
      if (!table || !(entryHi(this.l1, l1i) & OFLAG_COPIED_HI)) {
        ({ table, offset: l2Off } = await this.l2ForWrite(l1i));
      }
      for (let j = 0; j < k; j++) setEntryOffset(table, l2i + j, host + j * cs, OFLAG_COPIED_HI);
      await this.writeL2Range(l2Off, table, l2i, l2i + k - 1);
      for (const old of olds) await this.releaseMapping(old);
      pos = end;
    }
  }

  /** Full clusters become zero (v3 flag) or unallocated; partial ones get zero data. */
  private async zeroLocked(offset: number, bytes: number, mode: 'zero' | 'discard'): Promise<void> {
    const cs = this.clusterSize;
    const end = offset + bytes;
    const headEnd = Math.min(end, Math.ceil(offset / cs) * cs);
    if (headEnd > offset) {
      if (mode === 'zero') await this.writeLocked(offset, new Uint8Array(headEnd - offset));
      if (headEnd === end) return;
    }
    const tailStart = Math.max(headEnd, Math.floor(end / cs) * cs);
    for (let c = headEnd; c < tailStart;) {
      const l1i = Math.floor(c / this.l2Coverage);
      const stop = Math.min(tailStart, (l1i + 1) * this.l2Coverage);
      await this.zeroClustersInL2(l1i, c, stop, mode);
      c = stop;
    }
    if (end > tailStart && mode === 'zero')
      await this.writeLocked(tailStart, new Uint8Array(end - tailStart));
  }

  private async zeroClustersInL2(
    l1i: number,
    start: number,
    stop: number,
    mode: 'zero' | 'discard',
  ): Promise<void> {
    const cs = this.clusterSize;
    const v3 = this.header.version === 3;
    const hasBacking = this.backing !== null;
    const l2Off = entryOffset(this.l1, l1i);
    const cur = l2Off ? await this.l2Table(l2Off, l1i) : null;
    // Anything to do at all? (unallocated without backing already reads zeroes)
    const mappings: ClusterMapping[] = [];
    let needed = false;
    for (let c = start; c < stop; c += cs) {
      const m = cur
        ? this.decodeL2(cur, Math.floor(c / cs) % this.l2Size, l2Off)
        : { kind: 'unallocated' as const, host: 0, copied: false, compressedBytes: 0 };
      mappings.push(m);
      if (m.kind === 'unallocated' ? hasBacking : m.kind !== 'zero' || m.host !== 0) needed = true;
    }
    if (!needed) return;
    if (!v3 && hasBacking) {
      // v2 has no zero flag: a discard keeps the data, a zero write writes zeroes.
      if (mode === 'zero') await this.writeLocked(start, new Uint8Array(stop - start));
      return;
    }
    const { table, offset } = await this.l2ForWrite(l1i);
    const first = Math.floor(start / cs) % this.l2Size;
    mappings.forEach((_, j) => {
      if (hasBacking || mode === 'zero') setEntry(table, first + j, 0, v3 ? OFLAG_ZERO_LO : 0);
      else setEntry(table, first + j, 0, 0);
    });
    await this.writeL2Range(offset, table, first, first + mappings.length - 1);
    for (const m of mappings) await this.releaseMapping(m);
  }

  /** Write one compressed cluster (qemu-img convert -c); falls back to a normal write. */
  async writeCompressed(guest: number, compressed: Uint8Array): Promise<void> {
    this.checkWritable();
    await this.lock.write(async () => {
      const cs = this.clusterSize;
      const size = compressed.length;
      let host: number;
      const tail = this.compressedTail;
      if (tail !== 0 && tail % cs !== 0 && cs - (tail % cs) >= size) {
        host = tail;
        await this.rc.update(host - (host % cs), cs, 1);
      } else {
        host = await this.rc.allocClusters(1);
      }
      this.compressedTail = host + size;
      this.checkOverlap(host, size);
      await this.file.pwrite(host, compressed);
      const l1i = Math.floor(guest / this.l2Coverage);
      const old = await this.lookup(guest);
      const { table, offset } = await this.l2ForWrite(l1i);
      const l2i = Math.floor(guest / cs) % this.l2Size;
      const nbSectors = Math.floor((host + size - 1) / 512) - Math.floor(host / 512);
      const csizeShift = BigInt(62 - (this.clusterBits - 8));
      const e = (1n << 62n) | (BigInt(nbSectors) << csizeShift) | BigInt(host);
      setEntry(table, l2i, Number(e >> 32n), Number(e & 0xffffffffn));
      await this.writeL2Range(offset, table, l2i, l2i);
      await this.releaseMapping(old);
    });
  }

  // ---- resize ------------------------------------------------------------------------------

  /** Grow the virtual disk (qemu-img resize); shrinking is refused. */
  async truncate(size: number): Promise<void> {
    this.checkWritable();
    await this.lock.write(async () => {
      if (size < this.header.size) {
        throw new QapiError("qcow2 doesn't support shrinking images yet");
      }
      const needL1 = Math.ceil(size / this.l2Coverage);
      if (needL1 > this.l1Size) await this.growL1(needL1);
      await this.writeHeaderU64(24, BigInt(size));
      this.header.size = size;
    });
  }

  /** Move the active L1 table to a larger one (qcow2_grow_l1_table()). */
  async growL1(entries: number): Promise<void> {
    const cs = this.clusterSize;
    if (entries > (32 * 1024 * 1024) / 8) throw new QapiError('Active L1 table too large');
    const bytes = Math.ceil((entries * 8) / cs) * cs;
    const table = new Uint8Array(bytes);
    table.set(this.l1);
    const off = await this.rc.allocClusters(bytes / cs);
    await this.file.pwrite(off, table.subarray(0, entries * 8));
    await this.file.flush();
    const oldOff = this.l1Offset;
    const oldSize = this.l1Size;
    await this.writeL1Header(entries, off);
    this.l1 = table.subarray(0, entries * 8);
    this.l1Offset = off;
    this.l1Size = entries;
    if (oldSize) await this.rc.free(oldOff, Math.ceil((oldSize * 8) / cs) * cs);
  }
}
