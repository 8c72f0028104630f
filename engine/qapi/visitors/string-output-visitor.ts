/**
 * String output visitor: a value -> text (QEMU's qapi/string-output-visitor.c, QEMU 7.2), used by
 * QOM property printing ("info qtree", qom-get of string forms, -device help defaults).
 *
 * What it prints, as QEMU does:
 *  - integers in decimal; human mode adds hex: "42 (0x2a)";
 *  - integer lists as sorted, merged ranges: "1-3,5" (human: "1-3,5 (0x1-0x3,0x5)"); ranges are
 *    ordered as unsigned 64-bit values, so -1 sorts after 0, like QEMU's Range list;
 *  - uint64 values above INT64_MAX print as negative int64 (QEMU's own FIXME, kept for fidelity);
 *  - sizes: "4096", human "4096 (4 KiB)" (size_to_str());
 *  - booleans true/false; strings as is, human mode quoted ("\"auto\""); enums like strings;
 *  - numbers with "%.17g"; null as "" (human "<null>"); structs as "<omitted>";
 *  - lists of other scalars joined with ", ".
 */
import type { Visitor } from '../visitor.js';
import type { QObject } from '../../qobject/qobject.js';
import { printfG, sizeToStr } from '../../util/cutils.js';
import { OutputVisitorBase } from './visitor-base.js';

const enum ListMode {
  None,
  Started,
  InProgress,
  End,
}

const TWO64 = 2n ** 64n;

/** QEMU's Range: inclusive bounds compared as uint64. */
interface Range {
  lob: bigint;
  upb: bigint;
}

/** range_compare(): -1 if a is below b, 1 if above, 0 when they touch or overlap. */
function rangeCompare(a: Range, b: Range): number {
  if (b.lob && b.lob - 1n > a.upb) return -1;
  if (a.lob && a.lob - 1n > b.upb) return 1;
  return 0;
}

/** range_list_insert(): keep the list sorted, merging touching or overlapping ranges. */
function rangeListInsert(list: Range[], r: Range): void {
  let i = 0;
  while (i < list.length && rangeCompare(list[i]!, r) < 0) i++;
  if (i === list.length || rangeCompare(list[i]!, r) > 0) {
    list.splice(i, 0, r);
    return;
  }
  const cur = list[i]!;
  cur.lob = cur.lob < r.lob ? cur.lob : r.lob;
  cur.upb = cur.upb > r.upb ? cur.upb : r.upb;
  while (i + 1 < list.length && rangeCompare(cur, list[i + 1]!) === 0) {
    const next = list[i + 1]!;
    cur.lob = cur.lob < next.lob ? cur.lob : next.lob;
    cur.upb = cur.upb > next.upb ? cur.upb : next.upb;
    list.splice(i + 1, 1);
  }
}

const toU64 = (v: bigint): bigint => ((v % TWO64) + TWO64) % TWO64;
const toI64 = (v: bigint): bigint => (v >= 2n ** 63n ? v - TWO64 : v);

export class StringOutputVisitor extends OutputVisitorBase implements Visitor {
  readonly type = 'output' as const;
  private out = '';
  private lm = ListMode.None;
  private rangeStart = 0n;
  private rangeEnd = 0n;
  private readonly ranges: Range[] = [];
  private structNesting = 0;
  /** Position in the list being visited, to know when the last element comes (QEMU's next_list). */
  private listLength = 0;
  private listPos = -1;

  constructor(private readonly human: boolean) {
    super();
  }

  result(): string {
    return this.out;
  }

  /** string_output_set(): replace, or append to the ", "-separated list. */
  private set(s: string): void {
    if (this.lm === ListMode.Started || this.lm === ListMode.None) {
      if (this.lm === ListMode.Started) this.lm = ListMode.InProgress;
      this.out = s;
    } else {
      this.out += ', ' + s;
    }
  }

  /** Called before each element-level visit inside a list: QEMU's next_list() marks the last one. */
  private element(): void {
    if (this.listPos < 0) return;
    if (this.listPos >= 1 && this.listPos === this.listLength - 1) this.lm = ListMode.End;
    this.listPos++;
  }

  private appendRange(lob: bigint, upb: bigint): void {
    rangeListInsert(this.ranges, { lob: toU64(lob), upb: toU64(upb) });
  }

  private format(r: Range, next: boolean, human: boolean): string {
    const fmt = (v: bigint): string => (human ? '0x' + v.toString(16) : toI64(v).toString());
    const s = r.lob !== r.upb ? `${fmt(r.lob)}-${fmt(r.upb)}` : fmt(r.lob);
    return next ? s + ',' : s;
  }

  /** print_type_int64(), which also serves uint64 (after conversion to int64). */
  private printInt(value: bigint): void {
    if (this.structNesting) return;
    this.element();
    switch (this.lm) {
      case ListMode.None:
        this.appendRange(value, value);
        break;
      case ListMode.Started:
        this.rangeStart = this.rangeEnd = value;
        this.lm = ListMode.InProgress;
        return;
      case ListMode.InProgress:
        if (this.rangeEnd + 1n === value) {
          this.rangeEnd++;
        } else {
          this.appendRange(this.rangeStart, this.rangeEnd);
          this.rangeStart = this.rangeEnd = value;
        }
        return;
      case ListMode.End:
        if (this.rangeEnd + 1n === value) {
          this.rangeEnd++;
          this.appendRange(this.rangeStart, this.rangeEnd);
        } else {
          this.appendRange(this.rangeStart, this.rangeEnd);
          this.appendRange(value, value);
        }
        break;
    }
    const n = this.ranges.length;
    this.out += this.ranges.map((r, i) => this.format(r, i < n - 1, false)).join('');
    if (this.human)
      this.out += ' (' + this.ranges.map((r, i) => this.format(r, i < n - 1, true)).join('') + ')';
  }

  private printScalar(s: string): void {
    if (this.structNesting) return;
    this.element();
    this.set(s);
  }

  startStruct(_name: string | null): void {
    if (!this.structNesting) this.element();
    this.structNesting++;
  }
  endStruct(): void {
    if (--this.structNesting) return;
    this.set('<omitted>');
  }

  startList(_name: string | null, length = 0): number {
    if (this.structNesting) return length;
    if (this.listPos >= 0) throw new Error('StringOutputVisitor cannot print nested lists');
    this.listLength = length;
    this.listPos = 0;
    if (length >= 2) this.lm = ListMode.Started;
    return length;
  }
  endList(): void {
    if (this.structNesting) return;
    this.lm = ListMode.None;
    this.listPos = -1;
  }

  protected int<T extends number | bigint>(_name: string | null, value: T | undefined): T {
    this.printInt(toI64(toU64(BigInt(value ?? 0))));
    return value as T;
  }

  /** Sizes print as one scalar (human: "4096 (4 KiB)"), not as integer ranges. */
  override typeSize(_name: string | null, value?: number | bigint): number | bigint {
    const v = toU64(BigInt(value ?? 0));
    this.printScalar(this.human ? `${v} (${sizeToStr(v)})` : v.toString());
    return value ?? 0;
  }

  typeBool(_name: string | null, value?: boolean): boolean {
    this.printScalar(value ? 'true' : 'false');
    return !!value;
  }

  typeStr(_name: string | null, value?: string): string {
    if (this.human) this.printScalar(value === undefined ? '<null>' : `"${value}"`);
    else this.printScalar(value ?? '');
    return value ?? '';
  }

  typeNumber(_name: string | null, value?: number): number {
    this.printScalar(printfG(value ?? 0, 17));
    return value ?? 0;
  }

  typeAny(_name: string | null): QObject {
    throw new Error('StringOutputVisitor cannot print type any');
  }

  typeNull(_name: string | null): null {
    this.printScalar(this.human ? '<null>' : '');
    return null;
  }

  typeEnum(name: string | null, _values: readonly string[], value?: string): string {
    return this.typeStr(name, value);
  }
}
