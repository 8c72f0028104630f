/**
 * SCSI command emulation of scsi-hd / scsi-cd (CDBs in, data/status/sense out) on a test HBA, with
 * raw images through the real block layer; bus addressing, unit attentions and REPORT LUNS.
 */
import { mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import '../../engine/backends/index.js';
import '../../engine/block/blockdev.js';
import { qmpBlockdevAdd } from '../../engine/block/blockdev.js';
import { blkDeleteAll } from '../../engine/block/block-backend.js';
import { bdrvCloseAll } from '../../engine/block/block.js';
import '../../engine/hw/scsi/scsi-disk.js';
import { qomResetRoot } from '../../engine/qom/object.js';
import { qdict } from '../../engine/qobject/qobject.js';
import { machineCreate, machineRunBoardInit, qdevMachineCreationDone } from '../../engine/hw/core/machine.js';
import { qdevDeviceAdd, qmpDeviceDel } from '../../engine/hw/core/qdev-monitor.js';
import { deviceColdReset, onDeviceDeleted } from '../../engine/hw/core/qdev-core.js';
import type { SCSIDiskState } from '../../engine/hw/scsi/scsi-disk.js';
import { testHbaCreate, type TestHba } from './test-hba.js';

const dir = mkdtempSync(join(tmpdir(), 'vmstudio-scsi-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let hba: TestHba;
let n = 0;

/** A raw image under a raw node (none with `node: false`); discard=unmap so UNMAP reaches it. */
async function image(
  size: number,
  fill?: (b: Buffer) => void,
  o: { node?: boolean } = {},
): Promise<{ node: string; path: string }> {
  const path = join(dir, `img${n}.raw`);
  const node = `n${n++}`;
  const b = Buffer.alloc(size);
  fill?.(b);
  writeFileSync(path, b);
  if (o.node !== false) {
    await qmpBlockdevAdd({
      driver: 'raw',
      'node-name': node,
      discard: 'unmap',
      file: { driver: 'file', filename: path, discard: 'unmap' },
    } as never);
  }
  return { node, path };
}

function add(props: Record<string, string>): SCSIDiskState {
  return qdevDeviceAdd(qdict({ bus: 'hba.0', ...props })) as SCSIDiskState;
}

const senseOf = (s: Uint8Array) => [s[2]! & 0xf, s[12], s[13]];
const be32 = (b: Uint8Array, o: number) => new DataView(b.buffer, b.byteOffset).getUint32(o);
const str = (b: Uint8Array, a: number, e: number) => Buffer.from(b.subarray(a, e)).toString('latin1');
const MiB = 1 << 20;

beforeEach(async () => {
  await blkDeleteAll();
  await bdrvCloseAll();
  qomResetRoot();
  const m = machineCreate('none');
  hba = testHbaCreate('hba');
  machineRunBoardInit(m);
});

/** Clear the power-on unit attention a fresh disk reports. */
async function settle(target = 0, lun = 0): Promise<void> {
  for (let i = 0; i < 3; i++) {
    const r = await hba.command([0, 0, 0, 0, 0, 0], { target, lun });
    if (r.status === 0) return;
  }
}

describe('scsi-hd: identification', () => {
  it('standard INQUIRY reports a SPC-3 direct-access disk named QEMU HARDDISK', async () => {
    const { node } = await image(MiB);
    add({ driver: 'scsi-hd', drive: node, id: 'hd0' });
    const r = await hba.command([0x12, 0, 0, 0, 96, 0]);
    expect(r.status).toBe(0);
    expect(r.data.length).toBe(96);
    expect(r.data[0]).toBe(0); // direct access
    expect(r.data[1]).toBe(0); // not removable
    expect(r.data[2]).toBe(5);
    expect(r.data[4]).toBe(96 - 5);
    expect(r.data[7]).toBe(0x12); // sync + CmdQue (the HBA has TCQ)
    expect(str(r.data, 8, 16)).toBe('QEMU    ');
    expect(str(r.data, 16, 32)).toBe('QEMU HARDDISK   ');
    expect(str(r.data, 32, 36)).toBe('2.5+');
    // a short allocation length truncates, without adjusting the additional length
    const short = await hba.command([0x12, 0, 0, 0, 5, 0]);
    expect([...short.data]).toEqual([0, 0, 5, 0x12, 31]);
    // a page code without EVPD is invalid
    const bad = await hba.command([0x12, 0, 0x80, 0, 96, 0]);
    expect(bad.status).toBe(2);
    expect(senseOf(bad.sense)).toEqual([5, 0x24, 0]);
  });

  it('VPD pages: supported list, serial, device id, block limits, characteristics, thin provisioning', async () => {
    const { node } = await image(MiB);
    add({ driver: 'scsi-hd', drive: node, serial: 'SER123', rotation_rate: '1', id: 'hd0' });
    const vpd = (page: number) => hba.command([0x12, 1, page, 0, 255, 0]);
    const list = await vpd(0);
    expect([...list.data]).toEqual([0, 0, 0, 6, 0x00, 0x80, 0x83, 0xb0, 0xb1, 0xb2]);
    expect(str((await vpd(0x80)).data, 4, 10)).toBe('SER123');
    const id = (await vpd(0x83)).data;
    expect([...id.subarray(0, 8)]).toEqual([0, 0x83, 0, 10, 2, 0, 0, 6]);
    expect(str(id, 8, 14)).toBe('SER123'); // device_id defaults to the serial
    const bl = (await vpd(0xb0)).data;
    expect(bl[3]).toBe(0x3c);
    expect(bl[4]).toBe(1); // WSNZ
    expect(be32(bl, 8)).toBe(4194303); // max transfer length, 2 GiB cap
    expect(be32(bl, 20)).toBe((1 << 30) / 512); // max unmap LBA count
    expect(be32(bl, 24)).toBe(255); // max unmap descriptors
    expect(be32(bl, 28)).toBe(8); // unmap granularity: 4 KiB
    const b1 = (await vpd(0xb1)).data;
    expect(b1.length).toBe(0x40);
    expect([b1[4], b1[5]]).toEqual([0, 1]); // non-rotating
    expect([...(await vpd(0xb2)).data]).toEqual([0, 0xb2, 0, 4, 0, 0xe0, 2, 0]);
    const unknown = await vpd(0x89);
    expect(unknown.status).toBe(2);
    expect(senseOf(unknown.sense)).toEqual([5, 0x24, 0]);
  });

  it('without a serial page 0x80 is absent and the device id is the drive name', async () => {
    const { path } = await image(MiB, undefined, { node: false });
    await qmpBlockdevAdd({ driver: 'file', 'node-name': 'proto9', filename: path } as never);
    const s = add({ driver: 'scsi-hd', drive: 'proto9', id: 'hd0' });
    // attached to a node: the anonymous backend has no name, so no device id
    expect(s.deviceId).toBe(null);
    const list = await hba.command([0x12, 1, 0, 0, 255, 0]);
    expect([...list.data.subarray(4)]).toEqual([0x00, 0x83, 0xb0, 0xb1, 0xb2]);
    expect((await hba.command([0x12, 1, 0x80, 0, 255, 0])).status).toBe(2);
    expect([...(await hba.command([0x12, 1, 0x83, 0, 255, 0])).data]).toEqual([0, 0x83, 0, 0]);
  });
});

describe('scsi-hd: capacity, reads and writes', () => {
  it('READ CAPACITY(10) and (16) report the last LBA, block size and thin provisioning', async () => {
    const { node } = await image(64 * MiB);
    add({ driver: 'scsi-hd', drive: node, physical_block_size: '4096' });
    await settle();
    const rc10 = await hba.command([0x25, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    expect(rc10.status).toBe(0);
    expect(be32(rc10.data, 0)).toBe(64 * 2048 - 1);
    expect(be32(rc10.data, 4)).toBe(512);
    const rc16 = await hba.command([0x9e, 0x10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 32, 0, 0]);
    expect(rc16.status).toBe(0);
    expect(rc16.data.length).toBe(32);
    expect(be32(rc16.data, 4)).toBe(64 * 2048 - 1);
    expect(be32(rc16.data, 8)).toBe(512);
    expect(rc16.data[13]).toBe(3); // 4096 / 512 = 2^3 logical blocks per physical block
    expect(rc16.data[14]).toBe(0x80); // TPE
  });

  it('WRITE(10) reaches the image and READ(10)/(16)/(6) read it back; FUA writes flush', async () => {
    const { node, path } = await image(MiB);
    add({ driver: 'scsi-hd', drive: node });
    await settle();
    const data = new Uint8Array(1024).map((_, i) => (i * 7 + 3) & 0xff);
    const w = await hba.command([0x2a, 0x08, 0, 0, 0, 4, 0, 0, 2, 0], { dataOut: data });
    expect(w.status).toBe(0);
    expect(w.residual).toBe(0);
    expect(Buffer.compare(readFileSync(path).subarray(2048, 3072), Buffer.from(data))).toBe(0);
    const r10 = await hba.command([0x28, 0, 0, 0, 0, 4, 0, 0, 2, 0], { alloc: 1024 });
    expect(r10.status).toBe(0);
    expect([...r10.data]).toEqual([...data]);
    const r16 = await hba.command([0x88, 0, 0, 0, 0, 0, 0, 0, 0, 5, 0, 0, 0, 1, 0, 0], { alloc: 512 });
    expect([...r16.data]).toEqual([...data.subarray(512)]);
    const r6 = await hba.command([0x08, 0, 0, 4, 1, 0], { alloc: 512 });
    expect([...r6.data]).toEqual([...data.subarray(0, 512)]);
    // a larger buffer than the command needs: the rest is residual
    const big = await hba.command([0x28, 0, 0, 0, 0, 4, 0, 0, 1, 0], { alloc: 2048 });
    expect(big.residual).toBe(1536);
  });

  it('out-of-range LBAs fail with LBA OUT OF RANGE; REQUEST SENSE returns the saved sense once', async () => {
    const { node } = await image(MiB);
    add({ driver: 'scsi-hd', drive: node });
    await settle();
    const r = await hba.command([0x28, 0, 0, 0, 0x07, 0xff, 0, 0, 2, 0], { alloc: 1024 }); // LBA 2047, 2 blocks
    expect(r.status).toBe(2);
    expect(senseOf(r.sense)).toEqual([5, 0x21, 0]);
    const last = await hba.command([0x28, 0, 0, 0, 0x07, 0xff, 0, 0, 1, 0], { alloc: 512 });
    expect(last.status).toBe(0);
    // the failed command's sense was consumed by the successful one
    const rs = await hba.command([0x03, 0, 0, 0, 18, 0]);
    expect(rs.status).toBe(0);
    expect(senseOf(rs.data)).toEqual([0, 0, 0]);
    await hba.command([0x28, 0, 0, 0x10, 0, 0, 0, 0, 1, 0], { alloc: 512 });
    const rs2 = await hba.command([0x03, 0, 0, 0, 18, 0]);
    expect(rs2.data[0]).toBe(0x70);
    expect(senseOf(rs2.data)).toEqual([5, 0x21, 0]);
    // descriptor format when DESC=1
    await hba.command([0x28, 0, 0, 0x10, 0, 0, 0, 0, 1, 0], { alloc: 512 });
    const desc = await hba.command([0x03, 1, 0, 0, 18, 0]);
    expect([...desc.data.subarray(0, 4)]).toEqual([0x72, 5, 0x21, 0]);
  });

  it('UNMAP discards the listed ranges; WRITE SAME zeroes or replicates a block', async () => {
    const { node } = await image(MiB, (b) => b.fill(0xaa));
    const s = add({ driver: 'scsi-hd', drive: node });
    await settle();
    const discards: number[][] = [];
    const orig = s.blk!.pdiscard.bind(s.blk!);
    s.blk!.pdiscard = (off: number, bytes: number) => {
      discards.push([off, bytes]);
      return orig(off, bytes);
    };
    const unmapList = (lba: bigint, count: number) => {
      const list = new Uint8Array(24);
      const v = new DataView(list.buffer);
      v.setUint16(0, 22);
      v.setUint16(2, 16);
      v.setBigUint64(8, lba);
      v.setUint32(16, count);
      return list;
    };
    const u = await hba.command([0x42, 0, 0, 0, 0, 0, 0, 0, 24, 0], { dataOut: unmapList(8n, 8) });
    expect(u.status).toBe(0);
    expect(discards).toEqual([[4096, 4096]]);
    const out = await hba.command([0x42, 0, 0, 0, 0, 0, 0, 0, 24, 0], { dataOut: unmapList(2040n, 9) });
    expect(senseOf(out.sense)).toEqual([5, 0x21, 0]);
    const short = await hba.command([0x42, 0, 0, 0, 0, 0, 0, 0, 6, 0], { dataOut: new Uint8Array(6) });
    expect(senseOf(short.sense)).toEqual([5, 0x1a, 0]);
    const ws = await hba.command([0x93, 0x08, 0, 0, 0, 0, 0, 0, 0, 32, 0, 0, 0, 4, 0, 0], {
      dataOut: new Uint8Array(512),
    });
    expect(ws.status).toBe(0);
    const pat = new Uint8Array(512).fill(0x5c);
    expect((await hba.command([0x41, 0, 0, 0, 0, 1, 0, 0, 2, 0], { dataOut: pat })).status).toBe(0);
    const r = await hba.command([0x28, 0, 0, 0, 0, 0, 0, 0, 40, 0], { alloc: 40 * 512 });
    const blocks = (a: number, b: number) => [...r.data.subarray(a * 512, b * 512)];
    expect(blocks(32, 36).every((x) => x === 0)).toBe(true);
    expect(blocks(1, 3).every((x) => x === 0x5c)).toBe(true);
    expect(blocks(3, 32).every((x) => x === 0xaa)).toBe(true);
    expect(blocks(36, 40).every((x) => x === 0xaa)).toBe(true);
  });

  it('SYNCHRONIZE CACHE completes; unknown opcodes fail with INVALID COMMAND OPERATION CODE', async () => {
    const { node } = await image(MiB);
    add({ driver: 'scsi-hd', drive: node });
    await settle();
    expect((await hba.command([0x35, 0, 0, 0, 0, 0, 0, 0, 0, 0])).status).toBe(0);
    const bad = await hba.command([0x91, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    expect(bad.status).toBe(2);
    expect(senseOf(bad.sense)).toEqual([5, 0x20, 0]);
  });
});

describe('scsi-hd: MODE SENSE', () => {
  it('all pages: header, block descriptor, geometry, caching with WCE, error recovery', async () => {
    const { node } = await image(64 * MiB);
    add({ driver: 'scsi-hd', drive: node });
    await settle();
    const r = await hba.command([0x1a, 0, 0x3f, 0, 255, 0]);
    expect(r.status).toBe(0);
    const d = r.data;
    expect(d[0]).toBe(d.length - 1);
    expect(d[2]).toBe(0); // writable, no DPOFUA
    expect(d[3]).toBe(8); // block descriptor
    expect([d[5], d[6], d[7]]).toEqual([0x02, 0x00, 0x00]); // 131072 blocks
    expect(d[10]).toBe(2); // 512-byte blocks
    const pages: number[] = [];
    for (let p = 12; p < d.length; p += d[p + 1]! + 2) pages.push(d[p]!);
    expect(pages).toEqual([0x01, 0x04, 0x05, 0x08]);
    const caching = d.indexOf(0x08, 12);
    expect(d[caching + 1]).toBe(0x12);
    expect(d[caching + 2]).toBe(4); // WCE
    // caching page alone via MODE SENSE(10) with DBD
    const r10 = await hba.command([0x5a, 0x08, 0x08, 0, 0, 0, 0, 0, 255, 0]);
    expect([...r10.data.subarray(0, 8)]).toEqual([0, 26, 0, 0, 0, 0, 0, 0]);
    expect([...r10.data.subarray(8, 11)]).toEqual([8, 0x12, 4]);
    // control mode page is not emulated; saved values are not supported
    expect(senseOf((await hba.command([0x1a, 0, 0x0a, 0, 255, 0])).sense)).toEqual([5, 0x24, 0]);
    expect(senseOf((await hba.command([0x1a, 0, 0xc8, 0, 255, 0])).sense)).toEqual([5, 0x39, 0]);
  });

  it('MODE SELECT can turn the write cache off; other changes are refused', async () => {
    const { node } = await image(MiB);
    const s = add({ driver: 'scsi-hd', drive: node });
    await settle();
    const sel = new Uint8Array(4 + 20);
    sel.set([0x08, 0x12, 0x00], 4); // caching page, WCE=0
    const r = await hba.command([0x15, 0x10, 0, 0, 24, 0], { dataOut: sel });
    expect(r.status).toBe(0);
    expect(s.blk!.writeCache).toBe(false);
    const ms = await hba.command([0x1a, 0x08, 0x08, 0, 255, 0]);
    expect(ms.data[6]).toBe(0);
    const bad = sel.slice();
    bad[7] = 0x80; // a non-changeable bit of the caching page
    expect(senseOf((await hba.command([0x15, 0x10, 0, 0, 24, 0], { dataOut: bad })).sense)).toEqual([
      5, 0x26, 0,
    ]);
  });

  it('read-only drives set WP and refuse writes with DATA PROTECT', async () => {
    const { path } = await image(MiB, undefined, { node: false });
    await qmpBlockdevAdd({ driver: 'file', 'node-name': 'ro', filename: path, 'read-only': true } as never);
    add({ driver: 'scsi-hd', drive: 'ro' });
    await settle();
    expect((await hba.command([0x1a, 0, 0x3f, 0, 255, 0])).data[2]).toBe(0x80);
    const w = await hba.command([0x2a, 0, 0, 0, 0, 0, 0, 0, 1, 0], { dataOut: new Uint8Array(512) });
    expect(w.status).toBe(2);
    expect(senseOf(w.sense)).toEqual([7, 0x27, 0]);
  });
});

describe('SCSI bus: addressing, LUNs, unit attention', () => {
  it('a reset raises POWER ON/RESET unit attention once; INQUIRY and REPORT LUNS pass through it', async () => {
    const { node } = await image(MiB);
    const s = add({ driver: 'scsi-hd', drive: node });
    deviceColdReset(s);
    expect((await hba.command([0x12, 0, 0, 0, 36, 0])).status).toBe(0);
    const t1 = await hba.command([0, 0, 0, 0, 0, 0]);
    expect(t1.status).toBe(2);
    expect(senseOf(t1.sense)).toEqual([6, 0x29, 0]);
    expect((await hba.command([0, 0, 0, 0, 0, 0])).status).toBe(0);
  });

  it('scsi-id and lun: automatic targets, REPORT LUNS, missing LUNs, address conflicts', async () => {
    const a = await image(MiB);
    const b = await image(MiB);
    const c = await image(MiB);
    const d0 = add({ driver: 'scsi-hd', drive: a.node, id: 'd0' });
    const d1 = add({ driver: 'scsi-hd', drive: b.node, id: 'd1' });
    expect([d0.scsiId, d0.lun, d1.scsiId, d1.lun]).toEqual([0, 0, 1, 0]);
    const d2 = add({ driver: 'scsi-hd', drive: c.node, id: 'd2', 'scsi-id': '1', lun: '3' });
    expect(d2.lun).toBe(3);
    await settle(1);
    const rl = await hba.command([0xa0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0], { target: 1 });
    expect(rl.status).toBe(0);
    expect(be32(rl.data, 0)).toBe(16);
    expect([...rl.data.subarray(8, 24)]).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0]);
    // an INQUIRY to LUN 5 of target 1 is answered by the target: no device there
    const inq = await hba.command([0x12, 0, 0, 0, 36, 0], { target: 1, lun: 5 });
    expect(inq.status).toBe(0);
    expect(inq.data[0]).toBe(0x7f);
    const tur = await hba.command([0, 0, 0, 0, 0, 0], { target: 1, lun: 5 });
    expect(senseOf(tur.sense)).toEqual([5, 0x25, 0]);
    expect((await hba.command([0, 0, 0, 0, 0, 0], { target: 7 })).status).toBe('bad-target');
    const e = await image(MiB);
    expect(() => add({ driver: 'scsi-hd', drive: e.node, id: 'd3', 'scsi-id': '1', lun: '3' })).toThrow(
      "lun already used by 'd2'",
    );
    expect(() => add({ driver: 'scsi-hd', drive: e.node, 'scsi-id': '256' })).toThrow(
      'bad scsi device id: 256',
    );
    expect(() => add({ driver: 'scsi-hd', id: 'nodrive' })).toThrow('drive property not set');
    // the failed devices released the drive
    expect(add({ driver: 'scsi-hd', drive: e.node }).scsiId).toBe(2);
  });

  it('hot-unplug: the bus is its own hotplug handler and DEVICE_DELETED follows at once', async () => {
    const { node } = await image(MiB);
    qdevMachineCreationDone();
    const events: string[] = [];
    const off = onDeviceDeleted((ev) => events.push(ev.device ?? ev.path));
    add({ driver: 'scsi-hd', drive: node, id: 'hot0' });
    expect((await hba.command([0, 0, 0, 0, 0, 0])).status).toBe(2); // hotplug resets: unit attention
    qmpDeviceDel({ id: 'hot0' });
    off();
    expect(events).toEqual(['hot0']);
    expect((await hba.command([0, 0, 0, 0, 0, 0])).status).toBe('bad-target');
    // the node is free again
    expect(add({ driver: 'scsi-hd', drive: node, id: 'hot1' }).scsiId).toBe(0);
  });
});

describe('scsi-cd', () => {
  it('identifies as a removable MMC device with 2 KiB blocks, TOC and profile', async () => {
    const { node } = await image(4 * MiB);
    add({ driver: 'scsi-cd', drive: node });
    await settle();
    const inq = await hba.command([0x12, 0, 0, 0, 36, 0]);
    expect([inq.data[0], inq.data[1]]).toEqual([5, 0x80]);
    expect(str(inq.data, 16, 32)).toBe('QEMU CD-ROM     ');
    const rc = await hba.command([0x25, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    expect(be32(rc.data, 0)).toBe(2047);
    expect(be32(rc.data, 4)).toBe(2048);
    const toc = await hba.command([0x43, 0, 0, 0, 0, 0, 0, 0x03, 0x24, 0]);
    expect([...toc.data]).toEqual([0, 18, 1, 1, 0, 0x14, 1, 0, 0, 0, 0, 0, 0, 0x16, 0xaa, 0, 0, 0, 0x08, 0]);
    const cfg = await hba.command([0x46, 0, 0, 0, 0, 0, 0, 0, 40, 0]);
    expect([cfg.data[6], cfg.data[7]]).toEqual([0, 0x08]); // current profile: CD-ROM
    const w = await hba.command([0x2a, 0, 0, 0, 0, 0, 0, 0, 1, 0], { dataOut: new Uint8Array(2048) });
    expect(senseOf(w.sense)).toEqual([7, 0x27, 0]);
    // MMC: no block descriptor in MODE SENSE
    expect((await hba.command([0x1a, 0, 0x2a, 0, 255, 0])).data[3]).toBe(0);
  });

  it('an empty drive reports NO MEDIUM; START STOP UNIT opens the tray unless locked', async () => {
    const { node } = await image(MiB);
    add({ driver: 'scsi-cd', id: 'cd0' });
    await settle();
    expect(senseOf((await hba.command([0, 0, 0, 0, 0, 0])).sense)).toEqual([2, 0x3a, 0]);
    const cd1 = add({ driver: 'scsi-cd', drive: node, id: 'cd1' });
    await settle(1);
    expect((await hba.command([0x1e, 0, 0, 0, 1, 0], { target: 1 })).status).toBe(0); // prevent removal
    const ej = await hba.command([0x1b, 0, 0, 0, 2, 0], { target: 1 });
    expect(senseOf(ej.sense)).toEqual([5, 0x53, 2]);
    await hba.command([0x1e, 0, 0, 0, 0, 0], { target: 1 });
    expect((await hba.command([0x1b, 0, 0, 0, 2, 0], { target: 1 })).status).toBe(0);
    expect(cd1.trayOpen).toBe(true);
    expect(senseOf((await hba.command([0, 0, 0, 0, 0, 0], { target: 1 })).sense)).toEqual([2, 0x3a, 0]);
  });
});
