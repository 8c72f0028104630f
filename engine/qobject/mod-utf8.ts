/**
 * QEMU's "modified UTF-8" rules (util/unicode.c), used where bytes become text.
 *
 * QEMU strings are C strings, so U+0000 travels as the overlong pair C0 80. Validation is strict:
 * surrogates, noncharacters, overlong forms (except C0 80) and code points beyond U+10FFFF are invalid.
 * The JSON parser rejects such strings; the JSON writer prints each invalid sequence as \uFFFD, and
 * decoding here follows the same sequence boundaries so error texts look exactly like QEMU's output.
 */

const MIN_CP = [0x80, 0x800, 0x10000, 0x200000, 0x4000000];

/** True when QEMU considers `cp` a valid Unicode scalar value (what mod_utf8_encode accepts). */
export function isValidCodepoint(cp: number): boolean {
  if (cp < 0 || cp > 0x10ffff) return false;
  if ((cp >= 0xfdd0 && cp <= 0xfdef) || (cp & 0xfffe) === 0xfffe) return false;
  if (cp >= 0xd800 && cp <= 0xdfff) return false;
  return true;
}

/**
 * Decode one sequence at `bytes[pos]` (bytes past `limit` read as NUL, like the C terminator).
 * Returns the code point (-1 when invalid) and the end offset QEMU's mod_utf8_codepoint() reports.
 */
export function modUtf8Codepoint(
  bytes: Uint8Array,
  pos: number,
  limit = bytes.length,
): { cp: number; end: number } {
  const at = (i: number): number => (i < limit ? bytes[i]! : 0);
  const first = at(pos);
  if (first === 0) return { cp: -1, end: pos };
  if (first < 0x80) return { cp: first, end: pos + 1 };
  if (first >= 0xfe || (first & 0x40) === 0) return { cp: -1, end: pos + 1 };
  let len = 0;
  let mask = 0x80;
  for (; first & mask; mask >>= 1) len++;
  let cp = first & (mask - 1);
  let p = pos + 1;
  for (let i = 1; i < len; i++) {
    const b = at(p);
    if ((b & 0xc0) !== 0x80) return { cp: -1, end: p };
    p++;
    cp = cp * 64 + (b & 0x3f);
  }
  if (cp > 0x10ffff) cp = -1;
  else if ((cp >= 0xfdd0 && cp <= 0xfdef) || (cp & 0xfffe) === 0xfffe) cp = -1;
  else if (cp >= 0xd800 && cp <= 0xdfff) cp = -1;
  else if (cp < MIN_CP[len - 2]! && !(cp === 0 && len === 2)) cp = -1;
  return { cp, end: p };
}

/**
 * Bytes -> JS string the way QEMU's JSON writer would render them: each invalid sequence becomes
 * U+FFFD, C0 80 becomes U+0000. Stops at the first NUL byte, as "%s" on a C string does.
 */
export function decodeCString(bytes: Uint8Array, start = 0, end = bytes.length): string {
  let out = '';
  let run = start;
  let pos = start;
  const flush = (to: number): void => {
    if (to > run) out += asciiSlice(bytes, run, to);
  };
  while (pos < end) {
    const b = bytes[pos]!;
    if (b === 0) break;
    if (b < 0x80) {
      pos++;
      continue;
    }
    flush(pos);
    const { cp, end: next } = modUtf8Codepoint(bytes, pos, end);
    out += cp < 0 ? '\ufffd' : String.fromCodePoint(cp);
    pos = next > pos ? next : pos + 1;
    run = pos;
  }
  flush(pos);
  return out;
}

/** Decode a run of ASCII bytes without per-byte string concatenation. */
export function asciiSlice(bytes: Uint8Array, start: number, end: number): string {
  if (end - start <= 24) {
    // Short tokens (numbers, keywords) are the common case: avoid creating a subarray.
    let t = '';
    for (let i = start; i < end; i++) t += String.fromCharCode(bytes[i]!);
    return t;
  }
  let s = '';
  const CHUNK = 8192;
  for (let i = start; i < end; i += CHUNK) {
    s += String.fromCharCode.apply(null, bytes.subarray(i, Math.min(end, i + CHUNK)) as unknown as number[]);
  }
  return s;
}
