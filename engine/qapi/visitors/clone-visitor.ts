/**
 * Clone visitor: deep copy of a QAPI value through its visit function (QEMU's
 * qapi/qapi-clone-visitor.c, QAPI_CLONE()).
 *
 * The generated visit functions build fresh containers for structs and lists; this visitor only
 * hands back each scalar, so the copy shares nothing mutable with the original. 'any' members are
 * deep-copied too (QEMU shares a reference-counted QObject; in JS a copy is the safe equivalent).
 */
import type { Visitor } from '../visitor.js';
import { qobjectClone, qtypeOf, type QObject, type QType } from '../../qobject/qobject.js';

export class CloneVisitor implements Visitor {
  readonly type = 'clone' as const;

  startStruct(_name: string | null): void {}
  checkStruct(): void {}
  endStruct(): void {}

  startList(_name: string | null, length = 0): number {
    return length;
  }
  checkList(): void {}
  endList(): void {}

  startAlternate(_name: string | null, current?: unknown): QType {
    return qtypeOf((current ?? null) as QObject);
  }
  endAlternate(): void {}

  optional(_name: string, present?: boolean): boolean {
    return !!present;
  }
  deprecatedAccept(_name: string | null): boolean {
    return true;
  }
  deprecated(_name: string | null): boolean {
    return true;
  }

  private same<T>(name: string | null, value: T | undefined): T {
    if (value === undefined) throw new Error(`CloneVisitor: no value for '${name ?? 'null'}'`);
    return value;
  }

  typeInt8(name: string | null, value?: number): number {
    return this.same(name, value);
  }
  typeInt16(name: string | null, value?: number): number {
    return this.same(name, value);
  }
  typeInt32(name: string | null, value?: number): number {
    return this.same(name, value);
  }
  typeInt64(name: string | null, value?: number | bigint): number | bigint {
    return this.same(name, value);
  }
  typeUint8(name: string | null, value?: number): number {
    return this.same(name, value);
  }
  typeUint16(name: string | null, value?: number): number {
    return this.same(name, value);
  }
  typeUint32(name: string | null, value?: number): number {
    return this.same(name, value);
  }
  typeUint64(name: string | null, value?: number | bigint): number | bigint {
    return this.same(name, value);
  }
  typeSize(name: string | null, value?: number | bigint): number | bigint {
    return this.same(name, value);
  }
  typeBool(name: string | null, value?: boolean): boolean {
    return this.same(name, value);
  }
  typeStr(name: string | null, value?: string): string {
    return this.same(name, value);
  }
  typeNumber(name: string | null, value?: number): number {
    return this.same(name, value);
  }
  typeAny(name: string | null, value?: QObject): QObject {
    return qobjectClone(this.same(name, value));
  }
  typeNull(_name: string | null): null {
    return null;
  }
  typeEnum(name: string | null, _values: readonly string[], value?: string): string {
    return this.same(name, value);
  }
}

/** QAPI_CLONE(): a deep copy of `obj` made by its visit function. */
export function qapiClone<T>(obj: T, visit: (v: Visitor, name: string | null, obj?: T) => T): T {
  return visit(new CloneVisitor(), null, obj);
}
