/**
 * Text dump of a checked schema in the format of QEMU's tests/qapi-schema/test-qapi.py, used by the
 * golden-file tests (tests/qapi-schema/*.out).
 */
import { ifcondText, type IfCond } from './ifcond.js';
import {
  AlternateType,
  ArrayType,
  BuiltinType,
  Command,
  EnumType,
  Event,
  type Feature,
  Include,
  ObjectType,
  type Schema,
  type Variants,
} from './schema.js';

export function dumpSchema(schema: Schema): string {
  const out: string[] = [];
  const pIf = (c: IfCond, indent = 4): void => {
    if (c.isPresent()) out.push(`${' '.repeat(indent)}if ${ifcondText(c)}`);
  };
  const pFeatures = (features: Feature[], indent = 4): void => {
    for (const f of features) {
      out.push(`${' '.repeat(indent)}feature ${f.name}`);
      pIf(f.ifcond, indent + 4);
    }
  };
  const pVariants = (v: Variants | null): void => {
    if (!v) return;
    out.push(`    tag ${v.tagMember.name}`);
    for (const b of v.variants) {
      out.push(`    case ${b.name}: ${b.type.name}`);
      pIf(b.ifcond, 8);
    }
  };
  const py = (b: boolean): string => (b ? 'True' : 'False');

  for (const { module, entities } of schema.visitOrder()) {
    out.push(`module ${module}`);
    for (const e of entities) {
      if (e instanceof Include) {
        out.push(`include ${e.subModule}`);
      } else if (e instanceof BuiltinType) {
        continue;
      } else if (e instanceof EnumType) {
        out.push(`enum ${e.name}`);
        if (e.prefix) out.push(`    prefix ${e.prefix}`);
        for (const m of e.members) {
          out.push(`    member ${m.name}`);
          pIf(m.ifcond, 8);
          pFeatures(m.features, 8);
        }
        pIf(e.ifcond);
        pFeatures(e.features);
      } else if (e instanceof ArrayType) {
        if (!e.info) continue; // built-in arrays are not shown
        out.push(`array ${e.name} ${e.elementType.name}`);
        pIf(e.ifcond);
      } else if (e instanceof ObjectType) {
        out.push(`object ${e.name}`);
        if (e.base) out.push(`    base ${e.base.name}`);
        for (const m of e.localMembers) {
          out.push(`    member ${m.name}: ${m.type.name} optional=${py(m.optional)}`);
          pIf(m.ifcond, 8);
          pFeatures(m.features, 8);
        }
        pVariants(e.variants);
        pIf(e.ifcond);
        pFeatures(e.features);
      } else if (e instanceof AlternateType) {
        out.push(`alternate ${e.name}`);
        pVariants(e.variants);
        pIf(e.ifcond);
        pFeatures(e.features);
      } else if (e instanceof Command) {
        out.push(`command ${e.name} ${e.argType?.name ?? 'None'} -> ${e.retType?.name ?? 'None'}`);
        out.push(
          `    gen=${py(e.gen)} success_response=${py(e.successResponse)} boxed=${py(e.boxed)} ` +
            `oob=${py(e.allowOob)} preconfig=${py(e.allowPreconfig)}${e.coroutine ? ' coroutine=True' : ''}`,
        );
        pIf(e.ifcond);
        pFeatures(e.features);
      } else if (e instanceof Event) {
        out.push(`event ${e.name} ${e.argType?.name ?? 'None'}`);
        out.push(`    boxed=${py(e.boxed)}`);
        pIf(e.ifcond);
        pFeatures(e.features);
      }
    }
  }
  for (const doc of schema.docs) {
    out.push(doc.symbol ? `doc symbol=${doc.symbol}` : 'doc freeform');
    out.push(`    body=\n${doc.body.text}`);
    for (const [name, s] of doc.args) out.push(`    arg=${name}\n${s.text}`);
    for (const [name, s] of doc.features) out.push(`    feature=${name}\n${s.text}`);
    for (const s of doc.sections) out.push(`    section=${s.name}\n${s.text}`);
  }
  return out.join('\n') + '\n';
}
