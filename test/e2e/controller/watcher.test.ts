/**
 * The policy watcher against a real kube-apiserver: list+watch, generation filtering of our own status writes,
 * recovery after the connection is cut or the server is unreachable (relist catches what was missed), and
 * relisting after 410 Gone once etcd has compacted the history the watch wanted to resume from.
 */
import { CustomObjectsApi } from '@kubernetes/client-node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { kubernetesPolicyTransport } from '../../../src/kube/policies.ts';
import { needsReconcile, type PolicyEvent, PolicyWatcher } from '../../../src/kube/watcher.ts';
import type { ControlPlane } from '../harness/index.ts';
import {
  compactEtcd,
  eventually,
  FaultyProxy,
  kubeConfigFor,
  newNamespace,
  policyManifest,
  startClusterWithCrd,
} from './support.ts';

let cluster: ControlPlane;
let proxy: FaultyProxy;
const cleanups: Array<() => Promise<void>> = [];

beforeAll(async () => {
  cluster = await startClusterWithCrd();
  proxy = await FaultyProxy.start(cluster.server);
});

afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
  proxy.release();
});

afterAll(async () => {
  await proxy?.down();
  await cluster?.stop();
});

function watch(
  namespace: string,
  options: ConstructorParameters<typeof PolicyWatcher>[1] = {},
  timeouts?: [number, number],
) {
  const kc = kubeConfigFor(cluster.kubeconfigPath, proxy.url);
  const watcher = new PolicyWatcher(
    kubernetesPolicyTransport(kc, { namespace, ...(timeouts ? { watchTimeoutSeconds: timeouts } : {}) }),
    { backoffBaseMs: 200, backoffMaxMs: 1_000, ...options },
  );
  const events: PolicyEvent[] = [];
  watcher.on((e) => events.push(e));
  cleanups.push(() => watcher.stop());
  return { watcher, events };
}

const names = (w: PolicyWatcher) =>
  w
    .list()
    .map((p) => `${p.metadata.name}:${p.spec.settings.memorySize}`)
    .sort();

describe('PolicyWatcher on a real API server', () => {
  it('lists, watches, and does not wake up for status-only writes', async () => {
    const ns = await newNamespace(cluster, 'watch');
    await cluster.apply(policyManifest('first', ns));
    const { watcher, events } = watch(ns);
    watcher.start();
    await watcher.waitForSync();
    expect(names(watcher)).toEqual(['first:1024']);

    await cluster.apply(policyManifest('second', ns, 2048));
    await eventually('second added', () => watcher.get(`${ns}/second`) !== undefined);

    // A status write (what the controller does every time status changes) bumps resourceVersion, not generation.
    const api = kubeConfigFor(cluster.kubeconfigPath).makeApiClient(CustomObjectsApi);
    const { PatchStrategy, setHeaderOptions } = await import('@kubernetes/client-node');
    await api.patchNamespacedCustomObjectStatus(
      {
        group: 'lambdapolicy.io',
        version: 'v1alpha1',
        namespace: ns,
        plural: 'lambdapolicies',
        name: 'second',
        body: { status: { observedGeneration: 1, truncated: false } },
      },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    await eventually('status update seen', () => events.some((e) => e.type === 'updated' && e.key === `${ns}/second`));
    const statusUpdate = events.find((e) => e.type === 'updated' && e.key === `${ns}/second`);
    expect(statusUpdate && needsReconcile(statusUpdate)).toBe(false);

    await cluster.apply(policyManifest('second', ns, 4096));
    await eventually('spec update seen', () => watcher.get(`${ns}/second`)?.spec.settings.memorySize === 4096);
    const specUpdate = events.filter((e) => e.type === 'updated' && e.key === `${ns}/second`).at(-1);
    expect(specUpdate && needsReconcile(specUpdate)).toBe(true);

    await cluster.kubectl(['delete', 'lambdapolicy', 'first', '-n', ns]);
    await eventually('delete seen', () => events.some((e) => e.type === 'deleted' && e.key === `${ns}/first`));
    expect(names(watcher)).toEqual(['second:4096']);
  });

  it('recovers after every connection is cut and after the server was unreachable, catching up by relisting', async () => {
    const ns = await newNamespace(cluster, 'blip');
    await cluster.apply(policyManifest('a', ns));
    const errors: unknown[] = [];
    const { watcher } = watch(ns);
    watcher.onError((e) => errors.push(e));
    watcher.start();
    await watcher.waitForSync();

    proxy.cut();
    await cluster.apply(policyManifest('b', ns));
    await eventually('b seen after a cut', () => watcher.get(`${ns}/b`) !== undefined);

    await proxy.down();
    await cluster.apply(policyManifest('c', ns));
    await cluster.kubectl(['delete', 'lambdapolicy', 'a', '-n', ns]);
    await eventually('the watcher noticed the outage', () => errors.length > 0);
    await proxy.up();
    await eventually('caught up after the outage', () => names(watcher).join(',') === 'b:1024,c:1024');
    expect(watcher.ready()).toBe(true);
  });

  it('relists after 410 Gone when the resourceVersion it resumes from was compacted away', async () => {
    const ns = await newNamespace(cluster, 'gone');
    await cluster.apply(policyManifest('keep', ns));
    await cluster.apply(policyManifest('drop', ns));
    // The server ends each watch after 1 s; the watcher then resumes from its last resourceVersion.
    const { watcher } = watch(ns, {}, [1, 1]);
    watcher.start();
    await watcher.waitForSync();
    const watchesBefore = watcher.stats.watches;

    // Requests are held at the proxy: the next resume arrives only after history was changed and compacted.
    proxy.hold();
    await eventually('a resume is pending', () => watcher.stats.watches > watchesBefore, 30_000);
    await cluster.apply(policyManifest('keep', ns, 2048));
    await cluster.kubectl(['delete', 'lambdapolicy', 'drop', '-n', ns]);
    await cluster.apply(policyManifest('new', ns));
    await compactEtcd(cluster.etcdUrl);
    proxy.release();

    await eventually('caught up through a relist', () => names(watcher).join(',') === 'keep:2048,new:1024');
    expect(watcher.stats.expired).toBeGreaterThanOrEqual(1);
    expect(watcher.stats.errors).toBe(0);
  });
});
