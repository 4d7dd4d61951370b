import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Selector } from '../../../src/api/schema.ts';
import {
  globMatches,
  literalPrefix,
  literalSuffix,
  matches,
  PolicyIndex,
  regionsOf,
} from '../../../src/engine/select.ts';
import { fn, policy } from './fixtures.ts';

const DEFAULT = ['eu-central-1'];

describe('globMatches', () => {
  it.each([
    ['orders-*', 'orders-api', true],
    ['orders-*', 'orders-', true],
    ['orders-*', 'xorders-api', false],
    ['*-canary', 'orders-canary', true],
    ['*-canary', 'orders-canary-2', false],
    ['orders-?', 'orders-1', true],
    ['orders-?', 'orders-12', false],
    ['orders-?', 'orders-', false],
    ['payments-api', 'payments-api', true],
    ['payments-api', 'payments-api2', false],
    ['*', '', true],
    ['*', 'anything', true],
    ['a*b*c', 'aXXbYYc', true],
    ['a*b*c', 'aXXbYY', false],
    ['fn.v1', 'fnXv1', false],
    ['fn.v1', 'fn.v1', true],
    ['(x)+[y]{2}^$|\\', '(x)+[y]{2}^$|\\', true],
    ['Orders-*', 'orders-api', false],
  ])('%s vs %s -> %s', (glob, name, expected) => {
    expect(globMatches(glob, name)).toBe(expected);
  });

  it.each([
    ['orders-*', 'orders-', ''],
    ['*-canary', '', '-canary'],
    ['a?b*c', 'a', 'c'],
    ['exact', 'exact', 'exact'],
    ['*', '', ''],
  ])('literal prefix/suffix of %s', (glob, prefix, suffix) => {
    expect(literalPrefix(glob)).toBe(prefix);
    expect(literalSuffix(glob)).toBe(suffix);
  });
});

describe('matches', () => {
  const orders = fn('orders-api', { tags: { tier: 'api', team: 'orders' } });
  const cases: [string, Selector, ReturnType<typeof fn>, boolean][] = [
    ['name glob matches', { functionNames: ['orders-*'] }, orders, true],
    ['any of several globs', { functionNames: ['payments-*', 'orders-api'] }, orders, true],
    ['no glob matches', { functionNames: ['payments-*'] }, orders, false],
    ['excluded by glob', { functionNames: ['orders-*'], excludeFunctionNames: ['*-api'] }, orders, false],
    [
      'exclusion that does not apply',
      { functionNames: ['orders-*'], excludeFunctionNames: ['*-canary'] },
      orders,
      true,
    ],
    ['exclusion alone is no criterion', { excludeFunctionNames: ['x'] }, orders, false],
    ['no criterion matches nothing', {}, orders, false],
    ['empty tags is no criterion', { tags: {} }, orders, false],
    ['empty functionNames matches no name', { functionNames: [] }, orders, false],
    [
      'empty functionNames with tags still matches no name',
      { functionNames: [], tags: { tier: 'api' } },
      orders,
      false,
    ],
    ['tags all equal', { tags: { tier: 'api', team: 'orders' } }, orders, true],
    ['one tag differs', { tags: { tier: 'api', team: 'payments' } }, orders, false],
    ['tag missing', { tags: { env: 'prod' } }, orders, false],
    ['tag values are case-sensitive', { tags: { tier: 'API' } }, orders, false],
    ['names and tags must both hold', { functionNames: ['orders-*'], tags: { tier: 'worker' } }, orders, false],
    ['In holds', { tagExpressions: [{ key: 'team', operator: 'In', values: ['orders', 'payments'] }] }, orders, true],
    ['In with other value', { tagExpressions: [{ key: 'team', operator: 'In', values: ['payments'] }] }, orders, false],
    ['In with absent key', { tagExpressions: [{ key: 'env', operator: 'In', values: ['prod'] }] }, orders, false],
    ['In with no values', { tagExpressions: [{ key: 'team', operator: 'In', values: [] }] }, orders, false],
    ['NotIn holds', { tagExpressions: [{ key: 'team', operator: 'NotIn', values: ['payments'] }] }, orders, true],
    ['NotIn fails', { tagExpressions: [{ key: 'team', operator: 'NotIn', values: ['orders'] }] }, orders, false],
    [
      'NotIn holds when key absent',
      { tagExpressions: [{ key: 'env', operator: 'NotIn', values: ['prod'] }] },
      orders,
      true,
    ],
    ['Exists holds', { tagExpressions: [{ key: 'team', operator: 'Exists' }] }, orders, true],
    ['Exists fails', { tagExpressions: [{ key: 'env', operator: 'Exists' }] }, orders, false],
    ['DoesNotExist holds', { tagExpressions: [{ key: 'env', operator: 'DoesNotExist' }] }, orders, true],
    ['DoesNotExist fails', { tagExpressions: [{ key: 'team', operator: 'DoesNotExist' }] }, orders, false],
    [
      'all expressions must hold',
      {
        tagExpressions: [
          { key: 'team', operator: 'Exists' },
          { key: 'tier', operator: 'In', values: ['worker'] },
        ],
      },
      orders,
      false,
    ],
    ['default region', { functionNames: ['*'] }, orders, true],
    ['other default region', { functionNames: ['*'] }, fn('x', { region: 'us-east-1' }), false],
    ['policy region', { regions: ['us-east-1'], functionNames: ['*'] }, fn('x', { region: 'us-east-1' }), true],
    ['policy regions replace defaults', { regions: ['us-east-1'], functionNames: ['*'] }, orders, false],
    ['empty regions mean default', { regions: [], functionNames: ['*'] }, orders, true],
    ['tag key named like a prototype member', { tags: { constructor: 'x' } }, orders, false],
  ];
  it.each(cases)('%s', (_title, selector, f, expected) => {
    expect(matches(policy('p', { selector }), f, DEFAULT)).toBe(expected);
  });
});

describe('regionsOf', () => {
  it('unions policy regions and defaults, skips suspended policies, sorted', () => {
    const ps = [
      policy('a', { selector: { regions: ['us-east-1'], functionNames: ['*'] } }),
      policy('b', { selector: { functionNames: ['*'] } }),
      policy('c', { selector: { regions: ['ap-south-1'], functionNames: ['*'] }, suspend: true }),
    ];
    expect(regionsOf(ps, ['eu-west-1', 'eu-central-1'])).toEqual(['eu-central-1', 'eu-west-1', 'us-east-1']);
  });
});

describe('PolicyIndex', () => {
  const word = fc.constantFrom('orders', 'pay', 'api', 'x', 'a-b', 'canary', '1');
  const glob = fc
    .array(fc.oneof(word, fc.constantFrom('*', '?', '-')), { minLength: 1, maxLength: 4 })
    .map((parts) => parts.join(''));
  const tagMap = fc.dictionary(fc.constantFrom('team', 'tier', 'env'), fc.constantFrom('a', 'b', 'c'), { maxKeys: 3 });
  const selector: fc.Arbitrary<Selector> = fc.record(
    {
      regions: fc.subarray(['eu-central-1', 'us-east-1']),
      functionNames: fc.array(glob, { maxLength: 3 }),
      excludeFunctionNames: fc.array(glob, { maxLength: 2 }),
      tags: tagMap,
      tagExpressions: fc.array(
        fc.record({
          key: fc.constantFrom('team', 'tier', 'env'),
          operator: fc.constantFrom('In', 'NotIn', 'Exists', 'DoesNotExist'),
          values: fc.array(fc.constantFrom('a', 'b', 'c'), { maxLength: 3 }),
        }),
        { maxLength: 2 },
      ),
    },
    { requiredKeys: [] },
  );
  const func = fc.record({
    region: fc.constantFrom('eu-central-1', 'us-east-1'),
    name: fc.array(word, { minLength: 1, maxLength: 3 }).map((p) => p.join('-')),
    tags: tagMap,
  });

  it('finds exactly the policies a brute-force scan finds, in input order', () => {
    fc.assert(
      fc.property(fc.array(selector, { maxLength: 12 }), fc.array(func, { maxLength: 12 }), (selectors, fns) => {
        const ps = selectors.map((s, i) => policy(`ns/p${i}`, { selector: s }));
        const index = new PolicyIndex(ps, DEFAULT);
        for (const f of fns) {
          expect(index.matching(f)).toEqual(ps.filter((p) => matches(p, f, DEFAULT)));
        }
      }),
    );
  });
});
