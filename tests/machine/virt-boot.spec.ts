/**
 * Boots VM Studio's default guest (Debian's riscv64 kernel, OpenSBI and a busybox initramfs) on our
 * engine's `virt` machine with its console on stdio (-nographic), logs in over the serial line, runs
 * commands and powers off, as the same test does against QEMU in tests/guest.
 *
 * Skipped, with the reason, when the guest is not built and cannot be built offline
 * (`npx tsx assets/guests/debian-riscv64/build.ts` builds it).
 */
import { describe, expect, it } from 'vitest';
import { guestEngineArgs, guestShell, needGuest, powerOff, withGuestAtPrompt } from './guest-on-engine.js';

describe('default guest on our virt machine', () => {
  it('boots to the prompt, runs commands and powers off', { timeout: 1_800_000 }, async (ctx) => {
    const g = await needGuest(ctx);
    await withGuestAtPrompt(guestEngineArgs(g), async (vm, ms) => {
      console.log(`[virt boot] prompt after ${(ms / 1000).toFixed(1)} s`);
      const run = guestShell(vm, 120_000);
      expect((await run('uname -m')).trim()).toBe('riscv64');
      expect((await run('echo $((6*7))')).trim()).toBe('42');
      expect(await run('cat /proc/cpuinfo')).toMatch(/^isa\s*: rv64imafdc/m);
      expect((await run('hostname')).trim()).toBe('vmstudio');
      expect(await powerOff(vm, 120_000)).toEqual({ code: 0, signal: null });
    });
  });
});
