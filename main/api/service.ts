/**
 * The main-process side of the API (the "broker"): VM CRUD against the library, lifecycle through the
 * supervisor, QMP and console routed to the right VM, and every change pushed as an event. Electron's
 * IPC and the web mode's WebSocket both call `handlers` with untrusted parameters, so each handler
 * checks its arguments before touching anything.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type {
  ApiEventMap,
  ApiEventName,
  AppInfo,
  DiskConfig,
  LogEntry,
  QmpSchemaSummary,
  Vm,
  VmConfig,
  VmState,
  VmSummary,
} from './contract.js';
import { buildDeviceCatalog } from '../devices/catalog.js';
import { HotplugManager } from '../devices/hotplug.js';
import { optionStringId } from '../devices/option-string.js';
import { describeDeviceProperties } from '../devices/properties.js';
import { readQomNode } from '../devices/qom-node.js';
import { TypeHierarchy } from '../devices/qom-walk.js';
import { summarizeSchema } from '../qmp/schema-summary.js';
import type { ApiMethod } from './contract.js';
import type { ResolvedGuest } from '../library/guests.js';
import { publicGuest } from '../library/guests.js';
import type { Library } from '../library/library.js';
import {
  devicesAfterDiskRemoval,
  diskRemovalBlocker,
  isOwnedImage,
  materializeDisks,
} from '../library/vm-disks.js';
import { SnapshotManager } from '../snapshots/manager.js';
import { snapshotStoreDir } from '../snapshots/store-files.js';
import { processCpuTimeMs } from '../stats/cpu-time.js';
import { StatsSampler, sumInstructions } from '../stats/sampler.js';
import { Supervisor, type SupervisorOptions } from '../supervisor/supervisor.js';
import {
  checkDiskRequests,
  checkInt,
  checkNewVm,
  checkPatch,
  checkString,
  ValidationError,
} from './validate.js';
import { listDirectory } from './files.js';
import { toWire } from './wire.js';

export type ApiHandlers = { [M in ApiMethod]: (...params: unknown[]) => Promise<unknown> };
export type EventListener = <E extends ApiEventName>(event: E, payload: ApiEventMap[E]) => void;

export interface VmServiceOptions {
  dataDir: string;
  mode: AppInfo['mode'];
  version: string;
  supervisor: Omit<SupervisorOptions, 'runRoot'>;
  /** Guest templates (re-read on each request so newly installed guest files show up). */
  guests: () => ResolvedGuest[];
  /** How long a device_del may wait for the guest before the UI is told it timed out. */
  unplugTimeoutMs?: number;
  /**
   * Make a guest template's files available (e.g. build the default Debian guest), reporting
   * progress lines; called when a VM of a template whose files are missing is started. `canPrepare`
   * says which templates it knows how to build (others just report their missing files).
   */
  prepareGuest?: {
    canPrepare(guestId: string): boolean;
    prepare(guestId: string, log: (message: string) => void): Promise<void>;
  };
  /** Load sampling period for the live graphs (ms); 0 turns sampling off. Default 1000. */
  statsIntervalMs?: number;
}

const STOPPED: ReadonlySet<VmState> = new Set(['stopped', 'crashed']);

/** Configuration fields the running engine only picks up when it starts again (name and notes are the library's). */
const BOOT_FIELDS: readonly (keyof VmConfig)[] = [
  'guest',
  'machine',
  'cpus',
  'memoryMiB',
  'firmware',
  'kernel',
  'initrd',
  'append',
  'devices',
  'chardevs',
];

/** The fields of `current` that differ from what the engine was started with. */
export function pendingRestartFields(started: Vm | null, current: Vm): (keyof VmConfig)[] {
  if (!started) return [];
  return BOOT_FIELDS.filter((f) => JSON.stringify(started[f]) !== JSON.stringify(current[f]));
}

export class VmService {
  readonly supervisor: Supervisor;
  readonly handlers: ApiHandlers;
  readonly hotplug: HotplugManager;
  readonly snapshots: SnapshotManager;
  readonly stats: StatsSampler;
  private readonly listeners = new Set<EventListener>();
  /** Per running VM: facts that do not change while it runs (schema, type hierarchy). */
  private readonly runCache = new Map<string, { schema?: QmpSchemaSummary; types?: TypeHierarchy }>();

  constructor(
    private readonly library: Library,
    private readonly options: VmServiceOptions,
  ) {
    this.supervisor = new Supervisor(
      {
        ...options.supervisor,
        runRoot: path.join(options.dataDir, 'run'),
        snapshotStore: (vmId) => snapshotStoreDir(this.vmFolder(vmId)),
      },
      {
        state: (vmId, state, lastError) => this.emit('vm-state', { vmId, state, lastError }),
        console: (vmId, data) => this.emit('console-output', { vmId, data }),
        qmpEvent: (vmId, ev) => {
          this.emit('qmp-event', { vmId, event: ev.event, data: toWire(ev.data), timestamp: ev.timestamp });
          this.hotplug.onQmpEvent(vmId, ev);
          this.snapshots.onQmpEvent(vmId, ev);
        },
        exited: (vmId, info) => {
          this.hotplug.onExit(vmId);
          this.snapshots.onExit(vmId);
          this.stats.forget(vmId);
          this.runCache.delete(vmId);
          if (info.expected) this.log(vmId, 'state', 'Stopped');
          else this.log(vmId, 'crash', info.error ?? 'The engine stopped unexpectedly');
        },
      },
    );
    this.hotplug = new HotplugManager(
      {
        qmp: (vmId, command) => this.supervisor.qmp(vmId, command),
        state: (vmId) => this.supervisor.status(vmId).state,
        getVm: (vmId) => this.library.getVm(vmId),
        saveDevices: (vmId, change) => {
          this.library.updateVm(vmId, change);
          this.emit('vms-changed', { vmIds: [vmId] });
        },
        amendRunning: (vmId, change) => this.supervisor.amendStartedConfig(vmId, change),
        removal: (ev) => {
          this.emit('device-removal', ev);
          if (ev.status !== 'requested') this.log(ev.vmId, 'device', ev.message);
        },
        added: (vmId, id, p) => {
          this.emit('device-added', { vmId, id, path: p });
          this.log(vmId, 'device', `Added device ${id ? `'${id}'` : p}`);
        },
        makeDiskImage: async (vmId, sizeMiB) => {
          const vm = this.library.getVm(vmId);
          const [disk] = await materializeDisks(
            this.vmFolder(vmId),
            [{ sizeMiB, format: 'qcow2' }],
            null,
            vm.disks,
          );
          return disk!;
        },
        saveDisks: (vmId, disks, message) => {
          this.library.updateVm(vmId, {}, disks, message);
          this.emit('vms-changed', { vmIds: [vmId] });
        },
        vmFolder: (vmId) => this.vmFolder(vmId),
      },
      options.unplugTimeoutMs,
    );
    this.snapshots = new SnapshotManager({
      library: this.library,
      state: (vmId) => this.supervisor.status(vmId).state,
      qmp: (vmId, command) => this.supervisor.qmp(vmId, command),
      execute: (vmId, command, args) => this.supervisor.execute(vmId, command, args),
      startedConfig: (vmId) => this.supervisor.startedConfig(vmId),
      vmFolder: (vmId) => this.vmFolder(vmId),
      progress: (p) => this.emit('snapshot-progress', p),
      changed: (vmId) => this.emit('snapshots-changed', { vmId }),
      vmChanged: (vmId) => this.emit('vms-changed', { vmIds: [vmId] }),
    });
    this.stats = new StatsSampler(
      {
        activeVmIds: () =>
          this.supervisor.activeVmIds().filter((id) => {
            const st = this.supervisor.status(id).state;
            return st === 'running' || st === 'paused';
          }),
        instructions: async (vmId) =>
          sumInstructions(
            await this.supervisor.qmp(vmId, 'query-stats').queryStats({
              target: 'vcpu',
              providers: [{ provider: 'tcg', names: ['instructions'] }],
            }),
          ),
        cpuTimeMs: async (vmId) => {
          const pid = this.supervisor.enginePid(vmId);
          return pid === undefined ? null : processCpuTimeMs(pid);
        },
        emit: (vmId, sample) => this.emit('vm-stats', { vmId, sample }),
      },
      options.statsIntervalMs || 1000,
    );
    if (options.statsIntervalMs !== 0) this.stats.start();
    this.handlers = this.makeHandlers();
  }

  /**
   * Bring every stopped VM's snapshot rows in line with its snapshot store (app start: an earlier
   * run may have ended between the engine's write and the library's).
   */
  reconcileSnapshots(): void {
    for (const vm of this.library.listVms()) {
      void this.snapshots
        .reconcile(vm.id)
        .catch((e: unknown) =>
          this.log(vm.id, 'snapshot', `Could not check the snapshot store: ${(e as Error).message}`),
        );
    }
  }

  /** Build or fetch a template's files if they are missing, with progress events. */
  private async ensureGuestFiles(vm: Vm): Promise<void> {
    if (!vm.guest || !this.options.prepareGuest) return;
    const g = this.options.guests().find((t) => t.id === vm.guest);
    if (!g || g.available || !this.options.prepareGuest.canPrepare(g.id)) return;
    const needsTemplate = (['firmware', 'kernel', 'initrd'] as const).some(
      (k) => vm[k] === null && g[k] !== null,
    );
    if (!needsTemplate) return;
    const report = (status: 'running' | 'done' | 'failed', message: string): void =>
      this.emit('guest-progress', { vmId: vm.id, guest: g.id, status, message });
    report(
      'running',
      `Preparing the guest '${g.title}' (first start: its files are fetched and built once)…`,
    );
    this.log(vm.id, 'guest', `Preparing the guest '${g.title}'`);
    try {
      await this.options.prepareGuest.prepare(g.id, (m) => report('running', m));
    } catch (e) {
      const msg = (e as Error).message;
      report('failed', msg);
      this.log(vm.id, 'guest', `Preparing '${g.title}' failed: ${msg}`);
      throw new ValidationError(
        `VM '${vm.name}' could not start: the guest '${g.title}' could not be prepared: ${msg}`,
      );
    }
    report('done', `The guest '${g.title}' is ready`);
  }

  private cache(vmId: string): { schema?: QmpSchemaSummary; types?: TypeHierarchy } {
    let c = this.runCache.get(vmId);
    if (!c) this.runCache.set(vmId, (c = {}));
    return c;
  }

  private async types(vmId: string): Promise<TypeHierarchy> {
    const c = this.cache(vmId);
    return (c.types ??= await TypeHierarchy.load(this.supervisor.qmp(vmId, 'qom-list-types')));
  }

  subscribe(listener: EventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit<E extends ApiEventName>(event: E, payload: ApiEventMap[E]): void {
    for (const l of [...this.listeners]) {
      try {
        l(event, payload);
      } catch {
        // a broken subscriber must not stop the others
      }
    }
  }

  private log(vmId: string | null, kind: string, message: string): void {
    try {
      const entry: LogEntry = this.library.log(vmId, kind, message);
      this.emit('log', entry);
    } catch {
      // the library may be closing during shutdown
    }
  }

  vmFolder(vmId: string): string {
    return path.join(this.options.dataDir, 'vms', vmId);
  }

  private summary(id: string): VmSummary {
    return this.summarize(this.library.getVm(id));
  }

  private summarize(vm: Vm): VmSummary {
    const folder = this.vmFolder(vm.id);
    return {
      ...vm,
      disks: vm.disks.map((d) => ({ ...d, owned: isOwnedImage(d.file, folder) })),
      ...this.supervisor.status(vm.id),
      pendingRestart: pendingRestartFields(this.supervisor.startedConfig(vm.id), vm),
    };
  }

  private requireStopped(id: string, action: string): void {
    const { state } = this.supervisor.status(id);
    if (!STOPPED.has(state)) {
      const vm = this.library.getVm(id);
      throw new ValidationError(`VM '${vm.name}' is ${state}: stop it to ${action}`);
    }
  }

  /** The VM with its template's boot files filled in where it has none of its own. */
  private bootConfig(vm: Vm): Vm {
    if (!vm.guest) return vm;
    const g = this.options.guests().find((t) => t.id === vm.guest);
    if (!g) throw new ValidationError(`VM '${vm.name}' uses the guest '${vm.guest}', which is not installed`);
    const out = { ...vm };
    let usesTemplateFiles = false;
    for (const k of ['firmware', 'kernel', 'initrd'] as const) {
      if (out[k] === null && g[k] !== null) {
        out[k] = g[k];
        usesTemplateFiles = true;
      }
    }
    if (out.append === null) out.append = g.append;
    if (usesTemplateFiles && !g.available) {
      throw new ValidationError(
        `VM '${vm.name}' cannot start: the files of the guest '${g.title}' are not installed (missing: ${g.missing.join(', ')})`,
      );
    }
    return out;
  }

  private makeHandlers(): ApiHandlers {
    const id = (v: unknown): string => {
      const s = checkString(v, 'id');
      this.library.getVm(s);
      return s;
    };
    return {
      'app.info': async () => ({
        version: this.options.version,
        mode: this.options.mode,
        dataDir: this.options.dataDir,
        platform: process.platform,
      }),
      'files.list': async (dir) => listDirectory(dir),
      'guests.list': async () => this.options.guests().map(publicGuest),
      'vms.list': async () => this.library.listVms().map((vm) => this.summarize(vm)),
      'vms.get': async (vmId) => this.summary(id(vmId)),
      'vms.create': async (raw) => {
        const guestId = (raw as { guest?: unknown } | null)?.guest;
        const guest =
          typeof guestId === 'string' ? this.options.guests().find((g) => g.id === guestId) : undefined;
        if (typeof guestId === 'string' && !guest) throw new ValidationError(`Unknown guest '${guestId}'`);
        // A template VM keeps its boot files null: they are resolved from the template at each start.
        const merged = guest ? { ...(raw as Record<string, unknown>), machine: guest.machine } : raw;
        const req = checkNewVm(merged);
        if (this.library.findVmByName(req.name))
          throw new ValidationError(`A VM named '${req.name}' already exists`);
        const vmId = randomUUID();
        let disks: DiskConfig[];
        try {
          disks = await materializeDisks(
            this.vmFolder(vmId),
            req.disks ?? [],
            guest?.disk && fs.existsSync(guest.disk) ? guest.disk : null,
          );
          this.library.createVm(
            {
              name: req.name,
              guest: guest ? guest.id : null,
              machine: req.machine ?? 'virt',
              cpus: req.cpus,
              memoryMiB: req.memoryMiB,
              firmware: req.firmware ?? null,
              kernel: req.kernel ?? null,
              initrd: req.initrd ?? null,
              append: req.append ?? null,
              devices: req.devices ?? [],
              chardevs: req.chardevs ?? [],
              notes: req.notes ?? '',
            },
            disks,
            vmId,
          );
        } catch (e) {
          fs.rmSync(this.vmFolder(vmId), { recursive: true, force: true });
          throw e;
        }
        this.emit('vms-changed', { vmIds: [vmId] });
        return this.summary(vmId);
      },
      'vms.update': async (vmId, patch) => {
        // Allowed while running: boot-time fields then show as changes pending restart.
        const i = id(vmId);
        const { state } = this.supervisor.status(i);
        if (state === 'starting' || state === 'stopping') {
          throw new ValidationError(
            `VM '${this.library.getVm(i).name}' is ${state}: wait for it to change its configuration`,
          );
        }
        const p = checkPatch(patch, this.library.getVm(i));
        this.library.updateVm(i, p);
        this.emit('vms-changed', { vmIds: [i] });
        return this.summary(i);
      },
      'vms.delete': async (vmId) => {
        const i = id(vmId);
        this.requireStopped(i, 'delete it');
        this.library.deleteVm(i);
        fs.rmSync(this.vmFolder(i), { recursive: true, force: true });
        this.emit('vms-changed', { vmIds: [i] });
      },
      'vms.start': async (vmId) => {
        const i = id(vmId);
        const saved = this.library.getVm(i);
        await this.ensureGuestFiles(saved);
        const vm = this.bootConfig(this.library.getVm(i));
        this.log(i, 'state', 'Starting');
        try {
          // Pending-restart changes are counted against the saved configuration, not the resolved one.
          await this.supervisor.start(vm, this.library.getVm(i));
        } catch (e) {
          throw new ValidationError(`VM '${vm.name}' could not start: ${(e as Error).message}`);
        }
        this.log(i, 'state', 'Running');
        void this.snapshots.reconcile(i).catch(() => undefined);
      },
      'vms.stop': async (vmId, force) => {
        await this.supervisor.stop(id(vmId), force === true);
      },
      'vms.pause': async (vmId) => this.supervisor.pause(id(vmId)),
      'vms.resume': async (vmId) => this.supervisor.resume(id(vmId)),
      'vms.reset': async (vmId) => this.supervisor.reset(id(vmId)),
      'console.write': async (vmId, data) => {
        this.supervisor.writeConsole(id(vmId), checkString(data, 'data'));
      },
      'console.history': async (vmId) => this.supervisor.consoleHistory(id(vmId)),
      'qmp.execute': async (vmId, command, args) => {
        const i = id(vmId);
        const cmd = checkString(command, 'command');
        // JSON has no undefined: an absent argument object arrives as null.
        if (args === null) args = undefined;
        if (args !== undefined && (typeof args !== 'object' || Array.isArray(args))) {
          throw new ValidationError("Parameter 'arguments' expects an object");
        }
        return toWire(await this.supervisor.execute(i, cmd, args as Record<string, unknown> | undefined));
      },
      'qmp.schema': async (vmId) => {
        const i = id(vmId);
        const c = this.cache(i);
        c.schema ??= summarizeSchema(await this.supervisor.qmp(i, 'query-qmp-schema').queryQmpSchema({}));
        return c.schema;
      },
      'devices.catalog': async (vmId) => {
        const i = id(vmId);
        return toWire(await buildDeviceCatalog(this.supervisor.qmp(i, 'device_add')));
      },
      'devices.properties': async (vmId, type) => {
        const i = id(vmId);
        return describeDeviceProperties(
          this.supervisor.qmp(i, 'device-list-properties'),
          checkString(type, 'typename'),
        );
      },
      'devices.add': async (vmId, request) => this.hotplug.add(id(vmId), request),
      'devices.remove': async (vmId, idOrPath) => this.hotplug.remove(id(vmId), idOrPath),
      'qom.node': async (vmId, p) => {
        const i = id(vmId);
        const qomPath = checkString(p, 'path');
        const kept = new Set(
          this.library
            .getVm(i)
            .devices.map(optionStringId)
            .filter((x): x is string => x !== null),
        );
        return readQomNode(this.supervisor.qmp(i, 'qom-list'), qomPath, {
          types: await this.types(i),
          keptIds: kept,
          pendingRemoval: this.hotplug.pendingPaths(i),
        });
      },
      'qom.set': async (vmId, p, property, value) => {
        const i = id(vmId);
        await this.supervisor.qmp(i, 'qom-set').qomSet({
          path: checkString(p, 'path'),
          property: checkString(property, 'property'),
          value: value as never,
        });
        this.log(i, 'device', `Set ${String(p)}.${String(property)} = ${JSON.stringify(value)}`);
      },
      'snapshots.list': async (vmId) => this.library.listSnapshots(id(vmId)),
      'snapshots.overview': async (vmId) => this.snapshots.overview(id(vmId)),
      'snapshots.take': async (vmId, request) => {
        const i = id(vmId);
        if (!request || typeof request !== 'object' || Array.isArray(request))
          throw new ValidationError("Parameter 'request' expects an object");
        const r = request as { name?: unknown; kind?: unknown };
        const kind = r.kind === undefined || r.kind === null ? 'vmstate' : r.kind;
        if (kind !== 'vmstate' && kind !== 'disk-only')
          throw new ValidationError(`Unknown snapshot kind '${String(kind)}'`);
        return this.snapshots.take(i, r.name, kind);
      },
      'snapshots.planRevert': async (vmId, snapshotId) => this.snapshots.planRevert(id(vmId), snapshotId),
      'snapshots.revert': async (vmId, snapshotId, request) => {
        const i = id(vmId);
        const auto = (request as { autoSnapshot?: unknown } | null | undefined)?.autoSnapshot;
        if (auto !== undefined && auto !== null && typeof auto !== 'boolean')
          throw new ValidationError("Parameter 'autoSnapshot' expects a boolean");
        return this.snapshots.revert(i, snapshotId, auto !== false);
      },
      'snapshots.delete': async (vmId, snapshotId) => this.snapshots.delete(id(vmId), snapshotId),
      'snapshots.rename': async (vmId, snapshotId, name) => this.snapshots.rename(id(vmId), snapshotId, name),
      'disks.add': async (vmId, request) => {
        const i = id(vmId);
        const vm = this.library.getVm(i);
        this.requireStopped(i, 'change its disks');
        const [req] = checkDiskRequests([request]);
        const [disk] = await materializeDisks(this.vmFolder(i), [req!], null, vm.disks);
        try {
          this.library.updateVm(
            i,
            {},
            [...vm.disks, disk!],
            `Disk ${vm.disks.length} added: ${disk!.file} (${disk!.format})`,
          );
        } catch (e) {
          if (!req!.file) fs.rmSync(disk!.file, { force: true });
          throw e;
        }
        this.emit('vms-changed', { vmIds: [i] });
        return this.summary(i);
      },
      'disks.remove': async (vmId, index, options) => {
        const i = id(vmId);
        const vm = this.library.getVm(i);
        this.requireStopped(i, 'change its disks');
        const n = checkInt(index, 'index', 0, Math.max(0, vm.disks.length - 1));
        const deleteFile = (options as { deleteFile?: unknown } | null | undefined)?.deleteFile === true;
        const disk = vm.disks[n];
        if (!disk) throw new ValidationError(`VM '${vm.name}' has no disk ${n}`);
        if (deleteFile && !isOwnedImage(disk.file, this.vmFolder(i)))
          throw new ValidationError(
            `'${disk.file}' was not made by VM Studio for '${vm.name}': it is never deleted, only detached`,
          );
        const refs = devicesAfterDiskRemoval(vm.devices, n);
        if (refs.users.length)
          throw new ValidationError(
            `Disk ${n} is the drive of ${refs.users.map((d) => `'${d}'`).join(', ')} in the configuration of '${vm.name}': remove ${refs.users.length === 1 ? 'that device' : 'those devices'} first`,
          );
        const names = new Map(this.library.listSnapshots(i).map((s) => [s.tag, s.name]));
        const blocker = await diskRemovalBlocker(vm.name, vm.disks, n, (tag) => names.get(tag) ?? tag);
        if (blocker) throw new ValidationError(blocker);
        this.library.updateVm(
          i,
          refs.devices.some((d, k) => d !== vm.devices[k]) ? { devices: refs.devices } : {},
          vm.disks.filter((_, k) => k !== n),
          `Disk ${n} removed: ${disk.file}${deleteFile ? ' (file deleted)' : ' (file kept)'}`,
        );
        // The library no longer refers to the file: only now may it go.
        if (deleteFile) fs.rmSync(disk.file, { force: true });
        this.emit('vms-changed', { vmIds: [i] });
        return this.summary(i);
      },
      'stats.history': async (vmId) => this.stats.samples(id(vmId)),
      'log.list': async (vmId, limit) => {
        const v = vmId === null || vmId === undefined ? null : id(vmId);
        return this.library.listLog(v, limit === undefined ? 200 : checkInt(limit, 'limit', 1, 10000));
      },
    };
  }

  /** Run one request by method name (IPC and WebSocket entry point). */
  async dispatch(method: ApiMethod, params: unknown[]): Promise<unknown> {
    const fn = this.handlers[method];
    if (!fn)
      throw Object.assign(new Error(`The command ${method} has not been found`), {
        errorClass: 'CommandNotFound',
      });
    return fn(...params);
  }

  /** Stop every VM (on quit). */
  async shutdown(): Promise<void> {
    this.stats.stop();
    await this.supervisor.shutdown();
  }
}
