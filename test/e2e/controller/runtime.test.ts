/**
 * The controller's writes against a real kube-apiserver, each as the controller's own ServiceAccount bound by
 * the Helm chart's rendered RBAC (so the chart's rules, files/rbac-rules.yaml, are proven sufficient): status merge patches only on change, the finalizer
 * (metadata only, never spec), aggregated Events with series, and Lease leader election between two electors.
 */
import { CoordinationV1Api, CustomObjectsApi, EventsV1Api, type KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LambdaPolicy } from '../../../src/api/schema.ts';
import { findCondition, kstatusOf } from '../../../src/controller/conditions.ts';
import { DEFAULT_LEASE_NAME, LeaderElector } from '../../../src/controller/leader.ts';
import { buildStatus } from '../../../src/controller/status.ts';
import { tag } from '../../../src/engine/diff/common.ts';
import type { FunctionPlan, PolicyReport } from '../../../src/engine/model.ts';
import { EventRecorder } from '../../../src/kube/events.ts';
import { FINALIZER, Finalizers } from '../../../src/kube/finalizers.ts';
import { kubernetesLeaseClient } from '../../../src/kube/lease.ts';
import { kubernetesPolicyTransport } from '../../../src/kube/policies.ts';
import { StatusWriter } from '../../../src/kube/status-writer.ts';
import { PolicyWatcher } from '../../../src/kube/watcher.ts';
import { applyChartRbac } from '../chart/support/render.ts';
import type { ControlPlane } from '../harness/index.ts';
import { eventually, kubeConfigFor, newNamespace, policyManifest, startClusterWithCrd } from './support.ts';

const CONTROLLER_NS = 'lambda-policy-system';
let cluster: ControlPlane;
/** Authenticates as the controller's ServiceAccount (a real bound token). */
let controllerKc: KubeConfig;

beforeAll(async () => {
  cluster = await startClusterWithCrd();
  const sa = await cluster.serviceAccountKubeconfig({ namespace: CONTROLLER_NS, name: 'lambda-policy-controller' });
  await applyChartRbac(cluster, { namespace: CONTROLLER_NS });
  controllerKc = kubeConfigFor(sa.kubeconfigPath);
});

afterAll(async () => {
  await cluster?.stop();
});

async function getPolicy(ns: string, name: string): Promise<LambdaPolicy> {
  return cluster.kubectlJson<LambdaPolicy>(['get', 'lambdapolicy', name, '-n', ns, '-o', 'json']);
}

const ID = (ns: string) => `${ns}/api`;
const report = (ns: string): PolicyReport => ({
  id: ID(ns),
  mode: 'Enforce',
  matched: 1,
  compliant: 0,
  drifted: 1,
  overridden: 0,
  infeasible: 0,
  problems: [],
  cost: { provisionedConcurrencyMonthlyUSD: 12.5 },
});
const drifted = (ns: string, actual: number): FunctionPlan => ({
  region: 'eu-central-1',
  name: 'api-orders',
  policies: [ID(ns)],
  compliant: false,
  drift: [{ field: 'memorySize', desired: 1024, actual, policy: ID(ns) }],
  actions: [{ api: 'UpdateFunctionConfiguration', memorySize: 1024 }],
  refusals: [],
  overridden: [],
  auditDrift: [],
});

describe('controller writes as its ServiceAccount', () => {
  it('the RBAC allows list/watch and status patches, but never writing spec', async () => {
    const ns = await newNamespace(cluster, 'rbac');
    const as = ['--as', `system:serviceaccount:${CONTROLLER_NS}:lambda-policy-controller`];
    const can = async (...args: string[]) =>
      (await cluster.kubectl(['auth', 'can-i', ...args, '-n', ns, ...as], { check: false })).stdout.trim();
    expect(await can('patch', 'lambdapolicies.lambdapolicy.io/status')).toBe('yes');
    expect(await can('update', 'lambdapolicies.lambdapolicy.io')).toBe('no');
    expect(await can('delete', 'lambdapolicies.lambdapolicy.io')).toBe('no');
    expect(await can('create', 'lambdapolicies.lambdapolicy.io')).toBe('no');

    // The watcher's list+watch works as the ServiceAccount, across all namespaces and for one.
    await cluster.apply(policyManifest('api', ns));
    for (const namespace of [undefined, ns]) {
      const watcher = new PolicyWatcher(kubernetesPolicyTransport(controllerKc, { namespace }));
      watcher.start();
      try {
        await watcher.waitForSync();
        expect(watcher.get(`${ns}/api`)?.spec.settings.memorySize).toBe(1024);
        await cluster.apply(policyManifest('api', ns, 2048));
        await eventually('watch event', () => watcher.get(`${ns}/api`)?.spec.settings.memorySize === 2048);
        await cluster.apply(policyManifest('api', ns, 1024));
        await eventually('watch event', () => watcher.get(`${ns}/api`)?.spec.settings.memorySize === 1024);
        expect(watcher.stats.errors).toBe(0);
      } finally {
        await watcher.stop();
      }
    }
  });

  it('status: merge patch on the subresource, written only when it changed, stale fields removed', async () => {
    const ns = await newNamespace(cluster, 'status');
    await cluster.apply(policyManifest('api', ns));
    const writer = new StatusWriter(controllerKc.makeApiClient(CustomObjectsApi));
    const t0 = new Date('2026-12-01T09:00:00Z');

    let policy = await getPolicy(ns, 'api');
    const first = buildStatus(policy, report(ns), [drifted(ns, 512)], undefined, policy.status, t0);
    expect((await writer.write(policy, first)).written).toBe(true);

    policy = await getPolicy(ns, 'api');
    const rvAfterFirst = policy.metadata.resourceVersion;
    expect(policy.status).toMatchObject({
      observedGeneration: 1,
      summary: { matched: 1, drifted: 1 },
      cost: { provisionedConcurrencyMonthlyUSD: 12.5 },
    });
    expect(kstatusOf(policy as Parameters<typeof kstatusOf>[0])).toBe('InProgress');

    // The next check finds the same: the status read back from the server builds to no change -> no write.
    for (const minutes of [5, 10, 15]) {
      const again = buildStatus(
        policy,
        report(ns),
        [drifted(ns, 512)],
        undefined,
        policy.status,
        new Date(t0.getTime() + minutes * 60_000),
      );
      expect((await writer.write(policy, again)).written).toBe(false);
    }
    expect((await getPolicy(ns, 'api')).metadata.resourceVersion).toBe(rvAfterFirst);
    expect(writer.writes).toBe(1);

    // Something changes: remediated, and the cost is gone -> one write, and `cost` is removed on the server.
    const { cost: _dropped, ...noCost } = report(ns);
    const exec = [
      {
        region: 'eu-central-1',
        name: 'api-orders',
        ok: true,
        outcomes: [
          {
            action: tag({ api: 'UpdateFunctionConfiguration' as const, memorySize: 1024 }, 'memorySize'),
            ok: true,
            status: 'applied' as const,
          },
        ],
      },
    ];
    const third = buildStatus(
      policy,
      noCost,
      [drifted(ns, 512)],
      exec,
      policy.status,
      new Date(t0.getTime() + 20 * 60_000),
    );
    expect((await writer.write(policy, third)).written).toBe(true);
    policy = await getPolicy(ns, 'api');
    const status = policy.status as Record<string, unknown>;
    expect(status.cost).toBeUndefined();
    expect(status.summary).toMatchObject({ remediated: 1, compliant: 1, drifted: 0 });
    expect(findCondition((status.conditions ?? []) as never[], 'Ready')).toMatchObject({
      status: 'True',
      reason: 'Remediated',
    });
    // spec untouched, generation unchanged by status writes.
    expect(policy.metadata.generation).toBe(1);
    expect(policy.spec.settings.memorySize).toBe(1024);
    expect(writer.writes).toBe(2);
  });

  it('finalizer: added and removed through metadata only; deletion waits for it', async () => {
    const ns = await newNamespace(cluster, 'fin');
    await cluster.apply(policyManifest('api', ns));
    const finalizers = new Finalizers(controllerKc.makeApiClient(CustomObjectsApi));
    let policy = await getPolicy(ns, 'api');

    policy = await finalizers.ensure(policy);
    expect(policy.metadata.finalizers).toEqual([FINALIZER]);
    await finalizers.ensure(policy);
    expect(finalizers.patches).toBe(1);
    expect((await getPolicy(ns, 'api')).metadata.generation).toBe(1);

    // Someone else's finalizer added after our read: our rv-guarded patch conflicts, re-reads, keeps theirs.
    const stale = await getPolicy(ns, 'api');
    await cluster.kubectl([
      'patch',
      'lambdapolicy',
      'api',
      '-n',
      ns,
      '--type=json',
      '-p',
      '[{"op":"add","path":"/metadata/finalizers/-","value":"example.com/other"}]',
    ]);
    await cluster.kubectl(['delete', 'lambdapolicy', 'api', '-n', ns, '--wait=false']);
    const deleting = await getPolicy(ns, 'api');
    expect(deleting.metadata.deletionTimestamp).toBeTruthy();

    const after = await finalizers.remove(stale);
    expect(after?.metadata.finalizers).toEqual(['example.com/other']);
    await cluster.kubectl([
      'patch',
      'lambdapolicy',
      'api',
      '-n',
      ns,
      '--type=merge',
      '-p',
      '{"metadata":{"finalizers":null}}',
    ]);
    await eventually('policy gone', async () => {
      const r = await cluster.kubectl(['get', 'lambdapolicy', 'api', '-n', ns], { check: false });
      return r.exitCode !== 0;
    });
    expect(await finalizers.remove(stale)).toBeUndefined();
  });

  it('events: one Event per reason; repeats join a series, written on the first repeat, then per heartbeat', async () => {
    const ns = await newNamespace(cluster, 'events');
    await cluster.apply(policyManifest('api', ns));
    const policy = await getPolicy(ns, 'api');
    let clock = Date.parse('2026-12-01T09:00:00Z');
    const recorder = new EventRecorder(controllerKc.makeApiClient(EventsV1Api), {
      instance: 'test-instance',
      seriesHeartbeatMs: 30 * 60_000,
      now: () => new Date(clock),
    });
    const remediated = {
      type: 'Normal' as const,
      reason: 'Remediated',
      action: 'Remediate',
      note: 'remediated 2 functions (memorySize): a, b',
    };
    const failed = {
      type: 'Warning' as const,
      reason: 'RemediationFailed',
      action: 'Remediate',
      note: '1 function failed: c',
    };
    type EventList = {
      items: Array<{ reason: string; note: string; series?: { count: number }; regarding: { uid: string } }>;
    };
    const listed = async () => {
      const list = await cluster.kubectlJson<EventList>(['get', 'events.v1.events.k8s.io', '-n', ns, '-o', 'json']);
      return { count: list.items.length, byReason: Object.fromEntries(list.items.map((e) => [e.reason, e])) };
    };

    await recorder.recordAll(policy, [remediated, failed]); // two Events
    clock += 5 * 60_000;
    await recorder.recordAll(policy, [failed]); // first repeat: series count 2 written
    for (let i = 0; i < 4; i++) {
      clock += 5 * 60_000;
      await recorder.recordAll(policy, [failed]); // counted in memory only
    }
    expect(recorder.sent).toEqual({ created: 2, patched: 1, failed: 0 });
    let seen = await listed();
    expect(seen.count).toBe(2);
    expect(seen.byReason.RemediationFailed?.series?.count).toBe(2);
    expect(seen.byReason.Remediated?.series).toBeUndefined();
    expect(seen.byReason.Remediated?.regarding.uid).toBe(policy.metadata.uid);

    clock += 10 * 60_000; // heartbeat reached: the current count is written
    await recorder.recordAll(policy, [failed]);
    expect(recorder.sent.patched).toBe(2);
    expect((await listed()).byReason.RemediationFailed?.series?.count).toBe(7);

    clock += 60_000;
    await recorder.recordAll(policy, [failed]);
    await recorder.flush(); // shutdown: nothing counted is lost
    seen = await listed();
    expect(seen.byReason.RemediationFailed?.series?.count).toBe(8);
    expect(seen.count).toBe(2);
    const described = await cluster.kubectl(['describe', 'lambdapolicy', 'api', '-n', ns]);
    expect(described.stdout).toContain('RemediationFailed');
  });

  it('leader election: only one of two leads; release hands over without waiting for expiry', async () => {
    const api = controllerKc.makeApiClient(CoordinationV1Api);
    const leaseClient = () => kubernetesLeaseClient(api, CONTROLLER_NS, DEFAULT_LEASE_NAME);
    const log: string[] = [];
    // A long lease: if the hand-over waited for expiry, b could not lead within the test's patience.
    const timings = { leaseDurationMs: 120_000, renewDeadlineMs: 60_000, retryPeriodMs: 300 };
    const a = new LeaderElector(leaseClient(), { ...timings, identity: 'a', onStartedLeading: () => log.push('a') });
    const b = new LeaderElector(leaseClient(), { ...timings, identity: 'b', onStartedLeading: () => log.push('b') });
    a.start();
    await eventually('a leads', () => a.isLeader());
    b.start();
    await eventually('b sees a', () => b.leader === 'a');
    expect(b.isLeader()).toBe(false);

    const lease = await cluster.kubectlJson<{ spec: { holderIdentity: string; renewTime: string } }>([
      'get',
      'lease',
      DEFAULT_LEASE_NAME,
      '-n',
      CONTROLLER_NS,
      '-o',
      'json',
    ]);
    expect(lease.spec.holderIdentity).toBe('a');
    expect(lease.spec.renewTime).toMatch(/\.\d{6}Z$/); // MicroTime

    await a.stop();
    await eventually('b takes over', () => b.isLeader(), 30_000);
    expect(log).toEqual(['a', 'b']);
    const after = await cluster.kubectlJson<{ spec: { holderIdentity: string; leaseTransitions: number } }>([
      'get',
      'lease',
      DEFAULT_LEASE_NAME,
      '-n',
      CONTROLLER_NS,
      '-o',
      'json',
    ]);
    expect(after.spec.holderIdentity).toBe('b');
    expect(after.spec.leaseTransitions).toBe(1);
    await b.stop();
  });
});
