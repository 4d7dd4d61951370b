import { describe, expect, it } from 'vitest';
import { APPROVE_GENERATION_ANNOTATION, type LambdaPolicy } from '../../../src/api/schema.ts';
import {
  type ListWatchTransport,
  needsReconcile,
  type PolicyEvent,
  PolicyWatcher,
  RECONCILE_REQUEST_ANNOTATION,
  type WatchHandle,
} from '../../../src/kube/watcher.ts';
import { FakeClock } from '../../support/fake-clock.ts';

function lp(name: string, rv: string, generation = 1, extra: Partial<LambdaPolicy['metadata']> = {}): LambdaPolicy {
  return {
    apiVersion: 'lambdapolicy.io/v1alpha1',
    kind: 'LambdaPolicy',
    metadata: { name, namespace: 'ns', resourceVersion: rv, generation, ...extra },
    spec: { selector: { functionNames: ['*'] }, settings: {} },
  };
}

interface Session {
  rv: string;
  emit(type: string, obj: unknown): void;
  close(error?: unknown): void;
  aborted: boolean;
}

/** A scripted list+watch: each list() takes the next scripted answer; each watch() opens a session the test drives. */
class ScriptedTransport implements ListWatchTransport {
  lists: Array<{ items: LambdaPolicy[]; resourceVersion: string } | Error | 'hang'> = [];
  listCalls = 0;
  sessions: Session[] = [];

  list() {
    this.listCalls++;
    const next = this.lists.shift();
    if (next === undefined) return Promise.reject(new Error('no scripted list'));
    if (next === 'hang') return new Promise<never>(() => {});
    if (next instanceof Error) return Promise.reject(next);
    return Promise.resolve(next);
  }

  watch(rv: string, onEvent: (t: string, o: unknown) => void, onDone: (e: unknown) => void): Promise<WatchHandle> {
    const session: Session = {
      rv,
      aborted: false,
      emit: (t, o) => onEvent(t, o),
      close: (e) => onDone(e ?? null),
    };
    this.sessions.push(session);
    return Promise.resolve({ abort: () => (session.aborted = true) });
  }

  get last(): Session {
    const s = this.sessions.at(-1);
    if (!s) throw new Error('no watch session');
    return s;
  }
}

const tick = () => new Promise((r) => setImmediate(r));

function setup(options: ConstructorParameters<typeof PolicyWatcher>[1] = {}) {
  const clock = new FakeClock(1_000_000);
  const transport = new ScriptedTransport();
  const watcher = new PolicyWatcher(transport, { clock, ...options });
  const events: string[] = [];
  watcher.on((e) => events.push(`${e.type}:${e.key}@${e.object.metadata.resourceVersion}`));
  return { clock, transport, watcher, events };
}

describe('PolicyWatcher', () => {
  it('lists, becomes ready, then watches from the list resourceVersion', async () => {
    const { transport, watcher, events } = setup();
    transport.lists.push({ items: [lp('a', '5')], resourceVersion: '10' });
    expect(watcher.ready()).toBe(false);
    watcher.start();
    await watcher.waitForSync();
    await tick();
    expect(watcher.ready()).toBe(true);
    expect(watcher.lastSyncTime).toEqual(new Date(1_000_000));
    expect(transport.last.rv).toBe('10');
    transport.last.emit('ADDED', lp('b', '11'));
    transport.last.emit('MODIFIED', lp('a', '12', 2));
    transport.last.emit('DELETED', lp('b', '13'));
    expect(events).toEqual(['added:ns/a@5', 'added:ns/b@11', 'updated:ns/a@12', 'deleted:ns/b@13']);
    expect(watcher.keys()).toEqual(['ns/a']);
    await watcher.stop();
  });

  it('re-watches from the last resourceVersion (bookmarks included) when the server closes the watch', async () => {
    const { transport, watcher } = setup();
    transport.lists.push({ items: [], resourceVersion: '10' });
    watcher.start();
    await tick();
    transport.last.emit('BOOKMARK', { metadata: { resourceVersion: '42' } });
    transport.last.close();
    await tick();
    expect(transport.sessions.map((s) => s.rv)).toEqual(['10', '42']);
    expect(transport.listCalls).toBe(1);
    await watcher.stop();
  });

  it.each([
    [
      'an ERROR event with 410',
      (s: Session) => {
        s.emit('ERROR', { kind: 'Status', code: 410, reason: 'Expired' });
        s.close();
      },
    ],
    ['a 410 response', (s: Session) => s.close(Object.assign(new Error('Gone'), { statusCode: 410 }))],
  ])('relists without backoff after %s, diffing against the cache', async (_name, expire) => {
    const { transport, watcher, events } = setup();
    transport.lists.push({ items: [lp('a', '1'), lp('b', '2')], resourceVersion: '10' });
    transport.lists.push({ items: [lp('a', '1'), lp('c', '20')], resourceVersion: '30' });
    watcher.start();
    await tick();
    expire(transport.last);
    await tick();
    await tick();
    expect(transport.listCalls).toBe(2);
    expect(events).toEqual(['added:ns/a@1', 'added:ns/b@2', 'added:ns/c@20', 'deleted:ns/b@2']);
    expect(transport.last.rv).toBe('30');
    expect(watcher.stats.expired).toBe(1);
    await watcher.stop();
  });

  it('never gives up: errors back off 1 s, 2 s, 4 s ... capped at 30 s, then relist', async () => {
    const { clock, transport, watcher } = setup();
    const errors: unknown[] = [];
    watcher.onError((e) => errors.push(e));
    for (let i = 0; i < 7; i++) transport.lists.push(new Error(`down ${i}`));
    transport.lists.push({ items: [lp('a', '1')], resourceVersion: '5' });
    watcher.start();
    const waits: number[] = [];
    for (let i = 0; i < 7; i++) {
      await tick();
      const before = transport.listCalls;
      let waited = 0;
      while (transport.listCalls === before) {
        clock.advance(500);
        waited += 500;
        await tick();
      }
      waits.push(waited);
    }
    expect(waits).toEqual([1000, 2000, 4000, 8000, 16000, 30000, 30000]);
    expect(errors).toHaveLength(7);
    await tick();
    expect(watcher.ready()).toBe(true);
    expect(transport.last.rv).toBe('5');
    await watcher.stop();
  });

  it('a watch error (not 410) backs off and relists', async () => {
    const { clock, transport, watcher } = setup();
    transport.lists.push({ items: [], resourceVersion: '1' }, { items: [lp('x', '3')], resourceVersion: '4' });
    watcher.start();
    await tick();
    transport.last.close(Object.assign(new Error('connection reset'), { code: 'ECONNRESET' }));
    await tick();
    expect(transport.listCalls).toBe(1);
    clock.advance(1000);
    await tick();
    await tick();
    expect(transport.listCalls).toBe(2);
    expect(watcher.keys()).toEqual(['ns/x']);
    expect(watcher.stats.errors).toBe(1);
    await watcher.stop();
  });

  it('an ERROR event that is not 410 counts as an error', async () => {
    const { transport, watcher } = setup();
    transport.lists.push({ items: [], resourceVersion: '1' });
    watcher.start();
    await tick();
    transport.last.emit('ERROR', { kind: 'Status', code: 500, message: 'internal' });
    transport.last.close();
    await tick();
    expect(watcher.stats.errors).toBe(1);
    await watcher.stop();
  });

  it('client inactivity timeouts just reconnect', async () => {
    const { transport, watcher } = setup();
    transport.lists.push({ items: [], resourceVersion: '7' });
    watcher.start();
    await tick();
    transport.last.close(new DOMException('timeout', 'TimeoutError'));
    await tick();
    expect(transport.sessions).toHaveLength(2);
    expect(watcher.stats.errors).toBe(0);
    await watcher.stop();
  });

  it('backs off when the server closes every watch at once, instead of reopening in a tight loop', async () => {
    const { clock, transport, watcher } = setup({ relistIntervalMs: 0, watchdogMs: 0 });
    transport.lists.push({ items: [], resourceVersion: '7' });
    watcher.start();
    await tick();
    // A server that ends each watch the moment it opens, for one minute of (fake) time.
    for (let elapsed = 0; elapsed < 60_000; elapsed += 100) {
      for (const s of transport.sessions) if (!s.aborted) s.close();
      await tick();
      clock.advance(100);
      await tick();
    }
    // Backoff 1 s, 2 s, 4 s ... capped at 30 s: a handful of reopens, not one per turn of the event loop.
    expect(transport.sessions.length).toBeLessThanOrEqual(8);
    expect(watcher.stats.quickCloses).toBeGreaterThanOrEqual(5);
    expect(watcher.stats.errors).toBe(0);
    await watcher.stop();
  });

  it('reopens at once after a watch that delivered events, however short', async () => {
    const { transport, watcher, events } = setup({ relistIntervalMs: 0, watchdogMs: 0 });
    transport.lists.push({ items: [], resourceVersion: '7' });
    watcher.start();
    await tick();
    transport.last.emit('ADDED', lp('a', '8'));
    transport.last.close();
    await tick();
    expect(transport.sessions.map((s) => s.rv)).toEqual(['7', '8']);
    expect(events).toEqual(['added:ns/a@8']);
    await watcher.stop();
  });

  it('relists periodically and reports only real changes', async () => {
    const { clock, transport, watcher, events } = setup({ relistIntervalMs: 600_000, watchdogMs: 0 });
    transport.lists.push({ items: [lp('a', '1')], resourceVersion: '10' });
    transport.lists.push({ items: [lp('a', '1')], resourceVersion: '11' });
    watcher.start();
    await tick();
    clock.advance(600_000);
    await tick();
    await tick();
    expect(transport.listCalls).toBe(2);
    expect(transport.sessions[0]?.aborted).toBe(true);
    expect(transport.last.rv).toBe('11');
    expect(events).toEqual(['added:ns/a@1']);
    await watcher.stop();
  });

  it('the watchdog restarts a watch that went silent', async () => {
    const { clock, transport, watcher } = setup({ relistIntervalMs: 0, watchdogMs: 60_000 });
    transport.lists.push({ items: [], resourceVersion: '1' }, { items: [], resourceVersion: '2' });
    watcher.start();
    await tick();
    clock.advance(45_000);
    transport.last.emit('BOOKMARK', { metadata: { resourceVersion: '1' } });
    clock.advance(45_000);
    await tick();
    expect(watcher.stats.watchdogRestarts).toBe(0);
    clock.advance(30_000);
    await tick();
    await tick();
    expect(watcher.stats.watchdogRestarts).toBe(1);
    expect(transport.listCalls).toBe(2);
    expect(transport.last.rv).toBe('2');
    await watcher.stop();
  });

  it('the watchdog rescues a list that hangs', async () => {
    const { clock, transport, watcher } = setup({ relistIntervalMs: 0, watchdogMs: 60_000 });
    transport.lists.push('hang', { items: [lp('a', '1')], resourceVersion: '2' });
    watcher.start();
    await tick();
    clock.advance(60_000);
    await tick();
    clock.advance(1_000);
    await tick();
    await tick();
    expect(watcher.ready()).toBe(true);
    expect(watcher.keys()).toEqual(['ns/a']);
    await watcher.stop();
  });

  it('stop ends the loop from any phase and readiness drops', async () => {
    const { transport, watcher } = setup();
    transport.lists.push({ items: [], resourceVersion: '1' });
    watcher.start();
    await tick();
    await watcher.stop();
    expect(watcher.ready()).toBe(false);
    expect(transport.last.aborted).toBe(true);
  });

  it('a throwing listener does not stop the watcher', async () => {
    const { transport, watcher, events } = setup();
    watcher.on(() => {
      throw new Error('listener bug');
    });
    transport.lists.push({ items: [lp('a', '1')], resourceVersion: '1' });
    watcher.start();
    await tick();
    transport.last.emit('ADDED', lp('b', '2'));
    expect(events).toEqual(['added:ns/a@1', 'added:ns/b@2']);
    await watcher.stop();
  });
});

describe('needsReconcile', () => {
  const ev = (
    previous: LambdaPolicy | undefined,
    object: LambdaPolicy,
    type: PolicyEvent['type'] = 'updated',
  ): PolicyEvent => ({
    type,
    key: 'ns/a',
    object,
    ...(previous ? { previous } : {}),
  });
  it.each<[string, PolicyEvent, boolean]>([
    ['added', ev(undefined, lp('a', '1'), 'added'), true],
    ['deleted', ev(undefined, lp('a', '1'), 'deleted'), true],
    ['spec change (generation bump)', ev(lp('a', '1', 1), lp('a', '2', 2)), true],
    ['status-only update (our own write)', ev(lp('a', '1', 1), lp('a', '2', 1)), false],
    ['finalizer added (our own write)', ev(lp('a', '1', 1), lp('a', '2', 1, { finalizers: ['x'] })), false],
    ['deletion requested', ev(lp('a', '1', 1), lp('a', '2', 1, { deletionTimestamp: '2026-01-01T00:00:00Z' })), true],
    [
      'another finalizer removed while deleting',
      ev(
        lp('a', '1', 1, { deletionTimestamp: 't', finalizers: ['x', 'y'] }),
        lp('a', '2', 1, { deletionTimestamp: 't', finalizers: ['x'] }),
      ),
      true,
    ],
    [
      'reconcile requested by annotation',
      ev(lp('a', '1', 1), lp('a', '2', 1, { annotations: { [RECONCILE_REQUEST_ANNOTATION]: 'now' } })),
      true,
    ],
    [
      'a generation approved past the rollout guard',
      ev(lp('a', '1', 2), lp('a', '2', 2, { annotations: { [APPROVE_GENERATION_ANNOTATION]: '2' } })),
      true,
    ],
    [
      'another annotation (not ours)',
      ev(lp('a', '1', 2), lp('a', '2', 2, { annotations: { 'example.com/owner': 'me' } })),
      false,
    ],
  ])('%s -> %s', (_name, event, expected) => {
    expect(needsReconcile(event)).toBe(expected);
  });
});
