/**
 * Events backend (QEMU's scripts/qapi/events.py): `QapiEvents`, one typed method per event
 * (camelCase of its name) that output-visits the data and hands name + data to the emit callback.
 * Like qapi_event_send_*(), an event whose data is empty is emitted without "data".
 */
import { tsName, tsStr } from './common.js';
import { methodNames } from './gen-commands.js';
import { banner, entityDoc, jsdoc, tsTypeRef } from './gen-common.js';
import { Event, type Schema } from './schema.js';

export function eventList(schema: Schema): Event[] {
  return schema.orderedEntities().filter((e): e is Event => e instanceof Event);
}

export function genEvents(schema: Schema): string {
  const events = eventList(schema);
  const names = methodNames(events, 'event');
  let out = banner('QAPI events');
  out += `import { type QDict, isQDict } from '../../qobject/qobject.js';\n`;
  out += `import type { QmpVisitorFactory } from '../qmp-types.js';\n`;
  out += `import { defaultQmpVisitors } from './qapi-commands.js';\n`;
  if (events.some((e) => e.argType && !e.argType.isEmpty())) {
    out += `import type * as T from './qapi-types.js';\nimport * as V from './qapi-visit.js';\n`;
  }
  out += `\n/** Names of all events, in schema order. */\n`;
  out += `export const qapiEventNames: readonly string[] = [${events.map((e) => tsStr(e.name)).join(', ')}];\n\n`;
  out += `/** Typed event emitters; \`emit\` receives the wire name and the data dictionary. */\n`;
  out += `export class QapiEvents {\n`;
  out += `  private readonly emit: (name: string, data?: QDict) => void;\n`;
  out += `  private readonly visitors: Pick<QmpVisitorFactory, 'output'> | null;\n\n`;
  out +=
    `  constructor(emit: (name: string, data?: QDict) => void, visitors: Pick<QmpVisitorFactory, 'output'> | null = defaultQmpVisitors) {\n` +
    `    this.emit = emit;\n    this.visitors = visitors;\n  }\n\n`;
  out +=
    `  private send(name: string, fill: ((o: ReturnType<QmpVisitorFactory['output']>) => void) | null): void {\n` +
    `    if (!fill) {\n      this.emit(name);\n      return;\n    }\n` +
    `    if (!this.visitors) throw new Error('QapiEvents: no QObject output visitor available');\n` +
    `    const o = this.visitors.output();\n` +
    `    fill(o);\n` +
    `    const data = o.result();\n` +
    `    if (isQDict(data) && Object.keys(data).length > 0) this.emit(name, data);\n` +
    `    else this.emit(name);\n  }\n`;
  for (const e of events) {
    const m = names.get(e)!;
    out += '\n' + jsdoc(`${e.name}: ${entityDoc(e)}`, '  ');
    if (!e.argType || e.argType.isEmpty()) {
      out += `  ${m}(): void {\n    this.send(${tsStr(e.name)}, null);\n  }\n`;
      continue;
    }
    const ty = tsTypeRef(e.argType, 'T.');
    const n = tsName(e.argType.name);
    out +=
      `  ${m}(args: ${ty}): void {\n` +
      `    this.send(${tsStr(e.name)}, (o) => {\n` +
      `      o.startStruct(null);\n` +
      `      try {\n        V.visit_type_${n}_members(o, args);\n        o.checkStruct();\n      } finally {\n        o.endStruct();\n      }\n` +
      `    });\n  }\n`;
  }
  out += `}\n`;
  return out;
}
