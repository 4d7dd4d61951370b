/**
 * The safety rails end to end: `lambda-policy-controller run` against a real kube-apiserver and the emulator.
 * A selector edit that widens a policy from 2 to 900 functions writes nothing and says Stalled/RolloutPaused
 * with a Warning Event; `kubectl annotate ... approve-generation=2` lets it proceed in batches; a batch with a
 * failing function stops the rollout with the failure in status. A dry-run controller writes nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LambdaPolicySpec } from '../../../src/api/schema.ts';
import type { ControlPlane } from '../harness/index.ts';
import { applyPolicy, condition, getPolicy, newNamespace, startClusterWithCrd, statusOf } from './support/cluster.ts';
import { ControllerProcess } from './support/controller-process.ts';
import { EU, seedFunction, startFleet } from './support/fleet.ts';
import { waitFor } from './support/wait.ts';

let cluster: ControlPlane;

beforeAll(async () => {
  cluster = await startClusterWithCrd();
});

afterAll(async () => {
  await cluster?.stop();
});

const FLEET = 900;
const BATCH = 100;
const names = Array.from({ length: FLEET }, (_, i) => `svc-${String(i).padStart(4, '0')}`);

function fleet900() {
  return startFleet(
    names.map((name, i) =>
      seedFunction(EU, name, { memorySize: 128, tags: { env: 'prod', ...(i < 2 ? { team: 'payments' } : {}) } }),
    ),
  );
}

const spec = (tags: Record<string, string>): LambdaPolicySpec => ({
  mode: 'Enforce',
  interval: '30s',
  selector: { regions: [EU], tags },
  settings: { memorySize: 256 },
  rollout: { batchSize: BATCH },
});

async function stalledReason(ns: string, reason: string, timeoutMs = 120_000) {
  return waitFor(
    `Stalled/${reason}`,
    async () => {
      const p = await getPolicy(cluster, ns, 'memory');
      return condition(p, 'Stalled')?.reason === reason ? p : undefined;
    },
    { timeoutMs },
  );
}

describe('safety rails', () => {
  it('pauses a selector widened from 2 to 900 functions; approval proceeds in batches; a failed batch stops', async () => {
    const fleet = await fleet900();
    const ns = await newNamespace(cluster, 'rollout');
    const first = await ControllerProcess.start({
      name: ns,
      kubeconfig: cluster.kubeconfigPath,
      awsEndpoint: fleet.url,
      namespace: ns,
      regions: [EU],
    });
    const memoryWrites = () => fleet.writes().filter((w) => w.api === 'UpdateFunctionConfiguration');

    // generation 1: two functions, fixed (below the default guard's floor)
    await applyPolicy(cluster, ns, 'memory', spec({ team: 'payments' }));
    await waitFor('2 fixed', () => (memoryWrites().length === 2 ? true : undefined), { timeoutMs: 60_000 });
    await waitFor('Ready', async () =>
      condition(await getPolicy(cluster, ns, 'memory'), 'Ready')?.status === 'True' ? true : undefined,
    );

    // generation 2 widens the selector to 900: nothing written, RolloutPaused, a Warning event
    await applyPolicy(cluster, ns, 'memory', spec({ env: 'prod' }));
    const paused = await stalledReason(ns, 'RolloutPaused');
    expect(paused.metadata.generation).toBe(2);
    expect(condition(paused, 'Stalled')?.message).toContain('would change 898 of 900 matched functions');
    expect(condition(paused, 'Ready')?.status).toBe('False');
    expect(memoryWrites()).toHaveLength(2);
    const events = await cluster.kubectlJson<{ items: { reason: string; type: string }[] }>([
      'get',
      'events.events.k8s.io',
      '-n',
      ns,
    ]);
    expect(events.items.some((e) => e.reason === 'RolloutPaused' && e.type === 'Warning')).toBe(true);
    // spec untouched by the controller: still generation 2 after its status writes
    expect((await getPolicy(cluster, ns, 'memory')).metadata.generation).toBe(2);

    // the second batch holds a function whose update fails
    const failing = names[2 + BATCH + 7] as string;
    fleet.emulator.runtime.faults.configure({
      failUpdates: [{ api: 'UpdateFunctionConfiguration', function: failing, count: 1000, reason: 'EniLimitExceeded' }],
    });

    // approve generation 2
    await cluster.kubectl(['annotate', 'lambdapolicy', 'memory', '-n', ns, 'lambdapolicy.io/approve-generation=2']);
    const stopped = await stalledReason(ns, 'RolloutFailed', 180_000);
    expect(condition(stopped, 'Stalled')?.message).toContain(`${EU}/${failing}`);
    expect(memoryWrites()).toHaveLength(2 + 2 * BATCH);
    // batches: between the two batches the controller re-read the region (no third batch after the failure)
    await new Promise((r) => setTimeout(r, 3_000));
    expect(memoryWrites()).toHaveLength(2 + 2 * BATCH);

    // a restarted controller reads the halt from status and does not resume the stopped rollout
    await first.stop();
    const second = await ControllerProcess.start({
      name: `${ns}-again`,
      kubeconfig: cluster.kubeconfigPath,
      awsEndpoint: fleet.url,
      namespace: ns,
      regions: [EU],
    });
    await second.waitForLog('region checked', 60_000);
    await new Promise((r) => setTimeout(r, 2_000));
    expect(memoryWrites()).toHaveLength(2 + 2 * BATCH);
    expect(condition(await getPolicy(cluster, ns, 'memory'), 'Stalled')?.reason).toBe('RolloutFailed');
  });

  it('a non-numeric approve annotation is a clear problem in status, not a crash', async () => {
    const fleet = await fleet900();
    const ns = await newNamespace(cluster, 'badapprove');
    const controller = await ControllerProcess.start({
      name: ns,
      kubeconfig: cluster.kubeconfigPath,
      awsEndpoint: fleet.url,
      namespace: ns,
      regions: [EU],
    });
    await cluster.apply(
      JSON.stringify({
        apiVersion: 'lambdapolicy.io/v1alpha1',
        kind: 'LambdaPolicy',
        metadata: { name: 'memory', namespace: ns, annotations: { 'lambdapolicy.io/approve-generation': 'latest' } },
        spec: spec({ env: 'prod' }),
      }),
    );
    const p = await stalledReason(ns, 'RolloutPaused');
    expect(statusOf(p).problems?.join()).toContain('must be a generation number such as "3", not "latest"');
    expect(fleet.writes()).toEqual([]);
    // still serving: the bad annotation did not take the process down
    expect((await controller.metrics()).length).toBeGreaterThan(0);
  });

  it('--dry-run: every policy treated as Audit, zero writes, status lists the drift', async () => {
    const fleet = await fleet900();
    const ns = await newNamespace(cluster, 'dryrun');
    const controller = await ControllerProcess.start({
      name: ns,
      kubeconfig: cluster.kubeconfigPath,
      awsEndpoint: fleet.url,
      namespace: ns,
      regions: [EU],
      extraArgs: ['--dry-run'],
    });
    const { rollout: _unused, ...plain } = spec({ team: 'payments' });
    await applyPolicy(cluster, ns, 'memory', plain);
    const p = await waitFor('drift listed', async () => {
      const got = await getPolicy(cluster, ns, 'memory');
      return statusOf(got).summary?.drifted === 2 ? got : undefined;
    });
    expect(statusOf(p).functions?.map((f) => [f.name, f.state])).toEqual([
      ['svc-0000', 'Drifted'],
      ['svc-0001', 'Drifted'],
    ]);
    expect(condition(p, 'Ready')?.message).toContain('dry run');
    expect(fleet.writes()).toEqual([]);
    const metrics = await controller.metrics();
    expect(metrics.find((m) => m.name === 'lpc_dry_run')?.value).toBe(1);
  });

  it('a CloudFormation-tagged function under an Enforce policy is IaCManaged and not written; iacManaged: Enforce fixes it', async () => {
    const fleet = await startFleet([
      seedFunction(EU, 'orders-api', {
        memorySize: 512,
        tags: { team: 'orders', 'aws:cloudformation:stack-name': 'orders-prod' },
      }),
      seedFunction(EU, 'orders-worker', { memorySize: 512, tags: { team: 'orders' } }),
    ]);
    const ns = await newNamespace(cluster, 'iac');
    await ControllerProcess.start({
      name: ns,
      kubeconfig: cluster.kubeconfigPath,
      awsEndpoint: fleet.url,
      namespace: ns,
      regions: [EU],
    });
    const iacSpec: LambdaPolicySpec = {
      mode: 'Enforce',
      interval: '30s',
      selector: { regions: [EU], tags: { team: 'orders' } },
      settings: { memorySize: 1024 },
    };
    await applyPolicy(cluster, ns, 'orders', iacSpec);
    const p = await waitFor('IaCManaged', async () => {
      const got = await getPolicy(cluster, ns, 'orders');
      return condition(got, 'Ready')?.reason === 'IaCManaged' ? got : undefined;
    });
    expect(condition(p, 'Ready')?.status).toBe('True');
    expect(condition(p, 'Compliant')).toMatchObject({ status: 'False', reason: 'Drifted' });
    expect(condition(p, 'Compliant')?.message).toContain('owned by infrastructure as code');
    expect(statusOf(p).functions?.find((f) => f.name === 'orders-api')).toMatchObject({
      state: 'IaCManaged',
      message:
        'owned by CloudFormation stack orders-prod: not written; change MemorySize of AWS::Lambda::Function to 1024 in its template',
    });
    expect(fleet.writes().map((w) => w.function)).toEqual(['orders-worker']);
    expect(fleet.fn(EU, 'orders-api').memorySize).toBe(512);

    await applyPolicy(cluster, ns, 'orders', { ...iacSpec, iacManaged: 'Enforce' });
    await waitFor('orders-api fixed', () => (fleet.fn(EU, 'orders-api').memorySize === 1024 ? true : undefined));
  });
});
