/**
 * A cross-process lock built on mkdir (atomic on every filesystem Node supports), so parallel test
 * workers or two app instances building the same guest cache take turns instead of racing.
 */
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export interface LockOptions {
  /** Give up waiting after this long (ms). */
  timeoutMs?: number;
  /** A lock older than this is considered abandoned even if its owner looks alive (ms). */
  staleMs?: number;
  pollMs?: number;
}

interface Owner {
  pid: number;
  host: string;
  time: number;
}

function ownerAlive(o: Owner): boolean {
  if (o.host !== hostname()) return true; // cannot tell; rely on staleMs
  try {
    process.kill(o.pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function isStale(lockDir: string, staleMs: number): Promise<boolean> {
  try {
    const owner = JSON.parse(await readFile(join(lockDir, 'owner.json'), 'utf8')) as Owner;
    return !ownerAlive(owner) || Date.now() - owner.time > staleMs;
  } catch {
    // Owner file not written yet (just created) or unreadable: judge by the directory's age.
    try {
      return Date.now() - (await stat(lockDir)).mtimeMs > Math.min(staleMs, 60_000);
    } catch {
      return false; // gone already
    }
  }
}

/** Runs `fn` while holding the lock directory `lockDir`. */
export async function withDirLock<T>(
  lockDir: string,
  fn: () => Promise<T>,
  opts: LockOptions = {},
): Promise<T> {
  const timeoutMs = opts.timeoutMs ?? 20 * 60_000;
  const staleMs = opts.staleMs ?? 60 * 60_000;
  const pollMs = opts.pollMs ?? 250;
  const start = Date.now();
  for (;;) {
    try {
      await mkdir(lockDir);
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    if (await isStale(lockDir, staleMs)) {
      // Move it aside first: only one waiter wins the rename, so two cannot both break it.
      const aside = `${lockDir}.stale-${process.pid}-${Date.now()}`;
      try {
        await rename(lockDir, aside);
        await rm(aside, { recursive: true, force: true });
      } catch {
        /* someone else broke or released it */
      }
      continue;
    }
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for lock ${lockDir}`);
    await sleep(pollMs);
  }
  const owner: Owner = { pid: process.pid, host: hostname(), time: Date.now() };
  await writeFile(join(lockDir, 'owner.json'), JSON.stringify(owner));
  try {
    return await fn();
  } finally {
    await rm(lockDir, { recursive: true, force: true });
  }
}
