/**
 * qdev: devices and buses on top of QOM (hw/core/qdev.c, hw/core/bus.c, include/hw/qdev-core.h).
 *
 * A device is configured through properties while unrealized, then realized ("realized" = true), which
 * attaches it to the composition tree (/machine/unattached/device[N] if it has no parent yet), runs
 * the hotplug handler's pre_plug, the class realize, realizes its child buses and runs plug. Buses
 * hold typed children (newest first, as QEMU's QTAILQ_INSERT_HEAD), expose them as link<> "child[N]",
 * and name themselves "<parent-id>.<n>" or "<lowercase type>.<n>".
 *
 * Reset: we implement QEMU's legacy reset (DeviceClass.reset / BusClass.reset, walked children first
 * like qbus_reset_all); the three-phase Resettable interface is not modelled.
 *
 * DEVICE_DELETED: a device that was realized and then unrealized emits it when finalized (QEMU's
 * device_finalize), through handlers registered with `onDeviceDeleted`.
 */
import type { QDict } from '../../qobject/qobject.js';
import { errorSetg } from '../../qapi/error.js';
import {
  QomObject,
  ObjectClass,
  typeRegister,
  objectNew,
  objectRef,
  objectUnref,
  objectUnparent,
  objectDynamicCast,
  objectCheck,
  objectGetTypename,
  objectGetCanonicalPath,
  objectGetRoot,
  objectGetClassAs,
  objectClassGetParent,
  objectClassByName,
  objectClassGetList,
  objectPropertyAddChild,
  objectPropertyAddLink,
  objectPropertyDel,
  objectPropertyFind,
  objectPropertyParse,
  objectPropertySetBool,
  objectPropertySetLink,
  objectPropertyAllowSetLink,
  objectClassPropertyAddLink,
  containerGet,
  onQomRootReset,
  OBJ_PROP_LINK_STRONG,
  TYPE_OBJECT,
} from '../../qom/object.js';
import { objectClassPropertyAddBool, objectPropertyAddBool } from '../../qom/object-props.js';
import type { Property } from './qdev-properties.js';
import {
  TYPE_HOTPLUG_HANDLER,
  hotplugHandlerClass,
  hotplugHandlerPlug,
  hotplugHandlerPrePlug,
} from './hotplug.js';
import { IRQState, TYPE_IRQ, qemuAllocateIrq, type IrqHandler } from './irq.js';

export const TYPE_DEVICE = 'device';
export const TYPE_BUS = 'bus';
export const QDEV_HOTPLUG_HANDLER_PROPERTY = 'hotplug-handler';

/** DeviceCategory, in the order `-device help` lists them. */
export const DEVICE_CATEGORIES = [
  'bridge',
  'usb',
  'storage',
  'network',
  'input',
  'display',
  'sound',
  'misc',
  'cpu',
  'watchdog',
] as const;
export type DeviceCategory = (typeof DEVICE_CATEGORIES)[number];

// ---------------------------------------------------------------------------------------------------------
// Machine phases (hw/core/machine.c phase_check/phase_advance)

export type MachinePhase =
  'no-machine' | 'machine-created' | 'accel-created' | 'machine-initialized' | 'machine-ready';
const PHASES: MachinePhase[] = [
  'no-machine',
  'machine-created',
  'accel-created',
  'machine-initialized',
  'machine-ready',
];
let machinePhase: MachinePhase = 'no-machine';

/** True once the machine reached `phase` (after 'machine-ready', devices are hotplugged). */
export function phaseCheck(phase: MachinePhase): boolean {
  return PHASES.indexOf(machinePhase) >= PHASES.indexOf(phase);
}

export function phaseAdvance(phase: MachinePhase): void {
  if (PHASES.indexOf(phase) !== PHASES.indexOf(machinePhase) + 1) {
    throw new Error(`phase_advance from ${machinePhase} to ${phase}`);
  }
  machinePhase = phase;
}

/** Back to 'no-machine' (tests, machine teardown). Also done by qomResetRoot(). */
export function phaseReset(): void {
  machinePhase = 'no-machine';
}

// ---------------------------------------------------------------------------------------------------------
// Classes and instances

export class DeviceClass extends ObjectClass {
  categories = new Set<DeviceCategory>();
  fwName: string | null = null;
  desc: string | null = null;
  /** Static properties declared by exactly this class (dc->props_), in declaration order. */
  props: Property[] = [];
  /** May be created with -device / device_add. */
  userCreatable = true;
  hotpluggable = true;
  /** Type of bus this device plugs into (null: none, e.g. CPUs). */
  busType: string | null = null;
  realize?: (dev: DeviceState) => void;
  unrealize?: (dev: DeviceState) => void;
  /** Legacy reset. */
  reset?: (dev: DeviceState) => void;
  /** Migration description (VMStateDescription, defined by the migration layer). */
  vmsd: unknown = null;
}

/** One named GPIO list (NamedGPIOList). */
export interface NamedGPIOList {
  name: string | null;
  in: IRQState[];
  out: { pins: (IRQState | null)[] }[];
  numIn: number;
  numOut: number;
}

export class DeviceState extends QomObject {
  id: string | null = null;
  canonicalPath: string | null = null;
  realized = false;
  pendingDeletedEvent = false;
  /** 0: the pending unplug never expires (QEMU: virtual-clock ms deadline). */
  pendingDeletedExpiresMs = 0;
  hotplugged = false;
  allowUnplugDuringMigration = false;
  parentBus: BusState | null = null;
  /** Child buses, newest first (QLIST_INSERT_HEAD). */
  childBus: BusState[] = [];
  /** Named GPIO lists, newest first. */
  gpios: NamedGPIOList[] = [];
  /** device_add options minus driver/bus/id. */
  opts: QDict | null = null;
  /** Reasons that block device_del (qdev_add_unplug_blocker). */
  unplugBlockers: Error[] = [];
  instanceIdAlias = -1;
  aliasRequiredForVersion = 0;

  get numChildBus(): number {
    return this.childBus.length;
  }
}

export class BusClass extends ObjectClass {
  /** Extra lines for `info qtree` under each device on this bus (sysbus prints mmio ranges). */
  printDev?: (dev: DeviceState, indent: number) => string;
  getDevPath?: (dev: DeviceState) => string | null;
  getFwDevPath?: (dev: DeviceState) => string | null;
  /** Validate a device's address before it joins the bus; throw to refuse. */
  checkAddress?: (bus: BusState, dev: DeviceState) => void;
  realize?: (bus: BusState) => void;
  unrealize?: (bus: BusState) => void;
  reset?: (bus: BusState) => void;
  /** Maximum number of children (0: unlimited). */
  maxDev = 0;
  /** Counter for automatic names when the parent has no id. */
  automaticIds = 0;
}

export interface BusChild {
  child: DeviceState;
  index: number;
}

export class BusState extends QomObject {
  /** The device owning this bus (QEMU's bus->parent; distinct from the QOM parent). */
  parentDevice: DeviceState | null = null;
  name = '';
  hotplugHandler: QomObject | null = null;
  maxIndex = 0;
  realized = false;
  /** Set by bus implementations that cannot take more devices regardless of maxDev. */
  full = false;
  /** Children, newest first. */
  children: BusChild[] = [];

  get numChildren(): number {
    return this.children.length;
  }
}

export const DEVICE = (o: QomObject) => objectCheck<DeviceState>(o, TYPE_DEVICE);
export const BUS = (o: QomObject) => objectCheck<BusState>(o, TYPE_BUS);
export const DEVICE_GET_CLASS = (o: QomObject) => objectGetClassAs<DeviceClass>(o, TYPE_DEVICE);
export const BUS_GET_CLASS = (o: QomObject) => objectGetClassAs<BusClass>(o, TYPE_BUS);
export const DEVICE_CLASS = (k: ObjectClass) => k as DeviceClass;

// ---------------------------------------------------------------------------------------------------------
// Events

export interface DeviceDeletedEvent {
  device?: string;
  path: string;
}
const deviceDeletedHandlers = new Set<(ev: DeviceDeletedEvent) => void>();

/** Register a DEVICE_DELETED listener (the monitor emits the QMP event). Returns an unsubscribe fn. */
export function onDeviceDeleted(fn: (ev: DeviceDeletedEvent) => void): () => void {
  deviceDeletedHandlers.add(fn);
  return () => deviceDeletedHandlers.delete(fn);
}

function emitDeviceDeleted(dev: DeviceState): void {
  const ev: DeviceDeletedEvent =
    dev.id !== null ? { device: dev.id, path: dev.canonicalPath! } : { path: dev.canonicalPath! };
  for (const h of [...deviceDeletedHandlers]) h(ev);
}

// ---------------------------------------------------------------------------------------------------------
// Global properties (-global driver.prop=value, machine compat props)

export interface GlobalProperty {
  driver: string;
  property: string;
  value: string;
  used?: boolean;
  optional?: boolean;
}

const globalProps: GlobalProperty[] = [];

/** qdev_prop_register_global(). */
export function qdevPropRegisterGlobal(prop: GlobalProperty): void {
  globalProps.push(prop);
}

export function qdevGlobalProperties(): readonly GlobalProperty[] {
  return globalProps;
}

export function qdevPropClearGlobals(): void {
  globalProps.length = 0;
}

/** Reported for hotplugged devices whose globals do not apply (QEMU warns and continues). */
let globalWarn: (msg: string) => void = () => {};
export function setGlobalPropertyWarningHandler(fn: (msg: string) => void): void {
  globalWarn = fn;
}

/** object_apply_global_props(): throws for cold-plugged devices (QEMU exits), warns for hotplugged. */
export function objectApplyGlobalProps(
  obj: QomObject,
  props: readonly GlobalProperty[],
  fatal: boolean,
): void {
  for (const p of props) {
    if (!objectDynamicCast(obj, p.driver)) continue;
    if (p.optional && !objectPropertyFind(obj, p.property)) continue;
    p.used = true;
    try {
      objectPropertyParse(obj, p.property, p.value);
    } catch (e) {
      const err = e instanceof Error ? e : new Error(String(e));
      err.message = `can't apply global ${p.driver}.${p.property}=${p.value}: ${err.message}`;
      if (fatal) throw err;
      globalWarn(err.message);
    }
  }
}

// ---------------------------------------------------------------------------------------------------------
// Machine link

/** The hooks qdev needs from MachineClass (defined in machine.ts, which depends on this module). */
export interface MachineHotplugHooks {
  getHotplugHandler?: (machine: QomObject, dev: DeviceState) => QomObject | null;
  hotplugAllowed?: (machine: QomObject, dev: DeviceState) => boolean;
}

/** qdev_get_machine(): /machine (a plain container until a machine is created). */
export function qdevGetMachine(): QomObject {
  return containerGet(objectGetRoot(), '/machine');
}

export function qdevGetMachineHotplugHandler(dev: DeviceState): QomObject | null {
  const m = qdevGetMachine();
  if (!objectDynamicCast(m, 'machine')) return null;
  const mc = m.class as unknown as MachineHotplugHooks;
  return mc.getHotplugHandler ? mc.getHotplugHandler(m, dev) : null;
}

export function qdevGetBusHotplugHandler(dev: DeviceState): QomObject | null {
  return dev.parentBus?.hotplugHandler ?? null;
}

/** qdev_get_hotplug_handler(): the machine's handler first, else the parent bus's. */
export function qdevGetHotplugHandler(dev: DeviceState): QomObject | null {
  return qdevGetMachineHotplugHandler(dev) ?? (dev.parentBus ? qdevGetBusHotplugHandler(dev) : null);
}

/** qdev_hotplug_allowed(): ask the machine; its hook throws to explain a refusal. */
export function qdevHotplugAllowed(dev: DeviceState): boolean {
  const m = qdevGetMachine();
  if (objectDynamicCast(m, 'machine')) {
    const mc = m.class as unknown as MachineHotplugHooks;
    if (mc.hotplugAllowed) return mc.hotplugAllowed(m, dev);
  }
  return true;
}

// ---------------------------------------------------------------------------------------------------------
// Buses

function busAddChild(bus: BusState, child: DeviceState): void {
  const kid: BusChild = { child, index: bus.maxIndex++ };
  objectRef(child);
  bus.children.unshift(kid);
  // Read-only link; the kid's reference is dropped when the child leaves the bus.
  objectPropertyAddLink(bus, `child[${kid.index}]`, objectGetTypename(child), {
    get: () => kid.child,
    set: () => {},
  });
}

function busRemoveChild(bus: BusState, child: DeviceState): void {
  const i = bus.children.findIndex((k) => k.child === child);
  if (i < 0) return;
  const kid = bus.children[i]!;
  bus.children.splice(i, 1);
  objectPropertyDel(bus, `child[${kid.index}]`);
  objectUnref(kid.child);
}

function qbusInitInternal(bus: BusState, parent: DeviceState | null, name: string | null): void {
  bus.parentDevice = parent;
  if (name !== null) {
    bus.name = name;
  } else if (parent?.id) {
    bus.name = `${parent.id}.${parent.numChildBus}`;
  } else {
    const bc = BUS_GET_CLASS(bus);
    bus.name = `${objectGetTypename(bus)}.${bc.automaticIds++}`.toLowerCase();
  }
  if (parent) {
    parent.childBus.unshift(bus);
    objectPropertyAddChild(parent, bus.name, bus);
    objectUnref(bus);
  }
}

/** qbus_new(): create a bus of `typename` owned by `parent` (null only for the main system bus). */
export function qbusNew<T extends BusState = BusState>(
  typename: string,
  parent: DeviceState | null,
  name: string | null = null,
): T {
  const bus = objectNew<T>(typename);
  qbusInitInternal(bus, parent, name);
  return bus;
}

export function qbusRealize(bus: BusState): void {
  objectPropertySetBool(bus, 'realized', true);
}

export function qbusUnrealize(bus: BusState): void {
  objectPropertySetBool(bus, 'realized', false);
}

function busSetRealized(bus: BusState, value: boolean): void {
  const bc = BUS_GET_CLASS(bus);
  if (value && !bus.realized) {
    bc.realize?.(bus);
  } else if (!value && bus.realized) {
    for (const kid of [...bus.children]) qdevUnrealize(kid.child);
    bc.unrealize?.(bus);
  }
  bus.realized = value;
}

function busUnparent(obj: QomObject): void {
  const bus = obj as BusState;
  if (!bus.parentDevice)
    throw new Error('only the main system bus has no parent device, and it is never freed');
  while (bus.children.length) objectUnparent(bus.children[0]!.child);
  const p = bus.parentDevice;
  p.childBus.splice(p.childBus.indexOf(bus), 1);
  bus.parentDevice = null;
}

/** qbus_is_hotpluggable(): has a handler, which may veto per bus. */
export function qbusIsHotpluggable(bus: BusState): boolean {
  const h = bus.hotplugHandler;
  if (!h) return false;
  const hc = hotplugHandlerClass(h);
  return hc.isHotpluggableBus ? hc.isHotpluggableBus(h, bus) : true;
}

/** qbus_is_full(). */
export function qbusIsFull(bus: BusState): boolean {
  if (bus.full) return true;
  const bc = BUS_GET_CLASS(bus);
  return bc.maxDev > 0 && bus.numChildren >= bc.maxDev;
}

/** qbus_set_hotplug_handler(): `handler` (implementing hotplug-handler) manages plugs on `bus`. */
export function qbusSetHotplugHandler(bus: BusState, handler: QomObject | null): void {
  objectPropertySetLink(bus, QDEV_HOTPLUG_HANDLER_PROPERTY, handler);
}

/** qbus_set_bus_hotplug_handler(): the bus is its own handler. */
export function qbusSetBusHotplugHandler(bus: BusState): void {
  qbusSetHotplugHandler(bus, bus);
}

// ---------------------------------------------------------------------------------------------------------
// Devices

/** qdev_new(): create an unrealized device (caller owns the reference). */
export function qdevNew<T extends DeviceState = DeviceState>(typename: string): T {
  if (!objectClassByName(typename)) throw new Error(`unknown type '${typename}'`);
  return objectNew<T>(typename);
}

/** qdev_try_new(): null when the type does not exist. */
export function qdevTryNew<T extends DeviceState = DeviceState>(typename: string): T | null {
  return objectClassByName(typename) ? objectNew<T>(typename) : null;
}

/** qdev_set_parent_bus(): move/plug a device onto `bus` (its type must fit the device's bus_type). */
export function qdevSetParentBus(dev: DeviceState, bus: BusState): void {
  const dc = DEVICE_GET_CLASS(dev);
  if (!dc.busType || !objectDynamicCast(bus, dc.busType)) {
    throw new Error(`device ${objectGetTypename(dev)} cannot go on bus ${objectGetTypename(bus)}`);
  }
  BUS_GET_CLASS(bus).checkAddress?.(bus, dev);
  const old = dev.parentBus;
  if (old) {
    objectRef(dev);
    busRemoveChild(old, dev);
  }
  dev.parentBus = bus;
  objectRef(bus);
  busAddChild(bus, dev);
  if (old) {
    objectUnref(old);
    objectUnref(dev);
  }
}

/** qdev_realize(): plug onto `bus` (if given) and realize. */
export function qdevRealize(dev: DeviceState, bus: BusState | null): void {
  if (dev.realized || dev.parentBus) throw new Error('qdev_realize: device already realized or plugged');
  if (bus) qdevSetParentBus(dev, bus);
  else if (DEVICE_GET_CLASS(dev).busType)
    throw new Error(`device ${objectGetTypename(dev)} needs a ${DEVICE_GET_CLASS(dev).busType} bus`);
  objectPropertySetBool(dev, 'realized', true);
}

/** qdev_realize_and_unref(): realize, then drop the creator's reference (the tree keeps the device). */
export function qdevRealizeAndUnref(dev: DeviceState, bus: BusState | null): void {
  try {
    qdevRealize(dev, bus);
  } finally {
    objectUnref(dev);
  }
}

export function qdevUnrealize(dev: DeviceState): void {
  objectPropertySetBool(dev, 'realized', false);
}

let unattachedCount = 0;

const qdevDeviceNoHotplug = (typename: string) =>
  errorSetg(`Device '${typename}' does not support hotplugging`);

function deviceSetRealized(dev: DeviceState, value: boolean): void {
  const dc = DEVICE_GET_CLASS(dev);
  if (dev.hotplugged && !dc.hotpluggable) throw qdevDeviceNoHotplug(objectGetTypename(dev));

  if (value && !dev.realized) {
    let unattachedParent = false;
    if (!dev.parent) {
      objectPropertyAddChild(
        containerGet(qdevGetMachine(), '/unattached'),
        `device[${unattachedCount++}]`,
        dev,
      );
      unattachedParent = true;
    }
    let stage: 'fail' | 'post-realize' | 'child' = 'fail';
    try {
      const hotplugCtrl = qdevGetHotplugHandler(dev);
      if (hotplugCtrl) hotplugHandlerPrePlug(hotplugCtrl, dev);
      dc.realize?.(dev);
      stage = 'post-realize';
      dev.canonicalPath = objectGetCanonicalPath(dev);
      stage = 'child';
      for (const bus of [...dev.childBus]) qbusRealize(bus);
      if (dev.hotplugged) deviceColdReset(dev);
      dev.pendingDeletedEvent = false;
      if (hotplugCtrl) hotplugHandlerPlug(hotplugCtrl, dev);
      dev.realized = true;
    } catch (e) {
      if (stage === 'child') for (const bus of dev.childBus) qbusUnrealize(bus);
      if (stage !== 'fail') {
        dev.canonicalPath = null;
        dc.unrealize?.(dev);
      }
      if (unattachedParent) {
        objectUnparent(dev);
        unattachedCount--;
      }
      throw e;
    }
  } else if (!value && dev.realized) {
    dev.realized = false;
    for (const bus of dev.childBus) qbusUnrealize(bus);
    dc.unrealize?.(dev);
    dev.pendingDeletedEvent = true;
  }
}

function deviceUnparent(obj: QomObject): void {
  const dev = obj as DeviceState;
  if (dev.realized) qdevUnrealize(dev);
  while (dev.childBus.length) objectUnparent(dev.childBus[0]!);
  if (dev.parentBus) {
    const bus = dev.parentBus;
    busRemoveChild(bus, dev);
    dev.parentBus = null;
    objectUnref(bus);
  }
}

/** device_get_hotpluggable(): the class allows it and the parent bus (if any) supports hotplug. */
export function deviceGetHotpluggable(dev: DeviceState): boolean {
  return DEVICE_GET_CLASS(dev).hotpluggable && (dev.parentBus === null || qbusIsHotpluggable(dev.parentBus));
}

// Reset (legacy): children first, then the device / bus itself (qdev_walk_children post order).

export function qbusResetAll(bus: BusState): void {
  for (const kid of [...bus.children]) qdevResetAll(kid.child);
  BUS_GET_CLASS(bus).reset?.(bus);
}

export function qdevResetAll(dev: DeviceState): void {
  for (const bus of [...dev.childBus]) qbusResetAll(bus);
  DEVICE_GET_CLASS(dev).reset?.(dev);
}

/** device_cold_reset(): the device and everything below it. */
export function deviceColdReset(dev: DeviceState): void {
  qdevResetAll(dev);
}

// GPIOs

function namedGpioList(dev: DeviceState, name: string | null): NamedGPIOList {
  let l = dev.gpios.find((g) => g.name === name);
  if (!l) {
    l = { name, in: [], out: [], numIn: 0, numOut: 0 };
    dev.gpios.unshift(l);
  }
  return l;
}

/** qdev_init_gpio_in_named(): n input lines, children "<name>[i]" ("unnamed-gpio-in[i]"). */
export function qdevInitGpioInNamed(
  dev: DeviceState,
  handler: IrqHandler,
  name: string | null,
  n: number,
  opaque: unknown = dev,
): void {
  const l = namedGpioList(dev, name);
  const prop = name ?? 'unnamed-gpio-in';
  for (let i = l.numIn; i < l.numIn + n; i++) {
    const irq = qemuAllocateIrq(handler, opaque, i);
    l.in.push(irq);
    objectPropertyAddChild(dev, `${prop}[${i}]`, irq);
    objectUnref(irq);
  }
  l.numIn += n;
}

export function qdevInitGpioIn(dev: DeviceState, handler: IrqHandler, n: number): void {
  qdevInitGpioInNamed(dev, handler, null, n);
}

/**
 * qdev_init_gpio_out_named(): `pins` receives the connected inputs (link<irq> "<name>[i]"); the device
 * raises them with qemuSetIrq(pins[i], level).
 */
export function qdevInitGpioOutNamed(
  dev: DeviceState,
  pins: (IRQState | null)[],
  name: string | null,
  n: number,
): void {
  const l = namedGpioList(dev, name);
  const prop = name ?? 'unnamed-gpio-out';
  for (let i = 0; i < n; i++) {
    pins[i] = null;
    objectPropertyAddLink(
      dev,
      `${prop}[${l.numOut + i}]`,
      TYPE_IRQ,
      {
        get: () => pins[i] ?? null,
        set: (_o, v) => {
          pins[i] = v as IRQState | null;
        },
      },
      objectPropertyAllowSetLink,
      OBJ_PROP_LINK_STRONG,
    );
  }
  l.out.push({ pins });
  l.numOut += n;
}

export function qdevInitGpioOut(dev: DeviceState, pins: (IRQState | null)[], n: number): void {
  qdevInitGpioOutNamed(dev, pins, null, n);
}

export function qdevGetGpioInNamed(dev: DeviceState, name: string | null, n: number): IRQState {
  const l = namedGpioList(dev, name);
  const irq = l.in[n];
  if (!irq) throw new Error(`gpio-in ${name ?? ''}[${n}] out of range`);
  return irq;
}

export function qdevGetGpioIn(dev: DeviceState, n: number): IRQState {
  return qdevGetGpioInNamed(dev, null, n);
}

/** qdev_connect_gpio_out_named(): wire output n to `pin` (given a name under /machine/unattached if loose). */
export function qdevConnectGpioOutNamed(
  dev: DeviceState,
  name: string | null,
  n: number,
  pin: IRQState | null,
): void {
  if (pin && !pin.parent) {
    objectPropertyAddChild(containerGet(qdevGetMachine(), '/unattached'), 'non-qdev-gpio[*]', pin);
  }
  objectPropertySetLink(dev, `${name ?? 'unnamed-gpio-out'}[${n}]`, pin);
}

export function qdevConnectGpioOut(dev: DeviceState, n: number, pin: IRQState | null): void {
  qdevConnectGpioOutNamed(dev, null, n, pin);
}

export function qdevGetChildBus(dev: DeviceState, name: string): BusState | null {
  return dev.childBus.find((b) => b.name === name) ?? null;
}

export function qdevGetParentBus(dev: DeviceState): BusState | null {
  return dev.parentBus;
}

export function qdevFwName(dev: DeviceState): string {
  return DEVICE_GET_CLASS(dev).fwName ?? objectGetTypename(dev);
}

/** qdev_find_recursive(): a device by id anywhere below `bus`. */
export function qdevFindRecursive(bus: BusState, id: string): DeviceState | null {
  for (const kid of bus.children) {
    if (kid.child.id === id) return kid.child;
    for (const child of kid.child.childBus) {
      const r = qdevFindRecursive(child, id);
      if (r) return r;
    }
  }
  return null;
}

/** Static properties of a device class and its ancestors up to (excluding) "device", derived first. */
export function deviceClassPropsChain(klass: ObjectClass): Property[][] {
  const out: Property[][] = [];
  const stop = objectClassByName(TYPE_DEVICE);
  for (let k: ObjectClass | null = klass; k && k !== stop; k = objectClassGetParent(k)) {
    const dc = k as DeviceClass;
    if (dc.props.length) out.push(dc.props);
  }
  return out;
}

/** Unplug blockers (qdev_add_unplug_blocker / qdev_unplug_blocked). */
export function qdevAddUnplugBlocker(dev: DeviceState, reason: Error): void {
  dev.unplugBlockers.push(reason);
}

export function qdevDelUnplugBlocker(dev: DeviceState, reason: Error): void {
  dev.unplugBlockers = dev.unplugBlockers.filter((r) => r !== reason);
}

export function qdevUnplugBlocked(dev: DeviceState): Error | null {
  return dev.unplugBlockers[0] ?? null;
}

// ---------------------------------------------------------------------------------------------------------
// Type registration

typeRegister<DeviceState, DeviceClass>({
  name: TYPE_DEVICE,
  parent: TYPE_OBJECT,
  instance: DeviceState,
  class: DeviceClass,
  abstract: true,
  classInit(dc) {
    dc.unparent = deviceUnparent;
    dc.userCreatable = true;
    dc.hotpluggable = true;
    objectClassPropertyAddBool<DeviceState>(
      dc,
      'realized',
      (d) => d.realized,
      (d, v) => deviceSetRealized(d, v),
    );
    objectClassPropertyAddBool<DeviceState>(dc, 'hotpluggable', (d) => deviceGetHotpluggable(d));
    objectClassPropertyAddBool<DeviceState>(dc, 'hotplugged', (d) => d.hotplugged);
    objectClassPropertyAddLink(dc, 'parent_bus', TYPE_BUS, 'parentBus');
  },
  classBaseInit(klass) {
    // Each class starts with an empty own property table (QEMU: dc->props_ = NULL in class_base_init).
    (klass as DeviceClass).props = [];
    (klass as DeviceClass).categories = new Set((klass as DeviceClass).categories);
  },
  instanceInit(dev) {
    dev.hotplugged = phaseCheck('machine-ready');
  },
  instancePostInit(dev) {
    objectApplyGlobalProps(dev, globalProps, !dev.hotplugged);
  },
  instanceFinalize(dev) {
    if (dev.pendingDeletedEvent && dev.canonicalPath) {
      emitDeviceDeleted(dev);
      dev.canonicalPath = null;
    }
  },
});

typeRegister<BusState, BusClass>({
  name: TYPE_BUS,
  parent: TYPE_OBJECT,
  instance: BusState,
  class: BusClass,
  abstract: true,
  classInit(bc) {
    bc.unparent = busUnparent;
  },
  instanceInit(bus) {
    objectPropertyAddLink(
      bus,
      QDEV_HOTPLUG_HANDLER_PROPERTY,
      TYPE_HOTPLUG_HANDLER,
      'hotplugHandler',
      objectPropertyAllowSetLink,
    );
    // an instance property, as QEMU's qbus_initfn adds it
    objectPropertyAddBool<BusState>(
      bus,
      'realized',
      (b) => b.realized,
      (b, v) => busSetRealized(b, v),
    );
  },
});

onQomRootReset(() => {
  unattachedCount = 0;
  phaseReset();
  // A fresh tree names its buses from .0 again (QEMU has one tree per process).
  for (const k of objectClassGetList(TYPE_BUS, true)) (k as BusClass).automaticIds = 0;
});
