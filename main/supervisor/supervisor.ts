/**
 * The engine supervisor: one engine process per running VM, started from the VM's library record,
 * watched for its whole life, and never left behind: `shutdown()` stops every engine on quit,
 * `killAllSync()` covers abrupt exits, and `cleanupOrphans()` ends engines a previous VM Studio
 * left running (found through the run folder's records).
 */
import { setTimeout as delay } from 'node:timers/promises';
import type { Vm, VmState } from '../api/contract.js';
import { QmpClientApi } from '../generated/qmp-client.js';
import { QmpClient, QmpError, type QmpEvent } from '../qmp/client.js';
import { buildEngineArgs } from './cmdline.js';
import {
  DEFAULT_TIMEOUTS,
  EngineProcess,
  type EngineCommand,
  type EngineTimeouts,
  type ExitInfo,
} from './engine-process.js';
import { isAlive, isRecordedEngine, readRecords, removeRunFiles, runPaths, writeRecord } from './run-dir.js';

export interface SupervisorListener {
  state(vmId: string, state: VmState, lastError: string | null): void;
  console(vmId: string, data: string): void;
  qmpEvent(vmId: string, event: QmpEvent): void;
  exited(vmId: string, info: ExitInfo): void;
}

export interface SupervisorOptions {
  /** Folder for per-VM run folders (QMP sockets, process records). */
  runRoot: string;
  engine: EngineCommand;
  timeouts?: Partial<EngineTimeouts>;
  /** Where a VM's engine keeps its snapshots (passed as `-snapshot-store`). */
  snapshotStore?: (vmId: string) => string;
}

interface Slot {
  engine: EngineProcess | null;
  lastError: string | null;
  state: VmState;
  /** The configuration the running engine was started from (null when not running). */
  startedWith: Vm | null;
}

export class VmNotRunningError extends QmpError {
  constructor(vmName: string, state: VmState, command: string) {
    super('GenericError', `VM '${vmName}' is ${state}`, command);
  }
}

export class Supervisor {
  private readonly slots = new Map<string, Slot>();
  private readonly names = new Map<string, string>();
  private readonly timeouts: EngineTimeouts;
  private shuttingDown = false;

  constructor(
    private readonly options: SupervisorOptions,
    private readonly listener: SupervisorListener,
  ) {
    this.timeouts = { ...DEFAULT_TIMEOUTS, ...options.timeouts };
  }

  private slot(vmId: string): Slot {
    let s = this.slots.get(vmId);
    if (!s) {
      s = { engine: null, lastError: null, state: 'stopped', startedWith: null };
      this.slots.set(vmId, s);
    }
    return s;
  }

  status(vmId: string): { state: VmState; lastError: string | null } {
    const s = this.slots.get(vmId);
    return s ? { state: s.state, lastError: s.lastError } : { state: 'stopped', lastError: null };
  }

  /** VM ids with an engine process (starting, running, paused or stopping). */
  activeVmIds(): string[] {
    return [...this.slots].filter(([, s]) => s.engine !== null).map(([id]) => id);
  }

  private setState(vmId: string, state: VmState): void {
    const s = this.slot(vmId);
    s.state = state;
    this.listener.state(vmId, state, s.lastError);
  }

  /**
   * Start the VM's engine; resolves once QMP is connected. Rejects with the engine's own error text.
   * `vm` is what the command line is built from (boot files resolved); `config`, the library's
   * record, is what `startedConfig()` reports and pending-restart changes are counted against.
   */
  async start(vm: Vm, config: Vm = vm): Promise<void> {
    if (this.shuttingDown) throw new Error('VM Studio is shutting down');
    const s = this.slot(vm.id);
    if (s.engine) throw new QmpError('GenericError', `VM '${vm.name}' is already ${s.state}`, 'start');
    this.names.set(vm.id, vm.name);
    const paths = runPaths(this.options.runRoot, vm.id);
    const store = this.options.snapshotStore?.(vm.id);
    const args = buildEngineArgs(vm, {
      qmpSocket: paths.qmpSocket,
      ...(store ? { snapshotStore: store } : {}),
    });
    s.lastError = null;
    s.startedWith = structuredClone(config);
    const engine = new EngineProcess(
      this.options.engine,
      args,
      paths,
      {
        state: (st) => this.setState(vm.id, st),
        console: (d) => this.listener.console(vm.id, d),
        qmpEvent: (ev) => this.listener.qmpEvent(vm.id, ev),
        exit: (info) => {
          removeRunFiles(paths);
          s.engine = null;
          s.startedWith = null;
          s.lastError = info.error;
          this.listener.exited(vm.id, info);
        },
      },
      this.timeouts,
    );
    s.engine = engine;
    const started = engine.start();
    // Record the pid as soon as there is one, so a crash of VM Studio itself cannot orphan it.
    if (engine.pid !== undefined) {
      writeRecord(paths, { pid: engine.pid, vmId: vm.id, qmpSocket: paths.qmpSocket, startedAt: Date.now() });
    }
    await started;
  }

  private running(vmId: string, command: string): EngineProcess {
    const s = this.slots.get(vmId);
    if (!s?.engine) throw new VmNotRunningError(this.names.get(vmId) ?? vmId, s?.state ?? 'stopped', command);
    return s.engine;
  }

  async stop(vmId: string, force = false): Promise<void> {
    const s = this.slots.get(vmId);
    if (!s?.engine) return;
    await s.engine.stop(force);
  }

  /** The typed QMP client of a running VM (throws VmNotRunningError naming the VM and its state). */
  qmp(vmId: string, command = 'qmp'): QmpClientApi {
    return this.running(vmId, command).api(command);
  }

  async pause(vmId: string): Promise<void> {
    await this.qmp(vmId, 'stop').stop();
  }

  async resume(vmId: string): Promise<void> {
    await this.qmp(vmId, 'cont').cont();
  }

  async reset(vmId: string): Promise<void> {
    await this.qmp(vmId, 'system_reset').systemReset();
  }

  /** Raw QMP by name: only for the power-user console (its input is whatever the user typed). */
  execute(vmId: string, command: string, args?: Record<string, unknown>): Promise<unknown> {
    return this.running(vmId, command).executeRaw(command, args);
  }

  /** The engine process id of a VM with an engine (undefined otherwise). */
  enginePid(vmId: string): number | undefined {
    return this.slots.get(vmId)?.engine?.pid;
  }

  /** The configuration the VM's engine was started from, or null when it is not running. */
  startedConfig(vmId: string): Vm | null {
    return this.slots.get(vmId)?.startedWith ?? null;
  }

  /** Record a change the running engine already has (e.g. a kept hot-plugged device). */
  amendStartedConfig(vmId: string, patch: Partial<Vm>): void {
    const s = this.slots.get(vmId);
    if (s?.startedWith) s.startedWith = { ...s.startedWith, ...structuredClone(patch) };
  }

  writeConsole(vmId: string, data: string): void {
    this.running(vmId, 'console').writeConsole(data);
  }

  consoleHistory(vmId: string): string {
    return this.slots.get(vmId)?.engine?.consoleHistory ?? '';
  }

  /** Stop every engine (graceful first, bounded by the timeouts); refuses new starts from now on. */
  async shutdown(): Promise<void> {
    this.shuttingDown = true;
    const engines = [...this.slots.values()]
      .map((s) => s.engine)
      .filter((e): e is EngineProcess => e !== null);
    await Promise.all(engines.map((e) => e.stop(false)));
  }

  /** From a process 'exit' handler: SIGKILL whatever is still running. */
  killAllSync(): void {
    for (const s of this.slots.values()) s.engine?.killSync();
  }

  /**
   * End engines left running by a previous VM Studio that did not shut down (found from the run
   * folder's records). Asks each over QMP to quit; kills it if it does not answer and is verifiably
   * our engine. Returns the VM ids that had leftover engines.
   */
  static async cleanupOrphans(runRoot: string, timeoutMs = 3000): Promise<string[]> {
    const found: string[] = [];
    for (const rec of readRecords(runRoot)) {
      const paths = runPaths(runRoot, rec.vmId);
      if (!isAlive(rec.pid)) {
        removeRunFiles(paths);
        continue;
      }
      found.push(rec.vmId);
      let quitSent = false;
      try {
        const qmp = await QmpClient.connect(rec.qmpSocket, { handshakeTimeoutMs: timeoutMs });
        await new QmpClientApi(qmp).quit().catch(() => undefined);
        qmp.close();
        quitSent = true;
      } catch {
        // not answering: fall through to the signal
      }
      const deadline = Date.now() + (quitSent ? timeoutMs : 0);
      while (Date.now() < deadline && isAlive(rec.pid)) await delay(25);
      if (isRecordedEngine(rec)) {
        try {
          process.kill(rec.pid, 'SIGKILL');
        } catch {
          // already gone
        }
        for (let i = 0; i < 100 && isAlive(rec.pid); i++) await delay(10);
      }
      removeRunFiles(paths);
    }
    return found;
  }
}
