/**
 * QMP send-key and query-mice (qapi/ui.json) on the `virt` machine with virtio input devices and a
 * fake driver on their event queues. send-key presses in order and releases in reverse, `hold-time`
 * apart, delivered after the reply as QEMU's keyboard queue does; query-mice lists the pointer
 * handlers as qemu-system-riscv64 7.2 does for the same devices.
 */
import { describe, expect, it } from 'vitest';
import { objectResolvePath } from '../../engine/qom/object.js';
import { runstateSet } from '../../engine/system/runstate.js';
import type { VirtIODevice } from '../../engine/hw/virtio/virtio.js';
import { EV_KEY, EV_SYN } from '../../engine/hw/virtio/virtio-input.js';
import { until } from '../helpers/until.js';
import { FakeDriver } from './fake-virtio-driver.js';
import { useVirtDeviceEngine, type QmpEngine } from './qmp-engine.js';

const boot = useVirtDeviceEngine();

/** The keyboard's driver with its queues up; `keys()` takes the key events delivered so far. */
function keyboard(id: string) {
  const drv = new FakeDriver(objectResolvePath(`/machine/peripheral/${id}`) as VirtIODevice, 0x100000);
  drv.init(0n, 2, 64);
  for (let i = 0; i < 32; i++) drv.queues[0]!.add([], [8], false);
  const got: [code: number, value: number][] = [];
  return {
    keys(): [number, number][] {
      for (const u of drv.queues[0]!.takeUsed()) {
        const v = new DataView(u.data.buffer, u.data.byteOffset);
        const type = v.getUint16(0, true);
        if (type === EV_KEY) got.push([v.getUint16(2, true), v.getInt32(4, true)]);
        else expect(type).toBe(EV_SYN);
      }
      return got;
    },
  };
}

const qcode = (data: string) => ({ type: 'qcode', data });
const KEY_LEFTCTRL = 29;
const KEY_LEFTALT = 56;
const KEY_DELETE = 111;
const KEY_ENTER = 28;
/** ctrl-alt-delete as the keyboard sees it: pressed in order, released in reverse. */
const CTRL_ALT_DELETE = [
  [KEY_LEFTCTRL, 1],
  [KEY_LEFTALT, 1],
  [KEY_DELETE, 1],
  [KEY_DELETE, 0],
  [KEY_LEFTALT, 0],
  [KEY_LEFTCTRL, 0],
];

describe('send-key', () => {
  it('presses in order and releases in reverse, hold-time apart, after the reply', async () => {
    const e = await boot(['virtio-keyboard-device,id=kb']);
    const kb = keyboard('kb');
    runstateSet('running'); // no CPU needed for device-level input
    const hold = 100;
    const sent = performance.now();
    await e.ok('send-key', { keys: [qcode('ctrl'), qcode('alt'), qcode('delete')], 'hold-time': hold });
    // The first press goes out at once; the others wait in the keyboard queue.
    expect(kb.keys()[0]).toEqual([KEY_LEFTCTRL, 1]);
    await until(() => kb.keys().length === 6, 10_000, 'all six key events arrived');
    // Five waits of `hold` ms separate the first event from the last (Node's timers count from the
    // event loop's cached clock, so each may end a few ms before `hold` by performance.now()).
    expect(performance.now() - sent).toBeGreaterThanOrEqual(5 * hold - 25);
    expect(kb.keys()).toEqual(CTRL_ALT_DELETE);
  });

  it('takes key numbers (XT scancodes) and refuses unknown key names with QEMU 7.2 texts', async () => {
    const e = await boot(['virtio-keyboard-device,id=kb']);
    const kb = keyboard('kb');
    runstateSet('running');
    await e.ok('send-key', { keys: [{ type: 'number', data: 0x1c }] });
    await until(() => kb.keys().length === 2, 10_000, 'press and release arrived');
    expect(kb.keys()).toEqual([
      [KEY_ENTER, 1],
      [KEY_ENTER, 0],
    ]);
    expect(await e.fails('send-key', { keys: [qcode('nosuch')] })).toEqual({
      class: 'GenericError',
      desc: "Parameter 'data' does not accept value 'nosuch'",
    });
    expect(await e.fails('send-key', {})).toEqual({
      class: 'GenericError',
      desc: "Parameter 'keys' is missing",
    });
    // An empty list is accepted and sends nothing (as QEMU).
    expect(await e.ok('send-key', { keys: [] })).toEqual({});
  });

  it('sends nothing while the VM is not running, not even later', async () => {
    const e = await boot(['virtio-keyboard-device,id=kb']);
    const kb = keyboard('kb');
    await e.ok('send-key', { keys: [qcode('a')], 'hold-time': 10 });
    runstateSet('running');
    await new Promise((r) => setTimeout(r, 100));
    expect(kb.keys()).toEqual([]);
  });
});

describe('query-mice', () => {
  it('lists pointer handlers, last registered first, the one receiving events current', async () => {
    const e = await boot([
      'virtio-mouse-device,id=m',
      'virtio-tablet-device,id=t',
      'virtio-keyboard-device,id=kb',
    ]);
    const mice = (await e.ok('query-mice')) as {
      name: string;
      index: number;
      current: boolean;
      absolute: boolean;
    }[];
    // Same as qemu-system-riscv64 7.2 with these devices (indices are per process: compare relatively).
    expect(mice.map(({ index: _i, ...m }) => m)).toEqual([
      { name: 'QEMU Virtio Tablet', current: false, absolute: true },
      { name: 'QEMU Virtio Mouse', current: true, absolute: false },
    ]);
    expect(mice[0]!.index).toBe(mice[1]!.index + 1);
    expect(await e.ok('query-mice')).toEqual(mice);
  });

  it('is empty without pointer devices', async () => {
    const e = await boot(['virtio-keyboard-device,id=kb']);
    expect(await e.ok('query-mice')).toEqual([]);
  });
});

describe('HMP sendkey and info mice', () => {
  const hmp = async (e: QmpEngine, line: string) =>
    (await e.ok('human-monitor-command', { 'command-line': line })) as string;

  it('sends key combinations and answers bad input with QEMU 7.2 texts', async () => {
    const e = await boot(['virtio-keyboard-device,id=kb', 'virtio-mouse-device,id=m']);
    const kb = keyboard('kb');
    runstateSet('running');
    expect(await hmp(e, 'sendkey ctrl-alt-delete 20')).toBe('');
    expect(await hmp(e, 'sendkey 0x1c')).toBe('');
    await until(() => kb.keys().length === 8, 10_000, 'all key events arrived');
    expect(kb.keys()).toEqual([...CTRL_ALT_DELETE, [KEY_ENTER, 1], [KEY_ENTER, 0]]);
    expect(await hmp(e, 'sendkey ctrl-nosuch')).toBe('invalid parameter: nosuch\r\n');
    expect(await hmp(e, 'sendkey 0x1cz')).toBe('invalid parameter: 0x1cz\r\n');
    expect(await hmp(e, 'sendkey a x')).toBe(
      'invalid char \'x\' in expression\r\nTry "help sendkey" for more information\r\n',
    );
    expect(await hmp(e, 'sendkey')).toBe(
      'sendkey: string expected\r\nTry "help sendkey" for more information\r\n',
    );
    expect(await hmp(e, 'info mice')).toMatch(/^\* Mouse #\d+: QEMU Virtio Mouse\r\n$/);
  });

  it('says when there is no mouse', async () => {
    const e = await boot([]);
    expect(await hmp(e, 'info mice')).toBe('No mouse devices connected\r\n');
  });
});
