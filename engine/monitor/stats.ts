/**
 * `query-stats` and `query-stats-schemas` (QEMU 7.2's monitor/qmp-cmds.c and stats.json shapes) for
 * the one provider this engine has: 'tcg', its CPU emulation. Per vCPU it reports "instructions", the
 * guest instructions the hart retired since its last reset (cumulative, so a client derives the rate
 * from two samples). QEMU 7.2 only has the 'kvm' provider, which this engine never reports.
 *
 * A machine without harts (`-M none`) has no vCPU results: the list is empty, as in QEMU.
 */
import { cpuList } from '../hw/riscv/riscv_hart.js';
import type {
  Stats,
  StatsFilter,
  StatsProvider,
  StatsResult,
  StatsSchema,
  StatsTarget,
} from '../qapi/generated/qapi-types.js';
import { objectGetCanonicalPath } from '../qom/object.js';

/** One vCPU as the statistics see it. */
export interface StatsVcpu {
  qomPath: string;
  /** Guest instructions retired since the hart's reset. */
  instructions(): number;
}

/** The machine's harts (those realized with a core). */
export function machineVcpus(): StatsVcpu[] {
  const out: StatsVcpu[] = [];
  for (const cpu of cpuList()) {
    const core = cpu.core;
    if (!core) continue;
    out.push({ qomPath: objectGetCanonicalPath(cpu) ?? '', instructions: () => core.retired() });
  }
  return out;
}

interface StatDef {
  name: string;
  read(vcpu: StatsVcpu): number;
}

/** What each provider offers for each target (QEMU's stats callbacks, here a table). */
const PROVIDERS: Record<StatsProvider, Record<StatsTarget, StatDef[]>> = {
  kvm: { vm: [], vcpu: [] },
  tcg: {
    vm: [],
    vcpu: [{ name: 'instructions', read: (v) => v.instructions() }],
  },
};

/** The stat names wanted from `provider`: null = all of them, undefined = the provider is not asked. */
function wantedNames(filter: StatsFilter, provider: StatsProvider): Set<string> | null | undefined {
  if (!filter.providers) return null;
  let names: Set<string> | null | undefined;
  for (const req of filter.providers) {
    if (req.provider !== provider) continue;
    if (!req.names) return null;
    names ??= new Set();
    for (const n of req.names) names.add(n);
  }
  return names;
}

export function qmpQueryStats(filter: StatsFilter, vcpus: StatsVcpu[] = machineVcpus()): StatsResult[] {
  const out: StatsResult[] = [];
  for (const provider of Object.keys(PROVIDERS) as StatsProvider[]) {
    const names = wantedNames(filter, provider);
    if (names === undefined) continue;
    const defs = PROVIDERS[provider][filter.target].filter((d) => names === null || names.has(d.name));
    // No provider has whole-VM statistics yet, so only vCPU targets get this far.
    if (defs.length === 0) continue;
    const paths = filter.target === 'vcpu' && filter.vcpus ? new Set(filter.vcpus) : null;
    for (const v of vcpus) {
      if (paths && !paths.has(v.qomPath)) continue;
      const stats: Stats[] = defs.map((d) => ({ name: d.name, value: d.read(v) }));
      out.push({ provider, 'qom-path': v.qomPath, stats });
    }
  }
  return out;
}

export function qmpQueryStatsSchemas(args: { provider?: StatsProvider }): StatsSchema[] {
  const out: StatsSchema[] = [];
  for (const provider of Object.keys(PROVIDERS) as StatsProvider[]) {
    if (args.provider !== undefined && args.provider !== provider) continue;
    for (const target of ['vm', 'vcpu'] as StatsTarget[]) {
      const defs = PROVIDERS[provider][target];
      if (defs.length === 0) continue;
      out.push({
        provider,
        target,
        stats: defs.map((d) => ({ name: d.name, type: 'cumulative', exponent: 0 })),
      });
    }
  }
  return out;
}
