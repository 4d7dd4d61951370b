/**
 * The production settings and checks through the real AWS SDK against the emulator: what is read (and only where
 * needed), what is written (one UpdateFunctionConfiguration per function), what AWS refuses, and that a second
 * pass finds the fleet in line.
 */
import {
  CloudWatchLogsClient,
  CreateLogGroupCommand,
  DescribeLogGroupsCommand,
  PutRetentionPolicyCommand,
} from '@aws-sdk/client-cloudwatch-logs';
import {
  GetFunctionConfigurationCommand,
  GetFunctionEventInvokeConfigCommand,
  LambdaClient,
  PutFunctionEventInvokeConfigCommand,
  UpdateFunctionConfigurationCommand,
} from '@aws-sdk/client-lambda';
import { afterEach, describe, expect, it } from 'vitest';
import type { Checks, Settings } from '../../../src/api/schema.ts';
import type { SeedFunction } from '../../../src/emulator/index.ts';
import type { PolicyInput } from '../../../src/engine/model.ts';
import { reconcileFleet } from '../../../src/reconcile/pass.ts';
import { countBy, type Harness, startHarness, writes } from './harness.ts';

const REGION = 'eu-central-1';
const DLQ = 'arn:aws:sqs:eu-central-1:123456789012:orders-dlq';
const MB = 1024 * 1024;

function policy(id: string, mode: 'Enforce' | 'Audit', settings: Settings, checks?: Checks): PolicyInput {
  const [namespace = 'default', name = id] = id.split('/');
  return {
    id,
    namespace,
    name,
    mode,
    priority: 0,
    suspend: false,
    intervalSeconds: 300,
    selector: { functionNames: ['*'] },
    settings,
    ...(checks ? { checks } : {}),
  };
}

const seedFn = (name: string, extra: Partial<SeedFunction> = {}): SeedFunction => ({
  name,
  region: REGION,
  memorySize: 512,
  timeout: 30,
  ...extra,
});

function sdk(h: Harness) {
  const config = {
    region: REGION,
    endpoint: h.emulator.url,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    maxAttempts: 1,
  };
  return { lambda: new LambdaClient(config), logs: new CloudWatchLogsClient(config) };
}

const pass = (h: Harness, policies: PolicyInput[], enforce: boolean, now?: Date) =>
  reconcileFleet(h.aws, policies, {
    defaultRegions: [REGION],
    enforce,
    execute: { pollIntervalMs: 25 },
    ...(now ? { now } : {}),
  });

let h: Harness | undefined;
afterEach(async () => {
  await h?.stop();
  h = undefined;
});

describe('checks read from ListFunctions, layers and EventInvokeConfig only where needed', () => {
  it('reports each violation and pays one GetLayerVersionByArn per layer version, one config list per function without a DLQ', async () => {
    // Arrange: a shared x86-only layer on three functions, one of them arm64; sizes, runtimes, DLQ and secrets vary.
    const layer = { name: 'deps', compatibleArchitectures: ['x86_64' as const], codeSize: 2 * MB };
    h = await startHarness({
      seed: {
        functions: [
          seedFn('big', { codeSize: 2 * MB, layers: [layer], deadLetterTarget: DLQ, runtime: 'nodejs22.x' }),
          seedFn('arm', { architecture: 'arm64', layers: [layer], codeSize: 1000, runtime: 'nodejs18.x' }),
          seedFn('fine', {
            layers: [layer],
            codeSize: 1000,
            runtime: 'nodejs24.x',
            asyncInvocation: { onFailureDestination: DLQ },
            environment: { DB_SECRET_ARN: 'arn:aws:secretsmanager:eu-central-1:123456789012:secret:db-AbCdEf' },
          }),
          seedFn('leaky', { codeSize: 1000, runtime: 'nodejs24.x', environment: { DB_PASSWORD: 'correct-horse' } }),
        ],
      },
    });
    const checks: Checks = {
      maxPackageSizeMB: 3,
      runtime: { deprecatedWithinDays: 90 },
      noSecretsInEnvironment: true,
      asyncFailureDestination: 'Required',
      layersSupportArchitecture: true,
    };

    // Act
    const result = await pass(
      h,
      [policy('platform/baseline', 'Audit', {}, checks)],
      false,
      new Date('2026-12-01T00:00:00Z'),
    );

    // Assert: violations per function, as {check, actual}
    const byName = Object.fromEntries(
      result.plan.functions.map((f) => [f.name, (f.violations ?? []).map((v) => `${v.check}=${String(v.actual)}`)]),
    );
    const layerArn = `arn:aws:lambda:${REGION}:123456789012:layer:deps:1`;
    expect(byName).toEqual({
      arm: ['runtime=nodejs18.x', 'asyncFailureDestination=none', `layersSupportArchitecture=${layerArn}`],
      big: ['maxPackageSizeMB=4'],
      fine: [],
      leaky: ['noSecretsInEnvironment=DB_PASSWORD', 'asyncFailureDestination=none'],
    });
    expect(result.plan.summary).toMatchObject({ matched: 4, compliant: 1, violating: 3 });
    // Reads: the layer version once; the config list for the three functions without a DLQ; nothing written.
    const calls = result.fleet.calls.byApi;
    expect(calls.GetLayerVersionByArn).toBe(1);
    expect(calls.ListFunctionEventInvokeConfigs).toBe(3);
    expect(calls.DescribeLogGroups).toBeUndefined();
    expect(await writes(h)).toEqual([]);

    // Layer versions never change: the next pass of the same controller does not read them again.
    const again = await pass(
      h,
      [policy('platform/baseline', 'Audit', {}, checks)],
      false,
      new Date('2026-12-01T00:00:00Z'),
    );
    expect(again.fleet.calls.byApi.GetLayerVersionByArn).toBeUndefined();
    expect(again.plan.functions.find((f) => f.name === 'arm')?.violations?.map((v) => v.check)).toContain(
      'layersSupportArchitecture',
    );
  });
});

describe('a layer version that cannot be read', () => {
  it('is a violation that says why (another account’s layer without a grant)', async () => {
    h = await startHarness({
      seed: { functions: [seedFn('f', { layers: [{ name: 'vendor', compatibleArchitectures: ['x86_64'] }] })] },
    });
    h.emulator.runtime.faults.configure({
      forced: [{ api: 'GetLayerVersionByArn', error: 'AccessDeniedException', status: 403, count: 1 }],
    });
    const result = await pass(h, [policy('platform/p', 'Audit', {}, { layersSupportArchitecture: true })], false);
    expect(result.plan.functions[0]?.violations?.map((v) => v.message)).toEqual([
      `CompatibleArchitectures of layer arn:aws:lambda:${REGION}:123456789012:layer:vendor:1 could not be read (AccessDeniedException)`,
    ]);
    // Not remembered: the next pass asks again and sees the layer is fine.
    const again = await pass(h, [policy('platform/p', 'Audit', {}, { layersSupportArchitecture: true })], false);
    expect(again.plan.functions[0]?.violations).toEqual([]);
  });
});

describe('logging and tracing ride in the one UpdateFunctionConfiguration', () => {
  it('one configuration write per function, then in line', async () => {
    h = await startHarness({
      seed: {
        functions: [
          seedFn('a', { logging: { format: 'Text' } }),
          seedFn('b', {
            memorySize: 1024,
            tracing: 'Active',
            logging: { format: 'JSON', applicationLogLevel: 'DEBUG' },
          }),
          seedFn('c', {
            memorySize: 1024,
            tracing: 'Active',
            logging: { format: 'JSON', applicationLogLevel: 'INFO', systemLogLevel: 'WARN' },
          }),
        ],
      },
    });
    const settings: Settings = {
      memorySize: 1024,
      logging: { format: 'JSON', applicationLogLevel: 'INFO', systemLogLevel: 'WARN' },
      tracing: 'Active',
    };

    // Act
    const first = await pass(h, [policy('platform/p', 'Enforce', settings)], true);

    // Assert: a gets memory+logging+tracing in one write, b only logging, c nothing
    expect(first.executions.every((e) => e.ok)).toBe(true);
    const log = await writes(h);
    expect(countBy(log, (w) => `${w.api} ${w.function}`)).toEqual({
      'UpdateFunctionConfiguration a': 1,
      'UpdateFunctionConfiguration b': 1,
    });
    const aWrite = log.find((w) => w.function === 'a')?.params;
    expect(aWrite).toMatchObject({
      MemorySize: 1024,
      TracingConfig: { Mode: 'Active' },
      LoggingConfig: {
        LogFormat: 'JSON',
        ApplicationLogLevel: 'INFO',
        SystemLogLevel: 'WARN',
        LogGroup: '/aws/lambda/a',
      },
    });
    const { lambda } = sdk(h);
    const a = await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: 'a' }));
    expect(a.LoggingConfig).toEqual({
      LogFormat: 'JSON',
      ApplicationLogLevel: 'INFO',
      SystemLogLevel: 'WARN',
      LogGroup: '/aws/lambda/a',
    });
    expect(a.TracingConfig?.Mode).toBe('Active');
    const second = await pass(h, [policy('platform/p', 'Enforce', settings)], false);
    expect(second.plan.summary).toMatchObject({ matched: 3, compliant: 3 });
    lambda.destroy();
  });

  it('the emulator refuses log levels with Text, as AWS does', async () => {
    h = await startHarness({ seed: { functions: [seedFn('a')] } });
    const { lambda } = sdk(h);
    await expect(
      lambda.send(
        new UpdateFunctionConfigurationCommand({
          FunctionName: 'a',
          LoggingConfig: { LogFormat: 'Text', ApplicationLogLevel: 'INFO' },
        }),
      ),
    ).rejects.toMatchObject({ name: 'InvalidParameterValueException' });
    await expect(
      lambda.send(
        new UpdateFunctionConfigurationCommand({ FunctionName: 'a', TracingConfig: { Mode: 'On' as 'Active' } }),
      ),
    ).rejects.toMatchObject({ name: 'ValidationException' });
    lambda.destroy();
  });
});

describe('asyncInvocation: Put when none, Update (destinations kept) when one exists', () => {
  it('writes each function once and reads only governed functions', async () => {
    h = await startHarness({
      seed: {
        functions: [
          seedFn('none'),
          seedFn('with-destination', { asyncInvocation: { maximumRetryAttempts: 2, onFailureDestination: DLQ } }),
          seedFn('in-line', { asyncInvocation: { maximumRetryAttempts: 1, maximumEventAgeSeconds: 3600 } }),
        ],
      },
    });
    const settings: Settings = { asyncInvocation: { maximumRetryAttempts: 1, maximumEventAgeSeconds: 3600 } };

    // Act
    const first = await pass(h, [policy('platform/p', 'Enforce', settings)], true);

    // Assert
    expect(first.fleet.calls.byApi.ListFunctionEventInvokeConfigs).toBe(3);
    expect(countBy(await writes(h), (w) => `${w.api} ${w.function}`)).toEqual({
      'PutFunctionEventInvokeConfig none': 1,
      'UpdateFunctionEventInvokeConfig with-destination': 1,
    });
    const { lambda } = sdk(h);
    const kept = await lambda.send(new GetFunctionEventInvokeConfigCommand({ FunctionName: 'with-destination' }));
    expect(kept).toMatchObject({
      MaximumRetryAttempts: 1,
      MaximumEventAgeInSeconds: 3600,
      DestinationConfig: { OnFailure: { Destination: DLQ } },
    });
    expect((await pass(h, [policy('platform/p', 'Enforce', settings)], false)).plan.summary.compliant).toBe(3);
    lambda.destroy();
  });

  it('the emulator answers AWS errors for out-of-range values', async () => {
    h = await startHarness({ seed: { functions: [seedFn('a')] } });
    const { lambda } = sdk(h);
    await expect(
      lambda.send(new PutFunctionEventInvokeConfigCommand({ FunctionName: 'a', MaximumRetryAttempts: 3 })),
    ).rejects.toMatchObject({ name: 'ValidationException' });
    await expect(
      lambda.send(new PutFunctionEventInvokeConfigCommand({ FunctionName: 'a', MaximumEventAgeInSeconds: 59 })),
    ).rejects.toMatchObject({ name: 'ValidationException' });
    await expect(lambda.send(new GetFunctionEventInvokeConfigCommand({ FunctionName: 'a' }))).rejects.toMatchObject({
      name: 'ResourceNotFoundException',
    });
    lambda.destroy();
  });
});

describe('logRetentionDays on the function’s log group', () => {
  it('sets retention on default and custom groups, leaves a missing group alone, and lists in pages', async () => {
    // 60 other groups under /aws/lambda/ make the prefix listing two pages.
    const others = Array.from({ length: 60 }, (_, i) =>
      seedFn(`other-${String(i).padStart(2, '0')}`, { logRetentionDays: 7 }),
    );
    h = await startHarness({
      seed: {
        functions: [
          ...others,
          seedFn('forever', { logRetentionDays: 'Never' }),
          seedFn('custom', { logging: { format: 'JSON', logGroup: '/platform/shared' }, logRetentionDays: 3 }),
          seedFn('fresh'),
        ],
      },
    });
    const governed: PolicyInput = {
      ...policy('platform/p', 'Enforce', { logRetentionDays: 30 }),
      selector: { functionNames: ['forever', 'custom', 'fresh', 'other-*'] },
    };

    // Act
    const first = await pass(h, [governed], true);

    // Assert: /aws/lambda/ listed in 2 pages (61 groups), the custom group looked up once
    expect(first.fleet.calls.byApi.DescribeLogGroups).toBe(3);
    const puts = (await writes(h)).filter((w) => w.api === 'PutRetentionPolicy');
    expect(puts).toHaveLength(62);
    expect(puts.map((w) => w.params.logGroupName)).toContain('/platform/shared');
    const { logs } = sdk(h);
    const shared = await logs.send(new DescribeLogGroupsCommand({ logGroupNamePrefix: '/platform/shared' }));
    expect(shared.logGroups?.[0]?.retentionInDays).toBe(30);
    const second = await pass(h, [governed], false);
    expect(second.plan.functions.filter((f) => !f.compliant)).toEqual([]);

    // The group Lambda creates on the first invocation is governed from the next check on.
    await logs.send(new CreateLogGroupCommand({ logGroupName: '/aws/lambda/fresh' }));
    const third = await pass(h, [governed], false);
    expect(third.plan.functions.find((f) => f.name === 'fresh')?.drift).toEqual([
      { field: 'logRetentionDays', desired: 30, actual: 'Never expire', policy: 'platform/p' },
    ]);
    logs.destroy();
  });

  it('few governed functions in a large region: exact lookups instead of listing', async () => {
    const others = Array.from({ length: 120 }, (_, i) => seedFn(`x-${i}`, { logRetentionDays: 7 }));
    h = await startHarness({ seed: { functions: [...others, seedFn('one', { logRetentionDays: 7 })] } });
    const governed: PolicyInput = {
      ...policy('platform/p', 'Enforce', { logRetentionDays: 14 }),
      selector: { functionNames: ['one'] },
    };
    const result = await pass(h, [governed], false);
    expect(result.fleet.calls.byApi.DescribeLogGroups).toBe(1);
    expect(result.plan.functions[0]?.drift[0]).toMatchObject({ field: 'logRetentionDays', actual: 7 });
  });

  it('CloudWatch Logs refuses a retention it does not offer', async () => {
    h = await startHarness({ seed: { functions: [seedFn('a', { logRetentionDays: 7 })] } });
    const { logs } = sdk(h);
    await expect(
      logs.send(new PutRetentionPolicyCommand({ logGroupName: '/aws/lambda/a', retentionInDays: 45 })),
    ).rejects.toMatchObject({ name: 'InvalidParameterException' });
    await expect(
      logs.send(new PutRetentionPolicyCommand({ logGroupName: '/aws/lambda/none', retentionInDays: 30 })),
    ).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
    logs.destroy();
  });
});
