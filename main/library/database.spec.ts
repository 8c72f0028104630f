import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openLibraryDatabase } from './database.js';
import { LibraryCorruptError, LibraryLockedError, LibraryTooNewError } from './errors.js';
import { Library } from './library.js';
import { LATEST_VERSION, MIGRATIONS } from './migrations.js';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vmstudio-lib-'));
});
afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

/** A library as VM Studio's first schema wrote it, built by hand (not through MIGRATIONS). */
function writeV1Library(file: string): void {
  const db = new Database(file);
  db.exec(`
    CREATE TABLE vms (
      id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE COLLATE NOCASE, machine TEXT NOT NULL,
      cpus INTEGER NOT NULL CHECK (cpus >= 1), memory_mib INTEGER NOT NULL CHECK (memory_mib >= 1),
      kernel TEXT, initrd TEXT, append TEXT, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL);
    CREATE TABLE disks (
      vm_id TEXT NOT NULL REFERENCES vms(id) ON DELETE CASCADE, position INTEGER NOT NULL,
      file TEXT NOT NULL, format TEXT NOT NULL DEFAULT 'raw', PRIMARY KEY (vm_id, position));
    INSERT INTO vms VALUES ('vm-1', 'old guest', 'virt', 2, 512, '/k/Image', '/k/initrd', 'console=ttyS0', 1000, 2000);
    INSERT INTO disks VALUES ('vm-1', 0, '/d/root.img', 'raw');
    PRAGMA user_version = 1;
  `);
  db.close();
}

describe('library migrations', () => {
  it('creates a new library at the latest schema version', () => {
    const lib = Library.open(path.join(dir, 'library.db'));
    expect(lib.schemaVersion).toBe(LATEST_VERSION);
    expect(lib.listVms()).toEqual([]);
    lib.close();
  });

  it('upgrades a version 1 library in place and keeps its VMs and disks', () => {
    const file = path.join(dir, 'library.db');
    writeV1Library(file);
    const lib = Library.open(file);
    expect(lib.schemaVersion).toBe(LATEST_VERSION);
    const [vm] = lib.listVms();
    expect(vm).toMatchObject({
      id: 'vm-1',
      name: 'old guest',
      guest: null,
      machine: 'virt',
      cpus: 2,
      memoryMiB: 512,
      firmware: null,
      kernel: '/k/Image',
      initrd: '/k/initrd',
      append: 'console=ttyS0',
      devices: [],
      notes: '',
      createdAt: 1000,
      updatedAt: 2000,
    });
    expect(vm!.disks).toEqual([{ file: '/d/root.img', format: 'raw', interface: 'virtio', readonly: false }]);
    // Tables added by version 2 work on the upgraded file.
    lib.addSnapshot({ vmId: 'vm-1', name: 'base', parentId: null, sizeBytes: 10, kind: 'disk-only' });
    expect(lib.listSnapshots('vm-1').map((s) => s.name)).toEqual(['base']);
    lib.close();
    // The pre-upgrade copy is a valid version 1 database.
    const backup = new Database(`${file}.v1.bak`, { readonly: true });
    expect(backup.pragma('user_version', { simple: true })).toBe(1);
    expect(backup.prepare('SELECT name FROM vms').all()).toEqual([{ name: 'old guest' }]);
    backup.close();
  });

  it('upgrades a version 3 library with snapshots: tags, flags and the current snapshot', () => {
    const file = path.join(dir, 'library.db');
    Library.open(file, { migrations: MIGRATIONS.slice(0, 3) }).close();
    const db = new Database(file);
    db.exec(`
      INSERT INTO vms (id, name, machine, cpus, memory_mib, created_at, updated_at) VALUES ('v', 'old', 'virt', 1, 64, 1, 1);
      INSERT INTO snapshots (id, vm_id, name, parent_id, created_at, size_bytes, kind) VALUES ('s1', 'v', 'base', NULL, 5, 10, 'vmstate');
    `);
    db.close();
    const lib = Library.open(file);
    expect(lib.schemaVersion).toBe(LATEST_VERSION);
    expect(lib.listSnapshots('v')).toEqual([
      {
        id: 's1',
        vmId: 'v',
        name: 'base',
        parentId: null,
        createdAt: 5,
        sizeBytes: 10,
        kind: 'vmstate',
        tag: 's1',
        auto: false,
        recorded: false,
      },
    ]);
    expect(lib.currentSnapshot('v')).toBeNull();
    lib.setCurrentSnapshot('v', 's1');
    expect(lib.currentSnapshot('v')).toBe('s1');
    lib.close();
  });

  it('upgrades a version 4 library: VMs get no host channels, and so do recorded configurations', () => {
    const file = path.join(dir, 'library.db');
    Library.open(file, { migrations: MIGRATIONS.slice(0, 4) }).close();
    const db = new Database(file);
    const recorded = JSON.stringify({
      name: 'old',
      machine: 'virt',
      cpus: 1,
      memoryMiB: 64,
      devices: [],
      disks: [],
    });
    db.prepare(
      `INSERT INTO vms (id, name, machine, cpus, memory_mib, created_at, updated_at) VALUES ('v', 'old', 'virt', 1, 64, 1, 1)`,
    ).run();
    db.prepare(
      `INSERT INTO snapshots (id, vm_id, name, parent_id, created_at, size_bytes, kind, tag, config, devices)
       VALUES ('s1', 'v', 'base', NULL, 5, 10, 'vmstate', 's1', ?, '[]')`,
    ).run(recorded);
    db.close();
    let lib = Library.open(file);
    expect(lib.schemaVersion).toBe(LATEST_VERSION);
    expect(lib.getVm('v').chardevs).toEqual([]);
    expect(lib.snapshotRecord('s1')?.config.chardevs).toEqual([]);
    lib.updateVm('v', { chardevs: ['null,id=n0'] });
    lib.close();
    lib = Library.open(file);
    expect(lib.getVm('v').chardevs).toEqual(['null,id=n0']);
    lib.close();
  });

  it('applies each migration in a transaction: a failing step leaves the previous version', () => {
    const file = path.join(dir, 'library.db');
    Library.open(file, { migrations: MIGRATIONS.slice(0, 1) }).close();
    const broken = [
      ...MIGRATIONS.slice(0, 1),
      {
        version: 2,
        description: 'broken',
        up(db: Database.Database) {
          db.exec('ALTER TABLE vms ADD COLUMN notes TEXT');
          db.exec('THIS IS NOT SQL');
        },
      },
    ];
    expect(() => openLibraryDatabase(file, { migrations: broken })).toThrow(
      /upgrading to schema version 2 \(broken\) failed/,
    );
    const db = new Database(file, { readonly: true });
    expect(db.pragma('user_version', { simple: true })).toBe(1);
    const cols = (db.prepare('PRAGMA table_info(vms)').all() as { name: string }[]).map((c) => c.name);
    expect(cols).not.toContain('notes');
    db.close();
  });

  it('refuses a library from a newer version without changing it', () => {
    const file = path.join(dir, 'library.db');
    const db = new Database(file);
    db.exec('CREATE TABLE future (x); PRAGMA user_version = 99;');
    db.close();
    const before = fs.readFileSync(file);
    expect(() => Library.open(file)).toThrow(LibraryTooNewError);
    expect(() => Library.open(file)).toThrow(/schema version 99/);
    expect(fs.readFileSync(file).equals(before)).toBe(true);
  });
});

describe('library corruption and locking', () => {
  it('rejects a file that is not a database and leaves it byte-for-byte unchanged', () => {
    const file = path.join(dir, 'library.db');
    const content = Buffer.from('these are my notes, not a database\n'.repeat(200));
    fs.writeFileSync(file, content);
    expect(() => Library.open(file)).toThrow(LibraryCorruptError);
    expect(() => Library.open(file)).toThrow(/not an SQLite database; it was left unchanged/);
    expect(fs.readFileSync(file).equals(content)).toBe(true);
    expect(fs.existsSync(`${file}-wal`)).toBe(false);
  });

  it('rejects a database whose pages are damaged without truncating it', () => {
    const file = path.join(dir, 'library.db');
    const lib = Library.open(file);
    for (let i = 0; i < 50; i++) {
      lib.createVm({
        name: `vm ${i}`,
        guest: null,
        machine: 'virt',
        cpus: 1,
        memoryMiB: 256,
        firmware: null,
        kernel: null,
        initrd: null,
        append: null,
        devices: [],
        chardevs: [],
        notes: 'x'.repeat(500),
      });
    }
    lib.close();
    const data = fs.readFileSync(file);
    // Keep the header page, scribble over the rest.
    for (let i = 4096; i < data.length; i++) data[i] = (i * 7) & 0xff;
    fs.writeFileSync(file, data);
    expect(() => Library.open(file)).toThrow(LibraryCorruptError);
    expect(fs.statSync(file).size).toBe(data.length);
    expect(fs.readFileSync(file).equals(data)).toBe(true);
  });

  it('reports a library held by another instance as locked', () => {
    const file = path.join(dir, 'library.db');
    const first = Library.open(file);
    expect(() => Library.open(file, { busyTimeoutMs: 50 })).toThrow(LibraryLockedError);
    expect(() => Library.open(file, { busyTimeoutMs: 50 })).toThrow(/in use by another process/);
    first.close();
    const second = Library.open(file, { busyTimeoutMs: 50 });
    expect(second.schemaVersion).toBe(LATEST_VERSION);
    second.close();
  });

  it('reports a lock held by another SQLite client as locked', () => {
    const file = path.join(dir, 'library.db');
    Library.open(file).close();
    const other = new Database(file);
    other.exec('BEGIN EXCLUSIVE');
    expect(() => Library.open(file, { busyTimeoutMs: 50 })).toThrow(LibraryLockedError);
    other.exec('ROLLBACK');
    other.close();
  });
});
