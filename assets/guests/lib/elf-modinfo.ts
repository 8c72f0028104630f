/**
 * Reads a Linux kernel module's `.modinfo` section straight from its ELF file. Debian's kernel package
 * ships no modules.dep and the build host has no depmod/modinfo, so dependency resolution works from
 * what each module declares about itself (`name=`, `depends=`, `alias=`, `softdep=`).
 */
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';

/** What one module declares in its `.modinfo` section. */
export interface ModInfo {
  name: string;
  /** Modules that must be loaded first (hard symbol dependencies). */
  depends: string[];
  aliases: string[];
  /** `softdep=pre: ...` names: modules (or aliases) the module wants loaded before it. */
  softdepPre: string[];
  softdepPost: string[];
  vermagic: string | undefined;
  /** Every key with all its values, in section order. */
  fields: Map<string, string[]>;
}

interface SectionHeader {
  name: string;
  offset: number;
  size: number;
}

function elfError(what: string, msg: string): Error {
  return new Error(`${what}: ${msg}`);
}

/** Section headers of a 32- or 64-bit, little- or big-endian ELF image. */
export function elfSections(image: Uint8Array, what = 'ELF image'): SectionHeader[] {
  const b = Buffer.from(image.buffer, image.byteOffset, image.length);
  if (b.length < 0x34 || b[0] !== 0x7f || b.toString('latin1', 1, 4) !== 'ELF') {
    throw elfError(what, 'not an ELF file');
  }
  const is64 = b[4] === 2;
  if (b[4] !== 1 && !is64) throw elfError(what, `unknown ELF class ${b[4]}`);
  const le = b[5] === 1;
  if (b[5] !== 1 && b[5] !== 2) throw elfError(what, `unknown ELF data encoding ${b[5]}`);
  const u16 = (o: number): number => (le ? b.readUInt16LE(o) : b.readUInt16BE(o));
  const u32 = (o: number): number => (le ? b.readUInt32LE(o) : b.readUInt32BE(o));
  const uword = (o: number): number => {
    if (!is64) return u32(o);
    const v = le ? b.readBigUInt64LE(o) : b.readBigUInt64BE(o);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw elfError(what, 'offset out of range');
    return Number(v);
  };
  if (b.length < (is64 ? 0x40 : 0x34)) throw elfError(what, 'truncated ELF header');
  const shoff = uword(is64 ? 0x28 : 0x20);
  const shentsize = u16(is64 ? 0x3a : 0x2e);
  let shnum = u16(is64 ? 0x3c : 0x30);
  let shstrndx = u16(is64 ? 0x3e : 0x32);
  if (shoff === 0) return [];
  const raw = (i: number): { nameOff: number; offset: number; size: number; link: number } => {
    const o = shoff + i * shentsize;
    if (o + (is64 ? 0x40 : 0x28) > b.length) throw elfError(what, `section header ${i} out of bounds`);
    return is64
      ? { nameOff: u32(o), offset: uword(o + 0x18), size: uword(o + 0x20), link: u32(o + 0x28) }
      : { nameOff: u32(o), offset: u32(o + 0x10), size: u32(o + 0x14), link: u32(o + 0x18) };
  };
  // Extended numbering: real counts live in section 0 when they do not fit the header.
  if (shnum === 0) shnum = raw(0).size;
  if (shstrndx === 0xffff) shstrndx = raw(0).link;
  // Section bounds are checked only when a section is read: SHT_NOBITS (.bss) has a size but no bytes.
  const headers = Array.from({ length: shnum }, (_, i) => raw(i));
  const strtab = headers[shstrndx];
  if (!strtab || strtab.offset + strtab.size > b.length) throw elfError(what, 'bad section name table');
  return headers.map((h) => {
    const start = strtab.offset + h.nameOff;
    const end = b.indexOf(0, start);
    if (start >= strtab.offset + strtab.size || end < 0) throw elfError(what, 'bad section name');
    return { name: b.toString('latin1', start, end), offset: h.offset, size: h.size };
  });
}

/** The raw bytes of a named section. */
export function elfSection(image: Uint8Array, section: string, what = 'ELF image'): Uint8Array | undefined {
  const h = elfSections(image, what).find((s) => s.name === section);
  if (!h) return undefined;
  if (h.offset + h.size > image.length) throw elfError(what, `section ${section} out of bounds`);
  return image.subarray(h.offset, h.offset + h.size);
}

/** Parses the NUL-separated `key=value` strings of a `.modinfo` section. */
export function parseModInfoSection(section: Uint8Array): Map<string, string[]> {
  const fields = new Map<string, string[]>();
  for (const entry of Buffer.from(section.buffer, section.byteOffset, section.length)
    .toString('utf8')
    .split('\0')) {
    const eq = entry.indexOf('=');
    if (eq <= 0) continue; // padding between strings
    const key = entry.slice(0, eq);
    const list = fields.get(key) ?? [];
    list.push(entry.slice(eq + 1));
    fields.set(key, list);
  }
  return fields;
}

function splitSoftdep(values: string[]): { pre: string[]; post: string[] } {
  const pre: string[] = [];
  const post: string[] = [];
  for (const v of values) {
    let target: string[] | undefined;
    for (const tok of v.split(/\s+/).filter(Boolean)) {
      if (tok === 'pre:') target = pre;
      else if (tok === 'post:') target = post;
      else target?.push(tok);
    }
  }
  return { pre, post };
}

/** Module metadata from an uncompressed module image. */
export function readModInfo(image: Uint8Array, what = 'kernel module'): ModInfo {
  const section = elfSection(image, '.modinfo', what);
  if (!section) throw elfError(what, 'no .modinfo section (not a kernel module?)');
  const fields = parseModInfoSection(section);
  const first = (k: string): string | undefined => fields.get(k)?.[0];
  const name = first('name');
  if (!name) throw elfError(what, '.modinfo has no name=');
  const list = (k: string): string[] => (first(k) ?? '').split(',').filter(Boolean);
  const soft = splitSoftdep(fields.get('softdep') ?? []);
  return {
    name,
    depends: list('depends'),
    aliases: fields.get('alias') ?? [],
    softdepPre: soft.pre,
    softdepPost: soft.post,
    vermagic: first('vermagic'),
    fields,
  };
}

/** Decompresses an xz file with the host's `xz` (Node has no built-in xz). */
export function xzDecompressFile(path: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    execFile('xz', ['-dc', '--', path], { encoding: 'buffer', maxBuffer: 1 << 30 }, (err, stdout, stderr) => {
      if (err) {
        const missing = (err as NodeJS.ErrnoException).code === 'ENOENT';
        reject(
          new Error(
            missing
              ? "cannot decompress kernel modules: 'xz' not found (install xz-utils)"
              : `xz -dc ${path}: ${stderr.toString().trim() || err.message}`,
          ),
        );
      } else resolve(stdout);
    });
  });
}

/** Reads a module file, decompressing `.ko.xz`; returns the ELF image. */
export async function readModuleImage(path: string): Promise<Buffer> {
  if (path.endsWith('.ko.xz')) return xzDecompressFile(path);
  if (path.endsWith('.ko')) return readFile(path);
  throw new Error(`${path}: unsupported module file (expected .ko or .ko.xz)`);
}
