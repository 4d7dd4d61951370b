/**
 * Versions, aliases, the provisioned-concurrency lifecycle and Application Auto Scaling ownership, through the real
 * AWS SDK against the emulator: what a governed alias serves (and the PendingPublish it reports), FAILED configs,
 * the 409 AWS answers while an allocation is IN_PROGRESS, aliases AWS refuses provisioned concurrency on, targets
 * that are suspended or scaled by someone else's policy, and the scalable-targets quota — each refused before any
 * write where AWS would refuse or another owner decides.
 */
import {
  ApplicationAutoScalingClient,
  DescribeScalableTargetsCommand,
  PutScalingPolicyCommand,
  PutScheduledActionCommand,
  RegisterScalableTargetCommand,
} from '@aws-sdk/client-application-auto-scaling';
import {
  CreateAliasCommand,
  GetProvisionedConcurrencyConfigCommand,
  LambdaClient,
  ListAliasesCommand,
  PublishVersionCommand,
  PutProvisionedConcurrencyConfigCommand,
  UpdateAliasCommand,
  UpdateFunctionConfigurationCommand,
} from '@aws-sdk/client-lambda';
import { afterEach, describe, expect, it } from 'vitest';
import type { Settings } from '../../../src/api/schema.ts';
import type { EmulatorOptions, SeedFunction } from '../../../src/emulator/index.ts';
import type { FunctionPlan, PolicyInput } from '../../../src/engine/model.ts';
import { reconcileFleet } from '../../../src/reconcile/pass.ts';
import { type Harness, startHarness, writes } from './harness.ts';

const REGION = 'eu-central-1';
/** A Tuesday at 06:00 UTC: outside the business-hours window, so the base value applies. */
const NOW = new Date('2026-12-01T06:00:00Z');
const DIMENSION = 'lambda:function:ProvisionedConcurrency' as const;

function policy(settings: Settings, names: string[] = ['*']): PolicyInput {
  return {
    id: 'platform/edge',
    namespace: 'platform',
    name: 'edge',
    mode: 'Enforce',
    priority: 0,
    suspend: false,
    intervalSeconds: 300,
    selector: { functionNames: names },
    settings,
  };
}

const windows = (value = 2): Settings => ({
  provisionedConcurrency: {
    qualifier: 'live',
    value,
    windows: [{ name: 'business', start: '0 8 * * 1-5', end: '0 19 * * 1-5', timezone: 'Europe/Berlin', value: 5 }],
  },
});

const seedFn = (name: string, extra: Partial<SeedFunction> = {}): SeedFunction => ({
  name,
  region: REGION,
  memorySize: 512,
  timeout: 30,
  reservedConcurrency: 50,
  aliases: [{ name: 'live', version: '1' }],
  ...extra,
});

function sdk(h: Harness) {
  const config = {
    region: REGION,
    endpoint: h.emulator.url,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    maxAttempts: 1,
  };
  return { lambda: new LambdaClient(config), autoscaling: new ApplicationAutoScalingClient(config) };
}

const pass = (h: Harness, policies: PolicyInput[], enforce: boolean, provisionedPollIntervalMs = 25) =>
  reconcileFleet(h.aws, policies, {
    defaultRegions: [REGION],
    enforce,
    now: NOW,
    execute: { pollIntervalMs: 25, provisionedPollIntervalMs },
  });

const only = (p: { functions: FunctionPlan[] }, name: string) => {
  const fp = p.functions.find((f) => f.name === name);
  if (!fp) throw new Error(`${name} is not in the plan`);
  return fp;
};

async function start(functions: SeedFunction[], extra: Omit<EmulatorOptions, 'seed'> = {}): Promise<Harness> {
  return startHarness({ seed: { functions }, now: NOW, ...extra });
}

let h: Harness | undefined;
afterEach(async () => {
  await h?.stop();
  h = undefined;
});

describe('what a governed alias serves', () => {
  it('reports PendingPublish on an alias serving an old version, prices it at that version, and never publishes', async () => {
    // Arrange: version 1 was published at 512 MB; $LATEST has since moved to 1024 MB.
    h = await start([seedFn('orders-api')]);
    const { lambda } = sdk(h);
    await lambda.send(new UpdateFunctionConfigurationCommand({ FunctionName: 'orders-api', MemorySize: 1024 }));
    await h.admin('DELETE', 'writes');
    const settings: Settings = {
      memorySize: 1024,
      timeout: 30,
      provisionedConcurrency: { qualifier: 'live', value: 2 },
    };

    // Act
    const first = await pass(h, [policy(settings)], true);

    // Assert: $LATEST is in line, the alias still serves 512 MB until the next publish
    const fp = only(first.plan, 'orders-api');
    expect(fp.qualifiers).toEqual([
      {
        qualifier: 'live',
        state: 'PendingPublish',
        version: '1',
        fields: [{ field: 'memorySize', desired: 1024, served: 512 }],
        policy: 'platform/edge',
      },
    ]);
    expect(fp.actions.map((a) => a.api)).toEqual(['PutProvisionedConcurrencyConfig']);
    const written = (await writes(h)).map((w) => w.api);
    expect(written).toEqual(['PutProvisionedConcurrencyConfig']);
    expect(written).not.toContain('PublishVersion');
    expect(written).not.toContain('UpdateAlias');

    // Act: the deployer publishes and moves the alias
    const v2 = await lambda.send(new PublishVersionCommand({ FunctionName: 'orders-api' }));
    await lambda.send(
      new UpdateAliasCommand({ FunctionName: 'orders-api', Name: 'live', FunctionVersion: v2.Version }),
    );
    const second = await pass(h, [policy(settings)], false);

    // Assert: nothing pending; provisioned concurrency now costs twice as much (1024 MB instead of 512 MB)
    expect(only(second.plan, 'orders-api').qualifiers).toBeUndefined();
    expect(only(second.plan, 'orders-api').compliant).toBe(true);
    const cost = (p: typeof first) => p.plan.policies[0]?.cost?.provisionedConcurrencyMonthlyUSD ?? 0;
    expect(cost(first)).toBeGreaterThan(0);
    expect(cost(second)).toBeCloseTo(2 * cost(first), 6);
  });

  it('refuses an alias pointing at $LATEST and a weighted alias with zero writes, as the emulator refuses the Put', async () => {
    // Arrange: `latest-fn:live` -> $LATEST; `canary-fn:live` -> 1 with 10 % on version 2
    h = await start([seedFn('latest-fn', { aliases: [] }), seedFn('canary-fn')]);
    const { lambda } = sdk(h);
    await lambda.send(new CreateAliasCommand({ FunctionName: 'latest-fn', Name: 'live', FunctionVersion: '$LATEST' }));
    // Publishing without a change returns the latest version (as AWS does): change something first.
    await lambda.send(new UpdateFunctionConfigurationCommand({ FunctionName: 'canary-fn', Description: 'v2' }));
    await lambda.send(new PublishVersionCommand({ FunctionName: 'canary-fn' }));
    await lambda.send(
      new UpdateAliasCommand({
        FunctionName: 'canary-fn',
        Name: 'live',
        RoutingConfig: { AdditionalVersionWeights: { '2': 0.1 } },
      }),
    );
    const listed = await lambda.send(new ListAliasesCommand({ FunctionName: 'canary-fn' }));
    expect(listed.Aliases?.[0]?.RoutingConfig?.AdditionalVersionWeights).toEqual({ '2': 0.1 });
    await h.admin('DELETE', 'writes');

    // Act
    const result = await pass(h, [policy(windows())], true);

    // Assert: refused, naming why; nothing written at all (no target, no schedule, no Put)
    expect(only(result.plan, 'latest-fn').refusals).toEqual([
      expect.objectContaining({ field: 'provisionedConcurrency', reason: 'AliasOnLatest' }),
    ]);
    const weighted = only(result.plan, 'canary-fn').refusals;
    expect(weighted).toEqual([expect.objectContaining({ field: 'provisionedConcurrency', reason: 'WeightedAlias' })]);
    expect(weighted[0]?.message).toContain('version 2 10%');
    expect(result.plan.functions.flatMap((f) => f.actions)).toEqual([]);
    expect(await writes(h)).toEqual([]);

    // ... and AWS (the emulator) refuses the same writes
    for (const FunctionName of ['latest-fn', 'canary-fn']) {
      await expect(
        lambda.send(
          new PutProvisionedConcurrencyConfigCommand({
            FunctionName,
            Qualifier: 'live',
            ProvisionedConcurrentExecutions: 1,
          }),
        ),
      ).rejects.toMatchObject({ name: 'InvalidParameterValueException' });
    }
  });
});

describe('the provisioned-concurrency lifecycle', () => {
  it('reports a FAILED config with its StatusReason, is not compliant, and does not send the same value again', async () => {
    // Arrange: the allocation of `live` ends FAILED
    h = await start([seedFn('orders-api')], {
      faults: {
        failProvisioned: [{ function: 'orders-api', qualifier: 'live', reason: 'FUNCTION_ERROR_INIT_FAILURE' }],
      },
    });
    const settings: Settings = { provisionedConcurrency: { qualifier: 'live', value: 3 } };
    await pass(h, [policy(settings)], true);

    // Act
    const second = await pass(h, [policy(settings)], true);

    // Assert
    const fp = only(second.plan, 'orders-api');
    expect(fp.compliant).toBe(false);
    expect(fp.refusals).toEqual([
      expect.objectContaining({ field: 'provisionedConcurrency', reason: 'ProvisionedFailed' }),
    ]);
    expect(fp.refusals[0]?.message).toContain('FUNCTION_ERROR_INIT_FAILURE');
    expect(second.fleet.regions[0]?.functions[0]?.qualifiers?.live).toMatchObject({
      provisionedStatus: 'FAILED',
      provisionedStatusReason: 'FUNCTION_ERROR_INIT_FAILURE',
    });
    expect((await writes(h)).map((w) => w.api)).toEqual(['PutProvisionedConcurrencyConfig']);
  });

  it('retries a Put answered 409 while the previous allocation is IN_PROGRESS, until it is READY', async () => {
    // Arrange: someone just asked for 2; allocating takes 400 ms on the emulator clock
    h = await start([seedFn('orders-api')], { provisionDelayMs: 400 });
    const { lambda } = sdk(h);
    await lambda.send(
      new PutProvisionedConcurrencyConfigCommand({
        FunctionName: 'orders-api',
        Qualifier: 'live',
        ProvisionedConcurrentExecutions: 2,
      }),
    );
    await h.admin('DELETE', 'writes');
    h.events.length = 0;

    // Act
    const result = await pass(h, [policy({ provisionedConcurrency: { qualifier: 'live', value: 5 } })], true, 50);

    // Assert: the first Put met the 409, the controller waited on GetProvisionedConcurrencyConfig, the second landed
    expect(result.executions[0]?.ok).toBe(true);
    const log = await writes(h);
    expect(log.map((w) => [w.api, w.ok])).toEqual([
      ['PutProvisionedConcurrencyConfig', false],
      ['PutProvisionedConcurrencyConfig', true],
    ]);
    expect(log[0]?.error).toContain('ResourceConflictException');
    const polls = h.events.filter((e) => e.api === 'GetProvisionedConcurrencyConfig');
    expect(polls.length).toBeGreaterThan(0);
    expect(new Set(polls.map((e) => e.bucket))).toEqual(new Set(['lambda']));
    const config = await lambda.send(
      new GetProvisionedConcurrencyConfigCommand({ FunctionName: 'orders-api', Qualifier: 'live' }),
    );
    expect(config.RequestedProvisionedConcurrentExecutions).toBe(5);
  });
});

describe('Application Auto Scaling owns capacity once a target exists', () => {
  it('registers the target and lets it move the capacity: no direct Put races it', async () => {
    h = await start([seedFn('orders-api')]);

    const result = await pass(h, [policy(windows())], true);

    expect(result.executions[0]?.ok).toBe(true);
    expect((await writes(h)).map((w) => w.api)).toEqual([
      'RegisterScalableTarget',
      'PutScheduledAction',
      'PutScheduledAction',
    ]);
    const config = await sdk(h).lambda.send(
      new GetProvisionedConcurrencyConfigCommand({ FunctionName: 'orders-api', Qualifier: 'live' }),
    );
    expect(config.RequestedProvisionedConcurrentExecutions).toBe(2);
    expect(only((await pass(h, [policy(windows())], false)).plan, 'orders-api').compliant).toBe(true);
  });

  it('does not override a target whose scheduled scaling is suspended (and the emulator stops firing its actions)', async () => {
    // Arrange: someone suspended scheduled scaling on the target, which has an action due in a minute
    h = await start([seedFn('orders-api')]);
    const { autoscaling, lambda } = sdk(h);
    const target = {
      ServiceNamespace: 'lambda' as const,
      ResourceId: 'function:orders-api:live',
      ScalableDimension: DIMENSION,
    };
    await autoscaling.send(
      new RegisterScalableTargetCommand({
        ...target,
        MinCapacity: 0,
        MaxCapacity: 0,
        SuspendedState: { ScheduledScalingSuspended: true },
      }),
    );
    await autoscaling.send(
      new PutScheduledActionCommand({
        ...target,
        ScheduledActionName: 'ops-warmup',
        Schedule: 'at(2026-12-01T06:01:00)',
        ScalableTargetAction: { MinCapacity: 7, MaxCapacity: 7 },
      }),
    );
    await h.admin('DELETE', 'writes');

    // Act
    const result = await pass(h, [policy(windows())], true);
    h.emulator.clock.advance(120);

    // Assert: refused naming the suspension, nothing written; the suspended action did not run
    const fp = only(result.plan, 'orders-api');
    expect(fp.refusals).toEqual([expect.objectContaining({ reason: 'ScalingSuspended' })]);
    expect(fp.refusals[0]?.message).toContain('function:orders-api:live');
    expect(await writes(h)).toEqual([]);
    await expect(
      lambda.send(new GetProvisionedConcurrencyConfigCommand({ FunctionName: 'orders-api', Qualifier: 'live' })),
    ).rejects.toMatchObject({ name: 'ProvisionedConcurrencyConfigNotFoundException' });
    const described = await autoscaling.send(new DescribeScalableTargetsCommand({ ServiceNamespace: 'lambda' }));
    expect(described.ScalableTargets?.[0]).toMatchObject({ MinCapacity: 0, MaxCapacity: 0 });
  });

  it('refuses an alias whose target has a scaling policy the controller did not create', async () => {
    h = await start([seedFn('orders-api')]);
    const { autoscaling } = sdk(h);
    const target = {
      ServiceNamespace: 'lambda' as const,
      ResourceId: 'function:orders-api:live',
      ScalableDimension: DIMENSION,
    };
    await autoscaling.send(new RegisterScalableTargetCommand({ ...target, MinCapacity: 1, MaxCapacity: 10 }));
    await autoscaling.send(
      new PutScalingPolicyCommand({
        ...target,
        PolicyName: 'utilization',
        PolicyType: 'TargetTrackingScaling',
        TargetTrackingScalingPolicyConfiguration: {
          TargetValue: 0.7,
          PredefinedMetricSpecification: { PredefinedMetricType: 'LambdaProvisionedConcurrencyUtilization' },
        },
      }),
    );
    await h.admin('DELETE', 'writes');

    const result = await pass(h, [policy(windows())], true);

    const fp = only(result.plan, 'orders-api');
    expect(fp.refusals).toEqual([expect.objectContaining({ reason: 'ForeignScalingPolicy' })]);
    expect(fp.refusals[0]?.message).toContain('utilization');
    expect(await writes(h)).toEqual([]);
    expect(h.events.filter((e) => e.api === 'DescribeScalingPolicies')).toHaveLength(1);
  });

  it('refuses the 501st scalable target before writing anything, as AWS refuses it', async () => {
    // Arrange: 500 targets already registered in the region (the quota)
    const functions = Array.from({ length: 501 }, (_, i) => seedFn(`fn-${String(i).padStart(3, '0')}`));
    h = await start(functions);
    const { autoscaling } = sdk(h);
    for (let i = 0; i < 500; i++) {
      await autoscaling.send(
        new RegisterScalableTargetCommand({
          ServiceNamespace: 'lambda',
          ResourceId: `function:fn-${String(i).padStart(3, '0')}:live`,
          ScalableDimension: DIMENSION,
          MinCapacity: 0,
          MaxCapacity: 0,
        }),
      );
    }
    await h.admin('DELETE', 'writes');

    // Act
    const result = await pass(h, [policy(windows(), ['fn-500'])], true);

    // Assert
    const fp = only(result.plan, 'fn-500');
    expect(fp.refusals).toEqual([expect.objectContaining({ reason: 'ScalableTargetQuota' })]);
    expect(fp.actions).toEqual([]);
    expect(await writes(h)).toEqual([]);
    await expect(
      autoscaling.send(
        new RegisterScalableTargetCommand({
          ServiceNamespace: 'lambda',
          ResourceId: 'function:fn-500:live',
          ScalableDimension: DIMENSION,
          MinCapacity: 0,
          MaxCapacity: 0,
        }),
      ),
    ).rejects.toMatchObject({ name: 'LimitExceededException' });
  });

  it('retries Application Auto Scaling ConcurrentUpdateException', async () => {
    h = await start([seedFn('orders-api')], {
      faults: { forced: [{ api: 'PutScheduledAction', error: 'ConcurrentUpdateException', count: 1 }] },
    });

    const result = await pass(h, [policy(windows())], true);

    expect(result.executions[0]?.ok).toBe(true);
    const log = await writes(h);
    expect(log.map((w) => [w.api, w.ok])).toEqual([
      ['RegisterScalableTarget', true],
      ['PutScheduledAction', false],
      ['PutScheduledAction', true],
      ['PutScheduledAction', true],
    ]);
  });
});
