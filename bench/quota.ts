/**
 * AWS's request quotas per bucket (per account, per region) and the "time at quota" a call count implies.
 * Application Auto Scaling and the tagging API publish no quota; the controller's own conservative pace (10 req/s)
 * stands in for them, marked as assumed.
 */
import type { BucketName } from '../src/aws/index.ts';

export const QUOTA_RATES: Record<BucketName, { rate: number; published: boolean }> = {
  lambda: { rate: 15, published: true },
  'lambda-getfunction': { rate: 100, published: true },
  tagging: { rate: 10, published: false },
  autoscaling: { rate: 10, published: false },
  // CloudWatch Logs: per-API quotas on the Service Quotas page; 5/s is a conservative stand-in.
  logs: { rate: 5, published: false },
};

export type BucketCounts = Record<BucketName, number>;

export function emptyBuckets(): BucketCounts {
  return { lambda: 0, 'lambda-getfunction': 0, tagging: 0, autoscaling: 0, logs: 0 };
}

/** Which bucket an API call draws from (the controller's and the emulator's classification). */
export function bucketOfApi(api: string): BucketName {
  if (api === 'GetFunction') return 'lambda-getfunction';
  if (api === 'GetResources') return 'tagging';
  if (/ScalableTarget|ScheduledAction|ScalingPolic/.test(api)) return 'autoscaling';
  if (/LogGroup|RetentionPolicy/.test(api)) return 'logs';
  return 'lambda';
}

export interface TimeAtQuota {
  /** Seconds per bucket: max over regions of (calls in that region / rate) — each region has its own buckets. */
  byBucket: BucketCounts;
  /**
   * Seconds for the whole read: regions in parallel, a region's buckets one after another (an upper bound: the
   * controller drains different buckets concurrently, but per-function reads wait for the listings).
   */
  total: number;
}

export function timeAtQuota(byRegion: Record<string, BucketCounts>): TimeAtQuota {
  const byBucket = emptyBuckets();
  let total = 0;
  for (const counts of Object.values(byRegion)) {
    let regionSeconds = 0;
    for (const bucket of Object.keys(byBucket) as BucketName[]) {
      const seconds = counts[bucket] / QUOTA_RATES[bucket].rate;
      byBucket[bucket] = Math.max(byBucket[bucket], seconds);
      regionSeconds += seconds;
    }
    total = Math.max(total, regionSeconds);
  }
  return { byBucket, total };
}
