import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { lastFiringIn, nextFiring, parseSchedule, ScheduleError, zonedToUtc } from './schedule.ts';

const at = (iso: string) => new Date(iso).getTime();
const YEAR_MS = 366 * 24 * 3_600_000;

describe('parseSchedule', () => {
  it.each([
    ['cron(0 8 * * MON-FRI *)', /exactly one of the day-of-month and day-of-week/],
    ['cron(0 8 ? * ? *)', /exactly one/],
    ['cron(0 8 ? * MON-FRI)', /expected 6 fields/],
    ['cron(0 8 ? * 0 *)', /day-of-week must be 1-7/],
    ['cron(0 8 ? * MON 1969)', /year out of range/],
    ['cron(61 8 ? * MON *)', /Invalid cron expression/],
    ['at(2026-02-30)', /Invalid at expression/],
    ['rate(5 weeks)', /Invalid rate expression/],
    ['daily', /Unsupported schedule expression/],
  ])('rejects %s', (expression, message) => {
    expect(() => parseSchedule(expression)).toThrow(ScheduleError);
    expect(() => parseSchedule(expression)).toThrow(message);
  });

  it('rejects an unknown timezone', () => {
    expect(() => parseSchedule('cron(0 8 ? * MON *)', 'Europe/Atlantis')).toThrow(/Invalid timezone/);
  });

  it('rejects a time zone alias, as Application Auto Scaling takes canonical names only', () => {
    expect(() => parseSchedule('cron(0 8 ? * MON *)', 'US/Eastern')).toThrow(/Invalid timezone: US\/Eastern/);
    expect(() => parseSchedule('cron(0 8 ? * MON *)', 'America/New_York')).not.toThrow();
  });
});

describe('nextFiring', () => {
  it.each([
    // AWS day-of-week: 1=SUN..7=SAT; 2-6 is MON-FRI. 2026-12-05 is a Saturday.
    ['cron(0 8 ? * 2-6 *)', 'UTC', '2026-12-05T00:00:00Z', '2026-12-07T08:00:00.000Z'],
    ['cron(0 8 ? * MON-FRI *)', 'UTC', '2026-12-05T00:00:00Z', '2026-12-07T08:00:00.000Z'],
    ['cron(0 8 ? * 1 *)', 'UTC', '2026-12-05T00:00:00Z', '2026-12-06T08:00:00.000Z'],
    ['cron(0 8 ? * 7 *)', 'UTC', '2026-12-04T09:00:00Z', '2026-12-05T08:00:00.000Z'],
    ['cron(0 8 ? * MON-FRI *)', 'Europe/Berlin', '2026-12-07T00:00:00Z', '2026-12-07T07:00:00.000Z'],
    ['cron(0 8 ? * MON-FRI *)', 'Europe/Berlin', '2026-07-06T00:00:00Z', '2026-07-06T06:00:00.000Z'],
    ['cron(0 0 1 1 ? 2030)', 'UTC', '2026-12-01T00:00:00Z', '2030-01-01T00:00:00.000Z'],
    ['cron(15 10 ? * 6#3 *)', 'UTC', '2026-12-01T00:00:00Z', '2026-12-18T10:15:00.000Z'],
    ['at(2027-01-01T09:00:00)', 'Europe/Berlin', '2026-12-01T00:00:00Z', '2027-01-01T08:00:00.000Z'],
  ])('%s in %s after %s is %s', (expression, timezone, after, expected) => {
    const firing = nextFiring(parseSchedule(expression, timezone), at(after), at(after) + 5 * YEAR_MS);

    expect(new Date(firing ?? 0).toISOString()).toBe(expected);
  });

  it('is strictly after the starting instant', () => {
    const schedule = parseSchedule('cron(0 8 ? * * *)');

    expect(nextFiring(schedule, at('2026-12-07T08:00:00Z'), Number.MAX_SAFE_INTEGER)).toBe(at('2026-12-08T08:00:00Z'));
    expect(nextFiring(schedule, at('2026-12-07T07:59:59.999Z'), Number.MAX_SAFE_INTEGER)).toBe(
      at('2026-12-07T08:00:00Z'),
    );
  });

  it('counts rate schedules from their anchor', () => {
    const schedule = parseSchedule('rate(15 minutes)');
    const anchor = at('2026-12-07T08:00:00Z');

    expect(nextFiring(schedule, at('2026-12-07T08:20:00Z'), Number.MAX_SAFE_INTEGER, anchor)).toBe(
      at('2026-12-07T08:30:00Z'),
    );
  });

  it('gives the same firings wherever iteration starts, across DST changes (property)', () => {
    const schedule = parseSchedule('cron(30 2 ? * * *)', 'Europe/Berlin');
    const from = at('2026-03-20T00:00:00Z');
    const until = at('2026-04-05T00:00:00Z');
    const all: number[] = [];
    for (let t = nextFiring(schedule, from, until); t !== undefined; t = nextFiring(schedule, t, until)) all.push(t);

    fc.assert(
      fc.property(fc.integer({ min: from, max: until }), (start) => {
        const expected = all.find((t) => t > start);
        expect(nextFiring(schedule, start, until)).toBe(expected);
      }),
      { numRuns: 200 },
    );
  });
});

describe('lastFiringIn', () => {
  it('folds every firing in a range into the last one and a count', () => {
    const schedule = parseSchedule('cron(0 8 ? * MON-FRI *)', 'Europe/Berlin');

    const result = lastFiringIn(schedule, at('2026-12-07T00:00:00Z'), at('2026-12-14T00:00:00Z'));

    expect(result).toEqual({ last: at('2026-12-11T07:00:00Z'), count: 5 });
  });

  it('returns undefined when nothing fires', () => {
    expect(
      lastFiringIn(parseSchedule('cron(0 8 ? * MON *)'), at('2026-12-08T00:00:00Z'), at('2026-12-13T00:00:00Z')),
    ).toBe(undefined);
  });
});

describe('zonedToUtc', () => {
  it.each([
    [2026, 12, 7, 8, 'Europe/Berlin', '2026-12-07T07:00:00.000Z'],
    [2026, 7, 6, 8, 'Europe/Berlin', '2026-07-06T06:00:00.000Z'],
    [2026, 7, 6, 8, 'America/New_York', '2026-07-06T12:00:00.000Z'],
    [2026, 12, 7, 8, 'UTC', '2026-12-07T08:00:00.000Z'],
  ])('%i-%i-%i %i:00 in %s is %s', (y, m, d, h, zone, expected) => {
    expect(new Date(zonedToUtc(y, m, d, h, 0, 0, zone)).toISOString()).toBe(expected);
  });
});
