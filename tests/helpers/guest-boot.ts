/**
 * The default Debian guest for tests that boot it on OUR engine. With the wasm translator a boot to
 * the shell takes 20-60 s, so these tests run everywhere, CI included (.ci/run builds the guest
 * before `npm test`); VMSTUDIO_GUEST_BOOT_TESTS=0 turns them off for a quick local run.
 */
import { ensureDefaultGuest, type DefaultGuest } from '../../assets/guests/debian-riscv64/build.js';

export function guestBootTestsGated(): boolean {
  return process.env.VMSTUDIO_GUEST_BOOT_TESTS === '0';
}

export async function defaultGuestForBootTests(): Promise<DefaultGuest> {
  if (guestBootTestsGated()) {
    throw new Error('guest boots on our engine are turned off (VMSTUDIO_GUEST_BOOT_TESTS=0)');
  }
  return ensureDefaultGuest({ offline: true });
}
