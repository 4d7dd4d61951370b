/**
 * The controller's Prometheus metrics, on a dedicated Registry (never prom-client's global one, so tests and
 * several controllers in one process never collide). Names follow controller-runtime where a counterpart exists
 * (`controller_runtime_reconcile_total` -> `lpc_reconcile_total`), prefixed `lpc_`.
 */
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { FunctionState } from '../api/schema.ts';
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
}

export class ControllerMetrics {
  readonly registry = new Registry();
  readonly reconcileTotal: Counter<'result'>;
  readonly reconcileDuration: Histogram<'result'>;
  readonly queueDepth: Gauge;
  readonly awsCalls: Counter<'api' | 'bucket' | 'outcome'>;
  readonly awsThrottles: Counter<'api' | 'bucket'>;
  readonly awsCallDuration: Histogram<'bucket'>;
  readonly functionsByState: Gauge<'policy' | 'state'>;
  readonly statusWrites: Counter<'result'>;
  readonly events: Counter<'type' | 'reason'>;
  readonly leader: Gauge;
  readonly watchRestarts: Counter<'reason'>;
  readonly regionUnavailable: Gauge<'region'>;

  constructor(options: MetricsOptions = {}) {
    const registers = [this.registry];
    this.reconcileTotal = new Counter({
      name: 'lpc_reconcile_total',
      help: 'Reconciles by result (success, requeue, error, terminal).',
      labelNames: ['result'],
      registers,
    });
    this.reconcileDuration = new Histogram({
      name: 'lpc_reconcile_duration_seconds',
      help: 'Time spent in one reconcile of one policy.',
      labelNames: ['result'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300],
      registers,
    });
    this.queueDepth = new Gauge({ name: 'lpc_workqueue_depth', help: 'Keys waiting in the work queue.', registers });
    this.awsCalls = new Counter({
      name: 'lpc_aws_calls_total',
      help: 'AWS API call attempts by API, quota bucket and outcome (ok, throttled, error).',
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
    this.functionsByState = new Gauge({
      name: 'lpc_functions',
      help: 'Matched functions per policy and state (Compliant, Drifted, Remediated, Overridden, Failed, Infeasible).',
      labelNames: ['policy', 'state'],
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
    this.leader = new Gauge({ name: 'lpc_leader', help: '1 while this instance holds the leader lease.', registers });
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
    if (options.processMetrics ?? true) collectDefaultMetrics({ register: this.registry, prefix: 'lpc_' });
  }

  observeReconcile(result: ReconcileOutcome, durationMs: number): void {
    this.reconcileTotal.inc({ result });
    this.reconcileDuration.observe({ result }, durationMs / 1000);
  }

  observeAwsCall(call: AwsCallObservation): void {
    // A 404 is how AWS answers "no provisioned concurrency here" or "no such alias": an answer, not a failure.
    const outcome = call.outcome === 'error' && call.error?.code === 'NotFound' ? 'not_found' : call.outcome;
    this.awsCalls.inc({ api: call.api, bucket: call.bucket, outcome });
    this.awsCallDuration.observe({ bucket: call.bucket }, call.durationMs / 1000);
    if (call.outcome === 'throttled') this.awsThrottles.inc({ api: call.api, bucket: call.bucket });
  }

  /** Replaces a policy's per-state counts (states absent from `counts` are set to 0). */
  setFunctionStates(policy: string, counts: Partial<Record<FunctionState, number>>): void {
    for (const state of ['Compliant', 'Drifted', 'Remediated', 'Overridden', 'Failed', 'Infeasible'] as const) {
      this.functionsByState.set({ policy, state }, counts[state] ?? 0);
    }
  }

  /** Drops a deleted policy's series. */
  forgetPolicy(policy: string): void {
    for (const state of ['Compliant', 'Drifted', 'Remediated', 'Overridden', 'Failed', 'Infeasible'] as const) {
      this.functionsByState.remove({ policy, state });
    }
  }

  setRegionUnavailable(region: string, unavailable: boolean): void {
    this.regionUnavailable.set({ region }, unavailable ? 1 : 0);
  }

  /** Drops the series of a region no policy reaches into any more. */
  forgetRegion(region: string): void {
    this.regionUnavailable.remove({ region });
  }

  setLeader(leading: boolean): void {
    this.leader.set(leading ? 1 : 0);
  }

  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
