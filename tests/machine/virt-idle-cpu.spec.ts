/**
 * An idle guest costs the host almost nothing: with the default Debian guest at its shell prompt and
 * nothing to do, the harts sit in WFI and the run loop sleeps until the next timer deadline, so the
 * engine process uses under 5% of a host core (QEMU's idle guests are in the same range). Measured
 * from /proc/PID/stat (utime + stime) over 10 s after the boot has settled.
 *
 * One boot (minutes at the interpreter's speed); skipped when the guest is not built or gated in CI.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { guestEngineArgs, hostSleep, needGuest, powerOff, withGuestAtPrompt } from './guest-on-engine.js';

/** Clock ticks per second of /proc/PID/stat's times (USER_HZ, 100 on Linux). */
const USER_HZ = 100;

/** CPU seconds (user + system) the process has used so far. */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / USER_HZ; // fields 14 and 15 of the file
}

describe.skipIf(process.platform !== 'linux')('idle guest on our virt machine', () => {
  it('uses under 5% of a host core at the prompt', { timeout: 2_400_000 }, async (ctx) => {
    const g = await needGuest(ctx);
    await withGuestAtPrompt(guestEngineArgs(g), async (vm) => {
      await hostSleep(15_000); // let the boot's deferred work (module loads, timers) finish
      const pid = vm.child.pid!;
      const c0 = cpuSeconds(pid);
      const t0 = performance.now();
      await hostSleep(10_000);
      const share = (cpuSeconds(pid) - c0) / ((performance.now() - t0) / 1000);
      console.log(`[virt idle] engine used ${(share * 100).toFixed(1)}% of a host core over 10 s`);
      expect(share).toBeLessThan(0.05);
      // Still alive and answering after the quiet spell.
      expect((await vm.session.run('echo $((6*7))', { timeoutMs: 120_000 })).trim()).toBe('42');
      expect(await powerOff(vm, 180_000)).toEqual({ code: 0, signal: null });
    });
  });
});
