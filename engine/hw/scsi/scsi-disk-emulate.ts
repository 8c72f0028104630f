/**
 * Data-in payloads of the commands scsi-hd and scsi-cd answer without touching the medium (QEMU's
 * scsi_disk_emulate_* in hw/scsi/scsi-disk.c, hw/scsi/emulation.c and hw/block/cdrom.c): standard
 * INQUIRY and the VPD pages, MODE SENSE pages, READ CAPACITY, and the MMC commands of a CD-ROM.
 * Each function returns the payload, or null for "invalid field in CDB".
 */
import * as C from './scsi-constants.js';
import { ascii } from './scsi-bus.js';
import { scsiConvertSense } from './scsi-sense.js';

/** What the emulation needs to know about a disk. */
export interface DiskView {
  type: number;
  removable: boolean;
  dpofua: boolean;
  vendor: string;
  product: string;
  version: string;
  serial: string | null;
  deviceId: string | null;
  wwn: bigint;
  portWwn: bigint;
  portIndex: number;
  rotationRate: number;
  /** Bytes. */
  discardGranularity: number;
  minIoSize: number;
  optIoSize: number;
  maxUnmapSize: number;
  maxIoSize: number;
  physicalBlockSize: number;
  blocksize: number;
  /** Medium size in 512-byte sectors (0: no medium). */
  nbSectors: number;
  readOnly: boolean;
  writeCache: boolean;
  trayOpen: boolean;
  trayLocked: boolean;
  cyls: number;
  heads: number;
  secs: number;
  tcq: boolean;
  scsiVersion: number;
}

/** CD_MAX_SECTORS: 80 minutes of 2 KiB frames, in 512-byte sectors. */
const CD_MAX_SECTORS = (80 * 60 * 75 * 2048) / 512;
const MMC_PROFILE_NONE = 0x0000;
const MMC_PROFILE_CD_ROM = 0x0008;
const MMC_PROFILE_DVD_ROM = 0x0010;

const MODE_PAGE_R_W_ERROR = 0x01;
const MODE_PAGE_HD_GEOMETRY = 0x04;
const MODE_PAGE_FLEXIBLE_DISK_GEOMETRY = 0x05;
const MODE_PAGE_CACHING = 0x08;
const MODE_PAGE_AUDIO_CTL = 0x0e;
const MODE_PAGE_CAPABILITIES = 0x2a;
const MODE_PAGE_ALLS = 0x3f;

const view = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, b.byteLength);
const hasMedium = (d: DiskView) => d.nbSectors > 0 && !d.trayOpen;

function padded(s: string, n: number): Uint8Array {
  return ascii(s.slice(0, n).padEnd(n, ' '));
}

/** Standard INQUIRY data (at most 256 bytes, additional length per QEMU). */
export function emulateInquiryStd(d: DiskView, xfer: number): Uint8Array {
  const len = Math.min(xfer, 256);
  const out = new Uint8Array(Math.max(len, 36));
  out[0] = d.type & 0x1f;
  out[1] = d.removable ? 0x80 : 0;
  out[2] = d.scsiVersion;
  out[3] = 2 | 0x10;
  out[4] = len > 36 ? len - 5 : 36 - 5;
  out[7] = 0x10 | (d.tcq ? 0x02 : 0);
  out.set(padded(d.vendor, 8), 8);
  out.set(padded(d.product, 16), 16);
  out.set(ascii(d.version.slice(0, 4)), 32);
  return out.subarray(0, len);
}

/** scsi_emulate_block_limits(): the 0x3c bytes of the Block Limits page body. */
function blockLimits(d: DiskView): Uint8Array {
  const out = new Uint8Array(0x3c);
  const v = view(out);
  const bs = d.blocksize;
  // A file-backed node has no transfer limit of its own: the 2 GiB cap applies.
  const maxIo = Math.min(Math.floor(d.maxIoSize / bs), Math.floor(0x7fffffff / bs));
  const minIo = Math.floor(d.minIoSize / bs);
  const optIo = Math.floor(d.optIoSize / bs);
  out[0] = 1; // WSNZ
  if (maxIo) {
    v.setUint16(2, Math.min(minIo, maxIo));
    v.setUint32(4, maxIo);
    v.setUint32(8, Math.min(optIo, maxIo));
  } else {
    v.setUint16(2, minIo);
    v.setUint32(8, optIo);
  }
  v.setUint32(16, Math.floor(d.maxUnmapSize / bs));
  v.setUint32(20, 255);
  v.setUint32(24, Math.floor(d.discardGranularity / bs));
  v.setUint32(36, maxIo);
  return out;
}

/** INQUIRY with EVPD: pages 0x00, 0x80, 0x83, and for disks 0xb0/0xb1/0xb2. */
export function emulateVpdPage(d: DiskView, page: number): Uint8Array | null {
  const body: number[] = [];
  switch (page) {
    case 0x00:
      body.push(0x00);
      if (d.serial !== null) body.push(0x80);
      body.push(0x83);
      if (d.type === C.TYPE_DISK) body.push(0xb0, 0xb1, 0xb2);
      break;
    case 0x80:
      if (d.serial === null) return null;
      body.push(...ascii(d.serial.slice(0, 36)));
      break;
    case 0x83: {
      const id = d.deviceId ? ascii(d.deviceId.slice(0, 255 - 8)) : new Uint8Array(0);
      if (id.length) body.push(0x2, 0, 0, id.length, ...id);
      const be64 = (x: bigint) => {
        const b = new Uint8Array(8);
        view(b).setBigUint64(0, BigInt.asUintN(64, x));
        return [...b];
      };
      if (d.wwn) body.push(0x1, 0x3, 0, 8, ...be64(d.wwn));
      if (d.portWwn) body.push(0x61, 0x93, 0, 8, ...be64(d.portWwn));
      if (d.portIndex) body.push(0x61, 0x94, 0, 4, 0, 0, (d.portIndex >> 8) & 0xff, d.portIndex & 0xff);
      break;
    }
    case 0xb0:
      if (d.type === C.TYPE_ROM) return null;
      body.push(...blockLimits(d));
      break;
    case 0xb1: {
      const b = new Array<number>(0x40 - 4).fill(0);
      b[0] = (d.rotationRate >> 8) & 0xff;
      b[1] = d.rotationRate & 0xff;
      body.push(...b);
      break;
    }
    case 0xb2:
      body.push(0, 0xe0, d.discardGranularity ? 2 : 1, 0);
      break;
    default:
      return null;
  }
  return Uint8Array.from([d.type & 0x1f, page, 0, body.length, ...body]);
}

/** One MODE SENSE page (page header included), or null when the device has no such page. */
function modeSensePage(d: DiskView, page: number, pc: number): Uint8Array | null {
  const disk = d.type === C.TYPE_DISK;
  const rom = d.type === C.TYPE_ROM;
  let p: Uint8Array;
  switch (page) {
    case MODE_PAGE_HD_GEOMETRY: {
      if (!disk) return null;
      p = new Uint8Array(0x16);
      if (pc === 1) break;
      const cyl = [(d.cyls >> 16) & 0xff, (d.cyls >> 8) & 0xff, d.cyls & 0xff];
      p.set(cyl, 0);
      p[3] = d.heads & 0xff;
      p.set(cyl, 4);
      p.set(cyl, 7);
      p[11] = 200;
      p[12] = p[13] = p[14] = 0xff;
      p[18] = (5400 >> 8) & 0xff;
      p[19] = 5400 & 0xff;
      break;
    }
    case MODE_PAGE_FLEXIBLE_DISK_GEOMETRY: {
      if (!disk) return null;
      p = new Uint8Array(0x1e);
      if (pc === 1) break;
      p[0] = 5000 >> 8;
      p[1] = 5000 & 0xff;
      p[2] = d.heads & 0xff;
      p[3] = d.secs & 0xff;
      p[4] = d.blocksize >> 8;
      const cyl = [(d.cyls >> 8) & 0xff, d.cyls & 0xff];
      p.set(cyl, 6);
      p.set(cyl, 8);
      p.set(cyl, 10);
      p[13] = 1;
      p[14] = 1;
      p[16] = 1;
      p[17] = 1;
      p[18] = 1;
      p[26] = (5400 >> 8) & 0xff;
      p[27] = 5400 & 0xff;
      break;
    }
    case MODE_PAGE_CACHING:
      p = new Uint8Array(0x12);
      if (pc === 1 || d.writeCache) p[0] = 4; // WCE
      break;
    case MODE_PAGE_R_W_ERROR:
      p = new Uint8Array(10);
      if (pc === 1) {
        if (rom) p[0] = 0x80;
        break;
      }
      p[0] = 0x80;
      if (rom) p[1] = 0x20;
      break;
    case MODE_PAGE_AUDIO_CTL:
      if (!rom) return null;
      p = new Uint8Array(14);
      break;
    case MODE_PAGE_CAPABILITIES:
      if (!rom) return null;
      p = new Uint8Array(0x14);
      if (pc === 1) break;
      p.set([0x3b, 0, 0x7f, 0xff, 0x2d | (d.trayLocked ? 2 : 0), 0], 0);
      p.set([(50 * 176) >> 8, (50 * 176) & 0xff, 0, 2, 2048 >> 8, 2048 & 0xff], 6);
      p.set([(16 * 176) >> 8, (16 * 176) & 0xff], 12);
      p.set([(16 * 176) >> 8, (16 * 176) & 0xff, (16 * 176) >> 8, (16 * 176) & 0xff], 16);
      break;
    default:
      return null;
  }
  const out = new Uint8Array(p.length + 2);
  out[0] = page;
  out[1] = p.length;
  out.set(p, 2);
  return out;
}

export type ModeSenseResult = Uint8Array | 'invalid-field' | 'saving-not-supported';

/** MODE SENSE(6)/(10): header, block descriptor (disks, unless DBD), then the page(s). */
export function emulateModeSense(d: DiskView, cdb: Uint8Array): ModeSenseResult {
  const ten = cdb[0] === C.MODE_SENSE_10;
  let dbd = (cdb[1]! & 0x8) !== 0;
  const page = cdb[2]! & 0x3f;
  const pc = (cdb[2]! & 0xc0) >> 6;
  let devSpecific = 0;
  if (d.type === C.TYPE_DISK) {
    devSpecific = d.dpofua ? 0x10 : 0;
    if (d.readOnly) devSpecific |= 0x80;
  } else {
    // MMC drives have no block descriptors and no device-specific parameter.
    dbd = true;
  }
  const parts: number[] = ten ? [0, 0, 0, devSpecific, 0, 0, 0, 0] : [0, 0, devSpecific, 0];
  const nb = hasMedium(d) ? d.nbSectors : 0;
  if (!dbd && nb) {
    if (ten) parts[7] = 8;
    else parts[3] = 8;
    let blocks = Math.floor(nb / (d.blocksize / 512));
    if (blocks > 0xffffff) blocks = 0;
    parts.push(0, (blocks >> 16) & 0xff, (blocks >> 8) & 0xff, blocks & 0xff, 0, 0, d.blocksize >> 8, 0);
  }
  if (pc === 3) return 'saving-not-supported';
  if (page === MODE_PAGE_ALLS) {
    for (let pg = 0; pg <= 0x3e; pg++) {
      const b = modeSensePage(d, pg, pc);
      if (b) parts.push(...b);
    }
  } else {
    const b = modeSensePage(d, page, pc);
    if (!b) return 'invalid-field';
    parts.push(...b);
  }
  const out = Uint8Array.from(parts);
  if (ten) {
    out[0] = ((out.length - 2) >> 8) & 0xff;
    out[1] = (out.length - 2) & 0xff;
  } else {
    out[0] = out.length - 1;
  }
  return out;
}

/** The current page contents and the changeable mask, for MODE SELECT checks. */
export function modeSelectPages(
  d: DiskView,
  page: number,
): { current: Uint8Array; changeable: Uint8Array } | null {
  if (page === MODE_PAGE_ALLS) return null;
  const current = modeSensePage(d, page, 0);
  const changeable = modeSensePage(d, page, 1);
  return current && changeable ? { current, changeable } : null;
}

export const MODE_PAGE_CACHING_CODE = MODE_PAGE_CACHING;

/** READ CAPACITY(10): last LBA (clipped to 2^32-1) and block size. */
export function emulateReadCapacity10(d: DiskView): Uint8Array {
  const out = new Uint8Array(8);
  const last = Math.floor(d.nbSectors / (d.blocksize / 512)) - 1;
  view(out).setUint32(0, Math.min(last, 0xffffffff));
  out[6] = d.blocksize >> 8;
  return out;
}

function physicalBlockExp(d: DiskView): number {
  let exp = 0;
  for (let n = d.physicalBlockSize / d.blocksize; n > 1; n >>= 1) exp++;
  return exp;
}

/** READ CAPACITY(16): 64-bit last LBA, block size, physical exponent, TPE when discard works. */
export function emulateReadCapacity16(d: DiskView, xfer: number): Uint8Array {
  const out = new Uint8Array(Math.max(xfer, 32));
  const last = Math.floor(d.nbSectors / (d.blocksize / 512)) - 1;
  view(out).setBigUint64(0, BigInt(last));
  out[10] = d.blocksize >> 8;
  out[13] = physicalBlockExp(d);
  if (d.discardGranularity) out[14] = 0x80;
  return out.subarray(0, xfer);
}

function lbaToMsf(lba: number): number[] {
  lba += 150;
  return [Math.floor(lba / 75 / 60), Math.floor(lba / 75) % 60, lba % 75];
}

/** READ TOC formats 0 (TOC) and 1 (session info); null otherwise. */
export function emulateReadToc(d: DiskView, cdb: Uint8Array): Uint8Array | null {
  const msf = (cdb[1]! & 2) !== 0;
  const format = cdb[2]! & 0xf;
  const startTrack = cdb[6]!;
  const nb = Math.floor(d.nbSectors / (d.blocksize / 512));
  if (format === 1) {
    const out = new Uint8Array(12);
    out[1] = 0x0a;
    out[2] = 0x01;
    out[3] = 0x01;
    return out;
  }
  if (format !== 0) return null;
  if (startTrack > 1 && startTrack !== 0xaa) return null;
  const q: number[] = [0, 0, 1, 1];
  const addr = (lba: number) => {
    if (msf) q.push(0, ...lbaToMsf(lba));
    else q.push((lba >>> 24) & 0xff, (lba >>> 16) & 0xff, (lba >>> 8) & 0xff, lba & 0xff);
  };
  if (startTrack <= 1) {
    q.push(0, 0x14, 1, 0);
    addr(0);
  }
  q.push(0, 0x16, 0xaa, 0);
  addr(nb);
  const out = Uint8Array.from(q);
  view(out).setUint16(0, out.length - 2);
  return out;
}

function mmcProfile(d: DiskView): number {
  if (d.type !== C.TYPE_ROM || !hasMedium(d)) return MMC_PROFILE_NONE;
  return d.nbSectors > CD_MAX_SECTORS ? MMC_PROFILE_DVD_ROM : MMC_PROFILE_CD_ROM;
}

/** GET CONFIGURATION: profile list, core and removable-medium features. */
export function emulateGetConfiguration(d: DiskView): Uint8Array | null {
  if (d.type !== C.TYPE_ROM) return null;
  const current = mmcProfile(d);
  const out = new Uint8Array(40);
  const v = view(out);
  v.setUint32(0, 36);
  v.setUint16(6, current);
  out[10] = 0x03;
  out[11] = 8;
  v.setUint16(12, MMC_PROFILE_DVD_ROM);
  out[14] = current === MMC_PROFILE_DVD_ROM ? 1 : 0;
  v.setUint16(16, MMC_PROFILE_CD_ROM);
  out[18] = current === MMC_PROFILE_CD_ROM ? 1 : 0;
  v.setUint16(20, 1);
  out[22] = 0x08 | 0x03;
  out[23] = 8;
  v.setUint32(24, 1);
  out[28] = 1;
  v.setUint16(32, 3);
  out[34] = 0x08 | 0x03;
  out[35] = 4;
  out[36] = 0x39;
  return out;
}

/** GET EVENT STATUS NOTIFICATION (polled, media class). */
export function emulateEventStatus(
  d: DiskView,
  cdb: Uint8Array,
  events: { mediaEvent: boolean; ejectRequest: boolean },
): Uint8Array | null {
  if (d.type !== C.TYPE_ROM || (cdb[1]! & 1) === 0) return null;
  const GESN_MEDIA = 4;
  const parts = [0, 0, 0, 1 << GESN_MEDIA];
  if (cdb[4]! & (1 << GESN_MEDIA)) {
    parts[2] = GESN_MEDIA;
    const status = d.trayOpen ? 1 : d.nbSectors > 0 ? 2 : 0;
    let code = 0;
    if (status !== 1) {
      if (events.mediaEvent) {
        code = 2;
        events.mediaEvent = false;
      } else if (events.ejectRequest) {
        code = 1;
        events.ejectRequest = false;
      }
    }
    parts.push(code, status, 0, 0);
  } else {
    parts[2] = 0x80;
  }
  const out = Uint8Array.from(parts);
  view(out).setUint16(0, out.length - 4);
  return out;
}

/** READ DISC INFORMATION (type 0 only). */
export function emulateReadDiscInformation(d: DiskView, cdb: Uint8Array): Uint8Array | null {
  if (d.type !== C.TYPE_ROM || (cdb[1]! & 7) !== 0) return null;
  const out = new Uint8Array(34);
  out.set([0, 32, 0xe, 1, 1, 1, 1, 0x20, 0x00]);
  return out;
}

/** MECHANISM STATUS. */
export function emulateMechanismStatus(d: DiskView): Uint8Array | null {
  if (d.type !== C.TYPE_ROM) return null;
  const out = new Uint8Array(8);
  out[5] = 1;
  return out;
}

/** REQUEST SENSE with nothing pending: NO SENSE in the requested format. */
export function emulateRequestSenseNone(xfer: number, fixed: boolean): Uint8Array {
  return scsiConvertSense(new Uint8Array(0), Math.min(xfer, C.SCSI_SENSE_LEN), fixed);
}
