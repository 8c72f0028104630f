/** Name helpers shared by the checker and the backends (QEMU's scripts/qapi/common.py). */

const C_WORDS = new Set(
  // C89, C99, C11, GCC, C++ keywords and polluted macro names, as QEMU's c_name() protects them
  (
    'auto break case char const continue default do double else enum extern float for goto if int long ' +
    'register return short signed sizeof static struct switch typedef union unsigned void volatile while ' +
    'inline restrict _Bool _Complex _Imaginary _Alignas _Alignof _Atomic _Generic _Noreturn ' +
    '_Static_assert _Thread_local asm typeof bool catch class const_cast delete dynamic_cast explicit ' +
    'false friend mutable namespace new operator private protected public reinterpret_cast static_cast ' +
    'template this throw true try typeid typename using virtual wchar_t and and_eq bitand bitor compl ' +
    'not not_eq or or_eq xor xor_eq unix errno mips sparc i386 linux'
  ).split(' '),
);

/** Map a QAPI name to a C identifier; with protect, keywords and leading digits get a 'q_' prefix. */
export function cName(name: string, protect = true): string {
  const n = name.replace(/[^A-Za-z0-9_]/g, '_');
  if (protect && (C_WORDS.has(n) || /^[0-9]/.test(n))) return 'q_' + n;
  return n;
}

/** Identifier for generated TypeScript (types and functions keep QEMU's C spelling). */
export function tsName(name: string): string {
  return cName(name, false);
}

/** camelCase method name for a command or event: 'query-status' → queryStatus, DEVICE_DELETED → deviceDeleted. */
export function camelName(name: string): string {
  const parts = name.split(/[-_.]+/).filter((p) => p !== '');
  const isUpper = name === name.toUpperCase();
  return parts
    .map((p, i) => {
      const w = isUpper ? p.toLowerCase() : p;
      return i === 0 ? w.charAt(0).toLowerCase() + w.slice(1) : w.charAt(0).toUpperCase() + w.slice(1);
    })
    .join('')
    .replace(/^(?=[0-9])/, '_');
}

/** A property key as it must be written in TS source. */
export function tsKey(name: string): string {
  return /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(name) ? name : `'${name}'`;
}

/** A string literal for generated TS source. */
export function tsStr(s: string): string {
  return `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}
