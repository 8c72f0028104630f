/**
 * qcow2 internal snapshots (QEMU's block/qcow2-snapshot.c): a snapshot is a copy of the active L1
 * table plus one more reference on every L2 table and data cluster it reaches; writes then
 * copy-on-write whatever is shared. Also the VM state area past the end of the disk, where
 * savevm keeps the machine state of a snapshot.
 *
 * Order of updates (crash leaves leaks at worst): new L1 copy -> refcounts +1 -> new snapshot
 * table -> header switch -> old table freed; deletion removes the entry from the table first.
 */
import { QapiError } from '../qapi/error.js';
import type { Qcow2Driver } from './qcow2.js';
import { buildSnapshotTable, type Qcow2Snapshot } from './qcow2-snapshot-table.js';
import { OFLAG_COPIED_HI, entryHi, entryLo, entryOffset, setEntry } from './qcow2-table.js';

export interface SnapshotCreateOptions {
  name: string;
  vmStateSize?: number;
  vmClockNsec?: number;
  icount?: number;
  /** Defaults to now. */
  dateSec?: number;
  dateNsec?: number;
}

/**
 * Walk an L1 table (qcow2_update_snapshot_refcount()): add `addend` to the refcount of every L2
 * table and cluster it references, and with `fixFlags` make each COPIED flag say "refcount is 1"
 * (for the active table, which is then written back at `l1Offset`).
 */
async function walkL1(
  d: Qcow2Driver,
  l1: Uint8Array,
  addend: number,
  fixFlags: boolean,
  l1Offset: number | null,
): Promise<void> {
  const cs = d.clusterSize;
  let l1Changed = false;
  for (let i = 0; i < l1.length / 8; i++) {
    const l2Off = entryOffset(l1, i);
    if (l2Off === 0) continue;
    const table = await d.l2Table(l2Off, i);
    let first = -1;
    let last = -1;
    for (let j = 0; j < d.l2Size; j++) {
      const m = d.decodeL2(table, j, l2Off);
      if (m.kind === 'compressed') {
        if (addend) await d.rc.update(m.host - (m.host % 512), m.compressedBytes + (m.host % 512), addend);
        continue;
      }
      if (m.kind === 'unallocated' || m.host === 0) continue;
      if (addend) await d.rc.update(m.host, cs, addend);
      if (fixFlags) {
        const want = (await d.rc.get(m.host / cs)) === 1;
        const hi = entryHi(table, j);
        if (((hi & OFLAG_COPIED_HI) !== 0) !== want) {
          setEntry(
            table,
            j,
            want ? (hi | OFLAG_COPIED_HI) >>> 0 : (hi & ~OFLAG_COPIED_HI) >>> 0,
            entryLo(table, j),
          );
          if (first < 0) first = j;
          last = j;
        }
      }
    }
    if (first >= 0) await d.file.pwrite(l2Off + first * 8, table.subarray(first * 8, (last + 1) * 8));
    if (addend) await d.rc.update(l2Off, cs, addend);
    if (fixFlags) {
      const want = (await d.rc.get(l2Off / cs)) === 1;
      const hi = entryHi(l1, i);
      if (((hi & OFLAG_COPIED_HI) !== 0) !== want) {
        setEntry(l1, i, want ? (hi | OFLAG_COPIED_HI) >>> 0 : (hi & ~OFLAG_COPIED_HI) >>> 0, entryLo(l1, i));
        l1Changed = true;
      }
    }
  }
  if (l1Changed && l1Offset !== null) await d.file.pwrite(l1Offset, l1);
}

async function readL1(d: Qcow2Driver, s: Qcow2Snapshot): Promise<Uint8Array> {
  const b = new Uint8Array(s.l1Size * 8);
  await d.file.pread(s.l1TableOffset, b);
  return b;
}

const clustersFor = (d: Qcow2Driver, bytes: number): number => Math.max(1, Math.ceil(bytes / d.clusterSize));

/** Write a new snapshot table and switch the header to it, then free the old one. */
async function replaceTable(d: Qcow2Driver, list: Qcow2Snapshot[]): Promise<void> {
  const cs = d.clusterSize;
  const oldOff = d.header.snapshotsOffset;
  const oldSize = d.snapshotTableSize();
  let off = 0;
  if (list.length) {
    const table = buildSnapshotTable(list);
    off = await d.rc.allocClusters(clustersFor(d, table.length));
    await d.file.pwrite(off, table);
  }
  await d.file.flush();
  await d.writeSnapshotHeader(list.length, off);
  await d.file.flush();
  d.snapshots = list;
  if (oldOff && oldSize) await d.rc.free(oldOff, clustersFor(d, oldSize) * cs);
}

/** Where the VM state lives: the first L1 entry past the disk (qcow2_vm_state_offset()). */
export function vmStateOffset(d: Qcow2Driver): number {
  return Math.ceil(d.header.size / d.l2Coverage) * d.l2Coverage;
}

export async function qcow2SnapshotCreate(d: Qcow2Driver, o: SnapshotCreateOptions): Promise<Qcow2Snapshot> {
  if (d.readOnly) throw new QapiError('Device is read-only');
  return d.lock.write(async () => {
    const cs = d.clusterSize;
    const id = String(d.snapshots.reduce((m, s) => Math.max(m, Number.parseInt(s.id, 10) || 0), 0) + 1);
    const now = Date.now();
    const l1Copy = d.l1.slice();
    const l1Off = await d.rc.allocClusters(clustersFor(d, l1Copy.length));
    await d.file.pwrite(l1Off, l1Copy);
    await walkL1(d, d.l1, 1, true, d.l1Offset);
    const sn: Qcow2Snapshot = {
      l1TableOffset: l1Off,
      l1Size: d.l1Size,
      id,
      name: o.name,
      dateSec: o.dateSec ?? Math.floor(now / 1000),
      dateNsec: o.dateNsec ?? (now % 1000) * 1e6,
      vmClockNsec: o.vmClockNsec ?? 0,
      vmStateSize: o.vmStateSize ?? 0,
      diskSize: d.header.size,
      icount: o.icount ?? 0,
      extraTail: new Uint8Array(0),
      entrySize: 0,
    };
    await replaceTable(d, [...d.snapshots, sn]);
    if (sn.vmStateSize) {
      // The active image does not need the VM state any more; keeping it would only cost COW.
      await discardVmstate(d, Math.ceil(sn.vmStateSize / cs) * cs);
    }
    d.dropL2Cache();
    return sn;
  });
}

/** Drop the active mapping of the VM state area (entries cleared first, then refcounts). */
async function discardVmstate(d: Qcow2Driver, bytes: number): Promise<void> {
  const start = vmStateOffset(d);
  const cs = d.clusterSize;
  for (let g = start; g < start + bytes; g += cs) {
    const l1i = Math.floor(g / d.l2Coverage);
    if (l1i >= d.l1Size) break;
    const l2Off = entryOffset(d.l1, l1i);
    if (!l2Off || !(entryHi(d.l1, l1i) & OFLAG_COPIED_HI)) continue;
    const t = await d.l2Table(l2Off, l1i);
    const j = Math.floor(g / cs) % d.l2Size;
    const m = d.decodeL2(t, j, l2Off);
    if (m.kind === 'unallocated') continue;
    setEntry(t, j, 0, 0);
    await d.file.pwrite(l2Off + j * 8, t.subarray(j * 8, j * 8 + 8));
    if (m.kind === 'compressed') await d.rc.free(m.host - (m.host % 512), m.compressedBytes + (m.host % 512));
    else if (m.host) await d.rc.free(m.host, cs);
  }
}

/** find_snapshot_by_id_or_name(): an id match wins over a name match. */
export function findSnapshot(d: Qcow2Driver, idOrName: string): Qcow2Snapshot | undefined {
  return d.snapshots.find((s) => s.id === idOrName) ?? d.snapshots.find((s) => s.name === idOrName);
}

/** Revert the active state to a snapshot (qcow2_snapshot_goto()). */
export async function qcow2SnapshotGoto(d: Qcow2Driver, idOrName: string): Promise<void> {
  if (d.readOnly) throw new QapiError('Device is read-only');
  const sn = findSnapshot(d, idOrName);
  if (!sn) throw new QapiError('Failed to load snapshot: No such file or directory');
  await d.lock.write(async () => {
    const snL1 = await readL1(d, sn);
    if (sn.l1Size > d.l1Size) await d.growL1(sn.l1Size);
    const oldActive = d.l1.slice();
    await walkL1(d, snL1, 1, false, null);
    const next = new Uint8Array(d.l1Size * 8);
    next.set(snL1);
    // Start with every COPIED flag clear (always consistent: refcounts are now >= 2), then fix.
    for (let i = 0; i < d.l1Size; i++)
      setEntry(next, i, (entryHi(next, i) & ~OFLAG_COPIED_HI) >>> 0, entryLo(next, i));
    d.dropL2Cache();
    d.l1.set(next);
    await d.file.pwrite(d.l1Offset, d.l1);
    await d.file.flush();
    await walkL1(d, oldActive, -1, false, null);
    await walkL1(d, d.l1, 0, true, d.l1Offset);
    if (sn.diskSize !== null && sn.diskSize !== d.header.size) {
      await d.writeHeaderU64(24, BigInt(sn.diskSize));
      d.header.size = sn.diskSize;
    }
    d.dropL2Cache();
  });
}

/** qcow2_snapshot_delete(): by id and/or name, as given. */
export async function qcow2SnapshotDelete(
  d: Qcow2Driver,
  id: string | null,
  name: string | null,
): Promise<Qcow2Snapshot> {
  if (d.readOnly) throw new QapiError('Device is read-only');
  const sn = d.snapshots.find((s) => (id === null || s.id === id) && (name === null || s.name === name));
  if (!sn) throw new QapiError('snapshot not found');
  await d.lock.write(async () => {
    const snL1 = await readL1(d, sn);
    await replaceTable(
      d,
      d.snapshots.filter((s) => s !== sn),
    );
    await walkL1(d, snL1, -1, false, null);
    await d.rc.free(sn.l1TableOffset, clustersFor(d, sn.l1Size * 8) * d.clusterSize);
    await walkL1(d, d.l1, 0, true, d.l1Offset);
    d.dropL2Cache();
  });
  return sn;
}

/** bdrv_save_vmstate(): machine state bytes at `pos` of the VM state area. */
export async function qcow2SaveVmstate(d: Qcow2Driver, buf: Uint8Array, pos: number): Promise<void> {
  if (d.readOnly) throw new QapiError('Device is read-only');
  await d.lock.write(() => d.writeLocked(vmStateOffset(d) + pos, buf));
}

/** bdrv_load_vmstate(): read back what the active state (after goto) holds there. */
export async function qcow2LoadVmstate(d: Qcow2Driver, buf: Uint8Array, pos: number): Promise<void> {
  await d.lock.read(async () => {
    const cs = d.clusterSize;
    const base = vmStateOffset(d) + pos;
    for (let done = 0; done < buf.length;) {
      const g = base + done;
      const n = Math.min(cs - (g % cs), buf.length - done);
      const m = await d.lookup(g);
      const out = buf.subarray(done, done + n);
      if (m.kind === 'unallocated') out.fill(0);
      else await d.readMapped(g, m, out);
      done += n;
    }
  });
}
