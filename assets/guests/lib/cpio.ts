/**
 * A small writer and reader for the "newc" (SVR4, magic 070701) cpio format, the format Linux accepts
 * for an initramfs. Written here so building a guest needs no host `cpio` and so device nodes
 * (/dev/console) can be created without root privileges.
 */

/** File type bits of `st_mode`, as the kernel's initramfs unpacker expects them. */
export const S_IFMT = 0o170000;
export const S_IFDIR = 0o040000;
export const S_IFREG = 0o100000;
export const S_IFLNK = 0o120000;
export const S_IFCHR = 0o020000;
export const S_IFBLK = 0o060000;

const MAGIC = '070701';
const HEADER_SIZE = 110;
const TRAILER = 'TRAILER!!!';

/** One archive member as written to or read from a newc archive. */
export interface CpioEntry {
  /** Path without a leading slash, e.g. "bin/busybox". */
  name: string;
  /** Full st_mode: type bits | permission bits. */
  mode: number;
  uid: number;
  gid: number;
  mtime: number;
  /** File contents, or the link target for a symlink; empty for directories and nodes. */
  data: Uint8Array;
  /** Device number of a character/block node. */
  rdevMajor: number;
  rdevMinor: number;
  ino: number;
  nlink: number;
}

export interface EntryOptions {
  /** Permission bits (the type bits are implied by the add method). */
  perm?: number;
  uid?: number;
  gid?: number;
  mtime?: number;
}

function normalizeName(path: string): string {
  const name = path.replace(/^\/+/, '').replace(/\/+$/, '');
  if (name === '' || name.split('/').some((p) => p === '' || p === '.' || p === '..')) {
    throw new Error(`cpio: invalid member name '${path}'`);
  }
  return name;
}

function pad4(n: number): number {
  return (4 - (n % 4)) % 4;
}

function hex8(value: number, field: string): string {
  if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) {
    throw new Error(`cpio: ${field} ${value} does not fit a newc header field`);
  }
  return value.toString(16).padStart(8, '0');
}

/**
 * Collects members and serialises them. Member order is preserved; parent directories are not added
 * implicitly (the kernel does not need them in order, but we keep archives explicit and predictable).
 */
export class CpioWriter {
  private readonly entries: CpioEntry[] = [];
  private readonly names = new Set<string>();
  private nextIno = 1;

  constructor(private readonly defaultMtime = 0) {}

  addDirectory(path: string, opts: EntryOptions = {}): this {
    return this.add(path, S_IFDIR | (opts.perm ?? 0o755), new Uint8Array(0), opts, 2);
  }

  addFile(path: string, data: Uint8Array | string, opts: EntryOptions = {}): this {
    const bytes = typeof data === 'string' ? new TextEncoder().encode(data) : data;
    return this.add(path, S_IFREG | (opts.perm ?? 0o644), bytes, opts);
  }

  addSymlink(path: string, target: string, opts: EntryOptions = {}): this {
    if (target === '') throw new Error(`cpio: empty symlink target for '${path}'`);
    return this.add(path, S_IFLNK | (opts.perm ?? 0o777), new TextEncoder().encode(target), opts);
  }

  addCharDevice(path: string, major: number, minor: number, opts: EntryOptions = {}): this {
    return this.add(path, S_IFCHR | (opts.perm ?? 0o600), new Uint8Array(0), opts, 1, major, minor);
  }

  has(path: string): boolean {
    return this.names.has(normalizeName(path));
  }

  private add(
    path: string,
    mode: number,
    data: Uint8Array,
    opts: EntryOptions,
    nlink = 1,
    rdevMajor = 0,
    rdevMinor = 0,
  ): this {
    const name = normalizeName(path);
    if (this.names.has(name)) throw new Error(`cpio: duplicate member '${name}'`);
    this.names.add(name);
    this.entries.push({
      name,
      mode,
      uid: opts.uid ?? 0,
      gid: opts.gid ?? 0,
      mtime: opts.mtime ?? this.defaultMtime,
      data,
      rdevMajor,
      rdevMinor,
      ino: this.nextIno++,
      nlink,
    });
    return this;
  }

  /** The complete archive, terminated by the TRAILER!!! member. */
  toBuffer(): Buffer {
    const parts: Buffer[] = [];
    const trailer: CpioEntry = {
      name: TRAILER,
      mode: 0,
      uid: 0,
      gid: 0,
      mtime: 0,
      data: new Uint8Array(0),
      rdevMajor: 0,
      rdevMinor: 0,
      ino: 0,
      nlink: 1,
    };
    for (const e of [...this.entries, trailer]) {
      const nameBytes = Buffer.from(e.name + '\0', 'utf8');
      const header =
        MAGIC +
        hex8(e.ino, 'c_ino') +
        hex8(e.mode, 'c_mode') +
        hex8(e.uid, 'c_uid') +
        hex8(e.gid, 'c_gid') +
        hex8(e.nlink, 'c_nlink') +
        hex8(e.mtime, 'c_mtime') +
        hex8(e.data.length, 'c_filesize') +
        hex8(0, 'c_devmajor') +
        hex8(0, 'c_devminor') +
        hex8(e.rdevMajor, 'c_rdevmajor') +
        hex8(e.rdevMinor, 'c_rdevminor') +
        hex8(nameBytes.length, 'c_namesize') +
        hex8(0, 'c_check');
      parts.push(Buffer.from(header, 'ascii'), nameBytes, Buffer.alloc(pad4(HEADER_SIZE + nameBytes.length)));
      if (e.data.length > 0) {
        parts.push(
          Buffer.from(e.data.buffer, e.data.byteOffset, e.data.length),
          Buffer.alloc(pad4(e.data.length)),
        );
      }
    }
    return Buffer.concat(parts);
  }
}

/**
 * Parses a newc archive (without the trailer entry). Strict about magic and bounds so a corrupt
 * initramfs is reported rather than half-read.
 */
export function parseCpio(buf: Uint8Array): CpioEntry[] {
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.length);
  const out: CpioEntry[] = [];
  let off = 0;
  for (;;) {
    if (off + HEADER_SIZE > b.length) throw new Error(`cpio: truncated header at offset ${off}`);
    const magic = b.toString('ascii', off, off + 6);
    if (magic !== MAGIC) throw new Error(`cpio: bad magic '${magic}' at offset ${off}`);
    const field = (i: number): number => {
      const s = b.toString('ascii', off + 6 + i * 8, off + 14 + i * 8);
      if (!/^[0-9a-fA-F]{8}$/.test(s)) throw new Error(`cpio: bad header field '${s}' at offset ${off}`);
      return parseInt(s, 16);
    };
    const [ino, mode, uid, gid, nlink, mtime, filesize, , , rdevMajor, rdevMinor, namesize] = Array.from(
      { length: 13 },
      (_, i) => field(i),
    );
    const nameStart = off + HEADER_SIZE;
    if (namesize < 1 || nameStart + namesize > b.length)
      throw new Error(`cpio: bad name size at offset ${off}`);
    const name = b.toString('utf8', nameStart, nameStart + namesize - 1);
    const dataStart = nameStart + namesize + pad4(HEADER_SIZE + namesize);
    if (name === TRAILER) return out;
    if (dataStart + filesize > b.length) throw new Error(`cpio: truncated data of '${name}'`);
    const data = new Uint8Array(b.subarray(dataStart, dataStart + filesize));
    out.push({ name, mode, uid, gid, mtime, data, rdevMajor, rdevMinor, ino, nlink });
    off = dataStart + filesize + pad4(filesize);
  }
}
