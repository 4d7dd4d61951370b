/**
 * The metrics as a scraper sees them: controller-runtime's and client-go's names and labels, fed by the real work
 * queue and worker loop, Node's process metrics unprefixed, and the per-policy gauges from a written status.
 */
import { describe, expect, it } from 'vitest';
import type { LambdaPolicyStatus } from '../../../src/api/schema.ts';
import { ControllerMetrics } from '../../../src/controller/metrics.ts';
import { WorkQueue } from '../../../src/controller/queue.ts';
import { runWorkers, TerminalError } from '../../../src/controller/worker.ts';

/** The sample lines of one metric family in the text exposition (no HELP/TYPE). */
async function samples(metrics: ControllerMetrics, name: string): Promise<string[]> {
  const { body } = await metrics.render();
  return body.split('\n').filter((line) => line.startsWith(`${name}{`) || line.startsWith(`${name} `));
}

describe('controller-runtime reconcile metrics', () => {
  it('counts results with controller-runtime labels; errors and terminal errors also in their own counters', async () => {
    const metrics = new ControllerMetrics({ processMetrics: false, workers: 4 });

    metrics.observeReconcile('success', 20);
    metrics.observeReconcile('requeue', 30);
    metrics.observeReconcile('error', 40);
    metrics.observeReconcile('terminal', 50);

    expect(await samples(metrics, 'controller_runtime_reconcile_total')).toEqual([
      'controller_runtime_reconcile_total{controller="lambdapolicy",result="success"} 1',
      'controller_runtime_reconcile_total{controller="lambdapolicy",result="error"} 2',
      'controller_runtime_reconcile_total{controller="lambdapolicy",result="requeue"} 0',
      'controller_runtime_reconcile_total{controller="lambdapolicy",result="requeue_after"} 1',
    ]);
    expect(await samples(metrics, 'controller_runtime_reconcile_errors_total')).toEqual([
      'controller_runtime_reconcile_errors_total{controller="lambdapolicy"} 2',
    ]);
    expect(await samples(metrics, 'controller_runtime_terminal_reconcile_errors_total')).toEqual([
      'controller_runtime_terminal_reconcile_errors_total{controller="lambdapolicy"} 1',
    ]);
    expect(await samples(metrics, 'controller_runtime_reconcile_time_seconds_count')).toEqual([
      'controller_runtime_reconcile_time_seconds_count{controller="lambdapolicy"} 4',
    ]);
    expect(await samples(metrics, 'controller_runtime_max_concurrent_reconciles')).toEqual([
      'controller_runtime_max_concurrent_reconciles{controller="lambdapolicy"} 4',
    ]);
  });
});

describe('workqueue metrics from the real queue and workers', () => {
  it('adds, queue and work durations, retries, depth, and work in progress', async () => {
    // Arrange: a clock the test moves; a handler that fails once, and one that stays busy until released
    let now = 0;
    const metrics = new ControllerMetrics({ processMetrics: false, now: () => now });
    const queue = new WorkQueue({
      baseMs: 1,
      maxMs: 1,
      metrics: metrics.workqueue,
      onDepthChange: (d) => metrics.workqueue.depth(d),
    });
    let failures = 1;
    let release: (() => void) | undefined;
    const busy = new Promise<void>((resolve) => {
      release = resolve;
    });
    const started = new Set<string>();

    queue.add('region/a');
    queue.add('region/a'); // deduplicated: one add
    queue.add('region/b');
    now = 2_000; // both waited 2 s
    const workers = runWorkers(queue, 2, async (key) => {
      started.add(key);
      if (key === 'region/a' && failures-- > 0) throw new Error('AWS unavailable');
      if (key === 'region/b') await busy;
      return undefined;
    });
    await eventually(() => started.has('region/b'));
    now = 5_000; // b has been working for 3 s

    // Assert: while b is in progress
    expect(await samples(metrics, 'workqueue_longest_running_processor_seconds')).toEqual([
      'workqueue_longest_running_processor_seconds{name="lambdapolicy",controller="lambdapolicy"} 3',
    ]);
    expect(await samples(metrics, 'controller_runtime_active_workers')).toEqual([
      'controller_runtime_active_workers{controller="lambdapolicy"} 1',
    ]);

    // Act: let b finish, stop
    release?.();
    await eventually(() => queue.inFlight === 0 && started.size === 2 && failures < 0);
    queue.shutdown();
    await workers;

    // Assert
    expect(await samples(metrics, 'workqueue_adds_total')).toEqual([
      // a, b, then a again after its backoff
      'workqueue_adds_total{name="lambdapolicy",controller="lambdapolicy"} 3',
    ]);
    expect(await samples(metrics, 'workqueue_retries_total')).toEqual([
      'workqueue_retries_total{name="lambdapolicy",controller="lambdapolicy"} 1',
    ]);
    const queueSum = await samples(metrics, 'workqueue_queue_duration_seconds_sum');
    expect(queueSum[0]).toMatch(
      /^workqueue_queue_duration_seconds_sum\{name="lambdapolicy",controller="lambdapolicy"\} 4(\.\d+)?$/,
    );
    expect(await samples(metrics, 'workqueue_work_duration_seconds_count')).toEqual([
      'workqueue_work_duration_seconds_count{name="lambdapolicy",controller="lambdapolicy"} 3',
    ]);
    expect(await samples(metrics, 'workqueue_unfinished_work_seconds')).toEqual([
      'workqueue_unfinished_work_seconds{name="lambdapolicy",controller="lambdapolicy"} 0',
    ]);
    expect(await samples(metrics, 'workqueue_depth')).toEqual([
      'workqueue_depth{name="lambdapolicy",controller="lambdapolicy"} 0',
    ]);
  });

  it('a terminal error is not retried', async () => {
    const metrics = new ControllerMetrics({ processMetrics: false });
    const queue = new WorkQueue({ metrics: metrics.workqueue });
    queue.add('k');
    const workers = runWorkers(
      queue,
      1,
      async () => {
        throw new TerminalError('invalid');
      },
      { onResult: (_key, outcome, ms) => metrics.observeReconcile(outcome, ms) },
    );
    await eventually(
      async () =>
        (await samples(metrics, 'controller_runtime_terminal_reconcile_errors_total'))[0]?.endsWith(' 1') ?? false,
    );
    queue.shutdown();
    await workers;

    expect(await samples(metrics, 'workqueue_retries_total')).toEqual([
      'workqueue_retries_total{name="lambdapolicy",controller="lambdapolicy"} 0',
    ]);
  });
});

describe('leader election, build and process metrics', () => {
  it('leader_election_master_status names the Lease; build info carries the version; process metrics are unprefixed', async () => {
    const metrics = new ControllerMetrics({ leaseName: 'lpc-leader', version: '1.2.3' });

    metrics.setLeader(false);
    const standby = await samples(metrics, 'leader_election_master_status');
    metrics.setLeader(true);

    expect(standby).toEqual(['leader_election_master_status{name="lpc-leader"} 0']);
    expect(await samples(metrics, 'leader_election_master_status')).toEqual([
      'leader_election_master_status{name="lpc-leader"} 1',
    ]);
    expect(await samples(metrics, 'lpc_build_info')).toEqual([
      `lpc_build_info{version="1.2.3",nodejs_version="${process.version}"} 1`,
    ]);
    const names = await metrics.metricNames();
    expect(names).toEqual(
      expect.arrayContaining([
        'process_cpu_seconds_total',
        'process_resident_memory_bytes',
        'nodejs_eventloop_lag_seconds',
      ]),
    );
    expect(names.filter((name) => name.startsWith('lpc_process') || name.startsWith('lpc_nodejs'))).toEqual([]);
  });
});

describe('per-policy gauges', () => {
  const status = (conditions: { type: string; status: 'True' | 'False'; reason: string }[]): LambdaPolicyStatus =>
    ({
      observedGeneration: 3,
      conditions: conditions.map((c) => ({ ...c, message: '', lastTransitionTime: '2026-12-01T09:00:00Z' })),
      summary: { matched: 3, compliant: 2, drifted: 1, remediated: 0, overridden: 0, failed: 0, infeasible: 0 },
      lastCheckTime: '2026-12-01T09:00:00Z',
      nextCheckTime: '2026-12-01T09:05:00Z',
    }) as LambdaPolicyStatus;

  it('ready, compliant, stalled with its reason, last and next check; all gone when the policy is', async () => {
    const metrics = new ControllerMetrics({ processMetrics: false });

    metrics.observePolicyStatus('platform/api', status([{ type: 'Ready', status: 'True', reason: 'Checked' }]));
    const first = {
      ready: await samples(metrics, 'lpc_policy_ready'),
      compliant: await samples(metrics, 'lpc_policy_compliant'),
      last: await samples(metrics, 'lpc_policy_last_check_timestamp_seconds'),
      next: await samples(metrics, 'lpc_policy_next_check_timestamp_seconds'),
      drifted: await samples(metrics, 'lpc_functions'),
    };
    metrics.observePolicyStatus(
      'platform/api',
      status([
        { type: 'Ready', status: 'False', reason: 'OutOfScope' },
        { type: 'Stalled', status: 'True', reason: 'OutOfScope' },
        { type: 'Compliant', status: 'True', reason: 'Compliant' },
      ]),
    );
    const stalled = await samples(metrics, 'lpc_policy_stalled');
    const compliantByCondition = await samples(metrics, 'lpc_policy_compliant');
    metrics.observePolicyStatus('platform/api', status([{ type: 'Stalled', status: 'True', reason: 'RolloutPaused' }]));
    const reasonChanged = await samples(metrics, 'lpc_policy_stalled');
    metrics.forgetPolicy('platform/api');

    expect(first.ready).toEqual(['lpc_policy_ready{policy="platform/api"} 1']);
    expect(first.compliant).toEqual(['lpc_policy_compliant{policy="platform/api"} 0']); // 2 of 3 compliant
    expect(first.last).toEqual([
      `lpc_policy_last_check_timestamp_seconds{policy="platform/api"} ${Date.parse('2026-12-01T09:00:00Z') / 1000}`,
    ]);
    expect(first.next).toEqual([
      `lpc_policy_next_check_timestamp_seconds{policy="platform/api"} ${Date.parse('2026-12-01T09:05:00Z') / 1000}`,
    ]);
    expect(first.drifted).toContain('lpc_functions{policy="platform/api",state="Drifted"} 1');
    expect(stalled).toEqual(['lpc_policy_stalled{policy="platform/api",reason="OutOfScope"} 1']);
    expect(compliantByCondition).toEqual(['lpc_policy_compliant{policy="platform/api"} 1']);
    expect(reasonChanged).toEqual(['lpc_policy_stalled{policy="platform/api",reason="RolloutPaused"} 1']);
    expect((await metrics.render()).body).not.toContain('policy="platform/api"');
  });
});

/** Polls `check` on the event loop until it holds (the workers run on it too). */
async function eventually(check: () => boolean | Promise<boolean>): Promise<void> {
  for (let i = 0; i < 1_000; i++) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  throw new Error('condition never held');
}
