/**
 * The QMP console's input language: a command name with optional JSON arguments
 * (`qom-list {"path": "/machine"}`), or a full QMP request (`{"execute": ..., "arguments": ...}`).
 */
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
