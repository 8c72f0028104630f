import { describe, expect, it } from 'vitest';
import { StringInputVisitor } from './string-input-visitor.js';
import { StringOutputVisitor } from './string-output-visitor.js';
import { QapiError } from '../error.js';
import type { Visitor } from '../visitor.js';

function errorOf(fn: () => unknown): QapiError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(QapiError);
    return e as QapiError;
  }
  throw new Error('no error');
}

/** Visit a list of integers the way generated code does. */
function visitIntList(
  v: Visitor,
  name: string | null,
  obj?: (number | bigint)[],
  unsigned = false,
): (number | bigint)[] {
  const n = v.startList(name, obj?.length);
  const out: (number | bigint)[] = [];
  for (let i = 0; i < n; i++) out.push(unsigned ? v.typeUint64(null, obj?.[i]) : v.typeInt64(null, obj?.[i]));
  v.checkList();
  v.endList();
  return out;
}

function print(fn: (v: StringOutputVisitor) => void, human: boolean): string {
  const v = new StringOutputVisitor(human);
  fn(v);
  return v.result();
}

describe('StringInputVisitor scalars', () => {
  it('parses integers with C prefixes and rejects junk', () => {
    expect(new StringInputVisitor('42').typeInt64('x')).toBe(42);
    expect(new StringInputVisitor('0x2a').typeInt64('x')).toBe(42);
    expect(new StringInputVisitor('-010').typeInt64('x')).toBe(-8);
    expect(new StringInputVisitor('18446744073709551615').typeUint64('x')).toBe(18446744073709551615n);
    expect(new StringInputVisitor('-1').typeUint64('x')).toBe(18446744073709551615n);
    expect(errorOf(() => new StringInputVisitor('4x').typeInt64('x')).message).toBe(
      "Parameter 'x' expects int64",
    );
    expect(errorOf(() => new StringInputVisitor('').typeUint64(null)).message).toBe(
      "Parameter 'null' expects uint64",
    );
    expect(errorOf(() => new StringInputVisitor('200').typeInt8('x')).message).toBe(
      "Parameter 'x' expects int8_t",
    );
    expect(new StringInputVisitor('65535').typeUint16('x')).toBe(65535);
  });

  it('parses sizes like parse_option_size()', () => {
    expect(new StringInputVisitor('1G').typeSize('size')).toBe(2 ** 30);
    expect(new StringInputVisitor('1.5k').typeSize('size')).toBe(1536);
    const bad = errorOf(() => new StringInputVisitor('lots').typeSize('size'));
    expect(bad.message).toBe("Parameter 'size' expects a non-negative number below 2^64");
    expect(bad.hint).toBe(
      'Optional suffix k, M, G, T, P or E means kilo-, mega-, giga-, tera-, peta-\nand exabytes, respectively.\n',
    );
    expect(errorOf(() => new StringInputVisitor('16E').typeSize('size')).message).toBe(
      "Value '16E' is out of range for parameter 'size'",
    );
  });

  it('parses booleans, numbers, strings, null and enums', () => {
    expect(new StringInputVisitor('yes').typeBool('b')).toBe(true);
    expect(new StringInputVisitor('n').typeBool('b')).toBe(false);
    expect(errorOf(() => new StringInputVisitor('ON').typeBool('b')).message).toBe(
      "Parameter 'b' expects boolean (on/off)",
    );
    expect(new StringInputVisitor('1.5e2').typeNumber('n')).toBe(150);
    expect(errorOf(() => new StringInputVisitor('nan').typeNumber('n')).message).toBe(
      "Invalid parameter type for 'n', expected: number",
    );
    expect(new StringInputVisitor('a,b').typeStr('s')).toBe('a,b');
    expect(new StringInputVisitor('').typeNull('z')).toBeNull();
    expect(errorOf(() => new StringInputVisitor('x').typeNull('z')).message).toBe(
      "Invalid parameter type for 'z', expected: null",
    );
    expect(new StringInputVisitor('auto').typeEnum('e', ['on', 'auto'])).toBe('auto');
    expect(errorOf(() => new StringInputVisitor('bogus').typeEnum('e', ['on'])).message).toBe(
      "Parameter 'e' does not accept value 'bogus'",
    );
  });

  it('cannot read structs or alternates', () => {
    expect(() => new StringInputVisitor('x').startStruct(null)).toThrow();
    expect(() => new StringInputVisitor('x').startAlternate(null)).toThrow();
  });
});

describe('StringInputVisitor integer lists', () => {
  it('expands values and ranges in order', () => {
    expect(visitIntList(new StringInputVisitor('1-3,5,0x10'), 'l')).toEqual([1, 2, 3, 5, 16]);
    expect(visitIntList(new StringInputVisitor('7'), 'l')).toEqual([7]);
    expect(visitIntList(new StringInputVisitor(''), 'l')).toEqual([]);
    expect(visitIntList(new StringInputVisitor('-2--1'), 'l')).toEqual([-2, -1]);
    expect(
      visitIntList(new StringInputVisitor('18446744073709551614-18446744073709551615'), 'l', undefined, true),
    ).toEqual([18446744073709551614n, 18446744073709551615n]);
    expect(visitIntList(new StringInputVisitor('0-65535'), 'l')).toHaveLength(65536);
  });

  it.each([
    ['1,x', 'list of int64 values or ranges'],
    ['3-1', 'list of int64 values or ranges'],
    ['0-65536', 'list of int64 values or ranges'],
    ['1-2x', 'list of int64 values or ranges'],
    ['1;2', 'list of int64 values or ranges'],
  ])('%j is rejected', (text, what) => {
    expect(errorOf(() => visitIntList(new StringInputVisitor(text), 'l')).message).toBe(
      `Parameter 'null' expects ${what}`,
    );
  });

  it('uint64 lists report their own type', () => {
    expect(errorOf(() => visitIntList(new StringInputVisitor('1,a'), 'l', undefined, true)).message).toBe(
      "Parameter 'null' expects list of uint64 values or ranges",
    );
  });

  it('checkList() complains when elements are left, visiting too many too', () => {
    const v = new StringInputVisitor('1-3');
    expect(v.startList('l')).toBe(3);
    v.typeInt64(null);
    expect(errorOf(() => v.checkList()).message).toBe('Fewer list elements expected');
    const w = new StringInputVisitor('1');
    w.startList('l');
    w.typeInt64(null);
    expect(errorOf(() => w.typeInt64(null)).message).toBe('Fewer list elements expected');
  });
});

describe('StringOutputVisitor', () => {
  it('prints integers, human mode with hex', () => {
    expect(print((v) => v.typeInt64('x', 42), false)).toBe('42');
    expect(print((v) => v.typeInt32('x', 42), true)).toBe('42 (0x2a)');
    expect(print((v) => v.typeInt64('x', -1), true)).toBe('-1 (0xffffffffffffffff)');
    // QEMU prints uint64 through int64.
    expect(print((v) => v.typeUint64('x', 18446744073709551615n), false)).toBe('-1');
    expect(print((v) => v.typeUint8('x', 8), true)).toBe('8 (0x8)');
  });

  it('prints integer lists as merged ranges', () => {
    expect(print((v) => visitIntList(v, 'l', [1, 2, 3, 5]), false)).toBe('1-3,5');
    expect(print((v) => visitIntList(v, 'l', [1, 2, 3, 5]), true)).toBe('1-3,5 (0x1-0x3,0x5)');
    expect(print((v) => visitIntList(v, 'l', [3, 1, 2]), false)).toBe('1-3');
    expect(print((v) => visitIntList(v, 'l', [5, 1]), false)).toBe('1,5');
    expect(print((v) => visitIntList(v, 'l', [0, -1]), false)).toBe('0,-1');
    expect(print((v) => visitIntList(v, 'l', [7]), true)).toBe('7 (0x7)');
    expect(print((v) => visitIntList(v, 'l', []), false)).toBe('');
  });

  it('prints sizes with size_to_str() in human mode, as info qtree shows', () => {
    expect(print((v) => v.typeSize('s', 4294967295), true)).toBe('4294967295 (4 GiB)');
    expect(print((v) => v.typeSize('s', 512), true)).toBe('512 (512 B)');
    expect(print((v) => v.typeSize('s', 0), true)).toBe('0 (0 B)');
    expect(print((v) => v.typeSize('s', 1536), false)).toBe('1536');
  });

  it('prints other scalars', () => {
    expect(print((v) => v.typeBool('b', true), true)).toBe('true');
    expect(print((v) => v.typeStr('s', 'auto'), true)).toBe('"auto"');
    expect(print((v) => v.typeStr('s', 'auto'), false)).toBe('auto');
    expect(print((v) => v.typeEnum('e', ['auto'], 'auto'), true)).toBe('"auto"');
    expect(print((v) => v.typeNumber('n', 0.1), false)).toBe('0.10000000000000001');
    expect(print((v) => v.typeNull('z'), true)).toBe('<null>');
    expect(print((v) => v.typeNull('z'), false)).toBe('');
  });

  it('joins lists of strings and omits structs', () => {
    const strs = (v: Visitor, l: string[]) => {
      const n = v.startList('l', l.length);
      for (let i = 0; i < n; i++) v.typeStr(null, l[i]);
      v.endList();
    };
    expect(print((v) => strs(v, ['a', 'b', 'c']), false)).toBe('a, b, c');
    expect(print((v) => strs(v, ['a', 'b']), true)).toBe('"a", "b"');
    const struct = (v: Visitor) => {
      v.startStruct(null);
      v.typeInt64('x', 1);
      v.endStruct();
    };
    expect(print((v) => struct(v), false)).toBe('<omitted>');
    expect(
      print((v) => {
        v.startList('l', 2);
        struct(v);
        struct(v);
        v.endList();
      }, false),
    ).toBe('<omitted>, <omitted>');
  });

  it('string output then string input gives the list back', () => {
    const values = [9, 1, 2, 3, 7, 8, -4];
    const text = print((v) => visitIntList(v, 'l', values), false);
    expect(text).toBe('1-3,7-9,-4');
    expect(visitIntList(new StringInputVisitor(text), 'l')).toEqual([1, 2, 3, 7, 8, 9, -4]);
  });
});
