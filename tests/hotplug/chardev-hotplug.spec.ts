/**
 * chardev-add / chardev-remove over a real QMP monitor (in-process engine on the `virt` machine, fake
 * virtio-serial driver): a socket chardev added at run time backs a hot-plugged virtserialport, data
 * flows both ways, the chardev is busy while the port exists and can be removed after device_del.
 * Also the other chardev commands (query-chardev, query-chardev-backends, chardev-send-break,
 * ringbuf-write/-read) and the errors QEMU 7.2 answers (texts taken from qemu-system-riscv64 7.2).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { resetEventThrottling } from '../../engine/monitor/monitor.js';
import type { VirtIOSerial } from '../../engine/hw/virtio/virtio-serial.js';
import type { Json } from '../qmp/qmp-test-client.js';
import {
  CONTROL,
  FakeSerialDriver,
  VIRT_TEST_ARGS,
  connectUnix,
  peripheral,
  settle,
} from '../helpers/virt-device-harness.js';
import { startQmpEngine, type QmpEngine } from './qmp-engine.js';

const dir = mkdtempSync(join(tmpdir(), 'vmstudio-chradd-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const { DEVICE_READY, PORT_ADD, PORT_NAME, PORT_OPEN, PORT_READY, PORT_REMOVE } = CONTROL;

let drv: FakeSerialDriver;
let eng: QmpEngine;

beforeEach(async () => {
  eng = await startQmpEngine([
    ...VIRT_TEST_ARGS,
    '-serial',
    'none',
    '-device',
    'virtio-serial-device,id=vser0',
  ]);
  drv = new FakeSerialDriver(peripheral<VirtIOSerial>('vser0'));
});

afterEach(() => eng.close());

const ok = (cmd: string, args?: { [k: string]: Json }) => eng.ok(cmd, args);
const fails = (cmd: string, args?: { [k: string]: Json }) => eng.fails(cmd, args);

const unixServer = (path: string) => ({
  type: 'socket',
  data: { addr: { type: 'unix', data: { path } }, server: true, wait: false },
});

describe('chardev-add + virtserialport hotplug', () => {
  it('socket chardev backs a hot-plugged port; busy until device_del, then removable', async () => {
    const path = join(dir, 'hot.sock');
    drv.sendControl(0, DEVICE_READY, 1);
    expect(drv.controlReceived()).toEqual([]);

    expect(await ok('chardev-add', { id: 'hs', backend: unixServer(path) })).toEqual({});
    expect(await ok('query-chardev')).toContainEqual({
      label: 'hs',
      filename: `disconnected:unix:${path},server=on`,
      'frontend-open': false,
    });

    await ok('device_add', {
      driver: 'virtserialport',
      bus: 'vser0.0',
      chardev: 'hs',
      name: 'org.test.hot',
      id: 'hp',
    });
    expect(drv.controlReceived()).toEqual([[1, PORT_ADD, 1, '']]);
    drv.sendControl(1, PORT_READY, 1);
    expect(drv.controlReceived()).toEqual([[1, PORT_NAME, 1, 'org.test.hot\0']]);

    // Attached but not opened by the guest: busy, yet not "frontend-open" (as in QEMU).
    expect(await fails('chardev-remove', { id: 'hs' })).toEqual({
      class: 'GenericError',
      desc: "Chardev 'hs' is busy",
    });

    const client = await connectUnix(path);
    expect(drv.controlReceived()).toEqual([[1, PORT_OPEN, 1, '']]);

    // The guest opens the port: VSERPORT_CHANGE, and the chardev's frontend counts as open.
    const from = eng.qmp.messages.length;
    drv.sendControl(1, PORT_OPEN, 1);
    const ev = await eng.qmp.event('VSERPORT_CHANGE', from);
    expect(ev['data']).toEqual({ id: 'hp', open: true });
    const info = ((await ok('query-chardev')) as { label: string }[]).find((c) => c.label === 'hs');
    expect(info).toEqual({
      label: 'hs',
      filename: `unix:${path},server=on`,
      'frontend-open': true,
    });

    // host -> guest
    drv.rxQueue(1).add([], [32]);
    client.write('to the guest');
    await settle();
    expect(drv.portReceived(1)).toEqual(['to the guest']);
    // guest -> host
    const got = new Promise<string>((r) => client.once('data', (d) => r(d.toString())));
    drv.portSend(1, 'to the host');
    expect(await got).toBe('to the host');

    const beforeDel = eng.qmp.messages.length;
    await ok('device_del', { id: 'hp' });
    const deleted = await eng.qmp.event('DEVICE_DELETED', beforeDel);
    expect(deleted['data']).toEqual({ device: 'hp', path: '/machine/peripheral/hp' });
    expect(drv.controlReceived()).toEqual([[1, PORT_REMOVE, 1, '']]);

    const closed = new Promise<void>((r) => client.once('close', () => r()));
    expect(await ok('chardev-remove', { id: 'hs' })).toEqual({});
    await closed; // the server socket went away with the chardev
    expect(((await ok('query-chardev')) as { label: string }[]).map((c) => c.label)).not.toContain('hs');
    expect(await fails('chardev-remove', { id: 'hs' })).toEqual({
      class: 'GenericError',
      desc: "Chardev 'hs' not found",
    });
    // The id is free again.
    expect(await ok('chardev-add', { id: 'hs', backend: { type: 'null', data: {} } })).toEqual({});
  });

  it('a guest closing the port is reported, and the frontend is closed again', async () => {
    await ok('chardev-add', { id: 'n1', backend: { type: 'null', data: {} } });
    drv.sendControl(0, DEVICE_READY, 1);
    await ok('device_add', { driver: 'virtserialport', bus: 'vser0.0', chardev: 'n1', id: 'p1' });
    drv.controlReceived();
    let from = eng.qmp.messages.length;
    drv.sendControl(1, PORT_OPEN, 1);
    expect((await eng.qmp.event('VSERPORT_CHANGE', from))['data']).toEqual({ id: 'p1', open: true });
    resetEventThrottling(); // QEMU holds a second VSERPORT_CHANGE for the same id back for a second
    from = eng.qmp.messages.length;
    drv.sendControl(1, PORT_OPEN, 0);
    expect((await eng.qmp.event('VSERPORT_CHANGE', from))['data']).toEqual({ id: 'p1', open: false });
    const info = ((await ok('query-chardev')) as { label: string }[]).find((c) => c.label === 'n1');
    expect(info).toEqual({ label: 'n1', filename: 'null', 'frontend-open': false });
  });
});

describe('chardev commands and QEMU 7.2 errors', () => {
  it('chardev-add refusals', async () => {
    await ok('chardev-add', { id: 'n1', backend: { type: 'null', data: {} } });
    expect(await fails('chardev-add', { id: 'n1', backend: { type: 'null', data: {} } })).toEqual({
      class: 'GenericError',
      desc: "Chardev with id 'n1' already exists",
    });
    expect(
      await fails('chardev-add', { id: 'f1', backend: { type: 'file', data: { out: '/nonexistent/x' } } }),
    ).toEqual({
      class: 'GenericError',
      desc: "Failed to add chardev 'f1': Could not open '/nonexistent/x': No such file or directory",
    });
    const nosuch = join(dir, 'nosuch.sock');
    expect(
      await fails('chardev-add', {
        id: 's2',
        backend: { type: 'socket', data: { addr: { type: 'unix', data: { path: nosuch } }, server: false } },
      }),
    ).toEqual({
      class: 'GenericError',
      desc: `Failed to add chardev 's2': Failed to connect to '${nosuch}': No such file or directory`,
    });
    expect(await fails('chardev-add', { id: 'b1', backend: { type: 'bogus', data: {} } })).toEqual({
      class: 'GenericError',
      desc: "Parameter 'type' does not accept value 'bogus'",
    });
    expect(await fails('chardev-add', { id: 'r1', backend: { type: 'ringbuf', data: { size: 3 } } })).toEqual(
      {
        class: 'GenericError',
        desc: "Failed to add chardev 'r1': size of ringbuf chardev must be power of two",
      },
    );
    expect(await fails('chardev-add', { id: 'r2', backend: { type: 'ringbuf' } })).toEqual({
      class: 'GenericError',
      desc: "Parameter 'backend.data' is missing",
    });
    // Failed adds leave nothing behind.
    const labels = ((await ok('query-chardev')) as { label: string }[]).map((c) => c.label);
    expect(labels.filter((l) => ['f1', 's2', 'b1', 'r1', 'r2'].includes(l))).toEqual([]);
    // QEMU does not check chardev-add ids for well-formedness.
    expect(await ok('chardev-add', { id: '1bad', backend: { type: 'null', data: {} } })).toEqual({});
  });

  it('the monitor chardev is busy; send-break and ringbufs', async () => {
    const mon = ((await ok('query-chardev')) as { label: string; 'frontend-open': boolean }[]).find(
      (c) => c.label === 'compat_monitor0',
    );
    expect(mon?.['frontend-open']).toBe(true);
    expect(await fails('chardev-remove', { id: 'compat_monitor0' })).toEqual({
      class: 'GenericError',
      desc: "Chardev 'compat_monitor0' is busy",
    });
    expect(await fails('chardev-send-break', { id: 'nope' })).toEqual({
      class: 'GenericError',
      desc: "Chardev 'nope' not found",
    });
    await ok('chardev-add', { id: 'rb', backend: { type: 'ringbuf', data: { size: 16 } } });
    expect(await ok('chardev-send-break', { id: 'rb' })).toEqual({});
    await ok('ringbuf-write', { device: 'rb', data: 'hello' });
    expect(await ok('ringbuf-read', { device: 'rb', size: 3 })).toBe('hel');
    expect(await ok('ringbuf-read', { device: 'rb', size: 10, format: 'base64' })).toBe('bG8=');
    const backends = ((await ok('query-chardev-backends')) as { name: string }[]).map((b) => b.name);
    expect([...backends].sort()).toEqual(['file', 'memory', 'null', 'ringbuf', 'socket', 'stdio']);
  });

  it('a file chardev added at run time writes what its frontend sends', async () => {
    const out = join(dir, 'out.txt');
    await ok('chardev-add', { id: 'f', backend: { type: 'file', data: { out } } });
    drv.sendControl(0, DEVICE_READY, 1);
    await ok('device_add', { driver: 'virtserialport', bus: 'vser0.0', chardev: 'f', id: 'pf' });
    drv.controlReceived();
    // A file is open from the start: the guest sees PORT_OPEN once it asks about the port.
    drv.sendControl(1, PORT_READY, 1);
    expect(drv.controlReceived()).toEqual([[1, PORT_OPEN, 1, '']]);
    drv.sendControl(1, PORT_OPEN, 1);
    drv.portSend(1, 'logged line\n');
    expect(readFileSync(out, 'utf8')).toBe('logged line\n');
    await ok('device_del', { id: 'pf' });
    expect(await ok('chardev-remove', { id: 'f' })).toEqual({});
  });
});
