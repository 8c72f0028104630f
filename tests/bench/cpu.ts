/**
 * CPU benchmark: our engine against qemu-system-riscv64 (TCG) on the same binaries, measured in the
 * same run, with the ratio printed per workload:
 * - bench-sort (tests/isa/src/bench-sort.c): xorshift fill, quicksort, checksum. CPU-bound integer
 *   code; also reported as guest MIPS.
 * - bench-vm (tests/isa/src/bench-vm.S): Sv39 paging with demand-mapped pages (a page fault per
 *   page, hardware A/D updates, sfence.vma) and a system-call loop: the trap-heavy paths of an OS.
 * The engine runs with its JIT (engine/target/riscv/jit.ts) unless --interp is given. QEMU's
 * start-up time is measured with a trivial program and subtracted. Wall-clock times on a shared
 * machine are noisy; the engine's process CPU time is printed too.
 * Run: npx tsx tests/bench/cpu.ts [--runs N] [--interp] [--only NAME]
 */
import { spawnSync } from 'node:child_process';
import { buildIsaTests, haveCrossCompiler, haveQemu, runInQemu } from '../isa/isa-build.js';
import { SpikeHarness } from '../isa/harness.js';
import { jitConfig, jitStats } from '../../engine/target/riscv/jit.js';

const arg = (name: string): string | undefined => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
};
const runs = Number(arg('--runs')) || 3;
const interp = process.argv.includes('--interp');
const only = arg('--only');
const WORKLOADS = ['bench-sort', 'bench-vm'];

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function timeQemu(elf: string): { seconds: number; cpuSeconds: number; output: string } {
  const t = performance.now();
  const r = runInQemu(elf, 120_000);
  return { seconds: (performance.now() - t) / 1000, cpuSeconds: r.cpuSeconds, output: r.output };
}

interface EngineRun {
  seconds: number;
  cpuSeconds: number;
  instructions: number;
  output: string;
}

function timeEngine(elf: string): EngineRun {
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

function main(): void {
  if (!haveCrossCompiler()) {
    console.log(
      'cpu bench: skipped, riscv64-linux-gnu-gcc is not installed (apt-get install gcc-riscv64-linux-gnu)',
    );
    return;
  }
  const elfs = buildIsaTests();
  const qemu = haveQemu();
  if (qemu) console.log(spawnSync('qemu-system-riscv64', ['--version']).stdout.toString().split('\n')[0]);
  else console.log('qemu-system-riscv64 not installed: no ratios');
  console.log(
    `engine: ${interp ? 'interpreter only' : `JIT (threshold ${jitConfig.threshold})`}, median of ${runs}`,
  );
  const start = qemu ? Array.from({ length: runs }, () => timeQemu(elfs.get('alu')!)) : [];
  const base = qemu ? median(start.map((r) => r.seconds)) : 0;
  const baseCpu = qemu ? median(start.map((r) => r.cpuSeconds)) : 0;
  if (qemu)
    console.log(`qemu start-up: ${base.toFixed(3)} s (cpu ${baseCpu.toFixed(3)} s), subtracted below`);
  for (const name of WORKLOADS) {
    if (only && name !== only) continue;
    const elf = elfs.get(name)!;
    const ours = Array.from({ length: runs }, () => timeEngine(elf));
    const wall = median(ours.map((r) => r.seconds));
    const cpu = median(ours.map((r) => r.cpuSeconds));
    const n = ours[0].instructions;
    console.log(
      `${name}: engine ${n} instructions in ${wall.toFixed(3)} s (cpu ${cpu.toFixed(3)} s) = ${(n / wall / 1e6).toFixed(1)} MIPS`,
    );
    if (!qemu) continue;
    const q = Array.from({ length: runs }, () => timeQemu(elf));
    if (q[0].output !== ours[0].output)
      throw new Error(`${name}: QEMU and the engine disagree on the output (checksum)`);
    const qs = Math.max(1e-3, median(q.map((x) => x.seconds)) - base);
    const qc = Math.max(1e-2, median(q.map((x) => x.cpuSeconds)) - baseCpu);
    console.log(
      `${name}: qemu ${qs.toFixed(3)} s (cpu ${qc.toFixed(3)} s) = ${(n / qs / 1e6).toFixed(1)} MIPS; ` +
        `ratio ${(wall / qs).toFixed(1)}x slower than QEMU TCG (cpu time: ${(cpu / qc).toFixed(1)}x)`,
    );
  }
  if (!interp)
    console.log(
      `jit: ${jitStats.compiled} regions, ${jitStats.compiledInsns} instructions translated, ${jitStats.invalidations} invalidations, ${jitStats.flushes} flushes`,
    );
}

main();
