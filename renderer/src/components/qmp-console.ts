/**
 * The QMP console's input language: a command name with optional JSON arguments
 * (`qom-list {"path": "/machine"}`), or a full QMP request (`{"execute": ..., "arguments": ...}`).
 */
import type { QmpCommandSchema, QmpSchemaSummary } from '../../../main/api/contract.js';

export type ParsedInput =
  { ok: true; command: string; args?: Record<string, unknown> } | { ok: false; error: string };

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function parseQmpInput(line: string): ParsedInput {
  const text = line.trim();
  if (!text) return { ok: false, error: 'Type a command, e.g. query-status' };
  if (text.startsWith('{')) {
    let v: unknown;
    try {
      v = JSON.parse(text);
    } catch (e) {
      return { ok: false, error: `JSON parse error: ${(e as Error).message}` };
    }
    if (!isObject(v) || typeof v.execute !== 'string')
      return { ok: false, error: "QMP input lacks member 'execute'" };
    if (v.arguments !== undefined && !isObject(v.arguments))
      return { ok: false, error: "QMP input member 'arguments' must be an object" };
    return v.arguments
      ? { ok: true, command: v.execute, args: v.arguments }
      : { ok: true, command: v.execute };
  }
  const m = /^([A-Za-z0-9_.-]+)\s*(.*)$/s.exec(text);
  if (!m) return { ok: false, error: `'${text}' is not a command name` };
  const [, command, rest] = m;
  if (!rest) return { ok: true, command: command! };
  let args: unknown;
  try {
    args = JSON.parse(rest);
  } catch (e) {
    return { ok: false, error: `Arguments are not valid JSON: ${(e as Error).message}` };
  }
  if (!isObject(args)) return { ok: false, error: 'Arguments must be a JSON object' };
  return { ok: true, command: command!, args };
}

/** Command names starting with what was typed (before any space), best matches first. */
export function completions(commands: readonly string[], line: string, limit = 8): string[] {
  const word = line.trimStart();
  if (!word || /\s|\{/.test(word)) return [];
  const starts = commands.filter((c) => c.startsWith(word) && c !== word).sort();
  const contains = commands.filter((c) => !c.startsWith(word) && c.includes(word)).sort();
  return [...starts, ...contains].slice(0, limit);
}

/** Pretty JSON for the transcript. */
export function formatJson(v: unknown): string {
  return JSON.stringify(v, null, 2) ?? 'null';
}

export interface Suggestion {
  label: string;
  /** Extra text shown next to it (type, signature). */
  detail: string;
  /** The whole input line after accepting it. */
  line: string;
}

/** `qom-list(path: str)`, optional arguments marked with `?`. */
export function signature(c: QmpCommandSchema): string {
  const args = c.args.map(
    (a) => `${a.name}${a.optional ? '?' : ''}: ${a.enumValues ? a.enumValues.join('|') : a.type}`,
  );
  if (c.additionalArgs) args.push('...');
  return `${c.name}(${args.join(', ')})${c.returns && c.returns !== 'object' ? ` → ${c.returns}` : ''}`;
}

/**
 * Completion from the schema: command names at the start (or after `"execute": "`), argument names
 * inside the arguments object (not yet used ones, required first), and enum values after `"arg": "`.
 */
export function suggest(
  schema: QmpSchemaSummary | null,
  names: readonly string[],
  line: string,
  limit = 8,
): Suggestion[] {
  const commands =
    schema?.commands ?? names.map((n) => ({ name: n, args: [], additionalArgs: false, returns: '' }));
  const byName = new Map(commands.map((c) => [c.name, c]));
  const detail = (n: string) => (byName.get(n) ? signature(byName.get(n)!) : '');

  const full = /^\s*\{\s*"execute"\s*:\s*"([A-Za-z0-9_.-]*)$/.exec(line);
  if (full) {
    const head = line.slice(0, line.length - full[1]!.length);
    return completions(
      commands.map((c) => c.name),
      full[1]!,
      limit,
    ).map((n) => ({ label: n, detail: detail(n), line: `${head}${n}"` }));
  }
  const bare = /^\s*([A-Za-z0-9_.-]*)$/.exec(line);
  if (bare) {
    return completions(
      commands.map((c) => c.name),
      bare[1]!,
      limit,
    ).map((n) => ({ label: n, detail: detail(n), line: `${n} ` }));
  }
  const withArgs = /^\s*([A-Za-z0-9_.-]+)\s+(\{.*)$/s.exec(line);
  if (!withArgs) return [];
  const cmd = byName.get(withArgs[1]!);
  if (!cmd) return [];
  const body = withArgs[2]!;
  // After `"arg": "partial`: the arg's enum values.
  const value = /"([^"]+)"\s*:\s*"([^"]*)$/.exec(body);
  if (value) {
    const arg = cmd.args.find((a) => a.name === value[1]);
    if (!arg?.enumValues) return [];
    const head = line.slice(0, line.length - value[2]!.length);
    return arg.enumValues
      .filter((v) => v.startsWith(value[2]!))
      .slice(0, limit)
      .map((v) => ({ label: v, detail: arg.name, line: `${head}${v}"` }));
  }
  // At a key position: after `{` or `,`, optionally inside an opened quote.
  const key = /([{,])\s*("?)([A-Za-z0-9_-]*)$/.exec(body);
  if (!key) return [];
  const used = new Set([...body.matchAll(/"([^"]+)"\s*:/g)].map((m) => m[1]));
  const partial = key[3]!;
  const head = line.slice(0, line.length - key[2]!.length - partial.length);
  const sep = key[1] === ',' && !/\s$/.test(head) ? ' ' : '';
  return cmd.args
    .filter((a) => !used.has(a.name) && a.name.startsWith(partial))
    .sort((a, b) => Number(a.optional) - Number(b.optional))
    .slice(0, limit)
    .map((a) => ({
      label: a.name,
      detail: `${a.optional ? 'optional ' : ''}${a.enumValues ? a.enumValues.join('|') : a.type}`,
      line: `${head}${sep}"${a.name}": ${a.type === 'str' || a.enumValues ? '"' : ''}`,
    }));
}

/** `12:03:04.123` for a transcript entry. */
export function formatTime(ms: number): string {
  const d = new Date(ms);
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(d.getMilliseconds(), 3)}`;
}
