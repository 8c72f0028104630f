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
}

/** Request to attach a disk: an existing file, or a new sparse raw image of `sizeMiB` in the VM folder. */
export interface DiskRequest {
  file?: string;
  sizeMiB?: number;
  format?: string;
  interface?: string;
  readonly?: boolean;
}

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
  name: string;
  parentId: string | null;
  createdAt: number;
  sizeBytes: number;
  kind: SnapshotKind;
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

/** Events pushed from main to every UI. */
export interface ApiEventMap {
  /** The VM list changed (created, updated, deleted). */
  'vms-changed': { vmIds: string[] };
  'vm-state': { vmId: string; state: VmState; lastError: string | null };
  /** Serial console output (UTF-8 text as the engine produced it). */
  'console-output': { vmId: string; data: string };
  'qmp-event': QmpEventMessage;
  log: LogEntry;
}
export type ApiEventName = keyof ApiEventMap;

/** Error as it crosses the boundary: QEMU's error class plus the message. */
export interface ApiErrorPayload {
  errorClass: string;
  message: string;
}

export interface VmStudioApi {
  app: {
    info(): Promise<AppInfo>;
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
  console: {
    /** Send keyboard input to the guest's serial console. */
    write(vmId: string, data: string): Promise<void>;
    /** The buffered console output so far (for a view opened after the VM started). */
    history(vmId: string): Promise<string>;
  };
  qmp: {
    /** Raw QMP for the power-user console. Resolves with `return`, rejects with the QMP error. */
    execute(vmId: string, command: string, args?: Record<string, unknown>): Promise<unknown>;
  };
  snapshots: {
    list(vmId: string): Promise<Snapshot[]>;
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
