import { describe, expect, it } from 'vitest';
import { parseJson } from './json-parser.js';
import { QapiError } from '../qapi/error.js';
import { isQDict } from './qobject.js';

function errorOf(text: string | Uint8Array): string {
  try {
    parseJson(text);
  } catch (e) {
    expect(e).toBeInstanceOf(QapiError);
    expect((e as QapiError).errorClass).toBe('GenericError');
    return (e as Error).message;
  }
  throw new Error(`no error for ${String(text)}`);
}

describe('parseJson values', () => {
  it('parses scalars, lists and dicts', () => {
    expect(parseJson('{"a": [1, 2.5, "x", true, false, null]}')).toEqual({
      a: [1, 2.5, 'x', true, false, null],
    });
    expect(parseJson(' \t\r\n42\n')).toBe(42);
    expect(parseJson('-0')).toBe(0);
    expect(Object.is(parseJson('-0'), -0)).toBe(false);
    expect(parseJson('-0.0')).toBe(-0);
    expect(parseJson('1e3')).toBe(1000);
    expect(parseJson('1.5E-2')).toBe(0.015);
  });

  it('makes null-prototype dicts, so __proto__ is an ordinary key', () => {
    const d = parseJson('{"__proto__": {"x": 1}, "constructor": 2}');
    expect(isQDict(d)).toBe(true);
    expect(Object.getPrototypeOf(d)).toBe(null);
    expect(Object.keys(d as object)).toEqual(['__proto__', 'constructor']);
  });

  it("accepts QEMU extensions: single quotes and \\' escapes", () => {
    expect(parseJson("{'execute': 'qmp_capabilities'}")).toEqual({ execute: 'qmp_capabilities' });
    expect(parseJson("'it\\'s \"quoted\"'")).toBe('it\'s "quoted"');
    expect(parseJson('"\\\'"')).toBe("'");
  });

  it('keeps integers exact: int64 and uint64 as bigint beyond 2^53, beyond that double', () => {
    expect(parseJson('9007199254740991')).toBe(9007199254740991);
    expect(parseJson('9007199254740993')).toBe(9007199254740993n);
    expect(parseJson('18446744073709551615')).toBe(18446744073709551615n);
    expect(parseJson('-9223372036854775808')).toBe(-9223372036854775808n);
    expect(parseJson('-9223372036854775809')).toBe(-9223372036854775808); // a double now
    expect(typeof parseJson('18446744073709551616')).toBe('number');
  });

  it('decodes escapes and UTF-8 like parse_string()', () => {
    expect(parseJson('"\\b\\f\\n\\r\\t\\/\\\\\\""')).toBe('\b\f\n\r\t/\\"');
    expect(parseJson('"\\u00e9\\u20AC"')).toBe('é€');
    expect(parseJson('"\\ud83d\\ude00"')).toBe('😀');
    expect(parseJson('"\\u0000"')).toBe('\u0000');
    expect(parseJson('"héllo €😀"')).toBe('héllo €😀');
    // C0 80 is modified UTF-8 for U+0000.
    expect(parseJson(new Uint8Array([0x22, 0xc0, 0x80, 0x22]))).toBe('\u0000');
  });
});

describe('parseJson errors carry QEMU texts', () => {
  it.each([
    ['{"execute": }', 'JSON parse error, expecting value'],
    ['[1, ]', 'JSON parse error, expecting value'],
    ['{"a" 1}', 'JSON parse error, missing : in object pair'],
    ['{1: 2}', 'JSON parse error, key is not a string in object'],
    ['{"a": 1 "b": 2}', 'JSON parse error, expected separator in dict'],
    ['[1 2]', 'JSON parse error, expected separator in list'],
    ['{"a": 1, "a": 2}', 'JSON parse error, duplicate key'],
    ['[', 'JSON parse error, premature EOI'],
    ['{"a": 1', 'JSON parse error, premature EOI'],
    ['nul', "JSON parse error, invalid keyword 'nul'"],
    ['"\\x"', 'JSON parse error, invalid escape sequence in string'],
    ['"\\uD800"', 'JSON parse error, \\uD800 is not a valid Unicode character'],
    ['"\\uDC00"', 'JSON parse error, \\uDC00 is not a valid Unicode character'],
    ['"\\uD800\\u0041"', 'JSON parse error, \\uD800 is not a valid Unicode character'],
    ['"\\uFFFE"', 'JSON parse error, \\uFFFE is not a valid Unicode character'],
    ['"\\u12"', 'JSON parse error, \\u12" is not a valid Unicode character'],
    ['"\\uZZZZ"', 'JSON parse error, \\uZZZZ is not a valid Unicode character'],
    ['01', "JSON parse error, stray '01'"],
    ['"abc', `JSON parse error, stray '"abc'`],
    ['-', "JSON parse error, stray '-'"],
    ['1.', "JSON parse error, stray '1.'"],
    ['@', "JSON parse error, stray '@'"],
    ['TRUE', "JSON parse error, stray 'T'"],
    ['"a\tb"', `JSON parse error, stray '"a\t'`],
    ['', 'Expecting a JSON value'],
    ['   ', 'Expecting a JSON value'],
    ['1 2', 'Expecting at most one JSON value'],
    ['{} {}', 'Expecting at most one JSON value'],
  ])('%j -> %s', (text, message) => {
    expect(errorOf(text)).toBe(message);
  });

  it('rejects invalid UTF-8 inside strings', () => {
    const bad = (bytes: number[]): Uint8Array => new Uint8Array([0x22, ...bytes, 0x22]);
    expect(errorOf(bad([0x80]))).toBe('JSON parse error, invalid UTF-8 sequence in string');
    expect(errorOf(bad([0xc3]))).toBe('JSON parse error, invalid UTF-8 sequence in string');
    expect(errorOf(bad([0xe0, 0x80, 0xaf]))).toBe('JSON parse error, invalid UTF-8 sequence in string'); // overlong
    expect(errorOf(bad([0xed, 0xa0, 0x80]))).toBe('JSON parse error, invalid UTF-8 sequence in string'); // surrogate
    expect(errorOf(bad([0xef, 0xbf, 0xbe]))).toBe('JSON parse error, invalid UTF-8 sequence in string'); // U+FFFE
    expect(errorOf(bad([0xf4, 0x90, 0x80, 0x80]))).toBe('JSON parse error, invalid UTF-8 sequence in string');
  });

  it('reports a 0xFF byte as a stray token, shown as U+FFFD', () => {
    expect(errorOf(new Uint8Array([0xff]))).toBe("JSON parse error, stray '\ufffd'");
    expect(errorOf(new Uint8Array([0x22, 0x61, 0xff]))).toBe(`JSON parse error, stray '"a\ufffd'`);
  });

  it('the first error wins', () => {
    expect(errorOf('@ 1')).toBe("JSON parse error, stray '@'");
    expect(errorOf('[1 2] @')).toBe('JSON parse error, expected separator in list');
  });
});
