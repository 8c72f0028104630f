/**
 * The "Add device" dialog's model, with no per-device code: the device list (search, available types
 * first, the others with the engine's reason) and a form generated from the type's property specs,
 * one input per property kind, validated by the kind's rules (QEMU's integer ranges, size suffixes,
 * enum values, identifiers). Only properties the user changed from their default are sent.
 */
import type { DevicePropertySpec, DeviceTypeInfo } from '../../../main/api/contract.js';

/** Values as the inputs hold them: text for everything but checkboxes. */
export type FieldValue = string | boolean;

export interface DeviceForm {
  driver: string;
  id: string;
  keep: boolean;
  bus: string;
  values: Record<string, FieldValue>;
  /** Size of the new image when a block backend property is set to NEW_DISK. */
  newDiskMiB: number;
}

/** A block backend property's choice "a new image" (no real node name starts with '@'). */
export const NEW_DISK = '@new-disk';
/** A chardev backend property's choice "a new host socket" (no chardev id starts with '@'). */
export const NEW_CHARDEV = '@new-chardev';
const MAX_DISK_MIB = 2 * 1024 * 1024;

export type FormErrors = Record<string, string>;

/** Device list for the dialog: types matching `query` (name or description), available first. */
export function filterDevices(
  devices: readonly DeviceTypeInfo[],
  query: string,
): {
  available: DeviceTypeInfo[];
  unavailable: DeviceTypeInfo[];
} {
  const q = query.trim().toLowerCase();
  const match = (d: DeviceTypeInfo) =>
    !q || d.type.toLowerCase().includes(q) || (d.description ?? '').toLowerCase().includes(q);
  const list = devices.filter(match).sort((a, b) => a.type.localeCompare(b.type));
  return { available: list.filter((d) => d.available), unavailable: list.filter((d) => !d.available) };
}

/** A short id that is not taken: the type's last word plus a number (`device0`, `rng1`, ...). */
export function suggestId(type: string, taken: ReadonlySet<string>): string {
  const words = type
    .split(/[-_.]/)
    .filter((w) => /^[A-Za-z]/.test(w) && !/^(vmstudio|virtio|test|pci|device)$/.test(w));
  const base = (words.at(-1) ?? 'dev').toLowerCase();
  for (let i = 0; ; i++) if (!taken.has(`${base}${i}`)) return `${base}${i}`;
}

/** The input's initial value: the default for checkboxes, empty (= use the default) otherwise. */
export function initialForm(driver: string, specs: readonly DevicePropertySpec[], id: string): DeviceForm {
  const values: Record<string, FieldValue> = {};
  for (const s of specs) values[s.name] = s.kind === 'bool' ? s.defaultValue === true : '';
  return { driver, id, keep: false, bus: '', values, newDiskMiB: 1024 };
}

export function defaultText(s: DevicePropertySpec): string | null {
  if (s.defaultValue === undefined || s.defaultValue === null) return null;
  if (typeof s.defaultValue === 'boolean') return s.defaultValue ? 'on' : 'off';
  return String(s.defaultValue);
}

/**
 * The default as the form shows it. QEMU marks "not set, the device decides" with an integer
 * property's all-ones value (virtserialport's nr, scsi-hd's lun: ~0u; bootindex, scsi-id: -1), so
 * those read "not set" rather than 4294967295.
 */
export function defaultLabel(s: DevicePropertySpec): string | null {
  const text = defaultText(s);
  if (text === null || s.kind !== 'int') return text;
  const unsetMark = s.min === '0' ? s.max : '-1';
  return text === unsetMark ? 'not set' : text;
}

/** QEMU's id_wellformed(). */
export const ID_PATTERN = /^[A-Za-z][A-Za-z0-9_.-]*$/;

const INT_TEXT = /^[+-]?(0[xX][0-9a-fA-F]+|\d+)$/;
/** qemu_strtosz(): a number, optionally with a fraction, and a B/K/M/G/T/P/E suffix (powers of 1024). */
const SIZE_TEXT = /^(\d+(?:\.\d+)?)\s*([bBkKmMgGtTpPeE]?)$/;
const SIZE_SHIFT: Record<string, bigint> = { '': 0n, b: 0n, k: 10n, m: 20n, g: 30n, t: 40n, p: 50n, e: 60n };
const U64_MAX = 18446744073709551615n;

function parseIntText(text: string): bigint | null {
  const t = text.trim();
  if (!INT_TEXT.test(t)) return null;
  const neg = t.startsWith('-');
  const body = t.replace(/^[+-]/, '');
  const v = BigInt(body);
  return neg ? -v : v;
}

/** Bytes of a size text, or null if it is not one. */
export function parseSize(text: string): bigint | null {
  const m = SIZE_TEXT.exec(text.trim());
  if (!m) return null;
  const shift = SIZE_SHIFT[m[2]!.toLowerCase()]!;
  const [whole, frac = ''] = m[1]!.split('.');
  if (frac && shift === 0n) return null; // fractions only make sense with a unit
  const scale = 10n ** BigInt(frac.length);
  return ((BigInt(whole!) * scale + BigInt(frac || '0')) << shift) / scale;
}

/** The message for one field, or null when it is valid (an empty text means "use the default"). */
export function fieldError(s: DevicePropertySpec, value: FieldValue): string | null {
  if (typeof value === 'boolean' || value.trim() === '') return null;
  switch (s.kind) {
    case 'int': {
      const n = parseIntText(value);
      if (n === null) return `${s.name} must be a whole number.`;
      if (n < BigInt(s.min!) || n > BigInt(s.max!))
        return `${s.name} must be between ${s.min} and ${s.max} (${s.type}).`;
      return null;
    }
    case 'size': {
      const n = parseSize(value);
      if (n === null) return `${s.name} must be a size such as 4096, 64K or 1.5M.`;
      if (n > U64_MAX) return `${s.name} is too large (at most 16 EiB).`;
      return null;
    }
    case 'enum':
      return s.enumValues!.includes(value) ? null : `${s.name} must be one of ${s.enumValues!.join(', ')}.`;
    case 'link':
      return s.linkCandidates &&
        s.linkCandidates.length &&
        !s.linkCandidates.includes(value) &&
        !value.startsWith('/')
        ? `${s.name} must name an existing ${s.linkType} object.`
        : null;
    default:
      return null;
  }
}

export function validateForm(
  form: DeviceForm,
  specs: readonly DevicePropertySpec[],
  takenIds: ReadonlySet<string>,
): FormErrors {
  const e: FormErrors = {};
  const id = form.id.trim();
  if (id && !ID_PATTERN.test(id))
    e.id = 'An ID starts with a letter and has only letters, digits, “-”, “.” and “_”.';
  else if (id && takenIds.has(id)) e.id = `A device with the ID '${id}' already exists.`;
  else if (!id && form.keep) e.id = 'Give the device an ID to keep it after restart.';
  for (const s of specs) {
    const msg = fieldError(s, form.values[s.name] ?? '');
    if (msg) e[s.name] = msg;
    else if (form.values[s.name] === NEW_DISK) {
      const n = form.newDiskMiB;
      if (!Number.isInteger(n) || n < 1 || n > MAX_DISK_MIB)
        e[s.name] = `The new image's size is a whole number of MiB, from 1 to ${MAX_DISK_MIB}.`;
    }
  }
  return e;
}

/** The properties to send: those that differ from their defaults (texts trimmed). */
export function requestProperties(
  form: DeviceForm,
  specs: readonly DevicePropertySpec[],
): Record<string, string | boolean> {
  const out: Record<string, string | boolean> = {};
  for (const s of specs) {
    const v = form.values[s.name];
    if (v === undefined) continue;
    if (typeof v === 'boolean') {
      if (v !== (s.defaultValue === true)) out[s.name] = v;
    } else if (v === NEW_DISK || v === NEW_CHARDEV) {
      continue; // sent as `newDisk` / `newChardev` (requestNewDisk, requestNewChardev)
    } else if (v.trim() !== '' && v.trim() !== defaultText(s)) {
      out[s.name] = v.trim();
    }
  }
  return out;
}

/** The new image asked for by a block backend property set to NEW_DISK, if any. */
export function requestNewDisk(
  form: DeviceForm,
  specs: readonly DevicePropertySpec[],
): { property: string; sizeMiB: number } | undefined {
  const s = specs.find(
    (p) => p.kind === 'backend' && p.backend === 'block' && form.values[p.name] === NEW_DISK,
  );
  return s ? { property: s.name, sizeMiB: form.newDiskMiB } : undefined;
}

/** The new host channel asked for by a chardev backend property set to NEW_CHARDEV, if any. */
export function requestNewChardev(
  form: DeviceForm,
  specs: readonly DevicePropertySpec[],
): { property: string } | undefined {
  const s = specs.find(
    (p) => p.kind === 'backend' && p.backend === 'chardev' && form.values[p.name] === NEW_CHARDEV,
  );
  return s ? { property: s.name } : undefined;
}
