/**
 * Emulated SCSI disks (QEMU's hw/scsi/scsi-disk.c): "scsi-hd" (direct access, type 0) and "scsi-cd"
 * (MMC CD/DVD-ROM, type 5, 2 KiB blocks, removable) on a BlockBackend.
 *
 * Commands: TEST UNIT READY, INQUIRY (+VPD 00/80/83/b0/b1/b2), MODE SENSE/SELECT(6/10), READ
 * CAPACITY(10/16), READ/WRITE(6/10/12/16), WRITE AND VERIFY, VERIFY, SYNCHRONIZE CACHE, UNMAP,
 * WRITE SAME(10/16), START STOP UNIT, PREVENT ALLOW MEDIUM REMOVAL, REQUEST SENSE, SEEK(10),
 * RESERVE/RELEASE, FORMAT UNIT, and for scsi-cd READ TOC, GET CONFIGURATION, GET EVENT STATUS
 * NOTIFICATION, READ DISC INFORMATION, MECHANISM STATUS. Anything else: INVALID COMMAND OPERATION CODE.
 *
 * Guest I/O goes through the block layer in chunks of at most 1 MiB (bounded host buffers). The
 * rerror/werror "stop" policies are reported to the guest like "report" (no VM stop yet).
 */
import { errorSetg } from '../../qapi/error.js';
import { objectGetCanonicalPath, objectGetTypename, typeRegister } from '../../qom/object.js';
import type { DeviceState } from '../core/qdev-core.js';
import {
  deviceClassSetProps,
  definePropBit,
  definePropBool,
  definePropEnum,
  definePropInt32,
  definePropOnOffAuto,
  definePropSize,
  definePropSize32,
  definePropString,
  definePropUint16,
  definePropUint32,
  definePropUint64,
  qdevPropEnum,
  type OnOffAuto,
  type Property,
} from '../core/qdev-properties.js';
import { definePropDrive } from '../core/qdev-properties-system.js';
import { blkAttachDevByRef, blkDetachDev, type BlockBackend } from '../../block/block-backend.js';
import type { VMStateDescription } from '../../migration/vmstate-types.js';
import * as C from './scsi-constants.js';
import { SENSE_CODE } from './scsi-constants.js';
import {
  SCSIDevice,
  SCSIDeviceClass,
  TYPE_SCSI_DEVICE,
  QEMU_HW_VERSION,
  scsiCheckCondition,
  scsiDeviceDrain,
  scsiDevicePurgeRequests,
  scsiDeviceSetUa,
  scsiReqComplete,
  scsiReqDataIn,
  scsiReqDataOut,
  scsiReqIoError,
  vmstateScsiDevice,
  type SCSIReqOps,
  type SCSIRequest,
} from './scsi-bus.js';
import { scsiDataCdbXfer } from './scsi-cdb.js';
import * as E from './scsi-disk-emulate.js';

export const TYPE_SCSI_DISK_BASE = 'scsi-disk-base';
export const TYPE_SCSI_HD = 'scsi-hd';
export const TYPE_SCSI_CD = 'scsi-cd';

const SCSI_DISK_F_REMOVABLE = 0;
const SCSI_DISK_F_DPOFUA = 1;
const DEFAULT_DISCARD_GRANULARITY = 4096;
const DEFAULT_MAX_UNMAP_SIZE = 1 << 30;
const DEFAULT_MAX_IO_SIZE = 0x7fffffff;
const SCSI_WRITE_SAME_MAX = 512 * 1024;
/** Host buffer per block request of a guest READ/WRITE. */
const IO_CHUNK = 1 << 20;
const SIZE32_AUTO = 0xffffffff;

export const BLOCKDEV_ON_ERROR = ['report', 'ignore', 'enospc', 'stop', 'auto'] as const;
export const qdevPropBlockdevOnError = qdevPropEnum('BlockdevOnError', BLOCKDEV_ON_ERROR);

export class SCSIDiskState extends SCSIDevice {
  drive: string | null = null;
  blk: BlockBackend | null = null;
  features = 0;
  quirks = 0;
  backendDefaults: OnOffAuto = 'auto';
  logicalBlockSize = 0;
  physicalBlockSize = 0;
  minIoSize = 0;
  optIoSize = 0;
  discardGranularity = SIZE32_AUTO;
  writeCacheProp: OnOffAuto = 'auto';
  shareRw = false;
  accountInvalid: OnOffAuto = 'auto';
  accountFailed: OnOffAuto = 'auto';
  rerror = 'auto';
  werror = 'auto';
  version: string | null = null;
  serial: string | null = null;
  vendor: string | null = null;
  product: string | null = null;
  deviceId: string | null = null;
  wwn: bigint | number = 0;
  portWwn: bigint | number = 0;
  portIndex = 0;
  maxUnmapSize: bigint | number = DEFAULT_MAX_UNMAP_SIZE;
  maxIoSize: bigint | number = DEFAULT_MAX_IO_SIZE;
  rotationRate = 0;
  cyls = 0;
  heads = 0;
  secs = 0;
  lcyls = 0;
  lheads = 0;
  lsecs = 0;
  mediaChanged = false;
  mediaEvent = false;
  ejectRequest = false;
  trayOpen = false;
  trayLocked = false;

  get removable(): boolean {
    return (this.features & (1 << SCSI_DISK_F_REMOVABLE)) !== 0;
  }

  /** Medium present and readable (blk_is_available). */
  get available(): boolean {
    return !!this.blk?.isInserted() && !this.trayOpen;
  }

  /** The guest may write (a CD-ROM never may: QEMU opens its backend read-only). */
  get writable(): boolean {
    return this.type !== C.TYPE_ROM && !!this.blk && !this.blk.isReadOnly();
  }

  /** Medium length in 512-byte sectors (blk_get_geometry). */
  nbSectors(): number {
    if (!this.available) return 0;
    return Math.floor(this.blk!.getLength() / 512);
  }

  diskView(): E.DiskView {
    const nb = this.nbSectors();
    return {
      type: this.type,
      removable: this.removable,
      dpofua: (this.features & (1 << SCSI_DISK_F_DPOFUA)) !== 0,
      vendor: this.vendor ?? 'QEMU',
      product: this.product ?? '',
      version: this.version ?? QEMU_HW_VERSION,
      serial: this.serial,
      deviceId: this.deviceId,
      wwn: BigInt(this.wwn),
      portWwn: BigInt(this.portWwn),
      portIndex: this.portIndex,
      rotationRate: this.rotationRate,
      discardGranularity: this.discardGranularity === SIZE32_AUTO ? 0 : this.discardGranularity,
      minIoSize: Number(this.minIoSize),
      optIoSize: Number(this.optIoSize),
      maxUnmapSize: Number(this.maxUnmapSize),
      maxIoSize: Number(this.maxIoSize),
      physicalBlockSize: this.physicalBlockSize || this.blocksize,
      blocksize: this.blocksize,
      nbSectors: nb,
      readOnly: !this.writable,
      writeCache: this.blk?.writeCache ?? false,
      trayOpen: this.trayOpen,
      trayLocked: this.trayLocked,
      cyls: this.cyls,
      heads: this.heads,
      secs: this.secs,
      tcq: this.bus?.info.tcq ?? false,
      scsiVersion: this.defaultScsiVersion,
    };
  }

  /** Last addressable block from the current medium size (0 when empty). */
  computeMaxLba(): number {
    const blocks = Math.floor(this.nbSectors() / (this.blocksize / 512));
    return blocks ? blocks - 1 : 0;
  }
}

// ---------------------------------------------------------------------------------------------------------
// Emulated commands

const DMA = new Set([
  C.READ_6,
  C.READ_10,
  C.READ_12,
  C.READ_16,
  C.WRITE_6,
  C.WRITE_10,
  C.WRITE_12,
  C.WRITE_16,
  C.WRITE_VERIFY_10,
  C.WRITE_VERIFY_12,
  C.WRITE_VERIFY_16,
]);

/** Commands a disk answers even without a medium. */
const NO_MEDIUM_OK = new Set([
  C.INQUIRY,
  C.MODE_SENSE,
  C.MODE_SENSE_10,
  C.RESERVE,
  C.RESERVE_10,
  C.RELEASE,
  C.RELEASE_10,
  C.START_STOP,
  C.ALLOW_MEDIUM_REMOVAL,
  C.GET_CONFIGURATION,
  C.GET_EVENT_STATUS_NOTIFICATION,
  C.MECHANISM_STATUS,
  C.REQUEST_SENSE,
]);

const disk = (req: SCSIRequest) => req.dev as SCSIDiskState;

/** check_lba_range(): `lba + count` stays within the medium (a 0-block access at the end is fine). */
function lbaInRange(s: SCSIDiskState, lba: number, count: number): boolean {
  return lba >= 0 && lba + count <= s.maxLba + 1;
}

function finishData(req: SCSIRequest, data: Uint8Array): void {
  scsiReqDataIn(req, data);
  scsiReqComplete(req, C.GOOD);
}

function failedIo(req: SCSIRequest, e: unknown, isRead: boolean): boolean {
  const s = disk(req);
  const policy = isRead
    ? s.rerror === 'auto'
      ? (s.blk?.rerror ?? 'report')
      : s.rerror
    : s.werror === 'auto'
      ? (s.blk?.werror ?? 'enospc')
      : s.werror;
  if (policy === 'ignore') return false;
  scsiReqIoError(req, e);
  return true;
}

async function flushThenComplete(req: SCSIRequest): Promise<void> {
  try {
    await disk(req).blk!.flush();
  } catch (e) {
    if (failedIo(req, e, false)) return;
  }
  scsiReqComplete(req, C.GOOD);
}

function emulateStartStop(req: SCSIRequest): boolean {
  const s = disk(req);
  const b4 = req.cmd.buf[4]!;
  const start = (b4 & 1) !== 0;
  const loej = (b4 & 2) !== 0;
  if (b4 & 0xf0) return true;
  if (s.removable && loej) {
    if (!start && !s.trayOpen && s.trayLocked) {
      scsiCheckCondition(
        req,
        s.blk?.isInserted()
          ? SENSE_CODE.ILLEGAL_REQ_REMOVAL_PREVENTED
          : SENSE_CODE.NOT_READY_REMOVAL_PREVENTED,
      );
      return false;
    }
    if (s.trayOpen !== !start) s.trayOpen = !start;
  }
  return true;
}

/** MODE SELECT(6/10): only PF=1/SP=0; the caching page's WCE is the one changeable bit. */
function emulateModeSelect(req: SCSIRequest, inbuf: Uint8Array): void | Promise<void> {
  const s = disk(req);
  const ten = req.cmd.buf[0] === C.MODE_SELECT_10;
  const hdr = ten ? 8 : 4;
  if ((req.cmd.buf[1]! & 0x11) !== 0x10) return scsiCheckCondition(req, SENSE_CODE.INVALID_FIELD);
  let len = inbuf.length;
  if (len < hdr) return scsiCheckCondition(req, SENSE_CODE.INVALID_PARAM_LEN);
  const bdLen = ten ? (inbuf[6]! << 8) | inbuf[7]! : inbuf[3]!;
  len -= hdr;
  let p = hdr;
  if (len < bdLen) return scsiCheckCondition(req, SENSE_CODE.INVALID_PARAM_LEN);
  if (bdLen !== 0 && bdLen !== 8) return scsiCheckCondition(req, SENSE_CODE.INVALID_PARAM);
  if (bdLen) {
    const bs = (inbuf[p + 5]! << 16) | (inbuf[p + 6]! << 8) | inbuf[p + 7]!;
    if (bs && !(bs & ~0xfe00) && bs !== s.blocksize) s.blocksize = bs;
  }
  len -= bdLen;
  p += bdLen;
  const view = s.diskView();
  const pages: { page: number; body: Uint8Array }[] = [];
  while (len > 0) {
    let page: number;
    let pageLen: number;
    if (inbuf[p]! & 0x40) {
      if (len < 4) return scsiCheckCondition(req, SENSE_CODE.INVALID_PARAM_LEN);
      if (inbuf[p + 1]) return scsiCheckCondition(req, SENSE_CODE.INVALID_PARAM);
      page = inbuf[p]! & 0x3f;
      pageLen = (inbuf[p + 2]! << 8) | inbuf[p + 3]!;
      p += 4;
      len -= 4;
    } else {
      if (len < 2) return scsiCheckCondition(req, SENSE_CODE.INVALID_PARAM_LEN);
      page = inbuf[p]! & 0x3f;
      pageLen = inbuf[p + 1]!;
      p += 2;
      len -= 2;
    }
    if (pageLen > len) return scsiCheckCondition(req, SENSE_CODE.INVALID_PARAM_LEN);
    const body = inbuf.subarray(p, p + pageLen);
    const ref = E.modeSelectPages(view, page);
    if (!ref || ref.current.length !== pageLen + 2) return scsiCheckCondition(req, SENSE_CODE.INVALID_PARAM);
    for (let i = 2; i < ref.current.length; i++) {
      if (((ref.current[i]! ^ body[i - 2]!) & ~ref.changeable[i]!) !== 0) {
        return scsiCheckCondition(req, SENSE_CODE.INVALID_PARAM);
      }
    }
    pages.push({ page, body });
    p += pageLen;
    len -= pageLen;
  }
  for (const { page, body } of pages) {
    if (page === E.MODE_PAGE_CACHING_CODE && s.blk) s.blk.writeCache = (body[0]! & 4) !== 0;
  }
  if (s.blk && !s.blk.writeCache) return flushThenComplete(req);
  scsiReqComplete(req, C.GOOD);
}

async function emulateUnmap(req: SCSIRequest, p: Uint8Array): Promise<void> {
  const s = disk(req);
  const len = p.length;
  const be16 = (o: number) => (p[o]! << 8) | p[o + 1]!;
  if (req.cmd.buf[1]! & 0x1) return scsiCheckCondition(req, SENSE_CODE.INVALID_FIELD);
  if (len < 8 || len < be16(0) + 2 || len < be16(2) + 8 || be16(2) & 15) {
    return scsiCheckCondition(req, SENSE_CODE.INVALID_PARAM_LEN);
  }
  if (!s.writable) return scsiCheckCondition(req, SENSE_CODE.WRITE_PROTECTED);
  const dv = new DataView(p.buffer, p.byteOffset, p.byteLength);
  const count = be16(2) >> 4;
  for (let i = 0; i < count; i++) {
    const lba = Number(dv.getBigUint64(8 + 16 * i));
    const nb = dv.getUint32(16 + 16 * i);
    if (!lbaInRange(s, lba, nb)) return scsiCheckCondition(req, SENSE_CODE.LBA_OUT_OF_RANGE);
    try {
      await s.blk!.pdiscard(lba * s.blocksize, nb * s.blocksize);
    } catch (e) {
      if (failedIo(req, e, false)) return;
    }
    if (req.canceled) return;
  }
  scsiReqComplete(req, C.GOOD);
}

async function emulateWriteSame(req: SCSIRequest, inbuf: Uint8Array): Promise<void> {
  const s = disk(req);
  const nb = scsiDataCdbXfer(req.cmd.buf);
  const b1 = req.cmd.buf[1]!;
  if (nb === 0 || b1 & 0x16) return scsiCheckCondition(req, SENSE_CODE.INVALID_FIELD);
  if (!s.writable) return scsiCheckCondition(req, SENSE_CODE.WRITE_PROTECTED);
  if (!lbaInRange(s, req.cmd.lba, nb)) return scsiCheckCondition(req, SENSE_CODE.LBA_OUT_OF_RANGE);
  const offset = req.cmd.lba * s.blocksize;
  const bytes = nb * s.blocksize;
  try {
    if (b1 & 0x1 || inbuf.subarray(0, s.blocksize).every((x) => x === 0)) {
      await s.blk!.pwriteZeroes(offset, bytes, { mayUnmap: (b1 & 0x8) !== 0 });
    } else {
      const chunk = new Uint8Array(Math.min(bytes, SCSI_WRITE_SAME_MAX));
      for (let i = 0; i < chunk.length; i += s.blocksize) chunk.set(inbuf.subarray(0, s.blocksize), i);
      for (let done = 0; done < bytes && !req.canceled; done += chunk.length) {
        const n = Math.min(chunk.length, bytes - done);
        await s.blk!.pwrite(offset + done, chunk.subarray(0, n));
      }
    }
  } catch (e) {
    if (failedIo(req, e, false)) return;
  }
  scsiReqComplete(req, C.GOOD);
}

/** scsi_disk_emulate_command(). */
function emulateCommand(req: SCSIRequest): void | Promise<void> {
  const s = disk(req);
  const cdb = req.cmd.buf;
  const op = cdb[0]!;
  if (!NO_MEDIUM_OK.has(op) && !s.available) return scsiCheckCondition(req, SENSE_CODE.NO_MEDIUM);
  if (req.cmd.xfer > 65536) return scsiCheckCondition(req, SENSE_CODE.INVALID_FIELD);
  const view = s.diskView();
  const invalid = () => scsiCheckCondition(req, SENSE_CODE.INVALID_FIELD);
  const answer = (b: Uint8Array | null) => (b ? finishData(req, b) : invalid());

  if (req.cmd.mode === 'to-dev') {
    const inbuf = scsiReqDataOut(req, req.cmd.xfer);
    if (inbuf.length < req.cmd.xfer) return invalid();
    switch (op) {
      case C.MODE_SELECT:
      case C.MODE_SELECT_10:
        return emulateModeSelect(req, inbuf);
      case C.UNMAP:
        return emulateUnmap(req, inbuf);
      case C.WRITE_SAME_10:
      case C.WRITE_SAME_16:
        return emulateWriteSame(req, inbuf);
      case C.VERIFY_10:
      case C.VERIFY_12:
      case C.VERIFY_16:
        // BYTCHK: comparing data is not supported
        return invalid();
      case C.FORMAT_UNIT:
        return scsiReqComplete(req, C.GOOD);
    }
  }

  switch (op) {
    case C.TEST_UNIT_READY:
    case C.SEEK_10:
      if (op === C.SEEK_10 && req.cmd.lba > s.maxLba)
        return scsiCheckCondition(req, SENSE_CODE.LBA_OUT_OF_RANGE);
      return scsiReqComplete(req, C.GOOD);
    case C.INQUIRY:
      if (cdb[1]! & 0x1) return answer(E.emulateVpdPage(view, cdb[2]!));
      if (cdb[2] !== 0) return invalid();
      return answer(E.emulateInquiryStd(view, req.cmd.xfer));
    case C.MODE_SENSE:
    case C.MODE_SENSE_10: {
      const r = E.emulateModeSense(view, cdb);
      if (r === 'saving-not-supported')
        return scsiCheckCondition(req, SENSE_CODE.SAVING_PARAMS_NOT_SUPPORTED);
      return answer(r === 'invalid-field' ? null : r);
    }
    case C.READ_TOC:
      return answer(E.emulateReadToc(view, cdb));
    case C.RESERVE:
    case C.RELEASE:
      return cdb[1]! & 1 ? invalid() : scsiReqComplete(req, C.GOOD);
    case C.RESERVE_10:
    case C.RELEASE_10:
      return cdb[1]! & 3 ? invalid() : scsiReqComplete(req, C.GOOD);
    case C.START_STOP:
      if (emulateStartStop(req)) scsiReqComplete(req, C.GOOD);
      return;
    case C.ALLOW_MEDIUM_REMOVAL:
      s.trayLocked = (cdb[4]! & 1) !== 0;
      return scsiReqComplete(req, C.GOOD);
    case C.READ_CAPACITY_10: {
      if (!view.nbSectors) return scsiCheckCondition(req, SENSE_CODE.LUN_NOT_READY);
      if ((cdb[8]! & 1) === 0 && req.cmd.lba) return invalid();
      s.maxLba = s.computeMaxLba();
      return finishData(req, E.emulateReadCapacity10(view));
    }
    case C.REQUEST_SENSE:
      // Nothing saved (the bus answers when there is): NO SENSE.
      return finishData(req, E.emulateRequestSenseNone(req.cmd.xfer, (cdb[1]! & 1) === 0));
    case C.MECHANISM_STATUS:
      return answer(E.emulateMechanismStatus(view));
    case C.GET_CONFIGURATION:
      return answer(E.emulateGetConfiguration(view));
    case C.GET_EVENT_STATUS_NOTIFICATION:
      return answer(E.emulateEventStatus(view, cdb, s));
    case C.READ_DISC_INFORMATION:
      return answer(E.emulateReadDiscInformation(view, cdb));
    case C.SERVICE_ACTION_IN_16:
      if ((cdb[1]! & 31) === C.SAI_READ_CAPACITY_16) {
        if (!view.nbSectors) return scsiCheckCondition(req, SENSE_CODE.LUN_NOT_READY);
        if ((cdb[14]! & 1) === 0 && req.cmd.lba) return invalid();
        s.maxLba = s.computeMaxLba();
        return finishData(req, E.emulateReadCapacity16(view, req.cmd.xfer));
      }
      return invalid();
    case C.SYNCHRONIZE_CACHE:
      return flushThenComplete(req);
    case C.VERIFY_10:
    case C.VERIFY_12:
    case C.VERIFY_16:
      return cdb[1]! & 6 ? invalid() : scsiReqComplete(req, C.GOOD);
    case C.MODE_SELECT:
    case C.MODE_SELECT_10:
    case C.UNMAP:
    case C.FORMAT_UNIT:
      // no parameter data: nothing to do
      return scsiReqComplete(req, C.GOOD);
    case C.WRITE_SAME_10:
    case C.WRITE_SAME_16:
      return emulateWriteSame(req, new Uint8Array(s.blocksize));
    default:
      return scsiCheckCondition(req, SENSE_CODE.INVALID_OPCODE);
  }
}

const FUA_CMDS = new Set([C.READ_10, C.READ_12, C.READ_16, C.WRITE_10, C.WRITE_12, C.WRITE_16]);
const ALWAYS_FUA = new Set([C.WRITE_VERIFY_10, C.WRITE_VERIFY_12, C.WRITE_VERIFY_16]);

/** scsi_disk_dma_command() + the read/write loops. */
async function dmaCommand(req: SCSIRequest): Promise<void> {
  const s = disk(req);
  const cdb = req.cmd.buf;
  const op = cdb[0]!;
  if (!s.available) return scsiCheckCondition(req, SENSE_CODE.NO_MEDIUM);
  const isRead = op === C.READ_6 || op === C.READ_10 || op === C.READ_12 || op === C.READ_16;
  if (!isRead && !s.writable) return scsiCheckCondition(req, SENSE_CODE.WRITE_PROTECTED);
  if (s.scsiVersion > 2 && op !== C.READ_6 && op !== C.WRITE_6 && cdb[1]! & 0xe0) {
    return scsiCheckCondition(req, SENSE_CODE.INVALID_FIELD);
  }
  const count = scsiDataCdbXfer(cdb);
  if (!lbaInRange(s, req.cmd.lba, count)) return scsiCheckCondition(req, SENSE_CODE.LBA_OUT_OF_RANGE);
  const fua = ALWAYS_FUA.has(op) || (FUA_CMDS.has(op) && (cdb[1]! & 8) !== 0);
  const blk = s.blk!;
  let offset = req.cmd.lba * s.blocksize;
  let remaining = count * s.blocksize;
  try {
    if (isRead) {
      if (fua) await blk.flush();
      while (remaining > 0 && !req.canceled) {
        const n = Math.min(IO_CHUNK, remaining);
        const buf = await blk.pread(offset, n);
        scsiReqDataIn(req, buf);
        offset += n;
        remaining -= n;
      }
    } else {
      while (remaining > 0 && !req.canceled) {
        const n = Math.min(IO_CHUNK, remaining);
        const buf = scsiReqDataOut(req, n);
        if (buf.length < n) return scsiCheckCondition(req, SENSE_CODE.INVALID_FIELD);
        await blk.pwrite(offset, buf);
        offset += n;
        remaining -= n;
      }
      if (fua && !req.canceled) await blk.flush();
    }
  } catch (e) {
    if (failedIo(req, e, isRead)) return;
  }
  scsiReqComplete(req, C.GOOD);
}

const emulateOps: SCSIReqOps = { sendCommand: emulateCommand };
const dmaOps: SCSIReqOps = { sendCommand: dmaCommand };

// ---------------------------------------------------------------------------------------------------------
// Realize / reset

/** guess_chs_for_size(): 16 heads, 63 sectors, cylinders from the size. */
function guessGeometry(s: SCSIDiskState): void {
  if (s.cyls && s.heads && s.secs) return;
  const nb = s.nbSectors();
  let cyls = Math.floor(nb / (16 * 63));
  if (cyls > 16383) cyls = 16383;
  else if (cyls < 2) cyls = 2;
  s.cyls = cyls;
  s.heads = 16;
  s.secs = 63;
}

function checkBlockSize(name: string, v: number): void {
  if (v < 512 || v > 2 * 1024 * 1024 || (v & (v - 1)) !== 0) {
    throw errorSetg(`Property ${name} doesn't take value '${v}'`);
  }
}

function scsiDiskRealize(dev: SCSIDevice): void {
  const s = dev as SCSIDiskState;
  const typename = objectGetTypename(s);
  if (s.drive && !s.blk)
    s.blk = blkAttachDevByRef(s.drive, objectGetCanonicalPath(s) ?? typename, 'drive', typename);
  try {
    if (!s.blk) throw errorSetg('drive property not set');
    if (!s.removable && !s.blk.isInserted()) throw errorSetg('Device needs media, but drive is empty');
    if (!s.logicalBlockSize) s.logicalBlockSize = 512;
    if (!s.physicalBlockSize) s.physicalBlockSize = s.logicalBlockSize;
    checkBlockSize('logical_block_size', s.logicalBlockSize);
    if (s.physicalBlockSize < s.logicalBlockSize) {
      throw errorSetg('physical_block_size must be greater than or equal to logical_block_size');
    }
    if (s.type === C.TYPE_DISK) guessGeometry(s);
    if (s.writeCacheProp !== 'auto') s.blk.writeCache = s.writeCacheProp === 'on';
    if (s.discardGranularity === SIZE32_AUTO) {
      s.discardGranularity = Math.max(s.logicalBlockSize, DEFAULT_DISCARD_GRANULARITY);
    }
    s.version ??= QEMU_HW_VERSION;
    s.vendor ??= 'QEMU';
    if (!s.deviceId) {
      if (s.serial) s.deviceId = s.serial.slice(0, 20);
      else if (s.blk.name) s.deviceId = s.blk.name;
    }
    s.maxLba = s.computeMaxLba();
  } catch (e) {
    releaseBackend(s);
    throw e;
  }
}

function releaseBackend(s: SCSIDiskState): void {
  const blk = s.blk;
  s.blk = null;
  if (!blk || blk.dev === null) return;
  // The backend (and an anonymous backend's node) must outlive I/O still in flight.
  if (s.inflight.size === 0) void blkDetachDev(blk);
  else void scsiDeviceDrain(s).then(() => blkDetachDev(blk));
}

function scsiHdRealize(dev: SCSIDevice): void {
  const s = dev as SCSIDiskState;
  if (s.logicalBlockSize) checkBlockSize('logical_block_size', s.logicalBlockSize);
  s.blocksize = s.logicalBlockSize || 512;
  s.type = C.TYPE_DISK;
  s.product ??= 'QEMU HARDDISK';
  scsiDiskRealize(s);
}

function scsiCdRealize(dev: SCSIDevice): void {
  const s = dev as SCSIDiskState;
  s.blocksize = s.physicalBlockSize || 2048;
  s.type = C.TYPE_ROM;
  s.features |= 1 << SCSI_DISK_F_REMOVABLE;
  s.product ??= 'QEMU CD-ROM';
  if (!s.drive) {
    // An empty drive: no medium until one is inserted.
    s.logicalBlockSize ||= 512;
    s.physicalBlockSize ||= s.logicalBlockSize;
    if (s.discardGranularity === SIZE32_AUTO) s.discardGranularity = DEFAULT_DISCARD_GRANULARITY;
    s.version ??= QEMU_HW_VERSION;
    s.vendor ??= 'QEMU';
    return;
  }
  scsiDiskRealize(s);
}

function scsiDiskReset(d: DeviceState): void {
  const s = d as SCSIDiskState;
  scsiDevicePurgeRequests(s, SENSE_CODE.RESET);
  s.maxLba = s.computeMaxLba();
  s.trayLocked = false;
  s.trayOpen = false;
  s.scsiVersion = s.defaultScsiVersion;
}

/** scsi_disk_unit_attention_reported(): after NO MEDIUM comes MEDIUM CHANGED. */
function unitAttentionReported(dev: SCSIDevice): void {
  const s = dev as SCSIDiskState;
  if (s.mediaChanged) {
    s.mediaChanged = false;
    scsiDeviceSetUa(s, SENSE_CODE.MEDIUM_CHANGED);
  }
}

export const vmstateScsiDiskState: VMStateDescription = {
  name: 'scsi-disk',
  versionId: 1,
  minimumVersionId: 1,
  fields: [
    { name: 'qdev', kind: 'struct', vmsd: vmstateScsiDevice },
    { name: 'mediaChanged', kind: 'bool' },
    { name: 'mediaEvent', kind: 'bool' },
    { name: 'ejectRequest', kind: 'bool' },
    { name: 'trayOpen', kind: 'bool' },
    { name: 'trayLocked', kind: 'bool' },
  ],
};

function commonProps(): Property[] {
  return [
    definePropDrive('drive', 'drive'),
    definePropOnOffAuto('backend_defaults', 'backendDefaults', 'auto'),
    definePropSize('logical_block_size', 'logicalBlockSize', 0),
    definePropSize('physical_block_size', 'physicalBlockSize', 0),
    definePropSize32('min_io_size', 'minIoSize', 0),
    definePropSize32('opt_io_size', 'optIoSize', 0),
    definePropSize32('discard_granularity', 'discardGranularity', SIZE32_AUTO),
    definePropOnOffAuto('write-cache', 'writeCacheProp', 'auto'),
    definePropBool('share-rw', 'shareRw', false),
    definePropOnOffAuto('account-invalid', 'accountInvalid', 'auto'),
    definePropOnOffAuto('account-failed', 'accountFailed', 'auto'),
    definePropEnum('rerror', 'rerror', 'auto', qdevPropBlockdevOnError),
    definePropEnum('werror', 'werror', 'auto', qdevPropBlockdevOnError),
    definePropString('ver', 'version'),
    definePropString('serial', 'serial'),
    definePropString('vendor', 'vendor'),
    definePropString('product', 'product'),
    definePropString('device_id', 'deviceId'),
  ];
}

typeRegister<SCSIDiskState, SCSIDeviceClass>({
  name: TYPE_SCSI_DISK_BASE,
  parent: TYPE_SCSI_DEVICE,
  abstract: true,
  instance: SCSIDiskState,
  classInit(dc) {
    dc.fwName = 'disk';
    dc.reset = scsiDiskReset;
    dc.reqOps = (_dev, cdb) => (DMA.has(cdb[0]!) ? dmaOps : emulateOps);
    dc.unitAttentionReported = unitAttentionReported;
    dc.scsiUnrealize = (dev) => releaseBackend(dev as SCSIDiskState);
    dc.vmsd = vmstateScsiDiskState;
  },
});

typeRegister<SCSIDiskState, SCSIDeviceClass>({
  name: TYPE_SCSI_HD,
  parent: TYPE_SCSI_DISK_BASE,
  classInit(dc) {
    dc.desc = 'virtual SCSI disk';
    dc.scsiRealize = scsiHdRealize;
    deviceClassSetProps(dc, [
      ...commonProps(),
      definePropBit('removable', 'features', SCSI_DISK_F_REMOVABLE, false),
      definePropBit('dpofua', 'features', SCSI_DISK_F_DPOFUA, false),
      definePropUint64('wwn', 'wwn', 0),
      definePropUint64('port_wwn', 'portWwn', 0),
      definePropUint16('port_index', 'portIndex', 0),
      definePropUint64('max_unmap_size', 'maxUnmapSize', DEFAULT_MAX_UNMAP_SIZE),
      definePropUint64('max_io_size', 'maxIoSize', DEFAULT_MAX_IO_SIZE),
      definePropUint16('rotation_rate', 'rotationRate', 0),
      definePropInt32('scsi_version', 'defaultScsiVersion', 5),
      definePropBit('quirk_mode_page_vendor_specific_apple', 'quirks', 2, false),
      definePropUint32('cyls', 'cyls', 0),
      definePropUint32('heads', 'heads', 0),
      definePropUint32('secs', 'secs', 0),
      definePropUint32('lcyls', 'lcyls', 0),
      definePropUint32('lheads', 'lheads', 0),
      definePropUint32('lsecs', 'lsecs', 0),
    ]);
  },
});

typeRegister<SCSIDiskState, SCSIDeviceClass>({
  name: TYPE_SCSI_CD,
  parent: TYPE_SCSI_DISK_BASE,
  classInit(dc) {
    dc.desc = 'virtual SCSI CD-ROM';
    dc.scsiRealize = scsiCdRealize;
    deviceClassSetProps(dc, [
      ...commonProps(),
      definePropUint64('wwn', 'wwn', 0),
      definePropUint64('port_wwn', 'portWwn', 0),
      definePropUint16('port_index', 'portIndex', 0),
      definePropUint64('max_io_size', 'maxIoSize', DEFAULT_MAX_IO_SIZE),
      definePropInt32('scsi_version', 'defaultScsiVersion', 5),
      definePropBit('quirk_mode_page_apple_vendor', 'quirks', 0, false),
      definePropBit('quirk_mode_sense_rom_use_dbd', 'quirks', 1, false),
      definePropBit('quirk_mode_page_vendor_specific_apple', 'quirks', 2, false),
      definePropBit('quirk_mode_page_truncated', 'quirks', 3, false),
    ]);
  },
});
