/**
 * Field rules shared by the New VM wizard and the configuration editor. Main checks the same rules
 * again (it never trusts the UI); here they give messages while the user types.
 */
export const LIMITS = {
  nameMax: 64,
  cpusMax: 64,
  memoryMinMiB: 16,
  memoryMaxMiB: 65536,
  diskMaxMiB: 2 * 1024 * 1024,
};

export function nameError(name: string, taken: readonly string[]): string | null {
  if (name.trim() === '') return 'Give the VM a name.';
  if (name !== name.trim()) return 'The name cannot start or end with a space.';
  if (name.length > LIMITS.nameMax) return `Use at most ${LIMITS.nameMax} characters.`;
  if (/[/\\]/.test(name) || [...name].some((ch) => ch.charCodeAt(0) < 0x20 || ch.charCodeAt(0) === 0x7f))
    return 'The name cannot contain slashes or control characters.';
  if (taken.some((t) => t.toLowerCase() === name.toLowerCase()))
    return `A VM named '${name}' already exists.`;
  return null;
}

export function intError(value: number | string, label: string, min: number, max: number): string | null {
  const n = typeof value === 'number' ? value : Number(value);
  if (typeof value === 'string' && value.trim() === '') return `Enter the ${label}.`;
  if (!Number.isInteger(n)) return `The ${label} must be a whole number.`;
  if (n < min || n > max) return `The ${label} must be between ${min} and ${max}.`;
  return null;
}

export function cpusError(v: number | string): string | null {
  return intError(v, 'number of CPUs', 1, LIMITS.cpusMax);
}

export function memoryError(v: number | string): string | null {
  return intError(v, 'memory size (MiB)', LIMITS.memoryMinMiB, LIMITS.memoryMaxMiB);
}

/** Host paths are handed to the engine: they must be absolute (POSIX or Windows). */
export function pathError(p: string, label: string, required: boolean): string | null {
  if (p.trim() === '') return required ? `Choose the ${label}.` : null;
  if (!(p.startsWith('/') || /^[A-Za-z]:[\\/]/.test(p) || p.startsWith('\\\\')))
    return `The ${label} path must be absolute.`;
  return null;
}

export function deviceError(d: string): string | null {
  if (d.trim() === '') return 'Enter a device, e.g. virtio-rng-device,id=rng0.';
  if (!/^[A-Za-z0-9_.-]+(,.*)?$/.test(d))
    return `'${d}' is not a -device option string (driver[,prop=value...]).`;
  return null;
}
