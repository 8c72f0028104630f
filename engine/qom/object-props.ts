/**
 * Typed property helpers (object_property_add_str/bool/enum/tm/uintN_ptr and their class variants).
 * Getters/setters receive the object and throw QapiError to fail, as QEMU's Error **errp callbacks do.
 */
import type { QomObject, ObjectClass, ObjectProperty } from './object.js';
import {
  objectOrClassPropertyAdd as add,
  objectPropertyAdd,
  objectPropertyFindErr as findErr,
} from './object.js';
import type { Visitor } from '../qapi/visitor.js';

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

type Target = QomObject | ObjectClass;

/**
 * A scalar property read and written through accessors: `visit` is its type's visitor method, handed
 * the value when getting and returning the parsed one when setting. Every typed helper below is this.
 */
function accessorProp<T extends QomObject, V>(
  target: Target,
  name: string,
  type: string,
  visit: (v: Visitor, name: string, value?: V) => V,
  get?: (obj: T) => V,
  set?: (obj: T, value: V) => void,
): ObjectProperty {
  return add(
    target,
    name,
    type,
    get ? (obj, v, n) => void visit(v, n, get(obj as T)) : undefined,
    set ? (obj, v, n) => set(obj as T, visit(v, n)) : undefined,
  );
}

const visitStr = (v: Visitor, n: string, value?: string): string => v.typeStr(n, value);
const visitBool = (v: Visitor, n: string, value?: boolean): boolean => v.typeBool(n, value);

export function objectPropertyAddStr<T extends QomObject>(
  obj: T,
  name: string,
  get?: StrGetter<T>,
  set?: StrSetter<T>,
): ObjectProperty {
  return accessorProp(obj, name, 'string', visitStr, get, set);
}
export function objectClassPropertyAddStr<T extends QomObject>(
  klass: ObjectClass,
  name: string,
  get?: StrGetter<T>,
  set?: StrSetter<T>,
): ObjectProperty {
  return accessorProp(klass, name, 'string', visitStr, get, set);
}

export function objectPropertyAddBool<T extends QomObject>(
  obj: T,
  name: string,
  get?: BoolGetter<T>,
  set?: BoolSetter<T>,
): ObjectProperty {
  return accessorProp(obj, name, 'bool', visitBool, get, set);
}
export function objectClassPropertyAddBool<T extends QomObject>(
  klass: ObjectClass,
  name: string,
  get?: BoolGetter<T>,
  set?: BoolSetter<T>,
): ObjectProperty {
  return accessorProp(klass, name, 'bool', visitBool, get, set);
}

/** Enum properties: the QAPI enum type name is the property type; values are the enum's names. */
export function objectPropertyAddEnum<T extends QomObject>(
  obj: T,
  name: string,
  typename: string,
  lookup: readonly string[],
  get?: EnumGetter<T>,
  set?: EnumSetter<T>,
): ObjectProperty {
  return accessorProp(obj, name, typename, (v, n, x?: string) => v.typeEnum(n, lookup, x), get, set);
}
export function objectClassPropertyAddEnum<T extends QomObject>(
  klass: ObjectClass,
  name: string,
  typename: string,
  lookup: readonly string[],
  get?: EnumGetter<T>,
  set?: EnumSetter<T>,
): ObjectProperty {
  return accessorProp(klass, name, typename, (v, n, x?: string) => v.typeEnum(n, lookup, x), get, set);
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

type UintKind = 'uint8' | 'uint16' | 'uint32' | 'uint64';
type UintVisit = (v: Visitor, name: string, value?: number | bigint) => number | bigint;

/** Each width's visitor method (input range-checks: "Parameter 'x' expects uint8_t"). */
const visitUint: Record<UintKind, UintVisit> = {
  uint8: (v, n, x) => v.typeUint8(n, x as number | undefined),
  uint16: (v, n, x) => v.typeUint16(n, x as number | undefined),
  uint32: (v, n, x) => v.typeUint32(n, x as number | undefined),
  uint64: (v, n, x) => v.typeUint64(n, x),
};

/** The signature of object_property_add_uintN_ptr() (on an instance) and its class variant. */
export type UintPtrAdder<On extends Target> = (
  on: On,
  name: string,
  field: string,
  flags?: number,
) => ObjectProperty;

/**
 * object_(class_)property_add_uintN_ptr(): the integer is the instance's numeric field `field`; `flags`
 * (OBJ_PROP_FLAG_*) say whether the property can be read, written or both.
 */
function uintPtrAdder<On extends Target>(kind: UintKind): UintPtrAdder<On> {
  const rec = (o: QomObject) => o as unknown as Record<string, number | bigint>;
  return (on, name, field, flags = OBJ_PROP_FLAG_READ) =>
    accessorProp(
      on,
      name,
      kind,
      visitUint[kind],
      flags & OBJ_PROP_FLAG_READ ? (o) => rec(o)[field]! : undefined,
      flags & OBJ_PROP_FLAG_WRITE
        ? (o, value) => {
            rec(o)[field] = value;
          }
        : undefined,
    );
}

export const objectPropertyAddUint8Ptr = uintPtrAdder<QomObject>('uint8');
export const objectPropertyAddUint16Ptr = uintPtrAdder<QomObject>('uint16');
export const objectPropertyAddUint32Ptr = uintPtrAdder<QomObject>('uint32');
export const objectPropertyAddUint64Ptr = uintPtrAdder<QomObject>('uint64');
export const objectClassPropertyAddUint8Ptr = uintPtrAdder<ObjectClass>('uint8');
export const objectClassPropertyAddUint16Ptr = uintPtrAdder<ObjectClass>('uint16');
export const objectClassPropertyAddUint32Ptr = uintPtrAdder<ObjectClass>('uint32');
export const objectClassPropertyAddUint64Ptr = uintPtrAdder<ObjectClass>('uint64');

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
