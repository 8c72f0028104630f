/**
 * The monitor and command-line face of the block layer (QEMU's blockdev.c and block/qapi.c):
 * `-drive` (legacy options mapped to a BlockBackend over a node graph), `-blockdev` and
 * `blockdev-add` (BlockdevOptions through the generated visitor), `blockdev-del`, `query-block`,
 * `query-named-block-nodes`, `-snapshot`/`snapshot=on` temporary overlays, and the default empty
 * drives QEMU's machines get.
 */
import { randomBytes } from 'node:crypto';
import { unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { QapiError } from '../qapi/error.js';
import type * as T from '../qapi/generated/qapi-types.js';
import { visit_type_BlockdevOptions } from '../qapi/generated/qapi-visit.js';
import { QObjectInputVisitor } from '../qapi/visitors/qobject-input-visitor.js';
import { parseJson } from '../qobject/json-parser.js';
import { isQDict, qdict, type QDict } from '../qobject/qobject.js';
import { keyvalParse } from '../util/keyval.js';
import { parseOptionBool, splitQemuOptsParams } from '../util/qemu-option.js';
import { registerBackendLookup } from '../hw/core/qdev-properties-system.js';
import {
  type BlockDriverState,
  type BlockOpenOptions,
  bdrvAllNodes,
  bdrvFindNode,
  bdrvHasNodeParent,
  bdrvOpen,
  bdrvUnref,
} from './block.js';
import { type BlockBackend, blkAll, blkDelete, blkForNode, blkNew, blkRefExists } from './block-backend.js';
import { blockDeviceInfo, blockInfo } from './image-info.js';
import { qcow2Create } from './qcow2-create.js';

registerBackendLookup('drive', (id) => blkRefExists(id));

// ---- temporary snapshot overlays -----------------------------------------------------------

/**
 * bdrv_append_temp_snapshot(): a qcow2 overlay in the temp directory over `bs`, unlinked as soon
 * as it is open so it disappears with the process however it ends. Takes over the caller's
 * reference to `bs`.
 */
export async function appendTempSnapshot(bs: BlockDriverState): Promise<BlockDriverState> {
  const path = join(tmpdir(), `vmstudio-snapshot-${process.pid}-${randomBytes(4).toString('hex')}.qcow2`);
  await qcow2Create({
    filename: path,
    size: bs.getLength(),
    backingFile: bs.filename,
    backingFormat: bs.driverName,
  });
  try {
    const overlay = await bdrvOpen({
      driver: 'qcow2',
      file: { driver: 'file', filename: path, locking: 'off' },
      backing: bs.nodeName,
    });
    overlay.temporary = true;
    bs.refcnt--;
    return overlay;
  } finally {
    unlinkSync(path);
  }
}

// ---- -drive --------------------------------------------------------------------------------

export type DriveInterface = 'none' | 'virtio' | 'ide' | 'scsi' | 'floppy' | 'pflash' | 'mtd' | 'sd' | 'xen';
const INTERFACES: readonly string[] = [
  'none',
  'ide',
  'scsi',
  'floppy',
  'pflash',
  'mtd',
  'sd',
  'virtio',
  'xen',
];
const unitsUsed = new Map<string, number>();

export interface DriveResult {
  blk: BlockBackend;
  /** A device QEMU creates for the drive (if=virtio), as -device options. */
  device: QDict | null;
}

/** cache= modes of -drive (blockdev.c's bdrv_parse_cache_mode()). */
function parseCacheMode(mode: string): { writeback: boolean; direct: boolean; noFlush: boolean } {
  switch (mode) {
    case 'off':
    case 'none':
      return { writeback: true, direct: true, noFlush: false };
    case 'directsync':
      return { writeback: false, direct: true, noFlush: false };
    case 'writeback':
      return { writeback: true, direct: false, noFlush: false };
    case 'unsafe':
      return { writeback: true, direct: false, noFlush: true };
    case 'writethrough':
      return { writeback: false, direct: false, noFlush: false };
    default:
      throw new QapiError(`invalid cache option`);
  }
}

/** drive_new(): parse a -drive argument, open its image, create the BlockBackend. */
export async function driveNew(arg: string, globalSnapshot = false): Promise<DriveResult> {
  const o = new Map<string, string>();
  for (const nv of splitQemuOptsParams(arg)) o.set(nv.name, nv.value);
  const take = (k: string): string | undefined => {
    const v = o.get(k);
    o.delete(k);
    return v;
  };
  const bool = (k: string): boolean | undefined => {
    const v = take(k);
    return v === undefined ? undefined : parseOptionBool(k, v);
  };
  const iface = take('if') ?? 'none';
  if (!INTERFACES.includes(iface)) throw new QapiError(`unsupported bus type '${iface}'`);
  const media = take('media') ?? 'disk';
  if (media !== 'disk' && media !== 'cdrom') throw new QapiError(`'${media}' invalid media`);
  const index = take('index');
  const unitOpt = take('unit');
  take('bus');
  const unit =
    index !== undefined
      ? Number(index)
      : unitOpt !== undefined
        ? Number(unitOpt)
        : (unitsUsed.get(iface) ?? 0);
  if (!Number.isInteger(unit) || unit < 0) throw new QapiError(`invalid unit`);
  unitsUsed.set(iface, Math.max(unitsUsed.get(iface) ?? 0, unit + 1));
  const id = take('id') ?? `${iface}${unit}`;
  if (iface !== 'none' && iface !== 'virtio') {
    throw new QapiError(`machine type does not support if=${iface},bus=0,unit=${unit}`);
  }
  const file = take('file');
  const format = take('format');
  const readOnly = bool('readonly') ?? false;
  const snapshot = (bool('snapshot') ?? false) || globalSnapshot;
  const cacheMode = take('cache');
  const cache = parseCacheMode(cacheMode ?? 'writeback');
  const cw = bool('cache.writeback');
  const cd = bool('cache.direct');
  const cn = bool('cache.no-flush');
  if (cw !== undefined) cache.writeback = cw;
  if (cd !== undefined) cache.direct = cd;
  if (cn !== undefined) cache.noFlush = cn;
  const discard = take('discard');
  const detectZeroes = take('detect-zeroes');
  const werror = take('werror') ?? 'enospc';
  const rerror = take('rerror') ?? 'report';
  for (const [k, v, allowed] of [
    ['werror', werror, ['ignore', 'report', 'stop', 'enospc']],
    ['rerror', rerror, ['ignore', 'report', 'stop']],
  ] as const) {
    if (!(allowed as readonly string[]).includes(v))
      throw new QapiError(`'${v}' invalid ${k === 'werror' ? 'write' : 'read'} error action`);
  }
  const aio = take('aio');
  if (aio !== undefined && aio !== 'threads' && aio !== 'native' && aio !== 'io_uring') {
    throw new QapiError(`invalid aio option`);
  }
  if (bool('copy-on-read')) throw new QapiError('copy-on-read is not supported by this engine');
  const nodeName = take('node-name');
  const fileOpts: BlockOpenOptions = { driver: 'file' };
  for (const k of [...o.keys()]) {
    if (k.startsWith('file.')) {
      const sub = k.slice(5);
      const v = take(k)!;
      if (sub === 'locking') {
        if (v !== 'on' && v !== 'off' && v !== 'auto')
          throw new QapiError(`Parameter 'locking' does not accept value '${v}'`);
        fileOpts.locking = v;
      } else if (sub === 'filename') fileOpts.filename = v;
      else if (sub === 'driver') {
        if (v !== 'file') throw new QapiError(`Unknown protocol '${v}'`);
      } else if (sub !== 'aio')
        throw new QapiError(`Block protocol 'file' does not support the option '${sub}'`);
    }
  }
  const leftover = [...o.keys()][0];
  if (leftover !== undefined) {
    throw new QapiError(`Block format '${format ?? 'raw'}' does not support the option '${leftover}'`);
  }
  if (format !== undefined && format !== 'raw' && format !== 'qcow2') {
    throw new QapiError(format === 'help' ? 'Supported formats: qcow2 raw' : `'${format}' invalid format`);
  }
  if (discard !== undefined && !['ignore', 'off', 'unmap', 'on'].includes(discard)) {
    throw new QapiError(`Invalid discard option`);
  }
  if (detectZeroes !== undefined && !['off', 'on', 'unmap'].includes(detectZeroes)) {
    throw new QapiError(`Parameter 'detect-zeroes' does not accept value '${detectZeroes}'`);
  }

  let root: BlockDriverState | null = null;
  if (file !== undefined && file !== '') {
    fileOpts.filename = file;
    const opts: BlockOpenOptions = {
      driver: format,
      'node-name': nodeName,
      'read-only': readOnly,
      discard: discard === 'unmap' || discard === 'on' ? 'unmap' : 'ignore',
      'detect-zeroes': (detectZeroes as BlockOpenOptions['detect-zeroes']) ?? 'off',
      cache: { direct: cache.direct, 'no-flush': cache.noFlush },
      file: fileOpts,
    };
    root = await bdrvOpen(opts, { warnProbedRaw: true });
    if (snapshot && !readOnly) {
      try {
        root = await appendTempSnapshot(root);
      } catch (e) {
        await bdrvUnref(root);
        throw e;
      }
    }
  }
  let blk: BlockBackend;
  try {
    blk = blkNew(id, root);
  } catch (e) {
    if (root) await bdrvUnref(root);
    if (e instanceof QapiError && /already exists/.test(e.message))
      throw new QapiError(`drive with id '${id}' already exists`);
    throw e;
  }
  blk.writeCache = cache.writeback;
  blk.legacy = { interface: iface, media };
  blk.werror = werror as BlockBackend['werror'];
  blk.rerror = rerror as BlockBackend['rerror'];
  const device = iface === 'virtio' ? qdict({ driver: 'virtio-blk', drive: id }) : null;
  return { blk, device };
}

/** The empty default drives vl.c adds unless -nodefaults (cdrom on the default bus, floppy, sd). */
export function driveAddDefaults(flags: { noCdrom: boolean; noFloppy: boolean; noSdcard: boolean }): void {
  const add = (name: string, iface: string, media: 'disk' | 'cdrom'): void => {
    if (blkAll().some((b) => b.name === name)) return;
    const blk = blkNew(name, null);
    blk.legacy = { interface: iface, media };
  };
  if (!flags.noCdrom) add('none2', 'none', 'cdrom');
  if (!flags.noFloppy) add('floppy0', 'floppy', 'disk');
  if (!flags.noSdcard) add('sd0', 'sd', 'disk');
}

// ---- -blockdev / blockdev-add ---------------------------------------------------------------

/** -blockdev's argument: JSON or dotted keyval, checked against BlockdevOptions. */
export function blockdevParseCli(arg: string): T.BlockdevOptions {
  if (arg.startsWith('{')) {
    const d = parseJson(arg);
    if (!isQDict(d)) throw new QapiError('JSON argument must be an object');
    return visit_type_BlockdevOptions(new QObjectInputVisitor(d), null);
  }
  const { dict } = keyvalParse(arg, 'driver');
  return visit_type_BlockdevOptions(new QObjectInputVisitor(dict, { keyval: true }), null);
}

/** The generated BlockdevOptions (or a BlockdevRef inside it) as the graph's open options. */
function toOpenOptions(o: T.BlockdevOptions): BlockOpenOptions {
  const r = o as unknown as Record<string, unknown>;
  const out: BlockOpenOptions = {
    driver: o.driver,
    'node-name': o['node-name'],
    'read-only': o['read-only'],
    'auto-read-only': o['auto-read-only'],
    'force-share': o['force-share'],
    discard: o.discard,
    cache: o.cache,
    'detect-zeroes': o['detect-zeroes'],
  };
  if (o.driver === 'file') {
    out.filename = o.filename;
    out.locking = o.locking;
    return out;
  }
  const ref = (v: unknown): BlockOpenOptions | string =>
    typeof v === 'string' ? v : toOpenOptions(v as T.BlockdevOptions);
  out.file = ref(r['file']);
  if (o.driver === 'raw') {
    out.offset = o.offset;
    out.size = o.size;
  } else {
    if (o.encrypt) throw new QapiError('Encrypted qcow2 images are not supported by this engine');
    if (o['data-file'] !== undefined)
      throw new QapiError('External data files are not supported by this engine');
    if (o['lazy-refcounts']) throw new QapiError('Lazy refcounts are not supported by this engine');
    const b = o.backing;
    if (b !== undefined) out.backing = b === null || b === '' ? null : ref(b);
  }
  return out;
}

/** qmp_blockdev_add(): the root needs a node-name; the monitor owns the new node. */
export async function qmpBlockdevAdd(o: T.BlockdevOptions): Promise<void> {
  if (o['node-name'] === undefined) throw new QapiError("'node-name' must be specified for the root node");
  const bs = await bdrvOpen(toOpenOptions(o));
  bs.monitorOwned = true;
}

/** qmp_blockdev_del() */
export async function qmpBlockdevDel(nodeName: string): Promise<void> {
  const bs = bdrvFindNode(nodeName);
  if (!bs) throw new QapiError(`Failed to find node with node-name='${nodeName}'`);
  if (blkForNode(bs)) throw new QapiError(`Node ${nodeName} is in use`);
  if (!bs.monitorOwned) throw new QapiError(`Node ${nodeName} is not owned by the monitor`);
  if (bs.refcnt > 1 || bdrvHasNodeParent(bs)) throw new QapiError(`Block device ${nodeName} is in use`);
  bs.monitorOwned = false;
  await bdrvUnref(bs);
}

// ---- queries -------------------------------------------------------------------------------

/** qmp_query_block(): named backends and anonymous ones a device uses. */
export function qmpQueryBlock(): T.BlockInfo[] {
  return blkAll()
    .filter((b) => b.name !== '' || b.dev !== null)
    .map((b) => blockInfo(b) as unknown as T.BlockInfo);
}

/** qmp_query_named_block_nodes() */
export function qmpQueryNamedBlockNodes(flat = false): T.BlockDeviceInfo[] {
  return bdrvAllNodes().map((bs) => blockDeviceInfo(null, bs, flat) as unknown as T.BlockDeviceInfo);
}

/** Close backends and monitor-owned nodes (quit). */
export async function blockdevCloseAll(): Promise<void> {
  for (const b of [...blkAll()]) await blkDelete(b).catch(() => undefined);
  for (const bs of [...bdrvAllNodes()]) {
    if (bs.monitorOwned) {
      bs.monitorOwned = false;
      await bdrvUnref(bs).catch(() => undefined);
    }
  }
}
