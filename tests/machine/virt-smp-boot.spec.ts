/**
 * The default Debian guest with two harts on our engine's `virt` machine, firmware from `-bios
 * default` (the board finds OpenSBI's fw_dynamic by name; virt-boot.spec.ts covers `-bios <file>`):
 * OpenSBI and Linux bring up both harts, the guest sees 2 CPUs (nproc, /proc/cpuinfo, sysfs), a
 * command pinned with taskset runs on the hart it was pinned to, and the guest powers off cleanly.
 *
 * One boot (minutes at the interpreter's speed); skipped when the guest is not built or gated in CI.
 */
import { describe, expect, it } from 'vitest';
import { guestEngineArgs, guestShell, needGuest, powerOff, withGuestAtPrompt } from './guest-on-engine.js';

describe('default guest on our virt machine with -smp 2', () => {
  it(
    'boots with -bios default, sees and uses both harts, powers off',
    { timeout: 2_400_000 },
    async (ctx) => {
      const g = await needGuest(ctx);
      const args = guestEngineArgs(g, { bios: 'default', extra: ['-smp', '2'] });
      await withGuestAtPrompt(args, async (vm, ms) => {
        console.log(`[virt smp 2] prompt after ${(ms / 1000).toFixed(1)} s`);
        const run = guestShell(vm, 180_000);
        const boot = vm.session.output;
        expect(boot).toMatch(/Platform HART Count\s*: 2\n/);
        expect(boot).toMatch(/smp: Brought up 1 node, 2 CPUs/);

        expect((await run('nproc')).trim()).toBe('2');
        const cpuinfo = await run('cat /proc/cpuinfo');
        expect(cpuinfo.match(/^processor\s*: \d+$/gm)).toEqual(['processor\t: 0', 'processor\t: 1']);
        expect(cpuinfo.match(/^hart\s*: \d+$/gm)?.length).toBe(2);
        expect((await run('cat /sys/devices/system/cpu/online')).trim()).toBe('0-1');

        // Field 39 of /proc/PID/stat is the CPU the task last ran on: a pinned task reports its hart.
        for (const cpu of [0, 1]) {
          const out = await run(`taskset -c ${cpu} sh -c 'cut -d" " -f39 /proc/self/stat; echo $((40+2))'`);
          expect(out.trim().split('\n')).toEqual([String(cpu), '42']);
        }
        // Both harts take work at once: two pinned busy loops finish and report their harts (a subshell,
        // so the interactive shell prints no job notices).
        const both = await run(
          `(for c in 0 1; do taskset -c $c sh -c 'i=0; while [ $i -lt 2000 ]; do i=$((i+1)); done; cut -d" " -f39 /proc/self/stat' > /tmp/on$c & done; wait); cat /tmp/on0 /tmp/on1`,
        );
        expect(both.trim().split('\n')).toEqual(['0', '1']);

        expect(await powerOff(vm, 180_000)).toEqual({ code: 0, signal: null });
      });
    },
  );
});
