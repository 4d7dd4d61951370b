import { describe, expect, it } from 'vitest';
import type { LambdaPolicy } from '../../../src/api/schema.ts';
import type { KstatusState } from '../../../src/controller/conditions.ts';
import { asDryRun, dryRunState, haltFromStatus, rolloutState } from '../../../src/controller/safety.ts';
import type { PolicyReport } from '../../../src/engine/model.ts';
import type { RolloutReport, RolloutState } from '../../../src/engine/rollout.ts';

const READY: KstatusState = { kind: 'Ready', reason: 'Compliant', message: '3 matched, 3 compliant' };

function report(state?: RolloutState, message = `${state} message`): PolicyReport {
  const r: PolicyReport = {
    id: 'ns/p',
    mode: 'Enforce',
    matched: 3,
    compliant: 0,
    drifted: 3,
    overridden: 0,
    infeasible: 0,
    problems: [],
  };
  if (state) {
    const rollout: RolloutReport = { state, changing: 3, matched: 3, allowed: 0, approved: false, message };
    r.rollout = rollout;
  }
  return r;
}

describe('rolloutState', () => {
  it.each<[string, PolicyReport[], KstatusState['kind'], string]>([
    ['no decision keeps the state', [report()], 'Ready', 'Compliant'],
    ['Proceed keeps the state', [report('Proceed')], 'Ready', 'Compliant'],
    ['Paused is Stalled', [report('Paused')], 'Stalled', 'RolloutPaused'],
    ['Halted is Stalled', [report('Halted')], 'Stalled', 'RolloutFailed'],
    ['Halted wins over Paused (another region)', [report('Paused'), report('Halted')], 'Stalled', 'RolloutFailed'],
    ['Batched is Reconciling', [report('Batched')], 'Reconciling', 'RollingOut'],
    [
      'Paused in one region wins over Batched in another',
      [report('Batched'), report('Paused')],
      'Stalled',
      'RolloutPaused',
    ],
  ])('%s', (_name, reports, kind, reason) => {
    expect(rolloutState(READY, reports)).toMatchObject({ kind, reason });
  });
});

function policy(generation: number | undefined, stalled?: Record<string, unknown>): LambdaPolicy {
  return {
    apiVersion: 'lambdapolicy.io/v1alpha1',
    kind: 'LambdaPolicy',
    metadata: { name: 'p', namespace: 'ns', ...(generation === undefined ? {} : { generation }) },
    spec: { selector: { functionNames: ['*'] }, settings: { memorySize: 256 } },
    ...(stalled ? { status: { conditions: [{ type: 'Stalled', ...stalled }] } } : {}),
  };
}

describe('haltFromStatus', () => {
  const failed = {
    status: 'True',
    reason: 'RolloutFailed',
    message: 'rollout stopped at a failed batch: eu-central-1/f: boom',
  };
  it.each<[string, LambdaPolicy, unknown]>([
    [
      'a halt at the current generation',
      policy(2, { ...failed, observedGeneration: 2 }),
      { generation: 2, message: 'eu-central-1/f: boom' },
    ],
    ['a halt of an older generation resumes', policy(3, { ...failed, observedGeneration: 2 }), undefined],
    ['another Stalled reason', policy(2, { ...failed, reason: 'RolloutPaused', observedGeneration: 2 }), undefined],
    ['not stalled', policy(2, { ...failed, status: 'False', observedGeneration: 2 }), undefined],
    ['no status', policy(2), undefined],
    ['no generation', policy(undefined, { ...failed }), undefined],
  ])('%s', (_name, p, expected) => {
    expect(haltFromStatus(p)).toEqual(expected);
  });
});

describe('dry run', () => {
  it('turns an Enforce policy into Audit and says so in every condition message', () => {
    expect(asDryRun(policy(1)).spec.mode).toBe('Audit');
    expect(dryRunState(READY).message).toBe(
      'dry run (controller started with --dry-run): treated as Audit, nothing is written; 3 matched, 3 compliant',
    );
  });
});
