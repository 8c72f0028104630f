/**
 * The guest's clock: QEMU's QEMU_CLOCK_VIRTUAL (softmmu/cpu-timers.c), one per process.
 *
 * It counts nanoseconds of host monotonic time while the VM runs and stands still while it is stopped
 * (QEMU's cpu_enable_ticks/cpu_disable_ticks on vm_start/vm_stop), so guest time does not jump over a
 * `stop`, a savevm or a migration. It starts at 0 when the process starts.
 *
 * Everything guest-visible derives from it: the ACLINT's mtime is clock * timebase-freq / 1e9 plus
 * the device's own mtime-write delta, so every hart's `time` CSR, mtimecmp/stimecmp deadlines and WFI
 * sleeps follow it. A snapshot lists it as "VM CLOCK", and it migrates in the "timer" section
 * (QEMU's vmstate_timers: cpu_ticks_offset, 8 unused bytes, cpu_clock_offset), taken while the VM is
 * stopped, so the saved offsets are the clock's value. After a load the clock continues from the
 * saved value: a device's post_load only re-arms its deadlines and re-drives its lines.
 */
import { addVmChangeStateHandler } from './runstate.js';
import { onQomRootReset } from '../qom/object.js';
import { vmstateUnused } from '../migration/vmstate.js';
import type { VMStateDescription } from '../migration/vmstate-types.js';

export class VirtualClock {
  /** Value while stopped; while running, value = host ns + offset. */
  private stoppedNs = 0;
  private offsetNs = 0;
  private running = false;

  private static hostNs(): number {
    return Math.floor(performance.now() * 1e6);
  }

  /** Current virtual time in whole nanoseconds. */
  ns(): number {
    return this.running ? VirtualClock.hostNs() + this.offsetNs : this.stoppedNs;
  }

  get isRunning(): boolean {
    return this.running;
  }

  /** cpu_enable_ticks(): run on from the current value. */
  start(): void {
    if (this.running) return;
    this.offsetNs = this.stoppedNs - VirtualClock.hostNs();
    this.running = true;
  }

  /** cpu_disable_ticks(): stand still at the current value. */
  stop(): void {
    if (!this.running) return;
    this.stoppedNs = VirtualClock.hostNs() + this.offsetNs;
    this.running = false;
  }

  /** Jump to `ns` (a loaded state); keeps running if it was. */
  set(ns: number): void {
    if (this.running) this.offsetNs = ns - VirtualClock.hostNs();
    else this.stoppedNs = ns;
  }

  /** Host performance.now() milliseconds at which the clock reaches `ns` (Infinity while stopped). */
  hostMsAt(ns: number): number {
    if (!this.running) return Infinity;
    return performance.now() + (ns - this.ns()) / 1e6;
  }

  /** A fresh process's clock: stopped at 0. */
  reset(): void {
    this.running = false;
    this.stoppedNs = 0;
    this.offsetNs = 0;
  }
}

/** The one virtual clock of the process. */
export const virtualClock = new VirtualClock();

let unhook: (() => void) | null = null;

/**
 * Let the run state start and stop the clock (done on import; tests that drop the run-state handlers
 * call it again). Lowest priority: the clock runs before any other handler sees the VM running, and
 * still runs while they see it stop, as QEMU enables ticks before and disables them around them.
 */
export function virtualClockFollowRunState(): void {
  unhook?.();
  unhook = addVmChangeStateHandler(
    (running) => (running ? virtualClock.start() : virtualClock.stop()),
    -1000,
  );
}

virtualClockFollowRunState();
// A new machine (tests build many in one process) starts from a fresh clock.
onQomRootReset(() => virtualClock.reset());

/** The state the "timer" section reads and writes: both offsets are the clock's value. */
export const timersState = {
  get cpu_ticks_offset(): number {
    return virtualClock.ns();
  },
  set cpu_ticks_offset(_v: number | bigint) {
    // Host TSC ticks in QEMU; our one clock is cpu_clock_offset.
  },
  get cpu_clock_offset(): number {
    return virtualClock.ns();
  },
  set cpu_clock_offset(v: number | bigint) {
    virtualClock.set(Number(v));
  },
};

export const vmstateTimers: VMStateDescription = {
  name: 'timer',
  versionId: 2,
  minimumVersionId: 1,
  fields: [
    { name: 'cpu_ticks_offset', kind: 'int64' },
    { name: 'unused', kind: 'custom', info: vmstateUnused(8) },
    { name: 'cpu_clock_offset', kind: 'int64', versionId: 2 },
  ],
};
