/**
 * The JSON grammar over one message's tokens (QEMU's qobject/json-parser.c): tokens -> QObject.
 *
 * Behaviour kept from QEMU: the first error wins and is reported as "JSON parse error, <what>" with
 * QEMU's wording; duplicate keys are an error; strings are validated as modified UTF-8 and \u escapes
 * must be valid scalar values (surrogate pairs combine); integers that fit int64 or uint64 stay
 * integers (bigint when beyond 2^53), larger ones become doubles as strtod() would make them.
 */
import { QapiError } from '../qapi/error.js';
import { qdict, qdictHas, qint, type QDict, type QList, type QObject } from './qobject.js';
import { JsonTokenType, type JsonToken } from './json-lexer.js';
import { decodeCString, isValidCodepoint, modUtf8Codepoint } from './mod-utf8.js';

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const UINT64_MAX = 2n ** 64n - 1n;

function parseError(message: string): QapiError {
  return new QapiError(`JSON parse error, ${message}`);
}

/**
 * Parse exactly the tokens of one message. Throws QapiError on the first syntax error.
 * `tokens` must not contain lexer errors (the streamer reports those itself).
 */
export function parseTokens(tokens: readonly JsonToken[]): QObject {
  const p = new TokenParser(tokens);
  return p.value();
}

class TokenParser {
  private pos = 0;

  constructor(private readonly tokens: readonly JsonToken[]) {}

  private peek(): JsonToken | undefined {
    return this.tokens[this.pos];
  }

  private pop(): JsonToken | undefined {
    return this.tokens[this.pos++];
  }

  value(): QObject {
    const token = this.peek();
    if (!token) throw parseError('premature EOI');
    switch (token.type) {
      case JsonTokenType.LCurly:
        return this.object();
      case JsonTokenType.LSquare:
        return this.array();
      case JsonTokenType.Integer:
        this.pop();
        return parseInteger(token.text);
      case JsonTokenType.Float:
        this.pop();
        return Number(token.text);
      case JsonTokenType.String:
        this.pop();
        return parseString(token.bytes!);
      case JsonTokenType.Keyword:
        return this.keyword();
      default:
        throw parseError('expecting value');
    }
  }

  private keyword(): QObject {
    const token = this.pop()!;
    const word = token.text;
    if (word === 'true') return true;
    if (word === 'false') return false;
    if (word === 'null') return null;
    throw parseError(`invalid keyword '${word}'`);
  }

  private pair(dict: QDict): void {
    if (!this.peek()) throw parseError('premature EOI');
    const key = this.value();
    if (typeof key !== 'string') throw parseError('key is not a string in object');
    const colon = this.pop();
    if (!colon) throw parseError('premature EOI');
    if (colon.type !== JsonTokenType.Colon) throw parseError('missing : in object pair');
    const value = this.value();
    if (qdictHas(dict, key)) throw parseError('duplicate key');
    dict[key] = value;
  }

  private object(): QDict {
    this.pop(); // '{'
    const dict = qdict();
    const peek = this.peek();
    if (!peek) throw parseError('premature EOI');
    if (peek.type === JsonTokenType.RCurly) {
      this.pop();
      return dict;
    }
    this.pair(dict);
    let token = this.pop();
    if (!token) throw parseError('premature EOI');
    while (token.type !== JsonTokenType.RCurly) {
      if (token.type !== JsonTokenType.Comma) throw parseError('expected separator in dict');
      this.pair(dict);
      token = this.pop();
      if (!token) throw parseError('premature EOI');
    }
    return dict;
  }

  private array(): QList {
    this.pop(); // '['
    const list: QList = [];
    const peek = this.peek();
    if (!peek) throw parseError('premature EOI');
    if (peek.type === JsonTokenType.RSquare) {
      this.pop();
      return list;
    }
    list.push(this.value());
    let token = this.pop();
    if (!token) throw parseError('premature EOI');
    while (token.type !== JsonTokenType.RSquare) {
      if (token.type !== JsonTokenType.Comma) throw parseError('expected separator in list');
      list.push(this.value());
      token = this.pop();
      if (!token) throw parseError('premature EOI');
    }
    return list;
  }
}

/** int64 if it fits, else uint64 (non-negative only), else a double, like QEMU's parse_literal(). */
export function parseInteger(text: string): number | bigint {
  if (text.length <= 15) {
    const n = Number(text);
    return n === 0 ? 0 : n; // "-0" is the integer 0
  }
  const b = BigInt(text);
  if (b >= INT64_MIN && b <= INT64_MAX) return qint(b);
  if (b >= 0n && b <= UINT64_MAX) return b;
  return Number(text);
}

const enum Ch {
  Quote = 0x22,
  Apos = 0x27,
  Backslash = 0x5c,
}

function hex4(bytes: Uint8Array, pos: number, end: number): number {
  let cp = 0;
  for (let i = 0; i < 4; i++) {
    const c = pos + i < end ? bytes[pos + i]! : 0;
    let d: number;
    if (c >= 0x30 && c <= 0x39) d = c - 0x30;
    else if (c >= 0x61 && c <= 0x66) d = c - 0x61 + 10;
    else if (c >= 0x41 && c <= 0x46) d = c - 0x41 + 10;
    else return -1;
    cp = cp * 16 + d;
  }
  return cp;
}

/** A string token (quotes included) -> JS string, with QEMU's escape and UTF-8 checks. */
export function parseString(bytes: Uint8Array): string {
  const end = bytes.length - 1; // closing quote
  const parts: string[] = [];
  let run = 1; // start of a run of bytes copied verbatim (valid UTF-8)
  let pos = 1;
  const flushRun = (to: number): void => {
    if (to > run) parts.push(utf8Decoder.decode(bytes.subarray(run, to)));
  };
  while (pos < end) {
    const b = bytes[pos]!;
    if (b === Ch.Backslash) {
      flushRun(pos);
      const beg = pos;
      const esc = pos + 1 < end ? bytes[pos + 1]! : 0;
      pos += 2;
      switch (esc) {
        case Ch.Quote:
          parts.push('"');
          break;
        case Ch.Apos:
          parts.push("'");
          break;
        case Ch.Backslash:
          parts.push('\\');
          break;
        case 0x2f:
          parts.push('/');
          break;
        case 0x62:
          parts.push('\b');
          break;
        case 0x66:
          parts.push('\f');
          break;
        case 0x6e:
          parts.push('\n');
          break;
        case 0x72:
          parts.push('\r');
          break;
        case 0x74:
          parts.push('\t');
          break;
        case 0x75: {
          let cp = hex4(bytes, pos, end);
          pos += 4;
          if (cp >= 0xd800 && cp <= 0xdbff && bytes[pos] === Ch.Backslash && bytes[pos + 1] === 0x75) {
            const trailing = hex4(bytes, pos + 2, end);
            if (trailing >= 0xdc00 && trailing <= 0xdfff) {
              cp = 0x10000 + ((cp & 0x3ff) << 10) + (trailing & 0x3ff);
              pos += 6;
            } else {
              cp = -1;
            }
          }
          if (!isValidCodepoint(cp)) {
            // QEMU prints the escape text with %.*s: at most up to the token's end.
            const text = decodeCString(bytes, beg, Math.min(pos, end + 1));
            throw parseError(`${text} is not a valid Unicode character`);
          }
          parts.push(String.fromCodePoint(cp));
          break;
        }
        default:
          throw parseError('invalid escape sequence in string');
      }
      run = pos;
      continue;
    }
    if (b < 0x80) {
      pos++;
      continue;
    }
    const { cp, end: next } = modUtf8Codepoint(bytes, pos, end);
    if (cp < 0) throw parseError('invalid UTF-8 sequence in string');
    if (cp === 0) {
      // C0 80: modified UTF-8 for U+0000, which a standard decoder would reject.
      flushRun(pos);
      parts.push('\0');
      run = next;
    }
    pos = next;
  }
  flushRun(end);
  return parts.length === 1 ? parts[0]! : parts.join('');
}

const utf8Decoder = new TextDecoder('utf-8');
