/**
 * The reconcile loop: a deduplicating work queue keyed by fleet (one key per region of the controller's account)
 * plus one key per deleted policy, fed by a PolicySource (Kubernetes or files) and by each key's own schedule (the
 * shortest policy interval, or the next provisioned-concurrency window edge, whichever comes first).
 *
 * A region key re-reads the world (level-based): the current policy set, then one bulk read of the region, one
 * plan, the writes, and the status of every policy that reaches into the region. A policy key for a deleted policy
 * removes the scheduled actions it owns and releases its finalizer.
 */

import { formatIssue } from '../api/errors.ts';
import { toPolicyInput } from '../api/parse.ts';
import { cliOnlyIssues } from '../api/rules.ts';
import type { LambdaPolicy, LambdaPolicyStatus } from '../api/schema.ts';
import { deletePolicyScheduledActions } from '../aws/cleanup.ts';
import type { Aws, ExecutePlanOptions, FunctionExecution } from '../aws/index.ts';
import type { FunctionPlan, PolicyInput, PolicyReport } from '../engine/model.ts';
import { policyRegions } from '../engine/select.ts';
import type { PolicySet, PolicySource } from '../sources/policy-set.ts';
import { policyKey } from '../sources/policy-set.ts';
import { type KstatusState, kstatusConditions } from './conditions.ts';
import { cycleEvents, type PolicyEventRecord } from './events.ts';
import { isBeingDeleted } from './finalizer.ts';
import { describeError, type Logger, silentLogger } from './logger.ts';
import type { ControllerMetrics } from './metrics.ts';
import { WorkQueue } from './queue.ts';
import { type PassResult, reconcileFleet } from './reconciler.ts';
import { mergePolicyReports } from './reports.ts';
import { buildErrorStatus, buildStatus, functionStatusFor } from './status.ts';
import { type ReconcileResult, runWorkers } from './worker.ts';

/** Where statuses, events and finalizers go: the Kubernetes API, or the demo's memory. */
export interface PolicyStatusSink {
  /** Writes `status` when it differs from `previous`; returns whether it wrote. */
  writeStatus(policy: LambdaPolicy, previous: unknown, status: LambdaPolicyStatus): Promise<boolean>;
  recordEvents(policy: LambdaPolicy, events: readonly PolicyEventRecord[]): Promise<void>;
  /** Adds the finalizer when missing (no request when present). */
  ensureFinalizer(policy: LambdaPolicy): Promise<void>;
  removeFinalizer(policy: LambdaPolicy): Promise<void>;
  /** Writes what is buffered (event series counts) before the process exits. */
  close?(): Promise<void>;
}

export interface ManagerOptions {
  source: PolicySource;
  aws: Aws;
  /** Regions of policies without `selector.regions`. */
  defaultRegions: string[];
  sink: PolicyStatusSink;
  /** Keys reconciled at once (different regions in parallel; one key never twice at once). Default 4. */
  workers?: number;
  logger?: Logger;
  metrics?: ControllerMetrics;
  now?: () => Date;
  execute?: ExecutePlanOptions;
  /**
   * After a pass that wrote to AWS, check the region again this soon, to confirm the fix and report it (default
   * 10 s; the demo uses less). Without it, a remediation would be confirmed only at the next interval.
   */
  recheckAfterWritesMs?: number;
  /** After each region pass (the demo's live view, tests). */
  onPass?: (region: string, pass: PassResult) => void;
}

interface RegionResult {
  pass: PassResult;
  at: Date;
  /** Policy key -> the uid/generation the pass planned it at (see publish: Ready needs every region current). */
  planned: Map<string, string>;
}

/** Error codes of src/aws that a later attempt may not meet again. */
const TRANSIENT_ERRORS: ReadonlySet<string> = new Set(['Throttled', 'Retryable', 'Conflict', 'WaitTimeout']);

/** Events kept for a policy while its status cannot be written (bounded: the API server may be away for long). */
const MAX_CARRIED_EVENTS = 50;

const REGION_KEY = 'region/';
const DELETE_KEY = 'delete/';
/** Visit a region shortly after a window edge so status shows the new desired value. */
const EDGE_SLACK_MS = 5_000;

export class Manager {
  private readonly options: ManagerOptions;
  private readonly log: Logger;
  private readonly now: () => Date;
  readonly queue: WorkQueue;
  private readonly results = new Map<string, RegionResult>();
  /** Last status written per policy uid: fresher than the watch cache right after our own write. */
  private readonly lastStatus = new Map<string, LambdaPolicyStatus>();
  private known = new Map<string, LambdaPolicy>();
  /** Consecutive passes per region whose writes failed for a passing reason (their retry backs off). */
  private readonly transientFailures = new Map<string, number>();
  /**
   * Regions whose last read failed, with the message. While one is failing, every policy reaching into it says so
   * (Ready=False, AwsUnavailable) whichever region's pass publishes: otherwise a healthy region's pass and the
   * failing region's retries would overwrite each other's status on every pass.
   */
  private readonly regionErrors = new Map<string, string>();
  /**
   * Per policy uid: remediations whose status and events could not be written yet (the API server was away while
   * AWS was being fixed). The next publish adds them, so no fix goes unreported and `remediated` stays a true count.
   */
  private readonly unreported = new Map<string, { remediated: number; events: PolicyEventRecord[] }>();
  /** Per policy uid: the tail of its status updates. Regions publish in parallel; each update builds on the last. */
  private readonly statusQueues = new Map<string, Promise<void>>();
  private unsubscribe: (() => void) | undefined;
  private workers: Promise<void> | undefined;

  constructor(options: ManagerOptions) {
    this.options = options;
    this.log = options.logger ?? silentLogger;
    this.now = options.now ?? (() => new Date());
    // A region key costs a bulk read of the region: back off from 1 s to 5 min, not controller-runtime's 5 ms, so a
    // region AWS refuses (access denied, an outage) is not hammered (the Crossplane throttling storms in anchors.md).
    this.queue = new WorkQueue({
      baseMs: 1_000,
      maxMs: 300_000,
      onDepthChange: (depth) => options.metrics?.workqueue.depth(depth),
      ...(options.metrics ? { metrics: options.metrics.workqueue } : {}),
    });
  }

  /** Starts the workers over the source's current set; the source must have been started. */
  start(): void {
    this.unsubscribe = this.options.source.onChange((set) => this.onPolicySet(set));
    this.onPolicySet(this.options.source.current());
    this.workers = runWorkers(this.queue, this.options.workers ?? 4, (key) => this.reconcile(key), {
      onResult: (key, outcome, durationMs, error) => {
        this.options.metrics?.observeReconcile(outcome, durationMs);
        if (error) this.log.warn({ key, ...describeError(error) }, 'reconcile failed; retrying with backoff');
        else this.log.debug({ key, outcome, durationMs: Math.round(durationMs) }, 'reconciled');
      },
    });
  }

  /** Stops taking keys, lets running reconciles finish. */
  async stop(): Promise<void> {
    this.unsubscribe?.();
    this.queue.shutdown();
    await this.workers;
    await this.options.sink.close?.();
  }

  /** Latest region passes (the demo's view). */
  latest(): ReadonlyMap<string, RegionResult> {
    return this.results;
  }

  /** Enqueues what a new policy set affects: regions of changed/removed policies, deletions. */
  private onPolicySet(set: PolicySet): void {
    const next = new Map(set.policies.map((p) => [policyKey(p), p]));
    const regions = new Set<string>();
    const touch = (p: LambdaPolicy) => {
      for (const r of this.regionsOf(p)) regions.add(r);
    };
    for (const [key, policy] of next) {
      const before = this.known.get(key);
      if (isBeingDeleted(policy)) this.queue.add(DELETE_KEY + key);
      if (before === undefined || fingerprint(before) !== fingerprint(policy)) {
        touch(policy);
        if (before) touch(before);
      }
    }
    for (const [key, before] of this.known) {
      if (!next.has(key)) {
        touch(before);
        this.options.metrics?.forgetPolicy(key);
      }
    }
    this.known = next;
    for (const r of regions) this.queue.add(REGION_KEY + r);
  }

  private regionsOf(policy: LambdaPolicy): string[] {
    return policyRegions(policy.spec.selector ?? {}, this.options.defaultRegions);
  }

  private async reconcile(key: string): Promise<ReconcileResult | undefined> {
    if (key.startsWith(REGION_KEY)) return this.reconcileRegion(key.slice(REGION_KEY.length));
    if (key.startsWith(DELETE_KEY)) return this.reconcileDeletion(key.slice(DELETE_KEY.length));
    return undefined;
  }

  private async reconcileRegion(region: string): Promise<ReconcileResult | undefined> {
    const now = this.now();
    const set = this.options.source.current();
    const live = set.policies.filter((p) => !isBeingDeleted(p));
    const inRegion = live.filter((p) => this.regionsOf(p).includes(region));
    if (inRegion.length === 0) {
      this.results.delete(region);
      this.regionErrors.delete(region);
      return undefined;
    }
    const { valid, invalid } = this.toInputs(live);
    for (const { policy, problems } of invalid) {
      if (this.regionsOf(policy).includes(region)) await this.writeInvalid(policy, problems, now);
    }
    for (const policy of inRegion) {
      const input = valid.get(policyKey(policy));
      if (input && input.mode === 'Enforce' && !input.suspend) await this.options.sink.ensureFinalizer(policy);
    }
    let pass: PassResult;
    try {
      pass = await reconcileFleet(this.options.aws, [...valid.values()], {
        defaultRegions: this.options.defaultRegions,
        onlyRegions: [region],
        now,
        enforce: true,
        execute: this.options.execute,
      });
    } catch (error) {
      // The region could not be read: say so on every policy that reaches into it (figures of the last good check
      // stay), then let the queue back off and retry.
      this.regionErrors.set(region, `AWS in ${region}: ${error instanceof Error ? error.message : String(error)}`);
      for (const policy of inRegion) {
        if (!valid.has(policyKey(policy))) continue;
        await this.oneAtATime(policy, () =>
          this.write(policy, buildErrorStatus(policy, this.previousStatus(policy), this.unavailable(policy), now)),
        );
      }
      throw error;
    }
    this.regionErrors.delete(region);
    this.results.set(region, { pass, at: now, planned: new Map(inRegion.map((p) => [policyKey(p), planVersion(p)])) });
    this.logPass(region, pass);
    this.options.onPass?.(region, pass);
    for (const policy of inRegion) {
      if (valid.has(policyKey(policy))) await this.publish(policy, region, pass, now);
    }
    return { requeueAfterMs: this.afterPassMs(region, inRegion, valid, pass, now) };
  }

  /** One line per pass; one line per function whose writes failed, naming the function and its policies. */
  private logPass(region: string, pass: PassResult): void {
    const plans = new Map(pass.plan.functions.map((f) => [f.name, f]));
    const applied = pass.executions.reduce((n, e) => n + e.outcomes.filter((o) => o.status === 'applied').length, 0);
    for (const e of pass.executions) {
      const policies = plans.get(e.name)?.policies ?? [];
      const failed = e.outcomes.find((o) => o.status === 'failed');
      if (failed) {
        this.log.warn(
          { region, function: e.name, policies, api: failed.action.api, error: failed.error?.message },
          'remediation failed',
        );
      } else {
        this.log.info(
          { region, function: e.name, policies, actions: e.outcomes.map((o) => o.action.api) },
          'remediated',
        );
      }
    }
    this.log.info(
      {
        region,
        matched: pass.plan.functions.length,
        drifted: pass.plan.functions.filter((f) => !f.compliant).length,
        applied,
        calls: pass.fleet.calls,
      },
      'region checked',
    );
  }

  private toInputs(policies: readonly LambdaPolicy[]): {
    valid: Map<string, PolicyInput>;
    invalid: { policy: LambdaPolicy; problems: string[] }[];
  } {
    const valid = new Map<string, PolicyInput>();
    const invalid: { policy: LambdaPolicy; problems: string[] }[] = [];
    for (const policy of policies) {
      // The API server enforced the schema and CEL; what only the CLI can check (cron parse, known time zone)
      // is checked here, and a policy failing it is reported (Stalled), never planned.
      const problems = cliOnlyIssues(policy.spec).map(formatIssue);
      if (problems.length === 0) {
        try {
          valid.set(policyKey(policy), toPolicyInput(policy));
          continue;
        } catch (error) {
          problems.push(error instanceof Error ? error.message : String(error));
        }
      }
      invalid.push({ policy, problems });
    }
    return { valid, invalid };
  }

  /**
   * Runs one status update of `policy` after the ones already queued for it: two regions finishing together must not
   * both build on the same previous status (one region's `remediated` would be lost).
   */
  private async oneAtATime(policy: LambdaPolicy, update: () => Promise<void>): Promise<void> {
    const uid = policy.metadata.uid ?? policyKey(policy);
    const run = (this.statusQueues.get(uid) ?? Promise.resolve()).then(update);
    const tail = run.catch(() => undefined);
    this.statusQueues.set(uid, tail);
    try {
      await run;
    } finally {
      if (this.statusQueues.get(uid) === tail) this.statusQueues.delete(uid);
    }
  }

  /** The AwsUnavailable state of a policy: every failing region it reaches into (message '' when none). */
  private unavailable(policy: LambdaPolicy): { reason: string; message: string } {
    const messages = this.regionsOf(policy).flatMap((r) => this.regionErrors.get(r) ?? []);
    return { reason: 'AwsUnavailable', message: messages.join('; ') };
  }

  private previousStatus(policy: LambdaPolicy): unknown {
    const uid = policy.metadata.uid ?? policyKey(policy);
    return this.lastStatus.get(uid) ?? policy.status;
  }

  private async write(policy: LambdaPolicy, status: LambdaPolicyStatus): Promise<void> {
    const written = await this.options.sink.writeStatus(policy, this.previousStatus(policy), status);
    if (written) this.lastStatus.set(policy.metadata.uid ?? policyKey(policy), status);
  }

  private async writeInvalid(policy: LambdaPolicy, problems: string[], now: Date): Promise<void> {
    const id = policyKey(policy);
    const report: PolicyReport = {
      id,
      mode: policy.spec.mode ?? 'Enforce',
      matched: 0,
      compliant: 0,
      drifted: 0,
      overridden: 0,
      infeasible: 0,
      problems,
    };
    await this.oneAtATime(policy, () =>
      this.write(policy, buildStatus(policy, report, [], [], this.previousStatus(policy), now)),
    );
  }

  /** Status and events of one policy after a pass over `region`, combining its other regions' latest passes. */
  private publish(policy: LambdaPolicy, region: string, pass: PassResult, now: Date): Promise<void> {
    return this.oneAtATime(policy, () => this.publishNow(policy, region, pass, now));
  }

  private async publishNow(policy: LambdaPolicy, region: string, pass: PassResult, now: Date): Promise<void> {
    const id = policyKey(policy);
    const mode = policy.spec.mode ?? 'Enforce';
    const functions: FunctionPlan[] = [];
    const executions: FunctionExecution[] = [];
    const reports: PolicyReport[] = [];
    const pending: string[] = [];
    for (const r of this.regionsOf(policy)) {
      const result = r === region ? { pass } : this.results.get(r);
      if (r !== region && this.results.get(r)?.planned.get(id) !== planVersion(policy)) pending.push(r);
      if (!result) continue;
      functions.push(...result.pass.plan.functions.filter((f) => f.policies.includes(id)));
      executions.push(...result.pass.executions);
      const report = result.pass.plan.policies.find((p) => p.id === id);
      if (report) reports.push(report);
    }
    const report = mergePolicyReports(id, mode, reports);
    const previous = this.previousStatus(policy);
    const status = buildStatus(policy, report, functions, executions, previous, now);
    const unavailable = this.unavailable(policy);
    if (unavailable.message !== '') setState(status, policy, previous, { kind: 'NotReady', ...unavailable }, now);
    else if (pending.length > 0) holdBackReady(status, policy, previous, pending, now);
    // `remediated` is cumulative: count only what this pass fixed, not other regions' earlier passes again.
    const here = pass.plan.functions.filter((f) => f.policies.includes(id));
    const byName = new Map(pass.executions.map((e) => [e.name, e]));
    const fixedHere = here.filter((f) => functionStatusFor(id, mode, f, byName.get(f.name)).state === 'Remediated');
    // What earlier passes fixed but could not report (the status write failed) is reported with this one.
    const uid = policy.metadata.uid ?? id;
    const carried = this.unreported.get(uid);
    const fixed = (carried?.remediated ?? 0) + fixedHere.length;
    const events = [...(carried?.events ?? []), ...cycleEvents(policy, here, pass.executions)];
    if (status.summary) {
      const before = (previous as LambdaPolicyStatus | undefined)?.summary?.remediated ?? 0;
      status.summary.remediated = before + fixed;
    }
    try {
      await this.write(policy, status);
    } catch (error) {
      if (fixed > 0 || events.length > 0) {
        this.unreported.set(uid, { remediated: fixed, events: events.slice(-MAX_CARRIED_EVENTS) });
      }
      throw error;
    }
    this.unreported.delete(uid);
    await this.options.sink.recordEvents(policy, events);
    this.options.metrics?.observePolicyStatus(id, status);
  }

  /**
   * When to visit the region again: the shortest policy interval or the next window edge; soon after writes, to
   * confirm them; and after writes that failed for a passing reason (throttled, conflict, timeout, 5xx) with a
   * per-region backoff from 10 s. Failures retrying cannot fix (access denied, refused values) wait for the interval.
   */
  private afterPassMs(
    region: string,
    policies: readonly LambdaPolicy[],
    valid: ReadonlyMap<string, PolicyInput>,
    pass: PassResult,
    now: Date,
  ): number {
    let ms = this.nextVisitMs(policies, valid, pass, now);
    const outcomes = pass.executions.flatMap((e) => e.outcomes);
    if (outcomes.some((o) => o.status === 'applied')) ms = Math.min(ms, this.options.recheckAfterWritesMs ?? 10_000);
    const transient = outcomes.some((o) => o.error !== undefined && TRANSIENT_ERRORS.has(o.error.code));
    const failures = transient ? (this.transientFailures.get(region) ?? 0) + 1 : 0;
    this.transientFailures.set(region, failures);
    if (failures > 0) ms = Math.min(ms, 10_000 * 2 ** Math.min(failures - 1, 5));
    return ms;
  }

  /** The shortest interval of the region's policies, or sooner when a window edge comes first. */
  private nextVisitMs(
    policies: readonly LambdaPolicy[],
    valid: ReadonlyMap<string, PolicyInput>,
    pass: PassResult,
    now: Date,
  ): number {
    let ms = Number.POSITIVE_INFINITY;
    for (const policy of policies) {
      const input = valid.get(policyKey(policy));
      if (input && !input.suspend) ms = Math.min(ms, input.intervalSeconds * 1000);
    }
    for (const report of pass.plan.policies) {
      const edge = report.provisionedConcurrency?.nextChange?.at;
      if (edge) ms = Math.min(ms, Math.max(0, edge.getTime() - now.getTime()) + EDGE_SLACK_MS);
    }
    return Number.isFinite(ms) ? ms : 300_000;
  }

  private async reconcileDeletion(id: string): Promise<ReconcileResult | undefined> {
    const policy = this.options.source.current().policies.find((p) => policyKey(p) === id);
    if (!policy || !isBeingDeleted(policy)) return undefined;
    const namespace = policy.metadata.namespace ?? 'default';
    for (const region of this.regionsOf(policy)) {
      const results = await deletePolicyScheduledActions(this.options.aws, region, namespace, policy.metadata.name);
      const failed = results.find((r) => !r.ok);
      if (failed) {
        const outcome = failed.outcomes.find((o) => !o.ok);
        throw new Error(
          `cannot delete scheduled actions of ${id} in ${region}: ${outcome?.error?.message ?? 'failed'}`,
          {
            cause: outcome?.error,
          },
        );
      }
      if (results.length > 0)
        this.log.info({ policy: id, region, functions: results.length }, 'removed owned scheduled actions');
    }
    await this.options.sink.removeFinalizer(policy);
    this.lastStatus.delete(policy.metadata.uid ?? id);
    for (const region of this.regionsOf(policy)) this.queue.add(REGION_KEY + region);
    return undefined;
  }
}

function planVersion(p: LambdaPolicy): string {
  return `${p.metadata.uid ?? ''}/${p.metadata.generation ?? ''}`;
}

/**
 * A policy over several regions is Ready only once every one of them has been checked at its current generation:
 * before that (first visit, right after an edit) the other regions' figures are missing or were planned for the old
 * spec, and Ready=True with observedGeneration=generation would tell `kubectl wait`, Argo CD and kstatus that the
 * new spec is in effect everywhere. Reconciling says it is on its way.
 */
function holdBackReady(
  status: LambdaPolicyStatus,
  policy: LambdaPolicy,
  previous: unknown,
  pending: readonly string[],
  now: Date,
): void {
  const ready = status.conditions?.find((c) => c.type === 'Ready');
  if (ready?.status !== 'True') return;
  setState(
    status,
    policy,
    previous,
    {
      kind: 'Reconciling',
      reason: 'RegionsPending',
      message: `${ready.message}; not yet checked at generation ${policy.metadata.generation ?? '?'}: ${pending.join(', ')}`,
    },
    now,
  );
}

/** Overrides the conditions the pass would set with `state` (the pass's figures stay). */
function setState(
  status: LambdaPolicyStatus,
  policy: LambdaPolicy,
  previous: unknown,
  state: KstatusState,
  now: Date,
): void {
  const before = (previous as LambdaPolicyStatus | undefined)?.conditions;
  status.conditions = kstatusConditions(before, state, policy.metadata.generation, now).conditions;
}

function fingerprint(p: LambdaPolicy): string {
  return JSON.stringify([p.metadata.generation ?? null, p.metadata.deletionTimestamp ?? null, p.spec]);
}
