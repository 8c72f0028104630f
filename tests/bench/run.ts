/**
 * `npm run bench`: our engine against Debian's qemu-system-riscv64 (the reference), measured in the
 * same run. Each section prints ours, QEMU's, and the ratio; a table at the end collects them.
 *
 *   node dist/tests/bench/run.js [--only cpu|boot|qmp|idle|disk]... [--runs N] [--interp]
 *   npx tsx tests/bench/run.ts ...   (the engine process still comes from dist/: npm run build)
 */
import { cpus, loadavg } from 'node:os';
import { cpuBench } from './cpu.js';
import { guestBench, type GuestSection } from './guest-bench.js';
import { qemuVersion } from './env.js';
import { formatMeasure, formatTable, SectionSkipped, type Measure } from './report.js';

const SECTIONS = ['cpu', 'boot', 'qmp', 'idle', 'disk'] as const;
type Section = (typeof SECTIONS)[number];

export const USAGE = `usage: npm run bench -- [--only SECTION[,SECTION...]]... [--runs N] [--interp]
  sections: cpu   bench-sort and bench-vm on -M spike (MIPS, CPU time)
            boot  default Debian guest on -M virt, spawn to shell prompt
            qmp   query-status latency (p50/p99/max) while the guest runs a busy loop
            idle  host CPU of the VM process while the guest idles at its prompt
            disk  O_DIRECT sequential MB/s and random 4 KiB IOPS on virtio-blk in the guest
  --only   run only these sections (repeatable or comma-separated; default: all)
  --runs N repetitions, median reported: cpu workloads (default 3) and guest boots (default 1)
  --interp cpu section: our engine's interpreter only (no JIT)`;

interface Args {
  sections: Section[];
  runs?: number;
  interp: boolean;
}

function parseArgs(argv: string[]): Args {
  const only: Section[] = [];
  let runs: number | undefined;
  let interp = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = (): string => {
      const v = a.includes('=') ? a.slice(a.indexOf('=') + 1) : argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value\n${USAGE}`);
      return v;
    };
    if (a === '--only' || a.startsWith('--only=')) {
      for (const s of value().split(',').filter(Boolean)) {
        if (!(SECTIONS as readonly string[]).includes(s))
          throw new Error(`unknown section '${s}' (expected ${SECTIONS.join(', ')})\n${USAGE}`);
        if (!only.includes(s as Section)) only.push(s as Section);
      }
    } else if (a === '--runs' || a.startsWith('--runs=')) {
      runs = Number(value());
      if (!Number.isInteger(runs) || runs < 1) throw new Error(`--runs wants a positive integer\n${USAGE}`);
    } else if (a === '--interp') interp = true;
    else if (a === '-h' || a === '--help') {
      console.log(USAGE);
      process.exit(0);
    } else throw new Error(`unknown argument '${a}'\n${USAGE}`);
  }
  // Sections run in the canonical order whatever order --only named them in.
  return { sections: SECTIONS.filter((s) => only.length === 0 || only.includes(s)), runs, interp };
}

async function main(): Promise<number> {
  let args: Args;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (e) {
    console.error((e as Error).message);
    return 2;
  }
  const log = (line: string): void => console.log(`  ${line}`);
  console.log(
    `VM Studio bench, ${new Date().toISOString()}; host ${cpus().length} x ${cpus()[0]?.model ?? '?'}, ` +
      `load ${loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')}; node ${process.version}; reference ${qemuVersion() ?? 'none'}`,
  );
  const all: Measure[] = [];
  let failed = false;
  const print = (ms: Measure[]): void => {
    for (const m of ms) console.log(formatMeasure(m));
    all.push(...ms);
  };

  if (args.sections.includes('cpu')) {
    console.log('== cpu');
    try {
      print(cpuBench({ runs: args.runs ?? 3, interp: args.interp, log }));
    } catch (e) {
      if (!(e instanceof SectionSkipped)) {
        failed = true;
        console.log(`cpu: FAILED: ${(e as Error).message}`);
      } else console.log(`cpu: skipped, ${e.message}`);
    }
  }

  const guestSections = args.sections.filter((s): s is GuestSection => s !== 'cpu');
  if (guestSections.length) {
    console.log(`== ${guestSections.join(', ')} (one booted guest per engine)`);
    const r = await guestBench({ sections: guestSections, runs: args.runs ?? 1, log });
    for (const [s, why] of r.skipped) console.log(`${s}: skipped, ${why}`);
    print(r.measures);
    if (r.errors.length) failed = true;
  }

  if (all.length) console.log(`\n${formatTable(all)}`);
  return failed ? 1 : 0;
}

process.exitCode = await main();
