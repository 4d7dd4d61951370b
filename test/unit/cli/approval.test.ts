import { describe, expect, it } from 'vitest';
import { type ApprovalIo, approveApply, guardLines } from '../../../src/cli/approval.ts';
import type { PolicyInput } from '../../../src/engine/model.ts';
import { plan } from '../../../src/engine/plan.ts';
import { gateRollout } from '../../../src/engine/rollout.ts';
import { fleet, fn, OPTIONS, policy, region } from '../engine/fixtures.ts';

const NOW = new Date('2026-12-01T09:00:00Z');

function planned(rollout: PolicyInput['rollout'], drifted: number) {
  const p: PolicyInput = { ...policy('team/mem', { settings: { memorySize: 512 } }), ...(rollout ? { rollout } : {}) };
  const functions = Array.from({ length: 20 }, (_, i) => fn(`f-${i}`, { memorySize: i < drifted ? 128 : 512 }));
  return gateRollout(plan([p], fleet(region(functions)), NOW, OPTIONS), [p], { approveAll: true }).plan;
}

/** A terminal that answers `answer` and records what it was asked and told. */
function io(isTTY: boolean, answer = false): ApprovalIo & { asked: string[]; errors: string[] } {
  const asked: string[] = [];
  const errors: string[] = [];
  return {
    isTTY,
    asked,
    errors,
    ask: async (q) => {
      asked.push(q);
      return answer;
    },
    error: (line) => errors.push(line),
  };
}

describe('approveApply', () => {
  it.each<
    [string, PolicyInput['rollout'], number, { approve: boolean; yes: boolean }, boolean, boolean, string, number]
  >([
    // name, rollout, drifted, flags, tty, answer, verdict, questions
    [
      'over the limit, no --approve: refused',
      { maxFunctions: 2 },
      5,
      { approve: false, yes: true },
      false,
      true,
      'refused',
      0,
    ],
    [
      'over the limit, --approve, not a terminal',
      { maxFunctions: 2 },
      5,
      { approve: true, yes: false },
      false,
      false,
      'write',
      0,
    ],
    ['terminal: asks, yes', undefined, 5, { approve: false, yes: false }, true, true, 'write', 1],
    ['terminal: asks, no', undefined, 5, { approve: false, yes: false }, true, false, 'declined', 1],
    ['terminal with --yes: does not ask', undefined, 5, { approve: false, yes: true }, true, false, 'write', 0],
    ['nothing to write: does not ask', undefined, 0, { approve: false, yes: false }, true, false, 'write', 0],
    [
      'terminal, over the limit, --approve: still asks',
      { maxFunctions: 2 },
      5,
      { approve: true, yes: false },
      true,
      true,
      'write',
      1,
    ],
  ])('%s', async (_name, rollout, drifted, flags, tty, answer, verdict, questions) => {
    const terminal = io(tty, answer);
    expect(await approveApply(planned(rollout, drifted), flags, terminal)).toBe(verdict);
    expect(terminal.asked).toHaveLength(questions);
    if (questions > 0) expect(terminal.asked[0]).toBe(`apply ${drifted} changes to ${drifted} functions? [y/N] `);
    if (verdict === 'refused') {
      expect(terminal.errors[0]).toBe(
        'refused: team/mem: would change 5 of 20 matched functions, more than maxFunctions 2',
      );
    }
  });
});

describe('guardLines', () => {
  it.each<[PolicyInput['rollout'], number, string]>([
    [{ maxFunctions: 2 }, 5, 'STOPPED by the guard (more than maxFunctions 2): apply needs --approve'],
    [{ batchSize: 2 }, 5, 'batch of 2 in this run'],
    [undefined, 5, 'within the guard'],
  ])('%j with %i drifted', (rollout, drifted, verdict) => {
    expect(guardLines(planned(rollout, drifted))).toBe(
      `guard: team/mem: would change ${drifted} of 20 matched functions: ${verdict}\n`,
    );
  });
});
