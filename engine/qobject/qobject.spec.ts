import { describe, expect, it } from 'vitest';
import { qdict, qint, qobjectEqual, qtypeOf } from './qobject.js';

describe('qobject', () => {
  it('keeps __proto__ as a plain key in dictionaries', () => {
    const d = qdict();
    d['__proto__'] = 1;
    expect(Object.keys(d)).toEqual(['__proto__']);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });
  it('classifies values with QEMU QType names', () => {
    expect([null, true, 1, 1.5, 2n ** 64n, 's', [], qdict()].map((v) => qtypeOf(v))).toEqual([
      'null',
      'bool',
      'int',
      'number',
      'int',
      'string',
      'array',
      'object',
    ]);
  });
  it('normalizes integers: safe ones as number, others as bigint', () => {
    expect(qint(5n)).toBe(5);
    expect(qint(2n ** 64n - 1n)).toBe(18446744073709551615n);
    expect(qobjectEqual({ a: [1, 2n] } as never, qdict({ a: [1n, 2] }))).toBe(true);
    expect(qobjectEqual([1], [1, 2])).toBe(false);
  });
});
