/**
 * Who is waiting for the main loop to come round. A QMP reply is sent one check phase after its
 * command ran (QEMU's dispatcher coroutine yields there, so events the command caused go first);
 * the vCPU loop's next slice is queued in that same phase, ahead of it. While someone waits, the
 * vCPU loop lets one turn pass without running guest code, so the reply leaves without a slice
 * (4 ms) in front of it.
 */
let waiters = 0;

/** Resolves at the next check phase; the vCPU loop skips its slice meanwhile. */
export function yieldToMainLoop(): Promise<void> {
  waiters++;
  return new Promise<void>((resolve) =>
    setImmediate(() => {
      waiters--;
      resolve();
    }),
  );
}

/** Is anyone waiting in `yieldToMainLoop`? */
export function mainLoopWaiters(): number {
  return waiters;
}
