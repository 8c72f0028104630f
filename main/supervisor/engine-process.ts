/**
 * One running engine: the child process, its QMP connection, its console stream and how it ended.
 * The supervisor owns the policy (which VM, the library, notifications); this class owns the mechanics
 * of starting, connecting, stopping and escalating, so that no engine outlives its EngineProcess.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import { setTimeout as delay } from 'node:timers/promises';
import type { VmState } from '../api/contract.js';
import { QmpClientApi } from '../generated/qmp-client.js';
import { QmpClient, QmpError, type QmpEvent } from '../qmp/client.js';
import { lastLines, TailBuffer } from './output-buffer.js';
import type { RunPaths } from './run-dir.js';

export interface EngineCommand {
  /** Executable (normally process.execPath). */
  command: string;
  /** Arguments before the VM's own (normally the engine script). */
  prefix: string[];
  env?: NodeJS.ProcessEnv;
}

export interface EngineTimeouts {
  /** Waiting for the QMP socket to accept and negotiate. */
  connectMs: number;
  /** After `system_powerdown`, before falling back to `quit`. */
  powerdownMs: number;
  /** After `quit` (or a lost QMP connection), before SIGTERM; and after SIGTERM, before SIGKILL. */
  killMs: number;
}

export const DEFAULT_TIMEOUTS: EngineTimeouts = { connectMs: 15_000, powerdownMs: 30_000, killMs: 3_000 };

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** We asked it to stop, or the guest shut down: not a crash. */
  expected: boolean;
  /** Set for crashes: the engine's last output. */
  error: string | null;
}

export interface EngineProcessEvents {
  state(state: VmState): void;
  console(data: string): void;
  qmpEvent(event: QmpEvent): void;
  exit(info: ExitInfo): void;
}

/**
 * Boards whose guests cannot receive a power-button press: the RISC-V `virt` and `spike` machines
 * have no ACPI or GPIO power key (as in QEMU 7.2), and `none` has no guest. For them "Stop" goes
 * straight to `quit` instead of waiting out a grace period nobody can use.
 */
const MACHINES_WITHOUT_POWER_BUTTON = new Set(['none', 'virt', 'spike']);

/** The machine type named by -M/-machine in an engine command line. */
export function machineOfArgs(args: readonly string[]): string | null {
  for (let i = 0; i < args.length - 1; i++) {
    if (args[i] === '-M' || args[i] === '-machine') return args[i + 1]!.split(',')[0]!.replace(/^type=/, '');
  }
  return null;
}

export function machineHasPowerButton(args: readonly string[]): boolean {
  const m = machineOfArgs(args);
  return m === null || !MACHINES_WITHOUT_POWER_BUTTON.has(m);
}

const CONSOLE_SCROLLBACK = 256 * 1024;
const OUTPUT_TAIL = 16 * 1024;

export class EngineProcess {
  readonly paths: RunPaths;
  private child: ChildProcess | null = null;
  private qmp: QmpClient | null = null;
  /** Typed commands (generated from the engine's QAPI schema) over `qmp`. */
  private typed: QmpClientApi | null = null;
  private stateValue: VmState = 'stopped';
  private stopRequested = false;
  private guestShutdown = false;
  /** Why startup failed (QMP never became usable); such an end is a crash however the process ended. */
  private startError: string | null = null;
  private readonly consoleBuf = new TailBuffer(CONSOLE_SCROLLBACK);
  private readonly stderrBuf = new TailBuffer(OUTPUT_TAIL);
  private exitPromise: Promise<ExitInfo> | null = null;

  constructor(
    private readonly command: EngineCommand,
    private readonly args: string[],
    paths: RunPaths,
    private readonly events: EngineProcessEvents,
    private readonly timeouts: EngineTimeouts = DEFAULT_TIMEOUTS,
  ) {
    this.paths = paths;
  }

  get state(): VmState {
    return this.stateValue;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get consoleHistory(): string {
    return this.consoleBuf.toString();
  }

  /** The engine's recent stderr (and, when it has no console, stdout). */
  get lastOutput(): string {
    return lastLines(this.stderrBuf.toString(), 20);
  }

  private setState(s: VmState): void {
    if (s === this.stateValue) return;
    this.stateValue = s;
    this.events.state(s);
  }

  /** Spawn the engine, connect QMP and learn whether it runs or is paused. Rejects if it dies first. */
  async start(): Promise<void> {
    if (this.child) throw new Error('engine already started');
    fs.mkdirSync(this.paths.dir, { recursive: true, mode: 0o700 });
    if (process.platform !== 'win32') fs.rmSync(this.paths.qmpSocket, { force: true });
    this.setState('starting');
    const child = spawn(this.command.command, [...this.command.prefix, ...this.args], {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: this.command.env ?? process.env,
      windowsHide: true,
    });
    this.child = child;
    const out = new StringDecoder('utf8');
    const err = new StringDecoder('utf8');
    child.stdout!.on('data', (b: Buffer) => this.onConsole(out.write(b)));
    child.stderr!.on('data', (b: Buffer) => this.stderrBuf.append(err.write(b)));
    child.stdin!.on('error', () => undefined); // EPIPE when the engine exits with input pending
    this.exitPromise = new Promise<ExitInfo>((resolve) => {
      let spawnError: Error | null = null;
      child.once('error', (e) => {
        spawnError = e;
        // 'close' does not always follow a failed spawn.
        if (child.pid === undefined) resolve(this.finish(null, null, e));
      });
      child.once('close', (code, signal) => resolve(this.finish(code, signal, spawnError)));
    });
    try {
      this.qmp = await this.connectQmp();
    } catch (e) {
      this.startError = (e as Error).message;
      // An engine that fails at startup closes its QMP socket before its process has quite ended: give
      // it a moment to exit by itself (its stderr says why), and kill one that hangs.
      if (!(await this.exitedWithin(this.timeouts.killMs))) await this.kill();
      const info = await this.exitPromise;
      throw new Error(info.error ?? this.startError);
    }
    this.typed = new QmpClientApi(this.qmp);
    this.qmp.onEvent((ev) => this.onQmpEvent(ev));
    this.qmp.onClose(() => {
      this.qmp = null;
      this.typed = null;
      // The control channel is gone but the process may linger: make sure it ends.
      if (this.child && this.child.exitCode === null && this.child.signalCode === null) {
        void this.escalate();
      }
    });
    const status = await this.typed.queryStatus().catch(() => null);
    this.setState(status?.running === false ? 'paused' : 'running');
  }

  private onConsole(text: string): void {
    if (!text) return;
    this.consoleBuf.append(text);
    this.events.console(text);
  }

  private onQmpEvent(ev: QmpEvent): void {
    switch (ev.event) {
      case 'STOP':
        if (this.stateValue === 'running') this.setState('paused');
        break;
      case 'RESUME':
        if (this.stateValue === 'paused') this.setState('running');
        break;
      case 'SHUTDOWN':
        this.guestShutdown = true;
        this.setState('stopping');
        break;
    }
    this.events.qmpEvent(ev);
  }

  /** Retry until the engine's QMP socket accepts, the engine exits, or the timeout passes. */
  private async connectQmp(): Promise<QmpClient> {
    const deadline = Date.now() + this.timeouts.connectMs;
    let lastError: Error | null = null;
    for (let wait = 10; Date.now() < deadline; wait = Math.min(wait * 2, 200)) {
      if (!this.child || this.child.exitCode !== null || this.child.signalCode !== null) {
        throw new Error('engine exited during startup');
      }
      try {
        return await QmpClient.connect(this.paths.qmpSocket, {
          handshakeTimeoutMs: Math.max(100, deadline - Date.now()),
        });
      } catch (e) {
        lastError = e as Error;
        if (e instanceof QmpError) throw e;
      }
      await delay(wait);
    }
    throw new Error(
      `could not connect to the engine's QMP socket '${this.paths.qmpSocket}' within ${this.timeouts.connectMs} ms` +
        (lastError ? ` (${lastError.message})` : ''),
    );
  }

  private finish(code: number | null, signal: NodeJS.Signals | null, spawnError: Error | null): ExitInfo {
    this.qmp?.close();
    this.qmp = null;
    this.typed = null;
    const expected =
      !spawnError && this.startError === null && (this.stopRequested || this.guestShutdown || code === 0);
    let error: string | null = null;
    if (!expected) {
      const how = spawnError
        ? `could not be started: ${spawnError.message}`
        : this.startError !== null && this.stopRequested
          ? `did not start: ${this.startError}`
          : signal
            ? `was killed by signal ${signal}`
            : `exited with code ${code}`;
      const tail = this.lastOutput;
      error = tail ? `vmstudio-engine ${how}:\n${tail}` : `vmstudio-engine ${how}`;
    }
    const info: ExitInfo = { code, signal, expected, error };
    // Exit first, so listeners of the final state already see the crash report.
    this.events.exit(info);
    this.setState(expected ? 'stopped' : 'crashed');
    return info;
  }

  /** Resolves when the process has exited (immediately if it never started). */
  waitExit(): Promise<ExitInfo> {
    return this.exitPromise ?? Promise.resolve({ code: null, signal: null, expected: true, error: null });
  }

  /** The typed QMP client of this engine; throws when there is no QMP connection. */
  api(command: string): QmpClientApi {
    if (!this.typed) throw new QmpError('GenericError', 'The VM is not running (no QMP connection)', command);
    return this.typed;
  }

  /**
   * Run a command by name, untyped: only for the power-user QMP console, whose input is whatever the
   * user typed. Everything else goes through `api()`.
   */
  executeRaw(command: string, args?: Record<string, unknown>): Promise<unknown> {
    if (!this.qmp) {
      return Promise.reject(
        new QmpError('GenericError', 'The VM is not running (no QMP connection)', command),
      );
    }
    return this.qmp.execute(command, args);
  }

  writeConsole(data: string): void {
    if (!this.child?.stdin?.writable) throw new Error('The VM is not running');
    this.child.stdin.write(data);
  }

  private async exitedWithin(ms: number): Promise<boolean> {
    const exit = this.waitExit().then(() => true);
    const timer = delay(ms).then(() => false);
    return Promise.race([exit, timer]);
  }

  /**
   * Stop the engine. Graceful: ACPI-style `system_powerdown`, then `quit`; forced: `quit` at once.
   * Either way escalates to SIGTERM and SIGKILL, so it always ends with the process gone.
   */
  async stop(force = false): Promise<ExitInfo> {
    if (!this.child) return this.waitExit();
    this.stopRequested = true;
    // A paused guest cannot react to a power button: quit it directly.
    const graceful = !force && this.stateValue === 'running' && machineHasPowerButton(this.args);
    if (this.stateValue !== 'crashed' && this.stateValue !== 'stopped') this.setState('stopping');
    // An engine that refuses `system_powerdown` gets no grace period to wait out.
    if (graceful && this.qmp) {
      const pressed = await this.qmp
        .execute('system_powerdown')
        .then(() => true)
        .catch(() => false);
      if (pressed && (await this.exitedWithin(this.timeouts.powerdownMs))) return this.waitExit();
    }
    if (this.typed) {
      await this.typed.quit().catch(() => undefined);
      if (await this.exitedWithin(this.timeouts.killMs)) return this.waitExit();
    }
    await this.escalate();
    return this.waitExit();
  }

  /** SIGTERM, then SIGKILL: for an engine that does not answer QMP. */
  private async escalate(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    if (await this.exitedWithin(this.timeouts.killMs)) return;
    child.kill('SIGKILL');
    await this.waitExit();
  }

  /** Immediate end (used when startup fails and on quit). */
  async kill(): Promise<void> {
    this.stopRequested = true;
    const child = this.child;
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await this.waitExit();
  }

  /** Synchronous last resort from a process 'exit' handler: no awaiting possible there. */
  killSync(): void {
    const child = this.child;
    if (child && child.exitCode === null && child.signalCode === null) {
      this.stopRequested = true;
      child.kill('SIGKILL');
    }
  }
}
