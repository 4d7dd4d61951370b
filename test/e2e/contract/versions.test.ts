/**
 * Contract: published versions, aliases (with routing weights), SuspendedState, scaling policies and the
 * scalable-targets quota, against the emulator and moto through the real AWS SDK — the reads the controller uses to
 * learn what a governed alias serves and who else scales its target.
 */
import {
  DescribeScalableTargetsCommand,
  DescribeScalingPoliciesCommand,
  LimitExceededException,
  PutScalingPolicyCommand,
  RegisterScalableTargetCommand,
} from '@aws-sdk/client-application-auto-scaling';
import {
  CreateAliasCommand,
  CreateFunctionCommand,
  GetFunctionCommand,
  ListAliasesCommand,
  ListVersionsByFunctionCommand,
  PublishVersionCommand,
  UpdateFunctionConfigurationCommand,
} from '@aws-sdk/client-lambda';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { defaultPackage } from '../../../src/emulator/zip.ts';
import { type ContractTarget, TARGETS } from '../../contract/targets.ts';

const DIMENSION = 'lambda:function:ProvisionedConcurrency';
const base = { ServiceNamespace: 'lambda', ScalableDimension: DIMENSION } as const;

describe.each(TARGETS)('Versions, aliases and scaling ownership contract: $name', ({ start }) => {
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

  const create = (name: string, publish = false) =>
    t.lambda.send(
      new CreateFunctionCommand({
        FunctionName: name,
        Runtime: 'nodejs22.x',
        Role: t.role,
        Handler: 'index.handler',
        Code: { ZipFile: defaultPackage(name) },
        MemorySize: 512,
        Timeout: 30,
        Publish: publish,
      }),
    );

  it('a published version keeps its configuration when $LATEST changes (GetFunction with the version)', async () => {
    await create('orders-api');
    await t.lambda.send(new PublishVersionCommand({ FunctionName: 'orders-api' }));
    await t.lambda.send(new UpdateFunctionConfigurationCommand({ FunctionName: 'orders-api', MemorySize: 1024 }));

    const v1 = await t.lambda.send(new GetFunctionCommand({ FunctionName: 'orders-api', Qualifier: '1' }));
    const latest = await t.lambda.send(new GetFunctionCommand({ FunctionName: 'orders-api' }));
    const versions = await t.lambda.send(new ListVersionsByFunctionCommand({ FunctionName: 'orders-api' }));

    expect(v1.Configuration).toMatchObject({ Version: '1', MemorySize: 512, Timeout: 30 });
    expect(latest.Configuration).toMatchObject({ Version: '$LATEST', MemorySize: 1024 });
    expect(versions.Versions?.map((v) => [v.Version, v.MemorySize])).toEqual([
      ['$LATEST', 1024],
      ['1', 512],
    ]);
  });

  it('ListVersionsByFunction pages 50 versions a call, $LATEST first', async () => {
    await create('orders-api');
    for (let v = 1; v <= 50; v++) {
      await t.lambda.send(new UpdateFunctionConfigurationCommand({ FunctionName: 'orders-api', Description: `v${v}` }));
      await t.lambda.send(new PublishVersionCommand({ FunctionName: 'orders-api' }));
    }

    const first = await t.lambda.send(new ListVersionsByFunctionCommand({ FunctionName: 'orders-api', MaxItems: 50 }));

    expect(first.Versions?.[0]?.Version).toBe('$LATEST');
    if (t.differs('listVersionsNotPaged')) {
      expect(first.Versions).toHaveLength(51);
      expect(first.NextMarker).toBeUndefined();
    } else {
      expect(first.Versions).toHaveLength(50);
      const second = await t.lambda.send(
        new ListVersionsByFunctionCommand({ FunctionName: 'orders-api', MaxItems: 50, Marker: first.NextMarker }),
      );
      expect(second.Versions?.map((v) => v.Version)).toEqual(['50']);
    }
  });

  it('ListAliases gives each alias the version it serves and its routing weights', async () => {
    await create('orders-api', true);
    await t.lambda.send(new UpdateFunctionConfigurationCommand({ FunctionName: 'orders-api', Description: 'v2' }));
    await t.lambda.send(new PublishVersionCommand({ FunctionName: 'orders-api' }));
    await t.lambda.send(new CreateAliasCommand({ FunctionName: 'orders-api', Name: 'live', FunctionVersion: '2' }));
    await t.lambda.send(
      new CreateAliasCommand({
        FunctionName: 'orders-api',
        Name: 'canary',
        FunctionVersion: '1',
        RoutingConfig: { AdditionalVersionWeights: { '2': 0.25 } },
      }),
    );

    const listed = await t.lambda.send(new ListAliasesCommand({ FunctionName: 'orders-api', MaxItems: 50 }));

    const byName = new Map((listed.Aliases ?? []).map((a) => [a.Name, a]));
    expect(byName.get('live')?.FunctionVersion).toBe('2');
    expect(byName.get('live')?.RoutingConfig?.AdditionalVersionWeights ?? {}).toEqual({});
    expect(byName.get('canary')).toMatchObject({
      FunctionVersion: '1',
      RoutingConfig: { AdditionalVersionWeights: { '2': 0.25 } },
    });
  });

  it('a target keeps its SuspendedState, and DescribeScalingPolicies shows a policy on it', async () => {
    await create('orders-api', true);
    await t.lambda.send(new CreateAliasCommand({ FunctionName: 'orders-api', Name: 'live', FunctionVersion: '1' }));
    const target = { ...base, ResourceId: 'function:orders-api:live' };
    await t.autoscaling.send(
      new RegisterScalableTargetCommand({
        ...target,
        MinCapacity: 1,
        MaxCapacity: 10,
        SuspendedState: { ScheduledScalingSuspended: true },
      }),
    );
    await t.autoscaling.send(
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

    const targets = await t.autoscaling.send(new DescribeScalableTargetsCommand({ ServiceNamespace: 'lambda' }));
    const policies = await t.autoscaling.send(
      new DescribeScalingPoliciesCommand({ ServiceNamespace: 'lambda', MaxResults: 50 }),
    );

    expect(targets.ScalableTargets?.[0]?.SuspendedState?.ScheduledScalingSuspended).toBe(true);
    expect(
      policies.ScalingPolicies?.map((p) => [p.PolicyName, p.PolicyType, p.ResourceId, p.ScalableDimension]),
    ).toEqual([['utilization', 'TargetTrackingScaling', 'function:orders-api:live', DIMENSION]]);
  });

  it('refuses the 501st scalable target of the region with LimitExceededException', async () => {
    // The emulator, like AWS, wants the qualifier to exist; moto does not look (registerUnknownFunction).
    const names = Array.from({ length: 501 }, (_, i) => `fn-${String(i).padStart(3, '0')}`);
    if (!t.differs('registerUnknownFunction')) for (const name of names) await create(name, true);
    const register = (name: string) =>
      t.autoscaling.send(
        new RegisterScalableTargetCommand({
          ...base,
          ResourceId: `function:${name}:1`,
          MinCapacity: 0,
          MaxCapacity: 1,
        }),
      );
    for (const name of names.slice(0, 500)) await register(name);

    const last = register('fn-500');

    if (t.differs('noScalableTargetQuota')) await expect(last).resolves.toBeDefined();
    else await expect(last).rejects.toBeInstanceOf(LimitExceededException);
  });
});
