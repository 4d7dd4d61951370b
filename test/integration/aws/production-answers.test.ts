/**
 * Broken AWS answers for the production settings' reads, through the real SDK against the emulator's answer faults:
 * a ListFunctions field of the wrong shape holds that one function back (unreadable, never written); a per-function
 * read that does not parse, or a listing that never ends, leaves its field NotRead instead of taking AWS's defaults.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Settings } from '../../../src/api/schema.ts';
import type { FaultOptions, SeedFunction } from '../../../src/emulator/index.ts';
import type { PolicyInput } from '../../../src/engine/model.ts';
import { reconcileFleet } from '../../../src/reconcile/pass.ts';
import { type Harness, startHarness, writes } from './harness.ts';

const REGION = 'eu-central-1';
const many = 1000;

function policy(settings: Settings, functionNames: string[] = ['*']): PolicyInput {
  return {
    id: 'platform/p',
    namespace: 'platform',
    name: 'p',
    mode: 'Enforce',
    priority: 0,
    suspend: false,
    intervalSeconds: 300,
    selector: { functionNames },
    settings,
  };
}

const seedFn = (name: string, extra: Partial<SeedFunction> = {}): SeedFunction => ({
  name,
  region: REGION,
  memorySize: 512,
  timeout: 30,
  ...extra,
});

const apply = (h: Harness, policies: PolicyInput[]) =>
  reconcileFleet(h.aws, policies, { defaultRegions: [REGION], enforce: true, execute: { pollIntervalMs: 25 } });

let h: Harness | undefined;
afterEach(async () => {
  await h?.stop();
  h = undefined;
});

describe('ListFunctions production fields are checked, not defaulted', () => {
  const cases: [string, string, unknown, RegExp][] = [
    ['an unknown log format', 'LoggingConfig.LogFormat', 'XML', /LoggingConfig\.LogFormat "XML"/],
    ['an unknown tracing mode', 'TracingConfig.Mode', 'Sometimes', /TracingConfig\.Mode "Sometimes"/],
    ['Layers not a list', 'Layers', 'one', /Layers "one" is not a list/],
    ['an environment value not a string', 'Environment.Variables.TOKEN', 42, /Environment variable "TOKEN" is number/],
  ];
  for (const [label, path, value, mentions] of cases) {
    it(`${label}: that function is NotRead and never written, the other is written`, async () => {
      // Arrange: both functions drift on memory; the first one's answer is broken in one production field.
      h = await startHarness({
        seed: {
          functions: [
            seedFn('a-broken', { environment: { TOKEN: 'x' }, layers: [{ name: 'shared' }] }),
            seedFn('b-fine'),
          ],
        },
        faults: { answers: [{ api: 'ListFunctions', kind: 'set', path: `Functions.0.${path}`, value, count: many }] },
      });

      // Act
      const result = await apply(h, [policy({ memorySize: 1024, tracing: 'Active' })]);

      // Assert
      const broken = result.plan.functions.find((f) => f.name === 'a-broken');
      expect(broken?.refusals.map((r) => r.reason)).toEqual(['NotRead']);
      expect(broken?.refusals[0]?.message).toMatch(mentions);
      expect(broken?.actions).toEqual([]);
      const written = (await writes(h)).map((w) => w.function);
      expect(written).not.toContain('a-broken');
      expect(written).toContain('b-fine');
    });
  }

  it('an environment value is never quoted in the problem (it may be a credential)', async () => {
    h = await startHarness({
      seed: { functions: [seedFn('a-broken', { environment: { TOKEN: 'x' } })] },
      faults: {
        answers: [
          {
            api: 'ListFunctions',
            kind: 'set',
            path: 'Functions.0.Environment.Variables.TOKEN',
            value: ['AKIAIOSFODNN7EXAMPLE'],
            count: many,
          },
        ],
      },
    });
    const result = await apply(h, [policy({ memorySize: 1024 })]);
    const message = result.plan.functions[0]?.refusals[0]?.message ?? '';
    expect(message).toMatch(/Environment variable "TOKEN" is object/);
    expect(message).not.toContain('AKIA');
  });
});

describe('per-function production reads that do not parse', () => {
  it('an EventInvokeConfig of the wrong shape: asyncInvocation NotRead there, no write to it', async () => {
    h = await startHarness({
      seed: {
        functions: [seedFn('a-broken', { asyncInvocation: { maximumRetryAttempts: 1 } }), seedFn('b-fine')],
      },
      faults: {
        answers: [
          {
            api: 'ListFunctionEventInvokeConfigs',
            kind: 'set',
            path: 'FunctionEventInvokeConfigs.0.MaximumRetryAttempts',
            value: 'twice',
            count: 1,
          },
        ],
      },
    });

    const result = await apply(h, [policy({ asyncInvocation: { maximumRetryAttempts: 0 } })]);

    const broken = result.plan.functions.find((f) => f.name === 'a-broken');
    expect(broken?.refusals).toMatchObject([{ field: 'asyncInvocation', reason: 'NotRead' }]);
    const asyncWrites = (await writes(h)).filter((w) => w.api.endsWith('FunctionEventInvokeConfig'));
    expect(asyncWrites.map((w) => w.function)).toEqual(['b-fine']);
  });

  it('a DescribeLogGroups listing that repeats its token ends (typed) and leaves retention NotRead', async () => {
    // 60 default groups make the prefix listing two pages; every answer repeats the first page's token.
    const fns = Array.from({ length: 60 }, (_, i) =>
      seedFn(`f-${String(i).padStart(2, '0')}`, { logRetentionDays: 7 }),
    );
    const faults: FaultOptions = { answers: [{ api: 'DescribeLogGroups', kind: 'repeatToken', count: many }] };
    h = await startHarness({ seed: { functions: fns }, faults });

    const result = await apply(h, [policy({ logRetentionDays: 30 })]);

    expect(result.plan.functions).toHaveLength(60);
    for (const f of result.plan.functions) {
      expect(f.refusals).toMatchObject([{ field: 'logRetentionDays', reason: 'NotRead' }]);
    }
    expect(result.fleet.calls.byApi.DescribeLogGroups).toBeLessThan(5);
    expect((await writes(h)).filter((w) => w.api === 'PutRetentionPolicy')).toEqual([]);
  });

  it('a log group whose retention is not a number: NotRead, not "never expire"', async () => {
    h = await startHarness({
      seed: { functions: [seedFn('one', { logRetentionDays: 7 })] },
      faults: {
        answers: [
          { api: 'DescribeLogGroups', kind: 'set', path: 'logGroups.0.retentionInDays', value: 'week', count: 1 },
        ],
      },
    });

    const result = await apply(h, [policy({ logRetentionDays: 30 }, ['one'])]);

    expect(result.plan.functions[0]?.refusals).toMatchObject([{ field: 'logRetentionDays', reason: 'NotRead' }]);
    expect((await writes(h)).filter((w) => w.api === 'PutRetentionPolicy')).toEqual([]);
  });
});
