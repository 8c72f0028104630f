/**
 * The VM library: VMs, their disks, snapshots and an event log, in one SQLite file.
 * Synchronous (better-sqlite3) and single-owner: the Library holds the database's exclusive lock for
 * its lifetime. Every write that touches more than one row runs in a transaction.
 */
import { randomUUID } from 'node:crypto';
import type Database from 'better-sqlite3';
import type {
  DeviceRecord,
  DiskConfig,
  LogEntry,
  Snapshot,
  SnapshotKind,
  Vm,
  VmConfig,
  VmPatch,
} from '../api/contract.js';
import { openLibraryDatabase, type OpenOptions } from './database.js';
import { LibraryRecordError } from './errors.js';

interface VmRow {
  id: string;
  name: string;
  guest: string | null;
  machine: string;
  cpus: number;
  memory_mib: number;
  firmware: string | null;
  kernel: string | null;
  initrd: string | null;
  append: string | null;
  devices: string;
  chardevs: string;
  notes: string;
  created_at: number;
  updated_at: number;
}

interface DiskRow {
  vm_id: string;
  position: number;
  file: string;
  format: string;
  interface: string;
  readonly: number;
}

interface SnapshotRow {
  id: string;
  vm_id: string;
  name: string;
  parent_id: string | null;
  created_at: number;
  size_bytes: number;
  kind: SnapshotKind;
  tag: string;
  auto: number;
  config: string | null;
  devices: string | null;
}

interface LogRow {
  id: number;
  vm_id: string | null;
  time: number;
  kind: string;
  message: string;
}

/** A JSON list of option strings (devices, chardevs); anything else reads as none. */
function parseOptionList(json: string): string[] {
  try {
    const v: unknown = JSON.parse(json);
    return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
  } catch {
    return [];
  }
}

function toSnapshot(r: SnapshotRow): Snapshot {
  return {
    id: r.id,
    vmId: r.vm_id,
    name: r.name,
    parentId: r.parent_id,
    createdAt: r.created_at,
    sizeBytes: r.size_bytes,
    kind: r.kind,
    tag: r.tag,
    auto: r.auto !== 0,
    recorded: r.config !== null,
  };
}

function parseRecord(r: SnapshotRow): SnapshotRecord | null {
  if (r.config === null) return null;
  try {
    const config = JSON.parse(r.config) as SnapshotRecord['config'];
    config.chardevs ??= []; // recorded before VMs had host channels
    const devices = r.devices === null ? [] : (JSON.parse(r.devices) as DeviceRecord[]);
    return { config, devices };
  } catch {
    return null;
  }
}

function toLog(r: LogRow): LogEntry {
  return { id: r.id, vmId: r.vm_id, time: r.time, kind: r.kind, message: r.message };
}

function isUniqueViolation(e: unknown): boolean {
  return (e as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE';
}

/** What was recorded with a snapshot: the configuration the engine ran with and its devices. */
export interface SnapshotRecord {
  config: VmConfig & { disks: DiskConfig[] };
  devices: DeviceRecord[];
}

export interface NewSnapshot {
  vmId: string;
  name: string;
  parentId: string | null;
  sizeBytes: number;
  kind: SnapshotKind;
  /** The engine's tag (default: the new id). */
  tag?: string;
  auto?: boolean;
  record?: SnapshotRecord | null;
  /** When the engine took it (default: now). */
  createdAt?: number;
  /** Make it the VM's current snapshot ("now" descends from it). */
  makeCurrent?: boolean;
}

export class Library {
  readonly file: string;
  private readonly db: Database.Database;
  private readonly now: () => number;

  private constructor(file: string, db: Database.Database, now: () => number) {
    this.file = file;
    this.db = db;
    this.now = now;
  }

  /** Open or create the library at `file` (see openLibraryDatabase for the errors). */
  static open(file: string, options: OpenOptions & { now?: () => number } = {}): Library {
    return new Library(file, openLibraryDatabase(file, options), options.now ?? Date.now);
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  get schemaVersion(): number {
    return this.db.pragma('user_version', { simple: true }) as number;
  }

  // ---- VMs ----

  private disksOf(vmId: string): DiskConfig[] {
    const rows = this.db
      .prepare<[string], DiskRow>('SELECT * FROM disks WHERE vm_id = ? ORDER BY position')
      .all(vmId);
    return rows.map((r) => ({
      file: r.file,
      format: r.format,
      interface: r.interface,
      readonly: r.readonly !== 0,
    }));
  }

  private toVm(r: VmRow): Vm {
    return {
      id: r.id,
      name: r.name,
      guest: r.guest,
      machine: r.machine,
      cpus: r.cpus,
      memoryMiB: r.memory_mib,
      firmware: r.firmware,
      kernel: r.kernel,
      initrd: r.initrd,
      append: r.append,
      devices: parseOptionList(r.devices),
      chardevs: parseOptionList(r.chardevs),
      notes: r.notes,
      disks: this.disksOf(r.id),
      createdAt: r.created_at,
      updatedAt: r.updated_at,
    };
  }

  listVms(): Vm[] {
    const rows = this.db.prepare<[], VmRow>('SELECT * FROM vms ORDER BY name COLLATE NOCASE').all();
    return rows.map((r) => this.toVm(r));
  }

  findVm(id: string): Vm | undefined {
    const row = this.db.prepare<[string], VmRow>('SELECT * FROM vms WHERE id = ?').get(id);
    return row ? this.toVm(row) : undefined;
  }

  getVm(id: string): Vm {
    const vm = this.findVm(id);
    if (!vm) throw new LibraryRecordError(`VM '${id}' not found`);
    return vm;
  }

  findVmByName(name: string): Vm | undefined {
    const row = this.db.prepare<[string], VmRow>('SELECT * FROM vms WHERE name = ? COLLATE NOCASE').get(name);
    return row ? this.toVm(row) : undefined;
  }

  private writeDisks(vmId: string, disks: readonly DiskConfig[]): void {
    this.db.prepare('DELETE FROM disks WHERE vm_id = ?').run(vmId);
    const ins = this.db.prepare(
      'INSERT INTO disks (vm_id, position, file, format, interface, readonly) VALUES (?, ?, ?, ?, ?, ?)',
    );
    disks.forEach((d, i) => ins.run(vmId, i, d.file, d.format, d.interface, d.readonly ? 1 : 0));
  }

  /** Insert a VM; `id` may be given so callers can prepare its folder first. */
  createVm(config: VmConfig, disks: readonly DiskConfig[] = [], id: string = randomUUID()): Vm {
    const t = this.now();
    const tx = this.db.transaction(() => {
      this.db
        .prepare(
          `INSERT INTO vms (id, name, guest, machine, cpus, memory_mib, firmware, kernel, initrd, append, devices, chardevs, notes, created_at, updated_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(
          id,
          config.name,
          config.guest,
          config.machine,
          config.cpus,
          config.memoryMiB,
          config.firmware,
          config.kernel,
          config.initrd,
          config.append,
          JSON.stringify(config.devices),
          JSON.stringify(config.chardevs),
          config.notes,
          t,
          t,
        );
      this.writeDisks(id, disks);
      this.logInTx(id, 'created', `VM '${config.name}' created`);
    });
    try {
      tx();
    } catch (e) {
      if (isUniqueViolation(e)) throw new LibraryRecordError(`A VM named '${config.name}' already exists`);
      throw e;
    }
    return this.getVm(id);
  }

  /** Change a VM in one transaction; `message` (default: a generic one) goes to its event log. */
  updateVm(id: string, patch: VmPatch, disks?: readonly DiskConfig[], message?: string): Vm {
    const tx = this.db.transaction(() => {
      const cur = this.getVm(id);
      const next: VmConfig = {
        name: patch.name ?? cur.name,
        guest: patch.guest !== undefined ? patch.guest : cur.guest,
        machine: patch.machine ?? cur.machine,
        cpus: patch.cpus ?? cur.cpus,
        memoryMiB: patch.memoryMiB ?? cur.memoryMiB,
        firmware: patch.firmware !== undefined ? patch.firmware : cur.firmware,
        kernel: patch.kernel !== undefined ? patch.kernel : cur.kernel,
        initrd: patch.initrd !== undefined ? patch.initrd : cur.initrd,
        append: patch.append !== undefined ? patch.append : cur.append,
        devices: patch.devices ?? cur.devices,
        chardevs: patch.chardevs ?? cur.chardevs,
        notes: patch.notes ?? cur.notes,
      };
      this.db
        .prepare(
          `UPDATE vms SET name = ?, guest = ?, machine = ?, cpus = ?, memory_mib = ?, firmware = ?, kernel = ?, initrd = ?,
             append = ?, devices = ?, chardevs = ?, notes = ?, updated_at = ? WHERE id = ?`,
        )
        .run(
          next.name,
          next.guest,
          next.machine,
          next.cpus,
          next.memoryMiB,
          next.firmware,
          next.kernel,
          next.initrd,
          next.append,
          JSON.stringify(next.devices),
          JSON.stringify(next.chardevs),
          next.notes,
          this.now(),
          id,
        );
      if (disks) this.writeDisks(id, disks);
      this.logInTx(id, 'updated', message ?? `Configuration of '${next.name}' changed`);
    });
    try {
      tx();
    } catch (e) {
      if (isUniqueViolation(e))
        throw new LibraryRecordError(`A VM named '${patch.name ?? ''}' already exists`);
      throw e;
    }
    return this.getVm(id);
  }

  /** Remove a VM with its disks rows, snapshots and log (files are the caller's business). */
  deleteVm(id: string): void {
    const tx = this.db.transaction(() => {
      const vm = this.getVm(id);
      this.db.prepare('DELETE FROM vms WHERE id = ?').run(id);
      this.logInTx(null, 'deleted', `VM '${vm.name}' deleted`);
    });
    tx();
  }

  // ---- snapshots ----

  listSnapshots(vmId: string): Snapshot[] {
    return this.db
      .prepare<[string], SnapshotRow>('SELECT * FROM snapshots WHERE vm_id = ? ORDER BY created_at, rowid')
      .all(vmId)
      .map(toSnapshot);
  }

  private insertSnapshot(s: NewSnapshot): string {
    const id = randomUUID();
    this.getVm(s.vmId);
    if (s.parentId !== null) {
      const parent = this.db
        .prepare<[string], SnapshotRow>('SELECT * FROM snapshots WHERE id = ?')
        .get(s.parentId);
      if (!parent || parent.vm_id !== s.vmId) {
        throw new LibraryRecordError(`Snapshot '${s.parentId}' not found`);
      }
    }
    this.db
      .prepare(
        `INSERT INTO snapshots (id, vm_id, name, parent_id, created_at, size_bytes, kind, tag, auto, config, devices)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        id,
        s.vmId,
        s.name,
        s.parentId,
        s.createdAt ?? this.now(),
        s.sizeBytes,
        s.kind,
        s.tag ?? id,
        s.auto ? 1 : 0,
        s.record ? JSON.stringify(s.record.config) : null,
        s.record ? JSON.stringify(s.record.devices) : null,
      );
    if (s.makeCurrent) this.db.prepare('UPDATE vms SET current_snapshot = ? WHERE id = ?').run(id, s.vmId);
    return id;
  }

  private snapshotUniqueError(e: unknown, name: string, tag: string | undefined): unknown {
    if (!isUniqueViolation(e)) return e;
    const msg = String((e as Error).message);
    if (msg.includes('.tag') && tag !== undefined)
      return new LibraryRecordError(`A snapshot with the engine tag '${tag}' already exists`);
    return new LibraryRecordError(`A snapshot named '${name}' already exists`);
  }

  addSnapshot(s: NewSnapshot): Snapshot {
    let id = '';
    const tx = this.db.transaction(() => {
      id = this.insertSnapshot(s);
      this.logInTx(s.vmId, 'snapshot', `Snapshot '${s.name}' taken`);
    });
    try {
      tx();
    } catch (e) {
      throw this.snapshotUniqueError(e, s.name, s.tag);
    }
    return this.getSnapshot(id);
  }

  findSnapshot(id: string): Snapshot | undefined {
    const row = this.db.prepare<[string], SnapshotRow>('SELECT * FROM snapshots WHERE id = ?').get(id);
    return row ? toSnapshot(row) : undefined;
  }

  getSnapshot(id: string): Snapshot {
    const s = this.findSnapshot(id);
    if (!s) throw new LibraryRecordError(`Snapshot '${id}' not found`);
    return s;
  }

  findSnapshotByName(vmId: string, name: string): Snapshot | undefined {
    const row = this.db
      .prepare<[string, string], SnapshotRow>('SELECT * FROM snapshots WHERE vm_id = ? AND name = ?')
      .get(vmId, name);
    return row ? toSnapshot(row) : undefined;
  }

  /** The configuration and devices recorded when the snapshot was taken (null if none were). */
  snapshotRecord(id: string): SnapshotRecord | null {
    const row = this.db.prepare<[string], SnapshotRow>('SELECT * FROM snapshots WHERE id = ?').get(id);
    if (!row) throw new LibraryRecordError(`Snapshot '${id}' not found`);
    return parseRecord(row);
  }

  renameSnapshot(id: string, name: string): Snapshot {
    try {
      const s = this.getSnapshot(id);
      this.db.transaction(() => {
        this.db.prepare('UPDATE snapshots SET name = ? WHERE id = ?').run(name, id);
        this.logInTx(s.vmId, 'snapshot', `Snapshot '${s.name}' renamed to '${name}'`);
      })();
    } catch (e) {
      if (isUniqueViolation(e)) throw new LibraryRecordError(`A snapshot named '${name}' already exists`);
      throw e;
    }
    return this.getSnapshot(id);
  }

  private deleteSnapshotInTx(s: Snapshot): void {
    this.db.prepare('UPDATE snapshots SET parent_id = ? WHERE parent_id = ?').run(s.parentId, s.id);
    this.db.prepare('UPDATE vms SET current_snapshot = ? WHERE current_snapshot = ?').run(s.parentId, s.id);
    this.db.prepare('DELETE FROM snapshots WHERE id = ?').run(s.id);
  }

  /**
   * Delete one snapshot row. Its children move up to its parent and, if "now" descended from it, now
   * descends from its parent: the tree stays connected and no other snapshot is touched.
   */
  deleteSnapshot(id: string, reason?: string): void {
    const tx = this.db.transaction(() => {
      const s = this.getSnapshot(id);
      this.deleteSnapshotInTx(s);
      this.logInTx(s.vmId, 'snapshot', reason ?? `Snapshot '${s.name}' deleted`);
    });
    tx();
  }

  /** The snapshot the VM's present state descends from (null: none). */
  currentSnapshot(vmId: string): string | null {
    const row = this.db
      .prepare<[string], { current_snapshot: string | null }>('SELECT current_snapshot FROM vms WHERE id = ?')
      .get(vmId);
    if (!row) throw new LibraryRecordError(`VM '${vmId}' not found`);
    return row.current_snapshot;
  }

  setCurrentSnapshot(vmId: string, snapshotId: string | null): void {
    if (snapshotId !== null && this.getSnapshot(snapshotId).vmId !== vmId) {
      throw new LibraryRecordError(`Snapshot '${snapshotId}' not found`);
    }
    this.db.prepare('UPDATE vms SET current_snapshot = ? WHERE id = ?').run(snapshotId, vmId);
  }

  /**
   * A revert the engine has completed: "now" descends from the snapshot, and the configuration
   * recorded with it (boot fields) is the VM's again. One transaction.
   */
  completeRevert(vmId: string, snapshotId: string, patch: VmPatch | null): Vm {
    this.db.transaction(() => {
      const s = this.getSnapshot(snapshotId);
      if (patch && Object.keys(patch).length) this.updateVm(vmId, patch);
      this.db.prepare('UPDATE vms SET current_snapshot = ? WHERE id = ?').run(snapshotId, vmId);
      this.logInTx(vmId, 'snapshot', `Reverted to snapshot '${s.name}'`);
    })();
    return this.getVm(vmId);
  }

  /**
   * Apply a reconciliation with what the engine holds (see snapshots/reconcile.ts): drop rows whose
   * data is gone, adopt snapshots the library did not know, refresh sizes. One transaction.
   */
  applySnapshotReconcile(
    vmId: string,
    plan: {
      remove: readonly string[];
      adopt: readonly { tag: string; createdAt: number; sizeBytes: number }[];
      sizes: readonly { id: string; sizeBytes: number }[];
    },
  ): void {
    if (!plan.remove.length && !plan.adopt.length && !plan.sizes.length) return;
    this.db.transaction(() => {
      for (const id of plan.remove) {
        const s = this.findSnapshot(id);
        if (!s) continue;
        this.deleteSnapshotInTx(s);
        this.logInTx(
          vmId,
          'snapshot',
          `Snapshot '${s.name}' is no longer in the engine's snapshot store: removed`,
        );
      }
      for (const a of plan.adopt) {
        let name = a.tag;
        for (let i = 2; this.findSnapshotByName(vmId, name); i++) name = `${a.tag} (${i})`;
        this.insertSnapshot({
          vmId,
          name,
          parentId: null,
          sizeBytes: a.sizeBytes,
          kind: 'vmstate',
          tag: a.tag,
          createdAt: a.createdAt,
        });
        this.logInTx(vmId, 'snapshot', `Found snapshot '${a.tag}' in the engine's snapshot store`);
      }
      const size = this.db.prepare('UPDATE snapshots SET size_bytes = ? WHERE id = ?');
      for (const z of plan.sizes) size.run(z.sizeBytes, z.id);
    })();
  }

  // ---- settings ----

  getSetting(key: string): string | null {
    const row = this.db
      .prepare<[string], { value: string }>('SELECT value FROM settings WHERE key = ?')
      .get(key);
    return row ? row.value : null;
  }

  setSetting(key: string, value: string): void {
    this.db
      .prepare(
        'INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value',
      )
      .run(key, value);
  }

  // ---- event log ----

  private logInTx(vmId: string | null, kind: string, message: string, data?: unknown): LogEntry {
    const time = this.now();
    const r = this.db
      .prepare('INSERT INTO event_log (vm_id, time, kind, message, data) VALUES (?, ?, ?, ?, ?)')
      .run(vmId, time, kind, message, data === undefined ? null : JSON.stringify(data));
    return { id: Number(r.lastInsertRowid), vmId, time, kind, message };
  }

  /** Append to the event log (a VM that has meanwhile been deleted is logged without a VM). */
  log(vmId: string | null, kind: string, message: string, data?: unknown): LogEntry {
    return this.db.transaction(() => {
      const owner = vmId !== null && this.findVm(vmId) ? vmId : null;
      return this.logInTx(owner, kind, message, data);
    })();
  }

  /** Newest first; `vmId` null lists everything. */
  listLog(vmId: string | null, limit = 200): LogEntry[] {
    const n = Math.max(1, Math.min(10000, Math.floor(limit)));
    const rows =
      vmId === null
        ? this.db.prepare<[number], LogRow>('SELECT * FROM event_log ORDER BY id DESC LIMIT ?').all(n)
        : this.db
            .prepare<[string, number], LogRow>(
              'SELECT * FROM event_log WHERE vm_id = ? ORDER BY id DESC LIMIT ?',
            )
            .all(vmId, n);
    return rows.map(toLog);
  }
}
