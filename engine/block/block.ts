/**
 * The block graph (QEMU's block.c): BlockDriverState nodes, each a driver instance with its
 * children (`file` for a format's protocol node, `backing` for a COW overlay's base), named by the
 * user or automatically (`#block<N><rnd>` like QEMU's id_generate()), reference counted by their
 * parents (other nodes, BlockBackends, the monitor for blockdev-add roots).
 *
 * Opening follows bdrv_open(): a format node over a `file` child, the format probed when not
 * given, the backing chain of a qcow2 image opened read-only from its header (relative names
 * resolved against the overlay's directory) unless `backing` says otherwise.
 */
import { randomInt } from 'node:crypto';
import { dirname, isAbsolute, join } from 'node:path';
import { QapiError } from '../qapi/error.js';
import { idWellformed } from '../util/qemu-option.js';
import type { NodeDriver } from './block-driver.js';
import { FileDriver } from './file-posix.js';
import { probeFormat } from './probe.js';
import { Qcow2Driver } from './qcow2.js';
import { RawDriver } from './raw-format.js';
import { blockWarn } from './block-warn.js';

export type DetectZeroes = 'off' | 'on' | 'unmap';

/** The subset of QAPI BlockdevOptions the engine implements (file, raw, qcow2). */
export interface BlockOpenOptions {
  driver?: string;
  'node-name'?: string;
  'read-only'?: boolean;
  'auto-read-only'?: boolean;
  'force-share'?: boolean;
  discard?: 'ignore' | 'unmap';
  cache?: { direct?: boolean; 'no-flush'?: boolean };
  'detect-zeroes'?: DetectZeroes;
  /** file */
  filename?: string;
  locking?: 'auto' | 'on' | 'off';
  /** formats */
  file?: BlockOpenOptions | string;
  /** qcow2: a node to use, null for none, absent for the image's own */
  backing?: BlockOpenOptions | string | null;
  /** raw */
  offset?: number;
  size?: number;
}

export const SUPPORTED_DRIVERS = ['file', 'raw', 'qcow2'] as const;

export class BlockDriverState {
  nodeName = '';
  file: BlockDriverState | null = null;
  backing: BlockDriverState | null = null;
  readOnly = false;
  /** bs->filename: the image file this node (or its protocol child) reads. */
  filename = '';
  /** Backing file name as the image records it, and its format. */
  backingFile: string | null = null;
  backingFormat: string | null = null;
  detectZeroes: DetectZeroes = 'off';
  discard: 'ignore' | 'unmap' = 'ignore';
  cacheDirect = false;
  cacheNoFlush = false;
  /** Parents: nodes, BlockBackends, the monitor. */
  refcnt = 0;
  /** Added by blockdev-add (only those can be deleted with blockdev-del). */
  monitorOwned = false;
  /** Unlinked temporary overlay (-snapshot): the file vanishes with the process. */
  temporary = false;
  closed = false;

  constructor(
    readonly drv: NodeDriver,
    readonly driverName: string,
  ) {}

  getLength(): number {
    return this.drv.getLength();
  }

  /** Depth of the backing chain below this node. */
  backingDepth(): number {
    let n = 0;
    for (let b = this.backing; b; b = b.backing) n++;
    return n;
  }
}

const nodes: BlockDriverState[] = [];
let nodeCounter = 0;
/** Names that may not be used as node names (BlockBackend/drive ids): set by block-backend. */
let nameTaken: (name: string) => boolean = () => false;

export function setBackendNameCheck(fn: (name: string) => boolean): void {
  nameTaken = fn;
}

/** Every node, in creation order (query-named-block-nodes lists them all, all have names). */
export function bdrvAllNodes(): readonly BlockDriverState[] {
  return nodes;
}

export function bdrvFindNode(name: string): BlockDriverState | undefined {
  return nodes.find((n) => n.nodeName === name);
}

function autoNodeName(): string {
  nodeCounter++;
  return `#block${nodeCounter}${String(randomInt(100)).padStart(2, '0')}`;
}

function checkNodeName(name: string): void {
  if (!idWellformed(name)) throw new QapiError(`Invalid node-name: '${name}'`);
  if (nameTaken(name)) throw new QapiError(`node-name=${name} is conflicting with a device id`);
  if (bdrvFindNode(name)) throw new QapiError(`Duplicate nodes with node-name='${name}'`);
}

/** bdrv_assign_node_name() */
function assignNodeName(bs: BlockDriverState, name: string | undefined): void {
  if (name !== undefined) checkNodeName(name);
  bs.nodeName = name ?? autoNodeName();
}

function lookupReference(ref: string): BlockDriverState {
  const bs = bdrvFindNode(ref) ?? backendRootLookup(ref);
  if (!bs) throw new QapiError(`Cannot find device='${ref}' nor node-name='${ref}'`);
  return bs;
}

let backendRootLookup: (name: string) => BlockDriverState | undefined = () => undefined;
export function setBackendRootLookup(fn: (name: string) => BlockDriverState | undefined): void {
  backendRootLookup = fn;
}

export interface OpenContext {
  /** The node is a child opened for a parent that is read-only. */
  parentReadOnly?: boolean;
  /** Do not open backing files (qemu-img info/check without the chain). */
  noBacking?: boolean;
  /** Format was not given: probe, and warn for writable probed raw images. */
  warnProbedRaw?: boolean;
}

/** bdrv_open(): open `o` and its children; returns a node with refcnt 1 (owned by the caller). */
export async function bdrvOpen(o: BlockOpenOptions, ctx: OpenContext = {}): Promise<BlockDriverState> {
  const readOnly = o['read-only'] ?? ctx.parentReadOnly ?? false;
  let driver = o.driver;
  if (driver !== undefined && !(SUPPORTED_DRIVERS as readonly string[]).includes(driver)) {
    throw new QapiError(`Unknown driver '${driver}'`);
  }
  // A bad or duplicate name is refused before any file is opened (and locked).
  if (o['node-name'] !== undefined) checkNodeName(o['node-name']);
  if (driver === 'file') return openFile(o, readOnly);

  // Format node: open (or find) the protocol child first.
  let child: BlockDriverState;
  let childIsNew = false;
  if (typeof o.file === 'string') {
    child = lookupReference(o.file);
  } else if (o.file) {
    child = await bdrvOpen(
      { ...o.file, 'read-only': o.file['read-only'] ?? readOnly },
      { parentReadOnly: readOnly },
    );
    childIsNew = true;
  } else if (o.filename !== undefined) {
    child = await openFile({ driver: 'file', filename: o.filename, locking: o.locking }, readOnly);
    childIsNew = true;
  } else {
    throw new QapiError('A block device must be specified for "file"');
  }
  try {
    let probed = false;
    if (driver === undefined) {
      const head = new Uint8Array(512);
      await child.drv.pread(0, head);
      driver = probeFormat(head);
      probed = driver === 'raw';
      if (probed && ctx.warnProbedRaw && !readOnly) {
        blockWarn(
          `WARNING: Image format was not specified for '${child.filename}' and probing guessed raw.\n` +
            '         Automatically detecting the format is dangerous for raw images, write operations on block 0 will be restricted.\n' +
            "         Specify the 'raw' format explicitly to remove the restrictions.",
        );
      }
    }
    let drv: NodeDriver;
    if (driver === 'raw') {
      drv = new RawDriver(child.drv, { offset: o.offset, size: o.size, probed });
    } else {
      drv = await Qcow2Driver.open(child.drv, { readOnly });
    }
    const bs = new BlockDriverState(drv, driver);
    applyCommon(bs, o, readOnly);
    bs.filename = child.filename;
    bs.file = child;
    if (!childIsNew) child.refcnt++;
    try {
      assignNodeName(bs, o['node-name']);
      if (drv instanceof Qcow2Driver) await openBacking(bs, drv, o, ctx);
    } catch (e) {
      if (bs.backing) bdrvUnrefSync(bs.backing);
      await drv.close();
      if (!childIsNew) child.refcnt--;
      throw e;
    }
    bs.refcnt = 1;
    nodes.push(bs);
    return bs;
  } catch (e) {
    if (childIsNew) await bdrvUnref(child);
    throw e;
  }
}

async function openFile(o: BlockOpenOptions, readOnly: boolean): Promise<BlockDriverState> {
  if (o.filename === undefined) throw new QapiError("Parameter 'filename' is missing");
  const drv = await FileDriver.open({ filename: o.filename, readOnly, locking: o.locking ?? 'auto' });
  const bs = new BlockDriverState(drv, 'file');
  applyCommon(bs, o, readOnly);
  bs.filename = o.filename;
  try {
    assignNodeName(bs, o['node-name']);
  } catch (e) {
    await drv.close();
    throw e;
  }
  bs.refcnt = 1;
  nodes.push(bs);
  return bs;
}

function applyCommon(bs: BlockDriverState, o: BlockOpenOptions, readOnly: boolean): void {
  bs.readOnly = readOnly;
  bs.detectZeroes = o['detect-zeroes'] ?? 'off';
  bs.discard = o.discard ?? 'ignore';
  bs.cacheDirect = o.cache?.direct ?? false;
  bs.cacheNoFlush = o.cache?.['no-flush'] ?? false;
  if (bs.detectZeroes === 'unmap' && bs.discard !== 'unmap') {
    throw new QapiError(
      'setting detect-zeroes to unmap is not allowed without setting discard operation to unmap',
    );
  }
}

/** The directory-relative backing name as QEMU resolves it (bdrv_get_full_backing_filename()). */
export function fullBackingFilename(overlayFilename: string, backing: string): string {
  if (isAbsolute(backing) || /^[a-z0-9+.-]+:/i.test(backing)) return backing;
  return join(dirname(overlayFilename), backing);
}

async function openBacking(
  bs: BlockDriverState,
  drv: Qcow2Driver,
  o: BlockOpenOptions,
  ctx: OpenContext,
): Promise<void> {
  bs.backingFile = drv.header.backingFile;
  bs.backingFormat = drv.header.backingFormat;
  if (o.backing === null || ctx.noBacking) return;
  let backing: BlockDriverState;
  if (typeof o.backing === 'string') {
    backing = lookupReference(o.backing);
    backing.refcnt++;
  } else if (o.backing) {
    backing = await bdrvOpen({ ...o.backing, 'read-only': true }, { parentReadOnly: true });
  } else {
    if (!bs.backingFile) return;
    const path = fullBackingFilename(bs.filename, bs.backingFile);
    try {
      backing = await bdrvOpen(
        { driver: bs.backingFormat ?? undefined, filename: path, 'read-only': true },
        {},
      );
    } catch (e) {
      if (e instanceof QapiError) throw e.prepend('Could not open backing file: ');
      throw e;
    }
  }
  bs.backing = backing;
  drv.backing = { getLength: () => backing.getLength(), pread: (off, buf) => backing.drv.pread(off, buf) };
}

/** Drop one reference; the node closes (and releases its children) at zero. */
export async function bdrvUnref(bs: BlockDriverState): Promise<void> {
  if (--bs.refcnt > 0 || bs.closed) return;
  bs.closed = true;
  const i = nodes.indexOf(bs);
  if (i >= 0) nodes.splice(i, 1);
  await bs.drv.close();
  if (bs.backing) await bdrvUnref(bs.backing);
  if (bs.file) await bdrvUnref(bs.file);
}

function bdrvUnrefSync(bs: BlockDriverState): void {
  void bdrvUnref(bs);
}

/** Close every node (at exit), top-down so overlays flush before their files close. */
export async function bdrvCloseAll(): Promise<void> {
  const roots = nodes.filter((n) => !nodes.some((p) => p.file === n || p.backing === n));
  for (const r of roots) {
    r.refcnt = 1;
    await bdrvUnref(r).catch(() => undefined);
  }
}

/** Is `bs` used by some parent node (as file or backing)? */
export function bdrvHasNodeParent(bs: BlockDriverState): boolean {
  return nodes.some((p) => p.file === bs || p.backing === bs);
}
