/**
 * The one owner of a policy's status. Regions are passed in parallel and each pass ends with a status for every
 * policy reaching into the region; this module turns what is known at that moment into the status and writes it:
 *
 * - the figures: every region's latest pass for the policy, merged (`buildStatus` over the merged report);
 * - the state: while a region the policy reaches cannot be read, AwsUnavailable naming it, whichever region's pass
 *   publishes (otherwise a healthy region and a failing one overwrite each other's verdict on every pass); else,
 *   while a region has not been checked at the policy's generation, Reconciling/RegionsPending instead of Ready
 *   (Ready=True with observedGeneration=generation tells `kubectl wait`, Argo CD and kstatus the spec is in effect
 *   everywhere); else what the figures say;
 * - `remediated`: cumulative, so it grows by the fixes made in this pass plus those made earlier whose status
 *   could not be written (the API server was away), never by other regions' earlier passes again;
 * - one update at a time per policy: two regions finishing together must not both build on the same previous
 *   status, or one region's fixes would be lost.
 *
 * `composeStatus` is the pure rule; `StatusPublisher` keeps what it needs between passes (the last status written,
 * fixes not yet reported) and forgets a policy when it goes.
 */
import {
  type AccountStatusEntry,
  type LambdaPolicy,
  type LambdaPolicyStatus,
  MAX_STATUS_ACCOUNTS,
  MAX_STATUS_MESSAGE,
  type Mode,
} from '../api/schema.ts';
import { roundCents } from '../engine/cost.ts';
import { outOfScopeMessage, type Refusal } from '../engine/grants.ts';
import { type FunctionPlan, type PolicyReport, SCHEDULED_ACTION_PREFIX, zeroCounts } from '../engine/model.ts';
import type { PolicyEventRecord } from '../kube/events.ts';
import { objectKey } from '../shared/keys.ts';
import { truncate } from '../shared/text.ts';
import { CONDITION_MESSAGE_MAX, type KstatusState, toKubeTime } from './conditions.ts';
import { cycleEvents, transitionEvents } from './events.ts';
import type { ControllerMetrics } from './metrics.ts';
import { dryRunState, rolloutState } from './safety.ts';
import {
  type AccountFunctionPlan,
  buildErrorStatus,
  buildStatus,
  type ExecutedFunction,
  functionStatusFor,
} from './status.ts';

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

/** What one region's latest pass says about the functions it planned. */
export interface RegionView {
  /** The account of the pass (every function entry names it). */
  account?: string | undefined;
  /** When the pass read AWS (an account's lastCheckTime is its latest region's). */
  at?: Date | undefined;
  functions: readonly FunctionPlan[];
  executions: readonly ExecutedFunction[];
  policies: readonly PolicyReport[];
}

/** One account a policy reaches, as its status lists it. */
export interface AccountReach {
  account: string;
  accountId: string;
  /** Why it cannot be read now (credentials, mismatch, an outage), if so. */
  error?: string | undefined;
}

/** Tenancy's verdict on a policy: where it reaches and what it was refused (Stalled/OutOfScope). */
export interface TenancyView {
  reach: readonly AccountReach[];
  refused: readonly Refusal[];
  /**
   * Scheduled actions the policy owns where it is now refused (its grant was revoked), by fleet: left in place,
   * since a refused grant means no writes there, and named as a problem so a person removes them or grants again.
   */
  leftInPlace?: readonly { fleet: string; actions: readonly string[] }[] | undefined;
}

/** Everything a policy's status is made of after a pass; nothing else is read. */
export interface StatusInputs {
  policy: LambdaPolicy;
  /** The status last written (or read from the API server). */
  previous: unknown;
  /** The latest pass of every region the policy reaches that has one (this pass included). */
  regions: readonly RegionView[];
  /** Regions not yet checked at the policy's current generation. */
  pendingRegions: readonly string[];
  /** One message per region the policy reaches whose last read failed. */
  unavailable: readonly string[];
  /** Functions of this policy fixed by this pass. */
  fixedNow: number;
  /** Functions fixed by earlier passes whose status could not be written. */
  fixedUnreported: number;
  now: Date;
  /** The controller runs with --dry-run: conditions say so. */
  dryRun?: boolean | undefined;
  /** For policies that use AwsAccounts (or were refused one): `status.accounts` and OutOfScope. */
  tenancy?: TenancyView | undefined;
}

/** The status of a policy after a pass (pure: the same inputs give the same status). */
export function composeStatus(inputs: StatusInputs): LambdaPolicyStatus {
  const { policy, previous, now } = inputs;
  const id = objectKey(policy);
  const mode: Mode = policy.spec.mode ?? 'Enforce';
  const functions: AccountFunctionPlan[] = [];
  const executions: ExecutedFunction[] = [];
  const reports: PolicyReport[] = [];
  for (const view of inputs.regions) {
    const account = view.account;
    for (const f of view.functions) {
      if (f.policies.includes(id)) functions.push(account === undefined ? f : { ...f, account });
    }
    for (const e of view.executions) executions.push(account === undefined ? e : { ...e, account });
    const report = view.policies.find((p) => p.id === id);
    if (report) reports.push(report);
  }
  const before = (previous as LambdaPolicyStatus | undefined)?.summary?.remediated ?? 0;
  const report = mergePolicyReports(id, mode, reports);
  for (const left of inputs.tenancy?.leftInPlace ?? []) report.problems.push(leftInPlaceProblem(id, left));
  return buildStatus(policy, report, functions, executions, previous, now, {
    state: (own) => {
      const state = crossRegionState(rolloutState(own, reports), policy, inputs);
      return inputs.dryRun ? dryRunState(state) : state;
    },
    remediated: before + inputs.fixedNow + inputs.fixedUnreported,
    ...(inputs.tenancy ? { accounts: accountEntries(id, inputs.tenancy, inputs.regions) } : {}),
  });
}

/**
 * The problem naming owned scheduled actions left where the policy's grant was revoked: the names share the
 * policy's prefix, so it is said once (status messages are short) and the windows' edges listed, bounded.
 */
export function leftInPlaceProblem(id: string, left: { fleet: string; actions: readonly string[] }, max = 4): string {
  const prefix = `${SCHEDULED_ACTION_PREFIX}.${id.replace('/', '.')}.`;
  const edges = left.actions.map((a) => (a.startsWith(prefix) ? a.slice(prefix.length) : a));
  const more = edges.length > max ? ` and ${edges.length - max} more` : '';
  return `grant revoked in ${left.fleet}: its scheduled actions there are left in place (no writes where refused; delete them or grant again): ${prefix}{${edges.slice(0, max).join(',')}}${more}`;
}

/**
 * `status.accounts`: per account reached (matched, drifted, last check, error) and per account refused (its
 * OutOfScope reason), by name, bounded.
 */
function accountEntries(
  id: string,
  tenancy: TenancyView,
  views: readonly RegionView[],
): NonNullable<LambdaPolicyStatus['accounts']> {
  const entries = new Map<string, AccountStatusEntry>();
  for (const reach of tenancy.reach) {
    const entry: AccountStatusEntry = { account: reach.account, matched: 0, drifted: 0 };
    if (reach.accountId !== '') entry.accountId = reach.accountId;
    let last: Date | undefined;
    for (const view of views) {
      if (view.account !== reach.account) continue;
      for (const f of view.functions) {
        if (!f.policies.includes(id)) continue;
        entry.matched++;
        if (!f.compliant) entry.drifted++;
      }
      if (view.at && (last === undefined || view.at > last)) last = view.at;
    }
    if (last) entry.lastCheckTime = toKubeTime(last);
    if (reach.error) entry.error = truncate(reach.error, MAX_STATUS_MESSAGE);
    entries.set(reach.account, entry);
  }
  const refusedBy = new Map<string, Refusal[]>();
  for (const r of tenancy.refused) refusedBy.set(r.account, [...(refusedBy.get(r.account) ?? []), r]);
  for (const [account, refusals] of refusedBy) {
    const entry: AccountStatusEntry = entries.get(account) ?? { account, matched: 0, drifted: 0 };
    const accountId = refusals.find((r) => r.accountId)?.accountId;
    if (accountId && entry.accountId === undefined) entry.accountId = accountId;
    entry.error = truncate(`OutOfScope: ${outOfScopeMessage(refusals, 4)}`, MAX_STATUS_MESSAGE);
    entries.set(account, entry);
  }
  return [...entries.values()]
    .sort((a, b) => (a.account < b.account ? -1 : a.account > b.account ? 1 : 0))
    .slice(0, MAX_STATUS_ACCOUNTS);
}

/**
 * One policy's report across the regions it reaches: the engine reports per pass, and the controller passes over
 * one region at a time. Counts and costs add up; problems are united; the window view is the same everywhere.
 */
function mergePolicyReports(id: string, mode: Mode, reports: readonly PolicyReport[]): PolicyReport {
  const merged: PolicyReport = {
    id,
    mode,
    ...zeroCounts(),
    problems: [],
  };
  const problems = new Set<string>();
  for (const r of reports) {
    merged.matched += r.matched;
    merged.compliant += r.compliant;
    merged.drifted += r.drifted;
    merged.overridden += r.overridden;
    merged.infeasible += r.infeasible;
    for (const p of r.problems) problems.add(p);
    if (r.provisionedConcurrency && !merged.provisionedConcurrency)
      merged.provisionedConcurrency = r.provisionedConcurrency;
    if (r.cost) {
      const cost = merged.cost ?? { provisionedConcurrencyMonthlyUSD: 0 };
      cost.provisionedConcurrencyMonthlyUSD = roundCents(
        cost.provisionedConcurrencyMonthlyUSD + r.cost.provisionedConcurrencyMonthlyUSD,
      );
      if (r.cost.architectureMonthlySavingUSD !== undefined) {
        cost.architectureMonthlySavingUSD = roundCents(
          (cost.architectureMonthlySavingUSD ?? 0) + r.cost.architectureMonthlySavingUSD,
        );
      }
      merged.cost = cost;
    }
  }
  merged.problems = [...problems];
  return merged;
}

/** The state a policy's status says: a failing region first, then regions not checked yet, then its figures'. */
function crossRegionState(own: KstatusState, policy: LambdaPolicy, inputs: StatusInputs): KstatusState {
  // A grant refused is for a person to fix (the policy or the AwsAccount): it outranks everything a pass found.
  const refused = inputs.tenancy?.refused ?? [];
  if (refused.length > 0) {
    return { kind: 'Stalled', reason: 'OutOfScope', message: outOfScopeMessage(refused) };
  }
  if (inputs.unavailable.length > 0) {
    return { kind: 'NotReady', reason: 'AwsUnavailable', message: inputs.unavailable.join('; ') };
  }
  if (inputs.pendingRegions.length === 0 || own.kind !== 'Ready') return own;
  return {
    kind: 'Reconciling',
    reason: 'RegionsPending',
    message: `${truncate(own.message, CONDITION_MESSAGE_MAX)}; not yet checked at generation ${policy.metadata.generation ?? '?'}: ${inputs.pendingRegions.join(', ')}`,
  };
}

/** Events kept for a policy while its status cannot be written (bounded: the API server may be away for long). */
const MAX_CARRIED_EVENTS = 50;

export interface StatusPublisherOptions {
  sink: PolicyStatusSink;
  metrics?: ControllerMetrics | undefined;
  /** Whether writing is allowed now (leadership); a status not written is not remembered as written. */
  mayWrite?: (() => boolean) | undefined;
  dryRun?: boolean | undefined;
}

export class StatusPublisher {
  private readonly sink: PolicyStatusSink;
  private readonly metrics: ControllerMetrics | undefined;
  private readonly mayWrite: () => boolean;
  private readonly dryRun: boolean;
  /** Last status written per policy uid: fresher than the watch cache right after our own write. */
  private readonly lastStatus = new Map<string, LambdaPolicyStatus>();
  /** Per policy uid: fixes whose status and events could not be written yet; the next publish adds them. */
  private readonly unreported = new Map<string, { remediated: number; events: PolicyEventRecord[] }>();
  /** Per policy uid: the tail of its status updates. */
  private readonly queues = new Map<string, Promise<void>>();

  constructor(options: StatusPublisherOptions) {
    this.sink = options.sink;
    this.metrics = options.metrics;
    this.mayWrite = options.mayWrite ?? (() => true);
    this.dryRun = options.dryRun ?? false;
  }

  /**
   * Status and events of `policy` after `pass`. `regions` are the latest passes of the policy's regions in their
   * order (`pass` among them); `pendingRegions` and `unavailable` are what the manager knows of the others.
   */
  publishPass(
    policy: LambdaPolicy,
    pass: RegionView,
    context: {
      regions: readonly RegionView[];
      pendingRegions: readonly string[];
      unavailable: readonly string[];
      now: Date;
      tenancy?: TenancyView | undefined;
    },
  ): Promise<void> {
    return this.oneAtATime(policy, async () => {
      const id = objectKey(policy);
      const mode: Mode = policy.spec.mode ?? 'Enforce';
      // Only what this pass fixed counts as new: other regions' earlier passes were counted when they published.
      const here = pass.functions.filter((f) => f.policies.includes(id));
      const byName = new Map(pass.executions.map((e) => [e.name, e]));
      const fixedNow = here.filter(
        (f) => functionStatusFor(id, mode, f, byName.get(f.name)).state === 'Remediated',
      ).length;
      const uid = uidOf(policy);
      const carried = this.unreported.get(uid);
      const status = composeStatus({
        policy,
        previous: this.previous(policy),
        regions: context.regions,
        pendingRegions: context.pendingRegions,
        unavailable: context.unavailable,
        fixedNow,
        fixedUnreported: carried?.remediated ?? 0,
        now: context.now,
        dryRun: this.dryRun,
        tenancy: context.tenancy,
      });
      const fixed = (carried?.remediated ?? 0) + fixedNow;
      const events = [...(carried?.events ?? []), ...cycleEvents(policy, here, pass.executions)];
      try {
        await this.write(policy, status);
      } catch (error) {
        if (fixed > 0 || events.length > 0) {
          this.unreported.set(uid, { remediated: fixed, events: events.slice(-MAX_CARRIED_EVENTS) });
        }
        throw error;
      }
      this.unreported.delete(uid);
      if (this.mayWrite()) await this.sink.recordEvents(policy, events);
    });
  }

  /** A region the policy reaches could not be read: the last figures stay, the state says AwsUnavailable. */
  publishUnavailable(policy: LambdaPolicy, unavailable: readonly string[], now: Date): Promise<void> {
    return this.oneAtATime(policy, () =>
      this.write(
        policy,
        buildErrorStatus(
          policy,
          this.previous(policy),
          { reason: 'AwsUnavailable', message: unavailable.join('; ') },
          now,
        ),
      ),
    );
  }

  /**
   * A policy refused everywhere it asked to reach (no account or region granted): Stalled/OutOfScope naming what
   * was refused, no functions (nothing was read for it).
   */
  publishOutOfScope(policy: LambdaPolicy, tenancy: TenancyView, now: Date): Promise<void> {
    return this.oneAtATime(policy, () =>
      this.write(
        policy,
        composeStatus({
          policy,
          previous: this.previous(policy),
          regions: [],
          pendingRegions: [],
          unavailable: [],
          fixedNow: 0,
          fixedUnreported: 0,
          now,
          dryRun: this.dryRun,
          tenancy,
        }),
      ),
    );
  }

  /** A policy that cannot be planned (what only the controller checks: cron syntax, time zones): Stalled. */
  publishInvalid(policy: LambdaPolicy, problems: string[], now: Date): Promise<void> {
    const report: PolicyReport = {
      id: objectKey(policy),
      mode: policy.spec.mode ?? 'Enforce',
      ...zeroCounts(),
      problems,
    };
    return this.oneAtATime(policy, () =>
      this.write(policy, buildStatus(policy, report, [], [], this.previous(policy), now)),
    );
  }

  /** Drops what is kept for a policy that is gone (deleted, or no longer declared). */
  forget(policy: LambdaPolicy): void {
    const uid = uidOf(policy);
    this.lastStatus.delete(uid);
    this.unreported.delete(uid);
  }

  /** Policies with something kept (tests: the maps shrink when a policy goes). */
  get tracked(): number {
    return new Set([...this.lastStatus.keys(), ...this.unreported.keys()]).size;
  }

  private previous(policy: LambdaPolicy): unknown {
    return this.lastStatus.get(uidOf(policy)) ?? policy.status;
  }

  private async write(policy: LambdaPolicy, status: LambdaPolicyStatus): Promise<void> {
    if (!this.mayWrite()) return;
    const previous = this.previous(policy);
    const written = await this.sink.writeStatus(policy, previous, status);
    if (written) this.lastStatus.set(uidOf(policy), status);
    // Every status this replica holds for the policy, written now or unchanged: the gauges say what it says.
    this.metrics?.observePolicyStatus(objectKey(policy), status);
    // Entering a state a person must look at (whatever its reason) is one Warning, on the write that enters it.
    if (written) await this.sink.recordEvents(policy, transitionEvents(previous, status));
  }

  /** Runs one status update of `policy` after the ones already queued for it. */
  private async oneAtATime(policy: LambdaPolicy, update: () => Promise<void>): Promise<void> {
    const uid = uidOf(policy);
    const run = (this.queues.get(uid) ?? Promise.resolve()).then(update);
    const tail = run.catch(() => undefined);
    this.queues.set(uid, tail);
    try {
      await run;
    } finally {
      if (this.queues.get(uid) === tail) this.queues.delete(uid);
    }
  }
}

function uidOf(policy: LambdaPolicy): string {
  return policy.metadata.uid ?? objectKey(policy);
}
