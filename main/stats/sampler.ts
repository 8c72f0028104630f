/**
 * The live load graph's data: once a second, for every VM with an engine, the guest instructions
 * retired (query-stats, provider 'tcg', summed over the vCPUs) and the engine process's CPU time,
 * turned into rates over the interval. The last samples are kept per VM for views opened later.
 */
import type { VmStatsSample } from '../api/contract.js';

export interface RawSample {
  time: number;
  /** Sum of the vCPUs' cumulative instruction counters (null: unknown). */
  instructions: number | null;
  /** Cumulative CPU time of the engine process in ms (null: unknown). */
  cpuMs: number | null;
}

/**
 * Rates between two raw samples. A counter that went down (a reset, or a snapshot restored an older
 * count) gives no rate for that interval rather than a negative or made-up one.
 */
export function rateBetween(prev: RawSample | null, cur: RawSample): VmStatsSample {
  const out: VmStatsSample = { time: cur.time, ips: null, cpuPercent: null };
  if (!prev) return out;
  const dt = cur.time - prev.time;
  if (dt <= 0) return out;
  if (prev.instructions !== null && cur.instructions !== null && cur.instructions >= prev.instructions) {
    out.ips = ((cur.instructions - prev.instructions) * 1000) / dt;
  }
  if (prev.cpuMs !== null && cur.cpuMs !== null && cur.cpuMs >= prev.cpuMs) {
    out.cpuPercent = ((cur.cpuMs - prev.cpuMs) / dt) * 100;
  }
  return out;
}

export interface SamplerSource {
  /** VMs whose engines run now. */
  activeVmIds(): string[];
  /** Guest instructions retired so far (all vCPUs), null when the engine cannot tell. */
  instructions(vmId: string): Promise<number | null>;
  /** The engine's CPU time so far (ms), null when unknown. */
  cpuTimeMs(vmId: string): Promise<number | null>;
  emit(vmId: string, sample: VmStatsSample): void;
  now?(): number;
}

export class StatsSampler {
  private readonly last = new Map<string, RawSample>();
  private readonly history = new Map<string, VmStatsSample[]>();
  private timer: NodeJS.Timeout | null = null;
  private running = false;

  constructor(
    private readonly source: SamplerSource,
    readonly intervalMs = 1000,
    readonly keep = 120,
  ) {}

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.tick(), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  samples(vmId: string): VmStatsSample[] {
    return [...(this.history.get(vmId) ?? [])];
  }

  /** Forget a VM whose engine ended (the next run starts a new graph). */
  forget(vmId: string): void {
    this.last.delete(vmId);
    this.history.delete(vmId);
  }

  /** One round over the active VMs (overlapping rounds are skipped). */
  async tick(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      const active = this.source.activeVmIds();
      for (const id of [...this.last.keys()]) if (!active.includes(id)) this.forget(id);
      await Promise.all(active.map((id) => this.sampleOne(id)));
    } finally {
      this.running = false;
    }
  }

  private async sampleOne(vmId: string): Promise<void> {
    const [instructions, cpuMs] = await Promise.all([
      this.source.instructions(vmId).catch(() => null),
      this.source.cpuTimeMs(vmId).catch(() => null),
    ]);
    const raw: RawSample = { time: this.source.now?.() ?? Date.now(), instructions, cpuMs };
    const prev = this.last.get(vmId) ?? null;
    this.last.set(vmId, raw);
    if (!prev) return;
    const sample = rateBetween(prev, raw);
    const h = this.history.get(vmId) ?? [];
    h.push(sample);
    if (h.length > this.keep) h.splice(0, h.length - this.keep);
    this.history.set(vmId, h);
    this.source.emit(vmId, sample);
  }
}

/**
 * Sum of the `instructions` stats in a query-stats reply. A machine without vCPUs answers with an
 * empty list: it retires no guest instructions, so that is 0, not unknown.
 */
export function sumInstructions(
  results: readonly { stats: readonly { name: string; value: unknown }[] }[],
): number {
  let total = 0;
  for (const r of results) {
    for (const s of r.stats) {
      if (s.name !== 'instructions') continue;
      const v = typeof s.value === 'bigint' ? Number(s.value) : s.value;
      if (typeof v === 'number') total += v;
    }
  }
  return total;
}
