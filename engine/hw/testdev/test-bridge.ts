/**
 * "vmstudio-test-bridge": a sysbus device owning a hotplug-capable "vmstudio-test-bus", so device_add /
 * device_del / DEVICE_DELETED can be exercised before real buses (PCI, virtio) exist.
 *
 * Like a PCIe slot, unplug is guest-cooperative: device_del only *requests* removal; the emulated guest
 * acknowledges after `unplug-delay-ms` (a timer) or, when that is 0, when `testBridgeGuestAck(dev)` is
 * called. Then the device is unrealized and removed, and DEVICE_DELETED is emitted.
 *
 * It is a dynamic sysbus device: `-device vmstudio-test-bridge` works on boards that allow it (the
 * `none` machine, so QMP clients can test hotplug), and code can create it with `testBridgeCreate()`.
 */
import { errorSetg } from '../../qapi/error.js';
import type { QomObject } from '../../qom/object.js';
import {
  typeRegister,
  objectCheck,
  objectGetTypename,
  objectUnparent,
  objectClassDynamicCast,
} from '../../qom/object.js';
import type { BusClass } from '../../hw/core/qdev-core.js';
import {
  BusState,
  DeviceState,
  TYPE_BUS,
  qbusNew,
  qbusSetHotplugHandler,
  qdevNew,
  qdevRealizeAndUnref,
} from '../../hw/core/qdev-core.js';
import { HotplugHandlerClass, TYPE_HOTPLUG_HANDLER } from '../../hw/core/hotplug.js';
import {
  SysBusDevice,
  SysBusDeviceClass,
  TYPE_SYS_BUS_DEVICE,
  sysbusGetDefault,
  sysbusInitMmio,
} from '../../hw/core/sysbus.js';
import { deviceClassSetProps, definePropUint32 } from '../../hw/core/qdev-properties.js';

export const TYPE_VMSTUDIO_TEST_BRIDGE = 'vmstudio-test-bridge';
export const TYPE_VMSTUDIO_TEST_BUS = 'vmstudio-test-bus';
export const VMSTUDIO_TEST_BUS_SLOTS = 4;

/** What a device on the test bus must provide (vmstudio-test-device does). */
export interface TestBusDevice extends DeviceState {
  addr: number;
}

export class TestBus extends BusState {}

export class TestBridge extends SysBusDevice {
  bus: TestBus | null = null;
  unplugDelayMs = 0;
  /** Hotplug handler calls, for tests: "pre_plug:<id>", "plug:<id>", "unplug_request:<id>", "unplug:<id>". */
  log: string[] = [];
  /** Devices whose unplug the guest has not acknowledged yet. */
  pendingUnplug = new Set<DeviceState>();
  private timers = new Map<DeviceState, ReturnType<typeof setTimeout>>();

  clearTimers(): void {
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
  }
  schedule(dev: DeviceState, fn: () => void): void {
    this.timers.set(dev, setTimeout(fn, this.unplugDelayMs));
  }
  cancel(dev: DeviceState): void {
    const t = this.timers.get(dev);
    if (t) clearTimeout(t);
    this.timers.delete(dev);
  }
}

export const TEST_BRIDGE = (o: QomObject) => objectCheck<TestBridge>(o, TYPE_VMSTUDIO_TEST_BRIDGE);

const label = (dev: DeviceState) => dev.id ?? objectGetTypename(dev);

typeRegister<TestBus, BusClass>({
  name: TYPE_VMSTUDIO_TEST_BUS,
  parent: TYPE_BUS,
  instance: TestBus,
  classInit(bc) {
    bc.maxDev = VMSTUDIO_TEST_BUS_SLOTS;
    // A device asks for a slot with "addr" (-1: first free one).
    bc.checkAddress = (bus, dev) => {
      const d = dev as TestBusDevice;
      const used = new Set(bus.children.map((k) => (k.child as TestBusDevice).addr));
      if (d.addr === -1) {
        let slot = 0;
        while (used.has(slot)) slot++;
        d.addr = slot;
        return;
      }
      if (d.addr < 0 || d.addr >= VMSTUDIO_TEST_BUS_SLOTS) {
        throw errorSetg(
          `Property '${objectGetTypename(dev)}.addr' doesn't take value ${d.addr} (slots 0-${VMSTUDIO_TEST_BUS_SLOTS - 1})`,
        );
      }
      const other = bus.children.find((k) => (k.child as TestBusDevice).addr === d.addr);
      if (other)
        throw errorSetg(`Slot ${d.addr} on bus '${bus.name}' is in use by device '${label(other.child)}'`);
    };
    bc.printDev = (dev, indent) => `${' '.repeat(indent)}slot ${(dev as TestBusDevice).addr}\n`;
  },
});

function bridgeRealize(dev: DeviceState): void {
  const br = dev as TestBridge;
  br.bus = qbusNew<TestBus>(TYPE_VMSTUDIO_TEST_BUS, br, null);
  qbusSetHotplugHandler(br.bus, br);
}

function bridgeUnrealize(dev: DeviceState): void {
  (dev as TestBridge).clearTimers();
}

typeRegister<TestBridge, SysBusDeviceClass>({
  name: TYPE_VMSTUDIO_TEST_BRIDGE,
  parent: TYPE_SYS_BUS_DEVICE,
  instance: TestBridge,
  interfaces: [TYPE_HOTPLUG_HANDLER],
  classInit(dc) {
    dc.desc = 'VM Studio test bridge (hotplug test bus)';
    dc.categories.add('bridge');
    dc.realize = bridgeRealize;
    dc.unrealize = bridgeUnrealize;
    // A dynamic sysbus device: -device may create it on boards that allow it (the none machine).
    dc.userCreatable = true;
    deviceClassSetProps(dc, [definePropUint32('unplug-delay-ms', 'unplugDelayMs', 0)]);
    const hc = objectClassDynamicCast<HotplugHandlerClass>(dc, TYPE_HOTPLUG_HANDLER)!;
    hc.prePlug = (h, d) => {
      (h as TestBridge).log.push(`pre_plug:${label(d as DeviceState)}`);
    };
    hc.plug = (h, d) => void (h as TestBridge).log.push(`plug:${label(d as DeviceState)}`);
    hc.unplugRequest = (h, d) => {
      const br = h as TestBridge;
      const dev = d as DeviceState;
      br.log.push(`unplug_request:${label(dev)}`);
      br.pendingUnplug.add(dev);
      dev.pendingDeletedEvent = true;
      if (br.unplugDelayMs > 0) br.schedule(dev, () => testBridgeGuestAck(dev));
    };
    hc.unplug = (h, d) => {
      const br = h as TestBridge;
      br.log.push(`unplug:${label(d as DeviceState)}`);
      br.pendingUnplug.delete(d as DeviceState);
      br.cancel(d as DeviceState);
    };
  },
  instanceInit(br) {
    // A small register window so `info qtree` shows an mmio line like real sysbus devices.
    sysbusInitMmio(br, { size: 0x1000 });
  },
});

/**
 * The guest acknowledges the removal of `dev` (e.g. after ejecting it): finish the unplug and drop
 * the device. Returns false when no unplug was pending for it.
 */
export function testBridgeGuestAck(dev: DeviceState): boolean {
  const bus = dev.parentBus;
  const br = bus?.parentDevice as TestBridge | null | undefined;
  if (!br || !br.pendingUnplug.has(dev)) return false;
  const hc = objectClassDynamicCast<HotplugHandlerClass>(br.class, TYPE_HOTPLUG_HANDLER)!;
  hc.unplug!(br, dev);
  objectUnparent(dev);
  return true;
}

/** Create and realize a test bridge on main-system-bus (boards call this at init). */
export function testBridgeCreate(opts: { unplugDelayMs?: number } = {}): TestBridge {
  const br = qdevNew<TestBridge>(TYPE_VMSTUDIO_TEST_BRIDGE);
  br.unplugDelayMs = opts.unplugDelayMs ?? 0;
  qdevRealizeAndUnref(br, sysbusGetDefault());
  return br;
}
