/**
 * Hot-plug and guest-cooperative unplug for running VMs.
 *
 * Add: `device_add` with the form's values; the device lives until the VM stops, unless the user
 * ticked "keep after restart": then its `-device` option is also saved in the VM's configuration
 * (and counted as already applied, so it does not show as a change pending restart).
 *
 * Remove: `device_del` only *asks*: the device goes when the guest acknowledges and the engine sends
 * DEVICE_DELETED. Progress is reported as `device-removal` events: requested, then deleted, or
 * timeout if the guest stays silent (a later DEVICE_DELETED still completes it). A removed device
 * that was kept is dropped from the configuration as well: Remove means "this device goes".
 */
import fs from 'node:fs';
import path from 'node:path';
import type {
  DeviceAddRequest,
  DeviceAddResult,
  DeviceRemovalEvent,
  DiskConfig,
  Vm,
  VmState,
} from '../api/contract.js';
import { checkInt, LIMITS, ValidationError } from '../api/validate.js';
import { diskNodeName, escapeOptionValue } from '../supervisor/cmdline.js';
import type { QmpClientApi } from '../generated/qmp-client.js';
import type { QmpEvent } from '../qmp/client.js';
import { deviceOptionString, optionStringId } from './option-string.js';

export interface HotplugHost {
  qmp(vmId: string, command: string): QmpClientApi;
  /** The VM's power state: devices come and go only while its engine runs (running or paused). */
  state(vmId: string): VmState;
  getVm(vmId: string): Vm;
  /** Save the VM's device list (and host channels) in the library, and tell the UI. */
  saveDevices(vmId: string, change: DeviceConfigChange): void;
  /** The running engine already has these devices (and channels): not pending a restart. */
  amendRunning(vmId: string, change: DeviceConfigChange): void;
  removal(event: DeviceRemovalEvent): void;
  added(vmId: string, id: string | null, path: string): void;
  /** Make a new, empty qcow2 image in the VM's folder (not yet in its configuration). */
  makeDiskImage(vmId: string, sizeMiB: number): Promise<DiskConfig>;
  /** Save the VM's disk list in the library (and tell the UI). */
  saveDisks(vmId: string, disks: DiskConfig[], message: string): void;
  /** The VM's own folder (its images, snapshot store and host channel sockets). */
  vmFolder(vmId: string): string;
}

/** What a hot-plug changes in the configuration: the devices, and the host channels with a new one. */
export interface DeviceConfigChange {
  devices: string[];
  chardevs?: string[];
}

/** A qcow2 image made for a hot-plugged device: its disk entry, index and live node name. */
interface NewImage {
  config: DiskConfig;
  index: number;
  node: string;
}

/** Linux's sun_path holds 108 bytes with the terminating NUL (macOS: 104). */
const UNIX_PATH_MAX = process.platform === 'linux' ? 107 : 103;

interface Pending {
  vmId: string;
  id: string | null;
  path: string;
  timer: ReturnType<typeof setTimeout> | null;
}

/** QEMU's id_wellformed(): a letter, then letters, digits, '-', '.', '_'. */
export const ID_PATTERN = /^[A-Za-z][A-Za-z0-9_.-]*$/;

function checkRequest(raw: unknown): DeviceAddRequest {
  if (typeof raw !== 'object' || raw === null) throw new ValidationError('Expected a device description');
  const r = raw as Record<string, unknown>;
  if (typeof r.driver !== 'string' || !/^[A-Za-z0-9_.,+-]+$/.test(r.driver))
    throw new ValidationError("Parameter 'driver' expects a device type name");
  if (
    r.id !== undefined &&
    r.id !== null &&
    r.id !== '' &&
    (typeof r.id !== 'string' || !ID_PATTERN.test(r.id))
  )
    throw new ValidationError("Parameter 'id' expects an identifier");
  if (r.bus !== undefined && r.bus !== null && typeof r.bus !== 'string')
    throw new ValidationError("Parameter 'bus' expects a string");
  const props = r.properties ?? {};
  if (typeof props !== 'object' || props === null || Array.isArray(props))
    throw new ValidationError("Parameter 'properties' expects an object");
  const properties: Record<string, string | number | boolean> = {};
  for (const [k, v] of Object.entries(props)) {
    if (['driver', 'id', 'bus'].includes(k))
      throw new ValidationError(`Property '${k}' is set by the dialog itself`);
    if (!/^[A-Za-z0-9_.-]+$/.test(k)) throw new ValidationError(`'${k}' is not a property name`);
    if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean')
      throw new ValidationError(`Property '${k}' expects a string, number or boolean`);
    properties[k] = v;
  }
  const id = typeof r.id === 'string' && r.id !== '' ? r.id : undefined;
  if (r.keep === true && !id) throw new ValidationError('A device kept after restart needs an ID');
  let newDisk: DeviceAddRequest['newDisk'];
  if (r.newDisk !== undefined && r.newDisk !== null) {
    const n = r.newDisk as Record<string, unknown>;
    if (typeof n !== 'object' || typeof n.property !== 'string' || !/^[A-Za-z0-9_.-]+$/.test(n.property))
      throw new ValidationError("Parameter 'newDisk' expects a property name and a size");
    if (n.property in properties)
      throw new ValidationError(`Property '${n.property}' is given twice (a value and a new disk)`);
    newDisk = { property: n.property, sizeMiB: checkInt(n.sizeMiB, 'sizeMiB', 1, LIMITS.diskMaxMiB) };
  }
  let newChardev: DeviceAddRequest['newChardev'];
  if (r.newChardev !== undefined && r.newChardev !== null) {
    const n = r.newChardev as Record<string, unknown>;
    if (typeof n !== 'object' || typeof n.property !== 'string' || !/^[A-Za-z0-9_.-]+$/.test(n.property))
      throw new ValidationError("Parameter 'newChardev' expects a property name");
    if (n.property in properties || n.property === newDisk?.property)
      throw new ValidationError(`Property '${n.property}' is given twice (a value and a new host channel)`);
    newChardev = { property: n.property };
  }
  return {
    driver: r.driver,
    ...(id ? { id } : {}),
    ...(typeof r.bus === 'string' && r.bus !== '' ? { bus: r.bus } : {}),
    properties,
    keep: r.keep === true,
    ...(newDisk ? { newDisk } : {}),
    ...(newChardev ? { newChardev } : {}),
  };
}

export class HotplugManager {
  private readonly pending = new Map<string, Pending>();

  constructor(
    private readonly host: HotplugHost,
    private readonly timeoutMs = 15_000,
  ) {}

  private key(vmId: string, path: string): string {
    return `${vmId}\n${path}`;
  }

  /** QOM paths of this VM's devices whose removal waits for the guest. */
  pendingPaths(vmId: string): Set<string> {
    return new Set([...this.pending.values()].filter((p) => p.vmId === vmId).map((p) => p.path));
  }

  /**
   * Why `action` cannot happen now, naming the device and the VM's state, or null when the VM's
   * engine is up (running or paused: QEMU hot-plugs into a paused machine too).
   */
  private notLive(vmId: string, action: string): string | null {
    const state = this.host.state(vmId);
    if (state === 'running' || state === 'paused') return null;
    const name = this.host.getVm(vmId).name;
    const hint =
      state === 'starting'
        ? 'wait until it runs'
        : state === 'stopping'
          ? 'it is shutting down'
          : action.startsWith('add')
            ? 'start it to hot-plug devices, or add the device to its configuration for the next boot'
            : 'start it to unplug devices, or remove the device from its configuration for the next boot';
    return `Cannot ${action}: VM '${name}' is ${state === 'crashed' ? 'crashed (stopped)' : state}; ${hint}`;
  }

  async add(vmId: string, raw: unknown): Promise<DeviceAddResult> {
    const req = checkRequest(raw);
    const why = this.notLive(vmId, `add ${req.id ? `'${req.id}' (${req.driver})` : req.driver}`);
    if (why) throw new ValidationError(why);
    const qmp = this.host.qmp(vmId, 'device_add');
    const anonBefore = req.id ? null : await this.anonymous(qmp);
    const channel = req.newChardev ? await this.attachNewChannel(vmId, qmp) : null;
    let disk: NewImage | null = null;
    try {
      disk = req.newDisk ? await this.attachNewImage(vmId, qmp, req.newDisk.sizeMiB) : null;
      await qmp.deviceAdd({
        driver: req.driver,
        ...(req.id ? { id: req.id } : {}),
        ...(req.bus ? { bus: req.bus } : {}),
        ...req.properties,
        ...(disk ? { [req.newDisk!.property]: disk.node } : {}),
        ...(channel ? { [req.newChardev!.property]: channel.id } : {}),
      });
    } catch (e) {
      if (disk) await this.dropNewImage(qmp, disk);
      if (channel) await this.dropNewChannel(qmp, channel);
      throw e;
    }
    if (channel) req.properties[req.newChardev!.property] = channel.id;
    if (disk) {
      // Saved at once: the image must never be a file the library does not know of. Backend-only
      // (-drive if=none) at the next boot; a kept device names it by its drive id there.
      const vm = this.host.getVm(vmId);
      this.host.saveDisks(
        vmId,
        [...vm.disks, disk.config],
        `Disk ${disk.index} added for ${req.id ? `'${req.id}'` : req.driver}: ${disk.config.file} (qcow2)`,
      );
      req.properties[req.newDisk!.property] = `disk${disk.index}`;
    }
    let path = req.id ? `/machine/peripheral/${req.id}` : '';
    if (anonBefore) {
      const added = [...(await this.anonymous(qmp))].filter((n) => !anonBefore.has(n));
      path = added.length === 1 ? `/machine/peripheral-anon/${added[0]}` : '/machine/peripheral-anon';
    }
    let kept: string | null = null;
    if (req.keep) {
      kept = deviceOptionString(req.driver, req.id ?? null, req.bus ?? null, req.properties);
      const vm = this.host.getVm(vmId);
      const change: DeviceConfigChange = {
        devices: [...vm.devices.filter((d) => optionStringId(d) !== req.id), kept],
        // The channel is kept with its device, at the same socket path.
        ...(channel ? { chardevs: [...vm.chardevs, channel.option] } : {}),
      };
      this.host.saveDevices(vmId, change);
      this.host.amendRunning(vmId, change);
    }
    this.host.added(vmId, req.id ?? null, path);
    return { id: req.id ?? null, path, kept, ...(channel ? { channelSocket: channel.socket } : {}) };
  }

  /**
   * A new host channel: a Unix socket `<id>.sock` in the VM's folder, listening without waiting
   * (host programs connect to it whenever they like), under the first free `channel<N>` id among
   * the engine's chardevs and the VM's configured ones.
   */
  private async attachNewChannel(
    vmId: string,
    qmp: QmpClientApi,
  ): Promise<{ id: string; socket: string; option: string }> {
    const taken = new Set((await qmp.queryChardev()).map((c) => c.label));
    for (const c of this.host.getVm(vmId).chardevs) taken.add(optionStringId(c) ?? '');
    let n = 0;
    while (taken.has(`channel${n}`)) n++;
    const id = `channel${n}`;
    const folder = this.host.vmFolder(vmId);
    const socket = path.join(folder, `${id}.sock`);
    if (Buffer.byteLength(socket) > UNIX_PATH_MAX)
      throw new ValidationError(
        `Cannot make a host channel: its socket path '${socket}' is longer than the ${UNIX_PATH_MAX} bytes a Unix socket path can have; move the VM library to a shorter folder (--data-dir)`,
      );
    fs.mkdirSync(folder, { recursive: true });
    // A socket left by an earlier run of a channel that was not kept.
    if (fs.lstatSync(socket, { throwIfNoEntry: false })?.isSocket()) fs.rmSync(socket);
    await qmp.chardevAdd({
      id,
      backend: {
        type: 'socket',
        data: { addr: { type: 'unix', data: { path: socket } }, server: true, wait: false },
      },
    });
    const option = `socket,id=${id},path=${escapeOptionValue(socket)},server=on,wait=off`;
    return { id, socket, option };
  }

  private async dropNewChannel(qmp: QmpClientApi, channel: { id: string; socket: string }): Promise<void> {
    await qmp.chardevRemove({ id: channel.id }).catch(() => undefined);
    fs.rmSync(channel.socket, { force: true });
  }

  /**
   * A new qcow2 image in the VM's folder, opened live as the node its disk index will have at the
   * next boot (`disk<N>-node`, see cmdline.ts), so a kept device's `drive=disk<N>` finds it then.
   */
  private async attachNewImage(vmId: string, qmp: QmpClientApi, sizeMiB: number): Promise<NewImage> {
    const index = this.host.getVm(vmId).disks.length;
    const node = diskNodeName(index);
    const made = await this.host.makeDiskImage(vmId, sizeMiB);
    const config: DiskConfig = { ...made, interface: 'none' };
    try {
      await qmp.blockdevAdd({
        driver: 'qcow2',
        'node-name': node,
        file: { driver: 'file', filename: config.file },
      });
    } catch (e) {
      fs.rmSync(config.file, { force: true });
      throw e;
    }
    return { config, index, node };
  }

  private async dropNewImage(qmp: QmpClientApi, disk: { config: DiskConfig; node: string }): Promise<void> {
    await qmp.blockdevDel({ 'node-name': disk.node }).catch(() => undefined);
    fs.rmSync(disk.config.file, { force: true });
  }

  private async anonymous(qmp: QmpClientApi): Promise<Set<string>> {
    const list = await qmp.qomList({ path: '/machine/peripheral-anon' }).catch(() => []);
    return new Set(list.filter((p) => p.type.startsWith('child<')).map((p) => p.name));
  }

  async remove(vmId: string, idOrPath: unknown): Promise<void> {
    if (typeof idOrPath !== 'string' || idOrPath === '')
      throw new ValidationError("Parameter 'id' expects a device ID or QOM path");
    const path = idOrPath.startsWith('/') ? idOrPath : `/machine/peripheral/${idOrPath}`;
    const id = path.startsWith('/machine/peripheral/') ? path.slice('/machine/peripheral/'.length) : null;
    const label = id ? `'${id}'` : path;
    const configured = id ? this.host.getVm(vmId).devices.find((d) => optionStringId(d) === id) : undefined;
    const why = this.notLive(vmId, `remove ${label}${configured ? ` (${configured.split(',')[0]})` : ''}`);
    if (why) throw new ValidationError(why);
    const key = this.key(vmId, path);
    if (this.pending.has(key))
      throw new ValidationError(`Removal of ${label} was already requested — waiting for the guest`);
    const qmp = this.host.qmp(vmId, 'device_del');
    const entry: Pending = { vmId, id, path, timer: null };
    // DEVICE_DELETED may arrive before device_del's reply (devices without guest cooperation).
    let deletedEarly = false;
    const early = (): void => {
      deletedEarly = true;
    };
    this.earlyListeners.set(key, early);
    try {
      await qmp.deviceDel({ id: id ?? path });
    } catch (e) {
      this.earlyListeners.delete(key);
      throw e;
    }
    this.earlyListeners.delete(key);
    this.host.removal({
      vmId,
      id,
      path,
      status: 'requested',
      message: `Removal of ${label} requested — waiting for the guest`,
    });
    if (deletedEarly) {
      this.completed(entry);
      return;
    }
    entry.timer = setTimeout(() => {
      entry.timer = null;
      if (!this.pending.has(key)) return;
      this.host.removal({
        vmId,
        id,
        path,
        status: 'timeout',
        message: `The guest has not acknowledged the removal of ${label} after ${Math.round(this.timeoutMs / 1000)} s; it stays until the guest releases it`,
      });
    }, this.timeoutMs);
    this.pending.set(key, entry);
  }

  private readonly earlyListeners = new Map<string, () => void>();

  onQmpEvent(vmId: string, ev: QmpEvent): void {
    if (ev.event !== 'DEVICE_DELETED') return;
    const path = typeof ev.data.path === 'string' ? ev.data.path : null;
    const device = typeof ev.data.device === 'string' ? ev.data.device : null;
    const matchPath = path ?? (device ? `/machine/peripheral/${device}` : null);
    if (!matchPath) return;
    const key = this.key(vmId, matchPath);
    const early = this.earlyListeners.get(key);
    if (early) return early();
    const entry = this.pending.get(key);
    if (entry) this.completed(entry);
  }

  private completed(entry: Pending): void {
    const key = this.key(entry.vmId, entry.path);
    if (entry.timer) clearTimeout(entry.timer);
    this.pending.delete(key);
    const label = entry.id ? `'${entry.id}'` : entry.path;
    if (entry.id) {
      const vm = this.host.getVm(entry.vmId);
      if (vm.devices.some((d) => optionStringId(d) === entry.id)) {
        const devices = vm.devices.filter((d) => optionStringId(d) !== entry.id);
        this.host.saveDevices(entry.vmId, { devices });
        this.host.amendRunning(entry.vmId, { devices });
      }
    }
    this.host.removal({
      vmId: entry.vmId,
      id: entry.id,
      path: entry.path,
      status: 'deleted',
      message: `${label} was removed`,
    });
  }

  /** The VM stopped: nothing is pending any more. */
  onExit(vmId: string): void {
    for (const [key, p] of this.pending) {
      if (p.vmId !== vmId) continue;
      if (p.timer) clearTimeout(p.timer);
      this.pending.delete(key);
    }
  }
}
