/**
 * Typed property helpers (object_property_add_str/bool/enum/tm/uintN_ptr and their class variants).
 * Getters/setters receive the object and throw QapiError to fail, as QEMU's Error **errp callbacks do.
 */
import type { QomObject, ObjectClass, ObjectProperty } from './object.js';
import {
  ObjectClass as ObjectClassCtor,
  objectPropertyAdd,
  objectClassPropertyAdd,
  objectPropertyFindErr as findErr,
} from './object.js';

export type StrGetter<T extends QomObject> = (obj: T) => string;
export type StrSetter<T extends QomObject> = (obj: T, value: string) => void;
export type BoolGetter<T extends QomObject> = (obj: T) => boolean;
export type BoolSetter<T extends QomObject> = (obj: T, value: boolean) => void;
export type EnumGetter<T extends QomObject> = (obj: T) => string;
export type EnumSetter<T extends QomObject> = (obj: T, value: string) => void;

/** ObjectPropertyFlags for the *_ptr helpers. */
export const OBJ_PROP_FLAG_READ = 1;
export const OBJ_PROP_FLAG_WRITE = 2;
export const OBJ_PROP_FLAG_READWRITE = 3;

type Add = typeof objectPropertyAdd;
type Target = QomObject | ObjectClass;

function add(
  target: Target,
  ...args: Parameters<Add> extends [unknown, ...infer R] ? R : never
): ObjectProperty {
  return target instanceof ObjectClassCtor
    ? objectClassPropertyAdd(target, ...args)
    : objectPropertyAdd(target, ...args);
}

function strProp<T extends QomObject>(
  target: Target,
  name: string,
  get?: StrGetter<T>,
  set?: StrSetter<T>,
): ObjectProperty {
  return add(
    target,
    name,
    'string',
    get ? (obj, v, n) => void v.typeStr(n, get(obj as T)) : undefined,
    set ? (obj, v, n) => set(obj as T, v.typeStr(n)) : undefined,
  );
}

export function objectPropertyAddStr<T extends QomObject>(
  obj: T,
  name: string,
  get?: StrGetter<T>,
  set?: StrSetter<T>,
): ObjectProperty {
  return strProp(obj, name, get, set);
}
export function objectClassPropertyAddStr<T extends QomObject>(
  klass: ObjectClass,
  name: string,
  get?: StrGetter<T>,
  set?: StrSetter<T>,
): ObjectProperty {
  return strProp(klass, name, get, set);
}

function boolProp<T extends QomObject>(
  target: Target,
  name: string,
  get?: BoolGetter<T>,
  set?: BoolSetter<T>,
): ObjectProperty {
  return add(
    target,
    name,
    'bool',
    get ? (obj, v, n) => void v.typeBool(n, get(obj as T)) : undefined,
    set ? (obj, v, n) => set(obj as T, v.typeBool(n)) : undefined,
  );
}
export function objectPropertyAddBool<T extends QomObject>(
  obj: T,
  name: string,
  get?: BoolGetter<T>,
  set?: BoolSetter<T>,
): ObjectProperty {
  return boolProp(obj, name, get, set);
}
export function objectClassPropertyAddBool<T extends QomObject>(
  klass: ObjectClass,
  name: string,
  get?: BoolGetter<T>,
  set?: BoolSetter<T>,
): ObjectProperty {
  return boolProp(klass, name, get, set);
}

/** Enum properties: the QAPI enum type name is the property type; values are the enum's names. */
function enumProp<T extends QomObject>(
  target: Target,
  name: string,
  typename: string,
  lookup: readonly string[],
  get?: EnumGetter<T>,
  set?: EnumSetter<T>,
): ObjectProperty {
  return add(
    target,
    name,
    typename,
    get ? (obj, v, n) => void v.typeEnum(n, lookup, get(obj as T)) : undefined,
    set ? (obj, v, n) => set(obj as T, v.typeEnum(n, lookup)) : undefined,
  );
}
export function objectPropertyAddEnum<T extends QomObject>(
  obj: T,
  name: string,
  typename: string,
  lookup: readonly string[],
  get?: EnumGetter<T>,
  set?: EnumSetter<T>,
): ObjectProperty {
  return enumProp(obj, name, typename, lookup, get, set);
}
export function objectClassPropertyAddEnum<T extends QomObject>(
  klass: ObjectClass,
  name: string,
  typename: string,
  lookup: readonly string[],
  get?: EnumGetter<T>,
  set?: EnumSetter<T>,
): ObjectProperty {
  return enumProp(klass, name, typename, lookup, get, set);
}

/** struct tm as QEMU exposes it (tm_year is years since 1900, tm_mon 0-11). */
export interface Tm {
  tm_year: number;
  tm_mon: number;
  tm_mday: number;
  tm_hour: number;
  tm_min: number;
  tm_sec: number;
}

function tmProp<T extends QomObject>(target: Target, name: string, get: (obj: T) => Tm): ObjectProperty {
  return add(target, name, 'struct tm', (obj, v, n) => {
    const tm = get(obj as T);
    v.startStruct(n);
    try {
      for (const k of ['tm_year', 'tm_mon', 'tm_mday', 'tm_hour', 'tm_min', 'tm_sec'] as const)
        v.typeInt32(k, tm[k]);
      v.checkStruct();
    } finally {
      v.endStruct();
    }
  });
}
export function objectPropertyAddTm<T extends QomObject>(
  obj: T,
  name: string,
  get: (obj: T) => Tm,
): ObjectProperty {
  return tmProp(obj, name, get);
}
export function objectClassPropertyAddTm<T extends QomObject>(
  klass: ObjectClass,
  name: string,
  get: (obj: T) => Tm,
): ObjectProperty {
  return tmProp(klass, name, get);
}

/** Where an integer lives: a numeric field of the instance (by name). */
type IntKind = 'uint8' | 'uint16' | 'uint32' | 'uint64';

function uintPtrProp(
  target: Target,
  kind: IntKind,
  name: string,
  field: string,
  flags: number,
): ObjectProperty {
  const visit = (
    v: Parameters<NonNullable<ObjectProperty['get']>>[1],
    n: string,
    value?: number | bigint,
  ): number | bigint => {
    switch (kind) {
      case 'uint8':
        return v.typeUint8(n, value as number | undefined);
      case 'uint16':
        return v.typeUint16(n, value as number | undefined);
      case 'uint32':
        return v.typeUint32(n, value as number | undefined);
      default:
        return v.typeUint64(n, value);
    }
  };
  const rec = (o: QomObject) => o as unknown as Record<string, number | bigint>;
  return add(
    target,
    name,
    kind,
    flags & OBJ_PROP_FLAG_READ ? (obj, v, n) => void visit(v, n, rec(obj)[field]) : undefined,
    flags & OBJ_PROP_FLAG_WRITE
      ? (obj, v, n) => {
          rec(obj)[field] = visit(v, n);
        }
      : undefined,
  );
}

export function objectPropertyAddUint8Ptr(
  obj: QomObject,
  name: string,
  field: string,
  flags = OBJ_PROP_FLAG_READ,
): ObjectProperty {
  return uintPtrProp(obj, 'uint8', name, field, flags);
}
export function objectPropertyAddUint16Ptr(
  obj: QomObject,
  name: string,
  field: string,
  flags = OBJ_PROP_FLAG_READ,
): ObjectProperty {
  return uintPtrProp(obj, 'uint16', name, field, flags);
}
export function objectPropertyAddUint32Ptr(
  obj: QomObject,
  name: string,
  field: string,
  flags = OBJ_PROP_FLAG_READ,
): ObjectProperty {
  return uintPtrProp(obj, 'uint32', name, field, flags);
}
export function objectPropertyAddUint64Ptr(
  obj: QomObject,
  name: string,
  field: string,
  flags = OBJ_PROP_FLAG_READ,
): ObjectProperty {
  return uintPtrProp(obj, 'uint64', name, field, flags);
}
export function objectClassPropertyAddUint8Ptr(
  klass: ObjectClass,
  name: string,
  field: string,
  flags = OBJ_PROP_FLAG_READ,
): ObjectProperty {
  return uintPtrProp(klass, 'uint8', name, field, flags);
}
export function objectClassPropertyAddUint16Ptr(
  klass: ObjectClass,
  name: string,
  field: string,
  flags = OBJ_PROP_FLAG_READ,
): ObjectProperty {
  return uintPtrProp(klass, 'uint16', name, field, flags);
}
export function objectClassPropertyAddUint32Ptr(
  klass: ObjectClass,
  name: string,
  field: string,
  flags = OBJ_PROP_FLAG_READ,
): ObjectProperty {
  return uintPtrProp(klass, 'uint32', name, field, flags);
}
export function objectClassPropertyAddUint64Ptr(
  klass: ObjectClass,
  name: string,
  field: string,
  flags = OBJ_PROP_FLAG_READ,
): ObjectProperty {
  return uintPtrProp(klass, 'uint64', name, field, flags);
}

/**
 * object_property_add_alias(): `name` on obj forwards to `targetName` on target (child<> becomes link<>).
 */
export function objectPropertyAddAlias(
  obj: QomObject,
  name: string,
  target: QomObject,
  targetName: string,
): ObjectProperty {
  const tp = findErr(target, targetName);
  const type = tp.type.startsWith('child<') ? `link${tp.type.slice('child'.length)}` : tp.type;
  const op = objectPropertyAdd(
    obj,
    name,
    type,
    (_o, v) => {
      const p = findErr(target, targetName);
      if (!p.get) throw new Error(`alias target ${targetName} is not readable`);
      p.get(target, v, name, p.opaque);
    },
    (_o, v) => {
      const p = findErr(target, targetName);
      if (!p.set) throw new Error(`alias target ${targetName} is not writable`);
      p.set(target, v, name, p.opaque);
    },
  );
  op.resolve = () => {
    const p = findErr(target, targetName);
    return p.resolve ? p.resolve(target, p.opaque, targetName) : null;
  };
  if (tp.defval !== undefined) op.defval = tp.defval;
  op.description = tp.description;
  return op;
}
