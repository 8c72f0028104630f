/**
 * The SCSI bus (QEMU's hw/scsi/scsi-bus.c): a bus of type "SCSI" owned by a host bus adapter (HBA),
 * with devices addressed by channel / target ("scsi-id") / LUN, and the request machinery between them.
 *
 * A request is created from a CDB (`scsiReqNew`), started (`scsiReqEnqueue`), moves its data through
 * the HBA's `SCSIDataPort` (the guest's buffers, known up front as with QEMU's sg lists) and ends in
 * the HBA's `complete` callback with a status; CHECK CONDITION carries sense data that the HBA fetches
 * with `scsiReqGetSense` (autosense). Commands that the addressed LUN cannot take (another LUN of the
 * target, REPORT LUNS, a pending unit attention) are answered by the bus itself, as QEMU's "target"
 * and "unit attention" request ops do.
 *
 * Block I/O is asynchronous and cannot be aborted: a cancelled request stays "in flight" until its
 * I/O settles, then the HBA's `cancel` callback runs. `scsiDeviceDrain()` waits for that.
 */
import { errorSetg } from '../../qapi/error.js';
import { typeRegister, objectGetTypename, objectClassDynamicCast } from '../../qom/object.js';
import type { QomObject } from '../../qom/object.js';
import {
  BusClass,
  BusState,
  DeviceClass,
  DeviceState,
  DEVICE_GET_CLASS,
  TYPE_BUS,
  TYPE_DEVICE,
  qbusNew,
  qbusSetBusHotplugHandler,
  qdevUnrealize,
} from '../core/qdev-core.js';
import { HotplugHandlerClass, TYPE_HOTPLUG_HANDLER } from '../core/hotplug.js';
import { deviceClassSetProps, definePropUint32 } from '../core/qdev-properties.js';
import { qdevGetDevPath } from '../../migration/register.js';
import { addVmChangeStateHandler } from '../../system/runstate.js';
import type {
  VMStateDescription,
  VMStateInfo,
  VMStateReader,
  VMStateWriter,
} from '../../migration/vmstate-types.js';
import * as C from './scsi-constants.js';
import { SENSE_CODE, type SCSISense } from './scsi-constants.js';
import { scsiParseCdb, type SCSICommand } from './scsi-cdb.js';
import {
  errnoOf,
  scsiBuildSense,
  scsiBuildSenseBuf,
  scsiConvertSense,
  scsiSenseFromErrno,
} from './scsi-sense.js';

export const TYPE_SCSI_BUS = 'SCSI';
export const TYPE_SCSI_DEVICE = 'scsi-device';
/** uint32 property value meaning "pick one" for scsi-id and lun (QEMU: -1). */
export const SCSI_ADDR_AUTO = 0xffffffff;

/** The initiator's data buffers for one request (guest memory behind a virtqueue element). */
export interface SCSIDataPort {
  /** Bytes available (data-in: room; data-out: bytes sent). */
  readonly size: number;
  /** Device to initiator, at `offset` into the buffers. */
  write(offset: number, data: Uint8Array): void;
  /** Initiator to device. */
  read(offset: number, len: number): Uint8Array;
}

/** What the HBA provides (SCSIBusInfo). */
export interface SCSIBusInfo {
  tcq: boolean;
  maxChannel: number;
  maxTarget: number;
  maxLun: number;
  /** The request finished with `status`; `req.residual` holds the bytes not transferred. */
  complete(req: SCSIRequest, status: number): void;
  /** A cancelled request is done (its I/O settled). */
  cancel?(req: SCSIRequest): void;
  /** A device reports a change (capacity, ...) besides its unit attention. */
  change?(bus: SCSIBus, dev: SCSIDevice, sense: SCSISense): void;
  /** Migration of in-flight requests: the HBA's part of each request. */
  saveRequest?(out: VMStateWriter, req: SCSIRequest): void;
  loadRequest?(inp: VMStateReader, req: SCSIRequest): unknown;
}

const noSense = (): SCSISense => ({ ...SENSE_CODE.NO_SENSE });

export class SCSIBus extends BusState {
  info!: SCSIBusInfo;
  busnr = 0;
  unitAttention: SCSISense = noSense();
}

/** How a device handles the requests it accepts (SCSIReqOps). */
export interface SCSIReqOps {
  /** Fetch sense/state at creation (unit attention ops). */
  init?(req: SCSIRequest): void;
  /** Run the command; complete it (now or later) with scsiReqComplete / scsiCheckCondition. */
  sendCommand(req: SCSIRequest): void | Promise<void>;
}

export class SCSIDeviceClass extends DeviceClass {
  scsiRealize?: (dev: SCSIDevice) => void;
  scsiUnrealize?: (dev: SCSIDevice) => void;
  /** The ops for a command addressed to this LUN (scsi-disk dispatches per opcode). */
  reqOps?: (dev: SCSIDevice, cdb: Uint8Array) => SCSIReqOps;
  unitAttentionReported?: (dev: SCSIDevice) => void;
}

export class SCSIDevice extends DeviceState {
  channel = 0;
  scsiId = SCSI_ADDR_AUTO;
  lun = SCSI_ADDR_AUTO;
  type: number = C.TYPE_DISK;
  blocksize = 512;
  maxLba = 0;
  defaultScsiVersion = 5;
  scsiVersion = 5;
  /** Pending unit attention (key/asc/ascq kept flat for VMState). */
  uaKey = 0;
  uaAsc = 0;
  uaAscq = 0;
  /** Sense of the last CHECK CONDITION, for REQUEST SENSE; `senseLo`/`senseHi` are views for VMState. */
  readonly sense = new Uint8Array(C.SCSI_SENSE_BUF_SIZE);
  readonly senseLo = this.sense.subarray(0, C.SCSI_SENSE_BUF_SIZE_OLD);
  readonly senseHi = this.sense.subarray(C.SCSI_SENSE_BUF_SIZE_OLD);
  senseLen = 0;
  senseIsUa = false;
  /** Enqueued, not yet completed requests (QEMU's dev->requests). */
  readonly requests = new Set<SCSIRequest>();
  /** Requests whose I/O has not settled (including cancelled ones). */
  readonly inflight = new Set<Promise<void>>();
  /** Requests read from a migration stream, restarted when the VM runs. */
  loadedRequests: SCSIRequest[] = [];
  private unhookRunState: (() => void) | null = null;

  /** VMSTATE_SCSI_DEVICE(qdev, ...) nests this device's SCSIDevice part under "qdev". */
  get qdev(): SCSIDevice {
    return this;
  }

  get unitAttention(): SCSISense {
    return { key: this.uaKey, asc: this.uaAsc, ascq: this.uaAscq };
  }
  set unitAttention(s: SCSISense) {
    this.uaKey = s.key;
    this.uaAsc = s.asc;
    this.uaAscq = s.ascq;
  }

  get bus(): SCSIBus {
    return this.parentBus as SCSIBus;
  }

  hookRunState(): void {
    this.unhookRunState = addVmChangeStateHandler((running) => {
      if (running) scsiRestartLoadedRequests(this);
    });
  }
  unhook(): void {
    this.unhookRunState?.();
    this.unhookRunState = null;
  }
}

export const SCSI_DEVICE_GET_CLASS = (d: QomObject) => DEVICE_GET_CLASS(d) as SCSIDeviceClass;

// ---------------------------------------------------------------------------------------------------------
// Requests

export class SCSIRequest {
  status = -1;
  /** Sense built for this request (fixed format). */
  sense: Uint8Array = new Uint8Array(0);
  residual = 0;
  /** Bytes moved through the data port so far. */
  transferred = 0;
  canceled = false;
  enqueued = false;
  /** Set when restarted after migration instead of run from the guest's submission. */
  retry = false;
  data: SCSIDataPort | null = null;
  running: Promise<void> | null = null;
  cancelReported = false;

  constructor(
    readonly dev: SCSIDevice,
    readonly ops: SCSIReqOps,
    readonly tag: number,
    readonly lun: number,
    public cmd: SCSICommand,
    public hbaPrivate: unknown,
    /** The CDB as the initiator sent it (for migration). */
    readonly cdb: Uint8Array,
  ) {}

  get bus(): SCSIBus {
    return this.dev.bus;
  }
}

/** scsi_device_find(): exact LUN, else the first device on that target (it answers for the target). */
export function scsiDeviceFind(
  bus: SCSIBus,
  channel: number,
  id: number,
  lun: number,
  includeUnrealized = false,
): SCSIDevice | null {
  let ret: SCSIDevice | null = null;
  // bus.children is newest first; QEMU's QTAILQ walk is oldest first.
  for (let i = bus.children.length - 1; i >= 0; i--) {
    const d = bus.children[i]!.child as SCSIDevice;
    if (d.channel === channel && d.scsiId === id) {
      if (d.lun === lun) {
        ret = d;
        break;
      }
      ret ??= d;
    }
  }
  if (ret && !includeUnrealized && !ret.realized) return null;
  return ret;
}

function addressFree(bus: SCSIBus, channel: number, id: number, lun: number): SCSIDevice | null {
  const d = scsiDeviceFind(bus, channel, id, lun, true);
  return d && d.lun === lun ? d : null;
}

/** scsi_req_build_sense(). */
export function scsiReqBuildSense(req: SCSIRequest, sense: SCSISense): void {
  req.sense = scsiBuildSense(sense);
}

/** Move device data to the initiator (QEMU: scsi_req_data + DMA); returns the bytes taken. */
export function scsiReqDataIn(req: SCSIRequest, bytes: Uint8Array): number {
  if (req.canceled || !req.data) return 0;
  const room = Math.min(req.data.size, req.cmd.xfer) - req.transferred;
  const n = Math.max(0, Math.min(room, bytes.length));
  if (n > 0) req.data.write(req.transferred, bytes.subarray(0, n));
  req.transferred += n;
  return n;
}

/** Fetch initiator data for the device (data-out). */
export function scsiReqDataOut(req: SCSIRequest, len: number): Uint8Array {
  if (req.canceled || !req.data) return new Uint8Array(0);
  const n = Math.max(0, Math.min(len, req.data.size - req.transferred));
  const out = req.data.read(req.transferred, n);
  req.transferred += n;
  return out;
}

/** scsi_req_complete(). */
export function scsiReqComplete(req: SCSIRequest, status: number): void {
  if (req.canceled || req.status !== -1) return;
  req.status = status;
  const dev = req.dev;
  if (status === C.GOOD) req.sense = new Uint8Array(0);
  if (req.sense.length) {
    dev.sense.fill(0);
    dev.sense.set(req.sense.subarray(0, C.SCSI_SENSE_BUF_SIZE));
    dev.senseLen = Math.min(req.sense.length, C.SCSI_SENSE_BUF_SIZE);
    dev.senseIsUa = req.ops === reqopsUnitAttention;
  } else {
    dev.senseLen = 0;
    dev.senseIsUa = false;
  }
  req.residual = Math.max(0, (req.data ? req.data.size : req.cmd.xfer) - req.transferred);
  dequeue(req);
  req.bus.info.complete(req, status);
}

/** scsi_check_condition(): fail with `sense`. */
export function scsiCheckCondition(req: SCSIRequest, sense: SCSISense): void {
  scsiReqBuildSense(req, sense);
  scsiReqComplete(req, C.CHECK_CONDITION);
}

/** Complete a request whose block I/O failed (werror/rerror "report"). */
export function scsiReqIoError(req: SCSIRequest, e: unknown): void {
  const { status, sense } = scsiSenseFromErrno(errnoOf(e));
  scsiReqBuildSense(req, sense);
  scsiReqComplete(req, status);
}

/** scsi_req_get_sense(): autosense in fixed format; reading it clears a reported unit attention. */
export function scsiReqGetSense(req: SCSIRequest, maxLen: number): Uint8Array {
  if (!req.sense.length) return new Uint8Array(0);
  const out = scsiConvertSense(req.sense, maxLen, true);
  const dev = req.dev;
  if (dev.senseIsUa) {
    SCSI_DEVICE_GET_CLASS(dev).unitAttentionReported?.(dev);
    dev.senseLen = 0;
    dev.senseIsUa = false;
  }
  return out;
}

function dequeue(req: SCSIRequest): void {
  req.retry = false;
  if (req.enqueued) {
    req.dev.requests.delete(req);
    req.enqueued = false;
  }
}

function reportCancel(req: SCSIRequest): void {
  if (req.cancelReported) return;
  req.cancelReported = true;
  req.bus.info.cancel?.(req);
}

/** scsi_req_enqueue(): run the command. Returns the promise of its I/O (resolved at once if none). */
export function scsiReqEnqueue(req: SCSIRequest): Promise<void> {
  if (req.enqueued) throw new Error('scsi_req_enqueue: request already enqueued');
  req.enqueued = true;
  req.dev.requests.add(req);
  let r: void | Promise<void>;
  try {
    r = req.ops.sendCommand(req);
  } catch (e) {
    if (req.status === -1) scsiReqIoError(req, e);
    return Promise.resolve();
  }
  if (!(r instanceof Promise)) {
    if (req.canceled) reportCancel(req);
    return Promise.resolve();
  }
  const dev = req.dev;
  const p: Promise<void> = r
    .catch((e: unknown) => {
      if (!req.canceled && req.status === -1) scsiReqIoError(req, e);
    })
    .finally(() => {
      dev.inflight.delete(p);
      req.running = null;
      if (req.canceled) reportCancel(req);
    });
  req.running = p;
  dev.inflight.add(p);
  return p;
}

/** scsi_req_cancel_async(): the HBA's cancel callback runs once the request's I/O has settled. */
export function scsiReqCancel(req: SCSIRequest): void {
  if (!req.enqueued || req.canceled) return;
  dequeue(req);
  req.canceled = true;
  if (!req.running) reportCancel(req);
}

/** Wait until no I/O of `dev` is in flight (QEMU: blk_drain). */
export async function scsiDeviceDrain(dev: SCSIDevice): Promise<void> {
  while (dev.inflight.size) await Promise.allSettled([...dev.inflight]);
}

/** Wait for every device on `bus`. */
export async function scsiBusDrain(bus: SCSIBus): Promise<void> {
  await Promise.all(bus.children.map((k) => scsiDeviceDrain(k.child as SCSIDevice)));
}

/** scsi_device_set_ua(): keep the more important of the pending and the new unit attention. */
export function scsiDeviceSetUa(dev: SCSIDevice, sense: SCSISense): void {
  if (sense.key !== C.UNIT_ATTENTION) return;
  if (uaPrecedence(sense) < uaPrecedence(dev.unitAttention)) dev.unitAttention = { ...sense };
}

/** scsi_bus_set_ua(). */
export function scsiBusSetUa(bus: SCSIBus, sense: SCSISense): void {
  if (sense.key !== C.UNIT_ATTENTION) return;
  if (uaPrecedence(sense) < uaPrecedence(bus.unitAttention)) bus.unitAttention = { ...sense };
}

/** scsi_ua_precedence(): resets beat everything; lower wins. */
function uaPrecedence(s: SCSISense): number {
  if (s.key !== C.UNIT_ATTENTION) return Number.MAX_SAFE_INTEGER;
  if (s.asc === 0x29 && s.ascq === 0x04) return 1;
  if (s.asc === 0x3f && s.ascq === 0x01) return 2;
  if (s.asc === 0x29 && (s.ascq === 0x05 || s.ascq === 0x06)) return (s.asc << 8) | s.ascq;
  if (s.asc === 0x29 && s.ascq <= 0x07) return s.ascq;
  if (s.asc === 0x2f && s.ascq === 0x01) return 8;
  return (s.asc << 8) | s.ascq;
}

/** scsi_device_purge_requests(): cancel everything queued, then raise `sense` as unit attention. */
export function scsiDevicePurgeRequests(dev: SCSIDevice, sense: SCSISense): void {
  for (const req of [...dev.requests]) scsiReqCancel(req);
  for (const req of dev.loadedRequests) req.canceled = true;
  dev.loadedRequests = [];
  scsiDeviceSetUa(dev, sense);
}

/** scsi_device_report_change(). */
export function scsiDeviceReportChange(dev: SCSIDevice, sense: SCSISense): void {
  scsiDeviceSetUa(dev, sense);
  dev.bus.info.change?.(dev.bus, dev, sense);
}

// Bus-level request ops ---------------------------------------------------------------------------------

const reqopsInvalidOpcode: SCSIReqOps = {
  sendCommand: (req) => scsiCheckCondition(req, SENSE_CODE.INVALID_OPCODE),
};

const reqopsInvalidField: SCSIReqOps = {
  sendCommand: (req) => scsiCheckCondition(req, SENSE_CODE.INVALID_FIELD),
};

const reqopsUnitAttention: SCSIReqOps = {
  init(req) {
    const dev = req.dev;
    const bus = req.bus;
    if (dev.uaKey === C.UNIT_ATTENTION) {
      scsiReqBuildSense(req, dev.unitAttention);
      dev.unitAttention = noSense();
    } else if (bus.unitAttention.key === C.UNIT_ATTENTION) {
      scsiReqBuildSense(req, bus.unitAttention);
      bus.unitAttention = noSense();
    }
  },
  sendCommand: (req) => scsiReqComplete(req, C.CHECK_CONDITION),
};

function storeLun(out: Uint8Array, off: number, lun: number): void {
  if (lun < 256) {
    out[off] = 0;
    out[off + 1] = lun;
  } else {
    out[off] = 0x40 | (lun >> 8);
    out[off + 1] = lun & 0xff;
  }
}

function clearReportedLunsChanged(req: SCSIRequest): void {
  const rl = SENSE_CODE.REPORTED_LUNS_CHANGED;
  const dev = req.dev;
  const bus = req.bus;
  if (dev.uaKey === C.UNIT_ATTENTION) {
    if (dev.uaAsc === rl.asc && dev.uaAscq === rl.ascq) dev.unitAttention = noSense();
  } else if (bus.unitAttention.key === C.UNIT_ATTENTION) {
    if (bus.unitAttention.asc === rl.asc && bus.unitAttention.ascq === rl.ascq) bus.unitAttention = noSense();
  }
}

/** REPORT LUNS for the addressed target: LUN 0 always, then every other realized LUN. */
function targetReportLuns(req: SCSIRequest): Uint8Array | null {
  if (req.cmd.xfer < 16 || req.cmd.buf[2]! > 2) return null;
  const { channel, scsiId } = req.dev;
  const luns: number[] = [0];
  for (let i = req.bus.children.length - 1; i >= 0; i--) {
    const d = req.bus.children[i]!.child as SCSIDevice;
    if (d.channel === channel && d.scsiId === scsiId && d.lun !== 0 && d.realized) luns.push(d.lun);
  }
  const buf = new Uint8Array(8 + 8 * luns.length);
  new DataView(buf.buffer).setUint32(0, buf.length - 8);
  luns.forEach((l, i) => storeLun(buf, 8 + 8 * i, l));
  clearReportedLunsChanged(req);
  return buf.subarray(0, Math.min(buf.length, req.cmd.xfer & ~7));
}

/** INQUIRY for a LUN with no device behind it (peripheral qualifier 3) or the target itself. */
function targetInquiry(req: SCSIRequest): Uint8Array | null {
  const cdb = req.cmd.buf;
  if (cdb[1]! & 0x2) return null;
  if (cdb[1]! & 0x1) {
    const page = cdb[2]!;
    if (page !== 0x00) return null;
    const out = Uint8Array.from([page, 0x00, 1, 0x00]);
    return out.subarray(0, Math.min(req.cmd.xfer, out.length));
  }
  if (cdb[2] !== 0) return null;
  const len = Math.min(req.cmd.xfer, C.SCSI_INQUIRY_LEN);
  const buf = new Uint8Array(C.SCSI_INQUIRY_LEN);
  if (req.lun !== 0) {
    buf[0] = C.TYPE_NO_LUN;
  } else {
    buf[0] = C.TYPE_NOT_PRESENT | C.TYPE_INACTIVE;
    buf[2] = 5;
    buf[3] = 2 | 0x10;
    buf[4] = len - 5;
    buf[7] = 0x10 | (req.bus.info.tcq ? 0x02 : 0);
    buf.set(ascii('QEMU    '), 8);
    buf.set(ascii('QEMU TARGET     '), 16);
    buf.set(ascii(QEMU_HW_VERSION.slice(0, 3)), 32);
  }
  return buf.subarray(0, len);
}

/** qemu_hw_version() of QEMU 7.2 (what INQUIRY reports as product revision). */
export const QEMU_HW_VERSION = '2.5+';

export function ascii(s: string): Uint8Array {
  return Uint8Array.from(s, (c) => c.charCodeAt(0) & 0xff);
}

const reqopsTargetCommand: SCSIReqOps = {
  sendCommand(req) {
    const cdb = req.cmd.buf;
    const fixed = (cdb[1]! & 1) === 0;
    if (req.lun !== 0 && cdb[0] !== C.INQUIRY && cdb[0] !== C.REQUEST_SENSE) {
      scsiCheckCondition(req, SENSE_CODE.LUN_NOT_SUPPORTED);
      return;
    }
    let out: Uint8Array | null;
    switch (cdb[0]) {
      case C.REPORT_LUNS:
        out = targetReportLuns(req);
        break;
      case C.INQUIRY:
        out = targetInquiry(req);
        break;
      case C.REQUEST_SENSE: {
        const dev = req.dev;
        if (req.lun !== 0) {
          out = scsiBuildSenseBuf(SENSE_CODE.LUN_NOT_SUPPORTED, req.cmd.xfer, fixed);
        } else {
          out = scsiConvertSense(
            dev.sense.subarray(0, dev.senseLen),
            Math.min(req.cmd.xfer, C.SCSI_SENSE_LEN),
            fixed,
          );
        }
        if (dev.senseIsUa) {
          SCSI_DEVICE_GET_CLASS(dev).unitAttentionReported?.(dev);
          dev.senseLen = 0;
          dev.senseIsUa = false;
        }
        break;
      }
      case C.TEST_UNIT_READY:
        out = new Uint8Array(0);
        break;
      default:
        scsiCheckCondition(req, SENSE_CODE.INVALID_OPCODE);
        return;
    }
    if (!out) {
      scsiCheckCondition(req, SENSE_CODE.INVALID_FIELD);
      return;
    }
    scsiReqDataIn(req, out);
    scsiReqComplete(req, C.GOOD);
  },
};

const UA_EXEMPT = new Set([C.INQUIRY, C.REPORT_LUNS, C.GET_CONFIGURATION, C.GET_EVENT_STATUS_NOTIFICATION]);

/**
 * scsi_req_new(): a request for `cdb` addressed to `lun` of `dev`'s target. Pending unit attentions,
 * other LUNs and REPORT LUNS are handled by the bus; everything else by the device.
 */
export function scsiReqNew(
  dev: SCSIDevice,
  tag: number,
  lun: number,
  cdb: Uint8Array,
  hbaPrivate: unknown,
  data: SCSIDataPort | null = null,
): SCSIRequest {
  const bus = dev.bus;
  const sc = SCSI_DEVICE_GET_CLASS(dev);
  const op = cdb[0] ?? 0;
  let ops: SCSIReqOps | null = null;
  if (
    cdb.length > 0 &&
    (dev.uaKey === C.UNIT_ATTENTION || bus.unitAttention.key === C.UNIT_ATTENTION) &&
    !UA_EXEMPT.has(op) &&
    !(op === C.REQUEST_SENSE && dev.senseIsUa)
  ) {
    ops = reqopsUnitAttention;
  } else if (lun !== dev.lun || op === C.REPORT_LUNS || (op === C.REQUEST_SENSE && dev.senseLen)) {
    ops = reqopsTargetCommand;
  }
  const cmd = scsiParseCdb(cdb, dev.blocksize, dev.type);
  const saved = cdb.slice(0, Math.max(C.SCSI_CMD_BUF_SIZE, cdb.length));
  let req: SCSIRequest;
  if (!cmd) {
    const empty: SCSICommand = {
      buf: new Uint8Array(C.SCSI_CMD_BUF_SIZE),
      len: 0,
      xfer: 0,
      mode: 'none',
      lba: -1,
    };
    req = new SCSIRequest(dev, reqopsInvalidOpcode, tag, lun, empty, hbaPrivate, saved);
  } else if (cmd.xfer > 0x7fffffff) {
    req = new SCSIRequest(dev, reqopsInvalidField, tag, lun, cmd, hbaPrivate, saved);
  } else {
    const chosen = ops ?? sc.reqOps?.(dev, cmd.buf) ?? reqopsInvalidOpcode;
    req = new SCSIRequest(dev, chosen, tag, lun, cmd, hbaPrivate, saved);
  }
  req.data = data;
  req.ops.init?.(req);
  return req;
}

/** Restart requests that came with a migration stream (they run again from the start). */
function scsiRestartLoadedRequests(dev: SCSIDevice): void {
  const reqs = dev.loadedRequests;
  dev.loadedRequests = [];
  for (const r of reqs) if (!r.canceled) void scsiReqEnqueue(r);
}

// ---------------------------------------------------------------------------------------------------------
// VMState (vmstate_scsi_device)

/** The in-flight request list: for each, retry flag, CDB, tag, LUN and the HBA's part; 0 ends it. */
const vmstateInfoScsiRequests: VMStateInfo = {
  name: 'scsi-requests',
  size: 0,
  put(out, obj: SCSIDevice) {
    const all = [...obj.loadedRequests, ...[...obj.requests].filter((r) => !r.canceled)];
    for (const req of all) {
      out.u8(req.retry ? 1 : 2);
      const cdb = new Uint8Array(C.SCSI_CMD_BUF_SIZE);
      cdb.set(req.cdb.subarray(0, C.SCSI_CMD_BUF_SIZE));
      out.bytes(cdb);
      out.u32(req.tag >>> 0);
      out.u32(req.lun >>> 0);
      obj.bus.info.saveRequest?.(out, req);
    }
    out.u8(0);
  },
  get(inp, obj: SCSIDevice) {
    const loaded: SCSIRequest[] = [];
    for (;;) {
      const flag = inp.u8();
      if (flag === 0 || flag > 0x7f) break;
      const cdb = inp.bytes(C.SCSI_CMD_BUF_SIZE);
      const tag = inp.u32();
      const lun = inp.u32();
      const req = scsiReqNew(obj, tag, lun, cdb, null);
      req.retry = flag === 1;
      const info = obj.bus.info;
      if (info.loadRequest) req.hbaPrivate = info.loadRequest(inp, req);
      loaded.push(req);
    }
    obj.loadedRequests = loaded;
  },
};

const vmstateScsiSenseState: VMStateDescription = {
  name: 'SCSIDevice/sense',
  versionId: 1,
  minimumVersionId: 1,
  needed: (s: SCSIDevice) => s.senseLen > C.SCSI_SENSE_BUF_SIZE_OLD,
  fields: [{ name: 'senseHi', kind: 'buffer', length: C.SCSI_SENSE_BUF_SIZE - C.SCSI_SENSE_BUF_SIZE_OLD }],
};

export const vmstateScsiDevice: VMStateDescription = {
  name: 'SCSIDevice',
  versionId: 1,
  minimumVersionId: 1,
  fields: [
    { name: 'uaKey', kind: 'uint8' },
    { name: 'uaAsc', kind: 'uint8' },
    { name: 'uaAscq', kind: 'uint8' },
    { name: 'senseIsUa', kind: 'bool' },
    { name: 'senseLo', kind: 'buffer', length: C.SCSI_SENSE_BUF_SIZE_OLD },
    { name: 'senseLen', kind: 'uint32' },
    { name: 'requests', kind: 'custom', info: vmstateInfoScsiRequests },
  ],
  subsections: [vmstateScsiSenseState],
};

// ---------------------------------------------------------------------------------------------------------
// Types

let nextScsiBus = 0;

/** scsi_bus_init_named(): the HBA's bus; the bus handles its own hotplug until the HBA takes over. */
export function scsiBusNew(host: DeviceState, info: SCSIBusInfo, name: string | null = null): SCSIBus {
  const bus = qbusNew<SCSIBus>(TYPE_SCSI_BUS, host, name);
  bus.busnr = nextScsiBus++;
  bus.info = info;
  qbusSetBusHotplugHandler(bus);
  return bus;
}

function scsiBusCheckAddress(qbus: BusState, qdev: DeviceState): void {
  const bus = qbus as SCSIBus;
  const dev = qdev as SCSIDevice;
  const info = bus.info;
  if (dev.channel > info.maxChannel) throw errorSetg(`bad scsi channel id: ${dev.channel}`);
  if (dev.scsiId !== SCSI_ADDR_AUTO && dev.scsiId > info.maxTarget)
    throw errorSetg(`bad scsi device id: ${dev.scsiId}`);
  if (dev.lun !== SCSI_ADDR_AUTO && dev.lun > info.maxLun) throw errorSetg(`bad scsi device lun: ${dev.lun}`);
  if (dev.scsiId !== SCSI_ADDR_AUTO && dev.lun !== SCSI_ADDR_AUTO) {
    const d = addressFree(bus, dev.channel, dev.scsiId, dev.lun);
    if (d) throw errorSetg(`lun already used by '${d.id ?? ''}'`);
  }
}

function scsiQdevRealize(qdev: DeviceState): void {
  const dev = qdev as SCSIDevice;
  const bus = dev.bus;
  if (dev.scsiId === SCSI_ADDR_AUTO) {
    if (dev.lun === SCSI_ADDR_AUTO) dev.lun = 0;
    let id = -1;
    let taken: SCSIDevice | null;
    do {
      taken = addressFree(bus, dev.channel, ++id, dev.lun);
    } while (taken && id < bus.info.maxTarget);
    if (taken) throw errorSetg('no free target');
    dev.scsiId = id;
  } else if (dev.lun === SCSI_ADDR_AUTO) {
    let lun = -1;
    let taken: SCSIDevice | null;
    do {
      taken = addressFree(bus, dev.channel, dev.scsiId, ++lun);
    } while (taken && lun < bus.info.maxLun);
    if (taken) throw errorSetg('no free lun');
    dev.lun = lun;
  }
  SCSI_DEVICE_GET_CLASS(dev).scsiRealize?.(dev);
  dev.hookRunState();
}

function scsiQdevUnrealize(qdev: DeviceState): void {
  const dev = qdev as SCSIDevice;
  dev.unhook();
  scsiDevicePurgeRequests(dev, SENSE_CODE.NO_SENSE);
  SCSI_DEVICE_GET_CLASS(dev).scsiUnrealize?.(dev);
}

typeRegister<SCSIBus, BusClass>({
  name: TYPE_SCSI_BUS,
  parent: TYPE_BUS,
  instance: SCSIBus,
  interfaces: [TYPE_HOTPLUG_HANDLER],
  classInit(bc) {
    bc.getDevPath = (d) => {
      const dev = d as SCSIDevice;
      const hba = dev.parentBus?.parentDevice ?? null;
      const id = hba ? qdevGetDevPath(hba) : null;
      const addr = `${dev.channel}:${dev.scsiId}:${dev.lun}`;
      return id ? `${id}/${addr}` : addr;
    };
    bc.getFwDevPath = (d) => {
      const dev = d as SCSIDevice;
      const fw = DEVICE_GET_CLASS(dev).fwName ?? objectGetTypename(dev);
      return `channel@${dev.channel.toString(16)}/${fw}@${dev.scsiId.toString(16)},${dev.lun.toString(16)}`;
    };
    bc.checkAddress = scsiBusCheckAddress;
    const hc = objectClassDynamicCast<HotplugHandlerClass>(bc, TYPE_HOTPLUG_HANDLER)!;
    hc.unplug = (_h, d) => qdevUnrealize(d as DeviceState);
  },
});

typeRegister<SCSIDevice, SCSIDeviceClass>({
  name: TYPE_SCSI_DEVICE,
  parent: TYPE_DEVICE,
  abstract: true,
  instance: SCSIDevice,
  class: SCSIDeviceClass,
  classInit(dc) {
    dc.categories.add('storage');
    dc.busType = TYPE_SCSI_BUS;
    dc.realize = scsiQdevRealize;
    dc.unrealize = scsiQdevUnrealize;
    deviceClassSetProps(dc, [
      definePropUint32('channel', 'channel', 0),
      definePropUint32('scsi-id', 'scsiId', SCSI_ADDR_AUTO),
      definePropUint32('lun', 'lun', SCSI_ADDR_AUTO),
    ]);
  },
});
