/**
 * The VMState engine (QEMU's migration/vmstate.c and vmstate-types.c): saves and loads an object's
 * state following its VMStateDescription, and describes what it wrote in the JSON QEMU appends to a
 * stream (the "vmdesc", read by scripts/analyze-migration.py).
 *
 * Wire format per field kind (big-endian, as QEMU's QEMUFile):
 *   bool/uint8/int8 1 byte, (u)int16 2, (u)int32 4, (u)int64 and float64 8; arrays element by element;
 *   buffers raw; structs inline (no header, loaded with the local version of their description);
 *   subsections after the fields as QEMU_VM_SUBSECTION, name (u8 length + bytes), u32 version, data.
 *
 * Loading follows QEMU's rules and error texts: versions outside [minimumVersionId, versionId] are
 * refused, fields newer than the stream's version are skipped, subsections are optional but an
 * unknown one refuses the stream, pre_load runs before and post_load after the fields (and the
 * subsections). Loading writes into the object; callers that must not leave a half-loaded object
 * behind (savevm.ts) take a backup first and restore it on failure.
 */
import type { VMStateDescription, VMStateField, VMStateInfo, VMStateScalarKind } from './vmstate-types.js';
import { QemuFileReader, QemuFileWriter } from './qemu-file.js';
import { EINVAL, ENOENT, MigrationError, isMigrationError } from './migration-error.js';

export const QEMU_VM_SUBSECTION = 0x05;

// -------------------------------------------------------------------------------------------------
// The JSON description (vmdesc)

/** A JSON value as QEMU's JSONWriter prints it: objects keep insertion order. */
export type VmdescValue = number | string | boolean | null | VmdescValue[] | VmdescObject;
export interface VmdescObject {
  [key: string]: VmdescValue;
}

/** QEMU's json_writer output (non-pretty): ", " between members, ": " after keys. */
export function vmdescToJson(v: VmdescValue): string {
  if (v === null) return 'null';
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (typeof v === 'string') return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(vmdescToJson).join(', ')}]`;
  return `{${Object.keys(v)
    .map((k) => `${JSON.stringify(k)}: ${vmdescToJson(v[k]!)}`)
    .join(', ')}}`;
}

// -------------------------------------------------------------------------------------------------
// Scalars

const SCALAR_SIZE: Record<VMStateScalarKind, number> = {
  bool: 1,
  uint8: 1,
  int8: 1,
  uint16: 2,
  int16: 2,
  uint32: 4,
  int32: 4,
  uint64: 8,
  int64: 8,
  float64: 8,
};

/** QEMU's VMSTATE_UNUSED(n): n zero bytes, skipped on load. */
export function vmstateUnused(size: number): VMStateInfo {
  return {
    name: 'unused_buffer',
    size,
    put: (out) => out.bytes(new Uint8Array(size)),
    get: (inp) => void inp.bytes(size),
  };
}

export function vmstateScalarSize(kind: VMStateScalarKind): number {
  return SCALAR_SIZE[kind];
}

function toNumber(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(BigInt.asIntN(64, v));
  if (typeof v === 'boolean') return v ? 1 : 0;
  return 0;
}

function putScalar(f: QemuFileWriter, kind: VMStateScalarKind, v: unknown): void {
  switch (kind) {
    case 'bool':
      f.u8(v ? 1 : 0);
      return;
    case 'uint8':
    case 'int8':
      f.u8(toNumber(v));
      return;
    case 'uint16':
    case 'int16':
      f.u16(toNumber(v));
      return;
    case 'uint32':
    case 'int32':
      f.u32(toNumber(v));
      return;
    case 'uint64':
    case 'int64':
      f.u64(typeof v === 'bigint' ? v : typeof v === 'number' ? v : BigInt(toNumber(v)));
      return;
    case 'float64':
      f.f64(typeof v === 'number' ? v : toNumber(v));
      return;
  }
}

/**
 * Read one scalar. 64-bit values come back as numbers when they fit 2^53 (in the signedness of the
 * kind), as bigints otherwise, or always as bigints when `wantBigint` (the field held a bigint).
 */
function getScalar(f: QemuFileReader, kind: VMStateScalarKind, wantBigint: boolean): unknown {
  switch (kind) {
    case 'bool':
      return f.u8() !== 0;
    case 'uint8':
      return f.u8();
    case 'int8':
      return (f.u8() << 24) >> 24;
    case 'uint16':
      return f.u16();
    case 'int16':
      return (f.u16() << 16) >> 16;
    case 'uint32':
      return f.u32();
    case 'int32':
      return f.u32() | 0;
    case 'uint64': {
      const v = f.u64();
      if (wantBigint) return v;
      return v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
    }
    case 'int64': {
      const v = BigInt.asIntN(64, f.u64());
      if (wantBigint) return v;
      return v <= BigInt(Number.MAX_SAFE_INTEGER) && v >= BigInt(Number.MIN_SAFE_INTEGER) ? Number(v) : v;
    }
    case 'float64':
      return f.f64();
  }
}

function isBigIntArray(a: unknown): a is BigInt64Array | BigUint64Array {
  return a instanceof BigInt64Array || a instanceof BigUint64Array;
}

// -------------------------------------------------------------------------------------------------
// Field helpers

type Obj = Record<string, any>;

function fieldPresentOnSave(field: VMStateField, obj: Obj, versionId: number): boolean {
  return field.fieldExists ? field.fieldExists(obj, versionId) : true;
}

function fieldPresentOnLoad(field: VMStateField, obj: Obj, versionId: number): boolean {
  if (field.versionId !== undefined && field.versionId > versionId) return false;
  return field.fieldExists ? field.fieldExists(obj, versionId) : true;
}

/** Number of elements of an array-like field (QEMU's vmstate_n_elems). */
function elemCount(field: VMStateField, obj: Obj): number {
  if (field.lengthField !== undefined) return toNumber(obj[field.lengthField]);
  if (field.length !== undefined) return field.length;
  const v = obj[field.name] as { length?: number } | undefined;
  return v?.length ?? 0;
}

function container(field: VMStateField, obj: Obj): any {
  const v = obj[field.name];
  if (v === undefined || v === null) {
    throw new Error(`vmstate: field '${field.name}' is missing on the object`);
  }
  return v;
}

/** QEMU's vmfield_name_is_unique / vmfield_name_num: "name[n]" for repeated field names. */
function descName(vmsd: VMStateDescription, field: VMStateField): string {
  let total = 0;
  let index = -1;
  for (const f of vmsd.fields) {
    if (f.name !== field.name) continue;
    if (f === field) index = total;
    total++;
  }
  return total > 1 ? `${field.name}[${index}]` : field.name;
}

/** QEMU's vmsd_can_compress: arrays whose elements all describe alike are listed once. */
function canCompress(field: VMStateField): boolean {
  if (field.fieldExists) return false;
  if (field.kind === 'struct' || field.kind === 'struct-array') {
    const sub = field.vmsd!;
    if (!sub.fields.every(canCompress)) return false;
    if (sub.subsections && sub.subsections.length) return false;
  }
  return true;
}

function fieldTypeName(field: VMStateField): string {
  switch (field.kind) {
    case 'array':
    case 'varray':
      return field.elem ?? 'uint8';
    case 'buffer':
      return 'buffer';
    case 'struct':
    case 'struct-array':
      return 'struct';
    case 'custom':
      return field.info?.name ?? 'unknown';
    default:
      return field.kind;
  }
}

function descStart(vmsd: VMStateDescription, field: VMStateField, i: number, n: number): VmdescObject {
  const d: VmdescObject = { name: descName(vmsd, field) };
  if (n > 1) {
    if (canCompress(field)) d['array_len'] = n;
    else d['index'] = i;
  }
  d['type'] = fieldTypeName(field);
  return d;
}

// -------------------------------------------------------------------------------------------------
// Save

/**
 * vmstate_save_state: write `obj` as `vmsd` describes it. When `desc` is given, the description's
 * "vmsd_name", "version", "fields" (and "subsections") are added to it.
 */
export function vmstateSaveState(
  f: QemuFileWriter,
  vmsd: VMStateDescription,
  obj: Obj,
  desc: VmdescObject | null = null,
  allSubsections = false,
): void {
  vmsd.preSave?.(obj);
  const fieldsDesc: VmdescValue[] | null = desc ? [] : null;
  if (desc) {
    desc['vmsd_name'] = vmsd.name;
    desc['version'] = vmsd.versionId;
    desc['fields'] = fieldsDesc;
  }
  for (const field of vmsd.fields) {
    if (!fieldPresentOnSave(field, obj, vmsd.versionId)) continue;
    saveField(f, vmsd, field, obj, fieldsDesc, allSubsections);
  }
  saveSubsections(f, vmsd, obj, desc, allSubsections);
}

function saveField(
  f: QemuFileWriter,
  vmsd: VMStateDescription,
  field: VMStateField,
  obj: Obj,
  fieldsDesc: VmdescValue[] | null,
  all: boolean,
): void {
  // One description entry per element, or only the first for compressible arrays (QEMU's loop).
  let descOut = fieldsDesc;
  const element = (i: number, n: number, put: () => void, structDesc?: VmdescObject): void => {
    const d = descOut ? descStart(vmsd, field, i, n) : null;
    if (d && structDesc) d['struct'] = structDesc;
    const before = f.length;
    put();
    if (d) {
      d['size'] = f.length - before;
      descOut!.push(d);
      if (canCompress(field)) descOut = null;
    }
  };

  switch (field.kind) {
    case 'array':
    case 'varray': {
      const arr = container(field, obj);
      const n = elemCount(field, obj);
      checkLength(field, arr, n);
      const kind = field.elem ?? 'uint8';
      for (let i = 0; i < n; i++) element(i, n, () => putScalar(f, kind, arr[i]));
      return;
    }
    case 'buffer': {
      const buf = container(field, obj) as Uint8Array;
      const n = elemCount(field, obj);
      checkLength(field, buf, n);
      element(0, 1, () => f.bytes(buf.subarray(0, n)));
      return;
    }
    case 'struct': {
      const sub = container(field, obj) as Obj;
      const sd: VmdescObject | null = descOut ? {} : null;
      element(0, 1, () => vmstateSaveState(f, field.vmsd!, sub, sd, all), sd ?? undefined);
      return;
    }
    case 'struct-array': {
      const arr = container(field, obj) as Obj[];
      const n = elemCount(field, obj);
      checkLength(field, arr, n);
      for (let i = 0; i < n; i++) {
        const sd: VmdescObject | null = descOut ? {} : null;
        element(i, n, () => vmstateSaveState(f, field.vmsd!, arr[i]!, sd, all), sd ?? undefined);
      }
      return;
    }
    case 'custom': {
      const info = field.info!;
      const n = field.length ?? 1;
      const d = descOut ? descStart(vmsd, field, 0, n) : null;
      const before = f.length;
      info.put(f, obj, field);
      if (d) {
        d['size'] = n > 1 ? (f.length - before) / n : f.length - before;
        descOut!.push(d);
      }
      return;
    }
    default: {
      const kind = field.kind;
      element(0, 1, () => putScalar(f, kind, obj[field.name]));
    }
  }
}

function checkLength(field: VMStateField, arr: { length: number }, n: number): void {
  if (n > arr.length || n < 0) {
    throw new MigrationError(
      EINVAL,
      `vmstate: field '${field.name}' has ${arr.length} elements, ${n} expected`,
    );
  }
}

function saveSubsections(
  f: QemuFileWriter,
  vmsd: VMStateDescription,
  obj: Obj,
  desc: VmdescObject | null,
  all: boolean,
): void {
  let list: VmdescValue[] | null = null;
  for (const sub of vmsd.subsections ?? []) {
    if (!all && sub.needed && !sub.needed(obj)) continue;
    let sd: VmdescObject | null = null;
    if (desc) {
      if (!list) desc['subsections'] = list = [];
      sd = {};
      list.push(sd);
    }
    f.u8(QEMU_VM_SUBSECTION);
    f.str8(sub.name);
    f.u32(sub.versionId);
    vmstateSaveState(f, sub, obj, sd, all);
  }
}

// -------------------------------------------------------------------------------------------------
// Load

/** vmstate_load_state: read `obj`'s state written by a description of version `versionId`. */
export function vmstateLoadState(
  f: QemuFileReader,
  vmsd: VMStateDescription,
  obj: Obj,
  versionId: number,
): void {
  if (versionId > vmsd.versionId) {
    throw new MigrationError(
      EINVAL,
      `${vmsd.name}: incoming version_id ${versionId} is too new for local version_id ${vmsd.versionId}`,
    );
  }
  if (versionId < vmsd.minimumVersionId) {
    throw new MigrationError(
      EINVAL,
      `${vmsd.name}: incoming version_id ${versionId} is too old for local minimum version_id  ${vmsd.minimumVersionId}`,
    );
  }
  vmsd.preLoad?.(obj);
  for (const field of vmsd.fields) {
    if (!fieldPresentOnLoad(field, obj, versionId)) continue;
    try {
      loadField(f, field, obj);
    } catch (e) {
      if (isMigrationError(e)) throw e.report(`Failed to load ${vmsd.name}:${field.name}`);
      throw e;
    }
  }
  loadSubsections(f, vmsd, obj);
  vmsd.postLoad?.(obj, versionId);
}

function loadField(f: QemuFileReader, field: VMStateField, obj: Obj): void {
  switch (field.kind) {
    case 'array':
    case 'varray': {
      const arr = container(field, obj);
      const n = elemCount(field, obj);
      if (n > arr.length || n < 0) {
        if (!Array.isArray(arr) || n < 0) {
          throw new MigrationError(
            EINVAL,
            `vmstate: '${field.name}' has ${n} elements, at most ${arr.length} fit`,
          );
        }
        arr.length = n;
      }
      const kind = field.elem ?? 'uint8';
      const big = isBigIntArray(arr);
      for (let i = 0; i < n; i++) {
        const v = getScalar(f, kind, big || typeof arr[i] === 'bigint');
        arr[i] = big && typeof v !== 'bigint' ? BigInt(v as number) : v;
      }
      return;
    }
    case 'buffer': {
      const buf = container(field, obj) as Uint8Array;
      const n = elemCount(field, obj);
      if (n > buf.length || n < 0) {
        throw new MigrationError(
          EINVAL,
          `vmstate: '${field.name}' has ${n} bytes, at most ${buf.length} fit`,
        );
      }
      buf.set(f.bytes(n));
      return;
    }
    case 'struct': {
      const sub = container(field, obj) as Obj;
      vmstateLoadState(f, field.vmsd!, sub, field.vmsd!.versionId);
      return;
    }
    case 'struct-array': {
      const arr = container(field, obj) as Obj[];
      const n = elemCount(field, obj);
      if (n > arr.length || n < 0) {
        throw new MigrationError(
          EINVAL,
          `vmstate: '${field.name}' has ${n} elements, at most ${arr.length} fit`,
        );
      }
      for (let i = 0; i < n; i++) vmstateLoadState(f, field.vmsd!, arr[i]!, field.vmsd!.versionId);
      return;
    }
    case 'custom':
      field.info!.get(f, obj, field);
      return;
    default:
      obj[field.name] = getScalar(f, field.kind, typeof obj[field.name] === 'bigint');
  }
}

function loadSubsections(f: QemuFileReader, vmsd: VMStateDescription, obj: Obj): void {
  while (f.peek8() === QEMU_VM_SUBSECTION) {
    const len = f.peek8(1);
    // A subsection is named "<section>/<part>"; anything else belongs to the caller.
    if (len < 0 || len < vmsd.name.length + 1 || f.remaining < 2 + len) return;
    const idstr = Buffer.from(f.buf.subarray(f.offset + 2, f.offset + 2 + len)).toString('latin1');
    if (!idstr.startsWith(vmsd.name)) return;
    const sub = vmsd.subsections?.find((s) => s.name === idstr);
    if (!sub) {
      // QEMU returns -ENOENT here without a message of its own.
      throw new MigrationError(ENOENT, `Unknown subsection '${idstr}' in '${vmsd.name}'`, false);
    }
    f.u8();
    f.str8();
    const version = f.u32();
    vmstateLoadState(f, sub, obj, version);
  }
}

// -------------------------------------------------------------------------------------------------
// Conveniences for tests and in-memory copies

/**
 * The bytes `vmstateSaveState` writes for `obj`. With `complete`, every subsection is included
 * whether needed or not: a full copy of the state, for backups that must restore everything.
 */
export function vmstateSaveToBytes(vmsd: VMStateDescription, obj: Obj, complete = false): Uint8Array {
  const f = new QemuFileWriter(256);
  vmstateSaveState(f, vmsd, obj, null, complete);
  return f.data().slice();
}

/** Load `bytes` (all of them) into `obj`; leftover bytes are an error. */
export function vmstateLoadFromBytes(
  vmsd: VMStateDescription,
  obj: Obj,
  bytes: Uint8Array,
  versionId = vmsd.versionId,
): void {
  const f = new QemuFileReader(bytes);
  vmstateLoadState(f, vmsd, obj, versionId);
  if (!f.atEnd()) throw new MigrationError(EINVAL, `${vmsd.name}: ${f.remaining} unexpected trailing bytes`);
}

/** The JSON description of `obj`'s state (what the vmdesc lists for it). */
export function vmstateDescribe(vmsd: VMStateDescription, obj: Obj): VmdescObject {
  const d: VmdescObject = {};
  vmstateSaveState(new QemuFileWriter(256), vmsd, obj, d);
  return d;
}
