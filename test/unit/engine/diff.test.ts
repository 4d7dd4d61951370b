/**
 * Every planned write says which drift fields it corrects (the tag status uses to tell a remediated field from one
 * whose write failed), and the tag never leaks into plan output.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { plan } from '../../../src/engine/plan.ts';
import { fleetArb, instant, policies, REGIONS } from './arbitraries.ts';

const OPTIONS = { defaultRegions: [...REGIONS] };

describe('action field tags', () => {
  it('every action carries the fields it corrects, each one a drift field of its function', () => {
    fc.assert(
      fc.property(policies, fleetArb(), instant, (ps, fleet, now) => {
        for (const fp of plan(ps, fleet, now, OPTIONS).functions) {
          const drifted = new Set(fp.drift.map((d) => d.field));
          for (const action of fp.actions) {
            expect(action.fields?.length ?? 0, action.api).toBeGreaterThan(0);
            for (const field of action.fields ?? []) expect(drifted, `${action.api} -> ${field}`).toContain(field);
          }
        }
      }),
      { numRuns: 150 },
    );
  }, 120_000);

  it('is not part of the action as serialised (plan -o json stays the AWS request)', () => {
    fc.assert(
      fc.property(policies, fleetArb(), instant, (ps, fleet, now) => {
        for (const fp of plan(ps, fleet, now, OPTIONS).functions) {
          for (const action of fp.actions) expect(JSON.stringify(action)).not.toContain('"fields"');
        }
      }),
      { numRuns: 50 },
    );
  }, 120_000);
});
