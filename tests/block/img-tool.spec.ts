/**
 * vmstudio-img against qemu-img 7.2: the same command lines print the same text (our program name
 * in place of "qemu-img", dates aside) and exit the same; images each tool makes are accepted by
 * the other; malformed images are refused with QEMU's messages and never crash us.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, openSync, rmSync, writeSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { imgMain } from '../../engine/qemu-img/qemu-img.js';
import { bdrvOpen, bdrvUnref } from '../../engine/block/block.js';
import { BlockIoError } from '../../engine/block/block-error.js';

const dir = mkdtempSync(join(tmpdir(), 'vmstudio-img-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Run {
  code: number;
  out: string;
  err: string;
}

async function ours(...args: string[]): Promise<Run> {
  let out = '';
  let err = '';
  const code = await imgMain(args, { out: (t) => (out += t), err: (t) => (err += t) });
  return { code, out, err };
}

function theirs(...args: string[]): Run {
  const r = spawnSync('qemu-img', args, { encoding: 'utf8', cwd: dir });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr.replace(/^qemu-img:/gm, 'vmstudio-img:') };
}

/** Run both in `dir` (relative names as users type them). */
async function both(...args: string[]): Promise<[Run, Run]> {
  const cwd = process.cwd();
  process.chdir(dir);
  try {
    const a = await ours(...args);
    return [a, theirs(...args)];
  } finally {
    process.chdir(cwd);
  }
}

const noDates = (s: string): string => s.replace(/\d{4}-\d\d-\d\d \d\d:\d\d:\d\d/g, 'DATE');

describe('vmstudio-img prints what qemu-img prints', () => {
  it('create, info (human and json), check, snapshot -l', async () => {
    const cases: string[][] = [
      ['create', '-f', 'qcow2', 'a.qcow2', '64M'],
      ['create', '-f', 'qcow2', '-o', 'compat=0.10,cluster_size=4096', 'v2.qcow2', '10M'],
      ['create', '-f', 'raw', 'r.img', '1G'],
    ];
    for (const c of cases) {
      const [a, b] = await both(...c);
      expect(a).toEqual(b);
    }
    // Each tool's image, described by the other (the files are byte-comparable in layout).
    execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', '-b', 'a.qcow2', '-F', 'qcow2', 'o.qcow2'], {
      cwd: dir,
    });
    for (const c of [
      ['info', 'a.qcow2'],
      ['info', '--output=json', 'o.qcow2'],
      ['info', 'v2.qcow2'],
      ['info', 'r.img'],
      ['info', '--backing-chain', 'o.qcow2'],
      ['check', 'a.qcow2'],
      ['check', '--output=json', 'a.qcow2'],
      ['snapshot', '-c', 's1', 'a.qcow2'],
    ]) {
      const [a, b] = await both(...c);
      expect({ cmd: c, ...a }).toEqual({ cmd: c, ...b });
    }
    const [a, b] = await both('snapshot', '-l', 'a.qcow2');
    expect(noDates(a.out)).toBe(noDates(b.out));
    expect(a.out).toContain('s1');
  });

  it('refuses bad arguments with the same messages and exit codes', async () => {
    for (const c of [
      ['create', '-f', 'qcow2', 'x.qcow2', 'abc'],
      ['create', '-f', 'qcow2', 'y.qcow2'],
      ['create', '-f', 'qcow2', '-o', 'cluster_size=1000', 'x.qcow2', '1M'],
      ['create', '-f', 'qcow2', '-o', 'compat=2', 'x.qcow2', '1M'],
      ['create', '-f', 'qcow2', '-o', 'refcount_bits=3', 'x.qcow2', '1M'],
      ['create', '-f', 'qcow2', '-o', 'refcount_bits=8,compat=0.10', 'x.qcow2', '1M'],
      ['create', '-f', 'qcow2', '-o', 'foo=bar', 'x.qcow2', '1M'],
      ['create', '-f', 'qcow2', '-b', 'nothere', '-F', 'raw', 'o3.qcow2'],
      ['info', 'nonexist.qcow2'],
      ['snapshot', '-d', 'nosuch', 'a.qcow2'],
    ]) {
      const [a, b] = await both(...c);
      expect({ cmd: c, ...a }).toEqual({ cmd: c, ...b });
    }
  });
});

describe('interoperability', () => {
  it('qemu-img accepts what we convert, we read what qemu-img converts', async () => {
    const src = join(dir, 'data.raw');
    const fd = openSync(src, 'w');
    const chunk = Buffer.alloc(65536);
    for (let i = 0; i < 40; i++) {
      chunk.fill(i * 7 + 1);
      writeSync(fd, chunk, 0, chunk.length, i * 3 * 65536 + (i % 3) * 777);
    }
    closeSync(fd);
    for (const args of [[], ['-c'], ['-o', 'compat=0.10,cluster_size=8192']]) {
      const q = join(dir, `ours${args.join('')}.qcow2`);
      expect((await ours('convert', '-f', 'raw', '-O', 'qcow2', ...args, src, q)).code).toBe(0);
      expect(theirs('check', q).code).toBe(0);
      expect(theirs('compare', '-f', 'raw', '-F', 'qcow2', src, q).out).toBe('Images are identical.\n');
      const back = join(dir, `back${args.join('')}.raw`);
      expect((await ours('convert', '-f', 'qcow2', '-O', 'raw', q, back)).code).toBe(0);
      expect(theirs('compare', '-f', 'raw', '-F', 'raw', src, back).code).toBe(0);
    }
    const qq = join(dir, 'theirs.qcow2');
    execFileSync('qemu-img', ['convert', '-c', '-f', 'raw', '-O', 'qcow2', src, qq]);
    const back = join(dir, 'theirs-back.raw');
    expect((await ours('convert', '-f', 'qcow2', '-O', 'raw', qq, back)).code).toBe(0);
    expect(theirs('compare', '-f', 'raw', '-F', 'raw', src, back).code).toBe(0);
  });

  it('check finds and repairs leaks like qemu-img', async () => {
    const f = join(dir, 'leak.qcow2');
    execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', f, '16M']);
    execFileSync('qemu-io', ['-c', 'write -P 1 0 128k', f]);
    // Drop the L1 entry: the L2 table and the data clusters leak.
    const fd = openSync(f, 'r+');
    writeSync(fd, Buffer.alloc(8), 0, 8, 0x30000);
    closeSync(fd);
    const a = await ours('check', f);
    const b = theirs('check', f);
    expect(a).toEqual(b);
    expect(a.code).toBe(3);
    const copy = join(dir, 'leak2.qcow2');
    copyFileSync(f, copy);
    const ra = await ours('check', '-r', 'leaks', f);
    const rb = theirs('check', '-r', 'leaks', copy);
    expect(ra.code).toBe(rb.code);
    expect(ra.out).toBe(rb.out);
    expect(theirs('check', f).code).toBe(0);
  });
});

describe('malformed images are refused with QEMU messages', () => {
  const base = join(dir, 'base.qcow2');
  execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', base, '64M']);
  const patch = (name: string, patches: Array<[number, number, bigint | number]>): string => {
    const f = join(dir, name);
    copyFileSync(base, f);
    const fd = openSync(f, 'r+');
    for (const [off, size, v] of patches) {
      const b = Buffer.alloc(size);
      if (size === 8) b.writeBigUInt64BE(BigInt(v));
      else b.writeUInt32BE(Number(v));
      writeSync(fd, b, 0, size, off);
    }
    closeSync(fd);
    return f;
  };
  const cases: Array<[string, Array<[number, number, bigint | number]>]> = [
    ['ver4', [[4, 4, 4]]],
    ['cb8', [[20, 4, 8]]],
    ['cb22', [[20, 4, 22]]],
    ['hdrlen', [[100, 4, 50]]],
    ['hdrlen2', [[100, 4, 0x20000]]],
    ['reforder', [[96, 4, 7]]],
    ['incompat', [[72, 8, 1n << 10n]]],
    ['size', [[24, 8, 1n << 62n]]],
    ['l1big', [[36, 4, 0x3fffffff]]],
    ['l1small', [[24, 8, 1n << 40n]]],
    ['l1off', [[40, 8, 0x30001]]],
    ['rtoff', [[48, 8, 0x10003]]],
    ['rtclusters', [[56, 4, 0x1000000]]],
    ['crypt', [[32, 4, 3]]],
    [
      'snaps',
      [
        [60, 4, 100000],
        [64, 8, 0x50000],
      ],
    ],
    [
      'snapoff',
      [
        [60, 4, 1],
        [64, 8, 0x50003],
      ],
    ],
    [
      'bfoff',
      [
        [8, 8, 0x20000],
        [16, 4, 2000],
      ],
    ],
    [
      'bfname',
      [
        [8, 8, 0x300],
        [16, 4, 2000],
      ],
    ],
    [
      'extlen',
      [
        [0x70, 4, 0x6803f857],
        [0x74, 4, 0x100000],
      ],
    ],
  ];
  for (const [name, patches] of cases) {
    it(`${name}: same refusal as qemu-img info`, async () => {
      const f = patch(`m-${name}.qcow2`, patches);
      const a = await ours('info', f);
      const b = theirs('info', f);
      expect(a).toEqual(b);
      expect(a.code).toBe(1);
    });
  }

  it('tables pointing at metadata or misaligned offsets fail requests, not the process', async () => {
    // An L1 entry naming the refcount table as its L2 table: reads return those bytes (as in
    // QEMU), a write is refused before it can overwrite metadata.
    const meta = patch('m-l2-at-reftable.qcow2', [[0x30000, 8, 0x8000000000010000n]]);
    const before = theirs('check', meta);
    expect(before.code).toBe(2);
    const bs = await bdrvOpen({ driver: 'qcow2', filename: meta });
    await expect(bs.drv.pwrite(0, new Uint8Array(4096).fill(0xff))).rejects.toThrow(BlockIoError);
    await bdrvUnref(bs);
    const after = theirs('check', meta);
    expect(after.err).toBe(before.err);
    expect(theirs('info', meta).out).toContain('corrupt: true');
    // A misaligned L2 offset: reads fail with EIO, the tool exits 1, check reports the error.
    const bad = patch('m-l2-unaligned.qcow2', [[0x30000, 8, 0x8000000000012000n]]);
    const conv = await ours('convert', '-f', 'qcow2', '-O', 'raw', bad, `${bad}.raw`);
    expect(conv.code).toBe(1);
    const c = await ours('check', bad);
    expect(c.code).toBe(2);
    expect(c.err).toContain('ERROR l2_offset=12000: Table is not cluster aligned; L1 entry corrupted');
    expect(theirs('check', bad).code).toBe(2);
  });
});
