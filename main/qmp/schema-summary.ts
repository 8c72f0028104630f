/**
 * `query-qmp-schema` made readable for the QMP console's completion: QEMU masks every non-builtin
 * type name as a number ("23", "[9]"), so each command's argument type is looked up and its members
 * listed with their types resolved (builtins by name, enums with their values, arrays as `T[]`).
 */
import type { QmpArgSchema, QmpCommandSchema, QmpSchemaSummary } from '../api/contract.js';
import type { SchemaInfo } from '../generated/qmp-client-types.js';

/**
 * Commands that take properties beyond their declared arguments (QAPI `gen: false` / boxed unions
 * are not visible in introspection): device_add passes the rest to the device.
 */
const OPEN_ARGUMENTS = new Set(['device_add']);

interface Member {
  name: string;
  type: string;
  default?: unknown;
}

export function summarizeSchema(schema: readonly SchemaInfo[]): QmpSchemaSummary {
  const byName = new Map<string, SchemaInfo>();
  for (const e of schema) byName.set(e.name, e);

  const typeName = (t: string, depth = 0): { type: string; enumValues?: string[] } => {
    const arr = /^\[(.+)\]$/.exec(t);
    if (arr) return { type: `${typeName(arr[1]!, depth + 1).type}[]` };
    const info = byName.get(t);
    if (!info) return { type: t };
    switch (info['meta-type']) {
      case 'builtin':
        return { type: info.name };
      case 'enum':
        return { type: 'enum', enumValues: [...(info as { values: string[] }).values] };
      case 'array':
        return {
          type: `${typeName((info as { 'element-type': string })['element-type'], depth + 1).type}[]`,
        };
      case 'alternate':
        return {
          type: (info as { members: { type: string }[] }).members
            .map((m) => (depth > 2 ? m.type : typeName(m.type, depth + 1).type))
            .join(' | '),
        };
      case 'object':
        return { type: 'object' };
      default:
        return { type: info['meta-type'] };
    }
  };

  /** Members of an object type, variant members included (optional, since they depend on the tag). */
  const membersOf = (t: string): QmpArgSchema[] => {
    const info = byName.get(t);
    if (!info || info['meta-type'] !== 'object') return [];
    const obj = info as unknown as { members: Member[]; variants?: { case: string; type: string }[] };
    const out: QmpArgSchema[] = obj.members.map((m) => {
      const r = typeName(m.type);
      return {
        name: m.name,
        type: r.type,
        optional: 'default' in m,
        ...(r.enumValues ? { enumValues: r.enumValues } : {}),
      };
    });
    const seen = new Set(out.map((a) => a.name));
    for (const v of obj.variants ?? []) {
      for (const m of membersOf(v.type)) {
        if (seen.has(m.name)) continue;
        seen.add(m.name);
        out.push({ ...m, optional: true });
      }
    }
    return out;
  };

  const commands: QmpCommandSchema[] = [];
  const events: string[] = [];
  for (const e of schema) {
    if (e['meta-type'] === 'command') {
      const c = e as unknown as { name: string; 'arg-type': string; 'ret-type': string };
      commands.push({
        name: c.name,
        args: membersOf(c['arg-type']),
        additionalArgs: OPEN_ARGUMENTS.has(c.name),
        returns: typeName(c['ret-type']).type,
      });
    } else if (e['meta-type'] === 'event') {
      events.push(e.name);
    }
  }
  commands.sort((a, b) => a.name.localeCompare(b.name));
  events.sort();
  return { commands, events };
}
