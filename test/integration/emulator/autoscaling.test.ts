import {
  DeleteScheduledActionCommand,
  DeregisterScalableTargetCommand,
  DescribeScalableTargetsCommand,
  DescribeScheduledActionsCommand,
  ObjectNotFoundException,
  PutScheduledActionCommand,
  paginateDescribeScalableTargets,
  paginateDescribeScheduledActions,
  RegisterScalableTargetCommand,
  ValidationException,
} from '@aws-sdk/client-application-auto-scaling';
import { GetProvisionedConcurrencyConfigCommand } from '@aws-sdk/client-lambda';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { type Emulator, startEmulator } from '../../../src/emulator/index.ts';
import { type Clients, clientsFor, failure } from './clients.ts';

const REGION = 'eu-central-1';
const DIMENSION = 'lambda:function:ProvisionedConcurrency';
const base = { ServiceNamespace: 'lambda', ScalableDimension: DIMENSION } as const;
/** Monday 2026-12-07 07:30 in Berlin (UTC+1 in winter). */
const MONDAY_MORNING = new Date('2026-12-07T06:30:00Z');

describe('Application Auto Scaling through the real AWS SDK', () => {
  let emulator: Emulator;
  let aws: Clients;

  beforeEach(async () => {
    emulator = await startEmulator({
      port: 0,
      now: MONDAY_MORNING,
      tickMs: 0,
      seed: {
        functions: [
          {
            name: 'orders-api',
            region: REGION,
            reservedConcurrency: 100,
            aliases: [{ name: 'live', version: '2', provisionedConcurrency: 2 }],
          },
          ...Array.from({ length: 60 }, (_, i) => ({
            name: `worker-${String(i).padStart(2, '0')}`,
            region: REGION,
            aliases: [{ name: 'live', version: '1' }],
          })),
        ],
      },
    });
    aws = clientsFor(emulator.url, REGION);
  });
  afterEach(() => emulator.stop());

  const provisioned = async (name = 'orders-api') => {
    const config = await aws.lambda.send(
      new GetProvisionedConcurrencyConfigCommand({ FunctionName: name, Qualifier: 'live' }),
    );
    return config.RequestedProvisionedConcurrentExecutions;
  };

  const businessHours = async (schedule = { start: 'cron(0 8 ? * MON-FRI *)', end: 'cron(0 19 ? * MON-FRI *)' }) => {
    await aws.autoscaling.send(
      new RegisterScalableTargetCommand({
        ...base,
        ResourceId: 'function:orders-api:live',
        MinCapacity: 2,
        MaxCapacity: 2,
      }),
    );
    for (const [name, expression, value] of [
      ['lpc-business-hours-start', schedule.start, 20],
      ['lpc-business-hours-end', schedule.end, 2],
    ] as const) {
      await aws.autoscaling.send(
        new PutScheduledActionCommand({
          ...base,
          ResourceId: 'function:orders-api:live',
          ScheduledActionName: name,
          Schedule: expression,
          Timezone: 'Europe/Berlin',
          ScalableTargetAction: { MinCapacity: value, MaxCapacity: value },
        }),
      );
    }
  };

  it('fires scheduled actions when the clock crosses a window edge, in the action timezone', async () => {
    await businessHours();

    emulator.clock.set(new Date('2026-12-07T06:59:00Z'));
    const beforeStart = await provisioned();
    emulator.clock.set(new Date('2026-12-07T07:00:30Z'));
    const afterStart = await provisioned();
    const target = await aws.autoscaling.send(
      new DescribeScalableTargetsCommand({ ServiceNamespace: 'lambda', ResourceIds: ['function:orders-api:live'] }),
    );
    emulator.clock.set(new Date('2026-12-07T18:00:30Z'));
    const afterEnd = await provisioned();

    expect(beforeStart).toBe(2);
    expect(afterStart).toBe(20);
    expect(target.ScalableTargets?.[0]).toMatchObject({ MinCapacity: 20, MaxCapacity: 20 });
    expect(afterEnd).toBe(2);
  });

  it('fires through the admin clock endpoint and reports how many actions fired', async () => {
    await businessHours();

    const response = await fetch(`${emulator.url}/_emulator/clock`, {
      method: 'POST',
      body: JSON.stringify({ advanceSeconds: 3600 }),
    });
    const body = (await response.json()) as { now: string; fired: number };

    expect(body).toEqual({ now: expect.stringMatching(/^2026-12-07T07:30/), fired: 1 });
    expect(await provisioned()).toBe(20);
  });

  it('folds a long jump into the last firing of each action', async () => {
    await businessHours();

    emulator.clock.advance(3 * 24 * 3600);
    const state = emulator.state();

    expect(await provisioned()).toBe(2);
    expect(state.firings.map((f) => [f.action, f.folded])).toEqual([
      ['lpc-business-hours-start', 3],
      ['lpc-business-hours-end', 3],
    ]);
  });

  it('reads AWS day-of-week numbers (1=SUN) and honours the year field', async () => {
    await businessHours({ start: 'cron(0 8 ? * 2-6 2027)', end: 'cron(0 19 ? * 2-6 *)' });

    emulator.clock.set(new Date('2026-12-07T07:00:30Z'));
    const in2026 = await provisioned();
    emulator.clock.set(new Date('2027-01-04T07:00:30Z'));
    const in2027 = await provisioned();

    expect(in2026).toBe(2);
    expect(in2027).toBe(20);
  });

  it('fires in real time with the scheduler timer', async () => {
    await emulator.stop();
    emulator = await startEmulator({
      port: 0,
      now: new Date('2026-12-07T06:59:58Z'),
      tickMs: 100,
      seed: {
        functions: [
          { name: 'orders-api', region: REGION, aliases: [{ name: 'live', version: '1', provisionedConcurrency: 2 }] },
        ],
      },
    });
    aws = clientsFor(emulator.url, REGION);
    await businessHours();

    await vi.waitFor(() => expect(emulator.state().firings).toHaveLength(1), { timeout: 15_000, interval: 100 });
    expect(await provisioned()).toBe(20);
  });

  it.each([
    ['cron(0 8 * * MON-FRI *)', /exactly one of the day-of-month and day-of-week/],
    ['cron(0 8 ? * MON-FRI)', /expected 6 fields/],
    ['cron(0 25 ? * MON-FRI *)', /Invalid cron expression/],
    ['at(2026-13-01T00:00:00)', /Invalid at expression/],
    ['rate(0 minutes)', /Invalid rate expression/],
    ['every day at eight', /Unsupported schedule expression/],
  ])('rejects schedule %s with ValidationException', async (schedule, message) => {
    await aws.autoscaling.send(
      new RegisterScalableTargetCommand({
        ...base,
        ResourceId: 'function:orders-api:live',
        MinCapacity: 0,
        MaxCapacity: 5,
      }),
    );
    const error = await failure(
      aws.autoscaling.send(
        new PutScheduledActionCommand({
          ...base,
          ResourceId: 'function:orders-api:live',
          ScheduledActionName: 'bad',
          Schedule: schedule,
          ScalableTargetAction: { MinCapacity: 1, MaxCapacity: 1 },
        }),
      ),
    );

    expect(error).toBeInstanceOf(ValidationException);
    expect(error.message).toMatch(message);
  });

  it('rejects an unknown timezone and a missing target', async () => {
    await aws.autoscaling.send(
      new RegisterScalableTargetCommand({
        ...base,
        ResourceId: 'function:orders-api:live',
        MinCapacity: 0,
        MaxCapacity: 5,
      }),
    );
    const action = {
      ...base,
      ScheduledActionName: 'a',
      Schedule: 'at(2027-01-01T00:00:00)',
      ScalableTargetAction: { MinCapacity: 1, MaxCapacity: 1 },
    };
    const badZone = await failure(
      aws.autoscaling.send(
        new PutScheduledActionCommand({ ...action, ResourceId: 'function:orders-api:live', Timezone: 'Mars/Olympus' }),
      ),
    );
    const noTarget = await failure(
      aws.autoscaling.send(new PutScheduledActionCommand({ ...action, ResourceId: 'function:worker-01:live' })),
    );

    expect(badZone).toBeInstanceOf(ValidationException);
    expect(noTarget).toBeInstanceOf(ObjectNotFoundException);
  });

  it.each([
    ['function:orders-api:$LATEST', 0, 1, /unpublished/],
    ['function:orders-api:staging', 0, 1, /does not exist/],
    ['function:orders-api:live', 5, 1, /Minimum capacity cannot be greater than maximum capacity/],
    ['orders-api', 0, 1, /Unsupported service namespace, resource type or scalable dimension/],
  ])('RegisterScalableTarget %s [%i,%i] is a ValidationException', async (resourceId, min, max, message) => {
    const error = await failure(
      aws.autoscaling.send(
        new RegisterScalableTargetCommand({ ...base, ResourceId: resourceId, MinCapacity: min, MaxCapacity: max }),
      ),
    );

    expect(error).toBeInstanceOf(ValidationException);
    expect(error.message).toMatch(message);
  });

  it('registering clamps the current provisioned concurrency into [min, max]', async () => {
    await aws.autoscaling.send(
      new RegisterScalableTargetCommand({
        ...base,
        ResourceId: 'function:orders-api:live',
        MinCapacity: 10,
        MaxCapacity: 30,
      }),
    );

    expect(await provisioned()).toBe(10);
  });

  it('pages targets and scheduled actions 50 at a time', async () => {
    for (let i = 0; i < 60; i++) {
      const resourceId = `function:worker-${String(i).padStart(2, '0')}:live`;
      await aws.autoscaling.send(
        new RegisterScalableTargetCommand({ ...base, ResourceId: resourceId, MinCapacity: 0, MaxCapacity: 1 }),
      );
      await aws.autoscaling.send(
        new PutScheduledActionCommand({
          ...base,
          ResourceId: resourceId,
          ScheduledActionName: 'nightly',
          Schedule: 'cron(0 2 * * ? *)',
          ScalableTargetAction: { MinCapacity: 0, MaxCapacity: 0 },
        }),
      );
    }
    const targetPages: number[] = [];
    for await (const page of paginateDescribeScalableTargets(
      { client: aws.autoscaling },
      { ServiceNamespace: 'lambda' },
    )) {
      targetPages.push(page.ScalableTargets?.length ?? 0);
    }
    const actionPages: number[] = [];
    for await (const page of paginateDescribeScheduledActions(
      { client: aws.autoscaling },
      { ServiceNamespace: 'lambda' },
    )) {
      actionPages.push(page.ScheduledActions?.length ?? 0);
    }
    const tooMany = await failure(
      aws.autoscaling.send(new DescribeScheduledActionsCommand({ ServiceNamespace: 'lambda', MaxResults: 51 })),
    );

    expect(targetPages).toEqual([50, 10]);
    expect(actionPages).toEqual([50, 10]);
    expect(tooMany).toBeInstanceOf(ValidationException);
  });

  it('describes actions with timezone and capacities; deleting and deregistering clean up', async () => {
    await businessHours();
    const described = await aws.autoscaling.send(
      new DescribeScheduledActionsCommand({ ServiceNamespace: 'lambda', ResourceId: 'function:orders-api:live' }),
    );
    await aws.autoscaling.send(
      new DeleteScheduledActionCommand({
        ...base,
        ResourceId: 'function:orders-api:live',
        ScheduledActionName: 'lpc-business-hours-start',
      }),
    );
    const missing = await failure(
      aws.autoscaling.send(
        new DeleteScheduledActionCommand({
          ...base,
          ResourceId: 'function:orders-api:live',
          ScheduledActionName: 'lpc-business-hours-start',
        }),
      ),
    );
    await aws.autoscaling.send(
      new DeregisterScalableTargetCommand({ ...base, ResourceId: 'function:orders-api:live' }),
    );
    const afterDeregister = await aws.autoscaling.send(
      new DescribeScheduledActionsCommand({ ServiceNamespace: 'lambda' }),
    );
    const deregisterAgain = await failure(
      aws.autoscaling.send(new DeregisterScalableTargetCommand({ ...base, ResourceId: 'function:orders-api:live' })),
    );

    expect(described.ScheduledActions?.[0]).toMatchObject({
      ScheduledActionName: 'lpc-business-hours-start',
      Schedule: 'cron(0 8 ? * MON-FRI *)',
      Timezone: 'Europe/Berlin',
      ScalableTargetAction: { MinCapacity: 20, MaxCapacity: 20 },
    });
    expect(described.ScheduledActions?.[0]?.CreationTime).toBeInstanceOf(Date);
    expect(missing).toBeInstanceOf(ObjectNotFoundException);
    expect(afterDeregister.ScheduledActions).toEqual([]);
    expect(deregisterAgain).toBeInstanceOf(ObjectNotFoundException);
  });
});
