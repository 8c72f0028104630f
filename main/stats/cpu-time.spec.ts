import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { parseProcStat, parsePsTime, processCpuTimeMs } from './cpu-time.js';

describe('engine CPU time', () => {
  it('reads utime + stime from /proc/PID/stat, whatever the command name contains', () => {
    const line = '4242 (node (engine) x) S 1 4242 4242 0 -1 4194560 100 0 0 0 250 37 0 0 20 0 11 0 123 0 0';
    expect(parseProcStat(line)).toBe(287);
    expect(parseProcStat('garbage')).toBeNull();
  });

  it('reads ps time formats', () => {
    expect(parsePsTime('00:01:05')).toBe(65_000);
    expect(parsePsTime('  0:02.50\n')).toBe(2_500);
    expect(parsePsTime('1-02:00:00')).toBe(26 * 3_600_000);
    expect(parsePsTime('n/a')).toBeNull();
  });

  it("measures another process's CPU time, growing while it computes", async () => {
    const child = spawn(process.execPath, ['-e', 'const end = Date.now() + 700; while (Date.now() < end);'], {
      stdio: 'ignore',
    });
    try {
      await new Promise((r) => setTimeout(r, 100));
      const a = await processCpuTimeMs(child.pid!);
      await new Promise((r) => setTimeout(r, 400));
      const b = await processCpuTimeMs(child.pid!);
      expect(a).not.toBeNull();
      expect(b!).toBeGreaterThan(a!);
    } finally {
      child.kill();
    }
    expect(await processCpuTimeMs(2 ** 22 + 12345)).toBeNull();
  });
});
