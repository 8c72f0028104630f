/**
 * The qcow2 internal snapshot table (docs/interop/qcow2.txt "Snapshots"): entries of a fixed
 * 40-byte part, extra data (QEMU 7.2 writes 24 bytes: vm_state_size_large, disk_size, icount),
 * the id and name strings, padded to 8 bytes. Parsed with QEMU's limits.
 */
import { QapiError } from '../qapi/error.js';
import type { NodeDriver } from './block-driver.js';
import {
  QCOW_MAX_L1_SIZE,
  QCOW_MAX_SNAPSHOTS_SIZE,
  tableOffsetValid,
  type Qcow2Header,
} from './qcow2-header.js';

const QCOW_MAX_SNAPSHOT_EXTRA_DATA = 1024;

export interface Qcow2Snapshot {
  l1TableOffset: number;
  l1Size: number;
  id: string;
  name: string;
  dateSec: number;
  dateNsec: number;
  vmClockNsec: number;
  vmStateSize: number;
  /** Guest disk size at snapshot time (v3 extra data), or null when the entry has none. */
  diskSize: number | null;
  /** -1 (all ones on disk) when not recorded. */
  icount: number;
  /** Extra data beyond what we understand, kept verbatim. */
  extraTail: Uint8Array;
  /** Bytes the entry takes in the table. */
  entrySize: number;
}

const u64 = (v: DataView, o: number): number => {
  const hi = v.getUint32(o);
  return hi >= 0x200000 ? Number.MAX_SAFE_INTEGER : hi * 0x100000000 + v.getUint32(o + 4);
};

export async function readSnapshotTable(
  file: Pick<NodeDriver, 'pread'>,
  h: Qcow2Header,
  clusterSize: number,
): Promise<Qcow2Snapshot[]> {
  const out: Qcow2Snapshot[] = [];
  if (h.nbSnapshots === 0) return out;
  let off = h.snapshotsOffset;
  let total = 0;
  const dec = new TextDecoder();
  for (let i = 0; i < h.nbSnapshots; i++) {
    const fixed = new Uint8Array(40);
    await file.pread(off, fixed);
    const v = new DataView(fixed.buffer);
    const idLen = v.getUint16(12);
    const nameLen = v.getUint16(14);
    const extraLen = v.getUint32(36);
    if (extraLen > QCOW_MAX_SNAPSHOT_EXTRA_DATA) {
      throw new QapiError(`Too much extra metadata in snapshot table entry ${i}`);
    }
    const rest = new Uint8Array(extraLen + idLen + nameLen);
    await file.pread(off + 40, rest);
    const ev = new DataView(rest.buffer);
    const entrySize = Math.ceil((40 + rest.length) / 8) * 8;
    total += entrySize;
    if (total > QCOW_MAX_SNAPSHOTS_SIZE) throw new QapiError('Snapshot table exceeds the maximum size');
    const s: Qcow2Snapshot = {
      l1TableOffset: u64(v, 0),
      l1Size: v.getUint32(8),
      dateSec: v.getUint32(16),
      dateNsec: v.getUint32(20),
      vmClockNsec: u64(v, 24),
      vmStateSize: v.getUint32(32),
      diskSize: extraLen >= 16 ? u64(ev, 8) : null,
      icount: extraLen >= 24 ? (ev.getBigUint64(16) === 0xffffffffffffffffn ? -1 : u64(ev, 16)) : -1,
      extraTail: rest.slice(Math.min(extraLen, 24), extraLen),
      id: dec.decode(rest.subarray(extraLen, extraLen + idLen)),
      name: dec.decode(rest.subarray(extraLen + idLen, extraLen + idLen + nameLen)),
      entrySize,
    };
    if (extraLen >= 8) {
      const large = u64(ev, 0);
      if (large) s.vmStateSize = large;
    }
    if (s.l1Size > QCOW_MAX_L1_SIZE / 8) throw new QapiError('Snapshot L1 table too large');
    if (!tableOffsetValid(s.l1TableOffset, s.l1Size, 8, clusterSize)) {
      throw new QapiError('Snapshot L1 table offset invalid');
    }
    out.push(s);
    off += entrySize;
  }
  return out;
}

/** Serialize the table as QEMU 7.2 writes it (extra data of 24 bytes plus anything kept). */
export function buildSnapshotTable(list: readonly Qcow2Snapshot[]): Uint8Array {
  const enc = new TextEncoder();
  const parts: Uint8Array[] = [];
  for (const s of list) {
    const id = enc.encode(s.id);
    const name = enc.encode(s.name);
    const extraLen = 24 + s.extraTail.length;
    const size = Math.ceil((40 + extraLen + id.length + name.length) / 8) * 8;
    const b = new Uint8Array(size);
    const v = new DataView(b.buffer);
    v.setBigUint64(0, BigInt(s.l1TableOffset));
    v.setUint32(8, s.l1Size);
    v.setUint16(12, id.length);
    v.setUint16(14, name.length);
    v.setUint32(16, s.dateSec);
    v.setUint32(20, s.dateNsec);
    v.setBigUint64(24, BigInt(s.vmClockNsec));
    v.setUint32(32, s.vmStateSize > 0xffffffff ? 0 : s.vmStateSize);
    v.setUint32(36, extraLen);
    v.setBigUint64(40, BigInt(s.vmStateSize));
    v.setBigUint64(48, BigInt(s.diskSize ?? 0));
    v.setBigUint64(56, s.icount < 0 ? 0xffffffffffffffffn : BigInt(s.icount));
    b.set(s.extraTail, 64);
    b.set(id, 40 + extraLen);
    b.set(name, 40 + extraLen + id.length);
    s.entrySize = size;
    parts.push(b);
  }
  const total = parts.reduce((n, p) => n + p.length, 0);
  const out = new Uint8Array(total);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
