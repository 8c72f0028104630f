/**
 * Creating a qcow2 image as `qemu-img create -f qcow2` does (QEMU's qcow2_co_create()): write a
 * header, a one-cluster refcount table and one refcount block describing the first clusters with
 * an empty L1 table, then open it and grow it to the requested size through the driver, so the
 * L1 table (and, for small clusters, more refcount structures) are allocated by the same code the
 * guest's writes use.
 */
import { open } from 'node:fs/promises';
import { QapiError } from '../qapi/error.js';
import { FileDriver } from './file-posix.js';
import { buildQcow2Header, type Qcow2Header } from './qcow2-header.js';
import { Qcow2Driver } from './qcow2.js';
import { writeRefcount } from './qcow2-refcount.js';

export interface Qcow2CreateOptions {
  filename: string;
  size: number;
  clusterSize?: number;
  version?: 2 | 3;
  refcountBits?: number;
  backingFile?: string | null;
  backingFormat?: string | null;
  lazyRefcounts?: boolean;
}

export function validateQcow2CreateOptions(o: Qcow2CreateOptions): void {
  const cs = o.clusterSize ?? 65536;
  if (!Number.isInteger(cs) || cs < 512 || cs > 2 * 1024 * 1024 || (cs & (cs - 1)) !== 0) {
    throw new QapiError('Cluster size must be a power of two between 512 and 2048k');
  }
  const version = o.version ?? 3;
  const rb = o.refcountBits ?? 16;
  if (!Number.isInteger(rb) || rb < 1 || rb > 64 || (rb & (rb - 1)) !== 0) {
    throw new QapiError('Refcount width must be a power of two and may not exceed 64 bits');
  }
  if (version < 3 && rb !== 16) {
    throw new QapiError(
      'Different refcount widths than 16 bits require compatibility level 1.1 or above (use version=v3 or greater)',
    );
  }
  if (o.lazyRefcounts) {
    if (version < 3) {
      throw new QapiError(
        'Lazy refcounts only supported with compatibility level 1.1 and above (use version=v3 or greater)',
      );
    }
    throw new QapiError('Lazy refcounts are not supported by this engine');
  }
  if (o.backingFormat && !o.backingFile)
    throw new QapiError('Backing format cannot be used without backing file');
}

/** Create (or overwrite) `o.filename` as an empty qcow2 image of `o.size` bytes. */
export async function qcow2Create(o: Qcow2CreateOptions): Promise<void> {
  validateQcow2CreateOptions(o);
  const cs = o.clusterSize ?? 65536;
  const clusterBits = Math.log2(cs);
  const version = o.version ?? 3;
  const order = Math.log2(o.refcountBits ?? 16);
  const size = Math.ceil(o.size / 512) * 512;
  const h: Qcow2Header = {
    version,
    backingFileOffset: 0,
    backingFileSize: 0,
    clusterBits,
    size: 0,
    cryptMethod: 0,
    l1Size: 0,
    l1TableOffset: 3 * cs,
    refcountTableOffset: cs,
    refcountTableClusters: 1,
    nbSnapshots: 0,
    snapshotsOffset: 0,
    incompatibleFeatures: 0n,
    compatibleFeatures: 0n,
    autoclearFeatures: 0n,
    refcountOrder: order,
    headerLength: version === 3 ? 112 : 72,
    compressionType: 0,
    backingFile: o.backingFile ?? null,
    backingFormat: o.backingFormat ?? null,
    featureNames: new Map(),
    unknownExtensions: [],
  };
  const header = buildQcow2Header(h, cs);
  const reftable = new Uint8Array(cs);
  new DataView(reftable.buffer).setBigUint64(0, BigInt(2 * cs));
  const refblock = new Uint8Array(cs);
  // Header, refcount table and this block; the L1 table comes with the resize below.
  for (let i = 0; i < 3; i++) writeRefcount(refblock, i, order, 1);

  let fh;
  try {
    fh = await open(o.filename, 'w');
  } catch (e) {
    throw new QapiError(
      `Could not create '${o.filename}': ${(e as Error).message.replace(/^[A-Z]+: /, '').replace(/, open.*$/, '')}`,
    );
  }
  try {
    await fh.write(header, 0, cs, 0);
    await fh.write(reftable, 0, cs, cs);
    await fh.write(refblock, 0, cs, 2 * cs);
  } finally {
    await fh.close();
  }
  const file = await FileDriver.open({ filename: o.filename, readOnly: false, locking: 'off' });
  try {
    const q = await Qcow2Driver.open(file, { readOnly: false });
    await q.truncate(size);
    await q.flush();
  } finally {
    await file.close();
  }
}
