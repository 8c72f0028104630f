/**
 * Commands backend (QEMU's scripts/qapi/commands.py): the handler interface and the marshaling table.
 *
 * `QmpCommandHandlers` has one method per command (camelCase of its name). It gets the arguments as
 * one typed object (the implicit argument struct, or the boxed type), or the raw QDict for
 * 'gen': false commands, plus the CommandContext; it returns the typed result (or a Promise of it).
 * `qmpCommandTable(h)` wraps each method in a marshaler that input-visits the arguments exactly like
 * QEMU's qmp_marshal_*() (unknown or missing arguments are errors), and output-visits the result;
 * commands without 'returns' answer {}.
 */
import { camelName, tsName, tsStr } from './common.js';
import { banner, entityDoc, jsdoc, tsTypeRef } from './gen-common.js';
import { Command, type Schema } from './schema.js';
import { visitFnName } from './gen-visit.js';
import { QapiSchemaError } from './source.js';

export interface CommandsOptions {
  /** Module specifiers (relative to the generated file) of the QObject visitors, when they exist. */
  inputVisitor?: { module: string; name: string };
  outputVisitor?: { module: string; name: string };
}

export function commandList(schema: Schema): Command[] {
  return schema.orderedEntities().filter((e): e is Command => e instanceof Command);
}

/** Method names must be unique after camel-casing ('foo-bar' and 'foo_bar' would collide). */
export function methodNames<E extends { name: string; info: Command['info'] }>(
  ents: E[],
  what: string,
): Map<E, string> {
  const seen = new Map<string, E>();
  const out = new Map<E, string>();
  for (const e of ents) {
    const m = camelName(e.name);
    const other = seen.get(m);
    if (other)
      throw new QapiSchemaError(
        e.info,
        `${what} '${e.name}' clashes with '${other.name}' (both map to ${m})`,
      );
    seen.set(m, e);
    out.set(e, m);
  }
  return out;
}

function argParam(c: Command): string | null {
  if (!c.gen) return 'args: QDict';
  if (!c.argType || c.argType.isEmpty()) return null;
  return `args: ${tsTypeRef(c.argType, 'T.')}`;
}

function retType(c: Command): string {
  if (!c.retType) return 'void';
  if (!c.gen) return 'QObject';
  return tsTypeRef(c.retType, 'T.');
}

export function genCommands(schema: Schema, opts: CommandsOptions = {}): string {
  const cmds = commandList(schema);
  const names = methodNames(cmds, 'command');
  let out = '';
  const haveDefault = !!(opts.inputVisitor && opts.outputVisitor);
  if (haveDefault) {
    out += `import { ${opts.inputVisitor!.name} } from '${opts.inputVisitor!.module}';\n`;
    if (opts.outputVisitor!.module === opts.inputVisitor!.module) {
      out = out.replace(
        `import { ${opts.inputVisitor!.name} }`,
        `import { ${opts.inputVisitor!.name}, ${opts.outputVisitor!.name} }`,
      );
    } else {
      out += `import { ${opts.outputVisitor!.name} } from '${opts.outputVisitor!.module}';\n`;
    }
  }
  out += `\n/** One method per QMP command; arguments and results use the generated QAPI types. */\n`;
  out += `export interface QmpCommandHandlers {\n`;
  for (const c of cmds) {
    const params = [argParam(c), 'ctx: CommandContext'].filter(Boolean).join(', ');
    const r = retType(c);
    out += jsdoc(`'${c.name}': ${entityDoc(c)}`, '  ');
    out += `  ${names.get(c)}(${params}): ${r} | Promise<${r}>;\n`;
  }
  out += `}\n\n`;

  out += `/** The QObject visitors QMP uses by default (QEMU's qobject_input_visitor_new_qmp and friends). */\n`;
  if (haveDefault) {
    out +=
      `export const defaultQmpVisitors: QmpVisitorFactory = {\n` +
      `  input: (args) => new ${opts.inputVisitor!.name}(args),\n` +
      `  output: () => new ${opts.outputVisitor!.name}(),\n};\n\n`;
  } else {
    out += `export const defaultQmpVisitors: QmpVisitorFactory | null = null;\n\n`;
  }

  out +=
    `function then<A, B>(value: A | Promise<A>, f: (a: A) => B): B | Promise<B> {\n` +
    `  return value instanceof Promise ? value.then(f) : f(value);\n}\n\n`;

  for (const c of cmds) out += genMarshal(c, names.get(c)!);

  out += `/** The command table for the QMP dispatcher, in schema order. */\n`;
  out += `export function qmpCommandTable(h: QmpCommandHandlers, visitors: QmpVisitorFactory | null = defaultQmpVisitors): Map<string, QmpCommand> {\n`;
  out += `  if (!visitors) throw new Error('qmpCommandTable: no QObject visitors available');\n`;
  out += `  const table = new Map<string, QmpCommand>();\n`;
  for (const c of cmds) {
    const options = `{ allowOob: ${c.allowOob}, allowPreconfig: ${c.allowPreconfig}, coroutine: ${c.coroutine}${c.successResponse ? '' : ', successResponse: false'} }`;
    const features = `[${c.features.map((f) => tsStr(f.name)).join(', ')}]`;
    out += `  table.set(${tsStr(c.name)}, { name: ${tsStr(c.name)}, fn: qmp_marshal_${tsName(c.name)}(h, visitors), options: ${options}, features: ${features}, enabled: true });\n`;
  }
  out += `  return table;\n}\n`;
  // Import only what the body uses (the build runs tsc with noUnusedLocals).
  const qobj = ['QDict', 'QObject'].filter((n) => new RegExp(`\\b${n}\\b`).test(out)).map((n) => `type ${n}`);
  qobj.push('qdict');
  let head = banner('QAPI commands');
  head += `import { ${qobj.join(', ')} } from '../../qobject/qobject.js';\n`;
  head += `import type { CommandContext, QmpCommand, QmpVisitorFactory } from '../qmp-types.js';\n`;
  if (/\bT\./.test(out)) head += `import type * as T from './qapi-types.js';\n`;
  head += `import * as V from './qapi-visit.js';\n`;
  return head + out;
}

function genMarshal(c: Command, method: string): string {
  const fn = `qmp_marshal_${tsName(c.name)}`;
  let out = `function ${fn}(h: QmpCommandHandlers, vis: QmpVisitorFactory): QmpCommand['fn'] {\n`;
  out += `  return (args, ctx) => {\n`;
  if (!c.gen) {
    out += `    const ret = h.${method}(args, ctx);\n`;
    out += c.retType ? `    return ret;\n` : `    return then(ret, () => qdict());\n`;
    out += `  };\n}\n\n`;
    return out;
  }
  const hasArgs = !!c.argType && !c.argType.isEmpty();
  out += `    const v = vis.input(args);\n`;
  if (hasArgs) out += `    let arg: ${tsTypeRef(c.argType!, 'T.')};\n`;
  out += `    v.startStruct(null);\n    try {\n`;
  if (hasArgs) out += `      arg = V.visit_type_${tsName(c.argType!.name)}_members(v);\n`;
  out += `      v.checkStruct();\n    } finally {\n      v.endStruct();\n    }\n`;
  out += `    const ret = h.${method}(${hasArgs ? 'arg, ' : ''}ctx);\n`;
  if (c.retType) {
    const ty = tsTypeRef(c.retType, 'T.');
    out += `    return then(ret, (r: ${ty}) => {\n`;
    out += `      const o = vis.output();\n`;
    out += `      V.${visitFnName(c.retType)}(o, null, r);\n`;
    out += `      return o.result();\n    });\n`;
  } else {
    out += `    return then(ret, () => qdict());\n`;
  }
  out += `  };\n}\n\n`;
  return out;
}
