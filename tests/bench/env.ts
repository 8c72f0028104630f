/**
 * Where the benchmark finds things, and whether they are there. Works from the sources (tsx) and from
 * the compiled copy (dist/tests/bench), so paths are resolved from the repository root, not from this
 * file's directory.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root: the nearest ancestor of this file holding a package.json (dist/ has none). */
export const REPO = ((): string => {
  for (let d = dirname(fileURLToPath(import.meta.url)); dirname(d) !== d; d = dirname(d))
    if (existsSync(join(d, 'package.json'))) return d;
  throw new Error(`bench: no package.json above ${import.meta.url}`);
})();

export const ENGINE_BIN = join(REPO, 'bin/vmstudio-engine.js');
export const QEMU = 'qemu-system-riscv64';
export const CROSS_CC = 'riscv64-linux-gnu-gcc';
/** Build outputs of the benchmark (guest tools, initrds); not committed. */
export const BENCH_CACHE = join(REPO, 'node_modules/.cache/vmstudio-bench');

function runs(cmd: string, args: string[]): boolean {
  return spawnSync(cmd, args, { stdio: 'ignore' }).status === 0;
}

/** First line of `qemu-system-riscv64 --version`, or undefined when QEMU is not installed. */
export function qemuVersion(): string | undefined {
  const r = spawnSync(QEMU, ['--version'], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.split('\n')[0] : undefined;
}

export function haveCrossCompiler(): boolean {
  return runs(CROSS_CC, ['--version']);
}

/** Why a section cannot run, as a one-line reason; undefined when all `needs` are met. */
export function missing(needs: Array<'qemu' | 'gcc' | 'engine'>): string | undefined {
  for (const n of needs) {
    if (n === 'qemu' && !qemuVersion())
      return `${QEMU} is not installed (apt-get install qemu-system-misc); it is the reference for the ratios`;
    if (n === 'gcc' && !haveCrossCompiler())
      return `${CROSS_CC} is not installed (apt-get install gcc-riscv64-linux-gnu)`;
    if (n === 'engine' && !existsSync(join(REPO, 'dist/engine/system/main.js')))
      return 'the engine is not built (npm run build)';
  }
  return undefined;
}
