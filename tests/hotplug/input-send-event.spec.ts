/**
 * QMP input-send-event (qapi/ui.json) on the `virt` machine with virtio keyboard/tablet and a fake
 * driver on their event queues: key and absolute-pointer events arrive as Linux input events, and the
 * refusals are QEMU 7.2's (texts and classes taken from qemu-system-riscv64 7.2 with the same devices).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { objectResolvePath } from '../../engine/qom/object.js';
import { runstateSet } from '../../engine/system/runstate.js';
import { setVirtioErrorSink, type VirtIODevice } from '../../engine/hw/virtio/virtio.js';
import { EV_ABS, EV_KEY, EV_SYN } from '../../engine/hw/virtio/virtio-input.js';
import { INPUT_EVENT_ABS_MAX, INPUT_EVENT_ABS_MIN } from '../../engine/ui/input.js';
import type { Json } from '../qmp/qmp-test-client.js';
import { FakeDriver } from './fake-virtio-driver.js';
import { useVirtDeviceEngine } from './qmp-engine.js';

let restoreSink: (() => void) | null = null;
afterEach(() => {
  restoreSink?.();
  restoreSink = null;
});
const boot = useVirtDeviceEngine();

/** A driver with both queues up and `n` event buffers posted. */
function driver(id: string, ramOffset: number): FakeDriver {
  const drv = new FakeDriver(objectResolvePath(`/machine/peripheral/${id}`) as VirtIODevice, ramOffset);
  drv.init(0n, 2, 64);
  for (let i = 0; i < 32; i++) drv.queues[0]!.add([], [8], false);
  return drv;
}

type Ev = [type: number, code: number, value: number];
function events(drv: FakeDriver): Ev[] {
  return drv.queues[0]!.takeUsed().map((u) => {
    const v = new DataView(u.data.buffer, u.data.byteOffset);
    return [v.getUint16(0, true), v.getUint16(2, true), v.getInt32(4, true)];
  });
}

const key = (qcode: string, down: boolean): Json => ({
  type: 'key',
  data: { key: { type: 'qcode', data: qcode }, down },
});
const abs = (axis: string, value: number): Json => ({ type: 'abs', data: { axis, value } });

describe('input-send-event', () => {
  it('keys reach the keyboard and absolute moves the tablet, as Linux input events', async () => {
    const e = await boot(['virtio-keyboard-device,id=kb', 'virtio-tablet-device,id=tab']);
    const kb = driver('kb', 0x100000);
    const tab = driver('tab', 0x200000);
    // -S: the VM is not running yet, so QEMU refuses.
    expect(await e.fails('input-send-event', { events: [key('a', true)] })).toEqual({
      class: 'GenericError',
      desc: 'VM not running',
    });
    runstateSet('running'); // no CPU needed for device-level input

    expect(await e.ok('input-send-event', { events: [key('shift', true), key('a', true)] })).toEqual({});
    await e.ok('input-send-event', { events: [key('a', false), key('shift', false)] });
    // A key number (XT scancode 0x1c = ret) goes out and is synced on its own.
    await e.ok('input-send-event', {
      events: [
        { type: 'key', data: { key: { type: 'number', data: 0x1c }, down: true } },
        key('sysrq', true),
      ],
    });
    expect(events(kb)).toEqual([
      [EV_KEY, 42, 1], // KEY_LEFTSHIFT
      [EV_KEY, 30, 1], // KEY_A
      [EV_SYN, 0, 0],
      [EV_KEY, 30, 0],
      [EV_KEY, 42, 0],
      [EV_SYN, 0, 0],
      [EV_KEY, 28, 1], // KEY_ENTER
      [EV_SYN, 0, 0],
      [EV_KEY, 99, 1], // sysrq is sent as print (KEY_SYSRQ)
      [EV_SYN, 0, 0],
    ]);
    expect(events(tab)).toEqual([]);

    // Absolute coordinates are in INPUT_EVENT_ABS_MIN..MAX, the range the tablet advertises; QMP
    // values pass through unscaled, as in QEMU.
    await e.ok('input-send-event', {
      events: [abs('x', INPUT_EVENT_ABS_MAX), abs('y', INPUT_EVENT_ABS_MIN)],
    });
    await e.ok('input-send-event', {
      events: [abs('x', 20000), abs('y', 400), { type: 'btn', data: { button: 'left', down: true } }],
    });
    expect(events(tab)).toEqual([
      [EV_ABS, 0, 0x7fff],
      [EV_ABS, 1, 0],
      [EV_SYN, 0, 0],
      [EV_ABS, 0, 20000],
      [EV_ABS, 1, 400],
      [EV_KEY, 0x110, 1], // BTN_LEFT
      [EV_SYN, 0, 0],
    ]);
    expect(events(kb)).toEqual([]);
  });

  it('refuses like QEMU 7.2', async () => {
    const e = await boot(['virtio-keyboard-device,id=kb', 'virtio-tablet-device,id=tab']);
    const kb = driver('kb', 0x100000);
    runstateSet('running');
    expect(await e.fails('input-send-event', { device: 'nope', events: [key('a', true)] })).toEqual({
      class: 'DeviceNotFound',
      desc: "Device 'nope' not found",
    });
    expect(await e.fails('input-send-event', { device: 'kb', head: 2, events: [key('a', true)] })).toEqual({
      class: 'GenericError',
      desc: 'Device kb (head 2) is not bound to a QemuConsole',
    });
    // Every event needs a handler before any is sent: the key before the rel event is not sent.
    expect(
      await e.fails('input-send-event', {
        events: [key('a', true), { type: 'rel', data: { axis: 'x', value: 3 } }],
      }),
    ).toEqual({ class: 'GenericError', desc: 'Input handler not found for event type rel' });
    expect(events(kb)).toEqual([]);
    expect(await e.fails('input-send-event', { events: [key('bogus', true)] })).toEqual({
      class: 'GenericError',
      desc: "Parameter 'data' does not accept value 'bogus'",
    });
    expect(await e.fails('input-send-event', { events: [abs('z', 1)] })).toEqual({
      class: 'GenericError',
      desc: "Parameter 'axis' does not accept value 'z'",
    });
    expect(await e.fails('input-send-event', { events: [{ type: 'abs', data: { axis: 'x' } }] })).toEqual({
      class: 'GenericError',
      desc: "Parameter 'events[0].data.value' is missing",
    });
  });

  it('logs buttons and keys the device has no code for, as QEMU 7.2', async () => {
    const e = await boot(['virtio-keyboard-device,id=kb', 'virtio-tablet-device,id=tab']);
    const log: string[] = [];
    restoreSink = setVirtioErrorSink((m) => log.push(m));
    runstateSet('running');
    await e.ok('input-send-event', {
      events: [{ type: 'btn', data: { button: 'wheel-left', down: true } }, key('unmapped', true)],
    });
    expect(log).toEqual([
      'virtio_input_handle_event: unmapped button: 7 [wheel-left]',
      'virtio_input_handle_event: unmapped key: 0 [unmapped]',
    ]);
  });

  it('without input devices there is no handler', async () => {
    const e = await boot([]);
    runstateSet('running');
    expect(await e.fails('input-send-event', { events: [key('a', true)] })).toEqual({
      class: 'GenericError',
      desc: 'Input handler not found for event type key',
    });
  });
});
