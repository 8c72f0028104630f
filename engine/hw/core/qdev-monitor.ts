/**
 * Dynamic device creation and the monitor's view of devices (softmmu/qdev-monitor.c): -device /
 * device_add (driver lookup with aliases, bus lookup by name or path, id registration under
 * /machine/peripheral), -device help texts, `info qtree`, and device_del (unplug request that the
 * guest may complete later; DEVICE_DELETED follows when the device is finalized, see qdev-core.ts).
 */
import type { QDict, QObject } from '../../qobject/qobject.js';
import { qdict } from '../../qobject/qobject.js';
import { QapiError, errorSetg } from '../../qapi/error.js';
import type { QomObject } from '../../qom/object.js';
import {
  objectClassByName,
  objectClassDynamicCast,
  objectClassIsAbstract,
  objectClassGetListSorted,
  objectDynamicCast,
  objectGetTypename,
  objectPropertyAddChild,
  objectResolvePathAt,
  objectUnparent,
  objectUnref,
  objectPropertyPrint,
  onQomRootReset,
  containerGet,
  objectDynamicCast as cast,
} from '../../qom/object.js';
import {
  idWellformed,
  objectPropertyHelp,
  objectSetPropertiesFromKeyval,
  strcmp,
} from '../../qom/object-interfaces.js';
import { qmpDeviceListProperties } from '../../qom/qom-qmp-cmds.js';
import {
  BusState,
  DeviceClass,
  DeviceState,
  DEVICE_CATEGORIES,
  BUS_GET_CLASS,
  DEVICE_GET_CLASS,
  TYPE_DEVICE,
  deviceClassPropsChain,
  phaseCheck,
  qbusIsFull,
  qbusIsHotpluggable,
  qdevGetHotplugHandler,
  qdevGetMachine,
  qdevGetMachineHotplugHandler,
  qdevHotplugAllowed,
  qdevNew,
  qdevRealize,
  qdevUnplugBlocked,
} from './qdev-core.js';
import { hotplugHandlerClass, hotplugHandlerUnplug, hotplugHandlerUnplugRequest } from './hotplug.js';
import { sysbusGetDefault, TYPE_SYS_BUS_DEVICE } from './sysbus.js';
import { deviceTypeIsDynamicSysbus, MACHINE_GET_CLASS } from './machine.js';

// ---------------------------------------------------------------------------------------------------------
// Aliases (qdev_alias_table, as for a RISC-V build where virtio defaults to PCI)

const ALIASES: readonly [string, string][] = [
  ['AC97', 'ac97'],
  ['e1000', 'e1000-82540em'],
  ['ES1370', 'es1370'],
  ['ich9-ahci', 'ahci'],
  ['lsi53c895a', 'lsi'],
  ['virtio-9p-pci', 'virtio-9p'],
  ['virtio-balloon-pci', 'virtio-balloon'],
  ['virtio-blk-pci', 'virtio-blk'],
  ['virtio-gpu-pci', 'virtio-gpu'],
  ['virtio-gpu-gl-pci', 'virtio-gpu-gl'],
  ['virtio-input-host-pci', 'virtio-input-host'],
  ['virtio-iommu-pci', 'virtio-iommu'],
  ['virtio-keyboard-pci', 'virtio-keyboard'],
  ['virtio-mouse-pci', 'virtio-mouse'],
  ['virtio-net-pci', 'virtio-net'],
  ['virtio-rng-pci', 'virtio-rng'],
  ['virtio-scsi-pci', 'virtio-scsi'],
  ['virtio-serial-pci', 'virtio-serial'],
  ['virtio-tablet-pci', 'virtio-tablet'],
];

export function qdevClassGetAlias(dc: DeviceClass): string | null {
  return ALIASES.find(([t]) => t === dc.type.name)?.[1] ?? null;
}

function findTypenameByAlias(alias: string): string | null {
  return ALIASES.find(([, a]) => a === alias)?.[0] ?? null;
}

const paramExpects = (name: string, what: string) => errorSetg(`Parameter '${name}' expects ${what}`);
const busNoHotplug = (name: string) => errorSetg(`Bus '${name}' does not support hotplugging`);

/** qdev_get_device_class(): resolve a -device driver name; returns the class and the real type name. */
export function qdevGetDeviceClass(driver: string): { dc: DeviceClass; driver: string } {
  let name = driver;
  let oc = objectClassByName(name);
  if (!oc) {
    const t = findTypenameByAlias(name);
    if (t) {
      name = t;
      oc = objectClassByName(name);
    }
  }
  if (!objectClassDynamicCast(oc, TYPE_DEVICE)) {
    throw errorSetg(
      name !== driver
        ? `'${driver}' (alias '${name}') is not a valid device model name`
        : `'${driver}' is not a valid device model name`,
    );
  }
  if (objectClassIsAbstract(oc!)) throw paramExpects('driver', 'a non-abstract device type');
  const dc = oc as DeviceClass;
  if (!dc.userCreatable || (phaseCheck('machine-ready') && !dc.hotpluggable)) {
    throw paramExpects('driver', 'a pluggable device type');
  }
  return { dc, driver: name };
}

// ---------------------------------------------------------------------------------------------------------
// Help

function qdevPrintDevinfo(dc: DeviceClass): string {
  let s = `name "${dc.type.name}"`;
  if (dc.busType) s += `, bus ${dc.busType}`;
  const alias = qdevClassGetAlias(dc);
  if (alias) s += `, alias "${alias}"`;
  if (dc.desc) s += `, desc "${dc.desc}"`;
  if (!dc.userCreatable) s += ', no-user';
  return s + '\n';
}

const CATEGORY_NAMES: Record<(typeof DEVICE_CATEGORIES)[number] | 'uncategorized', string> = {
  bridge: 'Controller/Bridge/Hub',
  usb: 'USB',
  storage: 'Storage',
  network: 'Network',
  input: 'Input',
  display: 'Display',
  sound: 'Sound',
  misc: 'Misc',
  cpu: 'CPU',
  watchdog: 'Watchdog',
  uncategorized: 'Uncategorized',
};

/** qdev_print_devinfos(): `-device help` (showNoUser false) and `info qdm` (true). */
export function qdevPrintDevinfos(showNoUser: boolean): string {
  const list = objectClassGetListSorted(TYPE_DEVICE, false) as DeviceClass[];
  let out = '';
  const cats = [...DEVICE_CATEGORIES, 'uncategorized'] as const;
  cats.forEach((cat, i) => {
    let printed = false;
    for (const dc of list) {
      const inCat = cat === 'uncategorized' ? dc.categories.size === 0 : dc.categories.has(cat);
      if (!inCat || (!showNoUser && !dc.userCreatable)) continue;
      if (!printed) {
        out += `${i ? '\n' : ''}${CATEGORY_NAMES[cat]} devices:\n`;
        printed = true;
      }
      out += qdevPrintDevinfo(dc);
    }
  });
  return out;
}

/**
 * qdev_device_help(): the text for `-device help` / `-device DRIVER,help`, or null when `opts` does not
 * ask for help. Errors (unknown driver) are returned as QapiError for the caller to report.
 */
export function qdevDeviceHelp(opts: QDict): string | null {
  let driver = opts['driver'];
  if (driver === 'help' || driver === '?') return qdevPrintDevinfos(false);
  const wantsHelp = 'help' in opts || '?' in opts;
  if (typeof driver !== 'string' || !wantsHelp) return null;
  if (!objectClassByName(driver)) driver = findTypenameByAlias(driver) ?? driver;
  const props = qmpDeviceListProperties({ typename: driver });
  const lines = props
    .map((p) => objectPropertyHelp(p.name, p.type, p['default-value'], p.description))
    .sort(strcmp);
  let out = props.length ? `${driver} options:\n` : `There are no options for ${driver}.\n`;
  for (const l of lines) out += `${l}\n`;
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// Bus lookup

function qbusFindBus(dev: DeviceState, elem: string): BusState | null {
  return dev.childBus.find((b) => b.name === elem) ?? null;
}

function qbusFindDev(bus: BusState, elem: string): DeviceState | null {
  const kids = bus.children.map((k) => k.child);
  return (
    kids.find((d) => d.id === elem) ??
    kids.find((d) => objectGetTypename(d) === elem) ??
    kids.find((d) => qdevClassGetAlias(DEVICE_GET_CLASS(d)) === elem) ??
    null
  );
}

function busListHint(dev: DeviceState): string {
  return `child buses at "${dev.id ?? objectGetTypename(dev)}":${dev.childBus.map((b, i) => `${i ? ', ' : ' '}"${b.name}"`).join('')}\n`;
}

function devListHint(bus: BusState): string {
  return `devices at "${bus.name}":${bus.children
    .map((k, i) => `${i ? ', ' : ' '}"${objectGetTypename(k.child)}"${k.child.id ? `/"${k.child.id}"` : ''}`)
    .join('')}\n`;
}

/**
 * qbus_find_recursive(): a bus named `name`, or else of type `busTypename`, below `bus`; prefers one
 * that is not full.
 */
export function qbusFindRecursive(
  bus: BusState,
  name: string | null,
  busTypename: string | null,
): BusState | null {
  const match = name !== null ? bus.name === name : !!objectDynamicCast(bus, busTypename!);
  if (match && !qbusIsFull(bus)) return bus;
  let pick = match ? bus : null;
  for (const kid of bus.children) {
    for (const child of kid.child.childBus) {
      const ret = qbusFindRecursive(child, name, busTypename);
      if (ret && !qbusIsFull(ret)) return ret;
      if (ret && !pick) pick = ret;
    }
  }
  return pick;
}

const withHint = (e: QapiError, hint: string) => {
  e.hint = hint;
  return e;
};

/** qbus_find(): "/dev/bus/dev..." from main-system-bus, or "busname/dev/..." starting anywhere. */
export function qbusFind(path: string): BusState {
  let bus: BusState;
  let pos = 0;
  if (path.startsWith('/')) {
    bus = sysbusGetDefault();
  } else {
    const m = /^[^/]*/.exec(path)![0];
    const found = qbusFindRecursive(sysbusGetDefault(), m, null);
    if (!found) throw errorSetg(`Bus '${m}' not found`);
    bus = found;
    pos = m.length;
  }
  for (;;) {
    while (path[pos] === '/') pos++;
    if (pos >= path.length) break;
    let elem = /^[^/]*/.exec(path.slice(pos))![0];
    pos += elem.length;
    const dev = qbusFindDev(bus, elem);
    if (!dev) throw withHint(new QapiError(`Device '${elem}' not found`, 'DeviceNotFound'), devListHint(bus));
    while (path[pos] === '/') pos++;
    if (pos >= path.length) {
      // the path ends at a device: accept it when it has exactly one child bus
      if (dev.numChildBus === 1) {
        bus = dev.childBus[0]!;
        break;
      }
      if (dev.numChildBus)
        throw withHint(errorSetg(`Device '${elem}' has multiple child buses`), busListHint(dev));
      throw errorSetg(`Device '${elem}' has no child bus`);
    }
    elem = /^[^/]*/.exec(path.slice(pos))![0];
    pos += elem.length;
    const b = qbusFindBus(dev, elem);
    if (!b) throw withHint(errorSetg(`Bus '${elem}' not found`), busListHint(dev));
    bus = b;
  }
  if (qbusIsFull(bus)) throw errorSetg(`Bus '${path}' is full`);
  return bus;
}

// ---------------------------------------------------------------------------------------------------------
// device_add

export function qdevGetPeripheral(): QomObject {
  return containerGet(qdevGetMachine(), '/peripheral');
}

export function qdevGetPeripheralAnon(): QomObject {
  return containerGet(qdevGetMachine(), '/peripheral-anon');
}

let anonCount = 0;
onQomRootReset(() => {
  anonCount = 0;
});

/** qdev_set_id(): /machine/peripheral/<id>, or /machine/peripheral-anon/device[N]. */
export function qdevSetId(dev: DeviceState, id: string | null): string {
  if (dev.id !== null || dev.realized) throw new Error('qdev_set_id on a device with an id or realized');
  if (id !== null) {
    try {
      objectPropertyAddChild(qdevGetPeripheral(), id, dev);
    } catch {
      throw errorSetg(`Duplicate device ID '${id}'`);
    }
    dev.id = id;
    return id;
  }
  const name = `device[${anonCount++}]`;
  objectPropertyAddChild(qdevGetPeripheralAnon(), name, dev);
  return name;
}

/**
 * qdev_device_add_from_qdict(): create, name, configure and realize a device from -device/device_add
 * options. `fromJson`: values are typed JSON (-device '{...}'); otherwise strings parsed per property.
 * Returns the device; the composition tree holds it (no reference is handed to the caller).
 */
export function qdevDeviceAdd(opts: QDict, fromJson = false): DeviceState {
  const drv = opts['driver'];
  if (drv === undefined) throw errorSetg("Parameter 'driver' is missing");
  if (typeof drv !== 'string') throw errorSetg("Invalid parameter type for 'driver', expected: string");
  const { dc, driver } = qdevGetDeviceClass(drv);
  // validate_sysbus_device(): a board decides which sysbus devices -device may create.
  if (objectClassDynamicCast(dc, TYPE_SYS_BUS_DEVICE)) {
    const machine = qdevGetMachine();
    if (!deviceTypeIsDynamicSysbus(MACHINE_GET_CLASS(machine), driver)) {
      throw errorSetg(`Option '-device ${driver}' cannot be handled by this machine`);
    }
  }

  let bus: BusState | null = null;
  const path = opts['bus'];
  if (typeof path === 'string') {
    bus = qbusFind(path);
    if (!dc.busType || !objectDynamicCast(bus, dc.busType)) {
      throw errorSetg(`Device '${driver}' can't go on ${objectGetTypename(bus)} bus`);
    }
  } else if (dc.busType !== null) {
    bus = qbusFindRecursive(sysbusGetDefault(), null, dc.busType);
    if (!bus || qbusIsFull(bus)) throw errorSetg(`No '${dc.busType}' bus found for device '${driver}'`);
  }
  if (phaseCheck('machine-ready') && bus && !qbusIsHotpluggable(bus)) throw busNoHotplug(bus.name);

  const dev = qdevNew(driver);
  try {
    if (phaseCheck('machine-ready')) {
      if (!qdevHotplugAllowed(dev))
        throw errorSetg(`Device '${driver}' can not be hotplugged on this machine`);
      if (!bus && !qdevGetMachineHotplugHandler(dev))
        throw errorSetg(`Device '${driver}' can not be hotplugged on this machine`);
    }
    const id = opts['id'];
    qdevSetId(dev, typeof id === 'string' ? id : null);
    const props = qdict();
    for (const k of Object.keys(opts)) if (k !== 'driver' && k !== 'bus' && k !== 'id') props[k] = opts[k]!;
    dev.opts = props;
    objectSetPropertiesFromKeyval(dev, props, fromJson);
    qdevRealize(dev, bus);
  } catch (e) {
    objectUnparent(dev);
    objectUnref(dev);
    throw e;
  }
  objectUnref(dev);
  return dev;
}

/**
 * qmp_device_add(): QMP arguments go through QemuOpts like -device (qemu_opts_from_qdict): numbers
 * and booleans become strings ("on"/"off"), other JSON types are dropped, the id must be well formed.
 */
export function qmpDeviceAdd(args: QDict | Record<string, unknown>): void {
  const opts = qdict();
  for (const [k, v] of Object.entries(args)) {
    const val = v as QObject | undefined;
    if (typeof val === 'string') opts[k] = val;
    else if (typeof val === 'number' || typeof val === 'bigint') opts[k] = String(val);
    else if (typeof val === 'boolean') opts[k] = val ? 'on' : 'off';
  }
  const id = opts['id'];
  if (typeof id === 'string' && !idWellformed(id)) {
    const e = paramExpects('id', 'an identifier');
    e.hint = "Identifiers consist of letters, digits, '-', '.', '_', starting with a letter.\n";
    throw e;
  }
  qdevDeviceAdd(opts, false);
}

// ---------------------------------------------------------------------------------------------------------
// device_del

/** find_device_state(): an id under /machine/peripheral, or a QOM path. */
export function findDeviceState(id: string): DeviceState {
  const obj = objectResolvePathAt(qdevGetPeripheral(), id);
  if (!obj) throw new QapiError(`Device '${id}' not found`, 'DeviceNotFound');
  const dev = cast<DeviceState>(obj, TYPE_DEVICE);
  if (!dev) throw errorSetg(`${id} is not a hotpluggable device`);
  return dev;
}

/** Clock used for pending unplug deadlines (QEMU: virtual clock, ms). */
let clockMs: () => number = () => Date.now();
export function setQdevMonitorClock(fn: () => number): void {
  clockMs = fn;
}

/** qdev_unplug(): ask the hotplug handler to remove `dev` (now, or when the guest agrees). */
export function qdevUnplug(dev: DeviceState): void {
  const dc = DEVICE_GET_CLASS(dev);
  const blocker = qdevUnplugBlocked(dev);
  if (blocker) throw errorSetg(blocker.message);
  if (dev.parentBus && !qbusIsHotpluggable(dev.parentBus)) throw busNoHotplug(dev.parentBus.name);
  if (!dc.hotpluggable) throw errorSetg(`Device '${objectGetTypename(dev)}' does not support hotplugging`);
  const ctrl = qdevGetHotplugHandler(dev);
  if (!ctrl) throw new Error(`hotpluggable device ${objectGetTypename(dev)} has no hotplug handler`);
  if (hotplugHandlerClass(ctrl).unplugRequest) {
    hotplugHandlerUnplugRequest(ctrl, dev);
  } else {
    hotplugHandlerUnplug(ctrl, dev);
    objectUnparent(dev);
  }
}

export function qmpDeviceDel(args: { id: string }): void {
  const dev = findDeviceState(args.id);
  if (
    dev.pendingDeletedEvent &&
    (dev.pendingDeletedExpiresMs === 0 || dev.pendingDeletedExpiresMs > clockMs())
  ) {
    throw errorSetg(`Device ${args.id} is already in the process of unplug`);
  }
  qdevUnplug(dev);
}

// ---------------------------------------------------------------------------------------------------------
// info qtree

function qdevPrintProps(dev: DeviceState, indent: number): string {
  let out = '';
  const pad = ' '.repeat(indent);
  for (const props of deviceClassPropsChain(dev.class)) {
    for (const prop of props) {
      let value: string;
      try {
        value = prop.info.print ? prop.info.print(dev, prop) : objectPropertyPrint(dev, prop.name, true);
      } catch {
        continue;
      }
      out += `${pad}${prop.name} = ${value === '' ? '<null>' : value}\n`;
    }
  }
  return out;
}

function qdevPrint(dev: DeviceState, indent: number): string {
  const pad = ' '.repeat(indent + 2);
  let out = `${' '.repeat(indent)}dev: ${objectGetTypename(dev)}, id "${dev.id ?? ''}"\n`;
  for (const g of dev.gpios) {
    if (g.numIn) out += `${pad}gpio-in "${g.name ?? ''}" ${g.numIn}\n`;
    if (g.numOut) out += `${pad}gpio-out "${g.name ?? ''}" ${g.numOut}\n`;
  }
  out += qdevPrintProps(dev, indent + 2);
  if (dev.parentBus) out += BUS_GET_CLASS(dev.parentBus).printDev?.(dev, indent + 2) ?? '';
  for (const child of dev.childBus) out += qbusPrint(child, indent + 2);
  return out;
}

function qbusPrint(bus: BusState, indent: number): string {
  let out = `${' '.repeat(indent)}bus: ${bus.name}\n`;
  out += `${' '.repeat(indent + 2)}type ${objectGetTypename(bus)}\n`;
  for (const kid of bus.children) out += qdevPrint(kid.child, indent + 2);
  return out;
}

/** `info qtree`. */
export function formatQtree(): string {
  return qbusPrint(sysbusGetDefault(), 0);
}
