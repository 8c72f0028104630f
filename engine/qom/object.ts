/**
 * QOM: the QEMU Object Model (qom/object.c), in TypeScript.
 *
 * Types are registered with `typeRegister(TypeInfo)` and initialised lazily on first use. Each type has
 * one class object, created as a shallow copy of its parent's class (QEMU memcpy()s the parent class), so a
 * `classInit` can override a method and keep the parent's (`dc.parentRealize = dc.realize`). Methods live
 * in class objects as function-valued fields, never on JS prototypes. A TS class per type (TypeInfo
 * `instance`) gives instances typed fields; types without one inherit the parent's; a type with no
 * instance class at all is abstract (QEMU: instance_size == 0). Interfaces are stateless abstract types
 * under "interface"; a class implementing one gets a per-implementation interface class
 * ("impl::iface") whose function fields the implementer's classInit fills in.
 *
 * Properties: per-class and per-instance, looked up class first (base to derived), then instance;
 * iteration is instance properties in insertion order, then each class from the most derived up.
 * Reference counting follows QEMU where it decides *when* finalisers run: `objectNew` returns a
 * reference, a child<> property holds one, `objectUnparent` drops it; finalize runs at zero.
 */
import type { Visitor } from '../qapi/visitor.js';
import { QapiError, errorSetg } from '../qapi/error.js';
import type { QObject } from '../qobject/qobject.js';
import { qomVisitors } from './visitors.js';

export const TYPE_OBJECT = 'object';
export const TYPE_INTERFACE = 'interface';
export const TYPE_CONTAINER = 'container';

export type ObjectPropertyAccessor = (obj: QomObject, v: Visitor, name: string, opaque: unknown) => void;
export type ObjectPropertyResolve = (obj: QomObject, opaque: unknown, part: string) => QomObject | null;
export type ObjectPropertyRelease = (obj: QomObject, name: string, opaque: unknown) => void;
export type ObjectPropertyInit = (obj: QomObject, prop: ObjectProperty) => void;

/** One property (QEMU's ObjectProperty). `get`/`set` visit the value with the given visitor. */
export interface ObjectProperty {
  name: string;
  type: string;
  description?: string;
  get?: ObjectPropertyAccessor;
  set?: ObjectPropertyAccessor;
  resolve?: ObjectPropertyResolve;
  release?: ObjectPropertyRelease;
  /** Class properties: run on every new instance before instance_init (default values). */
  init?: ObjectPropertyInit;
  opaque?: unknown;
  /** Default value as reported by device-list-properties / -device help (object_property_set_default). */
  defval?: QObject;
}

/** Base of every class object (ObjectClass). */
export class ObjectClass {
  type!: TypeImpl;
  interfaces: InterfaceClass[] = [];
  properties: Map<string, ObjectProperty> = new Map();
  /** Called when the object loses its parent (child property released), before the reference drops. */
  unparent?: (obj: QomObject) => void;
}

/** Class of interface types; one per (implementing type, interface) pair. */
export class InterfaceClass extends ObjectClass {
  concreteClass!: ObjectClass;
  interfaceType!: TypeImpl;
}

/** Base of every instance (QEMU's Object; named QomObject to avoid shadowing JS Object). */
export class QomObject {
  class!: ObjectClass;
  properties: Map<string, ObjectProperty> = new Map();
  ref = 0;
  parent: QomObject | null = null;
  /** Set once instance_finalize ran; a finalised object must not be used again. */
  finalized = false;
}

/** Registration record (TypeInfo). Callbacks use method syntax so subtypes can declare precise params. */
export interface TypeInfo<O extends QomObject = QomObject, C extends ObjectClass = ObjectClass> {
  name: string;
  parent?: string;
  abstract?: boolean;
  /** TS class of instances; must extend the parent's. Omitted: inherited (types without one are abstract). */
  instance?: new () => O;
  /** TS class of the class object; must extend the parent's. Omitted: inherited. */
  class?: new () => C;
  classInit?(klass: C, data: unknown): void;
  classBaseInit?(klass: ObjectClass, data: unknown): void;
  classData?: unknown;
  instanceInit?(obj: O): void;
  instancePostInit?(obj: O): void;
  instanceFinalize?(obj: O): void;
  interfaces?: readonly string[];
}

/** Internal type record (TypeImpl). */
export class TypeImpl {
  parentType: TypeImpl | null = null;
  klass: ObjectClass | null = null;
  instanceCtor: (new () => QomObject) | null = null;
  classCtor: (new () => ObjectClass) | null = null;
  abstract: boolean;

  constructor(
    readonly name: string,
    readonly parent: string | undefined,
    readonly info: TypeInfo<QomObject, ObjectClass>,
  ) {
    this.abstract = !!info.abstract;
  }
}

const typeTable = new Map<string, TypeImpl>();
let typeInterface: TypeImpl | null = null;
let enumeratingTypes = false;

const TYPE_NAME_RE = /^[A-Za-z1-9][A-Za-z0-9_.-]*$/;

function typeRegisterInternal(info: TypeInfo<QomObject, ObjectClass>): TypeImpl {
  if (!TYPE_NAME_RE.test(info.name) || info.name.length < 2) {
    throw new Error(`Registering '${info.name}' with illegal type name`);
  }
  if (typeTable.has(info.name)) throw new Error(`Registering '${info.name}' which already exists`);
  if (enumeratingTypes) throw new Error(`Registering '${info.name}' while enumerating types`);
  const ti = new TypeImpl(info.name, info.parent, info);
  typeTable.set(info.name, ti);
  return ti;
}

/** type_register(): every user type names a parent. */
export function typeRegister<O extends QomObject = QomObject, C extends ObjectClass = ObjectClass>(
  info: TypeInfo<O, C>,
): TypeImpl {
  if (!info.parent) throw new Error(`Type '${info.name}' must have a parent`);
  return typeRegisterInternal(info as unknown as TypeInfo<QomObject, ObjectClass>);
}

/** Register unless already registered (modules imported twice by tests or tools). */
export function typeRegisterOnce<O extends QomObject = QomObject, C extends ObjectClass = ObjectClass>(
  info: TypeInfo<O, C>,
): TypeImpl {
  return typeTable.get(info.name) ?? typeRegister(info);
}

export function typeGetByName(name: string | null | undefined): TypeImpl | null {
  if (name == null) return null;
  return typeTable.get(name) ?? null;
}

function typeGetParent(ti: TypeImpl): TypeImpl | null {
  if (!ti.parentType && ti.parent) {
    const p = typeTable.get(ti.parent);
    if (!p) throw new Error(`Type '${ti.name}' is missing its parent '${ti.parent}'`);
    ti.parentType = p;
  }
  return ti.parentType;
}

function typeIsAncestor(type: TypeImpl | null, target: TypeImpl): boolean {
  for (let t = type; t; t = typeGetParent(t)) if (t === target) return true;
  return false;
}

function typeInitializeInterface(ti: TypeImpl, ifaceType: TypeImpl, parentType: TypeImpl): void {
  const impl = new TypeImpl(`${ti.name}::${ifaceType.name}`, parentType.name, {
    name: `${ti.name}::${ifaceType.name}`,
    parent: parentType.name,
    abstract: true,
  });
  impl.parentType = parentType;
  typeInitialize(impl);
  const iface = impl.klass as InterfaceClass;
  iface.concreteClass = ti.klass!;
  iface.interfaceType = ifaceType;
  ti.klass!.interfaces.push(iface);
}

function typeInitialize(ti: TypeImpl): void {
  if (ti.klass) return;
  const parent = typeGetParent(ti);
  if (parent) typeInitialize(parent);

  const info = ti.info;
  if (
    info.instance &&
    parent?.instanceCtor &&
    !(info.instance.prototype instanceof parent.instanceCtor) &&
    info.instance !== parent.instanceCtor
  ) {
    throw new Error(`Type '${ti.name}': instance class must extend the instance class of '${parent.name}'`);
  }
  if (
    info.class &&
    parent?.classCtor &&
    !(info.class.prototype instanceof parent.classCtor) &&
    info.class !== parent.classCtor
  ) {
    throw new Error(`Type '${ti.name}': class must extend the class of '${parent.name}'`);
  }
  ti.instanceCtor = info.instance ?? parent?.instanceCtor ?? null;
  ti.classCtor = info.class ?? parent?.classCtor ?? ObjectClass;
  if (!ti.instanceCtor) ti.abstract = true;
  if (typeInterface && typeIsAncestor(ti, typeInterface)) {
    if (
      ti.instanceCtor ||
      !ti.abstract ||
      info.instanceInit ||
      info.instancePostInit ||
      info.instanceFinalize ||
      info.interfaces?.length
    ) {
      throw new Error(`Interface type '${ti.name}' cannot have instances or interfaces`);
    }
  }

  const klass = new ti.classCtor();
  ti.klass = klass;
  if (parent) {
    const src = parent.klass as unknown as Record<string, unknown>;
    const dst = klass as unknown as Record<string, unknown>;
    for (const key of Object.keys(src)) dst[key] = src[key];
    klass.interfaces = [];
    for (const iface of parent.klass!.interfaces) {
      typeInitializeInterface(ti, iface.interfaceType, iface.type);
    }
    for (const ifname of info.interfaces ?? []) {
      const t = typeGetByName(ifname);
      if (!t) throw new Error(`missing interface '${ifname}' for object '${parent.name}'`);
      if (klass.interfaces.some((ic) => typeIsAncestor(ic.type, t))) continue;
      typeInitializeInterface(ti, t, t);
    }
  }
  klass.properties = new Map();
  klass.type = ti;

  for (let p = parent; p; p = typeGetParent(p)) p.info.classBaseInit?.(klass, info.classData);
  info.classInit?.(klass, info.classData);
}

// ---------------------------------------------------------------------------------------------------------
// Classes

export function objectClassByName(typename: string): ObjectClass | null {
  const ti = typeGetByName(typename);
  if (!ti) return null;
  typeInitialize(ti);
  return ti.klass;
}

export function objectClassGetName(klass: ObjectClass): string {
  return klass.type.name;
}

export function objectClassIsAbstract(klass: ObjectClass): boolean {
  return klass.type.abstract;
}

export function objectClassGetParent(klass: ObjectClass): ObjectClass | null {
  const p = typeGetParent(klass.type);
  if (!p) return null;
  typeInitialize(p);
  return p.klass;
}

/**
 * object_class_dynamic_cast(): the class itself if it is (a subclass of) `typename`; for an interface
 * name, the implementing interface class (null when the match is ambiguous).
 */
export function objectClassDynamicCast<C extends ObjectClass = ObjectClass>(
  klass: ObjectClass | null | undefined,
  typename: string,
): C | null {
  if (!klass) return null;
  const type = klass.type;
  if (type.name === typename) return klass as C;
  const target = typeGetByName(typename);
  if (!target) return null;
  if (klass.interfaces.length && typeInterface && typeIsAncestor(target, typeInterface)) {
    let ret: ObjectClass | null = null;
    let found = 0;
    for (const ic of klass.interfaces) {
      if (typeIsAncestor(ic.type, target)) {
        ret = ic;
        found++;
      }
    }
    return found > 1 ? null : (ret as C | null);
  }
  return typeIsAncestor(type, target) ? (klass as C) : null;
}

/** OBJECT_CLASS_CHECK(): like the dynamic cast, but a failed cast is a programming error. */
export function objectClassCheck<C extends ObjectClass = ObjectClass>(
  klass: ObjectClass,
  typename: string,
): C {
  const ret = objectClassDynamicCast<C>(klass, typename);
  if (!ret) throw new Error(`Class '${klass.type.name}' is not an instance of type ${typename}`);
  return ret;
}

/** object_class_foreach(): every registered type's class, optionally filtered. Order: registration. */
export function objectClassForeach(
  fn: (klass: ObjectClass) => void,
  implementsType: string | null,
  includeAbstract: boolean,
): void {
  enumeratingTypes = true;
  try {
    for (const ti of [...typeTable.values()]) {
      typeInitialize(ti);
      if (!includeAbstract && ti.abstract) continue;
      if (implementsType && !objectClassDynamicCast(ti.klass, implementsType)) continue;
      fn(ti.klass!);
    }
  } finally {
    enumeratingTypes = false;
  }
}

export function objectClassGetList(implementsType: string | null, includeAbstract: boolean): ObjectClass[] {
  const list: ObjectClass[] = [];
  objectClassForeach((k) => list.push(k), implementsType, includeAbstract);
  return list;
}

/** object_class_get_list_sorted(): case-insensitive by type name, as QEMU's strcasecmp. */
export function objectClassGetListSorted(
  implementsType: string | null,
  includeAbstract: boolean,
): ObjectClass[] {
  const lc = (s: string) => s.toLowerCase();
  return objectClassGetList(implementsType, includeAbstract).sort((a, b) => {
    const x = lc(a.type.name);
    const y = lc(b.type.name);
    return x < y ? -1 : x > y ? 1 : 0;
  });
}

// ---------------------------------------------------------------------------------------------------------
// Instances

function objectInitWithType(obj: QomObject, ti: TypeImpl): void {
  const p = typeGetParent(ti);
  if (p) objectInitWithType(obj, p);
  ti.info.instanceInit?.(obj);
}

function objectPostInitWithType(obj: QomObject, ti: TypeImpl): void {
  ti.info.instancePostInit?.(obj);
  const p = typeGetParent(ti);
  if (p) objectPostInitWithType(obj, p);
}

function objectNewWithType(ti: TypeImpl): QomObject {
  typeInitialize(ti);
  if (ti.abstract || !ti.instanceCtor) throw errorSetg(`object type '${ti.name}' is abstract`);
  const obj = new ti.instanceCtor();
  obj.class = ti.klass!;
  obj.ref = 1;
  for (const prop of objectClassPropertyIter(obj.class)) prop.init?.(obj, prop);
  obj.properties = new Map();
  objectInitWithType(obj, ti);
  objectPostInitWithType(obj, ti);
  return obj;
}

/**
 * object_new(): a new instance holding one reference for the caller. QEMU asserts on unknown or abstract
 * types; we throw with object_new_with_props' messages so callers handling user input can report them.
 */
export function objectNew<T extends QomObject = QomObject>(typename: string): T {
  const ti = typeGetByName(typename);
  if (!ti) throw errorSetg(`invalid object type: ${typename}`);
  return objectNewWithType(ti) as T;
}

export function objectNewWithClass<T extends QomObject = QomObject>(klass: ObjectClass): T {
  return objectNewWithType(klass.type) as T;
}

/** object_new_with_props(): create, set string properties, add as child `id` of parent, complete. */
export function objectNewWithProps<T extends QomObject = QomObject>(
  typename: string,
  parent: QomObject,
  id: string | null,
  props: Record<string, string> = {},
): T {
  const klass = objectClassByName(typename);
  if (!klass) throw errorSetg(`invalid object type: ${typename}`);
  if (objectClassIsAbstract(klass)) throw errorSetg(`object type '${typename}' is abstract`);
  const obj = objectNewWithType(klass.type);
  try {
    for (const [k, val] of Object.entries(props)) objectPropertyParse(obj, k, val);
    if (id !== null) objectPropertyAddChild(parent, id, obj);
    if (objectDynamicCast(obj, 'user-creatable')) {
      try {
        userCreatableCompleteHook?.(obj);
      } catch (e) {
        if (id !== null) objectUnparent(obj);
        throw e;
      }
    }
  } finally {
    objectUnref(obj);
  }
  return obj as T;
}

/** Set by object-interfaces.ts so object_new_with_props can call user_creatable_complete. */
let userCreatableCompleteHook: ((obj: QomObject) => void) | null = null;
export function setUserCreatableCompleteHook(fn: (obj: QomObject) => void): void {
  userCreatableCompleteHook = fn;
}

export function objectGetClass(obj: QomObject): ObjectClass {
  return obj.class;
}

export function objectGetTypename(obj: QomObject): string {
  return obj.class.type.name;
}

/** object_dynamic_cast(): obj if it is an instance of `typename` (class or interface), else null. */
export function objectDynamicCast<T extends QomObject = QomObject>(
  obj: QomObject | null | undefined,
  typename: string,
): T | null {
  if (obj && objectClassDynamicCast(obj.class, typename)) return obj as T;
  return null;
}

/** OBJECT_CHECK(): checked cast; failure is a programming error with QEMU's message. */
export function objectCheck<T extends QomObject = QomObject>(obj: QomObject, typename: string): T {
  const r = objectDynamicCast<T>(obj, typename);
  if (!r)
    throw new Error(
      `Object of type '${obj ? objectGetTypename(obj) : '(null)'}' is not an instance of type ${typename}`,
    );
  return r;
}

/** OBJECT_GET_CLASS()-style checked class lookup, interfaces included. */
export function objectGetClassAs<C extends ObjectClass = ObjectClass>(obj: QomObject, typename: string): C {
  return objectClassCheck<C>(obj.class, typename);
}

export function objectRef<T extends QomObject>(obj: T): T;
export function objectRef<T extends QomObject>(obj: T | null): T | null;
export function objectRef<T extends QomObject>(obj: T | null): T | null {
  if (!obj) return null;
  if (obj.finalized) throw new Error(`object_ref on finalized object of type ${objectGetTypename(obj)}`);
  obj.ref++;
  return obj;
}

export function objectUnref(obj: QomObject | null | undefined): void {
  if (!obj) return;
  if (obj.ref <= 0)
    throw new Error(`object_unref on object of type ${objectGetTypename(obj)} with no references`);
  if (--obj.ref === 0) objectFinalize(obj);
}

function objectPropertyDelAll(obj: QomObject): void {
  const done = new Set<ObjectProperty>();
  let released: boolean;
  do {
    released = false;
    for (const prop of objectPropertyIter(obj)) {
      if (done.has(prop)) continue;
      done.add(prop);
      if (prop.release) {
        prop.release(obj, prop.name, prop.opaque);
        released = true;
        break; // the release may have changed the property table
      }
    }
  } while (released);
  obj.properties.clear();
}

function objectFinalize(obj: QomObject): void {
  objectPropertyDelAll(obj);
  for (let ti: TypeImpl | null = obj.class.type; ti; ti = typeGetParent(ti)) ti.info.instanceFinalize?.(obj);
  if (obj.parent) throw new Error('finalized object still has a parent');
  obj.finalized = true;
}

// ---------------------------------------------------------------------------------------------------------
// Properties

export function objectPropertyTryAdd(
  obj: QomObject,
  name: string,
  type: string,
  get?: ObjectPropertyAccessor,
  set?: ObjectPropertyAccessor,
  release?: ObjectPropertyRelease,
  opaque?: unknown,
): ObjectProperty {
  if (name.endsWith('[*]')) {
    const base = name.slice(0, -3);
    for (let i = 0; i < 0x7fff; i++) {
      const full = `${base}[${i}]`;
      if (!objectPropertyFind(obj, full))
        return objectPropertyTryAdd(obj, full, type, get, set, release, opaque);
    }
    throw new Error(`no free index for property ${name}`);
  }
  if (objectPropertyFind(obj, name)) {
    throw errorSetg(
      `attempt to add duplicate property '${name}' to object (type '${objectGetTypename(obj)}')`,
    );
  }
  const prop: ObjectProperty = { name, type, get, set, release, opaque };
  obj.properties.set(name, prop);
  return prop;
}

/** object_property_add(): a duplicate is a programming error in QEMU; here it throws the same message. */
export const objectPropertyAdd = objectPropertyTryAdd;

export function objectClassPropertyAdd(
  klass: ObjectClass,
  name: string,
  type: string,
  get?: ObjectPropertyAccessor,
  set?: ObjectPropertyAccessor,
  release?: ObjectPropertyRelease,
  opaque?: unknown,
): ObjectProperty {
  if (objectClassPropertyFind(klass, name)) {
    throw new Error(`attempt to add duplicate property '${name}' to class (type '${klass.type.name}')`);
  }
  const prop: ObjectProperty = { name, type, get, set, release, opaque };
  klass.properties.set(name, prop);
  return prop;
}

/**
 * The one body behind each object_property_add_X / object_class_property_add_X pair: adds to the
 * instance or, given its class, to every instance of the class.
 */
export function objectOrClassPropertyAdd(
  target: QomObject | ObjectClass,
  ...args: Parameters<typeof objectClassPropertyAdd> extends [unknown, ...infer R] ? R : never
): ObjectProperty {
  return target instanceof ObjectClass
    ? objectClassPropertyAdd(target, ...args)
    : objectPropertyAdd(target, ...args);
}

export function objectClassPropertyFind(klass: ObjectClass, name: string): ObjectProperty | null {
  const parent = objectClassGetParent(klass);
  if (parent) {
    const p = objectClassPropertyFind(parent, name);
    if (p) return p;
  }
  return klass.properties.get(name) ?? null;
}

export function objectClassPropertyFindErr(klass: ObjectClass, name: string): ObjectProperty {
  const p = objectClassPropertyFind(klass, name);
  if (!p) throw errorSetg(`Property '.${name}' not found`);
  return p;
}

export function objectPropertyFind(obj: QomObject, name: string): ObjectProperty | null {
  return objectClassPropertyFind(obj.class, name) ?? obj.properties.get(name) ?? null;
}

export function objectPropertyFindErr(obj: QomObject, name: string): ObjectProperty {
  const p = objectPropertyFind(obj, name);
  if (!p) throw errorSetg(`Property '${objectGetTypename(obj)}.${name}' not found`);
  return p;
}

/** Instance properties (insertion order), then class properties from the most derived class up. */
export function* objectPropertyIter(obj: QomObject): Generator<ObjectProperty> {
  yield* [...obj.properties.values()];
  yield* objectClassPropertyIter(obj.class);
}

export function* objectClassPropertyIter(klass: ObjectClass): Generator<ObjectProperty> {
  for (let k: ObjectClass | null = klass; k; k = objectClassGetParent(k)) yield* [...k.properties.values()];
}

export function objectPropertyDel(obj: QomObject, name: string): void {
  const prop = obj.properties.get(name);
  if (!prop) return;
  prop.release?.(obj, name, prop.opaque);
  obj.properties.delete(name);
}

export function objectPropertyGet(obj: QomObject, name: string, v: Visitor): void {
  const prop = objectPropertyFindErr(obj, name);
  if (!prop.get) throw errorSetg(`Property '${objectGetTypename(obj)}.${name}' is not readable`);
  prop.get(obj, v, name, prop.opaque);
}

export function objectPropertySet(obj: QomObject, name: string, v: Visitor): void {
  const prop = objectPropertyFindErr(obj, name);
  if (!prop.set) throw errorSetg(`Property '${objectGetTypename(obj)}.${name}' is not writable`);
  prop.set(obj, v, name, prop.opaque);
}

export function objectPropertyGetType(obj: QomObject, name: string): string {
  return objectPropertyFindErr(obj, name).type;
}

export function objectPropertySetDescription(
  obj: QomObject,
  name: string,
  description: string | undefined,
): void {
  objectPropertyFindErr(obj, name).description = description;
}

export function objectClassPropertySetDescription(
  klass: ObjectClass,
  name: string,
  description: string | undefined,
): void {
  const p = klass.properties.get(name);
  if (!p) throw new Error(`class ${klass.type.name} has no own property ${name}`);
  p.description = description;
}

// Defaults (object_property_set_default_*): remember the value and apply it to each new instance.
function objectPropertySetDefault(prop: ObjectProperty, defval: QObject): void {
  if (prop.defval !== undefined || prop.init) throw new Error(`property ${prop.name} already has a default`);
  prop.defval = defval;
  prop.init = (obj, p) => {
    if (!p.set) throw new Error(`property ${p.name} has a default but no setter`);
    p.set(obj, visitorFactories.qobjectInput(p.defval ?? null), p.name, p.opaque);
  };
}
export function objectPropertySetDefaultBool(prop: ObjectProperty, value: boolean): void {
  objectPropertySetDefault(prop, value);
}
export function objectPropertySetDefaultStr(prop: ObjectProperty, value: string): void {
  objectPropertySetDefault(prop, value);
}
export function objectPropertySetDefaultInt(prop: ObjectProperty, value: number | bigint): void {
  objectPropertySetDefault(prop, value);
}
export function objectPropertySetDefaultUint(prop: ObjectProperty, value: number | bigint): void {
  objectPropertySetDefault(prop, value);
}
export function objectPropertySetDefaultList(prop: ObjectProperty): void {
  objectPropertySetDefault(prop, []);
}

// ---------------------------------------------------------------------------------------------------------
// Visitor plumbing: which visitor implementation QOM uses is decided in visitors.ts.

const visitorFactories = qomVisitors;

/** object_property_set_qobject(): strict qobject input visitor (or keyval when parsing CLI options). */
export function objectPropertySetQobject(obj: QomObject, name: string, value: QObject, keyval = false): void {
  const v = visitorFactories.qobjectInput(value, { keyval });
  objectPropertySet(obj, name, v);
}

export function objectPropertyGetQobject(obj: QomObject, name: string): QObject {
  const v = visitorFactories.qobjectOutput();
  objectPropertyGet(obj, name, v);
  return v.result();
}

/** object_property_parse(): set from a string (string input visitor: "on", "1k", "1-3,5" lists...). */
export function objectPropertyParse(obj: QomObject, name: string, value: string): void {
  objectPropertySet(obj, name, visitorFactories.stringInput(value));
}

/** object_property_print(): string output visitor; human adds "(0x10)" / "(4 GiB)" and quotes strings. */
export function objectPropertyPrint(obj: QomObject, name: string, human: boolean): string {
  const v = visitorFactories.stringOutput(human);
  objectPropertyGet(obj, name, v);
  return v.result();
}

const invalidType = (name: string, expected: string) =>
  errorSetg(`Invalid parameter type for '${name}', expected: ${expected}`);

export function objectPropertySetStr(obj: QomObject, name: string, value: string): void {
  objectPropertySetQobject(obj, name, value);
}
export function objectPropertyGetStr(obj: QomObject, name: string): string {
  const r = objectPropertyGetQobject(obj, name);
  if (typeof r !== 'string') throw invalidType(name, 'string');
  return r;
}
export function objectPropertySetBool(obj: QomObject, name: string, value: boolean): void {
  objectPropertySetQobject(obj, name, value);
}
export function objectPropertyGetBool(obj: QomObject, name: string): boolean {
  const r = objectPropertyGetQobject(obj, name);
  if (typeof r !== 'boolean') throw invalidType(name, 'boolean');
  return r;
}
export function objectPropertySetInt(obj: QomObject, name: string, value: number | bigint): void {
  objectPropertySetQobject(obj, name, value);
}
export function objectPropertyGetInt(obj: QomObject, name: string): number | bigint {
  const r = objectPropertyGetQobject(obj, name);
  if (
    !(typeof r === 'bigint' || (typeof r === 'number' && Number.isInteger(r))) ||
    BigInt(r) > 0x7fffffffffffffffn
  ) {
    throw invalidType(name, 'int');
  }
  return r;
}
export const objectPropertySetUint = objectPropertySetInt;
export function objectPropertyGetUint(obj: QomObject, name: string): number | bigint {
  const r = objectPropertyGetQobject(obj, name);
  if (!(typeof r === 'bigint' || (typeof r === 'number' && Number.isInteger(r))) || BigInt(r) < 0n) {
    throw invalidType(name, 'uint');
  }
  return r;
}
export function objectPropertySetLink(obj: QomObject, name: string, value: QomObject | null): void {
  objectPropertySetStr(obj, name, value ? (objectGetCanonicalPath(value) ?? '') : '');
}
export function objectPropertyGetLink(obj: QomObject, name: string): QomObject | null {
  const s = objectPropertyGetStr(obj, name);
  if (!s) return null;
  const target = objectResolvePath(s);
  if (!target) throw new QapiError(`Device '${s}' not found`, 'DeviceNotFound');
  return target;
}

// ---------------------------------------------------------------------------------------------------------
// Root, containers, child<> and link<>

let root: QomObject | null = null;
let internalRoot: QomObject | null = null;
const rootResetHooks: (() => void)[] = [];

export function objectGetRoot(): QomObject {
  if (!root) root = objectNew(TYPE_CONTAINER);
  return root;
}

export function objectGetInternalRoot(): QomObject {
  if (!internalRoot) internalRoot = objectNew(TYPE_CONTAINER);
  return internalRoot;
}

/** container_get(): walk an absolute path below `parent`, creating "container" objects as needed. */
export function containerGet(parent: QomObject, path: string): QomObject {
  const parts = path.split('/');
  if (parts[0] !== '') throw new Error(`container_get: path '${path}' must be absolute`);
  let obj = parent;
  for (const part of parts.slice(1)) {
    if (part === '') continue;
    let child = objectResolvePathComponent(obj, part);
    if (!child) {
      child = objectNew(TYPE_CONTAINER);
      objectPropertyAddChild(obj, part, child);
      objectUnref(child);
    }
    obj = child;
  }
  return obj;
}

export function objectGetObjectsRoot(): QomObject {
  return containerGet(objectGetRoot(), '/objects');
}

/**
 * Start over with an empty composition tree (QEMU has one per process; we need fresh ones per test and
 * per machine run). Modules holding singletons in the tree (main-system-bus, ...) register a hook.
 */
export function qomResetRoot(): void {
  root = null;
  internalRoot = null;
  for (const h of rootResetHooks) h();
}

export function onQomRootReset(hook: () => void): void {
  rootResetHooks.push(hook);
}

export function objectPropertyIsChild(prop: ObjectProperty): boolean {
  return prop.type.startsWith('child<');
}

export function objectPropertyIsLink(prop: ObjectProperty): boolean {
  return prop.type.startsWith('link<');
}

/** object_property_add_child(): composition; the parent takes a reference. */
export function objectPropertyAddChild<T extends QomObject>(
  obj: QomObject,
  name: string,
  child: T,
): ObjectProperty {
  if (child.parent) throw new Error(`object of type ${objectGetTypename(child)} already has a parent`);
  const prop = objectPropertyTryAdd(
    obj,
    name,
    `child<${objectGetTypename(child)}>`,
    (_o, v, n, opaque) => {
      v.typeStr(n, objectGetCanonicalPath(opaque as QomObject) ?? '');
    },
    undefined,
    (_o, _n, opaque) => {
      const c = opaque as QomObject;
      c.class.unparent?.(c);
      c.parent = null;
      objectUnref(c);
    },
    child,
  );
  prop.resolve = (_o, opaque) => opaque as QomObject;
  objectRef(child);
  child.parent = obj;
  return prop;
}

/** object_new + add_child + unref: the common way to create a composed child. */
export function objectNewChild<T extends QomObject = QomObject>(
  parent: QomObject,
  name: string,
  typename: string,
): T {
  const child = objectNew<T>(typename);
  try {
    objectPropertyAddChild(parent, name, child);
  } finally {
    objectUnref(child);
  }
  return child;
}

function objectPropertyDelChild(obj: QomObject, child: QomObject): void {
  for (const [name, prop] of obj.properties) {
    if (objectPropertyIsChild(prop) && prop.opaque === child) {
      // As QEMU: release (unparent hooks, unref) while the property is still listed, then remove it.
      const release = prop.release;
      prop.release = undefined;
      release?.(obj, name, prop.opaque);
      obj.properties.delete(name);
      return;
    }
  }
}

/** object_unparent(): remove obj from its parent (drops the parent's reference; may finalize). */
export function objectUnparent(obj: QomObject): void {
  if (obj.parent) objectPropertyDelChild(obj.parent, obj);
}

export function objectChildForeach(obj: QomObject, fn: (child: QomObject) => number | void): number {
  for (const prop of [...obj.properties.values()]) {
    if (!objectPropertyIsChild(prop)) continue;
    const r = fn(prop.opaque as QomObject);
    if (r) return r;
  }
  return 0;
}

export function objectChildForeachRecursive(obj: QomObject, fn: (child: QomObject) => number | void): number {
  for (const prop of [...obj.properties.values()]) {
    if (!objectPropertyIsChild(prop)) continue;
    const child = prop.opaque as QomObject;
    const r = fn(child) || objectChildForeachRecursive(child, fn);
    if (r) return r;
  }
  return 0;
}

export const OBJ_PROP_LINK_STRONG = 1;

/** Link check callback (QEMU's check): throw to refuse `val`. */
export type LinkCheck = (obj: QomObject, name: string, val: QomObject | null) => void;

/** object_property_allow_set_link(): the check that accepts everything. */
export const objectPropertyAllowSetLink: LinkCheck = () => {};

/** Where a link stores its target: a field of the object, or explicit accessors. */
export type LinkStorage<T extends QomObject = QomObject> =
  string | { get(obj: T): QomObject | null; set(obj: T, v: QomObject | null): void };

interface LinkProperty {
  get(obj: QomObject): QomObject | null;
  set(obj: QomObject, v: QomObject | null): void;
  check?: LinkCheck;
  flags: number;
}

function linkAccessors(storage: LinkStorage): {
  get(obj: QomObject): QomObject | null;
  set(obj: QomObject, v: QomObject | null): void;
} {
  if (typeof storage === 'string') {
    return {
      get: (o) => (o as unknown as Record<string, QomObject | null | undefined>)[storage] ?? null,
      set: (o, v) => {
        (o as unknown as Record<string, QomObject | null>)[storage] = v;
      },
    };
  }
  return storage as LinkProperty;
}

/** object_resolve_link(): resolve `path` for link property `name`, checking the link's target type. */
function objectResolveLink(obj: QomObject, name: string, path: string): QomObject {
  const type = objectPropertyGetType(obj, name);
  const targetType = type.slice(5, -1);
  const amb = { ambiguous: false };
  const target = objectResolvePathType(path, targetType, amb);
  if (amb.ambiguous) throw errorSetg(`Path '${path}' does not uniquely identify an object`);
  if (target) return target;
  const amb2 = { ambiguous: false };
  const any = objectResolvePath(path, amb2);
  if (any || amb2.ambiguous) throw invalidType(name, targetType);
  throw new QapiError(`Device '${path}' not found`, 'DeviceNotFound');
}

function linkGet(obj: QomObject, v: Visitor, name: string, opaque: unknown): void {
  const target = (opaque as LinkProperty).get(obj);
  v.typeStr(name, target ? (objectGetCanonicalPath(target) ?? '') : '');
}

function linkSet(obj: QomObject, v: Visitor, name: string, opaque: unknown): void {
  const lp = opaque as LinkProperty;
  const old = lp.get(obj);
  const path = v.typeStr(name);
  const target = path ? objectResolveLink(obj, name, path) : null;
  lp.check!(obj, name, target);
  lp.set(obj, target);
  if (lp.flags & OBJ_PROP_LINK_STRONG) {
    objectRef(target);
    objectUnref(old);
  }
}

function linkRelease(obj: QomObject, _name: string, opaque: unknown): void {
  const lp = opaque as LinkProperty;
  const t = lp.get(obj);
  if (lp.flags & OBJ_PROP_LINK_STRONG && t) objectUnref(t);
}

/**
 * object_property_add_link(): a typed reference ("link<type>"). Without `check` the link is read-only.
 * With OBJ_PROP_LINK_STRONG the link holds a reference on its target.
 */
export function objectPropertyAddLink<T extends QomObject = QomObject>(
  obj: T,
  name: string,
  type: string,
  storage: LinkStorage<T>,
  check?: LinkCheck,
  flags = 0,
): ObjectProperty {
  return linkPropertyAdd(obj, name, type, storage as LinkStorage, check, flags);
}

/** object_class_property_add_link(): the target lives in field `field` of each instance. */
export function objectClassPropertyAddLink(
  klass: ObjectClass,
  name: string,
  type: string,
  field: string,
  check?: LinkCheck,
  flags = 0,
): ObjectProperty {
  return linkPropertyAdd(klass, name, type, field, check, flags);
}

/** The link<type> property of either flavour; it resolves to its target. */
function linkPropertyAdd(
  target: QomObject | ObjectClass,
  name: string,
  type: string,
  storage: LinkStorage,
  check: LinkCheck | undefined,
  flags: number,
): ObjectProperty {
  const lp: LinkProperty = { ...linkAccessors(storage), check, flags };
  const prop = objectOrClassPropertyAdd(
    target,
    name,
    `link<${type}>`,
    linkGet,
    check ? linkSet : undefined,
    linkRelease,
    lp,
  );
  prop.resolve = (o, opaque) => (opaque as LinkProperty).get(o);
  return prop;
}

/** object_property_add_const_link(): read-only link to a fixed target. */
export function objectPropertyAddConstLink(obj: QomObject, name: string, target: QomObject): ObjectProperty {
  return objectPropertyAddLink(obj, name, objectGetTypename(target), { get: () => target, set: () => {} });
}

export function objectGetCanonicalPathComponent(obj: QomObject): string | null {
  if (!obj.parent) return null;
  for (const prop of obj.parent.properties.values()) {
    if (objectPropertyIsChild(prop) && prop.opaque === obj) return prop.name;
  }
  throw new Error('object has a parent but is not its child');
}

/** object_get_canonical_path(): "/machine/peripheral/x"; null when obj is not attached to the root. */
export function objectGetCanonicalPath(obj: QomObject): string | null {
  const r = objectGetRoot();
  if (obj === r) return '/';
  let path = '';
  let o: QomObject | null = obj;
  while (o && o !== r) {
    const comp = objectGetCanonicalPathComponent(o);
    if (comp === null) return null;
    path = `/${comp}${path}`;
    o = o.parent;
  }
  return o ? path : null;
}

export function objectResolvePathComponent(parent: QomObject, part: string): QomObject | null {
  const prop = objectPropertyFind(parent, part);
  if (!prop?.resolve) return null;
  return prop.resolve(parent, prop.opaque, part);
}

function resolveAbsPath(parent: QomObject, parts: string[], i: number, typename: string): QomObject | null {
  for (;;) {
    if (i >= parts.length) return objectDynamicCast(parent, typename);
    if (parts[i] === '') {
      i++;
      continue;
    }
    const child = objectResolvePathComponent(parent, parts[i]!);
    if (!child) return null;
    parent = child;
    i++;
  }
}

function resolvePartialPath(
  parent: QomObject,
  parts: string[],
  typename: string,
  amb: { ambiguous: boolean },
): QomObject | null {
  let obj = resolveAbsPath(parent, parts, 0, typename);
  for (const prop of parent.properties.values()) {
    if (!objectPropertyIsChild(prop)) continue;
    const found = resolvePartialPath(prop.opaque as QomObject, parts, typename, amb);
    if (found) {
      if (obj) {
        amb.ambiguous = true;
        return null;
      }
      obj = found;
    }
    if (amb.ambiguous) return null;
  }
  return obj;
}

/** g_strsplit(path, "/", 0): the empty string has no parts. */
function splitPath(path: string): string[] {
  return path === '' ? [] : path.split('/');
}

/**
 * object_resolve_path_type(): absolute paths walk from the root (following child<> and link<>);
 * partial paths match a suffix anywhere in the composition tree and must be unique (`ambiguous` out).
 */
export function objectResolvePathType(
  path: string,
  typename: string,
  ambiguous?: { ambiguous?: boolean },
): QomObject | null {
  const parts = splitPath(path);
  if (parts.length === 0 || parts[0] !== '') {
    const amb = { ambiguous: false };
    const obj = resolvePartialPath(objectGetRoot(), parts, typename, amb);
    if (ambiguous) ambiguous.ambiguous = amb.ambiguous;
    return obj;
  }
  return resolveAbsPath(objectGetRoot(), parts, 1, typename);
}

export function objectResolvePath(path: string, ambiguous?: { ambiguous?: boolean }): QomObject | null {
  return objectResolvePathType(path, TYPE_OBJECT, ambiguous);
}

/** object_resolve_path_at(): relative to `parent` unless absolute; no partial matching. */
export function objectResolvePathAt(parent: QomObject, path: string): QomObject | null {
  const parts = splitPath(path);
  if (path.startsWith('/')) return resolveAbsPath(objectGetRoot(), parts, 1, TYPE_OBJECT);
  return resolveAbsPath(parent, parts, 0, TYPE_OBJECT);
}

export function objectResolveTypeUnambiguous(typename: string): QomObject {
  const amb = { ambiguous: false };
  const o = objectResolvePathType('', typename, amb);
  if (amb.ambiguous) throw errorSetg(`More than one object of type ${typename}`);
  if (!o) throw errorSetg(`No object found of type ${typename}`);
  return o;
}

// ---------------------------------------------------------------------------------------------------------
// Base types

typeRegisterInternal({ name: TYPE_INTERFACE, class: InterfaceClass, abstract: true });
typeInterface = typeTable.get(TYPE_INTERFACE)!;
typeRegisterInternal({
  name: TYPE_OBJECT,
  instance: QomObject,
  abstract: true,
  classInit(klass: ObjectClass) {
    objectClassPropertyAdd(klass, 'type', 'string', (obj, v, name) => {
      v.typeStr(name, objectGetTypename(obj));
    });
  },
});
typeRegisterInternal({ name: TYPE_CONTAINER, parent: TYPE_OBJECT, instance: QomObject });
