/**
 * Visitor backend (QEMU's scripts/qapi/visit.py): `visit_type_Foo(v, name, obj?)` for every type,
 * plus `visit_type_Foo_members(v, obj?)` for object types. One body serves input, output and clone
 * visitors thanks to the value-returning Visitor contract (engine/qapi/visitor.ts): each member is
 * read from `obj` (absent for input) and the visitor's answer is stored in a fresh result object.
 *
 * 64-bit integers and sizes are typed `number`; a visitor returning a bigint (a value beyond 2^53)
 * makes the generated code throw a QapiError instead of silently rounding.
 */
import { tsName, tsStr } from './common.js';
import { banner, tsTypeRef } from './gen-common.js';
import {
  AlternateType,
  ArrayType,
  BuiltinType,
  EnumType,
  type ObjectMember,
  ObjectType,
  type Schema,
  type SchemaType,
} from './schema.js';

/** Member names that a plain object would "have" through Object.prototype. */
const PROTO_NAMES = new Set(Object.getOwnPropertyNames(Object.prototype));

export function visitFnName(t: SchemaType): string {
  return `visit_type_${tsName(t.name)}`;
}

const PRELUDE = `import type { QObject } from '../../qobject/qobject.js';
import { QapiError } from '../error.js';
import type { Visitor } from '../visitor.js';
import type * as T from './qapi-types.js';
import * as types from './qapi-types.js';

/** Our generated types use number for 64-bit integers: refuse values they cannot hold exactly. */
function exactInt(value: number | bigint, name: string | null): number {
  if (typeof value === 'bigint') {
    throw new QapiError(\`Parameter '\${name ?? 'null'}' is out of range: integers beyond +-2^53 are not supported here\`);
  }
  return value;
}

function rejectDeprecated(v: Visitor, name: string): void {
  if (!v.deprecatedAccept(name)) throw new QapiError(\`Deprecated parameter '\${name}' disabled by policy\`);
}

export function visit_type_str(v: Visitor, name: string | null, obj?: string): string {
  return v.typeStr(name, obj);
}
export function visit_type_number(v: Visitor, name: string | null, obj?: number): number {
  return v.typeNumber(name, obj);
}
export function visit_type_int(v: Visitor, name: string | null, obj?: number): number {
  return exactInt(v.typeInt64(name, obj), name);
}
export function visit_type_int8(v: Visitor, name: string | null, obj?: number): number {
  return v.typeInt8(name, obj);
}
export function visit_type_int16(v: Visitor, name: string | null, obj?: number): number {
  return v.typeInt16(name, obj);
}
export function visit_type_int32(v: Visitor, name: string | null, obj?: number): number {
  return v.typeInt32(name, obj);
}
export function visit_type_int64(v: Visitor, name: string | null, obj?: number): number {
  return exactInt(v.typeInt64(name, obj), name);
}
export function visit_type_uint8(v: Visitor, name: string | null, obj?: number): number {
  return v.typeUint8(name, obj);
}
export function visit_type_uint16(v: Visitor, name: string | null, obj?: number): number {
  return v.typeUint16(name, obj);
}
export function visit_type_uint32(v: Visitor, name: string | null, obj?: number): number {
  return v.typeUint32(name, obj);
}
export function visit_type_uint64(v: Visitor, name: string | null, obj?: number): number {
  return exactInt(v.typeUint64(name, obj), name);
}
export function visit_type_size(v: Visitor, name: string | null, obj?: number): number {
  return exactInt(v.typeSize(name, obj), name);
}
export function visit_type_bool(v: Visitor, name: string | null, obj?: boolean): boolean {
  return v.typeBool(name, obj);
}
export function visit_type_any(v: Visitor, name: string | null, obj?: QObject): QObject {
  return v.typeAny(name, obj);
}
export function visit_type_null(v: Visitor, name: string | null, _obj?: null): null {
  return v.typeNull(name);
}
`;

const OWN = `
/** Read a member of a source object without picking up Object.prototype properties. */
function own<V>(obj: object | undefined, key: string): V | undefined {
  return obj !== undefined && Object.prototype.hasOwnProperty.call(obj, key) ? (obj as Record<string, V>)[key] : undefined;
}
`;

export function genVisit(schema: Schema): string {
  let out = banner('QAPI visitors') + PRELUDE;
  let body = '';
  for (const ent of schema.orderedEntities()) {
    if (ent instanceof EnumType) body += '\n' + genEnum(ent);
    else if (ent instanceof ArrayType) body += '\n' + genList(ent);
    else if (ent instanceof ObjectType) body += '\n' + genObject(ent);
    else if (ent instanceof AlternateType) body += '\n' + genAlternate(ent);
  }
  if (body.includes('own<')) out += OWN;
  out += body;
  return out;
}

function tref(t: SchemaType): string {
  return tsTypeRef(t, 'T.');
}

function genEnum(t: EnumType): string {
  const n = tsName(t.name);
  return (
    `export function visit_type_${n}(v: Visitor, name: string | null, obj?: T.${n}): T.${n} {\n` +
    `  return v.typeEnum(name, types.${n}_lookup, obj) as T.${n};\n}\n`
  );
}

function genList(t: ArrayType): string {
  const n = tsName(t.name);
  const el = tref(t.elementType);
  return (
    `export function visit_type_${n}(v: Visitor, name: string | null, obj?: ${tref(t)}): ${tref(t)} {\n` +
    `  const n = v.startList(name, obj?.length);\n` +
    `  try {\n` +
    `    const dst: ${el}[] = [];\n` +
    `    for (let i = 0; i < n; i++) dst.push(${visitFnName(t.elementType)}(v, null, obj?.[i]));\n` +
    `    v.checkList();\n` +
    `    return dst;\n` +
    `  } finally {\n` +
    `    v.endList();\n` +
    `  }\n}\n`
  );
}

function memberRead(m: ObjectMember): string {
  return PROTO_NAMES.has(m.name) ? `own<${tref(m.type)}>(src, ${tsStr(m.name)})` : `src?.${accessor(m.name)}`;
}

function accessor(name: string): string {
  return /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(name) ? name : `[${tsStr(name)}]`;
}

function dstAccess(name: string): string {
  return /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(name) ? `dst.${name}` : `dst[${tsStr(name)}]`;
}

function genMember(m: ObjectMember, indent: string): string {
  const nm = tsStr(m.name);
  const call = `${dstAccess(m.name)} = ${visitFnName(m.type)}(v, ${nm}, ${memberRead(m)}${m.optional ? '' : '!'});`;
  let inner: string;
  if (m.hasFeature('deprecated')) {
    inner = `${indent}  rejectDeprecated(v, ${nm});\n${indent}  if (v.deprecated(${nm})) ${call}\n`;
  } else {
    inner = `${indent}  ${call}\n`;
  }
  if (m.optional) {
    return `${indent}if (v.optional(${nm}, ${memberRead(m)} !== undefined)) {\n${inner}${indent}}\n`;
  }
  if (m.hasFeature('deprecated')) return `${indent}{\n${inner}${indent}}\n`;
  return inner.slice(2);
}

function genObject(t: ObjectType): string {
  const n = tsName(t.name);
  let out = `export function visit_type_${n}_members(v: Visitor, obj?: T.${n}): T.${n} {\n`;
  const needSrc = t.localMembers.length > 0;
  if (t.base) {
    out += `  const dst = visit_type_${tsName(t.base.name)}_members(v, obj) as T.${n};\n`;
  } else {
    out += `  const dst = {} as T.${n};\n`;
  }
  if (needSrc) out += `  const src = obj as Partial<T.${n}> | undefined;\n`;
  for (const m of t.localMembers) out += genMember(m, '  ');
  if (t.variants) {
    const tag = t.variants.tagMember;
    out += `  switch (${dstAccess(tag.name)}) {\n`;
    for (const v of t.variants.variants) {
      if (v.type.name === 'q_empty') continue;
      const vn = tsName(v.type.name);
      out += `    case ${tsStr(v.name)}:\n`;
      out += `      Object.assign(dst, visit_type_${vn}_members(v, obj as unknown as T.${vn}));\n`;
      out += `      break;\n`;
    }
    out += `    default:\n      break;\n  }\n`;
  }
  out += `  return dst;\n}\n`;
  if (t.name === 'q_empty') out = out.replace('const dst = {} as T.q_empty;', 'const dst: T.q_empty = {};');
  out +=
    `\nexport function visit_type_${n}(v: Visitor, name: string | null, obj?: T.${n}): T.${n} {\n` +
    `  v.startStruct(name);\n` +
    `  try {\n` +
    `    const dst = visit_type_${n}_members(v, obj);\n` +
    `    v.checkStruct();\n` +
    `    return dst;\n` +
    `  } finally {\n` +
    `    v.endStruct();\n` +
    `  }\n}\n`;
  return out;
}

/** Which QType (visitor.ts QType) selects each branch. */
function genAlternate(t: AlternateType): string {
  const n = tsName(t.name);
  const cases = new Map<string, string>();
  let intBranch: SchemaType | null = null;
  let numberBranch: SchemaType | null = null;
  for (const v of t.variants.variants) {
    const vt = v.type;
    const call = (ty: SchemaType): string => `return ${visitFnName(ty)}(v, name, obj as ${tref(ty)});`;
    if (vt instanceof BuiltinType) {
      const json = vt.jsonType();
      if (json === 'int') intBranch = vt;
      else if (json === 'number') numberBranch = vt;
      else if (json === 'string') cases.set('string', call(vt));
      else if (json === 'boolean') cases.set('bool', call(vt));
      else if (json === 'null') cases.set('null', `return visit_type_null(v, name);`);
    } else if (vt instanceof EnumType) {
      cases.set('string', call(vt));
    } else if (vt instanceof ObjectType) {
      cases.set('object', call(vt));
    } else if (vt instanceof ArrayType) {
      cases.set('array', call(vt));
    }
  }
  // QEMU has one QNUM: an integer may go to a 'number' branch and vice versa (the visitor then checks).
  const intTarget = intBranch ?? numberBranch;
  const numTarget = numberBranch ?? intBranch;
  if (intTarget) cases.set('int', `return ${visitFnName(intTarget)}(v, name, obj as number);`);
  if (numTarget) cases.set('number', `return ${visitFnName(numTarget)}(v, name, obj as number);`);
  let body = '';
  for (const [qt, stmt] of cases) body += `      case '${qt}':\n        ${stmt}\n`;
  return (
    `export function visit_type_${n}(v: Visitor, name: string | null, obj?: T.${n}): T.${n} {\n` +
    `  const qtype = v.startAlternate(name, obj);\n` +
    `  try {\n` +
    `    switch (qtype) {\n${body}` +
    `      default:\n` +
    `        throw new QapiError(\`Invalid parameter type for '\${name ?? 'null'}', expected: ${t.name}\`);\n` +
    `    }\n` +
    `  } finally {\n` +
    `    v.endAlternate();\n` +
    `  }\n}\n`
  );
}
