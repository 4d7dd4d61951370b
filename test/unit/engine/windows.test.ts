import { CronExpressionParser } from 'cron-parser';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Window } from '../../../src/api/schema.ts';
import {
  compileWindows,
  DAY_MS,
  desiredAt,
  firingsBetween,
  HOUR_MS,
  integrateValueSeconds,
  isOpenAt,
  latestAtOrBefore,
  nextChange,
  parseCron,
  ScheduleError,
  timeline,
} from '../../../src/engine/windows.ts';

const T = (iso: string) => Date.parse(iso);
const iso = (t: number | undefined) => (t === undefined ? undefined : new Date(t).toISOString());

function openAt(w: Window, at: string): boolean {
  const [compiled] = compileWindows([w]);
  return isOpenAt(compiled as NonNullable<typeof compiled>, T(at));
}

describe('cron-parser 5.10 quirks this engine works around', () => {
  const prevs = (expr: string, tz: string, from: string, n: number) => {
    const it = CronExpressionParser.parse(expr, { currentDate: new Date(from), tz });
    return Array.from({ length: n }, () => it.prev().toISOString());
  };
  it('prev() skips a spring-forward day that next() fires on (America/New_York 2026-03-08)', () => {
    expect(prevs('30 2 * * *', 'America/New_York', '2026-03-09T12:00:00Z', 2)).toEqual([
      '2026-03-09T06:30:00.000Z',
      '2026-03-07T07:30:00.000Z',
    ]);
    const spec = parseCron('30 2 * * *', 'America/New_York');
    expect(firingsBetween(spec, T('2026-03-07T12:00:00Z'), T('2026-03-09T12:00:00Z')).map(iso)).toEqual([
      '2026-03-08T07:30:00.000Z', // 03:30 EDT: shifted by the skipped hour
      '2026-03-09T06:30:00.000Z',
    ]);
  });
  it('prev() yields a fixed time twice in the fall-back hour, next() once', () => {
    expect(prevs('30 1 * * *', 'America/New_York', '2026-11-01T12:00:00Z', 2)).toEqual([
      '2026-11-01T06:30:00.000Z',
      '2026-11-01T05:30:00.000Z',
    ]);
    const spec = parseCron('30 1 * * *', 'America/New_York');
    expect(firingsBetween(spec, T('2026-10-31T12:00:00Z'), T('2026-11-01T12:00:00Z')).map(iso)).toEqual([
      '2026-11-01T05:30:00.000Z', // 01:30 EDT, the first occurrence only
    ]);
  });
  it('prev() is strictly before currentDate', () => {
    expect(prevs('0 8 * * *', 'UTC', '2026-01-01T08:00:00Z', 1)).toEqual(['2025-12-31T08:00:00.000Z']);
  });
});

describe('latestAtOrBefore (next()-consistent)', () => {
  it.each([
    ['at a firing it returns that firing', '0 8 * * *', 'UTC', '2026-01-01T08:00:00Z', '2026-01-01T08:00:00.000Z'],
    ['just before it returns the previous day', '0 8 * * *', 'UTC', '2026-01-01T07:59:59Z', '2025-12-31T08:00:00.000Z'],
    [
      'after a spring-forward shift it sees the shifted firing',
      '30 2 * * *',
      'America/New_York',
      '2026-03-08T08:00:00Z',
      '2026-03-08T07:30:00.000Z',
    ],
    [
      'in the repeated hour it returns the single (first) occurrence',
      '30 1 * * *',
      'America/New_York',
      '2026-11-01T06:45:00Z',
      '2026-11-01T05:30:00.000Z',
    ],
    [
      'Berlin spring forward, skipped 02:30 fires 03:30 CEST',
      '30 2 * * *',
      'Europe/Berlin',
      '2026-03-29T02:00:00Z',
      '2026-03-29T01:30:00.000Z',
    ],
  ])('%s', (_title, expr, tz, at, expected) => {
    expect(iso(latestAtOrBefore(parseCron(expr, tz), T(at)))).toBe(expected);
  });
});

describe('firingsBetween does not depend on where the query starts', () => {
  it.each([
    ['30 2 * * *', 'Europe/Berlin', '2026-03-28T00:00:00Z'],
    ['30 2 * * *', 'Europe/Berlin', '2026-10-24T00:00:00Z'],
    ['30 1 * * *', 'America/New_York', '2026-10-31T00:00:00Z'],
    ['30 2 * * *', 'America/New_York', '2026-03-07T00:00:00Z'],
    ['*/20 1-3 * * *', 'America/New_York', '2026-10-31T00:00:00Z'],
    ['*/20 1-3 * * *', 'Europe/Berlin', '2026-03-28T00:00:00Z'],
  ])('%s in %s around the transition after %s', (expr, tz, from) => {
    const spec = parseCron(expr, tz);
    const start = T(from);
    const end = start + 3 * DAY_MS;
    const all = firingsBetween(spec, start, end);
    for (let after = start; after < end - DAY_MS; after += 20 * 60_000) {
      expect(firingsBetween(spec, after, end)).toEqual(all.filter((t) => t > after));
    }
  });
});

describe('cron.ts agrees with cron-parser next() away from DST transitions', () => {
  const field = (...xs: string[]) => fc.constantFrom(...xs);
  const cron = fc
    .tuple(
      field('0', '30', '*/15', '5-10', '0,45', '*/7', '59'),
      field('*', '8', '0-5', '*/6', '22,23', '12'),
      field('*', '1', '15-20', 'L', '*/10', '31', '29'),
      field('*', '2', '1-3', 'JAN,dec', '*/4', '11'),
      field('*', '1-5', '0', '7', 'SAT,sun', '*/2', '3'),
    )
    .map((parts) => parts.join(' '));
  it('same firings for 40 days (UTC, Asia/Tokyo, Europe/Berlin in winter, America/New_York in summer)', () => {
    fc.assert(
      fc.property(
        cron,
        fc.constantFrom(
          ['UTC', '2026-01-05T00:00:00Z'],
          ['Asia/Tokyo', '2026-03-01T00:00:00Z'],
          ['Europe/Berlin', '2026-11-05T00:00:00Z'],
          ['America/New_York', '2026-05-01T00:00:00Z'],
          ['Asia/Kolkata', '2028-02-10T00:00:00Z'],
        ),
        (expr, [tz, from]) => {
          const start = T(from as string);
          const end = start + 40 * DAY_MS;
          let it: ReturnType<typeof CronExpressionParser.parse>;
          try {
            it = CronExpressionParser.parse(expr, { tz: tz as string, currentDate: new Date(start) });
          } catch {
            expect(() => parseCron(expr, tz)).toThrowError(ScheduleError); // e.g. day 31 in November only
            return;
          }
          const expected: number[] = [];
          for (let t = it.next().getTime(); t <= end && expected.length < 2000; t = it.next().getTime())
            expected.push(t);
          expect(firingsBetween(parseCron(expr, tz), start, end, 2000)).toEqual(expected);
        },
      ),
      { numRuns: 100 },
    );
  }, 120_000);
});

describe('parseCron', () => {
  it.each([
    ['0 8 * * *', 'Mars/Olympus', /unknown time zone/],
    ['0 8 * * *', 'US/Eastern', /alias of America\/New_York/],
    ['0 8 * *', 'UTC', /5 fields/],
    ['0 0 8 * * *', 'UTC', /5 fields/],
    ['@daily', 'UTC', /5 fields/],
    ['61 8 * * *', 'UTC', /invalid cron/],
    ['x y z a b', 'UTC', /invalid cron/],
    ['0 0 30 2 *', 'UTC', /invalid cron/],
  ])('%s in %s is refused', (expr, tz, message) => {
    expect(() => parseCron(expr, tz)).toThrowError(ScheduleError);
    expect(() => parseCron(expr, tz)).toThrowError(message);
  });
  it('accepts extra whitespace', () => {
    expect(parseCron(' 0  8 * * 1-5 ', 'UTC').expr).toBe('0 8 * * 1-5');
  });
});

const business: Window = {
  name: 'business',
  start: '0 8 * * 1-5',
  end: '0 19 * * 1-5',
  timezone: 'Europe/Berlin',
  value: 20,
};

describe('open-window rule across DST', () => {
  it.each([
    // Europe/Berlin spring forward: Sun 2026-03-29 02:00 CET -> 03:00 CEST
    ['Fri before spring forward, 08:30 CET', business, '2026-03-27T07:30:00Z', true],
    ['Fri before spring forward, 07:30 CET', business, '2026-03-27T06:30:00Z', false],
    ['Mon after spring forward, 08:30 CEST', business, '2026-03-30T06:30:00Z', true],
    ['Mon after spring forward, 07:30 CEST (08:30 in winter time)', business, '2026-03-30T05:30:00Z', false],
    ['Mon after spring forward, 18:30 CEST', business, '2026-03-30T16:30:00Z', true],
    ['Mon after spring forward, 19:30 CEST', business, '2026-03-30T17:30:00Z', false],
    ['weekend stays closed', business, '2026-03-29T10:00:00Z', false],
    // Europe/Berlin fall back: Sun 2026-10-25 03:00 CEST -> 02:00 CET
    ['Fri before fall back, 08:30 CEST', business, '2026-10-23T06:30:00Z', true],
    ['Mon after fall back, 07:30 CET', business, '2026-10-26T06:30:00Z', false],
    ['Mon after fall back, 08:30 CET', business, '2026-10-26T07:30:00Z', true],
    ['Mon after fall back, 18:30 CET', business, '2026-10-26T17:30:00Z', true],
    ['Mon after fall back, 19:30 CET', business, '2026-10-26T18:30:00Z', false],
  ])('%s', (_title, w, at, expected) => {
    expect(openAt(w, at)).toBe(expected);
  });

  const nyNight: Window = {
    name: 'early',
    start: '0 1 * * *',
    end: '0 3 * * *',
    timezone: 'America/New_York',
    value: 5,
  };
  it.each([
    // America/New_York spring forward: Sun 2026-03-08 02:00 EST -> 03:00 EDT; the window lasts one real hour
    ['spring forward: 01:30 EST', '2026-03-08T06:30:00Z', true],
    ['spring forward: 03:05 EDT (one real hour after 01:00 EST)', '2026-03-08T07:05:00Z', false],
    // America/New_York fall back: Sun 2026-11-01 02:00 EDT -> 01:00 EST; the window lasts three real hours
    ['fall back: 01:30 EDT', '2026-11-01T05:30:00Z', true],
    ['fall back: 01:30 EST (the repeated hour)', '2026-11-01T06:30:00Z', true],
    ['fall back: 02:30 EST', '2026-11-01T07:30:00Z', true],
    ['fall back: 03:05 EST', '2026-11-01T08:05:00Z', false],
  ])('America/New_York %s', (_title, at, expected) => {
    expect(openAt(nyNight, at)).toBe(expected);
  });

  it('a start in the skipped hour fires when the clock has jumped (Berlin 02:30 -> 03:30 CEST)', () => {
    const w: Window = { name: 'dawn', start: '30 2 * * *', end: '0 4 * * *', timezone: 'Europe/Berlin', value: 3 };
    expect(openAt(w, '2026-03-29T01:15:00Z')).toBe(false); // 03:15 CEST
    expect(openAt(w, '2026-03-29T01:45:00Z')).toBe(true); // 03:45 CEST
    expect(openAt(w, '2026-03-29T02:05:00Z')).toBe(false); // 04:05 CEST
  });

  it('a start in the repeated hour fires once, at its first occurrence (Berlin fall back)', () => {
    const w: Window = { name: 'dawn', start: '30 2 * * *', end: '0 3 * * *', timezone: 'Europe/Berlin', value: 3 };
    expect(openAt(w, '2026-10-25T00:15:00Z')).toBe(false); // 02:15 CEST
    expect(openAt(w, '2026-10-25T00:45:00Z')).toBe(true); // 02:45 CEST
    expect(openAt(w, '2026-10-25T01:45:00Z')).toBe(true); // 02:45 CET, still open: 03:00 CET has not come
    expect(openAt(w, '2026-10-25T02:05:00Z')).toBe(false); // 03:05 CET
  });
});

describe('windows crossing midnight and weekly windows', () => {
  const night: Window = { name: 'night', start: '0 22 * * *', end: '0 6 * * *', value: 4 };
  it.each([
    ['21:59', '2026-12-01T21:59:00Z', false],
    ['22:00 (start firing itself)', '2026-12-01T22:00:00Z', true],
    ['23:30', '2026-12-01T23:30:00Z', true],
    ['03:00 next day', '2026-12-02T03:00:00Z', true],
    ['06:00 (end firing itself)', '2026-12-02T06:00:00Z', false],
    ['12:00', '2026-12-02T12:00:00Z', false],
  ])('night window at %s', (_title, at, expected) => {
    expect(openAt(night, at)).toBe(expected);
  });

  const weekend: Window = {
    name: 'weekend',
    start: '0 18 * * 5',
    end: '0 6 * * 1',
    timezone: 'Europe/Berlin',
    value: 8,
  };
  it.each([
    ['Fri 17:00 CET', '2026-12-04T16:00:00Z', false],
    ['Fri 19:00 CET', '2026-12-04T18:00:00Z', true],
    ['Sat noon', '2026-12-05T11:00:00Z', true],
    ['Sun 23:00', '2026-12-06T22:00:00Z', true],
    ['Mon 05:59 CET', '2026-12-07T04:59:00Z', true],
    ['Mon 07:00 CET', '2026-12-07T06:00:00Z', false],
    ['Wed', '2026-12-09T12:00:00Z', false],
    // the fall-back weekend: Fri 18:00 CEST = 16:00Z, Mon 06:00 CET = 05:00Z
    ['Fri 18:30 CEST before fall back', '2026-10-23T16:30:00Z', true],
    ['Mon 05:30 CET after fall back', '2026-10-26T04:30:00Z', true],
    ['Mon 06:30 CET after fall back', '2026-10-26T05:30:00Z', false],
  ])('weekend window at %s', (_title, at, expected) => {
    expect(openAt(weekend, at)).toBe(expected);
  });

  it('start and end firing at the same instant leave the window closed', () => {
    const same: Window = { name: 'zero', start: '0 8 * * *', end: '0 8 * * *', value: 9 };
    expect(openAt(same, '2026-12-01T08:00:00Z')).toBe(false);
    expect(openAt(same, '2026-12-01T12:00:00Z')).toBe(false);
  });
});

describe('desiredAt / timeline / nextChange', () => {
  const block = { value: 2, windows: [business] };
  it('desired value is the open window value, else the block value', () => {
    expect(desiredAt(block, T('2026-12-01T09:00:00Z'))).toEqual({ value: 20, window: 'business' });
    expect(desiredAt(block, T('2026-12-01T19:00:00Z'))).toEqual({ value: 2 });
  });

  it('next change: Tuesday 10:00 -> 19:00 the same day, to the block value', () => {
    const tl = timeline(block, compileWindows(block.windows), T('2026-12-01T09:00:00Z'));
    expect(nextChange(tl)).toEqual({ at: T('2026-12-01T18:00:00Z'), value: 2 });
  });

  it('next change on Friday evening is Monday 08:00', () => {
    const tl = timeline(block, compileWindows(block.windows), T('2026-12-04T20:00:00Z'));
    expect(nextChange(tl)).toEqual({ at: T('2026-12-07T07:00:00Z'), value: 20 });
  });

  it('next change skips edges that do not change the value', () => {
    const b = {
      value: 5,
      windows: [
        { ...business, value: 5 },
        { name: 'night', start: '0 22 * * *', end: '0 23 * * *', value: 7 },
      ],
    };
    const tl = timeline(b, compileWindows(b.windows), T('2026-12-01T09:00:00Z'));
    expect(nextChange(tl)).toEqual({ at: T('2026-12-01T22:00:00Z'), value: 7 });
  });

  it('records the latest edge at or before now (for the grace period)', () => {
    const tl = timeline(block, compileWindows(block.windows), T('2026-12-01T07:01:00Z'));
    expect(tl.lastEdge).toBe(T('2026-12-01T07:00:00Z'));
  });

  it('no overlap for adjacent windows (one ends as the next starts)', () => {
    const ws: Window[] = [
      { name: 'morning', start: '0 8 * * *', end: '0 12 * * *', value: 5 },
      { name: 'afternoon', start: '0 12 * * *', end: '0 18 * * *', value: 6 },
    ];
    expect(timeline({ value: 1 }, compileWindows(ws), T('2026-12-01T00:00:00Z')).overlap).toBeUndefined();
  });

  it('detects overlapping windows at the first minute both are open', () => {
    const ws: Window[] = [
      business,
      { name: 'lunch', start: '0 12 * * *', end: '0 14 * * *', timezone: 'Europe/Berlin', value: 40 },
    ];
    const tl = timeline({ value: 1 }, compileWindows(ws), T('2026-12-01T00:00:00Z'));
    expect(tl.overlap).toEqual({ at: T('2026-12-01T11:00:00Z'), windows: ['business', 'lunch'] });
  });

  it('detects an overlap already in progress at now', () => {
    const ws: Window[] = [
      business,
      { name: 'lunch', start: '0 12 * * *', end: '0 14 * * *', timezone: 'Europe/Berlin', value: 40 },
    ];
    const tl = timeline({ value: 1 }, compileWindows(ws), T('2026-12-01T12:00:00Z'));
    expect(tl.overlap?.at).toBe(T('2026-12-01T12:00:00Z'));
  });

  it('detects an overlap that first happens weeks ahead (within 5 weeks)', () => {
    const ws: Window[] = [
      { name: 'daily', start: '0 10 * * *', end: '0 11 * * *', value: 5 },
      { name: 'month-end', start: '30 10 28 * *', end: '45 10 28 * *', value: 6 },
    ];
    const tl = timeline({ value: 1 }, compileWindows(ws), T('2026-12-01T00:00:00Z'));
    expect(iso(tl.overlap?.at)).toBe('2026-12-28T10:30:00.000Z');
  });

  it('weekly window and a weekday window only overlap if they share a minute', () => {
    const weekend: Window = {
      name: 'weekend',
      start: '0 18 * * 5',
      end: '0 6 * * 1',
      timezone: 'Europe/Berlin',
      value: 8,
    };
    // business closes Fri 19:00: a weekend from 19:00 touches it, one from 18:00 overlaps Fri 18:00-19:00
    const ok = timeline(
      { value: 1 },
      compileWindows([business, { ...weekend, start: '0 19 * * 5' }]),
      T('2026-12-01T00:00:00Z'),
    );
    expect(ok.overlap).toBeUndefined();
    const bad = timeline({ value: 1 }, compileWindows([weekend, business]), T('2026-12-01T00:00:00Z'));
    expect(bad.overlap).toEqual({ at: T('2026-12-04T17:00:00Z'), windows: ['weekend', 'business'] });
  });

  it('integrates value-seconds: a UTC 08-19 weekday window at 10 over a week, block 1', () => {
    const ws: Window[] = [{ name: 'w', start: '0 8 * * 1-5', end: '0 19 * * 1-5', value: 10 }];
    const now = T('2026-11-30T00:00:00Z'); // a Monday
    const tl = timeline({ value: 1 }, compileWindows(ws), now);
    const open = 5 * 11 * 3600;
    expect(integrateValueSeconds(tl, now, now + 7 * DAY_MS)).toBe(open * 10 + (7 * 24 * 3600 - open) * 1);
  });

  it('a window with no windows never changes', () => {
    const tl = timeline({ value: 3 }, [], T('2026-12-01T00:00:00Z'), HOUR_MS);
    expect(tl.segments).toEqual([
      { from: T('2026-12-01T00:00:00Z'), to: T('2026-12-01T01:00:00Z'), value: 3, open: [] },
    ]);
    expect(nextChange(tl)).toBeUndefined();
  });

  it('an every-minute window is bounded and still answers', () => {
    const ws: Window[] = [{ name: 'w', start: '* * * * *', end: '30 * * * *', value: 10 }];
    const tl = timeline({ value: 1 }, compileWindows(ws), T('2026-12-01T00:00:00Z'));
    expect(tl.until).toBeGreaterThan(T('2026-12-01T00:00:00Z'));
    expect(tl.segments.length).toBeGreaterThan(0);
  });
});
