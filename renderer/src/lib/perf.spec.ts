import { describe, expect, it } from 'vitest';
import { formatCpu, formatIps, niceMax, sparkPath } from './perf.js';

describe('load graph helpers', () => {
  it('formats rates', () => {
    expect(formatIps(850)).toBe('850 IPS');
    expect(formatIps(12_345)).toBe('12.3 KIPS');
    expect(formatIps(4_500_000)).toBe('4.5 MIPS');
    expect(formatIps(250_000_000)).toBe('250 MIPS');
    expect(formatIps(null)).toBe('—');
    expect(formatCpu(3.14159)).toBe('3.1%');
    expect(formatCpu(87.6)).toBe('88%');
  });

  it('picks round scales', () => {
    expect(niceMax([3, 7])).toBe(10);
    expect(niceMax([120])).toBe(200);
    expect(niceMax([null, 0])).toBe(1);
    expect(niceMax([30], 100)).toBe(100);
  });

  it('draws right-aligned paths that break at unknown samples', () => {
    expect(sparkPath([0, 10], 100, 10, 10, 3)).toBe('M50.0 10.0L100.0 0.0');
    expect(sparkPath([5, null, 5], 20, 10, 10)).toBe('M0.0 5.0M20.0 5.0');
    expect(sparkPath([50], 10, 10, 10, 2)).toBe('M10.0 0.0');
  });
});
