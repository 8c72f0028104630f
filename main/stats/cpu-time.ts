/**
 * CPU time used by another process (the VM's engine), without extra dependencies. Node's
 * process.cpuUsage() only measures the calling process, so: on Linux /proc/PID/stat (utime + stime in
 * clock ticks); elsewhere `ps -o time=` (POSIX) or, on Windows, PowerShell's TotalProcessorTime.
 */
import { execFile, execFileSync } from 'node:child_process';
import fs from 'node:fs';

/** utime + stime (fields 14 and 15) of a /proc/PID/stat line, in clock ticks; null if malformed. */
export function parseProcStat(text: string): number | null {
  // The command name (field 2) is in parentheses and may itself contain spaces and parentheses.
  const close = text.lastIndexOf(')');
  if (close < 0) return null;
  const rest = text
    .slice(close + 1)
    .trim()
    .split(/\s+/);
  // rest[0] is field 3 (state): utime is field 14, stime field 15.
  const utime = Number(rest[11]);
  const stime = Number(rest[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) return null;
  return utime + stime;
}

/** `ps -o time=` output: `[[dd-]hh:]mm:ss[.cc]` → milliseconds; null if malformed. */
export function parsePsTime(text: string): number | null {
  const m = /^\s*(?:(\d+)-)?(?:(\d+):)?(\d+):(\d+(?:\.\d+)?)\s*$/.exec(text);
  if (!m) return null;
  const [, d, h, mi, s] = m;
  return ((Number(d ?? 0) * 24 + Number(h ?? 0)) * 60 + Number(mi)) * 60_000 + Math.round(Number(s) * 1000);
}

let clockTicks: number | null = null;

/** sysconf(_SC_CLK_TCK): asked once from getconf, 100 (Linux's USER_HZ) if that fails. */
function ticksPerSecond(): number {
  if (clockTicks === null) {
    try {
      const n = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8', timeout: 2000 }).trim());
      clockTicks = Number.isFinite(n) && n > 0 ? n : 100;
    } catch {
      clockTicks = 100;
    }
  }
  return clockTicks;
}

function run(cmd: string, args: string[]): Promise<string | null> {
  return new Promise((resolve) => {
    execFile(cmd, args, { encoding: 'utf8', timeout: 3000, windowsHide: true }, (err, out) =>
      resolve(err ? null : out),
    );
  });
}

/** Total CPU time (user + system) the process has used, in ms; null when it cannot be read. */
export async function processCpuTimeMs(
  pid: number,
  platform: NodeJS.Platform = process.platform,
): Promise<number | null> {
  if (platform === 'linux') {
    try {
      const ticks = parseProcStat(await fs.promises.readFile(`/proc/${pid}/stat`, 'utf8'));
      if (ticks !== null) return (ticks * 1000) / ticksPerSecond();
    } catch {
      // no /proc (or the process is gone): try the portable way
    }
  }
  if (platform === 'win32') {
    const out = await run('powershell.exe', [
      '-NoProfile',
      '-Command',
      `(Get-Process -Id ${pid}).TotalProcessorTime.TotalMilliseconds`,
    ]);
    const n = out === null ? NaN : Number(out.trim().replace(',', '.'));
    return Number.isFinite(n) ? n : null;
  }
  const out = await run('ps', ['-o', 'time=', '-p', String(pid)]);
  return out === null ? null : parsePsTime(out);
}
