/**
 * Split virtqueues (virtio 1.x section 2.7; QEMU's hw/virtio/virtio.c split-ring half).
 *
 * A queue has a descriptor table, an available ring the driver fills and a used ring the device
 * fills. `pop` takes the next available chain and maps its buffers (direct or through one indirect
 * table), `fill`/`flush` (or `push`) return chains to the used ring, `shouldNotify` decides whether
 * the driver wants an interrupt (VRING_AVAIL_F_NO_INTERRUPT, or the used_event index with
 * VIRTIO_RING_F_EVENT_IDX), and `setNotification` asks the driver not to kick us (VRING_USED_F_NO_NOTIFY
 * or avail_event).
 *
 * Guest mistakes never throw: every descriptor is checked (index in range, no loops, chains not
 * longer than the table, readable buffers before writable ones, buffers entirely inside guest RAM,
 * indirect tables well sized and not nested) and a bad one calls the owner's `error` hook, which is
 * QEMU's virtio_error(): the device is marked broken and the queue stops until reset. The ring areas
 * themselves are mapped once when their addresses are set (QEMU's region caches); a ring outside RAM
 * is an error too ("Cannot map desc"), not an exception.
 */
import type { AddressSpace } from '../../system/memory.js';
import { type DmaSegment, dmaMap, dmaMapContiguous, dmaWritten } from './virtio-dma.js';

export const VIRTQUEUE_MAX_SIZE = 1024;
/** Queues a device may have (QEMU's VIRTIO_QUEUE_MAX). */
export const VIRTIO_QUEUE_MAX = 1024;
export const VIRTIO_NO_VECTOR = 0xffff;

export const VRING_DESC_F_NEXT = 1;
export const VRING_DESC_F_WRITE = 2;
export const VRING_DESC_F_INDIRECT = 4;
export const VRING_USED_F_NO_NOTIFY = 1;
export const VRING_AVAIL_F_NO_INTERRUPT = 1;
/** Legacy ring alignment (VIRTIO_PCI_VRING_ALIGN); virtio-mmio lets the guest choose. */
export const VIRTIO_VRING_ALIGN = 4096;

const DESC_SIZE = 16;

/** What a queue needs from its device: guest memory, negotiated features and the error hook. */
export interface VirtQueueOwner {
  /** The AddressSpace all guest memory accesses go through (vdev->dma_as). */
  readonly dma: AddressSpace;
  readonly broken: boolean;
  /** VIRTIO_RING_F_EVENT_IDX negotiated. */
  eventIdx(): boolean;
  /** VIRTIO_F_NOTIFY_ON_EMPTY negotiated. */
  notifyOnEmpty(): boolean;
  /** virtio_error(): report once, mark the device broken (and NEEDS_RESET for modern drivers). */
  error(msg: string): void;
}

/** One chain taken from the available ring (VirtQueueElement). */
export class VirtQueueElement {
  /** Head descriptor index: what goes back in the used ring. */
  index = 0;
  /** Descriptors the chain used in the ring (1 for split rings). */
  ndescs = 1;
  /** Device-readable buffers, in order. */
  outSg: DmaSegment[] = [];
  /** Device-writable buffers, in order. */
  inSg: DmaSegment[] = [];
  /** Guest address and length of each descriptor (for migration: re-mapped on load). */
  outDesc: { addr: number; len: number }[] = [];
  inDesc: { addr: number; len: number }[] = [];
}

interface RingMap {
  view: DataView;
  seg: DmaSegment;
}

type ReadDesc = { addr: number; len: number; flags: number; next: number };

export class VirtQueue {
  /** Current size (0: queue not present / disabled). */
  num: number;
  readonly numDefault: number;
  align = VIRTIO_VRING_ALIGN;
  desc = 0;
  avail = 0;
  used = 0;
  lastAvailIdx = 0;
  shadowAvailIdx = 0;
  usedIdx = 0;
  signalledUsed = 0;
  signalledUsedValid = false;
  /** Whether we want kicks (virtio_queue_set_notification). */
  notification = true;
  inuse = 0;
  vector = VIRTIO_NO_VECTOR;
  /** Called when the driver kicks this queue. */
  handleOutput: ((vq: VirtQueue) => void) | null;

  private descMap: RingMap | null = null;
  private availMap: RingMap | null = null;
  private usedMap: RingMap | null = null;

  constructor(
    readonly owner: VirtQueueOwner,
    readonly queueIndex: number,
    size: number,
    handleOutput: ((vq: VirtQueue) => void) | null,
  ) {
    this.num = size;
    this.numDefault = size;
    this.handleOutput = handleOutput;
  }

  /** __virtio_queue_reset(). */
  reset(): void {
    this.desc = this.avail = this.used = 0;
    this.lastAvailIdx = this.shadowAvailIdx = this.usedIdx = 0;
    this.signalledUsed = 0;
    this.signalledUsedValid = false;
    this.notification = true;
    this.vector = VIRTIO_NO_VECTOR;
    this.num = this.numDefault;
    this.align = VIRTIO_VRING_ALIGN;
    this.inuse = 0;
    this.descMap = this.availMap = this.usedMap = null;
  }

  /** The driver set up this queue (vring.desc != 0). */
  get ready(): boolean {
    return this.desc !== 0;
  }

  // --- ring layout ---------------------------------------------------------------------------

  /** Bytes of the available ring (flags, idx, ring[num], used_event). */
  availSize(): number {
    return 6 + 2 * this.num;
  }

  usedSize(): number {
    return 6 + 8 * this.num;
  }

  /** virtio_queue_set_rings() (modern): addresses given separately. */
  setRings(desc: number, avail: number, used: number): void {
    this.desc = desc;
    this.avail = avail;
    this.used = used;
    this.initRegionCache();
  }

  /** virtio_queue_update_rings() (legacy): avail follows the table, used at the next `align` boundary. */
  updateRings(): void {
    if (!this.num || !this.desc) return;
    this.avail = this.desc + this.num * DESC_SIZE;
    const end = this.avail + 4 + 2 * this.num;
    this.used = Math.ceil(end / this.align) * this.align;
    this.initRegionCache();
  }

  /** Map the three ring areas; a ring that is not in RAM makes the device broken. */
  initRegionCache(): void {
    this.descMap = this.availMap = this.usedMap = null;
    if (!this.desc || !this.num) return;
    const as = this.owner.dma;
    const d = dmaMapContiguous(as, this.desc, this.num * DESC_SIZE, false);
    if (!d) return this.owner.error('Cannot map desc');
    const u = dmaMapContiguous(as, this.used, this.usedSize(), true);
    if (!u) return this.owner.error('Cannot map used');
    const a = dmaMapContiguous(as, this.avail, this.availSize(), false);
    if (!a) return this.owner.error('Cannot map avail');
    const dv = (s: DmaSegment): RingMap => ({
      seg: s,
      view: new DataView(s.view.buffer, s.view.byteOffset, s.view.byteLength),
    });
    this.descMap = dv(d);
    this.usedMap = dv(u);
    this.availMap = dv(a);
  }

  private get mapped(): boolean {
    return this.descMap !== null && this.availMap !== null && this.usedMap !== null;
  }

  // --- ring fields ----------------------------------------------------------------------------

  availFlags(): number {
    return this.availMap ? this.availMap.view.getUint16(0, true) : 0;
  }

  /** vring_avail_idx(): also refreshes the shadow copy. */
  availIdx(): number {
    if (!this.availMap) return this.shadowAvailIdx;
    this.shadowAvailIdx = this.availMap.view.getUint16(2, true);
    return this.shadowAvailIdx;
  }

  private availRing(i: number): number {
    return this.availMap!.view.getUint16(4 + 2 * i, true);
  }

  /** used_event, the last field of the available ring. */
  usedEvent(): number {
    return this.availMap ? this.availMap.view.getUint16(4 + 2 * this.num, true) : 0;
  }

  usedIdxInRing(): number {
    return this.usedMap ? this.usedMap.view.getUint16(2, true) : 0;
  }

  usedFlags(): number {
    return this.usedMap ? this.usedMap.view.getUint16(0, true) : 0;
  }

  /** avail_event, the last field of the used ring. */
  availEvent(): number {
    return this.usedMap ? this.usedMap.view.getUint16(4 + 8 * this.num, true) : 0;
  }

  private writeUsed16(off: number, v: number): void {
    const m = this.usedMap;
    if (!m) return;
    m.view.setUint16(off, v & 0xffff, true);
    dmaWritten(m.seg, off, 2);
  }

  private setUsedFlags(v: number): void {
    this.writeUsed16(0, v);
  }

  /** vring_set_avail_event(): only while we want notifications. */
  private setAvailEvent(v: number): void {
    if (!this.notification) return;
    this.writeUsed16(4 + 8 * this.num, v);
  }

  private readDesc(map: DataView, i: number): ReadDesc {
    const o = i * DESC_SIZE;
    return {
      addr: map.getUint32(o, true) + map.getUint32(o + 4, true) * 2 ** 32,
      len: map.getUint32(o + 8, true),
      flags: map.getUint16(o + 12, true),
      next: map.getUint16(o + 14, true),
    };
  }

  // --- driver-facing state --------------------------------------------------------------------

  /** virtio_queue_empty(): nothing new in the available ring. */
  isEmpty(): boolean {
    if (!this.mapped || this.owner.broken) return true;
    if (this.shadowAvailIdx !== this.lastAvailIdx) return false;
    return this.availIdx() === this.lastAvailIdx;
  }

  /** virtqueue_num_heads(): chains available, or -1 (device broken) when the index is absurd. */
  private numHeads(idx: number): number {
    const numHeads = (this.availIdx() - idx) & 0xffff;
    if (numHeads > this.num) {
      this.owner.error(`Guest moved used index from ${idx} to ${this.shadowAvailIdx}`);
      return -1;
    }
    return numHeads;
  }

  /** virtio_queue_set_notification(): ask the driver to kick us (or not). */
  setNotification(enable: boolean): void {
    this.notification = enable;
    if (!this.mapped) return;
    if (this.owner.eventIdx()) {
      this.writeUsed16(4 + 8 * this.num, this.availIdx());
    } else {
      const f = this.usedFlags();
      this.setUsedFlags(enable ? f & ~VRING_USED_F_NO_NOTIFY : f | VRING_USED_F_NO_NOTIFY);
    }
  }

  // --- taking chains --------------------------------------------------------------------------

  /**
   * Walk one chain starting at `head` (no side effects on the ring). `visit` gets every buffer
   * descriptor; returns false (after reporting) on a malformed chain.
   */
  private walkChain(head: number, visit: (d: ReadDesc) => boolean): boolean {
    const owner = this.owner;
    let table = this.descMap!.view;
    let max = this.num;
    let i = head;
    let d = this.readDesc(table, i);
    if (d.flags & VRING_DESC_F_INDIRECT) {
      if (d.len === 0 || d.len % DESC_SIZE) {
        owner.error('Invalid size for indirect buffer table');
        return false;
      }
      if (d.flags & VRING_DESC_F_NEXT) {
        // The spec forbids INDIRECT together with NEXT; QEMU ignores NEXT here, so do we.
      }
      const seg = dmaMapContiguous(owner.dma, d.addr, d.len, false);
      if (!seg) {
        owner.error('Cannot map indirect buffer');
        return false;
      }
      table = new DataView(seg.view.buffer, seg.view.byteOffset, seg.view.byteLength);
      max = d.len / DESC_SIZE;
      i = 0;
      d = this.readDesc(table, 0);
    }
    let entries = 0;
    for (;;) {
      if (d.flags & VRING_DESC_F_INDIRECT) {
        owner.error('Nested indirect descriptor');
        return false;
      }
      if (!visit(d)) return false;
      if (++entries > max) {
        owner.error('Looped descriptor');
        return false;
      }
      if (!(d.flags & VRING_DESC_F_NEXT)) return true;
      i = d.next;
      if (i >= max) {
        owner.error(`Desc next is ${i}`);
        return false;
      }
      d = this.readDesc(table, i);
    }
  }

  /** virtqueue_get_head(). */
  private getHead(idx: number): number {
    const head = this.availRing(idx % this.num);
    if (head >= this.num) {
      this.owner.error(`Guest says index ${head} is available`);
      return -1;
    }
    return head;
  }

  /**
   * virtqueue_pop(): the next available chain with its buffers mapped, or null when the queue is
   * empty, not set up, or the device is (or just became) broken.
   */
  pop(): VirtQueueElement | null {
    const owner = this.owner;
    if (owner.broken || !this.mapped) return null;
    if (this.isEmpty()) return null;
    if (this.numHeads(this.lastAvailIdx) < 0) return null;
    if (this.inuse >= this.num) {
      owner.error('Virtqueue size exceeded');
      return null;
    }
    const head = this.getHead(this.lastAvailIdx);
    if (head < 0) return null;
    this.lastAvailIdx = (this.lastAvailIdx + 1) & 0xffff;
    if (owner.eventIdx()) this.setAvailEvent(this.lastAvailIdx);

    const elem = new VirtQueueElement();
    elem.index = head;
    let sgCount = 0;
    const ok = this.walkChain(head, (d) => {
      const isWrite = (d.flags & VRING_DESC_F_WRITE) !== 0;
      if (!isWrite && elem.inSg.length) {
        owner.error('Incorrect order for descriptors');
        return false;
      }
      if (d.len === 0) {
        owner.error('virtio: zero sized buffers are not allowed');
        return false;
      }
      const segs = dmaMap(owner.dma, d.addr, d.len, isWrite, VIRTQUEUE_MAX_SIZE - sgCount);
      if (!segs) {
        // dmaMap fails both for memory that is not RAM and for too many pieces.
        owner.error('virtio: bogus descriptor or out of resources');
        return false;
      }
      sgCount += segs.length;
      if (isWrite) {
        elem.inSg.push(...segs);
        elem.inDesc.push({ addr: d.addr, len: d.len });
      } else {
        elem.outSg.push(...segs);
        elem.outDesc.push({ addr: d.addr, len: d.len });
      }
      return true;
    });
    if (!ok) return null;
    this.inuse++;
    return elem;
  }

  /**
   * virtqueue_get_avail_bytes(): how many device-writable (`in`) and device-readable (`out`) bytes the
   * available chains offer, stopping once both limits are reached. Malformed chains break the device
   * and count as nothing.
   */
  getAvailBytes(maxIn: number, maxOut: number): { inBytes: number; outBytes: number } {
    let inBytes = 0;
    let outBytes = 0;
    if (this.owner.broken || !this.mapped) return { inBytes: 0, outBytes: 0 };
    let idx = this.lastAvailIdx;
    const total = this.numHeads(idx);
    if (total < 0) return { inBytes: 0, outBytes: 0 };
    for (let n = 0; n < total; n++) {
      const head = this.getHead(idx);
      if (head < 0) return { inBytes: 0, outBytes: 0 };
      idx = (idx + 1) & 0xffff;
      let done = false;
      const ok = this.walkChain(head, (d) => {
        if (d.flags & VRING_DESC_F_WRITE) inBytes += d.len;
        else outBytes += d.len;
        if (inBytes >= maxIn && outBytes >= maxOut) {
          done = true;
          return false;
        }
        return true;
      });
      if (done) break;
      if (!ok) return { inBytes: 0, outBytes: 0 };
    }
    return { inBytes: Math.min(inBytes, maxIn), outBytes: Math.min(outBytes, maxOut) };
  }

  /** virtqueue_avail_bytes(): whether at least `inBytes`/`outBytes` are available. */
  availBytes(inBytes: number, outBytes: number): boolean {
    const r = this.getAvailBytes(inBytes, outBytes);
    return inBytes <= r.inBytes && outBytes <= r.outBytes;
  }

  /** virtqueue_unpop(): give the last popped chain back (it will be popped again). */
  unpop(_elem: VirtQueueElement, _len = 0): void {
    this.lastAvailIdx = (this.lastAvailIdx - 1) & 0xffff;
    this.inuse--;
  }

  /** virtqueue_rewind(): unpop `n` chains; false if fewer are in use. */
  rewind(n: number): boolean {
    if (n > this.inuse) return false;
    this.lastAvailIdx = (this.lastAvailIdx - n) & 0xffff;
    this.inuse -= n;
    return true;
  }

  /** virtqueue_detach_element(): drop a chain without returning it to the guest. */
  detachElement(_elem: VirtQueueElement, _len = 0): void {
    this.inuse--;
  }

  // --- returning chains -----------------------------------------------------------------------

  /** virtqueue_fill(): put `elem` (with `len` bytes written) at used slot usedIdx + `idx`. */
  fill(elem: VirtQueueElement, len: number, idx = 0): void {
    if (this.owner.broken || !this.usedMap) return;
    const slot = (this.usedIdx + idx) % this.num;
    const off = 4 + 8 * slot;
    const v = this.usedMap.view;
    v.setUint32(off, elem.index >>> 0, true);
    v.setUint32(off + 4, len >>> 0, true);
    dmaWritten(this.usedMap.seg, off, 8);
  }

  /** virtqueue_flush(): publish `count` filled entries (moves the used index). */
  flush(count: number): void {
    if (this.owner.broken || !this.usedMap) {
      this.inuse -= count;
      return;
    }
    const old = this.usedIdx;
    const now = (old + count) & 0xffff;
    this.writeUsed16(2, now);
    this.usedIdx = now;
    this.inuse -= count;
    if (((now - this.signalledUsed) << 16) >> 16 < ((now - old) & 0xffff)) this.signalledUsedValid = false;
  }

  /** virtqueue_push(): fill + flush one chain. */
  push(elem: VirtQueueElement, len: number): void {
    this.fill(elem, len, 0);
    this.flush(1);
  }

  /** virtio_should_notify(): does the driver want an interrupt for what we just used? */
  shouldNotify(): boolean {
    if (!this.mapped) return false;
    if (this.owner.notifyOnEmpty() && this.inuse === 0 && this.isEmpty()) return true;
    if (!this.owner.eventIdx()) return !(this.availFlags() & VRING_AVAIL_F_NO_INTERRUPT);
    const v = this.signalledUsedValid;
    this.signalledUsedValid = true;
    const old = this.signalledUsed;
    const now = (this.signalledUsed = this.usedIdx);
    return !v || vringNeedEvent(this.usedEvent(), now, old);
  }

  /** After loading state: re-derive the shadow/used indexes from the ring (virtio_load's loop). */
  syncFromRing(): string | null {
    if (!this.mapped) return null;
    const nheads = (this.availIdx() - this.lastAvailIdx) & 0xffff;
    if (nheads > this.num) {
      const msg =
        `VQ ${this.queueIndex} size 0x${this.num.toString(16)} Guest index 0x${this.shadowAvailIdx.toString(16)} ` +
        `inconsistent with Host index 0x${this.lastAvailIdx.toString(16)}: delta 0x${nheads.toString(16)}`;
      this.usedIdx = 0;
      this.shadowAvailIdx = 0;
      this.inuse = 0;
      this.owner.error(msg);
      return null;
    }
    this.usedIdx = this.usedIdxInRing();
    this.inuse = (this.lastAvailIdx - this.usedIdx) & 0xffff;
    if (this.inuse > this.num) {
      return (
        `VQ ${this.queueIndex} size 0x${this.num.toString(16)} < last_avail_idx 0x${this.lastAvailIdx.toString(16)} ` +
        `- used_idx 0x${this.usedIdx.toString(16)}`
      );
    }
    return null;
  }

  /** Map an element saved in a migration stream again (qemu_get_virtqueue_element + virtqueue_map). */
  remapElement(
    index: number,
    outDesc: { addr: number; len: number }[],
    inDesc: { addr: number; len: number }[],
  ): VirtQueueElement | null {
    const elem = new VirtQueueElement();
    elem.index = index;
    for (const d of outDesc) {
      const s = dmaMap(this.owner.dma, d.addr, d.len, false, VIRTQUEUE_MAX_SIZE);
      if (!s) return null;
      elem.outSg.push(...s);
      elem.outDesc.push({ ...d });
    }
    for (const d of inDesc) {
      const s = dmaMap(this.owner.dma, d.addr, d.len, true, VIRTQUEUE_MAX_SIZE);
      if (!s) return null;
      elem.inSg.push(...s);
      elem.inDesc.push({ ...d });
    }
    return elem;
  }
}

/** vring_need_event(): has the driver's event index been crossed by moving from `old` to `now`? */
export function vringNeedEvent(eventIdx: number, now: number, old: number): boolean {
  return ((now - eventIdx - 1) & 0xffff) < ((now - old) & 0xffff);
}
