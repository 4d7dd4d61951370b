/**
 * Contract: Application Auto Scaling targets and scheduled actions for Lambda provisioned concurrency, against the
 * emulator and moto through the real AWS SDK.
 */
import {
  DeleteScheduledActionCommand,
  DeregisterScalableTargetCommand,
  DescribeScalableTargetsCommand,
  DescribeScheduledActionsCommand,
  ObjectNotFoundException,
  PutScheduledActionCommand,
  paginateDescribeScalableTargets,
  RegisterScalableTargetCommand,
  ValidationException,
} from '@aws-sdk/client-application-auto-scaling';
import { CreateAliasCommand, CreateFunctionCommand, PublishVersionCommand } from '@aws-sdk/client-lambda';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { defaultPackage } from '../../../src/emulator/zip.ts';
import { type ContractTarget, TARGETS } from '../../contract/targets.ts';

const DIMENSION = 'lambda:function:ProvisionedConcurrency';
const base = { ServiceNamespace: 'lambda', ScalableDimension: DIMENSION } as const;

describe.each(TARGETS)('Application Auto Scaling contract: $name', ({ start }) => {
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

  /** A function with version 1 and alias `live` (the emulator, like AWS, wants the qualifier to exist). */
  const functionWithAlias = async (name: string) => {
    await t.lambda.send(
      new CreateFunctionCommand({
        FunctionName: name,
        Runtime: 'nodejs22.x',
        Role: t.role,
        Handler: 'index.handler',
        Code: { ZipFile: defaultPackage(name) },
      }),
    );
    await t.lambda.send(new PublishVersionCommand({ FunctionName: name }));
    await t.lambda.send(new CreateAliasCommand({ FunctionName: name, Name: 'live', FunctionVersion: '1' }));
  };

  const register = (name: string, min?: number, max?: number) =>
    t.autoscaling.send(
      new RegisterScalableTargetCommand({
        ...base,
        ResourceId: `function:${name}:live`,
        ...(min !== undefined ? { MinCapacity: min } : {}),
        ...(max !== undefined ? { MaxCapacity: max } : {}),
      }),
    );

  const putAction = (name: string, actionName: string, schedule: string, value: number, timezone?: string) =>
    t.autoscaling.send(
      new PutScheduledActionCommand({
        ...base,
        ResourceId: `function:${name}:live`,
        ScheduledActionName: actionName,
        Schedule: schedule,
        ...(timezone ? { Timezone: timezone } : {}),
        ScalableTargetAction: { MinCapacity: value, MaxCapacity: value },
      }),
    );

  it('registers, re-registers (partial update) and describes a scalable target', async () => {
    await functionWithAlias('orders-api');

    const registered = await register('orders-api', 2, 10);
    await register('orders-api', undefined, 20);
    const described = await t.autoscaling.send(
      new DescribeScalableTargetsCommand({ ServiceNamespace: 'lambda', ResourceIds: ['function:orders-api:live'] }),
    );

    expect(registered.ScalableTargetARN).toMatch(
      /^arn:aws:application-autoscaling:us-east-1:123456789012:scalable-target\//,
    );
    expect(described.ScalableTargets).toEqual([
      expect.objectContaining({
        ServiceNamespace: 'lambda',
        ResourceId: 'function:orders-api:live',
        ScalableDimension: DIMENSION,
        MinCapacity: 2,
        MaxCapacity: 20,
        ScalableTargetARN: registered.ScalableTargetARN,
      }),
    ]);
    expect(described.ScalableTargets?.[0]?.CreationTime).toBeInstanceOf(Date);
  });

  it('pages scalable targets with MaxResults/NextToken', async () => {
    for (const name of ['a-fn', 'b-fn', 'c-fn']) {
      await functionWithAlias(name);
      await register(name, 0, 5);
    }

    const ids: string[] = [];
    for await (const page of paginateDescribeScalableTargets(
      { client: t.autoscaling, pageSize: 2 },
      { ServiceNamespace: 'lambda' },
    )) {
      expect(page.ScalableTargets?.length).toBeLessThanOrEqual(2);
      ids.push(...(page.ScalableTargets ?? []).map((s) => s.ResourceId ?? ''));
    }

    expect(ids.sort()).toEqual(['function:a-fn:live', 'function:b-fn:live', 'function:c-fn:live']);
  });

  it('rejects an unsupported resource id with ValidationException', async () => {
    const error = await register('orders-api', 0, 1)
      .then(() => undefined)
      .catch((e: unknown) => e);
    const badId = await t.autoscaling
      .send(new RegisterScalableTargetCommand({ ...base, ResourceId: 'orders-api', MinCapacity: 0, MaxCapacity: 1 }))
      .catch((e: unknown) => e);

    expect(badId).toBeInstanceOf(ValidationException);
    expect((badId as Error).message).toBe('Unsupported service namespace, resource type or scalable dimension');
    if (t.differs('registerUnknownFunction')) expect(error).toBeUndefined();
    else expect(error).toBeInstanceOf(ValidationException);
  });

  it('creates, replaces, describes and deletes scheduled actions', async () => {
    await functionWithAlias('orders-api');
    await register('orders-api', 2, 2);

    await putAction('orders-api', 'lpc-start', 'cron(0 8 ? * MON-FRI *)', 20, 'Europe/Berlin');
    await putAction('orders-api', 'lpc-end', 'cron(0 19 ? * MON-FRI *)', 2, 'Europe/Berlin');
    await putAction('orders-api', 'lpc-start', 'cron(30 7 ? * MON-FRI *)', 25, 'Europe/Berlin');
    const described = await t.autoscaling.send(
      new DescribeScheduledActionsCommand({ ServiceNamespace: 'lambda', ResourceId: 'function:orders-api:live' }),
    );
    await t.autoscaling.send(
      new DeleteScheduledActionCommand({
        ...base,
        ResourceId: 'function:orders-api:live',
        ScheduledActionName: 'lpc-end',
      }),
    );
    const afterDelete = await t.autoscaling.send(new DescribeScheduledActionsCommand({ ServiceNamespace: 'lambda' }));

    const byName = Object.fromEntries((described.ScheduledActions ?? []).map((a) => [a.ScheduledActionName, a]));
    expect(Object.keys(byName).sort()).toEqual(['lpc-end', 'lpc-start']);
    expect(byName['lpc-start']).toMatchObject({
      ServiceNamespace: 'lambda',
      ResourceId: 'function:orders-api:live',
      ScalableDimension: DIMENSION,
      Schedule: 'cron(30 7 ? * MON-FRI *)',
      Timezone: 'Europe/Berlin',
      ScalableTargetAction: { MinCapacity: 25, MaxCapacity: 25 },
    });
    expect(byName['lpc-start']?.ScheduledActionARN).toMatch(
      /^arn:aws:autoscaling:us-east-1:123456789012:scheduledAction/,
    );
    expect(afterDelete.ScheduledActions?.map((a) => a.ScheduledActionName)).toEqual(['lpc-start']);
  });

  it('paging of scheduled actions with MaxResults', async () => {
    await functionWithAlias('orders-api');
    await register('orders-api', 0, 5);
    for (let i = 0; i < 3; i++) await putAction('orders-api', `a-${i}`, `cron(${i} 8 ? * MON-FRI *)`, 1);

    const first = await t.autoscaling.send(
      new DescribeScheduledActionsCommand({ ServiceNamespace: 'lambda', MaxResults: 2 }),
    );

    if (t.differs('scheduledActionsNotPaged')) {
      expect(first.ScheduledActions).toHaveLength(3);
    } else {
      expect(first.ScheduledActions).toHaveLength(2);
      expect(first.NextToken).toBeTruthy();
    }
  });

  it('validates schedules and requires a registered target', async () => {
    await functionWithAlias('orders-api');
    await register('orders-api', 0, 5);

    const badCron = await putAction('orders-api', 'bad', 'cron(0 8 * * MON-FRI *)', 1)
      .then(() => undefined)
      .catch((e: unknown) => e);
    const badZone = await putAction('orders-api', 'bad-zone', 'cron(0 8 ? * MON-FRI *)', 1, 'Mars/Olympus')
      .then(() => undefined)
      .catch((e: unknown) => e);
    const noTarget = await putAction('unregistered', 'x', 'at(2027-01-01T00:00:00)', 1)
      .then(() => undefined)
      .catch((e: unknown) => e);

    if (t.differs('noScheduleValidation')) {
      expect([badCron, badZone, noTarget]).toEqual([undefined, undefined, undefined]);
    } else {
      expect(badCron).toBeInstanceOf(ValidationException);
      expect(badZone).toBeInstanceOf(ValidationException);
      expect(noTarget).toBeInstanceOf(ObjectNotFoundException);
    }
  });

  it('deregistering a target removes its scheduled actions; unknown targets and actions are errors', async () => {
    await functionWithAlias('orders-api');
    await register('orders-api', 0, 5);
    await putAction('orders-api', 'lpc-start', 'cron(0 8 ? * MON-FRI *)', 3);

    await t.autoscaling.send(new DeregisterScalableTargetCommand({ ...base, ResourceId: 'function:orders-api:live' }));
    const actions = await t.autoscaling.send(new DescribeScheduledActionsCommand({ ServiceNamespace: 'lambda' }));
    const targets = await t.autoscaling.send(new DescribeScalableTargetsCommand({ ServiceNamespace: 'lambda' }));
    const again = await t.autoscaling
      .send(new DeregisterScalableTargetCommand({ ...base, ResourceId: 'function:orders-api:live' }))
      .catch((e: unknown) => e);
    const deleteUnknown = await t.autoscaling
      .send(
        new DeleteScheduledActionCommand({
          ...base,
          ResourceId: 'function:orders-api:live',
          ScheduledActionName: 'nope',
        }),
      )
      .then(() => undefined)
      .catch((e: unknown) => e);

    expect(targets.ScalableTargets).toEqual([]);
    expect(actions.ScheduledActions?.length).toBe(t.differs('deregisterKeepsActions') ? 1 : 0);
    expect(again).toBeInstanceOf(
      t.differs('deregisterUnknownIsValidation') ? ValidationException : ObjectNotFoundException,
    );
    if (t.differs('deleteUnknownActionSucceeds')) expect(deleteUnknown).toBeUndefined();
    else expect(deleteUnknown).toBeInstanceOf(ObjectNotFoundException);
  });
});
