import { describe, expect, it } from 'vitest';
import {
  freqToStr,
  parseInt64,
  parseSize,
  parseUint64,
  printfG,
  qemuStrtod,
  qemuStrtodFinite,
  qemuStrtoi64,
  qemuStrtosz,
  qemuStrtou64,
  sizeToStr,
} from './cutils.js';

describe('qemuStrtoi64 / qemuStrtou64 (strtoll/strtoull + QEMU error rules)', () => {
  it.each([
    ['0x1f', 31n, 31n],
    ['0X1F', 31n, 31n],
    ['010', 8n, 8n],
    [' +7', 7n, 7n],
    ['-1', -1n, 18446744073709551615n],
    ['-0x10', -16n, 18446744073709551600n],
    ['9223372036854775807', 9223372036854775807n, 9223372036854775807n],
  ])('%j', (text, i64, u64) => {
    expect(qemuStrtoi64(text)).toEqual({ error: null, value: i64, end: text.length });
    expect(qemuStrtou64(text)).toEqual({ error: null, value: u64, end: text.length });
  });

  it('reports overflow as ERANGE with the clamped value', () => {
    expect(qemuStrtoi64('18446744073709551616')).toEqual({ error: 'ERANGE', value: 2n ** 63n - 1n, end: 20 });
    expect(qemuStrtoi64('-9223372036854775809')).toEqual({ error: 'ERANGE', value: -(2n ** 63n), end: 20 });
    expect(qemuStrtou64('18446744073709551616')).toEqual({ error: 'ERANGE', value: 2n ** 64n - 1n, end: 20 });
  });

  it('rejects empty input, no digits and trailing junk unless the end is wanted', () => {
    expect(qemuStrtoi64('').error).toBe('EINVAL');
    expect(qemuStrtoi64('abc')).toEqual({ error: 'EINVAL', value: 0n, end: 0 });
    expect(qemuStrtoi64('12abc')).toMatchObject({ error: 'EINVAL', end: 2 });
    expect(qemuStrtoi64('12abc', 0, true)).toEqual({ error: null, value: 12n, end: 2 });
    // "0x" without hex digits converts the 0 and stops at the x; "08" is octal 0 then junk.
    expect(qemuStrtoi64('0x', 0, true)).toEqual({ error: null, value: 0n, end: 1 });
    expect(qemuStrtoi64('08').error).toBe('EINVAL');
    expect(qemuStrtoi64('08', 10)).toEqual({ error: null, value: 8n, end: 2 });
  });

  it('parseInt64/parseUint64 give null on any error', () => {
    expect(parseInt64('42')).toBe(42n);
    expect(parseInt64('4 2')).toBeNull();
    expect(parseUint64('18446744073709551615')).toBe(18446744073709551615n);
    expect(parseUint64('18446744073709551616')).toBeNull();
    expect(parseUint64('ff', 16)).toBe(255n);
  });
});

describe('qemuStrtod', () => {
  it('parses like strtod', () => {
    expect(qemuStrtod('1.5')).toEqual({ error: null, value: 1.5, end: 3 });
    expect(qemuStrtod('0x1.8p1').value).toBe(3);
    expect(qemuStrtod('-.5e-3x', true)).toEqual({ error: null, value: -0.0005, end: 6 });
    expect(qemuStrtod('1e', true)).toEqual({ error: null, value: 1, end: 1 });
    expect(qemuStrtod('inf').value).toBe(Infinity);
    expect(qemuStrtod('1e999')).toEqual({ error: 'ERANGE', value: Infinity, end: 5 });
    expect(qemuStrtod('1e-400').error).toBe('ERANGE');
    expect(qemuStrtod('x').error).toBe('EINVAL');
  });

  it('qemuStrtodFinite rejects inf and nan', () => {
    expect(qemuStrtodFinite('inf').error).toBe('EINVAL');
    expect(qemuStrtodFinite('NaN').error).toBe('EINVAL');
    expect(qemuStrtodFinite('2.25').value).toBe(2.25);
  });
});

describe('qemuStrtosz / parseSize (QEMU 7.2 do_strtosz)', () => {
  it.each([
    ['0', 0n],
    ['12345', 12345n],
    ['1k', 1024n],
    ['1K', 1024n],
    ['4G', 4n << 30n],
    ['1b', 1n],
    ['1.5k', 1536n],
    ['1.k', 1024n],
    ['2.5K', 2560n],
    ['1.5M', 1572864n],
    ['1.5E', 3n << 59n],
    ['8E', 1n << 63n],
    ['0x10', 16n],
    ['0x10k', 16384n],
    [' 5', 5n],
    ['18446744073709551615', 18446744073709551615n],
  ])('%j = %s bytes', (text, bytes) => {
    expect(parseSize(text)).toBe(bytes);
  });

  it.each([
    ['1.5'],
    ['0.5'],
    ['1.1b'],
    ['-1'],
    ['1e3'],
    ['1.5e3'],
    ['0x1.8'],
    ['.5k'],
    ['abc'],
    [''],
    ['1 k'],
    ['1kB'],
    ['0x'],
  ])('%j is invalid', (text) => {
    expect(parseSize(text)).toBeNull();
  });

  it('16 EiB and more is out of range', () => {
    expect(parseSize('16E')).toBe('range');
    expect(parseSize('99999999999999999999')).toBe('range');
    expect(parseSize('99999999999999999999k')).toBeNull(); // ERANGE, then the k is junk
  });

  it('rounds the scaled fraction half up', () => {
    // 0.0005 KiB = 0.512 bytes -> 1 byte; 0.0004 KiB = 0.4096 -> 0.
    expect(parseSize('0.0005k')).toBe(1n);
    expect(parseSize('0.0004k')).toBe(0n);
  });

  it('supports a default suffix and metric units', () => {
    expect(parseSize('512', 'M')).toBe(512n << 20n);
    expect(parseSize('1.5', 'M')).toBe(1572864n);
    expect(parseSize('1k', 'B', 1000)).toBe(1000n);
  });

  it('reports where parsing stopped when asked', () => {
    expect(qemuStrtosz('4k,rest', true)).toEqual({ error: null, value: 4096n, end: 2 });
    expect(qemuStrtosz('x', true)).toEqual({ error: 'EINVAL', value: 0n, end: 0 });
  });
});

describe('printing', () => {
  it('printfG matches C %g', () => {
    expect(printfG(1, 3)).toBe('1');
    expect(printfG(0.9765625, 3)).toBe('0.977');
    expect(printfG(954.0, 3)).toBe('954');
    expect(printfG(1234.5, 3)).toBe('1.23e+03');
    expect(printfG(0.0001234, 3)).toBe('0.000123');
    expect(printfG(0.00001234, 3)).toBe('1.23e-05');
    expect(printfG(2.5, 1)).toBe('2'); // tie to even
    expect(printfG(3.5, 1)).toBe('4');
  });

  it('sizeToStr prints like size_to_str()', () => {
    expect(sizeToStr(0)).toBe('0 B');
    expect(sizeToStr(512)).toBe('512 B');
    expect(sizeToStr(999)).toBe('999 B');
    expect(sizeToStr(1000)).toBe('0.977 KiB');
    expect(sizeToStr(1024)).toBe('1 KiB');
    expect(sizeToStr(1536)).toBe('1.5 KiB');
    expect(sizeToStr(256 * 1024 * 1024)).toBe('256 MiB');
    expect(sizeToStr(1e9)).toBe('954 MiB');
    expect(sizeToStr(2n ** 64n - 1n)).toBe('16 EiB');
  });

  it('freqToStr prints like freq_to_str()', () => {
    expect(freqToStr(10_000_000)).toBe('10 MHz');
    expect(freqToStr(999)).toBe('999 Hz');
    expect(freqToStr(1_843_200)).toBe('1.84 MHz');
  });
});
