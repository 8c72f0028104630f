/**
 * qcow2 reference counts (QEMU's block/qcow2-refcount.c): the refcount table, refcount blocks of
 * 2^refcount_order-bit entries, cluster allocation and freeing, and growing the table.
 *
 * Crash safety: every change is written through to the file in an order that can only leak
 * clusters, never lose a reference: a cluster's refcount is raised on disk before anything points
 * at it, a new refcount block is written before the table entry that hooks it up, a new refcount
 * table is complete before the header switches to it, and references are removed before the
 * refcounts they held are dropped (callers' job).
 */
import { BlockIoError } from './block-error.js';
import type { NodeDriver } from './block-driver.js';
import { entryHi, entryLo, hex } from './qcow2-table.js';

export interface RefcountHost {
  readonly file: NodeDriver;
  readonly clusterBits: number;
  /** Report metadata corruption (marks the image corrupt) and return the error to throw. */
  corruption(message: string): Error;
  /** Write the header's refcount_table_offset and refcount_table_clusters (one 12-byte write). */
  writeRefcountTableHeader(offset: number, clusters: number): Promise<void>;
}

const MAX_CACHED_BLOCKS = 256;

export class Qcow2Refcounts {
  readonly clusterSize: number;
  readonly bits: number;
  readonly entriesPerBlock: number;
  readonly maxRefcount: number;
  /** Host offsets of the refcount blocks (0: none). */
  table: number[] = [];
  tableOffset = 0;
  tableClusters = 0;
  private readonly cache = new Map<number, Uint8Array>();
  /** No cluster below this index is free (QEMU's free_cluster_index). */
  private freeHint = 0;
  private depth = 0;

  constructor(
    private readonly host: RefcountHost,
    readonly order: number,
  ) {
    this.clusterSize = 2 ** host.clusterBits;
    this.bits = 2 ** order;
    this.entriesPerBlock = (this.clusterSize * 8) / this.bits;
    this.maxRefcount = order === 6 ? Number.MAX_SAFE_INTEGER : 2 ** this.bits - 1;
  }

  /** Load the table (offset and clusters already validated by the header parser). */
  async load(offset: number, clusters: number): Promise<void> {
    const buf = new Uint8Array(clusters * this.clusterSize);
    await this.host.file.pread(offset, buf);
    this.table = [];
    for (let i = 0; i < buf.length / 8; i++) {
      // Reserved low bits stay in the value: block() then refuses it as unaligned.
      const hi = entryHi(buf, i);
      this.table.push(hi >= 0x200000 ? Number.MAX_SAFE_INTEGER : hi * 0x100000000 + entryLo(buf, i));
    }
    this.tableOffset = offset;
    this.tableClusters = clusters;
    this.cache.clear();
  }

  private async block(index: number): Promise<Uint8Array | null> {
    if (index >= this.table.length) return null;
    const off = this.table[index]!;
    if (off === 0) return null;
    let b = this.cache.get(off);
    if (b) {
      this.cache.delete(off);
      this.cache.set(off, b);
      return b;
    }
    if (off % this.clusterSize !== 0) {
      throw this.host.corruption(`Refblock offset ${hex(off)} unaligned (reftable index: ${hex(index)})`);
    }
    if (off === Number.MAX_SAFE_INTEGER || off === 0) {
      throw this.host.corruption(
        `Refblock at ${hex(off)} is not a valid offset (reftable index: ${hex(index)})`,
      );
    }
    b = new Uint8Array(this.clusterSize);
    await this.host.file.pread(off, b);
    this.cache.set(off, b);
    if (this.cache.size > MAX_CACHED_BLOCKS) this.cache.delete(this.cache.keys().next().value!);
    return b;
  }

  /** Refcount of cluster `ci` (0 when no block covers it). */
  async get(ci: number): Promise<number> {
    const b = await this.block(Math.floor(ci / this.entriesPerBlock));
    return b ? readRefcount(b, ci % this.entriesPerBlock, this.order) : 0;
  }

  /** Is every refcount block offset a known metadata cluster? (for overlap checks) */
  isRefcountBlock(off: number): boolean {
    return this.table.includes(off);
  }

  /** Add `addend` to the refcount of every cluster in [offset, offset + length). */
  async update(offset: number, length: number, addend: number): Promise<void> {
    if (length <= 0) return;
    const first = Math.floor(offset / this.clusterSize);
    const last = Math.floor((offset + length - 1) / this.clusterSize);
    let ci = first;
    while (ci <= last) {
      const bi = Math.floor(ci / this.entriesPerBlock);
      let b = await this.block(bi);
      if (!b) {
        if (addend < 0) throw this.host.corruption(`Refcount block for cluster ${hex(ci)} missing`);
        await this.allocBlock(bi);
        b = (await this.block(bi))!;
      }
      const end = Math.min(last, (bi + 1) * this.entriesPerBlock - 1);
      let lowByte = Infinity;
      let highByte = -1;
      for (let c = ci; c <= end; c++) {
        const idx = c % this.entriesPerBlock;
        const v = readRefcount(b, idx, this.order) + addend;
        if (v < 0 || v > this.maxRefcount) {
          throw v < 0
            ? this.host.corruption(`Refcount of cluster ${hex(c)} would drop below zero`)
            : new BlockIoError('EINVAL', `Refcount overflow for cluster ${hex(c)}`);
        }
        const [lo, hi] = writeRefcount(b, idx, this.order, v);
        lowByte = Math.min(lowByte, lo);
        highByte = Math.max(highByte, hi);
        if (v === 0 && c < this.freeHint) this.freeHint = c;
      }
      await this.host.file.pwrite(this.table[bi]! + lowByte, b.subarray(lowByte, highByte + 1));
      ci = end + 1;
    }
  }

  /** First index >= freeHint where `n` clusters in a row have refcount 0. */
  private async findFree(n: number): Promise<number> {
    let start = this.freeHint;
    let run = 0;
    for (let ci = start; ; ci++) {
      if ((await this.get(ci)) === 0) {
        if (run === 0) start = ci;
        if (++run === n) return start;
      } else {
        run = 0;
        if (ci === this.freeHint) this.freeHint = ci + 1;
      }
    }
  }

  /** Allocate `n` contiguous clusters (refcount 1 each); returns the host offset. */
  async allocClusters(n: number): Promise<number> {
    for (let tries = 0; tries < 64; tries++) {
      const start = await this.findFree(n);
      // Make sure refcount blocks exist for the whole range first; allocating one may use clusters
      // of the range, so search again afterwards.
      let allocated = false;
      const firstBlock = Math.floor(start / this.entriesPerBlock);
      const lastBlock = Math.floor((start + n - 1) / this.entriesPerBlock);
      for (let bi = firstBlock; bi <= lastBlock; bi++) {
        if (bi >= this.table.length || this.table[bi] === 0) {
          await this.allocBlock(bi);
          allocated = true;
        }
      }
      if (allocated) continue;
      await this.update(start * this.clusterSize, n * this.clusterSize, 1);
      if (start === this.freeHint) this.freeHint = start + n;
      return start * this.clusterSize;
    }
    throw new BlockIoError('EIO', 'qcow2: cluster allocation does not converge');
  }

  async free(offset: number, length: number): Promise<void> {
    await this.update(offset, length, -1);
  }

  /** Hook up a new, empty refcount block for table index `bi` (alloc_refcount_block()). */
  private async allocBlock(bi: number): Promise<void> {
    if (++this.depth > 16) {
      this.depth--;
      throw new BlockIoError('EIO', 'qcow2: refcount block allocation recursion');
    }
    try {
      if (bi >= this.table.length) await this.growTable(bi);
      while (this.table[bi] === 0) {
        const ci = await this.findFree(1);
        const cbi = Math.floor(ci / this.entriesPerBlock);
        const block = new Uint8Array(this.clusterSize);
        if (cbi === bi) {
          // The new block describes itself.
          writeRefcount(block, ci % this.entriesPerBlock, this.order, 1);
        } else if (cbi >= this.table.length || this.table[cbi] === 0) {
          await this.allocBlock(cbi);
          continue;
        } else {
          await this.update(ci * this.clusterSize, this.clusterSize, 1);
        }
        const off = ci * this.clusterSize;
        await this.host.file.pwrite(off, block);
        this.cache.set(off, block);
        await this.writeTableEntry(bi, off);
      }
    } finally {
      this.depth--;
    }
  }

  private async writeTableEntry(bi: number, off: number): Promise<void> {
    const e = new Uint8Array(8);
    new DataView(e.buffer).setUint32(0, Math.floor(off / 0x100000000));
    new DataView(e.buffer).setUint32(4, off >>> 0);
    await this.host.file.pwrite(this.tableOffset + bi * 8, e);
    this.table[bi] = off;
  }

  /**
   * Move to a larger refcount table that has entry `needed` (qcow2_refcount_area()): new refcount
   * blocks and the new table go after everything the old table can describe, described by those
   * new blocks themselves; the header switches in one write; the old table is freed last.
   */
  private async growTable(needed: number): Promise<void> {
    const cs = this.clusterSize;
    const epb = this.entriesPerBlock;
    const entriesPerCluster = cs / 8;
    const fileEnd = Math.ceil(this.host.file.getLength() / cs);
    const areaStart = Math.max(fileEnd, this.table.length * epb);
    let newEntries = Math.max(needed + 1, Math.ceil((this.table.length * 3) / 2));
    let blocks = 0;
    let tableClusters = 0;
    for (;;) {
      tableClusters = Math.ceil(newEntries / entriesPerCluster);
      const areaEnd = areaStart + blocks + tableClusters; // exclusive
      const firstBi = Math.floor(areaStart / epb);
      const lastBi = Math.floor((areaEnd - 1) / epb);
      const needBlocks = lastBi - firstBi + 1;
      const needEntries = Math.max(newEntries, lastBi + 1);
      if (needBlocks === blocks && needEntries <= tableClusters * entriesPerCluster) break;
      blocks = needBlocks;
      newEntries = needEntries;
    }
    newEntries = tableClusters * entriesPerCluster;
    if (tableClusters * cs > 8 * 1024 * 1024) throw new BlockIoError('EFBIG', 'Refcount table too large');
    const firstBi = Math.floor(areaStart / epb);
    const areaEnd = areaStart + blocks + tableClusters;
    const newTable = this.table.slice();
    while (newTable.length < newEntries) newTable.push(0);
    for (let k = 0; k < blocks; k++) {
      const bi = firstBi + k;
      const blockOff = (areaStart + k) * cs;
      const block = new Uint8Array(cs);
      for (let ci = Math.max(areaStart, bi * epb); ci < Math.min(areaEnd, (bi + 1) * epb); ci++) {
        writeRefcount(block, ci % epb, this.order, 1);
      }
      await this.host.file.pwrite(blockOff, block);
      this.cache.set(blockOff, block);
      newTable[bi] = blockOff;
    }
    const tableOff = (areaStart + blocks) * cs;
    const tbuf = new Uint8Array(tableClusters * cs);
    const tv = new DataView(tbuf.buffer);
    newTable.forEach((off, i) => {
      tv.setUint32(i * 8, Math.floor(off / 0x100000000));
      tv.setUint32(i * 8 + 4, off >>> 0);
    });
    await this.host.file.pwrite(tableOff, tbuf);
    await this.host.file.flush();
    await this.host.writeRefcountTableHeader(tableOff, tableClusters);
    await this.host.file.flush();
    const oldOff = this.tableOffset;
    const oldClusters = this.tableClusters;
    this.table = newTable;
    this.tableOffset = tableOff;
    this.tableClusters = tableClusters;
    await this.free(oldOff, oldClusters * cs);
  }
}

/** Refcount entry `i` of a block, for any refcount_order (sub-byte widths are LSB first). */
export function readRefcount(b: Uint8Array, i: number, order: number): number {
  switch (order) {
    case 4:
      return (b[i * 2]! << 8) | b[i * 2 + 1]!;
    case 3:
      return b[i]!;
    case 5:
      return ((b[i * 4]! << 24) | (b[i * 4 + 1]! << 16) | (b[i * 4 + 2]! << 8) | b[i * 4 + 3]!) >>> 0;
    case 6: {
      const hi = ((b[i * 8]! << 24) | (b[i * 8 + 1]! << 16) | (b[i * 8 + 2]! << 8) | b[i * 8 + 3]!) >>> 0;
      const lo = ((b[i * 8 + 4]! << 24) | (b[i * 8 + 5]! << 16) | (b[i * 8 + 6]! << 8) | b[i * 8 + 7]!) >>> 0;
      return hi >= 0x200000 ? Number.MAX_SAFE_INTEGER : hi * 0x100000000 + lo;
    }
    default: {
      const bits = 1 << order;
      const perByte = 8 / bits;
      return (b[Math.floor(i / perByte)]! >> ((i % perByte) * bits)) & ((1 << bits) - 1);
    }
  }
}

/** Store a refcount; returns the byte range [first, last] it touched. */
export function writeRefcount(b: Uint8Array, i: number, order: number, v: number): [number, number] {
  switch (order) {
    case 4:
      b[i * 2] = v >> 8;
      b[i * 2 + 1] = v & 0xff;
      return [i * 2, i * 2 + 1];
    case 3:
      b[i] = v;
      return [i, i];
    case 5:
      new DataView(b.buffer, b.byteOffset).setUint32(i * 4, v);
      return [i * 4, i * 4 + 3];
    case 6: {
      const dv = new DataView(b.buffer, b.byteOffset);
      dv.setUint32(i * 8, Math.floor(v / 0x100000000));
      dv.setUint32(i * 8 + 4, v >>> 0);
      return [i * 8, i * 8 + 7];
    }
    default: {
      const bits = 1 << order;
      const perByte = 8 / bits;
      const byte = Math.floor(i / perByte);
      const shift = (i % perByte) * bits;
      const mask = ((1 << bits) - 1) << shift;
      b[byte] = (b[byte]! & ~mask) | ((v << shift) & mask);
      return [byte, byte];
    }
  }
}
