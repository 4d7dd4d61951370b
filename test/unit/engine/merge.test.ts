import { describe, expect, it } from 'vitest';
import type { Settings } from '../../../src/api/schema.ts';
import { mergeEnforce } from '../../../src/engine/merge.ts';
import type { PolicyInput } from '../../../src/engine/model.ts';
import { policy } from './fixtures.ts';

const winners = (ps: PolicyInput[]) => {
  const m = mergeEnforce(ps).settings;
  return Object.fromEntries(Object.entries(m).map(([field, w]) => [field, w?.policy.id]));
};

describe('mergeEnforce', () => {
  const block = (qualifier: string, value: number): NonNullable<Settings['provisionedConcurrency']> => ({
    qualifier,
    value,
  });
  it.each<[string, PolicyInput[], Record<string, string>]>([
    [
      'highest priority wins',
      [
        policy('a/low', { priority: 1, settings: { memorySize: 256 } }),
        policy('z/high', { priority: 5, settings: { memorySize: 1024 } }),
      ],
      { memorySize: 'z/high' },
    ],
    [
      'tie goes to the id that sorts first',
      [policy('b/x', { settings: { timeout: 5 } }), policy('a/y', { settings: { timeout: 9 } })],
      { timeout: 'a/y' },
    ],
    [
      'ids compare by code unit, not locale (uppercase sorts before lowercase)',
      [policy('ns/b', { settings: { timeout: 5 } }), policy('ns/B', { settings: { timeout: 9 } })],
      { timeout: 'ns/B' },
    ],
    [
      'negative priority loses to default 0',
      [policy('a/neg', { priority: -1, settings: { timeout: 5 } }), policy('b/zero', { settings: { timeout: 9 } })],
      { timeout: 'b/zero' },
    ],
    [
      'per field: different winners per field',
      [
        policy('a/p', { priority: 1, settings: { memorySize: 256 } }),
        policy('b/q', { settings: { memorySize: 512, timeout: 3 } }),
      ],
      { memorySize: 'a/p', timeout: 'b/q' },
    ],
    [
      'absent fields are not governed and do not win',
      [policy('a/p', { priority: 9, settings: {} }), policy('b/q', { settings: { architecture: 'arm64' } })],
      { architecture: 'b/q' },
    ],
    [
      'provisioned block merged as one',
      [
        policy('a/p', { priority: 2, settings: { provisionedConcurrency: block('live', 1) } }),
        policy('b/q', { priority: 1, settings: { provisionedConcurrency: block('blue', 9) } }),
      ],
      { provisionedConcurrency: 'a/p' },
    ],
    [
      'Audit policies never win',
      [
        policy('a/audit', { mode: 'Audit', priority: 100, settings: { memorySize: 128 } }),
        policy('b/enf', { settings: { memorySize: 2048 } }),
      ],
      { memorySize: 'b/enf' },
    ],
    [
      'suspended policies are ignored',
      [
        policy('a/susp', { suspend: true, priority: 100, settings: { memorySize: 128 } }),
        policy('b/enf', { settings: { memorySize: 2048 } }),
      ],
      { memorySize: 'b/enf' },
    ],
    [
      'reserved "Unreserved" is a value like any other',
      [
        policy('a/p', { priority: 3, settings: { reservedConcurrency: 'Unreserved' } }),
        policy('b/q', { settings: { reservedConcurrency: 10 } }),
      ],
      { reservedConcurrency: 'a/p' },
    ],
  ])('%s', (_title, ps, expected) => {
    expect(winners(ps)).toEqual(expected);
    expect(winners([...ps].reverse())).toEqual(expected);
  });

  it('takes the whole block from the winner', () => {
    const merged = mergeEnforce([
      policy('a/p', { priority: 2, settings: { provisionedConcurrency: { qualifier: 'live', value: 1 } } }),
      policy('b/q', {
        settings: {
          provisionedConcurrency: {
            qualifier: 'live',
            value: 3,
            windows: [{ name: 'w', start: '0 8 * * *', end: '0 9 * * *', value: 7 }],
          },
        },
      }),
    ]);
    expect(merged.settings.provisionedConcurrency?.value).toEqual({ qualifier: 'live', value: 1 });
  });

  it('reports every losing field as Overridden naming the winner; Audit and suspended never appear', () => {
    const { overridden } = mergeEnforce([
      policy('c/third', { settings: { memorySize: 1, timeout: 1 } }),
      policy('a/first', { priority: 10, settings: { memorySize: 2 } }),
      policy('b/second', { priority: 5, settings: { memorySize: 3, timeout: 3 } }),
      policy('d/audit', { mode: 'Audit', settings: { memorySize: 4 } }),
      policy('e/susp', { suspend: true, settings: { memorySize: 5 } }),
    ]);
    expect(overridden).toEqual([
      { field: 'memorySize', policy: 'b/second', winner: 'a/first' },
      { field: 'memorySize', policy: 'c/third', winner: 'a/first' },
      { field: 'timeout', policy: 'c/third', winner: 'b/second' },
    ]);
  });
});
