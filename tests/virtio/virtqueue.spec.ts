/**
 * Split virtqueue code against a fake guest: 1 MiB of RAM at 0x80000000, a ROM and an MMIO region
 * next to it, and a little driver that lays out rings and descriptors the way the virtio spec says.
 * Covers chains, indirect tables, event-index notification suppression, index wraparound, and every
 * guest mistake we check: each must break the queue's owner with QEMU's message, never throw and
 * never touch memory outside RAM.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AddressSpace, MemoryRegion } from '../../engine/system/memory.js';
import {
  VRING_AVAIL_F_NO_INTERRUPT,
  VRING_DESC_F_INDIRECT,
  VRING_DESC_F_NEXT,
  VRING_DESC_F_WRITE,
  VRING_USED_F_NO_NOTIFY,
  VirtQueue,
  type VirtQueueOwner,
  vringNeedEvent,
} from '../../engine/hw/virtio/virtqueue.js';
import { iovFromBuf, iovSize, iovToBuf, dmaMap } from '../../engine/hw/virtio/virtio-dma.js';

const RAM = 0x80000000;
const RAM_SIZE = 1 << 20;
const ROM = 0x1000;
const MMIO = 0x10000000;

class FakeOwner implements VirtQueueOwner {
  broken = false;
  errors: string[] = [];
  ev = false;
  noe = false;
  constructor(readonly dma: AddressSpace) {}
  eventIdx() {
    return this.ev;
  }
  notifyOnEmpty() {
    return this.noe;
  }
  error(msg: string) {
    if (this.broken) return;
    this.errors.push(msg);
    this.broken = true;
  }
}

let as: AddressSpace;
let ram: MemoryRegion;
let mmioWrites: number;
let owner: FakeOwner;

beforeEach(() => {
  const sys = MemoryRegion.container('sys', 2 ** 40);
  ram = MemoryRegion.ram('ram', RAM_SIZE);
  sys.addSubregion(RAM, ram);
  sys.addSubregion(ROM, MemoryRegion.rom('rom', 0x1000));
  mmioWrites = 0;
  sys.addSubregion(
    MMIO,
    MemoryRegion.io('dev', 0x1000, {
      read: () => 0,
      write: () => void mmioWrites++,
    }),
  );
  as = new AddressSpace(sys, 'test');
  owner = new FakeOwner(as);
});
afterEach(() => as.destroy());

const w16 = (a: number, v: number) => as.write(a, 2, v);
const w32 = (a: number, v: number) => as.write(a, 4, v);
const r16 = (a: number) => as.read(a, 2);
const r32 = (a: number) => as.read(a, 4);

/** A driver-side view of one split ring in guest RAM (modern layout). */
class Driver {
  readonly desc = RAM + 0x1000;
  readonly avail = RAM + 0x2000;
  readonly used = RAM + 0x3000;
  availIdx = 0;
  usedSeen = 0;
  constructor(readonly num: number) {}
  setDesc(i: number, addr: number, len: number, flags: number, next = 0, table = this.desc): void {
    const a = table + 16 * i;
    w32(a, addr % 2 ** 32);
    w32(a + 4, Math.floor(addr / 2 ** 32));
    w32(a + 8, len);
    w16(a + 12, flags);
    w16(a + 14, next);
  }
  /** Make `head` available. */
  kick(head: number): void {
    w16(this.avail + 4 + 2 * (this.availIdx % this.num), head);
    this.availIdx = (this.availIdx + 1) & 0xffff;
    w16(this.avail + 2, this.availIdx);
  }
  setAvailFlags(f: number) {
    w16(this.avail, f);
  }
  setUsedEvent(v: number) {
    w16(this.avail + 4 + 2 * this.num, v);
  }
  usedIdx() {
    return r16(this.used + 2);
  }
  usedFlags() {
    return r16(this.used);
  }
  availEvent() {
    return r16(this.used + 4 + 8 * this.num);
  }
  usedEntry(slot: number) {
    return {
      id: r32(this.used + 4 + 8 * (slot % this.num)),
      len: r32(this.used + 8 + 8 * (slot % this.num)),
    };
  }
  queue(size = this.num): VirtQueue {
    const vq = new VirtQueue(owner, 0, size, null);
    vq.num = this.num;
    vq.setRings(this.desc, this.avail, this.used);
    return vq;
  }
}

const BUF = RAM + 0x10000;

describe('split virtqueue', () => {
  it('pops a chain of readable then writable buffers and returns it through the used ring', () => {
    const d = new Driver(8);
    const vq = d.queue();
    as.writeBytes(BUF, new Uint8Array([1, 2, 3, 4]));
    d.setDesc(3, BUF, 4, VRING_DESC_F_NEXT, 5);
    d.setDesc(5, BUF + 0x100, 6, VRING_DESC_F_NEXT | VRING_DESC_F_WRITE, 1);
    d.setDesc(1, BUF + 0x200, 2, VRING_DESC_F_WRITE);
    expect(vq.isEmpty()).toBe(true);
    d.kick(3);
    expect(vq.isEmpty()).toBe(false);
    const e = vq.pop()!;
    expect(e.index).toBe(3);
    expect(iovSize(e.outSg)).toBe(4);
    expect(iovSize(e.inSg)).toBe(8);
    const got = new Uint8Array(4);
    iovToBuf(e.outSg, 0, got);
    expect([...got]).toEqual([1, 2, 3, 4]);
    // Writes span both writable buffers in order.
    expect(iovFromBuf(e.inSg, 0, new Uint8Array([9, 9, 9, 9, 9, 9, 7, 7]))).toBe(8);
    expect(as.read(BUF + 0x105, 1)).toBe(9);
    expect(as.read(BUF + 0x201, 1)).toBe(7);
    expect(vq.inuse).toBe(1);
    expect(vq.pop()).toBeNull();
    vq.push(e, 8);
    expect(d.usedIdx()).toBe(1);
    expect(d.usedEntry(0)).toEqual({ id: 3, len: 8 });
    expect(vq.inuse).toBe(0);
    expect(owner.errors).toEqual([]);
  });

  it('completes out of order with fill/flush', () => {
    const d = new Driver(4);
    const vq = d.queue();
    for (let i = 0; i < 3; i++) {
      d.setDesc(i, BUF + i * 16, 16, VRING_DESC_F_WRITE);
      d.kick(i);
    }
    const [a, b, c] = [vq.pop()!, vq.pop()!, vq.pop()!];
    vq.fill(c, 3, 0);
    vq.fill(a, 1, 1);
    vq.flush(2);
    vq.push(b, 2);
    expect([0, 1, 2].map((s) => d.usedEntry(s))).toEqual([
      { id: 2, len: 3 },
      { id: 0, len: 1 },
      { id: 1, len: 2 },
    ]);
    expect(d.usedIdx()).toBe(3);
  });

  it('follows an indirect table', () => {
    const d = new Driver(8);
    const vq = d.queue();
    const table = RAM + 0x8000;
    d.setDesc(0, BUF, 16, VRING_DESC_F_NEXT, 2, table);
    d.setDesc(2, BUF + 0x100, 512, VRING_DESC_F_NEXT | VRING_DESC_F_WRITE, 1, table);
    d.setDesc(1, BUF + 0x400, 1, VRING_DESC_F_WRITE, 0, table);
    d.setDesc(6, table, 3 * 16, VRING_DESC_F_INDIRECT);
    d.kick(6);
    const e = vq.pop()!;
    expect(e.index).toBe(6);
    expect(e.outDesc).toEqual([{ addr: BUF, len: 16 }]);
    expect(e.inDesc).toEqual([
      { addr: BUF + 0x100, len: 512 },
      { addr: BUF + 0x400, len: 1 },
    ]);
    expect(owner.errors).toEqual([]);
  });

  it('event index: avail_event follows pops, notifications follow used_event, indexes wrap at 2^16', () => {
    owner.ev = true;
    const d = new Driver(4);
    // Start both sides near the wrap point.
    d.availIdx = 0xfffe;
    w16(d.avail + 2, 0xfffe);
    w16(d.used + 2, 0xfffe);
    const vq = d.queue();
    vq.lastAvailIdx = vq.shadowAvailIdx = vq.usedIdx = 0xfffe;
    for (let i = 0; i < 4; i++) d.setDesc(i, BUF + 64 * i, 64, VRING_DESC_F_WRITE);
    d.setUsedEvent(0xffff); // interrupt once used idx moves past 0xffff
    d.kick(0);
    d.kick(1);
    d.kick(2);
    expect(d.availIdx).toBe(1);
    const e0 = vq.pop()!;
    expect(d.availEvent()).toBe(0xffff);
    const e1 = vq.pop()!;
    const e2 = vq.pop()!;
    expect(d.availEvent()).toBe(1);
    expect(vq.lastAvailIdx).toBe(1);
    vq.push(e0, 0); // used idx 0xffff: has not crossed used_event (0xffff) yet
    expect(vq.shouldNotify()).toBe(true); // first check is always true (nothing signalled before)
    vq.push(e1, 0); // used idx 0: crossed 0xffff
    d.setUsedEvent(0x10);
    expect(vq.shouldNotify()).toBe(false);
    vq.push(e2, 0);
    expect(d.usedIdx()).toBe(1);
    expect(vq.shouldNotify()).toBe(false);
    d.setUsedEvent(0);
    // used moved 0 -> 1 since the last signal at 0: event 0 crossed.
    expect(vringNeedEvent(0, 1, 0)).toBe(true);
    expect(vringNeedEvent(5, 1, 0)).toBe(false);
    expect(vringNeedEvent(0xffff, 0, 0xfffe)).toBe(true);
    expect(owner.errors).toEqual([]);
  });

  it('without event index: NO_INTERRUPT and NO_NOTIFY flags; notify_on_empty', () => {
    const d = new Driver(4);
    const vq = d.queue();
    d.setDesc(0, BUF, 8, VRING_DESC_F_WRITE);
    d.kick(0);
    vq.setNotification(false);
    expect(d.usedFlags() & VRING_USED_F_NO_NOTIFY).toBe(VRING_USED_F_NO_NOTIFY);
    vq.setNotification(true);
    expect(d.usedFlags() & VRING_USED_F_NO_NOTIFY).toBe(0);
    const e = vq.pop()!;
    vq.push(e, 8);
    d.setAvailFlags(VRING_AVAIL_F_NO_INTERRUPT);
    expect(vq.shouldNotify()).toBe(false);
    owner.noe = true; // queue empty and nothing in use: always notify
    expect(vq.shouldNotify()).toBe(true);
    d.setAvailFlags(0);
    owner.noe = false;
    expect(vq.shouldNotify()).toBe(true);
  });

  it('counts available bytes without popping', () => {
    const d = new Driver(8);
    const vq = d.queue();
    d.setDesc(0, BUF, 100, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 1);
    d.setDesc(1, BUF + 200, 50, VRING_DESC_F_WRITE);
    d.setDesc(2, BUF + 400, 30, 0);
    d.kick(0);
    d.kick(2);
    expect(vq.getAvailBytes(1000, 1000)).toEqual({ inBytes: 150, outBytes: 30 });
    expect(vq.getAvailBytes(120, 0)).toEqual({ inBytes: 120, outBytes: 0 });
    expect(vq.availBytes(150, 30)).toBe(true);
    expect(vq.availBytes(151, 0)).toBe(false);
    expect(vq.lastAvailIdx).toBe(0);
  });

  it('splits a buffer that spans two RAM regions, and maps nothing outside RAM', () => {
    expect(dmaMap(as, RAM + RAM_SIZE - 8, 16, false)).toBeNull();
    expect(dmaMap(as, MMIO, 4, false)).toBeNull();
    expect(dmaMap(as, ROM, 4, false)).not.toBeNull();
    expect(dmaMap(as, ROM, 4, true)).toBeNull();
    expect(dmaMap(as, 2 ** 60, 4, false)).toBeNull();
    expect(dmaMap(as, RAM, 2 ** 32 - 1, false)).toBeNull();
  });
});

describe('guest mistakes break the device, never the host', () => {
  type Setup = (d: Driver, vq: VirtQueue) => void;
  const cases: Array<[string, Setup, string]> = [
    ['next out of range', (d) => d.setDesc(0, BUF, 8, VRING_DESC_F_NEXT, 9), 'Desc next is 9'],
    [
      'loop',
      (d) => {
        d.setDesc(0, BUF, 8, VRING_DESC_F_NEXT, 1);
        d.setDesc(1, BUF, 8, VRING_DESC_F_NEXT, 0);
      },
      'Looped descriptor',
    ],
    [
      'buffer outside RAM',
      (d) => d.setDesc(0, 0x50000000, 8, 0),
      'virtio: bogus descriptor or out of resources',
    ],
    [
      'buffer on MMIO',
      (d) => d.setDesc(0, MMIO, 8, VRING_DESC_F_WRITE),
      'virtio: bogus descriptor or out of resources',
    ],
    [
      'writable buffer in ROM',
      (d) => d.setDesc(0, ROM, 8, VRING_DESC_F_WRITE),
      'virtio: bogus descriptor or out of resources',
    ],
    [
      'buffer running past the end of RAM',
      (d) => d.setDesc(0, RAM + RAM_SIZE - 16, 0xffffffff, VRING_DESC_F_WRITE),
      'virtio: bogus descriptor or out of resources',
    ],
    [
      'address beyond 2^53',
      (d) => d.setDesc(0, 2 ** 63, 8, 0),
      'virtio: bogus descriptor or out of resources',
    ],
    ['zero length', (d) => d.setDesc(0, BUF, 0, 0), 'virtio: zero sized buffers are not allowed'],
    [
      'readable after writable',
      (d) => {
        d.setDesc(0, BUF, 8, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 1);
        d.setDesc(1, BUF, 8, 0);
      },
      'Incorrect order for descriptors',
    ],
    [
      'indirect table of odd size',
      (d) => d.setDesc(0, RAM + 0x8000, 20, VRING_DESC_F_INDIRECT),
      'Invalid size for indirect buffer table',
    ],
    [
      'empty indirect table',
      (d) => d.setDesc(0, RAM + 0x8000, 0, VRING_DESC_F_INDIRECT),
      'Invalid size for indirect buffer table',
    ],
    [
      'indirect table outside RAM',
      (d) => d.setDesc(0, MMIO, 32, VRING_DESC_F_INDIRECT),
      'Cannot map indirect buffer',
    ],
    [
      'nested indirect',
      (d) => {
        d.setDesc(0, RAM + 0x9000, 16, VRING_DESC_F_INDIRECT, 0, RAM + 0x8000);
        d.setDesc(0, RAM + 0x8000, 16, VRING_DESC_F_INDIRECT);
      },
      'Nested indirect descriptor',
    ],
    [
      'loop inside an indirect table',
      (d) => {
        d.setDesc(0, BUF, 8, VRING_DESC_F_NEXT, 1, RAM + 0x8000);
        d.setDesc(1, BUF, 8, VRING_DESC_F_NEXT, 0, RAM + 0x8000);
        d.setDesc(0, RAM + 0x8000, 32, VRING_DESC_F_INDIRECT);
      },
      'Looped descriptor',
    ],
    [
      'next beyond an indirect table',
      (d) => {
        d.setDesc(0, BUF, 8, VRING_DESC_F_NEXT, 2, RAM + 0x8000);
        d.setDesc(0, RAM + 0x8000, 32, VRING_DESC_F_INDIRECT);
      },
      'Desc next is 2',
    ],
  ];

  for (const [name, setup, msg] of cases) {
    it(name, () => {
      const d = new Driver(8);
      const vq = d.queue();
      const before = new Uint8Array(ram.hostBlock!.u8);
      setup(d, vq);
      d.kick(0);
      expect(() => vq.pop()).not.toThrow();
      expect(owner.errors).toEqual([msg]);
      expect(owner.broken).toBe(true);
      // Broken: nothing more is popped, nothing is written to the used ring.
      d.setDesc(1, BUF, 8, VRING_DESC_F_WRITE);
      d.kick(1);
      expect(vq.pop()).toBeNull();
      expect(d.usedIdx()).toBe(0);
      expect(mmioWrites).toBe(0);
      // Only the driver's own writes changed RAM (the used ring was not touched).
      const after = ram.hostBlock!.u8;
      for (let a = 0x3000; a < 0x3000 + 6 + 8 * 8; a++) expect(after[a]).toBe(before[a]);
    });
  }

  it('head index beyond the ring', () => {
    const d = new Driver(8);
    const vq = d.queue();
    d.kick(8);
    expect(vq.pop()).toBeNull();
    expect(owner.errors).toEqual(['Guest says index 8 is available']);
  });

  it('available index moved by more than the ring size', () => {
    const d = new Driver(8);
    const vq = d.queue();
    w16(d.avail + 2, 9);
    expect(vq.pop()).toBeNull();
    expect(owner.errors).toEqual(['Guest moved used index from 0 to 9']);
  });

  it('more chains in use than the ring holds', () => {
    const d = new Driver(2);
    const vq = d.queue();
    d.setDesc(0, BUF, 8, 0);
    d.setDesc(1, BUF, 8, 0);
    d.kick(0);
    d.kick(1);
    expect(vq.pop()).not.toBeNull();
    expect(vq.pop()).not.toBeNull();
    // The guest re-offers a head we still hold: inuse would exceed the ring.
    d.kick(0);
    expect(vq.pop()).toBeNull();
    expect(owner.errors).toEqual(['Virtqueue size exceeded']);
  });

  it('rings that are not in RAM', () => {
    const vq = new VirtQueue(owner, 0, 8, null);
    vq.setRings(MMIO, RAM + 0x2000, RAM + 0x3000);
    expect(owner.errors).toEqual(['Cannot map desc']);
    owner.broken = false;
    owner.errors = [];
    vq.setRings(RAM + 0x1000, RAM + 0x2000, RAM + RAM_SIZE - 4);
    expect(owner.errors).toEqual(['Cannot map used']);
    expect(vq.pop()).toBeNull();
    owner.broken = false;
    owner.errors = [];
    vq.setRings(RAM + 0x1000, ROM, RAM + 0x3000);
    expect(owner.errors).toEqual([]); // the available ring is only read: ROM is fine
  });

  it('random descriptor tables never throw and never write outside the used ring', () => {
    let seed = 12345;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 8) / 2 ** 24;
    for (let round = 0; round < 200; round++) {
      owner = new FakeOwner(as);
      const d = new Driver(8);
      const vq = d.queue();
      for (let i = 0; i < 8; i++) {
        const addr = [BUF, MMIO, ROM, RAM + RAM_SIZE - 4, 2 ** 40, RAM + 0x8000][Math.floor(rnd() * 6)]!;
        const len = [0, 1, 16, 48, 4096, 0xffffffff][Math.floor(rnd() * 6)]!;
        d.setDesc(i, addr, len, Math.floor(rnd() * 8), Math.floor(rnd() * 10));
      }
      for (let k = 0; k < 4; k++) d.kick(Math.floor(rnd() * 9));
      expect(() => {
        for (let k = 0; k < 5; k++) {
          const e = vq.pop();
          if (e) {
            iovFromBuf(e.inSg, 0, new Uint8Array(64).fill(0xaa));
            vq.push(e, 64);
          }
          vq.getAvailBytes(1 << 20, 1 << 20);
        }
      }).not.toThrow();
      expect(mmioWrites).toBe(0);
    }
  });
});
