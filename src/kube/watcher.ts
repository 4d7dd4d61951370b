/**
 * A LambdaPolicy watcher that does not die silently.
 *
 * client-node's informer (ListWatch) stops for good on any error other than 410, has no resync, and has been
 * reported to go quiet after minutes to hours (kubernetes-client/javascript #364, #596, #958). This one owns its
 * list+watch loop instead:
 * - list (paged), then watch from the list's resourceVersion with bookmarks; re-watch from the last seen
 *   resourceVersion when the server closes the watch; relist on 410 Gone (as an ERROR event or a status);
 * - after any other error: emit it, wait (1 s doubling to 30 s), relist, carry on; it never gives up;
 * - a periodic relist (default 10 min) repairs whatever a broken watch might have missed;
 * - a watchdog restarts the loop when nothing (no event, bookmark, reconnect or list) has happened for too long,
 *   including a list or connect that hangs;
 * - a relist is diffed against the cache, so listeners see the same add/update/delete events as from the watch.
 *
 * Listeners get key-level events (`namespace/name`) plus the object; they must only enqueue the key (level-based
 * reconciliation), never process inline. `needsReconcile` is the generation filter that keeps our own status
 * writes from waking us up.
 *
 * - a watch the server closes at once (no event, quicker than the backoff base) is reopened after a growing
 *   backoff too, so a server that ends every watch immediately is not asked again in a tight loop.
 */
import { APPROVE_GENERATION_ANNOTATION, type LambdaPolicy } from '../api/schema.ts';
import { type Clock, systemClock, type TimerHandle } from '../shared/clock.ts';
import { objectKey } from '../shared/keys.ts';
import { describeError, type Logger, silentLogger } from '../shared/logger.ts';
import { GoneError } from './errors.ts';

export type PolicyEventType = 'added' | 'updated' | 'deleted';

/** What the watcher needs of an object: its name, namespace and resourceVersion. */
export interface WatchedObject {
  metadata: { name: string; namespace?: string | undefined; resourceVersion?: string | undefined };
}

export interface PolicyEvent<T extends WatchedObject = LambdaPolicy> {
  type: PolicyEventType;
  /** `namespace/name` (cluster-scoped objects: `default/name`) */
  key: string;
  /** The object (for `deleted`: the last state known). Shared with the cache: never mutate it. */
  object: T;
  /** For `updated`: the state before. */
  previous?: T;
}

export type PolicyEventListener<T extends WatchedObject = LambdaPolicy> = (event: PolicyEvent<T>) => void;

/** A watch in progress; `abort` ends it without a `done` error reaching the watcher. */
export interface WatchHandle {
  abort(): void;
}

/**
 * The two calls a watcher needs from the API server. The Kubernetes implementation is kubernetesPolicyTransport;
 * unit tests script one to drive every failure path deterministically.
 */
export interface ListWatchTransport<T extends WatchedObject = LambdaPolicy> {
  list(): Promise<{ items: T[]; resourceVersion: string }>;
  /**
   * Starts a watch from `resourceVersion`. `onEvent` gets raw watch events (ADDED, MODIFIED, DELETED, BOOKMARK,
   * ERROR); `onDone` is called once when the watch ends (null: closed cleanly).
   */
  watch(
    resourceVersion: string,
    onEvent: (type: string, object: unknown) => void,
    onDone: (error: unknown) => void,
  ): Promise<WatchHandle>;
}

export interface WatcherOptions {
  clock?: Clock;
  logger?: Logger;
  /** Relist everything this often (ms). Default 600,000 (10 min). 0 disables. */
  relistIntervalMs?: number;
  /** Restart when nothing was seen for this long (ms). Default 900,000 (15 min). 0 disables. */
  watchdogMs?: number;
  /** Backoff after errors: first delay and cap (ms). Default 1,000 and 30,000. */
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  /** What is watched, in log lines (default "policy"). */
  resource?: string;
}

class WatcherInterruptedError extends Error {
  override readonly name = 'WatcherInterruptedError';
  readonly code = 'Interrupted';
}

/** An annotation users (or `kubectl annotate`) can bump to ask for an immediate check, as Flux does. */
export const RECONCILE_REQUEST_ANNOTATION = 'lambdapolicy.io/reconcile-requested-at';

/**
 * Whether an event should wake the reconciler (controller-runtime's GenerationChangedPredicate, plus deletion).
 * Status writes and finalizer/label edits do not change `metadata.generation`, so our own writes never wake us.
 */
export function needsReconcile(event: PolicyEvent): boolean {
  if (event.type !== 'updated' || event.previous === undefined) return true;
  const before = event.previous.metadata;
  const after = event.object.metadata;
  if (before.generation !== after.generation) return true;
  if (before.generation === undefined && JSON.stringify(event.previous.spec) !== JSON.stringify(event.object.spec)) {
    return true;
  }
  if (!before.deletionTimestamp && after.deletionTimestamp) return true;
  // Being deleted and someone else's finalizer went away: we may be the last one left.
  if (after.deletionTimestamp && (before.finalizers ?? []).join(',') !== (after.finalizers ?? []).join(',')) {
    return true;
  }
  if (before.annotations?.[APPROVE_GENERATION_ANNOTATION] !== after.annotations?.[APPROVE_GENERATION_ANNOTATION]) {
    return true;
  }
  return before.annotations?.[RECONCILE_REQUEST_ANNOTATION] !== after.annotations?.[RECONCILE_REQUEST_ANNOTATION];
}

type Phase = 'idle' | 'listing' | 'watching' | 'backoff' | 'stopped';

export interface WatcherStats {
  lists: number;
  watches: number;
  /** Watches the server ended at once, reopened after a backoff. */
  quickCloses: number;
  errors: number;
  watchdogRestarts: number;
  expired: number;
}

export class PolicyWatcher<T extends WatchedObject = LambdaPolicy> {
  private readonly transport: ListWatchTransport<T>;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly relistIntervalMs: number;
  private readonly watchdogMs: number;
  private readonly backoffBaseMs: number;
  private readonly backoffMaxMs: number;
  private readonly resource: string;

  private readonly cache = new Map<string, T>();
  private readonly listeners = new Set<PolicyEventListener<T>>();
  private readonly errorListeners = new Set<(error: unknown) => void>();
  private readonly syncWaiters: Array<() => void> = [];
  private resourceVersion = '';
  private needList = true;
  private phase: Phase = 'idle';
  private interruptCurrent: (() => void) | undefined;
  private loop: Promise<void> | undefined;
  private relistTimer: TimerHandle | undefined;
  private watchdogTimer: TimerHandle | undefined;
  private synced = false;
  private lastSync: Date | undefined;
  private lastActivity = 0;
  /** Watch events received so far (a watch that delivered one was not closed "at once"). */
  private eventsSeen = 0;
  readonly stats: WatcherStats = { lists: 0, watches: 0, quickCloses: 0, errors: 0, watchdogRestarts: 0, expired: 0 };

  constructor(transport: ListWatchTransport<T>, options: WatcherOptions = {}) {
    this.transport = transport;
    this.clock = options.clock ?? systemClock;
    this.log = options.logger ?? silentLogger;
    this.relistIntervalMs = options.relistIntervalMs ?? 600_000;
    this.watchdogMs = options.watchdogMs ?? 900_000;
    this.backoffBaseMs = options.backoffBaseMs ?? 1_000;
    this.backoffMaxMs = options.backoffMaxMs ?? 30_000;
    this.resource = options.resource ?? 'policy';
  }

  /** Subscribes to key-level events; returns the unsubscribe function. */
  on(listener: PolicyEventListener<T>): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Subscribes to errors (each one is followed by a backoff and a relist). */
  onError(listener: (error: unknown) => void): () => void {
    this.errorListeners.add(listener);
    return () => this.errorListeners.delete(listener);
  }

  /** True once the first list has been applied (readiness). */
  ready(): boolean {
    return this.synced && this.phase !== 'stopped';
  }

  /** When the last successful list completed. */
  get lastSyncTime(): Date | undefined {
    return this.lastSync;
  }

  /** Clock time of the last sign of life (list, connect, event or bookmark). */
  get lastActivityTime(): number {
    return this.lastActivity;
  }

  get currentPhase(): Phase {
    return this.phase;
  }

  get(key: string): T | undefined {
    return this.cache.get(key);
  }

  list(): T[] {
    return [...this.cache.values()];
  }

  keys(): string[] {
    return [...this.cache.keys()];
  }

  /** Resolves after the first successful list. */
  waitForSync(): Promise<void> {
    if (this.synced) return Promise.resolve();
    return new Promise((resolve) => this.syncWaiters.push(resolve));
  }

  start(): void {
    if (this.loop) return;
    this.phase = 'idle';
    this.lastActivity = this.clock.now();
    this.armRelistTimer();
    this.armWatchdog();
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.phase = 'stopped';
    if (this.relistTimer) this.clock.clearTimeout(this.relistTimer);
    if (this.watchdogTimer) this.clock.clearTimeout(this.watchdogTimer);
    this.interruptCurrent?.();
    await this.loop;
    this.loop = undefined;
  }

  /** Forces a relist now (e.g. after the API server came back). The watch is ended and reopened after the list. */
  relist(): void {
    this.needList = true;
    if (this.phase === 'watching') this.interruptCurrent?.();
  }

  private get stopped(): boolean {
    return this.phase === 'stopped';
  }

  private async run(): Promise<void> {
    let failures = 0;
    let quickCloses = 0;
    while (!this.stopped) {
      try {
        if (this.needList) {
          await this.listOnce();
          failures = 0;
        }
        if (this.stopped) break;
        const opened = this.clock.now();
        const eventsBefore = this.eventsSeen;
        const end = await this.watchOnce();
        const quick = this.eventsSeen === eventsBefore && this.clock.now() - opened < this.backoffBaseMs;
        quickCloses = end === 'closed' && quick && !this.needList ? quickCloses + 1 : 0;
        if (quickCloses > 0 && !this.stopped) {
          this.stats.quickCloses++;
          await this.sleep(this.backoffDelay(quickCloses));
        }
      } catch (error) {
        if (this.stopped) break;
        this.needList = true;
        failures++;
        this.stats.errors++;
        const delay = this.backoffDelay(failures);
        this.log.warn(
          { ...describeError(error), retryInMs: delay, failures },
          `${this.resource} watch failed; relisting after backoff`,
        );
        for (const listener of this.errorListeners) {
          try {
            listener(error);
          } catch {
            // A listener's failure must not stop the watcher.
          }
        }
        await this.sleep(delay);
      }
    }
  }

  /** base * 2^(n-1), capped. */
  private backoffDelay(n: number): number {
    return Math.min(this.backoffBaseMs * 2 ** Math.min(n - 1, 30), this.backoffMaxMs);
  }

  private async listOnce(): Promise<void> {
    this.phase = 'listing';
    const interrupted = new Promise<never>((_, reject) => {
      this.interruptCurrent = () => reject(new WatcherInterruptedError('list interrupted'));
    });
    // A hung list must not hang the watcher: the watchdog (or stop) rejects `interrupted`.
    interrupted.catch(() => {});
    let result: { items: T[]; resourceVersion: string };
    try {
      result = await Promise.race([this.transport.list(), interrupted]);
    } finally {
      this.interruptCurrent = undefined;
    }
    if (this.stopped) return;
    this.stats.lists++;
    this.applyList(result.items);
    this.resourceVersion = result.resourceVersion;
    this.needList = false;
    this.markActivity();
    this.lastSync = new Date(this.clock.now());
    if (!this.synced) {
      this.synced = true;
      for (const resolve of this.syncWaiters.splice(0)) resolve();
    }
    this.log.debug(
      { items: result.items.length, resourceVersion: result.resourceVersion },
      this.resource === 'policy' ? 'policies listed' : `${this.resource} list applied`,
    );
  }

  /** Resolves, saying how, when the watch ends normally; rejects on an error. */
  private watchOnce(): Promise<'closed' | 'expired' | 'interrupted' | 'timeout' | 'stopped'> {
    this.phase = 'watching';
    return new Promise((resolve, reject) => {
      let settled = false;
      let handle: WatchHandle | undefined;
      let eventError: unknown;
      const finish = (error: unknown) => {
        if (settled) return;
        settled = true;
        this.interruptCurrent = undefined;
        handle?.abort();
        if (this.stopped) return resolve('stopped');
        if (eventError !== undefined) return reject(eventError);
        if (interrupted) return resolve('interrupted');
        if (error === null || error === undefined) return resolve('closed');
        if (isGone(error)) {
          this.expire();
          return resolve('expired');
        }
        // The client's inactivity timer: reconnect from where we were, no backoff (we already waited).
        if (error instanceof Error && error.name === 'TimeoutError') return resolve('timeout');
        reject(error);
      };
      let interrupted = false;
      this.interruptCurrent = () => {
        interrupted = true;
        finish(null);
      };
      this.stats.watches++;
      this.transport
        .watch(
          this.resourceVersion,
          (type, object) => {
            if (settled) return;
            this.eventsSeen++;
            this.markActivity();
            if (type === 'ERROR') {
              if (isGone(object)) this.expire();
              else eventError = new Error(`watch error event: ${statusMessage(object)}`);
              return;
            }
            this.applyWatchEvent(type, object);
          },
          (error) => finish(error),
        )
        .then(
          (h) => {
            handle = h;
            if (settled) h.abort();
            else this.markActivity();
          },
          (error: unknown) => finish(error ?? new Error('watch failed')),
        );
    });
  }

  private expire(): void {
    this.stats.expired++;
    this.needList = true;
    this.resourceVersion = '';
  }

  private sleep(ms: number): Promise<void> {
    this.phase = 'backoff';
    return new Promise((resolve) => {
      const timer = this.clock.setTimeout(() => {
        this.interruptCurrent = undefined;
        resolve();
      }, ms);
      // Only stop() interrupts a backoff (the periodic relist and the watchdog leave it alone).
      this.interruptCurrent = () => {
        this.clock.clearTimeout(timer);
        this.interruptCurrent = undefined;
        resolve();
      };
    });
  }

  private markActivity(): void {
    this.lastActivity = this.clock.now();
  }

  private armRelistTimer(): void {
    if (this.relistIntervalMs <= 0) return;
    this.relistTimer = this.clock.setTimeout(() => {
      if (this.stopped) return;
      this.log.debug({}, 'periodic relist');
      this.relist();
      this.armRelistTimer();
    }, this.relistIntervalMs);
  }

  private armWatchdog(): void {
    if (this.watchdogMs <= 0) return;
    const every = Math.max(1, Math.min(this.watchdogMs / 4, 60_000));
    this.watchdogTimer = this.clock.setTimeout(() => {
      if (this.stopped) return;
      const quietFor = this.clock.now() - this.lastActivity;
      if (quietFor >= this.watchdogMs && (this.phase === 'listing' || this.phase === 'watching')) {
        this.stats.watchdogRestarts++;
        this.log.warn(
          { quietForMs: quietFor, phase: this.phase },
          `${this.resource} watch silent for too long; restarting`,
        );
        this.needList = true;
        this.markActivity();
        this.interruptCurrent?.();
      }
      this.armWatchdog();
    }, every);
  }

  private applyList(items: T[]): void {
    const seen = new Set<string>();
    for (const item of items) {
      const key = objectKey(item);
      seen.add(key);
      this.upsert(key, item);
    }
    for (const [key, object] of [...this.cache]) {
      if (!seen.has(key)) {
        this.cache.delete(key);
        this.emit({ type: 'deleted', key, object });
      }
    }
  }

  private applyWatchEvent(type: string, raw: unknown): void {
    if (!isObjectWithMeta(raw)) return;
    const object = raw as unknown as T;
    if (object.metadata.resourceVersion) this.resourceVersion = object.metadata.resourceVersion;
    if (type === 'BOOKMARK') return;
    const key = objectKey(object);
    if (type === 'ADDED' || type === 'MODIFIED') this.upsert(key, object);
    else if (type === 'DELETED') {
      const known = this.cache.get(key);
      this.cache.delete(key);
      if (known !== undefined || object.metadata.name) this.emit({ type: 'deleted', key, object });
    }
  }

  private upsert(key: string, object: T): void {
    const previous = this.cache.get(key);
    if (previous && previous.metadata.resourceVersion === object.metadata.resourceVersion) return;
    this.cache.set(key, object);
    this.emit(previous ? { type: 'updated', key, object, previous } : { type: 'added', key, object });
  }

  private emit(event: PolicyEvent<T>): void {
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch (error) {
        this.log.error({ ...describeError(error), key: event.key }, 'policy event listener threw');
      }
    }
  }
}

function isObjectWithMeta(v: unknown): v is { metadata: { name: string; resourceVersion?: string } } {
  return typeof v === 'object' && v !== null && typeof (v as { metadata?: unknown }).metadata === 'object';
}

/** 410 Gone: as an HTTP error (`statusCode`/`code`) or as the Status object of an ERROR event. */
function isGone(v: unknown): boolean {
  if (v instanceof GoneError) return true;
  if (typeof v !== 'object' || v === null) return false;
  const o = v as { code?: unknown; statusCode?: unknown; reason?: unknown };
  return o.code === 410 || o.statusCode === 410 || o.reason === 'Expired' || o.reason === 'Gone';
}

function statusMessage(v: unknown): string {
  if (typeof v === 'object' && v !== null) {
    const o = v as { code?: unknown; message?: unknown };
    return `${String(o.code ?? '?')} ${String(o.message ?? '')}`.trim();
  }
  return String(v);
}
