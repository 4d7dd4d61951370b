/**
 * Cron firings in an IANA time zone, computed on civil dates from the fields cron-parser expands.
 *
 * Why not cron-parser's own iteration: its `next()`/`prev()` disagree around DST transitions and `next()` even
 * depends on where it starts (see windows.ts and the pinned tests), and each step goes through luxon, about
 * 0.2 ms per firing. Here a firing is a wall-clock time (day, hour, minute matching the fields) mapped to an
 * instant, with explicit DST semantics (Vixie cron's, for fixed times):
 * - a wall time that does not exist (spring forward) fires shifted by the gap: 02:30 -> 03:30 on a 1 h gap;
 * - a wall time that exists twice (fall back) fires once, at its first occurrence;
 * - so every wall time fires exactly once per matching day, and firings are strictly increasing.
 * Day matching follows Unix cron: when both day-of-month and day-of-week are restricted a day matches either
 * (AWS cannot express that; schedule.ts refuses it); `L` in day-of-month is the month's last day.
 */
import type { CronExpression } from 'cron-parser';
import { ScheduleError } from './errors.ts';

const MINUTE = 60_000;
const QUARTER_HOUR = 15 * MINUTE;
const DAY = 86_400_000;

export interface CronFields {
  minutes: number[];
  hours: number[];
  /** Numeric days of month (1..31); with `lastDay` for `L`. */
  daysOfMonth: ReadonlySet<number>;
  lastDay: boolean;
  domRestricted: boolean;
  months: ReadonlySet<number>;
  /** 0 = Sunday .. 6 = Saturday (7 folded into 0). */
  daysOfWeek: ReadonlySet<number>;
  dowRestricted: boolean;
}

const nums = (values: readonly (number | string)[]): number[] =>
  values.filter((v): v is number => typeof v === 'number').sort((a, b) => a - b);

/** The expanded fields of a parsed 5-field expression; `raw` is the expression text (for the checks below). */
export function cronFields(expression: CronExpression, raw: string): CronFields {
  const f = expression.fields;
  const parts = raw.split(' ');
  const rawDom = parts[2] ?? '*';
  const rawDow = parts[4] ?? '*';
  // No day name contains L or #, so these can only be the nth/last-weekday operators; W is "nearest weekday".
  if (/[#L]/i.test(rawDow) || /W/i.test(rawDom)) {
    throw new ScheduleError(`cron "${raw}": L/#/W in day-of-week or W in day-of-month are not supported`);
  }
  const doms = nums(f.dayOfMonth.values);
  const lastDay = f.dayOfMonth.values.includes('L');
  const dows = new Set(nums(f.dayOfWeek.values).map((d) => d % 7));
  return {
    minutes: nums(f.minute.values),
    hours: nums(f.hour.values),
    daysOfMonth: new Set(doms),
    lastDay,
    // cron-parser's own notion (a `*` stays unrestricted even where it expands to 1..29 for February).
    domRestricted: lastDay || !f.dayOfMonth.isWildcard,
    months: new Set(nums(f.month.values)),
    daysOfWeek: dows,
    dowRestricted: !f.dayOfWeek.isWildcard,
  };
}

/** UTC offsets of one zone, cached per quarter hour (every tzdata transition falls on one). */
export class ZoneClock {
  readonly #format: Intl.DateTimeFormat;
  readonly #cache = new Map<number, number>();

  constructor(timeZone: string) {
    this.#format = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
  }

  /** local wall time - UTC, in ms, at instant t. */
  offset(t: number): number {
    const bucket = Math.floor(t / QUARTER_HOUR) * QUARTER_HOUR;
    let off = this.#cache.get(bucket);
    if (off === undefined) {
      const p: Record<string, number> = {};
      for (const part of this.#format.formatToParts(new Date(bucket))) {
        if (part.type !== 'literal') p[part.type] = Number(part.value);
      }
      const wall = Date.UTC(p.year ?? 1970, (p.month ?? 1) - 1, p.day ?? 1, p.hour ?? 0, p.minute ?? 0, p.second ?? 0);
      off = wall - bucket;
      if (this.#cache.size > 100_000) this.#cache.clear();
      this.#cache.set(bucket, off);
    }
    return off;
  }

  /** The local civil date (as a UTC midnight timestamp) at instant t. */
  localDay(t: number): number {
    return Math.floor((t + this.offset(t)) / DAY) * DAY;
  }

  /**
   * The instant a wall time (as if it were UTC) happens: the first occurrence when it happens twice, shifted by
   * the gap when it does not happen (interpreted with the offset in force before the transition).
   */
  instantOf(wall: number): number {
    const before = this.offset(wall - DAY);
    const after = this.offset(wall + DAY);
    const a = wall - before;
    const b = wall - after;
    const aOk = this.offset(a) === before;
    const bOk = this.offset(b) === after;
    if (aOk && bOk) return Math.min(a, b);
    if (aOk) return a;
    if (bOk) return b;
    return a;
  }
}

const clocks = new Map<string, ZoneClock>();
export function zoneClock(tz: string): ZoneClock {
  let c = clocks.get(tz);
  if (c === undefined) {
    c = new ZoneClock(tz);
    clocks.set(tz, c);
  }
  return c;
}

function dayMatches(f: CronFields, day: number): boolean {
  const d = new Date(day);
  if (!f.months.has(d.getUTCMonth() + 1)) return false;
  const dom = d.getUTCDate();
  const domOk = !f.domRestricted || f.daysOfMonth.has(dom) || (f.lastDay && new Date(day + DAY).getUTCDate() === 1);
  const dowOk = f.daysOfWeek.has(d.getUTCDay());
  if (f.domRestricted && f.dowRestricted) return domOk || dowOk;
  return domOk && dowOk;
}

/** DST shifts are at most 2 h: civil days from (t - 3 h) local cover every firing near t. */
const SLACK = 3 * 60 * MINUTE;
/** How far back a latest firing is searched (a Feb 29 cron fires at least every 8 years). */
const MAX_LOOKBACK_DAYS = 8 * 366 + 2;

/** Firings strictly after `after` and at or before `until`, ascending, at most `cap`. */
export function cronFiringsBetween(
  f: CronFields,
  clock: ZoneClock,
  after: number,
  until: number,
  cap: number,
): number[] {
  const out: number[] = [];
  if (until <= after) return out;
  const lastDay = clock.localDay(until) + DAY;
  let last = Number.NEGATIVE_INFINITY;
  for (let day = clock.localDay(after - SLACK); day <= lastDay; day += DAY) {
    if (!dayMatches(f, day)) continue;
    for (const h of f.hours) {
      for (const m of f.minutes) {
        const t = clock.instantOf(day + h * 3_600_000 + m * MINUTE);
        if (t <= last) continue; // a skipped wall time shifted onto one that exists: fires once
        last = t;
        if (t <= after) continue;
        if (t > until) return out;
        out.push(t);
        if (out.length >= cap) return out;
      }
    }
  }
  return out;
}

/** The latest firing at or before t, or undefined when none within MAX_LOOKBACK_DAYS. */
export function cronLatestAtOrBefore(f: CronFields, clock: ZoneClock, t: number): number | undefined {
  const start = clock.localDay(t + SLACK);
  for (let i = 0, day = start; i <= MAX_LOOKBACK_DAYS; i++, day -= DAY) {
    if (!dayMatches(f, day)) continue;
    // The day's firings (DST shifts included); the last one at or before t wins.
    let best: number | undefined;
    let last = Number.NEGATIVE_INFINITY;
    for (const h of f.hours) {
      for (const m of f.minutes) {
        const x = clock.instantOf(day + h * 3_600_000 + m * MINUTE);
        if (x <= last) continue;
        last = x;
        if (x <= t) best = x;
        else break;
      }
    }
    if (best !== undefined) return best;
  }
  return undefined;
}
