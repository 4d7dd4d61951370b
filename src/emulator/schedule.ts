/**
 * Application Auto Scaling schedule expressions: `at(...)`, `rate(...)` and AWS's six-field `cron(...)`.
 * Parses and validates them the way PutScheduledAction does, and answers "when does this fire next after t?",
 * which drives the emulator's firing of scheduled actions on its own clock.
 *
 * AWS cron differs from Unix cron: a sixth Year field, `?` required in one of the day fields, and day-of-week
 * numbered 1=SUN..7=SAT. We translate to cron-parser's syntax (seconds first, 0=SUN) and filter years ourselves.
 */

import { CronExpressionParser } from 'cron-parser';
import { isCanonicalTimeZone } from '../shared/time-zones.ts';

export class ScheduleError extends Error {
  readonly code = 'InvalidSchedule';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ScheduleError';
  }
}

export type Schedule =
  | { kind: 'at'; at: number }
  | { kind: 'rate'; everyMs: number }
  | { kind: 'cron'; expression: string; timezone: string; years: YearFilter };

interface YearFilter {
  matches(year: number): boolean;
  /** The first allowed year >= `year`, or undefined when none is left. */
  nextAllowed(year: number): number | undefined;
}

const MIN_YEAR = 1970;
const MAX_YEAR = 2199;
const DAY_NAMES = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];

/** Application Auto Scaling takes the canonical IANA names (as Joda-Time knows them) only, never an alias. */
export function isValidTimezone(timezone: string): boolean {
  return isCanonicalTimeZone(timezone);
}

export function parseSchedule(expression: string, timezone = 'UTC'): Schedule {
  if (!isValidTimezone(timezone)) throw new ScheduleError(`Invalid timezone: ${timezone}`);
  const trimmed = expression.trim();
  const match = /^(at|rate|cron)\((.*)\)$/.exec(trimmed);
  if (!match) throw new ScheduleError(`Unsupported schedule expression: ${expression}`);
  const kind = match[1];
  const body = (match[2] ?? '').trim();
  if (kind === 'at') return { kind: 'at', at: parseAt(body, timezone) };
  if (kind === 'rate') return { kind: 'rate', everyMs: parseRate(body) };
  return parseCron(body, timezone);
}

function parseAt(body: string, timezone: string): number {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})$/.exec(body);
  if (!m) throw new ScheduleError(`Invalid at expression: at(${body}); expected at(yyyy-mm-ddThh:mm:ss)`);
  const [y, mo, d, h, mi, s] = m.slice(1).map(Number) as [number, number, number, number, number, number];
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 59) {
    throw new ScheduleError(`Invalid at expression: at(${body})`);
  }
  return zonedToUtc(y, mo, d, h, mi, s, timezone);
}

function parseRate(body: string): number {
  const m = /^(\d+)\s+(minute|minutes|hour|hours|day|days)$/.exec(body);
  if (!m) throw new ScheduleError(`Invalid rate expression: rate(${body}); expected rate(value unit)`);
  const value = Number(m[1]);
  if (value < 1) throw new ScheduleError(`Invalid rate expression: rate(${body}); value must be positive`);
  const unit = m[2] ?? '';
  const unitMs = unit.startsWith('minute') ? 60_000 : unit.startsWith('hour') ? 3_600_000 : 86_400_000;
  return value * unitMs;
}

function parseCron(body: string, timezone: string): Schedule {
  const fields = body.split(/\s+/);
  if (fields.length !== 6) {
    throw new ScheduleError(`Invalid cron expression: cron(${body}); expected 6 fields (min hour dom month dow year)`);
  }
  const [minute, hour, dom, month, dow, year] = fields as [string, string, string, string, string, string];
  if ((dom === '?') === (dow === '?')) {
    throw new ScheduleError(
      `Invalid cron expression: cron(${body}); use ? in exactly one of the day-of-month and day-of-week fields`,
    );
  }
  const years = parseYears(year, body);
  const expression = `0 ${minute} ${hour} ${dom === '?' ? '*' : dom} ${month} ${dow === '?' ? '*' : translateDayOfWeek(dow, body)}`;
  try {
    CronExpressionParser.parse(expression, { tz: timezone, strict: false });
  } catch (cause) {
    throw new ScheduleError(`Invalid cron expression: cron(${body})`, { cause });
  }
  return { kind: 'cron', expression, timezone, years };
}

/** AWS numbers days 1=SUN..7=SAT; cron-parser 0=SUN..6=SAT. Steps (after `/`) and nth (after `#`) stay as they are. */
function translateDayOfWeek(field: string, body: string): string {
  const translateDay = (token: string): string => {
    const upper = token.toUpperCase();
    const named = DAY_NAMES.indexOf(upper);
    if (named >= 0) return String(named);
    if (!/^\d+$/.test(token))
      throw new ScheduleError(`Invalid cron expression: cron(${body}); bad day-of-week ${token}`);
    const n = Number(token);
    if (n < 1 || n > 7) throw new ScheduleError(`Invalid cron expression: cron(${body}); day-of-week must be 1-7`);
    return String(n - 1);
  };
  return field
    .split(',')
    .map((part) => {
      if (part === '*' || part === 'L') return part === 'L' ? '6' : part;
      const [range = '', step] = part.split('/');
      let translated: string;
      if (range.includes('#')) {
        const [day = '', nth = ''] = range.split('#');
        translated = `${translateDay(day)}#${nth}`;
      } else if (/^[^-]+L$/.test(range)) {
        translated = `${translateDay(range.slice(0, -1))}L`;
      } else if (range === '*') {
        translated = '*';
      } else {
        translated = range.split('-').map(translateDay).join('-');
      }
      return step === undefined ? translated : `${translated}/${step}`;
    })
    .join(',');
}

function parseYears(field: string, body: string): YearFilter {
  if (field === '*' || field === '?') {
    return { matches: () => true, nextAllowed: (y) => (y <= MAX_YEAR ? y : undefined) };
  }
  const allowed = new Set<number>();
  for (const part of field.split(',')) {
    const m = /^(\d{4})(?:-(\d{4}))?(?:\/(\d+))?$/.exec(part);
    if (!m) throw new ScheduleError(`Invalid cron expression: cron(${body}); bad year field ${field}`);
    const from = Number(m[1]);
    const to = m[2] ? Number(m[2]) : m[3] ? MAX_YEAR : from;
    const step = m[3] ? Number(m[3]) : 1;
    if (from < MIN_YEAR || to > MAX_YEAR || from > to || step < 1) {
      throw new ScheduleError(`Invalid cron expression: cron(${body}); year out of range ${MIN_YEAR}-${MAX_YEAR}`);
    }
    for (let y = from; y <= to; y += step) allowed.add(y);
  }
  const sorted = [...allowed].sort((a, b) => a - b);
  return {
    matches: (y) => allowed.has(y),
    nextAllowed: (y) => sorted.find((candidate) => candidate >= y),
  };
}

/** DST shifts are at most 2 h anywhere: iterating from 3 h before a point makes the firings independent of it. */
const DST_SLACK_MS = 3 * 3_600_000;

/**
 * Cron firings in (afterMs, untilMs], in order. cron-parser's `next()` is not self-consistent around DST changes
 * (started inside or just after a shifted hour it skips or repeats firings it yields when started earlier), so every
 * iteration starts DST_SLACK_MS early and drops what lies at or before `afterMs`.
 */
function* cronFirings(schedule: Extract<Schedule, { kind: 'cron' }>, afterMs: number, untilMs: number) {
  let start = afterMs - DST_SLACK_MS;
  for (let restarts = 0; restarts < 1000; restarts++) {
    const iterator = CronExpressionParser.parse(schedule.expression, {
      currentDate: new Date(start),
      tz: schedule.timezone,
    });
    let restarted = false;
    while (!restarted) {
      const candidate = iterator.next().getTime();
      if (candidate > untilMs) return;
      if (candidate <= afterMs) continue;
      const year = yearIn(candidate, schedule.timezone);
      if (schedule.years.matches(year)) {
        yield candidate;
        continue;
      }
      const nextYear = schedule.years.nextAllowed(year + 1);
      if (nextYear === undefined) return;
      // Jump to the first allowed year instead of walking every firing in between.
      start = zonedToUtc(nextYear, 1, 1, 0, 0, 0, schedule.timezone) - DST_SLACK_MS;
      restarted = true;
    }
  }
}

/**
 * The first firing strictly after `afterMs` and at or before `untilMs` (both epoch ms), or undefined.
 * `anchorMs` is where a rate schedule starts counting (the action's StartTime or creation time).
 */
export function nextFiring(schedule: Schedule, afterMs: number, untilMs: number, anchorMs = 0): number | undefined {
  if (schedule.kind === 'at') return schedule.at > afterMs && schedule.at <= untilMs ? schedule.at : undefined;
  if (schedule.kind === 'rate') {
    const periods = Math.floor((afterMs - anchorMs) / schedule.everyMs) + 1;
    const next = anchorMs + Math.max(1, periods) * schedule.everyMs;
    return next <= untilMs ? next : undefined;
  }
  for (const firing of cronFirings(schedule, afterMs, untilMs)) return firing;
  return undefined;
}

/** The last firing in (afterMs, untilMs] and how many there were (counting stops at `limit`). */
export function lastFiringIn(
  schedule: Schedule,
  afterMs: number,
  untilMs: number,
  anchorMs = 0,
  limit = 100_000,
): { last: number; count: number } | undefined {
  if (schedule.kind !== 'cron') {
    const first = nextFiring(schedule, afterMs, untilMs, anchorMs);
    if (first === undefined) return undefined;
    if (schedule.kind === 'at') return { last: first, count: 1 };
    const count = Math.floor((untilMs - first) / schedule.everyMs) + 1;
    return { last: first + (count - 1) * schedule.everyMs, count };
  }
  let last: number | undefined;
  let count = 0;
  for (const firing of cronFirings(schedule, afterMs, untilMs)) {
    last = firing;
    if (++count >= limit) break;
  }
  return last === undefined ? undefined : { last, count };
}

const formatters = new Map<string, Intl.DateTimeFormat>();

/** Intl formatters are costly to build; one per zone serves every firing. */
function formatterFor(timezone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(timezone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat('en-US', {
      timeZone: timezone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    formatters.set(timezone, formatter);
  }
  return formatter;
}

function yearIn(epochMs: number, timezone: string): number {
  const parts = formatterFor(timezone).formatToParts(epochMs);
  return Number(parts.find((p) => p.type === 'year')?.value);
}

/** Offset of `timezone` from UTC at the instant `epochMs`, in ms (positive east of Greenwich). */
function zoneOffsetMs(epochMs: number, timezone: string): number {
  const parts = formatterFor(timezone).formatToParts(epochMs);
  const get = (type: string) => Number(parts.find((p) => p.type === type)?.value);
  const asUtc = Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'), get('second'));
  return asUtc - Math.floor(epochMs / 1000) * 1000;
}

/** The UTC instant of a wall-clock time in `timezone` (DST gaps resolve forward, like most schedulers). */
export function zonedToUtc(
  year: number,
  month: number,
  day: number,
  hour: number,
  minute: number,
  second: number,
  timezone: string,
): number {
  const wall = Date.UTC(year, month - 1, day, hour, minute, second);
  const first = wall - zoneOffsetMs(wall, timezone);
  const second_ = wall - zoneOffsetMs(first, timezone);
  return second_;
}
