/**
 * JSON for QMP messages in the QObject value model: integers beyond 2^53 become bigint (QEMU sends
 * uint64 values such as memory sizes and counters digit-exact), dictionaries are null-prototype.
 * JSON.parse would silently round those integers, so the client uses this parser instead.
 */
import { qdict, type QDict, type QObject } from '../../engine/qobject/qobject.js';

export class JsonSyntaxError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'JsonSyntaxError';
  }
}

/** Parse one JSON text. Throws JsonSyntaxError with the offset of the problem. */
export function parseQmpJson(text: string): QObject {
  let i = 0;
  const fail = (what: string): never => {
    throw new JsonSyntaxError(`JSON parse error at offset ${i}: ${what}`);
  };
  const ws = (): void => {
    while (i < text.length) {
      const c = text.charCodeAt(i);
      if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) i++;
      else break;
    }
  };
  const str = (): string => {
    i++; // opening quote
    let out = '';
    let start = i;
    for (;;) {
      if (i >= text.length) fail('unterminated string');
      const c = text.charCodeAt(i);
      if (c === 0x22) {
        out += text.slice(start, i);
        i++;
        return out;
      }
      if (c < 0x20) fail('control character in string');
      if (c === 0x5c) {
        out += text.slice(start, i);
        const e = text[i + 1];
        i += 2;
        switch (e) {
          case '"':
            out += '"';
            break;
          case '\\':
            out += '\\';
            break;
          case '/':
            out += '/';
            break;
          case 'b':
            out += '\b';
            break;
          case 'f':
            out += '\f';
            break;
          case 'n':
            out += '\n';
            break;
          case 'r':
            out += '\r';
            break;
          case 't':
            out += '\t';
            break;
          case 'u': {
            const hex = text.slice(i, i + 4);
            if (!/^[0-9a-fA-F]{4}$/.test(hex)) fail('bad \\u escape');
            out += String.fromCharCode(parseInt(hex, 16));
            i += 4;
            break;
          }
          default:
            i -= 1;
            fail('bad escape');
        }
        start = i;
        continue;
      }
      i++;
    }
  };
  const num = (): number | bigint => {
    const m = /^-?(?:0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/.exec(text.slice(i, i + 400));
    if (!m) return fail('bad number');
    i += m[0].length;
    if (m[1] === undefined && m[2] === undefined) {
      const n = Number(m[0]);
      return Number.isSafeInteger(n) ? n : BigInt(m[0]);
    }
    return Number(m[0]);
  };
  const value = (depth: number): QObject => {
    if (depth > 1024) fail('nesting too deep');
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      const d: QDict = qdict();
      ws();
      if (text[i] === '}') {
        i++;
        return d;
      }
      for (;;) {
        ws();
        if (text[i] !== '"') fail('expected a key');
        const k = str();
        ws();
        if (text[i] !== ':') fail("expected ':'");
        i++;
        d[k] = value(depth + 1);
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === '}') {
          i++;
          return d;
        }
        fail("expected ',' or '}'");
      }
    }
    if (c === '[') {
      i++;
      const a: QObject[] = [];
      ws();
      if (text[i] === ']') {
        i++;
        return a;
      }
      for (;;) {
        a.push(value(depth + 1));
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === ']') {
          i++;
          return a;
        }
        fail("expected ',' or ']'");
      }
    }
    if (c === '"') return str();
    if (text.startsWith('true', i)) {
      i += 4;
      return true;
    }
    if (text.startsWith('false', i)) {
      i += 5;
      return false;
    }
    if (text.startsWith('null', i)) {
      i += 4;
      return null;
    }
    return num();
  };
  const v = value(0);
  ws();
  if (i !== text.length) fail('trailing characters');
  return v;
}

/** Serialize a QObject (bigint printed digit-exact). Also accepts plain JSON-able objects. */
export function stringifyQmpJson(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  switch (typeof v) {
    case 'bigint':
      return v.toString();
    case 'number':
      if (!Number.isFinite(v)) throw new TypeError('JSON cannot represent a non-finite number');
      return JSON.stringify(v);
    case 'boolean':
    case 'string':
      return JSON.stringify(v);
    case 'object': {
      if (Array.isArray(v)) return `[${v.map((x) => stringifyQmpJson(x)).join(', ')}]`;
      const parts: string[] = [];
      for (const k of Object.keys(v)) {
        const x = (v as Record<string, unknown>)[k];
        if (x !== undefined) parts.push(`${JSON.stringify(k)}: ${stringifyQmpJson(x)}`);
      }
      return `{${parts.join(', ')}}`;
    }
    default:
      throw new TypeError(`JSON cannot represent a ${typeof v}`);
  }
}

/**
 * Splits a byte stream into top-level JSON texts by tracking nesting outside strings (what QEMU's
 * json-streamer does), so a message split across socket reads, or two messages in one read, work.
 */
export class JsonStreamSplitter {
  private buf = '';
  private depth = 0;
  private inString = false;
  private escape = false;
  private start = -1;
  private scanned = 0;

  /** Feed decoded text; returns the complete top-level texts it finished. */
  push(chunk: string): string[] {
    this.buf += chunk;
    const out: string[] = [];
    for (let i = this.scanned; i < this.buf.length; i++) {
      const c = this.buf[i]!;
      if (this.inString) {
        if (this.escape) this.escape = false;
        else if (c === '\\') this.escape = true;
        else if (c === '"') this.inString = false;
        continue;
      }
      if (c === '"') {
        this.inString = true;
        if (this.depth === 0 && this.start < 0) this.start = i;
      } else if (c === '{' || c === '[') {
        if (this.depth === 0) this.start = i;
        this.depth++;
      } else if (c === '}' || c === ']') {
        this.depth--;
        if (this.depth <= 0) {
          out.push(this.buf.slice(this.start < 0 ? i : this.start, i + 1));
          this.depth = 0;
          this.start = -1;
          this.buf = this.buf.slice(i + 1);
          i = -1;
        }
      }
    }
    this.scanned = this.buf.length;
    if (this.depth === 0 && !this.inString && this.start < 0) {
      // Only whitespace (or stray scalars, which QMP never sends at top level) is pending.
      this.buf = '';
      this.scanned = 0;
    }
    return out;
  }
}
