/**
 * The vCPU run loop on Node's event loop (QEMU's single-threaded TCG round-robin, cpus-tcg-rr).
 *
 * Harts run in time slices: each hart gets `quantum` instructions in turn until `sliceMs` of host
 * time has passed, then the loop yields with setImmediate so QMP, chardevs and timers run (a QMP
 * command waits at most one slice). When every hart is in WFI with nothing pending, the loop sleeps
 * with setTimeout until the earliest timer deadline any registered source reports, or until `kick()`
 * (an interrupt line changed). So a busy guest keeps one core busy, an idle guest almost none.
 */
import { mainLoopWaiters } from '../../system/main-loop-yield.js';
import { deferWasmFlush, flushWasmQueueIfDue, type RiscvCpu } from './cpu.js';

export interface CpuLoopOptions {
  /** Host milliseconds per slice before yielding (default 4). */
  sliceMs?: number;
  /** Instructions per hart turn inside a slice (default 10000). */
  quantum?: number;
}

/** Returns the host time (performance.now() milliseconds) of the next event, or Infinity. */
export type DeadlineSource = () => number;

export class CpuRunLoop {
  readonly sliceMs: number;
  readonly quantum: number;
  private runningFlag = false;
  private immediate: NodeJS.Immediate | null = null;
  private timer: NodeJS.Timeout | null = null;
  private readonly deadlines: DeadlineSource[] = [];
  /** Called at the start of every slice (devices refresh timer-driven lines here). */
  beforeSlice: (() => void) | null = null;
  /** Called when the loop stops by itself (a device asked for it, e.g. poweroff). */
  onStopped: (() => void) | null = null;
  /** Instructions executed since construction (all harts). */
  executed = 0;

  constructor(
    readonly cpus: RiscvCpu[],
    opts: CpuLoopOptions = {},
  ) {
    this.sliceMs = opts.sliceMs ?? 4;
    this.quantum = opts.quantum ?? 10_000;
    for (const c of cpus) {
      c.onKick = () => this.kick();
      c.onTimerChange = () => this.kick();
      // Each hart's own Sstc timer is a deadline source.
      this.deadlines.push(() => {
        const t = c.time;
        const cmp = c.nextTimerTicks();
        if (!t || cmp === Infinity) return Infinity;
        return performance.now() + ((cmp - t.ticks()) * 1000) / t.frequency;
      });
    }
  }

  get running(): boolean {
    return this.runningFlag;
  }

  addDeadlineSource(fn: DeadlineSource): void {
    this.deadlines.push(fn);
  }

  /** `cont`: start executing. */
  start(): void {
    if (this.runningFlag) return;
    this.runningFlag = true;
    this.schedule();
  }

  /** `stop`: no instruction runs after this returns (slices are synchronous). */
  stop(): void {
    this.runningFlag = false;
    this.cancel();
  }

  /** Execute one instruction on hart `index` while stopped (monitor single-step). */
  step(index = 0): number {
    if (this.runningFlag) throw new Error('cannot single-step a running CPU');
    const n = this.cpus[index].step();
    this.executed += n;
    return n;
  }

  /** Something may have woken a sleeping hart: run again soon. */
  kick(): void {
    if (!this.runningFlag) return;
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    this.schedule();
  }

  private schedule(): void {
    if (this.immediate === null && this.timer === null) this.immediate = setImmediate(this.tick);
  }

  private cancel(): void {
    if (this.immediate !== null) clearImmediate(this.immediate);
    if (this.timer !== null) clearTimeout(this.timer);
    this.immediate = null;
    this.timer = null;
  }

  /** Run one slice now (exposed for tests and for callers that drive the loop themselves). */
  runSlice(): boolean {
    const t0 = performance.now();
    this.beforeSlice?.();
    // Regions that became hot are compiled in batches at slice ends (one module per batch).
    deferWasmFlush(true);
    try {
      return this.runHarts(t0);
    } finally {
      deferWasmFlush(false);
      flushWasmQueueIfDue();
    }
  }

  private runHarts(t0: number): boolean {
    let runnable = false;
    do {
      runnable = false;
      for (const c of this.cpus) {
        if (c.wfi && !c.wakeable()) continue;
        runnable = true;
        c.exitReq = false;
        this.executed += c.run(this.quantum);
        if (!this.runningFlag) return false;
      }
    } while (runnable && performance.now() - t0 < this.sliceMs);
    return runnable;
  }

  private tick = (): void => {
    this.immediate = null;
    if (!this.runningFlag) return;
    if (mainLoopWaiters() !== 0) {
      // A QMP reply is due in this check phase: let it go before the next slice.
      this.immediate = setImmediate(this.tick);
      return;
    }
    const runnable = this.runSlice();
    if (!this.runningFlag) {
      this.onStopped?.();
      return;
    }
    // A kick during the slice (an interrupt line, a stimecmp write) already queued the next tick:
    // queueing another would leak one immediate per kick until whole seconds of slices run back to
    // back in one check phase and I/O (QMP, chardevs) starves.
    if (this.immediate !== null) return;
    if (runnable) {
      this.immediate = setImmediate(this.tick);
      return;
    }
    // Everyone sleeps in WFI: wait for the earliest deadline (or a kick).
    let next = Infinity;
    for (const d of this.deadlines) next = Math.min(next, d());
    const delay = next === Infinity ? 1000 : Math.max(0, Math.min(1000, next - performance.now()));
    this.timer = setTimeout(() => {
      this.timer = null;
      this.tick();
    }, delay);
  };
}
