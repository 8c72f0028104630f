/**
 * CPU benchmark: our engine against qemu-system-riscv64 (TCG) on the same binaries, measured in the
 * same run, with the ratio printed per workload:
 * - bench-sort (tests/isa/src/bench-sort.c): xorshift fill, quicksort, checksum. CPU-bound integer
 *   code; also reported as guest MIPS.
 * - bench-vm (tests/isa/src/bench-vm.S): Sv39 paging with demand-mapped pages (a page fault per
 *   page, hardware A/D updates, sfence.vma) and a system-call loop: the trap-heavy paths of an OS.
 * The engine runs in this process on the ISA tests' spike harness, with its JIT
 * (engine/target/riscv/jit.ts) unless `interp` is set. QEMU's start-up time is measured with a
 * trivial program and subtracted. Wall-clock times on a shared machine are noisy; the engine's
 * process CPU time is printed too.
 * Run alone: npx tsx tests/bench/cpu.ts [--runs N] [--interp] [--only NAME]; or through run.ts.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { runInQemu } from '../isa/isa-build.js';
import { SpikeHarness } from '../isa/harness.js';
import { jitConfig, jitStats } from '../../engine/target/riscv/jit.js';
import { missing, qemuVersion, REPO } from './env.js';
import { median, SectionSkipped, type Measure } from './report.js';

export const CPU_WORKLOADS = ['bench-sort', 'bench-vm'] as const;

export interface CpuBenchOptions {
  /** Runs per workload and engine; the median is reported. */
  runs: number;
  /** Interpreter only (no JIT) in our engine. */
  interp?: boolean;
  /** Workloads to run (default all). */
  only?: string[];
  log?: (line: string) => void;
}

/**
 * Builds the ISA programs with tests/isa/build.sh, found from the repository root so this also works
 * from dist/ (isa-build.ts locates build.sh next to itself, which dist/ does not have).
 */
function buildElfs(): Map<string, string> {
  const cache = process.env.ISA_CACHE ?? join(REPO, 'node_modules/.cache/vmstudio-isa');
  execFileSync(join(REPO, 'tests/isa/build.sh'), [cache], { stdio: 'pipe' });
  const out = new Map<string, string>();
  for (const f of readdirSync(cache).sort()) if (f.endsWith('.elf')) out.set(f.slice(0, -4), join(cache, f));
  return out;
}

interface Run {
  seconds: number;
  cpuSeconds: number;
  output: string;
}

function timeQemu(elf: string): Run {
  const t = performance.now();
  const r = runInQemu(elf, 120_000);
  return { seconds: (performance.now() - t) / 1000, cpuSeconds: r.cpuSeconds, output: r.output };
}

function timeEngine(elf: string, interp: boolean): Run & { instructions: number } {
  const h = SpikeHarness.fromFile(elf);
  h.cpu.jit = !interp;
  const t = performance.now();
  const cpu0 = process.cpuUsage();
  const r = h.run(10_000_000_000);
  const seconds = (performance.now() - t) / 1000;
  const cpuSeconds = process.cpuUsage(cpu0).user / 1e6;
  h.destroy();
  if (r.exitCode !== 0) throw new Error(`${elf} failed in the engine: exit ${r.exitCode}`);
  return { seconds, cpuSeconds, instructions: r.instructions, output: r.output };
}

/** Runs the CPU workloads on both engines; returns MIPS and CPU time per workload. */
export function cpuBench(opts: CpuBenchOptions): Measure[] {
  const log = opts.log ?? console.log;
  const why = missing(['gcc', 'qemu']);
  if (why) throw new SectionSkipped(why);
  const runs = Math.max(1, opts.runs);
  const elfs = buildElfs();
  log(
    `${qemuVersion()}; engine: ${opts.interp ? 'interpreter only' : `JIT (threshold ${jitConfig.threshold})`}, median of ${runs}`,
  );
  const start = Array.from({ length: runs }, () => timeQemu(elfs.get('alu')!));
  const base = median(start.map((r) => r.seconds));
  const baseCpu = median(start.map((r) => r.cpuSeconds));
  log(`qemu start-up: ${base.toFixed(3)} s (cpu ${baseCpu.toFixed(3)} s), subtracted below`);
  const out: Measure[] = [];
  for (const name of CPU_WORKLOADS) {
    if (opts.only && !opts.only.includes(name)) continue;
    const elf = elfs.get(name)!;
    const ours = Array.from({ length: runs }, () => timeEngine(elf, !!opts.interp));
    const wall = median(ours.map((r) => r.seconds));
    const cpu = median(ours.map((r) => r.cpuSeconds));
    const n = ours[0].instructions;
    log(
      `${name}: engine ${n} instructions in ${wall.toFixed(3)} s (cpu ${cpu.toFixed(3)} s) = ${(n / wall / 1e6).toFixed(1)} MIPS`,
    );
    const q = Array.from({ length: runs }, () => timeQemu(elf));
    if (q[0].output !== ours[0].output)
      throw new Error(`${name}: QEMU and the engine disagree on the output (checksum)`);
    const qs = Math.max(1e-3, median(q.map((x) => x.seconds)) - base);
    const qc = Math.max(1e-2, median(q.map((x) => x.cpuSeconds)) - baseCpu);
    log(
      `${name}: qemu ${qs.toFixed(3)} s (cpu ${qc.toFixed(3)} s) = ${(n / qs / 1e6).toFixed(1)} MIPS; ` +
        `ratio ${(wall / qs).toFixed(1)}x slower than QEMU TCG (cpu time: ${(cpu / qc).toFixed(1)}x)`,
    );
    out.push(
      {
        section: 'cpu',
        label: `${name} speed`,
        unit: 'MIPS',
        ours: n / wall / 1e6,
        qemu: n / qs / 1e6,
        better: 'higher',
        digits: 1,
      },
      {
        section: 'cpu',
        label: `${name} cpu time`,
        unit: 's',
        ours: cpu,
        qemu: qc,
        better: 'lower',
        digits: 3,
      },
    );
  }
  if (!opts.interp)
    log(
      `jit: ${jitStats.compiled} regions, ${jitStats.compiledInsns} instructions translated, ${jitStats.invalidations} invalidations, ${jitStats.flushes} flushes`,
    );
  return out;
}

// Standalone: npx tsx tests/bench/cpu.ts [--runs N] [--interp] [--only NAME]
if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const arg = (name: string): string | undefined => {
    const i = process.argv.indexOf(name);
    return i >= 0 ? process.argv[i + 1] : undefined;
  };
  const only = arg('--only');
  try {
    cpuBench({
      runs: Number(arg('--runs')) || 3,
      interp: process.argv.includes('--interp'),
      only: only ? only.split(',') : undefined,
    });
  } catch (e) {
    if (!(e instanceof SectionSkipped)) throw e;
    console.log(`cpu bench: skipped, ${e.message}`);
  }
}
