/**
 * The controller across a real kube-apiserver restart (not a cut wire, as in watcher.test.ts): the server process
 * goes away (its watches end, connections are refused), etcd keeps everything, and a new server comes up on the
 * same port with a new, empty watch cache. The controller must not exit, must keep enforcing AWS while it cannot
 * reach Kubernetes, and must resume watching (relisting) so an edit made after the restart is enforced.
 *
 * Own control plane, emulator and namespace; the controller runs with `--namespace`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LambdaPolicySpec } from '../../../src/api/schema.ts';
import type { ControlPlane } from '../harness/index.ts';
import {
  applyPolicy,
  condition,
  getPolicy,
  newNamespace,
  startClusterWithCrd,
  statusOf,
  waitPolicyReady,
} from './support/cluster.ts';
import { ControllerProcess, type LogEntry } from './support/controller-process.ts';
import { describeWrite, EU, type Fleet, seedFunction, startFleet, US } from './support/fleet.ts';
import { waitFor } from './support/wait.ts';

let cluster: ControlPlane;

beforeAll(async () => {
  cluster = await startClusterWithCrd();
});

afterAll(async () => {
  await cluster?.stop();
});

const MATCHED = [
  [EU, 'orders-api'],
  [US, 'orders-api'],
] as const;

const ordersSpec = (memorySize: number): LambdaPolicySpec => ({
  mode: 'Enforce',
  interval: '30s',
  selector: { functionNames: ['orders-*'] },
  settings: { memorySize, timeout: 10 },
});

function ordersFleet(): Promise<Fleet> {
  return startFleet([
    seedFunction(EU, 'orders-api'),
    seedFunction(US, 'orders-api'),
    seedFunction(EU, 'billing-worker', { memorySize: 256 }),
  ]);
}

/** Log lines after the first `skip` ones (a bookmark taken with entries().length). */
const linesSince = (controller: ControllerProcess, skip: number): LogEntry[] => controller.entries().slice(skip);

const waitReady = (ns: string, name: string, summary: Record<string, number>) =>
  waitPolicyReady(cluster, ns, name, summary, 120_000);

describe('lambda-policy-controller run across a kube-apiserver restart', () => {
  it('keeps enforcing AWS while the API server is down, then resumes watching and enforces an edit', async () => {
    // Arrange: a policy the controller has enforced and confirmed (Ready, reason Compliant)
    const fleet = await ordersFleet();
    const ns = await newNamespace(cluster, 'restart');
    const controller = await ControllerProcess.start({
      name: ns,
      kubeconfig: cluster.kubeconfigPath,
      awsEndpoint: fleet.url,
      namespace: ns,
    });
    await applyPolicy(cluster, ns, 'orders', ordersSpec(1024));
    await waitReady(ns, 'orders', { matched: 2, compliant: 2, drifted: 0, failed: 0 });
    await waitFor(
      'the controller to confirm its remediation (reason Compliant)',
      async () => condition(await getPolicy(cluster, ns, 'orders'), 'Ready')?.reason === 'Compliant',
      { timeoutMs: 90_000 },
    );
    expect(await controller.ready()).toBe(true);

    // Act: kube-apiserver goes away (etcd stays)
    const logBeforeOutage = controller.entries().length;
    await cluster.stopApiServer();
    expect(cluster.apiServerRunning).toBe(false);

    // Assert: the controller noticed (its watch failed and it is retrying), and did not exit
    await waitFor(
      'the controller to notice the API server is gone',
      () => {
        controller.process.assertRunning();
        return linesSince(controller, logBeforeOutage).some(
          (e) => e.msg === 'policy watch failed; relisting after backoff',
        );
      },
      { timeoutMs: 120_000 },
    );

    // Act: while the API server is down, someone changes a function behind the controller's back
    const beforeDrift = fleet.lastWriteSeq();
    await fleet.changeBehindTheBack(EU, 'orders-api', { memorySize: 256 });

    // Assert: the controller keeps enforcing AWS from the policy set it last saw. Its region pass reads AWS, plans and
    // writes first and only then reports to Kubernetes; the status write fails (connection refused), the region key
    // is retried with backoff, and each retry re-enforces AWS. Nobody is told until the server is back.
    //
    // /readyz meanwhile stays 200: readiness is "the watcher has synced once" (health.ts controllerReadiness,
    // PolicyWatcher.ready()), not "the watch is connected", like a controller-runtime cache. That is deliberate: an
    // API server outage must not make every replica unready at once, and nothing routes traffic to a controller.
    const readiness: boolean[] = [];
    await waitFor(
      'eu-central-1/orders-api back at 1024 MB while the API server is down',
      async () => {
        controller.process.assertRunning();
        readiness.push(await controller.ready());
        return fleet.fn(EU, 'orders-api').memorySize === 1024;
      },
      { timeoutMs: 120_000, intervalMs: 500, describe: () => `${fleet.fn(EU, 'orders-api').memorySize} MB` },
    );
    expect(cluster.apiServerRunning).toBe(false);
    expect(fleet.writes(beforeDrift).map((w) => `${w.api} ${w.region}/${w.function} by ${w.accessKeyId}`)).toEqual([
      `UpdateFunctionConfiguration ${EU}/orders-api by ${controller.accessKeyId}`,
    ]);
    expect(new Set(readiness)).toEqual(new Set([true]));
    // It could not report the fix: the status write of that pass failed and the region is being retried
    await waitFor(
      'a failed reconcile of eu-central-1 (its status write) during the outage',
      () =>
        linesSince(controller, logBeforeOutage).some(
          (e) => e.msg === 'reconcile failed; retrying with backoff' && e.key === `region/${EU}`,
        ),
      { timeoutMs: 120_000 },
    );

    // Act: the API server comes back (same port, certificates and etcd; a new, empty watch cache), and the policy is
    // edited right away, possibly before the controller's watch has reconnected
    const logBeforeRestart = controller.entries().length;
    await cluster.startApiServer();
    const beforeEdit = fleet.lastWriteSeq();
    await applyPolicy(cluster, ns, 'orders', ordersSpec(2048));

    // Assert: the controller picked up the edit (its watcher relisted after the outage) and enforced it
    const edited = await waitReady(ns, 'orders', { matched: 2, compliant: 2, drifted: 0, failed: 0 });
    expect(edited.metadata.generation).toBe(2);
    expect(condition(edited, 'Ready')?.observedGeneration).toBe(2);
    // every fix is counted once: 2 at the start, the one made during the outage (reported once the server was
    // back), 2 for the edit
    expect(statusOf(edited).summary?.remediated).toBe(5);
    for (const [region, name] of MATCHED) {
      expect(fleet.fn(region, name), `${region}/${name}`).toMatchObject({ memorySize: 2048, timeout: 10 });
    }
    expect(
      fleet
        .writes(beforeEdit)
        .filter((w) => w.api === 'UpdateFunctionConfiguration')
        .map((w) => `${w.region}/${w.function}`)
        .sort(),
    ).toEqual([`${EU}/orders-api`, `${US}/orders-api`]);
    expect(fleet.fn(EU, 'billing-worker').memorySize).toBe(256);
    expect(
      fleet
        .writes()
        .filter((w) => w.function === 'billing-worker')
        .map(describeWrite),
    ).toEqual([]);
    const afterRestart = linesSince(controller, logBeforeRestart);
    expect(afterRestart.some((e) => e.msg === 'policies listed')).toBe(true);

    // Assert: one controller process throughout, ready again (it never stopped being ready)
    expect(controller.running).toBe(true);
    expect(await controller.ready()).toBe(true);
    expect(controller.entries().filter((e) => e.msg === 'controller starting')).toHaveLength(1);
    expect(controller.entries().filter((e) => e.msg === 'shutting down')).toEqual([]);
  }, 600_000);
});
