/**
 * The one fake Clock: time moves only when a test says so, so nothing sleeps for real and no test depends on the
 * machine's speed. `advance` moves time synchronously, firing due timers in order (for callback-driven code: the
 * queue, the watcher, the elector); `run` jumps from timer to timer, letting promise continuations run between them,
 * until a promise settles (for async code that sleeps: token buckets, retries, waiters).
 */
import type { Clock, TimerHandle } from '../../src/shared/clock.ts';

/** Lets every queued microtask and promise continuation run. */
export function flush(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

interface Timer {
  at: number;
  fn: () => void;
}

export class FakeClock implements Clock {
  private current: number;
  private nextId = 1;
  private readonly timers = new Map<number, Timer>();
  /** Every sleep requested, in order (for asserting backoff delays). */
  readonly sleeps: number[] = [];

  constructor(start = 0) {
    this.current = start;
  }

  now(): number {
    return this.current;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const id = this.nextId++;
    this.timers.set(id, { at: this.current + Math.max(0, ms), fn });
    return { id };
  }

  clearTimeout(handle: TimerHandle): void {
    this.timers.delete(handle.id);
  }

  sleep(ms: number): Promise<void> {
    this.sleeps.push(ms);
    return new Promise((resolve) => {
      this.setTimeout(resolve, ms);
    });
  }

  /** Number of timers (and sleeps) not yet fired. */
  pending(): number {
    return this.timers.size;
  }

  /** Moves time forward by `ms`, firing every timer due on the way (in order of due time, then creation). */
  advance(ms: number): void {
    const target = this.current + ms;
    for (;;) {
      const due = this.earliest();
      if (due === undefined || due.at > target) break;
      this.fire(due);
    }
    this.current = target;
  }

  /** Runs time forward, timer by timer, until `promise` settles (or `maxMs` of fake time passes). */
  async run<T>(promise: Promise<T>, maxMs = 3_600_000): Promise<T> {
    let settled = false;
    const tracked = promise.finally(() => {
      settled = true;
    });
    tracked.catch(() => {});
    const limit = this.current + maxMs;
    for (;;) {
      await flush();
      if (settled) return tracked;
      const next = this.earliest();
      if (next === undefined) throw new Error('deadlock: promise pending and no timer to advance to');
      if (next.at > limit) throw new Error(`promise still pending after ${maxMs} ms of fake time`);
      this.fire(next);
    }
  }

  private earliest(): (Timer & { id: number }) | undefined {
    let best: (Timer & { id: number }) | undefined;
    for (const [id, t] of this.timers) {
      if (best === undefined || t.at < best.at || (t.at === best.at && id < best.id)) best = { id, ...t };
    }
    return best;
  }

  private fire(timer: Timer & { id: number }): void {
    this.timers.delete(timer.id);
    this.current = Math.max(this.current, timer.at);
    timer.fn();
  }
}
