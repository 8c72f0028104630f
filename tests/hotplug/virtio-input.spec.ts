/**
 * virtio-keyboard-device / virtio-tablet-device / virtio-mouse-device with a fake driver on the
 * `virt` machine (modern virtio-mmio): the config space entries a Linux driver reads (compared with
 * what QEMU 7.2's devices show a Linux guest), host events delivered as whole reports on the event
 * queue, a report dropped whole when the queue is full, LED state from the status queue, routing to
 * the active device, and migration of the device state.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import '../../engine/system/modules.js';
import { qemuInit } from '../../engine/system/vl.js';
import { objectResolvePath, qomResetRoot } from '../../engine/qom/object.js';
import { runstateResetForTests, runstateSet } from '../../engine/system/runstate.js';
import { romsClear } from '../../engine/hw/core/loader.js';
import { chardevDeleteAll } from '../../engine/chardev/char-registry.js';
import { vmstateLoadFromBytes, vmstateSaveToBytes } from '../../engine/migration/vmstate.js';
import type { VMStateDescription } from '../../engine/migration/vmstate-types.js';
import {
  setVirtioErrorSink,
  virtioConfigRead,
  virtioConfigWrite,
  virtioReset,
  type VirtIODevice,
} from '../../engine/hw/virtio/virtio.js';
import {
  EV_ABS,
  EV_KEY,
  EV_LED,
  EV_REL,
  EV_SYN,
  VIRTIO_INPUT_CFG_ABS_INFO,
  VIRTIO_INPUT_CFG_EV_BITS,
  VIRTIO_INPUT_CFG_ID_DEVIDS,
  VIRTIO_INPUT_CFG_ID_NAME,
  VIRTIO_INPUT_CFG_ID_SERIAL,
  VIRTIO_INPUT_CFG_PROP_BITS,
} from '../../engine/hw/virtio/virtio-input.js';
import {
  virtioInputHidSend,
  virtioInputHidSync,
  type VirtIOInputHID,
} from '../../engine/hw/virtio/virtio-input-hid.js';
import {
  QEMU_CAPS_LOCK_LED,
  QEMU_NUM_LOCK_LED,
  inputSendEvents,
  inputSendKey,
  onInputLedState,
} from '../../engine/ui/input.js';
import { FakeDriver } from './fake-virtio-driver.js';

/** What QEMU 7.2's devices show a Linux guest (/proc/bus/input/devices, "B: KEY="). */
const QEMU_KEYBOARD_KEYS = '400000000 3078f800dfff febeffff7bcfffff fffffffffffffffe';
const QEMU_TABLET_KEYS = '30000 1f0000 0 0 0 0';

let errors: string[] = [];
let restoreSink: () => void;

async function boot(devices: string[]): Promise<void> {
  qomResetRoot();
  runstateResetForTests();
  romsClear();
  await chardevDeleteAll();
  const args = ['-M', 'virt', '-S', '-bios', 'none', '-display', 'none', '-serial', 'none'];
  args.push('-global', 'virtio-mmio.force-legacy=false');
  for (const d of devices) args.push('-device', d);
  const r = await qemuInit(args, { out: () => undefined, err: () => undefined });
  expect(r.kind).toBe('running');
  // Host input goes to the guest only while the VM runs (no CPU needed for these tests).
  runstateSet('running');
}

const dev = (id: string) => objectResolvePath(`/machine/peripheral/${id}`) as VirtIOInputHID;

/** A driver with both queues up and `n` event buffers posted. */
function driver(d: VirtIODevice, n = 16, ramOffset = 0x100000): FakeDriver {
  const drv = new FakeDriver(d, ramOffset);
  drv.init(0n, 2, 64);
  for (let i = 0; i < n; i++) drv.queues[0]!.add([], [8], false);
  return drv;
}

/** Select an entry as Linux's virtinput_cfg_select does, then read the header and data back. */
function readConfig(d: VirtIODevice, select: number, subsel: number) {
  virtioConfigWrite(d, 0, 1, select);
  virtioConfigWrite(d, 1, 1, subsel);
  const size = virtioConfigRead(d, 2, 1);
  const data = new Uint8Array(size);
  for (let i = 0; i < size; i++) data[i] = virtioConfigRead(d, 8 + i, 1);
  return { select: virtioConfigRead(d, 0, 1), subsel: virtioConfigRead(d, 1, 1), size, data };
}

/** A bitmap as Linux prints it in /proc/bus/input/devices: 64-bit words, highest first, in hex. */
function linuxBitmap(bytes: Uint8Array): string {
  const words: bigint[] = [];
  for (let w = 0; w * 8 < bytes.length; w++) {
    let v = 0n;
    for (let i = 7; i >= 0; i--) v = (v << 8n) | BigInt(bytes[w * 8 + i] ?? 0);
    words.push(v);
  }
  while (words.length > 1 && words[words.length - 1] === 0n) words.pop();
  return words
    .reverse()
    .map((w) => w.toString(16))
    .join(' ');
}

type Ev = [type: number, code: number, value: number];
/** Events the device wrote into the event queue since the last call. */
function events(drv: FakeDriver): Ev[] {
  return drv.queues[0]!.takeUsed().map((u) => {
    expect(u.len).toBe(8);
    const v = new DataView(u.data.buffer, u.data.byteOffset);
    return [v.getUint16(0, true), v.getUint16(2, true), v.getInt32(4, true)];
  });
}

const led = (code: number, value: number) => {
  const b = new Uint8Array(8);
  const v = new DataView(b.buffer);
  v.setUint16(0, EV_LED, true);
  v.setUint16(2, code, true);
  v.setInt32(4, value, true);
  return b;
};

beforeEach(() => {
  errors = [];
  restoreSink = setVirtioErrorSink((m) => errors.push(m));
});

afterEach(async () => {
  restoreSink();
  await chardevDeleteAll();
  qomResetRoot();
});

describe('virtio-input config space', () => {
  it('keyboard: name, ids, EV_REP/EV_LED/EV_KEY bits as QEMU 7.2; unknown selections read as zeros', async () => {
    await boot(['virtio-keyboard-device,id=kb']);
    const kb = dev('kb');
    // The largest entry is the EV_KEY bitmap (29 bytes), plus the header.
    expect(kb.configLen).toBe(37);
    const name = readConfig(kb, VIRTIO_INPUT_CFG_ID_NAME, 0);
    expect(name.size).toBe(21);
    expect(Buffer.from(name.data).toString('latin1')).toBe('QEMU Virtio Keyboard\0');
    const ids = readConfig(kb, VIRTIO_INPUT_CFG_ID_DEVIDS, 0);
    expect([...ids.data]).toEqual([0x06, 0, 0x27, 0x06, 1, 0, 1, 0]);
    expect(readConfig(kb, VIRTIO_INPUT_CFG_EV_BITS, 0x14)).toMatchObject({
      select: 0x11,
      subsel: 0x14,
      size: 1,
    });
    expect([...readConfig(kb, VIRTIO_INPUT_CFG_EV_BITS, EV_LED).data]).toEqual([7]);
    const keys = readConfig(kb, VIRTIO_INPUT_CFG_EV_BITS, EV_KEY);
    expect(keys.size).toBe(29);
    // Linux clears KEY_RESERVED (bit 0) itself; QEMU never sets it.
    expect(keys.data[0]! & 1).toBe(0);
    expect(linuxBitmap(keys.data)).toBe(QEMU_KEYBOARD_KEYS);
    // No serial, no properties, no relative axes: size 0, and the header reads back as zeros.
    expect(readConfig(kb, VIRTIO_INPUT_CFG_ID_SERIAL, 0)).toMatchObject({ select: 0, subsel: 0, size: 0 });
    expect(readConfig(kb, VIRTIO_INPUT_CFG_PROP_BITS, 0).size).toBe(0);
    expect(readConfig(kb, VIRTIO_INPUT_CFG_EV_BITS, EV_REL).size).toBe(0);
    // Reads past the config space give all ones.
    expect(virtioConfigRead(kb, 37, 1)).toBe(0xff);
  });

  it('tablet: ABS_X/ABS_Y 0..32767, buttons, wheel; serial property becomes ID_SERIAL', async () => {
    await boot(['virtio-tablet-device,id=tab,serial=TAB-1']);
    const tab = dev('tab');
    expect(tab.configLen).toBe(51); // button bitmap: 43 bytes (BTN_GEAR_UP = 0x151)
    expect(Buffer.from(readConfig(tab, VIRTIO_INPUT_CFG_ID_NAME, 0).data).toString('latin1')).toBe(
      'QEMU Virtio Tablet\0',
    );
    expect([...readConfig(tab, VIRTIO_INPUT_CFG_ID_DEVIDS, 0).data]).toEqual([
      0x06, 0, 0x27, 0x06, 3, 0, 2, 0,
    ]);
    expect([...readConfig(tab, VIRTIO_INPUT_CFG_EV_BITS, EV_ABS).data]).toEqual([3]);
    expect([...readConfig(tab, VIRTIO_INPUT_CFG_EV_BITS, EV_REL).data]).toEqual([0, 1]);
    expect(linuxBitmap(readConfig(tab, VIRTIO_INPUT_CFG_EV_BITS, EV_KEY).data)).toBe(QEMU_TABLET_KEYS);
    for (const axis of [0, 1]) {
      const abs = readConfig(tab, VIRTIO_INPUT_CFG_ABS_INFO, axis);
      expect(abs.size).toBe(20);
      const v = new DataView(abs.data.buffer);
      expect([0, 4, 8, 12, 16].map((o) => v.getInt32(o, true))).toEqual([0, 32767, 0, 0, 0]);
    }
    expect(readConfig(tab, VIRTIO_INPUT_CFG_ABS_INFO, 2).size).toBe(0);
    const serial = readConfig(tab, VIRTIO_INPUT_CFG_ID_SERIAL, 0);
    expect(serial.size).toBe(5);
    expect(Buffer.from(serial.data).toString('latin1')).toBe('TAB-1');
  });

  it('refuses a serial that does not fit the config entry', async () => {
    await expect(boot([`virtio-keyboard-device,serial=${'x'.repeat(129)}`])).rejects.toThrow(
      "Property 'serial' is longer than 128 bytes",
    );
  });
});

describe('virtio-input events', () => {
  it('keys reach the guest as EV_KEY + SYN_REPORT, only once the driver is up', async () => {
    await boot(['virtio-keyboard-device,id=kb']);
    const kb = dev('kb');
    // Before DRIVER_OK the device is not active: nothing is queued.
    virtioInputHidSend(kb, { type: 'key', data: { key: { type: 'qcode', data: 'a' }, down: true } });
    virtioInputHidSync(kb);
    expect(kb.pending).toEqual([]);
    const drv = driver(kb);
    inputSendKey('a', true);
    inputSendKey('a', false);
    inputSendEvents([
      { type: 'key', data: { key: { type: 'number', data: 0x1c }, down: true } }, // ret
      { type: 'key', data: { key: { type: 'qcode', data: 'sysrq' }, down: true } }, // normalized to print
    ]);
    expect(events(drv)).toEqual([
      [EV_KEY, 30, 1],
      [EV_SYN, 0, 0],
      [EV_KEY, 30, 0],
      [EV_SYN, 0, 0],
      [EV_KEY, 28, 1],
      [EV_SYN, 0, 0], // a key number is sent and synced on its own, as QEMU does
      [EV_KEY, 99, 1],
      [EV_SYN, 0, 0],
    ]);
    // Keys QEMU 7.2 has no Linux code for are reported, not sent.
    inputSendKey('unmapped', true);
    expect(events(drv)).toEqual([[EV_SYN, 0, 0]]);
    expect(errors).toEqual(['virtio_input_handle_event: unmapped key: 0 [unmapped]']);
  });

  it('tablet: absolute position, buttons and the wheel; keys have no handler', async () => {
    await boot(['virtio-keyboard-device,id=kb', 'virtio-tablet-device,id=tab']);
    const kbDrv = driver(dev('kb'), 16, 0x100000);
    const drv = driver(dev('tab'), 16, 0x200000);
    inputSendEvents([
      { type: 'abs', data: { axis: 'x', value: 16384 } },
      { type: 'abs', data: { axis: 'y', value: 32767 } },
      { type: 'btn', data: { button: 'left', down: true } },
    ]);
    inputSendEvents([{ type: 'btn', data: { button: 'wheel-up', down: true } }]);
    inputSendEvents([{ type: 'btn', data: { button: 'wheel-down', down: true } }]);
    inputSendEvents([{ type: 'btn', data: { button: 'side', down: false } }]);
    expect(events(drv)).toEqual([
      [EV_ABS, 0, 16384],
      [EV_ABS, 1, 32767],
      [EV_KEY, 0x110, 1],
      [EV_SYN, 0, 0],
      [EV_REL, 8, 1],
      [EV_SYN, 0, 0],
      [EV_REL, 8, -1],
      [EV_SYN, 0, 0],
      [EV_KEY, 0x113, 0],
      [EV_SYN, 0, 0],
    ]);
    expect(events(kbDrv)).toEqual([]);
    expect(() => inputSendEvents([{ type: 'rel', data: { axis: 'x', value: 1 } }])).toThrow(
      'Input handler not found for event type rel',
    );
    expect(() => inputSendEvents([], { device: 'nosuch' })).toThrow("Device 'nosuch' not found");
    expect(() => inputSendEvents([], { device: 'tab' })).toThrow(
      'Device tab (head 0) is not bound to a QemuConsole',
    );
    runstateSet('paused');
    expect(() => inputSendEvents([{ type: 'abs', data: { axis: 'x', value: 1 } }])).toThrow('VM not running');
  });

  it('a report that does not fit the posted buffers is dropped whole; the next one goes through', async () => {
    await boot(['virtio-tablet-device,id=tab']);
    const tab = dev('tab');
    const drv = driver(tab, 2);
    // Three events need three buffers: none is used.
    inputSendEvents([
      { type: 'abs', data: { axis: 'x', value: 1 } },
      { type: 'abs', data: { axis: 'y', value: 2 } },
    ]);
    expect(events(drv)).toEqual([]);
    expect(tab.droppedReports).toBe(1);
    expect(tab.pending).toEqual([]);
    // Two events fit the two buffers still posted.
    inputSendEvents([{ type: 'abs', data: { axis: 'x', value: 3 } }]);
    expect(events(drv)).toEqual([
      [EV_ABS, 0, 3],
      [EV_SYN, 0, 0],
    ]);
    // Empty queue: dropped; the guest posts more and the next report arrives.
    inputSendEvents([{ type: 'abs', data: { axis: 'x', value: 4 } }]);
    expect(tab.droppedReports).toBe(2);
    for (let i = 0; i < 4; i++) drv.queues[0]!.add([], [8], false);
    inputSendEvents([{ type: 'abs', data: { axis: 'y', value: 5 } }]);
    expect(events(drv)).toEqual([
      [EV_ABS, 1, 5],
      [EV_SYN, 0, 0],
    ]);
  });

  it('the most recently started keyboard gets the keys; a reset one stops getting them', async () => {
    await boot(['virtio-keyboard-device,id=kb1', 'virtio-keyboard-device,id=kb2']);
    const d1 = driver(dev('kb1'), 16, 0x100000);
    const d2 = driver(dev('kb2'), 16, 0x200000);
    inputSendKey('b', true);
    expect(events(d1)).toEqual([]);
    expect(events(d2)).toEqual([
      [EV_KEY, 48, 1],
      [EV_SYN, 0, 0],
    ]);
    virtioReset(dev('kb2'));
    expect(dev('kb2').active).toBe(false);
    inputSendKey('b', false);
    expect(events(d1)).toEqual([
      [EV_KEY, 48, 0],
      [EV_SYN, 0, 0],
    ]);
  });
});

describe('virtio-input status queue', () => {
  it('LED events from the guest update the LED state; buffers come back', async () => {
    await boot(['virtio-keyboard-device,id=kb']);
    const kb = dev('kb');
    const drv = driver(kb);
    const seen: number[] = [];
    const off = onInputLedState((s) => seen.push(s));
    drv.queues[1]!.add([led(1, 1)], []); // LED_CAPSL on
    drv.queues[1]!.add([led(0, 1)], []); // LED_NUML on
    drv.queues[1]!.add([led(1, 0)], []); // LED_CAPSL off
    off();
    expect(seen).toEqual([QEMU_CAPS_LOCK_LED, QEMU_CAPS_LOCK_LED | QEMU_NUM_LOCK_LED, QEMU_NUM_LOCK_LED]);
    expect(kb.ledstate).toBe(QEMU_NUM_LOCK_LED);
    expect(drv.queues[1]!.takeUsed().map((u) => u.len)).toEqual([8, 8, 8]);
    // Other event types are reported and ignored.
    const bad = led(0, 1);
    bad[0] = EV_KEY;
    drv.queues[1]!.add([bad], []);
    expect(errors).toEqual(['virtio_input_hid_handle_status: unknown type 1']);
    expect(kb.ledstate).toBe(QEMU_NUM_LOCK_LED);
  });
});

describe('virtio-input migration', () => {
  it('section "virtio-input" v1 restores rings, the active state and the config selection', async () => {
    await boot(['virtio-tablet-device,id=tab']);
    const tab = dev('tab');
    const vmsd = (tab.class as unknown as { vmsd: VMStateDescription }).vmsd;
    expect(vmsd).toMatchObject({ name: 'virtio-input', versionId: 1 });
    const drv = driver(tab, 8);
    inputSendEvents([{ type: 'abs', data: { axis: 'x', value: 7 } }]);
    expect(events(drv)).toHaveLength(2);
    readConfig(tab, VIRTIO_INPUT_CFG_ABS_INFO, 1);
    const saved = vmstateSaveToBytes(vmsd, tab);
    // The device is reset (as a fresh destination would be), then loaded.
    virtioReset(tab);
    virtioConfigWrite(tab, 0, 1, 0);
    expect(tab.active).toBe(false);
    vmstateLoadFromBytes(vmsd, tab, saved);
    expect(tab.active).toBe(true);
    expect(virtioConfigRead(tab, 0, 1)).toBe(VIRTIO_INPUT_CFG_ABS_INFO);
    expect(virtioConfigRead(tab, 1, 1)).toBe(1);
    expect(tab.vq[0]!.lastAvailIdx).toBe(2);
    // The queue carries on where it was: the remaining buffers take the next report.
    inputSendEvents([{ type: 'abs', data: { axis: 'y', value: 9 } }]);
    expect(events(drv)).toEqual([
      [EV_ABS, 1, 9],
      [EV_SYN, 0, 0],
    ]);
    expect(errors).toEqual([]);
  });
});
