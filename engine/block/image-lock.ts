/**
 * Image locking between engine processes (QEMU's file-posix "locking" option, which uses OFD byte
 * locks on the image itself). Node has no OFD/flock API, so this is an advisory lock file next to
 * the image, `.<name>.vmstudio-lock`, holding the writer's pid:
 *  - a writer creates it exclusively (O_EXCL); a lock whose pid is gone (the writer was killed) is
 *    stale and taken over;
 *  - a reader refuses while a live writer holds it, and a writer refuses while one exists;
 *  - within one process, a second writer or a reader of an image opened for writing is refused
 *    too, as QEMU refuses it (its locks conflict between file descriptors of one process).
 * Only vmstudio processes honour it (QEMU does not see it, as we do not see QEMU's OFD locks);
 * `locking=off` skips it. Readers do not block writers (QEMU's shared-read case would; we keep it
 * cheap).
 */
import { closeSync, openSync, readFileSync, realpathSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { QapiError } from '../qapi/error.js';

const writersHere = new Map<string, number>();

function lockPathFor(realPath: string): string {
  return join(dirname(realPath), `.${basename(realPath)}.vmstudio-lock`);
}

function pidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function holderPid(lockPath: string): number | null {
  try {
    return Number(readFileSync(lockPath, 'utf8').trim());
  } catch {
    return null;
  }
}

function lockError(shared: boolean, filename: string): QapiError {
  const e = new QapiError(shared ? 'Failed to get shared "write" lock' : 'Failed to get "write" lock');
  e.hint = `Is another process using the image [${filename}]?\n`;
  return e;
}

export interface ImageLock {
  release(): void;
}

/** Take the lock for `filename` (the path as the user gave it, for the error hint). */
export function imageLockAcquire(filename: string, write: boolean): ImageLock {
  let real: string;
  try {
    real = realpathSync(filename);
  } catch {
    return { release() {} };
  }
  const lockPath = lockPathFor(real);
  if (!write) {
    const pid = holderPid(lockPath);
    if (writersHere.has(real) || (pid !== null && pid !== process.pid && pidAlive(pid))) {
      throw lockError(true, filename);
    }
    return { release() {} };
  }
  if (writersHere.has(real)) throw lockError(false, filename);
  for (let attempt = 0; ; attempt++) {
    try {
      const fd = openSync(lockPath, 'wx');
      writeSync(fd, `${process.pid}\n`);
      closeSync(fd);
      break;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'EEXIST') {
        // A directory we cannot write into: no lock file possible, like QEMU on a lockless fs.
        if (code === 'EACCES' || code === 'EROFS' || code === 'EPERM') return { release() {} };
        throw e;
      }
      const pid = holderPid(lockPath);
      if (attempt < 3 && (pid === null || Number.isNaN(pid) || !pidAlive(pid))) {
        try {
          unlinkSync(lockPath);
        } catch {
          /* somebody else cleaned up */
        }
        continue;
      }
      throw lockError(false, filename);
    }
  }
  writersHere.set(real, process.pid);
  let released = false;
  return {
    release() {
      if (released) return;
      released = true;
      writersHere.delete(real);
      if (holderPid(lockPath) === process.pid) {
        try {
          unlinkSync(lockPath);
        } catch {
          /* already gone */
        }
      }
    },
  };
}

/** Locks still held at exit are removed so a clean shutdown leaves no lock file behind. */
process.on('exit', () => {
  for (const real of writersHere.keys()) {
    const lockPath = lockPathFor(real);
    if (holderPid(lockPath) === process.pid) {
      try {
        unlinkSync(lockPath);
      } catch {
        /* ignore */
      }
    }
  }
});
