/**
 * The reconcile loop: a deduplicating work queue keyed by fleet (one key per region of the controller's account)
 * plus one key per deleted policy, fed by a PolicySource (Kubernetes or files) and by each key's own schedule (the
 * shortest policy interval, or the next provisioned-concurrency window edge, whichever comes first).
 *
 * A region key re-reads the world (level-based): the current policy set, then one bulk read of the region, one
 * plan, the writes, and then hands every policy that reaches into the region to the status publisher, which alone
 * decides what its status says. A policy key for a deleted policy removes the scheduled actions it owns and
 * releases its finalizer. The manager itself keeps keys, scheduling, passes and backoff only.
 */

import { formatIssue } from '../api/errors.ts';
import { toPolicyInput } from '../api/parse.ts';
import type { PolicySet, PolicySource } from '../api/policy-set.ts';
import { cliOnlyIssues } from '../api/rules.ts';
import { APPROVE_GENERATION_ANNOTATION, type LambdaPolicy } from '../api/schema.ts';
import { deletePolicyScheduledActions } from '../aws/cleanup.ts';
import type { Aws, ExecutePlanOptions } from '../aws/index.ts';
import type { IacOwnerTag } from '../engine/iac.ts';
import type { PolicyInput, RuntimeTable } from '../engine/model.ts';
import type { RolloutHalt } from '../engine/rollout.ts';
import { policyRegions } from '../engine/select.ts';
import { isBeingDeleted } from '../kube/finalizers.ts';
import { type PassResult, reconcileFleet } from '../reconcile/pass.ts';
import { namespaceOf, objectKey } from '../shared/keys.ts';
import { describeError, type Logger, silentLogger } from '../shared/logger.ts';
import type { ControllerMetrics } from './metrics.ts';
import { WorkQueue } from './queue.ts';
import { asDryRun, haltFromStatus } from './safety.ts';
import { type PolicyStatusSink, type RegionView, StatusPublisher } from './status-publisher.ts';
import { type ReconcileResult, runWorkers } from './worker.ts';

export interface ManagerOptions {
  source: PolicySource;
  aws: Aws;
  /** Regions of policies without `selector.regions`. */
  defaultRegions: string[];
  sink: PolicyStatusSink;
  /** Keys reconciled at once (different regions in parallel; one key never twice at once). Default 4. */
  workers?: number | undefined;
  logger?: Logger | undefined;
  metrics?: ControllerMetrics | undefined;
  now?: () => Date;
  execute?: ExecutePlanOptions;
  /**
   * After a pass that wrote to AWS, check the region again this soon, to confirm the fix and report it (default
   * 10 s; the demo uses less). Without it, a remediation would be confirmed only at the next interval.
   */
  recheckAfterWritesMs?: number;
  /**
   * Whether this process may write now (AWS, status, finalizers): the leader elector's verdict, asked before each
   * write so a leader that lost its Lease stops writing at once. Default: always.
   */
  mayWrite?: (() => boolean) | undefined;
  /**
   * The default blast-radius guard for policies without spec.rollout limits (percentage of matched functions a
   * pass may change); undefined: none.
   */
  maxChangesPercent?: number | undefined;
  /** Tags that mark a function as owned by infrastructure as code (beyond CloudFormation's and SAM's). */
  iacOwnerTags?: readonly IacOwnerTag[] | undefined;
  /** Treat every policy as Audit: read and report, never write AWS (status still written). */
  dryRun?: boolean | undefined;
  /** After each region pass (the demo's live view, tests). */
  onPass?: (region: string, pass: PassResult) => void;
  /** The runtime table of checks.runtime (`--runtimes-file`); default the shipped one. */
  runtimes?: RuntimeTable | undefined;
}

interface RegionResult {
  pass: PassResult;
  at: Date;
  /** Policy key -> the uid/generation the pass planned it at (Ready needs every region current). */
  planned: Map<string, string>;
}

/** Error codes of src/aws that a later attempt may not meet again. */
const TRANSIENT_ERRORS: ReadonlySet<string> = new Set(['Throttled', 'Retryable', 'Conflict', 'WaitTimeout']);

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
  private readonly status: StatusPublisher;
  private known = new Map<string, LambdaPolicy>();
  /** Consecutive passes per region whose writes failed for a passing reason (their retry backs off). */
  private readonly transientFailures = new Map<string, number>();
  /**
   * Regions whose last read failed, with the message. While one is failing, every policy reaching into it says so
   * whichever region's pass publishes.
   */
  private readonly regionErrors = new Map<string, string>();
  /** Rollouts a failed batch stopped, by policy key; a new generation of the policy resumes it. */
  private readonly halted = new Map<string, RolloutHalt>();
  private unsubscribe: (() => void) | undefined;
  private workers: Promise<void> | undefined;

  constructor(options: ManagerOptions) {
    this.options = options;
    this.log = options.logger ?? silentLogger;
    this.now = options.now ?? (() => new Date());
    this.status = new StatusPublisher({
      sink: options.sink,
      metrics: options.metrics,
      mayWrite: options.mayWrite,
      dryRun: options.dryRun,
    });
    // A region key costs a bulk read of the region: back off from 1 s to 5 min, not controller-runtime's 5 ms, so a
    // region AWS refuses (access denied, an outage) is not hammered by retries.
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

  /** Policies the status publisher keeps something for (its maps shrink when a policy goes). */
  get trackedPolicies(): number {
    return this.status.tracked;
  }

  /** Regions whose last read failed, with the message (what /readyz shows as detail). */
  unavailableRegions(): ReadonlyMap<string, string> {
    return this.regionErrors;
  }

  /** Latest region passes (the demo's view). */
  latest(): ReadonlyMap<string, RegionResult> {
    return this.results;
  }

  /** Enqueues what a new policy set affects: regions of changed/removed policies, deletions. */
  private onPolicySet(set: PolicySet): void {
    const next = new Map(set.policies.map((p) => [objectKey(p), p]));
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
        this.halted.delete(key);
        this.options.metrics?.forgetPolicy(key);
        this.status.forget(before);
      }
    }
    this.known = next;
    for (const r of regions) this.queue.add(REGION_KEY + r);
  }

  private mayWrite(): boolean {
    return this.options.mayWrite?.() ?? true;
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
    const declared = set.policies.filter((p) => !isBeingDeleted(p));
    const live = this.options.dryRun ? declared.map(asDryRun) : declared;
    const inRegion = live.filter((p) => this.regionsOf(p).includes(region));
    if (inRegion.length === 0) {
      this.results.delete(region);
      this.regionErrors.delete(region);
      this.options.metrics?.forgetRegion(region);
      this.transientFailures.delete(region);
      return undefined;
    }
    const { valid, invalid } = this.toInputs(live);
    for (const { policy, problems } of invalid) {
      if (this.regionsOf(policy).includes(region)) await this.status.publishInvalid(policy, problems, now);
    }
    for (const policy of inRegion) {
      const input = valid.get(objectKey(policy));
      if (input && input.mode === 'Enforce' && !input.suspend && this.mayWrite())
        await this.options.sink.ensureFinalizer(policy);
    }
    let pass: PassResult;
    try {
      pass = await reconcileFleet(this.options.aws, [...valid.values()], {
        defaultRegions: this.options.defaultRegions,
        onlyRegions: [region],
        now,
        enforce: true,
        execute: this.options.execute,
        mayWrite: () => this.mayWrite(),
        ...(this.options.runtimes ? { runtimes: this.options.runtimes } : {}),
        iacOwnerTags: this.options.iacOwnerTags,
        rollout: { defaultMaxPercent: this.options.maxChangesPercent, halted: this.currentHalts(valid, inRegion) },
      });
    } catch (error) {
      // The region could not be read: say so on every policy that reaches into it (figures of the last good check
      // stay), then let the queue back off and retry.
      this.regionErrors.set(region, `AWS in ${region}: ${error instanceof Error ? error.message : String(error)}`);
      this.options.metrics?.setRegionUnavailable(region, true);
      for (const policy of inRegion) {
        if (valid.has(objectKey(policy))) await this.status.publishUnavailable(policy, this.unavailable(policy), now);
      }
      throw error;
    }
    this.regionErrors.delete(region);
    for (const [id, halt] of pass.halted) {
      this.halted.set(id, halt);
      this.log.warn({ region, policy: id, failure: halt.message }, 'rollout stopped at a failed batch');
    }
    this.options.metrics?.setRegionUnavailable(region, false);
    this.results.set(region, { pass, at: now, planned: new Map(inRegion.map((p) => [objectKey(p), planVersion(p)])) });
    this.logPass(region, pass);
    this.options.onPass?.(region, pass);
    for (const policy of inRegion) {
      if (valid.has(objectKey(policy))) await this.publish(policy, region, pass, now);
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
      // The controller reaches only its home account so far: a policy naming AwsAccounts must never be applied to
      // the home account instead. It is Stalled until accounts are reconciled here (plan/apply handle them).
      const { accounts, accountSelector } = policy.spec.selector;
      if ((accounts ?? []).length > 0 || accountSelector !== undefined) {
        problems.push('selector.accounts/accountSelector: the controller does not reconcile AwsAccounts yet');
      }
      if (problems.length === 0) {
        try {
          valid.set(objectKey(policy), toPolicyInput(policy));
          continue;
        } catch (error) {
          problems.push(error instanceof Error ? error.message : String(error));
        }
      }
      invalid.push({ policy, problems });
    }
    return { valid, invalid };
  }

  /** Halted rollouts still at their policy's generation (older ones are dropped: a new generation resumes). */
  private currentHalts(
    valid: ReadonlyMap<string, PolicyInput>,
    policies: readonly LambdaPolicy[],
  ): Map<string, RolloutHalt> {
    for (const [id, halt] of this.halted) {
      if (valid.get(id)?.generation !== halt.generation) this.halted.delete(id);
    }
    for (const policy of policies) {
      const id = objectKey(policy);
      if (this.halted.has(id)) continue;
      const recorded = haltFromStatus(policy);
      if (recorded) this.halted.set(id, recorded);
    }
    return this.halted;
  }

  /** The messages of every failing region `policy` reaches into (empty when none). */
  private unavailable(policy: LambdaPolicy): string[] {
    return this.regionsOf(policy).flatMap((r) => this.regionErrors.get(r) ?? []);
  }

  /** Status and events of one policy after a pass over `region`, with its other regions' latest passes. */
  private publish(policy: LambdaPolicy, region: string, pass: PassResult, now: Date): Promise<void> {
    const id = objectKey(policy);
    const here = regionView(pass);
    const regions: RegionView[] = [];
    const pendingRegions: string[] = [];
    for (const r of this.regionsOf(policy)) {
      if (r === region) {
        regions.push(here);
        continue;
      }
      const result = this.results.get(r);
      if (result?.planned.get(id) !== planVersion(policy)) pendingRegions.push(r);
      if (result) regions.push(regionView(result.pass));
    }
    return this.status.publishPass(policy, here, {
      regions,
      pendingRegions,
      unavailable: this.unavailable(policy),
      now,
    });
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
      const input = valid.get(objectKey(policy));
      if (input && !input.suspend) ms = Math.min(ms, input.intervalSeconds * 1000);
    }
    for (const report of pass.plan.policies) {
      const edge = report.provisionedConcurrency?.nextChange?.at;
      if (edge) ms = Math.min(ms, Math.max(0, edge.getTime() - now.getTime()) + EDGE_SLACK_MS);
    }
    return Number.isFinite(ms) ? ms : 300_000;
  }

  private async reconcileDeletion(id: string): Promise<ReconcileResult | undefined> {
    const policy = this.options.source.current().policies.find((p) => objectKey(p) === id);
    if (!policy || !isBeingDeleted(policy) || !this.mayWrite()) return undefined;
    const namespace = namespaceOf(policy);
    // A dry-run controller never writes AWS, not even to clean up: the scheduled actions stay for a real
    // controller (or a person) to remove, and the deletion is not blocked.
    const regions = this.options.dryRun ? [] : this.regionsOf(policy);
    if (this.options.dryRun) {
      this.log.warn({ policy: id }, 'dry run: scheduled actions owned by the deleted policy are left in AWS');
    }
    for (const region of regions) {
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
    this.status.forget(policy);
    for (const region of this.regionsOf(policy)) this.queue.add(REGION_KEY + region);
    return undefined;
  }
}

function planVersion(p: LambdaPolicy): string {
  return `${p.metadata.uid ?? ''}/${p.metadata.generation ?? ''}`;
}

function regionView(pass: PassResult): RegionView {
  return { functions: pass.plan.functions, executions: pass.executions, policies: pass.plan.policies };
}

function fingerprint(p: LambdaPolicy): string {
  // The approve annotation is not spec (no new generation) but lets a paused rollout proceed: it must wake us.
  const approval = p.metadata.annotations?.[APPROVE_GENERATION_ANNOTATION] ?? null;
  return JSON.stringify([p.metadata.generation ?? null, p.metadata.deletionTimestamp ?? null, approval, p.spec]);
}
