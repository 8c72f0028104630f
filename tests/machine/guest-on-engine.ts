/**
 * Shared set-up of the tests that boot VM Studio's default Debian guest on OUR engine's `virt`
 * machine (each boot takes minutes, so every test file boots as few times as it can): the guest's
 * files (or the reason a test is skipped), the engine's command line, and a boot that resolves at
 * the shell prompt.
 */
import { join } from 'node:path';
import type { DefaultGuest } from '../../assets/guests/debian-riscv64/build.js';
import { defaultGuestForBootTests } from '../helpers/guest-boot.js';
import { GUEST_PROMPT, startSerialProcess, type SerialProcess } from '../guest/serial-session.js';

export const ENGINE_MAIN = join(import.meta.dirname, 'engine-main.ts');

let guest: DefaultGuest | undefined;
let skipReason = '';
const ready = defaultGuestForBootTests().then(
  (g) => void (guest = g),
  (e: unknown) =>
    void (skipReason = `default guest not available offline (build it with npx tsx assets/guests/debian-riscv64/build.ts): ${(e as Error).message}`),
);

/** The default guest, or skips the test with the reason (not built, or gated in CI). */
export async function needGuest(ctx: { skip: (note?: string) => never }): Promise<DefaultGuest> {
  await ready;
  if (!guest) {
    console.warn(skipReason);
    ctx.skip(skipReason);
  }
  return guest!;
}

/**
 * `node --import tsx engine-main.ts -M virt -m 512M -nographic <firmware> -kernel ... <extra>`.
 * `bios` is the -bios value; undefined passes the guest's own fw_dynamic.bin.
 */
export function guestEngineArgs(g: DefaultGuest, opts: { bios?: string; extra?: string[] } = {}): string[] {
  return [
    '--import',
    'tsx',
    ENGINE_MAIN,
    '-M',
    'virt',
    '-m',
    '512M',
    '-nographic',
    '-bios',
    opts.bios ?? g.firmware.fwDynamicBin,
    '-kernel',
    g.kernel,
    '-initrd',
    g.initrd,
    '-append',
    g.append,
    ...(opts.extra ?? []),
  ];
}

/** Starts the engine with `args` (from guestEngineArgs) and waits for the guest's shell prompt. */
export async function bootToPrompt(args: string[]): Promise<{ vm: SerialProcess; ms: number }> {
  const t0 = performance.now();
  const vm = startSerialProcess(process.execPath, args, { timeoutMs: 120_000 });
  try {
    await vm.session.waitFor('OpenSBI', 120_000);
    await vm.session.waitFor(/Linux version \S+/, 600_000);
    await vm.session.waitFor(/VM Studio guest ready \(riscv64, Linux \S+\)/, 1_500_000);
    await vm.session.waitFor(GUEST_PROMPT, 120_000);
  } catch (e) {
    vm.kill();
    throw new Error(`${(e as Error).message}\nengine stderr: ${vm.stderr()}`);
  }
  return { vm, ms: performance.now() - t0 };
}
