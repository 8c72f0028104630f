/**
 * The configuration editor's model: a draft of the editable fields, what changed (the patch sent to
 * main), and per-field errors. Each field also says when a change takes effect; with the engine's
 * live-apply support still to come every change applies on next boot.
 */
import type { Vm, VmPatch } from '../../../main/api/contract.js';
import { cpusError, deviceError, memoryError, nameError, pathError } from '../lib/validation.js';

export interface ConfigDraft {
  name: string;
  cpus: number | string;
  memoryMiB: number | string;
  firmware: string;
  kernel: string;
  initrd: string;
  append: string;
  devices: string[];
  notes: string;
}

export type ConfigField = keyof ConfigDraft;
export type ConfigErrors = Partial<Record<ConfigField, string>> & { deviceList?: (string | null)[] };

export function draftOf(vm: Vm): ConfigDraft {
  return {
    name: vm.name,
    cpus: vm.cpus,
    memoryMiB: vm.memoryMiB,
    firmware: vm.firmware ?? '',
    kernel: vm.kernel ?? '',
    initrd: vm.initrd ?? '',
    append: vm.append ?? '',
    devices: [...vm.devices],
    notes: vm.notes,
  };
}

const orNull = (s: string): string | null => (s.trim() === '' ? null : s.trim());

/** Only the fields that differ from the VM. */
export function patchOf(vm: Vm, d: ConfigDraft): VmPatch {
  const p: VmPatch = {};
  if (d.name !== vm.name) p.name = d.name;
  if (Number(d.cpus) !== vm.cpus) p.cpus = Number(d.cpus);
  if (Number(d.memoryMiB) !== vm.memoryMiB) p.memoryMiB = Number(d.memoryMiB);
  for (const k of ['firmware', 'kernel', 'initrd'] as const) if (orNull(d[k]) !== vm[k]) p[k] = orNull(d[k]);
  if (orNull(d.append) !== vm.append) p.append = orNull(d.append);
  if (d.devices.length !== vm.devices.length || d.devices.some((x, i) => x !== vm.devices[i]))
    p.devices = [...d.devices];
  if (d.notes !== vm.notes) p.notes = d.notes;
  return p;
}

export function validateConfig(vm: Vm, d: ConfigDraft, otherNames: readonly string[]): ConfigErrors {
  const e: ConfigErrors = {};
  const put = (k: ConfigField, v: string | null): void => {
    if (v) e[k] = v;
  };
  put(
    'name',
    nameError(
      d.name,
      otherNames.filter((n) => n.toLowerCase() !== vm.name.toLowerCase()),
    ),
  );
  put('cpus', cpusError(d.cpus));
  put('memoryMiB', memoryError(d.memoryMiB));
  put('firmware', pathError(d.firmware, 'firmware', false));
  put('kernel', pathError(d.kernel, 'kernel image', false));
  put('initrd', pathError(d.initrd, 'initrd', false));
  const devs = d.devices.map(deviceError);
  if (devs.some((x) => x)) e.deviceList = devs;
  return e;
}

export type ApplyMode = 'live' | 'next-boot' | 'fixed';

/**
 * When a change to `field` takes effect: name and notes are the library's own (at once); the
 * machine type is fixed at creation; everything the engine's command line is built from waits for
 * the next start (main reports those as `pendingRestart` while the VM runs).
 */
export function applyMode(field: ConfigField | 'machine'): ApplyMode {
  if (field === 'machine') return 'fixed';
  return field === 'notes' || field === 'name' ? 'live' : 'next-boot';
}

export const APPLY_LABEL: Record<ApplyMode, string> = {
  live: 'applies now',
  'next-boot': 'on next boot',
  fixed: 'fixed',
};

const FIELD_LABEL: Record<string, string> = {
  guest: 'guest',
  machine: 'machine',
  cpus: 'CPUs',
  memoryMiB: 'memory',
  firmware: 'firmware',
  kernel: 'kernel',
  initrd: 'initrd',
  append: 'kernel command line',
  devices: 'devices',
  chardevs: 'host channels',
};

/** "CPUs, memory and devices" for the pending-restart notice. */
export function pendingRestartText(fields: readonly string[]): string {
  const names = fields.map((f) => FIELD_LABEL[f] ?? f);
  if (names.length <= 1) return names.join('');
  return `${names.slice(0, -1).join(', ')} and ${names.at(-1)}`;
}
