import { describe, expect, it } from 'vitest';
import { qmpQueryStats, qmpQueryStatsSchemas, type StatsVcpu } from './stats.js';

function harts(...counts: number[]): StatsVcpu[] {
  return counts.map((n, i) => ({ qomPath: `/machine/soc0/harts[${i}]`, instructions: () => n }));
}

describe('query-stats', () => {
  it('reports the instructions each vCPU retired under the tcg provider', () => {
    expect(qmpQueryStats({ target: 'vcpu' }, harts(1234, 99))).toEqual([
      {
        provider: 'tcg',
        'qom-path': '/machine/soc0/harts[0]',
        stats: [{ name: 'instructions', value: 1234 }],
      },
      { provider: 'tcg', 'qom-path': '/machine/soc0/harts[1]', stats: [{ name: 'instructions', value: 99 }] },
    ]);
  });

  it('reads the counter at query time', () => {
    let n = 5;
    const v: StatsVcpu[] = [{ qomPath: '/c', instructions: () => n }];
    expect(qmpQueryStats({ target: 'vcpu' }, v)[0]!.stats[0]!.value).toBe(5);
    n = 17;
    expect(qmpQueryStats({ target: 'vcpu' }, v)[0]!.stats[0]!.value).toBe(17);
  });

  it('filters by vCPU path, provider and stat name', () => {
    const v = harts(1, 2, 3);
    expect(
      qmpQueryStats({ target: 'vcpu', vcpus: ['/machine/soc0/harts[2]'] }, v).map((r) => r['qom-path']),
    ).toEqual(['/machine/soc0/harts[2]']);
    expect(qmpQueryStats({ target: 'vcpu', providers: [{ provider: 'kvm' }] }, v)).toEqual([]);
    expect(qmpQueryStats({ target: 'vcpu', providers: [{ provider: 'tcg', names: ['nope'] }] }, v)).toEqual(
      [],
    );
    expect(
      qmpQueryStats({ target: 'vcpu', providers: [{ provider: 'tcg', names: ['instructions'] }] }, v),
    ).toHaveLength(3);
  });

  it('has no whole-VM statistics and no vCPUs on a machine without harts', () => {
    expect(qmpQueryStats({ target: 'vm' }, harts(1))).toEqual([]);
    expect(qmpQueryStats({ target: 'vcpu' }, [])).toEqual([]);
  });

  it('describes the statistics in query-stats-schemas', () => {
    const all = qmpQueryStatsSchemas({});
    expect(all).toEqual([
      {
        provider: 'tcg',
        target: 'vcpu',
        stats: [{ name: 'instructions', type: 'cumulative', exponent: 0 }],
      },
    ]);
    expect(qmpQueryStatsSchemas({ provider: 'kvm' })).toEqual([]);
  });
});
