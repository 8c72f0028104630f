/**
 * Harness of the device-level tests: the `virt` machine in this process (stopped, no firmware, no
 * display), so that a test's fake guest driver is the only thing touching the devices, and the fake
 * drivers themselves: tests/hotplug/fake-virtio-driver.ts (re-exported here) and, on top of it, a
 * virtio-serial multiport driver that speaks the control protocol and moves port data.
 */
import net from 'node:net';
import { expect } from 'vitest';
import '../../engine/system/modules.js';
import { qemuInit } from '../../engine/system/vl.js';
import { objectResolvePath, qomResetRoot } from '../../engine/qom/object.js';
import { runstateResetForTests } from '../../engine/system/runstate.js';
import { romsClear } from '../../engine/hw/core/loader.js';
import { onDeviceDeleted, qdevPropClearGlobals } from '../../engine/hw/core/qdev-core.js';
import { qmpDeviceDel } from '../../engine/hw/core/qdev-monitor.js';
import { chardevDeleteAll } from '../../engine/chardev/char-registry.js';
import { blkDeleteAll } from '../../engine/block/block-backend.js';
import { bdrvCloseAll } from '../../engine/block/block.js';
import { bit } from '../../engine/hw/virtio/virtio.js';
import type { VirtIOSerial } from '../../engine/hw/virtio/virtio-serial.js';
import { FakeDriver, type FakeQueue } from '../hotplug/fake-virtio-driver.js';

export { FakeDriver, FakeQueue } from '../hotplug/fake-virtio-driver.js';

/** The machine every device-level test starts from; a test appends its devices and backends. */
export const VIRT_TEST_ARGS: readonly string[] = ['-M', 'virt', '-S', '-bios', 'none', '-display', 'none'];

/**
 * Drop what an earlier in-process engine left behind: the QOM tree, the run state, ROMs, -global
 * defaults, chardevs, block backends and nodes (all process-wide in the engine).
 */
export async function resetEngine(): Promise<void> {
  qomResetRoot();
  runstateResetForTests();
  romsClear();
  qdevPropClearGlobals();
  await chardevDeleteAll();
  await blkDeleteAll();
  await bdrvCloseAll();
}

/** Start `VIRT_TEST_ARGS` + `args` on a clean engine; the machine must come up (paused). */
export async function startVirt(args: string[]): Promise<void> {
  await resetEngine();
  const r = await qemuInit([...VIRT_TEST_ARGS, ...args], { out: () => undefined, err: () => undefined });
  expect(r.kind).toBe('running');
}

/** `/machine/peripheral/<id>`: a device created with `id=`; throws when there is none. */
export function peripheral<T>(id: string): T {
  const o = objectResolvePath(`/machine/peripheral/${id}`);
  if (!o) throw new Error(`no device with id '${id}'`);
  return o as T;
}

/**
 * device_del `id`; returns the devices DEVICE_DELETED named before it returned (on the virtio
 * buses unplug completes at once, so a test can require ['<id>']).
 */
export function deviceDelNow(id: string): string[] {
  const deleted: string[] = [];
  const off = onDeviceDeleted((ev) => deleted.push(ev.device ?? ev.path));
  try {
    qmpDeviceDel({ id });
  } finally {
    off();
  }
  return deleted;
}

/** Wait for timers and socket I/O of the engine to run. */
export const settle = (ms = 50) => new Promise((r) => setTimeout(r, ms));

/** A client connected to a unix socket chardev, after the engine has seen the connection. */
export async function connectUnix(path: string): Promise<net.Socket> {
  const client = net.createConnection(path);
  await new Promise<void>((r) => client.once('connect', () => r()));
  await settle();
  return client;
}

/**
 * virtio-serial control events (virtio spec 5.3.6.2), spelled out here so that the tests do not take
 * the numbers from the code they test.
 */
export const CONTROL = {
  DEVICE_READY: 0,
  PORT_ADD: 1,
  PORT_REMOVE: 2,
  PORT_READY: 3,
  CONSOLE_PORT: 4,
  PORT_OPEN: 6,
  PORT_NAME: 7,
} as const;

/** A control message as the device sent it: [port id, event, value, what follows the header]. */
export type ControlMessage = [number, number, number, string];

/**
 * The guest's virtio-serial driver with VIRTIO_CONSOLE_F_MULTIPORT: queues 0/1 are port 0's
 * receive/transmit, 2/3 the control in/out queues, then a receive/transmit pair per further port.
 */
export class FakeSerialDriver extends FakeDriver {
  /** MULTIPORT, `queues` queues of 32 entries, `controlBuffers` 64-byte buffers on control-in. */
  constructor(vser: VirtIOSerial, opts: { queues?: number; controlBuffers?: number } = {}) {
    super(vser);
    this.init(bit(1), opts.queues ?? 8, 32);
    for (let i = 0; i < (opts.controlBuffers ?? 16); i++) this.queues[2]!.add([], [64], false);
  }

  /** Send (control out) the 8-byte struct virtio_console_control. */
  sendControl(id: number, event: number, value: number): void {
    const b = new Uint8Array(8);
    const v = new DataView(b.buffer);
    v.setUint32(0, id, true);
    v.setUint16(4, event, true);
    v.setUint16(6, value, true);
    this.queues[3]!.add([b], []);
  }

  /** Control messages the device sent since the last call. */
  controlReceived(): ControlMessage[] {
    return this.queues[2]!.takeUsed().map((u) => {
      const v = new DataView(u.data.buffer);
      const extra = Buffer.from(u.data.subarray(8, u.len)).toString('latin1');
      return [v.getUint32(0, true), v.getUint16(4, true), v.getUint16(6, true), extra];
    });
  }

  /** Port `port`'s receive queue (host to guest): post buffers on it to take data. */
  rxQueue(port: number): FakeQueue {
    return this.queues[port === 0 ? 0 : 2 + 2 * port]!;
  }

  /** What the device put into the buffers of port `port` since the last call, one string each. */
  portReceived(port: number): string[] {
    return this.rxQueue(port)
      .takeUsed()
      .map((u) => Buffer.from(u.data.subarray(0, u.len)).toString());
  }

  /** Transmit `text` on port `port` (guest to host). */
  portSend(port: number, text: string): void {
    this.queues[port === 0 ? 1 : 3 + 2 * port]!.add([new TextEncoder().encode(text)], []);
  }
}
