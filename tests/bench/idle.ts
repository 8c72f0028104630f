/**
 * Host CPU used by a VM whose guest sits idle at its shell prompt: the process's utime+stime from
 * /proc/PID/stat (all threads) over a window, as a percentage of one host core. An idle guest waits
 * in WFI; an engine that polls instead of sleeping burns a core here.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { BootedGuest } from './guest-session.js';

/** Clock ticks per second of /proc's CPU times. */
function clockTicks(): number {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
}

/** utime + stime of a process, in seconds. */
export function processCpuSeconds(pid: number, ticks = clockTicks()): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces): state is field 3, utime 14, stime 15.
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / ticks;
}

export interface IdleOptions {
  /** Sampling window (default 10 s). */
  seconds?: number;
  /** Wait after the prompt before sampling, for the guest's boot-time work to settle (default 2 s). */
  settleSeconds?: number;
}

/** Percent of one host core the VM process used while its guest idled. */
export async function idleCpuPercent(g: BootedGuest, opts: IdleOptions = {}): Promise<number> {
  const ticks = clockTicks();
  await new Promise((r) => setTimeout(r, (opts.settleSeconds ?? 2) * 1000));
  const c0 = processCpuSeconds(g.pid, ticks);
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, (opts.seconds ?? 10) * 1000));
  const c1 = processCpuSeconds(g.pid, ticks);
  return ((c1 - c0) / ((performance.now() - t0) / 1000)) * 100;
}
