/**
 * Minimal string input/output visitors for object_property_parse/print, used until the shared ones in
 * engine/qapi/visitors/ exist (see visitors.ts). Scalars and enums only, with QEMU's error texts; no
 * lists or ranges.
 */
import type { Visitor, VisitorType } from '../qapi/visitor.js';
import type { QObject, QType } from '../qobject/qobject.js';
import { qint, qtypeOf } from '../qobject/qobject.js';
import { errorSetg } from '../qapi/error.js';

const INT_LIMITS: Record<string, [bigint, bigint]> = {
  int8: [-128n, 127n],
  int16: [-32768n, 32767n],
  int32: [-2147483648n, 2147483647n],
  uint8: [0n, 255n],
  uint16: [0n, 65535n],
  uint32: [0n, 4294967295n],
};
const INT64_MIN = -(1n << 63n);
const INT64_MAX = (1n << 63n) - 1n;
const UINT64_MAX = (1n << 64n) - 1n;

const expects = (name: string | null, what: string) => errorSetg(`Parameter '${name ?? 'null'}' expects ${what}`);

/** Parse a C integer literal like strtoll(base 0): decimal, 0x hex, 0 octal, optional sign. */
export function parseCInteger(s: string): bigint | null {
  const m = /^\s*([+-]?)(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)$/.exec(s);
  if (!m) return null;
  const body = m[2]!;
  let v: bigint;
  if (/^0[xX]/.test(body)) v = BigInt(body);
  else if (body.length > 1 && body.startsWith('0')) v = BigInt('0o' + body.slice(1));
  else v = BigInt(body);
  return m[1] === '-' ? -v : v;
}

/** qemu_strtosz(): "4k", "1.5G", "512" (bytes; suffixes B K M G T P E, powers of 1024). */
export function parseSize(s: string): bigint | null {
  const m = /^\s*([0-9]+(?:\.[0-9]*)?|0[xX][0-9a-fA-F]+)\s*([BbKkMmGgTtPpEe]?)$/.exec(s);
  if (!m) return null;
  const shifts: Record<string, number> = { '': 0, b: 0, k: 10, m: 20, g: 30, t: 40, p: 50, e: 60 };
  const shift = BigInt(shifts[m[2]!.toLowerCase()]!);
  let v: bigint;
  if (m[1]!.includes('.')) {
    if (shift === 0n) return null;
    const [ip, fp = ''] = m[1]!.split('.');
    const scale = 10n ** BigInt(fp.length);
    v = ((BigInt(ip!) * scale + BigInt(fp || '0')) << shift) / scale;
  } else {
    v = BigInt(m[1]!) << shift;
  }
  return v > UINT64_MAX ? null : v;
}

/** qapi_bool_parse(). */
export function parseBool(s: string): boolean | null {
  if (['on', 'yes', 'true', 'y'].includes(s)) return true;
  if (['off', 'no', 'false', 'n'].includes(s)) return false;
  return null;
}

abstract class ScalarRangeVisitor {
  protected abstract int64(name: string | null, value?: number | bigint): number | bigint;
  protected abstract uint64In(name: string | null, value?: number | bigint): number | bigint;
  abstract readonly type: VisitorType;

  protected sized(kind: string, name: string | null, value?: number): number {
    const [lo, hi] = INT_LIMITS[kind]!;
    const r = BigInt(lo < 0n ? this.int64(name, value) : this.uint64In(name, value));
    if (r < lo || r > hi) throw expects(name, `${kind}_t`);
    return Number(r);
  }
  typeInt8(n: string | null, v?: number) {
    return this.sized('int8', n, v);
  }
  typeInt16(n: string | null, v?: number) {
    return this.sized('int16', n, v);
  }
  typeInt32(n: string | null, v?: number) {
    return this.sized('int32', n, v);
  }
  typeUint8(n: string | null, v?: number) {
    return this.sized('uint8', n, v);
  }
  typeUint16(n: string | null, v?: number) {
    return this.sized('uint16', n, v);
  }
  typeUint32(n: string | null, v?: number) {
    return this.sized('uint32', n, v);
  }
}

/** String input visitor (object_property_parse): one scalar parsed from text. */
export class FallbackStringInputVisitor extends ScalarRangeVisitor implements Visitor {
  readonly type = 'input' as const;
  constructor(private readonly str: string) {
    super();
  }
  private unsupported(): never {
    throw errorSetg('string input visitor: structured values are not supported');
  }
  startStruct(): void {
    this.unsupported();
  }
  checkStruct(): void {}
  endStruct(): void {}
  startList(): number {
    return this.unsupported();
  }
  checkList(): void {}
  endList(): void {}
  startAlternate(): QType {
    return this.unsupported();
  }
  endAlternate(): void {}
  optional(): boolean {
    return true;
  }
  deprecatedAccept(): boolean {
    return true;
  }
  deprecated(): boolean {
    return true;
  }
  protected int64(name: string | null): number | bigint {
    const r = parseCInteger(this.str);
    if (r === null || r < INT64_MIN || r > INT64_MAX) throw expects(name, 'an int64 value or range');
    return qint(r);
  }
  protected uint64In(name: string | null): number | bigint {
    const r = parseCInteger(this.str);
    if (r === null || r > UINT64_MAX || r < INT64_MIN) throw expects(name, 'a uint64 value or range');
    return qint(r < 0n ? r + (1n << 64n) : r);
  }
  typeInt64(name: string | null) {
    return this.int64(name);
  }
  typeUint64(name: string | null) {
    return this.uint64In(name);
  }
  typeSize(name: string | null): number | bigint {
    const r = parseSize(this.str);
    if (r === null) throw expects(name, 'a size value');
    return qint(r);
  }
  typeBool(name: string | null): boolean {
    const r = parseBool(this.str);
    if (r === null) throw expects(name, "'on' or 'off'");
    return r;
  }
  typeStr(): string {
    return this.str;
  }
  typeNumber(name: string | null): number {
    const n = Number(this.str);
    if (this.str.trim() === '' || Number.isNaN(n)) throw expects(name, 'number');
    return n;
  }
  typeAny(): QObject {
    return this.unsupported();
  }
  typeNull(name: string | null): null {
    if (this.str !== '') throw expects(name, 'null');
    return null;
  }
  typeEnum(name: string | null, values: readonly string[]): string {
    if (!values.includes(this.str)) throw errorSetg(`Parameter '${name ?? 'null'}' does not accept value '${this.str}'`);
    return this.str;
  }
}

/** size_to_str(): "512 B", "4 GiB", "1.5 MiB" (printf "%0.3g"). */
export function sizeToStr(val: bigint): string {
  const suffixes = ['', 'Ki', 'Mi', 'Gi', 'Ti', 'Pi', 'Ei'];
  const x = Number(val) / (1000 / 1024);
  // frexp exponent: x = m * 2^e with 0.5 <= m < 1
  const e = x === 0 ? 0 : Math.floor(Math.log2(x)) + 1;
  const i = Math.max(0, Math.trunc((e - 1) / 10));
  const div = 2 ** (i * 10);
  return `${Number((Number(val) / div).toPrecision(3))} ${suffixes[i]}B`;
}

/** String output visitor (object_property_print); human mode as `info qtree` shows values. */
export class FallbackStringOutputVisitor implements Visitor {
  readonly type = 'output' as const;
  private out: string | undefined;
  constructor(private readonly human: boolean) {}
  result(): string {
    return this.out ?? '';
  }
  startStruct(): void {
    throw errorSetg('string output visitor: structured values are not supported');
  }
  checkStruct(): void {}
  endStruct(): void {}
  startList(): number {
    throw errorSetg('string output visitor: lists are not supported');
  }
  checkList(): void {}
  endList(): void {}
  startAlternate(_n: string | null, current?: unknown): QType {
    return qtypeOf((current ?? null) as QObject);
  }
  endAlternate(): void {}
  optional(_n: string, present?: boolean): boolean {
    return !!present;
  }
  deprecatedAccept(): boolean {
    return true;
  }
  deprecated(): boolean {
    return true;
  }
  private int<T extends number | bigint>(v: T | undefined, unsigned: boolean): T {
    let b = BigInt(v ?? 0);
    if (!unsigned && b < 0n && this.human) {
      this.out = `${b} (0x${(b + (1n << 64n)).toString(16)})`;
      return v as T;
    }
    if (unsigned && b < 0n) b += 1n << 64n;
    this.out = this.human ? `${b} (0x${b.toString(16)})` : `${b}`;
    return v as T;
  }
  typeInt8(_n: string | null, v?: number) {
    return this.int(v, false);
  }
  typeInt16(_n: string | null, v?: number) {
    return this.int(v, false);
  }
  typeInt32(_n: string | null, v?: number) {
    return this.int(v, false);
  }
  typeInt64(_n: string | null, v?: number | bigint) {
    return this.int(v, false);
  }
  typeUint8(_n: string | null, v?: number) {
    return this.int(v, true);
  }
  typeUint16(_n: string | null, v?: number) {
    return this.int(v, true);
  }
  typeUint32(_n: string | null, v?: number) {
    return this.int(v, true);
  }
  typeUint64(_n: string | null, v?: number | bigint) {
    return this.int(v, true);
  }
  typeSize(_n: string | null, v?: number | bigint): number | bigint {
    const b = BigInt(v ?? 0);
    this.out = this.human ? `${b} (${sizeToStr(b)})` : `${b}`;
    return v ?? 0;
  }
  typeBool(_n: string | null, v?: boolean): boolean {
    this.out = v ? 'true' : 'false';
    return !!v;
  }
  typeStr(_n: string | null, v?: string): string {
    this.out = this.human ? `"${v ?? ''}"` : (v ?? '');
    return v ?? '';
  }
  typeNumber(_n: string | null, v?: number): number {
    this.out = String(v ?? 0);
    return v ?? 0;
  }
  typeAny(): QObject {
    throw errorSetg('string output visitor: any is not supported');
  }
  typeNull(): null {
    this.out = '';
    return null;
  }
  typeEnum(n: string | null, _values: readonly string[], v?: string): string {
    return this.typeStr(n, v);
  }
}
