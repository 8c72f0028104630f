/**
 * Per-VM runtime folder: the QMP socket and a record of the engine process, so that a VM Studio that
 * died without cleaning up (power loss, SIGKILL) can find and end its leftover engines on next start.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** sun_path is 108 bytes on Linux, 104 on macOS; keep a margin. */
const MAX_SOCKET_PATH = 100;

export interface RunPaths {
  dir: string;
  qmpSocket: string;
  record: string;
}

export interface EngineRecord {
  pid: number;
  vmId: string;
  qmpSocket: string;
  startedAt: number;
}

export function runPaths(runRoot: string, vmId: string): RunPaths {
  const dir = path.join(runRoot, vmId);
  let qmpSocket: string;
  if (process.platform === 'win32') {
    const tag = createHash('sha256').update(dir).digest('hex').slice(0, 16);
    qmpSocket = `\\\\.\\pipe\\vmstudio-${tag}-qmp`;
  } else {
    qmpSocket = path.join(dir, 'qmp.sock');
    if (Buffer.byteLength(qmpSocket) > MAX_SOCKET_PATH) {
      // Deep data folders: put the socket in a short per-user temp path derived from the VM's folder.
      const tag = createHash('sha256').update(dir).digest('hex').slice(0, 16);
      qmpSocket = path.join(os.tmpdir(), `vmstudio-${process.getuid?.() ?? 0}-${tag}.sock`);
    }
  }
  return { dir, qmpSocket, record: path.join(dir, 'engine.json') };
}

export function writeRecord(paths: RunPaths, record: EngineRecord): void {
  fs.mkdirSync(paths.dir, { recursive: true, mode: 0o700 });
  const tmp = `${paths.record}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(record));
  fs.renameSync(tmp, paths.record);
}

export function readRecords(runRoot: string): EngineRecord[] {
  let names: string[];
  try {
    names = fs.readdirSync(runRoot);
  } catch {
    return [];
  }
  const out: EngineRecord[] = [];
  for (const n of names) {
    try {
      const r = JSON.parse(fs.readFileSync(path.join(runRoot, n, 'engine.json'), 'utf8')) as EngineRecord;
      if (Number.isInteger(r.pid) && r.pid > 0 && typeof r.qmpSocket === 'string') out.push(r);
    } catch {
      // no record: nothing ran there
    }
  }
  return out;
}

export function removeRunFiles(paths: RunPaths): void {
  fs.rmSync(paths.record, { force: true });
  if (process.platform !== 'win32') fs.rmSync(paths.qmpSocket, { force: true });
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Is `pid` still the engine we recorded (not an unrelated process that reused the pid)? On Linux the
 * command line must mention the recorded QMP socket; elsewhere we cannot tell and say no, so that
 * cleanup there relies on asking the engine itself over QMP.
 */
export function isRecordedEngine(record: EngineRecord): boolean {
  if (!isAlive(record.pid)) return false;
  try {
    const cmdline = fs.readFileSync(`/proc/${record.pid}/cmdline`, 'utf8');
    return cmdline.includes(record.qmpSocket.replace(/,/g, ',,'));
  } catch {
    return false;
  }
}
