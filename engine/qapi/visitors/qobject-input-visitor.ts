/**
 * QObject input visitor: QObject -> QAPI values (QEMU's qapi/qobject-input-visitor.c, QEMU 7.2).
 *
 * Strict like QEMU's: checkStruct() rejects members nobody visited, checkList() rejects surplus
 * elements. Errors name the full path of the offending member as QEMU's full_name() builds it
 * ('a.b[2].c'; keyval mode writes list indexes as '.2'), with QEMU's exact texts:
 *   "Parameter 'x' is missing", "Invalid parameter type for 'x', expected: integer",
 *   "Parameter 'x' expects uint64", "Parameter 'x' is unexpected",
 *   "Only 2 list elements expected in x", "Parameters 'x.*' are unexpected" (keyval).
 * The range checks of the narrow integer types and the enum check are done in QEMU's
 * qapi-visit-core.c, which only knows the member's own name: "Parameter 'x' expects uint8_t",
 * "Parameter 'x' does not accept value 'y'" (with "null" for list elements).
 *
 * Keyval mode (qobject_input_visitor_new_keyval) takes the string-only dictionaries keyval_parse()
 * builds: scalars are parsed from text (integers with 0x/0 prefixes, sizes with suffixes, booleans
 * on/off/yes/no/true/false/y/n, finite numbers).
 */
import { QapiError, errorSetg } from '../error.js';
import type { Visitor } from '../visitor.js';
import {
  isQDict,
  qdictHas,
  qint,
  qtypeOf,
  type QDict,
  type QList,
  type QObject,
  type QType,
} from '../../qobject/qobject.js';
import { parseJson } from '../../qobject/json-parser.js';
import { qemuStrtodFinite, qemuStrtoi64, qemuStrtosz, qemuStrtou64 } from '../../util/cutils.js';
import { keyvalParse } from '../../util/keyval.js';
import { enumError, parseBoolString } from './visit-core.js';
import { InputVisitorBase } from './visitor-base.js';

/** QEMU's CompatPolicyInput for deprecated members (-compat deprecated-input=...). */
export type DeprecatedInputPolicy = 'accept' | 'reject' | 'crash';

export interface QObjectInputVisitorOptions {
  /** The root was built by keyval_parse(): scalars are strings to be parsed. */
  keyval?: boolean;
  deprecatedInput?: DeprecatedInputPolicy;
}

interface StackObject {
  /** Name of the container in its parent (null at the top and for list elements). */
  readonly name: string | null;
  readonly obj: QDict | QList;
  /** Dict: keys not visited yet, in input order. */
  readonly unvisited: Set<string> | null;
  /** List: next element to hand out. */
  pos: number;
  /** List: index of the element visited last (-1 before the first), as QEMU's so->index. */
  index: number;
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const UINT64_MAX = 2n ** 64n - 1n;
const TWO64 = 2n ** 64n;

/** An integer QNum as bigint, or null for doubles (JS numbers beyond 2^53 can only be doubles). */
function qnumInt(v: QObject): bigint | null {
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number' && Number.isSafeInteger(v)) return BigInt(v);
  return null;
}

export class QObjectInputVisitor extends InputVisitorBase implements Visitor {
  readonly type = 'input' as const;
  private readonly stack: StackObject[] = [];
  private readonly keyval: boolean;
  private readonly deprecatedPolicy: DeprecatedInputPolicy;

  constructor(
    private readonly root: QObject,
    opts: QObjectInputVisitorOptions = {},
  ) {
    super();
    this.keyval = !!opts.keyval;
    this.deprecatedPolicy = opts.deprecatedInput ?? 'accept';
  }

  /**
   * qobject_input_visitor_new_keyval(keyval_parse(str, impliedKey)). A "help" item is the error
   * "Help is not available for this option", as keyval_parse() without a help flag reports it.
   */
  static fromKeyval(str: string, impliedKey?: string | null): QObjectInputVisitor {
    return new QObjectInputVisitor(keyvalParse(str, impliedKey ?? null, false).dict, { keyval: true });
  }

  /** qobject_input_visitor_new_str(): JSON when the text starts with '{', else keyval. */
  static fromStr(str: string, impliedKey?: string | null): QObjectInputVisitor {
    if (str.startsWith('{')) {
      // Text starting with '{' parses to a dictionary or fails.
      return new QObjectInputVisitor(parseJson(str));
    }
    return QObjectInputVisitor.fromKeyval(str, impliedKey);
  }

  /** QEMU's full_name_nth(): the path of `name` inside the containers, skipping the top `n`. */
  private fullNameNth(name: string | null, n: number): string {
    let out = '';
    for (let i = this.stack.length - 1; i >= 0; i--) {
      const so = this.stack[i]!;
      if (n) {
        n--;
      } else if (isQDict(so.obj)) {
        out = '.' + (name ?? '<anonymous>') + out;
      } else {
        // QEMU prints the unsigned index; before the first element that is UINT_MAX.
        const idx = so.index < 0 ? 4294967295 : so.index;
        out = (this.keyval ? `.${idx}` : `[${idx}]`) + out;
      }
      name = so.name;
    }
    if (name) return name + out;
    if (out.startsWith('.')) return out.slice(1);
    return out || '<anonymous>';
  }

  private fullName(name: string | null): string {
    return this.fullNameNth(name, 0);
  }

  /** qobject_input_try_get_object(): undefined when absent. */
  private tryGet(name: string | null, consume: boolean): QObject | undefined {
    const tos = this.stack[this.stack.length - 1];
    if (!tos) return this.root;
    if (isQDict(tos.obj)) {
      const key = name ?? '';
      if (!qdictHas(tos.obj, key)) return undefined;
      if (consume) tos.unvisited!.delete(key);
      return tos.obj[key];
    }
    const list = tos.obj as QList;
    let ret: QObject | undefined;
    if (tos.pos < list.length) {
      ret = list[tos.pos];
      if (consume) tos.pos++;
    }
    if (consume) tos.index++;
    return ret;
  }

  private get(name: string | null, consume = true): QObject {
    const v = this.tryGet(name, consume);
    if (v === undefined) throw errorSetg(`Parameter '${this.fullName(name)}' is missing`);
    return v;
  }

  private invalidType(name: string | null, expected: string): QapiError {
    return errorSetg(`Invalid parameter type for '${this.fullName(name)}', expected: ${expected}`);
  }

  private expects(name: string | null, what: string): QapiError {
    return errorSetg(`Parameter '${this.fullName(name)}' expects ${what}`);
  }

  /** qobject_input_get_keyval(): the string a keyval scalar must be. */
  private getKeyval(name: string | null): string {
    const v = this.get(name);
    if (typeof v === 'string') return v;
    if (v !== null && typeof v === 'object')
      throw errorSetg(`Parameters '${this.fullName(name)}.*' are unexpected`);
    throw errorSetg(`Internal error: parameter ${this.fullName(name)} invalid`);
  }

  private push(name: string | null, obj: QDict | QList): void {
    this.stack.push({
      name,
      obj,
      unvisited: isQDict(obj) ? new Set(Object.keys(obj)) : null,
      pos: 0,
      index: -1,
    });
  }

  startStruct(name: string | null): void {
    const v = this.get(name);
    if (!isQDict(v)) throw this.invalidType(name, 'object');
    this.push(name, v);
  }

  checkStruct(): void {
    const tos = this.stack[this.stack.length - 1]!;
    for (const key of tos.unvisited!) {
      throw errorSetg(`Parameter '${this.fullName(key)}' is unexpected`);
    }
  }

  endStruct(): void {
    this.stack.pop();
  }

  startList(name: string | null): number {
    const v = this.get(name);
    if (!Array.isArray(v)) throw this.invalidType(name, 'array');
    this.push(name, v);
    return v.length;
  }

  checkList(): void {
    const tos = this.stack[this.stack.length - 1]!;
    if (tos.pos < (tos.obj as QList).length) {
      throw errorSetg(`Only ${tos.index + 1} list elements expected in ${this.fullNameNth(null, 1)}`);
    }
  }

  endList(): void {
    this.stack.pop();
  }

  startAlternate(name: string | null): QType {
    return qtypeOf(this.get(name, false));
  }

  /** Present when the input has the member. */
  override optional(name: string): boolean {
    return this.tryGet(name, false) !== undefined;
  }

  override deprecatedAccept(name: string | null): boolean {
    switch (this.deprecatedPolicy) {
      case 'accept':
        return true;
      case 'reject':
        throw errorSetg(`Deprecated parameter '${name ?? 'null'}' disabled by policy`);
      default:
        throw new Error(`deprecated parameter '${name ?? 'null'}' used with deprecated-input=crash`);
    }
  }

  typeInt64(name: string | null): number | bigint {
    if (this.keyval) {
      const r = qemuStrtoi64(this.getKeyval(name), 0);
      if (r.error) throw this.expects(name, 'integer');
      return qint(r.value);
    }
    const n = qnumInt(this.get(name));
    if (n === null || n < INT64_MIN || n > INT64_MAX) throw this.invalidType(name, 'integer');
    return qint(n);
  }

  typeUint64(name: string | null): number | bigint {
    if (this.keyval) {
      const r = qemuStrtou64(this.getKeyval(name), 0);
      if (r.error) throw this.expects(name, 'integer');
      return qint(r.value);
    }
    const n = qnumInt(this.get(name));
    // qnum_get_try_uint(), then negative int64 accepted and wrapped "for backward compatibility".
    if (n === null || n > UINT64_MAX || n < INT64_MIN) throw this.expects(name, 'uint64');
    return qint(n < 0n ? n + TWO64 : n);
  }

  typeSize(name: string | null): number | bigint {
    if (!this.keyval) return this.typeUint64(name);
    const r = qemuStrtosz(this.getKeyval(name));
    if (r.error) throw this.expects(name, 'size');
    return qint(r.value);
  }

  typeBool(name: string | null): boolean {
    if (this.keyval) {
      const b = parseBoolString(this.getKeyval(name));
      if (b === null) throw this.expects(name, "'on' or 'off'");
      return b;
    }
    const v = this.get(name);
    if (typeof v !== 'boolean') throw this.invalidType(name, 'boolean');
    return v;
  }

  typeStr(name: string | null): string {
    if (this.keyval) return this.getKeyval(name);
    const v = this.get(name);
    if (typeof v !== 'string') throw this.invalidType(name, 'string');
    return v;
  }

  typeNumber(name: string | null): number {
    if (this.keyval) {
      const r = qemuStrtodFinite(this.getKeyval(name));
      if (r.error) throw this.invalidType(name, 'number');
      return r.value;
    }
    const v = this.get(name);
    if (typeof v === 'number') return v;
    if (typeof v === 'bigint') return Number(v);
    throw this.invalidType(name, 'number');
  }

  typeAny(name: string | null): QObject {
    return this.get(name);
  }

  typeNull(name: string | null): null {
    if (this.get(name) !== null) throw this.invalidType(name, 'null');
    return null;
  }

  typeEnum(name: string | null, values: readonly string[]): string {
    const s = this.typeStr(name);
    if (!values.includes(s)) throw enumError(name, s);
    return s;
  }
}
