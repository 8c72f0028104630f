/**
 * Hot-plugging a disk with a new image through the service against the real engine (dist/): a
 * virt machine (firmware: a one-instruction loop, no guest needed) with a virtio-scsi controller
 * gets a scsi-hd whose `drive` is a fresh qcow2 image. The image joins the VM's disks at once, a kept
 * device finds it again after a restart, and a failed add leaves nothing behind.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { DevicePropertySpec } from '../api/contract.js';
import { ENGINE_BUILT, useRealEngineService } from '../supervisor/testing/real-engine-service.js';

interface BlockInfo {
  device: string;
  qdev?: string;
  inserted?: { 'node-name': string; file: string; drv: string };
}

describe.skipIf(!ENGINE_BUILT)('hot-plugging a disk with a new image (real engine)', () => {
  const t = useRealEngineService('hotdisk');
  const call = t.call;
  const block = (vmId: string) => t.svc.supervisor.execute(vmId, 'query-block') as Promise<BlockInfo[]>;
  const scsiVm = () => t.startLoopVm('scsi-lab', ['virtio-scsi-device,id=scsi0']);

  it('offers the drive property as a block backend and hot-plugs a scsi-hd on a new qcow2 image', async () => {
    const vm = await scsiVm();
    const specs = await call<DevicePropertySpec[]>('devices.properties', vm.id, 'scsi-hd');
    expect(specs.find((s) => s.name === 'drive')).toMatchObject({
      kind: 'backend',
      backend: 'block',
      backendCandidates: [],
    });

    const r = await call<{ kept: string }>('devices.add', vm.id, {
      driver: 'scsi-hd',
      id: 'hd0',
      properties: {},
      keep: true,
      newDisk: { property: 'drive', sizeMiB: 8 },
    });
    expect(r.kept).toBe('scsi-hd,id=hd0,drive=disk0');
    const saved = t.lib.getVm(vm.id);
    expect(saved.disks).toEqual([
      {
        file: path.join(t.svc.vmFolder(vm.id), 'disk0.qcow2'),
        format: 'qcow2',
        interface: 'none',
        readonly: false,
      },
    ]);
    expect(saved.devices).toContain('scsi-hd,id=hd0,drive=disk0');
    const attached = (await block(vm.id)).find((b) => b.inserted?.['node-name'] === 'disk0-node');
    expect(attached?.qdev).toMatch(/hd0/);
    expect(attached?.inserted?.file).toBe(saved.disks[0]!.file);

    // After a restart the kept device finds its image through the configuration.
    await call('vms.stop', vm.id, true);
    await call('vms.start', vm.id);
    const again = (await block(vm.id)).find((b) => b.device === 'disk0');
    expect(again?.qdev).toMatch(/hd0/);
    expect(again?.inserted?.file).toBe(saved.disks[0]!.file);
  }, 60_000);

  it('keeps an image of a device that is not kept as a backend-only disk, and leaves nothing after a failed add', async () => {
    const vm = await scsiVm();
    await call('devices.add', vm.id, {
      driver: 'scsi-hd',
      properties: {},
      keep: false,
      newDisk: { property: 'drive', sizeMiB: 4 },
    });
    expect(t.lib.getVm(vm.id).disks.map((d) => [path.basename(d.file), d.interface])).toEqual([
      ['disk0.qcow2', 'none'],
    ]);
    expect(t.lib.getVm(vm.id).devices).toEqual(['virtio-scsi-device,id=scsi0']);

    await expect(
      call('devices.add', vm.id, {
        driver: 'scsi-hd',
        id: 'bad',
        bus: 'nope.0',
        properties: {},
        keep: true,
        newDisk: { property: 'drive', sizeMiB: 4 },
      }),
    ).rejects.toThrow("Bus 'nope.0' not found");
    expect(t.lib.getVm(vm.id).disks).toHaveLength(1);
    expect(fs.existsSync(path.join(t.svc.vmFolder(vm.id), 'disk1.qcow2'))).toBe(false);
    expect((await block(vm.id)).some((b) => b.inserted?.['node-name'] === 'disk1-node')).toBe(false);
    // The node name is free again: the next new image takes it.
    await call('devices.add', vm.id, {
      driver: 'scsi-hd',
      id: 'hd1',
      properties: {},
      keep: false,
      newDisk: { property: 'drive', sizeMiB: 4 },
    });
    expect(t.lib.getVm(vm.id).disks).toHaveLength(2);
  }, 60_000);
});
