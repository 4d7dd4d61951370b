import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { GlobSet, globMatches, type StepCounter } from '../../../src/engine/glob.ts';

/**
 * The reference: the textbook dynamic program over (glob position, name position), obviously correct and
 * O(glob x name). Characters are code points, as for a RegExp with the `u` flag.
 */
function reference(glob: string, name: string): boolean {
  const g = Array.from(glob);
  const n = Array.from(name);
  // row[j]: does g[0..i) match n[0..j)?
  let row = new Array<boolean>(n.length + 1).fill(false);
  row[0] = true;
  for (let i = 1; i <= g.length; i++) {
    const next = new Array<boolean>(n.length + 1).fill(false);
    const c = g[i - 1];
    if (c === '*') {
      next[0] = row[0] as boolean;
      for (let j = 1; j <= n.length; j++) next[j] = (row[j] as boolean) || (next[j - 1] as boolean);
    } else {
      for (let j = 1; j <= n.length; j++) next[j] = (row[j - 1] as boolean) && (c === '?' || c === n[j - 1]);
    }
    row = next;
  }
  return row[n.length] as boolean;
}

function steps(glob: string, name: string): number {
  const counter: StepCounter = { steps: 0 };
  globMatches(glob, name, counter);
  return counter.steps;
}

const small = (chars: string[], max: number) =>
  fc.array(fc.constantFrom(...chars), { maxLength: max }).map((a) => a.join(''));

describe('glob matching', () => {
  it('agrees with the reference on a small alphabet (where near-misses are common)', () => {
    fc.assert(
      fc.property(small(['a', 'b', '*', '?'], 12), small(['a', 'b'], 16), (glob, name) => {
        expect(globMatches(glob, name)).toBe(reference(glob, name));
      }),
      { numRuns: 5000 },
    );
  });

  it('agrees with the reference on arbitrary text (surrogate pairs count as one character for ?)', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.string({ maxLength: 10, unit: 'binary' }), small(['a', '😀', '*', '?', '-'], 10)),
        fc.oneof(fc.string({ maxLength: 20, unit: 'binary' }), small(['a', '😀', '-'], 20)),
        (glob, name) => {
          expect(globMatches(glob, name)).toBe(reference(glob, name));
        },
      ),
    );
  });

  it('agrees with an anchored RegExp translation where that one is fast', () => {
    const toRegExp = (glob: string) =>
      new RegExp(
        `^${Array.from(glob, (c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[\\^$.|+()[\]{}/]/g, '\\$&'))).join('')}$`,
        'su',
      );
    fc.assert(
      fc.property(small(['x', '-', '*', '?', '.', '('], 6), small(['x', '-', '.', '('], 10), (glob, name) => {
        expect(globMatches(glob, name)).toBe(toRegExp(glob).test(name));
      }),
    );
  });

  it('never takes more than (name + 1) x (glob + 1) comparisons, whatever the glob', () => {
    fc.assert(
      fc.property(small(['a', 'b', '*', '?'], 40), small(['a', 'b'], 64), (glob, name) => {
        expect(steps(glob, name)).toBeLessThanOrEqual((name.length + 1) * (glob.length + 1));
      }),
    );
  });

  it('the globs that make a backtracking RegExp run for minutes stay within the bound on 64-character names', () => {
    const nearMiss = 'a'.repeat(64);
    for (const glob of ['a*a*a*a*a*a*a*a*c', '*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b', `${'?*'.repeat(16)}c`]) {
      expect(globMatches(glob, nearMiss)).toBe(false);
      expect(steps(glob, nearMiss)).toBeLessThanOrEqual(65 * (glob.length + 1));
    }
    expect(globMatches('a*a*a*a*a*a*a*a*c', `${'a'.repeat(63)}c`)).toBe(true);
  });

  it('a set matches when any of its globs does', () => {
    const set = new GlobSet(['orders-*', '*-canary']);
    expect(set.test('orders-api')).toBe(true);
    expect(set.test('x-canary')).toBe(true);
    expect(set.test('payments')).toBe(false);
    expect(new GlobSet([]).test('x')).toBe(false);
  });
});
