/**
 * The default Debian guest for tests that boot it on OUR engine. Such a boot takes 4-6 minutes at
 * the CPU's current speed (see issue 3's benchmark), so CI runs these tests only when asked with
 * VMSTUDIO_GUEST_BOOT_TESTS=1; everywhere else they run whenever the guest is built.
 */
import { ensureDefaultGuest, type DefaultGuest } from '../../assets/guests/debian-riscv64/build.js';

export function guestBootTestsGated(): boolean {
  return process.env.CI === 'true' && process.env.VMSTUDIO_GUEST_BOOT_TESTS !== '1';
}

export async function defaultGuestForBootTests(): Promise<DefaultGuest> {
  if (guestBootTestsGated()) {
    throw new Error('guest boots on our engine are slow; in CI they run with VMSTUDIO_GUEST_BOOT_TESTS=1');
  }
  return ensureDefaultGuest({ offline: true });
}
