/**
 * One function against its merged Enforce settings (drift, feasibility, ordered actions) or against one Audit
 * policy's settings (drift only). Feasibility mirrors what AWS would reject, so a refused field produces no action
 * and a reason instead of a failed call. Each field group is its own module under ./diff/; diffEnforced runs them
 * in the order AWS gets the writes (configuration, code, reserved, provisioned).
 */
import type { BlockAnalysis } from './block.ts';
import { diffArchitecture } from './diff/architecture.ts';
import { type DiffOutput, type FieldDiff, RegionContext, showReserved } from './diff/common.ts';
import { diffConfiguration } from './diff/configuration.ts';
import { diffProvisioned } from './diff/provisioned.ts';
import { diffReserved } from './diff/reserved.ts';
import type { MergedSettings } from './merge.ts';
import type { Action, Drift, FieldName, ObservedFunction, PolicyInput, Refusal } from './model.ts';

export { RegionContext };

export interface FunctionDiff {
  drift: Drift[];
  actions: Action[];
  refusals: Refusal[];
}

/** The field groups, in action order. */
const FIELD_GROUPS: readonly FieldDiff[] = [diffConfiguration, diffArchitecture, diffReserved, diffProvisioned];

/** Drift, refusals and ordered actions of one function under merged Enforce settings. */
export function diffEnforced(
  fn: ObservedFunction,
  merged: MergedSettings,
  blocks: ReadonlyMap<string, BlockAnalysis>,
  ctx: RegionContext,
): FunctionDiff {
  const out: DiffOutput = { drift: [], refusals: [], actions: [] };
  const field = { fn, merged, blocks, region: ctx, effectiveReserved: fn.reservedConcurrency };
  for (const diff of FIELD_GROUPS) diff(field, out);
  return { drift: out.drift, refusals: out.refusals, actions: provisionedBeforeShrinkingReserve(out.actions, fn) };
}

/**
 * AWS refuses a reserved concurrency below the provisioned concurrency already configured on the function. When a
 * plan lowers both, the provisioned change must go first, or the reserved write fails and the function never
 * converges; otherwise the order stands: configuration, code, reserved, provisioned.
 */
function provisionedBeforeShrinkingReserve(actions: Action[], fn: ObservedFunction): Action[] {
  const reserved = actions.findIndex((a) => a.api === 'PutFunctionConcurrency');
  const put = actions[reserved];
  if (put?.api !== 'PutFunctionConcurrency') return actions;
  const provisionedNow =
    Object.values(fn.qualifiers ?? {}).reduce((sum, q) => sum + q.provisionedRequested, 0) +
    Object.values(fn.otherProvisioned ?? {}).reduce((sum, v) => sum + v, 0);
  if (put.reservedConcurrentExecutions >= provisionedNow) return actions;
  const lastProvisioned = actions.findLastIndex(
    (a) => a.api === 'PutProvisionedConcurrencyConfig' || a.api === 'DeleteProvisionedConcurrencyConfig',
  );
  if (lastProvisioned < reserved) return actions;
  const reordered = actions.filter((_, i) => i !== reserved);
  reordered.splice(lastProvisioned, 0, put);
  return reordered;
}

/** One Audit policy's drift for a function: its own settings, never merged, never actions. */
export function diffAudit(fn: ObservedFunction, policy: PolicyInput, analysis: BlockAnalysis | undefined): Drift[] {
  const s = policy.settings;
  const out: Drift[] = [];
  const add = (field: FieldName, desired: unknown, actual: unknown): void => {
    out.push({ field, desired, actual, policy: policy.id });
  };
  if (s.memorySize !== undefined && fn.memorySize !== s.memorySize) add('memorySize', s.memorySize, fn.memorySize);
  if (s.timeout !== undefined && fn.timeout !== s.timeout) add('timeout', s.timeout, fn.timeout);
  if (s.architecture !== undefined && fn.architecture !== s.architecture)
    add('architecture', s.architecture, fn.architecture);
  if (s.reservedConcurrency !== undefined && fn.reservedConcurrency !== undefined) {
    const desired = s.reservedConcurrency === 'Unreserved' ? null : s.reservedConcurrency;
    if (desired !== fn.reservedConcurrency)
      add('reservedConcurrency', s.reservedConcurrency, showReserved(fn.reservedConcurrency));
  }
  const block = s.provisionedConcurrency;
  if (block && analysis && !analysis.refusal && !analysis.inGrace) {
    const qs = fn.qualifiers?.[block.qualifier];
    if (qs && !qs.exists) add('provisionedConcurrency', analysis.desiredNow, `qualifier ${block.qualifier} not found`);
    else if (qs && qs.provisionedRequested !== analysis.desiredNow)
      add('provisionedConcurrency', analysis.desiredNow, qs.provisionedRequested);
  }
  return out;
}
