import { describe, expect, it } from 'vitest';
import type { FunctionState, LambdaPolicy } from '../../../src/api/schema.ts';
import { findCondition } from '../../../src/controller/conditions.ts';
import { buildStatus, functionStatusFor } from '../../../src/controller/status.ts';
import type { FunctionPlan, PolicyReport, Violation } from '../../../src/engine/model.ts';

const ID = 'platform/baseline';
const now = new Date('2026-12-01T09:00:00.000Z');
const secret: Violation = {
  check: 'noSecretsInEnvironment',
  actual: 'DB_PASSWORD',
  message: 'environment variable DB_PASSWORD looks like a credential',
  policy: ID,
};

function fn(name: string, over: Partial<FunctionPlan> = {}): FunctionPlan {
  return {
    region: 'eu-central-1',
    name,
    policies: [ID],
    compliant: true,
    drift: [],
    actions: [],
    refusals: [],
    overridden: [],
    auditDrift: [],
    violations: [],
    ...over,
  };
}

const policy = (mode: 'Enforce' | 'Audit'): LambdaPolicy => ({
  apiVersion: 'lambdapolicy.io/v1alpha1',
  kind: 'LambdaPolicy',
  metadata: { name: 'baseline', namespace: 'platform', generation: 1 },
  spec: { mode, selector: { functionNames: ['*'] }, settings: {}, checks: { noSecretsInEnvironment: true } },
});

const report = (over: Partial<PolicyReport> = {}): PolicyReport => ({
  id: ID,
  mode: 'Audit',
  matched: 2,
  compliant: 1,
  drifted: 0,
  overridden: 0,
  infeasible: 0,
  violating: 1,
  problems: [],
  ...over,
});

describe('violations in status', () => {
  it.each<[string, Partial<FunctionPlan>, FunctionState]>([
    ['otherwise compliant: Violating', { compliant: false, violations: [secret] }, 'Violating'],
    [
      'drifted keeps Drifted and carries the list',
      {
        compliant: false,
        auditDrift: [{ field: 'tracing', desired: 'Active', actual: 'PassThrough', policy: ID }],
        violations: [secret],
      },
      'Drifted',
    ],
    [
      'another policy’s violation is not this one’s',
      { compliant: false, violations: [{ ...secret, policy: 'other/p' }] },
      'Compliant',
    ],
  ])('%s', (_name, over, state) => {
    const entry = functionStatusFor(ID, 'Audit', fn('f', over), undefined);
    expect(entry.state).toBe(state);
    const own = (over.violations ?? []).filter((v) => v.policy === ID);
    if (own.length > 0) {
      expect(entry.violations).toEqual([
        { check: 'noSecretsInEnvironment', actual: 'DB_PASSWORD', message: secret.message },
      ]);
    } else {
      expect(entry.violations).toBeUndefined();
    }
  });

  it('counts violating functions, lists them first; Ready (checked) and not Compliant while checks fail', () => {
    const status = buildStatus(
      policy('Audit'),
      report(),
      [fn('a-fine'), fn('b-leaky', { compliant: false, violations: [secret] })],
      undefined,
      undefined,
      now,
    );
    expect(status.summary).toMatchObject({ matched: 2, compliant: 1, drifted: 0, violating: 1 });
    expect(status.functions?.map((f) => [f.name, f.state])).toEqual([
      ['b-leaky', 'Violating'],
      ['a-fine', 'Compliant'],
    ]);
    expect(findCondition(status.conditions, 'Ready')).toMatchObject({ status: 'True', reason: 'Checked' });
    expect(findCondition(status.conditions, 'Compliant')).toMatchObject({ status: 'False', reason: 'Violations' });
  });

  it('writes no violating count when there are none (no status change for existing policies)', () => {
    const status = buildStatus(
      policy('Enforce'),
      report({ violating: 0, compliant: 1, matched: 1 }),
      [fn('a')],
      undefined,
      undefined,
      now,
    );
    expect(status.summary).not.toHaveProperty('violating');
  });
});
