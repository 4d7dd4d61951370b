/** A manual clock for the AWS adapters: time moves only when a test advances it, so nothing sleeps for real. */
import type { Clock } from '../../../src/aws/clock.ts';

interface Sleeper {
  at: number;
  seq: number;
  resolve: () => void;
}

/** Lets every queued microtask and promise continuation run. */
export function flush(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

export class FakeClock implements Clock {
  private t: number;
  private seq = 0;
  private sleepers: Sleeper[] = [];
  /** Every sleep requested, in order (for asserting backoff delays). */
  readonly sleeps: number[] = [];

  constructor(start = 1_000_000) {
    this.t = start;
  }

  now(): number {
    return this.t;
  }

  sleep(ms: number): Promise<void> {
    this.sleeps.push(ms);
    return new Promise((resolve) => {
      this.sleepers.push({ at: this.t + Math.max(0, ms), seq: this.seq++, resolve });
    });
  }

  get pendingSleepers(): number {
    return this.sleepers.length;
  }

  /** Moves time forward by `ms`, waking sleepers in time order and letting each one's continuation run. */
  async advance(ms: number): Promise<void> {
    const target = this.t + ms;
    for (;;) {
      await flush();
      const next = this.earliest();
      if (next === undefined || next.at > target) break;
      this.wake(next);
    }
    this.t = target;
    await flush();
  }

  /** Runs time forward, jumping from timer to timer, until `promise` settles (or `maxMs` of fake time passes). */
  async run<T>(promise: Promise<T>, maxMs = 3_600_000): Promise<T> {
    let settled = false;
    const tracked = promise.finally(() => {
      settled = true;
    });
    tracked.catch(() => {});
    const limit = this.t + maxMs;
    for (;;) {
      await flush();
      if (settled) return tracked;
      const next = this.earliest();
      if (next === undefined) throw new Error('deadlock: promise pending and no timer to advance to');
      if (next.at > limit) throw new Error(`promise still pending after ${maxMs} ms of fake time`);
      this.wake(next);
    }
  }

  private earliest(): Sleeper | undefined {
    let best: Sleeper | undefined;
    for (const s of this.sleepers) {
      if (!best || s.at < best.at || (s.at === best.at && s.seq < best.seq)) best = s;
    }
    return best;
  }

  private wake(s: Sleeper): void {
    this.sleepers = this.sleepers.filter((x) => x !== s);
    this.t = Math.max(this.t, s.at);
    s.resolve();
  }
}
