/**
 * QObject -> JSON text, byte-for-byte as QEMU's qobject_to_json()/qobject_to_json_pretty() print it
 * (qobject/json-writer.c), because QMP clients and our reference transcripts compare exact text.
 *
 *  - compact form separates with ", " and ": " ({"a": 1, "b": [1, 2]});
 *  - pretty form puts each member on its own line indented by 4 spaces per level, and an empty
 *    container still gets a line break ("{\n}");
 *  - strings: \" \\ \b \f \n \r \t are escaped by name; every other character below 0x20 or from
 *    0x7F up is written as \uXXXX (upper-case hex, surrogate pairs beyond the BMP); characters QEMU
 *    considers invalid (lone surrogates, Unicode noncharacters) become \uFFFD;
 *  - integers print all digits (bigint included); doubles print as C's "%.17g" (0.1 ->
 *    0.10000000000000001, 1e20 -> 1e+20), infinities as inf/-inf and NaN as nan, as glibc does.
 */
import { qdictKeyOrder } from './qdict-order.js';
import type { QObject } from './qobject.js';
import { printfG } from '../util/cutils.js';

export function toJson(v: QObject, pretty = false, opts: JsonWriterOptions = {}): string {
  const w = new JsonWriter(pretty, opts.qdictOrder ?? false);
  w.value(null, v);
  return w.result();
}

export interface JsonWriterOptions {
  /** Emit dictionary keys in QEMU's QDict iteration order (QMP output) instead of insertion order. */
  qdictOrder?: boolean;
}

class JsonWriter {
  private readonly out: string[] = [];
  private needComma = false;
  private started = false;
  /** One entry per open container: true for an array, false for an object. */
  private readonly containers: boolean[] = [];

  constructor(
    private readonly pretty: boolean,
    private readonly qdictOrder: boolean,
  ) {}

  result(): string {
    return this.out.join('');
  }

  private emit(s: string): void {
    this.out.push(s);
    this.started = true;
  }

  private newline(): void {
    if (this.pretty) this.emit('\n' + ' '.repeat(this.containers.length * 4));
  }

  private commaName(name: string | null): void {
    if (this.needComma) {
      this.emit(',');
      if (this.pretty) this.newline();
      else this.emit(' ');
    } else {
      if (this.started) this.newline();
      this.needComma = true;
    }
    const depth = this.containers.length;
    if (depth && !this.containers[depth - 1]) {
      this.emit(quoteJsonString(name ?? ''));
      this.emit(': ');
    }
  }

  value(name: string | null, v: QObject): void {
    if (v === null) {
      this.commaName(name);
      this.emit('null');
      return;
    }
    switch (typeof v) {
      case 'boolean':
        this.commaName(name);
        this.emit(v ? 'true' : 'false');
        return;
      case 'bigint':
        this.commaName(name);
        this.emit(v.toString());
        return;
      case 'number':
        this.commaName(name);
        this.emit(Number.isSafeInteger(v) && !Object.is(v, -0) ? String(v) : formatDouble(v));
        return;
      case 'string':
        this.commaName(name);
        this.emit(quoteJsonString(v));
        return;
      default:
        break;
    }
    const isArray = Array.isArray(v);
    this.commaName(name);
    this.emit(isArray ? '[' : '{');
    this.containers.push(isArray);
    this.needComma = false;
    if (Array.isArray(v)) {
      for (const item of v) this.value(null, item);
    } else {
      const keys = this.qdictOrder ? qdictKeyOrder(Object.keys(v)) : Object.keys(v);
      for (const key of keys) this.value(key, v[key]!);
    }
    this.containers.pop();
    this.needComma = true;
    this.newline();
    this.emit(isArray ? ']' : '}');
  }
}

function hex4(n: number): string {
  return n.toString(16).toUpperCase().padStart(4, '0');
}

function isNoncharacter(cp: number): boolean {
  return (cp >= 0xfdd0 && cp <= 0xfdef) || (cp & 0xfffe) === 0xfffe;
}

/** QEMU's quoted_str(): a JSON string literal in QEMU's escaping style. */
export function quoteJsonString(s: string): string {
  let out = '"';
  let run = 0;
  const n = s.length;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x20 && c < 0x7f && c !== 0x22 && c !== 0x5c) continue;
    if (i > run) out += s.slice(run, i);
    switch (c) {
      case 0x22:
        out += '\\"';
        break;
      case 0x5c:
        out += '\\\\';
        break;
      case 0x08:
        out += '\\b';
        break;
      case 0x0c:
        out += '\\f';
        break;
      case 0x0a:
        out += '\\n';
        break;
      case 0x0d:
        out += '\\r';
        break;
      case 0x09:
        out += '\\t';
        break;
      default:
        if (c >= 0xd800 && c <= 0xdbff && i + 1 < n) {
          const lo = s.charCodeAt(i + 1);
          if (lo >= 0xdc00 && lo <= 0xdfff) {
            const cp = 0x10000 + ((c - 0xd800) << 10) + (lo - 0xdc00);
            out += isNoncharacter(cp) ? '\\uFFFD' : `\\u${hex4(c)}\\u${hex4(lo)}`;
            i++;
            break;
          }
        }
        if ((c >= 0xd800 && c <= 0xdfff) || isNoncharacter(c)) out += '\\uFFFD';
        else out += `\\u${hex4(c)}`;
    }
    run = i + 1;
  }
  if (run < n) out += s.slice(run);
  return out + '"';
}

const nanView = new DataView(new ArrayBuffer(8));

/** C's printf("%.17g", v) as glibc prints it, NaN's sign included. */
export function formatDouble(v: number): string {
  if (Number.isNaN(v)) {
    nanView.setFloat64(0, v);
    return nanView.getUint8(0) & 0x80 ? '-nan' : 'nan';
  }
  return printfG(v, 17);
}
