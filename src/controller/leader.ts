/**
 * Leader election on a coordination.k8s.io/v1 Lease, with client-go's algorithm and defaults (lease 15 s, renew
 * deadline 10 s, retry 2 s):
 * - a candidate reads the Lease every retry period; it takes it when it is free (no holder: released), or when
 *   the holder has not renewed for a lease duration *as observed locally* (our clock, not the holder's
 *   renewTime, so clock skew between pods cannot steal a lease);
 * - every write is a replace carrying the resourceVersion that was read, so two candidates can never both win;
 * - the leader renews every retry period; when it has not managed to renew for the renew deadline it stops
 *   leading and calls `onStoppedLeading` (the manager exits the process, as controller-runtime does: a leader
 *   that lost the lease must not keep writing);
 * - `stop()` releases the lease by clearing holderIdentity, so a standby takes over at its next retry instead
 *   of waiting a full lease duration.
 */
import { hostname } from 'node:os';
import { ConflictError } from '../kube/errors.ts';
import type { LeaseClient, LeaseRecord } from '../kube/lease.ts';
import { type Clock, systemClock, type TimerHandle } from '../shared/clock.ts';
import { describeError, type Logger, silentLogger } from '../shared/logger.ts';

export { DEFAULT_LEASE_NAME } from './lease-name.ts';

export function defaultIdentity(): string {
  return `${hostname()}_${process.pid}`;
}

export interface LeaderElectorOptions {
  identity?: string;
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
  /**
   * How long one attempt (read + write of the Lease) may take before it counts as failed. Default the retry period:
   * a request that hangs must not hold the elector past its renew deadline.
   */
  attemptTimeoutMs?: number;
  clock?: Clock;
  logger?: Logger;
  onStartedLeading?: () => void;
  /** Called once when leadership is lost (not on a voluntary stop): the caller should exit. */
  onStoppedLeading?: () => void;
  /** Called whenever the observed leader changes (including to us). */
  onNewLeader?: (identity: string | undefined) => void;
}

export class LeaderElector {
  readonly identity: string;
  private readonly client: LeaseClient;
  private readonly leaseDurationMs: number;
  private readonly renewDeadlineMs: number;
  private readonly retryPeriodMs: number;
  private readonly attemptTimeoutMs: number;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly options: LeaderElectorOptions;

  private leading = false;
  private running = false;
  private timer: TimerHandle | undefined;
  private inFlight: Promise<void> | undefined;
  /** When the last successful attempt started: the renewTime it wrote, so expiry is never later than we think. */
  private lastRenew = 0;
  private attempts = 0;
  private renewWatchdog: TimerHandle | undefined;
  private observed: { key: string; at: number; record: LeaseRecord; resourceVersion: string } | undefined;
  private currentLeader: string | undefined;

  constructor(client: LeaseClient, options: LeaderElectorOptions = {}) {
    this.client = client;
    this.options = options;
    this.identity = options.identity ?? defaultIdentity();
    this.leaseDurationMs = options.leaseDurationMs ?? 15_000;
    this.renewDeadlineMs = options.renewDeadlineMs ?? 10_000;
    this.retryPeriodMs = options.retryPeriodMs ?? 2_000;
    this.attemptTimeoutMs = options.attemptTimeoutMs ?? this.retryPeriodMs;
    this.clock = options.clock ?? systemClock;
    this.log = options.logger ?? silentLogger;
    if (!(this.leaseDurationMs > this.renewDeadlineMs && this.renewDeadlineMs > this.retryPeriodMs)) {
      throw new RangeError('leader election needs leaseDuration > renewDeadline > retryPeriod');
    }
  }

  isLeader(): boolean {
    return this.leading;
  }

  /** The holder as last observed (may be us). */
  get leader(): string | undefined {
    return this.currentLeader;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.tick();
  }

  /** Stops campaigning; when leading, releases the lease for a fast hand-over. */
  async stop(): Promise<void> {
    this.running = false;
    if (this.timer) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.disarmWatchdog();
    await this.inFlight;
    if (this.leading) {
      this.leading = false;
      await this.withDeadline(this.release(), undefined);
    }
  }

  private tick(): void {
    if (!this.running) return;
    const attempt = ++this.attempts;
    const started = this.clock.now();
    const outcome = this.tryAcquireOrRenew(attempt).then(
      (ok) => (ok ? ('ok' as const) : ('failed' as const)),
      (error: unknown) => {
        this.log.warn(describeError(error), 'leader election attempt failed');
        return 'failed' as const;
      },
    );
    this.inFlight = this.withDeadline(outcome, 'timeout' as const)
      .then((result) => {
        if (result === 'timeout') {
          this.log.warn({ timeoutMs: this.attemptTimeoutMs }, 'leader election attempt timed out');
        }
        // An attempt that answers after its deadline is ignored: the next one has started from a fresh read.
        if (attempt === this.attempts) this.afterAttempt(result === 'ok', started);
      })
      .finally(() => {
        this.inFlight = undefined;
        if (this.running) this.timer = this.clock.setTimeout(() => this.tick(), this.retryPeriodMs);
      });
  }

  /** `work`, or `onTimeout` once the attempt timeout has passed (the work itself is left to finish or hang). */
  private withDeadline<T, U>(work: Promise<T>, onTimeout: U): Promise<T | U> {
    let timer: TimerHandle | undefined;
    const deadline = new Promise<U>((resolve) => {
      timer = this.clock.setTimeout(() => resolve(onTimeout), this.attemptTimeoutMs);
    });
    return Promise.race([work, deadline]).finally(() => {
      if (timer) this.clock.clearTimeout(timer);
    });
  }

  private afterAttempt(ok: boolean, started: number): void {
    if (!this.running) return;
    if (ok) {
      this.lastRenew = started;
      if (!this.leading) {
        this.leading = true;
        this.log.info({ identity: this.identity }, 'became leader');
        this.options.onStartedLeading?.();
      }
      this.armWatchdog();
      return;
    }
    if (this.leading && this.clock.now() - this.lastRenew >= this.renewDeadlineMs) this.stepDown();
  }

  /**
   * Steps down at the renew deadline whatever the attempts are doing (one may hang): the Lease runs for the lease
   * duration from the last renewal, so a leader that stops at the renew deadline stops before anyone may take over.
   */
  private armWatchdog(): void {
    this.disarmWatchdog();
    const due = this.lastRenew + this.renewDeadlineMs - this.clock.now();
    this.renewWatchdog = this.clock.setTimeout(() => {
      this.renewWatchdog = undefined;
      if (this.leading && this.clock.now() - this.lastRenew >= this.renewDeadlineMs) this.stepDown();
    }, due);
  }

  private disarmWatchdog(): void {
    if (this.renewWatchdog) this.clock.clearTimeout(this.renewWatchdog);
    this.renewWatchdog = undefined;
  }

  private stepDown(): void {
    if (!this.leading) return;
    this.leading = false;
    this.running = false;
    this.disarmWatchdog();
    if (this.timer) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.log.error({ identity: this.identity, sinceRenewMs: this.clock.now() - this.lastRenew }, 'lost leader lease');
    this.options.onStoppedLeading?.();
  }

  /** Whether `attempt` is still the one that counts (not timed out, elector not stopped). */
  private current(attempt: number): boolean {
    return this.running && attempt === this.attempts;
  }

  /**
   * One round of client-go's tryAcquireOrRenew. An attempt that timed out while reading writes nothing when its read
   * answers: a late write would renew a Lease this candidate no longer acts on.
   */
  private async tryAcquireOrRenew(attempt: number): Promise<boolean> {
    const now = this.clock.now();
    const desired: LeaseRecord = {
      holderIdentity: this.identity,
      leaseDurationSeconds: Math.ceil(this.leaseDurationMs / 1000),
      acquireTime: new Date(now),
      renewTime: new Date(now),
      leaseTransitions: 0,
    };
    const current = await this.client.get();
    if (!this.current(attempt)) return false;
    if (current === undefined) {
      try {
        await this.client.create(desired);
      } catch (error) {
        if (error instanceof ConflictError) return false;
        throw error;
      }
      this.observe(desired, '');
      return true;
    }
    this.observe(current.record, current.resourceVersion);
    const holder = current.record.holderIdentity;
    const observedAt = this.observed?.at ?? now;
    const heldByOther = holder !== undefined && holder !== '' && holder !== this.identity;
    const durationMs = (current.record.leaseDurationSeconds ?? this.leaseDurationMs / 1000) * 1000;
    if (heldByOther && observedAt + durationMs > now) return false;
    if (holder === this.identity) {
      desired.acquireTime = current.record.acquireTime ?? desired.acquireTime;
      desired.leaseTransitions = current.record.leaseTransitions ?? 0;
    } else {
      desired.leaseTransitions = (current.record.leaseTransitions ?? 0) + 1;
    }
    if (!this.current(attempt)) return false;
    try {
      await this.client.update(desired, current.resourceVersion);
    } catch (error) {
      if (error instanceof ConflictError) return false;
      throw error;
    }
    this.observe(desired, '');
    return true;
  }

  /** Remembers when the lease record last changed, by our clock (expiry is measured from this). */
  private observe(record: LeaseRecord, resourceVersion: string): void {
    const key = `${record.holderIdentity ?? ''}|${record.renewTime?.getTime() ?? ''}`;
    if (this.observed?.key !== key) {
      this.observed = { key, at: this.clock.now(), record, resourceVersion };
    }
    const leader = record.holderIdentity || undefined;
    if (leader !== this.currentLeader) {
      this.currentLeader = leader;
      this.options.onNewLeader?.(leader);
    }
  }

  private async release(): Promise<void> {
    try {
      const current = await this.client.get();
      if (!current || current.record.holderIdentity !== this.identity) return;
      const now = new Date(this.clock.now());
      await this.client.update(
        {
          leaseDurationSeconds: 1,
          renewTime: now,
          acquireTime: now,
          leaseTransitions: current.record.leaseTransitions,
        },
        current.resourceVersion,
      );
      this.log.info({ identity: this.identity }, 'released leader lease');
    } catch (error) {
      // The lease then simply expires after its duration.
      this.log.warn(describeError(error), 'releasing the leader lease failed');
    }
  }
}
