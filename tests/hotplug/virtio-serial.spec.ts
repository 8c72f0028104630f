/**
 * virtio-serial with a fake multiport driver on the `virt` machine: the control protocol (DEVICE_READY
 * -> PORT_ADD, PORT_READY -> CONSOLE_PORT / PORT_NAME / PORT_OPEN), data both ways through a unix
 * socket chardev, and hotplug (device_add -> PORT_ADD, device_del -> PORT_REMOVE + DEVICE_DELETED).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { qmpDeviceAdd } from '../../engine/hw/core/qdev-monitor.js';
import type { VirtIOSerial } from '../../engine/hw/virtio/virtio-serial.js';
import {
  CONTROL,
  FakeSerialDriver,
  connectUnix,
  deviceDelNow,
  peripheral,
  resetEngine,
  settle,
  startVirt,
} from '../helpers/virt-device-harness.js';

const dir = mkdtempSync(join(tmpdir(), 'vmstudio-vser-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const sock = join(dir, 's1.sock');

const { CONSOLE_PORT, DEVICE_READY, PORT_ADD, PORT_NAME, PORT_OPEN, PORT_READY, PORT_REMOVE } = CONTROL;

let drv: FakeSerialDriver;

beforeEach(async () => {
  await startVirt([
    '-serial',
    'none',
    '-chardev',
    'null,id=c0',
    '-chardev',
    `socket,id=s1,path=${sock},server=on,wait=off`,
    '-chardev',
    'null,id=c2',
    '-device',
    'virtio-serial-device,id=vser0',
    '-device',
    'virtconsole,chardev=c0,id=con0',
    '-device',
    'virtserialport,bus=vser0.0,chardev=s1,name=org.test.0,id=port0',
  ]);
  drv = new FakeSerialDriver(peripheral<VirtIOSerial>('vser0'));
});

afterEach(() => resetEngine());

describe('virtio-serial control protocol', () => {
  it('announces ports on DEVICE_READY and describes them on PORT_READY', () => {
    expect(drv.config32(4)).toBe(31); // max_nr_ports
    drv.sendControl(0, DEVICE_READY, 1);
    expect(drv.controlReceived()).toEqual([
      [0, PORT_ADD, 1, ''],
      [1, PORT_ADD, 1, ''],
    ]);
    drv.sendControl(0, PORT_READY, 1);
    expect(drv.controlReceived()).toEqual([
      [0, CONSOLE_PORT, 1, ''],
      [0, PORT_OPEN, 1, ''],
    ]);
    drv.sendControl(1, PORT_READY, 1);
    // the socket has no client yet: named, but not open on the host side
    expect(drv.controlReceived()).toEqual([[1, PORT_NAME, 1, 'org.test.0\0']]);
  });

  it('moves data both ways once both sides are open', async () => {
    drv.sendControl(0, DEVICE_READY, 1);
    drv.sendControl(1, PORT_READY, 1);
    drv.controlReceived();
    const client = await connectUnix(sock);
    expect(drv.controlReceived()).toEqual([[1, PORT_OPEN, 1, '']]);
    drv.sendControl(1, PORT_OPEN, 1);
    drv.rxQueue(1).add([], [32]);
    client.write('hello guest');
    await settle();
    expect(drv.portReceived(1)).toEqual(['hello guest']);
    const got = new Promise<string>((r) => client.once('data', (d) => r(d.toString())));
    drv.portSend(1, 'hello host');
    expect(await got).toBe('hello host');
    client.destroy();
    await settle();
    expect(drv.controlReceived()).toEqual([[1, PORT_OPEN, 0, '']]);
  });

  it('hotplug: device_add sends PORT_ADD, device_del PORT_REMOVE and DEVICE_DELETED at once', () => {
    drv.sendControl(0, DEVICE_READY, 1);
    drv.controlReceived();
    qmpDeviceAdd({ driver: 'virtserialport', bus: 'vser0.0', chardev: 'c2', name: 'org.test.hot', id: 'hp' });
    expect(drv.controlReceived()).toEqual([[2, PORT_ADD, 1, '']]);
    drv.sendControl(2, PORT_READY, 1);
    expect(drv.controlReceived()).toEqual([[2, PORT_NAME, 1, 'org.test.hot\0']]);
    expect(() => qmpDeviceAdd({ driver: 'virtserialport', bus: 'vser0.0', name: 'org.test.hot' })).toThrow(
      'virtio-serial-bus: A port already exists by name org.test.hot',
    );
    expect(() => qmpDeviceAdd({ driver: 'virtserialport', bus: 'vser0.0', nr: '1' })).toThrow(
      'virtio-serial-bus: A port already exists at id 1',
    );
    expect(() => qmpDeviceAdd({ driver: 'virtserialport', bus: 'vser0.0', nr: '31' })).toThrow(
      'virtio-serial-bus: Out-of-range port id specified, max. allowed: 30',
    );
    expect(deviceDelNow('hp')).toEqual(['hp']);
    expect(drv.controlReceived()).toEqual([[2, PORT_REMOVE, 1, '']]);
    // the id is free again
    qmpDeviceAdd({ driver: 'virtserialport', bus: 'vser0.0', chardev: 'c2', id: 'hp2' });
    expect(drv.controlReceived()).toEqual([[2, PORT_ADD, 1, '']]);
  });
});

describe('virtio-serial without a console', () => {
  it('a port added without nr takes id 1: id 0 stays reserved for a console, as in QEMU', async () => {
    await startVirt([
      '-serial',
      'none',
      '-chardev',
      'null,id=n0',
      '-device',
      'virtio-serial-device,id=vser1',
    ]);
    drv = new FakeSerialDriver(peripheral<VirtIOSerial>('vser1'), { controlBuffers: 4 });
    drv.sendControl(0, DEVICE_READY, 1);
    expect(drv.controlReceived()).toEqual([]);
    qmpDeviceAdd({
      driver: 'virtserialport',
      bus: 'vser1.0',
      chardev: 'n0',
      name: 'org.test.first',
      id: 'p',
    });
    expect(drv.controlReceived()).toEqual([[1, PORT_ADD, 1, '']]);
    expect(() => qmpDeviceAdd({ driver: 'virtserialport', bus: 'vser1.0', nr: '0' })).toThrow(
      'Port number 0 on virtio-serial devices reserved for virtconsole devices for backward compatibility.',
    );
    // A console still takes id 0.
    qmpDeviceAdd({ driver: 'virtconsole', bus: 'vser1.0', id: 'c' });
    expect(drv.controlReceived()).toEqual([[0, PORT_ADD, 1, '']]);
  });
});
