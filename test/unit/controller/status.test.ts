import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { LambdaPolicy, LambdaPolicyStatus } from '../../../src/api/schema.ts';
import { findCondition, kstatusOf } from '../../../src/controller/conditions.ts';
import {
  buildErrorStatus,
  buildStatus,
  buildSuspendedStatus,
  compareFunctionStatus,
  type ExecutedFunction,
  functionStatusFor,
  remediatedFields,
} from '../../../src/controller/status.ts';
import { tag } from '../../../src/engine/diff/common.ts';
import type { Drift, FieldName, FunctionPlan, PolicyInput, PolicyReport } from '../../../src/engine/model.ts';
import { plan } from '../../../src/engine/plan.ts';
import { statusChanged, statusMergePatch } from '../../../src/kube/status-writer.ts';

const ID = 'platform/api-tier';
const now = new Date('2026-12-01T09:00:00.000Z');
const later = new Date('2026-12-01T09:05:00.000Z');

function policy(over: Partial<LambdaPolicy['spec']> = {}, generation = 3): LambdaPolicy {
  return {
    apiVersion: 'lambdapolicy.io/v1alpha1',
    kind: 'LambdaPolicy',
    metadata: { name: 'api-tier', namespace: 'platform', generation },
    spec: { mode: 'Enforce', selector: { functionNames: ['*'] }, settings: { memorySize: 1024 }, ...over },
  };
}

function report(over: Partial<PolicyReport> = {}): PolicyReport {
  return {
    id: ID,
    mode: 'Enforce',
    matched: 0,
    compliant: 0,
    drifted: 0,
    overridden: 0,
    infeasible: 0,
    problems: [],
    ...over,
  };
}

function fn(name: string, over: Partial<FunctionPlan> = {}, region = 'eu-central-1'): FunctionPlan {
  return {
    region,
    name,
    policies: [ID],
    compliant: true,
    drift: [],
    actions: [],
    refusals: [],
    overridden: [],
    auditDrift: [],
    ...over,
  };
}

const memDrift: Drift = { field: 'memorySize', desired: 1024, actual: 512, policy: ID };
const drifted = (name: string, region?: string) =>
  fn(
    name,
    { compliant: false, drift: [memDrift], actions: [{ api: 'UpdateFunctionConfiguration', memorySize: 1024 }] },
    region,
  );

function executed(name: string, ok: boolean, error?: string): ExecutedFunction {
  return {
    region: 'eu-central-1',
    name,
    ok,
    outcomes: [
      {
        action: tag({ api: 'UpdateFunctionConfiguration', memorySize: 1024 }, 'memorySize'),
        ok,
        status: ok ? 'applied' : 'failed',
        ...(error ? { error: { message: error } } : {}),
      },
    ],
  };
}

/** What the API server hands back: JSON round trip (drops undefined), keys in another order. */
function roundTrip(status: LambdaPolicyStatus): unknown {
  const json = JSON.parse(JSON.stringify(status)) as Record<string, unknown>;
  return Object.fromEntries(Object.entries(json).reverse());
}

describe('functionStatusFor', () => {
  it.each<{ name: string; plan: FunctionPlan; exec?: ExecutedFunction; mode?: 'Enforce' | 'Audit'; state: string }>([
    { name: 'no drift', plan: fn('a'), state: 'Compliant' },
    { name: 'drift, not executed', plan: drifted('a'), state: 'Drifted' },
    { name: 'drift, executed ok', plan: drifted('a'), exec: executed('a', true), state: 'Remediated' },
    { name: 'drift, execution failed', plan: drifted('a'), exec: executed('a', false, 'boom'), state: 'Failed' },
    {
      name: 'refused',
      plan: fn('a', {
        compliant: false,
        drift: [{ field: 'architecture', desired: 'arm64', actual: 'x86_64', policy: ID }],
        refusals: [{ field: 'architecture', reason: 'ImageArchitecture', message: 'Image package', policy: ID }],
      }),
      state: 'Infeasible',
    },
    {
      name: 'field lost to a higher priority',
      plan: fn('a', { overridden: [{ field: 'memorySize', policy: ID, winner: 'platform/other' }] }),
      state: 'Overridden',
    },
    {
      name: 'drift of another policy only',
      plan: fn('a', { compliant: false, drift: [{ ...memDrift, policy: 'x/other' }] }),
      state: 'Compliant',
    },
    {
      name: 'audit drift',
      plan: fn('a', { auditDrift: [{ field: 'timeout', desired: 10, actual: 30, policy: ID }] }),
      mode: 'Audit',
      state: 'Drifted',
    },
    { name: 'audit, compliant', plan: fn('a'), mode: 'Audit', state: 'Compliant' },
  ])('$name -> $state', ({ plan, exec, mode, state }) => {
    expect(functionStatusFor(ID, mode ?? 'Enforce', plan, exec).state).toBe(state);
  });

  it('renders drift values with their JSON types, null as "none"', () => {
    const plan = fn('a', {
      compliant: false,
      drift: [
        { field: 'reservedConcurrency', desired: 100, actual: null, policy: ID },
        { field: 'memorySize', desired: 1024, actual: 512, policy: ID },
      ],
    });
    expect(functionStatusFor(ID, 'Enforce', plan, undefined)).toEqual({
      region: 'eu-central-1',
      name: 'a',
      state: 'Drifted',
      drift: [
        { field: 'memorySize', desired: 1024, actual: 512 },
        { field: 'reservedConcurrency', desired: 100, actual: 'none' },
      ],
      message: 'memorySize: 512 -> 1024; reservedConcurrency: none -> 100',
    });
  });

  it('caps messages at 256 characters', () => {
    const plan = fn('a', {
      compliant: false,
      refusals: [{ field: 'reservedConcurrency', reason: 'UnreservedFloor', message: 'x'.repeat(1000), policy: ID }],
    });
    const message = functionStatusFor(ID, 'Enforce', plan, undefined).message ?? '';
    expect(message.length).toBe(256);
    expect(message.endsWith('…')).toBe(true);
  });

  it('a failed execution on a field the policy does not want does not fail the policy', () => {
    const exec: ExecutedFunction = {
      region: 'eu-central-1',
      name: 'a',
      ok: false,
      outcomes: [
        {
          action: tag({ api: 'UpdateFunctionConfiguration', memorySize: 1024 }, 'memorySize'),
          ok: true,
          status: 'applied',
        },
        {
          action: tag({ api: 'PutFunctionConcurrency', reservedConcurrentExecutions: 5 }, 'reservedConcurrency'),
          ok: false,
          status: 'failed',
        },
      ],
    };
    expect(functionStatusFor(ID, 'Enforce', drifted('a'), exec).state).toBe('Remediated');
  });

  it('a refused provisioned concurrency shows desired against actual, like a refused reservation', () => {
    // Arrange: the engine's plan for a function whose other alias holds 5 of its 10 reserved
    const policy: PolicyInput = {
      id: ID,
      namespace: 'platform',
      name: 'api-tier',
      mode: 'Enforce',
      priority: 0,
      suspend: false,
      intervalSeconds: 300,
      selector: { functionNames: ['a'] },
      settings: { provisionedConcurrency: { qualifier: 'live', value: 8 } },
    };
    const fleet = {
      readAt: now,
      regions: [
        {
          region: 'eu-central-1',
          account: { concurrentExecutions: 1000, unreservedConcurrentExecutions: 990, unreservedFloor: 100 },
          functions: [
            {
              region: 'eu-central-1',
              name: 'a',
              arn: 'arn:aws:lambda:eu-central-1:123456789012:function:a',
              memorySize: 512,
              timeout: 30,
              architecture: 'x86_64' as const,
              packageType: 'Zip' as const,
              tags: {},
              reservedConcurrency: 10,
              qualifiers: { live: { qualifier: 'live', exists: true, provisionedRequested: 2 } },
              otherProvisioned: { blue: 5 },
            },
          ],
          scalableTargets: [],
          scheduledActions: [],
        },
      ],
    };
    const fp = plan([policy], fleet, now, { defaultRegions: ['eu-central-1'] }).functions[0]!;

    // Act
    const status = functionStatusFor(ID, 'Enforce', fp, undefined);

    // Assert
    expect(status).toEqual({
      region: 'eu-central-1',
      name: 'a',
      state: 'Infeasible',
      drift: [{ field: 'provisionedConcurrency', desired: 8, actual: 2 }],
      message:
        'provisionedConcurrency: ProvisionedExceedsReserved: provisioned concurrency up to 8 on live plus 5 on other qualifiers (blue: 5) exceeds reserved concurrency 10',
    });
  });
});

describe('remediatedFields', () => {
  it('a field counts only when all its actions applied', () => {
    const exec: ExecutedFunction = {
      region: 'r',
      name: 'n',
      ok: false,
      outcomes: [
        {
          action: tag({ api: 'UpdateFunctionConfiguration', memorySize: 1, timeout: 2 }, 'memorySize', 'timeout'),
          ok: true,
          status: 'applied',
        },
        {
          action: tag(
            { api: 'RegisterScalableTarget', resourceId: 'x', minCapacity: 1, maxCapacity: 1 },
            'provisionedConcurrency',
          ),
          ok: true,
          status: 'applied',
        },
        {
          action: tag(
            { api: 'PutProvisionedConcurrencyConfig', qualifier: 'live', provisionedConcurrentExecutions: 1 },
            'provisionedConcurrency',
          ),
          ok: false,
          status: 'failed',
        },
      ],
    };
    expect([...remediatedFields(exec)].sort()).toEqual<FieldName[]>(['memorySize', 'timeout']);
  });
});

describe('buildStatus', () => {
  it('orders non-compliant first, then region, then name, and caps the list at 50', () => {
    const plans = [
      ...Array.from({ length: 55 }, (_, i) => fn(`ok-${String(i).padStart(2, '0')}`)),
      drifted('zeta', 'eu-central-1'),
      drifted('alpha', 'us-east-1'),
      drifted('beta', 'eu-central-1'),
    ];
    const status = buildStatus(policy(), report(), plans, undefined, undefined, now);
    expect(status.functions?.slice(0, 4).map((f) => `${f.region}/${f.name}`)).toEqual([
      'eu-central-1/beta',
      'eu-central-1/zeta',
      'us-east-1/alpha',
      'eu-central-1/ok-00',
    ]);
    expect(status.functions).toHaveLength(50);
    expect(status.truncated).toBe(true);
    expect(status.summary).toEqual({
      matched: 58,
      compliant: 55,
      drifted: 3,
      remediated: 0,
      overridden: 0,
      failed: 0,
      infeasible: 0,
    });
  });

  it.each([
    ['Remediated', 'Compliant', 'eu-central-1'],
    ['Overridden', 'Compliant', 'eu-central-1'],
    ['Compliant', 'Remediated', 'eu-central-1'],
    ['Drifted', 'Compliant', 'us-east-1'],
    ['Failed', 'Remediated', 'us-east-1'],
    ['Infeasible', 'Overridden', 'us-east-1'],
  ] as const)(
    '%s in us-east-1 vs %s in eu-central-1: %s comes first (only non-compliance jumps ahead)',
    (a, b, first) => {
      const inUs = { region: 'us-east-1', name: 'f', state: a };
      const inEu = { region: 'eu-central-1', name: 'f', state: b };

      const sorted = [inUs, inEu].sort(compareFunctionStatus);

      expect(sorted[0]?.region).toBe(first);
    },
  );

  it('property: input order never changes the status', () => {
    const plans = [drifted('b'), fn('a'), drifted('c', 'us-east-1'), fn('d', {}, 'ap-south-1')];
    fc.assert(
      fc.property(fc.shuffledSubarray(plans, { minLength: plans.length, maxLength: plans.length }), (shuffled) => {
        expect(buildStatus(policy(), report(), shuffled, undefined, undefined, now)).toEqual(
          buildStatus(policy(), report(), plans, undefined, undefined, now),
        );
      }),
    );
  });

  it('writes the full section 4 shape', () => {
    const status = buildStatus(
      policy({ interval: '10m' }),
      report({
        provisionedConcurrency: {
          desiredNow: 20,
          window: 'business-hours',
          nextChange: { at: new Date('2026-12-01T18:00:00Z'), value: 2 },
        },
        cost: { provisionedConcurrencyMonthlyUSD: 412.8000000001, architectureMonthlySavingUSD: 3.1372 },
      }),
      [fn('a')],
      undefined,
      undefined,
      now,
    );
    expect(status).toEqual({
      observedGeneration: 3,
      conditions: [
        {
          type: 'Ready',
          status: 'True',
          reason: 'Compliant',
          message: '1 matched, 1 compliant',
          lastTransitionTime: '2026-12-01T09:00:00Z',
          observedGeneration: 3,
        },
        {
          type: 'Reconciling',
          status: 'False',
          reason: 'Reconciled',
          message: '',
          lastTransitionTime: '2026-12-01T09:00:00Z',
          observedGeneration: 3,
        },
        {
          type: 'Stalled',
          status: 'False',
          reason: 'NotStalled',
          message: '',
          lastTransitionTime: '2026-12-01T09:00:00Z',
          observedGeneration: 3,
        },
        {
          type: 'Compliant',
          status: 'True',
          reason: 'Compliant',
          message: '1 of 1 matched functions compliant',
          lastTransitionTime: '2026-12-01T09:00:00Z',
          observedGeneration: 3,
        },
      ],
      summary: { matched: 1, compliant: 1, drifted: 0, remediated: 0, overridden: 0, failed: 0, infeasible: 0 },
      functions: [{ region: 'eu-central-1', name: 'a', state: 'Compliant' }],
      truncated: false,
      lastCheckTime: '2026-12-01T09:00:00Z',
      nextCheckTime: '2026-12-01T09:10:00Z',
      provisionedConcurrency: {
        desiredNow: 20,
        window: 'business-hours',
        nextChange: { at: '2026-12-01T18:00:00Z', value: 2 },
      },
      cost: { provisionedConcurrencyMonthlyUSD: 412.8, architectureMonthlySavingUSD: 3.14 },
    });
  });

  it.each<{
    name: string;
    plans: FunctionPlan[];
    exec?: ExecutedFunction[];
    problems?: string[];
    kstatus: string;
    reason: string;
  }>([
    { name: 'compliant', plans: [fn('a')], kstatus: 'Current', reason: 'Compliant' },
    { name: 'drift left', plans: [drifted('a')], kstatus: 'InProgress', reason: 'Remediating' },
    {
      name: 'remediated',
      plans: [drifted('a')],
      exec: [executed('a', true)],
      kstatus: 'Current',
      reason: 'Remediated',
    },
    {
      name: 'failed',
      plans: [drifted('a')],
      exec: [executed('a', false, 'x')],
      // Ready=False (retrying): kstatus InProgress, as the real library reads Ready.
      kstatus: 'InProgress',
      reason: 'RemediationFailed',
    },
    {
      name: 'infeasible',
      plans: [fn('a', { refusals: [{ field: 'timeout', reason: 'NotRead', message: 'm', policy: ID }] })],
      kstatus: 'Failed',
      reason: 'Infeasible',
    },
    {
      name: 'refusal also listed among the problems',
      plans: [
        fn('a', { refusals: [{ field: 'architecture', reason: 'ImageArchitecture', message: 'm', policy: ID }] }),
      ],
      problems: ['ImageArchitecture: 1 function (e.g. eu-central-1/a)'],
      kstatus: 'Failed',
      reason: 'Infeasible',
    },
    {
      name: 'policy problem',
      plans: [],
      problems: ['unknown time zone Mars/Base'],
      kstatus: 'Failed',
      reason: 'InvalidPolicy',
    },
  ])('$name -> kstatus $kstatus, Ready reason $reason', ({ plans, exec, problems, kstatus, reason }) => {
    const status = buildStatus(policy(), report({ problems: problems ?? [] }), plans, exec, undefined, now);
    expect(kstatusOf({ metadata: { generation: 3 }, status })).toBe(kstatus);
    expect(findCondition(status.conditions, 'Ready')?.reason).toBe(reason);
    if (problems) expect(status.problems).toEqual(problems);
  });

  it('counts remediations cumulatively, and the remediated functions as compliant', () => {
    const first = buildStatus(
      policy(),
      report(),
      [drifted('a'), drifted('b')],
      [executed('a', true), executed('b', true)],
      undefined,
      now,
    );
    expect(first.summary).toMatchObject({ matched: 2, compliant: 2, remediated: 2, drifted: 0 });
    const second = buildStatus(
      policy(),
      report(),
      [fn('a'), drifted('b')],
      [executed('b', true)],
      roundTrip(first),
      later,
    );
    expect(second.summary).toMatchObject({ matched: 2, compliant: 2, remediated: 3 });
    const third = buildStatus(policy(), report(), [fn('a'), fn('b')], [], roundTrip(second), later);
    expect(third.summary).toMatchObject({ remediated: 3 });
    expect(
      statusChanged(roundTrip(third), buildStatus(policy(), report(), [fn('a'), fn('b')], [], roundTrip(third), later)),
    ).toBe(false);
  });

  it('suspended: keeps the last figures, says Suspended', () => {
    const before = buildStatus(policy(), report(), [drifted('a')], undefined, undefined, now);
    const status = buildStatus(policy({ suspend: true }, 4), report(), [], undefined, roundTrip(before), later);
    expect(status.summary).toEqual(before.summary);
    expect(status.functions).toEqual(before.functions);
    expect(status.observedGeneration).toBe(4);
    // Suspended is the controller doing what the policy asks: Ready (kstatus Current; Argo CD shows Suspended).
    expect(findCondition(status.conditions, 'Ready')).toMatchObject({ status: 'True', reason: 'Suspended' });
    expect(buildSuspendedStatus(policy({ suspend: true }, 4), roundTrip(before), later)).toEqual(status);
  });

  it('error status: Ready=False with the reason, figures kept', () => {
    const before = buildStatus(policy(), report(), [fn('a')], undefined, undefined, now);
    const status = buildErrorStatus(
      policy(),
      roundTrip(before),
      { reason: 'AwsReadFailed', message: 'AccessDenied' },
      later,
    );
    expect(findCondition(status.conditions, 'Ready')).toMatchObject({ status: 'False', reason: 'AwsReadFailed' });
    expect(status.summary).toEqual(before.summary);
    expect(buildErrorStatus(policy(), undefined, { reason: 'AwsReadFailed', message: 'x' }, now).summary?.matched).toBe(
      0,
    );
  });
});

describe('statusChanged', () => {
  const base = () => buildStatus(policy(), report(), [drifted('a'), fn('b')], undefined, undefined, now);

  it('an in-sync fleet: the next check builds the same status (times aside) -> no write', () => {
    const next = buildStatus(policy(), report(), [drifted('a'), fn('b')], undefined, roundTrip(base()), later);
    expect(next.lastCheckTime).not.toBe(base().lastCheckTime);
    expect(statusChanged(roundTrip(base()), next)).toBe(false);
  });

  it.each<{ name: string; next: () => LambdaPolicyStatus }>([
    {
      name: 'new drift',
      next: () => buildStatus(policy(), report(), [drifted('a'), drifted('b')], undefined, roundTrip(base()), later),
    },
    {
      name: 'new generation',
      next: () => buildStatus(policy({}, 4), report(), [drifted('a'), fn('b')], undefined, roundTrip(base()), later),
    },
    {
      name: 'window edge',
      next: () =>
        buildStatus(
          policy(),
          report({ provisionedConcurrency: { desiredNow: 2 } }),
          [drifted('a'), fn('b')],
          undefined,
          roundTrip(base()),
          later,
        ),
    },
  ])('$name -> write', ({ next }) => {
    expect(statusChanged(roundTrip(base()), next())).toBe(true);
  });

  it('no previous status -> write', () => {
    expect(statusChanged(undefined, base())).toBe(true);
  });

  it('ignores nulls and key order in what the API server returns', () => {
    const prev = { ...(roundTrip(base()) as Record<string, unknown>), cost: null };
    expect(statusChanged(prev, base())).toBe(false);
  });

  it('heartbeat: refreshes times at most once per heartbeat', () => {
    const prev = roundTrip(base());
    const soon = buildStatus(policy(), report(), [drifted('a'), fn('b')], undefined, prev, later);
    const much = buildStatus(
      policy(),
      report(),
      [drifted('a'), fn('b')],
      undefined,
      prev,
      new Date(now.getTime() + 3_600_000),
    );
    expect(statusChanged(prev, soon, { heartbeatMs: 3_600_000 })).toBe(false);
    expect(statusChanged(prev, much, { heartbeatMs: 3_600_000 })).toBe(true);
  });

  it('property: building twice from the same inputs gives no change', () => {
    const arbPlan = fc
      .record({
        name: fc.stringMatching(/^[a-z]{1,6}$/),
        region: fc.constantFrom('eu-central-1', 'us-east-1'),
        drift: fc.boolean(),
        refused: fc.boolean(),
        overridden: fc.boolean(),
        exec: fc.constantFrom('none', 'ok', 'failed'),
      })
      .map((r) => ({
        plan: fn(
          r.name,
          {
            compliant: !r.drift,
            drift: r.drift ? [memDrift] : [],
            refusals: r.refused
              ? [{ field: 'timeout' as const, reason: 'NotRead' as const, message: 'm', policy: ID }]
              : [],
            overridden: r.overridden ? [{ field: 'timeout' as const, policy: ID, winner: 'a/b' }] : [],
          },
          r.region,
        ),
        exec: r.exec === 'none' ? undefined : { ...executed(r.name, r.exec === 'ok', 'boom'), region: r.region },
      }));
    fc.assert(
      fc.property(
        fc.uniqueArray(arbPlan, { selector: (p) => `${p.plan.region}/${p.plan.name}`, maxLength: 70 }),
        fc.constantFrom<'Enforce' | 'Audit'>('Enforce', 'Audit'),
        fc.option(fc.integer({ min: 0, max: 1000 }), { nil: undefined }),
        (items, mode, desiredNow) => {
          const p = policy({ mode });
          const r = report({ mode, provisionedConcurrency: desiredNow === undefined ? undefined : { desiredNow } });
          const plans = items.map((i) => i.plan);
          // Executions happen once; the next check of the same fleet has none.
          const first = buildStatus(p, r, plans, [], undefined, now);
          const second = buildStatus(p, r, plans, [], roundTrip(first), later);
          expect(statusChanged(roundTrip(first), second)).toBe(false);
          expect(second.functions).toEqual(first.functions);
        },
      ),
    );
  });
});

describe('statusMergePatch', () => {
  it('sends every top-level field, nulls for those absent, whole arrays', () => {
    const status = buildStatus(
      policy(),
      report({ provisionedConcurrency: { desiredNow: 2 } }),
      [fn('a')],
      undefined,
      undefined,
      now,
    );
    const { status: patch } = statusMergePatch(status);
    expect(patch.cost).toBeNull();
    expect(patch.problems).toBeNull();
    expect(patch.provisionedConcurrency).toEqual({ desiredNow: 2, window: null, nextChange: null });
    expect(patch.conditions).toEqual(status.conditions);
    expect(patch.functions).toEqual(status.functions);
  });
});
