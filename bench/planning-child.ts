/**
 * Section 2, run in a fresh child process (so RSS is the controller's alone, not the emulator's or the parent's):
 * read the estate through the real AWS SDK exactly as a reconcile pass does, then plan it, timing plan() in CPU.
 *
 *   node bench/planning-child.ts <emulator-url> <region,region,...>
 *
 * Prints one JSON line (PlanningChildResult) on stdout.
 */
import v8 from 'node:v8';
import { runInNewContext } from 'node:vm';
import { toPolicyInput } from '../src/api/parse.ts';
import { createAws, readFleet } from '../src/aws/index.ts';
import { plan } from '../src/engine/plan.ts';
import { requiredReads } from '../src/engine/requirements.ts';
import { buildPolicies } from './fleet.ts';

export interface PlanningChildResult {
  functions: number;
  policies: number;
  matched: number;
  actions: number;
  /** CPU of the first plan in the process (nothing cached yet). */
  coldCpuMs: number;
  /** Re-plans an hour apart each, as the controller's next cycles would be. */
  warmCpuMs: number[];
  /** CPU of the read (SDK parsing, joining) — context, not the target. */
  readCpuMs: number;
  readWallMs: number;
  /** CPU of a fixed reference workload in the same process, so the figures can be compared across machines. */
  referenceCpuMs: number;
  rssBeforeMb: number;
  rssAfterMb: number;
  heapUsedAfterMb: number;
  heapTotalAfterMb: number;
  externalAfterMb: number;
  /** RSS after a full GC with the snapshot and plan still alive: what the live data needs. */
  rssAfterGcMb: number;
  maxRssMb: number;
}

v8.setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

function cpuMs(f: () => void): number {
  gc();
  const before = process.cpuUsage();
  f();
  const d = process.cpuUsage(before);
  return (d.user + d.system) / 1000;
}

/** Sorting a million pseudo-random doubles: a fixed amount of CPU work, independent of the code under test. */
function referenceWorkload(): void {
  const xs = new Float64Array(1_000_000);
  let s = 1;
  for (let i = 0; i < xs.length; i++) {
    s = (s * 16807) % 2147483647;
    xs[i] = s / 2147483647;
  }
  xs.sort();
}

const mb = (bytes: number) => bytes / (1024 * 1024);

async function main(): Promise<void> {
  const [url, regionList] = process.argv.slice(2);
  if (!url || !regionList) throw new Error('usage: planning-child.ts <emulator-url> <regions>');
  const regions = regionList.split(',');
  const policies = buildPolicies().map(toPolicyInput);
  gc();
  const rssBefore = process.memoryUsage().rss;

  // Pace far above AWS: the emulator does not enforce quotas here, and the number wanted is memory and CPU.
  const rate = 5000;
  const aws = createAws({
    regions,
    endpoint: url,
    rates: { lambda: rate, 'lambda-getfunction': rate, autoscaling: rate, tagging: rate },
  });
  const readStarted = performance.now();
  const cpuBefore = process.cpuUsage();
  const fleet = await readFleet(aws, regions, (region, functions) =>
    requiredReads(policies, region, functions, regions),
  );
  const readCpu = process.cpuUsage(cpuBefore);
  const readWallMs = performance.now() - readStarted;
  aws.destroy();

  const start = Date.parse('2026-12-01T09:00:00Z');
  let result: ReturnType<typeof plan> | undefined;
  const coldCpuMs = cpuMs(() => {
    result = plan(policies, fleet, new Date(start), { defaultRegions: regions });
  });
  const warmCpuMs: number[] = [];
  for (let i = 1; i <= 5; i++) {
    warmCpuMs.push(
      cpuMs(() => {
        result = plan(policies, fleet, new Date(start + i * 3_600_000), { defaultRegions: regions });
      }),
    );
  }
  // RSS with the fleet snapshot and the plan alive (both are used below), as in the controller between passes.
  const memory = process.memoryUsage();
  gc();
  const rssAfterGc = process.memoryUsage().rss;
  const referenceCpuMs = Math.min(cpuMs(referenceWorkload), cpuMs(referenceWorkload), cpuMs(referenceWorkload));
  const out: PlanningChildResult = {
    functions: fleet.regions.reduce((n, r) => n + r.functions.length, 0),
    policies: policies.length,
    matched: result?.summary.matched ?? 0,
    actions: result?.functions.reduce((n, f) => n + f.actions.length, 0) ?? 0,
    coldCpuMs,
    warmCpuMs,
    readCpuMs: (readCpu.user + readCpu.system) / 1000,
    readWallMs,
    referenceCpuMs,
    rssBeforeMb: mb(rssBefore),
    rssAfterMb: mb(memory.rss),
    heapUsedAfterMb: mb(memory.heapUsed),
    heapTotalAfterMb: mb(memory.heapTotal),
    externalAfterMb: mb(memory.external),
    rssAfterGcMb: mb(rssAfterGc),
    maxRssMb: process.resourceUsage().maxRSS / 1024,
  };
  process.stdout.write(`${JSON.stringify(out)}\n`);
}

await main();
