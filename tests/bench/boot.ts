/**
 * Boot time of the default guest: spawn to the shell prompt on the serial console, N boots per
 * engine (median). The last boot is kept running for the sections that need a booted guest. On our
 * engine the guest instructions retired by the prompt (QMP query-stats) give the boot's average speed.
 */
import { BootedGuest, type GuestBootOptions } from './guest-session.js';
import { median, type Measure } from './report.js';

export interface BootResult {
  /** Spawn-to-prompt time of each boot, in seconds. */
  seconds: number[];
  /** Guest instructions retired by the prompt of the last boot (our engine only). */
  instructions?: number;
}

/** Boots `runs` times; all but the last guest are powered off. */
export async function timeBoots(
  opts: GuestBootOptions,
  runs: number,
  log: (line: string) => void,
): Promise<{ result: BootResult; guest: BootedGuest }> {
  const seconds: number[] = [];
  for (let i = 0; ; i++) {
    const guest = await BootedGuest.boot(opts);
    seconds.push(guest.bootSeconds);
    const instructions = await guest.instructions();
    log(
      `${opts.engine}: boot ${i + 1}/${runs} reached the prompt in ${guest.bootSeconds.toFixed(1)} s` +
        (instructions ? ` (${instructions} guest instructions)` : ''),
    );
    if (i + 1 >= runs) return { result: { seconds, instructions }, guest };
    await guest.shutdown();
  }
}

export function bootMeasures(ours?: BootResult, qemu?: BootResult): Measure[] {
  const o = ours && median(ours.seconds);
  const out: Measure[] = [
    {
      section: 'boot',
      label: 'spawn to shell prompt',
      unit: 's',
      ours: o,
      qemu: qemu && median(qemu.seconds),
      better: 'lower',
      target: '8x of QEMU or less',
      digits: 1,
    },
  ];
  if (o && ours?.instructions) {
    // The instructions are those of the last boot; its own time is the matching denominator.
    const last = ours.seconds[ours.seconds.length - 1];
    out.push({
      section: 'boot',
      label: 'guest speed over the boot',
      unit: 'MIPS',
      ours: ours.instructions / last / 1e6,
      better: 'higher',
      digits: 1,
    });
  }
  return out;
}
