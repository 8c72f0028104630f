/**
 * Schema history of the VM library. `PRAGMA user_version` holds the number of migrations applied;
 * opening a library applies the missing ones in order, each in its own transaction, so a library from
 * any older VM Studio upgrades in place and a failed step leaves the file at the previous version.
 * Never edit a released migration: append a new one.
 */
import type Database from 'better-sqlite3';

export interface Migration {
  /** The user_version after this migration. */
  version: number;
  description: string;
  up(db: Database.Database): void;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'VMs and their disks',
    up(db) {
      db.exec(`
        CREATE TABLE vms (
          id          TEXT PRIMARY KEY,
          name        TEXT NOT NULL UNIQUE COLLATE NOCASE,
          machine     TEXT NOT NULL,
          cpus        INTEGER NOT NULL CHECK (cpus >= 1),
          memory_mib  INTEGER NOT NULL CHECK (memory_mib >= 1),
          kernel      TEXT,
          initrd      TEXT,
          append      TEXT,
          created_at  INTEGER NOT NULL,
          updated_at  INTEGER NOT NULL
        );
        CREATE TABLE disks (
          vm_id     TEXT NOT NULL REFERENCES vms(id) ON DELETE CASCADE,
          position  INTEGER NOT NULL,
          file      TEXT NOT NULL,
          format    TEXT NOT NULL DEFAULT 'raw',
          PRIMARY KEY (vm_id, position)
        );
      `);
    },
  },
  {
    version: 2,
    description: 'firmware, devices and notes; disk interface; snapshots; event log',
    up(db) {
      db.exec(`
        ALTER TABLE vms ADD COLUMN firmware TEXT;
        ALTER TABLE vms ADD COLUMN devices TEXT NOT NULL DEFAULT '[]';
        ALTER TABLE vms ADD COLUMN notes TEXT NOT NULL DEFAULT '';
        ALTER TABLE disks ADD COLUMN interface TEXT NOT NULL DEFAULT 'virtio';
        ALTER TABLE disks ADD COLUMN readonly INTEGER NOT NULL DEFAULT 0;
        CREATE TABLE snapshots (
          id          TEXT PRIMARY KEY,
          vm_id       TEXT NOT NULL REFERENCES vms(id) ON DELETE CASCADE,
          name        TEXT NOT NULL,
          parent_id   TEXT REFERENCES snapshots(id) ON DELETE SET NULL,
          created_at  INTEGER NOT NULL,
          size_bytes  INTEGER NOT NULL DEFAULT 0,
          kind        TEXT NOT NULL CHECK (kind IN ('vmstate', 'disk-only')),
          UNIQUE (vm_id, name)
        );
        CREATE INDEX snapshots_by_vm ON snapshots(vm_id);
        CREATE TABLE event_log (
          id       INTEGER PRIMARY KEY AUTOINCREMENT,
          vm_id    TEXT REFERENCES vms(id) ON DELETE CASCADE,
          time     INTEGER NOT NULL,
          kind     TEXT NOT NULL,
          message  TEXT NOT NULL,
          data     TEXT
        );
        CREATE INDEX event_log_by_vm ON event_log(vm_id, id);
      `);
    },
  },
  {
    version: 3,
    description: 'guest template reference',
    up(db) {
      db.exec(`ALTER TABLE vms ADD COLUMN guest TEXT;`);
    },
  },
  {
    version: 4,
    description:
      'snapshot engine tags, automatic snapshots, recorded configuration; current snapshot; settings',
    up(db) {
      // Snapshots from before this version were never taken by an engine: their id stands in for the tag.
      db.exec(`
        ALTER TABLE snapshots ADD COLUMN tag TEXT;
        UPDATE snapshots SET tag = id WHERE tag IS NULL;
        CREATE UNIQUE INDEX snapshots_by_tag ON snapshots(vm_id, tag);
        ALTER TABLE snapshots ADD COLUMN auto INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE snapshots ADD COLUMN config TEXT;
        ALTER TABLE snapshots ADD COLUMN devices TEXT;
        ALTER TABLE vms ADD COLUMN current_snapshot TEXT REFERENCES snapshots(id) ON DELETE SET NULL;
        CREATE TABLE settings (
          key    TEXT PRIMARY KEY,
          value  TEXT NOT NULL
        );
      `);
    },
  },
  {
    version: 5,
    description: 'host channels (chardevs) of a VM',
    up(db) {
      db.exec(`ALTER TABLE vms ADD COLUMN chardevs TEXT NOT NULL DEFAULT '[]';`);
    },
  },
];

export const LATEST_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;
