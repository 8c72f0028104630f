/**
 * String input visitor: one string -> a scalar or a list of integers (QEMU's
 * qapi/string-input-visitor.c, QEMU 7.2). QOM uses it for `-global` / `qom-set`-style text and
 * property defaults.
 *
 * Behaviour kept from QEMU:
 *  - integers use strtoll/strtoull rules with base 0 (0x.. hex, 0.. octal) and must use up the string;
 *  - integer lists are "1,3-5,7": values and inclusive ranges, at most 65536 values per range,
 *    an empty string is an empty list; anything else in a list is an error for that element;
 *  - sizes accept QEMU's suffixes (parse_option_size()), booleans qapi_bool_parse()'s spellings,
 *    numbers must be finite, null is the empty string;
 *  - errors name only the member ("null" for list elements), with QEMU's texts: "Parameter 'x'
 *    expects int64", "... list of int64 values or ranges", "Fewer list elements expected".
 * Structs, alternates and 'any' cannot be read from a string (QEMU has no callbacks for them).
 */
import { errorSetg } from '../error.js';
import type { Visitor } from '../visitor.js';
import { qint, type QObject, type QType } from '../../qobject/qobject.js';
import {
  qemuStrtodFinite,
  qemuStrtoi64,
  qemuStrtosz,
  qemuStrtou64,
  type StrtoResult,
} from '../../util/cutils.js';
import { enumError, qapiBoolParse } from './visit-core.js';
import { InputVisitorBase } from './visitor-base.js';

/** Protection against huge ranges ("0-18446744073709551615"), as QEMU's RANGE_MAX_ELEMENTS. */
export const RANGE_MAX_ELEMENTS = 65536n;

const SIZE_HINT =
  'Optional suffix k, M, G, T, P or E means kilo-, mega-, giga-, tera-, peta-\nand exabytes, respectively.\n';

const enum ListMode {
  None,
  Unparsed,
  Range,
  End,
}

type Strto = (s: string, base: number, wantEnd: boolean) => StrtoResult<bigint>;

/** One "value" or "start-end" entry at `pos`; null when malformed. */
function parseRangeEntry(
  s: string,
  pos: number,
  strto: Strto,
): { start: bigint; end: bigint; next: number } | null {
  const a = strto(s.slice(pos), 0, true);
  if (a.error) return null;
  let endPos = pos + a.end;
  let end = a.value;
  if (s[endPos] === '-') {
    const b = strto(s.slice(endPos + 1), 0, true);
    if (b.error) return null;
    end = b.value;
    endPos = endPos + 1 + b.end;
    if (a.value > end || end - a.value >= RANGE_MAX_ELEMENTS) return null;
  }
  if (endPos === s.length) return { start: a.value, end, next: endPos };
  if (s[endPos] === ',') return { start: a.value, end, next: endPos + 1 };
  return null;
}

export class StringInputVisitor extends InputVisitorBase implements Visitor {
  readonly type = 'input' as const;
  private lm = ListMode.None;
  private unparsed = 0;
  private rangeNext = 0n;
  private rangeEnd = 0n;
  private rangeMax = 0n;

  constructor(private readonly str: string) {
    super();
  }

  startStruct(_name: string | null): void {
    throw new Error('StringInputVisitor cannot visit a struct');
  }
  checkStruct(): void {}
  endStruct(): void {}

  /** The element count is worked out up front; the elements are parsed when visited, as in QEMU. */
  startList(_name: string | null, _length?: number): number {
    if (this.lm !== ListMode.None) throw new Error('StringInputVisitor cannot visit nested lists');
    this.unparsed = 0;
    this.lm = this.str === '' ? ListMode.End : ListMode.Unparsed;
    return this.countElements();
  }

  private countElements(): number {
    let count = 0;
    let pos = 0;
    while (pos < this.str.length) {
      const e = parseRangeEntry(this.str, pos, qemuStrtoi64) ?? parseRangeEntry(this.str, pos, qemuStrtou64);
      if (!e) return count + 1; // visiting it reports the error
      count += Number(e.end - e.start) + 1;
      pos = e.next;
    }
    return count;
  }

  checkList(): void {
    if (this.lm !== ListMode.End) throw errorSetg('Fewer list elements expected');
  }

  endList(): void {
    this.lm = ListMode.None;
  }

  startAlternate(_name: string | null, _current?: unknown): QType {
    throw new Error('StringInputVisitor cannot visit an alternate');
  }
  private listElement(name: string | null, strto: Strto, type: 'int64' | 'uint64', max: bigint): bigint {
    if (this.lm === ListMode.End) throw errorSetg('Fewer list elements expected');
    if (this.lm === ListMode.Unparsed) {
      const e = parseRangeEntry(this.str, this.unparsed, strto);
      if (!e) throw errorSetg(`Parameter '${name ?? 'null'}' expects list of ${type} values or ranges`);
      this.unparsed = e.next;
      this.rangeNext = e.start;
      this.rangeEnd = e.end;
      this.rangeMax = max;
      this.lm = ListMode.Range;
    }
    const v = this.rangeNext++;
    if (this.rangeNext > this.rangeEnd || v === this.rangeMax) {
      this.lm = this.unparsed < this.str.length ? ListMode.Unparsed : ListMode.End;
    }
    return v;
  }

  typeInt64(name: string | null): number | bigint {
    if (this.lm !== ListMode.None) return qint(this.listElement(name, qemuStrtoi64, 'int64', 2n ** 63n - 1n));
    const r = qemuStrtoi64(this.str, 0);
    if (r.error) throw errorSetg(`Parameter '${name ?? 'null'}' expects int64`);
    return qint(r.value);
  }

  typeUint64(name: string | null): number | bigint {
    if (this.lm !== ListMode.None)
      return qint(this.listElement(name, qemuStrtou64, 'uint64', 2n ** 64n - 1n));
    const r = qemuStrtou64(this.str, 0);
    if (r.error) throw errorSetg(`Parameter '${name ?? 'null'}' expects uint64`);
    return qint(r.value);
  }

  /** parse_option_size(): QEMU passes the member name, printed "(null)" when there is none. */
  typeSize(name: string | null): number | bigint {
    const n = name ?? '(null)';
    const r = qemuStrtosz(this.str);
    if (r.error === 'ERANGE') throw errorSetg(`Value '${this.str}' is out of range for parameter '${n}'`);
    if (r.error) {
      const e = errorSetg(`Parameter '${n}' expects a non-negative number below 2^64`);
      e.hint = SIZE_HINT;
      throw e;
    }
    return qint(r.value);
  }

  typeBool(name: string | null): boolean {
    return qapiBoolParse(name ?? 'null', this.str);
  }

  typeStr(_name: string | null): string {
    return this.str;
  }

  typeNumber(name: string | null): number {
    const r = qemuStrtodFinite(this.str);
    if (r.error) throw errorSetg(`Invalid parameter type for '${name ?? 'null'}', expected: number`);
    return r.value;
  }

  typeAny(_name: string | null): QObject {
    throw new Error('StringInputVisitor cannot visit type any');
  }

  typeNull(name: string | null): null {
    if (this.str !== '') throw errorSetg(`Invalid parameter type for '${name ?? 'null'}', expected: null`);
    return null;
  }

  typeEnum(name: string | null, values: readonly string[]): string {
    if (!values.includes(this.str)) throw enumError(name, this.str);
    return this.str;
  }
}
