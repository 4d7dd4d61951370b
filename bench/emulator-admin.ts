/** The emulator's admin endpoints the benchmark reads (docs/emulator.md), over HTTP like any other client. */
import { emulatorAdmin, type WriteLogEntry } from '../src/emulator/index.ts';
import { type BucketCounts, bucketOfApi, emptyBuckets } from './quota.ts';

export interface EmulatorCalls {
  total: number;
  byApi: Record<string, number>;
  byRegionApi: Record<string, Record<string, number>>;
  throttled: { total: number; byApi: Record<string, number> };
  faulted: { total: number; byApi: Record<string, number> };
}

const admin = <T>(url: string, path: string, method = 'GET', body?: unknown): Promise<T> =>
  emulatorAdmin<T>(url, method, path, body);

export const getCalls = (url: string) => admin<EmulatorCalls>(url, 'calls');
export const resetCalls = (url: string) => admin<unknown>(url, 'calls', 'DELETE');
export const getWrites = async (url: string): Promise<WriteLogEntry[]> =>
  (await admin<{ writes: WriteLogEntry[] }>(url, 'writes')).writes;
export const clearWrites = (url: string) => admin<unknown>(url, 'writes', 'DELETE');
export const postSeed = (url: string, seed: unknown) => admin<unknown>(url, 'seed', 'POST', seed);

/** The emulator's per-region call counts folded into quota buckets (STS aside). */
export function bucketsByRegion(calls: EmulatorCalls): Record<string, BucketCounts> {
  const out: Record<string, BucketCounts> = {};
  for (const [region, apis] of Object.entries(calls.byRegionApi)) {
    const counts = emptyBuckets();
    for (const [api, n] of Object.entries(apis)) {
      if (api === 'GetCallerIdentity') continue;
      counts[bucketOfApi(api)] += n;
    }
    out[region] = counts;
  }
  return out;
}

export function sumBuckets(byRegion: Record<string, BucketCounts>): BucketCounts {
  const total = emptyBuckets();
  for (const counts of Object.values(byRegion)) {
    for (const [bucket, n] of Object.entries(counts) as [keyof BucketCounts, number][]) total[bucket] += n;
  }
  return total;
}
