import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { listDirectory } from './files.js';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vmstudio-files-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('listDirectory', () => {
  it('lists folders first, then files with sizes, by name, without hidden entries', async () => {
    fs.mkdirSync(path.join(dir, 'images'));
    fs.mkdirSync(path.join(dir, 'Boot'));
    fs.writeFileSync(path.join(dir, 'vmlinux'), 'kernel');
    fs.writeFileSync(path.join(dir, 'Image'), Buffer.alloc(1024));
    fs.writeFileSync(path.join(dir, '.hidden'), 'x');
    fs.symlinkSync(path.join(dir, 'images'), path.join(dir, 'link-to-images'));
    fs.symlinkSync(path.join(dir, 'nowhere'), path.join(dir, 'dangling'));
    const l = await listDirectory(dir);
    expect(l.dir).toBe(dir);
    expect(l.parent).toBe(path.dirname(dir));
    expect(l.entries.map((e) => [e.name, e.kind, e.sizeBytes])).toEqual([
      ['Boot', 'dir', null],
      ['images', 'dir', null],
      ['link-to-images', 'dir', null],
      ['Image', 'file', 1024],
      ['vmlinux', 'file', 6],
    ]);
    expect(l.entries[3]!.path).toBe(path.join(dir, 'Image'));
    expect(l.truncated).toBe(false);
  });

  it('starts at the home folder, ends at the root, and refuses what it cannot list', async () => {
    expect((await listDirectory(undefined, dir)).dir).toBe(dir);
    expect((await listDirectory('/')).parent).toBeNull();
    await expect(listDirectory('relative/dir')).rejects.toThrow(
      "The folder path must be absolute: 'relative/dir'",
    );
    await expect(listDirectory(path.join(dir, 'missing'))).rejects.toThrow(
      `Could not open '${path.join(dir, 'missing')}': No such file or directory`,
    );
    fs.writeFileSync(path.join(dir, 'f'), '');
    await expect(listDirectory(path.join(dir, 'f'))).rejects.toThrow('Not a directory');
    await expect(listDirectory(42)).rejects.toThrow("Parameter 'dir' expects a string");
  });
});
