/**
 * Internal snapshots across the block graph (QEMU's block/snapshot.c): what one node can do (qcow2
 * keeps snapshots; a raw format node falls back to its file child, which cannot), and the
 * bdrv_all_* group operations that savevm / loadvm / delvm / info snapshots run over "all disks"
 * (the roots of block backends plus monitor-owned nodes nobody uses) or over an explicit list of
 * node names (the QMP snapshot jobs' `devices`).
 *
 * Beyond QEMU: the VM state of a snapshot can be read without reverting the disk
 * (bdrvReadSnapshotVmstate), so loadvm can load and check the machine state before any disk
 * changes; and group creation undoes what it created when one image fails, by id, so a failed
 * savevm never touches an older snapshot that happens to share the name.
 */
import { QapiError } from '../qapi/error.js';
import { type BlockDriverState, bdrvAllNodes, bdrvFindNode, bdrvHasNodeParent } from './block.js';
import { blkAll, blkForNode } from './block-backend.js';
import { BlockIoError, blockStrerror } from './block-error.js';
import { Qcow2Driver } from './qcow2.js';
import {
  qcow2SaveVmstate,
  qcow2SnapshotCreate,
  qcow2SnapshotDelete,
  qcow2SnapshotGoto,
  type SnapshotCreateOptions,
} from './qcow2-snapshot.js';
import type { Qcow2Snapshot } from './qcow2-snapshot-table.js';
import { entryOffset } from './qcow2-table.js';

export type { Qcow2Snapshot };

// ---- one node ---------------------------------------------------------------------------------

/** The qcow2 driver doing snapshots for `bs`: its own, or (bdrv_snapshot_fallback) a raw node's file child's. */
export function bdrvSnapshotDriver(bs: BlockDriverState): Qcow2Driver | null {
  for (let b: BlockDriverState | null = bs; b; b = b.driverName === 'raw' ? b.file : null) {
    if (b.drv instanceof Qcow2Driver) return b.drv;
  }
  return null;
}

/** bdrv_can_snapshot(): writable and backed by a format with internal snapshots. */
export function bdrvCanSnapshot(bs: BlockDriverState): boolean {
  return !bs.closed && !bs.readOnly && bdrvSnapshotDriver(bs) !== null;
}

/** bdrv_snapshot_list(): empty for nodes without snapshot support. */
export function bdrvSnapshotList(bs: BlockDriverState): readonly Qcow2Snapshot[] {
  return bdrvSnapshotDriver(bs)?.snapshots ?? [];
}

/** bdrv_snapshot_find(): by name only (QEMU 7.2; ids differ between images). */
export function bdrvSnapshotFind(bs: BlockDriverState, name: string): Qcow2Snapshot | undefined {
  return bdrvSnapshotList(bs).find((s) => s.name === name);
}

/** bdrv_get_device_name(): the backend's name, '' when the node is no (named) backend's root. */
export function bdrvGetDeviceName(bs: BlockDriverState): string {
  return blkAll().find((b) => b.root === bs)?.name ?? '';
}

/** bdrv_get_device_or_node_name() */
export function bdrvGetDeviceOrNodeName(bs: BlockDriverState): string {
  return bdrvGetDeviceName(bs) || bs.nodeName;
}

function driverOf(bs: BlockDriverState): Qcow2Driver {
  const d = bdrvSnapshotDriver(bs);
  if (!d) throw new QapiError('Block driver does not support snapshots');
  return d;
}

/** A thrown error as QEMU's error text ("Failed to load snapshot: Input/output error" style). */
function errText(e: unknown): string {
  if (e instanceof QapiError) return e.message;
  if (e instanceof BlockIoError) return e.message;
  const code = (e as NodeJS.ErrnoException | null)?.code;
  return code ? blockStrerror(code) : e instanceof Error ? e.message : String(e);
}

// ---- the set of nodes a group operation covers ------------------------------------------------

export interface SnapshotDevices {
  nodes: BlockDriverState[];
  /** Named by the caller: every node takes part (no "is it a disk" filter). */
  explicit: boolean;
}

/** bdrv_first()/bdrv_next(): backend roots (each once), then monitor-owned nodes without a backend. */
export function bdrvNextAll(): BlockDriverState[] {
  const out: BlockDriverState[] = [];
  for (const blk of blkAll()) if (blk.root && !out.includes(blk.root)) out.push(blk.root);
  for (const bs of bdrvAllNodes()) if (bs.monitorOwned && !blkForNode(bs) && !out.includes(bs)) out.push(bs);
  return out;
}

/** bdrv_all_get_snapshot_devices(): `null` means all disks. */
export function bdrvAllGetSnapshotDevices(devices: readonly string[] | null): SnapshotDevices {
  if (devices === null) return { nodes: bdrvNextAll(), explicit: false };
  if (devices.length === 0) throw new QapiError('At least one device is required for snapshot');
  const nodes = devices.map((name) => {
    const bs = bdrvFindNode(name);
    if (!bs) throw new QapiError(`No block device node '${name}'`);
    return bs;
  });
  return { nodes, explicit: true };
}

/** bdrv_all_snapshots_includes_bs(): writable nodes a backend uses, or that nothing uses. */
function includesBs(bs: BlockDriverState): boolean {
  if (bs.closed || bs.readOnly) return false;
  return blkForNode(bs) !== undefined || !bdrvHasNodeParent(bs);
}

/** The nodes of `devs` an operation acts on. */
export function bdrvAllParticipants(devs: SnapshotDevices): BlockDriverState[] {
  return devs.nodes.filter((bs) => devs.explicit || includesBs(bs));
}

// ---- group operations -------------------------------------------------------------------------

/** bdrv_all_can_snapshot(): every participating writable node must support snapshots. */
export function bdrvAllCanSnapshot(devs: SnapshotDevices): void {
  for (const bs of bdrvAllParticipants(devs)) {
    if (!bdrvCanSnapshot(bs)) {
      throw new QapiError(
        `Device '${bdrvGetDeviceOrNodeName(bs)}' is writable but does not support snapshots`,
      );
    }
  }
}

/** bdrv_all_has_snapshot(): does every participating node have a snapshot called `name`? */
export function bdrvAllHasSnapshot(name: string, devs: SnapshotDevices): boolean {
  return bdrvAllParticipants(devs).every((bs) => bdrvSnapshotFind(bs, name) !== undefined);
}

/** The nodes that lack snapshot `name` (for refusals that say where). */
export function bdrvAllMissingSnapshot(name: string, devs: SnapshotDevices): BlockDriverState[] {
  return bdrvAllParticipants(devs).filter((bs) => bdrvSnapshotFind(bs, name) === undefined);
}

/** bdrv_all_delete_snapshot(): delete the first snapshot called `name` on each node that has one. */
export async function bdrvAllDeleteSnapshot(name: string, devs: SnapshotDevices): Promise<void> {
  for (const bs of bdrvAllParticipants(devs)) {
    const sn = bdrvSnapshotFind(bs, name);
    if (!sn) continue;
    try {
      await qcow2SnapshotDelete(driverOf(bs), sn.id, sn.name);
    } catch (e) {
      throw new QapiError(
        `Could not delete snapshot '${name}' on '${bdrvGetDeviceOrNodeName(bs)}': ${errText(e)}`,
      );
    }
  }
}

/**
 * bdrv_all_goto_snapshot(): revert every participating node to its snapshot called `name` (by that
 * snapshot's id on the node, so a name that looks like another snapshot's id cannot mislead it).
 */
export async function bdrvAllGotoSnapshot(name: string, devs: SnapshotDevices): Promise<void> {
  for (const bs of bdrvAllParticipants(devs)) {
    try {
      const sn = bdrvSnapshotFind(bs, name);
      if (!sn) throw new QapiError('Failed to load snapshot: No such file or directory');
      await qcow2SnapshotGoto(driverOf(bs), sn.id);
    } catch (e) {
      const text = errText(e);
      throw new QapiError(
        `Could not load snapshot '${name}' on '${bdrvGetDeviceOrNodeName(bs)}': ${text.startsWith('Failed to load snapshot') || text.startsWith('Block driver') ? text : `Failed to load snapshot: ${text}`}`,
      );
    }
  }
}

/**
 * bdrv_all_create_snapshot(): the snapshot on every participating node, with the VM state size on
 * `vmStateBs` only. If one node fails, the snapshots this call made on the others are deleted
 * again (as save_snapshot() does) and "Could not create snapshot" is thrown.
 */
export async function bdrvAllCreateSnapshot(
  sn: Omit<SnapshotCreateOptions, 'vmStateSize'>,
  vmStateBs: BlockDriverState,
  vmStateSize: number,
  devs: SnapshotDevices,
): Promise<void> {
  const made: Array<{ bs: BlockDriverState; snap: Qcow2Snapshot }> = [];
  for (const bs of devs.nodes) {
    if (bs !== vmStateBs && !devs.explicit && !includesBs(bs)) continue;
    if (made.some((m) => m.bs === bs)) continue;
    try {
      const snap = await qcow2SnapshotCreate(driverOf(bs), {
        ...sn,
        vmStateSize: bs === vmStateBs ? vmStateSize : 0,
      });
      made.push({ bs, snap });
    } catch {
      for (const m of made.reverse()) {
        await qcow2SnapshotDelete(driverOf(m.bs), m.snap.id, m.snap.name).catch(() => undefined);
      }
      throw new QapiError(`Could not create snapshot '${sn.name}' on '${bdrvGetDeviceOrNodeName(bs)}'`);
    }
  }
}

/** bdrv_all_find_vmstate_bs(): the node that keeps the VM state (named, or the first that can). */
export function bdrvAllFindVmstateBs(vmstate: string | null, devs: SnapshotDevices): BlockDriverState {
  for (const bs of devs.nodes) {
    const found = (devs.explicit || includesBs(bs)) && bdrvCanSnapshot(bs);
    if (vmstate !== null) {
      if (bs.nodeName === vmstate) {
        if (found) return bs;
        throw new QapiError(`vmstate block device '${vmstate}' does not support snapshots`);
      }
    } else if (found) {
      return bs;
    }
  }
  throw new QapiError(
    vmstate !== null
      ? `vmstate block device '${vmstate}' does not exist`
      : 'no block device can store vmstate for snapshot',
  );
}

// ---- VM state ---------------------------------------------------------------------------------

/** bdrv_save_vmstate(): the machine state into the active image's VM state area. */
export async function bdrvSaveVmstate(bs: BlockDriverState, buf: Uint8Array): Promise<void> {
  await qcow2SaveVmstate(driverOf(bs), buf, 0);
}

/**
 * The VM state stored with snapshot `sn`, read through the snapshot's own L1 table: the active
 * image is not reverted (QEMU reads it with bdrv_load_vmstate after bdrv_snapshot_goto).
 */
export async function bdrvReadSnapshotVmstate(bs: BlockDriverState, sn: Qcow2Snapshot): Promise<Uint8Array> {
  const d = driverOf(bs);
  const out = new Uint8Array(sn.vmStateSize);
  const cs = d.clusterSize;
  const cover = d.l2Coverage;
  // qcow2_vm_state_offset() of the disk as it was when the snapshot was taken.
  const base = Math.ceil((sn.diskSize ?? d.header.size) / cover) * cover;
  await d.lock.read(async () => {
    const l1 = new Uint8Array(sn.l1Size * 8);
    await d.file.pread(sn.l1TableOffset, l1);
    let l2: Uint8Array | null = null;
    let l2At = 0;
    for (let done = 0; done < out.length;) {
      const g = base + done;
      const n = Math.min(cs - (g % cs), out.length - done);
      const part = out.subarray(done, done + n);
      const l1i = Math.floor(g / cover);
      const l2Off = l1i < sn.l1Size ? entryOffset(l1, l1i) : 0;
      if (l2Off === 0) {
        part.fill(0);
      } else {
        if (l2Off % cs !== 0 || l2Off < cs)
          throw new BlockIoError('EIO', `Snapshot '${sn.name}' has an invalid L2 table offset`);
        if (l2 === null || l2At !== l2Off) {
          l2 = new Uint8Array(cs);
          await d.file.pread(l2Off, l2);
          l2At = l2Off;
        }
        const m = d.decodeL2Raw(l2, Math.floor(g / cs) % d.l2Size);
        if ((m.kind === 'normal' || m.kind === 'zero') && m.host % cs !== 0) {
          throw new BlockIoError('EIO', `Snapshot '${sn.name}' maps its VM state to an unaligned cluster`);
        }
        if (m.kind === 'unallocated') part.fill(0);
        else await d.readMapped(g, m, part);
      }
      done += n;
    }
  });
  return out;
}

// ---- drain ------------------------------------------------------------------------------------

const drainHandlers = new Set<() => Promise<void>>();

/**
 * Devices with requests in flight register how to wait for them (QEMU's bdrv_drain_all_begin()
 * waits for every request): savevm and loadvm drain before they capture or replace the machine
 * state, so no completion lands in guest memory afterwards. Returns a remover.
 */
export function addBlockDrainHandler(fn: () => Promise<void>): () => void {
  drainHandlers.add(fn);
  return () => drainHandlers.delete(fn);
}

/** bdrv_drain_all(): device requests, then every qcow2 node's own queue, are finished. */
export async function bdrvDrainAll(): Promise<void> {
  await Promise.all([...drainHandlers].map((fn) => fn()));
  for (const bs of bdrvAllNodes()) {
    if (bs.drv instanceof Qcow2Driver) await bs.drv.lock.write(async () => {});
  }
}
