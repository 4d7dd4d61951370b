import { DescribeScheduledActionsCommand } from '@aws-sdk/client-application-auto-scaling';
import { GetProvisionedConcurrencyConfigCommand } from '@aws-sdk/client-lambda';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type ActionOutcome,
  AwsConflictError,
  AwsInfeasibleError,
  AwsUpdateFailedError,
  executeFunctionActions,
  executePlan,
  readRegion,
} from '../../../src/aws/index.ts';
import type { SeedFunction } from '../../../src/emulator/index.ts';
import type { Action, FunctionPlan, ObservedFunction, Plan } from '../../../src/engine/model.ts';
import { type Clock, systemClock } from '../../../src/shared/clock.ts';
import { countBy, type Harness, startHarness, writes } from './harness.ts';

const REGION = 'eu-central-1';
const FAST = { pollIntervalMs: 25 };

function fn(name: string, packageType: 'Zip' | 'Image' = 'Zip'): ObservedFunction {
  return {
    region: REGION,
    name,
    arn: `arn:aws:lambda:${REGION}:123456789012:function:${name}`,
    memorySize: 128,
    timeout: 3,
    architecture: 'x86_64',
    packageType,
    tags: {},
  };
}

function seedFn(name: string, extra: Partial<SeedFunction> = {}): SeedFunction {
  return { name, region: REGION, memorySize: 512, timeout: 30, architecture: 'x86_64', ...extra };
}

function state(h: Harness, name: string) {
  const view = h.emulator.state().regions[REGION]?.functions.find((f) => f.name === name);
  if (!view) throw new Error(`no ${name}`);
  return view;
}

function statuses(outcomes: ActionOutcome[]): string[] {
  return outcomes.map((o) => `${o.action.api}:${o.status}`);
}

let h: Harness | undefined;
afterEach(async () => {
  await h?.stop();
  h = undefined;
});

describe('executeFunctionActions: asynchronous updates', () => {
  it('waits for each InProgress update before the next, so AWS never answers ResourceConflict', async () => {
    // Arrange: every update stays InProgress for 300 ms of emulator time
    h = await startHarness({ seed: { functions: [seedFn('orders-api')] }, updateDelayMs: 300 });
    const before = state(h, 'orders-api');
    const actions: Action[] = [
      { api: 'UpdateFunctionConfiguration', memorySize: 1024, timeout: 10 },
      { api: 'UpdateFunctionCode', architecture: 'arm64' },
      { api: 'PutFunctionConcurrency', reservedConcurrentExecutions: 50 },
    ];

    // Act
    const outcomes = await executeFunctionActions(h.aws, REGION, fn('orders-api'), actions, FAST);

    // Assert
    expect(statuses(outcomes)).toEqual([
      'UpdateFunctionConfiguration:applied',
      'UpdateFunctionCode:applied',
      'PutFunctionConcurrency:applied',
    ]);
    const log = await writes(h);
    expect(log.map((w) => `${w.api}:${w.ok}`)).toEqual([
      'UpdateFunctionConfiguration:true',
      'UpdateFunctionCode:true',
      'PutFunctionConcurrency:true',
    ]);
    const after = state(h, 'orders-api');
    expect(after).toMatchObject({ memorySize: 1024, timeout: 10, architecture: 'arm64', reservedConcurrency: 50 });
    expect(after.lastUpdateStatus).toBe('Successful');
    // The waiter polled GetFunction (100 req/s bucket), never GetFunctionConfiguration (15 req/s).
    const polls = h.events.filter((e) => e.api === 'GetFunction');
    expect(polls.length).toBeGreaterThan(3);
    expect(polls.every((e) => e.bucket === 'lambda-getfunction')).toBe(true);
    expect(h.events.some((e) => e.api === 'GetFunctionConfiguration')).toBe(false);
    // Same code, other architecture.
    expect(after.codeSha256).toBe(before.codeSha256);
  });

  it("waits for someone else's update in progress before writing", async () => {
    h = await startHarness({ seed: { functions: [seedFn('busy')] } });
    await h.admin('POST', `functions/${REGION}/busy`, { lastUpdateStatus: 'InProgress', inProgressMs: 400 });

    const outcomes = await executeFunctionActions(
      h.aws,
      REGION,
      fn('busy'),
      [{ api: 'UpdateFunctionConfiguration', memorySize: 2048 }],
      FAST,
    );

    expect(statuses(outcomes)).toEqual(['UpdateFunctionConfiguration:applied']);
    expect((await writes(h)).map((w) => `${w.api}:${w.ok}`)).toEqual(['UpdateFunctionConfiguration:true']);
    expect(state(h, 'busy').memorySize).toBe(2048);
  });

  it('gives up waiting after maxWaitMs with a typed timeout and writes nothing', async () => {
    h = await startHarness({ seed: { functions: [seedFn('slow')] } });
    await h.admin('POST', `functions/${REGION}/slow`, { lastUpdateStatus: 'InProgress', inProgressMs: 60_000 });

    const outcomes = await executeFunctionActions(
      h.aws,
      REGION,
      fn('slow'),
      [{ api: 'UpdateFunctionConfiguration', memorySize: 2048 }],
      { ...FAST, maxWaitMs: 200 },
    );

    expect(outcomes[0]?.error).toMatchObject({ code: 'WaitTimeout' });
    expect(await writes(h)).toEqual([]);
  });

  it('retries after ResourceConflictException (bounded) and reports it as applied', async () => {
    h = await startHarness({ seed: { functions: [seedFn('conflicted')] } });
    await h.admin('POST', 'faults', {
      forced: [{ api: 'PutFunctionConcurrency', error: 'ResourceConflictException', count: 2 }],
    });

    const outcomes = await executeFunctionActions(
      h.aws,
      REGION,
      fn('conflicted'),
      [{ api: 'PutFunctionConcurrency', reservedConcurrentExecutions: 20 }],
      FAST,
    );

    expect(statuses(outcomes)).toEqual(['PutFunctionConcurrency:applied']);
    const attempts = h.events.filter((e) => e.api === 'PutFunctionConcurrency');
    expect(attempts.map((e) => e.error?.code ?? 'ok')).toEqual(['Conflict', 'Conflict', 'ok']);
    expect(state(h, 'conflicted').reservedConcurrency).toBe(20);
  });

  it('gives up after conflictRetries and reports a typed conflict', async () => {
    h = await startHarness({ seed: { functions: [seedFn('stuck')] } });
    await h.admin('POST', 'faults', {
      forced: [{ api: 'UpdateFunctionConfiguration', error: 'ResourceConflictException', count: 10 }],
    });

    const outcomes = await executeFunctionActions(
      h.aws,
      REGION,
      fn('stuck'),
      [
        { api: 'UpdateFunctionConfiguration', timeout: 60 },
        { api: 'PutFunctionConcurrency', reservedConcurrentExecutions: 5 },
      ],
      { ...FAST, conflictRetries: 2 },
    );

    expect(statuses(outcomes)).toEqual(['UpdateFunctionConfiguration:failed', 'PutFunctionConcurrency:skipped']);
    expect(outcomes[0]?.error).toBeInstanceOf(AwsConflictError);
    expect(h.events.filter((e) => e.api === 'UpdateFunctionConfiguration')).toHaveLength(3);
    expect(state(h, 'stuck').reservedConcurrency).toBeNull();
  });

  it('reports a Failed update with its reason and skips the rest', async () => {
    h = await startHarness({ seed: { functions: [seedFn('fails')] }, updateDelayMs: 100 });
    await h.admin('POST', 'faults', {
      failUpdates: [{ api: 'UpdateFunctionConfiguration', function: 'fails', reason: 'KMS key is disabled' }],
    });

    const outcomes = await executeFunctionActions(
      h.aws,
      REGION,
      fn('fails'),
      [
        { api: 'UpdateFunctionConfiguration', memorySize: 4096 },
        { api: 'PutFunctionConcurrency', reservedConcurrentExecutions: 5 },
      ],
      FAST,
    );

    expect(statuses(outcomes)).toEqual(['UpdateFunctionConfiguration:failed', 'PutFunctionConcurrency:skipped']);
    const error = outcomes[0]?.error;
    expect(error).toBeInstanceOf(AwsUpdateFailedError);
    expect(error?.message).toContain('KMS key is disabled');
    expect(state(h, 'fails').memorySize).toBe(512);
  });

  it('refuses a value AWS rejects with a typed infeasible error', async () => {
    h = await startHarness({ seed: { accountConcurrency: 1000, functions: [seedFn('greedy')] } });

    const outcomes = await executeFunctionActions(
      h.aws,
      REGION,
      fn('greedy'),
      [
        { api: 'PutFunctionConcurrency', reservedConcurrentExecutions: 950 },
        { api: 'UpdateFunctionConfiguration', memorySize: 1024 },
      ],
      FAST,
    );

    expect(statuses(outcomes)).toEqual(['PutFunctionConcurrency:failed', 'UpdateFunctionConfiguration:skipped']);
    expect(outcomes[0]?.error).toBeInstanceOf(AwsInfeasibleError);
    expect(outcomes[0]?.error?.awsCode).toBe('InvalidParameterValueException');
    // Not retried: one attempt only.
    expect(h.events.filter((e) => e.api === 'PutFunctionConcurrency')).toHaveLength(1);
  });
});

describe('executeFunctionActions: throttling', () => {
  it('honours 429 + Retry-After by pausing the bucket, then succeeds without surfacing an error', async () => {
    // Waiting is skipped, not done: the clock jumps over every sleep, so the Retry-After pause costs no real time.
    const sleeps: number[] = [];
    let skipped = 0;
    const clock: Clock = {
      ...systemClock,
      now: () => systemClock.now() + skipped,
      sleep: (ms) => {
        sleeps.push(ms);
        skipped += Math.max(0, ms);
        return new Promise((resolve) => setImmediate(resolve));
      },
    };
    h = await startHarness({ seed: { functions: [seedFn('hot')] } }, { clock });
    await h.admin('POST', 'faults', {
      forced: [{ api: 'UpdateFunctionConfiguration', error: 'TooManyRequestsException', retryAfterSeconds: 1 }],
    });

    const outcomes = await executeFunctionActions(
      h.aws,
      REGION,
      fn('hot'),
      [{ api: 'UpdateFunctionConfiguration', memorySize: 256 }],
      FAST,
    );

    expect(statuses(outcomes)).toEqual(['UpdateFunctionConfiguration:applied']);
    const attempts = h.events.filter((e) => e.api === 'UpdateFunctionConfiguration');
    expect(attempts.map((e) => e.outcome)).toEqual(['throttled', 'ok']);
    // The bucket paused for the full Retry-After (1 s) before the retry went out.
    expect(sleeps.some((ms) => ms >= 1000)).toBe(true);
    expect(state(h, 'hot').memorySize).toBe(256);
  });

  it('enforces a plan across many functions under the emulator quota with zero failures', async () => {
    const names = Array.from({ length: 24 }, (_, i) => `q-${String(i).padStart(2, '0')}`);
    h = await startHarness({ seed: { functions: names.map((n) => seedFn(n)) } });
    // Our client is configured far above the quota on purpose: AWS (the emulator) throttles, we must absorb it.
    await h.admin('POST', 'quotas', { lambda: 8, burstSeconds: 1 });
    const read = await readRegion(h.aws, REGION, () => []);
    const plan = planOf(
      names.map((name) => ({ name, actions: [{ api: 'PutFunctionConcurrency', reservedConcurrentExecutions: 3 }] })),
    );

    const results = await executePlan(
      h.aws,
      plan,
      { readAt: new Date(), regions: [read] },
      { ...FAST, concurrency: 24 },
    );

    expect(results).toHaveLength(24);
    expect(results.every((r) => r.ok)).toBe(true);
    expect(h.events.some((e) => e.outcome === 'throttled')).toBe(true);
    expect(h.emulator.state().regions[REGION]?.functions.every((f) => f.reservedConcurrency === 3)).toBe(true);
  });
});

describe('executeFunctionActions: architecture', () => {
  it('re-sends the Zip package from Code.Location with the new architecture', async () => {
    h = await startHarness({ seed: { functions: [seedFn('zippy', { architecture: 'x86_64' })] } });
    const before = state(h, 'zippy');

    const outcomes = await executeFunctionActions(
      h.aws,
      REGION,
      fn('zippy'),
      [{ api: 'UpdateFunctionCode', architecture: 'arm64' }],
      FAST,
    );

    expect(statuses(outcomes)).toEqual(['UpdateFunctionCode:applied']);
    const [write] = await writes(h);
    expect(write?.api).toBe('UpdateFunctionCode');
    expect(write?.params.Architectures).toEqual(['arm64']);
    const zip = write?.params.ZipFile as { bytes?: number } | undefined;
    expect(zip?.bytes).toBeGreaterThan(0);
    const after = state(h, 'zippy');
    expect(after.architecture).toBe('arm64');
    expect(after.codeSha256).toBe(before.codeSha256);
  });

  it('does nothing when the function already has the architecture', async () => {
    h = await startHarness({ seed: { functions: [seedFn('done', { architecture: 'arm64' })] } });

    const outcomes = await executeFunctionActions(
      h.aws,
      REGION,
      fn('done'),
      [{ api: 'UpdateFunctionCode', architecture: 'arm64' }],
      FAST,
    );

    expect(outcomes).toEqual([expect.objectContaining({ ok: true, status: 'applied', note: 'already arm64' })]);
    expect(await writes(h)).toEqual([]);
  });

  it('refuses Image functions (ImageArchitecture) without calling AWS', async () => {
    h = await startHarness({ seed: { functions: [seedFn('img', { packageType: 'Image' })] } });

    const outcomes = await executeFunctionActions(
      h.aws,
      REGION,
      fn('img', 'Image'),
      [
        { api: 'UpdateFunctionCode', architecture: 'arm64' },
        { api: 'PutFunctionConcurrency', reservedConcurrentExecutions: 1 },
      ],
      FAST,
    );

    expect(statuses(outcomes)).toEqual(['UpdateFunctionCode:failed', 'PutFunctionConcurrency:skipped']);
    const error = outcomes[0]?.error;
    expect(error).toBeInstanceOf(AwsInfeasibleError);
    expect((error as AwsInfeasibleError).reason).toBe('ImageArchitecture');
    expect(h.events).toEqual([]);
  });

  it('refuses a package above the direct-upload limit', async () => {
    h = await startHarness({ seed: { functions: [seedFn('huge')] } });

    const outcomes = await executeFunctionActions(
      h.aws,
      REGION,
      fn('huge'),
      [{ api: 'UpdateFunctionCode', architecture: 'arm64' }],
      {
        ...FAST,
        maxZipBytes: 16,
      },
    );

    expect(outcomes[0]?.error).toMatchObject({ code: 'Infeasible', reason: 'CodeTooLarge' });
    expect(await writes(h)).toEqual([]);
    expect(state(h, 'huge').architecture).toBe('x86_64');
  });
});

describe('executeFunctionActions: provisioned concurrency and schedules', () => {
  const resourceId = 'function:sched:live';
  const start = 'lambda-policy-controller.platform.api-tier.business-hours.start';
  const end = 'lambda-policy-controller.platform.api-tier.business-hours.end';

  it('creates the scalable target, provisioned config and scheduled actions with names, cron and timezone', async () => {
    h = await startHarness({
      seed: { functions: [seedFn('sched', { reservedConcurrency: 100, aliases: [{ name: 'live', version: '1' }] })] },
    });
    const actions: Action[] = [
      { api: 'PutProvisionedConcurrencyConfig', qualifier: 'live', provisionedConcurrentExecutions: 2 },
      { api: 'RegisterScalableTarget', resourceId, minCapacity: 2, maxCapacity: 2 },
      {
        api: 'PutScheduledAction',
        resourceId,
        scheduledActionName: start,
        schedule: 'cron(0 8 ? * MON-FRI *)',
        timezone: 'Europe/Berlin',
        minCapacity: 20,
        maxCapacity: 20,
      },
      {
        api: 'PutScheduledAction',
        resourceId,
        scheduledActionName: end,
        schedule: 'cron(0 19 ? * MON-FRI *)',
        timezone: 'Europe/Berlin',
        minCapacity: 2,
        maxCapacity: 2,
      },
    ];

    const outcomes = await executeFunctionActions(h.aws, REGION, fn('sched'), actions, FAST);

    expect(outcomes.every((o) => o.ok)).toBe(true);
    const described = await h.aws
      .clients(REGION)
      .autoscaling.send(new DescribeScheduledActionsCommand({ ServiceNamespace: 'lambda', ResourceId: resourceId }));
    const byName = Object.fromEntries((described.ScheduledActions ?? []).map((a) => [a.ScheduledActionName, a]));
    expect(Object.keys(byName).sort()).toEqual([end, start]);
    expect(byName[start]).toMatchObject({
      ResourceId: resourceId,
      ScalableDimension: 'lambda:function:ProvisionedConcurrency',
      Schedule: 'cron(0 8 ? * MON-FRI *)',
      Timezone: 'Europe/Berlin',
      ScalableTargetAction: { MinCapacity: 20, MaxCapacity: 20 },
    });
    expect(byName[end]).toMatchObject({
      Schedule: 'cron(0 19 ? * MON-FRI *)',
      ScalableTargetAction: { MinCapacity: 2, MaxCapacity: 2 },
    });
    const pc = await h.aws
      .clients(REGION)
      .lambda.send(new GetProvisionedConcurrencyConfigCommand({ FunctionName: 'sched', Qualifier: 'live' }));
    expect(pc.RequestedProvisionedConcurrentExecutions).toBe(2);
    expect(h.emulator.state().regions[REGION]?.scalableTargets).toEqual([
      { resourceId, minCapacity: 2, maxCapacity: 2 },
    ]);
  });

  it('deletes owned actions and provisioned configs idempotently and never touches foreign actions', async () => {
    h = await startHarness({
      seed: {
        functions: [
          seedFn('sched', {
            reservedConcurrency: 100,
            aliases: [{ name: 'live', version: '1', provisionedConcurrency: 3 }],
          }),
        ],
      },
    });
    await executeFunctionActions(
      h.aws,
      REGION,
      fn('sched'),
      [
        { api: 'RegisterScalableTarget', resourceId, minCapacity: 3, maxCapacity: 3 },
        {
          api: 'PutScheduledAction',
          resourceId,
          scheduledActionName: start,
          schedule: 'cron(0 8 * * ? *)',
          timezone: 'UTC',
          minCapacity: 5,
          maxCapacity: 5,
        },
      ],
      FAST,
    );
    await h.admin('DELETE', 'writes');

    const outcomes = await executeFunctionActions(
      h.aws,
      REGION,
      fn('sched'),
      [
        { api: 'DeleteScheduledAction', resourceId, scheduledActionName: start },
        { api: 'DeleteScheduledAction', resourceId, scheduledActionName: start },
        { api: 'DeleteProvisionedConcurrencyConfig', qualifier: 'live' },
        { api: 'DeleteProvisionedConcurrencyConfig', qualifier: 'live' },
        { api: 'DeleteScheduledAction', resourceId, scheduledActionName: 'someone-elses-action' },
      ],
      FAST,
    );

    expect(statuses(outcomes)).toEqual([
      'DeleteScheduledAction:applied',
      'DeleteScheduledAction:applied',
      'DeleteProvisionedConcurrencyConfig:applied',
      'DeleteProvisionedConcurrencyConfig:applied',
      'DeleteScheduledAction:failed',
    ]);
    expect(outcomes[4]?.error).toMatchObject({ code: 'Infeasible', reason: 'NotOwned' });
    const log = await writes(h);
    expect(log.filter((w) => w.params.ScheduledActionName === 'someone-elses-action')).toEqual([]);
    expect(countBy(log, (w) => w.api)).toMatchObject({ DeleteScheduledAction: 2 });
    expect(h.emulator.state().regions[REGION]?.scheduledActions).toEqual([]);
    expect(state(h, 'sched').provisioned).toEqual([]);
  });
});

describe('executePlan', () => {
  it('runs functions in parallel and reports per function, including one missing from the snapshot', async () => {
    h = await startHarness({ seed: { functions: [seedFn('a'), seedFn('b'), seedFn('c')] }, updateDelayMs: 150 });
    const read = await readRegion(h.aws, REGION, () => []);
    const plan = planOf([
      {
        name: 'a',
        actions: [
          { api: 'UpdateFunctionConfiguration', memorySize: 1024 },
          { api: 'PutFunctionConcurrency', reservedConcurrentExecutions: 1 },
        ],
      },
      { name: 'b', actions: [{ api: 'UpdateFunctionConfiguration', timeout: 60 }] },
      { name: 'c', actions: [] },
      { name: 'gone', actions: [{ api: 'DeleteFunctionConcurrency' }] },
    ]);

    const results = await executePlan(
      h.aws,
      plan,
      { readAt: new Date(), regions: [read] },
      { ...FAST, concurrency: 4 },
    );

    expect(results.map((r) => [r.name, r.ok, statuses(r.outcomes)])).toEqual([
      ['a', true, ['UpdateFunctionConfiguration:applied', 'PutFunctionConcurrency:applied']],
      ['b', true, ['UpdateFunctionConfiguration:applied']],
      ['gone', false, ['DeleteFunctionConcurrency:failed']],
    ]);
    expect(state(h, 'a')).toMatchObject({ memorySize: 1024, reservedConcurrency: 1 });
    expect(state(h, 'b').timeout).toBe(60);
  });
});

function planOf(entries: { name: string; actions: Action[] }[]): Plan {
  const functions: FunctionPlan[] = entries.map(({ name, actions }) => ({
    region: REGION,
    name,
    policies: ['platform/test'],
    compliant: actions.length === 0,
    drift: [],
    actions,
    refusals: [],
    overridden: [],
    auditDrift: [],
  }));
  return {
    now: new Date(),
    functions,
    policies: [],
    summary: { policies: 1, matched: functions.length, compliant: 0, drifted: 0, overridden: 0, infeasible: 0 },
  };
}
