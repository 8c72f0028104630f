/**
 * VM run state (QEMU's softmmu/runstate.c): the current RunState, the allowed transitions
 * (runstate_transitions_def), vm start/stop with STOP/RESUME events, and shutdown/reset requests that
 * the main loop processes after the requesting command returned (so SHUTDOWN precedes the reply to
 * "quit", as in QEMU).
 *
 * CPUs, devices and the main loop are other modules: they register hooks here (vm state change
 * handlers, machine reset, process exit) instead of this module knowing them.
 */
import { QapiEvents } from '../qapi/generated/qapi-events.js';
import { QapiError } from '../qapi/error.js';
import type { QDict } from '../qobject/qobject.js';
import { qapiEventEmit } from '../monitor/monitor.js';

export type RunState =
  | 'debug'
  | 'inmigrate'
  | 'internal-error'
  | 'io-error'
  | 'paused'
  | 'postmigrate'
  | 'prelaunch'
  | 'finish-migrate'
  | 'restore-vm'
  | 'running'
  | 'save-vm'
  | 'shutdown'
  | 'suspended'
  | 'watchdog'
  | 'guest-panicked'
  | 'colo';

export type ShutdownCause =
  | 'none'
  | 'host-error'
  | 'host-qmp-quit'
  | 'host-qmp-system-reset'
  | 'host-signal'
  | 'host-ui'
  | 'guest-shutdown'
  | 'guest-reset'
  | 'guest-panic'
  | 'subsystem-reset'
  | 'snapshot-load';

const TRANSITIONS: ReadonlyArray<readonly [RunState, RunState]> = [
  ['prelaunch', 'inmigrate'],
  ['debug', 'running'],
  ['debug', 'finish-migrate'],
  ['debug', 'prelaunch'],
  ['inmigrate', 'internal-error'],
  ['inmigrate', 'io-error'],
  ['inmigrate', 'paused'],
  ['inmigrate', 'running'],
  ['inmigrate', 'shutdown'],
  ['inmigrate', 'suspended'],
  ['inmigrate', 'watchdog'],
  ['inmigrate', 'guest-panicked'],
  ['inmigrate', 'finish-migrate'],
  ['inmigrate', 'prelaunch'],
  ['inmigrate', 'postmigrate'],
  ['inmigrate', 'colo'],
  ['internal-error', 'paused'],
  ['internal-error', 'finish-migrate'],
  ['internal-error', 'prelaunch'],
  ['io-error', 'running'],
  ['io-error', 'finish-migrate'],
  ['io-error', 'prelaunch'],
  ['paused', 'running'],
  ['paused', 'finish-migrate'],
  ['paused', 'postmigrate'],
  ['paused', 'prelaunch'],
  ['paused', 'colo'],
  ['postmigrate', 'running'],
  ['postmigrate', 'finish-migrate'],
  ['postmigrate', 'prelaunch'],
  ['prelaunch', 'running'],
  ['prelaunch', 'finish-migrate'],
  ['prelaunch', 'inmigrate'],
  ['finish-migrate', 'running'],
  ['finish-migrate', 'paused'],
  ['finish-migrate', 'postmigrate'],
  ['finish-migrate', 'prelaunch'],
  ['finish-migrate', 'colo'],
  ['restore-vm', 'running'],
  ['restore-vm', 'prelaunch'],
  ['colo', 'running'],
  ['colo', 'prelaunch'],
  ['colo', 'shutdown'],
  ['running', 'debug'],
  ['running', 'internal-error'],
  ['running', 'io-error'],
  ['running', 'paused'],
  ['running', 'finish-migrate'],
  ['running', 'restore-vm'],
  ['running', 'save-vm'],
  ['running', 'shutdown'],
  ['running', 'watchdog'],
  ['running', 'guest-panicked'],
  ['running', 'colo'],
  ['save-vm', 'running'],
  ['shutdown', 'paused'],
  ['shutdown', 'finish-migrate'],
  ['shutdown', 'prelaunch'],
  ['shutdown', 'colo'],
  ['debug', 'suspended'],
  ['running', 'suspended'],
  ['suspended', 'running'],
  ['suspended', 'finish-migrate'],
  ['suspended', 'prelaunch'],
  ['suspended', 'colo'],
  ['watchdog', 'running'],
  ['watchdog', 'finish-migrate'],
  ['watchdog', 'prelaunch'],
  ['watchdog', 'colo'],
  ['guest-panicked', 'running'],
  ['guest-panicked', 'finish-migrate'],
  ['guest-panicked', 'prelaunch'],
];

const valid = new Set(TRANSITIONS.map(([a, b]) => `${a}>${b}`));

let current: RunState = 'prelaunch';
/** -S was not given: "cont" while in migration sets this instead (QEMU's autostart). */
let autostart = true;

/** Where STOP/RESUME/SHUTDOWN/RESET go; the QMP monitors by default. */
export type RunStateEventHook = (event: string, data?: QDict) => void;
let eventHook: RunStateEventHook = qapiEventEmit;

export function setRunStateEventHook(hook: RunStateEventHook | null): void {
  eventHook = hook ?? qapiEventEmit;
}

/** The typed emitters generated from the schema, sending through the current hook. */
const events = new QapiEvents((name, data) => eventHook(name, data));

export function runstateGet(): RunState {
  return current;
}

export function runstateCheck(s: RunState): boolean {
  return current === s;
}

export function runstateIsRunning(): boolean {
  return current === 'running';
}

export function runstateNeedsReset(): boolean {
  return current === 'internal-error' || current === 'shutdown';
}

export function runstateIsValidTransition(from: RunState, to: RunState): boolean {
  return from === to || valid.has(`${from}>${to}`);
}

/** runstate_set: QEMU aborts on an invalid transition; we throw (an engine bug either way). */
export function runstateSet(s: RunState): void {
  if (s === current) return;
  if (!valid.has(`${current}>${s}`)) {
    throw new Error(`invalid runstate transition: '${current}' -> '${s}'`);
  }
  current = s;
}

export function setAutostart(on: boolean): void {
  autostart = on;
}

export function getAutostart(): boolean {
  return autostart;
}

// ---- vm change state handlers (CPUs pause/resume through these) ----

export type VmChangeStateHandler = (running: boolean, state: RunState) => void;
const vmHandlers: Array<{ cb: VmChangeStateHandler; prio: number }> = [];

/** qemu_add_vm_change_state_handler_prio; returns a remover. */
export function addVmChangeStateHandler(cb: VmChangeStateHandler, prio = 0): () => void {
  const e = { cb, prio };
  const i = vmHandlers.findIndex((o) => prio < o.prio);
  if (i < 0) vmHandlers.push(e);
  else vmHandlers.splice(i, 0, e);
  return () => {
    const j = vmHandlers.indexOf(e);
    if (j >= 0) vmHandlers.splice(j, 1);
  };
}

function vmStateNotify(running: boolean, state: RunState): void {
  const list = running ? [...vmHandlers] : [...vmHandlers].reverse();
  for (const h of list) h.cb(running, state);
}

/** vm_start: RESUME, then running. Nothing happens when already running. */
export function vmStart(): void {
  if (current === 'running') return;
  events.resume();
  runstateSet('running');
  vmStateNotify(true, 'running');
}

/** vm_stop(state): only a running VM stops (and reports STOP). */
export function vmStop(state: RunState): void {
  if (current !== 'running') return;
  runstateSet(state);
  vmStateNotify(false, state);
  events.stop();
}

// ---- requests processed by the main loop ----

let shutdownRequested: ShutdownCause = 'none';
let resetRequested: ShutdownCause = 'none';
let pollScheduled = false;

export interface RunStateHooks {
  /** Reset every device (qemu_devices_reset / MachineClass::reset). */
  machineReset?: (cause: ShutdownCause) => void;
  /** Leave the main loop: the process should exit after flushing monitors. */
  exit?: (cause: ShutdownCause) => void;
}

let hooks: RunStateHooks = {};

export function setRunStateHooks(h: RunStateHooks): void {
  hooks = h;
}

function shutdownCausedByGuest(c: ShutdownCause): boolean {
  return c === 'guest-shutdown' || c === 'guest-reset' || c === 'guest-panic';
}

function schedulePoll(): void {
  if (pollScheduled) return;
  pollScheduled = true;
  setImmediate(() => {
    pollScheduled = false;
    mainLoopShouldExit();
  });
}

export function qemuSystemShutdownRequest(cause: ShutdownCause): void {
  shutdownRequested = cause;
  schedulePoll();
}

const powerdownNotifiers = new Set<() => void>();

/**
 * Boards that have a power button (ACPI, a GPIO key) register here; the riscv virt machine has none,
 * so, as in QEMU, system_powerdown only emits POWERDOWN there and the guest is not told.
 */
export function addPowerdownNotifier(fn: () => void): () => void {
  powerdownNotifiers.add(fn);
  return () => powerdownNotifiers.delete(fn);
}

/** qemu_system_powerdown_request(): POWERDOWN now, then the board's power button. */
export function qemuSystemPowerdownRequest(): void {
  events.powerdown();
  for (const fn of powerdownNotifiers) fn();
}

export function qemuSystemResetRequest(cause: ShutdownCause): void {
  resetRequested = cause;
  schedulePoll();
}

/** qemu_system_reset: reset the machine; RESET unless the cause is internal. */
export function qemuSystemReset(cause: ShutdownCause): void {
  hooks.machineReset?.(cause);
  if (cause !== 'none' && cause !== 'subsystem-reset' && cause !== 'snapshot-load') {
    events.reset({ guest: shutdownCausedByGuest(cause), reason: cause });
  }
}

/** main_loop_should_exit: act on pending requests; true when the process should exit. */
export function mainLoopShouldExit(): boolean {
  const sd = shutdownRequested;
  if (sd !== 'none') {
    shutdownRequested = 'none';
    events.shutdown({ guest: shutdownCausedByGuest(sd), reason: sd });
    hooks.exit?.(sd);
    return true;
  }
  const rs = resetRequested;
  if (rs !== 'none') {
    resetRequested = 'none';
    qemuSystemReset(rs);
    if (current !== 'running' && current !== 'inmigrate' && current !== 'finish-migrate') {
      runstateSet('prelaunch');
    }
  }
  return false;
}

// ---- QMP commands (qapi/run-state.json, misc.json) ----

export interface StatusInfo {
  running: boolean;
  singlestep: boolean;
  status: RunState;
}

export function qmpQueryStatus(): StatusInfo {
  return { running: runstateIsRunning(), singlestep: false, status: current };
}

export function qmpStop(): void {
  if (current === 'inmigrate') autostart = false;
  else vmStop('paused');
}

export function qmpCont(): void {
  if (runstateNeedsReset()) throw new QapiError('Resetting the Virtual Machine is required');
  if (current === 'suspended') return;
  if (current === 'finish-migrate') throw new QapiError('Migration is not finalized yet');
  if (current === 'inmigrate') autostart = true;
  else vmStart();
}

export function qmpQuit(): void {
  qemuSystemShutdownRequest('host-qmp-quit');
}

export function qmpSystemReset(): void {
  qemuSystemResetRequest('host-qmp-system-reset');
}

/** Test hook: back to a fresh process's state. */
export function runstateResetForTests(): void {
  current = 'prelaunch';
  autostart = true;
  shutdownRequested = 'none';
  resetRequested = 'none';
  vmHandlers.length = 0;
  hooks = {};
  eventHook = qapiEventEmit;
}
