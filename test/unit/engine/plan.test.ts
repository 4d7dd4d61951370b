import { describe, expect, it } from 'vitest';
import type { Settings } from '../../../src/api/schema.ts';
import { policyCleanup } from '../../../src/engine/cleanup.ts';
import {
  type FunctionPlan,
  type ObservedFunction,
  type PolicyInput,
  type RegionSnapshot,
  SCHEDULED_ACTION_PREFIX,
} from '../../../src/engine/model.ts';
import { plan } from '../../../src/engine/plan.ts';
import { requiredReads } from '../../../src/engine/requirements.ts';
import { ACCOUNT, fleet, fn, OPTIONS, policy, REGION, region } from './fixtures.ts';

const NOW = new Date('2026-12-01T09:00:00Z'); // Tuesday, 10:00 in Berlin
const live = (provisionedRequested = 0, exists = true) => ({
  live: { qualifier: 'live', exists, provisionedRequested },
});
const bh = { name: 'bh', start: '0 8 * * 1-5', end: '0 19 * * 1-5', timezone: 'Europe/Berlin', value: 20 };
const START = `${SCHEDULED_ACTION_PREFIX}.platform.p.bh.start`;
const END = `${SCHEDULED_ACTION_PREFIX}.platform.p.bh.end`;

function planOne(settings: Settings, f: ObservedFunction, over: Partial<RegionSnapshot> = {}, now = NOW): FunctionPlan {
  const p = plan([policy('platform/p', { settings })], fleet(region([f], over)), now, OPTIONS);
  const only = p.functions[0];
  if (!only) throw new Error('function not planned');
  return only;
}
const apis = (fp: FunctionPlan) => fp.actions.map((a) => a.api);
const reasons = (fp: FunctionPlan) => fp.refusals.map((r) => `${r.field}:${r.reason}`);

describe('feasibility', () => {
  it.each<[string, Settings, ObservedFunction, Partial<RegionSnapshot>, string[], string[]]>([
    [
      'provisioned above current reserved',
      { provisionedConcurrency: { qualifier: 'live', value: 20 } },
      fn('f', { reservedConcurrency: 10, qualifiers: live() }),
      {},
      ['provisionedConcurrency:ProvisionedExceedsReserved'],
      [],
    ],
    [
      'provisioned window above the reserved this plan sets',
      { reservedConcurrency: 5, provisionedConcurrency: { qualifier: 'live', value: 1, windows: [bh] } },
      fn('f', { reservedConcurrency: null, qualifiers: live(1) }),
      {},
      ['provisionedConcurrency:ProvisionedExceedsReserved'],
      ['PutFunctionConcurrency'],
    ],
    [
      'provisioned fits in the reserved this plan raises',
      { reservedConcurrency: 50, provisionedConcurrency: { qualifier: 'live', value: 20 } },
      fn('f', { reservedConcurrency: 5, qualifiers: live(20) }),
      {},
      [],
      ['PutFunctionConcurrency'],
    ],
    [
      'lowering reserved below the provisioned in place: provisioned comes down first',
      { reservedConcurrency: 10, provisionedConcurrency: { qualifier: 'live', value: 5 } },
      fn('f', { reservedConcurrency: 50, qualifiers: live(30) }),
      {},
      [],
      ['PutProvisionedConcurrencyConfig', 'PutFunctionConcurrency'],
    ],
    [
      'lowering reserved that still covers the provisioned in place keeps the contract order',
      { reservedConcurrency: 40, provisionedConcurrency: { qualifier: 'live', value: 5 } },
      fn('f', { reservedConcurrency: 50, qualifiers: live(30) }),
      {},
      [],
      ['PutFunctionConcurrency', 'PutProvisionedConcurrencyConfig'],
    ],
    [
      'provisioned with no reservation is not limited by it',
      { provisionedConcurrency: { qualifier: 'live', value: 20 } },
      fn('f', { reservedConcurrency: null, qualifiers: live(0) }),
      {},
      [],
      ['PutProvisionedConcurrencyConfig'],
    ],
    [
      'reserved under the unreserved floor',
      { reservedConcurrency: 60 },
      fn('f', { reservedConcurrency: null }),
      { account: { ...ACCOUNT, unreservedConcurrentExecutions: 150 } },
      ['reservedConcurrency:UnreservedFloor'],
      [],
    ],
    [
      'the current reservation being replaced counts (150 + 30 - 70 = 110 >= 100)',
      { reservedConcurrency: 70 },
      fn('f', { reservedConcurrency: 30 }),
      { account: { ...ACCOUNT, unreservedConcurrentExecutions: 150 } },
      [],
      ['PutFunctionConcurrency'],
    ],
    [
      'exactly at the floor is allowed',
      { reservedConcurrency: 50 },
      fn('f', { reservedConcurrency: null }),
      { account: { ...ACCOUNT, unreservedConcurrentExecutions: 150 } },
      [],
      ['PutFunctionConcurrency'],
    ],
    [
      'a low-quota account floor (10): 50 - 40 = 10',
      { reservedConcurrency: 40 },
      fn('f', { reservedConcurrency: null }),
      { account: { concurrentExecutions: 50, unreservedConcurrentExecutions: 50, unreservedFloor: 10 } },
      [],
      ['PutFunctionConcurrency'],
    ],
    [
      'an increase without account settings is not read',
      { reservedConcurrency: 10 },
      fn('f', { reservedConcurrency: null }),
      { account: undefined },
      ['reservedConcurrency:NotRead'],
      [],
    ],
    [
      'a decrease needs no account settings',
      { reservedConcurrency: 10 },
      fn('f', { reservedConcurrency: 20 }),
      { account: undefined },
      [],
      ['PutFunctionConcurrency'],
    ],
    [
      'reserved 0 (kill switch) is a valid decrease',
      { reservedConcurrency: 0 },
      fn('f', { reservedConcurrency: 20 }),
      {},
      [],
      ['PutFunctionConcurrency'],
    ],
    [
      'Unreserved removes the reservation',
      { reservedConcurrency: 'Unreserved' },
      fn('f', { reservedConcurrency: 20 }),
      {},
      [],
      ['DeleteFunctionConcurrency'],
    ],
    [
      'reserved not read',
      { reservedConcurrency: 10 },
      fn('f', { reservedConcurrency: undefined }),
      {},
      ['reservedConcurrency:NotRead'],
      [],
    ],
    [
      '$LATEST qualifier',
      { provisionedConcurrency: { qualifier: '$LATEST', value: 2 } },
      fn('f', { qualifiers: { $LATEST: { qualifier: '$LATEST', exists: true, provisionedRequested: 0 } } }),
      {},
      ['provisionedConcurrency:LatestQualifier'],
      [],
    ],
    [
      'qualifier that does not exist',
      { provisionedConcurrency: { qualifier: 'live', value: 2 } },
      fn('f', { qualifiers: live(0, false) }),
      {},
      ['provisionedConcurrency:QualifierNotFound'],
      [],
    ],
    [
      'qualifier not read',
      { provisionedConcurrency: { qualifier: 'live', value: 2 } },
      fn('f', { qualifiers: undefined }),
      {},
      ['provisionedConcurrency:NotRead'],
      [],
    ],
    [
      'reserved not read while provisioned is governed',
      { provisionedConcurrency: { qualifier: 'live', value: 2 } },
      fn('f', { reservedConcurrency: undefined, qualifiers: live() }),
      {},
      ['provisionedConcurrency:NotRead'],
      [],
    ],
    [
      'Image architecture change',
      { architecture: 'arm64', memorySize: 1024 },
      fn('f', { packageType: 'Image' }),
      {},
      ['architecture:ImageArchitecture'],
      ['UpdateFunctionConfiguration'],
    ],
    [
      'overlapping windows',
      {
        provisionedConcurrency: {
          qualifier: 'live',
          value: 1,
          windows: [bh, { name: 'lunch', start: '0 12 * * *', end: '0 13 * * *', value: 30 }],
        },
      },
      fn('f', { qualifiers: live() }),
      {},
      ['provisionedConcurrency:WindowOverlap'],
      [],
    ],
    [
      'a window AWS cron cannot express',
      { provisionedConcurrency: { qualifier: 'live', value: 1, windows: [{ ...bh, start: '0 8 1 * 1' }] } },
      fn('f', { qualifiers: live() }),
      {},
      ['provisionedConcurrency:InvalidSchedule'],
      [],
    ],
    [
      'an unknown time zone',
      { provisionedConcurrency: { qualifier: 'live', value: 1, windows: [{ ...bh, timezone: 'Europe/Atlantis' }] } },
      fn('f', { qualifiers: live() }),
      {},
      ['provisionedConcurrency:InvalidSchedule'],
      [],
    ],
  ])('%s', (_title, settings, f, over, expectedRefusals, expectedApis) => {
    const fp = planOne(settings, f, over);
    expect(reasons(fp)).toEqual(expectedRefusals);
    expect(apis(fp)).toEqual(expectedApis);
    for (const r of fp.refusals) expect(r.message.length).toBeGreaterThan(0);
  });

  it('Image architecture drift is still reported', () => {
    const fp = planOne({ architecture: 'arm64' }, fn('f', { packageType: 'Image' }));
    expect(fp.drift).toEqual([{ field: 'architecture', desired: 'arm64', actual: 'x86_64', policy: 'platform/p' }]);
    expect(fp.compliant).toBe(false);
  });

  it('counts reserved increases planned earlier in the same region, in name order', () => {
    const ps = [policy('platform/p', { settings: { reservedConcurrency: 40 } })];
    const r = region([fn('b'), fn('a'), fn('c', { reservedConcurrency: 60 })], {
      account: { ...ACCOUNT, unreservedConcurrentExecutions: 170 },
    });
    const p = plan(ps, fleet(r), NOW, OPTIONS);
    // a: 170 - 40 = 130; b: 130 - 40 = 90 < 100 refused; c: decrease, always fine
    expect(p.functions.map((f) => [f.name, apis(f), reasons(f)])).toEqual([
      ['a', ['PutFunctionConcurrency'], []],
      ['b', [], ['reservedConcurrency:UnreservedFloor']],
      ['c', ['PutFunctionConcurrency'], []],
    ]);
  });

  it('regions have separate budgets', () => {
    const ps = [
      policy('platform/p', {
        selector: { regions: ['eu-central-1', 'us-east-1'], functionNames: ['*'] },
        settings: { reservedConcurrency: 40 },
      }),
    ];
    const tight = { account: { ...ACCOUNT, unreservedConcurrentExecutions: 140 } };
    const p = plan(
      ps,
      fleet(region([fn('a')], tight), region([fn('a', { region: 'us-east-1' })], tight)),
      NOW,
      OPTIONS,
    );
    expect(p.functions.map((f) => [f.region, reasons(f)])).toEqual([
      ['eu-central-1', []],
      ['us-east-1', []],
    ]);
  });
});

describe('provisioned concurrency counts every qualifier of the function', () => {
  const blue = (v: number) => ({ otherProvisioned: { blue: v } });
  const floor150 = { account: { ...ACCOUNT, unreservedConcurrentExecutions: 150 } };
  it.each<[string, Settings, ObservedFunction, Partial<RegionSnapshot>, string[], string[], string]>([
    [
      'other alias holds 5, reserved 10, desired 8 -> refused',
      { provisionedConcurrency: { qualifier: 'live', value: 8 } },
      fn('f', { reservedConcurrency: 10, qualifiers: live(0), ...blue(5) }),
      {},
      ['provisionedConcurrency:ProvisionedExceedsReserved'],
      [],
      'provisioned concurrency up to 8 on live plus 5 on other qualifiers (blue: 5) exceeds reserved concurrency 10',
    ],
    [
      'other alias 5, reserved 20, desired 8 -> allowed',
      { provisionedConcurrency: { qualifier: 'live', value: 8 } },
      fn('f', { reservedConcurrency: 20, qualifiers: live(0), ...blue(5) }),
      {},
      [],
      ['PutProvisionedConcurrencyConfig'],
      '',
    ],
    [
      'exactly the reservation: 5 + 5 = 10',
      { provisionedConcurrency: { qualifier: 'live', value: 5 } },
      fn('f', { reservedConcurrency: 10, qualifiers: live(0), ...blue(5) }),
      {},
      [],
      ['PutProvisionedConcurrencyConfig'],
      '',
    ],
    [
      'a qualifier another (Audit) policy governs counts too, and every one is named',
      { provisionedConcurrency: { qualifier: 'live', value: 8 } },
      fn('f', {
        reservedConcurrency: 12,
        qualifiers: { ...live(0), '3': { qualifier: '3', exists: true, provisionedRequested: 2 } },
        otherProvisioned: { blue: 3 },
      }),
      {},
      ['provisionedConcurrency:ProvisionedExceedsReserved'],
      [],
      'up to 8 on live plus 5 on other qualifiers (3: 2, blue: 3) exceeds reserved concurrency 12',
    ],
    [
      "the schedule's maximum counts with the others (20 + 5 > 24)",
      { provisionedConcurrency: { qualifier: 'live', value: 1, windows: [bh] } },
      fn('f', { reservedConcurrency: 24, qualifiers: live(1), ...blue(5) }),
      {},
      ['provisionedConcurrency:ProvisionedExceedsReserved'],
      [],
      'up to 20 on live plus 5',
    ],
    [
      'the reservation this plan raises makes room for both',
      { reservedConcurrency: 20, provisionedConcurrency: { qualifier: 'live', value: 8 } },
      fn('f', { reservedConcurrency: 10, qualifiers: live(0), ...blue(5) }),
      {},
      [],
      ['PutFunctionConcurrency', 'PutProvisionedConcurrencyConfig'],
      '',
    ],
    [
      "a reservation below the other alias's provisioned is refused (AWS would reject the write)",
      { reservedConcurrency: 4, provisionedConcurrency: { qualifier: 'live', value: 2 } },
      fn('f', { reservedConcurrency: 20, qualifiers: live(2), ...blue(5) }),
      {},
      ['reservedConcurrency:ProvisionedExceedsReserved'],
      [],
      'reserved concurrency 4 is below the 5 provisioned on blue: 5',
    ],
    [
      'unreserved floor: no reservation, 150 unreserved, desired 60 -> 90 < 100',
      { provisionedConcurrency: { qualifier: 'live', value: 60 } },
      fn('f', { reservedConcurrency: null, qualifiers: live(0) }),
      floor150,
      ['provisionedConcurrency:UnreservedFloor'],
      [],
      'provisioned concurrency up to 60 on live would leave 90 unreserved in eu-central-1, below the minimum of 100',
    ],
    [
      'unreserved floor: exactly at the floor is allowed (150 - 50 = 100)',
      { provisionedConcurrency: { qualifier: 'live', value: 50 } },
      fn('f', { reservedConcurrency: null, qualifiers: live(0) }),
      floor150,
      [],
      ['PutProvisionedConcurrencyConfig'],
      '',
    ],
    [
      "unreserved floor: the function's other qualifiers draw from the pool too (150 - 20 - 40 = 90)",
      { provisionedConcurrency: { qualifier: 'live', value: 40 } },
      fn('f', { reservedConcurrency: null, qualifiers: live(0), ...blue(20) }),
      floor150,
      ['provisionedConcurrency:UnreservedFloor'],
      [],
      'up to 40 on live plus 20 on other qualifiers (blue: 20) would leave 90 unreserved',
    ],
    [
      'unreserved floor: what it already holds counts (GetAccountSettings leaves provisioned in the pool)',
      { provisionedConcurrency: { qualifier: 'live', value: 950 } },
      fn('f', { reservedConcurrency: null, qualifiers: live(850) }),
      {},
      ['provisionedConcurrency:UnreservedFloor'],
      [],
      'would leave 50 unreserved',
    ],
    [
      'unreserved floor: keeping what AWS already accepted is never refused',
      { provisionedConcurrency: { qualifier: 'live', value: 80 } },
      fn('f', { reservedConcurrency: null, qualifiers: live(80), ...blue(20) }),
      floor150,
      [],
      [],
      '',
    ],
    [
      'unreserved floor: lowering is never refused',
      { provisionedConcurrency: { qualifier: 'live', value: 60 } },
      fn('f', { reservedConcurrency: null, qualifiers: live(80) }),
      floor150,
      [],
      ['PutProvisionedConcurrencyConfig'],
      '',
    ],
    [
      'a raise without account settings is not read',
      { provisionedConcurrency: { qualifier: 'live', value: 5 } },
      fn('f', { reservedConcurrency: null, qualifiers: live(0) }),
      { account: undefined },
      ['provisionedConcurrency:NotRead'],
      [],
      'account settings of eu-central-1 were not read',
    ],
    [
      'a reserved function needs no account settings for its provisioned',
      { provisionedConcurrency: { qualifier: 'live', value: 5 } },
      fn('f', { reservedConcurrency: 10, qualifiers: live(0) }),
      { account: undefined },
      [],
      ['PutProvisionedConcurrencyConfig'],
      '',
    ],
  ])('%s', (_title, settings, f, over, expectedRefusals, expectedApis, message) => {
    const fp = planOne(settings, f, over);
    expect(reasons(fp)).toEqual(expectedRefusals);
    expect(apis(fp)).toEqual(expectedApis);
    if (message !== '') expect(fp.refusals[0]?.message).toContain(message);
  });

  it('a refused provisioned field still shows desired against actual, like a refused reservation', () => {
    const fp = planOne(
      { provisionedConcurrency: { qualifier: 'live', value: 8 } },
      fn('f', { reservedConcurrency: 10, qualifiers: live(2), otherProvisioned: { blue: 5 } }),
    );
    expect(fp.compliant).toBe(false);
    expect(fp.drift).toEqual([{ field: 'provisionedConcurrency', desired: 8, actual: 2, policy: 'platform/p' }]);
  });

  it('a qualifier that does not exist shows as drift too', () => {
    const fp = planOne(
      { provisionedConcurrency: { qualifier: 'live', value: 3 } },
      fn('f', { qualifiers: live(0, false) }),
    );
    expect(fp.drift).toEqual([
      { field: 'provisionedConcurrency', desired: 3, actual: 'qualifier live not found', policy: 'platform/p' },
    ]);
  });

  it('several functions without a reservation add up against the floor, in name order, with reserved increases', () => {
    const ps = [
      policy('platform/prov', {
        selector: { functionNames: ['p-*'] },
        settings: { provisionedConcurrency: { qualifier: 'live', value: 40 } },
      }),
      policy('platform/res', { selector: { functionNames: ['r-*'] }, settings: { reservedConcurrency: 30 } }),
    ];
    const r = region(
      [
        fn('p-c', { qualifiers: live(0) }),
        fn('p-a', { qualifiers: live(0) }),
        fn('r-b'),
        fn('p-b', { qualifiers: live(10) }),
        fn('p-d', { qualifiers: live(40) }),
      ],
      { account: { ...ACCOUNT, unreservedConcurrentExecutions: 260 } },
    );
    const p = plan(ps, fleet(r), NOW, OPTIONS);
    // p-a: 260 - 40 = 220; p-b: 220 - 40 = 180; p-c: 180 - 40 = 140; p-d keeps its 40: 100;
    // r-b: reserving 30 would leave 70 < 100.
    expect(p.functions.map((f) => [f.name, apis(f), reasons(f)])).toEqual([
      ['p-a', ['PutProvisionedConcurrencyConfig'], []],
      ['p-b', ['PutProvisionedConcurrencyConfig'], []],
      ['p-c', ['PutProvisionedConcurrencyConfig'], []],
      ['p-d', [], []],
      ['r-b', [], ['reservedConcurrency:UnreservedFloor']],
    ]);
    // A tighter account (200): p-a 160, p-b 120, p-c would leave 80 and is refused (its 0 stays), p-d keeps its 40.
    const tight = plan(ps, fleet({ ...r, account: { ...ACCOUNT, unreservedConcurrentExecutions: 200 } }), NOW, OPTIONS);
    expect(tight.functions.map((f) => [f.name, reasons(f)])).toEqual([
      ['p-a', []],
      ['p-b', []],
      ['p-c', ['provisionedConcurrency:UnreservedFloor']],
      ['p-d', []],
      ['r-b', ['reservedConcurrency:UnreservedFloor']],
    ]);
  });
});

describe('actions', () => {
  it('memory and timeout in one UpdateFunctionConfiguration, then code, reserved, provisioned', () => {
    const fp = planOne(
      {
        memorySize: 1024,
        timeout: 10,
        architecture: 'arm64',
        reservedConcurrency: 100,
        provisionedConcurrency: { qualifier: 'live', value: 2, windows: [bh] },
      },
      fn('f', { qualifiers: live(5) }),
    );
    expect(fp.actions).toEqual([
      { api: 'UpdateFunctionConfiguration', memorySize: 1024, timeout: 10 },
      { api: 'UpdateFunctionCode', architecture: 'arm64' },
      { api: 'PutFunctionConcurrency', reservedConcurrentExecutions: 100 },
      { api: 'RegisterScalableTarget', resourceId: 'function:f:live', minCapacity: 20, maxCapacity: 20 },
      {
        api: 'PutScheduledAction',
        resourceId: 'function:f:live',
        scheduledActionName: START,
        schedule: 'cron(0 8 ? * MON-FRI *)',
        timezone: 'Europe/Berlin',
        minCapacity: 20,
        maxCapacity: 20,
      },
      {
        api: 'PutScheduledAction',
        resourceId: 'function:f:live',
        scheduledActionName: END,
        schedule: 'cron(0 19 ? * MON-FRI *)',
        timezone: 'Europe/Berlin',
        minCapacity: 2,
        maxCapacity: 2,
      },
      // No PutProvisionedConcurrencyConfig: registering the target moves the capacity into [20, 20] itself.
    ]);
    expect(fp.drift.map((d) => d.field)).toEqual([
      'memorySize',
      'timeout',
      'architecture',
      'reservedConcurrency',
      'scheduledActions',
      'scheduledActions',
      'scheduledActions',
      'provisionedConcurrency',
    ]);
  });

  it('only the drifted one of memory/timeout is sent', () => {
    const fp = planOne({ memorySize: 1024, timeout: 30 }, fn('f'));
    expect(fp.actions).toEqual([{ api: 'UpdateFunctionConfiguration', memorySize: 1024 }]);
  });

  it('a compliant function has no drift and no actions', () => {
    const fp = planOne(
      { memorySize: 512, timeout: 30, architecture: 'x86_64', reservedConcurrency: 'Unreserved' },
      fn('f'),
    );
    expect(fp).toMatchObject({ compliant: true, drift: [], actions: [], refusals: [] });
  });

  describe('provisioned concurrency and scheduled actions', () => {
    const settings: Settings = { provisionedConcurrency: { qualifier: 'live', value: 2, windows: [bh] } };
    const inSync = (): Partial<RegionSnapshot> => ({
      scalableTargets: [{ resourceId: 'function:f:live', minCapacity: 20, maxCapacity: 20 }],
      scheduledActions: [
        {
          name: START,
          resourceId: 'function:f:live',
          schedule: 'cron(0 8 ? * MON-FRI *)',
          timezone: 'Europe/Berlin',
          minCapacity: 20,
          maxCapacity: 20,
        },
        {
          name: END,
          resourceId: 'function:f:live',
          schedule: 'cron(0 19 ? * MON-FRI *)',
          timezone: 'Europe/Berlin',
          minCapacity: 2,
          maxCapacity: 2,
        },
      ],
    });

    it('in sync: nothing to do', () => {
      expect(planOne(settings, fn('f', { qualifiers: live(20) }), inSync())).toMatchObject({
        compliant: true,
        actions: [],
      });
    });

    it('a changed action is put again, an undeclared owned one deleted, foreign ones untouched', () => {
      const state = inSync();
      const actions = state.scheduledActions ?? [];
      actions[1] = { ...(actions[1] as (typeof actions)[number]), minCapacity: 3, maxCapacity: 3 };
      actions.push(
        {
          name: `${SCHEDULED_ACTION_PREFIX}.platform.p.old.start`,
          resourceId: 'function:f:live',
          schedule: 'cron(0 1 * * ? *)',
          timezone: 'UTC',
          minCapacity: 1,
          maxCapacity: 1,
        },
        {
          name: `${SCHEDULED_ACTION_PREFIX}.platform.p.bh.start`,
          resourceId: 'function:f:blue',
          schedule: 'cron(0 1 * * ? *)',
          timezone: 'UTC',
          minCapacity: 1,
          maxCapacity: 1,
        },
        {
          name: 'hand-made',
          resourceId: 'function:f:live',
          schedule: 'cron(0 1 * * ? *)',
          timezone: 'UTC',
          minCapacity: 1,
          maxCapacity: 1,
        },
        {
          name: `${SCHEDULED_ACTION_PREFIX}.platform.p.x.start`,
          resourceId: 'function:f-other:live',
          schedule: 'cron(0 1 * * ? *)',
          timezone: 'UTC',
          minCapacity: 1,
          maxCapacity: 1,
        },
      );
      const fp = planOne(settings, fn('f', { qualifiers: live(20) }), state);
      expect(fp.actions).toEqual([
        expect.objectContaining({ api: 'PutScheduledAction', scheduledActionName: END, minCapacity: 2 }),
        {
          api: 'DeleteScheduledAction',
          resourceId: 'function:f:live',
          scheduledActionName: `${SCHEDULED_ACTION_PREFIX}.platform.p.old.start`,
        },
        { api: 'DeleteScheduledAction', resourceId: 'function:f:blue', scheduledActionName: START },
      ]);
    });

    it('owned actions of a function no Enforce block covers any more are deleted', () => {
      const fp = planOne({ memorySize: 512 }, fn('f'), inSync());
      expect(apis(fp)).toEqual(['DeleteScheduledAction', 'DeleteScheduledAction']);
    });

    it.each([
      ['another Enforce policy governs the function', [policy('team-b/memory', { settings: { memorySize: 512 } })]],
      ['no policy matches the function', [policy('platform/other', { selector: { tags: { x: 'y' } }, settings })]],
    ])('an owner refused this fleet (grant revoked) keeps its actions: %s', (_label, policies) => {
      const snapshot = fleet(region([fn('f', { qualifiers: live(20) })], inSync()));
      const kept = plan(policies, snapshot, NOW, { ...OPTIONS, refusedOwners: new Set(['platform/p']) });
      expect(kept.functions.flatMap((f) => f.actions).filter((a) => a.api === 'DeleteScheduledAction')).toEqual([]);
      // Without the refusal the same plan removes them: the set is what keeps them.
      const judged = plan(policies, snapshot, NOW, OPTIONS);
      expect(judged.functions.flatMap((f) => f.actions).map((a) => a.api)).toContain('DeleteScheduledAction');
    });

    it('a function matched by no Enforce policy: only the owned actions nothing declares any more are deleted', () => {
      // platform/p (the owner of inSync's actions) is not in the set any more: its leftovers go.
      const p = plan(
        [policy('platform/audit', { mode: 'Audit', settings: { memorySize: 1024 } })],
        fleet(region([fn('f')], inSync())),
        NOW,
        OPTIONS,
      );
      expect(p.functions[0]?.actions).toEqual([
        { api: 'DeleteScheduledAction', resourceId: 'function:f:live', scheduledActionName: END },
        { api: 'DeleteScheduledAction', resourceId: 'function:f:live', scheduledActionName: START },
      ]);
      expect(p.functions[0]?.auditDrift).toEqual([
        { field: 'memorySize', desired: 1024, actual: 512, policy: 'platform/audit' },
      ]);
      // Nothing else is ever written to it.
      expect(new Set(p.functions[0]?.actions.map((a) => a.api))).toEqual(new Set(['DeleteScheduledAction']));
    });

    it.each([
      [
        'the owner narrowed its selector (no longer matches)',
        [policy('platform/p', { selector: { tags: { x: 'y' } }, settings })],
      ],
      [
        'the owner is gone (policy file removed), its namespace is still covered',
        [policy('platform/q', { selector: { tags: { x: 'y' } }, settings })],
      ],
    ])('%s: its actions on the unmatched function are deleted, and plan shows them', (_label, policies) => {
      const p = plan(policies, fleet(region([fn('f', { qualifiers: live(20) })], inSync())), NOW, OPTIONS);
      expect(p.functions).toHaveLength(1);
      const fp = p.functions[0];
      expect(fp).toMatchObject({ region: 'eu-central-1', name: 'f', policies: [], compliant: false });
      expect(apis(fp as FunctionPlan)).toEqual(['DeleteScheduledAction', 'DeleteScheduledAction']);
      expect(fp?.drift.map((d) => [d.field, d.desired, d.policy])).toEqual([
        ['scheduledActions', 'absent', 'platform/p'],
        ['scheduledActions', 'absent', 'platform/p'],
      ]);
    });

    it.each([
      ['suspended', { suspend: true }],
      ['in Audit mode', { mode: 'Audit' as const }],
    ])('an owner that still exists but is %s keeps its actions', (_label, extra) => {
      const owner = policy('platform/p', { selector: { tags: { x: 'y' } }, settings, ...extra });
      const p = plan([owner], fleet(region([fn('f')], inSync())), NOW, OPTIONS);
      expect(p.functions).toEqual([]);
    });

    it('owners in namespaces the policy set does not cover are never judged (a one-namespace controller, one repo)', () => {
      const p = plan(
        [policy('other/q', { selector: { tags: { x: 'y' } }, settings })],
        fleet(region([fn('f')], inSync())),
        NOW,
        OPTIONS,
      );
      expect(p.functions).toEqual([]);
    });

    it('actions of other tools (no prefix) on an unmatched function are never touched', () => {
      const state = inSync();
      const foreign = (state.scheduledActions ?? []).map((a) => ({ ...a, name: `someone-else.${a.name}` }));
      const p = plan([], fleet(region([fn('f')], { ...state, scheduledActions: foreign })), NOW, OPTIONS);
      expect(p.functions).toEqual([]);
    });

    it('a scalable target whose range excludes the desired value is re-registered', () => {
      const state = {
        ...inSync(),
        scalableTargets: [{ resourceId: 'function:f:live', minCapacity: 2, maxCapacity: 2 }],
      };
      const fp = planOne(settings, fn('f', { qualifiers: live(20) }), state);
      expect(fp.actions).toEqual([
        { api: 'RegisterScalableTarget', resourceId: 'function:f:live', minCapacity: 20, maxCapacity: 20 },
      ]);
    });

    it('requested value different from the desired value now, target registered -> re-registered, never a direct Put', () => {
      const fp = planOne(settings, fn('f', { qualifiers: live(2) }), inSync());
      expect(fp.drift).toEqual([{ field: 'provisionedConcurrency', desired: 20, actual: 2, policy: 'platform/p' }]);
      expect(fp.actions).toEqual([
        { api: 'RegisterScalableTarget', resourceId: 'function:f:live', minCapacity: 20, maxCapacity: 20 },
      ]);
    });

    it('requested value different from the desired value, no scalable target (no windows) -> PutProvisionedConcurrencyConfig', () => {
      const fp = planOne({ provisionedConcurrency: { qualifier: 'live', value: 3 } }, fn('f', { qualifiers: live(2) }));
      expect(fp.actions).toEqual([
        { api: 'PutProvisionedConcurrencyConfig', qualifier: 'live', provisionedConcurrentExecutions: 3 },
      ]);
    });

    it('desired 0 -> DeleteProvisionedConcurrencyConfig', () => {
      const fp = planOne({ provisionedConcurrency: { qualifier: 'live', value: 0 } }, fn('f', { qualifiers: live(4) }));
      expect(fp.actions).toEqual([{ api: 'DeleteProvisionedConcurrencyConfig', qualifier: 'live' }]);
    });

    it.each([
      ['60 s after the 08:00 edge: AAS may not have acted, no value drift', '2026-12-01T07:01:00Z', 120, []],
      ['119 s after the edge', '2026-12-01T07:01:59Z', 120, []],
      ['120 s after the edge: drift', '2026-12-01T07:02:00Z', 120, ['RegisterScalableTarget']],
      ['a grace of 0 s', '2026-12-01T07:00:30Z', 0, ['RegisterScalableTarget']],
    ])('grace: %s', (_title, at, graceSeconds, expected) => {
      const state = {
        ...inSync(),
        scalableTargets: [{ resourceId: 'function:f:live', minCapacity: 2, maxCapacity: 2 }],
      };
      const p = plan(
        [policy('platform/p', { settings })],
        fleet(region([fn('f', { qualifiers: live(2) })], state)),
        new Date(at),
        {
          ...OPTIONS,
          graceSeconds,
        },
      );
      // The target owns the capacity: the fix is its range, which Application Auto Scaling applies.
      expect(apis(p.functions[0] as FunctionPlan)).toEqual(expected);
    });
  });
});

describe('plan output', () => {
  it('only matched functions, sorted by region then name; suspended policies ignored', () => {
    const ps = [
      policy('a/p', {
        selector: { regions: ['us-east-1', 'eu-central-1'], functionNames: ['x-*'] },
        settings: { memorySize: 1024 },
      }),
      policy('a/s', { suspend: true, selector: { functionNames: ['*'] }, settings: { memorySize: 128 } }),
    ];
    const f = fleet(
      region([fn('x-b', { region: 'us-east-1' }), fn('x-a', { region: 'us-east-1' })]),
      region([fn('x-c'), fn('y')]),
    );
    const p = plan(ps, f, NOW, OPTIONS);
    expect(p.functions.map((x) => `${x.region}/${x.name}`)).toEqual([
      'eu-central-1/x-c',
      'us-east-1/x-a',
      'us-east-1/x-b',
    ]);
    expect(p.policies.map((r) => r.id)).toEqual(['a/p']);
    expect(p.summary).toEqual({
      policies: 1,
      matched: 3,
      compliant: 0,
      drifted: 3,
      overridden: 0,
      infeasible: 0,
      violating: 0,
    });
  });

  it('Audit: drift per Audit policy, never actions, never overrides', () => {
    const ps = [
      policy('a/audit', { mode: 'Audit', priority: 100, settings: { memorySize: 2048, timeout: 30 } }),
      policy('b/enf', { settings: { memorySize: 1024 } }),
    ];
    const p = plan(ps, fleet(region([fn('f')])), NOW, OPTIONS);
    const fp = p.functions[0] as FunctionPlan;
    expect(fp.drift).toEqual([{ field: 'memorySize', desired: 1024, actual: 512, policy: 'b/enf' }]);
    expect(fp.auditDrift).toEqual([{ field: 'memorySize', desired: 2048, actual: 512, policy: 'a/audit' }]);
    expect(fp.overridden).toEqual([]);
    expect(apis(fp)).toEqual(['UpdateFunctionConfiguration']);
  });

  it('policy reports count from each policy’s point of view', () => {
    const ps = [
      policy('a/high', { priority: 10, selector: { functionNames: ['f*'] }, settings: { memorySize: 1024 } }),
      policy('b/low', { selector: { functionNames: ['*'] }, settings: { memorySize: 256, timeout: 30 } }),
      policy('c/img', { selector: { functionNames: ['img'] }, settings: { architecture: 'arm64' } }),
      policy('d/audit', { mode: 'Audit', selector: { functionNames: ['*'] }, settings: { timeout: 30 } }),
    ];
    const p = plan(
      ps,
      fleet(region([fn('f1'), fn('f2', { memorySize: 1024 }), fn('img', { packageType: 'Image', memorySize: 256 })])),
      NOW,
      OPTIONS,
    );
    const byId = Object.fromEntries(
      p.policies.map((r) => [r.id, [r.matched, r.compliant, r.drifted, r.overridden, r.infeasible]]),
    );
    expect(byId).toEqual({
      'a/high': [2, 1, 1, 0, 0], // f1 drifted, f2 compliant
      'b/low': [3, 1, 0, 2, 0], // f1, f2 overridden on memory; img compliant (256, 30)
      'c/img': [1, 0, 0, 0, 1],
      'd/audit': [3, 3, 0, 0, 0],
    });
    expect(p.policies.find((r) => r.id === 'c/img')?.problems).toEqual([
      'ImageArchitecture on 1 function (e.g. eu-central-1/img: image functions need an image built for arm64; report only)',
    ]);
    expect(p.summary).toEqual({
      policies: 4,
      matched: 3,
      compliant: 1,
      drifted: 2,
      overridden: 2,
      infeasible: 1,
      violating: 0,
    });
  });

  it('reports policy-level problems and the provisioned window view', () => {
    const ps = [
      policy('platform/p', { settings: { provisionedConcurrency: { qualifier: 'live', value: 2, windows: [bh] } } }),
      policy('platform/bad', { selector: {}, settings: { memorySize: 1024 } }),
    ];
    const p = plan(ps, fleet(region([])), NOW, OPTIONS);
    const [bad, good] = p.policies;
    expect(bad?.problems).toEqual(['selector has no functionNames, tags or tagExpressions: it matches no function']);
    expect(good?.provisionedConcurrency).toEqual({
      desiredNow: 20,
      window: 'bh',
      nextChange: { at: new Date('2026-12-01T18:00:00Z'), value: 2 },
    });
  });

  it('a function listed under a region is in that region', () => {
    const p = plan(
      [policy('a/p', { settings: { memorySize: 1024 } })],
      fleet(region([fn('f', { region: 'xx-wrong-1' })], { region: REGION })),
      NOW,
      OPTIONS,
    );
    expect(p.functions.map((f) => f.region)).toEqual([REGION]);
  });
});

describe('cost', () => {
  it.each([
    ['x86_64, 1 GB, 1 provisioned all month', 'x86_64', 1024, 1, 10.8],
    ['arm64, 1 GB, 1 provisioned all month', 'arm64', 1024, 1, 8.64],
    ['x86_64, 512 MB, 10 provisioned', 'x86_64', 512, 10, 54.0],
  ] as const)('%s', (_title, architecture, memorySize, value, usd) => {
    const p = plan(
      [policy('a/p', { settings: { provisionedConcurrency: { qualifier: 'live', value } } })],
      fleet(region([fn('f', { architecture, memorySize, qualifiers: live(value) })])),
      NOW,
      OPTIONS,
    );
    expect(p.policies[0]?.cost?.provisionedConcurrencyMonthlyUSD).toBe(usd);
  });

  it('uses the desired memory and architecture and counts only where the block wins', () => {
    const ps = [
      policy('a/p', {
        settings: { memorySize: 2048, architecture: 'arm64', provisionedConcurrency: { qualifier: 'live', value: 1 } },
      }),
      policy('b/lose', { settings: { provisionedConcurrency: { qualifier: 'live', value: 50 } } }),
    ];
    const p = plan(ps, fleet(region([fn('f', { qualifiers: live(1), monthlyGbSeconds: 1_000_000 })])), NOW, OPTIONS);
    const [a, b] = p.policies;
    expect(a?.cost).toEqual({ provisionedConcurrencyMonthlyUSD: 17.28, architectureMonthlySavingUSD: 3.33 });
    expect(b?.cost).toEqual({ provisionedConcurrencyMonthlyUSD: 0 });
  });

  it('a window schedule is integrated edge to edge over 30 days', () => {
    const w = { name: 'w', start: '0 0 * * *', end: '0 12 * * *', value: 3 };
    const p = plan(
      [policy('a/p', { settings: { provisionedConcurrency: { qualifier: 'live', value: 1, windows: [w] } } })],
      fleet(region([fn('f', { memorySize: 1024, qualifiers: live(1) })])),
      new Date('2026-12-01T00:00:00Z'),
      OPTIONS,
    );
    // half the time 3, half 1 -> average 2 -> 2 x 10.80
    expect(p.policies[0]?.cost?.provisionedConcurrencyMonthlyUSD).toBe(21.6);
  });

  it.each([
    ['37 minutes later, inside the window', 37 * 60_000],
    ['5 hours later, after the window closed', 5 * 3_600_000],
    ['3 days and 11 minutes later', 3 * 86_400_000 + 11 * 60_000],
  ])('a weekly schedule costs the same when checked %s (no status churn)', (_title, offsetMs) => {
    const bh = { name: 'bh', start: '0 8 * * 1-5', end: '0 19 * * 1-5', timezone: 'Europe/Berlin', value: 20 };
    const costAt = (now: Date) =>
      plan(
        [policy('a/p', { settings: { provisionedConcurrency: { qualifier: 'live', value: 2, windows: [bh] } } })],
        fleet(region([fn('f', { memorySize: 1024, qualifiers: live(2) })])),
        now,
        OPTIONS,
      ).policies[0]?.cost;
    expect(costAt(new Date(NOW.getTime() + offsetMs))).toEqual(costAt(NOW));
  });

  it('architecture saving is n/a without GB-seconds or when nothing moves to arm64', () => {
    const ps = [policy('a/p', { settings: { architecture: 'arm64' } })];
    expect(plan(ps, fleet(region([fn('f')])), NOW, OPTIONS).policies[0]?.cost).toEqual({
      provisionedConcurrencyMonthlyUSD: 0,
    });
    expect(
      plan(ps, fleet(region([fn('f', { architecture: 'arm64', monthlyGbSeconds: 5 })])), NOW, OPTIONS).policies[0]
        ?.cost,
    ).toEqual({
      provisionedConcurrencyMonthlyUSD: 0,
    });
  });
});

describe('requiredReads', () => {
  const ps: PolicyInput[] = [
    policy('a/mem', { selector: { functionNames: ['m-*'] }, settings: { memorySize: 1024 } }),
    policy('a/res', { selector: { functionNames: ['r-*'] }, settings: { reservedConcurrency: 5 } }),
    policy('a/prov', {
      mode: 'Audit',
      selector: { functionNames: ['p-*'] },
      settings: { provisionedConcurrency: { qualifier: 'live', value: 1 } },
    }),
    policy('a/prov2', {
      selector: { functionNames: ['p-*'] },
      settings: { provisionedConcurrency: { qualifier: 'blue', value: 1 } },
    }),
    policy('a/latest', {
      selector: { functionNames: ['l-*'] },
      settings: { provisionedConcurrency: { qualifier: '$LATEST', value: 1 } },
    }),
    policy('a/susp', { suspend: true, selector: { functionNames: ['*'] }, settings: { reservedConcurrency: 5 } }),
  ];
  it('only matched functions; reserved where governed or provisioned is; governed qualifiers only', () => {
    const fns = ['m-1', 'r-1', 'p-1', 'l-1', 'other'].map((name) => ({ region: REGION, name, tags: {} }));
    expect(requiredReads(ps, REGION, fns, OPTIONS.defaultRegions)).toEqual([
      { region: REGION, name: 'l-1', reservedConcurrency: true, qualifiers: [] },
      { region: REGION, name: 'm-1', reservedConcurrency: false, qualifiers: [] },
      { region: REGION, name: 'p-1', reservedConcurrency: true, qualifiers: ['blue', 'live'] },
      { region: REGION, name: 'r-1', reservedConcurrency: true, qualifiers: [] },
    ]);
  });
  it('nothing outside the policies’ regions', () => {
    expect(
      requiredReads(ps, 'us-east-1', [{ region: 'us-east-1', name: 'm-1', tags: {} }], OPTIONS.defaultRegions),
    ).toEqual([]);
  });
});

describe('policyCleanup', () => {
  it('deletes exactly the actions the deleted policy owns', () => {
    const mk = (name: string, resourceId = 'function:f:live') => ({
      name,
      resourceId,
      schedule: 'cron(0 1 * * ? *)',
      timezone: 'UTC',
    });
    const f = fleet(
      region([], {
        scheduledActions: [
          mk(`${SCHEDULED_ACTION_PREFIX}.platform.p.bh.start`),
          mk(`${SCHEDULED_ACTION_PREFIX}.platform.p.bh.end`, 'function:g:live'),
          mk(`${SCHEDULED_ACTION_PREFIX}.platform.p-2.bh.end`),
          mk('platform.p.bh.start'),
        ],
      }),
    );
    expect(policyCleanup(f, 'platform', 'p').map((a) => [a.action.resourceId, a.action.scheduledActionName])).toEqual([
      ['function:f:live', `${SCHEDULED_ACTION_PREFIX}.platform.p.bh.start`],
      ['function:g:live', `${SCHEDULED_ACTION_PREFIX}.platform.p.bh.end`],
    ]);
  });
});
