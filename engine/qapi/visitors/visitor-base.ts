/**
 * What several visitors answer alike, written once so each visitor file holds only what makes it
 * different. Subclasses still declare `implements Visitor`; the Visitor interface is unchanged.
 */
import { qtypeOf, type QObject, type QType } from '../../qobject/qobject.js';
import { checkIntRange, checkUintRange } from './visit-core.js';

/**
 * Answers for visitors with no compat policy and no presence information of their own: an optional
 * member is there when the caller says so, deprecated members are accepted and shown.
 */
export abstract class VisitorDefaults {
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
}

/**
 * Input visitors parse 64-bit integers; the narrow kinds are those plus the range check of QEMU's
 * visit_type_intN/uintN() in qapi-visit-core.c ("Parameter 'x' expects uint8_t").
 */
export abstract class InputVisitorBase extends VisitorDefaults {
  abstract typeInt64(name: string | null): number | bigint;
  abstract typeUint64(name: string | null): number | bigint;

  typeInt8(name: string | null): number {
    return checkIntRange(name, this.typeInt64(name), 'int8_t');
  }
  typeInt16(name: string | null): number {
    return checkIntRange(name, this.typeInt64(name), 'int16_t');
  }
  typeInt32(name: string | null): number {
    return checkIntRange(name, this.typeInt64(name), 'int32_t');
  }
  typeUint8(name: string | null): number {
    return checkUintRange(name, this.typeUint64(name), 'uint8_t');
  }
  typeUint16(name: string | null): number {
    return checkUintRange(name, this.typeUint64(name), 'uint16_t');
  }
  typeUint32(name: string | null): number {
    return checkUintRange(name, this.typeUint64(name), 'uint32_t');
  }
}

/**
 * Output and clone visitors: the value is given, so an alternate's branch is the type of the current
 * value, there is nothing to check at the end of a struct or list, and every integer kind (and size)
 * goes through the one method `int()`.
 */
export abstract class OutputVisitorBase extends VisitorDefaults {
  /** Record or copy one integer and return it. */
  protected abstract int<T extends number | bigint>(name: string | null, value: T | undefined): T;

  startAlternate(_name: string | null, current?: unknown): QType {
    return qtypeOf((current ?? null) as QObject);
  }

  checkStruct(): void {}
  checkList(): void {}

  typeInt8(name: string | null, value?: number): number {
    return this.int(name, value);
  }
  typeInt16(name: string | null, value?: number): number {
    return this.int(name, value);
  }
  typeInt32(name: string | null, value?: number): number {
    return this.int(name, value);
  }
  typeInt64(name: string | null, value?: number | bigint): number | bigint {
    return this.int(name, value);
  }
  typeUint8(name: string | null, value?: number): number {
    return this.int(name, value);
  }
  typeUint16(name: string | null, value?: number): number {
    return this.int(name, value);
  }
  typeUint32(name: string | null, value?: number): number {
    return this.int(name, value);
  }
  typeUint64(name: string | null, value?: number | bigint): number | bigint {
    return this.int(name, value);
  }
  typeSize(name: string | null, value?: number | bigint): number | bigint {
    return this.int(name, value);
  }
}
