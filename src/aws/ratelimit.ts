/**
 * Client-side pacing of AWS calls: one token bucket per AWS quota bucket per region, plus the retry policy for
 * throttling and transient failures. The SDK's own retries are disabled (clients.ts) so this is the only place
 * that decides when a call is sent again — otherwise SDK retries would spend tokens the bucket never saw.
 */

import { type Clock, systemClock } from '../shared/clock.ts';
import { type AwsError, AwsThrottledError, classifyAwsError } from './errors.ts';

/** The AWS request-quota buckets the controller calls into. */
export type BucketName = 'lambda' | 'lambda-getfunction' | 'autoscaling' | 'tagging' | 'logs';

export const BUCKET_NAMES: readonly BucketName[] = ['lambda', 'lambda-getfunction', 'autoscaling', 'tagging', 'logs'];

/** Requests per second per bucket per region. */
export type Rates = Record<BucketName, number>;

/**
 * Defaults stay below AWS's fixed quotas (Lambda: 15 req/s shared by the control plane, GetFunction 100 req/s) so
 * other tools in the account keep some headroom. Application Auto Scaling and the tagging API publish no quota.
 */
export const DEFAULT_RATES: Rates = {
  lambda: 10,
  'lambda-getfunction': 80,
  autoscaling: 10,
  tagging: 10,
  // CloudWatch Logs: DescribeLogGroups and PutRetentionPolicy have their own per-API quotas; stay well below them.
  logs: 4,
};

export type CallOutcome = 'ok' | 'throttled' | 'error';

export interface CallEvent {
  api: string;
  bucket: BucketName;
  region: string;
  outcome: CallOutcome;
  durationMs: number;
  /** 1 for the first attempt of a logical call. */
  attempt: number;
  error?: AwsError;
}

export type OnCall = (event: CallEvent) => void;

export interface TokenBucketOptions {
  ratePerSecond: number;
  /** Tokens that may be spent at once after idling; default max(1, rate / 5). */
  burst?: number | undefined;
  clock?: Clock;
}

/**
 * A token bucket with an async `take()` that waits its turn (FIFO), and `pause()` for Retry-After: while paused no
 * token is handed out and none accrues, so waiters resume at the configured rate afterwards instead of in a burst.
 */
export class TokenBucket {
  readonly ratePerSecond: number;
  readonly burst: number;
  private readonly clock: Clock;
  private tokens: number;
  private lastRefill: number;
  private pausedUntil = 0;
  private readonly waiters: Array<() => void> = [];
  private timerPending = false;

  constructor(options: TokenBucketOptions) {
    if (!(options.ratePerSecond > 0)) throw new RangeError(`rate must be > 0, got ${options.ratePerSecond}`);
    this.ratePerSecond = options.ratePerSecond;
    this.burst = Math.max(1, options.burst ?? Math.floor(options.ratePerSecond / 5));
    this.clock = options.clock ?? systemClock;
    this.tokens = this.burst;
    this.lastRefill = this.clock.now();
  }

  /** Resolves when the caller may send one request. */
  take(): Promise<void> {
    return new Promise<void>((resolve) => {
      this.waiters.push(resolve);
      this.pump();
    });
  }

  /** Stop handing out tokens for `ms` (e.g. AWS's Retry-After). Overlapping pauses keep the later end. */
  pause(ms: number): void {
    const now = this.clock.now();
    this.refill(now);
    this.pausedUntil = Math.max(this.pausedUntil, now + ms);
    this.tokens = Math.min(this.tokens, 0);
    this.lastRefill = Math.max(this.lastRefill, this.pausedUntil);
  }

  /** Milliseconds of pause left (0 when not paused). */
  pausedForMs(): number {
    return Math.max(0, this.pausedUntil - this.clock.now());
  }

  /** Callers waiting for a token right now (for metrics). */
  get queued(): number {
    return this.waiters.length;
  }

  private refill(now: number): void {
    const from = Math.max(this.lastRefill, this.pausedUntil);
    if (now > from) {
      this.tokens = Math.min(this.burst, this.tokens + ((now - from) * this.ratePerSecond) / 1000);
      this.lastRefill = now;
    }
  }

  private pump(): void {
    if (this.timerPending) return;
    const now = this.clock.now();
    this.refill(now);
    if (now < this.pausedUntil) {
      this.schedule(this.pausedUntil - now);
      return;
    }
    while (this.waiters.length > 0 && this.tokens >= 1) {
      this.tokens -= 1;
      this.waiters.shift()!();
    }
    if (this.waiters.length > 0) this.schedule(((1 - this.tokens) * 1000) / this.ratePerSecond);
  }

  private schedule(ms: number): void {
    this.timerPending = true;
    void this.clock.sleep(Math.max(1, Math.ceil(ms))).then(() => {
      this.timerPending = false;
      this.pump();
    });
  }
}

export interface RetryPolicy {
  /** Attempts for 5xx/network errors, the first included. */
  maxAttempts: number;
  /** Attempts while AWS keeps throttling; throttling is expected under load, so it gets more room. */
  maxThrottledAttempts: number;
  /** Full-jitter backoff: sleep uniform(0, min(capMs, baseMs * 2^retry)). */
  baseDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  maxAttempts: 3,
  maxThrottledAttempts: 8,
  baseDelayMs: 100,
  maxDelayMs: 20_000,
};

/** The APIs that change AWS: a retry after an ambiguous failure could apply them twice. */
export const WRITE_APIS: ReadonlySet<string> = new Set([
  'UpdateFunctionConfiguration',
  'UpdateFunctionCode',
  'PutFunctionConcurrency',
  'DeleteFunctionConcurrency',
  'PutProvisionedConcurrencyConfig',
  'DeleteProvisionedConcurrencyConfig',
  'RegisterScalableTarget',
  'PutScheduledAction',
  'DeleteScheduledAction',
]);

/**
 * Whether a failed write may be sent again. Only when AWS itself answered with one of its named transient errors
 * (ServiceException, InternalFailure, ...): the service says the request failed. A timeout, a reset connection, a
 * truncated or foreign (an HTML 502 from a proxy) answer leaves it unknown whether the write landed; re-sending it
 * would apply it a second time, so it is reported as failed instead, and the next pass re-reads and decides.
 */
export function mayRetryWrite(error: AwsError): boolean {
  return error.awsCode !== undefined && AWS_TRANSIENT_ERRORS.has(error.awsCode);
}

const AWS_TRANSIENT_ERRORS = new Set([
  'ServiceException',
  'InternalServiceException',
  'InternalFailure',
  'InternalServerError',
  'InternalError',
  'ServiceUnavailable',
  'ServiceUnavailableException',
  'EC2ThrottledException',
  'ResourceNotReadyException',
  'PriorRequestNotComplete',
]);

export interface RateLimiterOptions {
  rates?: Partial<Rates> | undefined;
  /** Burst per bucket; default max(1, rate / 5). */
  bursts?: Partial<Record<BucketName, number>> | undefined;
  retry?: Partial<RetryPolicy> | undefined;
  onCall?: OnCall | undefined;
  clock?: Clock;
  /** Uniform [0, 1); injectable so backoff is deterministic in tests. */
  random?: (() => number) | undefined;
}

export interface CallSpec {
  region: string;
  bucket: BucketName;
  api: string;
}

/**
 * The buckets of every region plus the retry loop. `call()` is the single entry point every SDK call goes through:
 * take a token, send, classify the failure, pause/back off, retry within bounds, report each attempt to `onCall`.
 */
export class RateLimiter {
  readonly rates: Rates;
  readonly retry: RetryPolicy;
  private readonly bursts: Partial<Record<BucketName, number>>;
  private readonly clock: Clock;
  private readonly random: () => number;
  private readonly listeners: OnCall[] = [];
  private readonly buckets = new Map<string, TokenBucket>();

  constructor(options: RateLimiterOptions = {}) {
    this.rates = { ...DEFAULT_RATES, ...definedOnly(options.rates ?? {}) };
    for (const name of BUCKET_NAMES) {
      if (!(this.rates[name] > 0)) throw new RangeError(`rate of bucket ${name} must be > 0`);
    }
    this.retry = { ...DEFAULT_RETRY_POLICY, ...definedOnly(options.retry ?? {}) };
    this.bursts = options.bursts ?? {};
    this.clock = options.clock ?? systemClock;
    this.random = options.random ?? Math.random;
    if (options.onCall) this.listeners.push(options.onCall);
  }

  /** Adds a listener; returns a function that removes it. */
  addListener(listener: OnCall): () => void {
    this.listeners.push(listener);
    return () => {
      const i = this.listeners.indexOf(listener);
      if (i >= 0) this.listeners.splice(i, 1);
    };
  }

  bucket(region: string, name: BucketName): TokenBucket {
    const key = `${region}/${name}`;
    let bucket = this.buckets.get(key);
    if (!bucket) {
      bucket = new TokenBucket({ ratePerSecond: this.rates[name], burst: this.bursts[name], clock: this.clock });
      this.buckets.set(key, bucket);
    }
    return bucket;
  }

  /** Full-jitter delay before retry number `retry` (0-based). */
  backoffMs(retry: number): number {
    const ceiling = Math.min(this.retry.maxDelayMs, this.retry.baseDelayMs * 2 ** retry);
    return Math.floor(this.random() * ceiling);
  }

  /**
   * Sends `send()` under the bucket of `spec`, retrying throttling and transient failures within the policy.
   * `observe` also receives this call's events (used to count the calls of one read or one execution precisely).
   */
  async call<T>(spec: CallSpec, send: () => Promise<T>, observe?: OnCall): Promise<T> {
    const bucket = this.bucket(spec.region, spec.bucket);
    let attempt = 0;
    let errorAttempts = 0;
    let throttledAttempts = 0;
    for (;;) {
      attempt += 1;
      await bucket.take();
      const started = this.clock.now();
      try {
        const result = await send();
        this.emit({ ...spec, outcome: 'ok', durationMs: this.clock.now() - started, attempt }, observe);
        return result;
      } catch (raw) {
        const durationMs = this.clock.now() - started;
        const error = classifyAwsError(raw, spec.api);
        if (error.code === 'Throttled') {
          this.emit({ ...spec, outcome: 'throttled', durationMs, attempt, error }, observe);
          throttledAttempts += 1;
          if (throttledAttempts >= this.retry.maxThrottledAttempts) throw error;
          const retryAfterMs = error instanceof AwsThrottledError ? error.retryAfterMs : undefined;
          // A throttle means the account's quota bucket is empty (perhaps because of other tools in the account),
          // so everyone sharing this bucket waits, not just this call: AWS's Retry-After when it sent one, else
          // full-jitter exponential backoff. Pauses overlap by keeping the later end.
          bucket.pause(
            retryAfterMs !== undefined && retryAfterMs > 0 ? retryAfterMs : this.backoffMs(throttledAttempts - 1),
          );
          continue;
        }
        this.emit({ ...spec, outcome: 'error', durationMs, attempt, error }, observe);
        if (error.code !== 'Retryable') throw error;
        if (WRITE_APIS.has(spec.api) && !mayRetryWrite(error)) throw error;
        errorAttempts += 1;
        if (errorAttempts >= this.retry.maxAttempts) throw error;
        await this.clock.sleep(this.backoffMs(errorAttempts - 1));
      }
    }
  }

  private emit(event: CallEvent, observe: OnCall | undefined): void {
    const listeners = observe === undefined ? this.listeners : [...this.listeners, observe];
    for (const listener of listeners) {
      try {
        listener(event);
      } catch {
        // A metrics hook must never break an AWS call.
      }
    }
  }
}

function definedOnly<T extends object>(partial: Partial<T>): Partial<T> {
  return Object.fromEntries(Object.entries(partial).filter(([, v]) => v !== undefined)) as Partial<T>;
}
