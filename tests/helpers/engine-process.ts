/**
 * Start the real engine (bin/vmstudio-engine.js, built into dist/) as a child process for
 * integration tests, with its QMP monitor on a Unix socket in a fresh temp dir.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const REPO = resolve(import.meta.dirname, '../..');
export const ENGINE_BIN = join(REPO, 'bin/vmstudio-engine.js');

export interface EngineProcess {
  child: ChildProcess;
  qmpPath: string;
  dir: string;
  stdout: () => string;
  stderr: () => string;
  /** Resolves with the exit code (or signal name). */
  exited: Promise<number | string>;
  kill(): Promise<void>;
}

/** Run the engine to completion (for command-line tests). */
export function runEngine(
  args: string[],
  input = '',
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((res, rej) => {
    const child = spawn(process.execPath, [ENGINE_BIN, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', rej);
    child.on('close', (code) => res({ code, stdout, stderr }));
    child.stdin.end(input);
  });
}

/** Start the engine with `-qmp unix:<dir>/qmp.sock,server=on,wait=off` appended; waits for the socket. */
export async function startEngine(args: string[], timeoutMs = 10000): Promise<EngineProcess> {
  const dir = mkdtempSync(join(tmpdir(), 'vmstudio-engine-'));
  const qmpPath = join(dir, 'qmp.sock');
  const child = spawn(process.execPath, [ENGINE_BIN, ...args, '-qmp', `unix:${qmpPath},server=on,wait=off`], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (err += d));
  const exited = new Promise<number | string>((r) => child.on('exit', (code, sig) => r(code ?? sig ?? -1)));
  const deadline = Date.now() + timeoutMs;
  while (!existsSync(qmpPath)) {
    if (child.exitCode !== null) throw new Error(`engine exited early (${child.exitCode}): ${err}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`engine did not create ${qmpPath}: ${err}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  return {
    child,
    qmpPath,
    dir,
    stdout: () => out,
    stderr: () => err,
    exited,
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
