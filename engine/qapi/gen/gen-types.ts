/**
 * Types backend (QEMU's scripts/qapi/types.py): TypeScript declarations for every QAPI type.
 *  - enum: a string-literal union plus `Foo_lookup`, the ordered value list visitors use;
 *  - struct: an interface (extending its base); optional members are optional properties;
 *  - union: base & (one branch per tag value); alternate: a union of its branch types;
 *  - arrays: `FooList = Foo[]`; all integer kinds and size are `number` (see qapi-visit for bigint).
 * Property names are the wire names, so a value of these types *is* the QMP JSON object.
 */
import { tsKey, tsName, tsStr } from './common.js';
import { banner, entityDoc, jsdoc, memberDoc, tsTypeRef } from './gen-common.js';
import { AlternateType, ArrayType, EnumType, ObjectType, type Schema, type SchemaType } from './schema.js';

export interface TypesOptions {
  /** Import statement(s) providing QObject (engine and client differ). */
  qobjectImport: string;
}

export function genTypes(schema: Schema, opts: TypesOptions): string {
  let out = banner('QAPI types') + opts.qobjectImport + '\n';
  for (const ent of schema.orderedEntities()) {
    if (!(
      ent instanceof EnumType ||
      ent instanceof ArrayType ||
      ent instanceof ObjectType ||
      ent instanceof AlternateType
    ))
      continue;
    out += '\n' + genType(ent, schema);
  }
  return out;
}

function genType(t: SchemaType, schema: Schema): string {
  const name = tsName(t.name);
  const doc = jsdoc(entityDoc(t));
  if (t instanceof EnumType) {
    const values = t.members.map((m) => tsStr(m.name));
    return (
      doc +
      `export type ${name} = ${values.length ? values.join(' | ') : 'never'};\n` +
      `export const ${name}_lookup: readonly ${name}[] = [${values.join(', ')}];\n`
    );
  }
  if (t instanceof ArrayType) {
    return `export type ${name} = ${tsTypeRef(t)};\n`;
  }
  if (t instanceof ObjectType) {
    if (!t.variants) {
      if (t.name === 'q_empty') return `export type q_empty = Record<string, never>;\n`;
      const ext = t.base ? ` extends ${tsName(t.base.name)}` : '';
      let body = '';
      // Implicit types (command arguments, union bases) are documented by their definition.
      const ownerDoc =
        t.doc ?? (t.info?.defnName ? (schema.lookupEntity(t.info.defnName)?.doc ?? null) : null);
      for (const m of t.localMembers) {
        body += jsdoc(
          memberDoc(ownerDoc, m.name) + (m.hasFeature('deprecated') ? '\n@deprecated' : ''),
          '  ',
        );
        body += `  ${tsKey(m.name)}${m.optional ? '?' : ''}: ${tsTypeRef(m.type)};\n`;
      }
      return `${doc}export interface ${name}${ext} {\n${body}}\n`;
    }
    const tag = t.variants.tagMember.name;
    const branches: string[] = [];
    const empty: string[] = [];
    for (const v of t.variants.variants) {
      if (v.type.name === 'q_empty') empty.push(tsStr(v.name));
      else branches.push(`({ ${tsKey(tag)}: ${tsStr(v.name)} } & ${tsTypeRef(v.type)})`);
    }
    if (empty.length) branches.push(`{ ${tsKey(tag)}: ${empty.join(' | ')} }`);
    const base = t.base ? `${tsName(t.base.name)} & ` : '';
    return `${doc}export type ${name} = ${base}(\n  | ${branches.join('\n  | ')}\n);\n`;
  }
  if (t instanceof AlternateType) {
    return `${doc}export type ${name} = ${t.variants.variants.map((v) => tsTypeRef(v.type)).join(' | ')};\n`;
  }
  return '';
}
