/**
 * Snapshots of one VM Studio: take, revert, delete and rename against the engine (snapshot-save /
 * snapshot-load / snapshot-delete jobs, HMP `info snapshots`) and the library.
 *
 * Consistency rules: a library row is written only after the engine confirmed the operation; one
 * snapshot operation per VM at a time; the tags an operation works on are never touched by
 * reconciliation; a revert first keeps the current state as an automatic snapshot (unless asked not
 * to) and does not revert at all if that fails. The engine's tag is fixed at creation; the display
 * name lives in the library, so renaming never involves the engine.
 */
import { diskNodeName } from '../supervisor/cmdline.js';
import { randomBytes } from 'node:crypto';
import type {
  Availability,
  DeviceRecord,
  RevertPlan,
  RevertResult,
  Snapshot,
  SnapshotKind,
  SnapshotOperation,
  SnapshotOverview,
  SnapshotProgress,
  Vm,
  VmState,
} from '../api/contract.js';
import { ValidationError } from '../api/validate.js';
import type { QmpClientApi } from '../generated/qmp-client.js';
import type { Library, SnapshotRecord } from '../library/library.js';
import { QmpError, type QmpEvent } from '../qmp/client.js';
import { isEmptyInfoSnapshots, parseInfoSnapshots } from './info-snapshots.js';
import { jobFraction, JobTracker } from './jobs.js';
import { planReconcile, type EngineSnapshotFact } from './reconcile.js';
import { qcow2SnapshotNames } from '../library/disk-images.js';
import { planRevert } from './revert-plan.js';
import {
  deleteStoredSnapshot,
  readSnapshotStore,
  snapshotStoreDir,
  storedSnapshotBytes,
} from './store-files.js';

export interface SnapshotDeps {
  library: Library;
  state(vmId: string): VmState;
  /** Typed QMP of a running VM (throws naming the VM and its state otherwise). */
  qmp(vmId: string, command: string): QmpClientApi;
  /** Untyped QMP, for commands the generated client may not have yet (query-block). */
  execute(vmId: string, command: string, args?: Record<string, unknown>): Promise<unknown>;
  /** The configuration the running engine was started from. */
  startedConfig(vmId: string): Vm | null;
  vmFolder(vmId: string): string;
  progress(p: SnapshotProgress): void;
  changed(vmId: string): void;
  /** The VM's saved configuration changed (a revert restored the recorded one). */
  vmChanged(vmId: string): void;
}

const LIVE: ReadonlySet<VmState> = new Set(['running', 'paused']);
const STOPPED: ReadonlySet<VmState> = new Set(['stopped', 'crashed']);
const MAX_NAME = 80;

const ok: Availability = { available: true, reason: null };
const no = (reason: string): Availability => ({ available: false, reason });

/** A new engine tag: short, unique, and safe as a file name (no escaping needed). */
export function newSnapshotTag(now = Date.now()): string {
  return `vs-${now.toString(36)}-${randomBytes(3).toString('hex')}`;
}

export function checkSnapshotName(raw: unknown): string {
  if (typeof raw !== 'string') throw new ValidationError("Parameter 'name' expects a string");
  const name = raw.trim();
  if (!name) throw new ValidationError('The snapshot needs a name');
  if (name.length > MAX_NAME)
    throw new ValidationError(`The snapshot name is longer than ${MAX_NAME} characters`);
  if ([...name].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f))
    throw new ValidationError('The snapshot name contains control characters');
  return name;
}

interface Operation {
  progress: SnapshotProgress;
}

export class SnapshotManager {
  readonly jobs = new JobTracker();
  private readonly ops = new Map<string, Operation>();
  private readonly busyTags = new Map<string, Set<string>>();
  private readonly commandCache = new Map<string, Set<string>>();
  /** Counts operations begun, so a reconciliation that raced one can tell and stand down. */
  private opSeq = 0;

  constructor(private readonly deps: SnapshotDeps) {}

  // ---- engine events ----

  onQmpEvent(vmId: string, ev: QmpEvent): void {
    this.jobs.onQmpEvent(vmId, ev);
  }

  onExit(vmId: string): void {
    this.commandCache.delete(vmId);
    this.jobs.onExit(vmId, `The VM '${this.vmName(vmId)}' stopped before the snapshot operation finished`);
  }

  // ---- helpers ----

  private vmName(vmId: string): string {
    return this.deps.library.findVm(vmId)?.name ?? vmId;
  }

  private store(vmId: string): string {
    return snapshotStoreDir(this.deps.vmFolder(vmId));
  }

  private tags(vmId: string): Set<string> {
    let s = this.busyTags.get(vmId);
    if (!s) this.busyTags.set(vmId, (s = new Set()));
    return s;
  }

  private snapshotOf(vmId: string, snapshotId: unknown): Snapshot {
    if (typeof snapshotId !== 'string') throw new ValidationError("Parameter 'snapshot' expects a string");
    const s = this.deps.library.findSnapshot(snapshotId);
    if (!s || s.vmId !== vmId)
      throw new ValidationError(`'${this.vmName(vmId)}' has no snapshot '${snapshotId}'`);
    return s;
  }

  private async commands(vmId: string): Promise<Set<string>> {
    let c = this.commandCache.get(vmId);
    if (!c) {
      c = new Set((await this.deps.qmp(vmId, 'query-commands').queryCommands()).map((x) => x.name));
      this.commandCache.set(vmId, c);
    }
    return c;
  }

  /** Why a snapshot operation cannot run now (null: it can). */
  private blocked(vmId: string, what: string, needsEngine: boolean): string | null {
    const op = this.ops.get(vmId);
    if (op) return `'${this.vmName(vmId)}' is busy: ${op.progress.message}`;
    const state = this.deps.state(vmId);
    if (needsEngine && !LIVE.has(state)) {
      return state === 'stopped' || state === 'crashed'
        ? `'${this.vmName(vmId)}' is ${state}: start it to ${what}`
        : `'${this.vmName(vmId)}' is ${state}: wait until it runs to ${what}`;
    }
    if (!needsEngine && !LIVE.has(state) && !STOPPED.has(state)) {
      return `'${this.vmName(vmId)}' is ${state}: wait for it to ${what}`;
    }
    return null;
  }

  private async begin<T>(
    vmId: string,
    operation: SnapshotOperation,
    name: string,
    steps: number,
    fn: (op: Operation) => Promise<T>,
  ): Promise<T> {
    const op: Operation = {
      progress: { vmId, operation, name, step: 1, steps, status: 'created', fraction: 0, message: '' },
    };
    this.ops.set(vmId, op);
    this.opSeq++;
    try {
      return await fn(op);
    } finally {
      this.ops.delete(vmId);
    }
  }

  private report(op: Operation, p: Partial<SnapshotProgress>): void {
    op.progress = { ...op.progress, ...p };
    this.deps.progress({ ...op.progress });
  }

  /** Devices of the live machine (its /machine/peripheral and /machine/peripheral-anon children). */
  async liveDevices(vmId: string): Promise<DeviceRecord[]> {
    const qmp = this.deps.qmp(vmId, 'qom-list');
    const out: DeviceRecord[] = [];
    for (const [container, named] of [
      ['/machine/peripheral', true],
      ['/machine/peripheral-anon', false],
    ] as const) {
      let props: { name: string; type: string }[];
      try {
        props = await qmp.qomList({ path: container });
      } catch {
        continue;
      }
      for (const p of props) {
        const m = /^child<(.+)>$/.exec(p.type);
        if (!m) continue;
        out.push({ id: named ? p.name : null, type: m[1]!, path: `${container}/${p.name}` });
      }
    }
    return out;
  }

  private record(vmId: string, devices: DeviceRecord[]): SnapshotRecord {
    const vm = this.deps.startedConfig(vmId) ?? this.deps.library.getVm(vmId);
    const { id: _id, createdAt: _c, updatedAt: _u, ...config } = vm;
    return { config: structuredClone(config), devices };
  }

  // ---- availability ----

  async diskOnlyAvailability(vmId: string): Promise<Availability> {
    const name = this.vmName(vmId);
    const vm = this.deps.library.getVm(vmId);
    if (vm.disks.length === 0) return no(`'${name}' has no disks: a disk-only snapshot needs a qcow2 disk`);
    if (!LIVE.has(this.deps.state(vmId)))
      return no(`'${name}' is ${this.deps.state(vmId)}: start it to take a snapshot`);
    let commands: Set<string>;
    try {
      commands = await this.commands(vmId);
    } catch {
      return no('The engine did not answer query-commands');
    }
    if (!commands.has('query-block')) {
      return no(
        'Disk-only snapshots need qcow2 disks, and this engine has no block layer yet (no query-block)',
      );
    }
    const block = (await this.deps.execute(vmId, 'query-block').catch(() => [])) as {
      device?: string;
      inserted?: { drv?: string };
    }[];
    const qcow2 = block.filter((b) => b.inserted?.drv === 'qcow2');
    if (qcow2.length === 0) {
      const formats = [...new Set(vm.disks.map((d) => d.format))].join(', ');
      return no(
        `Disk-only snapshots need qcow2 disks; the engine reports none for '${name}' (its disks are ${formats})`,
      );
    }
    if (!commands.has('blockdev-snapshot-internal-sync')) {
      return no('This engine cannot snapshot qcow2 disks yet (no blockdev-snapshot-internal-sync)');
    }
    return ok;
  }

  async overview(vmId: string): Promise<SnapshotOverview> {
    await this.reconcile(vmId).catch(() => undefined);
    const name = this.vmName(vmId);
    const takeBlocked = this.blocked(vmId, 'take a snapshot', true);
    let take = takeBlocked ? no(takeBlocked) : ok;
    if (take.available) {
      const c = await this.commands(vmId).catch(() => null);
      if (c && !c.has('snapshot-save'))
        take = no(`The engine running '${name}' does not offer snapshot-save`);
    }
    const revertBlocked = this.blocked(vmId, 'revert to a snapshot', true);
    return {
      snapshots: this.deps.library.listSnapshots(vmId),
      currentId: this.deps.library.currentSnapshot(vmId),
      take,
      diskOnly: take.available ? await this.diskOnlyAvailability(vmId) : take,
      revert: revertBlocked ? no(revertBlocked) : ok,
      progress: this.ops.get(vmId)?.progress ?? null,
    };
  }

  // ---- reconciliation ----

  /**
   * Bring the library in line with the engine's snapshots: from `info snapshots` while the VM runs,
   * from the snapshot store's files while a disk-less VM is stopped. Skipped while an operation is
   * under way.
   */
  async reconcile(vmId: string): Promise<void> {
    if (this.ops.has(vmId)) return;
    const seq = this.opSeq;
    const state = this.deps.state(vmId);
    const dir = this.store(vmId);
    let facts: EngineSnapshotFact[];
    if (LIVE.has(state)) {
      const text = await this.deps
        .qmp(vmId, 'human-monitor-command')
        .humanMonitorCommand({ 'command-line': 'info snapshots' });
      const rows = parseInfoSnapshots(text);
      if (rows.length === 0 && !isEmptyInfoSnapshots(text)) return; // not an answer we understand
      facts = rows.map((r) => ({
        tag: r.tag,
        createdAt: r.createdAt,
        sizeBytes: storedSnapshotBytes(dir, r.tag) ?? r.vmStateSize,
      }));
    } else if (STOPPED.has(state)) {
      // A VM with disks keeps its snapshots inside the first qcow2 disk, not in the store: the store
      // is not the truth then, and the library waits for the engine's `info snapshots` at next start.
      if (this.deps.library.getVm(vmId).disks.length > 0) return;
      facts = readSnapshotStore(dir).map((s) => ({
        tag: s.tag,
        createdAt: s.createdAt,
        sizeBytes: s.fileBytes,
      }));
    } else {
      return;
    }
    // An operation that began meanwhile may have changed both sides: its own reconcile comes later.
    if (this.ops.has(vmId) || this.opSeq !== seq) return;
    const plan = planReconcile(this.deps.library.listSnapshots(vmId), facts, this.tags(vmId));
    if (!plan.remove.length && !plan.adopt.length && !plan.sizes.length) return;
    this.deps.library.applySnapshotReconcile(vmId, plan);
    if (plan.remove.length || plan.adopt.length) this.deps.changed(vmId);
  }

  // ---- operations ----

  async take(vmId: string, rawName: unknown, kind: SnapshotKind = 'vmstate'): Promise<Snapshot> {
    const name = checkSnapshotName(rawName);
    if (kind !== 'vmstate' && kind !== 'disk-only')
      throw new ValidationError(`Unknown snapshot kind '${String(kind)}'`);
    const blocked = this.blocked(vmId, 'take a snapshot', true);
    if (blocked) throw new ValidationError(blocked);
    if (kind === 'disk-only') {
      const a = await this.diskOnlyAvailability(vmId);
      throw new ValidationError(a.reason ?? 'Disk-only snapshots are not available yet');
    }
    if (this.deps.library.findSnapshotByName(vmId, name))
      throw new ValidationError(`A snapshot named '${name}' already exists`);
    return this.begin(vmId, 'take', name, 1, async (op) => {
      try {
        const snap = await this.save(vmId, op, name, false);
        this.report(op, { status: 'done', fraction: 1, message: `Saved '${name}'` });
        return snap;
      } catch (e) {
        this.report(op, { status: 'failed', fraction: 1, message: `Could not save '${name}'` });
        throw e;
      }
    });
  }

  /** snapshot-save, then the library row (the new snapshot becomes "now"'s parent). */
  private async save(vmId: string, op: Operation, name: string, auto: boolean): Promise<Snapshot> {
    const tag = newSnapshotTag();
    const busy = this.tags(vmId);
    busy.add(tag);
    try {
      const record = this.record(vmId, await this.liveDevices(vmId));
      const jobId = this.jobs.newJobId('save');
      const vm = this.deps.library.getVm(vmId);
      const message = auto ? `Keeping the current state as '${name}'…` : `Saving '${name}'…`;
      this.report(op, { status: 'created', fraction: (op.progress.step - 1) / op.progress.steps, message });
      await this.jobs.run(
        vmId,
        jobId,
        'snapshot-save',
        () => this.deps.qmp(vmId, 'snapshot-save'),
        () =>
          this.deps.qmp(vmId, 'snapshot-save').snapshotSave({
            'job-id': jobId,
            tag,
            // Node names of the disks (qcow2 internal snapshots); a VM without disks uses the
            // engine's snapshot store.
            vmstate: vm.disks.length ? diskNodeName(0) : 'snapshot-store',
            devices: vm.disks.map((_, i) => diskNodeName(i)),
          }),
        (status) =>
          this.report(op, {
            status,
            fraction: (op.progress.step - 1 + jobFraction(status)) / op.progress.steps,
            message,
          }),
      );
      const dir = this.store(vmId);
      const size = storedSnapshotBytes(dir, tag) ?? 0;
      const snap = this.deps.library.addSnapshot({
        vmId,
        name,
        parentId: this.deps.library.currentSnapshot(vmId),
        sizeBytes: size,
        kind: 'vmstate',
        tag,
        auto,
        record,
        makeCurrent: true,
      });
      this.deps.changed(vmId);
      return snap;
    } finally {
      busy.delete(tag);
    }
  }

  async planRevert(vmId: string, snapshotId: unknown): Promise<RevertPlan> {
    const snapshot = this.snapshotOf(vmId, snapshotId);
    const blocked = this.blocked(vmId, 'revert to a snapshot', true);
    return this.plan(vmId, snapshot, blocked);
  }

  private async plan(
    vmId: string,
    snapshot: Snapshot,
    blocked: string | null,
  ): Promise<RevertPlan & { patch: ReturnType<typeof planRevert>['patch'] }> {
    const live = LIVE.has(this.deps.state(vmId));
    const current = this.deps.library.getVm(vmId);
    const diskSnapshots = new Map<string, string[] | null>();
    for (const d of current.disks) {
      if (d.format === 'qcow2') diskSnapshots.set(d.file, await qcow2SnapshotNames(d.file).catch(() => null));
    }
    const result = planRevert({
      snapshot,
      record: this.deps.library.snapshotRecord(snapshot.id),
      current,
      diskSnapshots,
      running: this.deps.startedConfig(vmId),
      liveDevices: live ? await this.liveDevices(vmId) : null,
      existingNames: this.deps.library.listSnapshots(vmId).map((s) => s.name),
    });
    return { snapshot, ...result, revert: blocked ? no(blocked) : ok };
  }

  async revert(vmId: string, snapshotId: unknown, autoSnapshot = true): Promise<RevertResult> {
    const snapshot = this.snapshotOf(vmId, snapshotId);
    const blocked = this.blocked(vmId, 'revert to a snapshot', true);
    if (blocked) throw new ValidationError(blocked);
    const plan = await this.plan(vmId, snapshot, null);
    const steps = autoSnapshot ? 2 : 1;
    return this.begin(vmId, 'revert', snapshot.name, steps, async (op) => {
      let auto: Snapshot | null = null;
      if (autoSnapshot) {
        try {
          auto = await this.save(vmId, op, plan.autoSnapshotName, true);
        } catch (e) {
          this.report(op, { status: 'failed', fraction: 1, message: `Could not keep the current state` });
          throw new QmpError(
            (e as { errorClass?: string }).errorClass ?? 'GenericError',
            `Could not keep the current state as '${plan.autoSnapshotName}', so nothing was reverted: ${(e as Error).message}`,
            'snapshot-save',
          );
        }
        op.progress.step = 2;
      }
      const message = `Restoring '${snapshot.name}'…`;
      const base = (op.progress.step - 1) / steps;
      this.report(op, { status: 'created', fraction: base, message });
      const jobId = this.jobs.newJobId('load');
      const vm = this.deps.library.getVm(vmId);
      try {
        await this.jobs.run(
          vmId,
          jobId,
          'snapshot-load',
          () => this.deps.qmp(vmId, 'snapshot-load'),
          () =>
            this.deps.qmp(vmId, 'snapshot-load').snapshotLoad({
              'job-id': jobId,
              tag: snapshot.tag,
              vmstate: vm.disks.length ? diskNodeName(0) : 'snapshot-store',
              devices: vm.disks.map((_, i) => diskNodeName(i)),
            }),
          (status) => this.report(op, { status, fraction: base + jobFraction(status) / steps, message }),
        );
      } catch (e) {
        this.report(op, { status: 'failed', fraction: 1, message: `Could not restore '${snapshot.name}'` });
        const cause = plan.problems.length ? ` Likely cause: ${plan.problems[0]}` : '';
        const kept = auto ? ` The state before the attempt is also kept as '${auto.name}'.` : '';
        throw new QmpError(
          (e as { errorClass?: string }).errorClass ?? 'GenericError',
          `Could not revert to '${snapshot.name}': ${(e as Error).message}. The VM was left as it was.${cause}${kept}`,
          'snapshot-load',
        );
      }
      this.deps.library.completeRevert(vmId, snapshot.id, plan.patch);
      this.report(op, { status: 'done', fraction: 1, message: `Reverted to '${snapshot.name}'` });
      this.deps.changed(vmId);
      if (plan.patch) this.deps.vmChanged(vmId);
      return { snapshot: this.deps.library.getSnapshot(snapshot.id), autoSnapshot: auto };
    });
  }

  async delete(vmId: string, snapshotId: unknown): Promise<void> {
    const snapshot = this.snapshotOf(vmId, snapshotId);
    const blocked = this.blocked(vmId, 'delete a snapshot', false);
    if (blocked) throw new ValidationError(blocked);
    await this.begin(vmId, 'delete', snapshot.name, 1, async (op) => {
      const busy = this.tags(vmId);
      busy.add(snapshot.tag);
      try {
        const message = `Deleting '${snapshot.name}'…`;
        if (LIVE.has(this.deps.state(vmId))) {
          const jobId = this.jobs.newJobId('delete');
          await this.jobs.run(
            vmId,
            jobId,
            'snapshot-delete',
            () => this.deps.qmp(vmId, 'snapshot-delete'),
            () =>
              this.deps.qmp(vmId, 'snapshot-delete').snapshotDelete({
                'job-id': jobId,
                tag: snapshot.tag,
                devices: this.deps.library.getVm(vmId).disks.map((_, i) => diskNodeName(i)),
              }),
            (status) => this.report(op, { status, fraction: jobFraction(status), message }),
          );
        } else {
          // No engine: the store holds one file per snapshot, and only this one's is removed.
          this.report(op, { status: 'running', fraction: 0.5, message });
          deleteStoredSnapshot(this.store(vmId), snapshot.tag);
        }
        this.deps.library.deleteSnapshot(snapshot.id);
        this.report(op, { status: 'done', fraction: 1, message: `Deleted '${snapshot.name}'` });
        this.deps.changed(vmId);
      } catch (e) {
        this.report(op, { status: 'failed', fraction: 1, message: `Could not delete '${snapshot.name}'` });
        throw e;
      } finally {
        busy.delete(snapshot.tag);
      }
    });
  }

  rename(vmId: string, snapshotId: unknown, rawName: unknown): Snapshot {
    const snapshot = this.snapshotOf(vmId, snapshotId);
    const name = checkSnapshotName(rawName);
    if (name === snapshot.name) return snapshot;
    const other = this.deps.library.findSnapshotByName(vmId, name);
    if (other && other.id !== snapshot.id)
      throw new ValidationError(`A snapshot named '${name}' already exists`);
    const s = this.deps.library.renameSnapshot(snapshot.id, name);
    this.deps.changed(vmId);
    return s;
  }
}
