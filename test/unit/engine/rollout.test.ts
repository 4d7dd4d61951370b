import { describe, expect, it } from 'vitest';
import { approvalOf } from '../../../src/api/parse.ts';
import type { Rollout } from '../../../src/api/schema.ts';
import type { PolicyInput } from '../../../src/engine/model.ts';
import { plan } from '../../../src/engine/plan.ts';
import {
  DEFAULT_GUARD_FLOOR,
  DEFAULT_MAX_CHANGES_PERCENT,
  gateRollout,
  haltedBy,
  type RolloutOptions,
} from '../../../src/engine/rollout.ts';
import { fleet, fn, OPTIONS, policy, region } from './fixtures.ts';

const NOW = new Date('2026-12-01T09:00:00Z');

/** `total` functions, the first `drifted` of them at 128 MB (the policy wants 512). */
function fleetOf(total: number, drifted: number) {
  return fleet(
    region(
      Array.from({ length: total }, (_, i) =>
        fn(`f-${String(i).padStart(4, '0')}`, { memorySize: i < drifted ? 128 : 512 }),
      ),
    ),
  );
}

function memoryPolicy(over: Partial<PolicyInput> = {}): PolicyInput {
  return { ...policy('team/mem', { settings: { memorySize: 512 } }), generation: 3, ...over };
}

function gate(p: PolicyInput, total: number, drifted: number, options: RolloutOptions = {}) {
  const planned = plan([p], fleetOf(total, drifted), NOW, OPTIONS);
  return gateRollout(planned, [p], options);
}

const writes = (g: ReturnType<typeof gate>) => g.plan.functions.filter((f) => f.actions.length > 0).length;

describe('gateRollout', () => {
  it.each<[string, Rollout | undefined, RolloutOptions, number, number, string, number]>([
    // name, spec.rollout, options, matched, drifted, state, functions written
    ['no limit, no default guard', undefined, {}, 900, 900, 'Proceed', 900],
    ['default guard stops 900 of 900', undefined, { defaultMaxPercent: 25 }, 900, 900, 'Paused', 0],
    ['default guard lets routine drift pass', undefined, { defaultMaxPercent: 25 }, 900, 40, 'Proceed', 40],
    ['default guard ignores small changes (floor)', undefined, { defaultMaxPercent: 25 }, 2, 2, 'Proceed', 2],
    [
      'default guard just above the floor',
      undefined,
      { defaultMaxPercent: 25 },
      DEFAULT_GUARD_FLOOR + 1,
      DEFAULT_GUARD_FLOOR + 1,
      'Paused',
      0,
    ],
    ['maxFunctions exceeded', { maxFunctions: 50 }, {}, 900, 51, 'Paused', 0],
    ['maxFunctions exactly met', { maxFunctions: 50 }, {}, 900, 50, 'Proceed', 50],
    ['maxPercent exceeded', { maxPercent: 10 }, {}, 100, 11, 'Paused', 0],
    ['maxPercent exactly met', { maxPercent: 10 }, {}, 100, 10, 'Proceed', 10],
    [
      'spec limits replace the default guard',
      { maxFunctions: 1000 },
      { defaultMaxPercent: 25 },
      900,
      900,
      'Proceed',
      900,
    ],
    ['spec maxPercent has no floor', { maxPercent: 50 }, { defaultMaxPercent: 100 }, 2, 2, 'Paused', 0],
    ['batches without a limit', { batchSize: 100 }, {}, 900, 900, 'Batched', 100],
    ['last batch', { batchSize: 100 }, {}, 900, 60, 'Proceed', 60],
    ['approved everywhere (CLI --approve)', { maxFunctions: 2 }, { approveAll: true }, 900, 900, 'Proceed', 900],
    ['approved, then batched', { maxFunctions: 2, batchSize: 2 }, { approveAll: true }, 900, 900, 'Batched', 2],
  ])('%s', (_name, rollout, options, total, drifted, state, written) => {
    const p = memoryPolicy(rollout ? { rollout } : {});
    const g = gate(p, total, drifted, options);
    const decision = g.decisions.get(p.id);
    expect(decision?.state ?? 'Proceed').toBe(state);
    expect(writes(g)).toBe(written);
    if (decision) {
      expect(decision.changing).toBe(drifted);
      expect(decision.matched).toBe(total);
      expect(g.plan.policies[0]?.rollout).toEqual(decision);
    }
  });

  it('says "would change N of M" and how to approve the generation', () => {
    const g = gate(memoryPolicy(), 900, 900, { defaultMaxPercent: DEFAULT_MAX_CHANGES_PERCENT });
    const d = g.decisions.get('team/mem');
    expect(d?.message).toContain('would change 900 of 900 matched functions');
    expect(d?.message).toContain('lambdapolicy.io/approve-generation=3');
    expect(d?.exceeded).toBe("the controller's --max-changes-percent 25%");
    // the drift is still reported: only the writes are held
    expect(g.plan.functions.filter((f) => f.drift.length > 0)).toHaveLength(900);
  });

  it.each<[string, PolicyInput['approval'], number | undefined, string]>([
    ['approves its generation', { generation: 3 }, 3, 'Proceed'],
    ['an older generation does not approve a wider selector', { generation: 2 }, 3, 'Paused'],
    ['an unreadable annotation approves nothing', { invalid: 'bad' }, 3, 'Paused'],
    ['no generation (a file) cannot be approved by annotation', { generation: 3 }, undefined, 'Paused'],
  ])('the approve annotation %s', (_name, approval, generation, state) => {
    const p = memoryPolicy({ rollout: { maxFunctions: 10 }, approval, generation });
    expect(gate(p, 900, 900).decisions.get(p.id)?.state).toBe(state);
  });

  it('reports an unreadable annotation as a policy problem', () => {
    const p = memoryPolicy({ ...approvalOf('yes please') });
    const g = gate(p, 3, 0);
    expect(g.plan.policies[0]?.problems.join()).toContain('must be a generation number such as "3"');
  });

  it('holds only the paused policy: another Enforce policy on the same functions still writes', () => {
    const mem = memoryPolicy({ rollout: { maxFunctions: 1 } });
    const timeout = { ...policy('team/timeout', { settings: { timeout: 60 } }), generation: 1 };
    const functions = [fn('a', { memorySize: 128, timeout: 60 }), fn('b', { memorySize: 128, timeout: 60 }), fn('c')];
    const planned = plan([mem, timeout], fleet(region(functions)), NOW, OPTIONS);
    const g = gateRollout(planned, [mem, timeout], {});
    expect(g.decisions.get('team/mem')?.state).toBe('Paused');
    // c needs only a timeout change (its memory is right): that write is not the paused policy's
    expect(g.plan.functions.filter((f) => f.actions.length > 0).map((f) => f.name)).toEqual(['c']);
  });

  it('halts a batched rollout at its generation and names the failure', () => {
    const p = memoryPolicy({ rollout: { batchSize: 2 } });
    const g = gate(p, 10, 10);
    const executions = g.plan.functions
      .filter((f) => f.actions.length > 0)
      .map((f, i) => ({
        region: f.region,
        name: f.name,
        ok: i !== 1,
        outcomes: [i === 1 ? { status: 'failed', error: { message: 'AccessDenied' } } : { status: 'applied' }],
      }));
    const halted = haltedBy(g, [p], executions);
    expect(halted.get(p.id)).toEqual({ generation: 3, message: 'eu-central-1/f-0001: AccessDenied' });
    const next = gate(p, 10, 9, { halted });
    expect(next.decisions.get(p.id)?.state).toBe('Halted');
    expect(writes(next)).toBe(0);
    // a new generation resumes
    expect(gate({ ...p, generation: 4 }, 10, 9, { halted }).decisions.get(p.id)?.state).toBe('Batched');
    // once nothing is left to change, a halt no longer holds anything
    expect(gate(p, 10, 0, { halted }).decisions.size).toBe(0);
    // without batches, a failure is an ordinary retried failure
    expect(haltedBy(g, [memoryPolicy()], executions).size).toBe(0);
  });

  it('leaves Audit and in-sync policies alone', () => {
    const audit = memoryPolicy({ mode: 'Audit', rollout: { maxFunctions: 1 } });
    expect(gate(audit, 900, 900).decisions.size).toBe(0);
    const synced = memoryPolicy({ rollout: { maxFunctions: 1 } });
    const g = gate(synced, 900, 0);
    expect(g.decisions.size).toBe(0);
  });
});

describe('approvalOf', () => {
  it.each<[string, string, PolicyInput['approval'] | 'invalid']>([
    ['a generation', '7', { generation: 7 }],
    ['a big generation', '123456789012345', { generation: 123456789012345 }],
    ['zero', '0', 'invalid'],
    ['negative', '-1', 'invalid'],
    ['decimal', '3.0', 'invalid'],
    ['spaces', ' 3', 'invalid'],
    ['words', 'yes', 'invalid'],
    ['empty', '', 'invalid'],
    ['too big to be exact', '99999999999999999999', 'invalid'],
  ])('%s', (_name, value, expected) => {
    const got = approvalOf(value).approval;
    if (expected === 'invalid') expect(got && 'invalid' in got).toBe(true);
    else expect(got).toEqual(expected);
  });
});
