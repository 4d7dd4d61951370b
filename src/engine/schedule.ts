/**
 * Windows as Application Auto Scaling scheduled actions: one action per window edge on the scalable target
 * `function:NAME:QUALIFIER` (start -> min=max=window value, end -> min=max=block value), with 6-field AWS crons.
 *
 * AWS cron differs from Unix cron: `cron(Minutes Hours Day-of-month Month Day-of-week Year)`, exactly one of the
 * day fields must be `?`, day-of-week counts 1=SUN..7=SAT (Unix: 0/7=SUN), and `/` is not allowed in day-of-week.
 * We therefore rebuild every field from cron-parser's expanded values (numbers, runs as ranges) and write
 * day-of-week with names (SUN..SAT), which mean the same in both worlds. Unix cron ORs day-of-month and
 * day-of-week when both are restricted; AWS cannot express that, so such windows are refused.
 */
import type { ProvisionedConcurrency } from '../api/schema.ts';
import { ScheduleError } from './errors.ts';
import { SCHEDULED_ACTION_PREFIX } from './model.ts';
import { type CompiledWindow, type CronSpec, parseCron } from './windows.ts';

const DAY_NAMES = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'] as const;
/** AAS scheduled action names: 1..256 characters, no `:`, `/` or `|`. */
export const MAX_ACTION_NAME = 256;
const FORBIDDEN_IN_NAME = /[:/|]/;

/** Ascending distinct values as `a-b` runs joined by commas; `*` when they cover [min, max]. */
function compact(values: readonly number[], min: number, max: number, show: (n: number) => string = String): string {
  if (values.length === max - min + 1) return '*';
  const parts: string[] = [];
  let i = 0;
  while (i < values.length) {
    let j = i;
    while (j + 1 < values.length && (values[j + 1] as number) === (values[j] as number) + 1) j++;
    const a = values[i] as number;
    const b = values[j] as number;
    parts.push(a === b ? show(a) : b === a + 1 ? `${show(a)},${show(b)}` : `${show(a)}-${show(b)}`);
    i = j + 1;
  }
  return parts.join(',');
}

const sorted = (values: Iterable<number>): number[] => [...values].sort((a, b) => a - b);

/** Converts a 5-field Unix cron (already parsed) to AWS's `cron(...)` schedule. Throws ScheduleError. */
export function toAwsCron(spec: CronSpec): string {
  const f = spec.fields;
  const minutes = compact(f.minutes, 0, 59);
  const hours = compact(f.hours, 0, 23);
  const month = compact(sorted(f.months), 1, 12);
  if (f.lastDay && f.daysOfMonth.size > 0) {
    throw new ScheduleError(`cron "${spec.expr}": L cannot be combined with other days of month in an AWS cron`);
  }
  if (f.domRestricted && f.dowRestricted) {
    throw new ScheduleError(
      `cron "${spec.expr}" restricts both day-of-month and day-of-week (Unix cron ORs them); AWS cron allows only one`,
    );
  }
  const dom = !f.domRestricted ? '*' : f.lastDay ? 'L' : compact(sorted(f.daysOfMonth), 1, 31);
  const dow = !f.dowRestricted ? '*' : compact(sorted(f.daysOfWeek), 0, 6, (d) => DAY_NAMES[d] as string);
  const [awsDom, awsDow] = dow === '*' ? [dom, '?'] : ['?', dow];
  return `cron(${minutes} ${hours} ${awsDom} ${month} ${awsDow} *)`;
}

export function resourceIdOf(functionName: string, qualifier: string): string {
  return `function:${functionName}:${qualifier}`;
}

/** `function:NAME:QUALIFIER` -> parts; undefined for other resource ids. */
export function parseResourceId(resourceId: string): { functionName: string; qualifier: string } | undefined {
  const parts = resourceId.split(':');
  if (parts.length !== 3 || parts[0] !== 'function' || !parts[1] || !parts[2]) return undefined;
  return { functionName: parts[1], qualifier: parts[2] };
}

export type Edge = 'start' | 'end';

export function scheduledActionName(namespace: string, policyName: string, window: string, edge: Edge): string {
  return `${SCHEDULED_ACTION_PREFIX}.${namespace}.${policyName}.${window}.${edge}`;
}

/** Only actions carrying the prefix are ever considered, updated or deleted. */
export function isOwnedActionName(name: string): boolean {
  return name.startsWith(`${SCHEDULED_ACTION_PREFIX}.`);
}

/** Does this owned action belong to that policy? (window names are DNS labels: no dots.) */
export function isActionOfPolicy(name: string, namespace: string, policyName: string): boolean {
  const prefix = `${SCHEDULED_ACTION_PREFIX}.${namespace}.${policyName}.`;
  return name.startsWith(prefix) && /^[a-z0-9]([-a-z0-9]*[a-z0-9])?\.(start|end)$/.test(name.slice(prefix.length));
}

/** A scheduled action as declared by a policy, before it is bound to a function (resource id). */
export interface DeclaredAction {
  name: string;
  schedule: string;
  timezone: string;
  minCapacity: number;
  maxCapacity: number;
}

/** The two actions per window of a block. Throws ScheduleError for untranslatable crons or too-long names. */
export function declaredActions(
  namespace: string,
  policyName: string,
  block: ProvisionedConcurrency,
  windows: readonly CompiledWindow[],
): DeclaredAction[] {
  const out: DeclaredAction[] = [];
  for (const w of windows) {
    for (const [edge, spec, value] of [
      ['start', w.start, w.value],
      ['end', w.end, block.value],
    ] as const) {
      const name = scheduledActionName(namespace, policyName, w.name, edge);
      if (name.length > MAX_ACTION_NAME || FORBIDDEN_IN_NAME.test(name)) {
        throw new ScheduleError(`scheduled action name "${name}" is longer than 256 characters or contains : / |`);
      }
      let schedule: string;
      try {
        schedule = toAwsCron(spec);
      } catch (cause) {
        if (cause instanceof ScheduleError) throw new ScheduleError(`window ${w.name}: ${cause.message}`, { cause });
        throw cause;
      }
      out.push({ name, schedule, timezone: w.timezone, minCapacity: value, maxCapacity: value });
    }
  }
  return out;
}

/** Convenience for callers holding raw strings (CLI previews, tests). */
export function awsCronOf(expr: string, tz = 'UTC'): string {
  return toAwsCron(parseCron(expr, tz));
}
