/**
 * virtio-serial with a fake multiport driver on the `virt` machine: the control protocol (DEVICE_READY
 * -> PORT_ADD, PORT_READY -> CONSOLE_PORT / PORT_NAME / PORT_OPEN), data both ways through a unix
 * socket chardev, and hotplug (device_add -> PORT_ADD, device_del -> PORT_REMOVE + DEVICE_DELETED).
 */
import net from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import '../../engine/system/modules.js';
import { qemuInit } from '../../engine/system/vl.js';
import { objectResolvePath, qomResetRoot } from '../../engine/qom/object.js';
import { runstateResetForTests } from '../../engine/system/runstate.js';
import { romsClear } from '../../engine/hw/core/loader.js';
import { chardevDeleteAll } from '../../engine/chardev/char-registry.js';
import { qmpDeviceAdd, qmpDeviceDel } from '../../engine/hw/core/qdev-monitor.js';
import { onDeviceDeleted } from '../../engine/hw/core/qdev-core.js';
import { bit } from '../../engine/hw/virtio/virtio.js';
import type { VirtIOSerial } from '../../engine/hw/virtio/virtio-serial.js';
import { FakeDriver } from './fake-virtio-driver.js';

const dir = mkdtempSync(join(tmpdir(), 'vmstudio-vser-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const sock = join(dir, 's1.sock');

const DEVICE_READY = 0;
const PORT_ADD = 1;
const PORT_REMOVE = 2;
const PORT_READY = 3;
const CONSOLE_PORT = 4;
const PORT_OPEN = 6;
const PORT_NAME = 7;

function ctrl(id: number, event: number, value: number): Uint8Array {
  const b = new Uint8Array(8);
  const v = new DataView(b.buffer);
  v.setUint32(0, id, true);
  v.setUint16(4, event, true);
  v.setUint16(6, value, true);
  return b;
}

let drv: FakeDriver;
let vser: VirtIOSerial;

beforeEach(async () => {
  qomResetRoot();
  runstateResetForTests();
  romsClear();
  await chardevDeleteAll();
  const r = await qemuInit(
    [
      '-M',
      'virt',
      '-S',
      '-bios',
      'none',
      '-display',
      'none',
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
    ],
    { out: () => undefined, err: () => undefined },
  );
  expect(r.kind).toBe('running');
  vser = objectResolvePath('/machine/peripheral/vser0') as VirtIOSerial;
  drv = new FakeDriver(vser);
  // port 0 rx/tx, control in/out, port 1 rx/tx, port 2 rx/tx
  drv.init(bit(1), 8, 32);
  for (let i = 0; i < 16; i++) drv.queues[2]!.add([], [64], false);
});

afterEach(async () => {
  await chardevDeleteAll();
  qomResetRoot();
});

/** Control messages the device sent since the last call: [id, event, value, extra]. */
function received(): [number, number, number, string][] {
  return drv.queues[2]!.takeUsed().map((u) => {
    const v = new DataView(u.data.buffer);
    const extra = Buffer.from(u.data.subarray(8, u.len)).toString('latin1');
    return [v.getUint32(0, true), v.getUint16(4, true), v.getUint16(6, true), extra];
  });
}

const send = (m: Uint8Array) => drv.queues[3]!.add([m], []);

describe('virtio-serial control protocol', () => {
  it('announces ports on DEVICE_READY and describes them on PORT_READY', () => {
    expect(drv.config32(4)).toBe(31); // max_nr_ports
    send(ctrl(0, DEVICE_READY, 1));
    expect(received()).toEqual([
      [0, PORT_ADD, 1, ''],
      [1, PORT_ADD, 1, ''],
    ]);
    send(ctrl(0, PORT_READY, 1));
    expect(received()).toEqual([
      [0, CONSOLE_PORT, 1, ''],
      [0, PORT_OPEN, 1, ''],
    ]);
    send(ctrl(1, PORT_READY, 1));
    // the socket has no client yet: named, but not open on the host side
    expect(received()).toEqual([[1, PORT_NAME, 1, 'org.test.0\0']]);
  });

  it('moves data both ways once both sides are open', async () => {
    send(ctrl(0, DEVICE_READY, 1));
    send(ctrl(1, PORT_READY, 1));
    received();
    const client = net.createConnection(sock);
    await new Promise<void>((r) => client.once('connect', () => r()));
    await new Promise((r) => setTimeout(r, 50));
    expect(received()).toEqual([[1, PORT_OPEN, 1, '']]);
    send(ctrl(1, PORT_OPEN, 1));
    drv.queues[4]!.add([], [32]);
    client.write('hello guest');
    await new Promise((r) => setTimeout(r, 50));
    const rx = drv.queues[4]!.takeUsed();
    expect(rx.length).toBe(1);
    expect(Buffer.from(rx[0]!.data.subarray(0, rx[0]!.len)).toString()).toBe('hello guest');
    const got = new Promise<string>((r) => client.once('data', (d) => r(d.toString())));
    drv.queues[5]!.add([new TextEncoder().encode('hello host')], []);
    expect(await got).toBe('hello host');
    client.destroy();
    await new Promise((r) => setTimeout(r, 50));
    expect(received()).toEqual([[1, PORT_OPEN, 0, '']]);
  });

  it('hotplug: device_add sends PORT_ADD, device_del PORT_REMOVE and DEVICE_DELETED at once', () => {
    send(ctrl(0, DEVICE_READY, 1));
    received();
    qmpDeviceAdd({ driver: 'virtserialport', bus: 'vser0.0', chardev: 'c2', name: 'org.test.hot', id: 'hp' });
    expect(received()).toEqual([[2, PORT_ADD, 1, '']]);
    send(ctrl(2, PORT_READY, 1));
    expect(received()).toEqual([[2, PORT_NAME, 1, 'org.test.hot\0']]);
    expect(() => qmpDeviceAdd({ driver: 'virtserialport', bus: 'vser0.0', name: 'org.test.hot' })).toThrow(
      'virtio-serial-bus: A port already exists by name org.test.hot',
    );
    expect(() => qmpDeviceAdd({ driver: 'virtserialport', bus: 'vser0.0', nr: '1' })).toThrow(
      'virtio-serial-bus: A port already exists at id 1',
    );
    expect(() => qmpDeviceAdd({ driver: 'virtserialport', bus: 'vser0.0', nr: '31' })).toThrow(
      'virtio-serial-bus: Out-of-range port id specified, max. allowed: 30',
    );
    const deleted: string[] = [];
    const off = onDeviceDeleted((ev) => deleted.push(ev.device ?? ev.path));
    qmpDeviceDel({ id: 'hp' });
    off();
    expect(deleted).toEqual(['hp']);
    expect(received()).toEqual([[2, PORT_REMOVE, 1, '']]);
    // the id is free again
    qmpDeviceAdd({ driver: 'virtserialport', bus: 'vser0.0', chardev: 'c2', id: 'hp2' });
    expect(received()).toEqual([[2, PORT_ADD, 1, '']]);
  });
});

describe('virtio-serial without a console', () => {
  it('a port added without nr takes id 1: id 0 stays reserved for a console, as in QEMU', async () => {
    qomResetRoot();
    runstateResetForTests();
    romsClear();
    await chardevDeleteAll();
    const r = await qemuInit(
      [
        '-M',
        'virt',
        '-S',
        '-bios',
        'none',
        '-display',
        'none',
        '-serial',
        'none',
        '-chardev',
        'null,id=n0',
        '-device',
        'virtio-serial-device,id=vser1',
      ],
      { out: () => undefined, err: () => undefined },
    );
    expect(r.kind).toBe('running');
    drv = new FakeDriver(objectResolvePath('/machine/peripheral/vser1') as VirtIOSerial);
    drv.init(bit(1), 8, 32);
    for (let i = 0; i < 4; i++) drv.queues[2]!.add([], [64], false);
    send(ctrl(0, DEVICE_READY, 1));
    expect(received()).toEqual([]);
    qmpDeviceAdd({
      driver: 'virtserialport',
      bus: 'vser1.0',
      chardev: 'n0',
      name: 'org.test.first',
      id: 'p',
    });
    expect(received()).toEqual([[1, PORT_ADD, 1, '']]);
    expect(() => qmpDeviceAdd({ driver: 'virtserialport', bus: 'vser1.0', nr: '0' })).toThrow(
      'Port number 0 on virtio-serial devices reserved for virtconsole devices for backward compatibility.',
    );
    // A console still takes id 0.
    qmpDeviceAdd({ driver: 'virtconsole', bus: 'vser1.0', id: 'c' });
    expect(received()).toEqual([[0, PORT_ADD, 1, '']]);
  });
});
