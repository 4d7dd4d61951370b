/**
 * Section 1: a full audit (read + plan, no writes) of the estate by the controller, counted per quota bucket by
 * the emulator and by the controller's own counters, against the minimum the quotas allow; then the naive
 * scanner over the same emulator. The emulator does not enforce quotas here: the question is how many calls each
 * approach needs, and "time at quota" is what those calls cost at AWS's rates.
 */
import { toPolicyInput } from '../src/api/parse.ts';
import type { BucketName } from '../src/aws/index.ts';
import { createAws } from '../src/aws/index.ts';
import type { Emulator } from '../src/emulator/index.ts';
import { reconcileFleet } from '../src/reconcile/pass.ts';
import { bucketsByRegion, getCalls, resetCalls, sumBuckets } from './emulator-admin.ts';
import { buildPolicies, type Fleet, type MinimumBucket, minimumAuditCalls } from './fleet.ts';
import { naiveScan } from './naive-scanner.ts';
import { type BucketCounts, emptyBuckets, type TimeAtQuota, timeAtQuota } from './quota.ts';

/** Quota-free emulator: pace the client far above AWS so the read is measured by calls, not by waiting. */
export const UNPACED_RATES = { lambda: 5000, 'lambda-getfunction': 5000, autoscaling: 5000, tagging: 5000 };

export interface AuditResult {
  functions: number;
  policies: number;
  regions: string[];
  controller: {
    byBucket: BucketCounts;
    byRegion: Record<string, BucketCounts>;
    byApi: Record<string, number>;
    /** The controller's own counter agrees with the emulator's. */
    clientCountsAgree: boolean;
    timeAtQuota: TimeAtQuota;
    wallMs: number;
    matched: number;
    drifted: number;
    readErrors: number;
  };
  minimum: {
    byBucket: BucketCounts;
    byRegion: Record<string, BucketCounts>;
    terms: Record<MinimumBucket, string>;
    timeAtQuota: TimeAtQuota;
  };
  /** controller / minimum per bucket and overall; target <= 1.10. */
  ratioToMinimum: Record<BucketName | 'total', number>;
  withinTenPercent: boolean;
  naive: {
    byApi: Record<string, number>;
    calls: number;
    byRegion: Record<string, BucketCounts>;
    timeAtQuota: TimeAtQuota;
    wallMs: number;
  };
  /** naive / controller: calls and time at quota. */
  naiveOverController: { calls: number; timeAtQuota: number };
}

const total = (c: BucketCounts) => Object.values(c).reduce((a, b) => a + b, 0);

export async function runAudit(emulator: Emulator, fleet: Fleet): Promise<AuditResult> {
  const regions = fleet.facts.map((f) => f.region);
  const policies = buildPolicies().map(toPolicyInput);
  const aws = createAws({ regions, endpoint: emulator.url, rates: UNPACED_RATES });
  await resetCalls(emulator.url);
  const started = performance.now();
  let pass: Awaited<ReturnType<typeof reconcileFleet>>;
  try {
    pass = await reconcileFleet(aws, policies, { defaultRegions: regions, enforce: false });
  } finally {
    aws.destroy();
  }
  const wallMs = performance.now() - started;
  const emulatorCalls = await getCalls(emulator.url);
  const byRegion = bucketsByRegion(emulatorCalls);
  const byBucket = sumBuckets(byRegion);
  const client = aws.calls.snapshot();
  const clientCountsAgree = (Object.keys(byBucket) as BucketName[]).every((b) => client.byBucket[b] === byBucket[b]);

  const minimum = minimumAuditCalls(fleet.facts);
  const ratioToMinimum = { total: total(byBucket) / total(minimum.byBucket) } as Record<BucketName | 'total', number>;
  for (const b of Object.keys(byBucket) as BucketName[]) ratioToMinimum[b] = byBucket[b] / minimum.byBucket[b];

  await resetCalls(emulator.url);
  const naiveStarted = performance.now();
  const scans = await Promise.all(regions.map((r) => naiveScan(emulator.url, r)));
  const naiveWallMs = performance.now() - naiveStarted;
  const naiveByRegion = bucketsByRegion(await getCalls(emulator.url));
  const naiveByApi: Record<string, number> = {};
  for (const s of scans) for (const [api, n] of Object.entries(s.byApi)) naiveByApi[api] = (naiveByApi[api] ?? 0) + n;
  const naiveCalls = total(sumBuckets(naiveByRegion));
  const controllerTime = timeAtQuota(byRegion);
  const naiveTime = timeAtQuota(naiveByRegion);

  const fnCount = fleet.facts.reduce((n, f) => n + f.functions, 0);
  return {
    functions: fnCount,
    policies: policies.length,
    regions,
    controller: {
      byBucket,
      byRegion,
      byApi: client.byApi,
      clientCountsAgree,
      timeAtQuota: controllerTime,
      wallMs,
      matched: pass.plan.summary.matched,
      drifted: pass.plan.summary.drifted,
      readErrors: pass.fleet.regions.reduce((n, r) => n + r.readErrors.length, 0),
    },
    minimum: {
      byBucket: { ...emptyBuckets(), ...minimum.byBucket },
      byRegion: minimum.byRegion,
      terms: minimum.terms,
      timeAtQuota: timeAtQuota(minimum.byRegion),
    },
    ratioToMinimum,
    withinTenPercent: Object.values(ratioToMinimum).every((r) => r <= 1.1),
    naive: {
      byApi: naiveByApi,
      calls: naiveCalls,
      byRegion: naiveByRegion,
      timeAtQuota: naiveTime,
      wallMs: naiveWallMs,
    },
    naiveOverController: {
      calls: naiveCalls / total(byBucket),
      timeAtQuota: naiveTime.total / controllerTime.total,
    },
  };
}
