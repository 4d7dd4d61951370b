/**
 * Contract: the production fields and APIs (LoggingConfig, TracingConfig, Environment, DeadLetterConfig, layers,
 * EventInvokeConfig, a CloudWatch Logs subset) against the emulator and moto, through the real AWS SDK. Where moto
 * departs from AWS it declares the difference (test/contract/targets.ts, docs/emulator-vs-moto.md).
 */
import {
  CreateLogGroupCommand,
  DescribeLogGroupsCommand,
  PutRetentionPolicyCommand,
  paginateDescribeLogGroups,
} from '@aws-sdk/client-cloudwatch-logs';
import {
  CreateFunctionCommand,
  GetFunctionConfigurationCommand,
  GetFunctionEventInvokeConfigCommand,
  GetLayerVersionByArnCommand,
  ListFunctionEventInvokeConfigsCommand,
  ListFunctionsCommand,
  PublishLayerVersionCommand,
  PutFunctionEventInvokeConfigCommand,
  UpdateFunctionConfigurationCommand,
  UpdateFunctionEventInvokeConfigCommand,
} from '@aws-sdk/client-lambda';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { defaultPackage } from '../../../src/emulator/zip.ts';
import { type ContractTarget, TARGETS } from '../../contract/targets.ts';

const DLQ = 'arn:aws:sqs:us-east-1:123456789012:orders-dlq';

const outcome = <T>(p: Promise<T>) =>
  p.then(
    (value) => ({ ok: true as const, value }),
    (error: Error) => ({ ok: false as const, name: error.name, message: error.message }),
  );

describe.each(TARGETS)('production contract: $name', ({ start }) => {
  let t: ContractTarget;

  beforeAll(async () => {
    t = await start();
  });
  afterAll(async () => {
    await t?.stop();
  });
  beforeEach(async () => {
    await t.reset();
  });

  const create = (name: string, extra: Record<string, unknown> = {}) =>
    t.lambda.send(
      new CreateFunctionCommand({
        FunctionName: name,
        Runtime: 'nodejs22.x',
        Role: t.role,
        Handler: 'index.handler',
        Code: { ZipFile: defaultPackage(name) },
        ...extra,
      }),
    );

  it('LoggingConfig, TracingConfig, Environment and DeadLetterConfig read back from list and get', async () => {
    await create('orders-api', {
      LoggingConfig: { LogFormat: 'JSON', ApplicationLogLevel: 'WARN', SystemLogLevel: 'INFO' },
      TracingConfig: { Mode: 'Active' },
      Environment: { Variables: { LOG_LEVEL: 'INFO' } },
      DeadLetterConfig: { TargetArn: DLQ },
    });

    const list = await t.lambda.send(new ListFunctionsCommand({}));
    const get = await t.lambda.send(new GetFunctionConfigurationCommand({ FunctionName: 'orders-api' }));

    for (const view of [list.Functions?.[0], get]) {
      expect(view?.TracingConfig).toEqual({ Mode: 'Active' });
      expect(view?.Environment?.Variables).toEqual({ LOG_LEVEL: 'INFO' });
      expect(view?.DeadLetterConfig).toEqual(t.differs('deadLetterConfigNotReturned') ? undefined : { TargetArn: DLQ });
      expect(view?.LoggingConfig).toEqual(
        t.differs('noLoggingConfig')
          ? undefined
          : {
              LogFormat: 'JSON',
              ApplicationLogLevel: 'WARN',
              SystemLogLevel: 'INFO',
              LogGroup: '/aws/lambda/orders-api',
            },
      );
    }
  });

  it('UpdateFunctionConfiguration sets logging and tracing; levels with Text are refused', async () => {
    await create('orders-api');

    await t.lambda.send(
      new UpdateFunctionConfigurationCommand({
        FunctionName: 'orders-api',
        LoggingConfig: { LogFormat: 'JSON', ApplicationLogLevel: 'ERROR', SystemLogLevel: 'WARN' },
        TracingConfig: { Mode: 'Active' },
      }),
    );
    const after = await t.lambda.send(new GetFunctionConfigurationCommand({ FunctionName: 'orders-api' }));
    const textWithLevel = await outcome(
      t.lambda.send(
        new UpdateFunctionConfigurationCommand({
          FunctionName: 'orders-api',
          LoggingConfig: { LogFormat: 'Text', ApplicationLogLevel: 'INFO' },
        }),
      ),
    );

    if (t.differs('noLoggingConfig')) {
      expect(after.LoggingConfig).toBeUndefined();
      expect(textWithLevel.ok).toBe(true);
    } else {
      expect(after.LoggingConfig).toMatchObject({
        LogFormat: 'JSON',
        ApplicationLogLevel: 'ERROR',
        SystemLogLevel: 'WARN',
      });
      expect(textWithLevel).toMatchObject({ ok: false, name: 'InvalidParameterValueException' });
    }
    expect(after.TracingConfig).toEqual({ Mode: t.differs('updateIgnoresTracing') ? 'PassThrough' : 'Active' });
  });

  it('layers: CompatibleArchitectures and CodeSize read back; a function lists its layers', async () => {
    const published = await t.lambda.send(
      new PublishLayerVersionCommand({
        LayerName: 'deps',
        Content: { ZipFile: defaultPackage('deps') },
        CompatibleArchitectures: ['arm64'],
        CompatibleRuntimes: ['nodejs22.x'],
      }),
    );
    const arn = published.LayerVersionArn ?? '';
    await create('orders-api', { Layers: [arn] });

    const byArn = await outcome(t.lambda.send(new GetLayerVersionByArnCommand({ Arn: arn })));
    const fn = await t.lambda.send(new GetFunctionConfigurationCommand({ FunctionName: 'orders-api' }));

    expect(arn).toBe(`arn:aws:lambda:${t.region}:123456789012:layer:deps:1`);
    expect(published.CompatibleArchitectures).toEqual(['arm64']);
    expect(fn.Layers?.map((l) => [l.Arn, l.CodeSize])).toEqual([[arn, published.Content?.CodeSize]]);
    if (t.differs('noGetLayerVersionByArn')) {
      expect(byArn.ok).toBe(false);
    } else {
      expect(byArn).toMatchObject({
        ok: true,
        value: { CompatibleArchitectures: ['arm64'], Content: { CodeSize: published.Content?.CodeSize } },
      });
    }
  });

  it('EventInvokeConfig: Put replaces, Update merges (destinations kept), List shows $LATEST', async () => {
    await create('orders-api');

    const put = await t.lambda.send(
      new PutFunctionEventInvokeConfigCommand({
        FunctionName: 'orders-api',
        MaximumRetryAttempts: 2,
        DestinationConfig: { OnFailure: { Destination: DLQ } },
      }),
    );
    expect(put.FunctionArn).toBe(
      `arn:aws:lambda:${t.region}:123456789012:function:orders-api${t.differs('eventInvokeUnqualifiedArn') ? '' : ':$LATEST'}`,
    );
    if (t.differs('eventInvokeBadTimestamps')) {
      // Update and List answer a LastModified the SDK cannot parse: the calls fail on the client.
      const update = await outcome(
        t.lambda.send(
          new UpdateFunctionEventInvokeConfigCommand({ FunctionName: 'orders-api', MaximumRetryAttempts: 0 }),
        ),
      );
      expect(update.ok).toBe(false);
      return;
    }
    await t.lambda.send(
      new UpdateFunctionEventInvokeConfigCommand({
        FunctionName: 'orders-api',
        MaximumRetryAttempts: 0,
        MaximumEventAgeInSeconds: 3600,
      }),
    );
    const got = await t.lambda.send(new GetFunctionEventInvokeConfigCommand({ FunctionName: 'orders-api' }));
    const listed = await t.lambda.send(new ListFunctionEventInvokeConfigsCommand({ FunctionName: 'orders-api' }));
    await t.lambda.send(
      new PutFunctionEventInvokeConfigCommand({ FunctionName: 'orders-api', MaximumRetryAttempts: 1 }),
    );
    const replaced = await t.lambda.send(new GetFunctionEventInvokeConfigCommand({ FunctionName: 'orders-api' }));

    expect(got).toMatchObject({
      MaximumRetryAttempts: 0,
      MaximumEventAgeInSeconds: 3600,
      DestinationConfig: { OnFailure: { Destination: DLQ } },
    });
    expect(listed.FunctionEventInvokeConfigs?.map((c) => c.FunctionArn)).toEqual([
      `arn:aws:lambda:${t.region}:123456789012:function:orders-api:$LATEST`,
    ]);
    expect(replaced.MaximumRetryAttempts).toBe(1);
    expect(replaced.DestinationConfig?.OnFailure?.Destination).toBeUndefined();
  });

  it.each([
    ['MaximumRetryAttempts', 3, 'maximumRetryAttempts', 'less than or equal to 2'],
    ['MaximumEventAgeInSeconds', 59, 'maximumEventAgeInSeconds', 'greater than or equal to 60'],
    ['MaximumEventAgeInSeconds', 21601, 'maximumEventAgeInSeconds', 'less than or equal to 21600'],
  ])('PutFunctionEventInvokeConfig %s=%i is rejected like AWS', async (field, value, member, constraint) => {
    await create('orders-api');
    const result = await outcome(
      t.lambda.send(new PutFunctionEventInvokeConfigCommand({ FunctionName: 'orders-api', [field]: value })),
    );
    if (value === 59 && t.differs('eventAgeMinimumNotValidated')) {
      expect(result.ok).toBe(true);
    } else {
      expect(result).toMatchObject({ ok: false, name: 'ValidationException' });
      if (result.ok === false && t.name === 'emulator')
        expect(result.message).toBe(
          `1 validation error detected: Value '${value}' at '${member}' failed to satisfy constraint: Member must have value ${constraint}`,
        );
    }
  });

  it('GetFunctionEventInvokeConfig without a config is ResourceNotFoundException', async () => {
    await create('orders-api');
    const result = await outcome(
      t.lambda.send(new GetFunctionEventInvokeConfigCommand({ FunctionName: 'orders-api' })),
    );
    expect(result).toMatchObject({ ok: false, name: 'ResourceNotFoundException' });
  });

  it('CloudWatch Logs: DescribeLogGroups pages a prefix by 50, PutRetentionPolicy takes only accepted values', async () => {
    const names = Array.from({ length: 60 }, (_, i) => `/aws/lambda/fn-${String(i).padStart(2, '0')}`);
    for (const logGroupName of [...names, '/other/group'])
      await t.logs.send(new CreateLogGroupCommand({ logGroupName }));

    const pages: number[] = [];
    const listed: string[] = [];
    for await (const page of paginateDescribeLogGroups(
      { client: t.logs },
      { logGroupNamePrefix: '/aws/lambda/', limit: 50 },
    )) {
      pages.push(page.logGroups?.length ?? 0);
      listed.push(...(page.logGroups ?? []).map((g) => g.logGroupName ?? ''));
    }
    await t.logs.send(new PutRetentionPolicyCommand({ logGroupName: names[0], retentionInDays: 30 }));
    const one = await t.logs.send(new DescribeLogGroupsCommand({ logGroupNamePrefix: names[0] }));
    const bad = await outcome(
      t.logs.send(new PutRetentionPolicyCommand({ logGroupName: names[1], retentionInDays: 45 })),
    );
    const missing = await outcome(
      t.logs.send(new PutRetentionPolicyCommand({ logGroupName: '/aws/lambda/none', retentionInDays: 30 })),
    );

    expect(listed).toEqual(names);
    expect(pages).toEqual([50, 10]);
    expect(one.logGroups?.map((g) => [g.logGroupName, g.retentionInDays])).toEqual([[names[0], 30]]);
    if (t.differs('retentionNotValidated')) expect(bad.ok).toBe(true);
    else expect(bad).toMatchObject({ ok: false, name: 'InvalidParameterException' });
    expect(missing).toMatchObject({
      ok: false,
      name: 'ResourceNotFoundException',
      message: 'The specified log group does not exist.',
    });
  });
});
