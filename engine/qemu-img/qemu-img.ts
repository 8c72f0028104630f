/**
 * `vmstudio-img`: the engine's qemu-img (QEMU's qemu-img.c) for create, info, check, snapshot,
 * convert and resize, on the engine's block layer. Output, error texts and exit codes follow
 * qemu-img 7.2 so scripts and users comparing the two see the same thing (with our program name
 * in front of errors, as qemu-img puts its own).
 */
import { open as fsOpen } from 'node:fs/promises';
import { deflateRawSync } from 'node:zlib';
import { QapiError } from '../qapi/error.js';
import { toJson } from '../qobject/json-writer.js';
import { qdict, type QDict } from '../qobject/qobject.js';
import { qemuStrtosz } from '../util/cutils.js';
import { splitQemuOptsParams } from '../util/qemu-option.js';
import { type BlockDriverState, bdrvOpen, bdrvUnref, fullBackingFilename } from '../block/block.js';
import { BlockIoError } from '../block/block-error.js';
import { imageInfo, imageInfoDump, snapshotTable } from '../block/image-info.js';
import { Qcow2Driver } from '../block/qcow2.js';
import { qcow2Check, type CheckFix, type Qcow2CheckResult } from '../block/qcow2-check.js';
import { qcow2Create } from '../block/qcow2-create.js';
import {
  findSnapshot,
  qcow2SnapshotCreate,
  qcow2SnapshotDelete,
  qcow2SnapshotGoto,
} from '../block/qcow2-snapshot.js';
import { setBlockWarningSink } from '../block/block-warn.js';

export const IMG_PROG = 'vmstudio-img';

export interface ImgIo {
  out(text: string): void;
  err(text: string): void;
}

/** error_report() with optional filename location and hint lines (printed unprefixed). */
class ImgError extends Error {
  constructor(
    message: string,
    readonly hint = '',
    readonly code = 1,
  ) {
    super(message);
  }
}

const USAGE_HINT = `Try '${IMG_PROG} --help' for more information\n`;

function helpText(): string {
  return (
    `${IMG_PROG}: VM Studio disk image utility (qemu-img compatible)\n` +
    `usage: ${IMG_PROG} [standard options] command [command options]\n\n` +
    'Command syntax:\n' +
    '  check [-q] [-f fmt] [--output=ofmt] [-r [leaks | all]] [-U] filename\n' +
    '  create [-q] [-f fmt] [-b backing_file [-F backing_fmt]] [-u] [-o options] filename [size]\n' +
    '  convert [-c] [-f fmt] [-O output_fmt] [-o options] [-q] [-U] filename [filename2 [...]] output_filename\n' +
    '  info [-f fmt] [--output=ofmt] [--backing-chain] [-U] filename\n' +
    '  resize [-f fmt] [-q] filename [+ | -]size\n' +
    '  snapshot [-q] [-l | -a snapshot | -c snapshot | -d snapshot] [-U] filename\n\n' +
    'Supported formats: qcow2 raw\n'
  );
}

interface Parsed {
  opts: Map<string, string[]>;
  args: string[];
}

/** getopt_long() for one subcommand: `spec` lists short options, ':' after one that takes a value. */
function getopt(argv: string[], spec: string, longs: Record<string, boolean>): Parsed {
  const opts = new Map<string, string[]>();
  const args: string[] = [];
  const add = (k: string, v: string): void => {
    opts.set(k, [...(opts.get(k) ?? []), v]);
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') {
      args.push(...argv.slice(i + 1));
      break;
    }
    if (a.startsWith('--')) {
      const [name, inline] = a.slice(2).split(/=(.*)/s, 2) as [string, string | undefined];
      if (!(name in longs)) throw new ImgError(`unrecognized option '${a}'`, USAGE_HINT);
      if (longs[name]) {
        const v = inline ?? argv[++i];
        if (v === undefined) throw new ImgError(`option '--${name}' requires an argument`, USAGE_HINT);
        add(name, v);
      } else add(name, '');
      continue;
    }
    if (a.startsWith('-') && a.length > 1) {
      for (let j = 1; j < a.length; j++) {
        const c = a[j]!;
        const at = spec.indexOf(c);
        if (at < 0 || c === ':') throw new ImgError(`invalid option -- '${c}'`, USAGE_HINT);
        if (spec[at + 1] === ':') {
          const v = j + 1 < a.length ? a.slice(j + 1) : argv[++i];
          if (v === undefined) throw new ImgError(`option requires an argument -- '${c}'`, USAGE_HINT);
          add(c, v);
          break;
        }
        add(c, '');
      }
      continue;
    }
    args.push(a);
  }
  return { opts, args };
}

const last = (p: Parsed, k: string): string | undefined => p.opts.get(k)?.at(-1);

function parseSize(s: string): number {
  const r = qemuStrtosz(s);
  if (r.error === 'ERANGE' || (r.error === null && r.value > 0x7fffffffffffffffn)) {
    throw new ImgError('Invalid image size specified. Must be between 0 and 9223372036854775807.');
  }
  if (r.error) {
    throw new ImgError(
      'Invalid image size specified. You may use k, M, G, T, P or E suffixes for',
      `${IMG_PROG}: kilobytes, megabytes, gigabytes, terabytes, petabytes and exabytes.\n`,
    );
  }
  if (r.value > BigInt(Number.MAX_SAFE_INTEGER)) throw new ImgError('Image size too large for this engine');
  return Number(r.value);
}

async function openImage(
  filename: string,
  fmt: string | undefined,
  readOnly: boolean,
  o: { noBacking?: boolean; forceShare?: boolean } = {},
): Promise<BlockDriverState> {
  if (fmt !== undefined && fmt !== 'raw' && fmt !== 'qcow2')
    throw new ImgError(`Unknown file format '${fmt}'`);
  try {
    return await bdrvOpen(
      { driver: fmt, filename, 'read-only': readOnly, locking: o.forceShare ? 'off' : 'auto' },
      { noBacking: o.noBacking },
    );
  } catch (e) {
    if (e instanceof QapiError)
      throw new ImgError(`Could not open '${filename}': ${e.message}`, e.hint ?? '');
    throw e;
  }
}

// ---- create --------------------------------------------------------------------------------

const CREATE_OPTS: Record<string, string[]> = {
  raw: ['size', 'preallocation'],
  qcow2: [
    'size',
    'compat',
    'backing_file',
    'backing_fmt',
    'cluster_size',
    'preallocation',
    'lazy_refcounts',
    'refcount_bits',
    'compression_type',
    'extended_l2',
    'encryption',
    'data_file',
  ],
};

function parseCreateOpts(fmt: string, list: string[]): Map<string, string> {
  const m = new Map<string, string>();
  for (const s of list) {
    for (const nv of splitQemuOptsParams(s)) {
      if (!CREATE_OPTS[fmt]!.includes(nv.name)) throw new QapiError(`Invalid parameter '${nv.name}'`);
      m.set(nv.name, nv.value);
    }
  }
  return m;
}

function onOff(name: string, v: string | undefined): boolean {
  if (v === undefined || v === 'off' || v === 'false' || v === 'no') return false;
  if (v === 'on' || v === 'true' || v === 'yes') return true;
  throw new QapiError(`Parameter '${name}' expects 'on' or 'off'`);
}

/** The "Formatting ..." line: options in qemu-img's order, defaults included. */
function formattingLine(filename: string, fmt: string, o: Map<string, string>, size: number): string {
  let s = `Formatting '${filename}', fmt=${fmt}`;
  const put = (k: string, v: string | undefined): void => {
    if (v !== undefined) s += ` ${k}=${v}`;
  };
  if (fmt === 'raw') {
    put('preallocation', o.get('preallocation'));
    put('size', String(size));
    return s;
  }
  put('cluster_size', o.get('cluster_size') ?? '65536');
  put('extended_l2', o.get('extended_l2') ?? 'off');
  put('preallocation', o.get('preallocation'));
  put('compression_type', o.get('compression_type') ?? 'zlib');
  put('size', String(size));
  put('compat', o.get('compat'));
  put('backing_file', o.get('backing_file'));
  put('backing_fmt', o.get('backing_fmt'));
  put('lazy_refcounts', o.get('lazy_refcounts') ?? 'off');
  put('refcount_bits', o.get('refcount_bits') ?? '16');
  return s;
}

/** bdrv_img_create() */
async function imgCreateFile(
  io: ImgIo,
  filename: string,
  fmt: string,
  o: Map<string, string>,
  sizeArg: number | undefined,
  quiet: boolean,
): Promise<void> {
  let size = sizeArg ?? (o.has('size') ? parseSize(o.get('size')!) : undefined);
  const backing = o.get('backing_file');
  if (fmt === 'raw' && backing) throw new QapiError("Invalid parameter 'backing_file'");
  if (backing) {
    if (!o.has('backing_fmt')) {
      const probe = await bdrvOpen(
        { filename: fullBackingFilename(filename, backing), 'read-only': true },
        { noBacking: true },
      ).catch(() => null);
      const e = new QapiError('Backing file specified without backing format');
      if (probe) {
        e.hint = `Detected format of ${probe.driverName}.`;
        await bdrvUnref(probe);
      }
      throw e;
    }
    // The backing file must open; its size is the default size.
    let bs: BlockDriverState;
    try {
      bs = await bdrvOpen({
        driver: o.get('backing_fmt'),
        filename: fullBackingFilename(filename, backing),
        'read-only': true,
        locking: 'off',
      });
    } catch (e) {
      if (e instanceof QapiError) {
        e.hint = 'Could not open backing image.';
        throw e;
      }
      throw e;
    }
    size ??= bs.getLength();
    await bdrvUnref(bs);
  }
  if (size === undefined) throw new QapiError('Image creation needs a size parameter');
  const pre = o.get('preallocation');
  if (pre !== undefined && pre !== 'off')
    throw new QapiError(`Parameter 'preallocation' does not accept value '${pre}'`);
  if (!quiet) io.out(formattingLine(filename, fmt, o, size) + '\n');
  if (fmt === 'raw') {
    const fh = await fsOpen(filename, 'w').catch((e: NodeJS.ErrnoException) => {
      throw new QapiError(
        `Could not create '${filename}': ${e.code === 'ENOENT' ? 'No such file or directory' : e.message}`,
      );
    });
    await fh.truncate(Math.ceil(size / 512) * 512);
    await fh.close();
    return;
  }
  const compat = o.get('compat');
  let version: 2 | 3 = 3;
  if (compat !== undefined) {
    if (compat === '0.10' || compat === 'v2') version = 2;
    else if (compat === '1.1' || compat === 'v3') version = 3;
    else throw new QapiError(`Parameter 'version' does not accept value '${compat}'`);
  }
  const ct = o.get('compression_type');
  if (ct !== undefined && ct !== 'zlib') {
    throw new QapiError(
      ct === 'zstd'
        ? 'Compression type zstd is not supported by this engine'
        : `Parameter 'compression-type' does not accept value '${ct}'`,
    );
  }
  if (onOff('extended_l2', o.get('extended_l2')))
    throw new QapiError('Extended L2 entries are not supported by this engine');
  if (o.has('encryption') || o.has('data_file'))
    throw new QapiError('Encryption and external data files are not supported by this engine');
  const cs = o.has('cluster_size') ? parseSize(o.get('cluster_size')!) : undefined;
  const rb = o.has('refcount_bits') ? Number(o.get('refcount_bits')) : undefined;
  await qcow2Create({
    filename,
    size,
    clusterSize: cs,
    version,
    refcountBits: rb,
    backingFile: backing ?? null,
    backingFormat: o.get('backing_fmt') ?? null,
    lazyRefcounts: onOff('lazy_refcounts', o.get('lazy_refcounts')),
  });
}

async function cmdCreate(io: ImgIo, argv: string[]): Promise<number> {
  const p = getopt(argv, 'F:b:f:ho:qu', { help: false });
  const fmt = last(p, 'f') ?? 'raw';
  const quiet = p.opts.has('q');
  if (p.args.length < 1) throw new ImgError('Expecting image file name', USAGE_HINT);
  if (p.args.length > 2) throw new ImgError(`Unexpected argument: ${p.args[2]}`, USAGE_HINT);
  const filename = p.args[0]!;
  const size = p.args[1] !== undefined ? parseSize(p.args[1]) : undefined;
  try {
    if (!(fmt in CREATE_OPTS)) throw new QapiError(`Unknown file format '${fmt}'`);
    const o = parseCreateOpts(fmt, p.opts.get('o') ?? []);
    if (last(p, 'b') !== undefined) o.set('backing_file', last(p, 'b')!);
    if (last(p, 'F') !== undefined) o.set('backing_fmt', last(p, 'F')!);
    await imgCreateFile(io, filename, fmt, o, size, quiet);
  } catch (e) {
    if (e instanceof QapiError) throw new ImgError(`${filename}: ${e.message}`, e.hint ?? '');
    throw e;
  }
  return 0;
}

// ---- info ----------------------------------------------------------------------------------

async function cmdInfo(io: ImgIo, argv: string[]): Promise<number> {
  const p = getopt(argv, 'f:hU', { output: true, 'backing-chain': false, 'force-share': false, help: false });
  const output = last(p, 'output') ?? 'human';
  if (output !== 'human' && output !== 'json')
    throw new ImgError(`--output must be used with human or json as argument.`);
  if (p.args.length !== 1) throw new ImgError('Expecting one image file name', USAGE_HINT);
  const chain = p.opts.has('backing-chain');
  const bs = await openImage(p.args[0]!, last(p, 'f'), true, {
    noBacking: !chain,
    forceShare: p.opts.has('U') || p.opts.has('force-share'),
  });
  try {
    const infos: QDict[] = [];
    for (let b: BlockDriverState | null = bs; b; b = chain ? b.backing : null)
      infos.push(imageInfo(b, false));
    if (output === 'json') io.out(toJson(chain ? infos : infos[0]!, true, { qdictOrder: true }) + '\n');
    else io.out(infos.map(imageInfoDump).join('\n'));
  } finally {
    await bdrvUnref(bs);
  }
  return 0;
}

// ---- check ---------------------------------------------------------------------------------

function checkReport(io: ImgIo, r: Qcow2CheckResult): void {
  if (r.corruptionsFixed || r.leaksFixed) {
    io.out(
      'The following inconsistencies were found and repaired:\n\n' +
        `    ${r.leaksFixed} leaked clusters\n    ${r.corruptionsFixed} corruptions\n\n` +
        'Double checking the fixed image now...\n',
    );
  }
}

function checkSummary(io: ImgIo, r: Qcow2CheckResult): void {
  if (!r.corruptions && !r.leaks && !r.checkErrors) {
    io.out('No errors were found on the image.\n');
  } else {
    if (r.corruptions) {
      io.out(
        `\n${r.corruptions} errors were found on the image.\nData may be corrupted, or further writes to the image may corrupt it.\n`,
      );
    }
    if (r.leaks) {
      io.out(
        `\n${r.leaks} leaked clusters were found on the image.\nThis means waste of disk space, but no harm to data.\n`,
      );
    }
    if (r.checkErrors) io.out(`\n${r.checkErrors} internal errors have occurred during the check.\n`);
  }
  if (r.totalClusters && r.allocatedClusters) {
    const pct = (n: number, d: number): string => ((n * 100) / d).toFixed(2);
    io.out(
      `${r.allocatedClusters}/${r.totalClusters} = ${pct(r.allocatedClusters, r.totalClusters)}% allocated, ` +
        `${pct(r.fragmentedClusters, r.allocatedClusters)}% fragmented, ${pct(r.compressedClusters, r.allocatedClusters)}% compressed clusters\n`,
    );
  }
  if (r.imageEndOffset) io.out(`Image end offset: ${r.imageEndOffset}\n`);
}

async function cmdCheck(io: ImgIo, argv: string[]): Promise<number> {
  const p = getopt(argv, 'f:hqr:TU', { output: true, repair: true, 'force-share': false, help: false });
  const output = last(p, 'output') ?? 'human';
  if (output !== 'human' && output !== 'json')
    throw new ImgError(`--output must be used with human or json as argument.`);
  const r = last(p, 'r') ?? last(p, 'repair');
  if (r !== undefined && r !== 'leaks' && r !== 'all') {
    throw new ImgError(`Unknown option value for -r (expecting 'leaks' or 'all'): ${r}`);
  }
  const fix: CheckFix = (r as CheckFix | undefined) ?? 'none';
  if (p.args.length !== 1) throw new ImgError('Expecting one image file name', USAGE_HINT);
  const filename = p.args[0]!;
  const quiet = p.opts.has('q');
  const bs = await openImage(filename, last(p, 'f'), fix === 'none', {
    noBacking: true,
    forceShare: p.opts.has('U'),
  });
  try {
    const drv = bs.drv;
    if (!(drv instanceof Qcow2Driver)) {
      if (output === 'json') throw new ImgError('This image format does not support checks', '', 63);
      throw new ImgError('This image format does not support checks', '', 63);
    }
    const log = (line: string): void => io.err(line + '\n');
    let res = await qcow2Check(drv, fix, log);
    const repaired = res.corruptionsFixed + res.leaksFixed;
    if (repaired) {
      const again = await qcow2Check(drv, 'none', log);
      again.leaksFixed = res.leaksFixed;
      again.corruptionsFixed = res.corruptionsFixed;
      res = again;
    }
    if (output === 'json') {
      const d = qdict({ filename, format: bs.driverName, 'check-errors': res.checkErrors });
      if (res.imageEndOffset) d['image-end-offset'] = res.imageEndOffset;
      if (res.corruptions) d['corruptions'] = res.corruptions;
      if (res.leaks) d['leaks'] = res.leaks;
      if (res.corruptionsFixed) d['corruptions-fixed'] = res.corruptionsFixed;
      if (res.leaksFixed) d['leaks-fixed'] = res.leaksFixed;
      if (res.totalClusters) d['total-clusters'] = res.totalClusters;
      if (res.allocatedClusters) d['allocated-clusters'] = res.allocatedClusters;
      if (res.fragmentedClusters) d['fragmented-clusters'] = res.fragmentedClusters;
      if (res.compressedClusters) d['compressed-clusters'] = res.compressedClusters;
      io.out(toJson(d, true, { qdictOrder: true }) + '\n');
    } else if (!quiet) {
      checkReport(io, res);
      checkSummary(io, res);
    }
    if (res.checkErrors) return 1;
    if (res.corruptions) return 2;
    if (res.leaks) return 3;
    return 0;
  } finally {
    await bdrvUnref(bs);
  }
}

// ---- snapshot ------------------------------------------------------------------------------

async function cmdSnapshot(io: ImgIo, argv: string[]): Promise<number> {
  const p = getopt(argv, 'la:c:d:hqU', { 'force-share': false, help: false });
  const actions = (['l', 'a', 'c', 'd'] as const).filter((k) => p.opts.has(k));
  if (actions.length > 1) throw new ImgError("Cannot mix '-l', '-a', '-c', '-d'", USAGE_HINT);
  const action = actions[0] ?? 'l';
  if (p.args.length !== 1) throw new ImgError('Expecting one image file name', USAGE_HINT);
  const filename = p.args[0]!;
  const name = action === 'l' ? '' : last(p, action)!;
  const bs = await openImage(filename, undefined, action === 'l', {
    noBacking: true,
    forceShare: p.opts.has('U'),
  });
  try {
    const drv = bs.drv;
    const q = drv instanceof Qcow2Driver ? drv : null;
    const fail = (what: string, msg: string): never => {
      throw new ImgError(`Could not ${what} snapshot '${name}': ${msg}`);
    };
    switch (action) {
      case 'l':
        if (q && q.snapshots.length) io.out('Snapshot list:\n' + snapshotTable(q.snapshots));
        break;
      case 'c':
        if (!q) fail('create', 'Operation not supported');
        await qcow2SnapshotCreate(q!, { name }).catch((e: Error) => fail('create', e.message));
        break;
      case 'a':
        if (!q) fail('apply', 'Failed to load snapshot: Operation not supported');
        await qcow2SnapshotGoto(q!, name).catch((e: Error) => fail('apply', e.message));
        break;
      case 'd':
        if (!q) fail('delete', 'Operation not supported');
        if (!findSnapshot(q!, name) || !q!.snapshots.some((s) => s.name === name))
          fail('delete', 'snapshot not found');
        await qcow2SnapshotDelete(q!, null, name).catch((e: Error) => fail('delete', e.message));
        break;
    }
    await drv.flush();
  } finally {
    await bdrvUnref(bs);
  }
  return 0;
}

// ---- convert -------------------------------------------------------------------------------

const CHUNK = 2 * 1024 * 1024;

function isZero(b: Uint8Array): boolean {
  for (let i = 0; i < b.length; i++) if (b[i] !== 0) return false;
  return true;
}

async function cmdConvert(io: ImgIo, argv: string[]): Promise<number> {
  const p = getopt(argv, 'cf:hO:o:pqS:UnW', { 'force-share': false, help: false });
  const outFmt = last(p, 'O') ?? 'raw';
  const compress = p.opts.has('c');
  if (p.args.length < 2) throw new ImgError('Expecting image file name', USAGE_HINT);
  const srcNames = p.args.slice(0, -1);
  const outName = p.args.at(-1)!;
  if (!(outFmt in CREATE_OPTS)) throw new ImgError(`Unknown file format '${outFmt}'`);
  if (compress && outFmt !== 'qcow2') throw new ImgError('Compression not supported for this file format');
  const srcs: BlockDriverState[] = [];
  let out: BlockDriverState | null = null;
  try {
    for (const n of srcNames)
      srcs.push(await openImage(n, last(p, 'f'), true, { forceShare: p.opts.has('U') }));
    const total = srcs.reduce((n, s) => n + s.getLength(), 0);
    if (!p.opts.has('n')) {
      try {
        const o = parseCreateOpts(outFmt, p.opts.get('o') ?? []);
        await imgCreateFile(io, outName, outFmt, o, total, true);
      } catch (e) {
        if (e instanceof QapiError)
          throw new ImgError(`${outName}: error while converting ${outFmt}: ${e.message}`);
        throw e;
      }
    }
    out = await openImage(outName, outFmt, false);
    const od = out.drv;
    const cs = od instanceof Qcow2Driver ? od.clusterSize : 65536;
    const chunk = compress ? cs : Math.max(CHUNK - (CHUNK % cs), cs);
    let base = 0;
    for (const src of srcs) {
      const len = src.getLength();
      for (let off = 0; off < len;) {
        const n = Math.min(chunk, len - off);
        const st = src.drv.blockStatus
          ? await src.drv.blockStatus(off, n)
          : { bytes: n, zero: false, allocated: true };
        // Zero extents stay unallocated in the fresh target (it reads as zeroes already).
        if (st.zero && !src.backing) {
          off += st.bytes;
          continue;
        }
        const buf = new Uint8Array(n);
        await src.drv.pread(off, buf);
        if (!isZero(buf)) {
          if (compress && n === cs && od instanceof Qcow2Driver && (base + off) % cs === 0) {
            const c = deflateRawSync(buf, { windowBits: 12, memLevel: 9 });
            if (c.length < cs - 512) await od.writeCompressed(base + off, c);
            else await od.pwrite(base + off, buf);
          } else {
            await od.pwrite(base + off, buf);
          }
        }
        off += n;
      }
      base += len;
    }
    await od.flush();
  } catch (e) {
    if (e instanceof BlockIoError) throw new ImgError(`error while writing at byte 0: ${e.message}`);
    throw e;
  } finally {
    if (out) await bdrvUnref(out);
    for (const s of srcs) await bdrvUnref(s);
  }
  return 0;
}

// ---- resize --------------------------------------------------------------------------------

async function cmdResize(io: ImgIo, argv: string[]): Promise<number> {
  // A leading '-' of a relative size is not an option.
  const sizeArg = argv.at(-1);
  const p = getopt(argv.slice(0, -1), 'f:hqU', { shrink: false, help: false });
  if (sizeArg === undefined || p.args.length !== 1)
    throw new ImgError('Expecting image file name and size', USAGE_HINT);
  const filename = p.args[0]!;
  const rel = sizeArg[0] === '+' ? 1 : sizeArg[0] === '-' ? -1 : 0;
  const n = parseSize(rel ? sizeArg.slice(1) : sizeArg);
  const bs = await openImage(filename, last(p, 'f'), false, { noBacking: true });
  try {
    const cur = bs.getLength();
    const size = rel ? cur + rel * n : n;
    if (size < 0) throw new ImgError('New image size must be positive');
    if (size < cur && !p.opts.has('shrink')) {
      throw new ImgError(
        'Use the --shrink option to perform a shrink operation.',
        `${IMG_PROG}: warning: Shrinking an image will delete all data beyond the shrunken image's end. Before performing such an operation, make sure there is no important data there.\n`,
      );
    }
    if (!bs.drv.truncate) throw new ImgError('Image format driver does not support resize');
    try {
      await bs.drv.truncate(size);
    } catch (e) {
      throw new ImgError(e instanceof Error ? e.message : String(e));
    }
    await bs.drv.flush();
    if (!p.opts.has('q')) io.out('Image resized.\n');
  } finally {
    await bdrvUnref(bs);
  }
  return 0;
}

// ---- main ----------------------------------------------------------------------------------

const COMMANDS: Record<string, (io: ImgIo, argv: string[]) => Promise<number>> = {
  create: cmdCreate,
  info: cmdInfo,
  check: cmdCheck,
  snapshot: cmdSnapshot,
  convert: cmdConvert,
  resize: cmdResize,
};

/** Run one vmstudio-img command line; resolves with the exit code. */
export async function imgMain(argv: string[], io: ImgIo): Promise<number> {
  const restore = setBlockWarningSink((line) => io.err(line + '\n'));
  try {
    const cmd = argv[0];
    if (cmd === undefined) {
      io.err(`${IMG_PROG}: Not enough arguments\n${USAGE_HINT}`);
      return 1;
    }
    if (cmd === '-h' || cmd === '--help') {
      io.out(helpText());
      return 0;
    }
    if (cmd === '-V' || cmd === '--version') {
      io.out(`${IMG_PROG} version 7.2.0 (VM Studio)\n`);
      return 0;
    }
    const fn = COMMANDS[cmd];
    if (!fn) {
      io.err(`${IMG_PROG}: Command not found: ${cmd}\n`);
      return 1;
    }
    return await fn(io, argv.slice(1));
  } catch (e) {
    if (e instanceof ImgError) {
      io.err(`${IMG_PROG}: ${e.message}\n${e.hint && !e.hint.endsWith('\n') ? e.hint + '\n' : e.hint}`);
      return e.code;
    }
    if (e instanceof QapiError) {
      io.err(`${IMG_PROG}: ${e.message}\n`);
      return 1;
    }
    throw e;
  } finally {
    restore();
  }
}
