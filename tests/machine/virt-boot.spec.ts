/**
 * Boots VM Studio's default guest (Debian's riscv64 kernel, OpenSBI and a busybox initramfs) on our
 * engine's `virt` machine with its console on stdio (-nographic), logs in over the serial line, runs
 * commands and powers off, as the same test does against QEMU in tests/guest.
 *
 * Skipped, with the reason, when the guest is not built and cannot be built offline
 * (`npx tsx assets/guests/debian-riscv64/build.ts` builds it).
 */
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import type { DefaultGuest } from '../../assets/guests/debian-riscv64/build.js';
import { defaultGuestForBootTests } from '../helpers/guest-boot.js';
import { GUEST_PROMPT, startSerialProcess, type SerialProcess } from '../guest/serial-session.js';

const REPO = join(import.meta.dirname, '../..');
const ENGINE = join(REPO, 'tests/machine/engine-main.ts');

let guest: DefaultGuest | undefined;
let skipReason = '';
const ready = defaultGuestForBootTests().then(
  (g) => {
    guest = g;
  },
  (e: unknown) => {
    skipReason = `default guest not available offline (build it with npx tsx assets/guests/debian-riscv64/build.ts): ${(e as Error).message}`;
  },
);

async function needGuest(ctx: { skip: (note?: string) => never }): Promise<DefaultGuest> {
  await ready;
  if (!guest) {
    console.warn(skipReason);
    ctx.skip(skipReason);
  }
  return guest!;
}

/** Our engine, booting the guest; resolves once the shell prompt is there. */
async function boot(g: DefaultGuest, extra: string[] = []): Promise<{ vm: SerialProcess; ms: number }> {
  const args = [
    '--import',
    'tsx',
    ENGINE,
    '-M',
    'virt',
    '-m',
    '512M',
    '-nographic',
    '-bios',
    g.firmware.fwDynamicBin,
    '-kernel',
    g.kernel,
    '-initrd',
    g.initrd,
    '-append',
    g.append,
    ...extra,
  ];
  const t0 = performance.now();
  const vm = startSerialProcess(process.execPath, args, { timeoutMs: 60_000 });
  try {
    await vm.session.waitFor('OpenSBI', 60_000);
    await vm.session.waitFor(/Linux version \S+/, 300_000);
    await vm.session.waitFor(/VM Studio guest ready \(riscv64, Linux \S+\)/, 900_000);
    await vm.session.waitFor(GUEST_PROMPT, 120_000);
  } catch (e) {
    vm.kill();
    throw new Error(`${(e as Error).message}\nengine stderr: ${vm.stderr()}`);
  }
  return { vm, ms: performance.now() - t0 };
}

describe('default guest on our virt machine', () => {
  it('boots to the prompt, runs commands and powers off', { timeout: 1_800_000 }, async (ctx) => {
    const g = await needGuest(ctx);
    const { vm, ms } = await boot(g);
    try {
      console.log(`[virt boot] prompt after ${(ms / 1000).toFixed(1)} s`);
      expect((await vm.session.run('uname -m', { timeoutMs: 120_000 })).trim()).toBe('riscv64');
      expect((await vm.session.run('echo $((6*7))', { timeoutMs: 120_000 })).trim()).toBe('42');
      const cpuinfo = await vm.session.run('cat /proc/cpuinfo', { timeoutMs: 120_000 });
      expect(cpuinfo).toMatch(/^isa\s*: rv64imafdc/m);
      expect((await vm.session.run('hostname', { timeoutMs: 120_000 })).trim()).toBe('vmstudio');
      vm.session.sendLine('poweroff -f');
      const r = await vm.waitExit(120_000);
      expect(r).toEqual({ code: 0, signal: null });
    } finally {
      vm.kill();
    }
  });
});
