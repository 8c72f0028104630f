/**
 * A small YAML reader for our own configuration files (electron-builder.yml), so tests can check them
 * without a YAML dependency. It reads the block subset those files use: mappings, sequences (of
 * scalars or mappings), plain/single-/double-quoted scalars, comments. Anything else (flow
 * collections, anchors, tags, multi-line scalars, tabs) is refused with the line number rather than
 * read wrongly.
 */
export type YamlValue = string | number | boolean | null | YamlValue[] | { [key: string]: YamlValue };

interface Line {
  no: number;
  indent: number;
  text: string;
}

export class YamlSubsetError extends Error {
  constructor(no: number, msg: string) {
    super(`line ${no}: ${msg}`);
  }
}

/** The text without a trailing comment (a '#' after a space, outside quotes). */
function stripComment(s: string): string {
  let quote: string | null = null;
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (quote) {
      if (c === quote) quote = null;
    } else if (c === "'" || c === '"') quote = c;
    else if (c === '#' && (i === 0 || s[i - 1] === ' ')) return s.slice(0, i).trimEnd();
  }
  return s.trimEnd();
}

function scalar(raw: string, no: number): YamlValue {
  const s = raw.trim();
  if (s.startsWith("'")) {
    if (!s.endsWith("'") || s.length < 2) throw new YamlSubsetError(no, `unterminated quoted scalar ${s}`);
    return s.slice(1, -1).replace(/''/g, "'");
  }
  if (s.startsWith('"')) {
    if (!s.endsWith('"') || s.length < 2) throw new YamlSubsetError(no, `unterminated quoted scalar ${s}`);
    return s.slice(1, -1).replace(/\\(["\\nt])/g, (_, c: string) => ({ n: '\n', t: '\t' })[c] ?? c);
  }
  if (/^[[{&*!|>%@`]/.test(s)) throw new YamlSubsetError(no, `unsupported YAML syntax: ${s}`);
  if (s === '' || s === '~' || s === 'null') return null;
  if (s === 'true') return true;
  if (s === 'false') return false;
  if (/^-?\d+(\.\d+)?$/.test(s)) return Number(s);
  return s;
}

/** `key: rest` (key plain or quoted), or null when the text is not a mapping entry. */
function splitKey(text: string, no: number): { key: string; rest: string } | null {
  const m = /^('(?:[^']|'')*'|"(?:[^"\\]|\\.)*"|[^'"\s][^:]*?)\s*:(?:\s+(.*))?$/.exec(text);
  if (!m) return null;
  return { key: String(scalar(m[1]!, no)), rest: m[2] ?? '' };
}

export function parseYaml(source: string): YamlValue {
  const lines: Line[] = [];
  source.split(/\r?\n/).forEach((raw, i) => {
    if (/^\s*\t/.test(raw)) throw new YamlSubsetError(i + 1, 'tab indentation');
    const text = stripComment(raw);
    if (text.trim() === '' || text.trim() === '---') return;
    lines.push({ no: i + 1, indent: text.length - text.trimStart().length, text: text.trim() });
  });
  let pos = 0;

  function block(indent: number): YamlValue {
    const first = lines[pos];
    if (!first || first.indent < indent) return null;
    return first.text.startsWith('- ') || first.text === '-' ? sequence(first.indent) : mapping(first.indent);
  }

  function mapping(indent: number): YamlValue {
    const out: { [key: string]: YamlValue } = {};
    while (pos < lines.length && lines[pos]!.indent === indent) {
      const l = lines[pos]!;
      const kv = splitKey(l.text, l.no);
      if (!kv) throw new YamlSubsetError(l.no, `expected 'key: value', found ${l.text}`);
      if (kv.key in out) throw new YamlSubsetError(l.no, `duplicate key '${kv.key}'`);
      pos++;
      out[kv.key] = kv.rest === '' ? nested(indent) : scalar(kv.rest, l.no);
    }
    if (pos < lines.length && lines[pos]!.indent > indent)
      throw new YamlSubsetError(lines[pos]!.no, 'unexpected indentation');
    return out;
  }

  /** The block under a `key:` line: more indented, or a sequence at the same indent (YAML allows it). */
  function nested(indent: number): YamlValue {
    const next = lines[pos];
    if (!next) return null;
    if (next.indent > indent) return block(next.indent);
    if (next.indent === indent && next.text.startsWith('- ')) return sequence(indent);
    return null;
  }

  function sequence(indent: number): YamlValue[] {
    const out: YamlValue[] = [];
    while (pos < lines.length && lines[pos]!.indent === indent && lines[pos]!.text.startsWith('-')) {
      const l = lines[pos]!;
      const item = l.text.slice(1).trimStart();
      pos++;
      if (item === '') {
        out.push(nested(indent));
        continue;
      }
      const kv = splitKey(item, l.no);
      if (kv && !/^['"]/.test(item)) {
        // `- key: value` starts a mapping whose further keys sit under the key's column.
        const col = indent + (l.text.length - item.length);
        lines[pos - 1] = { no: l.no, indent: col, text: item };
        pos--;
        out.push(mapping(col));
      } else out.push(scalar(item, l.no));
    }
    return out;
  }

  const doc = block(0);
  if (pos < lines.length) throw new YamlSubsetError(lines[pos]!.no, 'unexpected content');
  return doc;
}
