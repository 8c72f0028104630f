/**
 * ImageInfo / BlockDeviceInfo / BlockInfo as QEMU's block/qapi.c builds them (for query-block,
 * query-named-block-nodes and `vmstudio-img info`), and the human-readable dumps qemu-img prints.
 */
import { statSync } from 'node:fs';
import { qdict, type QDict, type QObject } from '../qobject/qobject.js';
import { qdictKeyOrder } from '../qobject/qdict-order.js';
import { sizeToStr } from '../util/cutils.js';
import type { BlockBackend } from './block-backend.js';
import { type BlockDriverState, fullBackingFilename } from './block.js';
import { Qcow2Driver } from './qcow2.js';
import type { Qcow2Snapshot } from './qcow2-snapshot-table.js';

function actualSize(filename: string): number | undefined {
  try {
    return statSync(filename).blocks * 512;
  } catch {
    return undefined;
  }
}

export function snapshotInfo(s: Qcow2Snapshot): QDict {
  const d = qdict({
    id: s.id,
    name: s.name,
    'vm-state-size': s.vmStateSize,
    'date-sec': s.dateSec,
    'date-nsec': s.dateNsec,
    'vm-clock-sec': Math.floor(s.vmClockNsec / 1e9),
    'vm-clock-nsec': s.vmClockNsec % 1e9,
  });
  if (s.icount !== -1) d['icount'] = s.icount;
  return d;
}

/** bdrv_query_image_info(); with `chain`, backing-image nests the whole backing chain. */
export function imageInfo(bs: BlockDriverState, chain: boolean): QDict {
  const info = qdict({ filename: bs.filename, format: bs.driverName });
  if (bs.drv.dirtyFlag) info['dirty-flag'] = bs.drv.dirtyFlag();
  const actual = actualSize(bs.filename);
  if (actual !== undefined) info['actual-size'] = actual;
  info['virtual-size'] = bs.getLength();
  const drv = bs.drv;
  if (drv instanceof Qcow2Driver) {
    info['cluster-size'] = drv.clusterSize;
    if (bs.backingFile) {
      info['backing-filename'] = bs.backingFile;
      info['full-backing-filename'] = fullBackingFilename(bs.filename, bs.backingFile);
      if (bs.backingFormat) info['backing-filename-format'] = bs.backingFormat;
    }
    if (drv.snapshots.length) info['snapshots'] = drv.snapshots.map(snapshotInfo);
    if (chain && bs.backing) info['backing-image'] = imageInfo(bs.backing, true);
    info['format-specific'] = drv.formatSpecific();
  } else if (chain && bs.backing) {
    info['backing-image'] = imageInfo(bs.backing, true);
  }
  return info;
}

/** bdrv_block_device_info() */
export function blockDeviceInfo(blk: BlockBackend | null, bs: BlockDriverState, flat: boolean): QDict {
  const d = qdict({
    file: bs.filename,
    'node-name': bs.nodeName,
    ro: bs.readOnly,
    drv: bs.driverName,
  });
  if (bs.backingFile) d['backing_file'] = bs.backingFile;
  Object.assign(d, {
    backing_file_depth: bs.backingDepth(),
    encrypted: false,
    detect_zeroes: bs.detectZeroes,
    bps: 0,
    bps_rd: 0,
    bps_wr: 0,
    iops: 0,
    iops_rd: 0,
    iops_wr: 0,
    image: imageInfo(bs, !flat),
    cache: qdict({
      writeback: blk ? blk.writeCache : true,
      direct: bs.cacheDirect,
      'no-flush': bs.cacheNoFlush,
    }),
    write_threshold: 0,
  });
  return d;
}

/** One query-block entry (bdrv_query_info()). */
export function blockInfo(blk: BlockBackend): QDict {
  const d = qdict({ device: blk.name });
  if (blk.dev !== null) d['qdev'] = blk.dev;
  d['type'] = 'unknown';
  d['removable'] = blk.dev === null;
  d['locked'] = false;
  if (blk.root) d['inserted'] = blockDeviceInfo(blk, blk.root, false);
  if (blk.dev !== null) d['io-status'] = blk.ioStatus;
  return d;
}

// ---- qemu-img's human-readable output ----------------------------------------------------

/** bdrv_snapshot_dump() header and rows (qemu-img snapshot -l, info). */
export function snapshotTable(list: readonly Qcow2Snapshot[]): string {
  let out = `${'ID'.padEnd(10)}${'TAG'.padEnd(17)}${'VM SIZE'.padStart(8)}${'DATE'.padStart(20)}${'VM CLOCK'.padStart(13)}${'ICOUNT'.padStart(11)}\n`;
  for (const s of list) {
    const dt = new Date(s.dateSec * 1000);
    const p2 = (n: number): string => String(n).padStart(2, '0');
    const date = `${dt.getFullYear()}-${p2(dt.getMonth() + 1)}-${p2(dt.getDate())} ${p2(dt.getHours())}:${p2(dt.getMinutes())}:${p2(dt.getSeconds())}`;
    const secs = Math.floor(s.vmClockNsec / 1e9);
    const clock = `${p2(Math.floor(secs / 3600))}:${p2(Math.floor(secs / 60) % 60)}:${p2(secs % 60)}.${String(Math.floor(s.vmClockNsec / 1e6) % 1000).padStart(3, '0')}`;
    const icount = s.icount === -1 ? '' : String(s.icount);
    out += `${s.id.padEnd(9)} ${s.name.padEnd(16)} ${sizeToStr(s.vmStateSize).padStart(8)}${date.padStart(20)}${clock.padStart(13)}${icount.padStart(11)}\n`;
  }
  return out;
}

/** dump_qobject() of format-specific data: QDict order, '-' shown as ' ', nested indented. */
function dumpQObject(v: QObject, indent: number): string {
  const pad = ' '.repeat(indent * 4);
  if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
    let out = '';
    const d = v as QDict;
    for (const k of qdictKeyOrder(Object.keys(d))) {
      const x = d[k]!;
      const name = k.replace(/-/g, ' ');
      if (x !== null && typeof x === 'object') out += `${pad}${name}:\n${dumpQObject(x, indent + 1)}`;
      else out += `${pad}${name}: ${String(x)}\n`;
    }
    return out;
  }
  if (Array.isArray(v)) return v.map((x, i) => `${pad}[${i}]:\n${dumpQObject(x, indent + 1)}`).join('');
  return `${pad}${String(v)}\n`;
}

/** bdrv_image_info_dump(): the text of `qemu-img info`. */
export function imageInfoDump(info: QDict): string {
  let out = `image: ${String(info['filename'])}\nfile format: ${String(info['format'])}\n`;
  const vsize = info['virtual-size'] as number;
  out += `virtual size: ${sizeToStr(vsize)} (${vsize} bytes)\n`;
  out += `disk size: ${info['actual-size'] !== undefined ? sizeToStr(info['actual-size'] as number) : 'unavailable'}\n`;
  if (info['cluster-size'] !== undefined) out += `cluster_size: ${String(info['cluster-size'])}\n`;
  if (info['dirty-flag'] === true) out += 'cleanly shut down: no\n';
  if (info['backing-filename'] !== undefined) {
    out += `backing file: ${String(info['backing-filename'])}`;
    const full = info['full-backing-filename'];
    if (full !== undefined && full !== info['backing-filename']) out += ` (actual path: ${String(full)})`;
    out += '\n';
  }
  if (info['backing-filename-format'] !== undefined) {
    out += `backing file format: ${String(info['backing-filename-format'])}\n`;
  }
  const snaps = info['snapshots'] as QDict[] | undefined;
  if (snaps?.length) {
    out += 'Snapshot list:\n';
    out += snapshotTable(
      snaps.map((s) => ({
        id: s['id'] as string,
        name: s['name'] as string,
        vmStateSize: s['vm-state-size'] as number,
        dateSec: s['date-sec'] as number,
        dateNsec: s['date-nsec'] as number,
        vmClockNsec: (s['vm-clock-sec'] as number) * 1e9 + (s['vm-clock-nsec'] as number),
        icount: (s['icount'] as number | undefined) ?? -1,
        l1TableOffset: 0,
        l1Size: 0,
        diskSize: null,
        extraTail: new Uint8Array(0),
        entrySize: 0,
      })),
    );
  }
  const fs = info['format-specific'] as QDict | undefined;
  if (fs) out += `Format specific information:\n${dumpQObject(fs['data']!, 1)}`;
  return out;
}
