import { describe, expect, it } from 'vitest';
import { cpuLabel, formatBytes, formatMemory, formatRelative } from './format.js';

describe('format', () => {
  it('formats memory, bytes and relative times', () => {
    expect(formatMemory(512)).toBe('512 MiB');
    expect(formatMemory(2048)).toBe('2 GiB');
    expect(formatMemory(1536)).toBe('1.5 GiB');
    expect(formatBytes(0)).toBe('0 B');
    expect(formatBytes(1536)).toBe('1.5 KiB');
    expect(formatBytes(300 * 1024 * 1024)).toBe('300 MiB');
    expect(formatRelative(0, 10_000)).toBe('just now');
    expect(formatRelative(0, 5 * 60_000)).toBe('5 min ago');
    expect(formatRelative(0, 26 * 3600_000)).toBe('1 day ago');
  });

  it("counts vCPUs, and none on QEMU's empty machine", () => {
    expect(cpuLabel({ cpus: 1, machine: 'virt' })).toBe('1 vCPU');
    expect(cpuLabel({ cpus: 4, machine: 'virt' })).toBe('4 vCPUs');
    expect(cpuLabel({ cpus: 1, machine: 'none' })).toBe('no vCPUs');
  });
});
