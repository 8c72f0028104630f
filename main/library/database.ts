/**
 * Opening the library file safely. The order matters: the header is checked before SQLite touches the
 * file (so a non-database is never rewritten), the exclusive lock is taken before anything is read (one
 * VM Studio per library: two supervisors must never drive the same VMs), and migrations run only after
 * an integrity check.
 */
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { LibraryCorruptError, LibraryError, LibraryLockedError, LibraryTooNewError } from './errors.js';
import { LATEST_VERSION, MIGRATIONS, type Migration } from './migrations.js';

const SQLITE_HEADER = Buffer.from('SQLite format 3\0', 'latin1');

export interface OpenOptions {
  /** How long to wait for another process's lock before giving up (ms). */
  busyTimeoutMs?: number;
  /** Migrations to apply (tests pass a prefix of the history to build old files). */
  migrations?: readonly Migration[];
  /** Keep a copy of the file before upgrading it (default true). */
  backupBeforeUpgrade?: boolean;
}

function describe(file: string): string {
  return `Could not open VM library '${file}'`;
}

/** Reject files that exist but are not SQLite databases, without opening them for writing. */
function checkHeader(file: string): void {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw new LibraryError(`${describe(file)}: ${(e as Error).message}`);
  }
  try {
    const head = Buffer.alloc(SQLITE_HEADER.length);
    const n = fs.readSync(fd, head, 0, head.length, 0);
    if (n === 0) return; // an empty file is a new database to SQLite
    if (n < head.length || !head.equals(SQLITE_HEADER)) {
      throw new LibraryCorruptError(
        `${describe(file)}: the file is not an SQLite database; it was left unchanged (move it away or restore a backup)`,
      );
    }
  } finally {
    fs.closeSync(fd);
  }
}

function sqliteCode(e: unknown): string | undefined {
  const code = (e as { code?: unknown }).code;
  return typeof code === 'string' ? code : undefined;
}

/** Map SQLite's error codes onto the library's error classes. */
export function translateSqliteError(file: string, e: unknown): Error {
  if (e instanceof LibraryError) return e;
  const code = sqliteCode(e) ?? '';
  const msg = (e as Error).message;
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) {
    return new LibraryLockedError(
      `${describe(file)}: it is in use by another process (is VM Studio already running with this data folder?)`,
    );
  }
  if (code.startsWith('SQLITE_NOTADB') || code.startsWith('SQLITE_CORRUPT')) {
    return new LibraryCorruptError(
      `${describe(file)}: the database is damaged (${msg}); it was left unchanged`,
    );
  }
  return new LibraryError(`${describe(file)}: ${msg}`);
}

function latestOf(migrations: readonly Migration[]): number {
  return migrations.length ? migrations[migrations.length - 1]!.version : 0;
}

/** Refuse a newer schema before anything (even the journal mode) is written. */
function checkVersion(db: Database.Database, file: string, migrations: readonly Migration[]): void {
  const latest = latestOf(migrations);
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > latest) {
    throw new LibraryTooNewError(
      `${describe(file)}: it was written by a newer VM Studio (schema version ${current}, this version knows up to ${latest}); it was left unchanged`,
    );
  }
}

function migrate(
  db: Database.Database,
  file: string,
  migrations: readonly Migration[],
  backup: boolean,
): void {
  const latest = latestOf(migrations);
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current >= latest) return;
  if (current > 0 && backup) {
    const copy = `${file}.v${current}.bak`;
    if (!fs.existsSync(copy)) db.prepare('VACUUM INTO ?').run(copy);
  }
  for (const m of migrations) {
    if (m.version <= current) continue;
    const step = db.transaction(() => {
      m.up(db);
      db.pragma(`user_version = ${m.version}`);
    });
    try {
      step.exclusive();
    } catch (e) {
      const err = translateSqliteError(file, e);
      err.message = `${describe(file)}: upgrading to schema version ${m.version} (${m.description}) failed: ${(e as Error).message}`;
      throw err;
    }
  }
}

/**
 * Open (creating if needed) the library database at `file` and bring its schema up to date.
 * Throws LibraryCorruptError / LibraryLockedError / LibraryTooNewError / LibraryError.
 */
export function openLibraryDatabase(file: string, options: OpenOptions = {}): Database.Database {
  const migrations = options.migrations ?? MIGRATIONS;
  fs.mkdirSync(path.dirname(file), { recursive: true });
  checkHeader(file);
  let db: Database.Database | undefined;
  try {
    db = new Database(file, { timeout: options.busyTimeoutMs ?? 2000 });
    db.pragma('locking_mode = EXCLUSIVE');
    // Take the lock now: with EXCLUSIVE locking it is held until close.
    db.exec('BEGIN EXCLUSIVE; COMMIT;');
    const check = db.pragma('quick_check', { simple: true });
    if (check !== 'ok') {
      throw new LibraryCorruptError(
        `${describe(file)}: the database is damaged (${String(check)}); it was left unchanged`,
      );
    }
    checkVersion(db, file, migrations);
    db.pragma('journal_mode = WAL');
    db.pragma('foreign_keys = ON');
    db.pragma('synchronous = NORMAL');
    migrate(db, file, migrations, options.backupBeforeUpgrade ?? true);
    return db;
  } catch (e) {
    db?.close();
    throw translateSqliteError(file, e);
  }
}

export { LATEST_VERSION };
