/**
 * virtio-input-device (QEMU's hw/input/virtio-input.c): the abstract virtio input device that the
 * keyboard, mouse and tablet (virtio-input-hid.ts) build on.
 *
 * Config space. The device describes itself through a list of entries keyed by (select, subsel):
 * ID_NAME, ID_SERIAL, ID_DEVIDS, PROP_BITS, EV_BITS (per event type), ABS_INFO (per axis). The
 * driver writes `select` and `subsel` (bytes 0 and 1) and reads back the matching entry: select,
 * subsel, size, 5 reserved bytes, then `size` bytes of data; no match reads as zeros. The config
 * space is as long as the largest entry plus the 8-byte header, as in QEMU.
 *
 * Queues. Queue 0 (events): the driver posts 8-byte buffers; `send()` collects events until a
 * SYN_REPORT and then delivers the whole report, or drops it whole if the buffers cannot take it
 * (queue full: a partial report would confuse the guest). Queue 1 (status): the driver sends events
 * back (LED changes), handed to the subclass's `handleStatus`. Events are only sent once the driver
 * is up (DRIVER_OK) until the next reset.
 *
 * Migration: section "virtio-input" version 1, the virtio stream only (QEMU keeps nothing else).
 * Unlike QEMU, the config selection is taken back from the loaded config bytes so that a driver
 * reading after a migration sees what it selected.
 */
import { errorSetg } from '../../qapi/error.js';
import { objectGetClassAs, typeRegister, type QomObject } from '../../qom/object.js';
import { definePropString, deviceClassSetProps } from '../core/qdev-properties.js';
import {
  TYPE_VIRTIO_DEVICE,
  VIRTIO_CONFIG_S_DRIVER_OK,
  VIRTIO_ID_INPUT,
  VirtIODevice,
  VirtioDeviceClass,
  VirtQueue,
  iovFromBuf,
  iovToBuf,
  virtioAddQueue,
  virtioCleanup,
  virtioDeviceVmsd,
  virtioInit,
  virtioNotify,
  virtioNotifyConfig,
  virtioReport,
} from './virtio.js';

export const TYPE_VIRTIO_INPUT = 'virtio-input-device';

// Config selectors (virtio_input.h)
export const VIRTIO_INPUT_CFG_UNSET = 0x00;
export const VIRTIO_INPUT_CFG_ID_NAME = 0x01;
export const VIRTIO_INPUT_CFG_ID_SERIAL = 0x02;
export const VIRTIO_INPUT_CFG_ID_DEVIDS = 0x03;
export const VIRTIO_INPUT_CFG_PROP_BITS = 0x10;
export const VIRTIO_INPUT_CFG_EV_BITS = 0x11;
export const VIRTIO_INPUT_CFG_ABS_INFO = 0x12;

/** Bytes of an entry's data (the union in struct virtio_input_config). */
export const VIRTIO_INPUT_CFG_DATA_MAX = 128;
const CFG_HEADER = 8;

// Linux input event types and codes used here (linux/input-event-codes.h)
export const EV_SYN = 0x00;
export const EV_KEY = 0x01;
export const EV_REL = 0x02;
export const EV_ABS = 0x03;
export const EV_LED = 0x11;
export const EV_REP = 0x14;
export const SYN_REPORT = 0;
export const BUS_VIRTUAL = 0x06;

/** One config entry: `data` holds `size` meaningful bytes. */
export interface VirtioInputConfig {
  select: number;
  subsel: number;
  size: number;
  data: Uint8Array;
}

/** One event as the guest receives it: le16 type, le16 code, le32 value. */
export interface VirtioInputEvent {
  type: number;
  code: number;
  value: number;
}

export const VIRTIO_INPUT_EVENT_SIZE = 8;

export function encodeInputEvent(e: VirtioInputEvent): Uint8Array {
  const b = new Uint8Array(VIRTIO_INPUT_EVENT_SIZE);
  const v = new DataView(b.buffer);
  v.setUint16(0, e.type, true);
  v.setUint16(2, e.code, true);
  v.setInt32(4, e.value | 0, true);
  return b;
}

export function decodeInputEvent(b: Uint8Array): VirtioInputEvent {
  const v = new DataView(b.buffer, b.byteOffset, VIRTIO_INPUT_EVENT_SIZE);
  return { type: v.getUint16(0, true), code: v.getUint16(2, true), value: v.getInt32(4, true) };
}

/** An entry with `data` (bytes or a string, NUL included when `size` covers it). */
export function inputConfig(
  select: number,
  subsel: number,
  data: Uint8Array | number[],
  size = data.length,
): VirtioInputConfig {
  const d = new Uint8Array(VIRTIO_INPUT_CFG_DATA_MAX);
  d.set(data.slice(0, VIRTIO_INPUT_CFG_DATA_MAX));
  return { select, subsel, size, data: d };
}

/** A bitmap entry with the given bit numbers set, as long as its highest byte (virtio_input_extend_config). */
export function inputBitmapConfig(select: number, subsel: number, bits: Iterable<number>): VirtioInputConfig {
  const d = new Uint8Array(VIRTIO_INPUT_CFG_DATA_MAX);
  let size = 0;
  for (const b of bits) {
    if (!b) continue;
    d[b >> 3]! |= 1 << (b & 7);
    size = Math.max(size, (b >> 3) + 1);
  }
  return { select, subsel, size, data: d };
}

export class VirtioInputClass extends VirtioDeviceClass {
  /** Subclass realize (QEMU's vic->realize), before the config is sized. */
  inputRealize?: (vinput: VirtIOInput) => void;
  inputUnrealize?: (vinput: VirtIOInput) => void;
  /** The driver came up (active) or went away (reset). */
  changeActive?: (vinput: VirtIOInput) => void;
  /** An event the driver sent on the status queue. */
  handleStatus?: (vinput: VirtIOInput, event: VirtioInputEvent) => void;
}

export class VirtIOInput extends VirtIODevice {
  /** The `serial` property (ID_SERIAL when set). */
  serial: string | null = null;
  cfgList: VirtioInputConfig[] = [];
  cfgSelect = 0;
  cfgSubsel = 0;
  cfgSize = 0;
  evt: VirtQueue | null = null;
  sts: VirtQueue | null = null;
  /** The driver is up: events may be sent. */
  active = false;
  /** Events of the report being built (sent at SYN_REPORT). */
  pending: VirtioInputEvent[] = [];
  /** Reports dropped because the guest had not posted enough buffers. */
  droppedReports = 0;

  findConfig(select: number, subsel: number): VirtioInputConfig | null {
    return this.cfgList.find((c) => c.select === select && c.subsel === subsel) ?? null;
  }

  /** virtio_input_add_config(): entries are unique per (select, subsel). */
  addConfig(cfg: VirtioInputConfig): void {
    if (this.findConfig(cfg.select, cfg.subsel)) {
      throw new Error(`virtio_input_add_config: duplicate config: ${cfg.select}/${cfg.subsel}`);
    }
    this.cfgList.push(cfg);
  }

  /**
   * virtio_input_send(): queue `event`; at SYN_REPORT hand the whole report to the guest, one event
   * per buffer, or drop it if the posted buffers cannot hold it all.
   */
  send(event: VirtioInputEvent): void {
    if (!this.active || !this.evt) return;
    this.pending.push(event);
    if (event.type !== EV_SYN || event.code !== SYN_REPORT) return;
    const vq = this.evt;
    const need = VIRTIO_INPUT_EVENT_SIZE * this.pending.length;
    if (vq.getAvailBytes(need, 0).inBytes < need) {
      this.pending = [];
      this.droppedReports++;
      return;
    }
    for (const e of this.pending) {
      const elem = vq.pop();
      if (!elem) {
        virtioReport('virtio_input_send: Huh?  No vq elem available ...');
        return;
      }
      const len = iovFromBuf(elem.inSg, 0, encodeInputEvent(e));
      vq.push(elem, len);
    }
    virtioNotify(this, vq);
    this.pending = [];
  }

  /** virtio_input_handle_sts(): every status event goes to the subclass; buffers are returned. */
  handleStatusQueue(vq: VirtQueue): void {
    const k = VIRTIO_INPUT_GET_CLASS(this);
    for (;;) {
      const elem = vq.pop();
      if (!elem) break;
      const b = new Uint8Array(VIRTIO_INPUT_EVENT_SIZE);
      const len = iovToBuf(elem.outSg, 0, b);
      k.handleStatus?.(this, decodeInputEvent(b));
      vq.push(elem, len);
    }
    virtioNotify(this, vq);
  }

  realizeInput(): void {
    const k = VIRTIO_INPUT_GET_CLASS(this);
    k.inputRealize?.(this);
    if (this.serial !== null) {
      const bytes = new TextEncoder().encode(this.serial);
      if (bytes.length > VIRTIO_INPUT_CFG_DATA_MAX) {
        // QEMU would overflow its config entry (and abort); refuse instead.
        k.inputUnrealize?.(this);
        throw errorSetg(`Property 'serial' is longer than ${VIRTIO_INPUT_CFG_DATA_MAX} bytes`);
      }
      // snprintf() into 128 bytes: size counts the whole string, data keeps 127 bytes and a NUL.
      const data = bytes.slice(0, VIRTIO_INPUT_CFG_DATA_MAX - 1);
      this.cfgList = this.cfgList.filter((c) => c.select !== VIRTIO_INPUT_CFG_ID_SERIAL);
      this.addConfig(inputConfig(VIRTIO_INPUT_CFG_ID_SERIAL, 0, data, bytes.length));
    }
    this.cfgSize = Math.max(0, ...this.cfgList.map((c) => c.size)) + CFG_HEADER;
    virtioInit(this, VIRTIO_ID_INPUT, this.cfgSize);
    this.name = 'virtio-input';
    this.evt = virtioAddQueue(this, 64, () => undefined);
    this.sts = virtioAddQueue(this, 64, (vq) => this.handleStatusQueue(vq));
  }

  unrealizeInput(): void {
    VIRTIO_INPUT_GET_CLASS(this).inputUnrealize?.(this);
    this.pending = [];
    this.evt = null;
    this.sts = null;
    virtioCleanup(this);
  }

  setActive(active: boolean): void {
    if (this.active === active) return;
    this.active = active;
    VIRTIO_INPUT_GET_CLASS(this).changeActive?.(this);
  }
}

export const VIRTIO_INPUT_GET_CLASS = (o: QomObject) =>
  objectGetClassAs<VirtioInputClass>(o, TYPE_VIRTIO_INPUT);

typeRegister<VirtIOInput, VirtioInputClass>({
  name: TYPE_VIRTIO_INPUT,
  parent: TYPE_VIRTIO_DEVICE,
  abstract: true,
  instance: VirtIOInput,
  class: VirtioInputClass,
  classInit(vic) {
    vic.categories.add('input');
    deviceClassSetProps(vic, [definePropString('serial', 'serial')]);
    vic.vmsd = virtioDeviceVmsd('virtio-input', 1);
    vic.deviceRealize = (vdev) => (vdev as VirtIOInput).realizeInput();
    vic.deviceUnrealize = (vdev) => (vdev as VirtIOInput).unrealizeInput();
    vic.getFeatures = (_vdev, f) => f;
    vic.getConfig = (vdev, config) => {
      const s = vdev as VirtIOInput;
      config.fill(0);
      const c = s.findConfig(s.cfgSelect, s.cfgSubsel);
      if (!c) return;
      const entry = new Uint8Array(CFG_HEADER + VIRTIO_INPUT_CFG_DATA_MAX);
      entry[0] = c.select;
      entry[1] = c.subsel;
      entry[2] = c.size & 0xff;
      entry.set(c.data, CFG_HEADER);
      config.set(entry.subarray(0, s.cfgSize));
    };
    vic.setConfig = (vdev, config) => {
      const s = vdev as VirtIOInput;
      s.cfgSelect = config[0]!;
      s.cfgSubsel = config[1]!;
      virtioNotifyConfig(vdev);
    };
    vic.setStatus = (vdev, status) => {
      if (status & VIRTIO_CONFIG_S_DRIVER_OK) (vdev as VirtIOInput).setActive(true);
    };
    vic.resetDevice = (vdev) => {
      const s = vdev as VirtIOInput;
      s.pending = [];
      s.setActive(false);
    };
    vic.postLoad = (vdev) => {
      const s = vdev as VirtIOInput;
      s.cfgSelect = s.config[0] ?? 0;
      s.cfgSubsel = s.config[1] ?? 0;
      s.pending = [];
      const active = (s.status & VIRTIO_CONFIG_S_DRIVER_OK) !== 0;
      s.active = active;
      // QEMU calls change_active unconditionally after a load: re-register the handler's place.
      VIRTIO_INPUT_GET_CLASS(s).changeActive?.(s);
    };
  },
});
