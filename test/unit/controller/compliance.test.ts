/**
 * Ready is not Compliant: Ready says the policy was checked at its generation (kstatus and Argo CD read it), the
 * Compliant condition says whether the fleet is in line (reasons Compliant | Drifted | Infeasible | Failed, or
 * Unknown with why while nothing could be checked).
 */
import { describe, expect, it } from 'vitest';
import type { LambdaPolicy, LambdaPolicyStatus } from '../../../src/api/schema.ts';
import { findCondition, kstatusOf } from '../../../src/controller/conditions.ts';
import { buildErrorStatus, buildStatus, buildSuspendedStatus } from '../../../src/controller/status.ts';
import type { FunctionPlan, PolicyReport } from '../../../src/engine/model.ts';

const ID = 'platform/p';
const now = new Date('2026-12-01T09:00:00Z');

function policy(mode: 'Enforce' | 'Audit', generation = 2, suspend = false): LambdaPolicy {
  return {
    apiVersion: 'lambdapolicy.io/v1alpha1',
    kind: 'LambdaPolicy',
    metadata: { name: 'p', namespace: 'platform', generation },
    spec: { mode, suspend, selector: { functionNames: ['*'] }, settings: { memorySize: 1024 } },
  };
}

function report(mode: 'Enforce' | 'Audit', problems: string[] = []): PolicyReport {
  return { id: ID, mode, matched: 0, compliant: 0, drifted: 0, overridden: 0, infeasible: 0, problems };
}

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
    ...over,
  };
}

const auditDrifted = fn('b', {
  compliant: false,
  auditDrift: [{ field: 'memorySize', desired: 1024, actual: 512, policy: ID }],
});
const refused = fn('c', {
  compliant: false,
  drift: [{ field: 'reservedConcurrency', desired: 900, actual: 'Unreserved', policy: ID }],
  refusals: [{ field: 'reservedConcurrency', reason: 'UnreservedFloor', message: 'below the floor', policy: ID }],
});

const conditions = (status: LambdaPolicyStatus) =>
  Object.fromEntries(
    ['Ready', 'Compliant', 'Reconciling', 'Stalled'].map((type) => {
      const c = findCondition(status.conditions, type);
      return [type, c ? `${c.status}/${c.reason}` : undefined];
    }),
  );

describe('Ready and Compliant', () => {
  it('an Audit policy that finds drift is Ready (kstatus Current) and not Compliant (Drifted), with the counts', () => {
    const status = buildStatus(policy('Audit'), report('Audit'), [fn('a'), auditDrifted], [], undefined, now);

    expect(conditions(status)).toEqual({
      Ready: 'True/Checked',
      Compliant: 'False/Drifted',
      Reconciling: 'False/Reconciled',
      Stalled: 'False/NotStalled',
    });
    expect(findCondition(status.conditions, 'Compliant')).toMatchObject({
      message: '1 of 2 matched functions compliant; 1 drifted',
      observedGeneration: 2,
    });
    expect(kstatusOf({ metadata: { generation: 2 }, status })).toBe('Current');
  });

  it('a compliant policy is Ready and Compliant', () => {
    const status = buildStatus(policy('Enforce'), report('Enforce'), [fn('a')], [], undefined, now);

    expect(conditions(status)).toMatchObject({ Ready: 'True/Compliant', Compliant: 'True/Compliant' });
  });

  it('infeasible: Stalled, and not Compliant for reason Infeasible', () => {
    const status = buildStatus(
      policy('Enforce'),
      report('Enforce', ['UnreservedFloor on 1 function']),
      [refused],
      [],
      undefined,
      now,
    );

    expect(conditions(status)).toMatchObject({ Stalled: 'True/Infeasible', Compliant: 'False/Infeasible' });
  });

  it('an invalid policy: Stalled, Compliant Unknown (nothing was checked)', () => {
    const status = buildStatus(policy('Enforce'), report('Enforce', ['unknown time zone']), [], [], undefined, now);

    expect(conditions(status)).toMatchObject({ Stalled: 'True/InvalidPolicy', Compliant: 'Unknown/InvalidPolicy' });
  });

  it('AWS unreachable before any check: Compliant Unknown saying why; after a check, the last verdict stays', () => {
    const first = buildErrorStatus(policy('Audit'), undefined, { reason: 'AwsUnavailable', message: 'down' }, now);
    const checked = buildStatus(policy('Audit'), report('Audit'), [auditDrifted], [], undefined, now);
    const later = buildErrorStatus(policy('Audit'), checked, { reason: 'AwsUnavailable', message: 'down' }, now);

    expect(conditions(first)).toMatchObject({ Ready: 'False/AwsUnavailable', Compliant: 'Unknown/AwsUnavailable' });
    expect(conditions(later)).toMatchObject({ Ready: 'False/AwsUnavailable', Compliant: 'False/Drifted' });
  });

  it('suspended: Ready (the controller does what the policy asks), compliance from the last check', () => {
    const checked = buildStatus(policy('Enforce'), report('Enforce'), [fn('a')], [], undefined, now);
    const suspended = buildSuspendedStatus(policy('Enforce', 3, true), checked, now);

    expect(conditions(suspended)).toMatchObject({ Ready: 'True/Suspended', Compliant: 'True/Compliant' });
  });
});
