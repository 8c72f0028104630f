/**
 * Whole-machine snapshots (QEMU's save_snapshot / load_snapshot / delete_snapshot in savevm.c,
 * hmp_info_snapshots, and their HMP and QMP front ends): `savevm [tag]`, `loadvm tag`, `delvm tag`,
 * `info snapshots`, and the snapshot-save / snapshot-load / snapshot-delete jobs.
 *
 * As QEMU: every writable qcow2 disk gets an internal snapshot, and the machine state (one
 * migration stream) is stored in the VM state area of one of them, so `qemu-img snapshot -l` lists
 * the snapshot with its VM SIZE, DATE and VM CLOCK, and QEMU can load what we save and back.
 * Disk-less VMs run with `-snapshot-store DIR` keep their snapshots in that directory instead
 * (snapshot-store.ts).
 *
 * Safer than QEMU: a savevm that fails on one image deletes what it made on the others; loadvm
 * checks that every disk has the snapshot, loads the machine state read from the snapshot, and
 * reverts the disks only after that succeeded, so a refused snapshot leaves machine and disks as
 * they were, and the VM resumes if it was running (QEMU leaves it paused in restore-vm).
 */
import { QapiError } from '../qapi/error.js';
import { registerHmpCommand, registerHmpInfo } from '../monitor/hmp.js';
import { qemuSystemReset, runstateIsRunning, vmStart, vmStop } from '../system/runstate.js';
import { blockStrerror } from '../block/block-error.js';
import {
  bdrvAllCanSnapshot,
  bdrvAllCreateSnapshot,
  bdrvAllDeleteSnapshot,
  bdrvAllFindVmstateBs,
  bdrvAllGetSnapshotDevices,
  bdrvAllGotoSnapshot,
  bdrvAllHasSnapshot,
  bdrvAllParticipants,
  bdrvCanSnapshot,
  bdrvDrainAll,
  bdrvGetDeviceName,
  bdrvReadSnapshotVmstate,
  bdrvSaveVmstate,
  bdrvSnapshotFind,
  bdrvSnapshotList,
} from '../block/snapshot.js';
import '../block/qemu-io.js';
import { EIO, isMigrationError } from './migration-error.js';
import { qemuLoadvmStateBegin, qemuSavevmState, savevmStateBlocked, type LoadTransaction } from './savevm.js';
import { globalStateStore } from './global-state.js';
import { virtualClock } from '../system/virtual-clock.js';
import {
  deleteSnapshot,
  listSnapshots,
  readSnapshot,
  snapshotStoreDir,
  writeSnapshot,
  type SnapshotInfo,
} from './snapshot-store.js';
import { jobStart } from './job.js';

const pad2 = (n: number) => String(n).padStart(2, '0');

/** Local date and time as QEMU prints it ("%Y-%m-%d %H:%M:%S"). */
function formatDate(sec: number): string {
  const d = new Date(sec * 1000);
  return `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())} ${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}`;
}

/** QEMU's default snapshot name: "vm-%Y%m%d%H%M%S" in local time. */
export function defaultSnapshotName(now = new Date()): string {
  return `vm-${now.getFullYear()}${pad2(now.getMonth() + 1)}${pad2(now.getDate())}${pad2(now.getHours())}${pad2(now.getMinutes())}${pad2(now.getSeconds())}`;
}

/** C's printf("%0.3g") for the values size_to_str() produces. */
function fmt3g(v: number): string {
  if (v === 0) return '0';
  const exp = Math.floor(Math.log10(Math.abs(v)));
  if (exp < -4 || exp >= 3) {
    const [m, e] = v.toExponential(2).split('e');
    const mant = m!.includes('.') ? m!.replace(/\.?0+$/, '') : m!;
    const en = Number(e);
    return `${mant}e${en < 0 ? '-' : '+'}${String(Math.abs(en)).padStart(2, '0')}`;
  }
  const s = v.toPrecision(3);
  return s.includes('.') ? s.replace(/\.?0+$/, '') : s;
}

/** QEMU's size_to_str(): "322 KiB", "40.7 MiB". */
export function sizeToStr(val: number): string {
  const suffixes = ['', 'Ki', 'Mi', 'Gi', 'Ti', 'Pi', 'Ei'];
  // frexp(val / (1000/1024)) exponent, minus one, in units of 10 bits
  const x = val / (1000 / 1024);
  const e = x === 0 ? 0 : Math.floor(Math.log2(x)) + 1;
  const i = Math.max(0, Math.floor((e - 1) / 10));
  return `${fmt3g(val / 2 ** (i * 10))} ${suffixes[i]}B`;
}

function cFormat(s: string, width: number, left: boolean): string {
  return left ? s.padEnd(width) : s.padStart(width);
}

/** bdrv_snapshot_dump(): one row (or the header with `null`). */
export function snapshotDumpLine(sn: SnapshotInfo | null, allDisks = true): string {
  if (!sn) {
    return (
      cFormat('ID', 10, true) +
      cFormat('TAG', 17, true) +
      cFormat('VM SIZE', 8, false) +
      cFormat('DATE', 20, false) +
      cFormat('VM CLOCK', 13, false) +
      cFormat('ICOUNT', 11, false)
    );
  }
  const secs = Math.floor(sn.vmClockNsec / 1e9);
  const clock = `${pad2(Math.floor(secs / 3600))}:${pad2(Math.floor(secs / 60) % 60)}:${pad2(secs % 60)}.${String(Math.floor(sn.vmClockNsec / 1e6) % 1000).padStart(3, '0')}`;
  const icount = sn.icount === -1 ? '' : String(sn.icount);
  return (
    `${cFormat(allDisks ? '--' : sn.id, 9, true)} ${cFormat(sn.name, 16, true)} ` +
    cFormat(sizeToStr(sn.vmStateSize), 8, false) +
    cFormat(formatDate(sn.dateSec), 20, false) +
    cFormat(clock, 13, false) +
    cFormat(icount, 11, false)
  );
}

// -------------------------------------------------------------------------------------------------
// Which storage an operation uses

/**
 * The snapshot store (our extension for VMs without disks) serves an operation when the engine runs
 * with `-snapshot-store` and: for the QMP jobs, `devices` is empty (QEMU refuses that with "At least
 * one device is required for snapshot"); for HMP, no disk can keep the VM state and no writable disk
 * refuses snapshots (QEMU's "no block device can store vmstate for snapshot"). Everything else is
 * QEMU's behaviour over the qcow2 images.
 */
function usesStore(devices: readonly string[] | null): boolean {
  if (snapshotStoreDir() === null) return false;
  if (devices !== null) return devices.length === 0;
  const devs = bdrvAllGetSnapshotDevices(null);
  try {
    bdrvAllCanSnapshot(devs);
  } catch {
    return false;
  }
  return !bdrvAllParticipants(devs).some(bdrvCanSnapshot);
}

/** Snapshot operations run one at a time (QEMU runs them in the main loop, never interleaved). */
let queue: Promise<unknown> = Promise.resolve();
function serialized<T>(fn: () => Promise<T>): Promise<T> {
  const run = queue.then(fn, fn);
  queue = run.catch(() => undefined);
  return run;
}

/**
 * An operation on the snapshot store or on the disks `target.devices` selects (every disk for HMP),
 * one at a time. `check` runs first (savevm's migration blockers); the disks must all allow snapshots.
 */
function storeOrDisks(
  target: SnapshotTarget,
  op: {
    check?: () => void;
    store: () => Promise<unknown>;
    disks: (devs: ReturnType<typeof bdrvAllGetSnapshotDevices>) => Promise<void>;
  },
): Promise<void> {
  return serialized(async () => {
    const devices = target.devices ?? null;
    op.check?.();
    if (usesStore(devices)) {
      await op.store();
      return;
    }
    const devs = bdrvAllGetSnapshotDevices(devices);
    bdrvAllCanSnapshot(devs);
    await op.disks(devs);
  });
}

/**
 * `fn` with the VM stopped for `reason`; it resumes afterwards, also when `fn` fails, if it was
 * running. A save records the run state first (global_state_store), as the stream carries it.
 * A synchronous `fn` resumes the VM before returning; a promise, once it settles.
 */
function whileStopped<T>(reason: 'save-vm' | 'restore-vm', fn: () => T): T {
  const wasRunning = runstateIsRunning();
  if (reason === 'save-vm') globalStateStore();
  vmStop(reason);
  const resume = (): void => {
    if (wasRunning) vmStart();
  };
  let r: T;
  try {
    r = fn();
  } catch (e) {
    resume();
    throw e;
  }
  if (r instanceof Promise) return r.finally(resume) as T;
  resume();
  return r;
}

// -------------------------------------------------------------------------------------------------
// info snapshots

function listing(title: string, rows: readonly SnapshotInfo[], allDisks: boolean): string {
  let out = `${title}\n${snapshotDumpLine(null)}\n`;
  for (const sn of rows) out += `${snapshotDumpLine(sn, allDisks)}\n`;
  return out;
}

/** `info snapshots` text (hmp_info_snapshots). */
export async function infoSnapshots(): Promise<string> {
  if (usesStore(null)) {
    const list = await listSnapshots();
    if (list.length === 0) return 'There is no snapshot available.\n';
    return listing('List of snapshots present on all disks:', list, true);
  }
  const devs = bdrvAllGetSnapshotDevices(null);
  let vmBs;
  try {
    vmBs = bdrvAllFindVmstateBs(null, devs);
  } catch (e) {
    if (e instanceof QapiError) return `${e.message}\n`;
    throw e;
  }
  const table = bdrvSnapshotList(vmBs);
  const images: Array<{ name: string; snaps: SnapshotInfo[] }> = [];
  for (const bs of devs.nodes) {
    if (!bdrvCanSnapshot(bs)) continue;
    const snaps = bdrvSnapshotList(bs);
    if (snaps.length) images.push({ name: bdrvGetDeviceName(bs), snaps: [...snaps] });
  }
  if (images.length === 0) return 'There is no snapshot available.\n';
  const global = table.filter((sn) => bdrvAllHasSnapshot(sn.name, devs));
  for (const img of images) img.snaps = img.snaps.filter((s) => !global.some((g) => g.name === s.name));
  let out = 'List of snapshots present on all disks:\n';
  if (global.length) {
    out += `${snapshotDumpLine(null)}\n`;
    for (const sn of global) out += `${snapshotDumpLine(sn, true)}\n`;
  } else {
    out += 'None\n';
  }
  for (const img of images) {
    if (img.snaps.length === 0) continue;
    out += '\n' + listing(`List of partial (non-loadable) snapshots on '${img.name}':`, img.snaps, false);
  }
  return out;
}

// -------------------------------------------------------------------------------------------------
// save_snapshot

export interface SnapshotTarget {
  /** QMP `vmstate`: the node that keeps the machine state (null: the first that can). */
  vmstate?: string | null;
  /** QMP `devices`: node names (null: every disk, as HMP does). */
  devices?: readonly string[] | null;
}

/** What save_snapshot() records for the snapshot: taken while the VM is stopped. */
function captureMachine(): { stream: Uint8Array; clock: number; now: number } {
  const now = Date.now();
  const clock = virtualClock.ns();
  return { stream: qemuSavevmState(), clock, now };
}

/**
 * save_snapshot(): the machine state into the VM state image and a snapshot of every disk, with the
 * VM stopped from before the state is captured until the last disk is done (STOP/RESUME as QEMU).
 * `overwrite` (HMP savevm) replaces snapshots of the same name; the QMP job refuses them. If one
 * image fails, the snapshots made on the others are deleted again: no half snapshot remains.
 */
export function saveSnapshot(
  name: string | null,
  overwrite = true,
  target: SnapshotTarget = {},
): Promise<void> {
  return storeOrDisks(target, {
    check: savevmStateBlocked,
    store: () => saveToStore(name, overwrite),
    disks: async (devs) => {
      if (name !== null) {
        if (overwrite) await bdrvAllDeleteSnapshot(name, devs);
        else if (bdrvAllHasSnapshot(name, devs)) {
          throw new QapiError(`Snapshot '${name}' already exists in one or more devices`);
        }
      }
      const vmBs = bdrvAllFindVmstateBs(target.vmstate ?? null, devs);
      await whileStopped('save-vm', async () => {
        await bdrvDrainAll();
        const { stream, clock, now } = captureMachine();
        const tag = name ?? defaultSnapshotName(new Date(now));
        try {
          await bdrvSaveVmstate(vmBs, stream);
        } catch (e) {
          throw new QapiError(`Error while writing VM state: ${errorText(e)}`);
        }
        await bdrvAllCreateSnapshot(
          {
            name: tag,
            dateSec: Math.floor(now / 1000),
            dateNsec: (now % 1000) * 1e6,
            vmClockNsec: clock,
            icount: -1,
          },
          vmBs,
          stream.length,
          devs,
        );
      });
    },
  });
}

async function saveToStore(name: string | null, overwrite: boolean): Promise<void> {
  if (name !== null && !overwrite && (await readSnapshot(name))) {
    throw new QapiError(`Snapshot '${name}' already exists in one or more devices`);
  }
  const m = whileStopped('save-vm', captureMachine);
  await writeSnapshot(
    {
      name: name ?? defaultSnapshotName(new Date(m.now)),
      dateSec: Math.floor(m.now / 1000),
      dateNsec: (m.now % 1000) * 1e6,
      vmClockNsec: m.clock,
      vmStateSize: m.stream.length,
      icount: -1,
    },
    m.stream,
  );
}

function errorText(e: unknown): string {
  if (e instanceof Error && (e.name === 'BlockIoError' || e instanceof QapiError)) return e.message;
  const code = (e as NodeJS.ErrnoException | null)?.code;
  return code ? blockStrerror(code) : e instanceof Error ? e.message : String(e);
}

// -------------------------------------------------------------------------------------------------
// load_snapshot

/** A refused snapshot: QEMU's error_report lines and its final error. */
export class SnapshotLoadError extends QapiError {
  constructor(
    message: string,
    readonly reports: string[],
  ) {
    super(message);
  }
}

const resetForLoad = (): void => qemuSystemReset('snapshot-load');

function loadStream(stream: Uint8Array): LoadTransaction {
  try {
    return qemuLoadvmStateBegin(stream, { resetFirst: resetForLoad });
  } catch (e) {
    if (isMigrationError(e))
      throw new SnapshotLoadError(`Error -${e.errno} while loading VM state`, e.reports);
    throw e;
  }
}

/**
 * load_snapshot(): every check QEMU makes comes first (the snapshot exists on every disk, the VM
 * state image has a state for it), then the machine state is read from the snapshot and loaded,
 * and only then are the disks reverted. A refused state or a disk that cannot be reverted leaves the
 * machine as it was; the VM resumes if it was running (QEMU leaves it paused).
 */
export function loadSnapshot(tag: string, target: SnapshotTarget = {}): Promise<void> {
  return storeOrDisks(target, {
    store: () => loadFromStore(tag),
    disks: async (devs) => {
      if (!bdrvAllHasSnapshot(tag, devs)) {
        throw new QapiError(`Snapshot '${tag}' does not exist in one or more devices`);
      }
      const vmBs = bdrvAllFindVmstateBs(target.vmstate ?? null, devs);
      const sn = bdrvSnapshotFind(vmBs, tag);
      if (!sn) throw new QapiError('Snapshot can not be found');
      if (sn.vmStateSize === 0) {
        throw new QapiError('This is a disk-only snapshot. Revert to it  offline using qemu-img');
      }
      await whileStopped('restore-vm', async () => {
        await bdrvDrainAll();
        let stream: Uint8Array;
        try {
          stream = await bdrvReadSnapshotVmstate(vmBs, sn);
        } catch (e) {
          throw new SnapshotLoadError(`Error -${EIO} while loading VM state`, [
            `Could not read VM state: ${errorText(e)}`,
          ]);
        }
        const tx = loadStream(stream);
        try {
          await bdrvAllGotoSnapshot(tag, devs);
        } catch (e) {
          tx.rollback();
          throw e;
        }
        tx.commit();
      });
    },
  });
}

async function loadFromStore(tag: string): Promise<void> {
  const snap = await readSnapshot(tag);
  if (!snap) throw new QapiError(`Snapshot '${tag}' does not exist in one or more devices`);
  whileStopped('restore-vm', () => loadStream(snap.stream).commit());
}

// -------------------------------------------------------------------------------------------------
// delete_snapshot

/** delete_snapshot(): from every disk that has it; a name nobody has is not an error. */
export function deleteSnapshotByTag(tag: string, target: SnapshotTarget = {}): Promise<void> {
  return storeOrDisks(target, {
    store: () => deleteSnapshot(tag),
    disks: (devs) => bdrvAllDeleteSnapshot(tag, devs),
  });
}

// -------------------------------------------------------------------------------------------------
// HMP

/** An HMP "s" argument: one token, optionally quoted; the rest must be empty. */
function oneString(cmd: string, args: string, required: boolean): string | null {
  const a = args.trim();
  if (a === '') {
    if (required) throw new HmpUsage(`${cmd}: string expected\nTry "help ${cmd}" for more information\n`);
    return null;
  }
  let tok: string;
  let rest: string;
  const m = /^"((?:[^"\\]|\\.)*)"(.*)$/s.exec(a);
  if (m) {
    tok = m[1]!.replace(/\\(.)/g, '$1');
    rest = m[2]!;
  } else {
    const i = a.search(/\s/);
    tok = i < 0 ? a : a.slice(0, i);
    rest = i < 0 ? '' : a.slice(i);
  }
  if (rest.trim() !== '') {
    throw new HmpUsage(
      `${cmd}: extraneous characters at the end of line\nTry "help ${cmd}" for more information\n`,
    );
  }
  return tok;
}

class HmpUsage extends Error {}

async function hmp(fn: () => Promise<string>): Promise<string> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof HmpUsage) return e.message;
    if (e instanceof SnapshotLoadError) return [...e.reports, `Error: ${e.message}`].join('\n') + '\n';
    if (e instanceof QapiError) return `Error: ${e.message}\n`;
    throw e;
  }
}

registerHmpCommand({
  name: 'savevm',
  params: '[tag]',
  help: 'save a VM snapshot. If no tag is provided, a new snapshot is created',
  takesArgs: true,
  handler: (args) =>
    hmp(async () => {
      await saveSnapshot(oneString('savevm', args, false), true);
      return '';
    }),
});

registerHmpCommand({
  name: 'loadvm',
  params: 'tag',
  help: 'restore a VM snapshot from its tag',
  takesArgs: true,
  handler: (args) =>
    hmp(async () => {
      await loadSnapshot(oneString('loadvm', args, true)!);
      return '';
    }),
});

registerHmpCommand({
  name: 'delvm',
  params: 'tag',
  help: 'delete a VM snapshot from its tag',
  takesArgs: true,
  handler: (args) =>
    hmp(async () => {
      await deleteSnapshotByTag(oneString('delvm', args, true)!);
      return '';
    }),
});

registerHmpInfo('snapshots', 'show the currently saved VM snapshots', () => infoSnapshots());

// -------------------------------------------------------------------------------------------------
// QMP jobs (snapshot_*_job_bh): QEMU 7.2 semantics, `devices` and `vmstate` name block nodes.

/**
 * The job body runs from a bottom half after the command has answered (QEMU schedules it with
 * aio_bh_schedule_oneshot): one timer tick later than the monitor's reply, so even a job that
 * fails at once announces "aborting" after the {"return": {}}.
 */
function afterReply<T>(fn: () => Promise<T>): () => Promise<T> {
  return () => new Promise<void>((r) => setTimeout(r, 0)).then(fn);
}

/** The arguments of snapshot-save and snapshot-load (snapshot-delete has no vmstate). */
interface SnapshotJobArgs {
  'job-id': string;
  tag: string;
  vmstate: string;
  devices: string[];
}

export function qmpSnapshotSave(args: SnapshotJobArgs): void {
  void jobStart(
    args['job-id'],
    'snapshot-save',
    afterReply(() => saveSnapshot(args.tag, false, { vmstate: args.vmstate, devices: args.devices })),
  );
}

export function qmpSnapshotLoad(args: SnapshotJobArgs): void {
  void jobStart(
    args['job-id'],
    'snapshot-load',
    afterReply(() => loadSnapshot(args.tag, { vmstate: args.vmstate, devices: args.devices })),
  );
}

export function qmpSnapshotDelete(args: Omit<SnapshotJobArgs, 'vmstate'>): void {
  void jobStart(
    args['job-id'],
    'snapshot-delete',
    afterReply(() => deleteSnapshotByTag(args.tag, { devices: args.devices })),
  );
}
