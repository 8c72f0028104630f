/**
 * The QAPI schema model (QEMU's scripts/qapi/schema.py): entities built from checked expressions,
 * then checked as a whole (type resolution, member clashes, union/alternate rules, documentation).
 *
 * Order matters and follows QEMU: entities are kept in definition order (implicit types and arrays
 * right before their first user), grouped into modules in the order modules were first seen. Backends
 * and introspection walk `visitOrder()`, which is what makes query-qmp-schema come out in QEMU's order.
 */
import * as path from 'node:path';
import { cName } from './common.js';
import type { QapiDoc } from './doc.js';
import { checkExprs } from './expr.js';
import { IfCond } from './ifcond.js';
import {
  type ExprDict,
  type ExprValue,
  type ParsedExpr,
  type ReadFile,
  SchemaParser,
  isDict,
} from './parser.js';
import { QapiSchemaError, type SourceInfo } from './source.js';

export const BUILTIN_MODULE = './builtin';

export type JsonType = 'string' | 'number' | 'int' | 'boolean' | 'null' | 'object' | 'array' | 'value';
export type QTypeName =
  'QTYPE_QNULL' | 'QTYPE_QSTRING' | 'QTYPE_QNUM' | 'QTYPE_QBOOL' | 'QTYPE_QDICT' | 'QTYPE_QLIST';

const JSON2QTYPE: Partial<Record<JsonType, QTypeName>> = {
  null: 'QTYPE_QNULL',
  string: 'QTYPE_QSTRING',
  number: 'QTYPE_QNUM',
  int: 'QTYPE_QNUM',
  boolean: 'QTYPE_QBOOL',
  array: 'QTYPE_QLIST',
  object: 'QTYPE_QDICT',
};

// ---------------------------------------------------------------------------------------------
// Members

export abstract class Member {
  abstract readonly role: string;
  readonly name: string;
  readonly info: SourceInfo | null;
  readonly ifcond: IfCond;
  definedIn: string | null = null;

  constructor(name: string, info: SourceInfo | null, ifcond: IfCond = new IfCond()) {
    this.name = name;
    this.info = info;
    this.ifcond = ifcond;
  }

  setDefinedIn(name: string): void {
    this.definedIn = name;
  }

  /** How error messages name this member, relative to the definition being checked. */
  describe(info: SourceInfo | null): string {
    let role = this.role;
    let definedIn = this.definedIn!;
    if (definedIn.startsWith('q_obj_')) {
      // Implicit types: 'q_obj_<name>-arg' (command/event data), 'q_obj_<name>-base' (union base).
      definedIn = definedIn.slice(6);
      if (definedIn.endsWith('-arg')) role = 'parameter';
      else if (definedIn.endsWith('-base')) role = 'base ' + role;
    } else if (definedIn !== info?.defnName) {
      return `${role} '${this.name}' of type '${definedIn}'`;
    }
    return `${role} '${this.name}'`;
  }

  checkClash(info: SourceInfo | null, seen: Map<string, Member>): void {
    const cname = cName(this.name);
    const other = seen.get(cname);
    if (other)
      throw new QapiSchemaError(info, `${this.describe(info)} collides with ${other.describe(info)}`);
    seen.set(cname, this);
  }
}

export class Feature extends Member {
  readonly role = 'feature';
  /** 'deprecated' and 'unstable' have meaning to the compat policy. */
  isSpecial(): boolean {
    return this.name === 'deprecated' || this.name === 'unstable';
  }
}

export class EnumMember extends Member {
  readonly role = 'value';
  readonly features: Feature[];
  constructor(name: string, info: SourceInfo | null, ifcond?: IfCond, features: Feature[] = []) {
    super(name, info, ifcond);
    this.features = features;
  }
}

export class ObjectMember extends Member {
  readonly role: string = 'member';
  readonly typeName: string;
  readonly optional: boolean;
  readonly features: Feature[];
  type!: SchemaType;

  constructor(
    name: string,
    info: SourceInfo | null,
    typeName: string,
    optional: boolean,
    ifcond?: IfCond,
    features: Feature[] = [],
  ) {
    super(name, info, ifcond);
    this.typeName = typeName;
    this.optional = optional;
    this.features = features;
  }

  override setDefinedIn(name: string): void {
    super.setDefinedIn(name);
    for (const f of this.features) f.setDefinedIn(name);
  }

  check(schema: Schema): void {
    this.type = schema.resolveType(this.typeName, this.info, (info) => this.describe(info));
    const seen = new Map<string, Member>();
    for (const f of this.features) f.checkClash(this.info, seen);
  }

  hasFeature(name: string): boolean {
    return this.features.some((f) => f.name === name);
  }
}

export class Variant extends ObjectMember {
  override readonly role = 'branch';
  constructor(name: string, info: SourceInfo | null, typeName: string, ifcond?: IfCond) {
    super(name, info, typeName, false, ifcond);
  }
}

/** Union variants (tag from the base) or alternate variants (tag is an implicit QType member). */
export class Variants {
  readonly tagName: string | null;
  readonly info: SourceInfo;
  tagMember: ObjectMember;
  readonly variants: Variant[];

  constructor(tagName: string | null, info: SourceInfo, tagMember: ObjectMember | null, variants: Variant[]) {
    this.tagName = tagName;
    this.info = info;
    this.tagMember = tagMember!;
    this.variants = variants;
  }

  setDefinedIn(name: string): void {
    for (const v of this.variants) v.setDefinedIn(name);
  }

  check(schema: Schema, seen: Map<string, Member> | null): void {
    if (this.tagName !== null) {
      const tag = seen!.get(cName(this.tagName)) as ObjectMember | undefined;
      let base = "'base'";
      if (!tag || this.tagName !== tag.name) {
        throw new QapiSchemaError(this.info, `discriminator '${this.tagName}' is not a member of ${base}`);
      }
      this.tagMember = tag;
      const baseType = schema.lookupType(tag.definedIn!);
      if (baseType && !baseType.isImplicit()) base = `base type '${tag.definedIn}'`;
      if (!(tag.type instanceof EnumType)) {
        throw new QapiSchemaError(
          this.info,
          `discriminator member '${this.tagName}' of ${base} must be of enum type`,
        );
      }
      if (tag.optional) {
        throw new QapiSchemaError(
          this.info,
          `discriminator member '${this.tagName}' of ${base} must not be optional`,
        );
      }
      if (tag.ifcond.isPresent()) {
        throw new QapiSchemaError(
          this.info,
          `discriminator member '${this.tagName}' of ${base} must not be conditional`,
        );
      }
      // Branches not explicitly covered get the empty type.
      const cases = new Set(this.variants.map((v) => v.name));
      for (const m of tag.type.members) {
        if (!cases.has(m.name)) {
          const v = new Variant(m.name, this.info, 'q_empty', m.ifcond);
          v.setDefinedIn(tag.definedIn!);
          this.variants.push(v);
        }
      }
    }
    if (!this.variants.length) throw new QapiSchemaError(this.info, 'union has no branches');
    for (const v of this.variants) {
      v.check(schema);
      if (seen) {
        const tagType = this.tagMember.type as EnumType;
        if (!tagType.memberNames().includes(v.name)) {
          throw new QapiSchemaError(this.info, `branch '${v.name}' is not a value of ${tagType.describe()}`);
        }
        if (!(v.type instanceof ObjectType) || v.type.variants) {
          throw new QapiSchemaError(this.info, `${v.describe(this.info)} cannot use ${v.type.describe()}`);
        }
        v.type.check(schema);
      }
    }
  }

  checkClash(info: SourceInfo, seen: Map<string, Member>): void {
    for (const v of this.variants) (v.type as ObjectType).checkClash(info, new Map(seen));
  }
}

// ---------------------------------------------------------------------------------------------
// Entities

export abstract class Entity {
  abstract readonly meta: string;
  readonly name: string;
  readonly info: SourceInfo | null;
  readonly doc: QapiDoc | null;
  readonly ifcond: IfCond;
  readonly features: Feature[];
  module: string = BUILTIN_MODULE;
  protected checked = false;

  constructor(
    name: string,
    info: SourceInfo | null,
    doc: QapiDoc | null,
    ifcond?: IfCond,
    features: Feature[] = [],
  ) {
    this.name = name;
    this.info = info;
    this.doc = doc;
    this.ifcond = ifcond ?? new IfCond();
    this.features = features;
    for (const f of features) f.setDefinedIn(name);
  }

  check(_schema: Schema): void {
    const seen = new Map<string, Member>();
    for (const f of this.features) f.checkClash(this.info, seen);
    this.checked = true;
  }

  connectDoc(doc: QapiDoc | null = this.doc): void {
    if (doc) for (const f of this.features) doc.connectFeature(f.name, f.info ?? this.info!);
  }

  checkDoc(): void {
    this.doc?.check();
  }

  isImplicit(): boolean {
    return !this.info;
  }

  describe(): string {
    return `${this.meta} '${this.name}'`;
  }

  hasFeature(name: string): boolean {
    return this.features.some((f) => f.name === name);
  }
}

export class Include extends Entity {
  readonly meta = 'include';
  readonly subModule: string;
  constructor(subModule: string, info: SourceInfo) {
    super('', info, null);
    this.subModule = subModule;
  }
}

export abstract class SchemaType extends Entity {
  abstract jsonType(): JsonType;

  alternateQType(): QTypeName | undefined {
    return JSON2QTYPE[this.jsonType()];
  }

  override describe(): string {
    return `${this.meta} type '${this.name}'`;
  }
}

export class BuiltinType extends SchemaType {
  readonly meta = 'built-in';
  private readonly json: JsonType;
  constructor(name: string, json: JsonType) {
    super(name, null, null);
    this.json = json;
  }
  jsonType(): JsonType {
    return this.json;
  }
}

export class EnumType extends SchemaType {
  readonly meta = 'enum';
  readonly members: EnumMember[];
  readonly prefix: string | null;

  constructor(
    name: string,
    info: SourceInfo | null,
    doc: QapiDoc | null,
    ifcond: IfCond | undefined,
    features: Feature[],
    members: EnumMember[],
    prefix: string | null,
  ) {
    super(name, info, doc, ifcond, features);
    this.members = members;
    this.prefix = prefix;
    for (const m of members) {
      m.setDefinedIn(name);
      for (const f of m.features) f.setDefinedIn(name);
    }
  }

  override check(schema: Schema): void {
    super.check(schema);
    const seen = new Map<string, Member>();
    for (const m of this.members) {
      m.checkClash(this.info, seen);
      const fseen = new Map<string, Member>();
      for (const f of m.features) f.checkClash(this.info, fseen);
    }
  }

  override connectDoc(doc: QapiDoc | null = this.doc): void {
    super.connectDoc(doc);
    if (doc) {
      for (const m of this.members) {
        doc.connectMember(m.name);
        for (const f of m.features) doc.connectFeature(f.name, this.info!);
      }
    }
  }

  override isImplicit(): boolean {
    // The only implicit enum is the builtin QType.
    return this.info === null;
  }

  memberNames(): string[] {
    return this.members.map((m) => m.name);
  }

  jsonType(): JsonType {
    return 'string';
  }
}

export class ArrayType extends SchemaType {
  readonly meta = 'array';
  readonly elementTypeName: string;
  elementType!: SchemaType;

  constructor(name: string, info: SourceInfo | null, elementTypeName: string) {
    super(name, info, null);
    this.elementTypeName = elementTypeName;
  }

  override check(schema: Schema): void {
    super.check(schema);
    this.elementType = schema.resolveType(this.elementTypeName, this.info, this.info?.defnMeta ?? 'array');
  }

  override isImplicit(): boolean {
    return true;
  }

  jsonType(): JsonType {
    return 'array';
  }

  override describe(): string {
    return `${this.meta} type '${this.name}'`;
  }
}

export class ObjectType extends SchemaType {
  readonly meta: 'struct' | 'union';
  readonly baseName: string | null;
  readonly localMembers: ObjectMember[];
  readonly variants: Variants | null;
  base: ObjectType | null = null;
  /** All members (base members first), set once checked. */
  members: ObjectMember[] | null = null;

  constructor(
    name: string,
    info: SourceInfo | null,
    doc: QapiDoc | null,
    ifcond: IfCond | undefined,
    features: Feature[],
    baseName: string | null,
    localMembers: ObjectMember[],
    variants: Variants | null,
  ) {
    super(name, info, doc, ifcond, features);
    this.meta = variants ? 'union' : 'struct';
    this.baseName = baseName;
    this.localMembers = localMembers;
    this.variants = variants;
    for (const m of localMembers) m.setDefinedIn(name);
    variants?.setDefinedIn(name);
  }

  override check(schema: Schema): void {
    if (this.members !== null) return;
    if (this.checked) throw new QapiSchemaError(this.info, `object ${this.name} contains itself`);
    super.check(schema);
    const seen = new Map<string, Member>();
    if (this.baseName !== null) {
      const base = schema.resolveType(this.baseName, this.info, "'base'");
      if (!(base instanceof ObjectType) || base.variants) {
        throw new QapiSchemaError(this.info, `'base' requires a struct type, ${base.describe()} isn't`);
      }
      this.base = base;
      base.check(schema);
      base.checkClash(this.info, seen);
    }
    for (const m of this.localMembers) {
      m.check(schema);
      m.checkClash(this.info, seen);
    }
    const members = [...seen.values()] as ObjectMember[];
    if (this.variants) {
      this.variants.check(schema, seen);
      this.variants.checkClash(this.info!, seen);
    }
    this.members = members;
  }

  checkClash(info: SourceInfo | null, seen: Map<string, Member>): void {
    for (const m of this.members!) m.checkClash(info, seen);
  }

  override connectDoc(doc: QapiDoc | null = this.doc): void {
    super.connectDoc(doc);
    if (doc) {
      if (this.base?.isImplicit()) this.base.connectDoc(doc);
      for (const m of this.localMembers) {
        doc.connectMember(m.name);
        for (const f of m.features) doc.connectFeature(f.name, this.info!);
      }
    }
  }

  override isImplicit(): boolean {
    return this.name.startsWith('q_');
  }

  isEmpty(): boolean {
    return this.members!.length === 0 && !this.variants;
  }

  hasConditionalMembers(): boolean {
    return this.members!.some((m) => m.ifcond.isPresent());
  }

  jsonType(): JsonType {
    return 'object';
  }
}

export class AlternateType extends SchemaType {
  readonly meta = 'alternate';
  readonly variants: Variants;

  constructor(
    name: string,
    info: SourceInfo,
    doc: QapiDoc | null,
    ifcond: IfCond | undefined,
    features: Feature[],
    variants: Variants,
  ) {
    super(name, info, doc, ifcond, features);
    this.variants = variants;
    variants.setDefinedIn(name);
    variants.tagMember.setDefinedIn(name);
  }

  override check(schema: Schema): void {
    super.check(schema);
    this.variants.tagMember.check(schema);
    this.variants.check(schema, null);
    const seen = new Map<string, Member>();
    const typesSeen = new Map<QTypeName, string>();
    for (const v of this.variants.variants) {
      v.checkClash(this.info, seen);
      const qtype = v.type.alternateQType();
      if (!qtype)
        throw new QapiSchemaError(this.info, `${v.describe(this.info)} cannot use ${v.type.describe()}`);
      const conflicting: QTypeName[] = [qtype];
      if (qtype === 'QTYPE_QSTRING') {
        if (v.type instanceof EnumType) {
          for (const m of v.type.members) {
            if (m.name === 'on' || m.name === 'off') conflicting.push('QTYPE_QBOOL');
            if (/^[-+0-9.]/.test(m.name)) conflicting.push('QTYPE_QNUM');
          }
        } else {
          conflicting.push('QTYPE_QNUM', 'QTYPE_QBOOL');
        }
      }
      for (const qt of conflicting) {
        const other = typesSeen.get(qt);
        if (other !== undefined && other !== v.name) {
          throw new QapiSchemaError(
            this.info,
            `${v.describe(this.info)} can't be distinguished from '${other}'`,
          );
        }
        typesSeen.set(qt, v.name);
      }
    }
  }

  override connectDoc(doc: QapiDoc | null = this.doc): void {
    super.connectDoc(doc);
    if (doc) for (const v of this.variants.variants) doc.connectMember(v.name);
  }

  jsonType(): JsonType {
    return 'value';
  }
}

/**
 * What commands and events share: an optional argument type ('data'), which must be an object type,
 * a union only when 'boxed'; an implicit one takes its members' documentation from the definition.
 */
export abstract class EntityWithArgs extends Entity {
  abstract override readonly meta: 'command' | 'event';
  readonly argTypeName: string | null;
  argType: ObjectType | null = null;

  constructor(
    name: string,
    info: SourceInfo,
    doc: QapiDoc | null,
    ifcond: IfCond,
    features: Feature[],
    argTypeName: string | null,
    readonly boxed: boolean,
  ) {
    super(name, info, doc, ifcond, features);
    this.argTypeName = argTypeName;
  }

  override check(schema: Schema): void {
    super.check(schema);
    if (this.argTypeName) {
      const role = `${this.meta}'s 'data'`;
      const t = schema.resolveType(this.argTypeName, this.info, role);
      if (!(t instanceof ObjectType))
        throw new QapiSchemaError(this.info, `${role} cannot take ${t.describe()}`);
      if (t.variants && !this.boxed) {
        throw new QapiSchemaError(this.info, `${role} can take ${t.describe()} only with 'boxed': true`);
      }
      this.argType = t;
      t.check(schema);
    }
  }

  override connectDoc(doc: QapiDoc | null = this.doc): void {
    super.connectDoc(doc);
    if (doc && this.argType?.isImplicit()) this.argType.connectDoc(doc);
  }
}

export class Command extends EntityWithArgs {
  readonly meta = 'command';
  readonly retTypeName: string | null;
  retType: SchemaType | null = null;

  constructor(
    name: string,
    info: SourceInfo,
    doc: QapiDoc | null,
    ifcond: IfCond,
    features: Feature[],
    argTypeName: string | null,
    retTypeName: string | null,
    readonly gen: boolean,
    readonly successResponse: boolean,
    boxed: boolean,
    readonly allowOob: boolean,
    readonly allowPreconfig: boolean,
    readonly coroutine: boolean,
  ) {
    super(name, info, doc, ifcond, features, argTypeName, boxed);
    this.retTypeName = retTypeName;
  }

  override check(schema: Schema): void {
    super.check(schema);
    if (this.retTypeName) {
      this.retType = schema.resolveType(this.retTypeName, this.info, "command's 'returns'");
      if (!this.info!.pragma.commandReturnsExceptions.includes(this.name)) {
        let typ = this.retType;
        if (typ instanceof ArrayType) typ = typ.elementType;
        if (!(typ instanceof ObjectType)) {
          throw new QapiSchemaError(this.info, `command's 'returns' cannot take ${this.retType.describe()}`);
        }
      }
    }
  }
}

export class Event extends EntityWithArgs {
  readonly meta = 'event';
}

// ---------------------------------------------------------------------------------------------
// The schema

export interface SchemaOptions {
  readFile?: ReadFile;
  /**
   * Symbols for 'if' conditions. When given, definitions, members, branches, values and features
   * whose condition is false are left out (after the full schema has been checked), like the C
   * preprocessor does for QEMU's generated code. When omitted, conditions are kept and not evaluated.
   */
  defines?: ReadonlySet<string>;
}

export class Schema {
  readonly fname: string;
  readonly docs: QapiDoc[];
  readonly entities: Entity[] = [];
  private readonly entityDict = new Map<string, Entity>();
  readonly modules: string[] = [];
  private readonly schemaDir: string;
  private predefining = false;
  theEmptyObjectType!: ObjectType;

  constructor(fname: string, opts: SchemaOptions = {}) {
    this.fname = fname;
    const parser = new SchemaParser(fname, { readFile: opts.readFile });
    let exprs = checkExprs(parser.exprs);
    this.docs = parser.docs;
    this.schemaDir = path.dirname(fname);
    this.build(exprs, true);
    if (opts.defines) {
      // Second pass: the same schema with false conditions removed. Its errors are like C's
      // compile errors for a configuration (e.g. an unconditional member using a conditional type).
      exprs = pruneExprs(exprs, opts.defines);
      this.entities.length = 0;
      this.entityDict.clear();
      this.modules.length = 0;
      this.build(exprs, false);
    }
  }

  private build(exprs: ParsedExpr[], checkDocs: boolean): void {
    this.makeModule(BUILTIN_MODULE);
    this.makeModule(this.fname);
    this.predefining = true;
    this.defPredefineds();
    this.predefining = false;
    for (const e of exprs) this.defExpr(e);
    for (const ent of this.entities) {
      ent.check(this);
      if (checkDocs) {
        ent.connectDoc();
        ent.checkDoc();
      }
    }
    for (const ent of this.entities) ent.module = this.moduleName(ent.info?.fname ?? null);
  }

  private moduleName(fname: string | null): string {
    if (fname === null || fname === BUILTIN_MODULE) return BUILTIN_MODULE;
    return path.relative(this.schemaDir, fname);
  }

  private makeModule(fname: string): string {
    const name = this.moduleName(fname);
    if (!this.modules.includes(name)) this.modules.push(name);
    return name;
  }

  private defEntity(ent: Entity): void {
    if (!ent.info && !this.predefining) throw new Error('entity without source info');
    this.entities.push(ent);
    if (ent instanceof Include) return;
    const other = this.entityDict.get(ent.name);
    if (other) {
      if (other.info) {
        const where = new QapiSchemaError(other.info, 'previous definition');
        throw new QapiSchemaError(ent.info, `'${ent.name}' is already defined\n${where.format()}`);
      }
      throw new QapiSchemaError(ent.info, `${other.describe()} is already defined`);
    }
    this.entityDict.set(ent.name, ent);
  }

  lookupEntity(name: string): Entity | undefined {
    return this.entityDict.get(name);
  }

  lookupType(name: string): SchemaType | undefined {
    const e = this.entityDict.get(name);
    return e instanceof SchemaType ? e : undefined;
  }

  resolveType(
    name: string,
    info: SourceInfo | null,
    what: string | ((info: SourceInfo | null) => string),
  ): SchemaType {
    const t = this.lookupType(name);
    if (!t) {
      const w = typeof what === 'function' ? what(info) : what;
      throw new QapiSchemaError(info, `${w} uses unknown type '${name}'`);
    }
    return t;
  }

  /** Entities grouped by module, in module order: the order QEMU's visitors see them. */
  visitOrder(): { module: string; entities: Entity[] }[] {
    return this.modules.map((module) => ({
      module,
      entities: this.entities.filter((e) => e.module === module),
    }));
  }

  /** Flattened visitOrder(). */
  orderedEntities(): Entity[] {
    return this.visitOrder().flatMap((m) => m.entities);
  }

  private defPredefineds(): void {
    const builtins: [string, JsonType][] = [
      ['str', 'string'],
      ['number', 'number'],
      ['int', 'int'],
      ['int8', 'int'],
      ['int16', 'int'],
      ['int32', 'int'],
      ['int64', 'int'],
      ['uint8', 'int'],
      ['uint16', 'int'],
      ['uint32', 'int'],
      ['uint64', 'int'],
      ['size', 'int'],
      ['bool', 'boolean'],
      ['any', 'value'],
      ['null', 'null'],
    ];
    for (const [name, json] of builtins) {
      this.defEntity(new BuiltinType(name, json));
      this.makeArrayType(name, null);
    }
    this.theEmptyObjectType = new ObjectType('q_empty', null, null, undefined, [], null, [], null);
    this.defEntity(this.theEmptyObjectType);
    const qtypes = ['none', 'qnull', 'qnum', 'qstring', 'qdict', 'qlist', 'qbool'];
    this.defEntity(
      new EnumType(
        'QType',
        null,
        null,
        undefined,
        [],
        qtypes.map((n) => new EnumMember(n, null)),
        'QTYPE',
      ),
    );
  }

  private makeFeatures(features: ExprValue | undefined, info: SourceInfo): Feature[] {
    if (!features) return [];
    return (features as ExprDict[]).map(
      (f) => new Feature(f.get('name') as string, info, new IfCond(f.get('if'))),
    );
  }

  private makeArrayType(elementType: string, info: SourceInfo | null): string {
    const name = elementType + 'List';
    if (!this.lookupType(name)) this.defEntity(new ArrayType(name, info, elementType));
    return name;
  }

  private makeImplicitObjectType(
    name: string,
    info: SourceInfo,
    ifcond: IfCond,
    role: string,
    members: ObjectMember[],
  ): string | null {
    if (!members.length) return null;
    const implicit = `q_obj_${name}-${role}`;
    // A second user can only be a duplicate definition, which is reported when that is defined.
    if (!this.lookupEntity(implicit)) {
      this.defEntity(new ObjectType(implicit, info, null, ifcond, [], null, members, null));
    }
    return implicit;
  }

  private makeMember(
    name: string,
    typ: ExprValue,
    ifcond: IfCond,
    features: ExprValue | undefined,
    info: SourceInfo,
  ): ObjectMember {
    let optional = false;
    if (name.startsWith('*')) {
      name = name.slice(1);
      optional = true;
    }
    const typeName = Array.isArray(typ) ? this.makeArrayType(typ[0] as string, info) : (typ as string);
    return new ObjectMember(name, info, typeName, optional, ifcond, this.makeFeatures(features, info));
  }

  private makeMembers(data: ExprDict, info: SourceInfo): ObjectMember[] {
    return [...data].map(([key, value]) => {
      const v = value as ExprDict;
      return this.makeMember(key, v.get('type')!, new IfCond(v.get('if')), v.get('features'), info);
    });
  }

  private makeVariant(name: string, typ: ExprValue, ifcond: IfCond, info: SourceInfo): Variant {
    const typeName = Array.isArray(typ) ? this.makeArrayType(typ[0] as string, info) : (typ as string);
    return new Variant(name, info, typeName, ifcond);
  }

  /** A union's or alternate's branches ('data'). */
  private makeVariants(data: ExprDict, info: SourceInfo): Variant[] {
    return [...data].map(([key, value]) => {
      const v = value as ExprDict;
      return this.makeVariant(key, v.get('type')!, new IfCond(v.get('if')), info);
    });
  }

  /** A command's or event's 'data': a type name, or members that make an implicit type (none if empty). */
  private makeArgType(
    name: string,
    data: ExprValue | undefined,
    info: SourceInfo,
    ifcond: IfCond,
  ): string | null {
    if (isDict(data))
      return this.makeImplicitObjectType(name, info, ifcond, 'arg', this.makeMembers(data, info));
    return typeof data === 'string' ? data : null;
  }

  private defExpr(elem: ParsedExpr): void {
    const { expr, info } = elem;
    const doc = elem.doc ?? null;
    if (expr.has('include')) {
      this.defEntity(new Include(this.makeModule(expr.get('include') as string), info));
      return;
    }
    const ifcond = new IfCond(expr.get('if'));
    const features = this.makeFeatures(expr.get('features'), info);
    if (expr.has('enum')) {
      const name = expr.get('enum') as string;
      const members = (expr.get('data') as ExprDict[]).map(
        (m) =>
          new EnumMember(
            m.get('name') as string,
            info,
            new IfCond(m.get('if')),
            this.makeFeatures(m.get('features'), info),
          ),
      );
      const prefix = expr.get('prefix');
      this.defEntity(
        new EnumType(name, info, doc, ifcond, features, members, typeof prefix === 'string' ? prefix : null),
      );
    } else if (expr.has('struct')) {
      const name = expr.get('struct') as string;
      const base = expr.get('base');
      this.defEntity(
        new ObjectType(
          name,
          info,
          doc,
          ifcond,
          features,
          typeof base === 'string' ? base : null,
          this.makeMembers(expr.get('data') as ExprDict, info),
          null,
        ),
      );
    } else if (expr.has('union')) {
      const name = expr.get('union') as string;
      const base = expr.get('base');
      let baseName: string | null = typeof base === 'string' ? base : null;
      if (isDict(base))
        baseName = this.makeImplicitObjectType(name, info, ifcond, 'base', this.makeMembers(base, info));
      const variants = this.makeVariants(expr.get('data') as ExprDict, info);
      this.defEntity(
        new ObjectType(
          name,
          info,
          doc,
          ifcond,
          features,
          baseName,
          [],
          new Variants(expr.get('discriminator') as string, info, null, variants),
        ),
      );
    } else if (expr.has('alternate')) {
      const name = expr.get('alternate') as string;
      const variants = this.makeVariants(expr.get('data') as ExprDict, info);
      const tag = new ObjectMember('type', info, 'QType', false);
      this.defEntity(
        new AlternateType(name, info, doc, ifcond, features, new Variants(null, info, tag, variants)),
      );
    } else if (expr.has('command')) {
      const name = expr.get('command') as string;
      const argTypeName = this.makeArgType(name, expr.get('data'), info, ifcond);
      const rets = expr.get('returns');
      const retTypeName = Array.isArray(rets)
        ? this.makeArrayType(rets[0] as string, info)
        : ((rets as string | undefined) ?? null);
      this.defEntity(
        new Command(
          name,
          info,
          doc,
          ifcond,
          features,
          argTypeName,
          retTypeName,
          (expr.get('gen') ?? true) ? true : false,
          (expr.get('success-response') ?? true) ? true : false,
          expr.get('boxed') === true,
          expr.get('allow-oob') === true,
          expr.get('allow-preconfig') === true,
          expr.get('coroutine') === true,
        ),
      );
    } else if (expr.has('event')) {
      const name = expr.get('event') as string;
      const argTypeName = this.makeArgType(name, expr.get('data'), info, ifcond);
      this.defEntity(new Event(name, info, doc, ifcond, features, argTypeName, expr.get('boxed') === true));
    }
  }
}

/** Copy of the expressions with everything whose 'if' is false removed (see SchemaOptions.defines). */
function pruneExprs(exprs: ParsedExpr[], defines: ReadonlySet<string>): ParsedExpr[] {
  const holds = (v: ExprValue): boolean => !isDict(v) || new IfCond(v.get('if')).evaluate(defines);
  /** A member/value dict with its own features pruned. */
  const withFeatures = (m: ExprValue): ExprValue => {
    if (!isDict(m) || !Array.isArray(m.get('features'))) return m;
    const mm = new Map(m);
    mm.set('features', (m.get('features') as ExprValue[]).filter(holds));
    return mm;
  };
  const pruneList = (v: ExprValue[]): ExprValue[] => v.filter(holds).map(withFeatures);
  const pruneDict = (v: ExprValue): ExprValue => {
    if (!isDict(v)) return v;
    const out: ExprDict = new Map();
    for (const [k, m] of v) if (holds(m)) out.set(k, withFeatures(m));
    return out;
  };
  const out: ParsedExpr[] = [];
  for (const e of exprs) {
    if (!holds(e.expr)) continue;
    const expr: ExprDict = new Map(e.expr);
    for (const key of ['data', 'base']) {
      const v = expr.get(key);
      if (v === undefined) continue;
      expr.set(key, Array.isArray(v) ? pruneList(v) : pruneDict(v));
    }
    const features = expr.get('features');
    if (Array.isArray(features)) expr.set('features', pruneList(features));
    out.push({ expr, info: e.info, ...(e.doc ? { doc: e.doc } : {}) });
  }
  return out;
}
