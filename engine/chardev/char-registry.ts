/**
 * Creating, finding and removing chardevs (QEMU's chardev/char.c: qemu_chardev_new, qemu_chr_find,
 * qmp_chardev_add/remove, query-chardev, ringbuf-read/-write).
 *
 * QEMU keeps chardevs as children of the QOM container /chardevs. The QOM layer registers hooks here
 * (setChardevQomHooks) to mirror them into its tree as objects of type chardev-socket etc.; without
 * them the registry stands alone.
 */
import { QapiError } from '../qapi/error.js';
import { type ChardevBackend, type Chardev } from './char.js';
import { FileChardev } from './char-file.js';
import { NullChardev } from './char-null.js';
import { CHARDEV_BACKEND_NAMES, type ChardevOpts, chardevBackendFromOpts } from './char-opts.js';
import { RingbufChardev } from './char-ringbuf.js';
import { SocketChardev } from './char-socket.js';
import { StdioChardev } from './char-stdio.js';

export interface ChardevQomHooks {
  /** A chardev was created: add it as /chardevs/<id>. */
  add(id: string, chr: Chardev): void;
  /** It is going away: unparent it. */
  remove(id: string, chr: Chardev): void;
}

const chardevs = new Map<string, Chardev>();
/** Ids whose device is still opening (a server with wait=on waits for its client). */
const opening = new Set<string>();
let qomHooks: ChardevQomHooks | null = null;

export function setChardevQomHooks(hooks: ChardevQomHooks | null): void {
  qomHooks = hooks;
  if (hooks) for (const [id, chr] of chardevs) hooks.add(id, chr);
}

/** qemu_chr_find. */
export function qemuChrFind(id: string): Chardev | undefined {
  return chardevs.get(id);
}

/** All chardevs, in creation order. */
export function chardevList(): Chardev[] {
  return [...chardevs.values()];
}

function construct(id: string, backend: ChardevBackend): Chardev {
  switch (backend.type) {
    case 'socket':
      return new SocketChardev(id, backend.data);
    case 'file':
      return new FileChardev(id, backend.data);
    case 'stdio':
      return new StdioChardev(id, backend.data);
    case 'ringbuf':
      return new RingbufChardev(id, backend.data);
    case 'memory':
      return new RingbufChardev(id, backend.data, 'chardev-memory');
    case 'null':
      return new NullChardev(id);
    default:
      throw new QapiError(`'${(backend as { type: string }).type}' is not a valid char driver name`);
  }
}

/** Open a chardev and register it under `id` (qemu_chardev_new). */
export async function qemuChardevNew(id: string, backend: ChardevBackend): Promise<Chardev> {
  if (chardevs.has(id) || opening.has(id)) {
    throw new QapiError(`attempt to add duplicate property '${id}' to object (type 'container')`);
  }
  opening.add(id);
  try {
    const chr = construct(id, backend);
    try {
      await chr.open(backend.data);
    } catch (e) {
      await chr.close().catch(() => undefined);
      throw e;
    }
    chardevs.set(id, chr);
    qomHooks?.add(id, chr);
    return chr;
  } finally {
    opening.delete(id);
  }
}

/** -chardev: option group → open device (qemu_chr_new_from_opts). */
export async function qemuChrNewFromOpts(o: ChardevOpts): Promise<Chardev> {
  if (o.id === null) throw new QapiError('chardev: no id specified');
  if (o.opts.get('mux') === 'on') throw new QapiError("'mux' chardevs are not supported by this engine");
  if (chardevs.has(o.id) || opening.has(o.id)) throw new QapiError(`Duplicate ID '${o.id}' for chardev`);
  return qemuChardevNew(o.id, chardevBackendFromOpts(o));
}

/** Unparent and close (object_unparent). */
export async function chardevDelete(id: string): Promise<void> {
  const chr = chardevs.get(id);
  if (!chr) return;
  chardevs.delete(id);
  qomHooks?.remove(id, chr);
  await chr.close();
}

/** Close every chardev (process exit, tests). */
export async function chardevDeleteAll(): Promise<void> {
  for (const id of [...chardevs.keys()].reverse()) await chardevDelete(id);
}

// ---- QMP commands (qapi/char.json) ----

export interface ChardevInfo {
  label: string;
  filename: string;
  'frontend-open': boolean;
}

/** query-chardev: QEMU prepends while walking /chardevs, so the newest comes first. */
export function qmpQueryChardev(): ChardevInfo[] {
  return chardevList()
    .map((c) => ({ label: c.label, filename: c.filename, 'frontend-open': c.frontendOpen }))
    .reverse();
}

/** query-chardev-backends (prepended, as QEMU does). */
export function qmpQueryChardevBackends(): Array<{ name: string }> {
  return CHARDEV_BACKEND_NAMES.map((name) => ({ name })).reverse();
}

/** chardev-add. */
export async function qmpChardevAdd(id: string, backend: ChardevBackend): Promise<{ pty?: string }> {
  if (chardevs.has(id) || opening.has(id)) throw new QapiError(`Chardev with id '${id}' already exists`);
  try {
    await qemuChardevNew(id, backend);
  } catch (e) {
    if (e instanceof QapiError) throw e.prepend(`Failed to add chardev '${id}': `);
    throw e;
  }
  return {};
}

/** chardev-remove. */
export async function qmpChardevRemove(id: string): Promise<void> {
  const chr = chardevs.get(id);
  if (!chr) throw new QapiError(`Chardev '${id}' not found`);
  if (chr.busy) throw new QapiError(`Chardev '${id}' is busy`);
  await chardevDelete(id);
}

/** chardev-send-break. */
export function qmpChardevSendBreak(id: string): void {
  const chr = chardevs.get(id);
  if (!chr) throw new QapiError(`Chardev '${id}' not found`);
  chr.sendBreak();
}

export type DataFormat = 'utf8' | 'base64';

function findRingbuf(device: string): RingbufChardev {
  const chr = chardevs.get(device);
  if (!chr) throw new QapiError(`Device '${device}' not found`);
  if (!(chr instanceof RingbufChardev)) throw new QapiError(`${device} is not a ringbuf device`);
  return chr;
}

const BASE64_RE = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** ringbuf-write: the bytes go in as if the frontend wrote them. */
export function qmpRingbufWrite(device: string, data: string, format?: DataFormat): void {
  const chr = findRingbuf(device);
  let bytes: Buffer;
  if (format === 'base64') {
    const clean = data.replace(/[\s]/g, '');
    if (!BASE64_RE.test(clean)) throw new QapiError('Base64 data is not valid');
    bytes = Buffer.from(clean, 'base64');
  } else {
    bytes = Buffer.from(data, 'utf8');
  }
  if (chr.write(bytes) < 0) throw new QapiError(`Failed to write to device ${device}`);
}

/**
 * ringbuf-read: up to `size` bytes. In utf8 format QEMU hands the raw bytes over as a C string, so the
 * text ends at the first NUL; invalid UTF-8 becomes U+FFFD as QEMU's JSON writer emits it.
 */
export function qmpRingbufRead(device: string, size: number, format?: DataFormat): string {
  const chr = findRingbuf(device);
  if (size <= 0) throw new QapiError('size must be greater than zero');
  const bytes = chr.read(size);
  if (format === 'base64') return bytes.toString('base64');
  const nul = bytes.indexOf(0);
  return (nul >= 0 ? bytes.subarray(0, nul) : bytes).toString('utf8');
}
