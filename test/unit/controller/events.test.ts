import { describe, expect, it } from 'vitest';
import type { LambdaPolicy } from '../../../src/api/schema.ts';
import { cycleEvents } from '../../../src/controller/events.ts';
import type { ExecutedFunction } from '../../../src/controller/status.ts';
import { tag } from '../../../src/engine/diff/common.ts';
import type { FunctionPlan } from '../../../src/engine/model.ts';

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
