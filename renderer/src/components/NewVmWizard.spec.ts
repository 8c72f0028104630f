import { describe, expect, it } from 'vitest';
import type { GuestTemplate } from '../../../main/api/contract.js';
import { hasErrors, initialForm, selectGuest, toRequest, validateWizard } from './new-vm-wizard.js';

const debian: GuestTemplate = {
  id: 'debian-riscv64',
  title: 'Debian 12 (riscv64)',
  description: '',
  machine: 'virt',
  cpus: 2,
  memoryMiB: 1024,
  available: true,
  missing: [],
};

describe('New VM wizard', () => {
  it('starts from the default guest with a free name', () => {
    const f = initialForm([debian], ['Debian 12']);
    expect(f).toMatchObject({ name: 'Debian 12 2', guest: 'debian-riscv64', cpus: 2, memoryMiB: 1024 });
    expect(validateWizard(f, ['Debian 12'], [debian])).toEqual({});
  });

  it('reports each invalid field with a message', () => {
    const f = { ...initialForm([debian], []), name: ' ', cpus: '0', memoryMiB: 'lots' };
    const e = validateWizard(f, [], [debian]);
    expect(e).toEqual({
      name: 'Give the VM a name.',
      cpus: 'The number of CPUs must be between 1 and 64.',
      memoryMiB: 'The memory size (MiB) must be a whole number.',
    });
    expect(hasErrors(e)).toBe(true);
  });

  it('requires an absolute kernel path for a custom guest, and checks disks', () => {
    let f = selectGuest(initialForm([debian], []), 'custom');
    f = {
      ...f,
      kernel: 'Image',
      disks: [
        { kind: 'new', sizeMiB: 0, file: '' },
        { kind: 'existing', sizeMiB: 0, file: '' },
      ],
    };
    const e = validateWizard(f, [], [debian]);
    expect(e.kernel).toBe('The kernel image path must be absolute.');
    expect(e.disks).toEqual(['The disk size (MiB) must be between 1 and 2097152.', 'Choose the disk image.']);
  });

  it('refuses a duplicate name regardless of case', () => {
    const f = { ...initialForm([debian], []), name: 'WEB' };
    expect(validateWizard(f, ['web'], [debian]).name).toBe("A VM named 'WEB' already exists.");
  });

  it('builds the request main expects', () => {
    const f = { ...initialForm([debian], []), disks: [{ kind: 'new' as const, sizeMiB: '4096', file: '' }] };
    expect(toRequest(f)).toEqual({
      name: 'Debian 12',
      guest: 'debian-riscv64',
      cpus: 2,
      memoryMiB: 1024,
      disks: [{ sizeMiB: 4096, format: 'qcow2' }],
    });
    const c = { ...selectGuest(f, 'custom'), kernel: '/k/Image', initrd: '', disks: [] };
    expect(toRequest(c)).toEqual({
      name: 'Debian 12',
      guest: null,
      cpus: 2,
      memoryMiB: 1024,
      machine: 'virt',
      kernel: '/k/Image',
      initrd: null,
      append: 'console=ttyS0',
      devices: [],
      disks: [],
    });
  });

  it('offers the empty machine, which needs no kernel, with extra devices', () => {
    const c = {
      ...selectGuest(initialForm([debian], []), 'custom'),
      machine: 'none',
      devices: ' a-dev,id=x \n\n',
    };
    expect(validateWizard(c, [], [debian])).toEqual({});
    expect(toRequest(c)).toMatchObject({ machine: 'none', kernel: null, devices: ['a-dev,id=x'] });
    expect(validateWizard({ ...c, machine: 'virt' }, [], [debian]).kernel).toBe('Choose the kernel image.');
    expect(validateWizard({ ...c, devices: 'bad dev' }, [], [debian]).devices).toMatch(
      /is not a -device option string/,
    );
  });
});
