/**
 * The "embedded default": a fresh install shows one ready-to-run VM built on the default Debian
 * riscv64 guest, so `npm start` has something to start. Created once per library: when the library
 * is new and empty. A library that ever had VMs (or had the default created and deleted) is left
 * alone, so deleting the default VM does not bring it back.
 */
import type { NewVmRequest } from '../api/contract.js';
import type { ResolvedGuest } from './guests.js';
import type { Library } from './library.js';

export const DEFAULT_GUEST_ID = 'debian-riscv64';
export const DEFAULT_VM_SETTING = 'default-vm-created';

/** The default VM: the default guest's own recipe (Debian riscv64, 1 CPU, 512 MiB, machine virt). */
export function defaultVmRequest(guest: ResolvedGuest): NewVmRequest {
  return { name: guest.title, guest: guest.id, cpus: guest.cpus, memoryMiB: guest.memoryMiB };
}

/**
 * Create the default VM if this library never had one; returns whether it did. `create` is the
 * service's own VM creation (same validation, disk copies and events as the wizard).
 */
export async function seedDefaultVm(
  library: Library,
  guests: readonly ResolvedGuest[],
  create: (request: NewVmRequest) => Promise<unknown>,
): Promise<boolean> {
  if (library.getSetting(DEFAULT_VM_SETTING) !== null) return false;
  if (library.listVms().length > 0) {
    library.setSetting(DEFAULT_VM_SETTING, 'not needed');
    return false;
  }
  const guest = guests.find((g) => g.id === DEFAULT_GUEST_ID);
  if (!guest) return false;
  await create(defaultVmRequest(guest));
  library.setSetting(DEFAULT_VM_SETTING, new Date().toISOString());
  return true;
}
