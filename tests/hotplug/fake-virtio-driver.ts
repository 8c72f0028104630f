/**
 * A fake virtio guest driver for device unit tests: negotiates features, lays split rings out in guest
 * RAM (addressSpaceMemory of a `virt` machine), posts chains and kicks, and reads the used rings, all
 * through the core's transport-facing functions (what virtio-mmio calls on register writes).
 */
import { addressSpaceMemory } from '../../engine/hw/riscv/machine-memory.js';
import {
  VIRTIO_CONFIG_S_ACKNOWLEDGE,
  VIRTIO_CONFIG_S_DRIVER,
  VIRTIO_CONFIG_S_DRIVER_OK,
  VIRTIO_CONFIG_S_FEATURES_OK,
  VIRTIO_F_VERSION_1,
  bit,
  virtioConfigRead,
  virtioQueueNotify,
  virtioQueueSetRings,
  virtioSetFeatures,
  virtioSetStatus,
  type VirtIODevice,
} from '../../engine/hw/virtio/virtio.js';

const RAM_BASE = 0x80000000;

export interface Used {
  id: number;
  len: number;
}

export class FakeQueue {
  private nextDesc = 0;
  private availIdx = 0;
  private usedSeen = 0;
  /** Head descriptor -> its writable buffers. */
  readonly inflight = new Map<number, { addr: number; len: number }[]>();

  constructor(
    readonly drv: FakeDriver,
    readonly index: number,
    readonly num: number,
    readonly desc: number,
    readonly avail: number,
    readonly used: number,
  ) {}

  /** Post a chain: readable buffers (data given), then writable ones (sizes); returns the head. */
  add(out: Uint8Array[], inLens: number[], kick = true): number {
    const d = this.drv;
    const bufs = [
      ...out.map((b) => ({ b, w: false, len: b.length })),
      ...inLens.map((len) => ({ b: null, w: true, len })),
    ];
    const head = this.nextDesc;
    const writable: { addr: number; len: number }[] = [];
    bufs.forEach((x, i) => {
      const addr = d.alloc(Math.max(x.len, 1));
      if (x.b) d.write(addr, x.b);
      if (x.w) writable.push({ addr, len: x.len });
      const slot = (head + i) % this.num;
      const e = new DataView(new ArrayBuffer(16));
      e.setBigUint64(0, BigInt(addr), true);
      e.setUint32(8, x.len, true);
      const last = i === bufs.length - 1;
      e.setUint16(12, (last ? 0 : 1) | (x.w ? 2 : 0), true);
      e.setUint16(14, last ? 0 : (slot + 1) % this.num, true);
      d.write(this.desc + 16 * slot, new Uint8Array(e.buffer));
    });
    this.nextDesc = (head + bufs.length) % this.num;
    d.write16(this.avail + 4 + 2 * (this.availIdx % this.num), head);
    this.availIdx = (this.availIdx + 1) & 0xffff;
    d.write16(this.avail + 2, this.availIdx);
    this.inflight.set(head, writable);
    if (kick) virtioQueueNotify(d.vdev, this.index);
    return head;
  }

  /** New used entries since the last call, with what the device wrote into each chain. */
  takeUsed(): { id: number; len: number; data: Uint8Array }[] {
    const d = this.drv;
    const idx = d.read16(this.used + 2);
    const out: { id: number; len: number; data: Uint8Array }[] = [];
    while (this.usedSeen !== idx) {
      const slot = this.usedSeen % this.num;
      const id = d.read32(this.used + 4 + 8 * slot);
      const len = d.read32(this.used + 8 + 8 * slot);
      const bufs = this.inflight.get(id) ?? [];
      const total = bufs.reduce((a, b) => a + b.len, 0);
      const data = new Uint8Array(total);
      let o = 0;
      for (const b of bufs) {
        data.set(d.read(b.addr, b.len), o);
        o += b.len;
      }
      this.inflight.delete(id);
      out.push({ id, len, data });
      this.usedSeen = (this.usedSeen + 1) & 0xffff;
    }
    return out;
  }
}

export class FakeDriver {
  private next: number;
  readonly as = addressSpaceMemory();
  queues: FakeQueue[] = [];

  constructor(
    readonly vdev: VirtIODevice,
    /** Where in guest RAM this driver keeps its rings and buffers. */
    ramOffset = 0x100000,
  ) {
    this.next = RAM_BASE + ramOffset;
  }

  alloc(len: number, align = 16): number {
    this.next = Math.ceil(this.next / align) * align;
    const a = this.next;
    this.next += len;
    return a;
  }

  write(addr: number, data: Uint8Array): void {
    if (!this.as.writeBytes(addr, data)) throw new Error(`fake driver: cannot write 0x${addr.toString(16)}`);
  }
  read(addr: number, len: number): Uint8Array {
    const b = new Uint8Array(len);
    this.as.readBytes(addr, b);
    return b;
  }
  write16(addr: number, v: number): void {
    this.write(addr, Uint8Array.of(v & 0xff, v >> 8));
  }
  read16(addr: number): number {
    const b = this.read(addr, 2);
    return b[0]! | (b[1]! << 8);
  }
  read32(addr: number): number {
    return new DataView(this.read(addr, 4).buffer).getUint32(0, true);
  }

  config32(off: number): number {
    return virtioConfigRead(this.vdev, off, 4);
  }

  /** Negotiate `wanted` (plus VERSION_1) and set up `nqueues` queues of `num` entries. */
  init(wanted: bigint, nqueues: number, num = 64): void {
    const v = this.vdev;
    virtioSetStatus(v, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
    virtioSetFeatures(v, (wanted | bit(VIRTIO_F_VERSION_1)) & v.hostFeatures);
    virtioSetStatus(v, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER | VIRTIO_CONFIG_S_FEATURES_OK);
    for (let i = 0; i < nqueues; i++) {
      const n = Math.min(num, v.vq[i]!.num);
      v.vq[i]!.num = n;
      const desc = this.alloc(16 * n, 4096);
      const avail = this.alloc(6 + 2 * n, 4);
      const used = this.alloc(6 + 8 * n, 4096);
      virtioQueueSetRings(v, i, desc, avail, used);
      this.queues[i] = new FakeQueue(this, i, n, desc, avail, used);
    }
    virtioSetStatus(
      v,
      VIRTIO_CONFIG_S_ACKNOWLEDGE |
        VIRTIO_CONFIG_S_DRIVER |
        VIRTIO_CONFIG_S_FEATURES_OK |
        VIRTIO_CONFIG_S_DRIVER_OK,
    );
  }
}
