import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { FleetSnapshot, ObservedFunction, Plan, RegionSnapshot } from '../../../src/engine/model.ts';
import { plan } from '../../../src/engine/plan.ts';
import { isOwnedActionName } from '../../../src/engine/schedule.ts';
import { fleetArb, instant, policies, REGIONS, wildFleet, wildPolicies } from './arbitraries.ts';

const OPTIONS = { defaultRegions: [...REGIONS] };
/** fast-check runs many plans; a generous timeout, never a performance assertion. */
const TIMEOUT = 120_000;

/** Applies a plan's actions to a copy of the fleet the way AWS would (the "apply" of the compliant-fleet property). */
function applyPlan(fleet: FleetSnapshot, p: Plan): FleetSnapshot {
  const regions: RegionSnapshot[] = structuredClone(fleet.regions);
  for (const fp of p.functions) {
    const r = regions.find((x) => x.region === fp.region) as RegionSnapshot;
    const f = r.functions.find((x) => x.name === fp.name) as ObservedFunction;
    for (const a of fp.actions) {
      switch (a.api) {
        case 'UpdateFunctionConfiguration':
          if (a.memorySize !== undefined) f.memorySize = a.memorySize;
          if (a.timeout !== undefined) f.timeout = a.timeout;
          break;
        case 'UpdateFunctionCode':
          f.architecture = a.architecture;
          break;
        case 'PutFunctionConcurrency':
          if (r.account)
            r.account.unreservedConcurrentExecutions -= a.reservedConcurrentExecutions - (f.reservedConcurrency ?? 0);
          f.reservedConcurrency = a.reservedConcurrentExecutions;
          break;
        case 'DeleteFunctionConcurrency':
          if (r.account) r.account.unreservedConcurrentExecutions += f.reservedConcurrency ?? 0;
          f.reservedConcurrency = null;
          break;
        case 'RegisterScalableTarget':
          r.scalableTargets = [
            ...r.scalableTargets.filter((t) => t.resourceId !== a.resourceId),
            { resourceId: a.resourceId, minCapacity: a.minCapacity, maxCapacity: a.maxCapacity },
          ];
          {
            // Registering moves the current capacity into [min, max] (Application Auto Scaling does it itself).
            const q = f.qualifiers?.[a.resourceId.split(':')[2] ?? ''];
            if (q) q.provisionedRequested = Math.min(a.maxCapacity, Math.max(a.minCapacity, q.provisionedRequested));
          }
          break;
        case 'PutScheduledAction':
          r.scheduledActions = [
            ...r.scheduledActions.filter((s) => !(s.resourceId === a.resourceId && s.name === a.scheduledActionName)),
            {
              name: a.scheduledActionName,
              resourceId: a.resourceId,
              schedule: a.schedule,
              timezone: a.timezone,
              minCapacity: a.minCapacity,
              maxCapacity: a.maxCapacity,
            },
          ];
          break;
        case 'DeleteScheduledAction':
          r.scheduledActions = r.scheduledActions.filter(
            (s) => !(s.resourceId === a.resourceId && s.name === a.scheduledActionName),
          );
          break;
        case 'PutProvisionedConcurrencyConfig':
        case 'DeleteProvisionedConcurrencyConfig': {
          const q = f.qualifiers?.[a.qualifier];
          if (q)
            q.provisionedRequested =
              a.api === 'PutProvisionedConcurrencyConfig' ? a.provisionedConcurrentExecutions : 0;
          break;
        }
      }
    }
  }
  return { ...fleet, regions };
}

function shuffled<T>(xs: readonly T[], seed: number): T[] {
  const out = [...xs];
  let s = seed;
  for (let i = out.length - 1; i > 0; i--) {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    const j = s % (i + 1);
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

describe('plan properties', () => {
  it(
    'the order of policies (and of regions and functions) never changes the plan',
    () => {
      fc.assert(
        fc.property(policies, fleetArb(), instant, fc.integer({ min: 1, max: 1_000_000 }), (ps, fleet, now, seed) => {
          const expected = plan(ps, fleet, now, OPTIONS);
          const reordered: FleetSnapshot = {
            ...fleet,
            regions: shuffled(fleet.regions, seed).map((r) => ({ ...r, functions: shuffled(r.functions, seed + 1) })),
          };
          expect(plan(shuffled(ps, seed), reordered, now, OPTIONS)).toEqual(expected);
          expect(plan([...ps].reverse(), fleet, now, OPTIONS)).toEqual(expected);
        }),
        { numRuns: 150 },
      );
    },
    TIMEOUT,
  );

  it(
    'applying a plan makes the fleet compliant: re-planning yields zero actions',
    () => {
      fc.assert(
        fc.property(policies, fleetArb('generous'), instant, (ps, fleet, now) => {
          const first = plan(ps, fleet, now, OPTIONS);
          const second = plan(ps, applyPlan(fleet, first), now, OPTIONS);
          expect(second.functions.flatMap((f) => f.actions.map((a) => `${f.region}/${f.name} ${a.api}`))).toEqual([]);
          // Only refused fields (and Audit policies) can still show drift.
          for (const f of second.functions) {
            const refused = new Set(f.refusals.map((r) => r.field));
            expect(f.drift.filter((d) => !refused.has(d.field) && d.field !== 'architecture')).toEqual([]);
          }
        }),
        { numRuns: 150 },
      );
    },
    TIMEOUT,
  );

  it(
    'with tight accounts, apply/re-plan converges to zero actions within as many rounds as functions',
    () => {
      fc.assert(
        fc.property(policies, fleetArb('any'), instant, (ps, fleet, now) => {
          let current = fleet;
          const rounds = fleet.regions.reduce((n, r) => n + r.functions.length, 0) + 1;
          let p = plan(ps, current, now, OPTIONS);
          for (let i = 0; i < rounds && p.functions.some((f) => f.actions.length > 0); i++) {
            current = applyPlan(current, p);
            p = plan(ps, current, now, OPTIONS);
          }
          expect(p.functions.every((f) => f.actions.length === 0)).toBe(true);
        }),
        { numRuns: 100 },
      );
    },
    TIMEOUT,
  );

  it(
    'writes to a function no Enforce policy matches only to delete owned actions nothing declares',
    () => {
      fc.assert(
        fc.property(policies, fleetArb(), instant, (ps, fleet, now) => {
          const p = plan(ps, fleet, now, OPTIONS);
          const enforce = new Set(ps.filter((x) => x.mode === 'Enforce' && !x.suspend).map((x) => x.id));
          for (const f of p.functions) {
            // A function no Enforce policy matches only ever loses owned scheduled actions nothing declares.
            if (!f.policies.some((id) => enforce.has(id))) {
              for (const a of f.actions) {
                expect(a.api).toBe('DeleteScheduledAction');
                if (a.api === 'DeleteScheduledAction') expect(isOwnedActionName(a.scheduledActionName)).toBe(true);
              }
            }
            if (f.policies.length === 0) expect(f.actions.length).toBeGreaterThan(0);
          }
        }),
        { numRuns: 100 },
      );
    },
    TIMEOUT,
  );

  it(
    'never throws on any schema-valid input',
    () => {
      fc.assert(
        fc.property(
          wildPolicies,
          wildFleet,
          instant,
          fc.integer({ min: 0, max: 600 }),
          (ps, fleet, now, graceSeconds) => {
            const p = plan(ps, fleet, now, { defaultRegions: ['eu-central-1'], graceSeconds });
            expect(p.summary.matched).toBe(p.functions.length);
          },
        ),
        { numRuns: 300 },
      );
    },
    TIMEOUT,
  );
});
