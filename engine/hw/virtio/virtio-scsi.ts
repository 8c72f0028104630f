/**
 * virtio-scsi (QEMU's hw/scsi/virtio-scsi.c): a SCSI host adapter on virtio with a control queue (task
 * management, async-notification queries), an event queue and request queues, and a SCSI bus
 * ("<id>.0") for scsi-hd / scsi-cd.
 *
 * Hotplug: the device is its bus's hotplug handler. With VIRTIO_SCSI_F_HOTPLUG negotiated, a disk
 * plugged or unplugged at run time raises a TRANSPORT_RESET event (reason RESCAN / REMOVED) for its
 * LUN, plus a REPORTED LUNS DATA HAS CHANGED unit attention on the bus, and Linux rescans the target.
 * Unplug is immediate (no guest handshake), so DEVICE_DELETED follows device_del at once, as in QEMU.
 *
 * Requests complete asynchronously (block I/O); a completion that arrives after a device reset or a
 * loadvm (vdev.epoch changed) is dropped. In-flight requests migrate with their SCSI device: the HBA
 * saves the queue and the descriptor chain, and the request runs again on the destination.
 */
import { objectClassDynamicCast, typeRegister } from '../../qom/object.js';
import {
  DeviceState,
  qbusResetAll,
  qbusSetHotplugHandler,
  qdevResetAll,
  qdevUnrealize,
} from '../core/qdev-core.js';
import { HotplugHandlerClass, TYPE_HOTPLUG_HANDLER } from '../core/hotplug.js';
import {
  definePropBit64,
  definePropBool,
  definePropUint32,
  deviceClassSetProps,
} from '../core/qdev-properties.js';
import { errorSetg } from '../../qapi/error.js';
import type { VMStateReader, VMStateWriter } from '../../migration/vmstate-types.js';
import {
  TYPE_VIRTIO_DEVICE,
  VIRTIO_CONFIG_S_DRIVER_OK,
  VIRTIO_F_ANY_LAYOUT,
  VIRTIO_ID_SCSI,
  VirtIODevice,
  VirtioDeviceClass,
  VirtQueue,
  VirtQueueElement,
  iovDiscardFront,
  iovFromBuf,
  iovSize,
  iovToBuf,
  virtioAddQueue,
  virtioCleanup,
  virtioDeviceVmsd,
  virtioError,
  virtioInit,
  virtioNotify,
  virtioVdevHasFeature,
  type DmaSegment,
} from './virtio.js';
import {
  SCSIBus,
  SCSIDevice,
  scsiBusNew,
  scsiBusSetUa,
  scsiDeviceFind,
  scsiReqCancel,
  scsiReqEnqueue,
  scsiReqGetSense,
  scsiReqNew,
  type SCSIDataPort,
  type SCSIRequest,
} from '../scsi/scsi-bus.js';
import { SENSE_CODE, TYPE_ROM } from '../scsi/scsi-constants.js';

export const TYPE_VIRTIO_SCSI_COMMON = 'virtio-scsi-common';
export const TYPE_VIRTIO_SCSI = 'virtio-scsi-device';

export const VIRTIO_SCSI_F_INOUT = 0;
export const VIRTIO_SCSI_F_HOTPLUG = 1;
export const VIRTIO_SCSI_F_CHANGE = 2;

export const VIRTIO_SCSI_S_OK = 0;
export const VIRTIO_SCSI_S_OVERRUN = 1;
export const VIRTIO_SCSI_S_ABORTED = 2;
export const VIRTIO_SCSI_S_BAD_TARGET = 3;
export const VIRTIO_SCSI_S_RESET = 4;
export const VIRTIO_SCSI_S_FAILURE = 9;
export const VIRTIO_SCSI_S_FUNCTION_SUCCEEDED = 10;
export const VIRTIO_SCSI_S_FUNCTION_REJECTED = 11;
export const VIRTIO_SCSI_S_INCORRECT_LUN = 12;

export const VIRTIO_SCSI_T_TMF = 0;
export const VIRTIO_SCSI_T_AN_QUERY = 1;
export const VIRTIO_SCSI_T_AN_SUBSCRIBE = 2;
export const VIRTIO_SCSI_T_TMF_ABORT_TASK = 0;
export const VIRTIO_SCSI_T_TMF_ABORT_TASK_SET = 1;
export const VIRTIO_SCSI_T_TMF_CLEAR_ACA = 2;
export const VIRTIO_SCSI_T_TMF_CLEAR_TASK_SET = 3;
export const VIRTIO_SCSI_T_TMF_I_T_NEXUS_RESET = 4;
export const VIRTIO_SCSI_T_TMF_LOGICAL_UNIT_RESET = 5;
export const VIRTIO_SCSI_T_TMF_QUERY_TASK = 6;
export const VIRTIO_SCSI_T_TMF_QUERY_TASK_SET = 7;

export const VIRTIO_SCSI_T_NO_EVENT = 0;
export const VIRTIO_SCSI_T_TRANSPORT_RESET = 1;
export const VIRTIO_SCSI_T_PARAM_CHANGE = 3;
export const VIRTIO_SCSI_T_EVENTS_MISSED = 0x80000000;
export const VIRTIO_SCSI_EVT_RESET_RESCAN = 1;
export const VIRTIO_SCSI_EVT_RESET_REMOVED = 2;

export const VIRTIO_SCSI_SENSE_DEFAULT_SIZE = 96;
export const VIRTIO_SCSI_CDB_DEFAULT_SIZE = 32;
export const VIRTIO_SCSI_MAX_CHANNEL = 0;
export const VIRTIO_SCSI_MAX_TARGET = 255;
export const VIRTIO_SCSI_MAX_LUN = 16383;
export const VIRTIO_SCSI_CONFIG_SIZE = 36;
const VIRTIO_SCSI_AUTO_NUM_QUEUES = 0xffffffff;
/** VirtIOSCSICmdReq without the CDB: lun[8], tag, task_attr, prio, crn. */
const CMD_REQ_HDR = 19;
/** VirtIOSCSICmdResp without the sense: sense_len, resid, status_qualifier, status, response. */
const CMD_RESP_HDR = 12;
const EVENT_SIZE = 16;

/** One command in flight (VirtIOSCSIReq). */
interface VirtIOSCSIReq {
  vq: VirtQueue;
  elem: VirtQueueElement;
  /** null: restored from a migration stream (a reset cancels those through the SCSI layer). */
  epoch: number | null;
  tag: bigint;
  respIn: DmaSegment[];
  respSize: number;
  mode: 'none' | 'from-dev' | 'to-dev';
  dataIn: DmaSegment[];
  dataOut: DmaSegment[];
  sreq: SCSIRequest | null;
  /** Cancelled by a reset (answer RESET) rather than an abort (ABORTED). */
  byReset: boolean;
  /** TMF waiting for this request's cancellation. */
  tmf: TmfReq | null;
}

interface TmfReq {
  vq: VirtQueue;
  elem: VirtQueueElement;
  epoch: number;
  response: number;
  remaining: number;
}

export class VirtIOSCSI extends VirtIODevice {
  numQueues = VIRTIO_SCSI_AUTO_NUM_QUEUES;
  virtqueueSize = 256;
  segMaxAdjust = true;
  maxSectors = 0xffff;
  cmdPerLun = 128;
  /** The device's own offered bits (QEMU's VirtIOSCSI.host_features). */
  scsiFeatures = 0n;
  senseSize = VIRTIO_SCSI_SENSE_DEFAULT_SIZE;
  cdbSize = VIRTIO_SCSI_CDB_DEFAULT_SIZE;
  eventsDropped = false;
  resetting = 0;
  bus: SCSIBus | null = null;
  ctrlVq: VirtQueue | null = null;
  eventVq: VirtQueue | null = null;
  cmdVqs: VirtQueue[] = [];
}

const le32 = (b: Uint8Array, o: number) =>
  new DataView(b.buffer, b.byteOffset, b.byteLength).getUint32(o, true);

function readOut(elem: VirtQueueElement, len: number): Uint8Array | null {
  const out = new Uint8Array(len);
  return iovToBuf(elem.outSg, 0, out) < len ? null : out;
}

/** virtio_scsi_device_get(): LUN field (1, target, flat-space LUN) to a realized device. */
function deviceFind(s: VirtIOSCSI, lun: Uint8Array): SCSIDevice | null {
  if (lun[0] !== 1) return null;
  if (lun[2] !== 0 && !(lun[2]! >= 0x40 && lun[2]! < 0x80)) return null;
  return scsiDeviceFind(s.bus!, 0, lun[1]!, getLun(lun));
}

const getLun = (lun: Uint8Array) => ((lun[2]! << 8) | lun[3]!) & 0x3fff;

/** Header and payload split of a chain (virtio_scsi_parse_req); null on malformed headers. */
function parseReq(
  s: VirtIOSCSI,
  elem: VirtQueueElement,
  reqSize: number,
  respSize: number,
): { dataOut: DmaSegment[]; dataIn: DmaSegment[]; respIn: DmaSegment[] } | 'missing-headers' | 'bidi' {
  if (iovSize(elem.outSg) < reqSize || iovSize(elem.inSg) < respSize) return 'missing-headers';
  // Without ANY_LAYOUT (legacy Linux drivers) the first buffer of each direction is the header,
  // whatever its length (QEMU's workaround for old firmware).
  let outSkip = reqSize;
  let inSkip = respSize;
  if (!virtioVdevHasFeature(s, VIRTIO_F_ANY_LAYOUT)) {
    outSkip = Math.max(reqSize, elem.outDesc[0]?.len ?? reqSize);
    inSkip = respSize ? Math.max(respSize, elem.inDesc[0]?.len ?? respSize) : 0;
  }
  const dataOut = iovDiscardFront(elem.outSg, outSkip);
  const dataIn = iovDiscardFront(elem.inSg, inSkip);
  if (iovSize(dataOut) && iovSize(dataIn)) return 'bidi';
  return { dataOut, dataIn, respIn: elem.inSg };
}

function pushElem(s: VirtIOSCSI, vq: VirtQueue, elem: VirtQueueElement, len: number): void {
  vq.push(elem, len);
  virtioNotify(s, vq);
}

/** Write the command response header (+ sense) and return the chain. */
function completeCmd(
  s: VirtIOSCSI,
  r: VirtIOSCSIReq,
  resp: { response: number; status?: number; resid?: number; sense?: Uint8Array },
): void {
  if (r.epoch !== null && r.epoch !== s.epoch) return;
  const hdr = new Uint8Array(CMD_RESP_HDR);
  const v = new DataView(hdr.buffer);
  const sense = resp.sense ?? new Uint8Array(0);
  const senseLen = Math.min(sense.length, Math.max(0, r.respSize - CMD_RESP_HDR));
  v.setUint32(0, senseLen, true);
  v.setUint32(4, resp.resid ?? 0, true);
  hdr[10] = resp.status ?? 0;
  hdr[11] = resp.response;
  iovFromBuf(r.respIn, 0, hdr);
  if (senseLen) iovFromBuf(r.respIn, CMD_RESP_HDR, sense.subarray(0, senseLen));
  const dataLen = r.sreq && r.mode === 'from-dev' ? r.sreq.transferred : 0;
  pushElem(s, r.vq, r.elem, r.respSize + dataLen);
}

function dataPort(r: VirtIOSCSIReq): SCSIDataPort {
  const sg = r.mode === 'to-dev' ? r.dataOut : r.dataIn;
  return {
    size: iovSize(sg),
    write: (off, data) => void iovFromBuf(r.dataIn, off, data),
    read: (off, len) => {
      const b = new Uint8Array(len);
      const n = iovToBuf(r.dataOut, off, b);
      return b.subarray(0, n);
    },
  };
}

function makeReq(
  s: VirtIOSCSI,
  vq: VirtQueue,
  elem: VirtQueueElement,
  epoch: number | null,
): VirtIOSCSIReq | null {
  const reqSize = CMD_REQ_HDR + s.cdbSize;
  const respSize = CMD_RESP_HDR + s.senseSize;
  const p = parseReq(s, elem, reqSize, respSize);
  if (p === 'missing-headers') {
    virtioError(s, 'virtio-scsi request missing headers');
    vq.detachElement(elem);
    return null;
  }
  const r: VirtIOSCSIReq = {
    vq,
    elem,
    epoch,
    tag: 0n,
    respIn: elem.inSg,
    respSize,
    mode: 'none',
    dataIn: [],
    dataOut: [],
    sreq: null,
    byReset: false,
    tmf: null,
  };
  if (p === 'bidi') {
    completeCmd(s, r, { response: VIRTIO_SCSI_S_FAILURE });
    return null;
  }
  r.dataIn = p.dataIn;
  r.dataOut = p.dataOut;
  r.mode = iovSize(p.dataOut) ? 'to-dev' : iovSize(p.dataIn) ? 'from-dev' : 'none';
  return r;
}

/** virtio_scsi_handle_cmd_req_prepare() + submit. */
function handleCmdElem(s: VirtIOSCSI, vq: VirtQueue, elem: VirtQueueElement): void {
  const r = makeReq(s, vq, elem, s.epoch);
  if (!r) return;
  const hdr = readOut(elem, CMD_REQ_HDR + s.cdbSize)!;
  const lun = hdr.subarray(0, 8);
  r.tag = new DataView(hdr.buffer).getBigUint64(8, true);
  const cdb = hdr.subarray(CMD_REQ_HDR, CMD_REQ_HDR + s.cdbSize);
  const d = deviceFind(s, lun);
  if (!d) {
    completeCmd(s, r, { response: VIRTIO_SCSI_S_BAD_TARGET });
    return;
  }
  const sreq = scsiReqNew(d, Number(r.tag & 0xffffffffn), getLun(lun), cdb, r, dataPort(r));
  r.sreq = sreq;
  if (sreq.cmd.mode !== 'none' && (sreq.cmd.mode !== r.mode || sreq.cmd.xfer > sreq.data!.size)) {
    completeCmd(s, r, { response: VIRTIO_SCSI_S_OVERRUN });
    return;
  }
  void scsiReqEnqueue(sreq);
}

function handleCmd(s: VirtIOSCSI, vq: VirtQueue): void {
  let elem: VirtQueueElement | null;
  while (!s.broken && (elem = vq.pop())) handleCmdElem(s, vq, elem);
}

// Control queue ---------------------------------------------------------------------------------------------

function completeTmf(s: VirtIOSCSI, t: TmfReq): void {
  if (t.epoch !== s.epoch) return;
  iovFromBuf(t.elem.inSg, 0, Uint8Array.of(t.response));
  pushElem(s, t.vq, t.elem, 1);
}

function cancelFor(t: TmfReq, sreq: SCSIRequest): void {
  const r = sreq.hbaPrivate as VirtIOSCSIReq | null;
  if (r) {
    t.remaining++;
    r.tmf = t;
  }
  scsiReqCancel(sreq);
}

/** virtio_scsi_do_tmf(): true when the answer must wait for cancellations. */
function doTmf(s: VirtIOSCSI, t: TmfReq, subtype: number, lun: Uint8Array, tag: bigint): void {
  const d = deviceFind(s, lun);
  t.response = VIRTIO_SCSI_S_OK;
  const needLun = () => {
    if (!d) {
      t.response = VIRTIO_SCSI_S_BAD_TARGET;
      return false;
    }
    if (d.lun !== getLun(lun)) {
      t.response = VIRTIO_SCSI_S_INCORRECT_LUN;
      return false;
    }
    return true;
  };
  const markReset = (dev: SCSIDevice) => {
    for (const q of dev.requests) {
      const r = q.hbaPrivate as VirtIOSCSIReq | null;
      if (r) r.byReset = true;
    }
  };
  t.remaining = 1;
  switch (subtype) {
    case VIRTIO_SCSI_T_TMF_ABORT_TASK:
    case VIRTIO_SCSI_T_TMF_QUERY_TASK: {
      if (!needLun()) break;
      const found = [...d!.requests].find((q) => (q.hbaPrivate as VirtIOSCSIReq | null)?.tag === tag);
      if (found) {
        if (subtype === VIRTIO_SCSI_T_TMF_QUERY_TASK) t.response = VIRTIO_SCSI_S_FUNCTION_SUCCEEDED;
        else cancelFor(t, found);
      }
      break;
    }
    case VIRTIO_SCSI_T_TMF_LOGICAL_UNIT_RESET:
      if (!needLun()) break;
      s.resetting++;
      markReset(d!);
      qdevResetAll(d!);
      s.resetting--;
      break;
    case VIRTIO_SCSI_T_TMF_ABORT_TASK_SET:
    case VIRTIO_SCSI_T_TMF_CLEAR_TASK_SET:
    case VIRTIO_SCSI_T_TMF_QUERY_TASK_SET:
      if (!needLun()) break;
      for (const q of [...d!.requests]) {
        if (!q.hbaPrivate) continue;
        if (subtype === VIRTIO_SCSI_T_TMF_QUERY_TASK_SET) {
          t.response = VIRTIO_SCSI_S_FUNCTION_SUCCEEDED;
          break;
        }
        cancelFor(t, q);
      }
      break;
    case VIRTIO_SCSI_T_TMF_I_T_NEXUS_RESET: {
      const target = lun[1]!;
      s.resetting++;
      for (const k of [...s.bus!.children]) {
        const dev = k.child as SCSIDevice;
        if (dev.channel === 0 && dev.scsiId === target) {
          markReset(dev);
          qdevResetAll(dev);
        }
      }
      s.resetting--;
      break;
    }
    default:
      t.response = VIRTIO_SCSI_S_FUNCTION_REJECTED;
  }
  if (--t.remaining === 0) completeTmf(s, t);
}

function handleCtrl(s: VirtIOSCSI, vq: VirtQueue): void {
  let elem: VirtQueueElement | null;
  while (!s.broken && (elem = vq.pop())) {
    const head = readOut(elem, 4);
    if (!head) {
      virtioError(s, 'virtio-scsi control request missing type');
      vq.detachElement(elem);
      return;
    }
    const type = le32(head, 0);
    if (type === VIRTIO_SCSI_T_TMF) {
      const req = readOut(elem, 24);
      if (!req || iovSize(elem.inSg) < 1) {
        virtioError(s, 'virtio-scsi request missing headers');
        vq.detachElement(elem);
        return;
      }
      const v = new DataView(req.buffer);
      const t: TmfReq = { vq, elem, epoch: s.epoch, response: VIRTIO_SCSI_S_OK, remaining: 0 };
      doTmf(s, t, v.getUint32(4, true), req.subarray(8, 16), v.getBigUint64(16, true));
    } else if (type === VIRTIO_SCSI_T_AN_QUERY || type === VIRTIO_SCSI_T_AN_SUBSCRIBE) {
      if (iovSize(elem.outSg) < 16 || iovSize(elem.inSg) < 5) {
        virtioError(s, 'virtio-scsi request missing headers');
        vq.detachElement(elem);
        return;
      }
      // No asynchronous notifications are supported: event_actual 0, response OK.
      iovFromBuf(elem.inSg, 0, new Uint8Array(5));
      pushElem(s, vq, elem, 5);
    } else {
      pushElem(s, vq, elem, 0);
    }
  }
}

// Events ------------------------------------------------------------------------------------------------

/** virtio_scsi_push_event(): one event for `dev`'s LUN (or EVENTS_MISSED), if the driver left a buffer. */
export function virtioScsiPushEvent(
  s: VirtIOSCSI,
  dev: SCSIDevice | null,
  event: number,
  reason: number,
): void {
  if (!(s.status & VIRTIO_CONFIG_S_DRIVER_OK) || s.broken || !s.eventVq) return;
  const elem = s.eventVq.pop();
  if (!elem) {
    s.eventsDropped = true;
    return;
  }
  if (s.eventsDropped) {
    event = (event | VIRTIO_SCSI_T_EVENTS_MISSED) >>> 0;
    s.eventsDropped = false;
  }
  if (iovSize(elem.inSg) < EVENT_SIZE) {
    virtioError(s, 'Invalid virtio-scsi event buffer');
    s.eventVq.detachElement(elem);
    return;
  }
  const evt = new Uint8Array(EVENT_SIZE);
  const v = new DataView(evt.buffer);
  v.setUint32(0, event >>> 0, true);
  if (dev) {
    evt[4] = 1;
    evt[5] = dev.scsiId;
    // Linux wants the REPORT LUNS encoding.
    if (dev.lun >= 256) evt[6] = (dev.lun >> 8) | 0x40;
    evt[7] = dev.lun & 0xff;
  }
  v.setUint32(12, reason >>> 0, true);
  iovFromBuf(elem.inSg, 0, evt);
  pushElem(s, s.eventVq, elem, EVENT_SIZE);
}

function handleEvent(s: VirtIOSCSI): void {
  if (s.eventsDropped) virtioScsiPushEvent(s, null, VIRTIO_SCSI_T_NO_EVENT, 0);
}

// SCSI bus callbacks ------------------------------------------------------------------------------------

function busInfo(s: VirtIOSCSI) {
  return {
    tcq: true,
    maxChannel: VIRTIO_SCSI_MAX_CHANNEL,
    maxTarget: VIRTIO_SCSI_MAX_TARGET,
    maxLun: VIRTIO_SCSI_MAX_LUN,
    complete(req: SCSIRequest, status: number) {
      const r = req.hbaPrivate as VirtIOSCSIReq | null;
      if (!r) return;
      req.hbaPrivate = null;
      if (status === 0) {
        completeCmd(s, r, { response: VIRTIO_SCSI_S_OK, status, resid: req.residual });
      } else {
        const sense = scsiReqGetSense(req, 252);
        completeCmd(s, r, { response: VIRTIO_SCSI_S_OK, status, resid: 0, sense });
      }
    },
    cancel(req: SCSIRequest) {
      const r = req.hbaPrivate as VirtIOSCSIReq | null;
      if (!r) return;
      req.hbaPrivate = null;
      completeCmd(s, r, { response: r.byReset || s.resetting ? VIRTIO_SCSI_S_RESET : VIRTIO_SCSI_S_ABORTED });
      const t = r.tmf;
      if (t && --t.remaining === 0) completeTmf(s, t);
    },
    change(_bus: SCSIBus, dev: SCSIDevice, sense: { asc: number; ascq: number }) {
      if (virtioVdevHasFeature(s, VIRTIO_SCSI_F_CHANGE) && dev.type !== TYPE_ROM) {
        virtioScsiPushEvent(s, dev, VIRTIO_SCSI_T_PARAM_CHANGE, sense.asc | (sense.ascq << 8));
      }
    },
    saveRequest(out: VMStateWriter, req: SCSIRequest) {
      const r = req.hbaPrivate as VirtIOSCSIReq | null;
      const n = r ? s.cmdVqs.indexOf(r.vq) : -1;
      out.u32(n >>> 0);
      if (!r || n < 0) return;
      out.u32(r.elem.index);
      for (const list of [r.elem.outDesc, r.elem.inDesc]) {
        out.u32(list.length);
        for (const d of list) {
          out.u64(d.addr);
          out.u32(d.len);
        }
      }
    },
    loadRequest(inp: VMStateReader, req: SCSIRequest): unknown {
      const n = inp.u32();
      if (n === 0xffffffff) return null;
      const index = inp.u32();
      const lists: { addr: number; len: number }[][] = [[], []];
      for (const list of lists) {
        const count = inp.u32();
        for (let i = 0; i < count; i++) list.push({ addr: Number(inp.u64()), len: inp.u32() });
      }
      const vq = s.cmdVqs[n];
      const elem = vq?.remapElement(index, lists[0]!, lists[1]!);
      if (!vq || !elem) throw errorSetg('invalid SCSI request migration data');
      const r = makeReq(s, vq, elem, null);
      if (!r) throw errorSetg('invalid SCSI request migration data');
      r.tag = BigInt(req.tag);
      r.sreq = req;
      req.data = dataPort(r);
      return r;
    },
  };
}

// Realize, config, reset --------------------------------------------------------------------------------

function realize(vdev: VirtIODevice): void {
  const s = vdev as VirtIOSCSI;
  if (s.numQueues === VIRTIO_SCSI_AUTO_NUM_QUEUES) s.numQueues = 1;
  if (s.numQueues === 0 || s.numQueues > 1024 - 2) {
    throw errorSetg(
      `Invalid number of queues (= ${s.numQueues}), must be a positive integer less than 1022.`,
    );
  }
  if (s.virtqueueSize <= 2) throw errorSetg(`Invalid virtqueue_size (= ${s.virtqueueSize}), must be > 2`);
  if (s.virtqueueSize > 1024) {
    throw errorSetg(`Invalid virtqueue_size (= ${s.virtqueueSize}), must be <= 1024`);
  }
  virtioInit(s, VIRTIO_ID_SCSI, VIRTIO_SCSI_CONFIG_SIZE);
  s.senseSize = VIRTIO_SCSI_SENSE_DEFAULT_SIZE;
  s.cdbSize = VIRTIO_SCSI_CDB_DEFAULT_SIZE;
  s.ctrlVq = virtioAddQueue(s, s.virtqueueSize, (vq) => handleCtrl(s, vq));
  s.eventVq = virtioAddQueue(s, s.virtqueueSize, () => handleEvent(s));
  s.cmdVqs = [];
  for (let i = 0; i < s.numQueues; i++)
    s.cmdVqs.push(virtioAddQueue(s, s.virtqueueSize, (vq) => handleCmd(s, vq)));
  if (!s.bus) {
    s.bus = scsiBusNew(s, busInfo(s));
    qbusSetHotplugHandler(s.bus, s);
  }
}

function getConfig(vdev: VirtIODevice, cfg: Uint8Array): void {
  const s = vdev as VirtIOSCSI;
  const v = new DataView(cfg.buffer, cfg.byteOffset, cfg.byteLength);
  v.setUint32(0, s.numQueues, true);
  v.setUint32(4, s.segMaxAdjust ? s.virtqueueSize - 2 : 128 - 2, true);
  v.setUint32(8, s.maxSectors, true);
  v.setUint32(12, s.cmdPerLun, true);
  v.setUint32(16, EVENT_SIZE, true);
  v.setUint32(20, s.senseSize, true);
  v.setUint32(24, s.cdbSize, true);
  v.setUint16(28, VIRTIO_SCSI_MAX_CHANNEL, true);
  v.setUint16(30, VIRTIO_SCSI_MAX_TARGET, true);
  v.setUint32(32, VIRTIO_SCSI_MAX_LUN, true);
}

function setConfig(vdev: VirtIODevice, cfg: Uint8Array): void {
  const s = vdev as VirtIOSCSI;
  const sense = le32(cfg, 20);
  const cdb = le32(cfg, 24);
  if (sense >= 65536 || cdb >= 256) {
    virtioError(s, 'bad data written to virtio-scsi configuration space');
    return;
  }
  s.senseSize = sense;
  s.cdbSize = cdb;
}

function resetDevice(vdev: VirtIODevice): void {
  const s = vdev as VirtIOSCSI;
  s.resetting++;
  if (s.bus) qbusResetAll(s.bus);
  s.resetting--;
  s.senseSize = VIRTIO_SCSI_SENSE_DEFAULT_SIZE;
  s.cdbSize = VIRTIO_SCSI_CDB_DEFAULT_SIZE;
  s.eventsDropped = false;
}

/** The virtio-scsi part of the stream: events_dropped (QEMU keeps it in the device, not migrated). */
function save(vdev: VirtIODevice, f: VMStateWriter): void {
  const s = vdev as VirtIOSCSI;
  f.u32(s.senseSize);
  f.u32(s.cdbSize);
  f.u8(s.eventsDropped ? 1 : 0);
}

function load(vdev: VirtIODevice, f: VMStateReader): void {
  const s = vdev as VirtIOSCSI;
  s.senseSize = f.u32();
  s.cdbSize = f.u32();
  s.eventsDropped = f.u8() !== 0;
}

typeRegister<VirtIOSCSI, VirtioDeviceClass>({
  name: TYPE_VIRTIO_SCSI_COMMON,
  parent: TYPE_VIRTIO_DEVICE,
  abstract: true,
  instance: VirtIOSCSI,
  classInit(vdc) {
    vdc.categories.add('storage');
    vdc.getConfig = getConfig;
  },
});

typeRegister<VirtIOSCSI, VirtioDeviceClass>({
  name: TYPE_VIRTIO_SCSI,
  parent: TYPE_VIRTIO_SCSI_COMMON,
  interfaces: [TYPE_HOTPLUG_HANDLER],
  classInit(vdc) {
    deviceClassSetProps(vdc, [
      definePropUint32('num_queues', 'numQueues', VIRTIO_SCSI_AUTO_NUM_QUEUES),
      definePropUint32('virtqueue_size', 'virtqueueSize', 256),
      definePropBool('seg_max_adjust', 'segMaxAdjust', true),
      definePropUint32('max_sectors', 'maxSectors', 0xffff),
      definePropUint32('cmd_per_lun', 'cmdPerLun', 128),
      definePropBit64('hotplug', 'scsiFeatures', VIRTIO_SCSI_F_HOTPLUG, true),
      definePropBit64('param_change', 'scsiFeatures', VIRTIO_SCSI_F_CHANGE, true),
    ]);
    vdc.vmsd = virtioDeviceVmsd('virtio-scsi', 1);
    vdc.deviceRealize = realize;
    vdc.deviceUnrealize = (vdev) => {
      const s = vdev as VirtIOSCSI;
      s.cmdVqs = [];
      s.ctrlVq = s.eventVq = null;
      virtioCleanup(s);
    };
    vdc.getFeatures = (vdev, f) => f | (vdev as VirtIOSCSI).scsiFeatures;
    vdc.setConfig = setConfig;
    vdc.resetDevice = resetDevice;
    vdc.save = save;
    vdc.load = (vdev, f) => load(vdev, f);
    const hc = objectClassDynamicCast<HotplugHandlerClass>(vdc, TYPE_HOTPLUG_HANDLER)!;
    hc.plug = (h, d) => {
      const s = h as VirtIOSCSI;
      if (virtioVdevHasFeature(s, VIRTIO_SCSI_F_HOTPLUG)) {
        virtioScsiPushEvent(s, d as SCSIDevice, VIRTIO_SCSI_T_TRANSPORT_RESET, VIRTIO_SCSI_EVT_RESET_RESCAN);
        scsiBusSetUa(s.bus!, SENSE_CODE.REPORTED_LUNS_CHANGED);
      }
    };
    hc.unplug = (h, d) => {
      const s = h as VirtIOSCSI;
      if (virtioVdevHasFeature(s, VIRTIO_SCSI_F_HOTPLUG)) {
        virtioScsiPushEvent(s, d as SCSIDevice, VIRTIO_SCSI_T_TRANSPORT_RESET, VIRTIO_SCSI_EVT_RESET_REMOVED);
        scsiBusSetUa(s.bus!, SENSE_CODE.REPORTED_LUNS_CHANGED);
      }
      qdevUnrealize(d as DeviceState);
    };
  },
});
