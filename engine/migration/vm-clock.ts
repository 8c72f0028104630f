/**
 * The virtual clock (QEMU's QEMU_CLOCK_VIRTUAL / softmmu/cpu-timers.c) and its "timer" section.
 *
 * It counts nanoseconds while the VM runs and stands still while it is stopped, so guest time does not
 * jump over a pause, a savevm or a migration. The clock is what a snapshot lists as "VM CLOCK", and
 * what migrates in the "timer" section (QEMU's vmstate_timers: cpu_ticks_offset, 8 unused bytes,
 * cpu_clock_offset). The value is taken while the VM is stopped, so it is the clock itself.
 *
 * Timer restore rule for devices (CLINT mtime, RTC, ...): derive guest-visible time from this clock
 * (e.g. mtime = vmClockNs() * 10 MHz / 1e9 + the device's own saved delta). After a load the clock
 * continues from the saved value, so mtime continues from the value the guest saw at save time, and
 * a device's post_load only has to re-arm its deadlines (timecmp) against the restored clock and
 * re-drive its interrupt lines (MTIP = mtime >= mtimecmp).
 */
import { addVmChangeStateHandler } from '../system/runstate.js';
import type { VMStateDescription, VMStateInfo } from './vmstate-types.js';

/** Clock value while stopped; while running, value = hostNs() + offset. */
let stoppedNs = 0;
let offsetNs = 0;
let running = false;

function hostNs(): number {
  return Math.round(performance.now() * 1e6);
}

/** Current virtual clock in nanoseconds. */
export function vmClockNs(): number {
  return running ? hostNs() + offsetNs : stoppedNs;
}

/** cpu_enable_ticks(): the clock runs from its current value. */
export function vmClockStart(): void {
  if (running) return;
  offsetNs = stoppedNs - hostNs();
  running = true;
}

/** cpu_disable_ticks(): the clock stops at its current value. */
export function vmClockStop(): void {
  if (!running) return;
  stoppedNs = hostNs() + offsetNs;
  running = false;
}

/** Set the clock (a loaded state); keeps running if it was. */
export function vmClockSet(ns: number): void {
  if (running) offsetNs = ns - hostNs();
  else stoppedNs = ns;
}

let unhook: (() => void) | null = null;

/** Follow the run state (done on import; tests that reset runstate handlers call it again). */
export function vmClockInstall(): void {
  unhook?.();
  unhook = addVmChangeStateHandler((isRunning) => (isRunning ? vmClockStart() : vmClockStop()), 100);
}

export function vmClockResetForTests(): void {
  running = false;
  stoppedNs = 0;
  offsetNs = 0;
}

vmClockInstall();

/** QEMU's VMSTATE_UNUSED(n): n zero bytes, ignored on load. */
export function unusedBuffer(size: number): VMStateInfo {
  return {
    name: 'unused_buffer',
    size,
    put: (out) => out.bytes(new Uint8Array(size)),
    get: (inp) => void inp.bytes(size),
  };
}

/** The state the "timer" section reads and writes. */
export const timersState = {
  get cpu_ticks_offset(): number {
    return vmClockNs();
  },
  set cpu_ticks_offset(_v: number) {
    // Host TSC ticks in QEMU; our one clock is cpu_clock_offset.
  },
  get cpu_clock_offset(): number {
    return vmClockNs();
  },
  set cpu_clock_offset(v: number | bigint) {
    vmClockSet(Number(v));
  },
};

export const vmstateTimers: VMStateDescription = {
  name: 'timer',
  versionId: 2,
  minimumVersionId: 1,
  fields: [
    { name: 'cpu_ticks_offset', kind: 'int64' },
    { name: 'unused', kind: 'custom', info: unusedBuffer(8) },
    { name: 'cpu_clock_offset', kind: 'int64', versionId: 2 },
  ],
};
