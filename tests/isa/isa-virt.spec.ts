/**
 * The ISA programs built for `virt` (-DMACHINE_VIRT: console on the NS16550A UART, exit through the
 * SiFive test finisher) run in our engine's process, `-M virt -bios none -kernel PROG.elf
 * -nographic`, and in qemu-system-riscv64 -M virt; the console must match line for line and the
 * process exit status must be the same. The engine runs from source (tests/machine/engine-main.ts)
 * so no `npm run build` is needed. Only ours-vs-QEMU on the same machine is compared: spike and virt
 * images differ in layout, so printed addresses differ between the machines.
 */
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  buildIsaTests,
  failingIsaTest,
  haveCrossCompiler,
  haveQemu,
  listIsaTests,
  runInQemu,
} from './isa-build.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '../..');
const ok = haveCrossCompiler() && haveQemu();
if (!ok) console.warn('ISA virt tests skipped: need riscv64-linux-gnu-gcc and qemu-system-riscv64');

interface EngineRun {
  output: string;
  stderr: string;
  exitCode: number | null;
  timedOut: boolean;
}

/** At most two engine processes at once: the host's two cores are shared. */
let slots = 2;
const waiting: Array<() => void> = [];
async function withSlot<T>(fn: () => Promise<T>): Promise<T> {
  if (slots === 0) await new Promise<void>((r) => waiting.push(r));
  else slots--;
  try {
    return await fn();
  } finally {
    const next = waiting.shift();
    if (next) next();
    else slots++;
  }
}

/** Our engine's process on `-M virt`; the serial console is its stdout (-nographic). */
function runInEngine(elf: string, timeoutMs: number): Promise<EngineRun> {
  return withSlot(
    () =>
      new Promise((resolve, reject) => {
        const child = spawn(
          process.execPath,
          [
            '--import',
            'tsx',
            'tests/machine/engine-main.ts',
            '-M',
            'virt',
            '-bios',
            'none',
            '-kernel',
            elf,
            '-nographic',
          ],
          { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] },
        );
        const out: Buffer[] = [];
        const err: Buffer[] = [];
        child.stdout.on('data', (b: Buffer) => out.push(b));
        child.stderr.on('data', (b: Buffer) => err.push(b));
        let timedOut = false;
        const timer = setTimeout(() => {
          timedOut = true;
          child.kill('SIGKILL');
        }, timeoutMs);
        child.on('error', reject);
        child.on('close', (code) => {
          clearTimeout(timer);
          resolve({
            output: Buffer.concat(out).toString('latin1'),
            stderr: Buffer.concat(err).toString('utf8'),
            exitCode: code,
            timedOut,
          });
        });
      }),
  );
}

/** Same console lines and exit status as QEMU for the same program; returns QEMU's exit status. */
async function expectSameAsQemu(elf: string): Promise<number | null> {
  const q = runInQemu(elf, 20_000, 'virt');
  expect(q.output, 'QEMU printed something').not.toBe('');
  const r = await runInEngine(elf, 90_000);
  const ctx = `our console:\n${r.output}\nour stderr:\n${r.stderr}`;
  expect(r.timedOut, `timed out; ${ctx}`).toBe(false);
  expect(r.output.split('\n'), ctx).toEqual(q.output.split('\n'));
  expect(r.exitCode, ctx).toBe(q.exitCode);
  expect(r.stderr).toBe('');
  return q.exitCode;
}

describe.skipIf(!ok).concurrent('ISA programs on -M virt: our engine vs qemu-system-riscv64 -M virt', () => {
  const elfs = ok ? buildIsaTests('virt') : new Map<string, string>();

  it('builds a virt variant of every program except the benchmarks', () => {
    const spike = [...listIsaTests('spike').keys()].filter((n) => !n.startsWith('bench-'));
    expect([...elfs.keys()]).toEqual(spike);
    expect(spike.length).toBeGreaterThan(0);
  });

  for (const [name, path] of elfs) {
    it(
      `${name}: same console output and exit status`,
      async () => expect(await expectSameAsQemu(path), 'the program passes').toBe(0),
      120_000,
    );
  }

  it('a failing program: same output and exit status (the test finisher FAIL code)', async () => {
    expect(await expectSameAsQemu(failingIsaTest('virt'))).toBe(42);
  }, 120_000);
});
