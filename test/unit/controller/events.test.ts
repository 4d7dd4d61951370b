import { describe, expect, it } from 'vitest';
import type { LambdaPolicy, LambdaPolicyStatus } from '../../../src/api/schema.ts';
import { kstatusConditions } from '../../../src/controller/conditions.ts';
import { cycleEvents, transitionEvents } from '../../../src/controller/events.ts';
import type { ExecutedFunction } from '../../../src/controller/status.ts';
import { tag } from '../../../src/engine/diff/common.ts';
import type { FunctionPlan } from '../../../src/engine/model.ts';
import { MAX_EVENT_NOTE } from '../../../src/kube/events.ts';

const ID = 'platform/api';
const policy = (mode: 'Enforce' | 'Audit' = 'Enforce'): LambdaPolicy => ({
  apiVersion: 'lambdapolicy.io/v1alpha1',
  kind: 'LambdaPolicy',
  metadata: { name: 'api', namespace: 'platform', uid: 'u1' },
  spec: { mode, selector: { functionNames: ['*'] }, settings: { memorySize: 1024 } },
});

const drifted = (name: string): FunctionPlan => ({
  region: 'eu-central-1',
  name,
  policies: [ID],
  compliant: false,
  drift: [{ field: 'memorySize', desired: 1024, actual: 512, policy: ID }],
  actions: [{ api: 'UpdateFunctionConfiguration', memorySize: 1024 }],
  refusals: [],
  overridden: [],
  auditDrift: [],
});

const exec = (name: string, ok: boolean): ExecutedFunction => ({
  region: 'eu-central-1',
  name,
  ok,
  outcomes: [
    {
      action: tag({ api: 'UpdateFunctionConfiguration', memorySize: 1024 }, 'memorySize'),
      ok,
      status: ok ? 'applied' : 'failed',
      ...(ok ? {} : { error: { message: 'ResourceConflictException' } }),
    },
  ],
});

describe('cycleEvents', () => {
  it('aggregates: one event per reason with a count and the names', () => {
    const fns = Array.from({ length: 14 }, (_, i) => drifted(`fn-${String(i).padStart(2, '0')}`));
    const execs = fns.map((f, i) => exec(f.name, i !== 3));
    const events = cycleEvents(policy(), fns, execs);
    expect(events.map((e) => `${e.type}/${e.reason}`)).toEqual(['Normal/Remediated', 'Warning/RemediationFailed']);
    expect(events[0]?.note).toMatch(/^remediated 13 functions \(memorySize\): eu-central-1\/fn-00, .* and 3 more$/);
    expect(events[1]?.note).toContain(
      '1 function failed: eu-central-1/fn-03; first error: UpdateFunctionConfiguration: ResourceConflictException',
    );
  });

  it('nothing happened -> no events; Audit policies never record remediation events', () => {
    expect(cycleEvents(policy(), [drifted('a')], [])).toEqual([]);
    expect(cycleEvents(policy('Audit'), [drifted('a')], [exec('a', true)])).toEqual([]);
  });

  it('notes stay within 1 KiB', () => {
    const fns = Array.from({ length: 500 }, (_, i) => drifted(`a-very-long-function-name-${'x'.repeat(100)}-${i}`));
    const events = cycleEvents(
      policy(),
      fns,
      fns.map((f) => exec(f.name, false)),
    );
    for (const e of events) expect(e.note.length).toBeLessThanOrEqual(1024);
  });
});

describe('transitionEvents', () => {
  const at = new Date('2026-12-01T09:00:00Z');
  type Kind = 'Ready' | 'Stalled' | 'NotReady' | 'Reconciling';
  const status = (kind: Kind, reason: string, message = `${reason} message`, generation = 1): LambdaPolicyStatus => ({
    conditions: kstatusConditions(undefined, { kind, reason, message }, generation, at).conditions,
  });

  it.each([
    ['InvalidPolicy', 'Stalled'],
    ['RolloutPaused', 'Stalled'],
    ['RolloutFailed', 'Stalled'],
    // A reason this module has never heard of (another part of the controller adds it): same rule.
    ['OutOfScope', 'Stalled'],
    ['AccountMismatch', 'Stalled'],
    ['AwsUnavailable', 'NotReady'],
  ] as const)('entering %s (%s) from Ready is one Warning named by the reason', (reason, kind) => {
    expect(transitionEvents(status('Ready', 'Compliant'), status(kind, reason, 'what is wrong'))).toEqual([
      { type: 'Warning', reason, action: 'Reconcile', note: 'what is wrong' },
    ]);
  });

  it('a first status that is already stalled (no previous) is a transition', () => {
    expect(transitionEvents(undefined, status('Stalled', 'InvalidPolicy'))).toHaveLength(1);
    expect(transitionEvents({}, status('Stalled', 'InvalidPolicy'))).toHaveLength(1);
  });

  it('staying in the reason emits nothing, whatever its message (no Event per pass)', () => {
    const before = status('NotReady', 'AwsUnavailable', 'AWS in eu-central-1: timeout');
    expect(transitionEvents(before, status('NotReady', 'AwsUnavailable', 'AWS in eu-central-1: reset'))).toEqual([]);
    expect(transitionEvents(before, before)).toEqual([]);
  });

  it('another reason is a transition; a new generation still in the reason with a new message is one too', () => {
    expect(transitionEvents(status('Stalled', 'InvalidPolicy'), status('Stalled', 'RolloutPaused'))[0]?.reason).toBe(
      'RolloutPaused',
    );
    const edited = transitionEvents(
      status('Stalled', 'InvalidPolicy', 'bad cron', 1),
      status('Stalled', 'InvalidPolicy', 'bad time zone', 2),
    );
    expect(edited).toEqual([{ type: 'Warning', reason: 'InvalidPolicy', action: 'Reconcile', note: 'bad time zone' }]);
    expect(
      transitionEvents(
        status('Stalled', 'InvalidPolicy', 'bad cron', 1),
        status('Stalled', 'InvalidPolicy', 'bad cron', 2),
      ),
    ).toEqual([]);
  });

  it('leaving the state, Reconciling, Ready and per-check reasons (their Events are per check) emit nothing', () => {
    const stalled = status('Stalled', 'InvalidPolicy');
    expect(transitionEvents(stalled, status('Ready', 'Compliant'))).toEqual([]);
    expect(transitionEvents(stalled, status('Reconciling', 'Remediating'))).toEqual([]);
    expect(transitionEvents(status('Ready', 'Compliant'), status('NotReady', 'RemediationFailed'))).toEqual([]);
    expect(transitionEvents(status('Ready', 'Compliant'), status('Stalled', 'Infeasible'))).toEqual([]);
  });

  it('notes are bounded and carry no credential', () => {
    const key = ['AKIA', 'Q3ZKX7NVD2PLM8WR'].join('');
    const long = `${key} ${'x'.repeat(5000)}`;
    const [event] = transitionEvents(undefined, status('NotReady', 'AwsUnavailable', long));
    expect(event?.note.length).toBeLessThanOrEqual(MAX_EVENT_NOTE);
    expect(event?.note).not.toContain(key);
  });
});
