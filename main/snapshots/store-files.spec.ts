import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  deleteStoredSnapshot,
  readSnapshotStore,
  snapshotFileName,
  storedSnapshotBytes,
} from './store-files.js';

/** A file in the engine's store layout: magic, u32 BE header length, JSON header, stream. */
function writeSnap(dir: string, name: string, dateSec: number, stream = Buffer.alloc(100)): void {
  const header = Buffer.from(
    JSON.stringify({
      id: '1',
      name,
      dateSec,
      dateNsec: 5e8,
      vmClockNsec: 0,
      vmStateSize: stream.length,
      icount: -1,
    }),
  );
  const len = Buffer.alloc(4);
  len.writeUInt32BE(header.length);
  fs.writeFileSync(
    path.join(dir, snapshotFileName(name)),
    Buffer.concat([Buffer.from('VMSSNAP1'), len, header, stream]),
  );
}

let dir: string;
beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vmstudio-store-'))));
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('snapshot store files', () => {
  it('names files like the engine (unsafe characters %-escaped as UTF-8)', () => {
    expect(snapshotFileName('vs-abc_1.2')).toBe('vs-abc_1.2.vmsnap');
    expect(snapshotFileName('a b/é')).toBe('a%20b%2F%C3%A9.vmsnap');
  });

  it('lists snapshots oldest first with their dates and sizes, skipping foreign and temporary files', () => {
    writeSnap(dir, 'new', 2000);
    writeSnap(dir, 'old one', 1000, Buffer.alloc(10));
    fs.writeFileSync(path.join(dir, 'junk.vmsnap'), 'not a snapshot');
    fs.writeFileSync(path.join(dir, '.new.vmsnap.123.tmp'), 'partial');
    const list = readSnapshotStore(dir);
    expect(list.map((s) => s.tag)).toEqual(['old one', 'new']);
    expect(list[0]!.createdAt).toBe(1_000_500);
    expect(list[0]!.vmStateSize).toBe(10);
    expect(list[0]!.fileBytes).toBe(fs.statSync(path.join(dir, snapshotFileName('old one'))).size);
    expect(readSnapshotStore(path.join(dir, 'missing'))).toEqual([]);
  });

  it('deletes exactly one snapshot file', () => {
    writeSnap(dir, 'a', 1);
    writeSnap(dir, 'b', 2);
    expect(deleteStoredSnapshot(dir, 'a')).toBe(true);
    expect(deleteStoredSnapshot(dir, 'a')).toBe(false);
    expect(readSnapshotStore(dir).map((s) => s.tag)).toEqual(['b']);
    expect(storedSnapshotBytes(dir, 'b')).toBeGreaterThan(100);
    expect(storedSnapshotBytes(dir, 'a')).toBeNull();
  });
});
