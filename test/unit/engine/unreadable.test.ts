import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { FleetSnapshot } from '../../../src/engine/model.ts';
import { plan } from '../../../src/engine/plan.ts';
import { fleetArb, instant, policies, REGIONS } from './arbitraries.ts';

const OPTIONS = { defaultRegions: [...REGIONS] };

/** Marks every function whose index is in `picks` as not parsed. */
function markUnreadable(fleet: FleetSnapshot, picks: ReadonlySet<number>): Set<string> {
  const marked = new Set<string>();
  let i = 0;
  for (const r of fleet.regions) {
    for (const f of r.functions) {
      if (picks.has(i++)) {
        f.unreadable = ['MemorySize "big" is not an integer in 128..10240'];
        marked.add(`${r.region}/${f.name}`);
      }
    }
  }
  return marked;
}

describe('functions whose AWS answer did not parse', () => {
  it('are never written to, and each one matched is reported NotRead for every matching policy', () => {
    fc.assert(
      fc.property(
        policies,
        fleetArb(),
        instant,
        fc.uniqueArray(fc.nat(40), { maxLength: 10 }),
        (ps, fleet, now, picks) => {
          const marked = markUnreadable(fleet, new Set(picks));
          const p = plan(ps, fleet, now, OPTIONS);
          for (const f of p.functions) {
            if (!marked.has(`${f.region}/${f.name}`)) continue;
            expect(f.actions).toEqual([]);
            expect(f.compliant).toBe(false);
            expect(f.refusals.map((r) => r.policy).sort()).toEqual([...f.policies].sort());
            expect(f.refusals.every((r) => r.reason === 'NotRead' && r.message.includes('MemorySize "big"'))).toBe(
              true,
            );
          }
        },
      ),
      { numRuns: 200 },
    );
  }, 120_000);
});
