import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ApiEventMap, GuestProgress, NewVmRequest, VmSummary } from '../api/contract.js';
import { VmService } from '../api/service.js';
import { emptyMachineConfig } from '../supervisor/testing/empty-machine-vm.js';
import { seedDefaultVm } from './default-vm.js';
import type { ResolvedGuest } from './guests.js';
import { Library } from './library.js';

const debian: ResolvedGuest = {
  id: 'debian-riscv64',
  title: 'Debian riscv64',
  description: '',
  machine: 'virt',
  cpus: 1,
  memoryMiB: 512,
  available: false,
  missing: ['Image'],
  kernel: '/nowhere/Image',
  initrd: null,
  firmware: null,
  disk: null,
  append: 'console=ttyS0',
};

let dir: string;
let lib: Library;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vmstudio-default-'));
  lib = Library.open(path.join(dir, 'library.db'));
});
afterEach(() => {
  lib.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

function service(prepare: (id: string, log: (m: string) => void) => Promise<void>): VmService {
  return new VmService(lib, {
    dataDir: dir,
    mode: 'web',
    version: 't',
    supervisor: { engine: { command: process.execPath, prefix: ['/nonexistent'] } },
    guests: () => [debian],
    prepareGuest: { canPrepare: (id) => id === 'debian-riscv64', prepare },
    statsIntervalMs: 0,
  });
}

describe('the default VM', () => {
  it('is created once in a new library, with the default guest recipe, and not again after deletion', async () => {
    const made: NewVmRequest[] = [];
    const create = async (r: NewVmRequest) => {
      made.push(r);
      lib.createVm(
        emptyMachineConfig({
          name: r.name,
          guest: r.guest,
          machine: 'virt',
          cpus: r.cpus,
          memoryMiB: r.memoryMiB,
        }),
      );
    };
    expect(await seedDefaultVm(lib, [debian], create)).toBe(true);
    expect(made).toEqual([{ name: 'Debian riscv64', guest: 'debian-riscv64', cpus: 1, memoryMiB: 512 }]);
    lib.deleteVm(lib.listVms()[0]!.id);
    expect(await seedDefaultVm(lib, [debian], create)).toBe(false);
    expect(made).toHaveLength(1);
  });

  it('is not added to a library that already has VMs, nor without the guest template', async () => {
    const create = async () => {
      throw new Error('must not be called');
    };
    expect(await seedDefaultVm(lib, [], create)).toBe(false);
    lib.createVm(emptyMachineConfig({ name: 'mine' }));
    expect(await seedDefaultVm(lib, [debian], create)).toBe(false);
  });

  it('prepares the guest on first start with progress, and reports a failure clearly', async () => {
    const events: GuestProgress[] = [];
    const svc = service(async (_id, log) => {
      log('checking the mirror');
      throw new Error('the Debian mirror is unreachable (connection refused)');
    });
    svc.subscribe(<E extends keyof ApiEventMap>(e: E, p: ApiEventMap[E]) => {
      if (e === 'guest-progress') events.push(p as GuestProgress);
    });
    const vm = (await svc.dispatch('vms.create', [
      { name: 'Debian riscv64', guest: 'debian-riscv64', cpus: 1, memoryMiB: 512 },
    ])) as VmSummary;
    await expect(svc.dispatch('vms.start', [vm.id])).rejects.toThrow(
      "VM 'Debian riscv64' could not start: the guest 'Debian riscv64' could not be prepared: the Debian mirror is unreachable (connection refused)",
    );
    expect(events.map((e) => [e.status, e.message])).toEqual([
      [
        'running',
        "Preparing the guest 'Debian riscv64' (first start: its files are fetched and built once)…",
      ],
      ['running', 'checking the mirror'],
      ['failed', 'the Debian mirror is unreachable (connection refused)'],
    ]);
    await svc.shutdown();
  });
});
