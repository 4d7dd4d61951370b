/**
 * `/metrics` of a real controller process (a real kube-apiserver, the emulator for AWS) after it has reconciled a
 * policy: the names and labels dashboards written for controller-runtime controllers query, Node's process metrics
 * unprefixed, and this controller's own per-policy and AWS series.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ControlPlane } from '../harness/index.ts';
import { applyPolicy, newNamespace, startClusterWithCrd, waitPolicyReady } from './support/cluster.ts';
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

describe('/metrics of a running controller', () => {
  it('shows the standard controller-runtime, workqueue, leader-election and process names', async () => {
    // Arrange
    const fleet = await startFleet([seedFunction(EU, 'orders-api', { tags: { tier: 'api' } })]);
    const ns = await newNamespace(cluster, 'metrics');
    const controller = await ControllerProcess.start({
      name: 'metrics',
      kubeconfig: cluster.kubeconfigPath,
      awsEndpoint: fleet.url,
      regions: [EU],
      namespace: ns,
      leaderElectionNamespace: ns,
      leaderElectionId: 'lpc-metrics',
    });
    await controller.waitForLog('started leading');

    // Act
    await applyPolicy(cluster, ns, 'api', {
      interval: '30s',
      selector: { tags: { tier: 'api' } },
      settings: { memorySize: 1024 },
    });
    await waitPolicyReady(cluster, ns, 'api', { matched: 1 });
    await waitFor('the policy gauges', async () => (await controller.metric('lpc_policy_ready')) === 1);
    const samples = await controller.metrics();

    // Assert
    const has = (name: string, labels: Record<string, string> = {}) =>
      samples.some((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
    const sum = (name: string, labels: Record<string, string> = {}) =>
      samples
        .filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
        .reduce((n, s) => n + s.value, 0);
    const controllerLabel = { controller: 'lambdapolicy' };
    const queueLabels = { name: 'lambdapolicy', controller: 'lambdapolicy' };
    expect(sum('controller_runtime_reconcile_total', controllerLabel)).toBeGreaterThan(0);
    expect(has('controller_runtime_reconcile_total', { ...controllerLabel, result: 'requeue_after' })).toBe(true);
    expect(has('controller_runtime_reconcile_errors_total', controllerLabel)).toBe(true);
    expect(sum('controller_runtime_reconcile_time_seconds_count', controllerLabel)).toBeGreaterThan(0);
    expect(sum('workqueue_adds_total', queueLabels)).toBeGreaterThan(0);
    expect(sum('workqueue_queue_duration_seconds_count', queueLabels)).toBeGreaterThan(0);
    expect(sum('workqueue_work_duration_seconds_count', queueLabels)).toBeGreaterThan(0);
    for (const name of ['workqueue_depth', 'workqueue_retries_total', 'workqueue_unfinished_work_seconds'])
      expect(has(name, queueLabels), name).toBe(true);
    expect(has('workqueue_longest_running_processor_seconds', queueLabels)).toBe(true);
    expect(sum('leader_election_master_status', { name: 'lpc-metrics' })).toBe(1);
    expect(sum('process_cpu_seconds_total')).toBeGreaterThan(0);
    expect(sum('process_resident_memory_bytes')).toBeGreaterThan(0);
    expect(has('nodejs_eventloop_lag_seconds')).toBe(true);
    expect(samples.filter((s) => s.name.startsWith('lpc_process_')).map((s) => s.name)).toEqual([]);
    expect(sum('lpc_build_info')).toBe(1);
    expect(sum('lpc_policy_ready', { policy: `${ns}/api` })).toBe(1);
    expect(sum('lpc_policy_last_check_timestamp_seconds', { policy: `${ns}/api` })).toBeGreaterThan(0);
    expect(sum('lpc_functions', { policy: `${ns}/api` })).toBe(1);
    expect(sum('lpc_aws_calls_total', { api: 'ListFunctions' })).toBeGreaterThan(0);
  }, 180_000);
});
