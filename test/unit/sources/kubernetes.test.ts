import { describe, expect, it } from 'vitest';
import type { PolicySet } from '../../../src/api/policy-set.ts';
import type { LambdaPolicy } from '../../../src/api/schema.ts';
import { type ListWatchTransport, PolicyWatcher } from '../../../src/kube/watcher.ts';
import { KubernetesPolicySource } from '../../../src/sources/kubernetes.ts';
import { FakeClock } from '../../support/fake-clock.ts';

function lp(name: string, rv: string, generation: number, status?: unknown): LambdaPolicy {
  return {
    apiVersion: 'lambdapolicy.io/v1alpha1',
    kind: 'LambdaPolicy',
    metadata: { name, namespace: 'ns', resourceVersion: rv, generation },
    spec: { selector: { functionNames: ['*'] }, settings: { memorySize: 128 * generation } },
    ...(status === undefined ? {} : { status }),
  };
}

describe('KubernetesPolicySource', () => {
  it('serves the watched set and emits changes for spec edits only, not for status writes', async () => {
    let emit: (type: string, obj: unknown) => void = () => {};
    const transport: ListWatchTransport = {
      list: async () => ({ items: [lp('b', '1', 1), lp('a', '2', 1)], resourceVersion: '2' }),
      watch: async (_rv, onEvent) => {
        emit = onEvent;
        return { abort: () => {} };
      },
    };
    const clock = new FakeClock();
    const watcher = new PolicyWatcher(transport, { relistIntervalMs: 0, watchdogMs: 0, clock });
    const source = new KubernetesPolicySource(watcher, { coalesceMs: 1, clock });
    const changes: PolicySet[] = [];
    source.onChange((s) => changes.push(s));
    await source.start();
    await new Promise((r) => setImmediate(r));
    expect(source.current().policies.map((p) => p.metadata.name)).toEqual(['a', 'b']);

    emit('MODIFIED', lp('a', '3', 1, { summary: { matched: 1 } }));
    clock.advance(20);
    await new Promise((r) => setImmediate(r));
    expect(changes).toHaveLength(0);

    const next = new Promise<PolicySet>((resolve) => source.onChange(resolve));
    emit('MODIFIED', lp('a', '4', 2));
    emit('DELETED', lp('b', '5', 1));
    clock.advance(1);
    const set = await next;
    expect(set.policies.map((p) => `${p.metadata.name}:${p.spec.settings.memorySize}`)).toEqual(['a:256']);
    await source.stop();
  });
});
