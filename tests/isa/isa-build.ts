/** Shared by the ISA specs and the benchmark: build the test programs once into the cache dir. */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
export const ISA_CACHE = process.env.ISA_CACHE ?? join(here, '../../node_modules/.cache/vmstudio-isa');

export function haveCrossCompiler(): boolean {
  return spawnSync('riscv64-linux-gnu-gcc', ['--version']).status === 0;
}
export function haveQemu(): boolean {
  return spawnSync('qemu-system-riscv64', ['--version']).status === 0;
}

/** The machines the programs are built for: `spike` (HTIF) and `virt` (UART + SiFive test finisher). */
export type IsaMachine = 'spike' | 'virt';

/** Where build.sh puts the programs for `machine`. */
export function isaDir(machine: IsaMachine = 'spike'): string {
  return machine === 'spike' ? ISA_CACHE : join(ISA_CACHE, 'virt');
}

/**
 * Build all programs (for both machines); returns the ELF paths for `machine` by test name (the
 * bench-* programs exist for spike only).
 */
export function buildIsaTests(machine: IsaMachine = 'spike'): Map<string, string> {
  execFileSync(join(here, 'build.sh'), [ISA_CACHE], { stdio: 'pipe' });
  return listIsaTests(machine);
}

/** The programs already built for `machine`, by test name. */
export function listIsaTests(machine: IsaMachine = 'spike'): Map<string, string> {
  const dir = isaDir(machine);
  const out = new Map<string, string>();
  for (const f of readdirSync(dir).sort()) if (f.endsWith('.elf')) out.set(f.slice(0, -4), join(dir, f));
  return out;
}

/** The program that prints a line and exits with code 42 (src/exit/fail.S); after buildIsaTests(). */
export function failingIsaTest(machine: IsaMachine = 'spike'): string {
  return join(isaDir(machine), 'exit', 'fail.elf');
}

/**
 * Run an ELF in QEMU's `machine` (spike by default); output is the console (HTIF's on spike, the
 * UART on virt), exitCode QEMU's exit status (the HTIF exit code, or the test finisher's), and
 * cpuSeconds QEMU's user+system CPU time (all its threads; from the shell's `times`).
 */
export function runInQemu(
  elf: string,
  timeoutMs = 20000,
  machine: IsaMachine = 'spike',
): { output: string; exitCode: number | null; cpuSeconds: number } {
  // The console goes to a file: QEMU's HTIF exit() can drop output still queued for a pipe.
  const dir = mkdtempSync(join(tmpdir(), 'isa-qemu-'));
  const out = join(dir, 'console.txt');
  try {
    const r = spawnSync(
      'sh',
      [
        '-c',
        '"$@"; s=$?; times >&2; exit $s',
        'sh',
        'qemu-system-riscv64',
        '-M',
        machine,
        '-bios',
        'none',
        '-kernel',
        elf,
        '-display',
        'none',
        '-monitor',
        'none',
        '-serial',
        `file:${out}`,
      ],
      { timeout: timeoutMs, input: '' },
    );
    // `times` prints the shell's and then its children's "user system" times, e.g. 0m0.220000s 0m0.010000s
    const t = /(\d+)m([\d.]+)s (\d+)m([\d.]+)s\s*$/.exec(r.stderr?.toString() ?? '');
    const cpuSeconds = t ? Number(t[1]) * 60 + Number(t[2]) + Number(t[3]) * 60 + Number(t[4]) : NaN;
    return { output: existsSync(out) ? readFileSync(out, 'latin1') : '', exitCode: r.status, cpuSeconds };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
