/**
 * Checks QEMU performs in qapi/qapi-visit-core.c and qapi/qapi-util.c, shared by the input visitors.
 * They only know the member's own name (not the full path), and print "null" for list elements,
 * exactly like QEMU's messages.
 */
import { QapiError, errorSetg } from '../error.js';

const INT_RANGES: Record<string, readonly [number, number]> = {
  int8_t: [-128, 127],
  int16_t: [-32768, 32767],
  int32_t: [-2147483648, 2147483647],
};
const UINT_MAX: Record<string, number> = {
  uint8_t: 255,
  uint16_t: 65535,
  uint32_t: 4294967295,
};

/** visit_type_intN(): "Parameter 'x' expects int8_t" when out of range. */
export function checkIntRange(
  name: string | null,
  value: number | bigint,
  type: 'int8_t' | 'int16_t' | 'int32_t',
): number {
  const [min, max] = INT_RANGES[type]!;
  if (typeof value === 'bigint' || value < min || value > max) {
    throw errorSetg(`Parameter '${name ?? 'null'}' expects ${type}`);
  }
  return value;
}

/** visit_type_uintN(): "Parameter 'x' expects uint8_t" when out of range. */
export function checkUintRange(
  name: string | null,
  value: number | bigint,
  type: 'uint8_t' | 'uint16_t' | 'uint32_t',
): number {
  if (typeof value === 'bigint' || value < 0 || value > UINT_MAX[type]!) {
    throw errorSetg(`Parameter '${name ?? 'null'}' expects ${type}`);
  }
  return value;
}

/** input_type_enum()'s error for a name not in the enum. */
export function enumError(name: string | null, value: string): QapiError {
  return errorSetg(`Parameter '${name ?? 'null'}' does not accept value '${value}'`);
}

/** qapi_bool_parse() without its error: the spellings QEMU accepts for booleans. */
export function parseBoolString(s: string): boolean | null {
  if (s === 'on' || s === 'yes' || s === 'true' || s === 'y') return true;
  if (s === 'off' || s === 'no' || s === 'false' || s === 'n') return false;
  return null;
}

/** qapi_bool_parse() with its error: "Parameter 'x' expects boolean (on/off)". */
export function qapiBoolParse(name: string, s: string): boolean {
  const b = parseBoolString(s);
  if (b === null) throw errorSetg(`Parameter '${name}' expects boolean (on/off)`);
  return b;
}
