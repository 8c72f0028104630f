/**
 * The one API between the UI and the main process.
 *
 * Types only: the preload bridge (Electron), the WebSocket transport (web mode) and the renderer all
 * import this module, and the renderer must never pull main-process code into its bundle. Every value
 * crossing the boundary is plain JSON (structured-clone safe): no classes, no bigint, no functions.
 */

/** Lifecycle of one VM as the UI shows it. `crashed` means the engine exited without being asked to. */
export type VmState = 'stopped' | 'starting' | 'running' | 'paused' | 'stopping' | 'crashed';

/** A disk attached to a VM, in attach order (disk0 first). */
export interface DiskConfig {
  /** Absolute path of the image file. */
  file: string;
  /** Image format as QEMU names it (`raw`, later `qcow2`). */
  format: string;
  /** How the guest sees it (`virtio` = virtio-blk). */
  interface: string;
  readonly: boolean;
  /**
   * In summaries: VM Studio made the image for this VM (in its folder), so removing the disk may
   * delete the file. Images the user picked are only ever detached.
   */
  owned?: boolean;
}

/**
 * Request to attach a disk: an existing file (format probed when not given), or a new image of
 * `sizeMiB` in the VM folder: qcow2 with `format: 'qcow2'`, else a sparse raw file.
 */
export interface DiskRequest {
  file?: string;
  sizeMiB?: number;
  format?: string;
  interface?: string;
  readonly?: boolean;
}

/**
 * Chardev ids the engine's command line already uses, so no host channel may take them: the serial
 * console (`-serial stdio` is chardev serial0, as in QEMU) and the QMP monitors (compat_monitor0...).
 * They always have their frontend, so they are never offered as a device's backend either.
 */
export const RESERVED_CHARDEV_ID = /^(serial|compat_monitor)\d+$/;

/** What the user configures; the engine command line is built from exactly this. */
export interface VmConfig {
  name: string;
  /**
   * The guest template this VM was made from (see `guests.list`). Its boot files fill in whichever
   * of firmware/kernel/initrd/append are null, resolved each time the VM starts.
   */
  guest: string | null;
  /** `-M` value: `virt` (RISC-V virt board) or `none`. */
  machine: string;
  cpus: number;
  memoryMiB: number;
  firmware: string | null;
  kernel: string | null;
  initrd: string | null;
  /** Kernel command line (`-append`). */
  append: string | null;
  /** Extra devices as QEMU `-device` option strings, e.g. `virtio-rng-device,id=rng0`. */
  devices: string[];
  /**
   * Host channels as QEMU `-chardev` option strings, e.g.
   * `socket,id=channel0,path=/…/channel0.sock,server=on,wait=off`: what devices' `chardev=`
   * properties name (a virtserialport's host end). The serial console is not one of them.
   */
  chardevs: string[];
  notes: string;
}

export interface Vm extends VmConfig {
  id: string;
  disks: DiskConfig[];
  /** Milliseconds since the epoch. */
  createdAt: number;
  updatedAt: number;
}

/** A VM as the list shows it: its configuration plus its live state. */
export interface VmSummary extends Vm {
  state: VmState;
  /** Why the last run ended abnormally (engine message and last output), if it did. */
  lastError: string | null;
  /**
   * Configuration fields saved since the running engine started, which it will only pick up at the
   * next start ("changes pending restart"). Empty when stopped or nothing is pending.
   */
  pendingRestart: (keyof VmConfig)[];
}

export interface NewVmRequest {
  name: string;
  /** A guest template id (see `guests.list`), or null for a custom kernel/firmware. */
  guest: string | null;
  machine?: string;
  cpus: number;
  memoryMiB: number;
  firmware?: string | null;
  kernel?: string | null;
  initrd?: string | null;
  append?: string | null;
  devices?: string[];
  chardevs?: string[];
  notes?: string;
  disks?: DiskRequest[];
}

export type VmPatch = Partial<VmConfig>;

export interface GuestTemplate {
  id: string;
  title: string;
  description: string;
  machine: string;
  cpus: number;
  memoryMiB: number;
  /** False when the guest's files are not installed; `missing` says which. */
  available: boolean;
  missing: string[];
}

export type SnapshotKind = 'vmstate' | 'disk-only';

export interface Snapshot {
  id: string;
  vmId: string;
  /** Display name (the library's; renaming never touches the engine). */
  name: string;
  parentId: string | null;
  createdAt: number;
  /** Bytes the snapshot takes in the VM's snapshot store. */
  sizeBytes: number;
  kind: SnapshotKind;
  /** The engine's tag for it: fixed at creation (QEMU internal snapshots cannot be renamed). */
  tag: string;
  /** Taken automatically to keep the state a revert replaced. */
  auto: boolean;
  /** Configuration and devices were recorded with it (false: found in the engine, taken elsewhere). */
  recorded: boolean;
}

/** Whether an action can be done now, and exactly why not. */
export interface Availability {
  available: boolean;
  reason: string | null;
}

export type SnapshotOperation = 'take' | 'revert' | 'delete';

/** Progress of a snapshot operation (from the engine's JOB_STATUS_CHANGE events). */
export interface SnapshotProgress {
  vmId: string;
  operation: SnapshotOperation;
  /** Display name of the snapshot being taken, restored or deleted. */
  name: string;
  /** Step `step` of `steps` (a revert that keeps the current state first has two). */
  step: number;
  steps: number;
  /** The engine job's status, or `done` / `failed` at the end. */
  status: string;
  /** 0..1 through the whole operation. */
  fraction: number;
  message: string;
}

/** Everything the Snapshots tab shows. */
export interface SnapshotOverview {
  snapshots: Snapshot[];
  /** The snapshot the present state descends from (taken last or reverted to), or null. */
  currentId: string | null;
  take: Availability;
  /** Disk-only snapshots need qcow2 disks (the engine's block layer). */
  diskOnly: Availability;
  revert: Availability;
  /** The operation in progress, if any. */
  progress: SnapshotProgress | null;
}

export interface TakeSnapshotRequest {
  name: string;
  kind?: SnapshotKind;
}

/** A device of the live machine, as recorded with a snapshot. */
export interface DeviceRecord {
  /** Its id (null for anonymous devices). */
  id: string | null;
  type: string;
  path: string;
}

export interface ConfigChange {
  field: keyof VmConfig;
  /** Readable values (JSON for lists). */
  now: string;
  snapshot: string;
}

export interface DeviceChange {
  id: string | null;
  type: string;
  /** `added`: plugged in after the snapshot; `removed`: in the snapshot, gone now; `replaced`: same id, other type. */
  change: 'added' | 'removed' | 'replaced';
  message: string;
}

/** What a revert will change, shown before it runs. */
export interface RevertPlan {
  snapshot: Snapshot;
  /** Saved configuration fields the revert restores (from the snapshot's record). */
  config: ConfigChange[];
  devices: DeviceChange[];
  /** Differences the engine will refuse (it then leaves the VM as it is). */
  problems: string[];
  notes: string[];
  /** Name of the automatic snapshot that keeps the current state. */
  autoSnapshotName: string;
  revert: Availability;
}

export interface RevertRequest {
  /** Keep the current state as an automatic snapshot first (default true). */
  autoSnapshot?: boolean;
}

export interface RevertResult {
  snapshot: Snapshot;
  autoSnapshot: Snapshot | null;
}

/** One sample of a running VM's load. */
export interface VmStatsSample {
  /** Milliseconds since the epoch. */
  time: number;
  /** Guest instructions per second over the last interval (all vCPUs); null when unknown. */
  ips: number | null;
  /** Host CPU used by the VM's engine process over the last interval, percent of one core; null when unknown. */
  cpuPercent: number | null;
}

/** Preparing a guest template's files before a start (e.g. building the default Debian guest). */
export interface GuestProgress {
  vmId: string;
  guest: string;
  status: 'running' | 'done' | 'failed';
  message: string;
}

export interface LogEntry {
  id: number;
  vmId: string | null;
  time: number;
  kind: string;
  message: string;
}

export interface AppInfo {
  version: string;
  mode: 'electron' | 'web';
  dataDir: string;
  platform: string;
}

/** A QMP event as the engine sent it, tagged with the VM it came from. */
export interface QmpEventMessage {
  vmId: string;
  event: string;
  data: unknown;
  timestamp: { seconds: number; microseconds: number };
}

/** A bus of the live machine, from the QOM composition tree. */
export interface BusInfo {
  /** QOM path, e.g. `/machine/peripheral/br0/br0.0`. */
  path: string;
  /** QOM name (for child buses the qdev bus name, e.g. `br0.0`). */
  name: string;
  type: string;
  /** It has a hotplug handler (QEMU's qbus_is_hotpluggable). */
  hotpluggable: boolean;
}

/** A device type as the "Add device" dialog lists it. */
export interface DeviceTypeInfo {
  type: string;
  description: string | null;
  /** The bus type it plugs into, when the engine told (null: unknown or bus-less). */
  busType: string | null;
  /** QOM paths of the live, hotpluggable buses it fits on (first: the engine's default pick). */
  buses: string[];
  /** It can be added to the running machine now. */
  available: boolean;
  /** Why not, naming the device and the bus or state (null when available). */
  reason: string | null;
}

export interface DeviceCatalog {
  devices: DeviceTypeInfo[];
  buses: BusInfo[];
  /**
   * Where the per-type facts came from: HMP `info qdm` (QEMU's device model list: bus type,
   * user-creatable) or probing `device_add` with arguments that fail before a device is realized.
   */
  source: 'info-qdm' | 'probe';
}

/** How the form edits a device property (derived from its QOM type). */
/** `backend`: a qdev drive or chardev property (a string naming a block device or chardev). */
export type PropertyKind = 'bool' | 'int' | 'size' | 'str' | 'enum' | 'link' | 'backend' | 'other';

/** One `device-list-properties` entry, resolved for the generated form. */
export interface DevicePropertySpec {
  name: string;
  /** QOM type as the engine reports it (`uint8`, `size`, `OnOffAuto`, `link<rng-backend>`, ...). */
  type: string;
  kind: PropertyKind;
  description: string | null;
  /** `default-value` as JSON (64-bit integers beyond 2^53 as decimal strings); absent if none. */
  defaultValue?: unknown;
  /** Integer range for `int` kinds, as decimal strings (64-bit safe). */
  min?: string;
  max?: string;
  /** Allowed values of an `enum` kind. */
  enumValues?: string[];
  /** For `link` kinds: the target type and the existing objects that implement it (QOM paths). */
  linkType?: string;
  linkCandidates?: string[];
  /** For `backend` kinds: what the property names, and the existing ones no device uses yet. */
  backend?: 'block' | 'chardev';
  backendCandidates?: Array<{ value: string; label: string }>;
}

export interface DeviceAddRequest {
  driver: string;
  id?: string;
  /** A bus QOM path or qdev bus name; absent: the engine picks one. */
  bus?: string;
  /** Property values as the user entered them (strings, numbers or booleans). */
  properties: Record<string, string | number | boolean>;
  /** Also save it in the VM's configuration (as a `-device` option) so it is there after restart. */
  keep: boolean;
  /**
   * Give the block `backend` property `property` a new qcow2 image of `sizeMiB` made in the VM's
   * folder (added live with blockdev-add). The image joins the VM's disks, so it is never lost: a
   * backend-only disk when the device is not kept.
   */
  newDisk?: { property: string; sizeMiB: number };
  /**
   * Give the chardev `backend` property `property` a new host channel: a Unix socket in the VM's
   * folder that host programs connect to (chardev-add, server, no wait). Kept devices keep it in
   * the VM's `chardevs`, at the same path.
   */
  newChardev?: { property: string };
}

export interface DeviceAddResult {
  id: string | null;
  /** QOM path of the new device. */
  path: string;
  /** The `-device` option saved in the configuration, when kept. */
  kept: string | null;
  /** The socket of the new host channel, when one was made (`newChardev`). */
  channelSocket?: string;
}

/** When a change to a property takes effect. */
export type PropertyAccess = 'live' | 'fixed' | 'read-only';

export interface QomPropertyValue {
  name: string;
  type: string;
  description: string | null;
  /** The value from `qom-get` (JSON), absent when it could not be read (`error` says why). */
  value?: unknown;
  error?: string;
  access: PropertyAccess;
  /** Why it is fixed or read-only (e.g. "set when the device was created; fixed after realize"). */
  accessReason: string | null;
}

/** Hotplug facts of a device node in the tree. */
export interface DeviceNodeInfo {
  /** Its `id` (a child of /machine/peripheral), null for anonymous devices. */
  id: string | null;
  type: string;
  /** QOM path of its parent bus. */
  bus: string | null;
  busHotpluggable: boolean;
  /** `device_del` can remove it (class hotpluggable and on a hotpluggable bus). */
  removable: boolean;
  /** Why not (null when removable). */
  reason: string | null;
  /** Saved in the configuration (`-device ...,id=<id>`), so it comes back after restart. */
  kept: boolean;
  /** device_del was sent and the guest has not acknowledged yet. */
  removalPending: boolean;
}

export interface QomChild {
  name: string;
  path: string;
  type: string;
}

/** One node of the live QOM tree, read on demand (lazy expansion). */
export interface QomNodeInfo {
  path: string;
  type: string;
  children: QomChild[];
  properties: QomPropertyValue[];
  /** Set for devices. */
  device: DeviceNodeInfo | null;
}

/** A command argument (or event member) from `query-qmp-schema`, with its type resolved. */
export interface QmpArgSchema {
  name: string;
  /** Readable type: `str`, `int`, `bool`, `any`, `X[]`, `enum`, `object`, ... */
  type: string;
  optional: boolean;
  enumValues?: string[];
}

export interface QmpCommandSchema {
  name: string;
  args: QmpArgSchema[];
  /** The command also takes arbitrary extra arguments (e.g. device_add properties). */
  additionalArgs: boolean;
  returns: string;
}

export interface QmpSchemaSummary {
  commands: QmpCommandSchema[];
  events: string[];
}

/** Progress of a guest-cooperative unplug. */
export interface DeviceRemovalEvent {
  vmId: string;
  id: string | null;
  path: string;
  /** requested: device_del accepted; deleted: DEVICE_DELETED arrived; timeout: the guest has not answered yet. */
  status: 'requested' | 'deleted' | 'timeout';
  message: string;
}

/** Events pushed from main to every UI. */
export interface ApiEventMap {
  /** The VM list changed (created, updated, deleted). */
  'vms-changed': { vmIds: string[] };
  'vm-state': { vmId: string; state: VmState; lastError: string | null };
  /** Serial console output (UTF-8 text as the engine produced it). */
  'console-output': { vmId: string; data: string };
  'qmp-event': QmpEventMessage;
  /** A device_add succeeded (the tree changed). */
  'device-added': { vmId: string; id: string | null; path: string };
  'device-removal': DeviceRemovalEvent;
  /** The VM's snapshots or its "now" position changed. */
  'snapshots-changed': { vmId: string };
  'snapshot-progress': SnapshotProgress;
  'vm-stats': { vmId: string; sample: VmStatsSample };
  'guest-progress': GuestProgress;
  log: LogEntry;
}
export type ApiEventName = keyof ApiEventMap;

/** Error as it crosses the boundary: QEMU's error class plus the message. */
export interface ApiErrorPayload {
  errorClass: string;
  message: string;
}

/** One folder of the host, for the file pickers (folders first, hidden entries left out). */
export interface DirListing {
  dir: string;
  /** The folder above, or null at the root. */
  parent: string | null;
  entries: Array<{ name: string; path: string; kind: 'dir' | 'file'; sizeBytes: number | null }>;
  /** More entries than the listing holds. */
  truncated: boolean;
}

export interface VmStudioApi {
  app: {
    info(): Promise<AppInfo>;
  };
  files: {
    /** A folder's entries (default: the user's home folder). */
    list(dir?: string | null): Promise<DirListing>;
  };
  guests: {
    list(): Promise<GuestTemplate[]>;
  };
  vms: {
    list(): Promise<VmSummary[]>;
    get(id: string): Promise<VmSummary>;
    create(request: NewVmRequest): Promise<VmSummary>;
    update(id: string, patch: VmPatch): Promise<VmSummary>;
    delete(id: string): Promise<void>;
    start(id: string): Promise<void>;
    /** Graceful (`system_powerdown`, then quit after a grace period) unless `force`. */
    stop(id: string, force?: boolean): Promise<void>;
    pause(id: string): Promise<void>;
    resume(id: string): Promise<void>;
    reset(id: string): Promise<void>;
  };
  disks: {
    /** Attach an existing image or a new one (stopped VMs only). */
    add(vmId: string, request: DiskRequest): Promise<VmSummary>;
    /**
     * Detach disk `index` (stopped VMs only); `deleteFile` also deletes an image VM Studio made for
     * the VM. Refused while the image holds snapshots.
     */
    remove(vmId: string, index: number, options?: { deleteFile?: boolean }): Promise<VmSummary>;
  };
  console: {
    /** Send keyboard input to the guest's serial console. */
    write(vmId: string, data: string): Promise<void>;
    /** The buffered console output so far (for a view opened after the VM started). */
    history(vmId: string): Promise<string>;
  };
  qmp: {
    /** Raw QMP for the power-user console. Resolves with `return`, rejects with the QMP error. */
    execute(vmId: string, command: string, args?: Record<string, unknown>): Promise<unknown>;
    /** Commands, their arguments and events from `query-qmp-schema`, type names resolved. */
    schema(vmId: string): Promise<QmpSchemaSummary>;
  };
  devices: {
    /** Device types for the "Add device" dialog, with availability on this running machine. */
    catalog(vmId: string): Promise<DeviceCatalog>;
    /** The form of a device type (`device-list-properties`, enums and link targets resolved). */
    properties(vmId: string, type: string): Promise<DevicePropertySpec[]>;
    add(vmId: string, request: DeviceAddRequest): Promise<DeviceAddResult>;
    /**
     * Ask for a device's removal (`device_del`, by id or QOM path). Resolves once requested; the
     * outcome arrives as `device-removal` events (deleted on DEVICE_DELETED, or timeout).
     */
    remove(vmId: string, idOrPath: string): Promise<void>;
  };
  qom: {
    /** One node of the live QOM tree with its property values and children. */
    node(vmId: string, path: string): Promise<QomNodeInfo>;
    /** `qom-set` (for properties that apply live). */
    set(vmId: string, path: string, property: string, value: unknown): Promise<void>;
  };
  snapshots: {
    list(vmId: string): Promise<Snapshot[]>;
    /** The tree with the "now" position, what can be done now, and any operation in progress. */
    overview(vmId: string): Promise<SnapshotOverview>;
    /** Take a snapshot of the running or paused VM; resolves once the engine has stored it. */
    take(vmId: string, request: TakeSnapshotRequest): Promise<Snapshot>;
    /** What reverting to the snapshot will change (configuration and devices, then vs now). */
    planRevert(vmId: string, snapshotId: string): Promise<RevertPlan>;
    /** Restore the snapshot (`loadvm`), keeping the current state as an automatic snapshot first. */
    revert(vmId: string, snapshotId: string, request?: RevertRequest): Promise<RevertResult>;
    /** Delete one snapshot (its children move up to its parent; their data is untouched). */
    delete(vmId: string, snapshotId: string): Promise<void>;
    /** Change the display name (the engine's tag stays). */
    rename(vmId: string, snapshotId: string, name: string): Promise<Snapshot>;
  };
  stats: {
    /** Recent load samples of the VM (oldest first), also pushed as `vm-stats` events. */
    history(vmId: string): Promise<VmStatsSample[]>;
  };
  log: {
    list(vmId: string | null, limit?: number): Promise<LogEntry[]>;
  };
  /** Subscribe to pushed events; returns the unsubscribe function. */
  on<E extends ApiEventName>(event: E, listener: (payload: ApiEventMap[E]) => void): () => void;
}

type MethodsOf<G extends string, T> = {
  [K in keyof T & string]: T[K] extends (...args: any[]) => Promise<any> ? `${G}.${K}` : never;
}[keyof T & string];

/** Every request method, `group.name` (the IPC channel is `vmstudio:<method>`). */
export type ApiMethod = {
  [G in Exclude<keyof VmStudioApi, 'on'>]: MethodsOf<G, VmStudioApi[G]>;
}[Exclude<keyof VmStudioApi, 'on'>];

type GroupOf<M extends ApiMethod> = M extends `${infer G}.${string}` ? G : never;
type NameOf<M extends ApiMethod> = M extends `${string}.${infer N}` ? N : never;

/** The function behind a method name, e.g. `ApiFunction<'vms.get'>` is `(id: string) => Promise<VmSummary>`. */
export type ApiFunction<M extends ApiMethod> =
  GroupOf<M> extends infer G extends Exclude<keyof VmStudioApi, 'on'>
    ? NameOf<M> extends infer N extends keyof VmStudioApi[G]
      ? VmStudioApi[G][N]
      : never
    : never;

/** Wire messages of the web-mode WebSocket (JSON). */
export interface RpcRequest {
  id: number;
  method: ApiMethod;
  params: unknown[];
}
export type RpcResponse = { id: number; result: unknown } | { id: number; error: ApiErrorPayload };
export interface RpcEvent<E extends ApiEventName = ApiEventName> {
  event: E;
  data: ApiEventMap[E];
}

/** IPC channel names in Electron mode. */
export type IpcChannel = `vmstudio:${ApiMethod}` | 'vmstudio:event';
