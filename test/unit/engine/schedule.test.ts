import { describe, expect, it } from 'vitest';
import { SCHEDULED_ACTION_PREFIX } from '../../../src/engine/model.ts';
import {
  awsCronOf,
  declaredActions,
  isActionOfPolicy,
  isOwnedActionName,
  parseResourceId,
  resourceIdOf,
  scheduledActionName,
} from '../../../src/engine/schedule.ts';
import { compileWindows, ScheduleError } from '../../../src/engine/windows.ts';

describe('awsCronOf: Unix 5-field cron -> AWS cron(Minutes Hours Day-of-month Month Day-of-week Year)', () => {
  it.each([
    ['0 8 * * 1-5', 'cron(0 8 ? * MON-FRI *)'],
    ['0 19 * * MON-FRI', 'cron(0 19 ? * MON-FRI *)'],
    ['0 8 * * *', 'cron(0 8 * * ? *)'], // both day fields *: ? goes to day-of-week
    ['30 6 1 * *', 'cron(30 6 1 * ? *)'],
    ['0 0 1,15 * *', 'cron(0 0 1,15 * ? *)'],
    ['0 18 * * 5', 'cron(0 18 ? * FRI *)'],
    ['0 6 * * 1', 'cron(0 6 ? * MON *)'],
    ['0 12 * * 0', 'cron(0 12 ? * SUN *)'], // Unix 0 = Sunday (AWS 1 = Sunday): names avoid the trap
    ['0 12 * * 7', 'cron(0 12 ? * SUN *)'], // Unix 7 = Sunday too
    ['0 12 * * 6,0', 'cron(0 12 ? * SUN,SAT *)'],
    ['0 12 * * 0-6', 'cron(0 12 * * ? *)'], // every day of the week is no restriction
    ['0 12 * * */2', 'cron(0 12 ? * SUN,TUE,THU,SAT *)'], // AWS has no / in day-of-week
    ['0 12 * * 1-5/2', 'cron(0 12 ? * MON,WED,FRI *)'],
    ['0 12 * * sat,sun', 'cron(0 12 ? * SUN,SAT *)'],
    ['0 12 * * 1,2,3,5', 'cron(0 12 ? * MON-WED,FRI *)'],
    ['0 12 * * 1,2', 'cron(0 12 ? * MON,TUE *)'],
    ['*/15 * * * *', 'cron(0,15,30,45 * * * ? *)'],
    ['0-5 8-18 * * *', 'cron(0-5 8-18 * * ? *)'],
    ['0 8 * JAN,mar *', 'cron(0 8 * 1,3 ? *)'],
    ['0 8 * 6-8 1-5', 'cron(0 8 ? 6-8 MON-FRI *)'],
    ['0 0 L * *', 'cron(0 0 L * ? *)'],
    ['0 0 ? * 1', 'cron(0 0 ? * MON *)'],
    ['0 8 1-31 * *', 'cron(0 8 * * ? *)'],
    ['0 8 * 2 *', 'cron(0 8 * 2 ? *)'], // cron-parser expands * to 1-29 in February: still unrestricted
    ['0 8 * 2 SUN', 'cron(0 8 ? 2 SUN *)'],
  ])('%s -> %s', (unix, aws) => {
    expect(awsCronOf(unix)).toBe(aws);
  });

  it.each([
    ['0 8 1 * 1', /restricts both day-of-month and day-of-week/],
    ['0 8 1-31 * 1', /restricts both day-of-month and day-of-week/], // Unix cron: every day (OR)
    ['0 8 * * 5L', /not supported/],
    ['0 8 * * 5#2', /not supported/],
    ['0 8 L,15 * *', /L cannot be combined/],
  ])('%s cannot be expressed', (unix, message) => {
    expect(() => awsCronOf(unix)).toThrowError(ScheduleError);
    expect(() => awsCronOf(unix)).toThrowError(message);
  });
});

describe('scheduled action names and resource ids', () => {
  it('names carry the prefix, namespace, policy, window and edge', () => {
    expect(scheduledActionName('platform', 'api-tier', 'business-hours', 'start')).toBe(
      `${SCHEDULED_ACTION_PREFIX}.platform.api-tier.business-hours.start`,
    );
  });

  it.each([
    [`${SCHEDULED_ACTION_PREFIX}.platform.api-tier.bh.start`, true],
    ['someone-else.platform.api-tier.bh.start', false],
    [`${SCHEDULED_ACTION_PREFIX}x.platform.api-tier.bh.start`, false],
  ])('ownership of %s is %s', (name, owned) => {
    expect(isOwnedActionName(name)).toBe(owned);
  });

  it.each([
    ['platform', 'api-tier', `${SCHEDULED_ACTION_PREFIX}.platform.api-tier.bh.start`, true],
    ['platform', 'api-tier', `${SCHEDULED_ACTION_PREFIX}.platform.api-tier.bh.end`, true],
    ['platform', 'api', `${SCHEDULED_ACTION_PREFIX}.platform.api-tier.bh.start`, false],
    ['platform', 'a', `${SCHEDULED_ACTION_PREFIX}.platform.a.b.c.start`, false], // belongs to policy "a.b"
    ['platform', 'a.b', `${SCHEDULED_ACTION_PREFIX}.platform.a.b.c.start`, true],
    ['other', 'api-tier', `${SCHEDULED_ACTION_PREFIX}.platform.api-tier.bh.start`, false],
  ])('%s/%s owns %s: %s', (ns, name, action, expected) => {
    expect(isActionOfPolicy(action, ns, name)).toBe(expected);
  });

  it('resource ids round-trip; other resource ids are not ours', () => {
    expect(resourceIdOf('orders-api', 'live')).toBe('function:orders-api:live');
    expect(parseResourceId('function:orders-api:live')).toEqual({ functionName: 'orders-api', qualifier: 'live' });
    expect(parseResourceId('function:orders-api')).toBeUndefined();
    expect(parseResourceId('table:orders')).toBeUndefined();
  });
});

describe('declaredActions', () => {
  it('one action per edge: start -> window value, end -> block value, in the window time zone', () => {
    const block = {
      qualifier: 'live',
      value: 2,
      windows: [{ name: 'bh', start: '0 8 * * 1-5', end: '0 19 * * 1-5', timezone: 'Europe/Berlin', value: 20 }],
    };
    expect(declaredActions('platform', 'api-tier', block, compileWindows(block.windows))).toEqual([
      {
        name: `${SCHEDULED_ACTION_PREFIX}.platform.api-tier.bh.start`,
        schedule: 'cron(0 8 ? * MON-FRI *)',
        timezone: 'Europe/Berlin',
        minCapacity: 20,
        maxCapacity: 20,
      },
      {
        name: `${SCHEDULED_ACTION_PREFIX}.platform.api-tier.bh.end`,
        schedule: 'cron(0 19 ? * MON-FRI *)',
        timezone: 'Europe/Berlin',
        minCapacity: 2,
        maxCapacity: 2,
      },
    ]);
  });

  it('default time zone is UTC', () => {
    const block = {
      qualifier: 'live',
      value: 0,
      windows: [{ name: 'w', start: '0 8 * * *', end: '0 9 * * *', value: 1 }],
    };
    expect(declaredActions('n', 'p', block, compileWindows(block.windows)).map((a) => a.timezone)).toEqual([
      'UTC',
      'UTC',
    ]);
  });

  it('refuses names longer than 256 characters', () => {
    const block = {
      qualifier: 'live',
      value: 0,
      windows: [{ name: 'w', start: '0 8 * * *', end: '0 9 * * *', value: 1 }],
    };
    expect(() => declaredActions('n', 'p'.repeat(253), block, compileWindows(block.windows))).toThrowError(/256/);
  });
});
