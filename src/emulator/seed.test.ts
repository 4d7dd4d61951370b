import { describe, expect, it } from 'vitest';
import { applySeed, SeedError, validateSeed } from './seed.ts';
import { Store } from './store.ts';

describe('validateSeed', () => {
  it.each([
    [{ functions: [{ region: 'eu-central-1' }] }, 'seed.functions[0].name'],
    [{ functions: [{ name: 'a', region: 'europe' }] }, 'seed.functions[0].region'],
    [{ functions: [{ name: 'a', region: 'eu-central-1', memorySize: 64 }] }, 'seed.functions[0].memorySize'],
    [{ functions: [{ name: 'a', region: 'eu-central-1', timeout: 901 }] }, 'seed.functions[0].timeout'],
    [{ functions: [{ name: 'a', region: 'eu-central-1', architecture: 'arm' }] }, 'seed.functions[0].architecture'],
    [{ functions: [{ name: 'a', region: 'eu-central-1', aliases: [{ name: '1', version: '1' }] }] }, 'aliases[0].name'],
    [
      { functions: [{ name: 'a', region: 'eu-central-1', aliases: [{ name: 'live', version: '$LATEST' }] }] },
      'aliases[0].version',
    ],
    [
      {
        functions: [
          { name: 'a', region: 'eu-central-1' },
          { name: 'a', region: 'eu-central-1' },
        ],
      },
      'duplicate function eu-central-1/a',
    ],
    [{ accountConcurrency: 'lots' }, 'seed.accountConcurrency'],
    // Limits: a huge version number would publish that many versions and exhaust memory.
    [
      { functions: [{ name: 'a', region: 'eu-central-1', aliases: [{ name: 'live', version: '99999999999' }] }] },
      'aliases[0].version: must be a published version number from 1 to 10000',
    ],
    [
      { functions: [{ name: 'a', region: 'eu-central-1', aliases: [{ name: 'live', version: '10001' }] }] },
      'aliases[0].version',
    ],
    [
      {
        functions: [
          {
            name: 'a',
            region: 'eu-central-1',
            tags: Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`k${i}`, 'v'])),
          },
        ],
      },
      'seed.functions[0].tags: must have at most 50 tags',
    ],
    [{ functions: [{ name: 'a', region: 'eu-central-1', description: 'x'.repeat(5000) }] }, 'description'],
  ])('rejects %j naming %s', (doc, where) => {
    expect(() => validateSeed(doc)).toThrow(SeedError);
    expect(() => validateSeed(doc)).toThrow(where);
  });

  it('accepts the spec example and stringifies tag values', () => {
    const seed = validateSeed({
      accountConcurrency: 1000,
      functions: [
        {
          name: 'orders-api',
          region: 'eu-central-1',
          memorySize: 512,
          timeout: 30,
          architecture: 'x86_64',
          packageType: 'Zip',
          runtime: 'nodejs22.x',
          tags: { tier: 'api', team: 'orders', cost: 42 },
          reservedConcurrency: 50,
          aliases: [{ name: 'live', version: 3, provisionedConcurrency: 5 }],
        },
      ],
    });

    expect(seed.functions?.[0]?.tags).toEqual({ tier: 'api', team: 'orders', cost: '42' });
    expect(seed.functions?.[0]?.aliases).toEqual([{ name: 'live', version: '3', provisionedConcurrency: 5 }]);
  });
});

describe('applySeed', () => {
  it('publishes versions up to the highest alias version and sets provisioned concurrency READY', () => {
    const store = new Store('123456789012', { concurrentExecutions: 1000, unreservedFloor: 100 });

    applySeed(
      store,
      {
        functions: [
          {
            name: 'orders-api',
            region: 'eu-central-1',
            reservedConcurrency: 50,
            aliases: [
              { name: 'live', version: '3', provisionedConcurrency: 5 },
              { name: 'beta', version: '1' },
            ],
          },
        ],
      },
      0,
    );
    const fn = store.region('eu-central-1').functions.get('orders-api');

    expect([...(fn?.versions.keys() ?? [])]).toEqual(['1', '2', '3']);
    expect(fn?.aliases.get('live')?.functionVersion).toBe('3');
    expect(fn?.provisioned.get('live')).toMatchObject({ requested: 5, readyAt: 0 });
    expect(store.unreservedConcurrency('eu-central-1')).toBe(950);
  });
});

describe('seed: production fields', () => {
  const fn = (extra: Record<string, unknown>) => ({ functions: [{ name: 'a', region: 'eu-central-1', ...extra }] });

  it.each([
    [fn({ logging: { format: 'Text', applicationLogLevel: 'INFO' } }), 'seed.functions[0].logging'],
    [fn({ logging: { format: 'XML' } }), 'seed.functions[0].logging.format'],
    [fn({ tracing: 'On' }), 'seed.functions[0].tracing'],
    [fn({ environment: { '1BAD': 'x' } }), 'seed.functions[0].environment.1BAD'],
    [fn({ environment: { BIG: 'x'.repeat(4094) } }), 'seed.functions[0].environment'],
    [
      fn({ layers: [{ name: 'l', compatibleArchitectures: ['arm'] }] }),
      'seed.functions[0].layers[0].compatibleArchitectures',
    ],
    [fn({ codeSize: -1 }), 'seed.functions[0].codeSize'],
    [fn({ deadLetterTarget: 'queue' }), 'seed.functions[0].deadLetterTarget'],
    [fn({ asyncInvocation: { maximumRetryAttempts: 3 } }), 'seed.functions[0].asyncInvocation.maximumRetryAttempts'],
    [fn({ logRetentionDays: 45 }), 'seed.functions[0].logRetentionDays'],
  ])('rejects %j naming %s', (doc, where) => {
    expect(() => validateSeed(doc)).toThrow(SeedError);
    expect(() => validateSeed(doc)).toThrow(where);
  });

  it('creates layers once per shape, log groups, EventInvokeConfigs and the configuration fields', () => {
    const store = new Store('123456789012', { concurrentExecutions: 1000, unreservedFloor: 100 });
    const layer = { name: 'deps', compatibleArchitectures: ['arm64'], codeSize: 5000 };
    const seed = validateSeed({
      functions: [
        {
          name: 'a',
          region: 'eu-central-1',
          layers: [layer],
          logging: { format: 'JSON', systemLogLevel: 'WARN' },
          tracing: 'Active',
          environment: { TABLE: 'orders' },
          codeSize: 1234,
          deadLetterTarget: 'arn:aws:sqs:eu-central-1:123456789012:dlq',
          asyncInvocation: { maximumRetryAttempts: 0, onFailureDestination: 'arn:aws:sqs:eu-central-1:123456789012:f' },
          logRetentionDays: 14,
        },
        { name: 'b', region: 'eu-central-1', layers: [layer, { ...layer, codeSize: 6000 }], logRetentionDays: 'Never' },
      ],
    });
    applySeed(store, seed, 0);
    const region = store.region('eu-central-1');
    const a = region.functions.get('a');
    expect(region.layers.get('deps')?.map((l) => [l.version, l.codeSize])).toEqual([
      [1, 5000],
      [2, 6000],
    ]);
    expect(a?.config).toMatchObject({
      codeSize: 1234,
      tracing: 'Active',
      environment: { TABLE: 'orders' },
      deadLetterTarget: 'arn:aws:sqs:eu-central-1:123456789012:dlq',
      logging: { format: 'JSON', applicationLogLevel: 'INFO', systemLogLevel: 'WARN', logGroup: '/aws/lambda/a' },
      layers: [{ arn: 'arn:aws:lambda:eu-central-1:123456789012:layer:deps:1', codeSize: 5000 }],
    });
    expect(a?.eventInvoke.get('$LATEST')).toMatchObject({
      maximumRetryAttempts: 0,
      onFailure: 'arn:aws:sqs:eu-central-1:123456789012:f',
    });
    expect(region.logGroups.get('/aws/lambda/a')?.retentionInDays).toBe(14);
    expect(region.logGroups.get('/aws/lambda/b')).toBeDefined();
    expect(region.logGroups.get('/aws/lambda/b')?.retentionInDays).toBeUndefined();
  });
});
