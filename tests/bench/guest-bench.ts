/**
 * The sections that need a booted guest (boot, idle, qmp, disk). Each engine boots the default guest
 * once (or `runs` times for the boot figure) and that guest serves the other sections in turn: idle
 * first (right after boot), then QMP under load, then the disk. QEMU goes first, then ours; never both
 * at once, so they do not compete for the host's cores.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureDefaultGuest, type DefaultGuest } from '../../assets/guests/debian-riscv64/build.js';
import { bootMeasures, timeBoots, type BootResult } from './boot.js';
import {
  buildDiskBenchInitrd,
  DISK_RAND_OPS,
  DISK_SEQ_MIB,
  runDiskBench,
  scratchDisk,
  type DiskPhase,
} from './disk.js';
import { missing } from './env.js';
import type { EngineName } from './guest-session.js';
import { idleCpuPercent } from './idle.js';
import { qmpLatencyUnderLoad, type QmpLatency } from './qmp-latency.js';
import type { Measure } from './report.js';

export type GuestSection = 'boot' | 'idle' | 'qmp' | 'disk';

export interface GuestBenchOptions {
  sections: GuestSection[];
  runs: number;
  /** query-status round trips for the qmp section (default 200). */
  qmpCount?: number;
  log: (line: string) => void;
}

export interface GuestBenchResult {
  measures: Measure[];
  /** Sections that did not run, with the one-line reason. */
  skipped: Map<GuestSection, string>;
  /** Failures (an engine that did not boot, a tool that failed), already logged. */
  errors: string[];
}

interface EngineResults {
  boot?: BootResult;
  idle?: number;
  qmp?: QmpLatency;
  disk?: DiskPhase[];
}

async function loadGuest(): Promise<DefaultGuest | string> {
  try {
    return await ensureDefaultGuest({ offline: true });
  } catch (e) {
    return `the default guest is not built (npx tsx assets/guests/debian-riscv64/build.ts): ${(e as Error).message.split('\n')[0]}`;
  }
}

async function benchEngine(
  engine: EngineName,
  guest: DefaultGuest,
  initrd: string | undefined,
  sections: Set<GuestSection>,
  opts: GuestBenchOptions,
  errors: string[],
): Promise<EngineResults> {
  const res: EngineResults = {};
  const dir = mkdtempSync(join(tmpdir(), 'vmstudio-bench-disk-'));
  try {
    const disk = sections.has('disk') ? scratchDisk(dir) : undefined;
    const boots = await timeBoots(
      { engine, guest, initrd, extraArgs: disk?.args },
      sections.has('boot') ? opts.runs : 1,
      opts.log,
    );
    res.boot = boots.result;
    const g = boots.guest;
    // A section that fails is reported and the next one still runs on the same guest.
    const section = async (name: GuestSection, body: () => Promise<void>): Promise<void> => {
      if (!sections.has(name)) return;
      try {
        await body();
      } catch (e) {
        const msg = `${engine}: ${name}: ${(e as Error).message}`;
        errors.push(msg);
        opts.log(`FAILED ${msg}`);
      }
    };
    try {
      await section('idle', async () => {
        res.idle = await idleCpuPercent(g);
        opts.log(`${engine}: idle guest used ${res.idle.toFixed(1)}% of a host core`);
      });
      await section('qmp', async () => {
        const q = (res.qmp = await qmpLatencyUnderLoad(g, opts.qmpCount ?? 200));
        opts.log(
          `${engine}: query-status x${q.count} under guest load: p50 ${q.p50.toFixed(2)} ms, p99 ${q.p99.toFixed(2)} ms, max ${q.max.toFixed(2)} ms`,
        );
      });
      await section('disk', async () => {
        res.disk = await runDiskBench(g);
        for (const p of res.disk)
          opts.log(
            `${engine}: ${p.phase} ${(p.bytes / 1048576).toFixed(1)} MiB in ${p.seconds.toFixed(2)} s: ${p.mbps.toFixed(2)} MB/s, ${p.iops.toFixed(0)} IOPS`,
          );
      });
    } finally {
      await g.shutdown();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return res;
}

function measures(sections: Set<GuestSection>, ours: EngineResults, qemu: EngineResults): Measure[] {
  const out: Measure[] = [];
  if (sections.has('boot')) out.push(...bootMeasures(ours.boot, qemu.boot));
  if (sections.has('qmp')) {
    for (const k of ['p50', 'p99', 'max'] as const)
      out.push({
        section: 'qmp',
        label: `query-status ${k} under load`,
        unit: 'ms',
        ours: ours.qmp?.[k],
        qemu: qemu.qmp?.[k],
        better: 'lower',
        target: k === 'p99' ? '< 20 ms' : undefined,
      });
  }
  if (sections.has('idle'))
    out.push({
      section: 'idle',
      label: 'host CPU of an idle guest',
      unit: '%',
      ours: ours.idle,
      qemu: qemu.idle,
      better: 'lower',
      target: '< 5%',
      words: ['more', 'less'],
      digits: 1,
    });
  if (sections.has('disk')) {
    const phase = (r: EngineResults, p: DiskPhase['phase']) => r.disk?.find((d) => d.phase === p);
    for (const p of ['seq-write', 'seq-read'] as const)
      out.push({
        section: 'disk',
        label: `${p} (${DISK_SEQ_MIB} MiB, 1 MiB O_DIRECT)`,
        unit: 'MB/s',
        ours: phase(ours, p)?.mbps,
        qemu: phase(qemu, p)?.mbps,
        better: 'higher',
      });
    for (const p of ['rand-read', 'rand-write'] as const)
      out.push({
        section: 'disk',
        label: `${p} (${DISK_RAND_OPS} x 4 KiB O_DIRECT)`,
        unit: 'IOPS',
        ours: phase(ours, p)?.iops,
        qemu: phase(qemu, p)?.iops,
        better: 'higher',
        digits: 0,
      });
  }
  return out;
}

export async function guestBench(opts: GuestBenchOptions): Promise<GuestBenchResult> {
  const skipped = new Map<GuestSection, string>();
  const errors: string[] = [];
  const why = missing(['qemu', 'engine']);
  const guest = why ? why : await loadGuest();
  if (typeof guest === 'string') {
    for (const s of opts.sections) skipped.set(s, guest);
    return { measures: [], skipped, errors };
  }
  const sections = new Set(opts.sections);
  let initrd: string | undefined;
  if (sections.has('disk')) {
    const noGcc = missing(['gcc']);
    if (noGcc) {
      skipped.set('disk', noGcc);
      sections.delete('disk');
    } else initrd = buildDiskBenchInitrd(guest);
  }
  if (sections.size === 0) return { measures: [], skipped, errors };
  opts.log(
    `guest ${guest.version}: -M virt -m 512M -nographic -bios fw_dynamic.bin -kernel Image -initrd ` +
      `${initrd ? 'initrd.cpio+diskbench -drive <64 MiB raw> -device virtio-blk-device' : 'initrd.cpio'} -append ${guest.append}`,
  );
  const results: Partial<Record<EngineName, EngineResults>> = {};
  for (const engine of ['qemu', 'ours'] as const) {
    try {
      results[engine] = await benchEngine(engine, guest, initrd, sections, opts, errors);
    } catch (e) {
      const msg = `${engine}: ${(e as Error).message}`;
      errors.push(msg);
      opts.log(`FAILED ${msg}`);
    }
  }
  return { measures: measures(sections, results.ours ?? {}, results.qemu ?? {}), skipped, errors };
}
