import { describe, expect, it } from 'vitest';
import { CEL_RULES, CRON_PATTERN, celString, TIMEZONE_PATTERN } from '../../../src/api/cel.ts';
import { checkCrossFieldRules, cliOnlyIssues, cronProblem, isKnownTimeZone } from '../../../src/api/rules.ts';
import { canonicalTimeZoneFor, canonicalTimeZones } from '../../../src/shared/time-zones.ts';

const window = (fields: Record<string, unknown>) => ({
  selector: { functionNames: ['*'] },
  settings: {
    provisionedConcurrency: {
      qualifier: 'live',
      value: 1,
      windows: [{ name: 'w', start: '0 8 * * 1-5', end: '0 19 * * 1-5', value: 2, ...fields }],
    },
  },
});

describe('cron expressions', () => {
  it.each([
    '0 8 * * 1-5',
    '*/15 * * * *',
    '30 22 * * MON-FRI',
    '0 6 ? * TUE-SAT',
    '0 0 L * *',
    '0 9 * * 1#2',
    ' 0 8 * * * ',
    '0 8 1,15 JAN-MAR ?',
  ])('accepts %j', (start) => {
    expect(checkCrossFieldRules(window({ start }))).toEqual([]);
  });

  it.each([
    { start: '0 8 * *', message: CEL_RULES.cronShape.message, source: 'cel' },
    { start: '0 0 8 * * *', message: CEL_RULES.cronShape.message, source: 'cel' },
    { start: 'h 8 * * *', message: CEL_RULES.cronShape.message, source: 'cel' },
    { start: '0 8 15W * *', message: CEL_RULES.cronShape.message, source: 'cel' },
    { start: '0 8 1 * 1', message: CEL_RULES.cronDayFields.message, source: 'cel' },
    { start: '0 8 * * FRY', message: 'is not a valid cron expression', source: 'cli' },
    { start: '0 24 * * *', message: 'is not a valid cron expression', source: 'cli' },
    { start: '0 0 30 2 *', message: 'is not a valid cron expression', source: 'cli' },
  ])('refuses $start ($source)', ({ start, message, source }) => {
    const issues = checkCrossFieldRules(window({ start }));

    expect(issues).toEqual([
      {
        path: 'spec.settings.provisionedConcurrency.windows[0].start',
        message: expect.stringContaining(message),
        source,
      },
    ]);
  });

  it('explains why cron-parser refuses an expression', () => {
    expect(cronProblem('61 8 * * *')).toMatch(/61/);
    expect(cronProblem('0 8 * * 1-5', 'Europe/Berlin')).toBeUndefined();
  });
});

describe('time zones', () => {
  it.each([
    'UTC',
    'Europe/Berlin',
    'America/Argentina/Buenos_Aires',
    'Etc/GMT+5',
    'Etc/UTC',
    'Asia/Kolkata',
    'Etc/GMT+9',
    'Europe/Amsterdam',
    'Europe/Kyiv',
    'America/Nuuk',
  ])('knows %s', (timezone) => {
    expect(isKnownTimeZone(timezone)).toBe(true);
    expect(checkCrossFieldRules(window({ timezone }))).toEqual([]);
  });

  it.each([
    { timezone: 'Europe Berlin', source: 'cel' },
    { timezone: '+01:00', source: 'cel' },
    { timezone: 'Europe/Berlin/Mitte/Nord', source: 'cel' },
    { timezone: 'Mars/Olympus_Mons', source: 'cli' },
    { timezone: 'europe/berlin', source: 'cli' },
  ])('refuses $timezone ($source)', ({ timezone, source }) => {
    const issues = checkCrossFieldRules(window({ timezone }));

    expect(issues).toHaveLength(1);
    expect(issues[0]).toMatchObject({ path: 'spec.settings.provisionedConcurrency.windows[0].timezone', source });
  });

  it.each([
    ['US/Eastern', 'America/New_York'],
    ['US/Pacific', 'America/Los_Angeles'],
    ['Asia/Calcutta', 'Asia/Kolkata'],
    ['Europe/Kiev', 'Europe/Kyiv'],
    ['Etc/Universal', 'Etc/UTC'],
    ['GMT', 'Etc/GMT'],
    ['EST5EDT', 'America/New_York'],
  ])('refuses the alias %s, naming %s', (timezone, canonical) => {
    expect(isKnownTimeZone(timezone)).toBe(false);
    expect(checkCrossFieldRules(window({ timezone }))).toEqual([
      {
        path: 'spec.settings.provisionedConcurrency.windows[0].timezone',
        source: 'cli',
        message: `time zone "${timezone}" is an alias of ${canonical}: Application Auto Scaling takes canonical IANA names only, use "${canonical}"`,
      },
    ]);
  });

  it('can evaluate every canonical zone with the runtime, and knows every name the runtime lists', () => {
    const canonical = canonicalTimeZones();
    expect(canonical.length).toBeGreaterThan(400);
    for (const zone of canonical) expect(() => new Intl.DateTimeFormat('en-US', { timeZone: zone })).not.toThrow();
    // Intl lists CLDR's names: each is canonical here or an alias with a canonical name to suggest.
    for (const zone of Intl.supportedValuesOf('timeZone')) {
      expect(isKnownTimeZone(zone) || canonicalTimeZoneFor(zone) !== undefined).toBe(true);
    }
  });

  it('does not report the cron fields again when the zone is unusable', () => {
    expect(checkCrossFieldRules(window({ timezone: 'Nowhere/Land' })).map((issue) => issue.path)).toEqual([
      'spec.settings.provisionedConcurrency.windows[0].timezone',
    ]);
  });
});

describe('selector, tag expressions, qualifier, windows, interval', () => {
  const spec = (fields: Record<string, unknown>) => ({ selector: { tags: { a: 'b' } }, settings: {}, ...fields });

  it.each([
    {
      name: 'no criteria',
      input: spec({ selector: {} }),
      path: 'spec.selector',
      message: CEL_RULES.selectorNotEmpty.message,
    },
    {
      name: 'regions only',
      input: spec({ selector: { regions: ['eu-west-1'], excludeFunctionNames: ['x'] } }),
      path: 'spec.selector',
      message: CEL_RULES.selectorNotEmpty.message,
    },
    {
      name: 'In without values',
      input: spec({ selector: { tagExpressions: [{ key: 'k', operator: 'In' }] } }),
      path: 'spec.selector.tagExpressions[0].values',
      message: CEL_RULES.tagExpressionValuesRequired.message,
    },
    {
      name: 'DoesNotExist with values',
      input: spec({ selector: { tagExpressions: [{ key: 'k', operator: 'DoesNotExist', values: ['v'] }] } }),
      path: 'spec.selector.tagExpressions[0].values',
      message: CEL_RULES.tagExpressionValuesForbidden.message,
    },
    {
      name: '$LATEST',
      input: spec({ settings: { provisionedConcurrency: { qualifier: '$LATEST', value: 1 } } }),
      path: 'spec.settings.provisionedConcurrency.qualifier',
      message: CEL_RULES.qualifierNotLatest.message,
    },
    {
      name: 'interval 29s',
      input: spec({ interval: '29s' }),
      path: 'spec.interval',
      message: CEL_RULES.intervalMinimum.message,
    },
    {
      name: 'interval 29999ms',
      input: spec({ interval: '29999ms' }),
      path: 'spec.interval',
      message: 'must be at least 30s',
    },
    {
      name: 'duplicate window names',
      input: spec({
        settings: {
          provisionedConcurrency: {
            qualifier: 'live',
            value: 0,
            windows: [
              { name: 'a', start: '0 1 * * *', end: '0 2 * * *', value: 1 },
              { name: 'b', start: '0 3 * * *', end: '0 4 * * *', value: 1 },
              { name: 'a', start: '0 5 * * *', end: '0 6 * * *', value: 1 },
            ],
          },
        },
      }),
      path: 'spec.settings.provisionedConcurrency.windows[2]',
      message: 'Duplicate value: window name "a" is already used by windows[0]',
    },
  ])('reports $name', ({ input, path, message }) => {
    expect(checkCrossFieldRules(input)).toEqual([{ path, message, source: expect.any(String) }]);
  });

  it('leaves malformed values to the schema instead of guessing', () => {
    expect(
      checkCrossFieldRules({
        interval: 'soon',
        selector: { tags: 'x', tagExpressions: 'y' },
        settings: { provisionedConcurrency: { windows: [null, 3, { start: 5, timezone: 7 }] } },
      }),
    ).toEqual([{ path: 'spec.selector', message: CEL_RULES.selectorNotEmpty.message, source: 'cel' }]);
  });
});

describe('CEL source', () => {
  it('quotes the shared regular expressions as CEL string literals', () => {
    expect(celString("a\\sb'c")).toBe("'a\\\\sb\\'c'");
    expect(CEL_RULES.cronShape.rule).toBe(`self.matches(${celString(CRON_PATTERN)})`);
    expect(CEL_RULES.timezoneShape.rule).toContain(celString(TIMEZONE_PATTERN));
  });
});

describe('cliOnlyIssues', () => {
  it('keeps only what the API server could not have refused', () => {
    const spec = window({ start: '0 8 * * FRY', end: '0 8 * *' });

    expect(cliOnlyIssues(spec).map((issue) => issue.path)).toEqual([
      'spec.settings.provisionedConcurrency.windows[0].start',
    ]);
    expect(checkCrossFieldRules(spec)).toHaveLength(2);
  });
});
