import { describe, expect, it } from 'vitest';
import type { Settings } from '../../../src/api/schema.ts';
import type { Action, Drift, FunctionPlan, ObservedFunction } from '../../../src/engine/model.ts';
import { plan } from '../../../src/engine/plan.ts';
import { requiredReads } from '../../../src/engine/requirements.ts';
import { fleet, fn, OPTIONS, policy, REGION, region } from './fixtures.ts';

const NOW = new Date('2026-12-01T09:00:00Z');
const TEXT = { format: 'Text' as const, logGroup: '/aws/lambda/f' };
const JSON_INFO = {
  format: 'JSON' as const,
  applicationLogLevel: 'INFO',
  systemLogLevel: 'INFO',
  logGroup: '/aws/lambda/f',
};

function planOne(settings: Settings, f: ObservedFunction, mode: 'Enforce' | 'Audit' = 'Enforce'): FunctionPlan {
  const p = plan([policy('platform/p', { settings, mode })], fleet(region([f])), NOW, OPTIONS);
  const only = p.functions[0];
  if (!only) throw new Error('function not planned');
  return only;
}
const fields = (drift: readonly Drift[]) => drift.map((d) => d.field);

describe('logging and tracing: one UpdateFunctionConfiguration with memory and timeout', () => {
  it.each<[string, Settings, Partial<ObservedFunction>, string[], Action[]]>([
    [
      'format differs',
      { logging: { format: 'JSON' } },
      { logging: TEXT },
      ['logging'],
      [{ api: 'UpdateFunctionConfiguration', logging: { format: 'JSON' } }],
    ],
    ['format holds, no levels governed', { logging: { format: 'JSON' } }, { logging: JSON_INFO }, [], []],
    [
      'a governed level differs',
      { logging: { format: 'JSON', applicationLogLevel: 'WARN' } },
      { logging: JSON_INFO },
      ['logging'],
      [{ api: 'UpdateFunctionConfiguration', logging: { format: 'JSON', applicationLogLevel: 'WARN' } }],
    ],
    [
      'both levels hold',
      { logging: { format: 'JSON', applicationLogLevel: 'INFO', systemLogLevel: 'INFO' } },
      { logging: JSON_INFO },
      [],
      [],
    ],
    [
      'Text wanted, JSON in place',
      { logging: { format: 'Text' } },
      { logging: JSON_INFO },
      ['logging'],
      [{ api: 'UpdateFunctionConfiguration', logging: { format: 'Text' } }],
    ],
    ['no logging read: AWS default Text', { logging: { format: 'Text' } }, {}, [], []],
    [
      'tracing differs',
      { tracing: 'Active' },
      { tracing: 'PassThrough' },
      ['tracing'],
      [{ api: 'UpdateFunctionConfiguration', tracing: 'Active' }],
    ],
    ['tracing holds', { tracing: 'Active' }, { tracing: 'Active' }, [], []],
    [
      'memory, timeout, logging and tracing together',
      { memorySize: 1024, timeout: 10, logging: { format: 'JSON' }, tracing: 'Active' },
      { logging: TEXT, tracing: 'PassThrough' },
      ['memorySize', 'timeout', 'logging', 'tracing'],
      [
        {
          api: 'UpdateFunctionConfiguration',
          memorySize: 1024,
          timeout: 10,
          logging: { format: 'JSON' },
          tracing: 'Active',
        },
      ],
    ],
  ])('%s', (_name, settings, over, driftFields, actions) => {
    const fp = planOne(settings, fn('f', over));
    expect(fields(fp.drift)).toEqual(driftFields);
    expect(fp.actions).toEqual(actions);
    expect(fp.compliant).toBe(driftFields.length === 0);
  });

  it('shows only the governed parts of logging in the drift', () => {
    const fp = planOne({ logging: { format: 'JSON', systemLogLevel: 'WARN' } }, fn('f', { logging: JSON_INFO }));
    expect(fp.drift).toEqual([
      {
        field: 'logging',
        desired: { format: 'JSON', systemLogLevel: 'WARN' },
        actual: { format: 'JSON', systemLogLevel: 'INFO' },
        policy: 'platform/p',
      },
    ]);
  });
});

describe('asyncInvocation', () => {
  it.each<[string, NonNullable<Settings['asyncInvocation']>, ObservedFunction['asyncConfig'], Action[], string[]]>([
    ['no config, AWS defaults match', { maximumRetryAttempts: 2, maximumEventAgeSeconds: 21600 }, null, [], []],
    [
      'no config: Put creates one',
      { maximumRetryAttempts: 0 },
      null,
      [{ api: 'PutFunctionEventInvokeConfig', maximumRetryAttempts: 0 }],
      [],
    ],
    [
      'a config with destinations: Update keeps them',
      { maximumRetryAttempts: 1, maximumEventAgeSeconds: 3600 },
      {
        maximumRetryAttempts: 2,
        onFailureDestination: 'arn:aws:sqs:eu-central-1:123456789012:dlq',
      },
      [{ api: 'UpdateFunctionEventInvokeConfig', maximumRetryAttempts: 1, maximumEventAgeSeconds: 3600 }],
      [],
    ],
    ['config holds', { maximumRetryAttempts: 1 }, { maximumRetryAttempts: 1, maximumEventAgeSeconds: 60 }, [], []],
    ['not read: refused, never guessed', { maximumRetryAttempts: 1 }, undefined, [], ['asyncInvocation:NotRead']],
  ])('%s', (_name, wanted, asyncConfig, actions, refusals) => {
    const f = fn('f', asyncConfig === undefined ? {} : { asyncConfig });
    const fp = planOne({ asyncInvocation: wanted }, f);
    expect(fp.actions).toEqual(actions);
    expect(fp.refusals.map((r) => `${r.field}:${r.reason}`)).toEqual(refusals);
  });

  it('comes after the configuration write', () => {
    const fp = planOne(
      { memorySize: 1024, asyncInvocation: { maximumRetryAttempts: 0 } },
      fn('f', { asyncConfig: null }),
    );
    expect(fp.actions.map((a) => a.api)).toEqual(['UpdateFunctionConfiguration', 'PutFunctionEventInvokeConfig']);
  });
});

describe('logRetentionDays', () => {
  it.each<[string, ObservedFunction['logGroup'], Action[], unknown, string[]]>([
    [
      'differs',
      { name: '/aws/lambda/f', exists: true, retentionInDays: 7 },
      [{ api: 'PutRetentionPolicy', logGroupName: '/aws/lambda/f', retentionInDays: 30 }],
      7,
      [],
    ],
    [
      'never expires',
      { name: '/custom/group', exists: true, retentionInDays: null },
      [{ api: 'PutRetentionPolicy', logGroupName: '/custom/group', retentionInDays: 30 }],
      'Never expire',
      [],
    ],
    ['holds', { name: '/aws/lambda/f', exists: true, retentionInDays: 30 }, [], undefined, []],
    [
      'no group yet: nothing kept, nothing to do',
      { name: '/aws/lambda/f', exists: false, retentionInDays: null },
      [],
      undefined,
      [],
    ],
    ['not read', undefined, [], undefined, ['logRetentionDays:NotRead']],
  ])('%s', (_name, logGroup, actions, actual, refusals) => {
    const fp = planOne({ logRetentionDays: 30 }, fn('f', logGroup === undefined ? {} : { logGroup }));
    expect(fp.actions).toEqual(actions);
    expect(fp.drift[0]?.actual).toEqual(actual);
    expect(fp.refusals.map((r) => `${r.field}:${r.reason}`)).toEqual(refusals);
  });
});

describe('Audit policies report the production settings and never act', () => {
  it('drifts on every field, no action', () => {
    const f = fn('f', {
      logging: TEXT,
      tracing: 'PassThrough',
      asyncConfig: null,
      logGroup: { name: '/aws/lambda/f', exists: true, retentionInDays: null },
    });
    const fp = planOne(
      {
        logging: { format: 'JSON' },
        tracing: 'Active',
        asyncInvocation: { maximumRetryAttempts: 0 },
        logRetentionDays: 14,
      },
      f,
      'Audit',
    );
    expect(fp.actions).toEqual([]);
    expect(fields(fp.auditDrift)).toEqual(['logging', 'tracing', 'asyncInvocation', 'logRetentionDays']);
  });
});

describe('merging', () => {
  it('logging is one block: levels never mix policies', () => {
    const high = policy('platform/high', { priority: 10, settings: { logging: { format: 'Text' } } });
    const low = policy('platform/low', { settings: { logging: { format: 'JSON', applicationLogLevel: 'WARN' } } });
    const p = plan([high, low], fleet(region([fn('f', { logging: JSON_INFO })])), NOW, OPTIONS);
    expect(p.functions[0]?.actions).toEqual([{ api: 'UpdateFunctionConfiguration', logging: { format: 'Text' } }]);
    expect(p.functions[0]?.overridden).toEqual([{ field: 'logging', policy: 'platform/low', winner: 'platform/high' }]);
  });
});

describe('reads only where governed', () => {
  it.each<[string, Parameters<typeof policy>[1], Partial<ObservedFunction>, Record<string, boolean | undefined>]>([
    [
      'nothing new governed',
      { settings: { memorySize: 128 } },
      {},
      { asyncConfig: undefined, layers: undefined, logGroup: undefined },
    ],
    ['asyncInvocation', { settings: { asyncInvocation: { maximumRetryAttempts: 0 } } }, {}, { asyncConfig: true }],
    [
      'on-failure destination required, no DLQ',
      { settings: {}, checks: { asyncFailureDestination: 'Required' } },
      {},
      { asyncConfig: true },
    ],
    [
      'on-failure destination required, DLQ set',
      { settings: {}, checks: { asyncFailureDestination: 'Required' } },
      { deadLetterTarget: 'arn:aws:sqs:eu-central-1:1:q' },
      { asyncConfig: undefined },
    ],
    [
      'layers checked, function has layers',
      { settings: {}, checks: { layersSupportArchitecture: true } },
      { layers: [{ arn: 'arn:aws:lambda:eu-central-1:1:layer:l:1', codeSize: 1 }] },
      { layers: true },
    ],
    [
      'layers checked, none attached',
      { settings: {}, checks: { layersSupportArchitecture: true } },
      {},
      { layers: undefined },
    ],
    ['log retention', { settings: { logRetentionDays: 30 } }, {}, { logGroup: true }],
    [
      'runtime/secrets/size read nothing extra',
      {
        settings: {},
        checks: { maxPackageSizeMB: 3, noSecretsInEnvironment: true, runtime: { deprecatedWithinDays: 30 } },
      },
      {},
      { asyncConfig: undefined, layers: undefined, logGroup: undefined },
    ],
  ])('%s', (_name, over, fnOver, expected) => {
    const [req] = requiredReads([policy('platform/p', over)], REGION, [fn('f', fnOver)], [REGION]);
    for (const [key, value] of Object.entries(expected)) expect(req?.[key as keyof typeof req], key).toBe(value);
  });
});

describe('a log group shared by several functions', () => {
  const shared = { name: '/platform/shared', exists: true, retentionInDays: 7 };
  const logging = { format: 'Text' as const, logGroup: '/platform/shared' };

  it('is written once per plan', () => {
    const p = plan(
      [policy('platform/p', { settings: { logRetentionDays: 30 } })],
      fleet(region([fn('a', { logging, logGroup: shared }), fn('b', { logging, logGroup: shared })])),
      NOW,
      OPTIONS,
    );
    expect(p.functions.map((f) => [f.name, f.actions.map((a) => a.api), fields(f.drift)])).toEqual([
      ['a', ['PutRetentionPolicy'], ['logRetentionDays']],
      ['b', [], ['logRetentionDays']],
    ]);
  });

  it('two retentions for one group are refused, not written in turn', () => {
    const p = plan(
      [
        policy('platform/month', { settings: { logRetentionDays: 30 }, selector: { functionNames: ['a'] } }),
        policy('platform/week', { settings: { logRetentionDays: 7 }, selector: { functionNames: ['b'] } }),
      ],
      fleet(region([fn('a', { logging, logGroup: shared }), fn('b', { logging, logGroup: shared })])),
      NOW,
      OPTIONS,
    );
    expect(p.functions[0]?.actions).toEqual([
      { api: 'PutRetentionPolicy', logGroupName: '/platform/shared', retentionInDays: 30 },
    ]);
    expect(p.functions[1]?.refusals).toEqual([
      {
        field: 'logRetentionDays',
        reason: 'SharedLogGroup',
        message: 'log group /platform/shared is shared with a, whose policy platform/month wants 30 days',
        policy: 'platform/week',
      },
    ]);
  });
});
