/**
 * Clone visitor: deep copy of a QAPI value through its visit function (QEMU's
 * qapi/qapi-clone-visitor.c, QAPI_CLONE()).
 *
 * The generated visit functions build fresh containers for structs and lists; this visitor only
 * hands back each scalar, so the copy shares nothing mutable with the original. 'any' members are
 * deep-copied too (QEMU shares a reference-counted QObject; in JS a copy is the safe equivalent).
 */
import type { Visitor } from '../visitor.js';
import { qobjectClone, type QObject } from '../../qobject/qobject.js';
import { OutputVisitorBase } from './visitor-base.js';

export class CloneVisitor extends OutputVisitorBase implements Visitor {
  readonly type = 'clone' as const;

  startStruct(_name: string | null): void {}
  endStruct(): void {}

  startList(_name: string | null, length = 0): number {
    return length;
  }
  endList(): void {}

  private same<T>(name: string | null, value: T | undefined): T {
    if (value === undefined) throw new Error(`CloneVisitor: no value for '${name ?? 'null'}'`);
    return value;
  }

  protected int<T extends number | bigint>(name: string | null, value: T | undefined): T {
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
