import { describe, expect, it } from 'vitest';
import { LeaderElector } from '../../../src/controller/leader.ts';
import { ConflictError } from '../../../src/kube/errors.ts';
import type { LeaseClient, LeaseRecord } from '../../../src/kube/lease.ts';
import { FakeClock } from '../../support/fake-clock.ts';

/** One Lease in memory with the API server's optimistic concurrency (resourceVersion) rules. */
class MemoryLease {
  record: LeaseRecord | undefined;
  rv = 0;
  failing = new Set<string>();
  /** Candidates whose requests hang (no answer, no error) until `release` is called. */
  hanging = new Set<string>();
  private readonly hung: Array<() => void> = [];

  /** Lets every hung request go on (and answer, late). */
  release(): void {
    for (const go of this.hung.splice(0)) go();
  }

  client(who: string): LeaseClient {
    const check = async () => {
      if (this.hanging.has(who)) await new Promise<void>((resolve) => this.hung.push(resolve));
      if (this.failing.has(who)) throw new Error(`${who}: API server unreachable`);
    };
    return {
      get: async () => {
        await check();
        return this.record ? { record: { ...this.record }, resourceVersion: String(this.rv) } : undefined;
      },
      create: async (record) => {
        await check();
        if (this.record) throw new ConflictError('exists');
        this.record = { ...record };
        this.rv++;
      },
      update: async (record, resourceVersion) => {
        await check();
        if (resourceVersion !== String(this.rv)) throw new ConflictError('stale');
        this.record = { ...record };
        this.rv++;
      },
    };
  }
}

const flush = async () => {
  for (let i = 0; i < 10; i++) await Promise.resolve();
};

async function advance(clock: FakeClock, ms: number, step = 500) {
  for (let t = 0; t < ms; t += step) {
    clock.advance(step);
    await flush();
  }
}

function pair() {
  const clock = new FakeClock(0);
  const lease = new MemoryLease();
  const log: string[] = [];
  const make = (id: string) =>
    new LeaderElector(lease.client(id), {
      identity: id,
      clock,
      onStartedLeading: () => log.push(`${id} leads`),
      onStoppedLeading: () => log.push(`${id} lost`),
    });
  return { clock, lease, log, a: make('a'), b: make('b') };
}

describe('LeaderElector', () => {
  it('only one of two candidates leads', async () => {
    const { clock, log, a, b } = pair();
    a.start();
    await flush();
    b.start();
    await advance(clock, 30_000);
    expect(a.isLeader()).toBe(true);
    expect(b.isLeader()).toBe(false);
    expect(b.leader).toBe('a');
    expect(log).toEqual(['a leads']);
    await a.stop();
    await b.stop();
  });

  it('release on stop: the standby takes over at its next retry, not after a lease duration', async () => {
    const { clock, lease, log, a, b } = pair();
    a.start();
    await flush();
    b.start();
    await advance(clock, 10_000);
    await a.stop();
    expect(lease.record?.holderIdentity).toBeUndefined();
    await advance(clock, 2_000);
    expect(b.isLeader()).toBe(true);
    expect(log).toEqual(['a leads', 'b leads']);
    expect(lease.record?.leaseTransitions).toBe(1);
    await b.stop();
  });

  it('a crashed leader (no release) is replaced after the lease duration, observed locally', async () => {
    const { clock, lease, a, b } = pair();
    a.start();
    await flush();
    b.start();
    await advance(clock, 4_000);
    lease.failing.add('a'); // a can no longer reach the API server
    await advance(clock, 12_000);
    expect(b.isLeader()).toBe(false);
    await advance(clock, 6_000);
    expect(b.isLeader()).toBe(true);
    await b.stop();
  });

  it('a leader that cannot renew within the renew deadline stops leading and says so', async () => {
    const { clock, lease, log, a } = pair();
    a.start();
    await flush();
    expect(a.isLeader()).toBe(true);
    lease.failing.add('a');
    await advance(clock, 9_000);
    expect(a.isLeader()).toBe(true);
    await advance(clock, 2_000);
    expect(a.isLeader()).toBe(false);
    expect(log).toEqual(['a leads', 'a lost']);
    await a.stop();
  });

  it('a leader whose Lease requests hang steps down at the renew deadline, before the Lease can expire', async () => {
    const { clock, lease, log, a, b } = pair();
    a.start();
    await flush();
    expect(a.isLeader()).toBe(true);
    const renewedAt = clock.now();
    lease.hanging.add('a');
    b.start();

    // Act: every request of the leader hangs from now on
    await advance(clock, 9_500, 100);
    expect(a.isLeader()).toBe(true);
    await advance(clock, 600, 100);

    // Assert: stepped down within the renew deadline (10 s), long before the 15 s lease runs out
    expect(a.isLeader()).toBe(false);
    expect(log).toEqual(['a leads', 'a lost']);
    expect(clock.now() - renewedAt).toBeLessThan(15_000);
    expect(b.isLeader()).toBe(false);

    // A hung request answering late does not make it leader again; the standby takes over once the lease expired
    lease.hanging.delete('a');
    lease.release();
    await advance(clock, 8_000, 100);
    expect(a.isLeader()).toBe(false);
    expect(b.isLeader()).toBe(true);
    expect(log).toEqual(['a leads', 'a lost', 'b leads']);
    await a.stop();
    await b.stop();
  });

  it('rejects inconsistent timings', () => {
    const lease = new MemoryLease();
    expect(() => new LeaderElector(lease.client('x'), { leaseDurationMs: 5_000, renewDeadlineMs: 10_000 })).toThrow(
      RangeError,
    );
  });
});
