import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ExponentialBackoff, WorkQueue } from '../../../src/controller/queue.ts';
import { enqueueEvents, runWorkers, TerminalError } from '../../../src/controller/worker.ts';
import { MAX_TIMER_MS } from '../../../src/shared/clock.ts';
import { FakeClock } from '../../support/fake-clock.ts';

/** Takes every key that is ready right now, without waiting. */
async function drainReady(q: WorkQueue): Promise<string[]> {
  const out: string[] = [];
  while (q.depth > 0) {
    const k = await q.get();
    if (k === undefined) break;
    out.push(k);
  }
  return out;
}

describe('WorkQueue', () => {
  type Step = ['add', string] | ['get'] | ['done', string];
  it.each<{ name: string; steps: Step[]; handedOut: string[]; depth: number }>([
    {
      name: 'dedups waiting keys',
      steps: [['add', 'a'], ['add', 'a'], ['add', 'b'], ['get'], ['get']],
      handedOut: ['a', 'b'],
      depth: 0,
    },
    {
      name: 'keeps FIFO order',
      steps: [['add', 'b'], ['add', 'a'], ['add', 'c'], ['get'], ['get'], ['get']],
      handedOut: ['b', 'a', 'c'],
      depth: 0,
    },
    {
      name: 'does not hand a key out while it is processed',
      steps: [['add', 'a'], ['get'], ['add', 'a']],
      handedOut: ['a'],
      depth: 0,
    },
    {
      name: 're-added during processing: handed out once more after done',
      steps: [['add', 'a'], ['get'], ['add', 'a'], ['add', 'a'], ['done', 'a'], ['get']],
      handedOut: ['a', 'a'],
      depth: 0,
    },
    {
      name: 'done without re-add: not handed out again',
      steps: [['add', 'a'], ['get'], ['done', 'a'], ['add', 'b'], ['get']],
      handedOut: ['a', 'b'],
      depth: 0,
    },
    {
      name: 'depth counts ready keys',
      steps: [
        ['add', 'a'],
        ['add', 'b'],
        ['add', 'a'],
      ],
      handedOut: [],
      depth: 2,
    },
  ])('$name', async ({ steps, handedOut, depth }) => {
    const q = new WorkQueue({ clock: new FakeClock() });
    const got: string[] = [];
    for (const step of steps) {
      if (step[0] === 'add') q.add(step[1]);
      else if (step[0] === 'done') q.done(step[1]);
      else if (q.depth > 0) got.push((await q.get()) ?? '<none>');
    }
    expect(got).toEqual(handedOut);
    expect(q.depth).toBe(depth);
  });

  it('wakes a waiting worker when a key arrives', async () => {
    const q = new WorkQueue({ clock: new FakeClock() });
    const pending = q.get();
    q.add('x');
    await expect(pending).resolves.toBe('x');
    expect(q.inFlight).toBe(1);
  });

  it('addAfter makes the key ready only when its time has come', async () => {
    const clock = new FakeClock();
    const q = new WorkQueue({ clock });
    q.addAfter('a', 100);
    clock.advance(99);
    expect(q.depth).toBe(0);
    clock.advance(1);
    expect(await drainReady(q)).toEqual(['a']);
  });

  it('addAfter: the earliest time wins, later calls do not postpone', async () => {
    const clock = new FakeClock();
    const q = new WorkQueue({ clock });
    q.addAfter('a', 100);
    q.addAfter('a', 500);
    q.addAfter('a', 50);
    clock.advance(50);
    expect(await drainReady(q)).toEqual(['a']);
    expect(q.delayedCount).toBe(0);
  });

  it('a delay longer than a timer can hold (600 h) never arms an overflowing timer and fires on time', async () => {
    const clock = new FakeClock();
    const requested: number[] = [];
    const setTimeout = clock.setTimeout.bind(clock);
    clock.setTimeout = (fn, ms) => {
      requested.push(ms);
      return setTimeout(fn, ms);
    };
    const q = new WorkQueue({ clock });
    const hours600 = 600 * 3_600_000;
    q.addAfter('long', hours600);
    clock.advance(hours600 - 1);
    expect(q.depth).toBe(0);
    clock.advance(1);
    expect(await drainReady(q)).toEqual(['long']);
    expect(Math.max(...requested)).toBeLessThanOrEqual(MAX_TIMER_MS);
    // Re-armed a few times on the way, not once per millisecond.
    expect(requested.length).toBeLessThan(5);
  });

  it('addAfter(0) adds immediately', async () => {
    const q = new WorkQueue({ clock: new FakeClock() });
    q.addAfter('a', 0);
    expect(q.depth).toBe(1);
  });

  it('delayed keys become ready in due order', async () => {
    const clock = new FakeClock();
    const q = new WorkQueue({ clock });
    q.addAfter('late', 30);
    q.addAfter('early', 10);
    q.addAfter('mid', 20);
    clock.advance(100);
    expect(await drainReady(q)).toEqual(['early', 'mid', 'late']);
  });

  it('addRateLimited backs off exponentially per key and forget resets it', async () => {
    const clock = new FakeClock();
    const q = new WorkQueue({ clock, baseMs: 5, maxMs: 1000 });
    const delays: number[] = [];
    for (let i = 0; i < 10; i++) {
      const before = clock.now();
      q.addRateLimited('a');
      let waited = 0;
      while (q.depth === 0) {
        clock.advance(1);
        waited++;
      }
      delays.push(waited);
      const k = await q.get();
      q.done(k ?? '');
      expect(clock.now() - before).toBe(waited);
    }
    expect(delays).toEqual([5, 10, 20, 40, 80, 160, 320, 640, 1000, 1000]);
    expect(q.numRequeues('a')).toBe(10);
    q.forget('a');
    expect(q.numRequeues('a')).toBe(0);
  });

  it('shutdown releases waiting workers and ignores new keys', async () => {
    const clock = new FakeClock();
    const q = new WorkQueue({ clock });
    const waiting = q.get();
    q.addAfter('d', 10);
    q.shutdown();
    await expect(waiting).resolves.toBeUndefined();
    q.add('a');
    clock.advance(100);
    expect(q.depth).toBe(0);
    await expect(q.get()).resolves.toBeUndefined();
    expect(clock.pending()).toBe(0);
  });

  it('drain resolves once in-flight keys are done', async () => {
    const q = new WorkQueue({ clock: new FakeClock() });
    q.add('a');
    await q.get();
    q.shutdown();
    let drained = false;
    const d = q.drain().then(() => {
      drained = true;
    });
    await Promise.resolve();
    expect(drained).toBe(false);
    q.done('a');
    await d;
    expect(drained).toBe(true);
  });

  it('reports depth changes', () => {
    const depths: number[] = [];
    const q = new WorkQueue({ clock: new FakeClock(), onDepthChange: (d) => depths.push(d) });
    q.add('a');
    q.add('b');
    expect(depths).toEqual([1, 2]);
  });

  it('property: under any interleaving no key is held twice, and every add is eventually processed', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.oneof(
            fc.constantFrom('a', 'b', 'c').map((k) => ({ op: 'add' as const, k })),
            fc.constant({ op: 'step' as const }),
          ),
          {
            maxLength: 60,
          },
        ),
        async (ops) => {
          const q = new WorkQueue({ clock: new FakeClock() });
          const held = new Set<string>();
          const needs = new Set<string>();
          const step = async () => {
            if (held.size > 0 && (q.depth === 0 || held.size > 1)) {
              const k = [...held][0] as string;
              held.delete(k);
              q.done(k);
            } else if (q.depth > 0) {
              const k = (await q.get()) as string;
              expect(held.has(k)).toBe(false);
              held.add(k);
              needs.delete(k);
            }
          };
          for (const op of ops) {
            if (op.op === 'add') {
              q.add(op.k);
              needs.add(op.k);
            } else await step();
          }
          for (let i = 0; i < 20 && (held.size > 0 || q.depth > 0); i++) await step();
          expect(needs.size).toBe(0);
        },
      ),
    );
  });
});

describe('WorkQueue per-group cap', () => {
  const groupOf = (key: string) => (key.includes('/') ? key.slice(0, key.indexOf('/')) : undefined);

  it('hands out the next key of another group while a group is at its cap', async () => {
    const q = new WorkQueue({ clock: new FakeClock(), groupOf, maxPerGroup: 2 });
    for (const k of ['slow/1', 'slow/2', 'slow/3', 'slow/4', 'fast/1', 'other']) q.add(k);
    const got = [await q.get(), await q.get(), await q.get(), await q.get()];
    expect(got).toEqual(['slow/1', 'slow/2', 'fast/1', 'other']);
    expect(q.inFlightOf('slow')).toBe(2);
    expect(q.depth).toBe(2);
    // Nothing of `slow` may go until one of its keys is done: the waiting worker gets slow/3 then.
    const next = q.get();
    let handed: string | undefined;
    void next.then((k) => {
      handed = k;
    });
    await Promise.resolve();
    expect(handed).toBeUndefined();
    q.done('fast/1');
    await Promise.resolve();
    expect(handed).toBeUndefined();
    q.done('slow/1');
    expect(await next).toBe('slow/3');
    expect(q.inFlightOf('slow')).toBe(2);
  });

  it('a key added while its group is at the cap waits; one of another group goes to a waiting worker', async () => {
    const q = new WorkQueue({ clock: new FakeClock(), groupOf, maxPerGroup: 1 });
    q.add('a/1');
    expect(await q.get()).toBe('a/1');
    const waiting = q.get();
    q.add('a/2');
    q.add('b/1');
    expect(await waiting).toBe('b/1');
    q.done('a/1');
    expect(await q.get()).toBe('a/2');
    q.shutdown();
    expect(await q.get()).toBeUndefined();
  });

  it('rejects a cap below 1', () => {
    expect(() => new WorkQueue({ groupOf, maxPerGroup: 0 })).toThrow(RangeError);
  });

  it('property: a group never holds more than its cap, and every add is eventually processed', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 3 }),
        fc.array(
          fc.oneof(
            fc.constantFrom('a/1', 'a/2', 'a/3', 'a/4', 'b/1', 'b/2', 'c').map((k) => ({ op: 'add' as const, k })),
            fc.constant({ op: 'step' as const }),
          ),
          { maxLength: 60 },
        ),
        async (cap, ops) => {
          const q = new WorkQueue({ clock: new FakeClock(), groupOf, maxPerGroup: cap });
          const held: string[] = [];
          const needs = new Set<string>();
          const heldOf = (g: string) => held.filter((k) => groupOf(k) === g).length;
          // Takes a key only when one may go (a get on a held-back line would wait for a done).
          const mayTake = () => {
            const inLine = [...needs].filter((k) => !held.includes(k));
            return inLine.some((k) => {
              const g = groupOf(k);
              return g === undefined || heldOf(g) < cap;
            });
          };
          const step = async () => {
            if (held.length > 0 && (!mayTake() || held.length > 2)) {
              const k = held.shift() as string;
              q.done(k);
            } else if (mayTake()) {
              const k = (await q.get()) as string;
              expect(held).not.toContain(k);
              held.push(k);
              needs.delete(k);
              for (const g of ['a', 'b']) expect(heldOf(g)).toBeLessThanOrEqual(cap);
            }
          };
          for (const op of ops) {
            if (op.op === 'add') {
              q.add(op.k);
              needs.add(op.k);
            } else await step();
          }
          for (let i = 0; i < 60 && (held.length > 0 || needs.size > 0); i++) await step();
          expect(needs.size).toBe(0);
        },
      ),
    );
  });
});

describe('ExponentialBackoff', () => {
  it.each([
    [0, 5],
    [1, 10],
    [2, 20],
    [10, 5120],
    [17, 655_360],
    [18, 1_000_000],
    [5000, 1_000_000],
  ])('after %i failures waits %i ms (default 5 ms -> 1000 s)', (failures, expected) => {
    const b = new ExponentialBackoff();
    for (let i = 0; i < failures; i++) b.when('k');
    expect(b.when('k')).toBe(expected);
  });

  it('keys back off independently', () => {
    const b = new ExponentialBackoff({ baseMs: 1, maxMs: 100 });
    b.when('a');
    b.when('a');
    expect(b.when('b')).toBe(1);
    expect(b.when('a')).toBe(4);
  });

  it('rejects an inverted range', () => {
    expect(() => new ExponentialBackoff({ baseMs: 10, maxMs: 5 })).toThrow(RangeError);
  });
});

describe('runWorkers', () => {
  it('forgets on success, requeues after the asked delay, backs off on error, drops terminal errors', async () => {
    const clock = new FakeClock();
    const q = new WorkQueue({ clock, baseMs: 5 });
    const outcomes: string[] = [];
    const calls: Record<string, number> = {};
    const running = runWorkers(
      q,
      2,
      async (key) => {
        calls[key] = (calls[key] ?? 0) + 1;
        if (key === 'ok') return undefined;
        if (key === 'interval') return { requeueAfterMs: 1000 };
        if (key === 'terminal') throw new TerminalError('bad object');
        throw new Error('boom');
      },
      { onResult: (key, outcome) => outcomes.push(`${key}:${outcome}`) },
    );
    for (const k of ['ok', 'interval', 'terminal', 'fail']) q.add(k);
    await new Promise((r) => setImmediate(r));
    expect(outcomes.sort()).toEqual(['fail:error', 'interval:requeue', 'ok:success', 'terminal:terminal']);
    expect(q.numRequeues('fail')).toBe(1);
    clock.advance(5);
    await new Promise((r) => setImmediate(r));
    expect(calls.fail).toBe(2);
    clock.advance(1000);
    await new Promise((r) => setImmediate(r));
    expect(calls.interval).toBe(2);
    expect(calls.terminal).toBe(1);
    expect(calls.ok).toBe(1);
    q.shutdown();
    await running;
  });

  it('never runs one key on two workers at once', async () => {
    const q = new WorkQueue({ clock: new FakeClock() });
    let active = 0;
    let maxActive = 0;
    let runs = 0;
    const release: Array<() => void> = [];
    const running = runWorkers(q, 4, async () => {
      active++;
      runs++;
      maxActive = Math.max(maxActive, active);
      await new Promise<void>((r) => release.push(r));
      active--;
      return undefined;
    });
    q.add('same');
    await new Promise((r) => setImmediate(r));
    q.add('same');
    q.add('same');
    await new Promise((r) => setImmediate(r));
    expect(active).toBe(1);
    release.shift()?.();
    await new Promise((r) => setImmediate(r));
    release.shift()?.();
    await new Promise((r) => setImmediate(r));
    expect(maxActive).toBe(1);
    expect(runs).toBe(2);
    q.shutdown();
    await running;
  });
});

describe('enqueueEvents', () => {
  it('queues the keys of relevant events only', async () => {
    const listeners: Array<(e: { key: string; relevant: boolean }) => void> = [];
    const source = {
      on: (l: (e: { key: string; relevant: boolean }) => void) => {
        listeners.push(l);
        return () => {};
      },
    };
    const q = new WorkQueue({ clock: new FakeClock() });
    enqueueEvents(source, q, (e) => e.relevant);
    for (const l of listeners) {
      l({ key: 'ns/a', relevant: true });
      l({ key: 'ns/b', relevant: false });
      l({ key: 'ns/a', relevant: true });
    }
    expect(q.depth).toBe(1);
    expect(await q.get()).toBe('ns/a');
  });
});
