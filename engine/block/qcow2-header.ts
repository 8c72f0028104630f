/**
 * The qcow2 header and its extensions (docs/interop/qcow2.txt), parsed with the checks QEMU's
 * qcow2_do_open() makes, in its order and with its messages, so a malformed image is refused
 * before anything is allocated from its fields.
 */
import { QapiError } from '../qapi/error.js';

export const QCOW_MAGIC = 0x514649fb;
export const QCOW2_EXT_END = 0;
export const QCOW2_EXT_BACKING_FORMAT = 0xe2792aca;
export const QCOW2_EXT_FEATURE_TABLE = 0x6803f857;
export const QCOW2_EXT_BITMAPS = 0x23852875;
export const QCOW2_EXT_CRYPTO = 0x0537be77;
export const QCOW2_EXT_DATA_FILE = 0x44415441;

export const INCOMPAT_DIRTY = 1;
export const INCOMPAT_CORRUPT = 2;
export const INCOMPAT_DATA_FILE = 4;
export const INCOMPAT_COMPRESSION = 8;
export const INCOMPAT_EXTL2 = 16;
export const COMPAT_LAZY_REFCOUNTS = 1;
export const AUTOCLEAR_BITMAPS = 1;
export const AUTOCLEAR_DATA_FILE_RAW = 2;

/** The feature name table QEMU 7.2 writes (type, bit, name). */
export const FEATURE_TABLE: ReadonlyArray<readonly [number, number, string]> = [
  [0, 0, 'dirty bit'],
  [0, 1, 'corrupt bit'],
  [0, 2, 'external data file'],
  [0, 3, 'compression type'],
  [0, 4, 'extended L2 entries'],
  [1, 0, 'lazy refcounts'],
  [2, 0, 'bitmaps'],
  [2, 1, 'raw external data'],
];

export const QCOW_MAX_CRYPT_CLUSTERS = 32;
export const QCOW_MAX_SNAPSHOTS = 65536;
export const QCOW_MAX_REFTABLE_SIZE = 8 * 1024 * 1024;
export const QCOW_MAX_L1_SIZE = 32 * 1024 * 1024;
export const QCOW_MAX_SNAPSHOTS_SIZE = 1024 * QCOW_MAX_SNAPSHOTS;
export const MIN_CLUSTER_BITS = 9;
export const MAX_CLUSTER_BITS = 21;
const INT_MAX = 0x7fffffff;

export interface Qcow2Header {
  version: 2 | 3;
  backingFileOffset: number;
  backingFileSize: number;
  clusterBits: number;
  size: number;
  cryptMethod: number;
  l1Size: number;
  l1TableOffset: number;
  refcountTableOffset: number;
  refcountTableClusters: number;
  nbSnapshots: number;
  snapshotsOffset: number;
  incompatibleFeatures: bigint;
  compatibleFeatures: bigint;
  autoclearFeatures: bigint;
  refcountOrder: number;
  headerLength: number;
  compressionType: number;
  /** From the extensions and the name field. */
  backingFile: string | null;
  backingFormat: string | null;
  featureNames: Map<string, string>;
  /** Unknown extensions, kept so a header rewrite preserves them. */
  unknownExtensions: Array<{ type: number; data: Uint8Array }>;
}

function u64(v: DataView, off: number): number {
  const hi = v.getUint32(off);
  const lo = v.getUint32(off + 4);
  // Fields beyond 2^53 are out of any range we accept; keep them huge so checks refuse them.
  return hi >= 0x200000 ? Number.MAX_SAFE_INTEGER : hi * 0x100000000 + lo;
}

/** validate_table_offset(): cluster aligned and the table does not overflow a 64-bit offset. */
export function tableOffsetValid(
  offset: number,
  entries: number,
  entryLen: number,
  clusterSize: number,
): boolean {
  if (entries > Number.MAX_SAFE_INTEGER / entryLen) return false;
  const size = entries * entryLen;
  if (offset > Number.MAX_SAFE_INTEGER - size) return false;
  return offset % clusterSize === 0;
}

/** The cluster holding the header, parsed and checked; `fileLength` bounds nothing QEMU does not. */
export function parseQcow2Header(cluster0: Uint8Array): Qcow2Header {
  const v = new DataView(cluster0.buffer, cluster0.byteOffset, cluster0.byteLength);
  if (cluster0.length < 72 || v.getUint32(0) !== QCOW_MAGIC)
    throw new QapiError('Image is not in qcow2 format');
  const version = v.getUint32(4);
  if (version < 2 || version > 3) throw new QapiError(`Unsupported qcow2 version ${version}`);
  const clusterBits = v.getUint32(20);
  if (clusterBits < MIN_CLUSTER_BITS || clusterBits > MAX_CLUSTER_BITS) {
    throw new QapiError(`Unsupported cluster size: 2^${clusterBits | 0}`);
  }
  const clusterSize = 2 ** clusterBits;
  const h: Qcow2Header = {
    version: version as 2 | 3,
    backingFileOffset: u64(v, 8),
    backingFileSize: v.getUint32(16),
    clusterBits,
    size: u64(v, 24),
    cryptMethod: v.getUint32(32),
    l1Size: v.getUint32(36),
    l1TableOffset: u64(v, 40),
    refcountTableOffset: u64(v, 48),
    refcountTableClusters: v.getUint32(56),
    nbSnapshots: v.getUint32(60),
    snapshotsOffset: u64(v, 64),
    incompatibleFeatures: 0n,
    compatibleFeatures: 0n,
    autoclearFeatures: 0n,
    refcountOrder: 4,
    headerLength: 72,
    compressionType: 0,
    backingFile: null,
    backingFormat: null,
    featureNames: new Map(),
    unknownExtensions: [],
  };
  if (version === 3) {
    h.incompatibleFeatures = v.getBigUint64(72);
    h.compatibleFeatures = v.getBigUint64(80);
    h.autoclearFeatures = v.getBigUint64(88);
    h.refcountOrder = v.getUint32(96);
    h.headerLength = v.getUint32(100);
    if (h.headerLength < 104) throw new QapiError('qcow2 header too short');
    if (h.headerLength > clusterSize) throw new QapiError('qcow2 header exceeds cluster size');
    if (h.headerLength >= 105) h.compressionType = v.getUint8(104);
  }
  if (h.backingFileOffset > clusterSize) throw new QapiError('Invalid backing file offset');
  const extEnd = h.backingFileOffset ? h.backingFileOffset : clusterSize;
  readExtensions(v, h, h.headerLength, extEnd);

  const unknownIncompat =
    h.incompatibleFeatures &
    ~BigInt(INCOMPAT_DIRTY | INCOMPAT_CORRUPT | INCOMPAT_DATA_FILE | INCOMPAT_COMPRESSION | INCOMPAT_EXTL2);
  if (unknownIncompat) {
    throw new QapiError(`Unsupported qcow2 feature(s): ${describeFeatures(h, 0, unknownIncompat)}`);
  }
  // Features QEMU has and this engine does not implement: refuse them the same way.
  const unsupported = h.incompatibleFeatures & BigInt(INCOMPAT_DATA_FILE | INCOMPAT_EXTL2);
  if (unsupported)
    throw new QapiError(`Unsupported qcow2 feature(s): ${describeFeatures(h, 0, unsupported)}`);
  if (h.incompatibleFeatures & BigInt(INCOMPAT_COMPRESSION)) {
    if (h.compressionType !== 0) {
      throw new QapiError(
        h.compressionType === 1
          ? 'Unsupported compression type: zstd'
          : `Unknown compression type ${h.compressionType}`,
      );
    }
  } else if (h.compressionType !== 0) {
    throw new QapiError(
      `compression_type field is non-zero (${h.compressionType}) but the compression type bit is not set`,
    );
  }
  if (h.refcountOrder > 6)
    throw new QapiError('Reference count entry width too large; may not exceed 64 bits');
  if (h.cryptMethod > 2) throw new QapiError(`Unsupported encryption method ${h.cryptMethod}`);
  if (h.cryptMethod !== 0) throw new QapiError('Encrypted qcow2 images are not supported by this engine');

  if (h.refcountTableClusters > QCOW_MAX_REFTABLE_SIZE / clusterSize) {
    throw new QapiError('Reference count table too large');
  }
  if (h.refcountTableClusters === 0) throw new QapiError('Image does not contain a reference count table');
  if (!tableOffsetValid(h.refcountTableOffset, h.refcountTableClusters, clusterSize, clusterSize)) {
    throw new QapiError('Reference count table offset invalid');
  }
  if (h.nbSnapshots > QCOW_MAX_SNAPSHOTS) throw new QapiError('Snapshot table too large');
  if (!tableOffsetValid(h.snapshotsOffset, h.nbSnapshots, 40, clusterSize)) {
    throw new QapiError('Snapshot table offset invalid');
  }
  const l2Bits = clusterBits - 3;
  const l1VmStateIndex = Math.ceil(h.size / 2 ** (clusterBits + l2Bits));
  if (l1VmStateIndex > INT_MAX || h.size > Number.MAX_SAFE_INTEGER / 2)
    throw new QapiError('Image is too big');
  if (h.l1Size > QCOW_MAX_L1_SIZE / 8) throw new QapiError('Active L1 table too large');
  if (h.l1Size < l1VmStateIndex) throw new QapiError('L1 table is too small');
  if (!tableOffsetValid(h.l1TableOffset, h.l1Size, 8, clusterSize)) {
    throw new QapiError('Active L1 table offset invalid');
  }
  if (h.backingFileOffset) {
    if (h.backingFileSize > 1023 || h.backingFileSize > clusterSize - h.backingFileOffset) {
      throw new QapiError('Backing file name too long');
    }
    h.backingFile = new TextDecoder().decode(
      cluster0.subarray(h.backingFileOffset, h.backingFileOffset + h.backingFileSize),
    );
  }
  return h;
}

function readExtensions(v: DataView, h: Qcow2Header, start: number, end: number): void {
  let off = start;
  while (off < end) {
    if (end - off < 8) throw new QapiError('qcow2_read_extension: ERROR: pread fail from offset ' + off);
    const type = v.getUint32(off);
    const len = v.getUint32(off + 4);
    off += 8;
    if (len > end - off) throw new QapiError('Header extension too large');
    const data = new Uint8Array(v.buffer, v.byteOffset + off, len);
    if (type === QCOW2_EXT_END) return;
    if (type === QCOW2_EXT_BACKING_FORMAT) {
      if (len >= 16) throw new QapiError(`ERROR: ext_backing_format: len=${len} too large (>=16)`);
      h.backingFormat = new TextDecoder().decode(data);
    } else if (type === QCOW2_EXT_FEATURE_TABLE) {
      for (let i = 0; i + 48 <= len; i += 48) {
        const nameBytes = data.subarray(i + 2, i + 48);
        const nul = nameBytes.indexOf(0);
        h.featureNames.set(
          `${data[i]}:${data[i + 1]}`,
          new TextDecoder().decode(nul < 0 ? nameBytes : nameBytes.subarray(0, nul)),
        );
      }
    } else if (type !== QCOW2_EXT_BITMAPS && type !== QCOW2_EXT_CRYPTO && type !== QCOW2_EXT_DATA_FILE) {
      h.unknownExtensions.push({ type, data: data.slice() });
    }
    off += Math.ceil(len / 8) * 8;
  }
}

/** report_unsupported_feature(): names from the image's feature table, else the leftover mask. */
function describeFeatures(h: Qcow2Header, type: number, mask: bigint): string {
  const parts: string[] = [];
  let rest = mask;
  for (let bit = 0; bit < 64; bit++) {
    const b = 1n << BigInt(bit);
    if (!(rest & b)) continue;
    const name =
      h.featureNames.get(`${type}:${bit}`) ?? FEATURE_TABLE.find((f) => f[0] === type && f[1] === bit)?.[2];
    if (name !== undefined) {
      parts.push(name);
      rest &= ~b;
    }
  }
  if (rest) parts.push(`Unknown incompatible feature: ${rest.toString(16)}`);
  return parts.join(', ');
}

/** Serialize a header cluster: fixed fields, extensions (backing format, feature table), name. */
export function buildQcow2Header(h: Qcow2Header, clusterSize: number): Uint8Array {
  const buf = new Uint8Array(clusterSize);
  const v = new DataView(buf.buffer);
  const headerLength = h.version === 3 ? 112 : 72;
  const put64 = (off: number, x: number): void => {
    v.setUint32(off, Math.floor(x / 0x100000000));
    v.setUint32(off + 4, x >>> 0);
  };
  v.setUint32(0, QCOW_MAGIC);
  v.setUint32(4, h.version);
  v.setUint32(20, h.clusterBits);
  put64(24, h.size);
  v.setUint32(32, h.cryptMethod);
  v.setUint32(36, h.l1Size);
  put64(40, h.l1TableOffset);
  put64(48, h.refcountTableOffset);
  v.setUint32(56, h.refcountTableClusters);
  v.setUint32(60, h.nbSnapshots);
  put64(64, h.snapshotsOffset);
  if (h.version === 3) {
    v.setBigUint64(72, h.incompatibleFeatures);
    v.setBigUint64(80, h.compatibleFeatures);
    v.setBigUint64(88, h.autoclearFeatures);
    v.setUint32(96, h.refcountOrder);
    v.setUint32(100, headerLength);
    v.setUint8(104, h.compressionType);
  }
  let off = headerLength;
  const ext = (type: number, data: Uint8Array): void => {
    v.setUint32(off, type);
    v.setUint32(off + 4, data.length);
    buf.set(data, off + 8);
    off += 8 + Math.ceil(data.length / 8) * 8;
  };
  if (h.backingFormat) ext(QCOW2_EXT_BACKING_FORMAT, new TextEncoder().encode(h.backingFormat));
  for (const u of h.unknownExtensions) ext(u.type, u.data);
  if (h.version === 3) {
    const table = new Uint8Array(FEATURE_TABLE.length * 48);
    FEATURE_TABLE.forEach(([type, bit, name], i) => {
      table[i * 48] = type;
      table[i * 48 + 1] = bit;
      table.set(new TextEncoder().encode(name), i * 48 + 2);
    });
    ext(QCOW2_EXT_FEATURE_TABLE, table);
  }
  off += 8; // end-of-extensions marker (zeroes)
  if (h.backingFile) {
    const name = new TextEncoder().encode(h.backingFile);
    if (off + name.length > clusterSize || name.length > 1023)
      throw new QapiError('Backing file name too long');
    buf.set(name, off);
    put64(8, off);
    v.setUint32(16, name.length);
  }
  return buf;
}
