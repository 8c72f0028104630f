/**
 * Crash safety: a process writing to a qcow2 image through the block layer is killed (SIGKILL)
 * at random moments, again and again on the same image; after every kill `qemu-img check` must
 * find no corruption (leaked clusters are allowed: exit code 0 or 3), and the image must keep
 * opening for the next writer. Small clusters make refcount blocks and refcount table growth
 * happen during the run, so those paths get killed too.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { qcow2Create } from '../../engine/block/qcow2-create.js';

const WRITER = resolve(import.meta.dirname, 'kill-writer.ts');
const dir = mkdtempSync(join(tmpdir(), 'vmstudio-kill-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function killAfterReady(file: string, seed: number, delayMs: number): Promise<void> {
  return new Promise((res, rej) => {
    const child = spawn(process.execPath, ['--import', 'tsx', WRITER, file, String(seed)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    child.stdout.on('data', (d) => {
      if (String(d).includes('ready')) setTimeout(() => child.kill('SIGKILL'), delayMs);
    });
    child.on('exit', (code, sig) =>
      sig === 'SIGKILL' ? res() : rej(new Error(`writer exited ${code}: ${err}`)),
    );
  });
}

describe('killing the engine mid-write', () => {
  for (const [name, clusterSize] of [
    ['512-byte clusters', 512],
    ['64k clusters', 65536],
  ] as const) {
    it(`leaves an image qemu-img check accepts (${name})`, async () => {
      const file = join(dir, `kill-${clusterSize}.qcow2`);
      await qcow2Create({ filename: file, size: 64 << 20, clusterSize });
      const initial = statSync(file).size;
      for (let round = 0; round < 8; round++) {
        await killAfterReady(file, round * 7919 + clusterSize, 150 + ((round * 137) % 500));
        const r = spawnSync('qemu-img', ['check', file], { encoding: 'utf8' });
        expect(r.stderr.split('\n').filter((l) => l.startsWith('ERROR'))).toEqual([]);
        expect([0, 3]).toContain(r.status);
      }
      // The writers really allocated (the kills hit a growing image, not an idle one).
      expect(statSync(file).size).toBeGreaterThan(initial + 1024 * 1024);
      // Whatever leaked is repairable, after which the image is clean.
      const repair = spawnSync('qemu-img', ['check', '-r', 'leaks', file], { encoding: 'utf8' });
      expect(repair.status).toBe(0);
    }, 120000);
  }
});
