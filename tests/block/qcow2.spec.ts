/**
 * qcow2 driver against QEMU's own tools: images we write pass `qemu-img check` and read back the
 * same through `qemu-io`/`qemu-img convert`; images qemu-img writes (v2, v3, compressed, small
 * clusters, other refcount widths, backing chains, snapshots) read back the same through us.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { bdrvOpen, bdrvUnref, type BlockDriverState } from '../../engine/block/block.js';
import { Qcow2Driver } from '../../engine/block/qcow2.js';
import { qcow2Create } from '../../engine/block/qcow2-create.js';
import { qcow2Check } from '../../engine/block/qcow2-check.js';
import {
  qcow2LoadVmstate,
  qcow2SaveVmstate,
  qcow2SnapshotCreate,
  qcow2SnapshotDelete,
  qcow2SnapshotGoto,
} from '../../engine/block/qcow2-snapshot.js';

const dir = mkdtempSync(join(tmpdir(), 'vmstudio-qcow2-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const p = (n: string): string => join(dir, n);

function qemuImg(...args: string[]): { code: number; out: string; err: string } {
  const r = spawnSync('qemu-img', args, { encoding: 'utf8' });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

function expectClean(file: string): void {
  const r = qemuImg('check', file);
  expect(r.err).toBe('');
  expect(r.out).toContain('No errors were found on the image.');
  expect(r.code).toBe(0);
}

/** Deterministic pseudo-random bytes. */
function pattern(len: number, seed: number): Uint8Array {
  const b = new Uint8Array(len);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < len; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    b[i] = x & 0xff;
  }
  return b;
}

async function open(file: string, readOnly = false): Promise<BlockDriverState> {
  return bdrvOpen({ filename: file, 'read-only': readOnly });
}

/** Apply random writes/zeroes/discards to an image and to an in-memory model; both must agree. */
async function exercise(bs: BlockDriverState, model: Uint8Array, ops: number, seed: number): Promise<void> {
  const rnd = pattern(ops * 16, seed);
  const dv = new DataView(rnd.buffer);
  for (let i = 0; i < ops; i++) {
    const kind = rnd[i * 16]! % 6;
    const off = dv.getUint32(i * 16 + 4) % (model.length - 1);
    const len = Math.min(model.length - off, 1 + (dv.getUint32(i * 16 + 8) % 300000));
    if (kind <= 3) {
      const data = pattern(len, seed * 1000 + i);
      await bs.drv.pwrite(off, data);
      model.set(data, off);
    } else if (kind === 4) {
      await bs.drv.pwriteZeroes(off, len, false);
      model.fill(0, off, off + len);
    } else {
      // Discard content is unspecified: model it as "reads zero" only for whole clusters without
      // backing, which is what our driver does; compare afterwards by reading back instead.
      await bs.drv.pwriteZeroes(off, len, true);
      model.fill(0, off, off + len);
    }
  }
}

describe('qcow2 written by us, checked by qemu-img', () => {
  for (const [name, opts] of [
    ['v3 64k', { clusterSize: 65536, version: 3 as const }],
    ['v2 4k', { clusterSize: 4096, version: 2 as const }],
    ['v3 512b clusters (refcount table growth)', { clusterSize: 512, version: 3 as const }],
    ['v3 refcount_bits=1', { clusterSize: 65536, version: 3 as const, refcountBits: 1 }],
    ['v3 refcount_bits=64', { clusterSize: 4096, version: 3 as const, refcountBits: 64 }],
  ] as const) {
    it(`random I/O keeps data and metadata right (${name})`, async () => {
      const file = p(`rw-${name.replace(/\W+/g, '_')}.qcow2`);
      const size = 24 << 20;
      await qcow2Create({ filename: file, size, ...opts });
      const bs = await open(file);
      const model = new Uint8Array(size);
      await exercise(bs, model, 60, 7);
      const back = new Uint8Array(size);
      await bs.drv.pread(0, back);
      expect(Buffer.compare(Buffer.from(back), Buffer.from(model))).toBe(0);
      await bdrvUnref(bs);
      expectClean(file);
      // QEMU reads the same bytes.
      execFileSync('qemu-img', ['convert', '-f', 'qcow2', '-O', 'raw', file, `${file}.raw`]);
      expect(Buffer.compare(readFileSync(`${file}.raw`), Buffer.from(model))).toBe(0);
    });
  }

  it('internal snapshots: create, write, revert, delete; qemu-img lists and checks them', async () => {
    const file = p('snap.qcow2');
    await qcow2Create({ filename: file, size: 8 << 20, clusterSize: 4096 });
    const bs = await open(file);
    const q = bs.drv as Qcow2Driver;
    const a = pattern(1 << 20, 1);
    await q.pwrite(0, a);
    await qcow2SnapshotCreate(q, { name: 'first', vmStateSize: 0 });
    await qcow2SaveVmstate(q, pattern(10000, 9), 0);
    await qcow2SnapshotCreate(q, { name: 'second', vmStateSize: 10000, vmClockNsec: 1_500_000_000 });
    await q.pwrite(4096 * 3 + 100, pattern(50000, 2));
    await q.pwriteZeroes(0, 8192, false);
    expect(qemuImg('check', file).code).toBe(0);
    const list = qemuImg('snapshot', '-l', file).out;
    expect(list).toMatch(/^1 +first +0 B /m);
    expect(list).toMatch(/^2 +second +9\.77 KiB .* 00:00:01\.500 /m);
    await qcow2SnapshotGoto(q, 'first');
    const back = new Uint8Array(1 << 20);
    await q.pread(0, back);
    expect(Buffer.compare(Buffer.from(back), Buffer.from(a))).toBe(0);
    await qcow2SnapshotGoto(q, '2');
    const vm = new Uint8Array(10000);
    await qcow2LoadVmstate(q, vm, 0);
    expect(Buffer.compare(Buffer.from(vm), Buffer.from(pattern(10000, 9)))).toBe(0);
    await qcow2SnapshotDelete(q, null, 'first');
    await q.pwrite(0, pattern(3 << 20, 3));
    expect((await qcow2Check(q, 'none')).corruptions).toBe(0);
    await bdrvUnref(bs);
    expectClean(file);
    expect(qemuImg('snapshot', '-l', file).out).not.toContain('first');
    // QEMU can revert to what we saved.
    expect(qemuImg('snapshot', '-a', 'second', file).code).toBe(0);
    expectClean(file);
  });

  it('a backing chain of any depth reads through, overlays copy on write', async () => {
    const base = p('chain0.qcow2');
    await qcow2Create({ filename: base, size: 4 << 20 });
    let bs = await open(base);
    await bs.drv.pwrite(0, pattern(4 << 20, 10));
    await bdrvUnref(bs);
    let prev = base;
    for (let i = 1; i <= 4; i++) {
      const f = p(`chain${i}.qcow2`);
      execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', '-b', prev, '-F', 'qcow2', f]);
      prev = f;
    }
    bs = await open(prev);
    expect(bs.backingDepth()).toBe(4);
    await bs.drv.pwrite(1000, new Uint8Array(10).fill(0xee));
    const back = new Uint8Array(4 << 20);
    await bs.drv.pread(0, back);
    const want = pattern(4 << 20, 10);
    want.fill(0xee, 1000, 1010);
    expect(Buffer.compare(Buffer.from(back), Buffer.from(want))).toBe(0);
    await bdrvUnref(bs);
    expectClean(prev);
    // The base is untouched.
    expect(
      qemuImg('compare', '-f', 'qcow2', '-F', 'raw', base, writeRaw('base.raw', pattern(4 << 20, 10))).code,
    ).toBe(0);
  });
});

function writeRaw(name: string, data: Uint8Array): string {
  writeFileSync(p(name), data);
  return p(name);
}

describe('qcow2 written by qemu-img, read by us', () => {
  const raw = writeRaw(
    'src.raw',
    (() => {
      const d = new Uint8Array(6 << 20);
      d.set(pattern(1 << 20, 20), 0);
      d.set(pattern(300000, 21), 3 << 20);
      d.fill(0x41, (5 << 20) + 7, (5 << 20) + 9000);
      return d;
    })(),
  );
  for (const [name, args] of [
    ['v3', []],
    ['v2 (compat=0.10)', ['-o', 'compat=0.10']],
    ['compressed', ['-c']],
    ['compressed 4k clusters', ['-c', '-o', 'cluster_size=4096']],
    ['refcount_bits=8, 1k clusters', ['-o', 'refcount_bits=8,cluster_size=1024']],
  ] as const) {
    it(`reads ${name} exactly as the source`, async () => {
      const f = p(`q-${name.replace(/\W+/g, '_')}.qcow2`);
      execFileSync('qemu-img', ['convert', '-f', 'raw', '-O', 'qcow2', ...args, raw, f]);
      const bs = await open(f, true);
      const back = new Uint8Array(6 << 20);
      await bs.drv.pread(0, back);
      await bdrvUnref(bs);
      expect(Buffer.compare(Buffer.from(back), readFileSync(raw))).toBe(0);
    });
  }

  it('rewrites compressed clusters in place of QEMU and stays clean', async () => {
    const f = p('rewrite-compressed.qcow2');
    execFileSync('qemu-img', ['convert', '-c', '-f', 'raw', '-O', 'qcow2', raw, f]);
    const bs = await open(f);
    await bs.drv.pwrite(100, new Uint8Array(5000).fill(1));
    await bs.drv.pwriteZeroes(3 << 20, 65536, false);
    await bdrvUnref(bs);
    expectClean(f);
    const model = new Uint8Array(readFileSync(raw));
    model.fill(1, 100, 5100);
    model.fill(0, 3 << 20, (3 << 20) + 65536);
    expect(qemuImg('compare', '-f', 'qcow2', '-F', 'raw', f, writeRaw('rewrite.raw', model)).code).toBe(0);
  });
});
