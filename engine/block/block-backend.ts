/**
 * BlockBackend (QEMU's block/block-backend.c): what a device sees of the block layer. A backend
 * has a name (the -drive id; empty for one made implicitly when a device's `drive` property names a
 * node), a root node, and at most one attached device. Requests are checked like blk_check_byte_request():
 * no medium -> ENOMEDIUM, out of range -> EIO, writes to a read-only backend -> EPERM.
 *
 * Device-facing API (all async, byte offsets):
 *   pread(offset, len) / preadInto(offset, buf) / pwrite(offset, data) / pwriteZeroes(offset, bytes, {mayUnmap})
 *   pdiscard(offset, bytes) / flush() / getLength() / isReadOnly() / isInserted()
 */
import { QapiError } from '../qapi/error.js';
import { idWellformed } from '../util/qemu-option.js';
import { BlockIoError } from './block-error.js';
import {
  type BlockDriverState,
  bdrvFindNode,
  bdrvUnref,
  setBackendNameCheck,
  setBackendRootLookup,
} from './block.js';

export type IoStatus = 'ok' | 'failed' | 'nospace';

export class BlockBackend {
  root: BlockDriverState | null;
  /** QOM path (or id) of the attached device. */
  dev: string | null = null;
  ioStatus: IoStatus = 'ok';
  /** Guest-visible write cache (cache.writeback); when off, every write is flushed. */
  writeCache = true;
  /** The -drive that created this backend (if= type etc.), when there is one. */
  legacy: { interface: string; media: 'disk' | 'cdrom' } | null = null;
  /** Created for a device pointing at a node: goes away when the device lets go. */
  anonymous = false;
  /** -drive werror=/rerror=: what the device does on a failed write/read. */
  werror: 'ignore' | 'report' | 'stop' | 'enospc' = 'enospc';
  rerror: 'ignore' | 'report' | 'stop' = 'report';

  constructor(
    readonly name: string,
    root: BlockDriverState | null,
  ) {
    this.root = root;
  }

  isInserted(): boolean {
    return this.root !== null;
  }

  isReadOnly(): boolean {
    return this.root?.readOnly ?? false;
  }

  getLength(): number {
    if (!this.root) throw new BlockIoError('ENOMEDIUM');
    return this.root.getLength();
  }

  private check(offset: number, bytes: number): BlockDriverState {
    const bs = this.root;
    if (!bs) throw new BlockIoError('ENOMEDIUM');
    if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(bytes) || offset < 0 || bytes < 0) {
      throw new BlockIoError('EIO');
    }
    if (offset + bytes > bs.getLength()) throw new BlockIoError('EIO');
    return bs;
  }

  private checkWrite(offset: number, bytes: number): BlockDriverState {
    const bs = this.check(offset, bytes);
    if (bs.readOnly) throw new BlockIoError('EPERM');
    return bs;
  }

  async pread(offset: number, len: number): Promise<Uint8Array> {
    const buf = new Uint8Array(len);
    await this.preadInto(offset, buf);
    return buf;
  }

  async preadInto(offset: number, buf: Uint8Array): Promise<void> {
    const bs = this.check(offset, buf.length);
    if (buf.length) await bs.drv.pread(offset, buf);
  }

  async pwrite(offset: number, data: Uint8Array): Promise<void> {
    const bs = this.checkWrite(offset, data.length);
    if (!data.length) return;
    if (bs.detectZeroes !== 'off' && isAllZero(data)) {
      await bs.drv.pwriteZeroes(offset, data.length, bs.detectZeroes === 'unmap');
    } else {
      await bs.drv.pwrite(offset, data);
    }
    if (!this.writeCache) await this.flush();
  }

  async pwriteZeroes(offset: number, bytes: number, flags: { mayUnmap?: boolean } = {}): Promise<void> {
    const bs = this.checkWrite(offset, bytes);
    if (bytes) await bs.drv.pwriteZeroes(offset, bytes, (flags.mayUnmap ?? false) && bs.discard === 'unmap');
    if (!this.writeCache) await this.flush();
  }

  async pdiscard(offset: number, bytes: number): Promise<void> {
    const bs = this.checkWrite(offset, bytes);
    if (bytes && bs.discard === 'unmap') await bs.drv.pdiscard(offset, bytes);
  }

  async flush(): Promise<void> {
    const bs = this.root;
    if (!bs) throw new BlockIoError('ENOMEDIUM');
    if (bs.readOnly || bs.cacheNoFlush) return;
    await bs.drv.flush();
  }
}

function isAllZero(b: Uint8Array): boolean {
  const words = b.byteOffset % 4 === 0 ? new Uint32Array(b.buffer, b.byteOffset, b.length >> 2) : null;
  if (words) {
    for (let i = 0; i < words.length; i++) if (words[i] !== 0) return false;
    for (let i = words.length * 4; i < b.length; i++) if (b[i] !== 0) return false;
    return true;
  }
  return b.every((x) => x === 0);
}

const backends: BlockBackend[] = [];

setBackendNameCheck((name) => backends.some((b) => b.name === name));
setBackendRootLookup((name) => backends.find((b) => b.name === name && b.name !== '')?.root ?? undefined);

/** Named backends in creation order (query-block order). */
export function blkAll(): readonly BlockBackend[] {
  return backends;
}

export function blkByName(name: string): BlockBackend | undefined {
  return name === '' ? undefined : backends.find((b) => b.name === name);
}

/** blk_new() + blk_insert_bs() under a name (-drive id); the backend takes over `root`'s reference. */
export function blkNew(name: string, root: BlockDriverState | null): BlockBackend {
  if (name !== '') {
    if (!idWellformed(name)) throw new QapiError(`Invalid device name '${name}'`);
    if (blkByName(name)) throw new QapiError(`Device with id '${name}' already exists`);
    if (bdrvFindNode(name)) throw new QapiError(`Device name '${name}' conflicts with an existing node name`);
  }
  const blk = new BlockBackend(name, root);
  backends.push(blk);
  return blk;
}

/** Is the node the root of some backend? (blockdev-del refuses then) */
export function blkForNode(bs: BlockDriverState): BlockBackend | undefined {
  return backends.find((b) => b.root === bs);
}

/**
 * What a device's `drive` property resolves to (QEMU's set_drive_helper()): a backend by name,
 * else a node by name wrapped in a new anonymous backend. Attaches `dev` (its QOM path).
 */
export function blkAttachDevByRef(
  ref: string,
  dev: string,
  propName = 'drive',
  typename = 'device',
): BlockBackend {
  let blk = blkByName(ref);
  if (!blk) {
    const bs = bdrvFindNode(ref);
    if (!bs) throw new QapiError(`Property '${typename}.${propName}' can't find value '${ref}'`);
    if (blkForNode(bs)?.dev) {
      throw new QapiError(`Drive '${ref}' is already in use by another device`);
    }
    bs.refcnt++;
    blk = new BlockBackend('', bs);
    blk.anonymous = true;
    backends.push(blk);
  }
  if (blk.dev !== null) {
    if (blk.legacy && blk.legacy.interface !== 'none') {
      throw new QapiError(
        `Drive '${ref}' is already in use because it has been automatically connected to another device (did you need 'if=none' in the drive options?)`,
      );
    }
    throw new QapiError(`Drive '${ref}' is already in use by another device`);
  }
  blk.dev = dev;
  return blk;
}

/** The device let go (unrealize): anonymous backends disappear, named ones stay. */
export async function blkDetachDev(blk: BlockBackend): Promise<void> {
  blk.dev = null;
  if (blk.anonymous) await blkDelete(blk);
}

/** Whether a `drive` property value names something (for the qdev property lookup). */
export function blkRefExists(ref: string): boolean {
  return blkByName(ref) !== undefined || bdrvFindNode(ref) !== undefined;
}

export async function blkDelete(blk: BlockBackend): Promise<void> {
  const i = backends.indexOf(blk);
  if (i >= 0) backends.splice(i, 1);
  const root = blk.root;
  blk.root = null;
  if (root) await bdrvUnref(root);
}

/** Close all backends (process exit). */
export async function blkDeleteAll(): Promise<void> {
  for (const b of [...backends]) await blkDelete(b).catch(() => undefined);
}
