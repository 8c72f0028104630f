/**
 * The list of state sections (QEMU's savevm_state.handlers / SaveStateEntry): every device with a
 * VMStateDescription and every non-device part of the machine (RAM, the virtual clock, the global
 * run state) registers here under QEMU's section id string and instance id; save and load walk it.
 *
 * Devices register themselves: when a device with `dc.vmsd` becomes realized it is registered as
 * QEMU's device_set_realized does (vmstate_register_with_alias_id), under "<qdev path>/<vmsd name>"
 * when its bus gives it a path (PCI: "0000:00:01.0/virtio-blk") and under the bare vmsd name with
 * the next free instance id otherwise (sysbus); it is unregistered when unrealized. We observe this
 * through the "realized" property of TYPE_DEVICE, the single path every realize/unrealize takes.
 */
import {
  onQomRootReset,
  objectClassByName,
  objectClassPropertyFind,
  objectGetTypename,
  type QomObject,
} from '../qom/object.js';
import { BUS_GET_CLASS, DEVICE_GET_CLASS, TYPE_DEVICE, type DeviceState } from '../hw/core/qdev-core.js';
import type { VMStateDescription } from './vmstate-types.js';
import type { QemuFileReader, QemuFileWriter } from './qemu-file.js';
import type { VmdescObject } from './vmstate.js';

export const VMSTATE_INSTANCE_ID_ANY = -1;

/** QEMU's MigrationPriority: higher runs first on save and load (MIG_PRI_DEFAULT = 0). */
export const MIG_PRI_DEFAULT = 0;

/** Hooks of a non-vmsd (live, "iterable") section such as RAM (QEMU's SaveVMHandlers). */
export interface SaveVMHandlers {
  /** Sections that are not active are neither saved nor expected (QEMU's is_active). */
  isActive?(): boolean;
  /** QEMU_VM_SECTION_START payload. */
  saveSetup(f: QemuFileWriter): void;
  /** QEMU_VM_SECTION_PART payloads: return false when there is nothing to send this round. */
  saveIterate(f: QemuFileWriter): boolean;
  /** QEMU_VM_SECTION_END payload. */
  saveComplete(f: QemuFileWriter): void;
  /** Read one START/PART/END payload. */
  load(f: QemuFileReader, versionId: number, session: LoadSession): void;
  /** After a complete load (or a rollback): re-derive caches (e.g. decoded code). */
  loadDone?(ok: boolean): void;
}

/** What a loader may use to make its changes undoable. */
export interface LoadSession {
  /** Run `undo` if the load fails (undo steps run in reverse order of registration). */
  onRollback(undo: () => void): void;
}

export interface SaveStateEntry {
  idstr: string;
  instanceId: number;
  sectionId: number;
  versionId: number;
  priority: number;
  opaque: any;
  vmsd: VMStateDescription | null;
  ops: SaveVMHandlers | null;
  /** Alternative name accepted on load (QEMU's se->compat for devices with a qdev path). */
  compat: { idstr: string; instanceId: number } | null;
  /** The device that registered it (for unregistering on unrealize). */
  dev: DeviceState | null;
}

const handlers: SaveStateEntry[] = [];
let globalSectionId = 0;

export function savevmHandlers(): readonly SaveStateEntry[] {
  return handlers;
}

function calculateNewInstanceId(idstr: string): number {
  let id = 0;
  for (const se of handlers) if (se.idstr === idstr && se.instanceId >= id) id = se.instanceId + 1;
  return id;
}

function calculateCompatInstanceId(idstr: string): number {
  let id = 0;
  for (const se of handlers)
    if (se.compat?.idstr === idstr && se.compat.instanceId >= id) id = se.compat.instanceId + 1;
  return id;
}

function insert(se: SaveStateEntry): void {
  const i = handlers.findIndex((o) => se.priority > o.priority);
  if (i < 0) handlers.push(se);
  else handlers.splice(i, 0, se);
}

/** qdev_get_dev_path(): the bus's path for the device, or null (sysbus has none). */
export function qdevGetDevPath(dev: DeviceState): string | null {
  const bus = dev.parentBus;
  if (!bus) return null;
  const bc = BUS_GET_CLASS(bus);
  return bc.getDevPath ? bc.getDevPath(dev) : null;
}

/**
 * vmstate_register_with_alias_id(): register `opaque`'s state under `vmsd`. With `dev`, the id is
 * prefixed with the device's qdev path (if any), as for devices' dc->vmsd.
 */
export function vmstateRegister(
  dev: DeviceState | null,
  instanceId: number,
  vmsd: VMStateDescription,
  opaque: unknown,
  priority = MIG_PRI_DEFAULT,
): SaveStateEntry {
  let idstr = '';
  let compat: SaveStateEntry['compat'] = null;
  if (dev) {
    const path = qdevGetDevPath(dev);
    if (path) {
      idstr = `${path}/`;
      compat = {
        idstr: vmsd.name,
        instanceId:
          instanceId === VMSTATE_INSTANCE_ID_ANY ? calculateCompatInstanceId(vmsd.name) : instanceId,
      };
      instanceId = VMSTATE_INSTANCE_ID_ANY;
    }
  }
  idstr += vmsd.name;
  const se: SaveStateEntry = {
    idstr,
    instanceId: instanceId === VMSTATE_INSTANCE_ID_ANY ? calculateNewInstanceId(idstr) : instanceId,
    sectionId: globalSectionId++,
    versionId: vmsd.versionId,
    priority,
    opaque,
    vmsd,
    ops: null,
    compat,
    dev,
  };
  insert(se);
  return se;
}

/** register_savevm_live(): a section with its own save/load code (RAM). */
export function registerSavevmLive(
  idstr: string,
  instanceId: number,
  versionId: number,
  ops: SaveVMHandlers,
  opaque: unknown = null,
  priority = MIG_PRI_DEFAULT,
): SaveStateEntry {
  const se: SaveStateEntry = {
    idstr,
    instanceId: instanceId === VMSTATE_INSTANCE_ID_ANY ? calculateNewInstanceId(idstr) : instanceId,
    sectionId: globalSectionId++,
    versionId,
    priority,
    opaque,
    vmsd: null,
    ops,
    compat: null,
    dev: null,
  };
  insert(se);
  return se;
}

/** vmstate_unregister(): drop every section of `vmsd` registered for `opaque`. */
export function vmstateUnregister(vmsd: VMStateDescription | null, opaque: unknown): void {
  for (let i = handlers.length - 1; i >= 0; i--) {
    const se = handlers[i]!;
    if (se.opaque === opaque && (vmsd === null || se.vmsd === vmsd)) handlers.splice(i, 1);
  }
}

export function unregisterSavevm(se: SaveStateEntry): void {
  const i = handlers.indexOf(se);
  if (i >= 0) handlers.splice(i, 1);
}

/** find_se(): the section a stream names, by id and instance, or by its compat name. */
export function findSe(idstr: string, instanceId: number): SaveStateEntry | null {
  for (const se of handlers) {
    if (se.idstr === idstr && se.instanceId === instanceId) return se;
    if (se.compat && se.compat.idstr === idstr && se.compat.instanceId === instanceId) return se;
  }
  return null;
}

/** Whether a section takes part in save/load now. */
export function seIsActive(se: SaveStateEntry): boolean {
  return se.ops?.isActive ? se.ops.isActive() : true;
}

/** Reset the list and the section counter (tests; a fresh process starts empty too). */
export function savevmRegistryReset(keep: (se: SaveStateEntry) => boolean = () => false): void {
  for (let i = handlers.length - 1; i >= 0; i--) if (!keep(handlers[i]!)) handlers.splice(i, 1);
  if (handlers.length === 0) globalSectionId = 0;
}

export function savevmSetNextSectionId(id: number): void {
  globalSectionId = id;
}

// -------------------------------------------------------------------------------------------------
// Devices: register on realize, unregister on unrealize.

/** The description of a device class (DeviceClass.vmsd is typed `unknown` in qdev-core). */
export function deviceVmsd(dev: DeviceState): VMStateDescription | null {
  const v = DEVICE_GET_CLASS(dev).vmsd as VMStateDescription | null | { versionId?: unknown };
  if (!v || typeof v !== 'object' || !Array.isArray((v as VMStateDescription).fields)) return null;
  return v as VMStateDescription;
}

let hooked = false;

/** Install the realize/unrealize observer (idempotent; done on import). */
export function vmstateHookDevices(): void {
  if (hooked) return;
  const dc = objectClassByName(TYPE_DEVICE);
  const prop = dc && objectClassPropertyFind(dc, 'realized');
  if (!prop?.set) throw new Error('vmstate: device class has no "realized" property');
  const set = prop.set;
  prop.set = (obj: QomObject, v, name, opaque) => {
    const dev = obj as DeviceState;
    const was = dev.realized;
    set(obj, v, name, opaque);
    if (!was && dev.realized) {
      const vmsd = deviceVmsd(dev);
      if (vmsd) vmstateRegister(dev, VMSTATE_INSTANCE_ID_ANY, vmsd, dev);
    } else if (was && !dev.realized) {
      for (let i = handlers.length - 1; i >= 0; i--) if (handlers[i]!.dev === dev) handlers.splice(i, 1);
    }
  };
  hooked = true;
}

vmstateHookDevices();

// A fresh composition tree has none of the old devices (their sections go with them).
onQomRootReset(() => {
  for (let i = handlers.length - 1; i >= 0; i--) if (handlers[i]!.dev) handlers.splice(i, 1);
});

/** For error messages: "<typename>" of a registered device, or its section id. */
export function seLabel(se: SaveStateEntry): string {
  return se.dev ? objectGetTypename(se.dev) : se.idstr;
}

export type { VmdescObject };
