import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { VmConfig } from '../api/contract.js';
import { LibraryRecordError } from './errors.js';
import { Library } from './library.js';

let dir: string;
let lib: Library;
let clock: number;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vmstudio-lib-'));
  clock = 1_000;
  lib = Library.open(path.join(dir, 'library.db'), { now: () => clock++ });
});
afterEach(() => {
  lib.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

function config(name: string, over: Partial<VmConfig> = {}): VmConfig {
  return {
    name,
    guest: null,
    machine: 'virt',
    cpus: 2,
    memoryMiB: 1024,
    firmware: null,
    kernel: '/guest/Image',
    initrd: null,
    append: 'console=ttyS0',
    devices: ['virtio-rng-device,id=rng0'],
    notes: '',
    ...over,
  };
}

describe('Library VMs', () => {
  it('creates, reads, lists by name and survives reopening', () => {
    const b = lib.createVm(config('beta'), [
      { file: '/d/b.img', format: 'raw', interface: 'virtio', readonly: true },
    ]);
    const a = lib.createVm(config('Alpha', { cpus: 4 }));
    expect(lib.listVms().map((v) => v.name)).toEqual(['Alpha', 'beta']);
    expect(lib.getVm(b.id).disks).toEqual([
      { file: '/d/b.img', format: 'raw', interface: 'virtio', readonly: true },
    ]);
    expect(lib.getVm(a.id)).toMatchObject({ cpus: 4, devices: ['virtio-rng-device,id=rng0'] });
    lib.close();
    lib = Library.open(path.join(dir, 'library.db'));
    expect(lib.listVms().map((v) => [v.name, v.disks.length])).toEqual([
      ['Alpha', 0],
      ['beta', 1],
    ]);
  });

  it('refuses duplicate names case-insensitively and keeps the first VM', () => {
    lib.createVm(config('debian'));
    expect(() => lib.createVm(config('Debian'))).toThrow("A VM named 'Debian' already exists");
    expect(lib.listVms()).toHaveLength(1);
  });

  it('updates only the given fields, bumps updatedAt and replaces disks when given', () => {
    const vm = lib.createVm(config('x'), [
      { file: '/a', format: 'raw', interface: 'virtio', readonly: false },
    ]);
    const up = lib.updateVm(vm.id, { memoryMiB: 2048, initrd: '/i', notes: 'n' });
    expect(up).toMatchObject({
      name: 'x',
      cpus: 2,
      memoryMiB: 2048,
      initrd: '/i',
      kernel: '/guest/Image',
      notes: 'n',
    });
    expect(up.updatedAt).toBeGreaterThan(vm.updatedAt);
    expect(up.disks).toHaveLength(1);
    const cleared = lib.updateVm(vm.id, { kernel: null }, []);
    expect(cleared.kernel).toBeNull();
    expect(cleared.disks).toEqual([]);
  });

  it('rejects a rename onto an existing name inside the transaction', () => {
    lib.createVm(config('one'));
    const two = lib.createVm(config('two'));
    expect(() => lib.updateVm(two.id, { name: 'ONE', cpus: 8 })).toThrow(LibraryRecordError);
    expect(lib.getVm(two.id)).toMatchObject({ name: 'two', cpus: 2 });
  });

  it('deletes a VM with its disks, snapshots and log entries', () => {
    const vm = lib.createVm(config('gone'), [
      { file: '/a', format: 'raw', interface: 'virtio', readonly: false },
    ]);
    lib.addSnapshot({ vmId: vm.id, name: 's', parentId: null, sizeBytes: 1, kind: 'vmstate' });
    lib.deleteVm(vm.id);
    expect(lib.findVm(vm.id)).toBeUndefined();
    expect(lib.listSnapshots(vm.id)).toEqual([]);
    expect(lib.listLog(vm.id)).toEqual([]);
    expect(lib.listLog(null)[0]).toMatchObject({ vmId: null, kind: 'deleted', message: "VM 'gone' deleted" });
    expect(() => lib.getVm(vm.id)).toThrow(`VM '${vm.id}' not found`);
  });
});

describe('Library snapshots and log', () => {
  it('keeps the tree connected when a middle snapshot is deleted', () => {
    const vm = lib.createVm(config('s'));
    const a = lib.addSnapshot({ vmId: vm.id, name: 'a', parentId: null, sizeBytes: 1, kind: 'vmstate' });
    const b = lib.addSnapshot({ vmId: vm.id, name: 'b', parentId: a.id, sizeBytes: 2, kind: 'disk-only' });
    const c = lib.addSnapshot({ vmId: vm.id, name: 'c', parentId: b.id, sizeBytes: 3, kind: 'vmstate' });
    lib.deleteSnapshot(b.id);
    expect(lib.getSnapshot(c.id).parentId).toBe(a.id);
    expect(lib.listSnapshots(vm.id).map((s) => s.name)).toEqual(['a', 'c']);
  });

  it('renames, refuses duplicate names and foreign parents', () => {
    const vm = lib.createVm(config('s'));
    const other = lib.createVm(config('t'));
    const a = lib.addSnapshot({ vmId: vm.id, name: 'a', parentId: null, sizeBytes: 0, kind: 'vmstate' });
    lib.addSnapshot({ vmId: vm.id, name: 'b', parentId: null, sizeBytes: 0, kind: 'vmstate' });
    expect(lib.renameSnapshot(a.id, 'first').name).toBe('first');
    expect(() => lib.renameSnapshot(a.id, 'b')).toThrow("A snapshot named 'b' already exists");
    expect(() =>
      lib.addSnapshot({ vmId: other.id, name: 'x', parentId: a.id, sizeBytes: 0, kind: 'vmstate' }),
    ).toThrow(/not found/);
  });

  it('logs newest first, per VM, with a limit', () => {
    const vm = lib.createVm(config('l'));
    lib.log(vm.id, 'state', 'started');
    lib.log(vm.id, 'state', 'stopped');
    lib.log('no-such-vm', 'state', 'orphan');
    expect(lib.listLog(vm.id, 2).map((e) => e.message)).toEqual(['stopped', 'started']);
    expect(lib.listLog(null, 1)[0]).toMatchObject({ vmId: null, message: 'orphan' });
  });
});
