/**
 * User-creatable objects (qom/object_interfaces.c): the 'user-creatable' interface that -object and
 * object-add instantiate, with complete() after properties are set and can_be_deleted() guarding
 * object-del. Objects live under /objects/<id>.
 */
import type { QDict, QObject } from '../qobject/qobject.js';
import { qdict } from '../qobject/qobject.js';
import { toJson } from '../qobject/json-writer.js';
import { type QapiError, errorSetg } from '../qapi/error.js';
import type { Visitor } from '../qapi/visitor.js';
import type { QomObject } from './object.js';
import {
  InterfaceClass,
  typeRegister,
  objectClassByName,
  objectClassDynamicCast,
  objectClassIsAbstract,
  objectClassGetListSorted,
  objectClassPropertyIter,
  objectDynamicCast,
  objectNew,
  objectUnref,
  objectUnparent,
  objectPropertySet,
  objectPropertyAddChild,
  objectPropertyDel,
  objectGetObjectsRoot,
  objectResolvePathComponent,
  objectGetClassAs,
  setUserCreatableCompleteHook,
  TYPE_INTERFACE,
} from './object.js';
import { qomVisitors } from './visitors.js';

export const TYPE_USER_CREATABLE = 'user-creatable';

export class UserCreatableClass extends InterfaceClass {
  /** Finish construction after all properties are set; throw to fail object-add. */
  complete?: (uc: QomObject) => void;
  /** False while the object is in use (object-del refuses). */
  canBeDeleted?: (uc: QomObject) => boolean;
}

typeRegister({ name: TYPE_USER_CREATABLE, parent: TYPE_INTERFACE, class: UserCreatableClass });

export function userCreatableComplete(obj: QomObject): void {
  const ucc = objectGetClassAs<UserCreatableClass>(obj, TYPE_USER_CREATABLE);
  ucc.complete?.(obj);
}
setUserCreatableCompleteHook(userCreatableComplete);

export function userCreatableCanBeDeleted(obj: QomObject): boolean {
  const ucc = objectGetClassAs<UserCreatableClass>(obj, TYPE_USER_CREATABLE);
  return ucc.canBeDeleted ? ucc.canBeDeleted(obj) : true;
}

/** id_wellformed(): letters, digits, '-', '.', '_', starting with a letter. */
export function idWellformed(id: string): boolean {
  return /^[A-Za-z][A-Za-z0-9._-]*$/.test(id);
}

function invalidId(): QapiError {
  const e = errorSetg("Parameter 'id' expects an identifier");
  e.hint = "Identifiers consist of letters, digits, '-', '.', '_', starting with a letter.\n";
  return e;
}

/** object_set_properties_from_qdict(): visit `qdict` as a struct, setting each member as a property. */
export function objectSetPropertiesFromQdict(obj: QomObject, qd: QDict, v: Visitor): void {
  v.startStruct(null);
  try {
    for (const key of Object.keys(qd)) objectPropertySet(obj, key, v);
    v.checkStruct();
  } finally {
    v.endStruct();
  }
}

/** object_set_properties_from_keyval(): from_json selects the strict JSON visitor over keyval strings. */
export function objectSetPropertiesFromKeyval(obj: QomObject, qd: QDict, fromJson: boolean): void {
  objectSetPropertiesFromQdict(obj, qd, qomVisitors.qobjectInput(qd, { keyval: !fromJson }));
}

/**
 * user_creatable_add_type(): create `type`, set properties from `qd`, add as /objects/<id>, complete.
 * Returns the object with the caller's reference (unref it when done).
 */
export function userCreatableAddType(type: string, id: string | null, qd: QDict, v: Visitor): QomObject {
  if (id !== null && !idWellformed(id)) throw invalidId();
  const klass = objectClassByName(type);
  if (!klass) throw errorSetg(`invalid object type: ${type}`);
  if (!objectClassDynamicCast(klass, TYPE_USER_CREATABLE))
    throw errorSetg(`object type '${type}' isn't supported by object-add`);
  if (objectClassIsAbstract(klass)) throw errorSetg(`object type '${type}' is abstract`);
  const obj = objectNew(type);
  try {
    objectSetPropertiesFromQdict(obj, qd, v);
    if (id !== null) objectPropertyAddChild(objectGetObjectsRoot(), id, obj);
    try {
      userCreatableComplete(obj);
    } catch (e) {
      if (id !== null) objectPropertyDel(objectGetObjectsRoot(), id);
      throw e;
    }
  } catch (e) {
    objectUnref(obj);
    throw e;
  }
  return obj;
}

/**
 * object-add / -object: `{"qom-type": T, "id": I, ...props}`. `keyval` when the values are strings from
 * the command line (keyval_parse output); QMP passes typed JSON.
 */
export function userCreatableAddDict(options: QDict, keyval = false): QomObject {
  const type = options['qom-type'];
  const id = options['id'];
  if (type === undefined) throw errorSetg("Parameter 'qom-type' is missing");
  if (typeof type !== 'string') throw errorSetg("Invalid parameter type for 'qom-type', expected: string");
  if (id === undefined) throw errorSetg("Parameter 'id' is missing");
  if (typeof id !== 'string') throw errorSetg("Invalid parameter type for 'id', expected: string");
  const props = qdict();
  for (const k of Object.keys(options)) if (k !== 'qom-type' && k !== 'id') props[k] = options[k]!;
  const obj = userCreatableAddType(type, id, props, qomVisitors.qobjectInput(props, { keyval }));
  objectUnref(obj);
  return obj;
}

/** qmp_object_add with the ObjectOptions arguments (qom-type, id and the type's properties). */
export function qmpObjectAdd(args: QDict | Record<string, unknown>): void {
  const d = qdict();
  for (const [k, v] of Object.entries(args)) if (v !== undefined) d[k] = v as QObject;
  userCreatableAddDict(d, false);
}

/** user_creatable_del(): object-del. */
export function userCreatableDel(id: string): void {
  const container = objectGetObjectsRoot();
  const obj = objectResolvePathComponent(container, id);
  if (!obj) throw errorSetg(`object '${id}' not found`);
  if (objectDynamicCast(obj, TYPE_USER_CREATABLE) && !userCreatableCanBeDeleted(obj)) {
    throw errorSetg(`object '${id}' is in use, can not be deleted`);
  }
  objectUnparent(obj);
}

export function qmpObjectDel(args: { id: string }): void {
  userCreatableDel(args.id);
}

/** user_creatable_cleanup(): drop every user object (shutdown). */
export function userCreatableCleanup(): void {
  objectUnparent(objectGetObjectsRoot());
}

/** object_property_help(): one "  name=<type>   - desc (default: json)" line, padded as QEMU does. */
export function objectPropertyHelp(
  name: string,
  type: string,
  defval: QObject | undefined,
  description: string | undefined,
): string {
  let s = `  ${name}=<${type}>`;
  if (description !== undefined || defval !== undefined) {
    if (s.length < 24) s += ' '.repeat(24 - s.length);
    s += ' - ';
  }
  if (description !== undefined) s += description;
  if (defval !== undefined) s += ` (default: ${toJson(defval)})`;
  return s;
}

/** qemu_pstrcmp0 order (byte-wise strcmp). */
export function strcmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** "List of user creatable objects:" and the sorted type names. */
export function userCreatablePrintTypes(): string {
  let out = 'List of user creatable objects:\n';
  for (const k of objectClassGetListSorted(TYPE_USER_CREATABLE, false)) out += `  ${k.type.name}\n`;
  return out;
}

/** type_print_class_properties(): null when the type does not exist. */
export function typePrintClassProperties(type: string): string | null {
  const klass = objectClassByName(type);
  if (!klass) return null;
  const lines: string[] = [];
  for (const p of objectClassPropertyIter(klass)) {
    if (!p.set) continue;
    lines.push(objectPropertyHelp(p.name, p.type, p.defval, p.description));
  }
  lines.sort(strcmp);
  let out = lines.length ? `${type} options:\n` : `There are no options for ${type}.\n`;
  for (const l of lines) out += `${l}\n`;
  return out;
}

/**
 * -object help / -object TYPE,help (user_creatable_print_help_from_qdict): the text QEMU prints, or
 * null when `args` does not ask for help.
 */
export function userCreatableHelp(args: QDict, help: boolean): string | null {
  const type = args['qom-type'];
  if (type === 'help' || type === '?') return userCreatablePrintTypes();
  if (!help) return null;
  return (typeof type === 'string' && typePrintClassProperties(type)) || userCreatablePrintTypes();
}
