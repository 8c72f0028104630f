/**
 * VM records for tests where the guest does not matter: QEMU's empty `none` machine, one CPU, 64 MiB,
 * nothing to boot, no devices or disks. Test-only (under testing/, which the package leaves out).
 */
import type { Vm, VmConfig } from '../../api/contract.js';

/** The configuration as the library stores it (`Library.createVm`'s input). */
export function emptyMachineConfig(over: Partial<VmConfig> = {}): VmConfig {
  return {
    name: 'empty machine',
    guest: null,
    machine: 'none',
    cpus: 1,
    memoryMiB: 64,
    firmware: null,
    kernel: null,
    initrd: null,
    append: null,
    devices: [],
    chardevs: [],
    notes: '',
    ...over,
  };
}

/** A stored VM (what the supervisor starts): the configuration plus an id, no disks, zero timestamps. */
export function emptyMachineVm(id: string, over: Partial<Vm> = {}): Vm {
  return { ...emptyMachineConfig(), id, disks: [], createdAt: 0, updatedAt: 0, ...over };
}
