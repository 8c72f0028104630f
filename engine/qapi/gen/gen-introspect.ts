/**
 * Introspection backend (QEMU's scripts/qapi/introspect.py): the SchemaInfo list that
 * query-qmp-schema returns.
 *
 * As in QEMU: commands and events are listed in schema order, followed by the types they use in
 * order of first use; type names are masked as "0", "1", ... in that order (builtins and arrays keep
 * their names); all integer types are reported as 'int' (and their arrays as '[int]'); optional
 * members carry "default": null. Keys of every dictionary are ordered the way QEMU 7.2 prints them:
 * its QDict iterates hash buckets (tdb_hash % 512), newest entry first within a bucket.
 */
import {
  AlternateType,
  ArrayType,
  BuiltinType,
  Command,
  EnumType,
  Event,
  type Feature,
  ObjectType,
  type Schema,
  type SchemaType,
} from './schema.js';
import { qdictKeyOrder } from '../../qobject/qdict-order.js';

/** A plain JSON-like value produced at generation time. */
export type IntroValue = null | boolean | string | IntroValue[] | { [key: string]: IntroValue };
type IntroDict = { [key: string]: IntroValue };

export { qdictHash, qdictKeyOrder } from '../../qobject/qdict-order.js';

function ordered(d: IntroDict): IntroDict {
  const out: IntroDict = {};
  for (const k of qdictKeyOrder(Object.keys(d))) out[k] = d[k]!;
  return out;
}

export interface IntrospectEntry {
  value: IntroDict;
  /** For masked type names: which schema type the number stands for (a comment in the output). */
  comment?: string;
}

export function introspect(schema: Schema, unmask = false): IntrospectEntry[] {
  const trees: IntrospectEntry[] = [];
  const used: SchemaType[] = [];
  const nameMap = new Map<string, string>();

  const maskName = (name: string): string => {
    if (unmask) return name;
    let n = nameMap.get(name);
    if (n === undefined) {
      n = String(nameMap.size);
      nameMap.set(name, n);
    }
    return n;
  };

  const useType = (typ: SchemaType): string => {
    if (typ.jsonType() === 'int') typ = schema.lookupType('int')!;
    else if (typ instanceof ArrayType && typ.elementType.jsonType() === 'int')
      typ = schema.lookupType('intList')!;
    if (!used.includes(typ)) used.push(typ);
    if (typ instanceof BuiltinType) return typ.name;
    if (typ instanceof ArrayType) return `[${useType(typ.elementType)}]`;
    return maskName(typ.name);
  };

  const genFeatures = (features: Feature[]): string[] => features.map((f) => f.name);

  const genTree = (name: string, mtype: string, obj: IntroDict, features: Feature[]): void => {
    let comment: string | undefined;
    if (!['command', 'event', 'builtin', 'array'].includes(mtype)) {
      if (!unmask) comment = `"${maskName(name)}" = ${name}`;
      name = maskName(name);
    }
    // Insertion order as QEMU's SchemaInfo output visitor produces it: base members, then variant.
    const d: IntroDict = { name, 'meta-type': mtype };
    if (features.length) d.features = genFeatures(features);
    Object.assign(d, obj);
    trees.push(comment ? { value: ordered(d), comment } : { value: ordered(d) });
  };

  const genMember = (m: ObjectType['localMembers'][number]): IntroDict => {
    const d: IntroDict = { name: m.name, type: useType(m.type) };
    if (m.optional) d.default = null;
    if (m.features.length) d.features = genFeatures(m.features);
    return ordered(d);
  };

  const visitType = (typ: SchemaType): void => {
    if (typ instanceof BuiltinType) {
      genTree(typ.name, 'builtin', { 'json-type': typ.jsonType() }, []);
    } else if (typ instanceof EnumType) {
      const members = typ.members.map((m) => {
        const d: IntroDict = { name: m.name };
        if (m.features.length) d.features = genFeatures(m.features);
        return ordered(d);
      });
      genTree(typ.name, 'enum', { members, values: typ.members.map((m) => m.name) }, typ.features);
    } else if (typ instanceof ArrayType) {
      const element = useType(typ.elementType);
      genTree(`[${element}]`, 'array', { 'element-type': element }, []);
    } else if (typ instanceof ObjectType) {
      const obj: IntroDict = { members: typ.members!.map(genMember) };
      if (typ.variants) {
        obj.tag = typ.variants.tagMember.name;
        obj.variants = typ.variants.variants.map((v) => ordered({ case: v.name, type: useType(v.type) }));
      }
      genTree(typ.name, 'object', obj, typ.features);
    } else if (typ instanceof AlternateType) {
      const members = typ.variants.variants.map((v) => ordered({ type: useType(v.type) }));
      genTree(typ.name, 'alternate', { members }, typ.features);
    }
  };

  for (const ent of schema.orderedEntities()) {
    if (ent instanceof Command) {
      const obj: IntroDict = {
        'arg-type': useType(ent.argType ?? schema.theEmptyObjectType),
        'ret-type': useType(ent.retType ?? schema.theEmptyObjectType),
      };
      if (ent.allowOob) obj['allow-oob'] = true;
      genTree(ent.name, 'command', obj, ent.features);
    } else if (ent instanceof Event) {
      genTree(
        ent.name,
        'event',
        { 'arg-type': useType(ent.argType ?? schema.theEmptyObjectType) },
        ent.features,
      );
    }
  }
  // The used-types list grows while we walk it, exactly like QEMU's visit_end().
  for (let i = 0; i < used.length; i++) visitType(used[i]!);
  return trees;
}
