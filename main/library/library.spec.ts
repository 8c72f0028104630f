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
    chardevs: [],
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

  it('moves "now" to the parent when the current snapshot is deleted, touching no other row', () => {
    const vm = lib.createVm(config('cur'));
    const a = lib.addSnapshot({
      vmId: vm.id,
      name: 'a',
      parentId: null,
      sizeBytes: 1,
      kind: 'vmstate',
      tag: 'ta',
      makeCurrent: true,
    });
    const b = lib.addSnapshot({
      vmId: vm.id,
      name: 'b',
      parentId: a.id,
      sizeBytes: 2,
      kind: 'vmstate',
      tag: 'tb',
      makeCurrent: true,
    });
    const c = lib.addSnapshot({
      vmId: vm.id,
      name: 'c',
      parentId: a.id,
      sizeBytes: 3,
      kind: 'vmstate',
      tag: 'tc',
    });
    expect(lib.currentSnapshot(vm.id)).toBe(b.id);
    lib.deleteSnapshot(b.id);
    expect(lib.currentSnapshot(vm.id)).toBe(a.id);
    expect(lib.getSnapshot(c.id)).toMatchObject({ parentId: a.id, tag: 'tc', sizeBytes: 3 });
    lib.deleteSnapshot(a.id);
    expect(lib.currentSnapshot(vm.id)).toBeNull();
    expect(lib.getSnapshot(c.id).parentId).toBeNull();
  });

  it('keeps the engine tag, the automatic flag and the recorded configuration', () => {
    const vm = lib.createVm(config('rec'));
    const { id: _id, createdAt: _c, updatedAt: _u, ...cfg } = vm;
    const devices = [{ id: 'rng0', type: 'virtio-rng-device', path: '/machine/peripheral/rng0' }];
    const s = lib.addSnapshot({
      vmId: vm.id,
      name: 'Before revert to x',
      parentId: null,
      sizeBytes: 5,
      kind: 'vmstate',
      tag: 'vs-1',
      auto: true,
      record: { config: cfg, devices },
    });
    expect(s).toMatchObject({ tag: 'vs-1', auto: true, recorded: true });
    expect(lib.snapshotRecord(s.id)).toEqual({ config: cfg, devices });
    expect(lib.renameSnapshot(s.id, 'kept').tag).toBe('vs-1');
    expect(() =>
      lib.addSnapshot({
        vmId: vm.id,
        name: 'other',
        parentId: null,
        sizeBytes: 0,
        kind: 'vmstate',
        tag: 'vs-1',
      }),
    ).toThrow("A snapshot with the engine tag 'vs-1' already exists");
    const plain = lib.addSnapshot({
      vmId: vm.id,
      name: 'plain',
      parentId: null,
      sizeBytes: 0,
      kind: 'vmstate',
    });
    expect(plain).toMatchObject({ tag: plain.id, auto: false, recorded: false });
    expect(lib.snapshotRecord(plain.id)).toBeNull();
  });

  it('completes a revert in one step: current snapshot and restored configuration', () => {
    const vm = lib.createVm(config('rv', { cpus: 4 }));
    const s = lib.addSnapshot({ vmId: vm.id, name: 's', parentId: null, sizeBytes: 0, kind: 'vmstate' });
    const after = lib.completeRevert(vm.id, s.id, { cpus: 1, devices: [] });
    expect(after).toMatchObject({ cpus: 1, devices: [] });
    expect(lib.currentSnapshot(vm.id)).toBe(s.id);
    expect(lib.listLog(vm.id, 1)[0]!.message).toBe("Reverted to snapshot 's'");
  });

  it('applies a reconciliation: drops rows, adopts unknown snapshots under free names, refreshes sizes', () => {
    const vm = lib.createVm(config('rc'));
    const gone = lib.addSnapshot({
      vmId: vm.id,
      name: 'gone',
      parentId: null,
      sizeBytes: 1,
      kind: 'vmstate',
      tag: 'g',
      makeCurrent: true,
    });
    const kept = lib.addSnapshot({
      vmId: vm.id,
      name: 'x',
      parentId: gone.id,
      sizeBytes: 1,
      kind: 'vmstate',
      tag: 'k',
    });
    lib.applySnapshotReconcile(vm.id, {
      remove: [gone.id],
      adopt: [{ tag: 'x', createdAt: 42, sizeBytes: 9 }],
      sizes: [{ id: kept.id, sizeBytes: 777 }],
    });
    const list = lib.listSnapshots(vm.id);
    expect(list.map((s) => [s.name, s.tag, s.sizeBytes, s.parentId])).toEqual([
      ['x (2)', 'x', 9, null],
      ['x', 'k', 777, null],
    ]);
    expect(lib.currentSnapshot(vm.id)).toBeNull();
    expect(list[0]!.createdAt).toBe(42);
  });

  it('stores settings', () => {
    expect(lib.getSetting('k')).toBeNull();
    lib.setSetting('k', 'v1');
    lib.setSetting('k', 'v2');
    expect(lib.getSetting('k')).toBe('v2');
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
