/**
 * QMP commands on QOM (qom/qom-qmp-cmds.c): qom-list, qom-get, qom-set, qom-list-types,
 * qom-list-properties, device-list-properties, object-add, object-del. Plain functions taking the
 * command's arguments and returning its result (QAPI names), for the QMP dispatcher to wire.
 */
import type { QObject } from '../qobject/qobject.js';
import { QapiError, errorSetg } from '../qapi/error.js';
import {
  objectClassByName,
  objectClassDynamicCast,
  objectClassIsAbstract,
  objectClassGetParent,
  objectClassForeach,
  objectClassPropertyIter,
  objectNew,
  objectUnref,
  objectPropertyIter,
  objectPropertyGetQobject,
  objectPropertySetQobject,
  objectResolvePath,
  TYPE_OBJECT,
  type ObjectProperty,
} from './object.js';
export { qmpObjectAdd, qmpObjectDel } from './object-interfaces.js';

import type { ObjectPropertyInfo, ObjectTypeInfo } from '../qapi/generated/qapi-types.js';
export type { ObjectPropertyInfo, ObjectTypeInfo };

const deviceNotFound = (what: string) => new QapiError(`Device '${what}' not found`, 'DeviceNotFound');

export function qmpQomList(args: { path: string }): ObjectPropertyInfo[] {
  const amb = { ambiguous: false };
  const obj = objectResolvePath(args.path, amb);
  if (!obj) {
    if (amb.ambiguous) throw errorSetg(`Path '${args.path}' is ambiguous`);
    throw deviceNotFound(args.path);
  }
  return [...objectPropertyIter(obj)].map((p) => ({ name: p.name, type: p.type }));
}

export function qmpQomGet(args: { path: string; property: string }): QObject {
  const obj = objectResolvePath(args.path);
  if (!obj) throw deviceNotFound(args.path);
  return objectPropertyGetQobject(obj, args.property);
}

export function qmpQomSet(args: { path: string; property: string; value: QObject }): void {
  const obj = objectResolvePath(args.path);
  if (!obj) throw deviceNotFound(args.path);
  objectPropertySetQobject(obj, args.property, args.value);
}

export function qmpQomListTypes(args: { implements?: string; abstract?: boolean } = {}): ObjectTypeInfo[] {
  const out: ObjectTypeInfo[] = [];
  objectClassForeach(
    (k) => {
      const info: ObjectTypeInfo = { name: k.type.name };
      if (objectClassIsAbstract(k)) info.abstract = true;
      const parent = objectClassGetParent(k);
      if (parent) info.parent = parent.type.name;
      out.push(info);
    },
    args.implements ?? null,
    !!args.abstract,
  );
  return out;
}

function propInfo(p: ObjectProperty, withDefault: boolean): ObjectPropertyInfo {
  const info: ObjectPropertyInfo = { name: p.name, type: p.type };
  if (p.description !== undefined) info.description = p.description;
  if (withDefault && p.defval !== undefined) info['default-value'] = p.defval;
  return info;
}

/** Properties of DeviceState/Object that device-list-properties leaves out. */
const DEVICE_SKIP = new Set(['type', 'realized', 'hotpluggable', 'hotplugged', 'parent_bus']);

export function qmpDeviceListProperties(args: { typename: string }): ObjectPropertyInfo[] {
  const { typename } = args;
  let klass = objectClassByName(typename);
  if (!klass) throw deviceNotFound(typename);
  klass = objectClassDynamicCast(klass, 'device');
  if (!klass) throw errorSetg("Parameter 'typename' expects device");
  if (objectClassIsAbstract(klass))
    throw errorSetg("Parameter 'typename' expects a non-abstract device type");
  const obj = objectNew(typename);
  try {
    return [...objectPropertyIter(obj)]
      .filter((p) => !DEVICE_SKIP.has(p.name) && !p.name.startsWith('legacy-'))
      .map((p) => propInfo(p, true));
  } finally {
    objectUnref(obj);
  }
}

export function qmpQomListProperties(args: { typename: string }): ObjectPropertyInfo[] {
  const { typename } = args;
  let klass = objectClassByName(typename);
  if (!klass) throw new QapiError(`Class '${typename}' not found`, 'DeviceNotFound');
  klass = objectClassDynamicCast(klass, TYPE_OBJECT);
  if (!klass) throw errorSetg(`Parameter 'typename' expects ${TYPE_OBJECT}`);
  if (objectClassIsAbstract(klass)) return [...objectClassPropertyIter(klass)].map((p) => propInfo(p, false));
  const obj = objectNew(typename);
  try {
    return [...objectPropertyIter(obj)].map((p) => propInfo(p, false));
  } finally {
    objectUnref(obj);
  }
}
