/**
 * virtserialport and virtconsole (QEMU's hw/char/virtio-console.c): virtio-serial ports backed by a
 * chardev. A virtserialport follows its chardev's connection (OPENED/CLOSED become PORT_OPEN for the
 * guest); a virtconsole is always "host connected" and takes port 0 when it is free.
 *
 * The chardev counts as open for query-chardev only while the guest has the port open, and a port
 * with an id reports the guest's open/close as VSERPORT_CHANGE, as QEMU does.
 *
 * Flow control works both ways: the chardev delivers only as much as the guest has buffers for
 * (canRead), and resumes when the guest posts more (acceptInput).
 */
import { errorSetg } from '../../qapi/error.js';
import { typeRegister } from '../../qom/object.js';
import { definePropChr } from '../core/qdev-properties-system.js';
import { deviceClassSetProps } from '../core/qdev-properties.js';
import type { Chardev } from '../../chardev/char.js';
import { qemuChrFind } from '../../chardev/char-registry.js';
import { QapiEvents } from '../../qapi/generated/qapi-events.js';
import { qapiEventEmit } from '../../monitor/monitor.js';
import {
  TYPE_VIRTIO_SERIAL_PORT,
  VirtIOSerialPort,
  VirtIOSerialPortClass,
  VIRTIO_SERIAL_PORT_GET_CLASS,
  virtioSerialGuestReady,
  virtioSerialSetHostConnected,
  virtioSerialWrite,
} from './virtio-serial.js';

const events = new QapiEvents((name, data) => qapiEventEmit(name, data));

export const TYPE_VIRTIO_SERIAL_PORT_CHR = 'virtserialport';
export const TYPE_VIRTIO_CONSOLE = 'virtconsole';

export class VirtConsole extends VirtIOSerialPort {
  chardev: string | null = null;
  chr: Chardev | null = null;
}

function realize(p: VirtIOSerialPort): void {
  const vcon = p as VirtConsole;
  const k = VIRTIO_SERIAL_PORT_GET_CLASS(vcon);
  if (vcon.nr === 0 && !k.isConsole) {
    throw errorSetg(
      'Port number 0 on virtio-serial devices reserved for virtconsole devices for backward compatibility.',
    );
  }
  if (!vcon.chardev) return;
  const chr = qemuChrFind(vcon.chardev);
  if (!chr) throw errorSetg(`Property '${k.type.name}.chardev' can't find value '${vcon.chardev}'`);
  chr.attachFrontend(
    {
      canRead: () => (vcon.vser ? virtioSerialGuestReady(vcon) : 0),
      read: (data) => void virtioSerialWrite(vcon, data),
      // Consoles ignore the backend's connection state: output goes wherever the chardev sends it.
      event: (ev) => {
        if (k.isConsole) return;
        if (ev === 'opened') virtioSerialSetHostConnected(vcon, true);
        else if (ev === 'closed') virtioSerialSetHostConnected(vcon, false);
      },
    },
    k.isConsole,
  );
  vcon.chr = chr;
  if (k.isConsole) vcon.hostConnected = true;
  else vcon.hostConnected = chr.beOpen;
}

/**
 * The guest opened or closed the port (set_guest_connected): a virtserialport's chardev frontend
 * follows it (query-chardev "frontend-open"), and a port with an id reports VSERPORT_CHANGE.
 */
function setGuestConnected(p: VirtIOSerialPort, connected: boolean): void {
  const vcon = p as VirtConsole;
  if (!VIRTIO_SERIAL_PORT_GET_CLASS(vcon).isConsole) vcon.chr?.setFeOpen(connected);
  if (vcon.id) events.vserportChange({ id: vcon.id, open: connected });
}

function unrealize(p: VirtIOSerialPort): void {
  const vcon = p as VirtConsole;
  vcon.chr?.detachFrontend();
  vcon.chr = null;
  vcon.hostConnected = false;
}

typeRegister<VirtConsole, VirtIOSerialPortClass>({
  name: TYPE_VIRTIO_SERIAL_PORT_CHR,
  parent: TYPE_VIRTIO_SERIAL_PORT,
  instance: VirtConsole,
  classInit(k) {
    k.portRealize = realize;
    k.portUnrealize = unrealize;
    k.setGuestConnected = setGuestConnected;
    k.haveData = (p, data) =>
      void (p as VirtConsole).chr?.write(Buffer.from(data.buffer, data.byteOffset, data.byteLength));
    k.guestWritable = (p) => (p as VirtConsole).chr?.acceptInput();
    k.guestReady = (p) => (p as VirtConsole).chr?.acceptInput();
    deviceClassSetProps(k, [definePropChr('chardev', 'chardev')]);
  },
});

typeRegister<VirtConsole, VirtIOSerialPortClass>({
  name: TYPE_VIRTIO_CONSOLE,
  parent: TYPE_VIRTIO_SERIAL_PORT_CHR,
  classInit(k) {
    k.isConsole = true;
  },
});
