/**
 * QObject: the dynamic value model that QMP, QAPI visitors and QOM properties exchange.
 *
 * QEMU has QNull/QBool/QNum/QString/QDict/QList. We map them onto plain JS values so that values can be
 * built and inspected without wrappers, with two rules that keep QEMU's semantics:
 *  - integers that fit a JS double exactly are `number`; integers outside +-(2^53-1) are `bigint`
 *    (the JSON parser produces them, the writer prints them digit-exact, e.g. UINT64_MAX defaults);
 *  - dictionaries are null-prototype objects (see `qdict()`), so a key such as `__proto__` that arrives
 *    over QMP is just a key. Key order is insertion order, as QEMU's output preserves it.
 */
export type QDict = { [key: string]: QObject };
export type QList = QObject[];
export type QObject = null | boolean | number | bigint | string | QList | QDict;

/** QEMU's QType names, as query-qmp-schema's alternate/builtin "json-type" uses them. */
export type QType = 'null' | 'bool' | 'int' | 'number' | 'string' | 'object' | 'array';

/** Create an empty dictionary with no prototype (safe against `__proto__`/`constructor` keys). */
export function qdict(entries?: Record<string, QObject | undefined>): QDict {
  const d = Object.create(null) as QDict;
  if (entries) {
    for (const k of Object.keys(entries)) {
      const v = entries[k];
      if (v !== undefined) d[k] = v;
    }
  }
  return d;
}

export function isQDict(v: unknown): v is QDict {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function isQList(v: unknown): v is QList {
  return Array.isArray(v);
}

/** True for a JSON integer (a safe-integer number or a bigint). */
export function isQInt(v: unknown): v is number | bigint {
  return typeof v === 'bigint' || (typeof v === 'number' && Number.isInteger(v));
}

export function qtypeOf(v: QObject): QType {
  if (v === null) return 'null';
  switch (typeof v) {
    case 'boolean':
      return 'bool';
    case 'bigint':
      return 'int';
    case 'number':
      return Number.isInteger(v) ? 'int' : 'number';
    case 'string':
      return 'string';
    default:
      return Array.isArray(v) ? 'array' : 'object';
  }
}

export function qdictHas(d: QDict, key: string): boolean {
  return Object.prototype.hasOwnProperty.call(d, key);
}

/** Normalize an integer to the canonical representation: number when safe, bigint otherwise. */
export function qint(v: number | bigint): number | bigint {
  if (typeof v === 'number') return v;
  return v >= -9007199254740991n && v <= 9007199254740991n ? Number(v) : v;
}

/** Deep structural equality of two QObjects (ints compare by value across number/bigint). */
export function qobjectEqual(a: QObject, b: QObject): boolean {
  if (isQInt(a) && isQInt(b)) return BigInt(a) === BigInt(b);
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return a === b;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    return a.every((x, i) => qobjectEqual(x, b[i]!));
  }
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  return ka.every((k) => qdictHas(b, k) && qobjectEqual(a[k]!, b[k]!));
}

/** Deep copy (dictionaries keep the null prototype). */
export function qobjectClone<T extends QObject>(v: T): T {
  if (v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) return v.map((x) => qobjectClone(x)) as T;
  const d = qdict();
  for (const k of Object.keys(v)) d[k] = qobjectClone(v[k]!);
  return d as T;
}
