/**
 * Turns a plan (and what executing it did) into `LambdaPolicy.status`. The status publisher decides what goes in
 * (./status-publisher.ts); src/kube/status-writer.ts writes it only when it changed.
 *
 * Building is pure and deterministic: the same inputs give the same status, byte for byte, so an in-sync fleet
 * produces no status write. Choices that make that true:
 * - function entries are sorted (non-compliant first, then region, then name) and capped at 50;
 * - messages are capped at 256 characters, drift values rendered as strings;
 * - `lastCheckTime` / `nextCheckTime` are set on every build, but `statusChanged` ignores them: they are written
 *   only together with a real change (a new drift, a remediation, a window edge, a new generation ...). They
 *   therefore read "when the status last changed, and when the check after that was due". A stale-looking
 *   `lastCheckTime` means "nothing changed since", not "the controller stopped"; liveness is `/healthz`.
 *   `statusChanged(prev, next, { heartbeatMs })` (src/kube/status-writer.ts) can refresh them at most once per heartbeat if wanted.
 * - cost figures are rounded to cents so float noise never counts as a change;
 * - conditions keep their lastTransitionTime unless their status flips (see conditions.ts).
 */
import { parseGoDuration } from '../api/duration.ts';
import {
  type FunctionState,
  type FunctionStatus,
  type LambdaPolicy,
  type LambdaPolicyStatus,
  MAX_STATUS_FUNCTIONS,
  MAX_STATUS_MESSAGE,
} from '../api/schema.ts';
import { iacMessage } from '../engine/iac.ts';
import {
  type Action,
  type Drift,
  type FieldName,
  type FunctionCounts,
  type FunctionPlan,
  type PolicyReport,
  zeroCounts,
} from '../engine/model.ts';
import { STATUS_KEY_ORDER } from '../kube/status-writer.ts';
import { compareOrdinal } from '../shared/compare.ts';
import { objectKey } from '../shared/keys.ts';
import { truncate } from '../shared/text.ts';
import {
  COMPLIANT,
  type Compliance,
  compliantCondition,
  type KstatusState,
  kstatusConditions,
  toKubeTime,
} from './conditions.ts';
import { withPendingPublish } from './qualifiers-status.ts';
import { withViolations } from './violations-status.ts';

/** One drift entry as written to status; values keep their JSON type (`null` is written as "none"). */
export interface DriftEntry {
  field: string;
  desired?: unknown;
  actual?: unknown;
}

/** `compliant` includes the functions remediated in this check (they are compliant now). */
export interface StatusSummary extends FunctionCounts {
  /** Cumulative: functions corrected since the policy was created (previous value + this check). */
  remediated: number;
  failed: number;
  /** Functions in line with the settings that violate a check (written only when there are some). */
  violating?: number;
  /** Of the drifted: functions owned by infrastructure as code, reported and never written. */
  iacManaged?: number;
}

/**
 * What executing one function's actions did: structurally the executor's `FunctionExecution` (src/aws/executor.ts),
 * restated here so status building stays a pure function of plain data.
 */
export interface ExecutedFunction {
  /** The account it ran in (absent: one account only). */
  account?: string | undefined;
  region: string;
  name: string;
  /** false when any action on the function failed. */
  ok: boolean;
  outcomes: ReadonlyArray<{
    action: Action;
    ok: boolean;
    status: 'applied' | 'failed' | 'skipped';
    error?: { message: string; code?: string };
  }>;
}

/** Fields every one of whose actions was applied (a field with one failed or skipped action is not remediated). */
export function remediatedFields(execution: ExecutedFunction): Set<FieldName> {
  const applied = new Set<FieldName>();
  const notApplied = new Set<FieldName>();
  for (const o of execution.outcomes) {
    for (const f of o.action.fields ?? []) (o.ok ? applied : notApplied).add(f);
  }
  for (const f of notApplied) applied.delete(f);
  return applied;
}

/** The first failure of an execution, as one line. */
export function executionError(execution: ExecutedFunction): string | undefined {
  const failed = execution.outcomes.find((o) => o.status === 'failed');
  if (!failed) return execution.ok ? undefined : 'remediation failed';
  return `${failed.action.api}: ${failed.error?.message ?? 'failed'}`;
}

export interface BuildStatusOptions {
  /** When the next check is scheduled; default now + spec.interval. */
  nextCheckTime?: Date;
  /** Cap on listed functions; default 50. */
  maxFunctions?: number;
  /**
   * The state the status says, given the one its figures say (the status publisher's cross-region rules: a region
   * that cannot be read, regions not yet checked). Default: the figures' own.
   */
  state?: (own: KstatusState) => KstatusState;
  /** The cumulative `remediated` count (the publisher knows what was fixed); default previous + this check's. */
  remediated?: number;
  /** `status.accounts` (policies that use AwsAccounts); absent: not written. */
  accounts?: LambdaPolicyStatus['accounts'];
}

const ZERO_SUMMARY: StatusSummary = { ...zeroCounts(), remediated: 0, failed: 0 };

/**
 * A desired/actual value as status stores it: JSON as it is, `null` as "none" (the API server drops nulls in
 * objects, so `null` would read back differently and look like a change every cycle), Dates as RFC 3339.
 */
export function statusValue(value: unknown): unknown {
  if (value === null || value === undefined) return 'none';
  if (value instanceof Date) return toKubeTime(value);
  if (Array.isArray(value)) return value.map(statusValue);
  if (typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>)
        .filter(([, v]) => v !== undefined && v !== null)
        .map(([k, v]) => [k, statusValue(v)]),
    );
  }
  return value;
}

/** A value inside a message: short and readable. */
function showValue(value: unknown): string {
  return typeof value === 'string' ? value : (JSON.stringify(value) ?? 'none');
}

const FIELD_ORDER: FieldName[] = [
  'memorySize',
  'timeout',
  'architecture',
  'reservedConcurrency',
  'provisionedConcurrency',
  'scheduledActions',
];
const fieldRank = (f: string) => {
  const i = FIELD_ORDER.indexOf(f as FieldName);
  return i < 0 ? FIELD_ORDER.length : i;
};

function driftEntries(drift: readonly Drift[]): DriftEntry[] {
  const seen = new Set<string>();
  return [...drift]
    .sort((a, b) => fieldRank(a.field) - fieldRank(b.field) || compareOrdinal(a.field, b.field))
    .filter((d) => !seen.has(d.field) && seen.add(d.field) !== undefined)
    .map((d) => ({ field: d.field, desired: statusValue(d.desired), actual: statusValue(d.actual) }));
}

function describeDrift(entries: readonly DriftEntry[]): string {
  return entries.map((d) => `${d.field}: ${showValue(d.actual)} -> ${showValue(d.desired)}`).join('; ');
}

/** A function's plan with the account it is in (the status publisher tags each account's passes). */
export type AccountFunctionPlan = FunctionPlan & { account?: string | undefined };

/** One function as seen by one policy (its violated checks included). */
export function functionStatusFor(
  id: string,
  mode: 'Enforce' | 'Audit',
  fn: AccountFunctionPlan,
  execution: ExecutedFunction | undefined,
): FunctionStatus {
  const entry = withPendingPublish(
    withViolations(settingsStatusFor(id, mode, fn, execution), fn, id, statusValue),
    fn,
    id,
    statusValue,
  );
  return fn.account === undefined ? entry : { account: fn.account, ...entry };
}

/** The key of a function across accounts and regions. */
export function functionKey(fn: { account?: string | undefined; region: string; name: string }): string {
  return `${fn.account ?? ''}\u0000${fn.region}\u0000${fn.name}`;
}

function settingsStatusFor(
  id: string,
  mode: 'Enforce' | 'Audit',
  fn: FunctionPlan,
  execution: ExecutedFunction | undefined,
): FunctionStatus {
  const base = { region: fn.region, name: fn.name };
  const make = (state: FunctionState, drift: DriftEntry[], message: string): FunctionStatus => {
    const out: FunctionStatus = { ...base, state };
    if (drift.length > 0) out.drift = drift;
    if (message !== '') out.message = truncate(message, MAX_STATUS_MESSAGE);
    return out;
  };
  const refusals = fn.refusals.filter((r) => r.policy === id);
  if (mode === 'Audit') {
    const drift = driftEntries(fn.auditDrift.filter((d) => d.policy === id));
    if (refusals.length > 0)
      return make('Infeasible', drift, refusals.map((r) => `${r.field}: ${r.message}`).join('; '));
    if (drift.length > 0) return make('Drifted', drift, describeDrift(drift));
    return make('Compliant', [], '');
  }
  if (fn.iac?.policies.includes(id)) {
    const drift = driftEntries(fn.auditDrift.filter((d) => d.policy === id));
    if (drift.length === 0) return make('Compliant', [], '');
    return make('IaCManaged', drift, iacMessage(fn.iac.owner, drift as { field: FieldName; desired: unknown }[]));
  }
  const own = fn.drift.filter((d) => d.policy === id);
  const refusedFields = new Set(refusals.map((r) => r.field));
  const remediated = execution ? remediatedFields(execution) : new Set<FieldName>();
  const fixed = own.filter((d) => remediated.has(d.field));
  const remaining = own.filter((d) => !remediated.has(d.field) && !refusedFields.has(d.field));
  // A failure counts against this policy only when a field it wants was among those not applied.
  if (execution && !execution.ok && remaining.length > 0) {
    const done = fixed.map((d) => d.field);
    const partly = done.length > 0 ? ` (done: ${done.join(', ')})` : '';
    return make('Failed', driftEntries(own), `${executionError(execution)}${partly}`);
  }
  if (refusals.length > 0) {
    return make(
      'Infeasible',
      driftEntries(own),
      refusals.map((r) => `${r.field}: ${r.reason}: ${r.message}`).join('; '),
    );
  }
  if (remaining.length > 0) {
    const entries = driftEntries(own);
    return make('Drifted', entries, describeDrift(driftEntries(remaining)));
  }
  if (fixed.length > 0) {
    const entries = driftEntries(fixed);
    return make('Remediated', entries, `remediated ${entries.map((d) => d.field).join(', ')}`);
  }
  const lost = fn.overridden.filter((o) => o.policy === id);
  if (lost.length > 0) {
    return make(
      'Overridden',
      [],
      [...lost]
        .sort((a, b) => fieldRank(a.field) - fieldRank(b.field))
        .map((o) => `${o.field} overridden by ${o.winner}`)
        .join('; '),
    );
  }
  return make('Compliant', [], '');
}

/** States of a function that is in line now (a Remediated one was fixed in this check; Overridden is governed elsewhere). */
const IN_LINE: ReadonlySet<FunctionState> = new Set(['Compliant', 'Remediated', 'Overridden']);

/**
 * Non-compliant (Drifted, Failed, Infeasible) first, then region, then name: the same order every time (ordinal,
 * not locale, comparison), and a function's place does not move when its fix is confirmed.
 */
export function compareFunctionStatus(a: FunctionStatus, b: FunctionStatus): number {
  const ca = IN_LINE.has(a.state) ? 1 : 0;
  const cb = IN_LINE.has(b.state) ? 1 : 0;
  if (ca !== cb) return ca - cb;
  if ((a.account ?? '') !== (b.account ?? '')) return (a.account ?? '') < (b.account ?? '') ? -1 : 1;
  if (a.region !== b.region) return a.region < b.region ? -1 : 1;
  if (a.name !== b.name) return a.name < b.name ? -1 : 1;
  return 0;
}

function summarize(entries: readonly FunctionStatus[]): StatusSummary {
  const s = { ...ZERO_SUMMARY, matched: entries.length };
  for (const e of entries) {
    switch (e.state) {
      case 'Compliant':
        s.compliant++;
        break;
      case 'Remediated':
        s.compliant++;
        s.remediated++;
        break;
      case 'Drifted':
        s.drifted++;
        break;
      case 'Overridden':
        s.overridden++;
        break;
      case 'Failed':
        s.failed++;
        break;
      case 'Infeasible':
        s.infeasible++;
        break;
      case 'Violating':
        s.violating = (s.violating ?? 0) + 1;
        break;
      case 'IaCManaged':
        s.drifted++;
        s.iacManaged = (s.iacManaged ?? 0) + 1;
        break;
    }
  }
  return s;
}

/** Policy-level problems listed in status (each also capped at 256 characters). */
const MAX_PROBLEMS = 20;

/** The previous status as read from the API server; anything that is not an object counts as none. */
function asStatus(value: unknown): LambdaPolicyStatus | undefined {
  return isRecord(value) ? (value as LambdaPolicyStatus) : undefined;
}

const cents = (n: number) => Math.round(n * 100) / 100;

function overallState(
  mode: 'Enforce' | 'Audit',
  summary: StatusSummary,
  remediatedNow: number,
  problems: readonly string[],
): KstatusState {
  // The planner lists refusals (aggregated) among the problems too, so infeasible functions name the reason.
  if (summary.infeasible > 0) {
    const detail = problems.length > 0 ? problems.join('; ') : 'see functions[].message';
    return {
      kind: 'Stalled',
      reason: 'Infeasible',
      message: `${summary.infeasible} of ${summary.matched} matched functions cannot be brought in line: ${detail}`,
    };
  }
  if (problems.length > 0) {
    return { kind: 'Stalled', reason: 'InvalidPolicy', message: problems.join('; ') };
  }
  const counts = `${summary.matched} matched, ${summary.compliant} compliant`;
  // Violations are for people to fix, not the controller: the policy is checked (Ready) and not Compliant.
  const violating = summary.violating ?? 0;
  const violations = violating > 0 ? `, ${violating} violating checks` : '';
  if (mode === 'Audit') {
    // Checked is Ready: what an Audit policy finds is compliance (the Compliant condition), not ill health.
    if (summary.drifted > 0) {
      const message = `${counts}, ${summary.drifted} drifted (Audit: not corrected)${violations}`;
      return { kind: 'Ready', reason: 'Checked', message };
    }
    return violating > 0
      ? { kind: 'Ready', reason: 'Checked', message: `${counts}${violations}` }
      : { kind: 'Ready', reason: 'Compliant', message: counts };
  }
  if (summary.failed > 0) {
    return { kind: 'NotReady', reason: 'RemediationFailed', message: `${counts}, ${summary.failed} failed; retrying` };
  }
  const iac = summary.iacManaged ?? 0;
  if (summary.drifted > iac) {
    return { kind: 'Reconciling', reason: 'Remediating', message: `${counts}, ${summary.drifted} drifted` };
  }
  if (iac > 0) {
    // Checked, as an Audit policy's drift is: the controller holds back on purpose, a template change fixes it
    // (Compliant=False says so); nothing the controller retries.
    return {
      kind: 'Ready',
      reason: 'IaCManaged',
      message: `${counts}, ${iac} drifted but owned by infrastructure as code: not written, change their templates (functions[].message)`,
    };
  }
  const extra = [
    remediatedNow > 0 ? `${remediatedNow} remediated` : '',
    summary.overridden > 0 ? `${summary.overridden} overridden` : '',
    violating > 0 ? `${violating} violating checks` : '',
  ].filter((x) => x !== '');
  return {
    kind: 'Ready',
    reason: remediatedNow > 0 ? 'Remediated' : violating > 0 ? 'Checked' : 'Compliant',
    message: [counts, ...extra].join(', '),
  };
}

/**
 * What the Compliant condition says about the figures of a check. One reason, by precedence — Failed (a write AWS
 * refused or that broke off: the fleet may be half changed) > Infeasible (AWS would refuse the settings) >
 * Violations (checks a person must act on) > Drifted (what the controller corrects, or an Audit policy reports) —
 * and a message with every count that is not zero, so drift and violations together show both.
 */
function compliance(summary: StatusSummary, problems: readonly string[], violating: number): Compliance {
  const of = `${summary.compliant} of ${summary.matched} matched functions compliant`;
  if (problems.length > 0 && summary.infeasible === 0)
    return { status: 'Unknown', reason: 'InvalidPolicy', message: 'the policy was not checked' };
  const iac = summary.iacManaged ?? 0;
  const owned = iac > 0 ? ` (${iac} owned by infrastructure as code: change their templates)` : '';
  const counts = [
    summary.failed > 0 ? `${summary.failed} failed` : '',
    summary.infeasible > 0 ? `${summary.infeasible} cannot be brought in line` : '',
    violating > 0 ? `${violating} violate checks` : '',
    summary.drifted > 0 ? `${summary.drifted} drifted${owned}` : '',
  ].filter((c) => c !== '');
  const reason =
    summary.failed > 0
      ? 'Failed'
      : summary.infeasible > 0
        ? 'Infeasible'
        : violating > 0
          ? 'Violations'
          : summary.drifted > 0
            ? 'Drifted'
            : undefined;
  if (reason === undefined) return { status: 'True', reason: 'Compliant', message: of };
  return { status: 'False', reason, message: `${of}; ${counts.join(', ')}` };
}

function checkTimes(policy: LambdaPolicy, now: Date, options: BuildStatusOptions) {
  let next = options.nextCheckTime;
  if (next === undefined) {
    let ms = 300_000;
    try {
      // Default 5m, never below the 30 s minimum the CRD enforces.
      ms = Math.max(parseGoDuration(policy.spec.interval ?? '5m') * 1000, 30_000);
    } catch {
      // An invalid interval is reported by validation; status still needs a time.
    }
    next = new Date(now.getTime() + ms);
  }
  return { lastCheckTime: toKubeTime(now), nextCheckTime: toKubeTime(next) };
}

/**
 * The status of `policy` after a check. `functions` are the plans of the functions the policy matches; `executions` is what executing the plan did (undefined/empty when nothing was executed).
 */
export function buildStatus(
  policy: LambdaPolicy,
  report: PolicyReport,
  functions: readonly AccountFunctionPlan[],
  executions: readonly ExecutedFunction[] | undefined,
  previousStatus: unknown,
  now: Date,
  options: BuildStatusOptions = {},
): LambdaPolicyStatus {
  if (policy.spec.suspend) {
    const suspended = buildSuspendedStatus(policy, previousStatus, now, options.state);
    if (options.remediated !== undefined && suspended.summary) suspended.summary.remediated = options.remediated;
    return suspended;
  }
  const previous = asStatus(previousStatus);
  const id = objectKey(policy);
  const mode = policy.spec.mode ?? 'Enforce';
  const byFunction = new Map((executions ?? []).map((e) => [functionKey(e), e]));
  const entries = functions
    .map((fn) => functionStatusFor(id, mode, fn, byFunction.get(functionKey(fn))))
    .sort(compareFunctionStatus);
  const summary = summarize(entries);
  const remediatedNow = summary.remediated;
  summary.remediated = options.remediated ?? summary.remediated + (previous?.summary?.remediated ?? 0);
  const own = overallState(mode, summary, remediatedNow, report.problems);
  const max = options.maxFunctions ?? MAX_STATUS_FUNCTIONS;
  const problems = report.problems.map((p) => truncate(p, MAX_STATUS_MESSAGE)).slice(0, MAX_PROBLEMS);
  const conditions = kstatusConditions(
    previous?.conditions,
    options.state ? options.state(own) : own,
    policy.metadata.generation,
    now,
  ).conditions;
  const status: LambdaPolicyStatus = {
    conditions: compliantCondition(
      conditions,
      // Functions with violated checks, whatever their state (a drifted one that also violates counts in both).
      compliance(summary, report.problems, entries.filter((e) => (e.violations?.length ?? 0) > 0).length),
      policy.metadata.generation,
      now,
    ).conditions,
    summary,
    functions: entries.slice(0, max),
    truncated: entries.length > max,
    ...checkTimes(policy, now, options),
  };
  if (problems.length > 0) status.problems = problems;
  if (options.accounts !== undefined) status.accounts = options.accounts;
  if (policy.metadata.generation !== undefined) status.observedGeneration = policy.metadata.generation;
  const pc = report.provisionedConcurrency;
  if (pc) {
    status.provisionedConcurrency = { desiredNow: pc.desiredNow };
    if (pc.window !== undefined) status.provisionedConcurrency.window = pc.window;
    if (pc.nextChange) {
      status.provisionedConcurrency.nextChange = { at: toKubeTime(pc.nextChange.at), value: pc.nextChange.value };
    }
  }
  if (report.cost) {
    status.cost = { provisionedConcurrencyMonthlyUSD: cents(report.cost.provisionedConcurrencyMonthlyUSD) };
    if (report.cost.architectureMonthlySavingUSD !== undefined) {
      status.cost.architectureMonthlySavingUSD = cents(report.cost.architectureMonthlySavingUSD);
    }
  }
  return orderKeys(status);
}

/** spec.suspend: no reads, so the last known figures stay; the conditions say Suspended. */
export function buildSuspendedStatus(
  policy: LambdaPolicy,
  previous: unknown,
  now: Date,
  state: (own: KstatusState) => KstatusState = (own) => own,
): LambdaPolicyStatus {
  return withState(
    policy,
    asStatus(previous),
    now,
    // Ready: the controller does what the policy asks (nothing); Argo CD shows Suspended, kstatus Current.
    state({
      kind: 'Ready',
      reason: 'Suspended',
      message: 'spec.suspend is true: AWS is neither read nor written; figures are from the last check',
    }),
  );
}

/**
 * A check that could not complete (AWS unreachable, credentials, ...): keep the last figures, say why in Ready,
 * and let the queue retry. Throttling is not an error here: it is absorbed by the rate limiter and metrics.
 */
export function buildErrorStatus(
  policy: LambdaPolicy,
  previous: unknown,
  error: { reason: string; message: string },
  now: Date,
): LambdaPolicyStatus {
  return withState(policy, asStatus(previous), now, { kind: 'NotReady', reason: error.reason, message: error.message });
}

function withState(
  policy: LambdaPolicy,
  previous: LambdaPolicyStatus | undefined,
  now: Date,
  state: KstatusState,
): LambdaPolicyStatus {
  let conditions = kstatusConditions(previous?.conditions, state, policy.metadata.generation, now).conditions;
  // Compliance stays what the last check found; before any check it is Unknown, saying why.
  if (!conditions.some((c) => c.type === COMPLIANT)) {
    const unknown: Compliance = { status: 'Unknown', reason: state.reason, message: 'not checked yet' };
    conditions = compliantCondition(conditions, unknown, policy.metadata.generation, now).conditions;
  }
  const status: LambdaPolicyStatus = {
    ...previous,
    conditions,
    summary: { ...ZERO_SUMMARY, ...previous?.summary },
    functions: previous?.functions ?? [],
    truncated: previous?.truncated ?? false,
  };
  if (policy.metadata.generation !== undefined) status.observedGeneration = policy.metadata.generation;
  return orderKeys(status);
}

/** A fixed key order, so serialised statuses are comparable and diffs in `kubectl get -o yaml` are stable. */
function orderKeys(status: LambdaPolicyStatus): LambdaPolicyStatus {
  const out: Record<string, unknown> = {};
  const src = status as unknown as Record<string, unknown>;
  for (const k of STATUS_KEY_ORDER) if (src[k] !== undefined) out[k] = src[k];
  return out as unknown as LambdaPolicyStatus;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
