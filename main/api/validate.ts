/**
 * Server-side checks of everything the UI sends. The renderer validates too (for friendly messages
 * as the user types), but main never trusts it: a request that breaks a rule is refused here with a
 * message that says which field and why.
 */
import fs from 'node:fs';
import path from 'node:path';
import { chardevBackendFromOpts, parseChardevOpts } from '../../engine/chardev/char-opts.js';
import {
  RESERVED_CHARDEV_ID,
  type DiskRequest,
  type NewVmRequest,
  type VmConfig,
  type VmPatch,
} from './contract.js';

export class ValidationError extends Error {
  readonly errorClass = 'GenericError';
  constructor(message: string) {
    super(message);
    this.name = 'ValidationError';
  }
}

export const LIMITS = {
  nameMax: 64,
  cpusMax: 64,
  memoryMinMiB: 16,
  memoryMaxMiB: 64 * 1024,
  diskMaxMiB: 2 * 1024 * 1024,
  appendMax: 4096,
  notesMax: 20000,
  devicesMax: 64,
  chardevsMax: 32,
} as const;

/** C0 control characters and DEL: never valid in names, paths or option strings. */
function hasControl(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return true;
  }
  return false;
}

export function checkString(v: unknown, what: string): string {
  if (typeof v !== 'string') throw new ValidationError(`Parameter '${what}' expects a string`);
  return v;
}

export function checkInt(v: unknown, what: string, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v))
    throw new ValidationError(`Parameter '${what}' expects an integer`);
  if (v < min || v > max) throw new ValidationError(`Parameter '${what}' must be between ${min} and ${max}`);
  return v;
}

export function checkName(v: unknown): string {
  const name = checkString(v, 'name');
  if (name.trim() === '') throw new ValidationError('The VM needs a name');
  if (name !== name.trim()) throw new ValidationError('The VM name cannot start or end with a space');
  if (name.length > LIMITS.nameMax)
    throw new ValidationError(`The VM name is longer than ${LIMITS.nameMax} characters`);
  if (hasControl(name) || /[/\\]/.test(name)) {
    throw new ValidationError('The VM name cannot contain slashes or control characters');
  }
  return name;
}

function checkMachine(v: unknown): string {
  const m = checkString(v, 'machine');
  if (!/^[a-z0-9][a-z0-9._-]*$/i.test(m)) throw new ValidationError(`Invalid machine type '${m}'`);
  return m;
}

/** An optional file the engine will open: absolute, and present now (QEMU's wording when not). */
function checkFile(v: unknown, what: string, mustExist: boolean): string | null {
  if (v === null || v === undefined || v === '') return null;
  const p = checkString(v, what);
  if (hasControl(p)) throw new ValidationError(`Parameter '${what}' contains control characters`);
  if (!path.isAbsolute(p)) throw new ValidationError(`The ${what} path must be absolute: '${p}'`);
  if (mustExist) {
    try {
      if (!fs.statSync(p).isFile()) throw new ValidationError(`Could not open '${p}': Is a directory`);
    } catch (e) {
      if (e instanceof ValidationError) throw e;
      throw new ValidationError(`Could not open '${p}': No such file or directory`);
    }
  }
  return p;
}

export function checkDevice(v: unknown): string {
  const d = checkString(v, 'devices');
  if (!/^[A-Za-z0-9_.-]+(,.*)?$/.test(d) || hasControl(d)) {
    throw new ValidationError(
      `Invalid device '${d}': expected a QEMU -device option string such as 'virtio-rng-device,id=rng0'`,
    );
  }
  return d;
}

function checkDevices(v: unknown): string[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw new ValidationError("Parameter 'devices' expects an array");
  if (v.length > LIMITS.devicesMax)
    throw new ValidationError(`At most ${LIMITS.devicesMax} devices are supported`);
  return v.map(checkDevice);
}

/**
 * One `-chardev` option string, checked by the engine's own parser (QEMU's messages), with an id,
 * and not `stdio`: the engine's stdio is the serial console VM Studio streams.
 */
export function checkChardev(v: unknown): { option: string; id: string } {
  const option = checkString(v, 'chardevs');
  const bad = (why: string): ValidationError => new ValidationError(`Invalid chardev '${option}': ${why}`);
  if (hasControl(option)) throw bad('control characters are not allowed');
  let id: string | null;
  let backend: string;
  try {
    const opts = parseChardevOpts(option, 'backend', false);
    id = opts.id;
    backend = chardevBackendFromOpts(opts).type;
  } catch (e) {
    throw bad((e as Error).message);
  }
  if (id === null) throw bad("it needs an id (id=NAME), which devices' chardev= property names");
  if (RESERVED_CHARDEV_ID.test(id)) throw bad(`the id '${id}' is the engine's own (console or monitor)`);
  if (backend === 'stdio') throw bad("'stdio' is the serial console's; use a socket or file");
  return { option, id };
}

function checkChardevs(v: unknown): string[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw new ValidationError("Parameter 'chardevs' expects an array");
  if (v.length > LIMITS.chardevsMax)
    throw new ValidationError(`At most ${LIMITS.chardevsMax} chardevs are supported`);
  const seen = new Set<string>();
  return v.map((x) => {
    const { option, id } = checkChardev(x);
    if (seen.has(id)) throw new ValidationError(`Duplicate ID '${id}' for chardev`);
    seen.add(id);
    return option;
  });
}

function checkText(v: unknown, what: string, max: number): string {
  const s = checkString(v ?? '', what);
  if (s.length > max) throw new ValidationError(`Parameter '${what}' is longer than ${max} characters`);
  return s;
}

export function checkDiskRequests(v: unknown): DiskRequest[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw new ValidationError("Parameter 'disks' expects an array");
  return v.map((d: unknown, i) => {
    if (typeof d !== 'object' || d === null) throw new ValidationError(`Disk ${i + 1}: expected an object`);
    const r = d as Record<string, unknown>;
    const file = checkFile(r.file, 'disk', true);
    const out: DiskRequest = {
      // Without a format, an existing image is probed and a new one is raw.
      ...(r.format === undefined ? {} : { format: checkString(r.format, 'format') }),
      interface: r.interface === undefined ? 'virtio' : checkString(r.interface, 'interface'),
      readonly: r.readonly === true,
    };
    if (out.format !== undefined && !/^(raw|qcow2)$/.test(out.format))
      throw new ValidationError(`Disk ${i + 1}: unknown format '${out.format}'`);
    if (!/^(virtio|none)$/.test(out.interface!))
      throw new ValidationError(`Disk ${i + 1}: unknown interface '${out.interface}'`);
    if (file) out.file = file;
    else if (r.sizeMiB === undefined)
      throw new ValidationError(`Disk ${i + 1}: choose an image file or a size for a new disk`);
    else out.sizeMiB = checkInt(r.sizeMiB, 'sizeMiB', 1, LIMITS.diskMaxMiB);
    return out;
  });
}

/** Validate a create request (the template's machine already merged in by the caller). */
export function checkNewVm(v: unknown): NewVmRequest {
  if (typeof v !== 'object' || v === null) throw new ValidationError('Expected a VM description');
  const r = v as Record<string, unknown>;
  return {
    name: checkName(r.name),
    guest: r.guest === null || r.guest === undefined ? null : checkString(r.guest, 'guest'),
    machine: checkMachine(r.machine ?? 'virt'),
    cpus: checkInt(r.cpus, 'cpus', 1, LIMITS.cpusMax),
    memoryMiB: checkInt(r.memoryMiB, 'memoryMiB', LIMITS.memoryMinMiB, LIMITS.memoryMaxMiB),
    firmware: checkFile(r.firmware, 'firmware', true),
    kernel: checkFile(r.kernel, 'kernel', true),
    initrd: checkFile(r.initrd, 'initrd', true),
    append:
      r.append === null || r.append === undefined ? null : checkText(r.append, 'append', LIMITS.appendMax),
    devices: checkDevices(r.devices),
    chardevs: checkChardevs(r.chardevs),
    notes: checkText(r.notes, 'notes', LIMITS.notesMax),
    disks: checkDiskRequests(r.disks),
  };
}

/** Validate a configuration patch: only known fields, each by its rule. */
export function checkPatch(v: unknown, current: VmConfig): VmPatch {
  if (typeof v !== 'object' || v === null) throw new ValidationError('Expected a configuration change');
  const r = v as Record<string, unknown>;
  const out: VmPatch = {};
  for (const key of Object.keys(r)) {
    const x = r[key];
    switch (key) {
      case 'name':
        out.name = checkName(x);
        break;
      case 'machine':
        out.machine = checkMachine(x);
        break;
      case 'guest':
        out.guest = x === null ? null : checkString(x, 'guest');
        break;
      case 'cpus':
        out.cpus = checkInt(x, 'cpus', 1, LIMITS.cpusMax);
        break;
      case 'memoryMiB':
        out.memoryMiB = checkInt(x, 'memoryMiB', LIMITS.memoryMinMiB, LIMITS.memoryMaxMiB);
        break;
      case 'firmware':
      case 'kernel':
      case 'initrd':
        // An unchanged path is accepted even if the file has gone since; a new one must exist.
        out[key] = checkFile(x, key, x !== current[key]);
        break;
      case 'append':
        out.append = x === null ? null : checkText(x, 'append', LIMITS.appendMax);
        break;
      case 'devices':
        out.devices = checkDevices(x);
        break;
      case 'chardevs':
        out.chardevs = checkChardevs(x);
        break;
      case 'notes':
        out.notes = checkText(x, 'notes', LIMITS.notesMax);
        break;
      default:
        throw new ValidationError(`Parameter '${key}' is unexpected`);
    }
  }
  return out;
}
