/**
 * Client backend: what the desktop app (main/) needs to talk QMP with types, without importing
 * engine code. qmp-client-types.ts holds the QAPI types (and a local QObject type); qmp-client.ts has
 * `QmpClientApi`, one typed async method per command over any transport with
 * `execute(cmd, args?)`, plus `QmpCommandMap` and `QmpEventMap` for generic code.
 */
import { tsStr } from './common.js';
import { eventList } from './gen-events.js';
import { commandList, methodNames } from './gen-commands.js';
import { banner, entityDoc, jsdoc, tsTypeRef } from './gen-common.js';
import { genTypes } from './gen-types.js';
import type { Command, Schema } from './schema.js';

const CLIENT_QOBJECT = `/** A JSON value as QMP carries it (integers beyond 2^53 arrive as bigint). */
export type QObject = null | boolean | number | bigint | string | QObject[] | QDict;
export type QDict = { [key: string]: QObject };
`;

export function genClientTypes(schema: Schema): string {
  return genTypes(schema, { qobjectImport: CLIENT_QOBJECT });
}

function argsType(c: Command): string | null {
  if (!c.argType || c.argType.isEmpty()) return c.gen ? null : 'QDict';
  const t = tsTypeRef(c.argType, 'T.');
  // 'gen': false commands take extra arguments beyond the declared ones (device_add properties).
  return c.gen ? t : `${t} & { [key: string]: QObject }`;
}

function retType(c: Command): string {
  return c.retType ? tsTypeRef(c.retType, 'T.') : 'void';
}

export function genClient(schema: Schema): string {
  const cmds = commandList(schema);
  const cnames = methodNames(cmds, 'command');
  const events = eventList(schema);
  let out = banner('typed QMP client');
  out += `import type * as T from './qmp-client-types.js';\nimport type { QDict, QObject } from './qmp-client-types.js';\n\n`;
  out += `/** Anything that can run a QMP command and resolve with its "return" value (rejecting on "error"). */\n`;
  out += `export interface QmpTransport {\n  execute(cmd: string, args?: QDict): Promise<QObject>;\n}\n\n`;

  out += `/** Wire name → argument and result types of every command. */\nexport interface QmpCommandMap {\n`;
  for (const c of cmds)
    out += `  ${tsStr(c.name)}: { args: ${argsType(c) ?? 'undefined'}; ret: ${retType(c)} };\n`;
  out += `}\n\n`;

  out += `/** Wire name → data type of every event (undefined: the event has no data). */\nexport interface QmpEventMap {\n`;
  for (const e of events) {
    out += `  ${tsStr(e.name)}: ${e.argType && !e.argType.isEmpty() ? tsTypeRef(e.argType, 'T.') : 'undefined'};\n`;
  }
  out += `}\n\n`;
  out += `export const qmpEventNames: readonly (keyof QmpEventMap)[] = [${events.map((e) => tsStr(e.name)).join(', ')}];\n`;
  out += `export const qmpCommandNames: readonly (keyof QmpCommandMap)[] = [${cmds.map((c) => tsStr(c.name)).join(', ')}];\n\n`;

  out += `/** Typed QMP commands over a transport. */\nexport class QmpClientApi {\n`;
  out += `  readonly transport: QmpTransport;\n\n  constructor(transport: QmpTransport) {\n    this.transport = transport;\n  }\n`;
  out +=
    `\n  /** Run any command by wire name with checked argument and result types. */\n` +
    `  async call<K extends keyof QmpCommandMap>(cmd: K, ...args: QmpCommandMap[K]['args'] extends undefined ? [] : [QmpCommandMap[K]['args']]): Promise<QmpCommandMap[K]['ret']> {\n` +
    `    const ret = await this.transport.execute(cmd, args[0] as QDict | undefined);\n` +
    `    return ret as unknown as QmpCommandMap[K]['ret'];\n  }\n`;
  for (const c of cmds) {
    const a = argsType(c);
    const allOptional =
      !!c.argType && c.gen && c.argType.members!.every((m) => m.optional) && !c.argType.variants;
    const param = a ? `args: ${a}${allOptional ? ' = {}' : ''}` : '';
    const r = retType(c);
    out += '\n' + jsdoc(`'${c.name}': ${entityDoc(c)}`, '  ');
    out += `  async ${cnames.get(c)}(${param}): Promise<${r}> {\n`;
    const call = `this.transport.execute(${tsStr(c.name)}${a ? ', args as unknown as QDict' : ''})`;
    out +=
      r === 'void' ? `    await ${call};\n  }\n` : `    return (await ${call}) as unknown as ${r};\n  }\n`;
  }
  out += `}\n`;
  return out;
}
