/**
 * virtio-serial (QEMU's hw/char/virtio-serial-bus.c): "virtio-serial-device" with a
 * "virtio-serial-bus" of ports ("virtio-serial-port" subtypes: virtserialport, virtconsole).
 *
 * Queues: port 0 in/out, the control in/out pair, then in/out for ports 1..max_ports-1. The
 * multiport control protocol (struct virtio_console_control: id u32, event u16, value u16):
 *   guest DEVICE_READY      -> host PORT_ADD for every port
 *   guest PORT_READY(id)    -> host CONSOLE_PORT (consoles), PORT_NAME (named ports), PORT_OPEN (host side
 *                              connected); the port may now receive data
 *   guest PORT_OPEN(id, v)  -> the guest opened/closed /dev/vportNpM
 *   host  PORT_OPEN(id, v)  <- the port's backend connected/disconnected
 *   host  PORT_ADD / PORT_REMOVE <- a port was hot-plugged / unplugged (unplug is immediate)
 * Control messages for the guest wait in a queue until the driver posts control-in buffers.
 *
 * Ports move bytes with `virtioSerialWrite` (host to guest, bounded by `virtioSerialGuestReady`) and
 * receive guest output through their class's `haveData`.
 */
import { errorSetg } from '../../qapi/error.js';
import { objectClassDynamicCast, objectGetTypename, typeRegister, type QomObject } from '../../qom/object.js';
import {
  BusClass,
  BusState,
  DeviceClass,
  DeviceState,
  DEVICE_GET_CLASS,
  TYPE_BUS,
  TYPE_DEVICE,
  qbusNew,
  qbusSetHotplugHandler,
  qdevUnrealize,
} from '../core/qdev-core.js';
import { HotplugHandlerClass, TYPE_HOTPLUG_HANDLER } from '../core/hotplug.js';
import {
  definePropBit64,
  definePropString,
  definePropUint32,
  deviceClassSetProps,
} from '../core/qdev-properties.js';
import type { VMStateReader, VMStateWriter } from '../../migration/vmstate-types.js';
import {
  TYPE_VIRTIO_DEVICE,
  VIRTIO_ID_CONSOLE,
  VirtIODevice,
  VirtioDeviceClass,
  VirtQueue,
  VirtQueueElement,
  bit,
  iovFromBuf,
  iovSize,
  iovToBuf,
  virtioAddQueue,
  virtioCleanup,
  virtioDeviceVmsd,
  virtioInit,
  virtioNotify,
  virtioReport,
  virtioVdevHasFeature,
} from './virtio.js';

export const TYPE_VIRTIO_SERIAL = 'virtio-serial-device';
export const TYPE_VIRTIO_SERIAL_BUS = 'virtio-serial-bus';
export const TYPE_VIRTIO_SERIAL_PORT = 'virtio-serial-port';

export const VIRTIO_CONSOLE_F_SIZE = 0;
export const VIRTIO_CONSOLE_F_MULTIPORT = 1;
export const VIRTIO_CONSOLE_F_EMERG_WRITE = 2;

export const VIRTIO_CONSOLE_DEVICE_READY = 0;
export const VIRTIO_CONSOLE_PORT_ADD = 1;
export const VIRTIO_CONSOLE_PORT_REMOVE = 2;
export const VIRTIO_CONSOLE_PORT_READY = 3;
export const VIRTIO_CONSOLE_CONSOLE_PORT = 4;
export const VIRTIO_CONSOLE_RESIZE = 5;
export const VIRTIO_CONSOLE_PORT_OPEN = 6;
export const VIRTIO_CONSOLE_PORT_NAME = 7;

export const VIRTIO_CONSOLE_BAD_ID = 0xffffffff;
const CONTROL_SIZE = 8;
const PORT_QUEUE_SIZE = 128;
const CONTROL_QUEUE_SIZE = 32;
/** Control messages kept for a driver that has not posted buffers yet. */
const MAX_PENDING_CONTROL = 4096;

export class VirtIOSerialBus extends BusState {
  vser: VirtIOSerial | null = null;
}

export class VirtIOSerialPortClass extends DeviceClass {
  isConsole = false;
  portRealize?: (port: VirtIOSerialPort) => void;
  portUnrealize?: (port: VirtIOSerialPort) => void;
  /** Guest output for the host side. */
  haveData?: (port: VirtIOSerialPort, data: Uint8Array) => void;
  /** The guest opened or closed the port. */
  setGuestConnected?: (port: VirtIOSerialPort, connected: boolean) => void;
  /** The guest is ready for this port (PORT_READY). */
  guestReady?: (port: VirtIOSerialPort) => void;
  /** The guest posted receive buffers: input may flow again. */
  guestWritable?: (port: VirtIOSerialPort) => void;
}

export class VirtIOSerialPort extends DeviceState {
  /** Port number ("nr"); VIRTIO_CONSOLE_BAD_ID until assigned. */
  nr = VIRTIO_CONSOLE_BAD_ID;
  name: string | null = null;
  vser: VirtIOSerial | null = null;
  ivq: VirtQueue | null = null;
  ovq: VirtQueue | null = null;
  guestConnected = false;
  hostConnected = false;
  throttled = false;
}

export const VIRTIO_SERIAL_PORT_GET_CLASS = (o: QomObject) => DEVICE_GET_CLASS(o) as VirtIOSerialPortClass;

export class VirtIOSerial extends VirtIODevice {
  maxPorts = 31;
  /** Offered console bits (emergency write). */
  consoleFeatures = 0n;
  bus: VirtIOSerialBus | null = null;
  ivqs: VirtQueue[] = [];
  ovqs: VirtQueue[] = [];
  cIvq: VirtQueue | null = null;
  cOvq: VirtQueue | null = null;
  /** Port ids in use (ports_map). */
  portsMap: Uint32Array = new Uint32Array(1);
  /** Control messages not yet delivered to the guest. */
  pendingControl: Uint8Array[] = [];
}

const label = (vser: VirtIOSerial) => vser.id ?? objectGetTypename(vser);

export function virtioSerialPorts(vser: VirtIOSerial): VirtIOSerialPort[] {
  if (!vser.bus) return [];
  return vser.bus.children
    .map((k) => k.child as VirtIOSerialPort)
    .filter((p) => p.nr !== VIRTIO_CONSOLE_BAD_ID && p.realized);
}

function findPortById(vser: VirtIOSerial, id: number): VirtIOSerialPort | null {
  if (id === VIRTIO_CONSOLE_BAD_ID || !vser.bus) return null;
  for (const k of vser.bus.children) {
    const p = k.child as VirtIOSerialPort;
    if (p.nr === id && p.vser) return p;
  }
  return null;
}

function findPortByName(vser: VirtIOSerial, name: string): VirtIOSerialPort | null {
  if (!vser.bus) return null;
  for (const k of vser.bus.children) {
    const p = k.child as VirtIOSerialPort;
    if (p.name === name && p.vser) return p;
  }
  return null;
}

function findFreePortId(vser: VirtIOSerial): number {
  for (let i = 0; i < vser.maxPorts; i++) {
    if (!(vser.portsMap[i >> 5]! & (1 << (i & 31)))) return i;
  }
  return VIRTIO_CONSOLE_BAD_ID;
}

function markPort(vser: VirtIOSerial, id: number, used: boolean): void {
  const w = id >> 5;
  const b = 1 << (id & 31);
  vser.portsMap[w] = used ? vser.portsMap[w]! | b : vser.portsMap[w]! & ~b;
}

// Control messages ----------------------------------------------------------------------------------------

function flushControl(vser: VirtIOSerial): void {
  const vq = vser.cIvq;
  if (!vq || vser.broken) return;
  let pushed = false;
  while (vser.pendingControl.length) {
    const elem = vq.pop();
    if (!elem) break;
    const msg = vser.pendingControl.shift()!;
    const n = iovFromBuf(elem.inSg, 0, msg);
    vq.push(elem, n);
    pushed = true;
  }
  if (pushed) virtioNotify(vser, vq);
}

/** send_control_event(): only with a multiport driver. `extra` follows the header (PORT_NAME). */
export function sendControlEvent(
  vser: VirtIOSerial,
  id: number,
  event: number,
  value: number,
  extra?: Uint8Array,
): void {
  if (!virtioVdevHasFeature(vser, VIRTIO_CONSOLE_F_MULTIPORT)) return;
  const msg = new Uint8Array(CONTROL_SIZE + (extra?.length ?? 0));
  const v = new DataView(msg.buffer);
  v.setUint32(0, id >>> 0, true);
  v.setUint16(4, event, true);
  v.setUint16(6, value, true);
  if (extra) msg.set(extra, CONTROL_SIZE);
  if (vser.pendingControl.length >= MAX_PENDING_CONTROL) vser.pendingControl.shift();
  vser.pendingControl.push(msg);
  flushControl(vser);
}

function handleControlMessage(vser: VirtIOSerial, msg: Uint8Array): void {
  if (msg.length < CONTROL_SIZE) return;
  const v = new DataView(msg.buffer, msg.byteOffset, msg.byteLength);
  const id = v.getUint32(0, true);
  const event = v.getUint16(4, true);
  const value = v.getUint16(6, true);
  const port = findPortById(vser, id);
  if (!port && event !== VIRTIO_CONSOLE_DEVICE_READY) {
    virtioReport(`virtio-serial-bus: Unexpected port id ${id} for device ${label(vser)}`);
    return;
  }
  switch (event) {
    case VIRTIO_CONSOLE_DEVICE_READY:
      if (!value) {
        virtioReport(`virtio-serial-bus: Guest failure in adding device ${label(vser)}`);
        break;
      }
      // The guest is ready for ports: tell it about every port we have (oldest first).
      for (const p of [...virtioSerialPorts(vser)].reverse())
        sendControlEvent(vser, p.nr, VIRTIO_CONSOLE_PORT_ADD, 1);
      break;
    case VIRTIO_CONSOLE_PORT_READY: {
      const p = port!;
      if (!value) {
        virtioReport(`virtio-serial-bus: Guest failure in adding port ${id} for device ${label(vser)}`);
        break;
      }
      const k = VIRTIO_SERIAL_PORT_GET_CLASS(p);
      if (k.isConsole) sendControlEvent(vser, p.nr, VIRTIO_CONSOLE_CONSOLE_PORT, 1);
      if (p.name) {
        const name = new TextEncoder().encode(p.name);
        const extra = new Uint8Array(name.length + 1);
        extra.set(name);
        sendControlEvent(vser, p.nr, VIRTIO_CONSOLE_PORT_NAME, 1, extra);
      }
      if (p.hostConnected) sendControlEvent(vser, p.nr, VIRTIO_CONSOLE_PORT_OPEN, 1);
      k.guestReady?.(p);
      break;
    }
    case VIRTIO_CONSOLE_PORT_OPEN: {
      const p = port!;
      p.guestConnected = value !== 0;
      VIRTIO_SERIAL_PORT_GET_CLASS(p).setGuestConnected?.(p, p.guestConnected);
      if (p.guestConnected) VIRTIO_SERIAL_PORT_GET_CLASS(p).guestWritable?.(p);
      break;
    }
  }
}

function handleControlOut(vser: VirtIOSerial, vq: VirtQueue): void {
  let elem: VirtQueueElement | null;
  while (!vser.broken && (elem = vq.pop())) {
    const len = iovSize(elem.outSg);
    const buf = new Uint8Array(Math.min(len, 4096));
    iovToBuf(elem.outSg, 0, buf);
    handleControlMessage(vser, buf);
    vq.push(elem, 0);
  }
  virtioNotify(vser, vq);
}

// Data -----------------------------------------------------------------------------------------------------

function portForQueue(vser: VirtIOSerial, vq: VirtQueue, out: boolean): VirtIOSerialPort | null {
  const i = (out ? vser.ovqs : vser.ivqs).indexOf(vq);
  return i < 0 ? null : findPortById(vser, i);
}

/** handle_output(): guest data for the host; dropped when nobody listens on the host side. */
function handleOutput(vser: VirtIOSerial, vq: VirtQueue): void {
  const port = portForQueue(vser, vq, true);
  let elem: VirtQueueElement | null;
  let pushed = false;
  while (!vser.broken && (elem = vq.pop())) {
    if (port && port.hostConnected) {
      const k = VIRTIO_SERIAL_PORT_GET_CLASS(port);
      for (const seg of elem.outSg) k.haveData?.(port, seg.view.slice());
    }
    vq.push(elem, 0);
    pushed = true;
  }
  if (pushed) virtioNotify(vser, vq);
}

/** handle_input(): the guest posted receive buffers. */
function handleInput(vser: VirtIOSerial, vq: VirtQueue): void {
  const port = portForQueue(vser, vq, false);
  if (port) VIRTIO_SERIAL_PORT_GET_CLASS(port).guestWritable?.(port);
}

/** virtio_serial_guest_ready(): bytes the guest can take now on `port`. */
export function virtioSerialGuestReady(port: VirtIOSerialPort): number {
  const vser = port.vser;
  const vq = port.ivq;
  if (!vser || !vq || vser.broken || !vq.desc) return 0;
  if (!(vser.status & 4 /* DRIVER_OK */)) return 0;
  if (virtioVdevHasFeature(vser, VIRTIO_CONSOLE_F_MULTIPORT) && !port.guestConnected) return 0;
  return vq.getAvailBytes(4096, 0).inBytes;
}

/** virtio_serial_write(): host data for the guest; returns the bytes it took. */
export function virtioSerialWrite(port: VirtIOSerialPort, data: Uint8Array): number {
  const vser = port.vser;
  const vq = port.ivq;
  if (!vser || !vq || virtioSerialGuestReady(port) === 0) return 0;
  let offset = 0;
  while (offset < data.length) {
    const elem = vq.pop();
    if (!elem) break;
    const n = iovFromBuf(elem.inSg, 0, data.subarray(offset));
    offset += n;
    vq.push(elem, n);
  }
  virtioNotify(vser, vq);
  return offset;
}

/** virtio_serial_open()/close(): the host side of `port` connected or went away. */
export function virtioSerialSetHostConnected(port: VirtIOSerialPort, connected: boolean): void {
  if (port.hostConnected === connected) return;
  port.hostConnected = connected;
  if (port.vser) sendControlEvent(port.vser, port.nr, VIRTIO_CONSOLE_PORT_OPEN, connected ? 1 : 0);
}

// Device ----------------------------------------------------------------------------------------------------

function realize(vdev: VirtIODevice): void {
  const vser = vdev as VirtIOSerial;
  if (!vser.maxPorts) throw errorSetg('Maximum number of serial ports not specified');
  if (vser.maxPorts > (1024 - 2) / 2) throw errorSetg(`maximum ports supported: ${(1024 - 2) / 2}`);
  const emerg = (vser.consoleFeatures & bit(VIRTIO_CONSOLE_F_EMERG_WRITE)) !== 0n;
  virtioInit(vser, VIRTIO_ID_CONSOLE, emerg ? 12 : 8);
  vser.ivqs = [];
  vser.ovqs = [];
  vser.ivqs[0] = virtioAddQueue(vser, PORT_QUEUE_SIZE, (vq) => handleInput(vser, vq));
  vser.ovqs[0] = virtioAddQueue(vser, PORT_QUEUE_SIZE, (vq) => handleOutput(vser, vq));
  vser.cIvq = virtioAddQueue(vser, CONTROL_QUEUE_SIZE, () => flushControl(vser));
  vser.cOvq = virtioAddQueue(vser, CONTROL_QUEUE_SIZE, (vq) => handleControlOut(vser, vq));
  for (let i = 1; i < vser.maxPorts; i++) {
    vser.ivqs[i] = virtioAddQueue(vser, PORT_QUEUE_SIZE, (vq) => handleInput(vser, vq));
    vser.ovqs[i] = virtioAddQueue(vser, PORT_QUEUE_SIZE, (vq) => handleOutput(vser, vq));
  }
  vser.portsMap = new Uint32Array(Math.ceil(vser.maxPorts / 32));
  // Id 0 is kept for a console (old guests expect one there), as QEMU: a virtserialport added
  // without `nr` takes the first free id from 1.
  vser.portsMap[0] = 1;
  if (!vser.bus) {
    vser.bus = qbusNew<VirtIOSerialBus>(TYPE_VIRTIO_SERIAL_BUS, vser, null);
    vser.bus.vser = vser;
    qbusSetHotplugHandler(vser.bus, vser);
  }
}

function getConfig(vdev: VirtIODevice, cfg: Uint8Array): void {
  const vser = vdev as VirtIOSerial;
  const v = new DataView(cfg.buffer, cfg.byteOffset, cfg.byteLength);
  v.setUint16(0, 0, true);
  v.setUint16(2, 0, true);
  v.setUint32(4, vser.maxPorts, true);
  if (cfg.length >= 12) v.setUint32(8, 0, true);
}

/** Emergency write: a byte written to emerg_wr goes out on port 0. */
function setConfig(vdev: VirtIODevice, cfg: Uint8Array): void {
  const vser = vdev as VirtIOSerial;
  if (!virtioVdevHasFeature(vser, VIRTIO_CONSOLE_F_EMERG_WRITE) || cfg.length < 12) return;
  const ch = new DataView(cfg.buffer, cfg.byteOffset).getUint32(8, true);
  if (!ch) return;
  const port = findPortById(vser, 0);
  if (port?.hostConnected) VIRTIO_SERIAL_PORT_GET_CLASS(port).haveData?.(port, Uint8Array.of(ch & 0xff));
  cfg.fill(0, 8, 12);
}

function resetDevice(vdev: VirtIODevice): void {
  const vser = vdev as VirtIOSerial;
  vser.pendingControl = [];
  for (const p of virtioSerialPorts(vser)) {
    if (p.guestConnected) {
      p.guestConnected = false;
      VIRTIO_SERIAL_PORT_GET_CLASS(p).setGuestConnected?.(p, false);
    }
  }
}

/** Device stream: config, port map, per-port connection state, undelivered control messages. */
function save(vdev: VirtIODevice, f: VMStateWriter): void {
  const vser = vdev as VirtIOSerial;
  f.u32(vser.maxPorts);
  for (const w of vser.portsMap) f.u32(w);
  const ports = virtioSerialPorts(vser);
  f.u32(ports.length);
  for (const p of ports) {
    f.u32(p.nr);
    f.u8(p.guestConnected ? 1 : 0);
    f.u8(p.hostConnected ? 1 : 0);
  }
  f.u32(vser.pendingControl.length);
  for (const m of vser.pendingControl) {
    f.u32(m.length);
    f.bytes(m);
  }
}

function load(vdev: VirtIODevice, f: VMStateReader): void {
  const vser = vdev as VirtIOSerial;
  const max = f.u32();
  if (max !== vser.maxPorts)
    throw errorSetg(`virtio-serial: max_ports mismatch (stream ${max}, device ${vser.maxPorts})`);
  const map = new Uint32Array(vser.portsMap.length);
  for (let i = 0; i < map.length; i++) map[i] = f.u32();
  for (let i = 0; i < map.length; i++) {
    if (map[i] !== vser.portsMap[i]) throw errorSetg('virtio-serial: ports map mismatch');
  }
  const n = f.u32();
  for (let i = 0; i < n; i++) {
    const nr = f.u32();
    const guest = f.u8() !== 0;
    const host = f.u8() !== 0;
    const p = findPortById(vser, nr);
    if (!p) throw errorSetg(`virtio-serial: port ${nr} in the stream is not here`);
    p.guestConnected = guest;
    VIRTIO_SERIAL_PORT_GET_CLASS(p).setGuestConnected?.(p, guest);
    // Our backend may differ from the source's: tell the guest (virtio_serial_post_load_timer_cb).
    const now = p.hostConnected;
    p.hostConnected = host;
    if (now !== host) virtioSerialSetHostConnected(p, now);
  }
  const m = f.u32();
  vser.pendingControl = [];
  for (let i = 0; i < m; i++) vser.pendingControl.push(f.bytes(f.u32()));
}

typeRegister<VirtIOSerialBus, BusClass>({
  name: TYPE_VIRTIO_SERIAL_BUS,
  parent: TYPE_BUS,
  instance: VirtIOSerialBus,
  classInit(bc) {
    bc.printDev = (d, indent) => {
      const p = d as VirtIOSerialPort;
      const on = (b: boolean) => (b ? 'on' : 'off');
      return `${' '.repeat(indent)}port ${p.nr}, guest ${on(p.guestConnected)}, host ${on(p.hostConnected)}, throttle ${on(p.throttled)}\n`;
    };
    bc.getFwDevPath = (d) => `channel@${((d as VirtIOSerialPort).nr >>> 0).toString(16)}`;
  },
});

function portRealize(dev: DeviceState): void {
  const port = dev as VirtIOSerialPort;
  const bus = port.parentBus as VirtIOSerialBus;
  const vser = bus.vser!;
  const k = VIRTIO_SERIAL_PORT_GET_CLASS(port);
  if (findPortById(vser, port.nr))
    throw errorSetg(`virtio-serial-bus: A port already exists at id ${port.nr}`);
  if (port.name && findPortByName(vser, port.name)) {
    throw errorSetg(`virtio-serial-bus: A port already exists by name ${port.name}`);
  }
  if (port.nr === VIRTIO_CONSOLE_BAD_ID) {
    const plugPort0 = k.isConsole && !findPortById(vser, 0);
    port.nr = plugPort0 ? 0 : findFreePortId(vser);
    if (port.nr === VIRTIO_CONSOLE_BAD_ID) {
      throw errorSetg('virtio-serial-bus: Maximum port limit for this device reached');
    }
  }
  if (port.nr >= vser.maxPorts) {
    port.nr = VIRTIO_CONSOLE_BAD_ID;
    throw errorSetg(`virtio-serial-bus: Out-of-range port id specified, max. allowed: ${vser.maxPorts - 1}`);
  }
  try {
    k.portRealize?.(port);
  } catch (e) {
    port.nr = VIRTIO_CONSOLE_BAD_ID;
    throw e;
  }
  port.vser = vser;
  port.ivq = vser.ivqs[port.nr]!;
  port.ovq = vser.ovqs[port.nr]!;
  markPort(vser, port.nr, true);
  sendControlEvent(vser, port.nr, VIRTIO_CONSOLE_PORT_ADD, 1);
}

function portUnrealize(dev: DeviceState): void {
  const port = dev as VirtIOSerialPort;
  const vser = port.vser;
  VIRTIO_SERIAL_PORT_GET_CLASS(port).portUnrealize?.(port);
  if (!vser) return;
  markPort(vser, port.nr, false);
  // Data the guest left for this port is dropped with it.
  const ovq = port.ovq;
  let elem: VirtQueueElement | null;
  let pushed = false;
  while (ovq && !vser.broken && (elem = ovq.pop())) {
    ovq.push(elem, 0);
    pushed = true;
  }
  if (pushed && ovq) virtioNotify(vser, ovq);
  sendControlEvent(vser, port.nr, VIRTIO_CONSOLE_PORT_REMOVE, 1);
  port.vser = null;
  port.ivq = port.ovq = null;
  port.guestConnected = false;
}

typeRegister<VirtIOSerialPort, VirtIOSerialPortClass>({
  name: TYPE_VIRTIO_SERIAL_PORT,
  parent: TYPE_DEVICE,
  abstract: true,
  instance: VirtIOSerialPort,
  class: VirtIOSerialPortClass,
  classInit(k) {
    k.categories.add('input');
    k.busType = TYPE_VIRTIO_SERIAL_BUS;
    k.realize = portRealize;
    k.unrealize = portUnrealize;
    deviceClassSetProps(k, [
      definePropUint32('nr', 'nr', VIRTIO_CONSOLE_BAD_ID),
      definePropString('name', 'name'),
    ]);
  },
});

typeRegister<VirtIOSerial, VirtioDeviceClass>({
  name: TYPE_VIRTIO_SERIAL,
  parent: TYPE_VIRTIO_DEVICE,
  instance: VirtIOSerial,
  interfaces: [TYPE_HOTPLUG_HANDLER],
  classInit(vdc) {
    vdc.categories.add('input');
    deviceClassSetProps(vdc, [
      definePropUint32('max_ports', 'maxPorts', 31),
      definePropBit64('emergency-write', 'consoleFeatures', VIRTIO_CONSOLE_F_EMERG_WRITE, true),
    ]);
    vdc.vmsd = virtioDeviceVmsd('virtio-console', 3);
    vdc.deviceRealize = realize;
    vdc.deviceUnrealize = (vdev) => {
      const vser = vdev as VirtIOSerial;
      vser.ivqs = [];
      vser.ovqs = [];
      vser.cIvq = vser.cOvq = null;
      virtioCleanup(vser);
    };
    vdc.getFeatures = (vdev, f) =>
      f | bit(VIRTIO_CONSOLE_F_MULTIPORT) | (vdev as VirtIOSerial).consoleFeatures;
    vdc.getConfig = getConfig;
    vdc.setConfig = setConfig;
    vdc.resetDevice = resetDevice;
    vdc.save = save;
    vdc.load = (vdev, f) => load(vdev, f);
    const hc = objectClassDynamicCast<HotplugHandlerClass>(vdc, TYPE_HOTPLUG_HANDLER)!;
    hc.unplug = (_h, d) => qdevUnrealize(d as DeviceState);
  },
});
