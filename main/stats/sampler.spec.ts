import { describe, expect, it } from 'vitest';
import type { VmStatsSample } from '../api/contract.js';
import { rateBetween, StatsSampler, sumInstructions } from './sampler.js';

describe('rateBetween', () => {
  it('turns counters into per-second rates over the interval', () => {
    expect(
      rateBetween(
        { time: 1000, instructions: 5_000, cpuMs: 100 },
        { time: 3000, instructions: 25_000, cpuMs: 600 },
      ),
    ).toEqual({
      time: 3000,
      ips: 10_000,
      cpuPercent: 25,
    });
  });

  it('gives no rate for the first sample, unknown counters, or a counter that went back', () => {
    expect(rateBetween(null, { time: 1, instructions: 1, cpuMs: 1 })).toEqual({
      time: 1,
      ips: null,
      cpuPercent: null,
    });
    expect(
      rateBetween({ time: 0, instructions: 900, cpuMs: null }, { time: 1000, instructions: 10, cpuMs: 5 }),
    ).toEqual({
      time: 1000,
      ips: null,
      cpuPercent: null,
    });
  });
});

describe('sumInstructions', () => {
  it('sums the vCPUs and counts a machine without vCPUs as 0', () => {
    const r = (n: number) => ({
      stats: [
        { name: 'instructions', value: n },
        { name: 'other', value: 99 },
      ],
    });
    expect(sumInstructions([r(3), r(4)])).toBe(7);
    expect(sumInstructions([{ stats: [{ name: 'instructions', value: 10n }] }])).toBe(10);
    expect(sumInstructions([])).toBe(0);
  });
});

describe('StatsSampler', () => {
  it('samples active VMs, keeps a bounded history and forgets VMs that stopped', async () => {
    let t = 0;
    let instr = 0;
    let active = ['a'];
    const emitted: [string, VmStatsSample][] = [];
    const s = new StatsSampler(
      {
        activeVmIds: () => active,
        instructions: async () => instr,
        cpuTimeMs: async () => t / 2,
        emit: (id, sample) => emitted.push([id, sample]),
        now: () => t,
      },
      1000,
      3,
    );
    for (let i = 0; i < 5; i++) {
      await s.tick();
      t += 1000;
      instr += 2_000_000;
    }
    expect(emitted).toHaveLength(4);
    expect(emitted[0]).toEqual(['a', { time: 1000, ips: 2_000_000, cpuPercent: 50 }]);
    expect(s.samples('a').map((x) => x.time)).toEqual([2000, 3000, 4000]);
    active = [];
    await s.tick();
    expect(s.samples('a')).toEqual([]);
  });

  it('records unknown values when the engine or the process cannot be read', async () => {
    let t = 0;
    const s = new StatsSampler({
      activeVmIds: () => ['a'],
      instructions: async () => {
        throw new Error('CommandNotFound');
      },
      cpuTimeMs: async () => null,
      emit: () => undefined,
      now: () => (t += 1000),
    });
    await s.tick();
    await s.tick();
    expect(s.samples('a')).toEqual([{ time: 2000, ips: null, cpuPercent: null }]);
  });
});
