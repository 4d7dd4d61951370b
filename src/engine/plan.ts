/**
 * The planner: policies + a fleet snapshot + an instant -> drift, refusals and ordered actions per matched function,
 * and a report per policy. Pure and deterministic: the same inputs in any order give the same plan.
 */

import { compareOrdinal } from '../shared/compare.ts';
import { analyzeBlock, type BlockAnalysis, windowView } from './block.ts';
import { policyViolations } from './checks/plan-hook.ts';
import { orphanedActions, ownerOfAction } from './cleanup.ts';
import { CostAccumulator } from './cost.ts';
import { pendingPublish, SCALABLE_TARGET_QUOTA } from './diff/provisioned.ts';
import { diffAudit, diffEnforced, RegionContext } from './diff.ts';
import { detectIacOwner, type IacOwner } from './iac.ts';
import { type MergedSettings, type MergeResult, mergeEnforce } from './merge.ts';
import {
  type Drift,
  type FieldName,
  type FleetSnapshot,
  type FunctionCounts,
  type FunctionPlan,
  type ObservedFunction,
  type Plan,
  type PlanOptions,
  type PolicyInput,
  type PolicyReport,
  type RefusalReason,
  type RuntimeTable,
  zeroCounts,
} from './model.ts';
import { compileSelector, PolicyIndex } from './select.ts';

export const DEFAULT_GRACE_SECONDS = 120;

interface PolicyTally extends FunctionCounts {
  policy: PolicyInput;
  violating: number;
  problems: string[];
  refusalsByReason: Map<RefusalReason, { count: number; example: string }>;
  cost: CostAccumulator;
}

function tally(policy: PolicyInput): PolicyTally {
  return {
    policy,
    ...zeroCounts(),
    violating: 0,
    problems: [],
    refusalsByReason: new Map(),
    cost: new CostAccumulator(),
  };
}

export function plan(policies: readonly PolicyInput[], fleet: FleetSnapshot, now: Date, options: PlanOptions): Plan {
  const t = now.getTime();
  const graceMs = (options.graceSeconds ?? DEFAULT_GRACE_SECONDS) * 1000;
  const defaultRegions = options.defaultRegions;
  // Suspended policies are ignored entirely; sorting by id makes every later step independent of input order.
  const active = policies.filter((p) => !p.suspend).sort((a, b) => compareOrdinal(a.id, b.id));
  const index = new PolicyIndex(active, defaultRegions);
  const tallies = new Map<string, PolicyTally>();
  const blocks = new Map<string, BlockAnalysis>();
  for (const p of active) {
    const tl = tally(p);
    tallies.set(p.id, tl);
    if (!compileSelector(p.selector, defaultRegions).hasCriterion) {
      tl.problems.push('selector has no functionNames, tags or tagExpressions: it matches no function');
    }
    const block = p.settings.provisionedConcurrency;
    if (block) {
      const a = analyzeBlock(p, block, t, graceMs);
      blocks.set(p.id, a);
      if (a.refusal) tl.problems.push(`${a.refusal.reason}: ${a.refusal.message}`);
    }
  }

  const functions: FunctionPlan[] = [];
  const merges = new Map<string, MergeResult>();
  // Every policy of the set, suspended ones included: an owner that still exists keeps what it may resume.
  const policiesById = new Map(policies.map((p) => [p.id, p]));
  const namespaces = new Set(policies.map((p) => p.namespace));
  const refused = options.refusedOwners ?? new Set<string>();
  const regions = [...fleet.regions].sort((a, b) => compareOrdinal(a.region, b.region));
  for (const snapshot of regions) {
    const ctx = new RegionContext(
      snapshot.region,
      snapshot.account,
      snapshot.scalableTargets,
      // Actions of owners refused here are left out of the plan: nothing replaces or deletes them.
      refused.size === 0
        ? snapshot.scheduledActions
        : snapshot.scheduledActions.filter((a) => !refused.has(ownerOfAction(a.name)?.id ?? '')),
      snapshot.scalableTargetCount === undefined
        ? undefined
        : (options.scalableTargetQuota ?? SCALABLE_TARGET_QUOTA) - snapshot.scalableTargetCount,
    );
    ctx.runtimes = options.runtimes;
    const fns = [...snapshot.functions].sort((a, b) => compareOrdinal(a.name, b.name));
    for (const raw of fns) {
      // The snapshot's region is authoritative (a function listed under a region lives there).
      const fn: ObservedFunction = raw.region === snapshot.region ? raw : { ...raw, region: snapshot.region };
      const owner = detectIacOwner(fn.tags, options.iacOwnerTags);
      // iacManaged: Skip leaves functions owned by infrastructure as code out of the policy's match.
      const matched = owner
        ? index.matching(fn).filter((p) => (p.iacManaged ?? 'Audit') !== 'Skip')
        : index.matching(fn);
      if (matched.length === 0 && fn.unreadable !== undefined && fn.unreadable.length > 0) continue;
      if (matched.length === 0) {
        // No policy governs it any more, but actions we created may still run its provisioned concurrency.
        const owned = ctx.ownedActionsByFunction.get(fn.name);
        const orphans = owned === undefined ? undefined : orphanedActions(owned, policiesById, namespaces);
        if (orphans && orphans.actions.length > 0) {
          functions.push({
            region: fn.region,
            name: fn.name,
            policies: [],
            compliant: false,
            drift: orphans.drift,
            actions: orphans.actions,
            refusals: [],
            overridden: [],
            auditDrift: [],
          });
        }
        continue;
      }
      if (fn.unreadable !== undefined && fn.unreadable.length > 0) {
        functions.push(unreadableFunction(fn, fn.unreadable, matched, tallies));
        continue;
      }
      functions.push(
        planFunction(fn, matched, blocks, ctx, tallies, merges, policiesById, namespaces, now, options.runtimes, owner),
      );
    }
  }

  const reports: PolicyReport[] = active.map((p) => report(tallies.get(p.id) as PolicyTally, blocks.get(p.id)));
  return {
    now,
    functions,
    policies: reports,
    summary: {
      policies: active.length,
      matched: functions.length,
      compliant: functions.filter((f) => f.compliant).length,
      drifted: functions.filter((f) => f.drift.length > 0 || f.auditDrift.length > 0).length,
      overridden: functions.filter((f) => f.overridden.length > 0).length,
      infeasible: functions.filter((f) => f.refusals.length > 0).length,
      violating: functions.filter((f) => (f.violations ?? []).length > 0).length,
    },
  };
}

function planFunction(
  fn: ObservedFunction,
  matched: readonly PolicyInput[],
  blocks: ReadonlyMap<string, BlockAnalysis>,
  ctx: RegionContext,
  tallies: ReadonlyMap<string, PolicyTally>,
  merges: Map<string, MergeResult>,
  policiesById: ReadonlyMap<string, PolicyInput>,
  namespaces: ReadonlySet<string>,
  now: Date,
  runtimes: RuntimeTable | undefined,
  owner: IacOwner | undefined,
): FunctionPlan {
  // `matched` comes from the index sorted by id (active policies are sorted), so ids and the merge key are stable.
  const enforce: PolicyInput[] = [];
  /** Audit policies, and Enforce policies holding back from a function its IaC owner would revert (report only). */
  const audit: PolicyInput[] = [];
  const held = new Set<string>();
  for (const p of matched) {
    if (p.mode === 'Enforce' && owner && (p.iacManaged ?? 'Audit') === 'Audit') held.add(p.id);
    (p.mode === 'Enforce' && !held.has(p.id) ? enforce : audit).push(p);
  }
  // Many functions share the same set of Enforce policies: merge each distinct set once per plan.
  const key = enforce.map((p) => p.id).join('\u0000');
  let merged = merges.get(key);
  if (merged === undefined) {
    merged = mergeEnforce(enforce);
    merges.set(key, merged);
  }
  const diff =
    enforce.length > 0
      ? diffEnforced(fn, merged.settings, blocks, ctx)
      : { ...orphanedActions(ctx.ownedActionsByFunction.get(fn.name) ?? [], policiesById, namespaces), refusals: [] };
  const auditDrift: Drift[] = [];
  for (const p of audit) auditDrift.push(...diffAudit(fn, p, blocks.get(p.id)));
  const violations = policyViolations(fn, matched, merged.settings, now, runtimes);
  const fp: FunctionPlan = {
    region: fn.region,
    name: fn.name,
    policies: matched.map((p) => p.id),
    compliant:
      diff.drift.length === 0 && diff.refusals.length === 0 && auditDrift.length === 0 && violations.length === 0,
    drift: diff.drift,
    actions: diff.actions,
    refusals: diff.refusals,
    overridden: merged.overridden.slice(),
    auditDrift,
    violations,
  };
  if (owner && held.size > 0) fp.iac = { owner, policies: [...held] };
  if (enforce.length > 0) {
    const pending = pendingPublish(fn, merged.settings);
    if (pending.length > 0) fp.qualifiers = pending;
  }

  // Indexed once per function: with many overlapping policies, `overridden` holds one entry per losing policy and
  // field, and scanning it for each matched policy made a plan quadratic in the number of policies.
  const refusedBy = groupByPolicy(fp.refusals);
  const drifted = idsOf(fp.drift);
  const auditDrifted = idsOf(fp.auditDrift);
  const overridden = idsOf(fp.overridden);
  const violating = idsOf(violations);
  for (const p of matched) {
    const tl = tallies.get(p.id) as PolicyTally;
    tl.matched++;
    const refusals = refusedBy.get(p.id);
    if (refusals !== undefined) {
      for (const r of refusals) {
        const seen = tl.refusalsByReason.get(r.reason);
        if (seen) seen.count++;
        else tl.refusalsByReason.set(r.reason, { count: 1, example: `${fn.region}/${fn.name}: ${r.message}` });
      }
      tl.infeasible++;
    } else if ((p.mode === 'Audit' || held.has(p.id) ? auditDrifted : drifted).has(p.id)) tl.drifted++;
    else if (violating.has(p.id)) tl.violating++;
    else if (overridden.has(p.id)) tl.overridden++;
    else tl.compliant++;
    addCost(tl, p, fn, merged.settings, blocks.get(p.id));
  }
  return fp;
}

/**
 * A function part of whose AWS answer did not parse: reported (NotRead, naming what was wrong) for every policy
 * that matches it, and never written to, so no write is ever based on a value that was not understood.
 */
function unreadableFunction(
  fn: ObservedFunction,
  problems: readonly string[],
  matched: readonly PolicyInput[],
  tallies: ReadonlyMap<string, PolicyTally>,
): FunctionPlan {
  const message = `AWS's answer for this function did not parse (${problems.join('; ')}); nothing is written to it until it does`;
  const refusals = matched.map((p) => ({
    field: governedField(p),
    reason: 'NotRead' as const,
    message,
    policy: p.id,
  }));
  for (const p of matched) {
    const tl = tallies.get(p.id) as PolicyTally;
    tl.matched++;
    tl.infeasible++;
    const seen = tl.refusalsByReason.get('NotRead');
    if (seen) seen.count++;
    else tl.refusalsByReason.set('NotRead', { count: 1, example: `${fn.region}/${fn.name}: ${message}` });
  }
  return {
    region: fn.region,
    name: fn.name,
    policies: matched.map((p) => p.id),
    compliant: false,
    drift: [],
    actions: [],
    refusals,
    overridden: [],
    auditDrift: [],
  };
}

function governedField(p: PolicyInput): FieldName {
  const s = p.settings;
  if (s.memorySize !== undefined) return 'memorySize';
  if (s.timeout !== undefined) return 'timeout';
  if (s.architecture !== undefined) return 'architecture';
  if (s.reservedConcurrency !== undefined) return 'reservedConcurrency';
  if (s.provisionedConcurrency !== undefined) return 'provisionedConcurrency';
  if (s.logging !== undefined) return 'logging';
  if (s.tracing !== undefined) return 'tracing';
  if (s.asyncInvocation !== undefined) return 'asyncInvocation';
  if (s.logRetentionDays !== undefined) return 'logRetentionDays';
  return 'provisionedConcurrency';
}

function idsOf(list: readonly { policy: string }[]): Set<string> {
  const out = new Set<string>();
  for (const e of list) out.add(e.policy);
  return out;
}

function groupByPolicy<T extends { policy: string }>(list: readonly T[]): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const e of list) {
    const group = out.get(e.policy);
    if (group) group.push(e);
    else out.set(e.policy, [e]);
  }
  return out;
}

/** The policy's schedule costs only where its block is the one in effect (always, for an Audit policy). */
function addCost(
  tl: PolicyTally,
  p: PolicyInput,
  fn: ObservedFunction,
  merged: MergedSettings,
  analysis: BlockAnalysis | undefined,
): void {
  const enforce = p.mode === 'Enforce';
  const block = p.settings.provisionedConcurrency;
  if (block && analysis && (!enforce || merged.provisionedConcurrency?.policy.id === p.id)) {
    // Provisioned concurrency runs the version the qualifier serves, at that version's memory: a memory change on
    // $LATEST changes its price only once published. Unread (or serving $LATEST): what $LATEST will have.
    const served = fn.qualifiers?.[block.qualifier]?.served;
    const memory = served?.memorySize ?? (enforce ? merged.memorySize?.value : p.settings.memorySize) ?? fn.memorySize;
    const arch =
      served?.architecture ?? (enforce ? merged.architecture?.value : p.settings.architecture) ?? fn.architecture;
    tl.cost.addProvisioned(memory, analysis.monthlyValueSeconds, arch);
  }
  const movesToArm =
    p.settings.architecture === 'arm64' &&
    fn.architecture === 'x86_64' &&
    fn.packageType === 'Zip' &&
    (!enforce || merged.architecture?.policy.id === p.id);
  if (movesToArm) tl.cost.addArchitectureMove(fn.monthlyGbSeconds);
}

function report(tl: PolicyTally, block: BlockAnalysis | undefined): PolicyReport {
  const problems = [...tl.problems];
  for (const [reason, { count, example }] of [...tl.refusalsByReason].sort((a, b) => compareOrdinal(a[0], b[0]))) {
    problems.push(`${reason} on ${count} function${count === 1 ? '' : 's'} (e.g. ${example})`);
  }
  const r: PolicyReport = {
    id: tl.policy.id,
    mode: tl.policy.mode,
    matched: tl.matched,
    compliant: tl.compliant,
    drifted: tl.drifted,
    overridden: tl.overridden,
    infeasible: tl.infeasible,
    violating: tl.violating,
    problems,
    cost: tl.cost.result(),
  };
  if (block && !(block.refusal && block.refusal.reason === 'InvalidSchedule'))
    r.provisionedConcurrency = windowView(block);
  return r;
}
