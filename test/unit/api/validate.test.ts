import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatIssue, PolicyValidationError } from '../../../src/api/errors.ts';
import { renderPath, validatePolicy, validatePolicySpec, validatePolicyStatus } from '../../../src/api/validate.ts';

function policy(spec: Record<string, unknown> = {}, metadata: Record<string, unknown> = { name: 'api-tier' }) {
  return {
    apiVersion: 'lambdapolicy.io/v1alpha1',
    kind: 'LambdaPolicy',
    metadata,
    spec: { selector: { tags: { tier: 'api' } }, settings: {}, ...spec },
  };
}

const settings = (value: Record<string, unknown>) => policy({ settings: value });

describe('validatePolicy', () => {
  it('applies every default and leaves the input untouched', () => {
    const input = policy({
      settings: {
        provisionedConcurrency: {
          qualifier: 'live',
          value: 1,
          windows: [{ name: 'w', start: '0 8 * * *', end: '0 9 * * *', value: 2 }],
        },
      },
    });
    const before = structuredClone(input);

    const result = validatePolicy(input);

    expect(input).toEqual(before);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.value.metadata.namespace).toBe('default');
    expect(result.value.spec).toMatchObject({ mode: 'Enforce', priority: 0, suspend: false, interval: '5m' });
    expect(result.value.spec.settings.provisionedConcurrency?.windows?.[0]?.timezone).toBe('UTC');
  });

  it('keeps values that are set instead of defaulting them', () => {
    const result = validatePolicy(
      policy({ mode: 'Audit', priority: -3, suspend: true, interval: '1h' }, { name: 'p', namespace: 'platform' }),
    );

    expect(result.ok && result.value.spec).toMatchObject({
      mode: 'Audit',
      priority: -3,
      suspend: true,
      interval: '1h',
    });
    expect(result.ok && result.value.metadata.namespace).toBe('platform');
  });

  it.each([
    { name: 'memory at the lower bound', input: settings({ memorySize: 128 }) },
    { name: 'memory at the upper bound', input: settings({ memorySize: 10240 }) },
    { name: 'timeout 1..900', input: settings({ timeout: 900 }) },
    { name: 'reserved 0', input: settings({ reservedConcurrency: 0 }) },
    { name: 'reserved Unreserved', input: settings({ reservedConcurrency: 'Unreserved' }) },
    { name: 'interval 30s', input: policy({ interval: '30s' }) },
    { name: 'interval 0.5m', input: policy({ interval: '0.5m' }) },
    { name: 'interval 1h30m', input: policy({ interval: '1h30m' }) },
    { name: 'functionNames only', input: policy({ selector: { functionNames: ['*'] } }) },
    {
      name: 'tagExpressions only',
      input: policy({ selector: { tagExpressions: [{ key: 'a', operator: 'Exists' }] } }),
    },
    {
      name: 'Exists with empty values',
      input: policy({ selector: { tagExpressions: [{ key: 'a', operator: 'Exists', values: [] }] } }),
    },
    { name: 'a dotted name', input: policy({}, { name: 'api.tier-1' }) },
    { name: 'an exported object with status', input: { ...policy(), status: { observedGeneration: 1 } } },
    {
      name: 'exported metadata',
      input: policy(
        {},
        {
          name: 'p',
          uid: 'x',
          resourceVersion: '1',
          generation: 2,
          creationTimestamp: '2026-01-01T00:00:00Z',
          managedFields: [{}],
        },
      ),
    },
  ])('accepts $name', ({ input }) => {
    const result = validatePolicy(input);

    expect(result.issues.map(formatIssue)).toEqual([]);
  });

  it.each([
    { input: settings({ timeout: 901 }), issue: 'spec.settings.timeout: must be <= 900' },
    { input: settings({ memorySize: 127 }), issue: 'spec.settings.memorySize: must be >= 128' },
    { input: settings({ memorySize: 512.5 }), issue: 'spec.settings.memorySize: must be of type integer' },
    { input: policy({ mode: 'Observe' }), issue: 'spec.mode: must be one of: Enforce, Audit' },
    { input: policy({ foo: 1 }), issue: 'spec.foo: unknown field "foo"' },
    {
      input: settings({ reservedConcurrency: 'Foo' }),
      issue: 'spec.settings.reservedConcurrency: must be an integer >= 0 (at most 100000) or "Unreserved"',
    },
    {
      input: settings({ reservedConcurrency: 1.5 }),
      issue: 'spec.settings.reservedConcurrency: must be an integer >= 0 (at most 100000) or "Unreserved"',
    },
    { input: policy({ selector: { tags: { tier: 1 } } }), issue: 'spec.selector.tags[tier]: must be of type string' },
    { input: { ...policy(), apiVersion: 'v1' }, issue: 'apiVersion: must be "lambdapolicy.io/v1alpha1"' },
    { input: policy({}, {}), issue: 'metadata.name: Required value' },
    {
      input: policy({}, { name: 'a', namespace: 'Team_A' }),
      issue: 'metadata.namespace: must be a lowercase RFC 1123 label',
    },
    { input: policy({}, { name: 'a', nickname: 'b' }), issue: 'metadata.nickname: unknown field "nickname"' },
    { input: 'not an object', issue: 'must be of type object' },
  ])('reports $issue', ({ input, issue }) => {
    const result = validatePolicy(input);

    expect(result.ok).toBe(false);
    expect(result.issues.map(formatIssue).join('\n')).toContain(issue);
  });

  it('reports every problem at once, schema and cross-field alike', () => {
    const result = validatePolicy(
      policy({ interval: '10s', selector: { regions: ['eu-west-1'] }, settings: { timeout: 0, memorySize: 99999 } }),
    );

    expect(result.issues.map((issue) => issue.path).sort()).toEqual(
      ['spec.interval', 'spec.selector', 'spec.settings.memorySize', 'spec.settings.timeout'].sort(),
    );
  });

  it('never throws, whatever the spec holds', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.jsonValue(), (selector, settingsValue) => {
        const result = validatePolicy(policy({ selector, settings: settingsValue }));
        return typeof result.ok === 'boolean' && result.issues.every((issue) => issue.path.startsWith('spec'));
      }),
      { numRuns: 300 },
    );
  });
});

describe('validatePolicySpec', () => {
  it('prefixes paths with the base path it is given', () => {
    const result = validatePolicySpec({ selector: {}, settings: { timeout: 0 } }, 'items[2].spec');

    expect(result.issues.map(formatIssue)).toEqual([
      'items[2].spec.settings.timeout: must be >= 1',
      expect.stringMatching(/^items\[2\]\.spec\.selector: must set at least one of/),
    ]);
  });
});

describe('validatePolicyStatus', () => {
  it('accepts the status of the product contract', () => {
    const status = {
      observedGeneration: 7,
      conditions: [
        { type: 'Ready', status: 'True', reason: 'InSync', message: '', lastTransitionTime: '2026-12-01T09:00:00Z' },
      ],
      summary: { matched: 120, compliant: 117, drifted: 2, remediated: 14, overridden: 1, failed: 0 },
      functions: [
        {
          region: 'eu-central-1',
          name: 'orders-api',
          state: 'Drifted',
          drift: [{ field: 'memorySize', desired: 1024, actual: 512 }],
        },
      ],
      truncated: false,
      lastCheckTime: '2026-12-01T09:00:00Z',
      nextCheckTime: '2026-12-01T09:05:00Z',
      provisionedConcurrency: {
        desiredNow: 20,
        window: 'business-hours',
        nextChange: { at: '2026-12-01T18:00:00Z', value: 2 },
      },
      cost: { provisionedConcurrencyMonthlyUSD: 412.8 },
    };

    expect(validatePolicyStatus(status).issues).toEqual([]);
  });

  it('refuses more than 50 functions and an unknown state', () => {
    const functions = Array.from({ length: 51 }, (_, i) => ({
      region: 'eu-central-1',
      name: `f${i}`,
      state: 'Compliant',
    }));

    expect(validatePolicyStatus({ functions }).issues.map(formatIssue)).toEqual([
      'status.functions: must have at most 50 items',
    ]);
    expect(
      validatePolicyStatus({ functions: [{ region: 'r', name: 'n', state: 'Happy' }] }).issues.map(formatIssue),
    ).toEqual([
      'status.functions[0].state: must be one of: Compliant, Drifted, Remediated, Overridden, Failed, Infeasible, Violating, IaCManaged',
    ]);
  });
});

describe('renderPath', () => {
  it.each([
    { segments: ['spec', 'settings', 'timeout'], root: { spec: { settings: {} } }, path: 'spec.settings.timeout' },
    { segments: ['spec', 'windows', '0', 'name'], root: { spec: { windows: [{}] } }, path: 'spec.windows[0].name' },
    {
      segments: ['spec', 'selector', 'tags', '0'],
      root: { spec: { selector: { tags: { '0': 1 } } } },
      path: 'spec.selector.tags[0]',
    },
    {
      segments: ['metadata', 'labels', 'app/name'],
      root: { metadata: { labels: {} } },
      path: 'metadata.labels[app/name]',
    },
  ])('renders $path', ({ segments, root, path }) => {
    expect(renderPath(segments, root)).toBe(path);
  });
});

describe('PolicyValidationError', () => {
  it('lists its issues in the message and keeps them typed', () => {
    const error = new PolicyValidationError([
      { path: 'spec.settings.timeout', message: 'must be <= 900', source: 'schema' },
    ]);

    expect(error.message).toBe('spec.settings.timeout: must be <= 900');
    expect(error.code).toBe('PolicyInvalid');
    expect(error).toBeInstanceOf(Error);
  });
});
