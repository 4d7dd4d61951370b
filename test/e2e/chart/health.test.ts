/**
 * The chart's Argo CD health check (charts/lambda-policy-controller/argocd/health.lua) run by a real Lua 5.1, the
 * dialect Argo CD embeds: the health_test.yaml fixtures, and for every state the controller can write (built with
 * the controller's own condition code) the health agrees with kstatus and never reports a verdict about an older
 * generation. Skipped (with a note) where lua5.1 is not installed: `apt-get install -y lua5.1`.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { type KstatusState, kstatusConditions, kstatusOf } from '../../../src/controller/conditions.ts';
import { REPO_ROOT } from '../harness/index.ts';
import { luaAvailable, runHealthScript } from './support/lua.ts';

const ARGOCD_DIR = join(REPO_ROOT, 'charts', 'lambda-policy-controller', 'argocd');
const SCRIPT = join(ARGOCD_DIR, 'health.lua');

interface HealthTest {
  healthStatus: { status: string; message: string };
  inputPath: string;
}
const fixtures = (parse(readFileSync(join(ARGOCD_DIR, 'health_test.yaml'), 'utf8')) as { tests: HealthTest[] }).tests;

const hasLua = luaAvailable();
if (!hasLua)
  console.warn('lua5.1 is not installed: the Argo CD health check tests do not run (apt-get install lua5.1)');

describe.runIf(hasLua)('Argo CD health of a LambdaPolicy (health.lua on lua5.1)', () => {
  it.each(fixtures.map((t) => ({ ...t, name: t.inputPath })))('$name is $healthStatus.status', (fixture) => {
    // Arrange
    const object = parse(readFileSync(join(ARGOCD_DIR, fixture.inputPath), 'utf8')) as unknown;

    // Act
    const [health] = runHealthScript(SCRIPT, [object]);

    // Assert
    expect(health).toEqual(fixture.healthStatus);
  });

  const state = fc.oneof(
    fc.record({ kind: fc.constant('Ready' as const), reason: fc.constant('Compliant'), message: fc.string() }),
    fc.record({ kind: fc.constant('Reconciling' as const), reason: fc.constant('Remediating'), message: fc.string() }),
    fc.record({ kind: fc.constant('Stalled' as const), reason: fc.constant('Infeasible'), message: fc.string() }),
    fc.record({
      kind: fc.constant('NotReady' as const),
      reason: fc.constantFrom('AwsUnavailable', 'Drifted', 'RemediationFailed'),
      message: fc.string(),
    }),
  );
  const policyStates = fc.record({
    // The state of the controller's last visit, which saw `observed`; the object is now at `generation`.
    states: fc.array(state, { minLength: 1, maxLength: 3 }),
    generation: fc.integer({ min: 1, max: 5 }),
    observed: fc.integer({ min: 1, max: 5 }),
  });
  type PolicyStates = { states: KstatusState[]; generation: number; observed: number };
  const NOW = new Date('2026-12-01T09:00:00Z');
  const build = ({ states, generation, observed }: PolicyStates) => {
    let conditions: ReturnType<typeof kstatusConditions>['conditions'] | undefined;
    for (const s of states) conditions = kstatusConditions(conditions, s, observed, NOW).conditions;
    return {
      metadata: { name: 'p', namespace: 'ns', generation },
      spec: { mode: 'Enforce' },
      status: { observedGeneration: observed, conditions },
    };
  };
  const expected = (last: KstatusState, generation: number, observed: number) => {
    if (generation !== observed) return 'Progressing';
    // NotReady (Ready=False, e.g. retrying): kstatus (cli-utils >= 0.37 reads Ready) says InProgress, so Progressing.
    return { Ready: 'Healthy', Reconciling: 'Progressing', Stalled: 'Degraded', NotReady: 'Progressing' }[last.kind];
  };

  it('agrees with kstatus on every state the controller writes, and waits for the current generation', () => {
    // Arrange
    const samples = fc.sample(policyStates, { numRuns: 300, seed: 42 });
    const objects = samples.map(build);

    // Act
    const health = runHealthScript(SCRIPT, objects);

    // Assert
    samples.forEach((sample, i) => {
      const got = health[i]?.status;
      const last = sample.states.at(-1) as KstatusState;
      const context = JSON.stringify({ sample, got });
      expect(got, context).toBe(expected(last, sample.generation, sample.observed));
      const kstatus = kstatusOf(objects[i] as Parameters<typeof kstatusOf>[0]);
      if (kstatus === 'InProgress') expect(got, context).toBe('Progressing');
      if (kstatus === 'Failed') expect(got, context).toBe('Degraded');
      if (got === 'Healthy') expect(kstatus, context).toBe('Current');
    });
  });

  it('shows a suspended policy as Suspended once the controller has seen the suspension', () => {
    // Arrange
    const objects = [2, 3].map((observed) => ({
      metadata: { name: 'p', namespace: 'ns', generation: 3 },
      spec: { mode: 'Enforce', suspend: true },
      status: {
        observedGeneration: observed,
        conditions: kstatusConditions(
          undefined,
          { kind: 'Ready', reason: 'Suspended', message: 'spec.suspend is true' },
          observed,
          NOW,
        ).conditions,
      },
    }));

    // Act
    const [before, after] = runHealthScript(SCRIPT, objects);

    // Assert
    expect(before?.status).toBe('Progressing');
    expect(after).toEqual({ status: 'Suspended', message: 'Suspended: spec.suspend is true' });
  });
});
