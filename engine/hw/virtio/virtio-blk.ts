/**
 * virtio-blk-device (QEMU's hw/block/virtio-blk.c, without dataplane, request merging or zoned
 * storage): a disk on a BlockBackend, one request queue.
 *
 * Requests: read/write (any number of segments), flush, get-id (the `serial` property), discard and
 * write-zeroes (one segment each, as max_discard_seg/max_write_zeroes_seg = 1 announce), and
 * SCSI passthrough answered UNSUPP. Every request runs asynchronously on the block layer and
 * completes whenever its I/O does, so completions come back out of order; data goes through a
 * host bounce buffer (the guest cannot change what is being written, and a request that finishes
 * after a reset or loadvm is dropped instead of writing into a machine state that is gone).
 *
 * Errors: a malformed request (missing headers) is virtio_error(); an I/O error follows the
 * rerror/werror policy (QEMU's blk_get_error_action): report -> VIRTIO_BLK_S_IOERR, ignore -> OK,
 * stop/enospc(on ENOSPC) -> the VM stops with "io-error" and the request is retried on `cont`.
 *
 * Migration ("virtio-blk" v2): requests still in flight (or waiting for a retry) are saved as
 * their descriptor chains and re-issued when the loaded VM runs, as QEMU does for its retry list.
 */
import { addBlockDrainHandler } from '../../block/snapshot.js';
import { errorSetg } from '../../qapi/error.js';
import {
  objectClassPropertyAdd,
  objectGetCanonicalPath,
  objectGetTypename,
  typeRegister,
} from '../../qom/object.js';
import {
  definePropBit,
  definePropBit64,
  definePropBool,
  definePropEnum,
  definePropOnOffAuto,
  definePropString,
  definePropUint16,
  definePropUint32,
  deviceClassSetProps,
  qdevPropEnum,
  qdevPropSize32,
  type OnOffAuto,
  type Property,
  type PropertyInfo,
} from '../core/qdev-properties.js';
import { definePropDrive } from '../core/qdev-properties-system.js';
import { blkAttachDevByRef, blkDetachDev, type BlockBackend } from '../../block/block-backend.js';
import { BlockIoError } from '../../block/block-error.js';
import { addVmChangeStateHandler, runstateIsRunning, vmStop } from '../../system/runstate.js';
import type { VMStateReader, VMStateWriter } from '../../migration/vmstate-types.js';
import { EINVAL, MigrationError } from '../../migration/migration-error.js';
import {
  TYPE_VIRTIO_DEVICE,
  VIRTIO_F_ANY_LAYOUT,
  VIRTIO_F_VERSION_1,
  VIRTIO_ID_BLOCK,
  VIRTQUEUE_MAX_SIZE,
  VirtIODevice,
  VirtioDeviceClass,
  VirtQueue,
  VirtQueueElement,
  dmaWritten,
  iovDiscardBack,
  iovDiscardFront,
  iovFromBuf,
  iovSize,
  iovToBuf,
  virtioAddFeature,
  virtioAddQueue,
  virtioClearFeature,
  virtioCleanup,
  virtioDeviceVmsd,
  virtioError,
  virtioHasFeature,
  virtioInit,
  virtioNotify,
  virtioVdevHasFeature,
  VIRTIO_CONFIG_S_DRIVER_OK,
} from './virtio.js';

export const TYPE_VIRTIO_BLK = 'virtio-blk-device';

// Feature bits (include/standard-headers/linux/virtio_blk.h)
export const VIRTIO_BLK_F_SIZE_MAX = 1;
export const VIRTIO_BLK_F_SEG_MAX = 2;
export const VIRTIO_BLK_F_GEOMETRY = 4;
export const VIRTIO_BLK_F_RO = 5;
export const VIRTIO_BLK_F_BLK_SIZE = 6;
export const VIRTIO_BLK_F_SCSI = 7;
export const VIRTIO_BLK_F_WCE = 9;
export const VIRTIO_BLK_F_TOPOLOGY = 10;
export const VIRTIO_BLK_F_CONFIG_WCE = 11;
export const VIRTIO_BLK_F_MQ = 12;
export const VIRTIO_BLK_F_DISCARD = 13;
export const VIRTIO_BLK_F_WRITE_ZEROES = 14;

// Request types and status
export const VIRTIO_BLK_T_IN = 0;
export const VIRTIO_BLK_T_OUT = 1;
export const VIRTIO_BLK_T_SCSI_CMD = 2;
export const VIRTIO_BLK_T_FLUSH = 4;
export const VIRTIO_BLK_T_GET_ID = 8;
export const VIRTIO_BLK_T_DISCARD = 11;
export const VIRTIO_BLK_T_WRITE_ZEROES = 13;
export const VIRTIO_BLK_T_BARRIER = 0x80000000;
export const VIRTIO_BLK_S_OK = 0;
export const VIRTIO_BLK_S_IOERR = 1;
export const VIRTIO_BLK_S_UNSUPP = 2;
export const VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP = 1;
export const VIRTIO_BLK_ID_BYTES = 20;

const BDRV_SECTOR_BITS = 9;
const BDRV_SECTOR_SIZE = 512;
/** BDRV_REQUEST_MAX_SECTORS: MIN(SIZE_MAX, INT_MAX) >> 9. */
export const BDRV_REQUEST_MAX_SECTORS = 0x7fffffff >>> BDRV_SECTOR_BITS;
const VIRTIO_BLK_AUTO_NUM_QUEUES = 0xffff;
const MIN_BLOCK_SIZE = 512;
const MAX_BLOCK_SIZE = 2 * 1024 * 1024;
const OUTHDR_SIZE = 16;
const DWZ_SIZE = 16;

/** Config space up to write_zeroes_may_unmap (virtio_blk_cfg_size_params with discard + write-zeroes). */
const CONFIG_SIZE_FULL = 57;
const CONFIG_SIZE_DISCARD = 48;
const CONFIG_SIZE_MIN = 36;

export const BLOCKDEV_ON_ERROR = ['report', 'ignore', 'enospc', 'stop', 'auto'] as const;
export type BlockdevOnError = (typeof BLOCKDEV_ON_ERROR)[number];
const qdevPropBlockdevOnError = qdevPropEnum(
  'BlockdevOnError',
  BLOCKDEV_ON_ERROR,
  'Error handling policy, report/ignore/enospc/stop/auto',
);

/** qdev_prop_blocksize: 0 (unset) or a power of two in [512 B, 2 MiB]. */
const qdevPropBlocksize: PropertyInfo = {
  ...qdevPropSize32,
  description: 'A power of two between 512 B and 2 MiB',
  set(obj, v, n, prop) {
    const x = BigInt(v.typeSize(n));
    const dev = obj as VirtIOBlock;
    if (x !== 0n && (x < BigInt(MIN_BLOCK_SIZE) || x > BigInt(MAX_BLOCK_SIZE))) {
      throw errorSetg(
        `Property ${dev.id ?? ''}.${n} doesn't take value ${x} (minimum: 512, maximum: 2097152)`,
      );
    }
    if ((x & (x - 1n)) !== 0n) {
      throw errorSetg(`Property ${dev.id ?? ''}.${n} doesn't take value '${x}', it's not a power of 2`);
    }
    (obj as unknown as Record<string, number>)[prop.field] = Number(x);
  },
};

const blocksizeProp = (name: string, field: string): Property => ({
  name,
  info: qdevPropBlocksize,
  field,
  setDefault: true,
  defval: 0,
});

const size32Prop = (name: string, field: string, defval: number): Property => ({
  name,
  info: qdevPropSize32,
  field,
  setDefault: true,
  defval,
});

/** A request between pop and completion (VirtIOBlockReq). */
interface BlkReq {
  vq: VirtQueue;
  elem: VirtQueueElement;
  epoch: number;
  /** Bytes of the device-writable part, status included (what goes in the used ring). */
  inLen: number;
}

export class VirtIOBlock extends VirtIODevice {
  drive: string | null = null;
  blk: BlockBackend | null = null;
  backendDefaults: OnOffAuto = 'auto';
  logicalBlockSize = 0;
  physicalBlockSize = 0;
  minIoSize = 0;
  optIoSize = 0;
  discardGranularity = 0xffffffff;
  writeCacheProp: OnOffAuto = 'auto';
  shareRw = false;
  accountInvalid: OnOffAuto = 'auto';
  accountFailed: OnOffAuto = 'auto';
  rerror: BlockdevOnError = 'auto';
  werror: BlockdevOnError = 'auto';
  cyls = 0;
  heads = 0;
  secs = 0;
  lcyls = 0;
  lheads = 0;
  lsecs = 0;
  serial: string | null = null;
  /** virtio-blk's own feature properties (config-wce, scsi, discard, write-zeroes). */
  blkHostFeatures = 0n;
  requestMerging = 1;
  numQueues = VIRTIO_BLK_AUTO_NUM_QUEUES;
  queueSize = 256;
  segMaxAdjust = true;
  iothread: unknown = null;
  reportDiscardGranularity = true;
  maxDiscardSectors = BDRV_REQUEST_MAX_SECTORS;
  maxWriteZeroesSectors = BDRV_REQUEST_MAX_SECTORS;
  xEnableWceIfConfigWce = true;
  bootindex = -1;

  vqs: VirtQueue[] = [];
  configSize = CONFIG_SIZE_FULL;
  sectorMask = 0;
  originalWce = true;
  /** Requests issued to the block layer and not completed yet. */
  inflight = new Set<BlkReq>();
  /** Requests waiting to be retried when the VM runs again (werror/rerror=stop, or loaded). */
  rq: BlkReq[] = [];
  private unregisterVmHandler: (() => void) | null = null;

  // ---- helpers ----------------------------------------------------------------------------

  private totalSectors(): number {
    try {
      return Math.floor(this.blk!.getLength() / BDRV_SECTOR_SIZE);
    } catch {
      return 0;
    }
  }

  /** virtio_blk_sect_range_ok(). */
  sectRangeOk(sector: number, size: number): boolean {
    const nb = Math.floor(size / BDRV_SECTOR_SIZE);
    if (nb > BDRV_REQUEST_MAX_SECTORS) return false;
    if (sector % (this.sectorMask + 1)) return false;
    if (size % this.logicalBlockSize) return false;
    const total = this.totalSectors();
    if (sector > total || nb > total - sector) return false;
    return true;
  }

  private policy(isRead: boolean): BlockdevOnError {
    const p = isRead ? this.rerror : this.werror;
    if (p !== 'auto') return p;
    return (isRead ? this.blk?.rerror : this.blk?.werror) ?? (isRead ? 'report' : 'enospc');
  }

  // ---- completion -------------------------------------------------------------------------

  /** virtio_blk_req_complete(): status byte, used ring, interrupt. */
  complete(req: BlkReq, status: number): void {
    this.inflight.delete(req);
    if (req.epoch !== this.epoch) return;
    const last = req.elem.inSg[req.elem.inSg.length - 1];
    if (last) {
      last.view[last.view.length - 1] = status;
      dmaWritten(last, last.view.length - 1, 1);
    }
    req.vq.push(req.elem, req.inLen);
    virtioNotify(this, req.vq);
  }

  /** virtio_blk_handle_rw_error(): true when the request was dealt with (not ignored). */
  private handleError(req: BlkReq, e: unknown, isRead: boolean): boolean {
    this.inflight.delete(req);
    if (req.epoch !== this.epoch) return true;
    const errno = e instanceof BlockIoError ? e.errno : 'EIO';
    const p = this.policy(isRead);
    const action = p === 'enospc' ? (errno === 'ENOSPC' ? 'stop' : 'report') : p === 'auto' ? 'report' : p;
    if (action === 'stop') {
      this.rq.push(req);
      vmStop('io-error');
      return true;
    }
    if (action === 'report') {
      this.complete(req, VIRTIO_BLK_S_IOERR);
      return true;
    }
    return false;
  }

  /** Run `io` for `req`; completes with OK, or through the error policy. */
  private submit(req: BlkReq, isRead: boolean, io: () => Promise<void>, after?: () => void): void {
    this.inflight.add(req);
    let p: Promise<void>;
    try {
      p = io();
    } catch (e) {
      p = Promise.reject(e);
    }
    p.then(
      () => {
        if (req.epoch === this.epoch) after?.();
        this.complete(req, VIRTIO_BLK_S_OK);
      },
      (e: unknown) => {
        if (!this.handleError(req, e, isRead)) this.complete(req, VIRTIO_BLK_S_OK);
      },
    );
  }

  // ---- request parsing --------------------------------------------------------------------

  /**
   * virtio_blk_handle_request(): false when the chain is malformed (virtio_error called; the caller
   * detaches it and stops processing the queue).
   */
  handleRequest(vq: VirtQueue, elem: VirtQueueElement): boolean {
    const req: BlkReq = { vq, elem, epoch: this.epoch, inLen: 0 };
    if (elem.outSg.length < 1 || elem.inSg.length < 1) {
      virtioError(this, 'virtio-blk missing headers');
      return false;
    }
    const hdr = new Uint8Array(OUTHDR_SIZE);
    if (iovToBuf(elem.outSg, 0, hdr) !== OUTHDR_SIZE) {
      virtioError(this, 'virtio-blk request outhdr too short');
      return false;
    }
    const out = iovDiscardFront(elem.outSg, OUTHDR_SIZE);
    req.inLen = iovSize(elem.inSg);
    const inData = iovDiscardBack(elem.inSg, 1);
    const dv = new DataView(hdr.buffer);
    const type = dv.getUint32(0, true);
    const sector = dv.getUint32(8, true) + dv.getUint32(12, true) * 2 ** 32;

    switch ((type & ~(VIRTIO_BLK_T_OUT | VIRTIO_BLK_T_BARRIER)) >>> 0) {
      case VIRTIO_BLK_T_IN: {
        const isWrite = (type & VIRTIO_BLK_T_OUT) !== 0;
        const sg = isWrite ? out : inData;
        const size = iovSize(sg);
        if (!this.sectRangeOk(sector, size)) {
          this.complete(req, VIRTIO_BLK_S_IOERR);
          return true;
        }
        const offset = sector * BDRV_SECTOR_SIZE;
        const blk = this.blk!;
        if (isWrite) {
          const data = new Uint8Array(size);
          iovToBuf(sg, 0, data);
          this.submit(req, false, () => blk.pwrite(offset, data));
        } else {
          const data = new Uint8Array(size);
          this.submit(
            req,
            true,
            () => blk.preadInto(offset, data),
            () => void iovFromBuf(sg, 0, data),
          );
        }
        return true;
      }
      case VIRTIO_BLK_T_FLUSH: {
        const blk = this.blk!;
        this.submit(req, false, () => blk.flush());
        return true;
      }
      case VIRTIO_BLK_T_SCSI_CMD:
        // scsi=off (and QEMU 7.2 refuses SCSI passthrough for anything but host block devices).
        this.complete(req, VIRTIO_BLK_S_UNSUPP);
        return true;
      case VIRTIO_BLK_T_GET_ID: {
        // The serial is NUL-terminated only when shorter than the buffer.
        const serial = new TextEncoder().encode(this.serial ?? '');
        const size = Math.min(serial.length + 1, Math.min(iovSize(inData), VIRTIO_BLK_ID_BYTES));
        const buf = new Uint8Array(size);
        buf.set(serial.subarray(0, size));
        iovFromBuf(inData, 0, buf);
        this.complete(req, VIRTIO_BLK_S_OK);
        return true;
      }
      case VIRTIO_BLK_T_DISCARD & ~VIRTIO_BLK_T_OUT:
      case VIRTIO_BLK_T_WRITE_ZEROES & ~VIRTIO_BLK_T_OUT: {
        const isWriteZeroes = (type & ~VIRTIO_BLK_T_BARRIER) >>> 0 === VIRTIO_BLK_T_WRITE_ZEROES;
        // Only the defined type codes (with the OUT bit), and one segment.
        if (!(type & VIRTIO_BLK_T_OUT) || iovSize(out) > DWZ_SIZE) {
          this.complete(req, VIRTIO_BLK_S_UNSUPP);
          return true;
        }
        const seg = new Uint8Array(DWZ_SIZE);
        if (iovToBuf(out, 0, seg) !== DWZ_SIZE) {
          virtioError(this, 'virtio-blk discard/write_zeroes header too short');
          return false;
        }
        this.discardWriteZeroes(req, seg, isWriteZeroes);
        return true;
      }
      default:
        this.complete(req, VIRTIO_BLK_S_UNSUPP);
        return true;
    }
  }

  /** virtio_blk_handle_discard_write_zeroes(). */
  private discardWriteZeroes(req: BlkReq, seg: Uint8Array, isWriteZeroes: boolean): void {
    const dv = new DataView(seg.buffer);
    const sector = dv.getUint32(0, true) + dv.getUint32(4, true) * 2 ** 32;
    const numSectors = dv.getUint32(8, true);
    const flags = dv.getUint32(12, true);
    const max = isWriteZeroes ? this.maxWriteZeroesSectors : this.maxDiscardSectors;
    if (numSectors > max) return this.complete(req, VIRTIO_BLK_S_IOERR);
    const bytes = numSectors * BDRV_SECTOR_SIZE;
    if (!this.sectRangeOk(sector, bytes)) return this.complete(req, VIRTIO_BLK_S_IOERR);
    const blk = this.blk!;
    const offset = sector * BDRV_SECTOR_SIZE;
    if (isWriteZeroes) {
      const mayUnmap = (flags & VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP) !== 0;
      this.submit(req, false, () => blk.pwriteZeroes(offset, bytes, { mayUnmap }));
    } else {
      // The device MUST answer UNSUPP to a discard with the unmap flag set.
      if (flags & VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP) return this.complete(req, VIRTIO_BLK_S_UNSUPP);
      this.submit(req, false, () => blk.pdiscard(offset, bytes));
    }
  }

  /** virtio_blk_handle_vq(). */
  handleVq(vq: VirtQueue): void {
    const suppress = vq.notification;
    do {
      if (suppress) vq.setNotification(false);
      for (;;) {
        const elem = vq.pop();
        if (!elem) break;
        if (!this.handleRequest(vq, elem)) {
          vq.detachElement(elem, 0);
          break;
        }
      }
      if (suppress) vq.setNotification(true);
    } while (!this.broken && !vq.isEmpty());
  }

  /** virtio_blk_dma_restart_cb(): re-issue the requests waiting for a retry. */
  restartRequests(): void {
    const list = this.rq;
    this.rq = [];
    for (const r of list) {
      if (r.epoch !== this.epoch) continue;
      if (!this.handleRequest(r.vq, r.elem)) r.vq.detachElement(r.elem, 0);
    }
  }

  /** Resolves once no request is in flight (what QEMU's blk_drain waits for). */
  async drain(): Promise<void> {
    while (this.inflight.size) {
      await new Promise((r) => setImmediate(r));
    }
  }

  // ---- config -----------------------------------------------------------------------------

  /** virtio_blk_update_config(). */
  getConfig(config: Uint8Array): void {
    const full = new Uint8Array(CONFIG_SIZE_FULL + 3);
    const dv = new DataView(full.buffer);
    const blkSize = this.logicalBlockSize;
    const capacity = this.totalSectors();
    dv.setUint32(0, capacity % 2 ** 32, true);
    dv.setUint32(4, Math.floor(capacity / 2 ** 32), true);
    dv.setUint32(8, 0, true); // size_max
    dv.setUint32(12, this.segMaxAdjust ? this.queueSize - 2 : 128 - 2, true);
    dv.setUint16(16, this.cyls, true);
    full[18] = this.heads;
    let length = 0;
    try {
      length = this.blk?.getLength() ?? 0;
    } catch {
      length = 0;
    }
    full[19] =
      length > 0 && Math.floor(Math.floor(length / this.heads) / this.secs) % blkSize
        ? this.secs & ~this.sectorMask
        : this.secs;
    dv.setUint32(20, blkSize, true);
    full[24] = Math.max(0, Math.log2(this.physicalBlockSize / this.logicalBlockSize) | 0);
    full[25] = 0; // alignment_offset
    dv.setUint16(26, Math.floor(this.minIoSize / blkSize), true);
    dv.setUint32(28, Math.floor(this.optIoSize / blkSize), true);
    full[32] = this.blk?.writeCache ? 1 : 0;
    dv.setUint16(34, this.numQueues, true);
    if (virtioHasFeature(this.blkHostFeatures, VIRTIO_BLK_F_DISCARD)) {
      let gran = this.discardGranularity;
      if (gran === 0xffffffff || !this.reportDiscardGranularity) gran = blkSize;
      dv.setUint32(36, this.maxDiscardSectors, true);
      dv.setUint32(40, 1, true); // max_discard_seg
      dv.setUint32(44, gran >>> BDRV_SECTOR_BITS, true);
    }
    if (virtioHasFeature(this.blkHostFeatures, VIRTIO_BLK_F_WRITE_ZEROES)) {
      dv.setUint32(48, this.maxWriteZeroesSectors, true);
      dv.setUint32(52, 1, true); // max_write_zeroes_seg
      full[56] = 1; // write_zeroes_may_unmap
    }
    config.set(full.subarray(0, config.length));
  }

  /** virtio_blk_set_config(): only the writeback flag is writable. */
  setConfig(config: Uint8Array): void {
    if (this.blk && config.length > 32) this.blk.writeCache = config[32] !== 0;
  }

  // ---- lifecycle --------------------------------------------------------------------------

  realizeBlk(): void {
    const typename = objectGetTypename(this);
    if (!this.drive) throw errorSetg('drive property not set');
    if (!this.blk) {
      this.blk = blkAttachDevByRef(this.drive, objectGetCanonicalPath(this) ?? typename, 'drive', typename);
    }
    const blk = this.blk;
    try {
      if (!blk.isInserted()) throw errorSetg('Device needs media, but drive is empty');
      if (this.numQueues === VIRTIO_BLK_AUTO_NUM_QUEUES) this.numQueues = 1;
      if (!this.numQueues) throw errorSetg('num-queues property must be larger than 0');
      if (this.queueSize <= 2) {
        throw errorSetg(`invalid queue-size property (${this.queueSize}), must be > 2`);
      }
      if ((this.queueSize & (this.queueSize - 1)) !== 0 || this.queueSize > VIRTQUEUE_MAX_SIZE) {
        throw errorSetg(
          `invalid queue-size property (${this.queueSize}), must be a power of 2 (max ${VIRTQUEUE_MAX_SIZE})`,
        );
      }
      // blkconf_apply_backend_options()
      if (this.writeCacheProp !== 'auto') blk.writeCache = this.writeCacheProp === 'on';
      if (this.rerror !== 'auto') blk.rerror = this.rerror === 'enospc' ? 'report' : this.rerror;
      if (this.werror !== 'auto') blk.werror = this.werror;
      this.originalWce = blk.writeCache;
      this.blkconfGeometry();
      // blkconf_blocksizes(): the backend's sizes (512 for image files) unless given.
      if (!this.logicalBlockSize) this.logicalBlockSize = MIN_BLOCK_SIZE;
      if (!this.physicalBlockSize) this.physicalBlockSize = Math.max(MIN_BLOCK_SIZE, this.logicalBlockSize);
      if (this.logicalBlockSize > this.physicalBlockSize) {
        throw errorSetg('logical_block_size > physical_block_size not supported');
      }
      if (
        virtioHasFeature(this.blkHostFeatures, VIRTIO_BLK_F_DISCARD) &&
        (!this.maxDiscardSectors || this.maxDiscardSectors > BDRV_REQUEST_MAX_SECTORS)
      ) {
        throw errorSetg(
          `invalid max-discard-sectors property (${this.maxDiscardSectors}), must be between 1 and ${BDRV_REQUEST_MAX_SECTORS}`,
        );
      }
      if (
        virtioHasFeature(this.blkHostFeatures, VIRTIO_BLK_F_WRITE_ZEROES) &&
        (!this.maxWriteZeroesSectors || this.maxWriteZeroesSectors > BDRV_REQUEST_MAX_SECTORS)
      ) {
        throw errorSetg(
          `invalid max-write-zeroes-sectors property (${this.maxWriteZeroesSectors}), must be between 1 and ${BDRV_REQUEST_MAX_SECTORS}`,
        );
      }
      this.configSize = virtioHasFeature(this.blkHostFeatures, VIRTIO_BLK_F_WRITE_ZEROES)
        ? CONFIG_SIZE_FULL
        : virtioHasFeature(this.blkHostFeatures, VIRTIO_BLK_F_DISCARD)
          ? CONFIG_SIZE_DISCARD
          : CONFIG_SIZE_MIN;
      virtioInit(this, VIRTIO_ID_BLOCK, this.configSize);
      this.name = 'virtio-blk';
      this.sectorMask = this.logicalBlockSize / BDRV_SECTOR_SIZE - 1;
      this.vqs = [];
      for (let i = 0; i < this.numQueues; i++) {
        this.vqs.push(virtioAddQueue(this, this.queueSize, (vq) => this.handleVq(vq)));
      }
      this.unregisterVmHandler = addVmChangeStateHandler((running) => {
        if (running && this.rq.length) setImmediate(() => this.restartRequests());
      });
    } catch (e) {
      this.detachBackend();
      throw e;
    }
  }

  /** blkconf_geometry() with hd_geometry_guess() for a disk without a partition table. */
  private blkconfGeometry(): void {
    if (!this.cyls || !this.heads || !this.secs) {
      const nb = this.totalSectors();
      let c = Math.floor(nb / (16 * 63));
      if (c > 16383) c = 16383;
      else if (c < 2) c = 2;
      this.cyls = c;
      this.heads = 16;
      this.secs = 63;
    }
    if (this.cyls < 1 || this.cyls > 65535) throw errorSetg('cyls must be between 1 and 65535');
    if (this.heads < 1 || this.heads > 255) throw errorSetg('heads must be between 1 and 255');
    if (this.secs < 1 || this.secs > 255) throw errorSetg('secs must be between 1 and 255');
  }

  private detachBackend(): void {
    const blk = this.blk;
    this.blk = null;
    if (!blk) return;
    if (this.inflight.size === 0) void blkDetachDev(blk);
    else void this.drain().then(() => blkDetachDev(blk));
  }

  unrealizeBlk(): void {
    this.unregisterVmHandler?.();
    this.unregisterVmHandler = null;
    this.rq = [];
    virtioCleanup(this);
    this.detachBackend();
  }

  /** virtio_blk_reset(). */
  resetBlk(): void {
    this.rq = [];
    if (this.blk) this.blk.writeCache = this.originalWce;
  }

  // ---- migration --------------------------------------------------------------------------

  /** virtio_blk_save_device(): the unfinished requests, as their chains. */
  saveDevice(f: VMStateWriter): void {
    const pending = [...this.rq, ...[...this.inflight].filter((r) => r.epoch === this.epoch)];
    for (const r of pending) {
      f.u8(1);
      f.u32(r.vq.queueIndex);
      f.u32(r.elem.index);
      f.u16(r.elem.outDesc.length);
      for (const d of r.elem.outDesc) {
        f.u64(d.addr);
        f.u32(d.len);
      }
      f.u16(r.elem.inDesc.length);
      for (const d of r.elem.inDesc) {
        f.u64(d.addr);
        f.u32(d.len);
      }
    }
    f.u8(0);
  }

  /** virtio_blk_load_device(): the saved requests go to the retry list. */
  loadDevice(f: VMStateReader): void {
    this.rq = [];
    while (f.u8()) {
      const qi = f.u32();
      const index = f.u32();
      const descs = () =>
        Array.from({ length: f.u16() }, () => {
          const addr = Number(f.u64());
          return { addr, len: f.u32() };
        });
      const outDesc = descs();
      const inDesc = descs();
      const vq = this.vqs[qi];
      if (!vq) throw new MigrationError(EINVAL, `Invalid virtqueue index ${qi} in request`);
      const elem = vq.remapElement(index, outDesc, inDesc);
      if (!elem) throw new MigrationError(EINVAL, 'virtio: error trying to map MMIO memory');
      this.rq.push({ vq, elem, epoch: this.epoch, inLen: iovSize(elem.inSg) });
    }
  }
}

/** Realized virtio-blk devices, for virtioBlkDrainAll(). */
const liveDevices = new Set<VirtIOBlock>();

/**
 * Wait until no virtio-blk request is in flight (QEMU's bdrv_drain_all from the devices' side).
 * Snapshot code should await this before reverting disk contents, so no write issued before a
 * loadvm lands on the reverted image.
 */
export async function virtioBlkDrainAll(): Promise<void> {
  await Promise.all([...liveDevices].map((d) => d.drain()));
}

// savevm/loadvm drain the block layer first (bdrv_drain_all): finish our in-flight requests too, so
// no write issued before a revert lands on the reverted image.
addBlockDrainHandler(virtioBlkDrainAll);

function blkGetFeatures(s: VirtIOBlock, features: bigint): bigint {
  features |= s.blkHostFeatures;
  features = virtioAddFeature(features, VIRTIO_BLK_F_SEG_MAX);
  features = virtioAddFeature(features, VIRTIO_BLK_F_GEOMETRY);
  features = virtioAddFeature(features, VIRTIO_BLK_F_TOPOLOGY);
  features = virtioAddFeature(features, VIRTIO_BLK_F_BLK_SIZE);
  if (virtioHasFeature(features, VIRTIO_F_VERSION_1)) {
    if (virtioHasFeature(s.blkHostFeatures, VIRTIO_BLK_F_SCSI)) {
      throw errorSetg('Please set scsi=off for virtio-blk devices in order to use virtio 1.0');
    }
  } else {
    features = virtioClearFeature(features, VIRTIO_F_ANY_LAYOUT);
    features = virtioAddFeature(features, VIRTIO_BLK_F_SCSI);
  }
  if (s.blk?.writeCache || (s.xEnableWceIfConfigWce && virtioHasFeature(features, VIRTIO_BLK_F_CONFIG_WCE))) {
    features = virtioAddFeature(features, VIRTIO_BLK_F_WCE);
  }
  if (s.blk?.isReadOnly()) features = virtioAddFeature(features, VIRTIO_BLK_F_RO);
  if (s.numQueues > 1) features = virtioAddFeature(features, VIRTIO_BLK_F_MQ);
  return features;
}

typeRegister<VirtIOBlock, VirtioDeviceClass>({
  name: TYPE_VIRTIO_BLK,
  parent: TYPE_VIRTIO_DEVICE,
  instance: VirtIOBlock,
  classInit(vdc) {
    vdc.categories.add('storage');
    deviceClassSetProps(vdc, [
      definePropDrive('drive', 'drive'),
      definePropOnOffAuto('backend_defaults', 'backendDefaults', 'auto'),
      blocksizeProp('logical_block_size', 'logicalBlockSize'),
      blocksizeProp('physical_block_size', 'physicalBlockSize'),
      size32Prop('min_io_size', 'minIoSize', 0),
      size32Prop('opt_io_size', 'optIoSize', 0),
      size32Prop('discard_granularity', 'discardGranularity', 0xffffffff),
      definePropOnOffAuto('write-cache', 'writeCacheProp', 'auto'),
      definePropBool('share-rw', 'shareRw', false),
      definePropOnOffAuto('account-invalid', 'accountInvalid', 'auto'),
      definePropOnOffAuto('account-failed', 'accountFailed', 'auto'),
      definePropEnum('rerror', 'rerror', 'auto', qdevPropBlockdevOnError),
      definePropEnum('werror', 'werror', 'auto', qdevPropBlockdevOnError),
      definePropUint32('cyls', 'cyls', 0),
      definePropUint32('heads', 'heads', 0),
      definePropUint32('secs', 'secs', 0),
      definePropUint32('lcyls', 'lcyls', 0),
      definePropUint32('lheads', 'lheads', 0),
      definePropUint32('lsecs', 'lsecs', 0),
      definePropString('serial', 'serial'),
      definePropBit64('config-wce', 'blkHostFeatures', VIRTIO_BLK_F_CONFIG_WCE, true),
      definePropBit64('scsi', 'blkHostFeatures', VIRTIO_BLK_F_SCSI, false),
      definePropBit('request-merging', 'requestMerging', 0, true),
      definePropUint16('num-queues', 'numQueues', VIRTIO_BLK_AUTO_NUM_QUEUES),
      definePropUint16('queue-size', 'queueSize', 256),
      definePropBool('seg-max-adjust', 'segMaxAdjust', true),
      {
        name: 'iothread',
        info: {
          name: 'link',
          // QEMU 7.2's `info qtree` does not list link properties.
          print() {
            throw new Error('link properties are not printed');
          },
          create: (klass, name) =>
            objectClassPropertyAdd(klass, name, 'link<iothread>', (o, v, n) => {
              v.typeStr(n, '');
            }),
        },
        field: 'iothread',
        setDefault: false,
      },
      definePropBit64('discard', 'blkHostFeatures', VIRTIO_BLK_F_DISCARD, true),
      definePropBool('report-discard-granularity', 'reportDiscardGranularity', true),
      definePropBit64('write-zeroes', 'blkHostFeatures', VIRTIO_BLK_F_WRITE_ZEROES, true),
      definePropUint32('max-discard-sectors', 'maxDiscardSectors', BDRV_REQUEST_MAX_SECTORS),
      definePropUint32('max-write-zeroes-sectors', 'maxWriteZeroesSectors', BDRV_REQUEST_MAX_SECTORS),
      definePropBool('x-enable-wce-if-config-wce', 'xEnableWceIfConfigWce', true),
    ]);
    // device_add_bootindex_property(): an instance property in QEMU, no static default.
    objectClassPropertyAdd(
      vdc,
      'bootindex',
      'int32',
      (o, v, n) => {
        v.typeInt32(n, (o as VirtIOBlock).bootindex);
      },
      (o, v, n) => {
        (o as VirtIOBlock).bootindex = Number(v.typeInt32(n));
      },
    );
    vdc.vmsd = virtioDeviceVmsd('virtio-blk', 2);
    vdc.deviceRealize = (vdev) => {
      (vdev as VirtIOBlock).realizeBlk();
      liveDevices.add(vdev as VirtIOBlock);
    };
    vdc.deviceUnrealize = (vdev) => {
      liveDevices.delete(vdev as VirtIOBlock);
      (vdev as VirtIOBlock).unrealizeBlk();
    };
    vdc.getFeatures = (vdev, f) => blkGetFeatures(vdev as VirtIOBlock, f);
    vdc.getConfig = (vdev, c) => (vdev as VirtIOBlock).getConfig(c);
    vdc.setConfig = (vdev, c) => (vdev as VirtIOBlock).setConfig(c);
    vdc.resetDevice = (vdev) => (vdev as VirtIOBlock).resetBlk();
    vdc.setStatus = (vdev, status) => {
      const s = vdev as VirtIOBlock;
      if (!(status & VIRTIO_CONFIG_S_DRIVER_OK) || !s.blk) return;
      // A driver without CONFIG_WCE gets the cache mode it negotiated with WCE (QEMU: set_status).
      if (!virtioVdevHasFeature(s, VIRTIO_BLK_F_CONFIG_WCE)) {
        s.blk.writeCache = virtioVdevHasFeature(s, VIRTIO_BLK_F_WCE);
      }
    };
    vdc.save = (vdev, f) => (vdev as VirtIOBlock).saveDevice(f);
    vdc.load = (vdev, f) => (vdev as VirtIOBlock).loadDevice(f);
    vdc.postLoad = (vdev) => {
      const s = vdev as VirtIOBlock;
      if (s.rq.length && runstateIsRunning()) setImmediate(() => s.restartRequests());
    };
  },
});
