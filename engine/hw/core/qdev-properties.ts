/**
 * Static device properties (hw/core/qdev-properties.c): a class declares a table of Property entries
 * (name, PropertyInfo, instance field, default); `deviceClassSetProps` turns each into a QOM class
 * property whose setter refuses changes after realize. Defaults become the property's `defval`
 * (shown by device-list-properties and -device help) and are applied to every new instance.
 */
import type { Visitor } from '../../qapi/visitor.js';
import { errorSetg } from '../../qapi/error.js';
import type { QomObject, ObjectProperty } from '../../qom/object.js';
import {
  objectClassPropertyAdd,
  objectClassPropertyAddLink,
  objectClassPropertySetDescription,
  objectPropertySetDefaultBool,
  objectPropertySetDefaultInt,
  objectPropertySetDefaultUint,
  objectPropertySetDefaultStr,
  objectGetTypename,
  OBJ_PROP_LINK_STRONG,
} from '../../qom/object.js';
import type { DeviceClass, DeviceState } from './qdev-core.js';

/** How a property kind is typed, visited, defaulted and printed (PropertyInfo). */
export interface PropertyInfo {
  /** QOM type string ("uint32", "str", "OnOffAuto", ...). Links use "link<T>" from Property.linkType. */
  name: string;
  description?: string;
  /** QAPI enum values for enum kinds. */
  enumTable?: readonly string[];
  /** Settable on a realized device (rare). */
  realizedSetAllowed?: boolean;
  get?(obj: QomObject, v: Visitor, name: string, prop: Property): void;
  set?(obj: QomObject, v: Visitor, name: string, prop: Property): void;
  setDefaultValue?(op: ObjectProperty, prop: Property): void;
  /** Custom `info qtree` rendering (QEMU's legacy "print"), e.g. PCI "addr = 01.0". */
  print?(obj: QomObject, prop: Property): string;
  /** Creates the QOM property itself (links). */
  create?(klass: DeviceClass, name: string, prop: Property): ObjectProperty;
}

export interface Property {
  name: string;
  info: PropertyInfo;
  /** Instance field holding the value. */
  field: string;
  /** Bit number for bit/bit64 kinds. */
  bitnr?: number;
  setDefault: boolean;
  defval?: number | bigint | boolean | string;
  /** Target QOM type for link properties. */
  linkType?: string;
}

type Rec = Record<string, unknown>;
const field = <T>(obj: QomObject, prop: Property) => (obj as unknown as Rec)[prop.field] as T;
const setField = (obj: QomObject, prop: Property, v: unknown) => {
  (obj as unknown as Rec)[prop.field] = v;
};

/** qdev_prop_set_after_realize(): QEMU's error when a static property changes on a realized device. */
export function qdevPropSetAfterRealize(dev: DeviceState, name: string): Error {
  return dev.id !== null
    ? errorSetg(
        `Attempt to set property '${name}' on device '${dev.id}' (type '${objectGetTypename(dev)}') after it was realized`,
      )
    : errorSetg(
        `Attempt to set property '${name}' on anonymous device (type '${objectGetTypename(dev)}') after it was realized`,
      );
}

function allowSet(obj: QomObject, name: string, info: PropertyInfo): void {
  const dev = obj as DeviceState;
  if (dev.realized && !info.realizedSetAllowed) throw qdevPropSetAfterRealize(dev, name);
}

// Integer kinds ------------------------------------------------------------------------------------------

type IntVisit =
  | 'typeInt8'
  | 'typeInt16'
  | 'typeInt32'
  | 'typeInt64'
  | 'typeUint8'
  | 'typeUint16'
  | 'typeUint32'
  | 'typeUint64'
  | 'typeSize';

function intInfo(name: string, visit: IntVisit, signed: boolean, description?: string): PropertyInfo {
  return {
    name,
    description,
    get(obj, v, n, prop) {
      (v[visit] as (n: string, x?: number | bigint) => unknown)(n, field<number | bigint>(obj, prop));
    },
    set(obj, v, n, prop) {
      setField(obj, prop, (v[visit] as (n: string) => number | bigint)(n));
    },
    setDefaultValue(op, prop) {
      if (signed) objectPropertySetDefaultInt(op, prop.defval as number | bigint);
      else objectPropertySetDefaultUint(op, prop.defval as number | bigint);
    },
  };
}

export const qdevPropUint8 = intInfo('uint8', 'typeUint8', false);
export const qdevPropUint16 = intInfo('uint16', 'typeUint16', false);
export const qdevPropUint32 = intInfo('uint32', 'typeUint32', false);
export const qdevPropUint64 = intInfo('uint64', 'typeUint64', false);
export const qdevPropInt8 = intInfo('int8', 'typeInt8', true);
export const qdevPropInt16 = intInfo('int16', 'typeInt16', true);
export const qdevPropInt32 = intInfo('int32', 'typeInt32', true);
export const qdevPropInt64 = intInfo('int64', 'typeInt64', true);
export const qdevPropSize = intInfo('size', 'typeSize', false);

/** size32: a size stored in 32 bits. */
export const qdevPropSize32: PropertyInfo = {
  ...intInfo('size', 'typeSize', false),
  set(obj, v, n, prop) {
    const x = BigInt(v.typeSize(n));
    if (x > 0xffffffffn) {
      throw errorSetg(
        `Property ${objectGetTypename(obj)}.${n} doesn't take value ${x} (maximum: 4294967295)`,
      );
    }
    setField(obj, prop, Number(x));
  },
};

// bool and bits ------------------------------------------------------------------------------------------

export const qdevPropBool: PropertyInfo = {
  name: 'bool',
  get(obj, v, n, prop) {
    v.typeBool(n, field<boolean>(obj, prop));
  },
  set(obj, v, n, prop) {
    setField(obj, prop, v.typeBool(n));
  },
  setDefaultValue(op, prop) {
    objectPropertySetDefaultBool(op, !!prop.defval);
  },
};

/** A flag in a 32-bit field (DEFINE_PROP_BIT). */
export const qdevPropBit: PropertyInfo = {
  name: 'bool',
  description: 'on/off',
  get(obj, v, n, prop) {
    v.typeBool(n, ((field<number>(obj, prop) >>> prop.bitnr!) & 1) === 1);
  },
  set(obj, v, n, prop) {
    const on = v.typeBool(n);
    const mask = (1 << prop.bitnr!) >>> 0;
    const cur = field<number>(obj, prop) >>> 0;
    setField(obj, prop, (on ? cur | mask : cur & ~mask) >>> 0);
  },
  setDefaultValue(op, prop) {
    objectPropertySetDefaultBool(op, !!prop.defval);
  },
};

/** A flag in a 64-bit field (DEFINE_PROP_BIT64); the field is a bigint. */
export const qdevPropBit64: PropertyInfo = {
  name: 'bool',
  description: 'on/off',
  get(obj, v, n, prop) {
    v.typeBool(n, ((field<bigint>(obj, prop) >> BigInt(prop.bitnr!)) & 1n) === 1n);
  },
  set(obj, v, n, prop) {
    const on = v.typeBool(n);
    const mask = 1n << BigInt(prop.bitnr!);
    const cur = field<bigint>(obj, prop);
    setField(obj, prop, on ? cur | mask : cur & ~mask);
  },
  setDefaultValue(op, prop) {
    objectPropertySetDefaultBool(op, !!prop.defval);
  },
};

// strings and enums --------------------------------------------------------------------------------------

export const qdevPropString: PropertyInfo = {
  name: 'str',
  get(obj, v, n, prop) {
    v.typeStr(n, field<string | null>(obj, prop) ?? '');
  },
  set(obj, v, n, prop) {
    setField(obj, prop, v.typeStr(n));
  },
};

/** An enum property over a QAPI enum (qdev_propinfo_get_enum); the field holds the value's name. */
export function qdevPropEnum(
  typeName: string,
  values: readonly string[],
  description?: string,
): PropertyInfo {
  return {
    name: typeName,
    description,
    enumTable: values,
    get(obj, v, n, prop) {
      v.typeEnum(n, values, field<string>(obj, prop));
    },
    set(obj, v, n, prop) {
      setField(obj, prop, v.typeEnum(n, values));
    },
    setDefaultValue(op, prop) {
      objectPropertySetDefaultStr(op, prop.defval as string);
    },
  };
}

export const ON_OFF_AUTO = ['auto', 'on', 'off'] as const;
export type OnOffAuto = (typeof ON_OFF_AUTO)[number];
export const qdevPropOnOffAuto = qdevPropEnum('OnOffAuto', ON_OFF_AUTO, 'on/off/auto');

// links --------------------------------------------------------------------------------------------------

/** qdev_prop_allow_set_link_before_realize(). */
export function qdevPropAllowSetLinkBeforeRealize(obj: QomObject, name: string): void {
  const dev = obj as DeviceState;
  if (dev.realized) {
    throw errorSetg(
      `Attempt to set link property '${name}' on device '${dev.id ?? ''}' (type '${objectGetTypename(obj)}') after it was realized`,
    );
  }
}

export const qdevPropLink: PropertyInfo = {
  name: 'link',
  create(klass, name, prop) {
    return objectClassPropertyAddLink(
      klass,
      name,
      prop.linkType!,
      prop.field,
      qdevPropAllowSetLinkBeforeRealize,
      OBJ_PROP_LINK_STRONG,
    );
  },
};

// Table helpers (DEFINE_PROP_*) --------------------------------------------------------------------------

const p = (
  name: string,
  info: PropertyInfo,
  fieldName: string,
  defval?: Property['defval'],
  extra: Partial<Property> = {},
): Property => ({
  name,
  info,
  field: fieldName,
  setDefault: defval !== undefined,
  defval,
  ...extra,
});

export const definePropBool = (name: string, f: string, defval: boolean) => p(name, qdevPropBool, f, defval);
export const definePropBit = (name: string, f: string, bitnr: number, defval: boolean) =>
  p(name, qdevPropBit, f, defval, { bitnr });
export const definePropBit64 = (name: string, f: string, bitnr: number, defval: boolean) =>
  p(name, qdevPropBit64, f, defval, { bitnr });
export const definePropUint8 = (name: string, f: string, defval: number) => p(name, qdevPropUint8, f, defval);
export const definePropUint16 = (name: string, f: string, defval: number) =>
  p(name, qdevPropUint16, f, defval);
export const definePropUint32 = (name: string, f: string, defval: number) =>
  p(name, qdevPropUint32, f, defval);
export const definePropUint64 = (name: string, f: string, defval: number | bigint) =>
  p(name, qdevPropUint64, f, defval);
export const definePropInt8 = (name: string, f: string, defval: number) => p(name, qdevPropInt8, f, defval);
export const definePropInt16 = (name: string, f: string, defval: number) => p(name, qdevPropInt16, f, defval);
export const definePropInt32 = (name: string, f: string, defval: number) => p(name, qdevPropInt32, f, defval);
export const definePropInt64 = (name: string, f: string, defval: number | bigint) =>
  p(name, qdevPropInt64, f, defval);
export const definePropSize = (name: string, f: string, defval: number | bigint) =>
  p(name, qdevPropSize, f, defval);
export const definePropSize32 = (name: string, f: string, defval: number) =>
  p(name, qdevPropSize32, f, defval);
/** Strings have no default (the field's initial value, usually null, stands). */
export const definePropString = (name: string, f: string) => p(name, qdevPropString, f);
export const definePropEnum = (name: string, f: string, defval: string, info: PropertyInfo) =>
  p(name, info, f, defval);
export const definePropOnOffAuto = (name: string, f: string, defval: OnOffAuto) =>
  p(name, qdevPropOnOffAuto, f, defval);
export const definePropLink = (name: string, f: string, linkType: string) =>
  p(name, qdevPropLink, f, undefined, { linkType });
/** A property whose PropertyInfo is custom (e.g. PCI addresses). */
export const definePropUnsigned = (name: string, f: string, defval: number, info: PropertyInfo) =>
  p(name, info, f, defval);

/**
 * device_class_set_props(): register `props` as class properties of `dc` (setters frozen after realize).
 */
export function deviceClassSetProps(dc: DeviceClass, props: Property[]): void {
  dc.props = props;
  for (const prop of props) {
    let op: ObjectProperty;
    if (prop.info.create) {
      op = prop.info.create(dc, prop.name, prop);
    } else {
      const info = prop.info;
      op = objectClassPropertyAdd(
        dc,
        prop.name,
        info.name,
        info.get ? (obj, v, name) => info.get!(obj, v, name, prop) : undefined,
        info.set
          ? (obj, v, name) => {
              allowSet(obj, name, info);
              info.set!(obj, v, name, prop);
            }
          : undefined,
      );
    }
    if (prop.setDefault && prop.info.setDefaultValue) prop.info.setDefaultValue(op, prop);
    if (prop.info.description !== undefined)
      objectClassPropertySetDescription(dc, prop.name, prop.info.description);
  }
}
