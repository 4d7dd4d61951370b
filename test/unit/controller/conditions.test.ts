import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type Condition,
  findCondition,
  kstatusConditions,
  kstatusOf,
  removeCondition,
  setCondition,
  toKubeTime,
} from '../../../src/controller/conditions.ts';
import { truncate } from '../../../src/shared/text.ts';

const t0 = new Date('2026-12-01T09:00:00.123Z');
const t1 = new Date('2026-12-01T10:00:00.000Z');

const ready = (over: Partial<Condition> = {}): Condition => ({
  type: 'Ready',
  status: 'True',
  reason: 'Compliant',
  message: 'all good',
  lastTransitionTime: toKubeTime(t0),
  observedGeneration: 1,
  ...over,
});

describe('setCondition', () => {
  it('adds a missing condition with lastTransitionTime = now (seconds precision)', () => {
    const r = setCondition([], { type: 'Ready', status: 'True', reason: 'Compliant', message: 'ok' }, t0);
    expect(r.changed).toBe(true);
    expect(r.conditions).toEqual([
      { type: 'Ready', status: 'True', reason: 'Compliant', message: 'ok', lastTransitionTime: '2026-12-01T09:00:00Z' },
    ]);
  });

  it.each<{ name: string; update: Partial<Condition>; changed: boolean; transitionMoves: boolean }>([
    { name: 'identical input', update: {}, changed: false, transitionMoves: false },
    { name: 'status flips', update: { status: 'False' }, changed: true, transitionMoves: true },
    { name: 'reason changes only', update: { reason: 'Drifted' }, changed: true, transitionMoves: false },
    { name: 'message changes only', update: { message: 'other' }, changed: true, transitionMoves: false },
    { name: 'observedGeneration changes', update: { observedGeneration: 2 }, changed: true, transitionMoves: false },
  ])('$name -> changed=$changed, transition moves=$transitionMoves', ({ update, changed, transitionMoves }) => {
    const before = [ready()];
    const { lastTransitionTime: _ignored, ...input } = ready(update);
    const r = setCondition(before, input, t1);
    expect(r.changed).toBe(changed);
    expect(r.conditions[0]?.lastTransitionTime).toBe(transitionMoves ? toKubeTime(t1) : toKubeTime(t0));
    expect(before[0]).toEqual(ready()); // input never mutated
  });

  it('keeps the order of existing conditions and appends new types', () => {
    const list = [ready({ type: 'B' }), ready({ type: 'A' })];
    const r = setCondition(list, { type: 'C', status: 'False', reason: 'X', message: '' }, t1);
    expect(r.conditions.map((c) => c.type)).toEqual(['B', 'A', 'C']);
  });

  it('property: applying the same condition twice changes nothing the second time', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('Ready', 'Reconciling', 'Stalled'),
        fc.constantFrom<Condition['status']>('True', 'False', 'Unknown'),
        fc.string(),
        fc.string({ maxLength: 2000 }),
        fc.option(fc.nat(), { nil: undefined }),
        (type, status, reason, message, observedGeneration) => {
          const cond = { type, status, reason, message, observedGeneration };
          const first = setCondition([], cond, t0);
          const second = setCondition(first.conditions, cond, t1);
          expect(second.changed).toBe(false);
          expect(second.conditions).toEqual(first.conditions);
        },
      ),
    );
  });

  it('caps long messages', () => {
    const r = setCondition([], { type: 'Ready', status: 'True', reason: 'R', message: 'x'.repeat(5000) }, t0);
    expect(r.conditions[0]?.message.length).toBe(1024);
  });
});

describe('removeCondition', () => {
  it('removes by type and reports it', () => {
    expect(removeCondition([ready()], 'Ready')).toEqual({ conditions: [], changed: true });
    expect(removeCondition([ready()], 'Other').changed).toBe(false);
  });
});

describe('kstatusConditions / kstatusOf', () => {
  it.each([
    ['Ready', 'Current', { Ready: 'True', Reconciling: 'False', Stalled: 'False' }],
    ['Reconciling', 'InProgress', { Ready: 'Unknown', Reconciling: 'True', Stalled: 'False' }],
    ['Stalled', 'Failed', { Ready: 'False', Reconciling: 'False', Stalled: 'True' }],
    // kstatus reads Ready when neither Reconciling nor Stalled is True: Ready=False is work still to be done.
    ['NotReady', 'InProgress', { Ready: 'False', Reconciling: 'False', Stalled: 'False' }],
  ] as const)('%s -> kstatus %s', (kind, expected, statuses) => {
    const r = kstatusConditions([], { kind, reason: 'Because', message: 'm' }, 3, t0);
    for (const [type, status] of Object.entries(statuses)) {
      expect(findCondition(r.conditions, type)?.status).toBe(status);
      expect(findCondition(r.conditions, type)?.observedGeneration).toBe(3);
    }
    const obj = { metadata: { generation: 3 }, status: { observedGeneration: 3, conditions: r.conditions } };
    expect(kstatusOf(obj)).toBe(expected);
  });

  it('is InProgress while observedGeneration lags, Terminating when deleted', () => {
    const r = kstatusConditions([], { kind: 'Ready', reason: 'Compliant', message: '' }, 2, t0);
    expect(
      kstatusOf({ metadata: { generation: 3 }, status: { observedGeneration: 2, conditions: r.conditions } }),
    ).toBe('InProgress');
    expect(kstatusOf({ metadata: { generation: 2, deletionTimestamp: 'x' }, status: { observedGeneration: 2 } })).toBe(
      'Terminating',
    );
  });

  it('same state twice: no change', () => {
    const a = kstatusConditions([], { kind: 'Ready', reason: 'Compliant', message: '' }, 2, t0);
    const b = kstatusConditions(a.conditions, { kind: 'Ready', reason: 'Compliant', message: '' }, 2, t1);
    expect(b.changed).toBe(false);
  });
});

describe('truncate', () => {
  it.each([
    ['short', 10, 'short'],
    ['exactly10!', 10, 'exactly10!'],
    ['this is longer', 10, 'this is l…'],
  ])('%s / %i', (text, max, expected) => {
    expect(truncate(text, max)).toBe(expected);
  });

  it('never splits a surrogate pair', () => {
    const out = truncate(`${'a'.repeat(8)}😀bbb`, 10);
    expect(out).toBe(`${'a'.repeat(8)}…`);
  });
});
