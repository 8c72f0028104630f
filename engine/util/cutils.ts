/**
 * Number parsing and printing with QEMU's rules (util/cutils.c), because command-line and QMP users
 * see exactly which spellings are accepted and how sizes are printed.
 *
 *  - qemuStrtoi64/qemuStrtou64: C strtoll/strtoull semantics (leading whitespace, sign, base 0 means
 *    0x.. hex / 0.. octal / decimal; strtoull accepts "-1" and wraps it), plus QEMU's wrapper rules:
 *    no digits -> EINVAL, trailing characters -> EINVAL unless the caller wants the end offset,
 *    overflow -> ERANGE;
 *  - qemuStrtosz: sizes like "512", "4k", "1.5G", "0x1000" (QEMU 7.2's do_strtosz: exact 64.64
 *    fixed-point scaling, fractions need a scale, no negatives, no exponents, 16 EiB overflows);
 *  - sizeToStr: "512 B", "1 KiB", "0.977 KiB", as size_to_str() prints with "%0.3g";
 *  - printfG: C's "%.<n>g" (glibc rounding), used for those and for JSON doubles.
 */

export type StrtoError = 'EINVAL' | 'ERANGE';

export interface StrtoResult<T> {
  /** 0 on success, else the errno QEMU's wrapper would return. */
  readonly error: StrtoError | null;
  /** The converted value (on ERANGE, the clamped value C stores). */
  readonly value: T;
  /** Offset just past what was converted (the start when nothing was). */
  readonly end: number;
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const UINT64_MAX = 2n ** 64n - 1n;
const TWO64 = 2n ** 64n;

function isCSpace(c: string | undefined): boolean {
  return c === ' ' || c === '\t' || c === '\n' || c === '\v' || c === '\f' || c === '\r';
}

function digitValue(c: string | undefined): number {
  if (c === undefined) return 99;
  const code = c.charCodeAt(0);
  if (code >= 48 && code <= 57) return code - 48;
  if (code >= 97 && code <= 122) return code - 87;
  if (code >= 65 && code <= 90) return code - 55;
  return 99;
}

/** The digits part of strtoll/strtoull: magnitude, sign and where conversion stopped. */
function scanInteger(
  s: string,
  start: number,
  base: number,
): { negative: boolean; magnitude: bigint; end: number } | null {
  let i = start;
  while (isCSpace(s[i])) i++;
  let negative = false;
  if (s[i] === '+' || s[i] === '-') {
    negative = s[i] === '-';
    i++;
  }
  if (
    (base === 0 || base === 16) &&
    s[i] === '0' &&
    (s[i + 1] === 'x' || s[i + 1] === 'X') &&
    digitValue(s[i + 2]) < 16
  ) {
    base = 16;
    i += 2;
  } else if (base === 0) {
    base = s[i] === '0' ? 8 : 10;
  }
  const digitsStart = i;
  let magnitude = 0n;
  // Accumulate in chunks of plain numbers to keep BigInt work small for ordinary inputs.
  while (digitValue(s[i]) < base) {
    let chunk = 0;
    let scale = 1;
    for (let k = 0; k < 8 && digitValue(s[i]) < base; k++, i++) {
      chunk = chunk * base + digitValue(s[i]);
      scale *= base;
    }
    magnitude = magnitude * BigInt(scale) + BigInt(chunk);
  }
  if (i === digitsStart) return null;
  return { negative, magnitude, end: i };
}

/** Apply QEMU's check_strtox_error(): no conversion, or leftovers when the whole string must go. */
function finish<T>(
  s: string,
  value: T,
  end: number,
  converted: boolean,
  range: boolean,
  wantEnd: boolean,
): StrtoResult<T> {
  if (!converted) return { error: 'EINVAL', value, end: 0 };
  if (!wantEnd && end < s.length) return { error: 'EINVAL', value, end };
  return { error: range ? 'ERANGE' : null, value, end };
}

/** qemu_strtoi64(): strtoll() with QEMU's error rules. `base` 0 auto-detects 0x/0 prefixes. */
export function qemuStrtoi64(s: string, base = 0, wantEnd = false): StrtoResult<bigint> {
  const r = scanInteger(s, 0, base);
  if (!r) return finish(s, 0n, 0, false, false, wantEnd);
  let v = r.negative ? -r.magnitude : r.magnitude;
  let range = false;
  if (v > INT64_MAX) {
    v = INT64_MAX;
    range = true;
  } else if (v < INT64_MIN) {
    v = INT64_MIN;
    range = true;
  }
  return finish(s, v, r.end, true, range, wantEnd);
}

/** qemu_strtou64(): strtoull() with QEMU's error rules; "-1" converts to UINT64_MAX like C does. */
export function qemuStrtou64(s: string, base = 0, wantEnd = false): StrtoResult<bigint> {
  const r = scanInteger(s, 0, base);
  if (!r) return finish(s, 0n, 0, false, false, wantEnd);
  if (r.magnitude > UINT64_MAX) return finish(s, UINT64_MAX, r.end, true, true, wantEnd);
  const v = r.negative ? (TWO64 - r.magnitude) % TWO64 : r.magnitude;
  return finish(s, v, r.end, true, false, wantEnd);
}

const FLOAT_RE =
  /^[ \t\n\v\f\r]*([+-]?)(?:0[xX]((?:[0-9a-fA-F]+\.?[0-9a-fA-F]*|\.[0-9a-fA-F]+))(?:[pP]([+-]?\d+))?|((?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)|(inf(?:inity)?)|(nan(?:\([0-9A-Za-z_]*\))?))/i;

/** qemu_strtod(): strtod() (decimal, hex floats, inf, nan) with QEMU's error rules. */
export function qemuStrtod(s: string, wantEnd = false): StrtoResult<number> {
  const m = FLOAT_RE.exec(s);
  if (!m) return finish(s, 0, 0, false, false, wantEnd);
  const sign = m[1] === '-' ? -1 : 1;
  let v: number;
  let range = false;
  if (m[2] !== undefined) {
    const [intPart = '', fracPart = ''] = m[2].split('.');
    const mantissa = BigInt('0x' + (intPart + fracPart || '0'));
    const exp = Number(m[3] ?? '0') - 4 * fracPart.length;
    v = Number(mantissa) * 2 ** exp;
    range = !Number.isFinite(v) || (v === 0 && mantissa !== 0n);
  } else if (m[4] !== undefined) {
    v = Number(m[4]);
    range = !Number.isFinite(v) || (v === 0 && /[1-9]/.test(m[4].replace(/[eE].*$/, '')));
  } else if (m[5] !== undefined) {
    v = Infinity;
  } else {
    v = NaN;
  }
  if (range && !Number.isFinite(v)) v = Infinity;
  return finish(s, sign * v, m[0].length, true, range, wantEnd);
}

/** qemu_strtod_finite(): as qemuStrtod, but inf and nan are EINVAL (with nothing converted). */
export function qemuStrtodFinite(s: string, wantEnd = false): StrtoResult<number> {
  const r = qemuStrtod(s, wantEnd);
  if (r.error === null && !Number.isFinite(r.value)) return { error: 'EINVAL', value: r.value, end: 0 };
  return r;
}

function suffixMul(c: string | undefined, unit: bigint): bigint {
  switch (c?.toUpperCase()) {
    case 'B':
      return 1n;
    case 'K':
      return unit;
    case 'M':
      return unit ** 2n;
    case 'G':
      return unit ** 3n;
    case 'T':
      return unit ** 4n;
    case 'P':
      return unit ** 5n;
    case 'E':
      return unit ** 6n;
    default:
      return -1n;
  }
}

/**
 * do_strtosz() of QEMU 7.2. `defaultSuffix` applies when no suffix is given ('B' for qemu_strtosz,
 * 'M' for qemu_strtosz_MiB); `unit` is 1024 (or 1000 for qemu_strtosz_metric).
 */
export function qemuStrtosz(
  s: string,
  wantEnd = false,
  defaultSuffix = 'B',
  unit = 1024,
): StrtoResult<bigint> {
  const u = BigInt(unit);
  let error: StrtoError | null;
  let val = 0n;
  let valf = 0n;
  let end: number;
  const out = (): StrtoResult<bigint> => {
    if (!wantEnd && end < s.length) error = 'EINVAL';
    return { error, value: error === null ? val : 0n, end };
  };

  const ip = qemuStrtou64(s, 10, true);
  end = ip.end;
  error = ip.error;
  val = ip.value;
  if (error) return out();
  if (s.slice(0, end).includes('-')) {
    end = 0;
    error = 'EINVAL';
    return out();
  }
  if (val === 0n && (s[end] === 'x' || s[end] === 'X')) {
    const hex = qemuStrtou64(s, 16, true);
    end = hex.end;
    error = hex.error;
    val = hex.value;
    if (error) return out();
    if (s[end] === '.') {
      end = 0;
      error = 'EINVAL';
      return out();
    }
  } else if (s[end] === '.') {
    const f = end;
    const frac = qemuStrtodFinite(s.slice(f), true);
    if (frac.error) {
      // "1.k": no fractional digits; QEMU skips one character past where strtod stopped.
      end = f + frac.end + 1;
    } else {
      const text = s.slice(f, f + frac.end);
      end = f + frac.end;
      if (text.includes('e') || text.includes('E')) {
        end = 0;
        error = 'EINVAL';
        return out();
      }
      // (uint64_t)(fraction * 0x1p64); 1.0 after rounding converts to 0 on x86-64, as in QEMU.
      const scaled = frac.value * 2 ** 64;
      valf = scaled >= 2 ** 64 ? 0n : BigInt(Math.trunc(scaled));
    }
  }
  let mul = suffixMul(s[end], u);
  if (mul > 0n) end++;
  else mul = suffixMul(defaultSuffix, u);
  if (mul === 1n) {
    if (valf !== 0n) {
      end = 0;
      error = 'EINVAL';
      return out();
    }
  } else {
    // Exact 64.64 fixed point times the scale, rounding 0.5 up.
    const product = valf * mul;
    const total = val * mul + (product >> 64n) + ((product >> 63n) & 1n);
    if (total > UINT64_MAX) {
      error = 'ERANGE';
      return out();
    }
    val = total;
  }
  error = null;
  return out();
}

/** qemu_strtoi64(s, NULL, base): the whole string as an int64, or null. */
export function parseInt64(s: string, base = 0): bigint | null {
  const r = qemuStrtoi64(s, base);
  return r.error ? null : r.value;
}

/** qemu_strtou64(s, NULL, base): the whole string as a uint64 ("-1" wraps as in C), or null. */
export function parseUint64(s: string, base = 0): bigint | null {
  const r = qemuStrtou64(s, base);
  return r.error ? null : r.value;
}

/** qemu_strtosz() on the whole string: bytes, 'range' for values of 16 EiB and up, null if malformed. */
export function parseSize(s: string, defaultSuffix = 'B', unit = 1024): bigint | 'range' | null {
  const r = qemuStrtosz(s, false, defaultSuffix, unit);
  if (r.error === 'ERANGE') return 'range';
  return r.error ? null : r.value;
}

/** C's printf("%.<precision>g", v) as glibc prints it (ties round to even on the exact value). */
export function printfG(v: number, precision: number): string {
  if (Number.isNaN(v)) return 'nan';
  if (v === Infinity) return 'inf';
  if (v === -Infinity) return '-inf';
  const P = precision === 0 ? 1 : precision;
  if (v === 0) return Object.is(v, -0) ? '-0' : '0';
  const sign = v < 0 ? '-' : '';
  const a = Math.abs(v);
  // JS rounds exact ties away from zero, glibc to even: check the exact expansion.
  let [digits, X] = splitExponential(a.toExponential(P - 1));
  const [exact, exactX] = splitExponential(a.toExponential(100));
  if (exact[P] === '5' && /^0*$/.test(exact.slice(P + 1)) && Number(exact[P - 1]) % 2 === 0) {
    digits = exact.slice(0, P);
    X = exactX;
  }
  let out: string;
  if (X < -4 || X >= P) {
    const mantissa = stripZeros(digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits);
    out = `${mantissa}e${X < 0 ? '-' : '+'}${Math.abs(X).toString().padStart(2, '0')}`;
  } else if (X >= 0) {
    out = stripZeros(X + 1 < digits.length ? `${digits.slice(0, X + 1)}.${digits.slice(X + 1)}` : digits);
  } else {
    out = stripZeros(`0.${'0'.repeat(-X - 1)}${digits}`);
  }
  return sign + out;
}

/** "d.ddde+X" -> ["dddd", X]. */
function splitExponential(e: string): [string, number] {
  const ePos = e.indexOf('e');
  const mantissa = e.slice(0, ePos);
  return [mantissa.replace('.', ''), Number(e.slice(ePos + 1))];
}

function stripZeros(s: string): string {
  if (!s.includes('.')) return s;
  s = s.replace(/0+$/, '');
  return s.endsWith('.') ? s.slice(0, -1) : s;
}

const IEC_PREFIXES = ['', 'Ki', 'Mi', 'Gi', 'Ti', 'Pi', 'Ei'];
const SI_PREFIXES = ['a', 'f', 'p', 'n', 'u', 'm', '', 'K', 'M', 'G', 'T', 'P', 'E'];

/** size_to_str(): IEC units, switching up once the integer part would reach 1000 ("0.977 KiB"). */
export function sizeToStr(val: number | bigint): string {
  const v = typeof val === 'bigint' ? Number(val) : val;
  // frexp(v / (1000/1024)) exponent, minus one, in steps of 10 bits.
  const scaled = v / (1000 / 1024);
  const exp = scaled === 0 ? 0 : Math.floor(Math.log2(scaled)) + 1;
  let e = exp;
  // Math.log2 may be off by one near powers of two; fix it against the definition of frexp.
  if (scaled !== 0) {
    while (2 ** (e - 1) > scaled) e--;
    while (2 ** e <= scaled) e++;
  }
  const i = Math.trunc((e - 1) / 10) * 10;
  const div = 2 ** i;
  return `${printfG(v / div, 3)} ${IEC_PREFIXES[i / 10]}B`;
}

/** freq_to_str(): "%0.3g" with an SI prefix, e.g. "10 MHz". */
export function freqToStr(freqHz: number | bigint): string {
  let f = typeof freqHz === 'bigint' ? Number(freqHz) : freqHz;
  let exp10 = 0;
  while (f >= 1000) {
    f /= 1000;
    exp10 += 3;
  }
  return `${printfG(f, 3)} ${SI_PREFIXES[(exp10 + 18) / 3]}Hz`;
}
