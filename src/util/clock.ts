// The harness's one clock. Every latency is the difference of two values from `now()`, taken in the
// same process: the fake Slack stamps envelope writes and Web API arrivals with it, the Matrix driver
// stamps sends and sync arrivals with it.
import { performance } from "node:perf_hooks";

/** Epoch milliseconds, sub-millisecond precision, monotonic within this process. */
export function now(): number {
  return performance.timeOrigin + performance.now();
}

/** Waits for `condition` (re-checked every `intervalMs`) until `timeoutMs`; throws `describe()` on expiry. */
export async function waitUntil<T>(
  condition: () => T | undefined | Promise<T | undefined>,
  opts: { timeoutMs: number; intervalMs?: number; describe: () => string },
): Promise<T> {
  const deadline = Date.now() + opts.timeoutMs;
  for (;;) {
    const value = await condition();
    if (value !== undefined && value !== false && value !== null) return value as T;
    if (Date.now() >= deadline)
      throw new Error(`Timed out after ${Math.round(opts.timeoutMs)} ms: ${opts.describe()}`);
    await new Promise((r) => setTimeout(r, opts.intervalMs ?? 100));
  }
}
