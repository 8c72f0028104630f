/**
 * virtio-scsi with a fake driver on the `virt` machine: INQUIRY/READ through the request queue, a
 * missing target (BAD_TARGET), and hotplug of scsi-hd on a blockdev-add node: TRANSPORT_RESET events
 * (RESCAN on plug, REMOVED on unplug) for the disk's LUN, the REPORTED LUNS CHANGED unit attention,
 * and DEVICE_DELETED right after device_del.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { qmpDeviceAdd } from '../../engine/hw/core/qdev-monitor.js';
import { qmpBlockdevAdd } from '../../engine/block/blockdev.js';
import { bit } from '../../engine/hw/virtio/virtio.js';
import type { VirtIOSCSI } from '../../engine/hw/virtio/virtio-scsi.js';
import {
  FakeDriver,
  deviceDelNow,
  peripheral,
  resetEngine,
  startVirt,
} from '../helpers/virt-device-harness.js';

const dir = mkdtempSync(join(tmpdir(), 'vmstudio-vscsi-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let drv: FakeDriver;

beforeEach(async () => {
  const img = join(dir, 'a.raw');
  writeFileSync(img, Buffer.alloc(1 << 20, 0x42));
  await startVirt([
    '-serial',
    'none',
    '-blockdev',
    `driver=file,filename=${img},node-name=f0`,
    '-device',
    'virtio-scsi-device,id=scsi0',
  ]);
  drv = new FakeDriver(peripheral<VirtIOSCSI>('scsi0'));
  drv.init(bit(1) | bit(2), 3, 32); // HOTPLUG, CHANGE; ctrl, event, request
  for (let i = 0; i < 4; i++) drv.queues[1]!.add([], [16], false);
});

afterEach(() => resetEngine());

/** Send a CDB to target/LUN 0 and wait for the response: [response, status, sense key/asc, data]. */
async function command(
  cdb: number[],
  dataIn = 0,
  target = 0,
): Promise<{ response: number; status: number; sense: number[]; data: Uint8Array }> {
  const req = new Uint8Array(19 + 32);
  req.set([1, target, 0, 0], 0);
  req.set(cdb, 19);
  drv.queues[2]!.add([req], dataIn ? [12 + 96, dataIn] : [12 + 96]);
  for (let i = 0; i < 50; i++) {
    const used = drv.queues[2]!.takeUsed();
    if (used.length) {
      const d = used[0]!.data;
      return {
        response: d[11]!,
        status: d[10]!,
        sense: [d[12 + 2]! & 0xf, d[12 + 12]!],
        data: d.subarray(108),
      };
    }
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error('no completion');
}

function events(): [number, number[], number][] {
  return drv.queues[1]!.takeUsed().map((u) => {
    const v = new DataView(u.data.buffer);
    return [v.getUint32(0, true), [...u.data.subarray(4, 8)], v.getUint32(12, true)];
  });
}

describe('virtio-scsi hotplug', () => {
  it('config space, BAD_TARGET, then a hot-plugged disk is announced, usable and removed', async () => {
    expect(drv.config32(0)).toBe(1); // num_queues
    expect(drv.config32(4)).toBe(254); // seg_max: virtqueue_size (256) - 2
    expect(drv.config32(20)).toBe(96); // sense_size
    expect(drv.config32(24)).toBe(32); // cdb_size
    expect((await command([0x12, 0, 0, 0, 36, 0], 36)).response).toBe(3); // BAD_TARGET
    await qmpBlockdevAdd({ driver: 'raw', 'node-name': 'd0', file: 'f0' } as never);
    qmpDeviceAdd({ driver: 'scsi-hd', drive: 'd0', bus: 'scsi0.0', id: 'hd0' });
    expect(events()).toEqual([[1, [1, 0, 0, 0], 1]]); // TRANSPORT_RESET, RESCAN
    const inq = await command([0x12, 0, 0, 0, 36, 0], 36);
    expect(inq.status).toBe(0);
    expect(Buffer.from(inq.data.subarray(16, 29)).toString()).toBe('QEMU HARDDISK');
    // the new disk reports its reset, then the bus its changed LUN inventory
    const t1 = await command([0, 0, 0, 0, 0, 0]);
    expect([t1.status, ...t1.sense]).toEqual([2, 6, 0x29]);
    const t2 = await command([0, 0, 0, 0, 0, 0]);
    expect([t2.status, ...t2.sense]).toEqual([2, 6, 0x3f]);
    const rd = await command([0x28, 0, 0, 0, 0, 0, 0, 0, 1, 0], 512);
    expect(rd.status).toBe(0);
    expect(rd.data.every((x) => x === 0x42)).toBe(true);
    expect(deviceDelNow('hd0')).toEqual(['hd0']);
    expect(events()).toEqual([[1, [1, 0, 0, 0], 2]]); // TRANSPORT_RESET, REMOVED
    expect((await command([0, 0, 0, 0, 0, 0])).response).toBe(3);
    // the node can take a new disk
    qmpDeviceAdd({ driver: 'scsi-hd', drive: 'd0', bus: 'scsi0.0', id: 'hd1', 'scsi-id': '3' });
    expect(events()).toEqual([[1, [1, 3, 0, 0], 1]]);
  });
});
