/**
 * Whole-machine snapshots (QEMU's save_snapshot / load_snapshot / delete_snapshot in savevm.c and
 * their HMP and QMP front ends): `savevm [tag]`, `loadvm tag`, `delvm tag`, `info snapshots`, and the
 * snapshot-save / snapshot-load / snapshot-delete jobs. The machine state goes into the snapshot
 * store (snapshot-store.ts) as one migration stream.
 *
 * savevm stops a running VM for the time it takes to serialize it (STOP/RESUME as QEMU), then writes
 * the file. loadvm resets the machine and loads the stream; a refused stream is reported with QEMU's
 * texts and, unlike QEMU (which leaves the VM paused in restore-vm), the machine is left exactly as it
 * was and resumes if it was running.
 */
import { QapiError } from '../qapi/error.js';
import { registerHmpCommand, registerHmpInfo } from '../monitor/hmp.js';
import { qemuSystemReset, runstateIsRunning, vmStart, vmStop } from '../system/runstate.js';
import { isMigrationError } from './migration-error.js';
import { qemuLoadvmState, qemuSavevmState } from './savevm.js';
import { globalStateStore } from './global-state.js';
import { vmClockNs } from './vm-clock.js';
import {
  deleteSnapshot,
  listSnapshots,
  readSnapshot,
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

/** `info snapshots` text. */
export async function infoSnapshots(): Promise<string> {
  const list = await listSnapshots();
  if (list.length === 0) return 'There is no snapshot available.\n';
  let out = 'List of snapshots present on all disks:\n';
  out += `${snapshotDumpLine(null)}\n`;
  for (const sn of list) out += `${snapshotDumpLine(sn)}\n`;
  return out;
}

/** save_snapshot(): stop, serialize, resume, then store the file. */
export async function saveSnapshot(name: string | null): Promise<SnapshotInfo> {
  const tag = name ?? defaultSnapshotName();
  const wasRunning = runstateIsRunning();
  globalStateStore();
  vmStop('save-vm');
  let stream: Uint8Array;
  let clock: number;
  const now = Date.now();
  try {
    clock = vmClockNs();
    stream = qemuSavevmState();
  } finally {
    if (wasRunning) vmStart();
  }
  return writeSnapshot(
    {
      name: tag,
      dateSec: Math.floor(now / 1000),
      dateNsec: (now % 1000) * 1e6,
      vmClockNsec: clock,
      vmStateSize: stream.length,
      icount: -1,
    },
    stream,
  );
}

/** A refused snapshot: QEMU's error_report lines and its final error. */
export class SnapshotLoadError extends QapiError {
  constructor(
    message: string,
    readonly reports: string[],
  ) {
    super(message);
  }
}

/** load_snapshot(): reset and load; the machine is unchanged (and resumed) if the stream is refused. */
export async function loadSnapshot(tag: string): Promise<void> {
  const snap = await readSnapshot(tag);
  if (!snap) throw new QapiError(`Snapshot '${tag}' does not exist in one or more devices`);
  const wasRunning = runstateIsRunning();
  vmStop('restore-vm');
  try {
    qemuLoadvmState(snap.stream, { resetFirst: () => qemuSystemReset('snapshot-load') });
  } catch (e) {
    if (isMigrationError(e)) {
      throw new SnapshotLoadError(`Error -${e.errno} while loading VM state`, e.reports);
    }
    throw e;
  } finally {
    if (wasRunning) vmStart();
  }
}

export async function deleteSnapshotByTag(tag: string): Promise<void> {
  await deleteSnapshot(tag);
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
    throw new HmpUsage(`${cmd}: extraneous characters at the end of line\nTry "help ${cmd}" for more information\n`);
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
      await saveSnapshot(oneString('savevm', args, false));
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
// QMP jobs (the vmstate/devices node names name block nodes; until the block layer exists every
// snapshot goes to the snapshot store, so they are accepted as given).

export function qmpSnapshotSave(args: { 'job-id': string; tag: string; vmstate: string; devices: string[] }): void {
  void jobStart(args['job-id'], 'snapshot-save', async () => {
    await saveSnapshot(args.tag);
  });
}

export function qmpSnapshotLoad(args: { 'job-id': string; tag: string; vmstate: string; devices: string[] }): void {
  void jobStart(args['job-id'], 'snapshot-load', () => loadSnapshot(args.tag));
}

export function qmpSnapshotDelete(args: { 'job-id': string; tag: string; devices: string[] }): void {
  void jobStart(args['job-id'], 'snapshot-delete', () => deleteSnapshotByTag(args.tag));
}
