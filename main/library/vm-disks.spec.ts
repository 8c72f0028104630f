/**
 * Disks of a stopped VM through the API (`disks.add` / `disks.remove`): new and existing images,
 * which files may be deleted, and the snapshot guard (an image holding snapshots is never removed).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { imgMain } from '../../engine/qemu-img/qemu-img.js';
import type { VmSummary } from '../api/contract.js';
import { createBackend, type Backend } from '../app/backend.js';
import { qcow2SnapshotNames } from './disk-images.js';
import { devicesAfterDiskRemoval } from './vm-disks.js';
import { fakeEngineCommand } from '../supervisor/testing/fake-engine.js';

let dir: string;
let backend: Backend;
let vm: VmSummary;

const call = (method: string, ...args: unknown[]): Promise<VmSummary> =>
  (backend.service.handlers as unknown as Record<string, (...a: unknown[]) => Promise<VmSummary>>)[method]!(
    ...args,
  );

async function img(...args: string[]): Promise<string> {
  let err = '';
  const code = await imgMain(args, { out: () => {}, err: (t) => (err += t) });
  if (code !== 0) throw new Error(`vmstudio-img ${args.join(' ')}: ${err}`);
  return err;
}

beforeEach(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vmstudio-disks-'));
  backend = await createBackend({
    dataDir: path.join(dir, 'data'),
    mode: 'web',
    guestsDir: path.join(dir, 'no-guests'),
    cacheDir: path.join(dir, 'cache'),
    defaultVm: false,
    engine: fakeEngineCommand(),
    timeouts: { powerdownMs: 2000, killMs: 500 },
  });
  vm = await call('vms.create', { name: 'disky', guest: null, machine: 'none', cpus: 1, memoryMiB: 64 });
});
afterEach(async () => {
  await backend.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('disks of a stopped VM', () => {
  it('adds a new qcow2 image in the VM folder and an existing image where it is, probed', async () => {
    let s = await call('disks.add', vm.id, { sizeMiB: 16, format: 'qcow2' });
    expect(s.disks).toHaveLength(1);
    const made = s.disks[0]!;
    expect(made).toMatchObject({ format: 'qcow2', interface: 'virtio', readonly: false, owned: true });
    expect(path.basename(made.file)).toBe('disk0.qcow2');
    expect(fs.readFileSync(made.file).subarray(0, 4).toString('latin1')).toBe('QFI\xfb');

    const mine = path.join(dir, 'mine.qcow2');
    await img('create', '-f', 'qcow2', mine, '1M');
    s = await call('disks.add', vm.id, { file: mine });
    expect(s.disks[1]).toMatchObject({ file: mine, format: 'qcow2', owned: false });
    // The library has it too (a new main process would see the same).
    expect(backend.library.getVm(vm.id).disks.map((d) => d.file)).toEqual([made.file, mine]);

    await expect(call('disks.add', vm.id, { file: mine })).rejects.toThrow(
      `'${mine}' is already disk 1 of this VM`,
    );
    await expect(call('disks.add', vm.id, { file: path.join(dir, 'nope.img') })).rejects.toThrow(
      /Could not open '.*nope\.img': No such file or directory/,
    );
    await expect(call('disks.add', vm.id, { sizeMiB: 0 })).rejects.toThrow(/sizeMiB/);
    expect(backend.library.getVm(vm.id).disks).toHaveLength(2);
  });

  it('deletes only images it made, detaches the others, and never reuses a kept file name', async () => {
    const mine = path.join(dir, 'mine.img');
    fs.writeFileSync(mine, Buffer.alloc(4096));
    await call('disks.add', vm.id, { sizeMiB: 1 });
    await call('disks.add', vm.id, { file: mine });

    await expect(call('disks.remove', vm.id, 1, { deleteFile: true })).rejects.toThrow(
      `'${mine}' was not made by VM Studio for 'disky': it is never deleted, only detached`,
    );
    expect(backend.library.getVm(vm.id).disks).toHaveLength(2);

    let s = await call('disks.remove', vm.id, 1);
    expect(s.disks.map((d) => d.file)).not.toContain(mine);
    expect(fs.existsSync(mine)).toBe(true);

    const own = s.disks[0]!.file;
    s = await call('disks.remove', vm.id, 0); // detached, file kept
    expect(fs.existsSync(own)).toBe(true);
    s = await call('disks.add', vm.id, { sizeMiB: 1 });
    expect(path.basename(s.disks[0]!.file)).toBe('disk1.img'); // disk0.img is still there
    s = await call('disks.remove', vm.id, 0, { deleteFile: true });
    expect(s.disks).toEqual([]);
    expect(fs.existsSync(path.join(path.dirname(own), 'disk1.img'))).toBe(false);
    await expect(call('disks.remove', vm.id, 0)).rejects.toThrow("VM 'disky' has no disk 0");
  });

  it('refuses to remove an image that holds snapshots, and says which', async () => {
    const s = await call('disks.add', vm.id, { sizeMiB: 1, format: 'qcow2' });
    const file = s.disks[0]!.file;
    await img('snapshot', '-c', 'before upgrade', file);
    await img('snapshot', '-c', 'clean', file);
    expect(await qcow2SnapshotNames(file)).toEqual(['before upgrade', 'clean']);
    const before = fs.readFileSync(file);
    await expect(call('disks.remove', vm.id, 0, { deleteFile: true })).rejects.toThrow(
      "Disk 0 ('disk0.qcow2') holds 2 snapshots ('before upgrade', 'clean'): delete them in Snapshots first",
    );
    expect(backend.library.getVm(vm.id).disks).toHaveLength(1);
    expect(fs.readFileSync(file).equals(before)).toBe(true);
    await img('snapshot', '-d', 'before upgrade', file);
    await expect(call('disks.remove', vm.id, 0)).rejects.toThrow(
      "Disk 0 ('disk0.qcow2') holds the snapshot 'clean': delete it in Snapshots first",
    );
    await img('snapshot', '-d', 'clean', file);
    expect((await call('disks.remove', vm.id, 0, { deleteFile: true })).disks).toEqual([]);
    expect(fs.existsSync(file)).toBe(false);
  });

  it('reads a damaged snapshot table as an error, not as "no snapshots"', async () => {
    const s = await call('disks.add', vm.id, { sizeMiB: 1, format: 'qcow2' });
    const file = s.disks[0]!.file;
    await img('snapshot', '-c', 'x', file);
    const fd = fs.openSync(file, 'r+');
    const b = Buffer.alloc(8);
    b.writeBigUInt64BE(0x7fff_0000_0000n); // snapshots_offset far beyond the end
    fs.writeSync(fd, b, 0, 8, 64);
    fs.closeSync(fd);
    await expect(call('disks.remove', vm.id, 0, { deleteFile: true })).rejects.toThrow(
      /Could not read the snapshots in/,
    );
    expect(fs.existsSync(file)).toBe(true);
  });

  it('never lets a configured device lose its drive, and renumbers references to later disks', async () => {
    await call('disks.add', vm.id, { sizeMiB: 1, format: 'qcow2', interface: 'none' });
    await call('disks.add', vm.id, { sizeMiB: 1, format: 'qcow2', interface: 'none' });
    await call('disks.add', vm.id, { sizeMiB: 1, format: 'qcow2', interface: 'none' });
    await call('vms.update', vm.id, {
      devices: [
        'virtio-scsi-device,id=scsi0',
        'scsi-hd,id=hd1,drive=disk1',
        'scsi-hd,id=hd2,drive=disk2-node,serial=a,,b',
      ],
    });
    await expect(call('disks.remove', vm.id, 1)).rejects.toThrow(
      "Disk 1 is the drive of 'scsi-hd,id=hd1,drive=disk1' in the configuration of 'disky': remove that device first",
    );
    const s = await call('disks.remove', vm.id, 0, { deleteFile: true });
    expect(s.disks.map((d) => path.basename(d.file))).toEqual(['disk1.qcow2', 'disk2.qcow2']);
    expect(s.devices).toEqual([
      'virtio-scsi-device,id=scsi0',
      'scsi-hd,id=hd1,drive=disk0',
      'scsi-hd,id=hd2,drive=disk1-node,serial=a,,b',
    ]);
  });

  it('changes disks only while the VM is stopped', async () => {
    await call('vms.start', vm.id);
    await expect(call('disks.add', vm.id, { sizeMiB: 1 })).rejects.toThrow(
      "VM 'disky' is running: stop it to change its disks",
    );
    await backend.service.handlers['vms.stop'](vm.id, true);
  });
});

describe('devicesAfterDiskRemoval', () => {
  it('moves later references down, keeps earlier ones, and names the users of the removed disk', () => {
    const devs = [
      'scsi-hd,drive=disk0',
      'scsi-hd,id=b,drive=disk2',
      'virtio-rng-device',
      'scsi-cd,drive=disk1-node',
    ];
    expect(devicesAfterDiskRemoval(devs, 1)).toEqual({
      devices: [
        'scsi-hd,drive=disk0',
        'scsi-hd,id=b,drive=disk1',
        'virtio-rng-device',
        'scsi-cd,drive=disk1-node',
      ],
      users: ['scsi-cd,drive=disk1-node'],
    });
    expect(devicesAfterDiskRemoval(['scsi-hd,drive=disk10'], 3).devices).toEqual(['scsi-hd,drive=disk9']);
    expect(devicesAfterDiskRemoval(['scsi-hd,drive=mydisk1'], 0).devices).toEqual(['scsi-hd,drive=mydisk1']);
  });
});
