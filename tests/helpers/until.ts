/**
 * Poll until a condition holds. Tests wait for states this way, never with fixed sleeps: the engine
 * and the monitor run on the event loop at their own pace, and CI hosts are loaded.
 */
export async function until(
  cond: () => boolean,
  timeoutMs = 10_000,
  what = 'the condition holds',
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}
