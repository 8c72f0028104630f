/**
 * CPU benchmark: guest instructions per second of our interpreter on a CPU-bound program
 * (tests/isa/src/bench-sort.c: xorshift fill, quicksort, checksum), and the same binary's time in
 * qemu-system-riscv64 (TCG) for a ratio. QEMU's start-up time is measured with a trivial program and
 * subtracted. Run: npx tsx tests/bench/cpu.ts [--runs N]
 */
import { spawnSync } from 'node:child_process';
import { buildIsaTests, haveCrossCompiler, haveQemu, runInQemu } from '../isa/isa-build.js';
import { SpikeHarness } from '../isa/harness.js';

const runs = Number(process.argv[process.argv.indexOf('--runs') + 1]) || 3;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function timeQemu(elf: string): { seconds: number; output: string } {
  const t = performance.now();
  const r = runInQemu(elf, 120_000);
  return { seconds: (performance.now() - t) / 1000, output: r.output };
}

function main(): void {
  if (!haveCrossCompiler()) {
    console.log(
      'cpu bench: skipped, riscv64-linux-gnu-gcc is not installed (apt-get install gcc-riscv64-linux-gnu)',
    );
    return;
  }
  const elfs = buildIsaTests();
  const elf = elfs.get('bench-sort')!;
  const times: number[] = [];
  let instructions = 0;
  let output = '';
  for (let i = 0; i < runs; i++) {
    const h = SpikeHarness.fromFile(elf);
    const t = performance.now();
    const r = h.run(10_000_000_000);
    times.push((performance.now() - t) / 1000);
    instructions = r.instructions;
    output = r.output;
    h.destroy();
    if (r.exitCode !== 0) throw new Error(`bench-sort failed in the engine: exit ${r.exitCode}`);
  }
  const ours = median(times);
  console.log(
    `engine:  ${instructions} guest instructions in ${ours.toFixed(3)} s = ${(instructions / ours / 1e6).toFixed(1)} MIPS (median of ${runs})`,
  );
  if (!haveQemu()) {
    console.log('qemu-system-riscv64 not installed: no ratio');
    return;
  }
  const base = median(Array.from({ length: runs }, () => timeQemu(elfs.get('alu')!).seconds));
  const q = Array.from({ length: runs }, () => timeQemu(elf));
  if (q[0].output !== output) throw new Error('QEMU and the engine disagree on the benchmark checksum');
  const qemu = median(q.map((x) => x.seconds)) - base;
  const version = spawnSync('qemu-system-riscv64', ['--version']).stdout.toString().split('\n')[0];
  console.log(
    `qemu:    ${qemu.toFixed(3)} s (${version}; start-up ${base.toFixed(3)} s subtracted) = ${(instructions / qemu / 1e6).toFixed(1)} MIPS`,
  );
  console.log(`ratio:   ${(ours / qemu).toFixed(1)}x slower than QEMU TCG`);
}

main();
