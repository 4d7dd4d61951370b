/**
 * Provisioned-concurrency windows in time: when a cron fires (in an IANA time zone, DST-correct), whether a window is
 * open at an instant, the desired value at an instant, the next change, and overlapping windows.
 *
 * The rule: a window is open at t iff its latest start firing at or before t is later than its latest end firing at
 * or before t. When start and end fire at the same instant the window is closed there (the end wins: a zero-length
 * window). Across windows the rule needs no tie-break, because at most one window may be open.
 *
 * cron-parser (v5.10) is used to parse and expand the fields only; firings are computed in cron.ts, because its
 * iteration has DST bugs (tests in test/unit/engine/windows.test.ts pin them):
 * - `prev()` and `next()` disagree around DST transitions. On a spring-forward day `next()` fires a time inside the
 *   skipped hour shifted by the gap (02:30 -> 03:30 local), while `prev()` skips that day entirely; in the repeated
 *   fall-back hour `next()` fires a fixed time once (the first occurrence) while `prev()` yields both.
 * - `next()` is not self-consistent either: started after a spring-forward gap (or inside a repeated fall-back
 *   hour) it skips the shifted firing (or yields the second occurrence) that it produces when started earlier.
 * - `prev()` is strictly before `currentDate`; an unknown time zone is only rejected when iterating; 6-field
 *   (seconds) and `@daily`-style expressions are accepted although the schema says 5 fields.
 * - Iterating goes through luxon at about 0.2 ms per firing, too slow for hundreds of distinct schedules.
 * cron.ts keeps next()'s intended semantics (skipped times shifted by the gap, repeated times once) for every
 * start point, and the field count and the zone (Intl) are checked here.
 */

import { CronExpressionParser } from 'cron-parser';
import type { Window } from '../api/schema.ts';
import { canonicalTimeZoneFor } from '../shared/time-zones.ts';
import {
  type CronFields,
  cronFields,
  cronFiringsBetween,
  cronLatestAtOrBefore,
  type ZoneClock,
  zoneClock,
} from './cron.ts';
import { ScheduleError } from './errors.ts';

export { ScheduleError } from './errors.ts';

export const MINUTE_MS = 60_000;
export const HOUR_MS = 60 * MINUTE_MS;
export const DAY_MS = 24 * HOUR_MS;
/** How far ahead windows are simulated: overlap detection and next change look 5 weeks ahead. */
export const OVERLAP_HORIZON_MS = 35 * DAY_MS;
/** Bound on firings per cron and horizon, so a `* * * * *` window cannot make planning slow. */
const MAX_FIRINGS = 5_000;

export interface CronSpec {
  expr: string;
  tz: string;
  fields: CronFields;
  clock: ZoneClock;
}

const zoneCache = new Map<string, boolean>();

export function isValidTimeZone(tz: string): boolean {
  let ok = zoneCache.get(tz);
  if (ok === undefined) {
    try {
      zoneClock(tz); // its Intl.DateTimeFormat throws RangeError for an unknown zone
      ok = true;
    } catch {
      ok = false;
    }
    zoneCache.set(tz, ok);
  }
  return ok;
}

const specCache = new Map<string, CronSpec | ScheduleError>();

/** Parses a 5-field cron in a time zone; throws ScheduleError with a message a user can act on. */
export function parseCron(expr: string, tz = 'UTC'): CronSpec {
  const key = `${expr}\u0000${tz}`;
  let spec = specCache.get(key);
  if (spec === undefined) {
    spec = parseUncached(expr, tz);
    specCache.set(key, spec);
  }
  if (spec instanceof ScheduleError) throw spec;
  return spec;
}

function parseUncached(expr: string, tz: string): CronSpec | ScheduleError {
  const fields = expr.trim().split(/\s+/);
  if (fields.length !== 5) {
    return new ScheduleError(`cron "${expr}" must have 5 fields (minute hour day-of-month month day-of-week)`);
  }
  if (!isValidTimeZone(tz)) return new ScheduleError(`unknown time zone "${tz}"`);
  // Application Auto Scaling carries the window and takes canonical names only: an alias could never be scheduled.
  const canonical = canonicalTimeZoneFor(tz);
  if (canonical !== undefined)
    return new ScheduleError(`time zone "${tz}" is an alias of ${canonical}: use "${canonical}"`);
  const normalized = fields.join(' ');
  try {
    // Parsed in UTC: only the expanded fields are used (firings come from cron.ts in the window's zone).
    const expression = CronExpressionParser.parse(normalized, { currentDate: 0 });
    return { expr: normalized, tz, fields: cronFields(expression, normalized), clock: zoneClock(tz) };
  } catch (cause) {
    if (cause instanceof ScheduleError) return cause;
    return new ScheduleError(`invalid cron "${expr}": ${cause instanceof Error ? cause.message : String(cause)}`, {
      cause,
    });
  }
}

/** Firings strictly after `after` and at or before `until`, at most `cap` of them. */
export function firingsBetween(spec: CronSpec, after: number, until: number, cap = MAX_FIRINGS): number[] {
  return cronFiringsBetween(spec.fields, spec.clock, after, until, cap);
}

/** The latest firing at or before t. */
export function latestAtOrBefore(spec: CronSpec, t: number): number | undefined {
  return cronLatestAtOrBefore(spec.fields, spec.clock, t);
}

interface CronRange {
  /** Latest firing at or before `from`. */
  latest: number | undefined;
  from: number;
  /** Firings in (from, until], ascending. */
  firings: number[];
  until: number;
  /** true when MAX_FIRINGS cut the range short (`until` is then the last firing known). */
  capped: boolean;
}

/**
 * Known firings per cron+zone, extended forward as `now` advances: every policy sharing a schedule and every
 * re-plan (the controller's next cycle) reuses them, so cron-parser (slow: time-zone maths through luxon) runs
 * only for new time. Entries are keyed by expression and zone, so the cache is bounded by the distinct schedules.
 */
const rangeCache = new Map<string, CronRange>();
const RANGE_CACHE_LIMIT = 2_048;
const CACHE_HORIZON_MS = OVERLAP_HORIZON_MS + DAY_MS;
/** Extend by a week more than needed, so hourly re-plans extend rarely. */
const EXTEND_SLACK_MS = 7 * DAY_MS;

function build(spec: CronSpec, from: number, until: number): CronRange {
  const firings = firingsBetween(spec, from, until);
  const capped = firings.length >= MAX_FIRINGS;
  return {
    latest: latestAtOrBefore(spec, from),
    from,
    firings,
    until: capped ? (firings[firings.length - 1] as number) : until,
    capped,
  };
}

function cronRange(spec: CronSpec, t: number): CronRange {
  const key = `${spec.expr}\u0000${spec.tz}`;
  const need = t + CACHE_HORIZON_MS;
  let r = rangeCache.get(key);
  if (r !== undefined && (t < r.from || t > r.until)) r = undefined;
  if (r !== undefined && r.until < need && !r.capped) {
    // Drop what lies before t (keeping the latest firing at or before t) and extend forward.
    const i = upperBound(r.firings, t);
    const latest = i > 0 ? r.firings[i - 1] : r.latest;
    const more = firingsBetween(spec, r.until, need + EXTEND_SLACK_MS, MAX_FIRINGS);
    const firings = r.firings.slice(i).concat(more);
    const capped = firings.length >= MAX_FIRINGS || more.length >= MAX_FIRINGS;
    r = {
      latest,
      from: t,
      firings,
      until: capped ? (firings[firings.length - 1] as number) : need + EXTEND_SLACK_MS,
      capped,
    };
    rangeCache.set(key, r);
  }
  if (r === undefined) {
    r = build(spec, t, need + EXTEND_SLACK_MS);
    if (rangeCache.size >= RANGE_CACHE_LIMIT) {
      const oldest = rangeCache.keys().next().value;
      if (oldest !== undefined) rangeCache.delete(oldest);
    }
    rangeCache.set(key, r);
  }
  return r;
}

/** Index of the first element > t in an ascending array. */
function upperBound(a: readonly number[], t: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((a[mid] as number) <= t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Latest firing at or before t and the firings in (t, until], from the cache. */
function around(
  spec: CronSpec,
  t: number,
  until = t,
): { latest: number | undefined; after: number[]; coveredUntil: number } {
  const r = cronRange(spec, t);
  const i = upperBound(r.firings, t);
  const j = until > t ? upperBound(r.firings, until) : i;
  return { latest: i > 0 ? r.firings[i - 1] : r.latest, after: r.firings.slice(i, j), coveredUntil: r.until };
}

export interface CompiledWindow {
  name: string;
  value: number;
  timezone: string;
  start: CronSpec;
  end: CronSpec;
}

export interface BlockLike {
  value: number;
  windows?: Window[];
}

/** Parses every window of a block; throws ScheduleError naming the window. */
export function compileWindows(windows: readonly Window[] | undefined): CompiledWindow[] {
  return (windows ?? []).map((w) => {
    const timezone = w.timezone ?? 'UTC';
    try {
      return {
        name: w.name,
        value: w.value,
        timezone,
        start: parseCron(w.start, timezone),
        end: parseCron(w.end, timezone),
      };
    } catch (cause) {
      if (cause instanceof ScheduleError) throw new ScheduleError(`window ${w.name}: ${cause.message}`, { cause });
      throw cause;
    }
  });
}

/** The open-window rule for one window at t. */
export function isOpenAt(w: CompiledWindow, t: number): boolean {
  const s = around(w.start, t).latest;
  const e = around(w.end, t).latest;
  return s !== undefined && (e === undefined || s > e);
}

export interface Segment {
  from: number;
  to: number;
  value: number;
  /** Names of the windows open in this segment, in declaration order. */
  open: string[];
}

export interface Timeline {
  /** Contiguous segments from `now` to `until`, one per distinct edge time. */
  segments: Segment[];
  until: number;
  /** The first instant two or more windows are open, if any within the horizon. */
  overlap?: { at: number; windows: string[] };
  /** The latest window edge (any start or end firing) at or before now. */
  lastEdge?: number;
}

/**
 * Simulates a block's windows from `now` for `horizonMs`. Value of a segment: the open window's value, else the
 * block's value; where windows overlap (a refusal elsewhere), the first open window in declaration order.
 */
export function timeline(
  block: { value: number },
  windows: readonly CompiledWindow[],
  now: number,
  horizonMs = OVERLAP_HORIZON_MS,
): Timeline {
  let until = now + horizonMs;
  let lastEdge: number | undefined;
  const open = windows.map(() => false);
  // events[time] -> per window: 1 start, 2 end, 3 both
  const events = new Map<number, Map<number, number>>();
  windows.forEach((w, i) => {
    const s = around(w.start, now, now + horizonMs);
    const e = around(w.end, now, now + horizonMs);
    open[i] = s.latest !== undefined && (e.latest === undefined || s.latest > e.latest);
    for (const latest of [s.latest, e.latest]) {
      if (latest !== undefined && (lastEdge === undefined || latest > lastEdge)) lastEdge = latest;
    }
    until = Math.min(until, s.coveredUntil, e.coveredUntil);
    for (const [list, bit] of [
      [s.after, 1],
      [e.after, 2],
    ] as const) {
      for (const t of list) {
        let perWindow = events.get(t);
        if (!perWindow) {
          perWindow = new Map();
          events.set(t, perWindow);
        }
        perWindow.set(i, (perWindow.get(i) ?? 0) | bit);
      }
    }
  });
  const times = [...events.keys()].filter((t) => t <= until).sort((a, b) => a - b);
  const segments: Segment[] = [];
  let overlap: Timeline['overlap'];
  let from = now;
  const emit = (to: number): void => {
    const names = windows.filter((_, i) => open[i]).map((w) => w.name);
    const first = windows.find((_, i) => open[i]);
    if (names.length > 1 && overlap === undefined) overlap = { at: from, windows: names };
    segments.push({ from, to, value: first ? first.value : block.value, open: names });
  };
  for (const t of times) {
    emit(t);
    for (const [i, bits] of events.get(t) as Map<number, number>) open[i] = bits === 1;
    from = t;
  }
  emit(until);
  const result: Timeline = { segments, until };
  if (overlap) result.overlap = overlap;
  if (lastEdge !== undefined) result.lastEdge = lastEdge;
  return result;
}

export interface WindowState {
  value: number;
  window?: string;
}

/** The desired value at t (the open window's value, else the block's) and the open window's name. */
export function desiredAt(block: BlockLike, t: number): WindowState {
  const windows = compileWindows(block.windows);
  const open = windows.find((w) => isOpenAt(w, t));
  return open ? { value: open.value, window: open.name } : { value: block.value };
}

/** The first instant after the timeline's start where the value changes, with the new value. */
export function nextChange(tl: Timeline): { at: number; value: number } | undefined {
  const first = tl.segments[0];
  if (!first) return undefined;
  const seg = tl.segments.find((s) => s.value !== first.value);
  return seg ? { at: seg.from, value: seg.value } : undefined;
}

/** ∫ value dt in value-seconds over [from, to], extrapolated linearly when the timeline ends early. */
export function integrateValueSeconds(tl: Timeline, from: number, to: number): number {
  let sum = 0;
  let covered = 0;
  for (const s of tl.segments) {
    const a = Math.max(s.from, from);
    const b = Math.min(s.to, to);
    if (b > a) {
      sum += (s.value * (b - a)) / 1000;
      covered += b - a;
    }
  }
  if (covered === 0) return 0;
  return covered < to - from ? (sum * (to - from)) / covered : sum;
}
