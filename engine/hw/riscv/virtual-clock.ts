/**
 * QEMU_CLOCK_VIRTUAL for the RISC-V boards: host monotonic time that stands still while the VM is
 * stopped (QEMU pauses it in cpu_disable_ticks on vm_stop), so mtime does not jump across `stop`/`cont`
 * or a snapshot. Starts at 0 when the machine is created, like QEMU's virtual clock at startup.
 */
export class VirtualClock {
  /** Virtual ns accumulated up to `since` (host ms) while running. */
  private acc = 0;
  private since = 0;
  private running = false;

  /** Current virtual time in nanoseconds. */
  ns(): number {
    return this.running ? this.acc + (performance.now() - this.since) * 1e6 : this.acc;
  }

  get isRunning(): boolean {
    return this.running;
  }

  start(): void {
    if (this.running) return;
    this.since = performance.now();
    this.running = true;
  }

  stop(): void {
    if (!this.running) return;
    this.acc = this.ns();
    this.running = false;
  }

  /** Jump to `ns` (loadvm/incoming migration restore the clock). */
  set(ns: number): void {
    this.acc = ns;
    this.since = performance.now();
  }

  /** Host performance.now() milliseconds at which virtual time reaches `ns` (Infinity while stopped). */
  hostMsAt(ns: number): number {
    if (!this.running) return Infinity;
    return performance.now() + (ns - this.ns()) / 1e6;
  }
}

/** The one virtual clock of the process (QEMU has one per process too). */
export const virtualClock = new VirtualClock();
