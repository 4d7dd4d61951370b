/**
 * The blast-radius guard and staged rollout, decided after planning and before anything is written. Pure: a plan,
 * the policies and what the shell remembers (approvals, halted rollouts) in; the plan with the held-back actions
 * removed and one decision per Enforce policy out.
 *
 * - A policy "changes" a function when one of the function's actions corrects a drift field that policy won.
 * - Over its limit (spec.rollout.maxFunctions / maxPercent, else the controller's default percentage), a pass of
 *   the policy writes nothing for it (Paused) until its current generation is approved.
 * - batchSize: only the first batchSize changing functions (region, then name order) are written; the rest wait
 *   for a later pass, so each batch is confirmed by the re-read that follows it.
 * - A batch with a failed function halts the policy's rollout at that generation (the shell remembers it).
 */
import type { Action, FunctionPlan, Plan, PolicyInput, PolicyReport } from './model.ts';

/**
 * Default of `--max-changes-percent`: a pass that would change more than a quarter of what a policy matches
 * waits for a person. Cloud Custodian's incident (a tag edit matching 90% of 1,000 functions instead of 2) is
 * stopped; routine drift (a handful of functions changed by hand) is not.
 */
export const DEFAULT_MAX_CHANGES_PERCENT = 25;

/**
 * The controller-wide percentage only stops passes that change more than this many functions: on a small fleet
 * every new policy changes 100% of its matches, and 3 functions are not a blast radius. A policy's own
 * spec.rollout limits apply exactly, without this floor.
 */
export const DEFAULT_GUARD_FLOOR = 10;

export type RolloutState = 'Proceed' | 'Batched' | 'Paused' | 'Halted';

export interface RolloutReport {
  state: RolloutState;
  /** Functions the policy's actions would change in this pass, before the guard. */
  changing: number;
  /** Functions the policy matches in this pass. */
  matched: number;
  /** Functions written in this pass for the policy (0 when Paused or Halted). */
  allowed: number;
  /** The generation approved by annotation (or the CLI's --approve) applies to this pass. */
  approved: boolean;
  /** Which limit the change count exceeds, e.g. "maxFunctions 50"; absent when none is exceeded. */
  exceeded?: string;
  /** One sentence for status, plan and Events. */
  message: string;
}

export interface RolloutHalt {
  /** The generation whose rollout stopped; a new generation resumes. */
  generation: number | undefined;
  message: string;
}

export interface RolloutOptions {
  /** The controller-wide default percentage (undefined: no default guard). */
  defaultMaxPercent?: number | undefined;
  /** Treat every policy as approved (the CLI's `apply --approve`). */
  approveAll?: boolean | undefined;
  /** Policies whose rollout a failed batch halted, by id. */
  halted?: ReadonlyMap<string, RolloutHalt> | undefined;
}

export interface GatedPlan {
  plan: Plan;
  /** Per Enforce policy that changes something or is held: its decision (also on its report as `rollout`). */
  decisions: ReadonlyMap<string, RolloutReport>;
}

/** The policies whose drift one action corrects (its fields' drift entries). */
function actionPolicies(fp: FunctionPlan, action: Action): Set<string> {
  const fields = action.fields;
  const out = new Set<string>();
  for (const d of fp.drift) if (fields === undefined || fields.includes(d.field)) out.add(d.policy);
  return out;
}

/** Whether `policy`'s Enforce settings are behind one of the function's actions. */
export function changesFunction(fp: FunctionPlan, policy: string): boolean {
  return fp.actions.some((a) => actionPolicies(fp, a).has(policy));
}

/** Whether the approve annotation (or the CLI) approves the policy's current generation. */
function isApproved(p: PolicyInput, options: RolloutOptions): boolean {
  if (options.approveAll) return true;
  return p.approval !== undefined && 'generation' in p.approval && p.approval.generation === p.generation;
}

/** The limit `changing` exceeds, or undefined. */
export function exceededLimit(
  p: PolicyInput,
  changing: number,
  matched: number,
  defaultMaxPercent?: number,
): string | undefined {
  const r = p.rollout;
  if (r && (r.maxFunctions !== undefined || r.maxPercent !== undefined)) {
    if (r.maxFunctions !== undefined && changing > r.maxFunctions) return `maxFunctions ${r.maxFunctions}`;
    if (r.maxPercent !== undefined && changing * 100 > r.maxPercent * matched) return `maxPercent ${r.maxPercent}%`;
    return undefined;
  }
  if (defaultMaxPercent === undefined) return undefined;
  if (changing > DEFAULT_GUARD_FLOOR && changing * 100 > defaultMaxPercent * matched) {
    return `the controller's --max-changes-percent ${defaultMaxPercent}%`;
  }
  return undefined;
}

function decide(
  p: PolicyInput,
  changing: number,
  matched: number,
  options: RolloutOptions,
): { state: RolloutState; allowed: number; approved: boolean; exceeded?: string; message: string } {
  const approved = isApproved(p, options);
  const counts = `would change ${changing} of ${matched} matched functions`;
  const halt = options.halted?.get(p.id);
  // Nothing left to change (fixed by hand, or the selector no longer reaches the failed function): no rollout to halt.
  if (halt && halt.generation === p.generation && changing > 0) {
    return { state: 'Halted', allowed: 0, approved, message: `rollout stopped at a failed batch: ${halt.message}` };
  }
  const exceeded = exceededLimit(p, changing, matched, options.defaultMaxPercent);
  if (exceeded !== undefined && !approved) {
    const how =
      p.generation === undefined
        ? 'approve with --approve'
        : `approve with: kubectl annotate lambdapolicy ${p.name} -n ${p.namespace} lambdapolicy.io/approve-generation=${p.generation} --overwrite`;
    return {
      state: 'Paused',
      allowed: 0,
      approved,
      exceeded,
      message: `${counts}, more than ${exceeded}: nothing written; ${how}`,
    };
  }
  const batch = p.rollout?.batchSize;
  const extra = exceeded !== undefined ? { exceeded } : {};
  if (batch !== undefined && changing > batch) {
    return {
      state: 'Batched',
      allowed: batch,
      approved,
      ...extra,
      message: `${counts}: changing ${batch} in this batch, ${changing - batch} left for later batches`,
    };
  }
  return { state: 'Proceed', allowed: changing, approved, ...extra, message: counts };
}

/** Applies the guard and batches to a plan (the engine's plan is left untouched). */
export function gateRollout(plan: Plan, policies: readonly PolicyInput[], options: RolloutOptions = {}): GatedPlan {
  const reports = new Map(plan.policies.map((r) => [r.id, r]));
  const decisions = new Map<string, RolloutReport>();
  /** Policy id -> functions (plan indexes) the policy may change in this pass, for policies held back at all. */
  const allowedFunctions = new Map<string, Set<number>>();
  // One pass over the functions: which policies each function's actions change (plan order is region, name).
  // Functions are referred to by their index in the plan from here on.
  const changedBy = new Map<string, number[]>();
  const owners: (readonly string[][] | undefined)[] = new Array(plan.functions.length);
  plan.functions.forEach((fp, index) => {
    if (fp.actions.length === 0) return;
    const perAction = fp.actions.map((a) => [...actionPolicies(fp, a)]);
    owners[index] = perAction;
    const ids = new Set<string>();
    for (const list of perAction) for (const id of list) ids.add(id);
    for (const id of ids) {
      const list = changedBy.get(id);
      if (list) list.push(index);
      else changedBy.set(id, [index]);
    }
  });
  for (const p of policies) {
    if (p.mode !== 'Enforce' || p.suspend) continue;
    const report = reports.get(p.id);
    if (!report) continue;
    const changingFns = changedBy.get(p.id) ?? [];
    const d = decide(p, changingFns.length, report.matched, options);
    if (changingFns.length === 0 && d.state === 'Proceed') continue;
    decisions.set(p.id, { ...d, changing: changingFns.length, matched: report.matched });
    if (d.allowed < changingFns.length) {
      allowedFunctions.set(p.id, new Set(changingFns.slice(0, d.allowed)));
    }
  }
  const invalidApprovals = new Map<string, string>();
  for (const p of policies) if (p.approval && 'invalid' in p.approval) invalidApprovals.set(p.id, p.approval.invalid);
  if (decisions.size === 0 && invalidApprovals.size === 0) return { plan, decisions };
  if (allowedFunctions.size === 0) {
    return { plan: { ...plan, policies: withDecisions(plan.policies, decisions, invalidApprovals) }, decisions };
  }
  // An action shared by several policies (one UpdateFunctionConfiguration for memory and timeout) is held when
  // any of them is held: writing it would change the held policy's field too.
  const functions = plan.functions.map((fp, index) => {
    const perAction = owners[index];
    if (!perAction) return fp;
    const held = (policy: string) => allowedFunctions.get(policy)?.has(index) === false;
    const actions = fp.actions.filter((_a, i) => !(perAction[i] ?? []).some(held));
    return actions.length === fp.actions.length ? fp : { ...fp, actions };
  });
  return {
    plan: { ...plan, functions, policies: withDecisions(plan.policies, decisions, invalidApprovals) },
    decisions,
  };
}

function withDecisions(
  reports: readonly PolicyReport[],
  decisions: ReadonlyMap<string, RolloutReport>,
  invalidApprovals: ReadonlyMap<string, string>,
): PolicyReport[] {
  return reports.map((r) => {
    const decision = decisions.get(r.id);
    const invalid = invalidApprovals.get(r.id);
    const withProblem = invalid === undefined ? r : { ...r, problems: [...r.problems, invalid] };
    return decision ? { ...withProblem, rollout: decision } : withProblem;
  });
}

/** What the executor reports per function (structurally src/aws's FunctionExecution). */
export interface ExecutionOutcome {
  region: string;
  name: string;
  ok: boolean;
  outcomes: ReadonlyArray<{ status: string; error?: { message: string } | undefined }>;
}

/**
 * The rollouts a pass's failed writes halt: policies with a batchSize whose batch had a failing function, with
 * the first failure (region/name: error). Policies without batches keep the usual retry of failed writes.
 */
export function haltedBy(
  gated: GatedPlan,
  policies: readonly PolicyInput[],
  executions: readonly ExecutionOutcome[],
): Map<string, RolloutHalt> {
  const out = new Map<string, RolloutHalt>();
  const failed = executions.filter((e) => !e.ok);
  if (failed.length === 0) return out;
  const plans = new Map(gated.plan.functions.map((fp) => [`${fp.region}/${fp.name}`, fp]));
  for (const p of policies) {
    if (p.rollout?.batchSize === undefined || p.mode !== 'Enforce') continue;
    for (const e of failed) {
      const fp = plans.get(`${e.region}/${e.name}`);
      if (!fp || !changesFunction(fp, p.id)) continue;
      const error = e.outcomes.find((o) => o.status === 'failed')?.error?.message ?? 'failed';
      out.set(p.id, { generation: p.generation, message: `${e.region}/${e.name}: ${error}` });
      break;
    }
  }
  return out;
}
