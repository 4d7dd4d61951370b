/**
 * Plan time against the number of overlapping policies: N Enforce policies that all select the same functions and
 * all set the same fields (each loses to the highest priority, so each is Overridden on every function). The plan
 * must stay O(functions x matching policies): the ratio t(2N)/t(N) should be about 2.
 * Run: node_modules/.bin/node bench/overlap.ts [N...]
 */

import type { FleetSnapshot, ObservedFunction, PolicyInput } from '../src/engine/model.ts';
import { plan } from '../src/engine/plan.ts';

const REGION = 'eu-central-1';
const FUNCTIONS = 10;

function fleet(): FleetSnapshot {
  const functions: ObservedFunction[] = Array.from({ length: FUNCTIONS }, (_, i) => ({
    region: REGION,
    name: `fn-${i}`,
    arn: `arn:aws:lambda:${REGION}:123456789012:function:fn-${i}`,
    memorySize: 128,
    timeout: 3,
    architecture: 'x86_64',
    packageType: 'Zip',
    tags: { tier: 'api' },
    reservedConcurrency: null,
  }));
  return { readAt: new Date(0), regions: [{ region: REGION, functions, scalableTargets: [], scheduledActions: [] }] };
}

function policies(n: number): PolicyInput[] {
  return Array.from({ length: n }, (_, i) => ({
    id: `ns/p${i}`,
    namespace: 'ns',
    name: `p${i}`,
    mode: 'Enforce',
    priority: i,
    suspend: false,
    intervalSeconds: 300,
    selector: { regions: [REGION], tags: { tier: 'api' } },
    settings: { memorySize: 256 + (i % 10) * 64, timeout: 10, reservedConcurrency: 5 },
  }));
}

export function overlapMs(n: number): number {
  const ps = policies(n);
  const f = fleet();
  const start = performance.now();
  plan(ps, f, new Date('2026-12-01T09:00:00Z'), { defaultRegions: [REGION] });
  return performance.now() - start;
}

if (import.meta.main) {
  const sizes = process.argv.slice(2).map(Number);
  let previous: number | undefined;
  for (const n of sizes.length > 0 ? sizes : [5_000, 10_000, 20_000, 40_000]) {
    const ms = overlapMs(n);
    const ratio = previous === undefined ? '' : ` (x${(ms / previous).toFixed(2)} for x2 policies)`;
    process.stdout.write(`${n} overlapping policies x ${FUNCTIONS} functions: ${ms.toFixed(0)} ms${ratio}\n`);
    previous = ms;
  }
}
