import { describe, expect, it } from 'vitest';
import type { Vm } from '../../../main/api/contract.js';
import { applyMode, draftOf, patchOf, pendingRestartText, validateConfig } from './config-form.js';

const vm: Vm = {
  id: 'v',
  name: 'web',
  guest: null,
  machine: 'virt',
  cpus: 2,
  memoryMiB: 1024,
  firmware: null,
  kernel: '/k',
  initrd: null,
  append: 'console=ttyS0',
  devices: ['virtio-rng-device'],
  chardevs: [],
  notes: '',
  disks: [],
  createdAt: 0,
  updatedAt: 0,
};

describe('config form', () => {
  it('sends only changed fields, normalizing empty paths to null', () => {
    const d = draftOf(vm);
    expect(patchOf(vm, d)).toEqual({});
    d.memoryMiB = '2048';
    d.kernel = '  ';
    d.devices = [...d.devices, 'virtio-net-device'];
    expect(patchOf(vm, d)).toEqual({
      memoryMiB: 2048,
      kernel: null,
      devices: ['virtio-rng-device', 'virtio-net-device'],
    });
  });

  it("validates fields and ignores the VM's own name when checking duplicates", () => {
    const d = draftOf(vm);
    expect(validateConfig(vm, d, ['web', 'db'])).toEqual({});
    d.name = 'DB';
    d.cpus = 0;
    d.initrd = 'relative/path';
    d.devices = ['bad device!'];
    const e = validateConfig(vm, d, ['web', 'db']);
    expect(e.name).toBe("A VM named 'DB' already exists.");
    expect(e.cpus).toBe('The number of CPUs must be between 1 and 64.');
    expect(e.initrd).toBe('The initrd path must be absolute.');
    expect(e.deviceList).toEqual(["'bad device!' is not a -device option string (driver[,prop=value...])."]);
    expect(applyMode('notes')).toBe('live');
    expect(applyMode('memoryMiB')).toBe('next-boot');
    expect(applyMode('machine')).toBe('fixed');
  });

  it('names the changes pending restart', () => {
    expect(pendingRestartText(['cpus'])).toBe('CPUs');
    expect(pendingRestartText(['cpus', 'memoryMiB', 'devices'])).toBe('CPUs, memory and devices');
    expect(pendingRestartText([])).toBe('');
  });
});
