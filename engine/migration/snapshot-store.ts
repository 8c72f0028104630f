/**
 * Where whole-machine snapshots of a VM without disks live (our extension: QEMU keeps snapshots
 * only inside qcow2 images, and refuses savevm when there is none): one file per snapshot in the
 * directory given with `-snapshot-store DIR`. Without that option there is no store and the engine
 * answers as QEMU does.
 *
 * File layout: "VMSSNAP1" (8 bytes), u32 BE length of a JSON header, the header (QEMUSnapshotInfo:
 * id, name, date, vm clock, vm state size), then the migration stream exactly as `migrate` sends it.
 * Files are written atomically: a temporary file in the same directory, fsync, rename, fsync of the
 * directory. A crash leaves either the old snapshot or the new one, never half of one.
 */
import { mkdir, open, readdir, readFile, rename, rm, unlink } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';

const MAGIC = Buffer.from('VMSSNAP1', 'latin1');
const SUFFIX = '.vmsnap';

export interface SnapshotInfo {
  id: string;
  name: string;
  /** Seconds and nanoseconds since the epoch. */
  dateSec: number;
  dateNsec: number;
  /** Virtual clock at save time (ns). */
  vmClockNsec: number;
  vmStateSize: number;
  /** -1: not recorded (QEMU prints an empty ICOUNT column). */
  icount: number;
}

let configuredDir: string | null = null;

/** `-snapshot-store DIR`; null turns the store off again (tests). */
export function setSnapshotStoreDir(dir: string | null): void {
  configuredDir = dir === null ? null : resolve(dir);
}

/** The store's directory, or null when the engine runs without one. */
export function snapshotStoreDir(): string | null {
  return configuredDir;
}

/** The directory, for the operations below (callers check snapshotStoreDir() first). */
function dirOrThrow(): string {
  if (configuredDir === null) throw new Error('no snapshot store configured');
  return configuredDir;
}

/** A tag as a file name: anything outside [A-Za-z0-9._-] is %-escaped, so every tag is safe. */
function fileName(tag: string): string {
  return (
    tag.replace(/[^A-Za-z0-9._-]/g, (c) =>
      [...Buffer.from(c, 'utf8')].map((b) => `%${b.toString(16).toUpperCase().padStart(2, '0')}`).join(''),
    ) + SUFFIX
  );
}

function parse(buf: Buffer): { info: SnapshotInfo; stream: Uint8Array } {
  if (buf.length < 12 || !buf.subarray(0, 8).equals(MAGIC)) throw new Error('not a VM Studio snapshot');
  const len = buf.readUInt32BE(8);
  if (12 + len > buf.length) throw new Error('snapshot file is truncated');
  const info = JSON.parse(buf.subarray(12, 12 + len).toString('utf8')) as SnapshotInfo;
  return { info, stream: new Uint8Array(buf.buffer, buf.byteOffset + 12 + len, buf.length - 12 - len) };
}

/** Every snapshot, oldest first (files that are not snapshots are skipped). */
export async function listSnapshots(): Promise<SnapshotInfo[]> {
  const storeDir = configuredDir;
  if (storeDir === null) return [];
  let names: string[];
  try {
    names = await readdir(storeDir);
  } catch {
    return [];
  }
  const out: SnapshotInfo[] = [];
  for (const n of names) {
    if (!n.endsWith(SUFFIX) || n.startsWith('.')) continue;
    try {
      const fh = await open(join(storeDir, n), 'r');
      try {
        const head = Buffer.alloc(12);
        await fh.read(head, 0, 12, 0);
        if (!head.subarray(0, 8).equals(MAGIC)) continue;
        const len = head.readUInt32BE(8);
        const json = Buffer.alloc(len);
        await fh.read(json, 0, len, 12);
        out.push(JSON.parse(json.toString('utf8')) as SnapshotInfo);
      } finally {
        await fh.close();
      }
    } catch {
      // unreadable entries are not snapshots
    }
  }
  return out.sort((a, b) => a.dateSec - b.dateSec || a.dateNsec - b.dateNsec || Number(a.id) - Number(b.id));
}

export async function findSnapshot(tag: string): Promise<SnapshotInfo | null> {
  return (await listSnapshots()).find((s) => s.name === tag) ?? null;
}

export async function readSnapshot(tag: string): Promise<{ info: SnapshotInfo; stream: Uint8Array } | null> {
  const storeDir = configuredDir;
  if (storeDir === null) return null;
  let buf: Buffer;
  try {
    buf = await readFile(join(storeDir, fileName(tag)));
  } catch {
    return null;
  }
  const r = parse(buf);
  return r.info.name === tag ? r : null;
}

/** Store (or replace) a snapshot atomically. */
export async function writeSnapshot(
  info: Omit<SnapshotInfo, 'id'>,
  stream: Uint8Array,
): Promise<SnapshotInfo> {
  const storeDir = dirOrThrow();
  await mkdir(storeDir, { recursive: true });
  const ids = (await listSnapshots()).map((s) => Number(s.id)).filter(Number.isFinite);
  const full: SnapshotInfo = { id: String(ids.length ? Math.max(...ids) + 1 : 1), ...info };
  const header = Buffer.from(JSON.stringify(full), 'utf8');
  const len = Buffer.alloc(4);
  len.writeUInt32BE(header.length);
  const tmp = join(storeDir, `.${fileName(info.name)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  const fh = await open(tmp, 'wx');
  try {
    await fh.writev([MAGIC, len, header, stream]);
    await fh.sync();
  } catch (e) {
    await fh.close();
    await unlink(tmp).catch(() => {});
    throw e;
  }
  await fh.close();
  await rename(tmp, join(storeDir, fileName(info.name)));
  const dir = await open(storeDir, 'r');
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
  return full;
}

/** Delete a snapshot; false when there was none of that name. */
export async function deleteSnapshot(tag: string): Promise<boolean> {
  const storeDir = configuredDir;
  if (storeDir === null) return false;
  try {
    await rm(join(storeDir, fileName(tag)));
    return true;
  } catch {
    return false;
  }
}
