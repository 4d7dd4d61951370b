/**
 * Fault injection: latency, a random error rate per API, and a one-shot list of forced errors, so tests can make
 * the controller meet throttling, conflicts and outages on demand. Randomness is seeded for repeatable runs.
 */
import { AwsError, statusForCode } from './errors.ts';

export interface ForcedError {
  /** API name (`UpdateFunctionConfiguration`) or `*` for any. */
  api: string;
  /** AWS error code, e.g. TooManyRequestsException. */
  error: string;
  /** How many calls fail (default 1). */
  count?: number;
  status?: number;
  message?: string;
  region?: string;
  /** For TooManyRequestsException: the Retry-After header (default 1). */
  retryAfterSeconds?: number;
}

/** An update that is accepted but ends `LastUpdateStatus: Failed` (the old configuration stays). */
export interface FailedUpdate {
  api: 'UpdateFunctionConfiguration' | 'UpdateFunctionCode' | '*';
  function?: string;
  count?: number;
  reason?: string;
}

export interface FaultOptions {
  /** Probability 0..1 that a call to the API fails; key `*` applies to every API. */
  errorRate?: Record<string, number>;
  /** The error code random failures use (default per service: ServiceException / InternalServiceException). */
  errorCode?: string;
  /** Added latency in ms: one number for every API, or per API (`*` default). */
  latencyMs?: number | Record<string, number>;
  forced?: ForcedError[];
  failUpdates?: FailedUpdate[];
  /** Seed for the random error rate. */
  seed?: number;
}

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export class FaultInjector {
  #options: FaultOptions = {};
  #random: () => number = mulberry32(1);

  configure(options: FaultOptions): void {
    this.#options = {
      ...options,
      forced: (options.forced ?? []).map((f) => ({ ...f, count: f.count ?? 1 })),
      failUpdates: (options.failUpdates ?? []).map((f) => ({ ...f, count: f.count ?? 1 })),
    };
    this.#random = mulberry32(options.seed ?? 1);
  }

  describe(): FaultOptions {
    return structuredClone(this.#options);
  }

  latencyFor(api: string): number {
    const latency = this.#options.latencyMs;
    if (latency === undefined) return 0;
    if (typeof latency === 'number') return latency;
    return latency[api] ?? latency['*'] ?? 0;
  }

  /** The error this call must fail with, if any (consumes one forced error). */
  errorFor(api: string, region: string, defaultCode: string): AwsError | undefined {
    const forced = this.#options.forced ?? [];
    const index = forced.findIndex(
      (f) => (f.api === api || f.api === '*') && (f.region === undefined || f.region === region) && (f.count ?? 0) > 0,
    );
    const hit = forced[index];
    if (hit) {
      hit.count = (hit.count ?? 1) - 1;
      if (hit.count <= 0) forced.splice(index, 1);
      return injectedError(hit.error, hit.status, hit.message, hit.retryAfterSeconds);
    }
    const rates = this.#options.errorRate;
    const rate = rates?.[api] ?? rates?.['*'];
    if (rate !== undefined && rate > 0 && this.#random() < rate) {
      return injectedError(this.#options.errorCode ?? defaultCode, undefined, undefined, 1);
    }
    return undefined;
  }

  /** Whether an accepted update must end Failed (consumes one entry). */
  updateFailure(api: string, functionName: string): FailedUpdate | undefined {
    const list = this.#options.failUpdates ?? [];
    const index = list.findIndex(
      (f) =>
        (f.api === api || f.api === '*') &&
        (f.function === undefined || f.function === functionName) &&
        (f.count ?? 0) > 0,
    );
    const hit = list[index];
    if (!hit) return undefined;
    hit.count = (hit.count ?? 1) - 1;
    if (hit.count <= 0) list.splice(index, 1);
    return hit;
  }
}

function injectedError(code: string, status?: number, message?: string, retryAfterSeconds = 1): AwsError {
  const isThrottle = code === 'TooManyRequestsException';
  return new AwsError(
    code,
    status ?? statusForCode(code),
    message ?? (isThrottle ? 'Rate exceeded' : `Injected ${code}`),
    {
      fields: isThrottle ? { Reason: 'CallerRateLimitExceeded' } : {},
      headers: isThrottle ? { 'Retry-After': String(retryAfterSeconds) } : {},
    },
  );
}
