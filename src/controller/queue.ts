/**
 * A work queue with controller-runtime (client-go workqueue) semantics, so reconciliation is level-based and safe:
 *
 * - keys are deduplicated: adding a key that is already waiting does nothing;
 * - a key is never handed to two workers at once: a key added while it is being processed is parked ("dirty")
 *   and handed out once more after `done(key)`;
 * - `addAfter(key, ms)` delays a key; when it is delayed several times, the earliest time wins;
 * - `addRateLimited(key)` delays by a per-key exponential backoff (base 5 ms, doubling, capped at 1000 s) until
 *   `forget(key)` resets it (after a successful reconcile);
 * - `shutdown()` wakes every waiting worker with `undefined`, drops delayed keys and refuses new ones;
 * - with `groupOf` and `maxPerGroup`, at most that many keys of one group are handed out at once: a key whose
 *   group is at its cap stays in line, and the next key of another group is handed out instead (so one group —
 *   an AWS account with many regions — cannot hold every worker while another group's keys wait).
 */
import { type Clock, systemClock, type TimerHandle, timerDelay } from '../shared/clock.ts';
import type { WorkQueueMetrics } from './metrics.ts';

export interface BackoffOptions {
  /** First delay, in ms. Default 5. */
  baseMs?: number;
  /** Upper bound, in ms. Default 1,000,000 (1000 s). */
  maxMs?: number;
}

/** Per-key exponential backoff: base * 2^failures, capped. */
export class ExponentialBackoff {
  readonly baseMs: number;
  readonly maxMs: number;
  private readonly failures = new Map<string, number>();

  constructor(options: BackoffOptions = {}) {
    this.baseMs = options.baseMs ?? 5;
    this.maxMs = options.maxMs ?? 1_000_000;
    if (!(this.baseMs > 0) || !(this.maxMs >= this.baseMs)) {
      throw new RangeError(`invalid backoff: baseMs=${this.baseMs} maxMs=${this.maxMs}`);
    }
  }

  /** The delay for the next retry of `key`; counts one more failure. */
  when(key: string): number {
    const n = this.failures.get(key) ?? 0;
    this.failures.set(key, n + 1);
    // 2 ** 1100 is Infinity; cap the exponent so the arithmetic stays finite.
    return Math.min(this.baseMs * 2 ** Math.min(n, 1000), this.maxMs);
  }

  retries(key: string): number {
    return this.failures.get(key) ?? 0;
  }

  forget(key: string): void {
    this.failures.delete(key);
  }
}

export interface WorkQueueOptions extends BackoffOptions {
  clock?: Clock;
  /** Called whenever the depth may have changed (for a gauge). */
  onDepthChange?: (depth: number) => void;
  /** Adds, waits, work and retries, in client-go's terms (`workqueue_*`). */
  metrics?: WorkQueueMetrics;
  /** The group a key counts against (undefined: none, never held back). */
  groupOf?: (key: string) => string | undefined;
  /** Keys of one group handed out at once, at most (needs `groupOf`). Default: no limit. */
  maxPerGroup?: number;
}

type Waiter = (key: string | undefined) => void;

export class WorkQueue {
  private readonly clock: Clock;
  private readonly backoff: ExponentialBackoff;
  private readonly onDepthChange: ((depth: number) => void) | undefined;
  private readonly metrics: WorkQueueMetrics | undefined;
  /** Keys ready to be handed out, in order. */
  private readonly ready: string[] = [];
  /** Keys that need processing (waiting in `ready`, or re-added while being processed). */
  private readonly dirty = new Set<string>();
  /** Keys handed to a worker and not yet `done`. */
  private readonly processing = new Set<string>();
  /** Delayed keys: when each becomes ready. */
  private readonly delayed = new Map<string, number>();
  private delayTimer: { handle: TimerHandle; at: number } | undefined;
  private readonly waiters: Waiter[] = [];
  private readonly drainWaiters: Array<() => void> = [];
  private shuttingDown = false;
  private readonly groupOf: ((key: string) => string | undefined) | undefined;
  private readonly maxPerGroup: number;
  /** Keys being processed, per group (only groups with at least one). */
  private readonly active = new Map<string, number>();

  constructor(options: WorkQueueOptions = {}) {
    this.clock = options.clock ?? systemClock;
    this.backoff = new ExponentialBackoff(options);
    this.onDepthChange = options.onDepthChange;
    this.metrics = options.metrics;
    this.groupOf = options.groupOf;
    this.maxPerGroup = options.maxPerGroup ?? Number.POSITIVE_INFINITY;
    if (!(this.maxPerGroup >= 1)) throw new RangeError(`invalid maxPerGroup: ${this.maxPerGroup}`);
  }

  /** Keys waiting to be handed out (not counting delayed or in-flight keys). */
  get depth(): number {
    return this.ready.length;
  }

  /** Keys waiting for their delay to pass. */
  get delayedCount(): number {
    return this.delayed.size;
  }

  /** Keys currently held by workers. */
  get inFlight(): number {
    return this.processing.size;
  }

  /** Keys of `group` currently held by workers. */
  inFlightOf(group: string): number {
    return this.active.get(group) ?? 0;
  }

  get isShuttingDown(): boolean {
    return this.shuttingDown;
  }

  add(key: string): void {
    if (this.shuttingDown || this.dirty.has(key)) return;
    this.dirty.add(key);
    this.metrics?.added(key);
    // Being processed: `done` re-queues it, so the same key never reaches two workers.
    if (this.processing.has(key)) return;
    this.pushReady(key);
  }

  /** Adds `key` after `ms`. If the key is already delayed, the earlier of the two times wins. */
  addAfter(key: string, ms: number): void {
    if (this.shuttingDown) return;
    this.metrics?.retried(key);
    if (!(ms > 0)) {
      this.add(key);
      return;
    }
    const at = this.clock.now() + ms;
    const existing = this.delayed.get(key);
    if (existing !== undefined && existing <= at) return;
    this.delayed.set(key, at);
    this.armDelayTimer();
  }

  /** Adds `key` after its next backoff delay (5 ms, 10 ms, 20 ms ... capped). */
  addRateLimited(key: string): void {
    this.addAfter(key, this.backoff.when(key));
  }

  /** Resets the backoff of `key` (call after a successful reconcile). */
  forget(key: string): void {
    this.backoff.forget(key);
  }

  /** How many times `key` has been rate-limited since the last `forget`. */
  numRequeues(key: string): number {
    return this.backoff.retries(key);
  }

  /**
   * The next key to process; waits when none is ready. Resolves `undefined` once the queue is shut down.
   * The caller owns the key until it calls `done(key)`.
   */
  get(): Promise<string | undefined> {
    if (this.shuttingDown) return Promise.resolve(undefined);
    const key = this.takeReady();
    if (key !== undefined) return Promise.resolve(key);
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Marks `key` processed; if it was re-added meanwhile it becomes ready again. */
  done(key: string): void {
    if (this.processing.delete(key)) this.release(key);
    this.metrics?.finished(key);
    if (this.dirty.has(key) && !this.shuttingDown) {
      this.pushReady(key);
    }
    // A slot of the key's group came free: a key of it that was held back may go to a waiting worker now.
    this.dispatch();
    if (this.processing.size === 0) {
      for (const resolve of this.drainWaiters.splice(0)) resolve();
    }
  }

  /** Stops handing out keys: waiting workers get `undefined`, delayed keys are dropped, adds are ignored. */
  shutdown(): void {
    if (this.shuttingDown) return;
    this.shuttingDown = true;
    if (this.delayTimer) this.clock.clearTimeout(this.delayTimer.handle);
    this.delayTimer = undefined;
    this.delayed.clear();
    this.ready.length = 0;
    this.dirty.clear();
    for (const resolve of this.waiters.splice(0)) resolve(undefined);
    this.onDepthChange?.(0);
  }

  /** Resolves once no key is being processed (use after `shutdown` for a graceful stop). */
  drain(): Promise<void> {
    if (this.processing.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  private pushReady(key: string): void {
    if (this.waiters.length > 0 && this.eligible(key)) {
      const waiter = this.waiters.shift();
      if (waiter) {
        this.start(key);
        waiter(key);
        return;
      }
    }
    this.ready.push(key);
    this.onDepthChange?.(this.ready.length);
  }

  /** The first ready key whose group has room, taken out of line (undefined: none may go now). */
  private takeReady(): string | undefined {
    const index = this.ready.findIndex((k) => this.eligible(k));
    if (index < 0) return undefined;
    const [key] = this.ready.splice(index, 1);
    if (key === undefined) return undefined;
    this.start(key);
    this.onDepthChange?.(this.ready.length);
    return key;
  }

  /** Hands held-back keys that may go now to waiting workers. */
  private dispatch(): void {
    while (this.waiters.length > 0) {
      const key = this.takeReady();
      if (key === undefined) return;
      this.waiters.shift()?.(key);
    }
  }

  private start(key: string): void {
    this.dirty.delete(key);
    this.processing.add(key);
    const group = this.groupOf?.(key);
    if (group !== undefined) this.active.set(group, (this.active.get(group) ?? 0) + 1);
    this.metrics?.started(key);
  }

  private release(key: string): void {
    const group = this.groupOf?.(key);
    if (group === undefined) return;
    const n = (this.active.get(group) ?? 0) - 1;
    if (n > 0) this.active.set(group, n);
    else this.active.delete(group);
  }

  private eligible(key: string): boolean {
    const group = this.groupOf?.(key);
    return group === undefined || (this.active.get(group) ?? 0) < this.maxPerGroup;
  }

  /** One timer for the earliest delayed key; re-armed whenever the earliest time moves. */
  private armDelayTimer(): void {
    let earliest: number | undefined;
    for (const at of this.delayed.values()) {
      if (earliest === undefined || at < earliest) earliest = at;
    }
    if (earliest === undefined) {
      if (this.delayTimer) this.clock.clearTimeout(this.delayTimer.handle);
      this.delayTimer = undefined;
      return;
    }
    if (this.delayTimer && this.delayTimer.at <= earliest) return;
    if (this.delayTimer) this.clock.clearTimeout(this.delayTimer.handle);
    const at = earliest;
    // At most MAX_TIMER_MS ahead: a longer timer would fire at once and spin. A timer that fires before the key is
    // due just re-arms for the rest.
    const delay = timerDelay(at - this.clock.now());
    this.delayTimer = { at, handle: this.clock.setTimeout(() => this.fireDelayed(), delay) };
  }

  private fireDelayed(): void {
    this.delayTimer = undefined;
    const now = this.clock.now();
    const due = [...this.delayed].filter(([, at]) => at <= now).sort((a, b) => a[1] - b[1]);
    for (const [key] of due) {
      this.delayed.delete(key);
      this.add(key);
    }
    this.armDelayTimer();
  }
}
