/**
 * Properties of the production settings: a function that already has what the policy wants needs no action, and
 * applying the planned actions (as AWS would) leaves nothing to do on the next plan.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LOG_RETENTION_DAYS } from '../../../src/api/cel.ts';
import { APPLICATION_LOG_LEVELS, type Settings, SYSTEM_LOG_LEVELS } from '../../../src/api/schema.ts';
import type { Action, ObservedFunction } from '../../../src/engine/model.ts';
import { plan } from '../../../src/engine/plan.ts';
import { fleet, fn, OPTIONS, policy, region } from './fixtures.ts';

const NOW = new Date('2026-12-01T09:00:00Z');

const logging = fc.oneof(
  fc.record({ format: fc.constant('Text' as const) }),
  fc.record(
    {
      format: fc.constant('JSON' as const),
      applicationLogLevel: fc.constantFrom(...APPLICATION_LOG_LEVELS),
      systemLogLevel: fc.constantFrom(...SYSTEM_LOG_LEVELS),
    },
    { requiredKeys: ['format'] },
  ),
);
const settings: fc.Arbitrary<Settings> = fc.record(
  {
    logging,
    tracing: fc.constantFrom('Active' as const, 'PassThrough' as const),
    asyncInvocation: fc.oneof(
      fc.record({ maximumRetryAttempts: fc.integer({ min: 0, max: 2 }) }),
      fc.record({ maximumEventAgeSeconds: fc.integer({ min: 60, max: 21600 }) }),
      fc.record({
        maximumRetryAttempts: fc.integer({ min: 0, max: 2 }),
        maximumEventAgeSeconds: fc.integer({ min: 60, max: 21600 }),
      }),
    ),
    logRetentionDays: fc.constantFrom(...LOG_RETENTION_DAYS),
  },
  { requiredKeys: [] },
);
const observed = fc.record({
  logging: fc.oneof(
    fc.constant({ format: 'Text' as const, logGroup: '/aws/lambda/f' }),
    fc.record({
      format: fc.constant('JSON' as const),
      applicationLogLevel: fc.constantFrom(...APPLICATION_LOG_LEVELS),
      systemLogLevel: fc.constantFrom(...SYSTEM_LOG_LEVELS),
      logGroup: fc.constant('/aws/lambda/f'),
    }),
  ),
  tracing: fc.constantFrom('Active' as const, 'PassThrough' as const),
  asyncConfig: fc.option(
    fc.record(
      {
        maximumRetryAttempts: fc.integer({ min: 0, max: 2 }),
        maximumEventAgeSeconds: fc.integer({ min: 60, max: 21600 }),
      },
      { requiredKeys: [] },
    ),
    { nil: null },
  ),
  logGroup: fc.record({
    name: fc.constant('/aws/lambda/f'),
    exists: fc.constant(true),
    retentionInDays: fc.option(fc.constantFrom(...LOG_RETENTION_DAYS), { nil: null }),
  }),
});

/** What AWS does with each action (Lambda drops levels with Text and defaults them to INFO with JSON). */
function apply(f: ObservedFunction, actions: readonly Action[]): ObservedFunction {
  const next: ObservedFunction = structuredClone(f);
  for (const a of actions) {
    if (a.api === 'UpdateFunctionConfiguration') {
      if (a.tracing) next.tracing = a.tracing;
      if (a.logging) {
        const group = next.logging?.logGroup ?? '/aws/lambda/f';
        next.logging =
          a.logging.format === 'Text'
            ? { format: 'Text', logGroup: group }
            : {
                format: 'JSON',
                logGroup: group,
                applicationLogLevel: a.logging.applicationLogLevel ?? next.logging?.applicationLogLevel ?? 'INFO',
                systemLogLevel: a.logging.systemLogLevel ?? next.logging?.systemLogLevel ?? 'INFO',
              };
      }
    } else if (a.api === 'PutFunctionEventInvokeConfig') {
      next.asyncConfig = {
        ...(a.maximumRetryAttempts !== undefined ? { maximumRetryAttempts: a.maximumRetryAttempts } : {}),
        ...(a.maximumEventAgeSeconds !== undefined ? { maximumEventAgeSeconds: a.maximumEventAgeSeconds } : {}),
      };
    } else if (a.api === 'UpdateFunctionEventInvokeConfig') {
      next.asyncConfig = {
        ...(next.asyncConfig ?? {}),
        ...(a.maximumRetryAttempts !== undefined ? { maximumRetryAttempts: a.maximumRetryAttempts } : {}),
        ...(a.maximumEventAgeSeconds !== undefined ? { maximumEventAgeSeconds: a.maximumEventAgeSeconds } : {}),
      };
    } else if (a.api === 'PutRetentionPolicy' && next.logGroup) {
      next.logGroup = { ...next.logGroup, retentionInDays: a.retentionInDays };
    }
  }
  return next;
}

const planFor = (s: Settings, f: ObservedFunction) =>
  plan([policy('platform/p', { settings: s })], fleet(region([f])), NOW, OPTIONS).functions[0];

describe('production settings converge', () => {
  it('one round of actions leaves the function compliant, with at most one configuration write', () => {
    fc.assert(
      fc.property(settings, observed, (s, o) => {
        const f = fn('f', o);
        const first = planFor(s, f);
        expect(first?.actions.filter((a) => a.api === 'UpdateFunctionConfiguration').length ?? 0).toBeLessThanOrEqual(
          1,
        );
        const second = planFor(s, apply(f, first?.actions ?? []));
        expect(second?.actions).toEqual([]);
        expect(second?.compliant).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('every action is tagged with the production fields it corrects, each one a drift field of the function', () => {
    fc.assert(
      fc.property(settings, observed, (s, o) => {
        const first = planFor(s, fn('f', o));
        const drifted = new Set(first?.drift.map((d) => d.field));
        for (const action of first?.actions ?? []) {
          expect(action.fields?.length ?? 0, action.api).toBeGreaterThan(0);
          for (const field of action.fields ?? []) expect(drifted, `${action.api} -> ${field}`).toContain(field);
          if (action.api === 'UpdateFunctionConfiguration') {
            // The one configuration write names every field it carries, so status marks each remediated.
            const carried = (['memorySize', 'timeout', 'logging', 'tracing'] as const).filter(
              (k) => action[k] !== undefined,
            );
            expect([...(action.fields ?? [])].sort()).toEqual([...carried].sort());
          }
        }
      }),
      { numRuns: 300 },
    );
  });
});
