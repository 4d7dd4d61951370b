import { describe, expect, it } from 'vitest';
import type { Settings } from '../../../src/api/schema.ts';
import type { ObservedFunction, PolicyInput, QualifierState, RegionSnapshot } from '../../../src/engine/model.ts';
import { plan } from '../../../src/engine/plan.ts';

const NOW = new Date('2026-12-01T06:00:00Z');
const OPTIONS = { defaultRegions: ['eu-central-1'] };

const policy = (settings: Settings): PolicyInput => ({
  id: 'platform/edge',
  namespace: 'platform',
  name: 'edge',
  mode: 'Enforce',
  priority: 0,
  suspend: false,
  intervalSeconds: 300,
  selector: { functionNames: ['*'] },
  settings,
});

const live = (extra: Partial<QualifierState> = {}): Record<string, QualifierState> => ({
  live: { qualifier: 'live', exists: true, provisionedRequested: 0, servedVersion: '1', ...extra },
});

const fn = (name: string, extra: Partial<ObservedFunction> = {}): ObservedFunction => ({
  region: 'eu-central-1',
  name,
  arn: `arn:aws:lambda:eu-central-1:123456789012:function:${name}`,
  memorySize: 1024,
  timeout: 30,
  architecture: 'arm64',
  packageType: 'Zip',
  tags: {},
  reservedConcurrency: 50,
  qualifiers: live(),
  ...extra,
});

const region = (functions: ObservedFunction[], extra: Partial<RegionSnapshot> = {}): RegionSnapshot => ({
  region: 'eu-central-1',
  functions,
  scalableTargets: [],
  scheduledActions: [],
  ...extra,
});

const scheduled: Settings = {
  provisionedConcurrency: {
    qualifier: 'live',
    value: 2,
    windows: [{ name: 'business', start: '0 8 * * 1-5', end: '0 19 * * 1-5', timezone: 'Europe/Berlin', value: 5 }],
  },
};

const run = (settings: Settings, snapshot: RegionSnapshot, options = {}) =>
  plan([policy(settings)], { readAt: NOW, regions: [snapshot] }, NOW, { ...OPTIONS, ...options });

describe('versions and aliases in the plan', () => {
  it('PendingPublish names every governed field the served version lacks, and only those', () => {
    const served = { memorySize: 512, timeout: 30, architecture: 'x86_64' as const };
    const p = run(
      { memorySize: 1024, architecture: 'arm64', provisionedConcurrency: { qualifier: 'live', value: 0 } },
      region([fn('f', { qualifiers: live({ served }) })]),
    );
    expect(p.functions[0]?.qualifiers).toEqual([
      {
        qualifier: 'live',
        state: 'PendingPublish',
        version: '1',
        fields: [
          { field: 'memorySize', desired: 1024, served: 512 },
          { field: 'architecture', desired: 'arm64', served: 'x86_64' },
        ],
        policy: 'platform/edge',
      },
    ]);
    // Reported, never written, and not a drift of $LATEST.
    expect(p.functions[0]?.actions).toEqual([]);
    expect(p.functions[0]?.compliant).toBe(true);
  });

  it('the quota is threaded through the region: the last free target goes to the first function, the next is refused', () => {
    const p = run(scheduled, region([fn('a'), fn('b')], { scalableTargetCount: 499 }));
    const [a, b] = p.functions;
    expect(a?.actions.map((x) => x.api)).toEqual([
      'RegisterScalableTarget',
      'PutScheduledAction',
      'PutScheduledAction',
    ]);
    expect(b?.refusals.map((r) => r.reason)).toEqual(['ScalableTargetQuota']);
    expect(b?.actions).toEqual([]);
  });

  it('an adjusted quota is honoured', () => {
    const p = run(scheduled, region([fn('a')], { scalableTargetCount: 500 }), { scalableTargetQuota: 1000 });
    expect(p.functions[0]?.refusals).toEqual([]);
  });

  it('a FAILED config asked for a different value is sent again (the new value may fit)', () => {
    const p = run(
      { provisionedConcurrency: { qualifier: 'live', value: 2 } },
      region([fn('f', { qualifiers: live({ provisionedRequested: 4, provisionedStatus: 'FAILED' }) })]),
    );
    expect(p.functions[0]?.actions).toEqual([
      { api: 'PutProvisionedConcurrencyConfig', qualifier: 'live', provisionedConcurrentExecutions: 2 },
    ]);
  });

  it('a suspended target with only dynamic scaling suspended is still scheduled (scheduled actions run)', () => {
    const target = {
      resourceId: 'function:f:live',
      minCapacity: 0,
      maxCapacity: 0,
      suspended: { dynamicScalingIn: true as const },
      foreignScalingPolicies: [],
    };
    const p = run(scheduled, region([fn('f')], { scalableTargets: [target] }));
    expect(p.functions[0]?.refusals).toEqual([]);
    expect(p.functions[0]?.actions.map((x) => x.api)).toContain('RegisterScalableTarget');
  });
});
