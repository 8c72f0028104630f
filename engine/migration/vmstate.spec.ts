import { describe, expect, it } from 'vitest';
import type { VMStateDescription, VMStateField, VMStateInfo } from './vmstate-types.js';
import {
  vmdescToJson,
  vmstateDescribe,
  vmstateLoadFromBytes,
  vmstateLoadState,
  vmstateSaveToBytes,
} from './vmstate.js';
import { QemuFileReader, QemuFileWriter } from './qemu-file.js';
import { MigrationError } from './migration-error.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

function vmsd(fields: VMStateField[], extra: Partial<VMStateDescription> = {}): VMStateDescription {
  return { name: 'dev', versionId: 1, minimumVersionId: 1, fields, ...extra };
}

function errOf(fn: () => unknown): MigrationError {
  try {
    fn();
  } catch (e) {
    if (e instanceof MigrationError) return e;
    throw e;
  }
  throw new Error('no error');
}

describe('scalar kinds', () => {
  const d = vmsd([
    { name: 'b', kind: 'bool' },
    { name: 'u8', kind: 'uint8' },
    { name: 'i8', kind: 'int8' },
    { name: 'u16', kind: 'uint16' },
    { name: 'i16', kind: 'int16' },
    { name: 'u32', kind: 'uint32' },
    { name: 'i32', kind: 'int32' },
    { name: 'u64', kind: 'uint64' },
    { name: 'i64', kind: 'int64' },
    { name: 'f', kind: 'float64' },
  ]);
  const src = {
    b: true,
    u8: 0xab,
    i8: -2,
    u16: 0xbeef,
    i16: -3,
    u32: 0xdeadbeef,
    i32: -4,
    u64: 0xfedcba9876543210n,
    i64: -5,
    f: 1.5,
  };

  it('writes big-endian, in field order, with QEMU sizes', () => {
    expect(hex(vmstateSaveToBytes(d, src))).toBe(
      '01' +
        'ab' +
        'fe' +
        'beef' +
        'fffd' +
        'deadbeef' +
        'fffffffc' +
        'fedcba9876543210' +
        'fffffffffffffffb' +
        '3ff8000000000000',
    );
  });

  it('reads back the same values (signed kinds sign-extended, big 64-bit values as bigint)', () => {
    const dst = {
      b: false,
      u8: 0,
      i8: 0,
      u16: 0,
      i16: 0,
      u32: 0,
      i32: 0,
      u64: 0 as number | bigint,
      i64: 0,
      f: 0,
    };
    vmstateLoadFromBytes(d, dst, vmstateSaveToBytes(d, src));
    expect(dst).toEqual({ ...src });
  });

  it('keeps a bigint field a bigint even for small values', () => {
    const o = { v: 7n };
    const dd = vmsd([{ name: 'v', kind: 'uint64' }]);
    vmstateLoadFromBytes(dd, o, vmstateSaveToBytes(dd, { v: 9 }));
    expect(o.v).toBe(9n);
  });

  it('describes each field with its QEMU type name and size', () => {
    const desc = vmstateDescribe(d, src);
    expect(vmdescToJson(desc)).toBe(
      '{"vmsd_name": "dev", "version": 1, "fields": [' +
        [
          ['b', 'bool', 1],
          ['u8', 'uint8', 1],
          ['i8', 'int8', 1],
          ['u16', 'uint16', 2],
          ['i16', 'int16', 2],
          ['u32', 'uint32', 4],
          ['i32', 'int32', 4],
          ['u64', 'uint64', 8],
          ['i64', 'int64', 8],
          ['f', 'float64', 8],
        ]
          .map(([n, t, s]) => `{"name": "${n}", "type": "${t}", "size": ${s}}`)
          .join(', ') +
        ']}',
    );
  });
});

describe('arrays, buffers, structs', () => {
  it('saves typed arrays element by element and loads them in place', () => {
    const d = vmsd([
      { name: 'regs', kind: 'array', elem: 'uint32', length: 3 },
      { name: 'wide', kind: 'array', elem: 'uint64' },
    ]);
    const src = { regs: new Uint32Array([1, 2, 0xffffffff]), wide: new BigUint64Array([5n, 1n << 63n]) };
    const bytes = vmstateSaveToBytes(d, src);
    expect(hex(bytes)).toBe('00000001' + '00000002' + 'ffffffff' + '0000000000000005' + '8000000000000000');
    const dst = { regs: new Uint32Array(3), wide: new BigUint64Array(2) };
    const regsRef = dst.regs;
    vmstateLoadFromBytes(d, dst, bytes);
    expect(dst.regs).toBe(regsRef);
    expect([...dst.regs]).toEqual([1, 2, 0xffffffff]);
    expect([...dst.wide]).toEqual([5n, 1n << 63n]);
    expect(vmdescToJson(vmstateDescribe(d, src))).toContain(
      '{"name": "regs", "array_len": 3, "type": "uint32", "size": 4}',
    );
  });

  it('varray takes its length from an earlier field; loading refuses more elements than fit', () => {
    const d = vmsd([
      { name: 'n', kind: 'uint8' },
      { name: 'q', kind: 'varray', elem: 'uint16', lengthField: 'n' },
    ]);
    const bytes = vmstateSaveToBytes(d, { n: 2, q: new Uint16Array([7, 8, 9]) });
    expect(hex(bytes)).toBe('02' + '0007' + '0008');
    const dst = { n: 0, q: new Uint16Array(3) };
    vmstateLoadFromBytes(d, dst, bytes);
    expect([...dst.q]).toEqual([7, 8, 0]);
    const tooMany = Uint8Array.from([4, 0, 1, 0, 2, 0, 3, 0, 4]);
    const small = { n: 0, q: new Uint16Array(3) };
    expect(errOf(() => vmstateLoadFromBytes(d, small, tooMany)).reports.at(-1)).toBe('Failed to load dev:q');
  });

  it('buffer is raw bytes', () => {
    const d = vmsd([{ name: 'buf', kind: 'buffer', length: 4 }]);
    const bytes = vmstateSaveToBytes(d, { buf: Uint8Array.from([1, 2, 3, 4, 5]) });
    expect(hex(bytes)).toBe('01020304');
    const dst = { buf: new Uint8Array(4) };
    vmstateLoadFromBytes(d, dst, bytes);
    expect([...dst.buf]).toEqual([1, 2, 3, 4]);
    expect(vmdescToJson(vmstateDescribe(d, { buf: new Uint8Array(4) }))).toContain(
      '{"name": "buf", "type": "buffer", "size": 4}',
    );
  });

  it('struct and struct-array nest without headers and describe the nested vmsd', () => {
    const inner = vmsd([{ name: 'x', kind: 'uint16' }], { name: 'inner', versionId: 2, minimumVersionId: 1 });
    const d = vmsd([
      { name: 's', kind: 'struct', vmsd: inner },
      { name: 'list', kind: 'struct-array', vmsd: inner, length: 2 },
    ]);
    const src = { s: { x: 1 }, list: [{ x: 2 }, { x: 3 }] };
    const bytes = vmstateSaveToBytes(d, src);
    expect(hex(bytes)).toBe('0001' + '0002' + '0003');
    const dst = { s: { x: 0 }, list: [{ x: 0 }, { x: 0 }] };
    vmstateLoadFromBytes(d, dst, bytes);
    expect(dst).toEqual(src);
    expect(vmdescToJson(vmstateDescribe(d, src))).toBe(
      '{"vmsd_name": "dev", "version": 1, "fields": [' +
        '{"name": "s", "type": "struct", "struct": {"vmsd_name": "inner", "version": 2, "fields": [{"name": "x", "type": "uint16", "size": 2}]}, "size": 2}, ' +
        '{"name": "list", "array_len": 2, "type": "struct", "struct": {"vmsd_name": "inner", "version": 2, "fields": [{"name": "x", "type": "uint16", "size": 2}]}, "size": 2}]}',
    );
  });

  it('custom infos encode themselves (QEMU VMStateInfo)', () => {
    const pair: VMStateInfo = {
      name: 'uint64',
      size: 8,
      put: (out, o) => {
        out.u32(o.hi);
        out.u32(o.lo);
      },
      get: (inp, o) => {
        o.hi = inp.u32();
        o.lo = inp.u32();
      },
    };
    const d = vmsd([{ name: 'pc', kind: 'custom', info: pair }]);
    const dst = { lo: 0, hi: 0 };
    vmstateLoadFromBytes(d, dst, vmstateSaveToBytes(d, { lo: 0x1000, hi: 0x80 }));
    expect(dst).toEqual({ lo: 0x1000, hi: 0x80 });
  });

  it('repeated field names are made unique in the description as QEMU does (name[n])', () => {
    const d = vmsd([
      { name: 'off', kind: 'uint32', fieldExists: (o) => o.wide === false },
      { name: 'off', kind: 'uint64', fieldExists: (o) => o.wide === true },
    ]);
    expect(vmdescToJson(vmstateDescribe(d, { off: 1, wide: true }))).toContain(
      '"name": "off[1]", "type": "uint64"',
    );
  });
});

describe('versions and subsections', () => {
  const d: VMStateDescription = {
    name: 'dev',
    versionId: 3,
    minimumVersionId: 2,
    fields: [
      { name: 'a', kind: 'uint8' },
      { name: 'b', kind: 'uint8', versionId: 3 },
    ],
    subsections: [
      {
        name: 'dev/extra',
        versionId: 1,
        minimumVersionId: 1,
        needed: (o) => o.extra !== 0,
        fields: [{ name: 'extra', kind: 'uint16' }],
      },
    ],
  };

  it('fields newer than the stream version are absent', () => {
    const dst = { a: 0, b: 9, extra: 0 };
    const f = new QemuFileReader(Uint8Array.from([5]));
    vmstateLoadState(f, d, dst, 2);
    expect(dst).toEqual({ a: 5, b: 9, extra: 0 });
  });

  it('refuses versions outside [minimum, current] with QEMU texts', () => {
    expect(errOf(() => vmstateLoadState(new QemuFileReader(new Uint8Array(4)), d, {}, 4)).message).toBe(
      'dev: incoming version_id 4 is too new for local version_id 3',
    );
    expect(errOf(() => vmstateLoadState(new QemuFileReader(new Uint8Array(4)), d, {}, 1)).message).toBe(
      'dev: incoming version_id 1 is too old for local minimum version_id  2',
    );
  });

  it('sends a subsection only when needed, and loads it when present', () => {
    expect(hex(vmstateSaveToBytes(d, { a: 1, b: 2, extra: 0 }))).toBe('0102');
    const bytes = vmstateSaveToBytes(d, { a: 1, b: 2, extra: 0x1234 });
    expect(hex(bytes)).toBe(
      '0102' + '05' + '09' + Buffer.from('dev/extra').toString('hex') + '00000001' + '1234',
    );
    const dst = { a: 0, b: 0, extra: 0 };
    vmstateLoadFromBytes(d, dst, bytes);
    expect(dst).toEqual({ a: 1, b: 2, extra: 0x1234 });
    expect(vmdescToJson(vmstateDescribe(d, { a: 1, b: 2, extra: 1 }))).toContain(
      '"subsections": [{"vmsd_name": "dev/extra", "version": 1, "fields": [{"name": "extra", "type": "uint16", "size": 2}]}]',
    );
  });

  it('refuses an unknown subsection (ENOENT, nothing reported, as QEMU)', () => {
    const w = new QemuFileWriter();
    w.u8(1);
    w.u8(2);
    w.u8(5);
    w.str8('dev/other');
    w.u32(1);
    const e = errOf(() => vmstateLoadFromBytes(d, { a: 0, b: 0, extra: 0 }, w.data()));
    expect(e.errno).toBe(2);
    expect(e.reports).toEqual([]);
  });

  it('leaves a subsection of another section to the caller', () => {
    const w = new QemuFileWriter();
    w.u8(1);
    w.u8(2);
    w.u8(5);
    w.str8('zzz/other');
    const f = new QemuFileReader(w.data());
    vmstateLoadState(f, d, { a: 0, b: 0, extra: 0 }, 3);
    expect(f.offset).toBe(2);
  });

  it('runs pre_save before writing and pre_load/post_load around reading; post_load can refuse', () => {
    const calls: string[] = [];
    const dd = vmsd([{ name: 'v', kind: 'uint8' }], {
      preSave: (o) => {
        calls.push('pre_save');
        o.v = o.shadow;
      },
      preLoad: () => calls.push('pre_load'),
      postLoad: (o, v) => {
        calls.push(`post_load v${v} ${o.v}`);
        if (o.v === 0xff) throw new MigrationError(22, 'bad value');
      },
    });
    const bytes = vmstateSaveToBytes(dd, { v: 0, shadow: 42 });
    expect([...bytes]).toEqual([42]);
    vmstateLoadFromBytes(dd, { v: 0 }, bytes);
    expect(calls).toEqual(['pre_save', 'pre_load', 'post_load v1 42']);
    expect(errOf(() => vmstateLoadFromBytes(dd, { v: 0 }, Uint8Array.from([0xff]))).message).toBe(
      'bad value',
    );
  });

  it('truncated data fails with EIO and names the field', () => {
    const e = errOf(() => vmstateLoadFromBytes(d, { a: 0, b: 0, extra: 0 }, Uint8Array.from([1])));
    expect(e.errno).toBe(5);
    expect(e.reports).toEqual(['Failed to load dev:b']);
  });
});
