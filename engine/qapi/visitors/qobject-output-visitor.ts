/**
 * QObject output visitor: QAPI values -> QObject (QEMU's qapi/qobject-output-visitor.c).
 *
 * Every visited value is added to the container being built (by member name in a struct, appended
 * in a list); result() returns the root. Integers are stored in canonical form (bigint only beyond
 * 2^53), so uint64 values such as UINT64_MAX survive into JSON digit-exact. With the "hide" policy
 * for deprecated output (-compat deprecated-output=hide) deprecated() says to skip such members.
 */
import type { Visitor } from '../visitor.js';
import { qdict, qint, type QDict, type QList, type QObject } from '../../qobject/qobject.js';
import { OutputVisitorBase } from './visitor-base.js';

export type DeprecatedOutputPolicy = 'accept' | 'hide';

export class QObjectOutputVisitor extends OutputVisitorBase implements Visitor {
  readonly type = 'output' as const;
  private readonly stack: (QDict | QList)[] = [];
  private root: QObject | undefined;

  constructor(private readonly opts: { deprecatedOutput?: DeprecatedOutputPolicy } = {}) {
    super();
  }

  /** The value built (QEMU's visit_complete()). */
  result(): QObject {
    if (this.root === undefined || this.stack.length)
      throw new Error('QObjectOutputVisitor: visit not complete');
    return this.root;
  }

  private add<T extends QObject>(name: string | null, value: T): T {
    const tos = this.stack[this.stack.length - 1];
    if (!tos) {
      this.root = value;
    } else if (Array.isArray(tos)) {
      tos.push(value);
    } else {
      tos[name ?? ''] = value;
    }
    return value;
  }

  startStruct(name: string | null): void {
    this.stack.push(this.add(name, qdict()));
  }
  endStruct(): void {
    this.stack.pop();
  }

  startList(name: string | null, length = 0): number {
    this.stack.push(this.add(name, [] as QList));
    return length;
  }
  endList(): void {
    this.stack.pop();
  }

  /** With -compat deprecated-output=hide, deprecated members are left out. */
  override deprecated(_name: string | null): boolean {
    return this.opts.deprecatedOutput !== 'hide';
  }

  protected int<T extends number | bigint>(name: string | null, value: T | undefined): T {
    if (value === undefined) throw new Error(`QObjectOutputVisitor: no value for '${name ?? 'null'}'`);
    this.add(name, qint(value));
    return value;
  }

  typeBool(name: string | null, value?: boolean): boolean {
    return this.add(name, !!value);
  }
  typeStr(name: string | null, value?: string): string {
    // QEMU outputs NULL strings as "" (qobject_output_type_str).
    return this.add(name, value ?? '');
  }
  typeNumber(name: string | null, value?: number): number {
    return this.add(name, value ?? 0);
  }
  typeAny(name: string | null, value?: QObject): QObject {
    if (value === undefined) throw new Error(`QObjectOutputVisitor: no value for '${name ?? 'null'}'`);
    return this.add(name, value);
  }
  typeNull(name: string | null): null {
    return this.add(name, null);
  }
  typeEnum(name: string | null, _values: readonly string[], value?: string): string {
    if (value === undefined) throw new Error(`QObjectOutputVisitor: no value for enum '${name ?? 'null'}'`);
    return this.add(name, value);
  }
}
