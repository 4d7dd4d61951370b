/**
 * The controller's Prometheus metrics, on a dedicated Registry (never prom-client's global one, so tests and
 * several controllers in one process never collide).
 *
 * Where controller-runtime and client-go define a metric, it is theirs by name, labels and buckets
 * (`controller_runtime_reconcile_total{controller,result}`, `workqueue_*{name,controller}`,
 * `leader_election_master_status{name}`), and Node's process metrics are unprefixed (`process_cpu_seconds_total`),
 * so the dashboards and alerts people already run for Go controllers work here. What only this controller knows
 * (AWS calls per quota bucket, throttling, functions by state, per-policy health) is under `lpc_`.
 *
 * The API is small on purpose: `observeReconcile`, `workqueue` (hooks the queue calls), `setLeader`,
 * `observeAwsCall`, `observePolicyStatus` / `forgetPolicy`, `statusWrites`, `render`.
 */
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { FunctionState, LambdaPolicyStatus } from '../api/schema.ts';
import type { ReconcileOutcome } from './worker.ts';

/** One AWS call attempt, as src/aws's rate limiter reports it (structurally its CallEvent). */
export interface AwsCallObservation {
  api: string;
  bucket: string;
  region: string;
  outcome: 'ok' | 'throttled' | 'error';
  durationMs: number;
  error?: { code: string };
}

export interface MetricsOptions {
  /** Also collect Node process metrics (CPU, memory, event loop lag). Default true. */
  processMetrics?: boolean;
  /** The `controller` label (and the work queue's `name`). Default `lambdapolicy`. */
  controller?: string;
  /** The Lease's name, the `name` of `leader_election_master_status`. Default `lambda-policy-controller`. */
  leaseName?: string;
  /** `lpc_build_info{version}`. */
  version?: string;
  /** Reconciles run at once (`controller_runtime_max_concurrent_reconciles`). */
  workers?: number;
  /** Monotonic milliseconds, for queue and work durations. Default performance.now. */
  now?: () => number;
}

/** What the work queue reports, in client-go's terms; every method is cheap and never throws. */
export interface WorkQueueMetrics {
  /** A key entered the queue (not already waiting): `workqueue_adds_total`, and its wait starts. */
  added(key: string): void;
  /** A worker took the key: `workqueue_queue_duration_seconds`, and its work starts. */
  started(key: string): void;
  /** The worker is done with the key: `workqueue_work_duration_seconds`. */
  finished(key: string): void;
  /** A key is put back with a delay (backoff or requeue-after): `workqueue_retries_total`. */
  retried(key: string): void;
  /** Keys waiting to be handed out: `workqueue_depth`. */
  depth(n: number): void;
}

/**
 * The states `lpc_functions` reports, each set (to 0 when absent) so a state that clears shows 0, not a gap.
 * IaCManaged is a subset of Drifted (drift the controller leaves to the function's IaC owner), not an extra state.
 */
const FUNCTION_STATES = [
  'Compliant',
  'Drifted',
  'Remediated',
  'Overridden',
  'Failed',
  'Infeasible',
  'IaCManaged',
] as const;

/** controller-runtime's reconcile time buckets. */
const RECONCILE_BUCKETS = [
  0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.25, 1.5, 1.75,
  2.0, 2.5, 3.0, 3.5, 4.0, 4.5, 5, 6, 7, 8, 9, 10, 15, 20, 25, 30, 40, 50, 60,
];

/** client-go's work queue buckets: 10 ns to 1000 s, by powers of ten. */
const WORKQUEUE_BUCKETS = Array.from({ length: 12 }, (_, i) => Number((1e-8 * 10 ** i).toPrecision(1)));

export class ControllerMetrics {
  readonly registry = new Registry();
  readonly controller: string;
  readonly workqueue: WorkQueueMetrics;
  /** Status subresource patches; the sink increments it. */
  readonly statusWrites: Counter<'result'>;
  /** Kubernetes Events recorded. */
  readonly events: Counter<'type' | 'reason'>;
  /** Policy watch restarts by reason. */
  readonly watchRestarts: Counter<'reason'>;
  readonly regionUnavailable: Gauge<'region'>;

  private readonly leaseName: string;
  private readonly reconcileTotal: Counter<'controller' | 'result'>;
  private readonly reconcileErrors: Counter<'controller'>;
  private readonly terminalErrors: Counter<'controller'>;
  private readonly reconcileTime: Histogram<'controller'>;
  private readonly leaderStatus: Gauge<'name'>;
  private readonly awsCalls: Counter<'api' | 'bucket' | 'outcome'>;
  private readonly awsThrottles: Counter<'api' | 'bucket'>;
  private readonly awsCallDuration: Histogram<'bucket'>;
  private readonly functionsByState: Gauge<'policy' | 'state'>;
  private readonly policyReady: Gauge<'policy'>;
  private readonly policyCompliant: Gauge<'policy'>;
  private readonly policyViolations: Gauge<'policy'>;
  private readonly policyStalled: Gauge<'policy' | 'reason'>;
  private readonly policyLastCheck: Gauge<'policy'>;
  private readonly policyNextCheck: Gauge<'policy'>;
  /** Reason each policy's Stalled series carries, to drop the old one when the reason changes. */
  private readonly stalledReasons = new Map<string, string>();

  constructor(options: MetricsOptions = {}) {
    const registers = [this.registry];
    const controller = options.controller ?? 'lambdapolicy';
    this.controller = controller;
    this.leaseName = options.leaseName ?? 'lambda-policy-controller';

    // controller-runtime
    this.reconcileTotal = new Counter({
      name: 'controller_runtime_reconcile_total',
      help: 'Total number of reconciliations per controller',
      labelNames: ['controller', 'result'],
      registers,
    });
    this.reconcileErrors = new Counter({
      name: 'controller_runtime_reconcile_errors_total',
      help: 'Total number of reconciliation errors per controller',
      labelNames: ['controller'],
      registers,
    });
    this.terminalErrors = new Counter({
      name: 'controller_runtime_terminal_reconcile_errors_total',
      help: 'Total number of terminal reconciliation errors per controller',
      labelNames: ['controller'],
      registers,
    });
    this.reconcileTime = new Histogram({
      name: 'controller_runtime_reconcile_time_seconds',
      help: 'Length of time per reconciliation per controller',
      labelNames: ['controller'],
      buckets: RECONCILE_BUCKETS,
      registers,
    });
    const maxConcurrent = new Gauge({
      name: 'controller_runtime_max_concurrent_reconciles',
      help: 'Maximum number of concurrent reconciles per controller',
      labelNames: ['controller'],
      registers,
    });
    if (options.workers !== undefined) maxConcurrent.set({ controller }, options.workers);
    // Every result series exists from the start, so rate() over a fresh process is 0, not absent.
    for (const result of ['success', 'error', 'requeue', 'requeue_after'])
      this.reconcileTotal.inc({ controller, result }, 0);
    this.reconcileErrors.inc({ controller }, 0);
    this.terminalErrors.inc({ controller }, 0);

    this.workqueue = this.createWorkqueueMetrics(controller, options.now ?? (() => performance.now()));

    // client-go leader election
    this.leaderStatus = new Gauge({
      name: 'leader_election_master_status',
      help: "Gauge of if the reporting system is master of the relevant lease, 0 indicates backup, 1 indicates master. 'name' is the string used to identify the lease.",
      labelNames: ['name'],
      registers,
    });

    const buildInfo = new Gauge({
      name: 'lpc_build_info',
      help: 'Always 1; the labels say which build runs (version, Node.js version).',
      labelNames: ['version', 'nodejs_version'],
      registers,
    });
    buildInfo.set({ version: options.version ?? 'unknown', nodejs_version: process.version }, 1);

    // AWS
    this.awsCalls = new Counter({
      name: 'lpc_aws_calls_total',
      help: 'AWS API call attempts by API, quota bucket and outcome (ok, throttled, error, not_found).',
      labelNames: ['api', 'bucket', 'outcome'],
      registers,
    });
    this.awsThrottles = new Counter({
      name: 'lpc_aws_throttles_total',
      help: 'AWS throttling responses (absorbed by backoff; not policy failures).',
      labelNames: ['api', 'bucket'],
      registers,
    });
    this.awsCallDuration = new Histogram({
      name: 'lpc_aws_call_duration_seconds',
      help: 'AWS call attempt latency by quota bucket.',
      labelNames: ['bucket'],
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });

    // Policies and functions
    this.functionsByState = new Gauge({
      name: 'lpc_functions',
      help: 'Matched functions per policy and state (Compliant, Drifted, Remediated, Overridden, Failed, Infeasible; IaCManaged: of the Drifted, those owned by infrastructure as code).',
      labelNames: ['policy', 'state'],
      registers,
    });
    this.policyReady = new Gauge({
      name: 'lpc_policy_ready',
      help: '1 when the policy is Ready (checked at its generation everywhere it reaches), else 0.',
      labelNames: ['policy'],
      registers,
    });
    this.policyCompliant = new Gauge({
      name: 'lpc_policy_compliant',
      help: '1 when every function the policy matches is compliant, else 0.',
      labelNames: ['policy'],
      registers,
    });
    this.policyViolations = new Gauge({
      name: 'lpc_policy_violations',
      help: "Matched functions violating at least one of the policy's checks, whatever their settings state (a lower bound while status.truncated).",
      labelNames: ['policy'],
      registers,
    });
    this.policyStalled = new Gauge({
      name: 'lpc_policy_stalled',
      help: '1 while the policy is Stalled (a person must fix the policy or the grant), with the reason; absent otherwise.',
      labelNames: ['policy', 'reason'],
      registers,
    });
    this.policyLastCheck = new Gauge({
      name: 'lpc_policy_last_check_timestamp_seconds',
      help: 'When AWS was last read for the policy (Unix time).',
      labelNames: ['policy'],
      registers,
    });
    this.policyNextCheck = new Gauge({
      name: 'lpc_policy_next_check_timestamp_seconds',
      help: 'When AWS is to be read next for the policy (Unix time); far in the past means the loop is stuck.',
      labelNames: ['policy'],
      registers,
    });

    this.statusWrites = new Counter({
      name: 'lpc_status_writes_total',
      help: 'Status subresource patches (written only when the status changed).',
      labelNames: ['result'],
      registers,
    });
    this.events = new Counter({
      name: 'lpc_events_total',
      help: 'Kubernetes Events recorded.',
      labelNames: ['type', 'reason'],
      registers,
    });
    this.watchRestarts = new Counter({
      name: 'lpc_watch_restarts_total',
      help: 'Policy watch restarts by reason (error, expired, watchdog).',
      labelNames: ['reason'],
      registers,
    });
    this.regionUnavailable = new Gauge({
      name: 'lpc_aws_region_unavailable',
      help: "1 while a region's last read failed (AWS stalled past its deadlines, denied or erroring), else 0.",
      labelNames: ['region'],
      registers,
    });
    if (options.processMetrics ?? true) collectDefaultMetrics({ register: this.registry });
  }

  /** One reconcile, with controller-runtime's result labels (a terminal error is an error that is not retried). */
  observeReconcile(result: ReconcileOutcome, durationMs: number): void {
    const controller = this.controller;
    const label = result === 'requeue' ? 'requeue_after' : result === 'terminal' ? 'error' : result;
    this.reconcileTotal.inc({ controller, result: label });
    if (result === 'error' || result === 'terminal') this.reconcileErrors.inc({ controller });
    if (result === 'terminal') this.terminalErrors.inc({ controller });
    this.reconcileTime.observe({ controller }, durationMs / 1000);
  }

  observeAwsCall(call: AwsCallObservation): void {
    // A 404 is how AWS answers "no provisioned concurrency here" or "no such alias": an answer, not a failure.
    const outcome = call.outcome === 'error' && call.error?.code === 'NotFound' ? 'not_found' : call.outcome;
    this.awsCalls.inc({ api: call.api, bucket: call.bucket, outcome });
    this.awsCallDuration.observe({ bucket: call.bucket }, call.durationMs / 1000);
    if (call.outcome === 'throttled') this.awsThrottles.inc({ api: call.api, bucket: call.bucket });
  }

  /**
   * A policy's status as written: per-state function counts, Ready, Compliant (the condition when the status has
   * one, else "every matched function compliant"), Stalled with its reason, and the check times.
   */
  observePolicyStatus(policy: string, status: LambdaPolicyStatus): void {
    const s = status.summary;
    if (s) {
      this.setFunctionStates(policy, {
        Compliant: s.compliant,
        Drifted: s.drifted,
        Failed: s.failed,
        Infeasible: s.infeasible ?? 0,
        Overridden: s.overridden,
        IaCManaged: s.iacManaged ?? 0,
      });
    }
    const condition = (type: string) => status.conditions?.find((c) => c.type === type);
    this.policyReady.set({ policy }, condition('Ready')?.status === 'True' ? 1 : 0);
    const compliant = condition('Compliant');
    const isCompliant = compliant ? compliant.status === 'True' : s !== undefined && s.compliant === s.matched;
    this.policyCompliant.set({ policy }, isCompliant ? 1 : 0);
    // In-line functions that violate are counted in the summary; drifted/failed ones that also violate are listed
    // first in status.functions (non-compliant entries come before in-line ones).
    const alsoOff = (status.functions ?? []).filter((f) => f.state !== 'Violating' && (f.violations?.length ?? 0) > 0);
    this.policyViolations.set({ policy }, (s?.violating ?? 0) + alsoOff.length);
    const stalled = condition('Stalled');
    const reason = stalled?.status === 'True' ? stalled.reason || 'Stalled' : undefined;
    const previous = this.stalledReasons.get(policy);
    if (previous !== undefined && previous !== reason) this.policyStalled.remove({ policy, reason: previous });
    if (reason === undefined) this.stalledReasons.delete(policy);
    else {
      this.stalledReasons.set(policy, reason);
      this.policyStalled.set({ policy, reason }, 1);
    }
    const seconds = (time: string | undefined) => (time === undefined ? undefined : Date.parse(time) / 1000);
    const last = seconds(status.lastCheckTime);
    const next = seconds(status.nextCheckTime);
    if (last !== undefined && Number.isFinite(last)) this.policyLastCheck.set({ policy }, last);
    if (next !== undefined && Number.isFinite(next)) this.policyNextCheck.set({ policy }, next);
  }

  /** Replaces a policy's per-state counts (states absent from `counts` are set to 0). */
  setFunctionStates(policy: string, counts: Partial<Record<FunctionState, number>>): void {
    for (const state of FUNCTION_STATES) this.functionsByState.set({ policy, state }, counts[state] ?? 0);
  }

  /** Drops a deleted policy's series. */
  forgetPolicy(policy: string): void {
    for (const state of FUNCTION_STATES) this.functionsByState.remove({ policy, state });
    for (const gauge of [
      this.policyReady,
      this.policyCompliant,
      this.policyViolations,
      this.policyLastCheck,
      this.policyNextCheck,
    ])
      gauge.remove({ policy });
    const reason = this.stalledReasons.get(policy);
    if (reason !== undefined) this.policyStalled.remove({ policy, reason });
    this.stalledReasons.delete(policy);
  }

  setRegionUnavailable(region: string, unavailable: boolean): void {
    this.regionUnavailable.set({ region }, unavailable ? 1 : 0);
  }

  /** Drops the series of a region no policy reaches into any more. */
  forgetRegion(region: string): void {
    this.regionUnavailable.remove({ region });
  }

  setLeader(leading: boolean): void {
    this.leaderStatus.set({ name: this.leaseName }, leading ? 1 : 0);
  }

  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }

  /** Names of every metric this registry exports (histograms as their `_bucket`, `_sum`, `_count` series too). */
  async metricNames(): Promise<string[]> {
    const names = new Set<string>();
    for (const metric of await this.registry.getMetricsAsJSON()) {
      names.add(metric.name);
      if (String(metric.type) === 'histogram' || String(metric.type) === 'summary') {
        for (const suffix of ['_bucket', '_sum', '_count']) names.add(`${metric.name}${suffix}`);
      }
    }
    return [...names].sort();
  }

  private createWorkqueueMetrics(controller: string, now: () => number): WorkQueueMetrics {
    const registers = [this.registry];
    const labels = { name: controller, controller };
    const labelNames = ['name', 'controller'] as const;
    const depth = new Gauge({
      name: 'workqueue_depth',
      help: 'Current depth of workqueue',
      labelNames,
      registers,
    });
    const adds = new Counter({
      name: 'workqueue_adds_total',
      help: 'Total number of adds handled by workqueue',
      labelNames,
      registers,
    });
    const queueDuration = new Histogram({
      name: 'workqueue_queue_duration_seconds',
      help: 'How long in seconds an item stays in workqueue before being requested',
      labelNames,
      buckets: WORKQUEUE_BUCKETS,
      registers,
    });
    const workDuration = new Histogram({
      name: 'workqueue_work_duration_seconds',
      help: 'How long in seconds processing an item from workqueue takes.',
      labelNames,
      buckets: WORKQUEUE_BUCKETS,
      registers,
    });
    const retries = new Counter({
      name: 'workqueue_retries_total',
      help: 'Total number of retries handled by workqueue',
      labelNames,
      registers,
    });
    const waitingSince = new Map<string, number>();
    const workingSince = new Map<string, number>();
    const activeWorkers = new Gauge({
      name: 'controller_runtime_active_workers',
      help: 'Number of currently used workers per controller',
      labelNames: ['controller'],
      registers,
      collect() {
        this.set({ controller }, workingSince.size);
      },
    });
    new Gauge({
      name: 'workqueue_unfinished_work_seconds',
      help: "How many seconds of work has been done that is in progress and hasn't been observed by work_duration. Large values indicate stuck threads. One can deduce the number of stuck threads by observing the rate at which this increases.",
      labelNames,
      registers,
      collect() {
        const at = now();
        let total = 0;
        for (const since of workingSince.values()) total += at - since;
        this.set(labels, total / 1000);
      },
    });
    new Gauge({
      name: 'workqueue_longest_running_processor_seconds',
      help: 'How many seconds has the longest running processor for workqueue been running.',
      labelNames,
      registers,
      collect() {
        const at = now();
        let longest = 0;
        for (const since of workingSince.values()) longest = Math.max(longest, at - since);
        this.set(labels, longest / 1000);
      },
    });
    depth.set(labels, 0);
    adds.inc(labels, 0);
    retries.inc(labels, 0);
    activeWorkers.set({ controller }, 0);
    return {
      added: (key) => {
        adds.inc(labels);
        if (!waitingSince.has(key)) waitingSince.set(key, now());
      },
      started: (key) => {
        const since = waitingSince.get(key);
        waitingSince.delete(key);
        const at = now();
        if (since !== undefined) queueDuration.observe(labels, (at - since) / 1000);
        workingSince.set(key, at);
      },
      finished: (key) => {
        const since = workingSince.get(key);
        workingSince.delete(key);
        if (since !== undefined) workDuration.observe(labels, (now() - since) / 1000);
      },
      retried: () => retries.inc(labels),
      depth: (n) => depth.set(labels, n),
    };
  }
}
