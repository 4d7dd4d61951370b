/**
 * Optional enforcement of AWS's per-region request quotas as token buckets (real time, not the emulator clock:
 * benchmarks measure real throughput). Lambda's control plane shares one 15 req/s bucket; GetFunction has its own
 * 100 req/s bucket; Application Auto Scaling and the tagging API publish no quota, so they are unlimited unless set.
 */
export type QuotaBucket = 'lambda' | 'getFunction' | 'autoscaling' | 'tagging';

export interface QuotaOptions {
  /** Turns enforcement on (off by default). */
  enabled?: boolean;
  /** Requests per second per region; defaults: lambda 15, getFunction 100, autoscaling/tagging unlimited. */
  lambda?: number;
  getFunction?: number;
  autoscaling?: number;
  tagging?: number;
  /** Bucket depth in seconds of rate (default 1: a burst of one second's worth). */
  burstSeconds?: number;
}

export const DEFAULT_QUOTAS: Readonly<Record<QuotaBucket, number | undefined>> = {
  lambda: 15,
  getFunction: 100,
  autoscaling: undefined,
  tagging: undefined,
};

interface Bucket {
  tokens: number;
  updatedAt: number;
}

export class QuotaEnforcer {
  #options: QuotaOptions = {};
  readonly #buckets = new Map<string, Bucket>();

  constructor(options?: QuotaOptions) {
    this.configure(options ?? {});
  }

  configure(options: QuotaOptions): void {
    this.#options = { ...options };
    this.#buckets.clear();
  }

  describe(): QuotaOptions & { rates: Record<QuotaBucket, number | null> } {
    const rates = {} as Record<QuotaBucket, number | null>;
    for (const bucket of Object.keys(DEFAULT_QUOTAS) as QuotaBucket[]) rates[bucket] = this.#rate(bucket) ?? null;
    return { ...this.#options, enabled: this.#options.enabled === true, rates };
  }

  #rate(bucket: QuotaBucket): number | undefined {
    return this.#options[bucket] ?? DEFAULT_QUOTAS[bucket];
  }

  /** Takes a token; returns undefined when allowed, else the seconds until one is available (>= 1). */
  take(region: string, bucket: QuotaBucket, nowMs = performance.now()): number | undefined {
    if (this.#options.enabled !== true) return undefined;
    const rate = this.#rate(bucket);
    if (rate === undefined || rate <= 0) return undefined;
    const depth = rate * (this.#options.burstSeconds ?? 1);
    const key = `${region}/${bucket}`;
    let state = this.#buckets.get(key);
    if (!state) {
      state = { tokens: depth, updatedAt: nowMs };
      this.#buckets.set(key, state);
    }
    state.tokens = Math.min(depth, state.tokens + ((nowMs - state.updatedAt) / 1000) * rate);
    state.updatedAt = nowMs;
    if (state.tokens >= 1) {
      state.tokens -= 1;
      return undefined;
    }
    return Math.max(1, Math.ceil((1 - state.tokens) / rate));
  }
}

/** Which quota bucket an API call draws from. */
export function bucketFor(
  service: 'lambda' | 'autoscaling' | 'tagging' | 'sts' | 'logs' | 'organizations',
  api: string,
): QuotaBucket | undefined {
  if (service === 'lambda') return api === 'GetFunction' ? 'getFunction' : 'lambda';
  if (service === 'autoscaling') return 'autoscaling';
  if (service === 'tagging') return 'tagging';
  return undefined;
}
