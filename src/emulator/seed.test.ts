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
