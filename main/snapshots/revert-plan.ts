/**
 * What a revert will change, worked out before it runs, from what was recorded with the snapshot
 * (the configuration the engine ran with and the list of its devices) against now:
 *
 * - configuration: the saved boot-time fields go back to the recorded ones (the machine state that
 *   comes back belongs to that configuration), listed field by field;
 * - devices: a device plugged in since stays, reset to its power-on state (loadvm resets the machine
 *   before loading); a device the snapshot has state for but the machine lacks makes the engine
 *   refuse the load, as does a machine started with other CPUs or memory: those are `problems`.
 */
import type {
  ConfigChange,
  DeviceChange,
  DeviceRecord,
  Snapshot,
  Vm,
  VmConfig,
  VmPatch,
} from '../api/contract.js';
import type { SnapshotRecord } from '../library/library.js';

/** Saved fields a revert restores (name and notes are the user's, not the machine's). */
export const REVERTED_FIELDS = [
  'guest',
  'machine',
  'cpus',
  'memoryMiB',
  'firmware',
  'kernel',
  'initrd',
  'append',
  'devices',
  'chardevs',
] as const satisfies readonly (keyof VmConfig)[];

export interface RevertPlanInput {
  snapshot: Snapshot;
  record: SnapshotRecord | null;
  /** The VM's saved configuration now. */
  current: Vm;
  /** The configuration the running engine was started with (null when it is not running). */
  running: Vm | null;
  /** Devices of the live machine now (null: not running, nothing to compare). */
  liveDevices: readonly DeviceRecord[] | null;
  /** Names already used by the VM's snapshots. */
  existingNames: readonly string[];
  /**
   * Internal snapshot names in each qcow2 disk image (by file; absent or null: not read). A disk
   * attached after the snapshot has no copy of it, and the engine refuses a load that misses a disk.
   */
  diskSnapshots?: ReadonlyMap<string, readonly string[] | null>;
}

export interface RevertPlanResult {
  config: ConfigChange[];
  devices: DeviceChange[];
  problems: string[];
  notes: string[];
  autoSnapshotName: string;
  /** The library patch that restores the recorded configuration (null: nothing to restore). */
  patch: VmPatch | null;
}

function show(field: keyof VmConfig, v: unknown): string {
  if (v === null || v === undefined || v === '') return '(none)';
  if (Array.isArray(v)) return v.length ? v.join('; ') : '(none)';
  if (field === 'memoryMiB') return `${String(v)} MiB`;
  return String(v);
}

const same = (a: unknown, b: unknown): boolean => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);

const label = (d: { id: string | null; type: string; path: string }): string =>
  d.id ? `'${d.id}' (${d.type})` : `${d.type} at ${d.path}`;

/** "Before revert to X", made unique among the VM's snapshot names. */
export function autoSnapshotName(target: string, existing: readonly string[]): string {
  const base = `Before revert to ${target}`;
  const taken = new Set(existing);
  if (!taken.has(base)) return base;
  for (let i = 2; ; i++) if (!taken.has(`${base} (${i})`)) return `${base} (${i})`;
}

export function planRevert(input: RevertPlanInput): RevertPlanResult {
  const { snapshot, record, current, running, liveDevices } = input;
  const name = `'${snapshot.name}'`;
  const out: RevertPlanResult = {
    config: [],
    devices: [],
    problems: [],
    notes: [],
    autoSnapshotName: autoSnapshotName(snapshot.name, input.existingNames),
    patch: null,
  };

  if (!record) {
    out.notes.push(
      `${name} was not taken by VM Studio: its configuration and devices were not recorded, so only the machine state is restored.`,
    );
  } else {
    const patch: Record<string, unknown> = {};
    for (const f of REVERTED_FIELDS) {
      if (same(record.config[f], current[f])) continue;
      out.config.push({ field: f, now: show(f, current[f]), snapshot: show(f, record.config[f]) });
      patch[f] = record.config[f];
    }
    if (out.config.length) out.patch = patch as VmPatch;

    if (running) {
      const refuse = (what: string, then: string, nowV: string): void => {
        out.problems.push(
          `The machine runs with ${nowV}; ${name} was taken with ${then}: the engine cannot load it into this machine (${what}). Restart the VM with the snapshot's configuration to revert.`,
        );
      };
      if (record.config.machine !== running.machine)
        refuse('machine type', `machine '${record.config.machine}'`, `machine '${running.machine}'`);
      if (record.config.cpus !== running.cpus)
        refuse(
          'CPUs',
          `${record.config.cpus} CPU${record.config.cpus === 1 ? '' : 's'}`,
          `${running.cpus} CPU${running.cpus === 1 ? '' : 's'}`,
        );
      if (record.config.memoryMiB !== running.memoryMiB)
        refuse('memory size', `${record.config.memoryMiB} MiB`, `${running.memoryMiB} MiB`);
    }

    const live = new Map((liveDevices ?? []).map((d) => [d.path, d]));
    const then = new Map(record.devices.map((d) => [d.path, d]));
    for (const d of liveDevices ? record.devices : []) {
      const n = live.get(d.path);
      if (!n) {
        out.devices.push({
          id: d.id,
          type: d.type,
          change: 'removed',
          message: `${label(d)} was in the machine when ${name} was taken and is not there now`,
        });
        out.problems.push(
          `${name} holds the state of ${label(d)}, which is not in the machine now: the engine will refuse the revert. Add it back (same id and type) first.`,
        );
      } else if (n.type !== d.type) {
        out.devices.push({
          id: d.id,
          type: n.type,
          change: 'replaced',
          message: `${d.id ? `'${d.id}'` : d.path} was a ${d.type} when ${name} was taken and is a ${n.type} now`,
        });
        out.problems.push(
          `${d.id ? `'${d.id}'` : d.path} is a ${n.type} now but ${name} holds the state of a ${d.type}: the engine will refuse the revert.`,
        );
      }
    }
    for (const d of liveDevices ?? []) {
      if (then.has(d.path)) continue;
      out.devices.push({
        id: d.id,
        type: d.type,
        change: 'added',
        message: `${label(d)} was plugged in after ${name}: it stays, reset to its power-on state`,
      });
    }
  }
  // qcow2 disks hold internal snapshots taken together with the memory; raw images cannot.
  const raw = current.disks.filter((d) => d.format !== 'qcow2');
  const qcow2 = current.disks.length - raw.length;
  if (raw.length) {
    const names = raw.map((d) => `'${d.file.slice(d.file.lastIndexOf('/') + 1)}'`).join(', ');
    out.notes.push(
      `${names} ${raw.length === 1 ? 'is a raw image' : 'are raw images'}: disk contents there are not part of the snapshot, ${raw.length === 1 ? 'it keeps its' : 'they keep their'} current contents.`,
    );
  }
  current.disks.forEach((d, i) => {
    const names = d.format === 'qcow2' && !d.readonly ? input.diskSnapshots?.get(d.file) : null;
    if (names && !names.includes(snapshot.tag)) {
      out.problems.push(
        `Disk ${i} ('${d.file.slice(d.file.lastIndexOf('/') + 1)}') has no copy of ${name}: it was attached after the snapshot was taken, and the engine refuses a revert that misses a disk. Stop the VM and remove that disk (Configuration, Disks) to revert.`,
      );
    }
  });
  if (qcow2) {
    out.notes.push(
      `${qcow2 === 1 ? 'The qcow2 disk goes' : `The ${qcow2} qcow2 disks go`} back to ${name} too.`,
    );
  }
  return out;
}
