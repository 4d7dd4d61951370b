import { PutScheduledActionCommand, RegisterScalableTargetCommand } from '@aws-sdk/client-application-auto-scaling';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFleet, readRegion } from '../../../src/aws/index.ts';
import type { SeedDocument, SeedFunction } from '../../../src/emulator/index.ts';
import type { ObservedFunction, ReadRequirements } from '../../../src/engine/model.ts';
import { type Harness, startHarness } from './harness.ts';

const REGION = 'eu-central-1';
const OTHER = 'us-east-1';
const THIRD = 'eu-west-1';
const N = 120;

/** A deterministic 120-function fleet with every shape the reader must handle. */
function seedFunction(i: number): SeedFunction {
  const name = `fn-${String(i).padStart(3, '0')}`;
  const fn: SeedFunction = {
    name,
    region: REGION,
    memorySize: 128 + i * 8,
    timeout: 3 + (i % 60),
    architecture: i % 3 === 0 ? 'arm64' : 'x86_64',
    packageType: i % 10 === 9 ? 'Image' : 'Zip',
  };
  if (fn.packageType === 'Zip') fn.runtime = 'nodejs22.x';
  // 110 of 120 tagged: the tagging API needs two pages of 100.
  if (i % 12 !== 11) fn.tags = { team: `t${i % 4}`, tier: i % 2 === 0 ? 'api' : 'batch' };
  if (i % 7 === 0) fn.reservedConcurrency = 5 + i;
  if (i % 15 === 0) fn.aliases = [{ name: 'live', version: '1', provisionedConcurrency: 2 }];
  if (i % 15 === 5) fn.aliases = [{ name: 'live', version: '1' }];
  return fn;
}

const seed: SeedDocument = {
  accountConcurrency: 1000,
  functions: [
    ...Array.from({ length: N }, (_, i) => seedFunction(i)),
    { name: 'other-a', region: OTHER, memorySize: 256, tags: { tier: 'api' }, reservedConcurrency: 7 },
    { name: 'other-b', region: OTHER, memorySize: 512 },
    // Provisioned concurrency on 55 aliases of one function: two pages of ListProvisionedConcurrencyConfigs.
    {
      name: 'many-aliases',
      region: THIRD,
      reservedConcurrency: 200,
      aliases: Array.from({ length: 55 }, (_, i) => ({
        name: `a${String(i).padStart(2, '0')}`,
        version: '1',
        provisionedConcurrency: 1 + (i % 3),
      })),
    },
  ],
};

const isApi = (f: ObservedFunction) => f.tags.tier === 'api';
const index = (name: string) => Number(name.slice(3));

/** What the engine would ask for: reserved for tier=api; `live` where i%15 is 0 or 5; a missing alias on fn-001. */
function requirementsFor(region: string, functions: readonly ObservedFunction[]): ReadRequirements[] {
  return functions.flatMap((f) => {
    const qualifiers: string[] = [];
    if (region === REGION && [0, 5].includes(index(f.name) % 15)) qualifiers.push('live');
    if (f.name === 'fn-001') qualifiers.push('ghost');
    if (!isApi(f) && qualifiers.length === 0) return [];
    return [{ region, name: f.name, reservedConcurrency: isApi(f), qualifiers }];
  });
}

describe('readFleet against the emulator (bulk read strategy)', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await startHarness({ seed }, { regions: [REGION, OTHER] });
    // Scheduled actions: two of ours, one someone else's on the same target.
    const autoscaling = h.aws.clients(REGION).autoscaling;
    const common = {
      ServiceNamespace: 'lambda' as const,
      ScalableDimension: 'lambda:function:ProvisionedConcurrency' as const,
    };
    await autoscaling.send(
      new RegisterScalableTargetCommand({
        ...common,
        ResourceId: 'function:fn-000:live',
        MinCapacity: 2,
        MaxCapacity: 2,
      }),
    );
    await autoscaling.send(
      new RegisterScalableTargetCommand({
        ...common,
        ResourceId: 'function:fn-030:live',
        MinCapacity: 0,
        MaxCapacity: 9,
      }),
    );
    for (const [name, schedule, value] of [
      ['lambda-policy-controller.platform.api.business.start', 'cron(0 8 ? * MON-FRI *)', 20],
      ['lambda-policy-controller.platform.api.business.end', 'cron(0 19 ? * MON-FRI *)', 2],
      ['someone-else-nightly', 'cron(0 2 * * ? *)', 0],
    ] as const) {
      await autoscaling.send(
        new PutScheduledActionCommand({
          ...common,
          ResourceId: 'function:fn-000:live',
          ScheduledActionName: name,
          Schedule: schedule,
          Timezone: 'Europe/Berlin',
          ScalableTargetAction: { MinCapacity: value, MaxCapacity: value },
        }),
      );
    }
    await h.admin('DELETE', 'calls');
  });

  afterAll(async () => {
    await h?.stop();
  });

  it('returns exactly the seeded fleet with the minimum calls per bucket', async () => {
    // Act
    const fleet = await readFleet(h.aws, [REGION, OTHER], requirementsFor);

    // Assert: one snapshot per region
    expect(fleet.regions.map((r) => r.region)).toEqual([REGION, OTHER]);
    const main = fleet.regions[0]!;
    expect(main.readErrors).toEqual([]);
    expect(main.functions).toHaveLength(N);

    // ... every seeded field, as seeded
    for (const f of main.functions) {
      const s = seedFunction(index(f.name));
      expect(f).toMatchObject({
        region: REGION,
        name: s.name,
        arn: `arn:aws:lambda:${REGION}:123456789012:function:${s.name}`,
        memorySize: s.memorySize,
        timeout: s.timeout,
        architecture: s.architecture,
        packageType: s.packageType,
        tags: s.tags ?? {},
      });
      expect(f.runtime).toBe(s.runtime);
      expect(f.codeSha256).toMatch(/^[A-Za-z0-9+/]{43}=$/);
      // reserved concurrency only where governed: number, null when none, undefined when not read
      if (isApi(f)) expect(f.reservedConcurrency).toBe(s.reservedConcurrency ?? null);
      else expect(f.reservedConcurrency).toBeUndefined();
    }

    // ... governed qualifiers only
    const byName = new Map(main.functions.map((f) => [f.name, f]));
    // ... with the version each alias serves and that version's own (immutable) configuration
    expect(byName.get('fn-000')?.qualifiers).toEqual({
      live: {
        qualifier: 'live',
        exists: true,
        provisionedRequested: 2,
        provisionedStatus: 'READY',
        servedVersion: '1',
        served: { memorySize: 128, timeout: 3, architecture: 'arm64' },
      },
    });
    expect(byName.get('fn-005')?.qualifiers).toEqual({
      live: {
        qualifier: 'live',
        exists: true,
        provisionedRequested: 0,
        servedVersion: '1',
        served: { memorySize: 168, timeout: 8, architecture: 'x86_64' },
      },
    });
    expect(byName.get('fn-001')?.qualifiers).toEqual({
      ghost: { qualifier: 'ghost', exists: false, provisionedRequested: 0 },
    });
    expect(byName.get('fn-002')?.qualifiers).toBeUndefined();

    // ... account settings and the unreserved floor
    const reservedSum = seed
      .functions!.filter((f) => f.region === REGION)
      .reduce((n, f) => n + (f.reservedConcurrency ?? 0), 0);
    expect(main.account).toEqual({
      concurrentExecutions: 1000,
      unreservedConcurrentExecutions: 1000 - reservedSum,
      unreservedFloor: 100,
    });

    // ... only our scheduled actions, and the targets they or governed qualifiers use
    expect(main.scheduledActions.map((a) => a.name).sort()).toEqual([
      'lambda-policy-controller.platform.api.business.end',
      'lambda-policy-controller.platform.api.business.start',
    ]);
    expect(main.scheduledActions.find((a) => a.name.endsWith('.start'))).toEqual({
      name: 'lambda-policy-controller.platform.api.business.start',
      resourceId: 'function:fn-000:live',
      schedule: 'cron(0 8 ? * MON-FRI *)',
      timezone: 'Europe/Berlin',
      minCapacity: 20,
      maxCapacity: 20,
    });
    expect(main.scalableTargets.map((t) => t.resourceId).sort()).toEqual([
      'function:fn-000:live',
      'function:fn-030:live',
    ]);
    // Scaling policies are read for the governed targets (none here), and every target counts against the quota.
    expect(main.scalableTargets.find((t) => t.resourceId === 'function:fn-000:live')?.foreignScalingPolicies).toEqual(
      [],
    );
    expect(main.scalableTargetCount).toBe(2);

    // ... the second region on its own
    const other = fleet.regions[1]!;
    expect(other.functions.map((f) => [f.name, f.memorySize, f.reservedConcurrency])).toEqual([
      ['other-a', 256, 7],
      ['other-b', 512, undefined],
    ]);

    // Assert: call budget of the bulk strategy in the 120-function region
    const apiCount = main.functions.filter(isApi).length; // 60
    const liveQualifiers = main.functions.filter((f) => [0, 5].includes(index(f.name) % 15)).length; // 16
    expect(main.calls.byApi).toEqual({
      ListFunctions: 3, // 50 + 50 + 20
      GetResources: 2, // 100 + 10 tagged
      GetAccountSettings: 1,
      DescribeScalableTargets: 1,
      DescribeScheduledActions: 1,
      // a governed qualifier has a scalable target (fn-000:live): one bulk read of the region's scaling policies
      DescribeScalingPolicies: 1,
      // reserved-governed functions + the served version of each governed alias (all 16 `live` serve version 1;
      // fn-001's `ghost` is absent from ListAliases: no call)
      GetFunction: apiCount + liveQualifiers,
      // one per function with a governed qualifier (16 with `live`, fn-001 with `ghost`): the 15 req/s bucket
      // pays exactly what one GetProvisionedConcurrencyConfig per governed qualifier cost
      ListProvisionedConcurrencyConfigs: liveQualifiers + 1,
      // and one ListAliases each: what every alias serves, whether it has weights, whether it exists
      ListAliases: liveQualifiers + 1,
    });
    expect(main.calls.byBucket).toEqual({
      lambda: 3 + 1 + 2 * (liveQualifiers + 1),
      'lambda-getfunction': apiCount + liveQualifiers,
      autoscaling: 3,
      tagging: 2,
      // No policy governs log retention: CloudWatch Logs is never called.
      logs: 0,
    });
    expect(main.calls.throttled).toBe(0);
    // ListAliases says "no such alias" for ghost: no 404 is needed to find that out.
    expect(main.calls.errors).toBe(0);

    // The emulator saw the same calls (nothing hidden in SDK retries).
    const seen = h.emulator.runtime.calls;
    expect(seen.byRegionApi[REGION]).toEqual(main.calls.byApi);
    expect(fleet.calls.total).toBe(seen.total);
  });

  it('lists every provisioned config of a governed function, across pages, and keeps the others apart', async () => {
    h.events.length = 0;
    const read = await readRegion(h.aws, THIRD, (region, fns) =>
      fns.map((f) => ({ region, name: f.name, reservedConcurrency: true, qualifiers: ['a07', 'missing'] })),
    );

    expect(read.readErrors).toEqual([]);
    const f = read.functions[0]!;
    expect(f.reservedConcurrency).toBe(200);
    expect(f.qualifiers).toEqual({
      a07: {
        qualifier: 'a07',
        exists: true,
        provisionedRequested: 2,
        provisionedStatus: 'READY',
        servedVersion: '1',
        served: { memorySize: 128, timeout: 3, architecture: 'x86_64' },
      },
      missing: { qualifier: 'missing', exists: false, provisionedRequested: 0 },
    });
    const others = f.otherProvisioned ?? {};
    expect(Object.keys(others)).toHaveLength(54);
    expect(others.a07).toBeUndefined();
    expect(others.a00).toBe(1);
    expect(others.a54).toBe(1);
    expect(Object.values(others).reduce((n, v) => n + v, 0)).toBe(
      Array.from({ length: 55 }, (_, i) => 1 + (i % 3)).reduce((n, v) => n + v, 0) - 2,
    );
    // 55 configs and 55 aliases, 50 a page: two of each List; GetFunction for reserved and for a07's version 1
    // (`missing` is not among the aliases: no call).
    expect(read.calls.byApi.ListProvisionedConcurrencyConfigs).toBe(2);
    expect(read.calls.byApi.ListAliases).toBe(2);
    expect(read.calls.byApi.GetFunction).toBe(2);
    expect(read.calls.byApi.GetProvisionedConcurrencyConfig).toBeUndefined();
  });

  it('reads nothing per function when no field needs it', async () => {
    const read = await readRegion(h.aws, REGION, () => []);

    expect(read.functions).toHaveLength(N);
    expect(read.functions.every((f) => f.reservedConcurrency === undefined && f.qualifiers === undefined)).toBe(true);
    expect(read.calls.byApi.GetFunction).toBeUndefined();
    expect(read.calls.byApi.ListProvisionedConcurrencyConfigs).toBeUndefined();
    expect(read.calls.total).toBe(3 + 2 + 1 + 1 + 1);
    // Only targets of our own actions are kept.
    expect(read.scalableTargets.map((t) => t.resourceId)).toEqual(['function:fn-000:live']);
  });

  it('drops a function deleted between ListFunctions and GetFunction', async () => {
    const read = await readRegion(h.aws, OTHER, (region, fns) => {
      // The requirements callback runs after the bulk lists: delete one function right now.
      h.emulator.runtime.store.region(region).deleteFunction('other-a');
      return fns.map((f) => ({ region, name: f.name, reservedConcurrency: true, qualifiers: [] }));
    });

    expect(read.functions.map((f) => f.name)).toEqual(['other-b']);
    expect(read.readErrors).toEqual([]);
  });

  it('drops a function deleted between ListFunctions and ListProvisionedConcurrencyConfigs', async () => {
    const read = await readRegion(h.aws, REGION, (region, fns) => {
      h.emulator.runtime.store.region(region).deleteFunction('fn-015');
      return fns
        .filter((f) => f.name === 'fn-015' || f.name === 'fn-030')
        .map((f) => ({ region, name: f.name, reservedConcurrency: false, qualifiers: ['live'] }));
    });

    expect(read.functions.some((f) => f.name === 'fn-015')).toBe(false);
    expect(read.functions.find((f) => f.name === 'fn-030')?.qualifiers?.live?.provisionedRequested).toBe(2);
    expect(read.readErrors).toEqual([]);
  });
});

describe('readRegion under AWS throttling', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await startHarness(
      { seed: { functions: Array.from({ length: 60 }, (_, i) => ({ ...seedFunction(i), reservedConcurrency: 1 })) } },
      // Faster than the emulator's quota on purpose, so AWS answers 429 + Retry-After and the reader must cope.
      {
        rates: { lambda: 1000, 'lambda-getfunction': 1000, autoscaling: 1000, tagging: 1000 },
        bursts: { 'lambda-getfunction': 100 },
      },
    );
    await h.admin('POST', 'quotas', { getFunction: 20, burstSeconds: 1 });
  });

  afterAll(async () => {
    await h?.stop();
  });

  it('retries throttled reads after Retry-After and still returns the full fleet', async () => {
    const read = await readRegion(h.aws, REGION, (region, fns) =>
      fns.map((f) => ({ region, name: f.name, reservedConcurrency: true, qualifiers: [] })),
    );

    expect(read.readErrors).toEqual([]);
    expect(read.functions).toHaveLength(60);
    expect(read.functions.every((f) => f.reservedConcurrency === 1)).toBe(true);
    expect(read.calls.throttled).toBeGreaterThan(0);
    expect(h.events.some((e) => e.outcome === 'throttled' && e.api === 'GetFunction')).toBe(true);
    // Every throttled attempt was retried: successes = one per function.
    expect(h.events.filter((e) => e.api === 'GetFunction' && e.outcome === 'ok')).toHaveLength(60);
  });

  it('reads Retry-After from JSON 1.1 throttles (tagging API) too', async () => {
    await h.admin('POST', 'quotas', { tagging: 1, burstSeconds: 1 });
    h.events.length = 0;

    const [first, second] = await Promise.all([
      readRegion(h.aws, REGION, () => []),
      readRegion(h.aws, REGION, () => []),
    ]);

    expect(first.functions).toHaveLength(60);
    expect(second.functions).toHaveLength(60);
    const throttled = h.events.filter((e) => e.api === 'GetResources' && e.outcome === 'throttled');
    expect(throttled.length).toBeGreaterThan(0);
    expect(throttled[0]?.error).toMatchObject({
      code: 'Throttled',
      awsCode: 'ThrottlingException',
      retryAfterMs: 1000,
    });
  });
});
