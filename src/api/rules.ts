/**
 * Cross-field rules of a LambdaPolicy spec, checked in TypeScript for the CLI. Each check mirrors one CEL rule of
 * cel.ts (same condition, same message, same field path as the API server prints), plus the checks only
 * TypeScript can do: that each cron field really parses and that a time zone exists.
 *
 * The checks run on unvalidated input (next to the schema's own errors, so a user sees every problem at once):
 * each one looks only at values of the expected type and leaves anything else to the schema.
 */
import { CronExpressionParser } from 'cron-parser';
import { canonicalTimeZoneFor, isCanonicalTimeZone } from '../shared/time-zones.ts';
import {
  CEL_RULES,
  CRON_DAY_FIELDS_PATTERN,
  CRON_PATTERN,
  DURATION_PATTERN,
  GLOB_WILDCARDS_PATTERN,
  MAX_INTERVAL,
  MIN_INTERVAL,
  TIMEZONE_PATTERN,
} from './cel.ts';
import { parseGoDuration } from './duration.ts';
import type { IssueSource, ValidationIssue } from './errors.ts';

const CRON = new RegExp(CRON_PATTERN);
const CRON_DAY_FIELDS = new RegExp(CRON_DAY_FIELDS_PATTERN);
const TIMEZONE = new RegExp(TIMEZONE_PATTERN);
const DURATION = new RegExp(DURATION_PATTERN);
const MIN_INTERVAL_SECONDS = parseGoDuration(MIN_INTERVAL);
const MAX_INTERVAL_SECONDS = parseGoDuration(MAX_INTERVAL);
const GLOB_WILDCARDS = new RegExp(GLOB_WILDCARDS_PATTERN);

/** Every check of this module, by the CEL rule it mirrors (or `cli` for TypeScript-only checks). */
export function checkCrossFieldRules(spec: unknown, basePath = 'spec'): ValidationIssue[] {
  if (!isRecord(spec)) return [];
  const issues: ValidationIssue[] = [];
  const report = (path: string, message: string, source: IssueSource) => issues.push({ path, message, source });

  checkInterval(spec.interval, `${basePath}.interval`, report);
  if (isRecord(spec.selector)) checkSelector(spec.selector, `${basePath}.selector`, report);
  if (isRecord(spec.settings) && isRecord(spec.settings.provisionedConcurrency)) {
    checkProvisionedConcurrency(
      spec.settings.provisionedConcurrency,
      `${basePath}.settings.provisionedConcurrency`,
      report,
    );
  }
  if (isRecord(spec.settings)) {
    const settings = spec.settings;
    if (isRecord(settings.logging)) {
      const logging = settings.logging;
      const levels = logging.applicationLogLevel !== undefined || logging.systemLogLevel !== undefined;
      if (typeof logging.format === 'string' && logging.format !== 'JSON' && levels) {
        report(`${basePath}.settings.logging`, CEL_RULES.loggingLevelsNeedJson.message, 'cel');
      }
    }
    if (isRecord(settings.asyncInvocation)) {
      const block = settings.asyncInvocation;
      if (block.maximumRetryAttempts === undefined && block.maximumEventAgeSeconds === undefined) {
        report(`${basePath}.settings.asyncInvocation`, CEL_RULES.asyncInvocationNotEmpty.message, 'cel');
      }
    }
  }
  if (isRecord(spec.rollout)) checkRollout(spec.rollout, `${basePath}.rollout`, report);
  return issues;
}

function checkRollout(rollout: Record<string, unknown>, path: string, report: Report): void {
  const { batchSize, maxFunctions } = rollout;
  if (typeof batchSize === 'number' && typeof maxFunctions === 'number' && batchSize > maxFunctions) {
    report(`${path}.batchSize`, CEL_RULES.rolloutBatchWithinLimit.message, 'cel');
  }
}

/**
 * The issues the API server cannot see (a cron field that does not parse, an unknown time zone): a policy that
 * reached the controller through the API server can still carry them, and the controller reports them in status.
 */
export function cliOnlyIssues(spec: unknown, basePath = 'spec'): ValidationIssue[] {
  return checkCrossFieldRules(spec, basePath).filter((issue) => issue.source === 'cli');
}

type Report = (path: string, message: string, source: IssueSource) => void;

function checkInterval(interval: unknown, path: string, report: Report): void {
  // A malformed interval is the schema's pattern error; the CEL rule is guarded the same way.
  if (typeof interval !== 'string' || !DURATION.test(interval)) return;
  const seconds = parseGoDuration(interval);
  if (seconds < MIN_INTERVAL_SECONDS) report(path, CEL_RULES.intervalMinimum.message, 'cel');
  if (seconds > MAX_INTERVAL_SECONDS) report(path, CEL_RULES.intervalMaximum.message, 'cel');
}

function checkSelector(selector: Record<string, unknown>, path: string, report: Report): void {
  const nonEmpty = (value: unknown) =>
    (Array.isArray(value) && value.length > 0) || (isRecord(value) && Object.keys(value).length > 0);
  if (!nonEmpty(selector.functionNames) && !nonEmpty(selector.tags) && !nonEmpty(selector.tagExpressions)) {
    report(path, CEL_RULES.selectorNotEmpty.message, 'cel');
  }
  for (const list of ['functionNames', 'excludeFunctionNames'] as const) {
    const globs = selector[list];
    if (!Array.isArray(globs)) continue;
    globs.forEach((glob: unknown, index) => {
      if (typeof glob === 'string' && !GLOB_WILDCARDS.test(glob)) {
        report(`${path}.${list}[${index}]`, CEL_RULES.globWildcards.message, 'cel');
      }
    });
  }
  if (!Array.isArray(selector.tagExpressions)) return;
  selector.tagExpressions.forEach((expression: unknown, index) => {
    if (!isRecord(expression)) return;
    const valuesPath = `${path}.tagExpressions[${index}].values`;
    const values = expression.values;
    const hasValues = Array.isArray(values) && values.length > 0;
    if ((expression.operator === 'In' || expression.operator === 'NotIn') && !hasValues) {
      report(valuesPath, CEL_RULES.tagExpressionValuesRequired.message, 'cel');
    }
    if ((expression.operator === 'Exists' || expression.operator === 'DoesNotExist') && hasValues) {
      report(valuesPath, CEL_RULES.tagExpressionValuesForbidden.message, 'cel');
    }
  });
}

function checkProvisionedConcurrency(block: Record<string, unknown>, path: string, report: Report): void {
  if (block.qualifier === '$LATEST') report(`${path}.qualifier`, CEL_RULES.qualifierNotLatest.message, 'cel');
  if (!Array.isArray(block.windows)) return;

  const firstIndexByName = new Map<string, number>();
  block.windows.forEach((window: unknown, index) => {
    if (!isRecord(window)) return;
    const windowPath = `${path}.windows[${index}]`;
    // The CRD makes windows a list-map keyed by name: the API server reports the duplicate item itself.
    if (typeof window.name === 'string') {
      const first = firstIndexByName.get(window.name);
      if (first === undefined) firstIndexByName.set(window.name, index);
      else
        report(
          windowPath,
          `Duplicate value: window name "${window.name}" is already used by windows[${first}]`,
          'schema',
        );
    }
    const timezoneValid = checkTimezone(window.timezone, `${windowPath}.timezone`, report);
    for (const edge of ['start', 'end'] as const) {
      checkCron(
        window[edge],
        `${windowPath}.${edge}`,
        timezoneValid ? (window.timezone as string | undefined) : undefined,
        report,
      );
    }
  });
}

/** Returns whether the zone can be used to evaluate the window's cron expressions. */
function checkTimezone(timezone: unknown, path: string, report: Report): boolean {
  if (timezone === undefined) return true;
  if (typeof timezone !== 'string') return false;
  if (!TIMEZONE.test(timezone)) {
    report(path, CEL_RULES.timezoneShape.message, 'cel');
    return false;
  }
  if (!isKnownTimeZone(timezone)) {
    report(path, timeZoneProblem(timezone), 'cli');
    return false;
  }
  return true;
}

/** Why a zone name is refused: an alias names the canonical zone to use, anything else is unknown. */
export function timeZoneProblem(timezone: string): string {
  const canonical = canonicalTimeZoneFor(timezone);
  if (canonical !== undefined) {
    return `time zone "${timezone}" is an alias of ${canonical}: Application Auto Scaling takes canonical IANA names only, use "${canonical}"`;
  }
  return `unknown time zone "${timezone}": must be a canonical IANA time zone name such as UTC or Europe/Berlin`;
}

function checkCron(expression: unknown, path: string, timezone: string | undefined, report: Report): void {
  if (typeof expression !== 'string') return;
  if (!CRON.test(expression)) {
    report(path, CEL_RULES.cronShape.message, 'cel');
    return;
  }
  if (!CRON_DAY_FIELDS.test(expression)) {
    report(path, CEL_RULES.cronDayFields.message, 'cel');
    return;
  }
  const problem = cronProblem(expression, timezone);
  if (problem !== undefined) report(path, `is not a valid cron expression: ${problem}`, 'cli');
}

/** Why cron-parser refuses a 5-field expression, or undefined when it parses and fires at least once. */
export function cronProblem(expression: string, timezone = 'UTC'): string | undefined {
  try {
    CronExpressionParser.parse(expression.trim(), { tz: timezone }).next();
    return undefined;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}

/**
 * Whether a time zone can be used: a canonical IANA name as Application Auto Scaling takes it (UTC, Europe/Berlin,
 * Etc/GMT+5). Aliases (US/Pacific, Asia/Calcutta) are refused: AWS does not take them, so a window in one could
 * never be scheduled. Case matters, as it does for AWS: europe/berlin is refused.
 */
export function isKnownTimeZone(timezone: string): boolean {
  return TIMEZONE.test(timezone) && isCanonicalTimeZone(timezone);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
