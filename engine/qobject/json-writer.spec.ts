import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { formatDouble, quoteJsonString, toJson } from './json-writer.js';
import { parseJson } from './json-parser.js';
import { qdict, qobjectEqual, type QObject } from './qobject.js';

describe('toJson compact form', () => {
  it('uses ", " and ": " separators like qobject_to_json()', () => {
    expect(toJson(qdict({ a: 1, b: [1, 2] }))).toBe('{"a": 1, "b": [1, 2]}');
    expect(toJson(qdict({ return: qdict(), id: 2 }))).toBe('{"return": {}, "id": 2}');
    expect(toJson([])).toBe('[]');
    expect(toJson([null, true, false, 'x'])).toBe('[null, true, false, "x"]');
  });

  it('keeps insertion order of keys', () => {
    const d = qdict();
    d.z = 1;
    d.a = 2;
    expect(toJson(d)).toBe('{"z": 1, "a": 2}');
  });

  it('reproduces a QMP greeting from the reference transcript byte for byte', () => {
    const greeting = qdict({
      QMP: qdict({
        version: qdict({
          qemu: qdict({ micro: 22, minor: 2, major: 7 }),
          package: 'Debian 1:7.2+dfsg-7+deb12u18+b3',
        }),
        capabilities: ['oob'],
      }),
    });
    expect(toJson(greeting)).toBe(
      '{"QMP": {"version": {"qemu": {"micro": 22, "minor": 2, "major": 7}, "package": "Debian 1:7.2+dfsg-7+deb12u18+b3"}, "capabilities": ["oob"]}}',
    );
  });

  it('treats __proto__ as an ordinary key', () => {
    const d = qdict();
    d['__proto__'] = 1;
    expect(toJson(d)).toBe('{"__proto__": 1}');
  });
});

describe('toJson pretty form', () => {
  it('indents by four spaces and breaks even empty containers', () => {
    const v = qdict({ a: 1, b: [1, 2], c: qdict(), d: [] });
    expect(toJson(v, true)).toBe(
      [
        '{',
        '    "a": 1,',
        '    "b": [',
        '        1,',
        '        2',
        '    ],',
        '    "c": {',
        '    },',
        '    "d": [',
        '    ]',
        '}',
      ].join('\n'),
    );
    expect(toJson(qdict(), true)).toBe('{\n}');
    expect(toJson(42, true)).toBe('42');
  });
});

describe('numbers', () => {
  it('prints integers digit-exact, bigint included', () => {
    expect(toJson(18446744073709551615n)).toBe('18446744073709551615');
    expect(toJson(-9223372036854775808n)).toBe('-9223372036854775808');
    expect(toJson(9007199254740991)).toBe('9007199254740991');
    expect(toJson(-5)).toBe('-5');
  });

  it('prints doubles like printf("%.17g")', () => {
    expect(formatDouble(0.1)).toBe('0.10000000000000001');
    expect(formatDouble(1.5)).toBe('1.5');
    expect(formatDouble(1e20)).toBe('1e+20');
    expect(formatDouble(1e-5)).toBe('1.0000000000000001e-05');
    expect(formatDouble(0.0001)).toBe('0.0001');
    expect(formatDouble(1 / 3)).toBe('0.33333333333333331');
    expect(formatDouble(1e17)).toBe('1e+17');
    expect(formatDouble(1e16)).toBe('10000000000000000');
    expect(formatDouble(-2.5e-300)).toBe('-2.5e-300');
    expect(formatDouble(5e-324)).toBe('4.9406564584124654e-324');
    // An exact tie at the 17th digit rounds to even, as glibc does (JS alone would round up).
    expect(formatDouble(1000000000000000.25)).toBe('1000000000000000.2');
    expect(formatDouble(1000000000000000.75)).toBe('1000000000000000.8');
    expect(formatDouble(1.7976931348623157e308)).toBe('1.7976931348623157e+308');
    expect(toJson(2.5)).toBe('2.5');
    expect(toJson(2 ** 60)).toBe('1.152921504606847e+18');
  });

  it('prints non-finite doubles as glibc does', () => {
    expect(toJson(Infinity)).toBe('inf');
    expect(toJson(-Infinity)).toBe('-inf');
    expect(toJson(NaN)).toMatch(/^-?nan$/);
    expect(toJson(-0)).toBe('-0');
  });
});

describe('string escaping', () => {
  it('escapes like quoted_str()', () => {
    expect(quoteJsonString('a"b\\c')).toBe('"a\\"b\\\\c"');
    expect(quoteJsonString('\b\f\n\r\t')).toBe('"\\b\\f\\n\\r\\t"');
    expect(quoteJsonString('\u0001\u001f\u007f')).toBe('"\\u0001\\u001F\\u007F"');
    expect(quoteJsonString('\u0000')).toBe('"\\u0000"');
    expect(quoteJsonString('é€')).toBe('"\\u00E9\\u20AC"');
    expect(quoteJsonString('😀')).toBe('"\\uD83D\\uDE00"');
    expect(quoteJsonString('/')).toBe('"/"');
    expect(quoteJsonString("'")).toBe('"\'"');
  });

  it('replaces what QEMU cannot hold with \\uFFFD', () => {
    expect(quoteJsonString('\ud800x')).toBe('"\\uFFFDx"');
    expect(quoteJsonString('x\udc00')).toBe('"x\\uFFFD"');
    expect(quoteJsonString('\ufffe\uffff\ufdd0')).toBe('"\\uFFFD\\uFFFD\\uFFFD"');
    expect(quoteJsonString('\u{1fffe}')).toBe('"\\uFFFD"');
  });
});

/** Arbitrary QObjects whose text form parses back to an equal value. */
const validString = fc.string({ unit: 'binary', maxLength: 12 }).filter(
  (s) =>
    ![...s].some((ch) => {
      const cp = ch.codePointAt(0)!;
      return (cp >= 0xfdd0 && cp <= 0xfdef) || (cp & 0xfffe) === 0xfffe;
    }),
);
const qobjectArb: fc.Arbitrary<QObject> = fc.letrec<{ v: QObject }>((tie) => ({
  v: fc.oneof(
    { depthSize: 'small' },
    fc.constant(null),
    fc.boolean(),
    fc.integer(),
    fc.bigInt({ min: -(2n ** 63n), max: 2n ** 64n - 1n }).filter((b) => b < -(2n ** 53n) || b > 2n ** 53n),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    validString,
    fc.array(tie('v'), { maxLength: 4 }),
    fc.array(fc.tuple(validString, tie('v')), { maxLength: 4 }).map((entries) => {
      const d = qdict();
      for (const [k, val] of entries) d[k] = val;
      return d;
    }),
  ),
})).v;

describe('round trip', () => {
  it('parseJson(toJson(v)) equals v, compact and pretty', () => {
    fc.assert(
      fc.property(qobjectArb, (v) => {
        expect(qobjectEqual(parseJson(toJson(v)), v)).toBe(true);
        expect(qobjectEqual(parseJson(toJson(v, true)), v)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });
});
