/**
 * The one owner of a policy's status: what it says across regions (a failing region first, then regions not yet
 * checked at the generation, then the figures), how `remediated` grows, and that it forgets a policy that goes.
 */
import { describe, expect, it } from 'vitest';
import type { LambdaPolicy, LambdaPolicyStatus } from '../../../src/api/schema.ts';
import { findCondition } from '../../../src/controller/conditions.ts';
import { MemoryStatusSink } from '../../../src/controller/memory-sink.ts';
import { composeStatus, type RegionView, StatusPublisher } from '../../../src/controller/status-publisher.ts';
import type { PolicyReport } from '../../../src/engine/model.ts';

const NOW = new Date('2026-12-01T09:00:00Z');

function policy(name = 'api', generation = 2): LambdaPolicy {
  return {
    apiVersion: 'lambdapolicy.io/v1alpha1',
    kind: 'LambdaPolicy',
    metadata: { name, namespace: 'platform', uid: `uid-${name}`, generation },
    spec: { selector: { functionNames: ['*'] }, settings: { memorySize: 1024 } },
  };
}

function region(matched: number, compliant: number): RegionView {
  const report: PolicyReport = {
    id: 'platform/api',
    mode: 'Enforce',
    matched,
    compliant,
    drifted: matched - compliant,
    overridden: 0,
    infeasible: 0,
    problems: [],
  };
  return { functions: [], executions: [], policies: [report] };
}

const base = {
  policy: policy(),
  previous: undefined,
  regions: [region(0, 0)],
  pendingRegions: [],
  unavailable: [],
  fixedNow: 0,
  fixedUnreported: 0,
  now: NOW,
};

const ready = (s: LambdaPolicyStatus) => {
  const c = findCondition(s.conditions, 'Ready');
  return `${c?.status}/${c?.reason}`;
};

describe('composeStatus', () => {
  it('says what the figures say when every region is current and readable', () => {
    expect(ready(composeStatus(base))).toBe('True/Compliant');
  });

  it('holds back Ready while a region has not been checked at the generation', () => {
    const status = composeStatus({ ...base, pendingRegions: ['us-east-1'] });
    expect(ready(status)).toBe('Unknown/RegionsPending');
    expect(findCondition(status.conditions, 'Ready')?.message).toContain('not yet checked at generation 2: us-east-1');
  });

  it('says AwsUnavailable, naming the region, before anything else', () => {
    const status = composeStatus({ ...base, pendingRegions: ['us-east-1'], unavailable: ['AWS in us-east-1: down'] });
    expect(ready(status)).toBe('False/AwsUnavailable');
    expect(findCondition(status.conditions, 'Ready')?.message).toBe('AWS in us-east-1: down');
  });

  it('counts remediated as before + fixed now + fixed earlier but not yet reported', () => {
    const previous = composeStatus({ ...base, fixedNow: 3 });
    const status = composeStatus({ ...base, previous, fixedNow: 2, fixedUnreported: 4 });
    expect(previous.summary?.remediated).toBe(3);
    expect(status.summary?.remediated).toBe(9);
  });
});

describe('StatusPublisher', () => {
  it('keeps fixes it could not report, and forgets everything about a policy that goes', async () => {
    const sink = new MemoryStatusSink();
    const publisher = new StatusPublisher({ sink });
    await publisher.publishInvalid(policy('a'), ['bad cron'], NOW);
    await publisher.publishInvalid(policy('b'), ['bad cron'], NOW);
    expect(publisher.tracked).toBe(2);

    publisher.forget(policy('a'));
    expect(publisher.tracked).toBe(1);
    publisher.forget(policy('b'));
    expect(publisher.tracked).toBe(0);
  });
});
