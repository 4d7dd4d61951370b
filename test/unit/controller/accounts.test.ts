/**
 * The controller's tenancy pieces: the home account's namespace selector as the flag takes it, what a credentials
 * check's failure means for an AwsAccount and its status, a policy's status across accounts (account on each
 * function, status.accounts, OutOfScope first), and that only real changes are written.
 */
import { describe, expect, it } from 'vitest';
import type { AwsAccount } from '../../../src/api/account-schema.ts';
import type { LambdaPolicy } from '../../../src/api/schema.ts';
import { AssumeRoleFailedError } from '../../../src/aws/credentials.ts';
import { AwsAccessDeniedError, AwsThrottledError } from '../../../src/aws/errors.ts';
import {
  composeAccountStatus,
  parseHomeNamespaces,
  parseLabelSelector,
  verificationFailure,
  verifiedState,
} from '../../../src/controller/accounts.ts';
import { findCondition } from '../../../src/controller/conditions.ts';
import { composeStatus, type RegionView } from '../../../src/controller/status-publisher.ts';
import type { FunctionPlan, PolicyReport } from '../../../src/engine/model.ts';
import { accountStatusChanged } from '../../../src/kube/accounts.ts';
import { statusChanged } from '../../../src/kube/status-writer.ts';
import { AccountMismatchError } from '../../../src/reconcile/accounts.ts';

const NOW = new Date('2026-12-01T09:00:00Z');

describe('--home-account-namespaces', () => {
  it('reads kubectl selectors, JSON and none', () => {
    expect(parseHomeNamespaces(undefined)).toEqual({});
    expect(parseHomeNamespaces('')).toEqual({});
    expect(parseHomeNamespaces('none')).toBeNull();
    expect(parseHomeNamespaces('null')).toBeNull();
    expect(parseHomeNamespaces('{"matchLabels":{"team":"platform"}}')).toEqual({ matchLabels: { team: 'platform' } });
    expect(parseLabelSelector('team=payments, env in (prod, stage),tier!=batch,legacy,!canary')).toEqual({
      matchLabels: { team: 'payments' },
      matchExpressions: [
        { key: 'env', operator: 'In', values: ['prod', 'stage'] },
        { key: 'tier', operator: 'NotIn', values: ['batch'] },
        { key: 'legacy', operator: 'Exists' },
        { key: 'canary', operator: 'DoesNotExist' },
      ],
    });
    expect(parseLabelSelector('a==b,c notin (d)')).toEqual({
      matchLabels: { a: 'b' },
      matchExpressions: [{ key: 'c', operator: 'NotIn', values: ['d'] }],
    });
  });

  it('refuses what is not a selector', () => {
    expect(() => parseLabelSelector('team in payments')).toThrow(/not a label selector/);
    expect(() => parseHomeNamespaces('[1]')).toThrow(/not a label key/);
    expect(() => parseHomeNamespaces('{"matchLabels"')).toThrow();
  });
});

const account: AwsAccount = {
  apiVersion: 'lambdapolicy.io/v1alpha1',
  kind: 'AwsAccount',
  metadata: { name: 'payments-prod', generation: 3 },
  spec: { accountId: '210987654321', regions: ['eu-central-1'] },
};

describe('AwsAccount status', () => {
  const target = { account: 'payments-prod', accountId: '210987654321', roleArn: 'arn:aws:iam::210987654321:role/x' };

  it('a mismatch or a denied role is for a person (Stalled); throttling passes (NotReady)', () => {
    expect(
      verificationFailure(new AccountMismatchError('payments-prod', '210987654321', '123456789012')),
    ).toMatchObject({ kind: 'Stalled', reason: 'AccountMismatch' });
    const denied = new AssumeRoleFailedError(target, new AwsAccessDeniedError('denied'));
    // The SDK hands the provider's error back wrapped: the cause chain is followed.
    expect(verificationFailure(new Error('GetCallerIdentity failed', { cause: denied }))).toMatchObject({
      kind: 'Stalled',
      reason: 'AssumeRoleFailed',
    });
    const throttled = new AssumeRoleFailedError(target, new AwsThrottledError('slow down'));
    expect(verificationFailure(throttled)).toMatchObject({ kind: 'NotReady', reason: 'AwsUnavailable' });
  });

  it('Ready with lastVerifiedTime and the policy count; a later failure keeps the last verified time', () => {
    const verified = composeAccountStatus(
      account,
      { fingerprint: 'f', at: NOW, verifiedAt: NOW, state: verifiedState(account) },
      2,
      NOW,
    );
    expect(findCondition(verified.conditions, 'Ready')).toMatchObject({ status: 'True', reason: 'Verified' });
    expect(verified).toMatchObject({ observedGeneration: 3, lastVerifiedTime: '2026-12-01T09:00:00Z', policies: 2 });
    const later = new Date(NOW.getTime() + 60_000);
    const failed = composeAccountStatus(
      { ...account, status: verified },
      {
        fingerprint: 'f',
        at: later,
        state: { kind: 'Stalled', reason: 'AccountMismatch', message: 'm' },
        error: 'm',
      },
      2,
      later,
    );
    expect(findCondition(failed.conditions, 'Stalled')).toMatchObject({ status: 'True', reason: 'AccountMismatch' });
    expect(findCondition(failed.conditions, 'Ready')?.status).toBe('False');
    expect(failed.lastVerifiedTime).toBe('2026-12-01T09:00:00Z');
  });

  it('is written when it changes, not for a newer verification time within the heartbeat', () => {
    const s = composeAccountStatus(
      account,
      { fingerprint: 'f', at: NOW, verifiedAt: NOW, state: verifiedState(account) },
      1,
      NOW,
    );
    const soon = { ...s, lastVerifiedTime: '2026-12-01T09:05:00Z' };
    expect(accountStatusChanged(undefined, s, 3_600_000)).toBe(true);
    expect(accountStatusChanged(s, soon, 3_600_000)).toBe(false);
    expect(accountStatusChanged(s, { ...soon, lastVerifiedTime: '2026-12-01T10:00:00Z' }, 3_600_000)).toBe(true);
    expect(accountStatusChanged(s, { ...s, policies: 2 }, 3_600_000)).toBe(true);
  });
});

function policy(): LambdaPolicy {
  return {
    apiVersion: 'lambdapolicy.io/v1alpha1',
    kind: 'LambdaPolicy',
    metadata: { name: 'api', namespace: 'payments', uid: 'uid-api', generation: 1 },
    spec: { selector: { accounts: ['a', 'b'], functionNames: ['*'] }, settings: { memorySize: 1024 } },
  };
}

const fnPlan = (name: string, compliant: boolean): FunctionPlan => ({
  region: 'eu-central-1',
  name,
  policies: ['payments/api'],
  compliant,
  drift: compliant ? [] : [{ field: 'memorySize', desired: 1024, actual: 512, policy: 'payments/api' }],
  actions: [],
  refusals: [],
  overridden: [],
  auditDrift: [],
});

function view(account: string, functions: FunctionPlan[], at: Date): RegionView {
  const drifted = functions.filter((f) => !f.compliant).length;
  const report: PolicyReport = {
    id: 'payments/api',
    mode: 'Enforce',
    matched: functions.length,
    compliant: functions.length - drifted,
    drifted,
    overridden: 0,
    infeasible: 0,
    problems: [],
  };
  return { account, at, functions, executions: [], policies: [report] };
}

describe("a policy's status across accounts", () => {
  const inputs = {
    policy: policy(),
    previous: undefined,
    regions: [view('a', [fnPlan('api', true)], NOW), view('b', [fnPlan('api', false)], new Date(NOW.getTime() - 1000))],
    pendingRegions: [],
    unavailable: [],
    fixedNow: 0,
    fixedUnreported: 0,
    now: NOW,
  };

  it('names the account on each function (the same name in two accounts is two functions) and lists accounts', () => {
    const status = composeStatus({
      ...inputs,
      tenancy: {
        reach: [
          { account: 'a', accountId: '111111111111' },
          { account: 'b', accountId: '222222222222', error: 'AWS account b in eu-central-1: throttled' },
        ],
        refused: [],
      },
    });
    expect(status.functions?.map((f) => `${f.account}/${f.name}/${f.state}`)).toEqual([
      'b/api/Drifted',
      'a/api/Compliant',
    ]);
    expect(status.accounts).toEqual([
      { account: 'a', accountId: '111111111111', matched: 1, drifted: 0, lastCheckTime: '2026-12-01T09:00:00Z' },
      {
        account: 'b',
        accountId: '222222222222',
        matched: 1,
        drifted: 1,
        lastCheckTime: '2026-12-01T08:59:59Z',
        error: 'AWS account b in eu-central-1: throttled',
      },
    ]);
  });

  it('is Stalled/OutOfScope naming what was refused, whatever the passes found', () => {
    const status = composeStatus({
      ...inputs,
      tenancy: {
        reach: [{ account: 'a', accountId: '111111111111' }],
        refused: [{ account: 'c', accountId: '333333333333', reason: 'NamespaceNotGranted' }],
      },
    });
    expect(findCondition(status.conditions, 'Stalled')).toMatchObject({
      status: 'True',
      reason: 'OutOfScope',
      message: 'out of scope, nothing read or written there: account c (333333333333): namespace not granted',
    });
    expect(status.accounts?.map((a) => [a.account, a.error])).toEqual([
      ['a', undefined],
      ['c', 'OutOfScope: out of scope, nothing read or written there: account c (333333333333): namespace not granted'],
    ]);
  });

  it("an account's check time alone is no change to write", () => {
    const tenancy = { reach: [{ account: 'a', accountId: '111111111111' }], refused: [] };
    const first = composeStatus({ ...inputs, regions: [view('a', [fnPlan('api', true)], NOW)], tenancy });
    const later = new Date(NOW.getTime() + 60_000);
    const second = composeStatus({
      ...inputs,
      previous: first,
      regions: [view('a', [fnPlan('api', true)], later)],
      tenancy,
      now: later,
    });
    expect(second.accounts?.[0]?.lastCheckTime).not.toBe(first.accounts?.[0]?.lastCheckTime);
    expect(statusChanged(first, second)).toBe(false);
    const third = composeStatus({
      ...inputs,
      previous: first,
      regions: [view('a', [fnPlan('api', false)], later)],
      tenancy,
      now: later,
    });
    expect(statusChanged(first, third)).toBe(true);
  });
});
