import { describe, expect, it } from 'vitest';
import { JsonStreamSplitter, JsonSyntaxError, parseQmpJson, stringifyQmpJson } from './json.js';

describe('parseQmpJson', () => {
  it('keeps integers beyond 2^53 exact as bigint and small ones as number', () => {
    const v = parseQmpJson(
      '{"a": 18446744073709551615, "b": 42, "c": -9007199254740993, "d": 1.5e3}',
    ) as Record<string, unknown>;
    expect(v.a).toBe(18446744073709551615n);
    expect(v.b).toBe(42);
    expect(v.c).toBe(-9007199254740993n);
    expect(v.d).toBe(1500);
  });

  it('makes null-prototype dictionaries, so __proto__ is an ordinary key', () => {
    const v = parseQmpJson('{"__proto__": {"x": 1}}') as Record<string, unknown>;
    expect(Object.getPrototypeOf(v)).toBeNull();
    expect(Object.keys(v)).toEqual(['__proto__']);
  });

  it('decodes string escapes and rejects malformed input', () => {
    expect(parseQmpJson('"a\\n\\u00e9\\"\\\\"')).toBe('a\né"\\');
    expect(() => parseQmpJson('{"a": }')).toThrow(JsonSyntaxError);
    expect(() => parseQmpJson('[1, 2] x')).toThrow(/trailing/);
    expect(() => parseQmpJson('"abc')).toThrow(/unterminated/);
  });

  it('round-trips through stringify', () => {
    const text = '{"execute": "x", "arguments": {"size": 18446744073709551615, "list": [true, null, "s"]}}';
    expect(stringifyQmpJson(parseQmpJson(text))).toBe(text);
  });
});

describe('JsonStreamSplitter', () => {
  it('splits messages arriving in arbitrary pieces, ignoring braces in strings', () => {
    const s = new JsonStreamSplitter();
    const stream = '{"return": {"a": "}{\\"["}}\r\n{"event": "STOP", "data": {}}\r\n[1, [2]]';
    const out: string[] = [];
    for (const ch of stream) out.push(...s.push(ch));
    expect(out).toEqual(['{"return": {"a": "}{\\"["}}', '{"event": "STOP", "data": {}}', '[1, [2]]']);
  });

  it('returns several messages from one chunk', () => {
    const s = new JsonStreamSplitter();
    expect(s.push('{"a":1}{"b":2}\n{"c"')).toEqual(['{"a":1}', '{"b":2}']);
    expect(s.push(':3}')).toEqual(['{"c":3}']);
  });
});
