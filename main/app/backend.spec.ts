/**
 * The backend finds the default guest's builds, and builds it, in the guest cache folder it was given
 * (the data folder's in an installed app), never in the app's own folder.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { GuestTemplate, VmSummary } from '../api/contract.js';
import { createBackend, defaultGuestBuilder, type Backend } from './backend.js';
import { appPaths } from './paths.js';
import { fakeEngineCommand } from '../supervisor/testing/fake-engine.js';

let dir: string;
let backend: Backend | undefined;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vmstudio-backend-'));
});
afterEach(async () => {
  await backend?.close();
  backend = undefined;
  fs.rmSync(dir, { recursive: true, force: true });
});

/** A complete build as assets/guests/debian-riscv64/build.ts publishes it. */
function fakeBuild(cacheRoot: string): string {
  const build = path.join(cacheRoot, 'guests', 'debian-riscv64', 'builds', '6.12-test');
  fs.mkdirSync(build, { recursive: true });
  for (const f of ['Image', 'initrd.cpio', 'fw_dynamic.bin']) fs.writeFileSync(path.join(build, f), f);
  fs.writeFileSync(path.join(build, 'guest.json'), '{}');
  return build;
}

async function open(cacheDir: string): Promise<Backend> {
  backend = await createBackend({
    dataDir: path.join(dir, 'data'),
    mode: 'web',
    guestsDir: appPaths.guests,
    cacheDir,
    engine: fakeEngineCommand(),
  });
  return backend;
}

describe('createBackend and the guest cache', () => {
  it('offers the shipped Debian guest from a build in its cache folder', async () => {
    const cache = path.join(dir, 'data', 'cache');
    fakeBuild(cache);
    const b = await open(cache);
    const guests = (await b.service.handlers['guests.list']()) as GuestTemplate[];
    expect(guests.find((g) => g.id === 'debian-riscv64')).toMatchObject({ available: true, missing: [] });
    // The default VM was seeded from it.
    const vms = (await b.service.handlers['vms.list']()) as VmSummary[];
    expect(vms.map((v) => v.guest)).toContain('debian-riscv64');
  });

  it('says which files are missing when its cache folder has no build', async () => {
    const b = await open(path.join(dir, 'empty-cache'));
    const guests = (await b.service.handlers['guests.list']()) as GuestTemplate[];
    expect(guests.find((g) => g.id === 'debian-riscv64')).toMatchObject({
      available: false,
      missing: expect.arrayContaining(['Image', 'initrd.cpio', 'fw_dynamic.bin']),
    });
  });

  it('builds into the cache folder it was given (here with the mirror unreachable: a clear message)', async () => {
    const cache = path.join(dir, 'data', 'cache');
    const saved = process.env.VMSTUDIO_DEBIAN_MIRROR;
    process.env.VMSTUDIO_DEBIAN_MIRROR = 'http://127.0.0.1:9/debian';
    try {
      const builder = defaultGuestBuilder(cache);
      expect(builder.canPrepare('debian-riscv64')).toBe(true);
      expect(builder.canPrepare('other')).toBe(false);
      await expect(builder.prepare('debian-riscv64', () => {})).rejects.toThrow(
        /the Debian mirror is unreachable .*VMSTUDIO_DEBIAN_MIRROR/s,
      );
    } finally {
      if (saved === undefined) delete process.env.VMSTUDIO_DEBIAN_MIRROR;
      else process.env.VMSTUDIO_DEBIAN_MIRROR = saved;
    }
    // The builder's working files went to the given cache folder.
    expect(fs.readdirSync(path.join(cache, 'guests', 'debian-riscv64'))).toContain('apt');
  });
});
