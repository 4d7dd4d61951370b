/**
 * The Compliant condition's reason when a check finds several things at once: Failed > Infeasible > Violations >
 * Drifted (most urgent first), and a message with every non-zero count, so drift and violations together show both.
 */
import { describe, expect, it } from 'vitest';
import type { LambdaPolicy } from '../../../src/api/schema.ts';
import { findCondition } from '../../../src/controller/conditions.ts';
import { buildStatus, type ExecutedFunction } from '../../../src/controller/status.ts';
import { tag } from '../../../src/engine/diff/common.ts';
import type { FunctionPlan, PolicyReport } from '../../../src/engine/model.ts';

const ID = 'platform/p';
const now = new Date('2026-12-01T09:00:00Z');

function policy(mode: 'Enforce' | 'Audit'): LambdaPolicy {
  return {
    apiVersion: 'lambdapolicy.io/v1alpha1',
    kind: 'LambdaPolicy',
    metadata: { name: 'p', namespace: 'platform', generation: 1 },
    spec: { mode, selector: { functionNames: ['*'] }, settings: { memorySize: 1024 } },
  };
}

const report = (mode: 'Enforce' | 'Audit', problems: string[] = []): PolicyReport => ({
  id: ID,
  mode,
  matched: 0,
  compliant: 0,
  drifted: 0,
  overridden: 0,
  infeasible: 0,
  problems,
});

const base = (name: string, over: Partial<FunctionPlan> = {}): FunctionPlan => ({
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
});
const memoryDrift = { field: 'memorySize' as const, desired: 1024, actual: 512, policy: ID };
const violation = { check: 'runtime' as const, actual: 'nodejs16.x', message: 'deprecated runtime', policy: ID };

const inLine = base('ok');
const violating = base('old-runtime', { violations: [violation] });
const drifted = base('small', { compliant: false, drift: [memoryDrift] });
const auditDrifted = base('small', { compliant: false, auditDrift: [memoryDrift] });
const driftedAndViolating = base('both', { compliant: false, drift: [memoryDrift], violations: [violation] });
const refused = base('refused', {
  compliant: false,
  drift: [{ field: 'reservedConcurrency', desired: 900, actual: 'Unreserved', policy: ID }],
  refusals: [{ field: 'reservedConcurrency', reason: 'UnreservedFloor', message: 'below the floor', policy: ID }],
});
const failedFn = base('broken', {
  compliant: false,
  drift: [memoryDrift],
  actions: [tag({ api: 'UpdateFunctionConfiguration', memorySize: 1024 }, 'memorySize')],
});
const failedRun: ExecutedFunction = {
  region: 'eu-central-1',
  name: 'broken',
  ok: false,
  outcomes: [
    {
      action: tag({ api: 'UpdateFunctionConfiguration', memorySize: 1024 }, 'memorySize'),
      ok: false,
      status: 'failed',
      error: { message: 'AccessDeniedException' },
    },
  ],
};

function compliant(mode: 'Enforce' | 'Audit', fns: FunctionPlan[], runs: ExecutedFunction[] = [], problems?: string[]) {
  const status = buildStatus(policy(mode), report(mode, problems), fns, runs, undefined, now);
  const c = findCondition(status.conditions, 'Compliant');
  return { status: c?.status, reason: c?.reason, message: c?.message };
}

describe('Compliant reason precedence', () => {
  it('drift and violations on different functions: Violations, with both counts', () => {
    expect(compliant('Enforce', [inLine, violating, drifted])).toEqual({
      status: 'False',
      reason: 'Violations',
      message: '1 of 3 matched functions compliant; 1 violate checks, 1 drifted',
    });
    expect(compliant('Audit', [violating, auditDrifted])).toMatchObject({
      reason: 'Violations',
      message: '0 of 2 matched functions compliant; 1 violate checks, 1 drifted',
    });
  });

  it('one function both drifted and violating counts in both', () => {
    expect(compliant('Enforce', [inLine, driftedAndViolating])).toEqual({
      status: 'False',
      reason: 'Violations',
      message: '1 of 2 matched functions compliant; 1 violate checks, 1 drifted',
    });
  });

  it('Failed > Infeasible > Violations > Drifted, every non-zero count in the message', () => {
    expect(
      compliant('Enforce', [failedFn, refused, violating, drifted], [failedRun], ['refused: below the floor']),
    ).toEqual({
      status: 'False',
      reason: 'Failed',
      message: '0 of 4 matched functions compliant; 1 failed, 1 cannot be brought in line, 1 violate checks, 1 drifted',
    });
    expect(compliant('Enforce', [refused, violating, drifted], [], ['refused: below the floor'])).toMatchObject({
      reason: 'Infeasible',
      message: '0 of 3 matched functions compliant; 1 cannot be brought in line, 1 violate checks, 1 drifted',
    });
    expect(compliant('Enforce', [drifted])).toMatchObject({ reason: 'Drifted' });
    expect(compliant('Enforce', [inLine])).toEqual({
      status: 'True',
      reason: 'Compliant',
      message: '1 of 1 matched functions compliant',
    });
  });

  it('a policy that could not be planned stays Unknown/InvalidPolicy', () => {
    expect(compliant('Enforce', [], [], ['bad cron'])).toMatchObject({ status: 'Unknown', reason: 'InvalidPolicy' });
  });
});
