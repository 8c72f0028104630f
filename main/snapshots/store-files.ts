/**
 * The engine's snapshot store as seen from outside the engine: one file per snapshot in the VM's
 * `snapshots/` folder (the engine runs with `-snapshot-store <vm folder>/snapshots`). The layout is
 * the engine's (engine/migration/snapshot-store.ts): "VMSSNAP1", a u32 big-endian header length, a
 * JSON header (QEMUSnapshotInfo: id, name, date, vm clock, vm state size), then the migration stream.
 *
 * Read here so the library can be reconciled and sizes shown while the VM is stopped, and so a
 * stopped VM's snapshot can be deleted without starting an engine. Only the file named for one tag
 * is ever removed: every snapshot is its own file, so deleting one never touches another's data.
 */
import fs from 'node:fs';
import path from 'node:path';

const MAGIC = Buffer.from('VMSSNAP1', 'latin1');
const SUFFIX = '.vmsnap';

export interface StoredSnapshot {
  /** The engine's tag (QEMU's snapshot "name"). */
  tag: string;
  /** When it was taken (ms since the epoch). */
  createdAt: number;
  /** Size of the machine state (the header's vmStateSize). */
  vmStateSize: number;
  /** Bytes the file takes. */
  fileBytes: number;
}

/** The store folder of a VM folder. */
export function snapshotStoreDir(vmFolder: string): string {
  return path.join(vmFolder, 'snapshots');
}

/** A tag as the engine names its file: anything outside [A-Za-z0-9._-] is %XX-escaped (UTF-8 bytes). */
export function snapshotFileName(tag: string): string {
  return (
    tag.replace(/[^A-Za-z0-9._-]/g, (c) =>
      [...Buffer.from(c, 'utf8')].map((b) => `%${b.toString(16).toUpperCase().padStart(2, '0')}`).join(''),
    ) + SUFFIX
  );
}

function readHeader(
  file: string,
): { name: string; dateSec: number; dateNsec: number; vmStateSize: number } | null {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch {
    return null;
  }
  try {
    const head = Buffer.alloc(12);
    if (fs.readSync(fd, head, 0, 12, 0) < 12 || !head.subarray(0, 8).equals(MAGIC)) return null;
    const len = head.readUInt32BE(8);
    if (len > 1 << 20) return null;
    const json = Buffer.alloc(len);
    if (fs.readSync(fd, json, 0, len, 12) < len) return null;
    const h = JSON.parse(json.toString('utf8')) as Record<string, unknown>;
    if (typeof h.name !== 'string') return null;
    return {
      name: h.name,
      dateSec: typeof h.dateSec === 'number' ? h.dateSec : 0,
      dateNsec: typeof h.dateNsec === 'number' ? h.dateNsec : 0,
      vmStateSize: typeof h.vmStateSize === 'number' ? h.vmStateSize : 0,
    };
  } catch {
    return null;
  } finally {
    fs.closeSync(fd);
  }
}

/** Every snapshot in the store, oldest first; temporary and foreign files are skipped. */
export function readSnapshotStore(dir: string): StoredSnapshot[] {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return [];
  }
  const out: StoredSnapshot[] = [];
  for (const n of names) {
    if (!n.endsWith(SUFFIX) || n.startsWith('.')) continue;
    const file = path.join(dir, n);
    const h = readHeader(file);
    if (!h || snapshotFileName(h.name) !== n) continue;
    let fileBytes = 0;
    try {
      fileBytes = fs.statSync(file).size;
    } catch {
      continue;
    }
    out.push({
      tag: h.name,
      createdAt: h.dateSec * 1000 + Math.floor(h.dateNsec / 1e6),
      vmStateSize: h.vmStateSize,
      fileBytes,
    });
  }
  return out.sort((a, b) => a.createdAt - b.createdAt || a.tag.localeCompare(b.tag));
}

/** Size of one stored snapshot (null when the store has no file for the tag). */
export function storedSnapshotBytes(dir: string, tag: string): number | null {
  try {
    return fs.statSync(path.join(dir, snapshotFileName(tag))).size;
  } catch {
    return null;
  }
}

/** Remove exactly the file of `tag` (false when there was none). */
export function deleteStoredSnapshot(dir: string, tag: string): boolean {
  try {
    fs.rmSync(path.join(dir, snapshotFileName(tag)));
    return true;
  } catch {
    return false;
  }
}
