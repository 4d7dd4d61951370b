import { describe, expect, it } from 'vitest';
import { changeLines } from '../../../src/cli/render.ts';
import { functionStatusFor } from '../../../src/controller/status.ts';
import type { FunctionPlan } from '../../../src/engine/model.ts';

const plan = (extra: Partial<FunctionPlan> = {}): FunctionPlan => ({
  region: 'eu-central-1',
  name: 'orders-api',
  policies: ['platform/edge'],
  compliant: true,
  drift: [],
  actions: [],
  refusals: [],
  overridden: [],
  auditDrift: [],
  violations: [],
  qualifiers: [
    {
      qualifier: 'live',
      state: 'PendingPublish',
      version: '3',
      fields: [{ field: 'memorySize', desired: 1024, served: 512 }],
      policy: 'platform/edge',
    },
  ],
  ...extra,
});

describe('PendingPublish in status and plan output', () => {
  it('is on the status entry of the governing policy, which stays Compliant', () => {
    expect(functionStatusFor('platform/edge', 'Enforce', plan(), undefined)).toEqual({
      region: 'eu-central-1',
      name: 'orders-api',
      state: 'Compliant',
      qualifiers: [
        {
          qualifier: 'live',
          state: 'PendingPublish',
          version: '3',
          fields: [{ field: 'memorySize', desired: 1024, actual: 512 }],
        },
      ],
    });
  });

  it('is not on another policy’s entry', () => {
    expect(functionStatusFor('platform/other', 'Enforce', plan(), undefined).qualifiers).toBeUndefined();
  });

  it('is one report line in the plan text: left as it is, the next publish carries it', () => {
    expect(changeLines(plan())).toEqual([
      {
        symbol: '!',
        field: 'qualifier live',
        change: 'version 3: memorySize 512 (policy 1024)',
        policy: 'platform/edge',
        note: 'PendingPublish: the next publish carries the fix',
      },
    ]);
  });
});
