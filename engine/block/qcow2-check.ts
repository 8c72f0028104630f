/**
 * Consistency check of a qcow2 image (QEMU's qcow2_check_refcounts()): count every reference the
 * metadata makes, compare with the stored refcounts (more stored: leak; fewer: corruption), verify
 * COPIED flags of the active tables, and optionally repair. Messages are QEMU's, printed through
 * `log` (qemu-img prints them on stderr).
 */
import type { Qcow2Driver } from './qcow2.js';
import { OFLAG_COPIED_HI, entryBig, entryHi, entryLo, entryOffset, hex, setEntry } from './qcow2-table.js';

export type CheckFix = 'none' | 'leaks' | 'all';

export interface Qcow2CheckResult {
  corruptions: number;
  leaks: number;
  checkErrors: number;
  corruptionsFixed: number;
  leaksFixed: number;
  imageEndOffset: number;
  totalClusters: number;
  allocatedClusters: number;
  fragmentedClusters: number;
  compressedClusters: number;
}

export function emptyCheckResult(): Qcow2CheckResult {
  return {
    corruptions: 0,
    leaks: 0,
    checkErrors: 0,
    corruptionsFixed: 0,
    leaksFixed: 0,
    imageEndOffset: 0,
    totalClusters: 0,
    allocatedClusters: 0,
    fragmentedClusters: 0,
    compressedClusters: 0,
  };
}

class RefCounter {
  refs: Uint32Array;
  constructor(
    private readonly d: Qcow2Driver,
    private readonly res: Qcow2CheckResult,
    private readonly log: (line: string) => void,
  ) {
    this.refs = new Uint32Array(Math.ceil(d.file.getLength() / d.clusterSize));
  }

  /** inc_refcounts() */
  inc(offset: number, size: number): void {
    if (size <= 0) return;
    const cs = this.d.clusterSize;
    if (offset + size - this.d.file.getLength() >= cs) {
      this.log(
        `ERROR: counting reference for region exceeding the end of the file by one cluster or more: offset ${hex(offset)} size ${hex(size)}`,
      );
      this.res.corruptions++;
      return;
    }
    const first = Math.floor(offset / cs);
    const last = Math.floor((offset + size - 1) / cs);
    if (last >= this.refs.length) {
      const grown = new Uint32Array(last + 1);
      grown.set(this.refs);
      this.refs = grown;
    }
    for (let k = first; k <= last; k++) this.refs[k]!++;
  }
}

export async function qcow2Check(
  d: Qcow2Driver,
  fix: CheckFix,
  log: (line: string) => void = () => {},
): Promise<Qcow2CheckResult> {
  return d.lock.write(() => checkLocked(d, fix, log));
}

async function checkLocked(
  d: Qcow2Driver,
  fix: CheckFix,
  log: (line: string) => void,
): Promise<Qcow2CheckResult> {
  const res = emptyCheckResult();
  const cs = d.clusterSize;
  res.totalClusters = Math.ceil(d.header.size / cs);
  const rc = new RefCounter(d, res, log);

  rc.inc(0, cs);
  await countL1(d, rc, res, log, d.l1, d.l1Offset, true);
  for (const s of d.snapshots) {
    const l1 = new Uint8Array(s.l1Size * 8);
    await d.file.pread(s.l1TableOffset, l1);
    await countL1(d, rc, res, log, l1, s.l1TableOffset, false);
  }
  if (d.header.nbSnapshots) rc.inc(d.header.snapshotsOffset, d.snapshotTableSize());
  rc.inc(d.rc.tableOffset, d.rc.tableClusters * cs);
  const nbClusters = rc.refs.length;
  for (let i = 0; i < d.rc.table.length; i++) {
    const off = d.rc.table[i]!;
    if (off === 0) continue;
    if (off % cs !== 0) {
      log(`ERROR refcount block ${i} is not cluster aligned; refcount table entry corrupted`);
      res.corruptions++;
      continue;
    }
    const ci = off / cs;
    if (ci >= nbClusters) {
      log(`ERROR refcount block ${i} is outside image`);
      res.corruptions++;
      continue;
    }
    rc.inc(off, cs);
    if (rc.refs[ci] !== 1) {
      log(`ERROR refcount block ${i} refcount=${rc.refs[ci]}`);
      res.corruptions++;
    }
  }

  // compare_refcounts()
  let highest = 0;
  for (let i = 0; i < rc.refs.length; i++) {
    let stored: number;
    try {
      stored = await d.rc.get(i);
    } catch (e) {
      log(
        `Can't get refcount for cluster ${i}: ${(e as Error).message.includes('unaligned') ? 'Input/output error' : (e as Error).message}`,
      );
      res.checkErrors++;
      continue;
    }
    const counted = rc.refs[i]!;
    if (stored > 0 || counted > 0) highest = i;
    if (stored === counted) continue;
    const isLeak = stored > counted;
    if ((isLeak && fix !== 'none') || (!isLeak && fix === 'all')) {
      log(`Repairing cluster ${i} refcount=${stored} reference=${counted}`);
      try {
        await d.rc.update(i * cs, cs, counted - stored);
        if (isLeak) res.leaksFixed++;
        else res.corruptionsFixed++;
        continue;
      } catch {
        /* fall through: report it */
      }
    }
    log(`${isLeak ? 'Leaked' : 'ERROR'} cluster ${i} refcount=${stored} reference=${counted}`);
    if (isLeak) res.leaks++;
    else res.corruptions++;
  }

  await checkOflagCopied(d, res, log, fix === 'all');
  res.imageEndOffset = (highest + 1) * cs;
  if (fix !== 'none') await d.file.flush();
  return res;
}

/** check_refcounts_l1() + check_refcounts_l2() */
async function countL1(
  d: Qcow2Driver,
  rc: RefCounter,
  res: Qcow2CheckResult,
  log: (line: string) => void,
  l1: Uint8Array,
  l1Offset: number,
  active: boolean,
): Promise<void> {
  const cs = d.clusterSize;
  if (l1.length) rc.inc(l1Offset, l1.length);
  let nextContiguous = 0;
  for (let i = 0; i < l1.length / 8; i++) {
    const l2Off = entryOffset(l1, i);
    if (l2Off === 0) continue;
    rc.inc(l2Off, cs);
    if (l2Off % cs !== 0) {
      log(`ERROR l2_offset=${l2Off.toString(16)}: Table is not cluster aligned; L1 entry corrupted`);
      res.corruptions++;
      continue;
    }
    const t = new Uint8Array(cs);
    await d.file.pread(l2Off, t);
    for (let j = 0; j < d.l2Size; j++) {
      const hi = entryHi(t, j);
      const lo = entryLo(t, j);
      if (hi === 0 && lo === 0) continue;
      let m;
      try {
        m = d.decodeL2Raw(t, j);
      } catch {
        continue;
      }
      if (m.kind === 'compressed') {
        if (hi & OFLAG_COPIED_HI) {
          log(
            `ERROR: coffset=0x${m.host.toString(16)}: copied flag must never be set for compressed clusters`,
          );
          res.corruptions++;
        }
        rc.inc(m.host - (m.host % 512), m.compressedBytes + (m.host % 512));
        if (active) {
          res.allocatedClusters++;
          res.compressedClusters++;
          res.fragmentedClusters++;
        }
        continue;
      }
      if (m.host === 0) continue;
      if (m.host % cs !== 0) {
        log(`ERROR offset=${m.host.toString(16)}: Data cluster is not properly aligned; L2 entry corrupted`);
        res.corruptions++;
        continue;
      }
      if (active) {
        res.allocatedClusters++;
        if (nextContiguous && m.host !== nextContiguous) res.fragmentedClusters++;
        nextContiguous = m.host + cs;
      }
      rc.inc(m.host, cs);
    }
  }
}

/** check_oflag_copied(): COPIED must be set exactly where the refcount is 1. */
async function checkOflagCopied(
  d: Qcow2Driver,
  res: Qcow2CheckResult,
  log: (line: string) => void,
  repair: boolean,
): Promise<void> {
  const cs = d.clusterSize;
  let l1Dirty = false;
  for (let i = 0; i < d.l1Size; i++) {
    const l2Off = entryOffset(d.l1, i);
    if (l2Off === 0 || l2Off % cs !== 0) continue;
    const refcount = await d.rc.get(l2Off / cs).catch(() => -1);
    if (refcount < 0) continue;
    const hi = entryHi(d.l1, i);
    if ((refcount === 1) !== ((hi & OFLAG_COPIED_HI) !== 0)) {
      log(
        `${repair ? 'Repairing' : 'ERROR'} OFLAG_COPIED L2 cluster: l1_index=${i} l1_entry=${entryBig(d.l1, i).toString(16)} refcount=${refcount}`,
      );
      if (repair) {
        setEntry(
          d.l1,
          i,
          refcount === 1 ? (hi | OFLAG_COPIED_HI) >>> 0 : (hi & ~OFLAG_COPIED_HI) >>> 0,
          entryLo(d.l1, i),
        );
        l1Dirty = true;
        res.corruptionsFixed++;
      } else {
        res.corruptions++;
      }
    }
    const t = new Uint8Array(cs);
    await d.file.pread(l2Off, t);
    let dirty = false;
    for (let j = 0; j < d.l2Size; j++) {
      let m;
      try {
        m = d.decodeL2Raw(t, j);
      } catch {
        continue;
      }
      if ((m.kind !== 'normal' && m.kind !== 'zero') || m.host === 0 || m.host % cs !== 0) continue;
      const r = await d.rc.get(m.host / cs).catch(() => -1);
      if (r < 0) continue;
      const ehi = entryHi(t, j);
      if ((r === 1) !== ((ehi & OFLAG_COPIED_HI) !== 0)) {
        log(
          `${repair ? 'Repairing' : 'ERROR'} OFLAG_COPIED data cluster: l2_entry=${entryBig(t, j).toString(16)} refcount=${r}`,
        );
        if (repair) {
          setEntry(
            t,
            j,
            r === 1 ? (ehi | OFLAG_COPIED_HI) >>> 0 : (ehi & ~OFLAG_COPIED_HI) >>> 0,
            entryLo(t, j),
          );
          dirty = true;
          res.corruptionsFixed++;
        } else {
          res.corruptions++;
        }
      }
    }
    if (dirty) await d.file.pwrite(l2Off, t);
  }
  if (l1Dirty) await d.file.pwrite(d.l1Offset, d.l1);
  if (repair) d.dropL2Cache();
}
