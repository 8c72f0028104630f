/**
 * Field rules shared by the New VM wizard and the configuration editor. Main checks the same rules
 * again (it never trusts the UI); here they give messages while the user types.
 */
import { RESERVED_CHARDEV_ID } from '../../../main/api/contract.js';

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

/** The `id=` of a -chardev option string, if it has one. */
export function chardevId(option: string): string | undefined {
  return /(?:^|,)id=([^,]*)/.exec(option)?.[1];
}

/** The backends a VM's host channel can use (stdio is the serial console's). */
export const CHARDEV_BACKENDS = ['socket', 'file', 'null', 'ringbuf', 'memory'] as const;

/**
 * A `-chardev` option string as the configuration takes it: a backend, an id devices can name, and
 * not an id the engine uses itself. Main checks the options in full with the engine's parser.
 */
export function chardevError(c: string, taken: readonly string[] = []): string | null {
  const t = c.trim();
  if (t === '') return 'Enter a chardev, e.g. socket,id=channel0,path=/tmp/channel0.sock,server=on,wait=off.';
  const backend = t.split(',')[0]!.replace(/^backend=/, '');
  if (!(CHARDEV_BACKENDS as readonly string[]).includes(backend))
    return backend === 'stdio'
      ? "'stdio' is the serial console's; use a socket or file."
      : `'${backend}' is not a chardev backend this engine has (${CHARDEV_BACKENDS.join(', ')}).`;
  const id = chardevId(t);
  if (id === undefined) return 'Give it an id (id=NAME): devices name it with chardev=NAME.';
  if (!/^[A-Za-z][A-Za-z0-9_.-]*$/.test(id))
    return `'${id}' is not an ID: a letter, then letters, digits, “-”, “.” or “_”.`;
  if (RESERVED_CHARDEV_ID.test(id)) return `The id '${id}' is the engine's own (console or monitor).`;
  if (taken.includes(id)) return `A chardev with the id '${id}' is already configured.`;
  return null;
}
