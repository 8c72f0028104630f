/**
 * The New VM wizard's model: the form state, its validation (a message per field), and the request
 * sent to main. Kept free of Svelte so it can be tested as plain TypeScript.
 */
import type { DiskRequest, GuestTemplate, NewVmRequest } from '../../../main/api/contract.js';
import {
  cpusError,
  deviceError,
  intError,
  LIMITS,
  memoryError,
  nameError,
  pathError,
} from '../lib/validation.js';

/** Machines a custom VM can use: the RISC-V board, or the empty machine (devices only, no guest). */
export const MACHINES = [
  { id: 'virt', title: 'RISC-V virt board' },
  { id: 'none', title: 'Empty machine (none): devices only, no CPU runs a guest' },
] as const;

export interface DiskDraft {
  kind: 'new' | 'existing';
  sizeMiB: number | string;
  file: string;
}

export interface WizardForm {
  name: string;
  /** A template id, or 'custom'. */
  guest: string;
  cpus: number | string;
  memoryMiB: number | string;
  kernel: string;
  initrd: string;
  append: string;
  disks: DiskDraft[];
  /** Advanced (custom guests): `-M` and extra `-device` options, one per line. */
  machine: string;
  devices: string;
}

export type WizardErrors = Partial<
  Record<'name' | 'guest' | 'cpus' | 'memoryMiB' | 'kernel' | 'initrd' | 'devices', string>
> & {
  disks?: (string | null)[];
};

export function initialForm(guests: readonly GuestTemplate[], existingNames: readonly string[]): WizardForm {
  const g = guests[0];
  let name = g ? g.title.replace(/\s*\(.*\)$/, '') : 'New VM';
  for (let i = 2; existingNames.some((n) => n.toLowerCase() === name.toLowerCase()); i++) {
    name = `${g ? g.title.replace(/\s*\(.*\)$/, '') : 'New VM'} ${i}`;
  }
  return {
    name,
    guest: g ? g.id : 'custom',
    cpus: g?.cpus ?? 1,
    memoryMiB: g?.memoryMiB ?? 512,
    kernel: '',
    initrd: '',
    append: 'console=ttyS0',
    disks: [],
    machine: 'virt',
    devices: '',
  };
}

/** Choosing a template fills in its recommended resources. */
export function selectGuest(form: WizardForm, guest: GuestTemplate | 'custom'): WizardForm {
  if (guest === 'custom') return { ...form, guest: 'custom' };
  return { ...form, guest: guest.id, cpus: guest.cpus, memoryMiB: guest.memoryMiB };
}

export function validateWizard(
  form: WizardForm,
  existingNames: readonly string[],
  guests: readonly GuestTemplate[],
): WizardErrors {
  const e: WizardErrors = {};
  const put = (k: keyof Omit<WizardErrors, 'disks'>, v: string | null): void => {
    if (v) e[k] = v;
  };
  put('name', nameError(form.name, existingNames));
  if (form.guest !== 'custom' && !guests.some((g) => g.id === form.guest)) e.guest = 'Choose a guest.';
  put('cpus', cpusError(form.cpus));
  put('memoryMiB', memoryError(form.memoryMiB));
  if (form.guest === 'custom') {
    // The empty machine runs no guest code: it needs no kernel.
    put('kernel', pathError(form.kernel, 'kernel image', form.machine !== 'none'));
    put('initrd', pathError(form.initrd, 'initrd', false));
    put(
      'devices',
      deviceLines(form.devices)
        .map(deviceError)
        .find((x) => x) ?? null,
    );
  }
  const diskErrors = form.disks.map((d) =>
    d.kind === 'new'
      ? intError(d.sizeMiB, 'disk size (MiB)', 1, LIMITS.diskMaxMiB)
      : pathError(d.file, 'disk image', true),
  );
  if (diskErrors.some((x) => x)) e.disks = diskErrors;
  return e;
}

/** The extra -device options, one per non-empty line. */
export function deviceLines(text: string): string[] {
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
}

export function hasErrors(e: WizardErrors): boolean {
  return Object.keys(e).length > 0;
}

export function toRequest(form: WizardForm): NewVmRequest {
  // New disks are qcow2: a memory snapshot is stored in the VM's first disk, which only qcow2 can do.
  const disks: DiskRequest[] = form.disks.map((d) =>
    d.kind === 'new' ? { sizeMiB: Number(d.sizeMiB), format: 'qcow2' } : { file: d.file.trim() },
  );
  const custom = form.guest === 'custom';
  return {
    name: form.name,
    guest: custom ? null : form.guest,
    cpus: Number(form.cpus),
    memoryMiB: Number(form.memoryMiB),
    ...(custom
      ? {
          machine: form.machine,
          kernel: form.kernel.trim() || null,
          devices: deviceLines(form.devices),
          initrd: form.initrd.trim() || null,
          append: form.append.trim() || null,
        }
      : {}),
    disks,
  };
}
