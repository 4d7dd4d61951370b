/**
 * Time as the AWS adapters see it. Injected everywhere the adapters wait (token buckets, backoff, update waiters),
 * so unit tests drive time by hand instead of sleeping.
 */
export interface Clock {
  /** Milliseconds, monotonic enough for durations and rate limiting. */
  now(): number;
  sleep(ms: number): Promise<void>;
}

export const systemClock: Clock = {
  now: () => performance.timeOrigin + performance.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms))),
};
