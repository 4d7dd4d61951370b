/**
 * CPU time of one `plan` over 10,000 functions x 500 policies (target: < 250 ms CPU).
 * Run: node_modules/.bin/node bench/engine-plan.ts
 *
 * The fleet and policies are deterministic and shaped like a real estate: name-prefix policies per service,
 * tag policies per team, tag-expression policies, a few broad `*` policies, Audit policies, and provisioned
 * windows (business hours in several zones, nights, weekends). "cold" is the first plan in a fresh process
 * (cron firings not cached yet); "warm" is a re-plan an hour later, as the controller's next cycle would be.
 */
import v8 from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { Selector, Settings } from '../src/api/schema.ts';
import type { FleetSnapshot, ObservedFunction, PolicyInput, RegionSnapshot } from '../src/engine/model.ts';
import { plan } from '../src/engine/plan.ts';
import { DEFAULT_MAX_CHANGES_PERCENT, gateRollout } from '../src/engine/rollout.ts';

const REGIONS = ['eu-central-1', 'eu-west-1', 'us-east-1'];
const FUNCTIONS = 10_000;
const POLICIES = 500;
const SERVICES = 400;
const TEAMS = 40;

let seed = 42;
const rand = (): number => {
  seed = (seed * 1103515245 + 12345) % 2 ** 31;
  return seed / 2 ** 31;
};
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)] as T;

const WINDOWS = [
  { name: 'business-hours', start: '0 8 * * 1-5', end: '0 19 * * 1-5', timezone: 'Europe/Berlin', value: 20 },
  { name: 'us-day', start: '30 7 * * MON-FRI', end: '0 18 * * MON-FRI', timezone: 'America/New_York', value: 10 },
  { name: 'night', start: '0 22 * * *', end: '0 6 * * *', timezone: 'UTC', value: 4 },
  { name: 'weekend', start: '0 18 * * 5', end: '0 6 * * 1', timezone: 'Europe/Berlin', value: 8 },
];

function functions(): RegionSnapshot[] {
  const byRegion = new Map<string, ObservedFunction[]>(REGIONS.map((r) => [r, []]));
  for (let i = 0; i < FUNCTIONS; i++) {
    const region = REGIONS[i % REGIONS.length] as string;
    const name = `svc${i % SERVICES}-fn${i}`;
    byRegion.get(region)?.push({
      region,
      name,
      arn: `arn:aws:lambda:${region}:123456789012:function:${name}`,
      memorySize: pick([128, 256, 512, 1024]),
      timeout: pick([3, 10, 30]),
      architecture: pick(['x86_64', 'arm64'] as const),
      packageType: rand() < 0.9 ? 'Zip' : 'Image',
      tags: { team: `t${i % TEAMS}`, env: pick(['prod', 'staging', 'dev']), tier: pick(['api', 'worker', 'batch']) },
      reservedConcurrency: rand() < 0.5 ? null : Math.floor(rand() * 50),
      qualifiers: { live: { qualifier: 'live', exists: rand() < 0.95, provisionedRequested: Math.floor(rand() * 5) } },
      monthlyGbSeconds: Math.floor(rand() * 1e6),
    });
  }
  return REGIONS.map((region) => ({
    region,
    account: { concurrentExecutions: 100_000, unreservedConcurrentExecutions: 100_000, unreservedFloor: 100 },
    functions: byRegion.get(region) ?? [],
    scalableTargets: [],
    scheduledActions: [],
  }));
}

function policies(): PolicyInput[] {
  const out: PolicyInput[] = [];
  for (let i = 0; i < POLICIES; i++) {
    const kind = i % 10;
    const settings: Settings = {};
    if (rand() < 0.6) settings.memorySize = pick([256, 512, 1024, 2048]);
    if (rand() < 0.5) settings.timeout = pick([10, 30, 60]);
    if (rand() < 0.3) settings.architecture = 'arm64';
    if (rand() < 0.3) settings.reservedConcurrency = rand() < 0.2 ? 'Unreserved' : 50 + Math.floor(rand() * 50);
    if (rand() < 0.2) {
      settings.provisionedConcurrency = { qualifier: 'live', value: 2, windows: [pick(WINDOWS)] };
    }
    const selector: Selector =
      kind < 6
        ? { functionNames: [`svc${i % SERVICES}-*`], excludeFunctionNames: ['*-canary'] }
        : kind < 8
          ? { tags: { team: `t${i % TEAMS}`, env: 'prod' } }
          : kind < 9
            ? {
                tagExpressions: [
                  { key: 'tier', operator: 'In' as const, values: ['api', 'worker'] },
                  { key: 'team', operator: 'In' as const, values: [`t${i % TEAMS}`] },
                ],
              }
            : { functionNames: [`svc${i % SERVICES}?-*`, `*-fn${i}`], tags: { env: 'prod' } };
    out.push({
      id: `ns${i % 20}/policy-${i}`,
      namespace: `ns${i % 20}`,
      name: `policy-${i}`,
      mode: i % 17 === 0 ? 'Audit' : 'Enforce',
      priority: Math.floor(rand() * 5),
      suspend: false,
      intervalSeconds: 300,
      selector: { ...selector, ...(i % 3 === 0 ? { regions: [pick(REGIONS)] } : {}) },
      settings,
    });
  }
  return out;
}

// Collect the benchmark's own set-up garbage before each measurement, so that only plan's work is timed.
v8.setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

function cpuMs(f: () => void): number {
  gc();
  const before = process.cpuUsage();
  f();
  const d = process.cpuUsage(before);
  return (d.user + d.system) / 1000;
}

const fleet: FleetSnapshot = { readAt: new Date(), regions: functions() };
const ps = policies();
const opts = { defaultRegions: REGIONS };
let result: ReturnType<typeof plan> | undefined;
const start = Date.parse('2026-12-01T09:00:00Z');
const cold = cpuMs(() => {
  result = plan(ps, fleet, new Date(start), opts);
});
const warm: number[] = [];
for (let i = 1; i <= 5; i++) {
  warm.push(
    cpuMs(() => {
      result = plan(ps, fleet, new Date(start + i * 3_600_000), opts);
    }),
  );
}
warm.sort((a, b) => a - b);
const s = result?.summary;
console.log(
  `engine plan: ${FUNCTIONS} functions x ${POLICIES} policies -> matched ${s?.matched}, drifted ${s?.drifted}, ` +
    `actions ${result?.functions.reduce((n, f) => n + f.actions.length, 0)}`,
);
console.log(
  `cpu ms: cold ${cold.toFixed(1)}, warm median ${warm[2]?.toFixed(1)} (min ${warm[0]?.toFixed(1)}, max ${warm[4]?.toFixed(1)})`,
);
console.log(`target < 250 ms: ${cold < 250 ? 'met' : 'MISSED'} (cold)`);

// The blast-radius guard runs on every plan before anything is written: its cost as a share of a warm plan.
const planned = result;
if (planned) {
  const gate: number[] = [];
  let held = 0;
  for (let i = 0; i < 5; i++) {
    gate.push(
      cpuMs(() => {
        held = gateRollout(planned, ps, { defaultMaxPercent: DEFAULT_MAX_CHANGES_PERCENT }).decisions.size;
      }),
    );
  }
  gate.sort((a, b) => a - b);
  const ratio = (gate[2] ?? 0) / (warm[2] ?? 1);
  console.log(
    `rollout guard: ${held} policy decisions, cpu ms median ${gate[2]?.toFixed(1)} = ${(ratio * 100).toFixed(1)}% of a warm plan`,
  );
}
