/**
 * Time, as everything that waits sees it: queue delays, backoff, lease renewal, watchdogs, token buckets, update
 * waiters. Injected everywhere, so tests drive time by hand (test/support/fake-clock.ts) instead of sleeping or
 * putting thresholds on wall time.
 */
export type TimerHandle = { readonly id: number };

export interface Clock {
  /** Milliseconds since the epoch; steady between wall-clock adjustments (durations, rate limiting, renew times). */
  now(): number;
  /** A callback after `ms` that never keeps a finished process alive (queue requeues, watchdogs, lease retries). */
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
  /** Resolves after `ms`; keeps the process alive meanwhile (a CLI run waiting out a throttle must not exit). */
  sleep(ms: number): Promise<void>;
}

/**
 * The longest delay a Node timer can hold (2^31-1 ms, about 24.8 days). A longer one fires at once (Node warns and
 * uses 1 ms), which would turn a long interval into a busy loop; callers re-check what is due when a timer fires.
 */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** A delay as a timer can hold it: not negative, not NaN, at most MAX_TIMER_MS. */
export function timerDelay(ms: number): number {
  return Number.isNaN(ms) ? 0 : Math.min(Math.max(0, ms), MAX_TIMER_MS);
}

let nextSystemId = 1;
const systemTimers = new Map<number, NodeJS.Timeout>();

/** The real clock. */
export const systemClock: Clock = {
  now: () => performance.timeOrigin + performance.now(),
  setTimeout(fn, ms) {
    const id = nextSystemId++;
    const t = setTimeout(() => {
      systemTimers.delete(id);
      fn();
    }, timerDelay(ms));
    t.unref();
    systemTimers.set(id, t);
    return { id };
  },
  clearTimeout(handle) {
    const t = systemTimers.get(handle.id);
    if (t !== undefined) {
      clearTimeout(t);
      systemTimers.delete(handle.id);
    }
  },
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, timerDelay(ms))),
};
