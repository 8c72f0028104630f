import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadGuests, publicGuest } from './guests.js';

let root: string;
beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'vmstudio-guests-'));
});
afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

function write(p: string, text: string, mtime?: number): void {
  fs.mkdirSync(path.dirname(p), { recursive: true });
  fs.writeFileSync(p, text);
  if (mtime !== undefined) fs.utimesSync(p, mtime, mtime);
}

describe('loadGuests', () => {
  const manifest = {
    id: 'deb',
    title: 'Debian',
    description: 'd',
    machine: 'virt',
    cpus: 1,
    memoryMiB: 512,
    buildsDir: 'guests/deb/builds',
    kernel: 'Image',
    initrd: 'initrd.cpio',
  };

  it('takes the boot files from the newest complete build', () => {
    write(path.join(root, 'assets/guests/deb/guest.json'), JSON.stringify(manifest));
    write(path.join(root, 'cache/guests/deb/builds/old/guest.json'), '{}', 1000);
    write(path.join(root, 'cache/guests/deb/builds/old/Image'), 'k');
    write(path.join(root, 'cache/guests/deb/builds/old/initrd.cpio'), 'i');
    write(path.join(root, 'cache/guests/deb/builds/new/guest.json'), '{}', 2000);
    write(path.join(root, 'cache/guests/deb/builds/new/Image'), 'k');
    fs.mkdirSync(path.join(root, 'cache/guests/deb/builds/unfinished'));
    const [g] = loadGuests(path.join(root, 'assets/guests'), path.join(root, 'cache'));
    expect(g!.kernel).toBe(path.join(root, 'cache/guests/deb/builds/new/Image'));
    expect(publicGuest(g!)).toEqual({
      id: 'deb',
      title: 'Debian',
      description: 'd',
      machine: 'virt',
      cpus: 1,
      memoryMiB: 512,
      available: false,
      missing: ['initrd.cpio'],
    });
  });

  it('reports every file missing when nothing is built, and skips folders without a valid manifest', () => {
    write(path.join(root, 'assets/guests/deb/guest.json'), JSON.stringify(manifest));
    write(path.join(root, 'assets/guests/lib/x.ts'), '');
    write(path.join(root, 'assets/guests/broken/guest.json'), '{not json');
    const guests = loadGuests(path.join(root, 'assets/guests'), path.join(root, 'cache'));
    expect(guests.map((g) => [g.id, g.available, g.missing])).toEqual([
      ['deb', false, ['Image', 'initrd.cpio']],
    ]);
  });
});
