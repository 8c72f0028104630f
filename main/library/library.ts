/**
 * The VM library: VMs, their disks, snapshots and an event log, in one SQLite file.
 * Synchronous (better-sqlite3) and single-owner: the Library holds the database's exclusive lock for
 * its lifetime. Every write that touches more than one row runs in a transaction.
 */
import { randomUUID } from 'node:crypto';
import type Database from 'better-sqlite3';
import type { DiskConfig, LogEntry, Snapshot, SnapshotKind, Vm, VmConfig, VmPatch } from '../api/contract.js';
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
}

interface LogRow {
  id: number;
  vm_id: string | null;
  time: number;
  kind: string;
  message: string;
}

function parseDevices(json: string): string[] {
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
  };
}

function toLog(r: LogRow): LogEntry {
  return { id: r.id, vmId: r.vm_id, time: r.time, kind: r.kind, message: r.message };
}

function isUniqueViolation(e: unknown): boolean {
  return (e as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE';
}

export interface NewSnapshot {
  vmId: string;
  name: string;
  parentId: string | null;
  sizeBytes: number;
  kind: SnapshotKind;
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
      devices: parseDevices(r.devices),
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
          `INSERT INTO vms (id, name, guest, machine, cpus, memory_mib, firmware, kernel, initrd, append, devices, notes, created_at, updated_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
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

  updateVm(id: string, patch: VmPatch, disks?: readonly DiskConfig[]): Vm {
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
        notes: patch.notes ?? cur.notes,
      };
      this.db
        .prepare(
          `UPDATE vms SET name = ?, guest = ?, machine = ?, cpus = ?, memory_mib = ?, firmware = ?, kernel = ?, initrd = ?,
             append = ?, devices = ?, notes = ?, updated_at = ? WHERE id = ?`,
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
          next.notes,
          this.now(),
          id,
        );
      if (disks) this.writeDisks(id, disks);
      this.logInTx(id, 'updated', `Configuration of '${next.name}' changed`);
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

  addSnapshot(s: NewSnapshot): Snapshot {
    const id = randomUUID();
    const tx = this.db.transaction(() => {
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
          'INSERT INTO snapshots (id, vm_id, name, parent_id, created_at, size_bytes, kind) VALUES (?, ?, ?, ?, ?, ?, ?)',
        )
        .run(id, s.vmId, s.name, s.parentId, this.now(), s.sizeBytes, s.kind);
      this.logInTx(s.vmId, 'snapshot', `Snapshot '${s.name}' taken`);
    });
    try {
      tx();
    } catch (e) {
      if (isUniqueViolation(e)) throw new LibraryRecordError(`A snapshot named '${s.name}' already exists`);
      throw e;
    }
    return this.getSnapshot(id);
  }

  getSnapshot(id: string): Snapshot {
    const row = this.db.prepare<[string], SnapshotRow>('SELECT * FROM snapshots WHERE id = ?').get(id);
    if (!row) throw new LibraryRecordError(`Snapshot '${id}' not found`);
    return toSnapshot(row);
  }

  renameSnapshot(id: string, name: string): Snapshot {
    try {
      const r = this.db.prepare('UPDATE snapshots SET name = ? WHERE id = ?').run(name, id);
      if (r.changes === 0) throw new LibraryRecordError(`Snapshot '${id}' not found`);
    } catch (e) {
      if (isUniqueViolation(e)) throw new LibraryRecordError(`A snapshot named '${name}' already exists`);
      throw e;
    }
    return this.getSnapshot(id);
  }

  /** Delete one snapshot; its children move up to its parent, so the tree stays connected. */
  deleteSnapshot(id: string): void {
    const tx = this.db.transaction(() => {
      const s = this.getSnapshot(id);
      this.db.prepare('UPDATE snapshots SET parent_id = ? WHERE parent_id = ?').run(s.parentId, id);
      this.db.prepare('DELETE FROM snapshots WHERE id = ?').run(id);
      this.logInTx(s.vmId, 'snapshot', `Snapshot '${s.name}' deleted`);
    });
    tx();
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
