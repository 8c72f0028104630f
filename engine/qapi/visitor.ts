/**
 * The Visitor interface: one walk, many directions (QEMU's include/qapi/visitor.h, adapted to values).
 *
 * QEMU passes `T *obj` so one generated function both reads and writes a C struct. JS cannot take the
 * address of a number, so every visit method here *returns* the value:
 *  - input visitors ignore `value` and return what they parsed (or throw QapiError);
 *  - output visitors record `value` and return it unchanged;
 *  - the clone visitor returns a copy of `value` (generated code builds fresh containers for it).
 * Generated `visit_type_T(v, name, obj)` functions therefore work for every direction with one body:
 *   `dst.size = v.typeSize('size', src?.size)`.
 *
 * Names: `name` is the member name inside a struct, `null` for list elements and the top level.
 * Visitors track the path themselves so errors name 'a.b[2].c' as QEMU's full_name() does.
 *
 * Integers: 8..32-bit kinds use `number`; 64-bit kinds and `size` return the canonical QObject integer
 * (number when it is a safe integer, bigint otherwise, see qobject.ts `qint`), so UINT64_MAX survives.
 */
import type { QObject, QType } from '../qobject/qobject.js';

export type VisitorType = 'input' | 'output' | 'clone';

export interface Visitor {
  readonly type: VisitorType;

  /** Enter a struct. Input: throws "Invalid parameter type for 'x', expected: object" when not a dict. */
  startStruct(name: string | null): void;
  /** Input: throws "Parameter 'x' is unexpected" for members nobody visited (strict visitors only). */
  checkStruct(): void;
  endStruct(): void;

  /**
   * Enter a list. Input: returns the number of elements available. Output/clone: pass `length` (the
   * number of elements that will be visited) and it is returned. Elements are then visited with name null.
   */
  startList(name: string | null, length?: number): number;
  /** Input: throws when elements were left unvisited. */
  checkList(): void;
  endList(): void;

  /**
   * Choose an alternate's branch. Input: the QType of the value found (throws if absent).
   * Output/clone: pass the current value; the QType of its JS representation is returned.
   */
  startAlternate(name: string | null, current?: unknown): QType;
  endAlternate(): void;

  /** Whether an optional member is present. Input: present in the input; output/clone: `present`. */
  optional(name: string, present?: boolean): boolean;

  /** Members/values with feature 'deprecated': input may reject them (compat policy). */
  deprecatedAccept(name: string | null): boolean;
  /** Output may hide them (compat policy). */
  deprecated(name: string | null): boolean;

  typeInt8(name: string | null, value?: number): number;
  typeInt16(name: string | null, value?: number): number;
  typeInt32(name: string | null, value?: number): number;
  typeInt64(name: string | null, value?: number | bigint): number | bigint;
  typeUint8(name: string | null, value?: number): number;
  typeUint16(name: string | null, value?: number): number;
  typeUint32(name: string | null, value?: number): number;
  typeUint64(name: string | null, value?: number | bigint): number | bigint;
  /** Byte sizes: string/keyval input accepts suffixes (k, M, G, T, P, E; B). */
  typeSize(name: string | null, value?: number | bigint): number | bigint;
  typeBool(name: string | null, value?: boolean): boolean;
  typeStr(name: string | null, value?: string): string;
  typeNumber(name: string | null, value?: number): number;
  typeAny(name: string | null, value?: QObject): QObject;
  typeNull(name: string | null): null;
  /** Enum by name; input: throws "Parameter 'x' does not accept value 'y'" for unknown names. */
  typeEnum(name: string | null, values: readonly string[], value?: string): string;
}
