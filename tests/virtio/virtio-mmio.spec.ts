/**
 * virtio-mmio transports of the `virt` machine driven register by register, as the Linux driver
 * does, with a virtio-blk-device on a raw image and a virtio-rng-device: the legacy layout
 * (QEMU 7.2's default) and the modern one (-global virtio-mmio.force-legacy=false), interrupts
 * through the PLIC, every virtio-blk request type, guest mistakes (NEEDS_RESET), reset, the
 * device state through VMState with a request in flight, and `info qtree` against QEMU 7.2.
 */
import { afterEach, describe, expect, it } from 'vitest';
import {
  closeSync,
  mkdtempSync,
  openSync,
  readFileSync,
  readSync,
  rmSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { qemuInit } from '../../engine/system/vl.js';
import { objectResolvePath } from '../../engine/qom/object.js';
import { runstateGet, vmStart } from '../../engine/system/runstate.js';
import { BlockIoError } from '../../engine/block/block-error.js';
import { addressSpaceMemory } from '../../engine/hw/riscv/machine-memory.js';
import { formatQtree } from '../../engine/hw/core/qdev-monitor.js';
import { vmstateLoadFromBytes, vmstateSaveToBytes } from '../../engine/migration/vmstate.js';
import type { VMStateDescription } from '../../engine/migration/vmstate-types.js';
import { setVirtioErrorSink, type VirtIODevice } from '../../engine/hw/virtio/virtio.js';
import type { VirtIOBlock } from '../../engine/hw/virtio/virtio-blk.js';
import { VIRT_TEST_ARGS, peripheral, resetEngine, startVirt } from '../helpers/virt-device-harness.js';
import { until } from '../helpers/until.js';

const SLOT7 = 0x10008000; // first -device: last slot, PLIC source 8
const SLOT6 = 0x10007000; // second -device: source 7
const PLIC_PENDING = 0xc000000 + 0x1000;
const RAM = 0x80000000;
const RING = RAM + 0x100000;
const BUF = RAM + 0x200000;
const NUM = 16;

const as = () => addressSpaceMemory();
const rd = (a: number, size = 4) => as().read(a, size);
const wr = (a: number, v: number, size = 4) => as().write(a, size, v >>> 0);
const pending = (src: number) => (rd(PLIC_PENDING) >>> src) & 1;

let dir = '';
let errors: string[] = [];
let restoreSink: (() => void) | null = null;

/** The machine with `extra`, virtio errors collected in `errors`. */
async function start(extra: string[]): Promise<void> {
  errors = [];
  restoreSink = setVirtioErrorSink((m) => errors.push(m));
  await startVirt(extra);
}

function image(size = 64 * 1024 * 1024): string {
  dir = mkdtempSync(join(tmpdir(), 'vmstudio-vmmio-'));
  const p = join(dir, 'disk.raw');
  writeFileSync(p, new Uint8Array(0));
  truncateSync(p, size);
  return p;
}

/**
 * A virtio-blk-device on a fresh image as drive d0 (`drive` and `device` append options), on the
 * modern transport layout with `modern`; returns the image.
 */
async function startBlk(opts: { modern?: boolean; drive?: string; device?: string } = {}): Promise<string> {
  const disk = image();
  await start([
    ...(opts.modern ? ['-global', 'virtio-mmio.force-legacy=false'] : []),
    '-drive',
    `file=${disk},if=none,id=d0,format=raw${opts.drive ?? ''}`,
    '-device',
    `virtio-blk-device,drive=d0${opts.device ?? ''}`,
  ]);
  return disk;
}

function fileBytes(p: string, offset: number, len: number): Uint8Array {
  const fd = openSync(p, 'r');
  try {
    const b = new Uint8Array(len);
    readSync(fd, b, 0, len, offset);
    return b;
  } finally {
    closeSync(fd);
  }
}

afterEach(async () => {
  restoreSink?.();
  await resetEngine();
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = '';
});

/** The guest side of one queue: descriptors, available ring, used ring in guest RAM. */
class Ring {
  availIdx = 0;
  usedSeen = 0;
  nextDesc = 0;
  constructor(
    readonly desc: number,
    readonly avail: number,
    readonly used: number,
  ) {}
  static legacy(base: number, align = 4096): Ring {
    const avail = base + 16 * NUM;
    return new Ring(base, avail, Math.ceil((avail + 6 + 2 * NUM) / align) * align);
  }
  static modern(base: number): Ring {
    return new Ring(base, base + 0x400, base + 0x800);
  }
  /** Queue a chain of [addr, len, writable] buffers; returns the head. */
  add(bufs: Array<[number, number, boolean]>): number {
    const head = this.nextDesc;
    bufs.forEach(([addr, len, w], i) => {
      const d = this.desc + 16 * ((head + i) % NUM);
      wr(d, addr);
      wr(d + 4, 0);
      wr(d + 8, len);
      const last = i === bufs.length - 1;
      wr(d + 12, (last ? 0 : 1) | (w ? 2 : 0), 2);
      wr(d + 14, (head + i + 1) % NUM, 2);
    });
    this.nextDesc = (head + bufs.length) % NUM;
    wr(this.avail + 4 + 2 * (this.availIdx % NUM), head, 2);
    this.availIdx = (this.availIdx + 1) & 0xffff;
    wr(this.avail + 2, this.availIdx, 2);
    return head;
  }
  usedIdx(): number {
    return rd(this.used + 2, 2);
  }
  usedEntry(slot: number): { id: number; len: number } {
    const e = this.used + 4 + 8 * (slot % NUM);
    return { id: rd(e), len: rd(e + 4) };
  }
}

/** The Linux driver's probe sequence, legacy or modern; returns the queue 0 ring. */
function driverInit(
  base: number,
  modern: boolean,
  features: (lo: number, hi: number) => [number, number],
): Ring {
  expect(rd(base)).toBe(0x74726976);
  expect(rd(base + 4)).toBe(modern ? 2 : 1);
  expect(rd(base + 0xc)).toBe(0x554d4551);
  wr(base + 0x70, 0);
  wr(base + 0x70, 1);
  wr(base + 0x70, 3);
  wr(base + 0x14, 0);
  const lo = rd(base + 0x10);
  wr(base + 0x14, 1);
  const hi = rd(base + 0x10);
  const [glo, ghi] = features(lo, hi);
  wr(base + 0x24, 0);
  wr(base + 0x20, glo);
  wr(base + 0x24, 1);
  wr(base + 0x20, ghi);
  if (modern) {
    wr(base + 0x70, 3 | 8);
    expect(rd(base + 0x70) & 8).toBe(8);
  } else {
    wr(base + 0x28, 4096);
  }
  wr(base + 0x30, 0);
  expect(rd(base + 0x34)).toBe(1024);
  let ring: Ring;
  if (modern) {
    expect(rd(base + 0x44)).toBe(0);
    ring = Ring.modern(RING);
    wr(base + 0x38, NUM);
    wr(base + 0x80, ring.desc);
    wr(base + 0x84, 0);
    wr(base + 0x90, ring.avail);
    wr(base + 0x94, 0);
    wr(base + 0xa0, ring.used);
    wr(base + 0xa4, 0);
    wr(base + 0x44, 1);
    expect(rd(base + 0x44)).toBe(1);
  } else {
    expect(rd(base + 0x40)).toBe(0);
    ring = Ring.legacy(RING);
    wr(base + 0x38, NUM);
    wr(base + 0x3c, 4096);
    wr(base + 0x40, RING / 4096);
    expect(rd(base + 0x40)).toBe(RING / 4096);
  }
  wr(base + 0x70, modern ? 15 : 7);
  return ring;
}

/** Legacy setup of queue 0 with its ring at `base`. */
function driverInitAt(base: number, ringAddr: number): Ring {
  wr(base + 0x70, 0);
  wr(base + 0x70, 3);
  wr(base + 0x20, rd(base + 0x10));
  wr(base + 0x28, 4096);
  wr(base + 0x30, 0);
  wr(base + 0x38, NUM);
  wr(base + 0x3c, 4096);
  wr(base + 0x40, ringAddr / 4096);
  wr(base + 0x70, 7);
  return Ring.legacy(ringAddr);
}

const HDR = BUF;
const DATA = BUF + 0x1000;
const STATUS = BUF + 0x800;

type BlkData = { addr: number; len: number; write: boolean } | null;

/** Queue and kick one virtio-blk request: header, optional data, status byte; returns the head. */
function blkSubmit(base: number, ring: Ring, type: number, sector: number, data: BlkData): number {
  wr(HDR, type);
  wr(HDR + 4, 0);
  wr(HDR + 8, sector);
  wr(HDR + 12, 0);
  wr(STATUS, 0xff, 1);
  const chain: Array<[number, number, boolean]> = [[HDR, 16, false]];
  if (data) chain.push([data.addr, data.len, data.write]);
  chain.push([STATUS, 1, true]);
  const head = ring.add(chain);
  wr(base + 0x50, 0);
  return head;
}

/** One virtio-blk request, waited for: its status byte and the used length. */
async function blkRequest(
  base: number,
  ring: Ring,
  type: number,
  sector: number,
  data: BlkData,
): Promise<{ status: number; len: number }> {
  const before = ring.usedIdx();
  const head = blkSubmit(base, ring, type, sector, data);
  await until(() => ring.usedIdx() !== before);
  const e = ring.usedEntry(before);
  expect(e.id).toBe(head);
  return { status: rd(STATUS, 1), len: e.len };
}

const pattern = (n: number, seed: number) => Uint8Array.from({ length: n }, (_, i) => (i * 7 + seed) & 0xff);

describe('virtio-mmio with virtio-blk and virtio-rng', () => {
  for (const modern of [false, true]) {
    it(`${modern ? 'modern' : 'legacy'} layout: features, queue setup, blk requests, interrupts`, async () => {
      const disk = await startBlk({ modern, device: ',id=vblk0,serial=SER-0123456789-ABCDEFGH' });
      expect(rd(SLOT7 + 8)).toBe(2);
      expect(rd(SLOT6 + 8)).toBe(0);
      let offered: [number, number] = [0, 0];
      const ring = driverInit(SLOT7, modern, (lo, hi) => {
        offered = [lo, hi];
        return [lo & ~(1 << 29), hi]; // everything but event idx
      });
      // Offered: SEG_MAX, GEOMETRY, BLK_SIZE, FLUSH, TOPOLOGY, CONFIG_WCE, DISCARD, WRITE_ZEROES,
      // indirect, event idx; legacy adds SCSI and notify_on_empty, modern VERSION_1 and RING_RESET.
      for (const b of [2, 4, 6, 9, 10, 11, 13, 14, 28, 29])
        expect((offered[0] >>> b) & 1, `bit ${b}`).toBe(1);
      expect((offered[0] >>> 5) & 1).toBe(0); // not read-only
      if (modern) {
        expect(offered[1]).toBe((1 << 0) | (1 << 8));
        expect((offered[0] >>> 24) & 1).toBe(0);
        expect((offered[0] >>> 7) & 1).toBe(0);
        expect(rd(SLOT7 + 0xfc)).toBe(0); // config generation
      } else {
        expect(offered[1]).toBe(0);
        expect((offered[0] >>> 7) & 1).toBe(1);
        expect((offered[0] >>> 24) & 1).toBe(1);
        expect((offered[0] >>> 27) & 1).toBe(0); // any_layout cleared for legacy virtio-blk
      }
      // Config space: capacity, seg_max, geometry, blk_size, num_queues, discard/write-zeroes limits.
      expect(rd(SLOT7 + 0x100)).toBe(131072);
      expect(rd(SLOT7 + 0x104)).toBe(0);
      expect(rd(SLOT7 + 0x10c)).toBe(254);
      expect(rd(SLOT7 + 0x110, 2)).toBe(130);
      expect(rd(SLOT7 + 0x112, 1)).toBe(16);
      expect(rd(SLOT7 + 0x113, 1)).toBe(63);
      expect(rd(SLOT7 + 0x114)).toBe(512);
      expect(rd(SLOT7 + 0x122, 2)).toBe(1);
      expect(rd(SLOT7 + 0x124)).toBe(4194303);
      expect(rd(SLOT7 + 0x128)).toBe(1);
      expect(rd(SLOT7 + 0x12c)).toBe(1);
      expect(rd(SLOT7 + 0x138, 1)).toBe(1);
      expect(rd(SLOT7 + 0x139, 1)).toBe(0xff); // beyond the 57-byte config space

      // Write 2 KiB at sector 5 in two segments, read it back in one.
      const data = pattern(2048, 3);
      as().writeBytes(DATA, data);
      wr(HDR, 1);
      wr(HDR + 8, 5);
      wr(STATUS, 0xff, 1);
      const before = ring.usedIdx();
      ring.add([
        [HDR, 16, false],
        [DATA, 1024, false],
        [DATA + 1024, 1024, false],
        [STATUS, 1, true],
      ]);
      expect(pending(8)).toBe(0);
      wr(SLOT7 + 0x50, 0);
      await until(() => ring.usedIdx() !== before);
      expect(rd(STATUS, 1)).toBe(0);
      expect(ring.usedEntry(before).len).toBe(1);
      expect(rd(SLOT7 + 0x60)).toBe(1);
      expect(pending(8)).toBe(1);
      wr(SLOT7 + 0x64, 1);
      expect(rd(SLOT7 + 0x60)).toBe(0);

      expect((await blkRequest(SLOT7, ring, 4, 0, null)).status).toBe(0); // flush
      expect(fileBytes(disk, 5 * 512, 2048)).toEqual(data);
      const r = await blkRequest(SLOT7, ring, 0, 5, { addr: DATA + 0x4000, len: 2048, write: true });
      expect(r).toEqual({ status: 0, len: 2049 });
      const back = new Uint8Array(2048);
      as().readBytes(DATA + 0x4000, back);
      expect(back).toEqual(data);

      // GET_ID: the serial, cut at 20 bytes without a NUL.
      const id = await blkRequest(SLOT7, ring, 8, 0, { addr: DATA + 0x8000, len: 20, write: true });
      expect(id.status).toBe(0);
      const idBytes = new Uint8Array(20);
      as().readBytes(DATA + 0x8000, idBytes);
      expect(Buffer.from(idBytes).toString('latin1')).toBe('SER-0123456789-ABCDE');

      // Write zeroes over part of it; discard with UNMAP is refused; plain discard works.
      const seg = DATA + 0x9000;
      wr(seg, 6);
      wr(seg + 4, 0);
      wr(seg + 8, 2);
      wr(seg + 12, 0);
      expect((await blkRequest(SLOT7, ring, 13, 0, { addr: seg, len: 16, write: false })).status).toBe(0);
      expect(fileBytes(disk, 6 * 512, 1024)).toEqual(new Uint8Array(1024));
      expect(fileBytes(disk, 5 * 512, 512)).toEqual(data.subarray(0, 512));
      wr(seg + 12, 1);
      expect((await blkRequest(SLOT7, ring, 11, 0, { addr: seg, len: 16, write: false })).status).toBe(2);
      wr(seg + 12, 0);
      expect((await blkRequest(SLOT7, ring, 11, 0, { addr: seg, len: 16, write: false })).status).toBe(0);
      // Too many sectors for one write-zeroes.
      wr(seg + 8, 4194304);
      expect((await blkRequest(SLOT7, ring, 13, 0, { addr: seg, len: 16, write: false })).status).toBe(1);

      // Out of range, misaligned size, unknown type, SCSI passthrough.
      expect((await blkRequest(SLOT7, ring, 0, 131072, { addr: DATA, len: 512, write: true })).status).toBe(
        1,
      );
      expect((await blkRequest(SLOT7, ring, 0, 131071, { addr: DATA, len: 1024, write: true })).status).toBe(
        1,
      );
      expect((await blkRequest(SLOT7, ring, 0, 0, { addr: DATA, len: 100, write: true })).status).toBe(1);
      expect((await blkRequest(SLOT7, ring, 99, 0, null)).status).toBe(2);
      expect((await blkRequest(SLOT7, ring, 2, 0, null)).status).toBe(2);
      expect(errors).toEqual([]);
    });
  }

  it('requests complete out of order and all get their answer', async () => {
    await startBlk();
    const ring = driverInit(SLOT7, false, (lo) => [lo, 0]);
    const heads: number[] = [];
    for (let i = 0; i < 4; i++) {
      const hdr = BUF + 0x100 * i;
      wr(hdr, i % 2); // reads and writes
      wr(hdr + 8, i * 8);
      heads.push(
        ring.add([
          [hdr, 16, false],
          [DATA + 0x1000 * i, 4096, i % 2 === 0],
          [hdr + 0x80, 1, true],
        ]),
      );
    }
    wr(SLOT7 + 0x50, 0);
    await until(() => ring.usedIdx() === 4);
    const ids = [0, 1, 2, 3].map((s) => ring.usedEntry(s).id).sort();
    expect(ids).toEqual([...heads].sort());
    for (let i = 0; i < 4; i++) expect(rd(BUF + 0x100 * i + 0x80, 1)).toBe(0);
  });

  it('read-only drive: RO feature, writes fail with IOERR (werror=report)', async () => {
    await startBlk({ drive: ',readonly=on', device: ',werror=report' });
    let lo = 0;
    const ring = driverInit(SLOT7, false, (l) => {
      lo = l;
      return [l, 0];
    });
    expect((lo >>> 5) & 1).toBe(1);
    expect((await blkRequest(SLOT7, ring, 1, 0, { addr: DATA, len: 512, write: false })).status).toBe(1);
    expect((await blkRequest(SLOT7, ring, 0, 0, { addr: DATA, len: 512, write: true })).status).toBe(0);
  });

  it('werror=enospc: ENOSPC stops the VM, the write is retried on cont; werror=ignore completes', async () => {
    const disk = await startBlk({ device: ',id=vblk0' });
    vmStart();
    const dev = peripheral<VirtIOBlock>('vblk0');
    const blk = dev.blk!;
    const real = blk.pwrite.bind(blk);
    let failures = 1;
    blk.pwrite = (off, data) =>
      failures-- > 0 ? Promise.reject(new BlockIoError('ENOSPC')) : real(off, data);
    const ring = driverInit(SLOT7, false, (lo) => [lo, 0]);
    const data = pattern(512, 77);
    as().writeBytes(DATA, data);
    blkSubmit(SLOT7, ring, 1, 3, { addr: DATA, len: 512, write: false });
    await until(() => runstateGet() === 'io-error');
    expect(ring.usedIdx()).toBe(0);
    expect(dev.rq.length).toBe(1);
    vmStart();
    await until(() => ring.usedIdx() === 1);
    expect(rd(STATUS, 1)).toBe(0);
    expect(fileBytes(disk, 3 * 512, 512)).toEqual(data);
    // EIO under the default policy is reported to the guest; with werror=ignore it is not.
    failures = 1;
    blk.pwrite = (off, d) => (failures-- > 0 ? Promise.reject(new BlockIoError('EIO')) : real(off, d));
    expect((await blkRequest(SLOT7, ring, 1, 0, { addr: DATA, len: 512, write: false })).status).toBe(1);
    dev.werror = 'ignore';
    failures = 1;
    expect((await blkRequest(SLOT7, ring, 1, 0, { addr: DATA, len: 512, write: false })).status).toBe(0);
    expect(runstateGet()).toBe('running');
  });

  it('a bad descriptor breaks the device (NEEDS_RESET for modern drivers) until it is reset', async () => {
    await startBlk({ modern: true });
    const ring = driverInit(SLOT7, true, (lo, hi) => [lo, hi]);
    wr(HDR, 0);
    ring.add([
      [HDR, 16, false],
      [0x50000000, 512, true], // not RAM
      [STATUS, 1, true],
    ]);
    expect(() => wr(SLOT7 + 0x50, 0)).not.toThrow();
    expect(errors).toEqual(['virtio-blk: virtio: bogus descriptor or out of resources']);
    expect(rd(SLOT7 + 0x70) & 0x40).toBe(0x40);
    expect(rd(SLOT7 + 0x60) & 2).toBe(2); // config change interrupt
    expect(rd(SLOT7 + 0xfc)).toBe(1);
    expect(pending(8)).toBe(1);
    // Further kicks do nothing.
    ring.add([
      [HDR, 16, false],
      [DATA, 512, true],
      [STATUS, 1, true],
    ]);
    wr(SLOT7 + 0x50, 0);
    await new Promise((r) => setTimeout(r, 20));
    expect(ring.usedIdx()).toBe(0);
    // Reset: queue disabled, status 0; set up again and it works.
    wr(SLOT7 + 0x70, 0);
    expect(rd(SLOT7 + 0x70)).toBe(0);
    wr(SLOT7 + 0x30, 0);
    expect(rd(SLOT7 + 0x44)).toBe(0);
    for (let a = RING; a < RING + 0x1000; a += 4) wr(a, 0);
    const ring2 = driverInit(SLOT7, true, (lo, hi) => [lo, hi]);
    expect((await blkRequest(SLOT7, ring2, 0, 0, { addr: DATA, len: 512, write: true })).status).toBe(0);
    expect(errors.length).toBe(1);
  });

  it('legacy: QueuePFN 0 resets the device; wrong-size and wrong-layout accesses are ignored', async () => {
    await startBlk();
    driverInit(SLOT7, false, (lo) => [lo, 0]);
    expect(rd(SLOT7 + 0x70)).toBe(7);
    expect(rd(SLOT7 + 0x44)).toBe(0); // QueueReady is modern only
    expect(rd(SLOT7 + 0x70, 2)).toBe(0); // registers are 32-bit only
    wr(SLOT7 + 0x80, 0x1234); // modern-only register: ignored
    wr(SLOT7 + 0x40, 0);
    expect(rd(SLOT7 + 0x70)).toBe(0);
    expect(rd(SLOT7 + 0x40)).toBe(0);
  });

  it('virtio-rng fills the guest buffers', async () => {
    await start([
      '-device',
      'virtio-rng-device,id=r0',
      '-device',
      'virtio-rng-device,id=r1,max-bytes=16,period=100000',
    ]);
    vmStart();
    expect(rd(SLOT7 + 8)).toBe(4);
    const ring = driverInit(SLOT7, false, (lo) => [lo, 0]);
    as().writeBytes(DATA, new Uint8Array(64));
    ring.add([[DATA, 64, true]]);
    wr(SLOT7 + 0x50, 0);
    await until(() => ring.usedIdx() === 1);
    expect(ring.usedEntry(0).len).toBe(64);
    const got = new Uint8Array(64);
    as().readBytes(DATA, got);
    expect(got.some((b) => b !== 0)).toBe(true);
    expect(objectResolvePath('/machine/peripheral/r0/default-backend')?.class.type.name).toBe('rng-builtin');

    // Rate limit: 16 bytes per period, the rest waits for the next period.
    // The second transport's queue sits elsewhere in RAM.
    const ring6 = driverInitAt(SLOT6, RING + 0x10000);
    ring6.add([[DATA + 0x100, 64, true]]);
    wr(SLOT6 + 0x50, 0);
    await until(() => ring6.usedIdx() === 1);
    expect(ring6.usedEntry(0).len).toBe(16);
    ring6.add([[DATA + 0x200, 64, true]]);
    wr(SLOT6 + 0x50, 0);
    await new Promise((r) => setTimeout(r, 50));
    expect(ring6.usedIdx()).toBe(1);
  });

  it('device state through VMState, with a request in flight re-issued on load', async () => {
    const disk = await startBlk({ modern: true, device: ',id=vblk0' });
    const dev = peripheral<VirtIOBlock>('vblk0');
    const vmsd = (dev.class as unknown as { vmsd: VMStateDescription }).vmsd;
    expect(vmsd.name).toBe('virtio-blk');
    const ring = driverInit(SLOT7, true, (lo, hi) => [lo, hi]);
    expect((await blkRequest(SLOT7, ring, 0, 0, { addr: DATA, len: 512, write: true })).status).toBe(0);
    // A write is issued and the state saved before it completes.
    const data = pattern(512, 9);
    as().writeBytes(DATA, data);
    blkSubmit(SLOT7, ring, 1, 40, { addr: DATA, len: 512, write: false });
    expect(dev.inflight.size).toBe(1);
    const saved = vmstateSaveToBytes(vmsd, dev);
    await until(() => ring.usedIdx() === 2);
    // Roll the guest's view back to before the completion (as loadvm restores RAM), then the device.
    wr(ring.used + 2, 1, 2);
    wr(STATUS, 0xff, 1);
    const dv = dev as VirtIODevice;
    vmstateLoadFromBytes(vmsd, dev, saved);
    expect(dv.vq[0]!.lastAvailIdx).toBe(2);
    expect(dv.vq[0]!.usedIdx).toBe(1);
    expect(dv.vq[0]!.inuse).toBe(1);
    expect(dev.rq.length).toBe(1);
    expect(rd(SLOT7 + 0x44)).toBe(1); // transport registers came back too
    vmStart(); // the retry list runs when the VM runs
    await until(() => ring.usedIdx() === 2);
    expect(rd(STATUS, 1)).toBe(0);
    expect(fileBytes(disk, 40 * 512, 512)).toEqual(data);
    // And the queue keeps working after the load.
    expect((await blkRequest(SLOT7, ring, 4, 0, null)).status).toBe(0);
    expect(errors).toEqual([]);
  });

  it('info qtree matches QEMU 7.2 for virtio-blk-device and virtio-rng-device on virtio-mmio', async () => {
    const disk = image();
    await start([
      '-drive',
      `file=${disk},if=none,id=hd0,format=raw`,
      '-device',
      'virtio-blk-device,id=vblk0,drive=hd0',
      '-device',
      'virtio-rng-device,id=vrng0',
    ]);
    const blocks = (t: string) =>
      t
        .replace(/\r/g, '')
        .split(/\n(?= {2}dev: )/)
        .filter((b) => b.startsWith('  dev: virtio-mmio') && /dev: virtio-(blk|rng)-device/.test(b))
        .map((b) => b.replace(/\n+$/, ''));
    const ref = readFileSync(
      join(import.meta.dirname, '../reference/qemu-7.2-riscv-virt/info-qtree.txt'),
      'utf8',
    );
    const expected = blocks(ref);
    expect(expected.length).toBe(2);
    expect(blocks(formatQtree())).toEqual(expected);
  });

  it('refuses what QEMU refuses', async () => {
    const disk = image();
    const err = async (args: string[]) => {
      await resetEngine();
      let out = '';
      const r = await qemuInit([...VIRT_TEST_ARGS, ...args], {
        out: () => undefined,
        err: (t) => void (out += t),
      }).catch((e: Error) => {
        out += e.message;
        return { kind: 'error' };
      });
      expect(r.kind).not.toBe('running');
      return out;
    };
    expect(await err(['-device', 'virtio-blk-device'])).toMatch(/drive property not set/);
    expect(
      await err([
        '-drive',
        `file=${disk},if=none,id=d0,format=raw`,
        '-device',
        'virtio-blk-device,drive=d0,queue-size=100',
      ]),
    ).toMatch(/invalid queue-size property \(100\), must be a power of 2 \(max 1024\)/);
    expect(await err(['-device', 'virtio-rng-device,period=0'])).toMatch(
      /Parameter 'period' expects a positive number/,
    );
    expect(await err(['-device', 'virtio-rng-device,rng=nope'])).toMatch(/nope/);
    const nine = Array.from({ length: 9 }, () => ['-device', 'virtio-rng-device']).flat();
    expect(await err(nine)).toMatch(/No 'virtio-bus' bus found for device 'virtio-rng-device'/);
  });
});
