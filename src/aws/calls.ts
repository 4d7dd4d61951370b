/**
 * Counts AWS calls per bucket and per API, for metrics, the benchmark's "calls within 10% of the minimum" and
 * integration tests that pin the bulk read strategy's call budget.
 */
import { BUCKET_NAMES, type BucketName, type CallEvent } from './ratelimit.ts';

export interface CallCounts {
  /** Every attempt sent to AWS (throttled and failed attempts included: they cost quota too). */
  total: number;
  byBucket: Record<BucketName, number>;
  /** Attempts per API name, e.g. `{ ListFunctions: 3, GetResources: 2 }`. */
  byApi: Record<string, number>;
  throttled: number;
  errors: number;
}

export function emptyCallCounts(): CallCounts {
  const byBucket = Object.fromEntries(BUCKET_NAMES.map((b) => [b, 0])) as Record<BucketName, number>;
  return { total: 0, byBucket, byApi: {}, throttled: 0, errors: 0 };
}

export class CallCounter {
  private counts = emptyCallCounts();

  /** Bound, so it can be handed to RateLimiter as a listener. */
  readonly record = (event: CallEvent): void => {
    const c = this.counts;
    c.total += 1;
    c.byBucket[event.bucket] += 1;
    c.byApi[event.api] = (c.byApi[event.api] ?? 0) + 1;
    if (event.outcome === 'throttled') c.throttled += 1;
    if (event.outcome === 'error') c.errors += 1;
  };

  snapshot(): CallCounts {
    return { ...this.counts, byBucket: { ...this.counts.byBucket }, byApi: { ...this.counts.byApi } };
  }

  reset(): void {
    this.counts = emptyCallCounts();
  }
}
