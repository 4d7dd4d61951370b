/**
 * One function against its merged Enforce settings (drift, feasibility, ordered actions) or against one Audit
 * policy's settings (drift only). Feasibility mirrors what AWS would reject, so a refused field produces no action
 * and a reason instead of a failed call.
 */
import type { BlockAnalysis } from './block.ts';
import { diffProductionAudit, diffProductionEnforced } from './diff-production.ts';
import type { MergedSettings } from './merge.ts';
import type {
  Action,
  Drift,
  FieldName,
  ObservedFunction,
  PolicyInput,
  Refusal,
  RefusalReason,
  RegionAccount,
  ScalableTargetState,
  ScheduledActionState,
} from './model.ts';
import { type DeclaredAction, isOwnedActionName, parseResourceId, resourceIdOf } from './schedule.ts';

/** Region-wide state the plan threads through the functions of a region, in order. */
export class RegionContext {
  readonly region: string;
  readonly account: RegionAccount | undefined;
  /**
   * Unreserved account concurrency left after the reservations planned so far in this region, and after the
   * provisioned concurrency of the unreserved functions examined so far (AWS draws it from the same pool). Only
   * increases are counted: functions are written in parallel, so a planned decrease may land after another
   * function's increase; a refused increase is retried on the next cycle, once the decreases are in.
   */
  unreservedLeft: number | undefined;
  readonly targets = new Map<string, ScalableTargetState>();
  /** Log groups whose retention this plan already sets (functions can share one group). */
  readonly retentionPlanned = new Map<string, { days: number; fn: string; policy: string }>();
  readonly ownedActionsByFunction = new Map<string, ScheduledActionState[]>();

  constructor(
    region: string,
    account: RegionAccount | undefined,
    targets: readonly ScalableTargetState[],
    actions: readonly ScheduledActionState[],
  ) {
    this.region = region;
    this.account = account;
    this.unreservedLeft = account?.unreservedConcurrentExecutions;
    for (const t of targets) this.targets.set(t.resourceId, t);
    for (const a of actions) {
      if (!isOwnedActionName(a.name)) continue;
      const parsed = parseResourceId(a.resourceId);
      if (!parsed) continue;
      const list = this.ownedActionsByFunction.get(parsed.functionName);
      if (list) list.push(a);
      else this.ownedActionsByFunction.set(parsed.functionName, [a]);
    }
  }
}

export interface FunctionDiff {
  drift: Drift[];
  actions: Action[];
  refusals: Refusal[];
}

const showReserved = (v: number | null): number | 'Unreserved' => (v === null ? 'Unreserved' : v);

function describeAction(a: {
  name: string;
  schedule: string;
  timezone?: string;
  minCapacity?: number;
  maxCapacity?: number;
}): string {
  const cap = a.minCapacity === a.maxCapacity ? `${a.minCapacity}` : `${a.minCapacity}..${a.maxCapacity}`;
  return `${a.name} ${a.schedule} ${a.timezone ?? 'UTC'} ${cap}`;
}

function sameAction(declared: DeclaredAction, existing: ScheduledActionState): boolean {
  return (
    declared.schedule === existing.schedule &&
    declared.timezone === (existing.timezone || 'UTC') &&
    declared.minCapacity === existing.minCapacity &&
    declared.maxCapacity === existing.maxCapacity
  );
}

function refuse(
  refusals: Refusal[],
  field: FieldName,
  reason: RefusalReason,
  message: string,
  policy: PolicyInput,
): void {
  refusals.push({ field, reason, message, policy: policy.id });
}

/** Drift, refusals and ordered actions of one function under merged Enforce settings. */
export function diffEnforced(
  fn: ObservedFunction,
  merged: MergedSettings,
  blocks: ReadonlyMap<string, BlockAnalysis>,
  ctx: RegionContext,
): FunctionDiff {
  const drift: Drift[] = [];
  const refusals: Refusal[] = [];
  // Fields are examined in action order (configuration, code, reserved, provisioned), so one list stays ordered.
  const actions: Action[] = [];

  // Memory, timeout, logging and tracing: one UpdateFunctionConfiguration.
  const production = diffProductionEnforced(fn, merged, ctx.retentionPlanned);
  const update: { memorySize?: number; timeout?: number } = {};
  if (merged.memorySize && fn.memorySize !== merged.memorySize.value) {
    drift.push({
      field: 'memorySize',
      desired: merged.memorySize.value,
      actual: fn.memorySize,
      policy: merged.memorySize.policy.id,
    });
    update.memorySize = merged.memorySize.value;
  }
  if (merged.timeout && fn.timeout !== merged.timeout.value) {
    drift.push({
      field: 'timeout',
      desired: merged.timeout.value,
      actual: fn.timeout,
      policy: merged.timeout.policy.id,
    });
    update.timeout = merged.timeout.value;
  }
  drift.push(...production.configDrift);
  if (update.memorySize !== undefined || update.timeout !== undefined || production.configDrift.length > 0)
    actions.push({ api: 'UpdateFunctionConfiguration', ...update, ...production.configUpdate });

  // Architecture: UpdateFunctionCode with the same Zip; an Image cannot change architecture.
  const arch = merged.architecture;
  if (arch && fn.architecture !== arch.value) {
    drift.push({ field: 'architecture', desired: arch.value, actual: fn.architecture, policy: arch.policy.id });
    if (fn.packageType === 'Image') {
      refuse(
        refusals,
        'architecture',
        'ImageArchitecture',
        `image functions need an image built for ${arch.value}; report only`,
        arch.policy,
      );
    } else {
      actions.push({ api: 'UpdateFunctionCode', architecture: arch.value });
    }
  }

  // Reserved concurrency, checked against the account's unreserved floor.
  let effectiveReserved = fn.reservedConcurrency;
  const res = merged.reservedConcurrency;
  if (res) {
    const actual = fn.reservedConcurrency;
    if (actual === undefined) {
      refuse(refusals, 'reservedConcurrency', 'NotRead', 'reserved concurrency was not read', res.policy);
    } else {
      const desired = res.value === 'Unreserved' ? null : res.value;
      if (desired !== actual) {
        drift.push({
          field: 'reservedConcurrency',
          desired: res.value,
          actual: showReserved(actual),
          policy: res.policy.id,
        });
        const increase = (desired ?? 0) - (actual ?? 0);
        // AWS refuses a reservation below the function's provisioned total; the governed qualifier's own value is
        // the provisioned check's business below (its change is ordered before a shrinking reservation).
        const held = provisionedElsewhere(fn, merged.provisionedConcurrency?.value.qualifier);
        const heldTotal = held.reduce((sum, o) => sum + o.value, 0);
        if (desired !== null && desired < heldTotal) {
          refuse(
            refusals,
            'reservedConcurrency',
            'ProvisionedExceedsReserved',
            `reserved concurrency ${desired} is below the ${heldTotal} provisioned on ${describeElsewhere(held)}`,
            res.policy,
          );
        } else if (desired === null) {
          actions.push({ api: 'DeleteFunctionConcurrency' });
          effectiveReserved = null;
        } else if (increase <= 0) {
          actions.push({ api: 'PutFunctionConcurrency', reservedConcurrentExecutions: desired });
          effectiveReserved = desired;
        } else if (ctx.account === undefined || ctx.unreservedLeft === undefined) {
          refuse(
            refusals,
            'reservedConcurrency',
            'NotRead',
            `account settings of ${ctx.region} were not read`,
            res.policy,
          );
        } else if (ctx.unreservedLeft - increase < ctx.account.unreservedFloor) {
          refuse(
            refusals,
            'reservedConcurrency',
            'UnreservedFloor',
            `reserving ${desired} would leave ${ctx.unreservedLeft - increase} unreserved in ${ctx.region}, below the minimum of ${ctx.account.unreservedFloor}`,
            res.policy,
          );
        } else {
          ctx.unreservedLeft -= increase;
          actions.push({ api: 'PutFunctionConcurrency', reservedConcurrentExecutions: desired });
          effectiveReserved = desired;
        }
      }
    }
  }

  // Provisioned concurrency: scalable target, owned scheduled actions, provisioned config.
  const owned = ctx.ownedActionsByFunction.get(fn.name) ?? [];
  const prov = merged.provisionedConcurrency;
  const analysis = prov ? blocks.get(prov.policy.id) : undefined;
  if (prov && analysis) {
    const q = prov.value.qualifier;
    const qs = fn.qualifiers?.[q];
    if (analysis.refusal) {
      refuse(refusals, 'provisionedConcurrency', analysis.refusal.reason, analysis.refusal.message, prov.policy);
    } else if (qs === undefined) {
      refuse(refusals, 'provisionedConcurrency', 'NotRead', `qualifier ${q} was not read`, prov.policy);
    } else if (!qs.exists) {
      refuse(refusals, 'provisionedConcurrency', 'QualifierNotFound', `qualifier ${q} does not exist`, prov.policy);
      drift.push({
        field: 'provisionedConcurrency',
        desired: analysis.desiredNow,
        actual: `qualifier ${q} not found`,
        policy: prov.policy.id,
      });
    } else if (effectiveReserved === undefined) {
      refuse(
        refusals,
        'provisionedConcurrency',
        'NotRead',
        'reserved concurrency was not read; provisioned must fit in it',
        prov.policy,
      );
    } else if (
      !provisionedFits(fn, q, qs.provisionedRequested, effectiveReserved, analysis, ctx, refusals, prov.policy)
    ) {
      // The refused field still shows what it wants against what it has, like a refused reservation does.
      if (!analysis.inGrace && qs.provisionedRequested !== analysis.desiredNow) {
        drift.push({
          field: 'provisionedConcurrency',
          desired: analysis.desiredNow,
          actual: qs.provisionedRequested,
          policy: prov.policy.id,
        });
      }
    } else {
      const resourceId = resourceIdOf(fn.name, q);
      const policy = prov.policy.id;
      const desiredNow = analysis.desiredNow;
      if (analysis.declared.length > 0) {
        const target = ctx.targets.get(resourceId);
        if (!target) {
          drift.push({ field: 'scheduledActions', desired: `scalable target ${resourceId}`, actual: 'absent', policy });
          actions.push({
            api: 'RegisterScalableTarget',
            resourceId,
            minCapacity: desiredNow,
            maxCapacity: desiredNow,
          });
        } else if (!analysis.inGrace && (desiredNow < target.minCapacity || desiredNow > target.maxCapacity)) {
          drift.push({
            field: 'provisionedConcurrency',
            desired: desiredNow,
            actual: `scalable target ${target.minCapacity}..${target.maxCapacity}`,
            policy,
          });
          actions.push({
            api: 'RegisterScalableTarget',
            resourceId,
            minCapacity: desiredNow,
            maxCapacity: desiredNow,
          });
        }
      }
      const declaredNames = new Set<string>();
      for (const d of analysis.declared) {
        declaredNames.add(d.name);
        const existing = owned.find((a) => a.resourceId === resourceId && a.name === d.name);
        if (existing && sameAction(d, existing)) continue;
        drift.push({
          field: 'scheduledActions',
          desired: describeAction(d),
          actual: existing ? describeAction(existing) : 'absent',
          policy,
        });
        actions.push({ api: 'PutScheduledAction', resourceId, scheduledActionName: d.name, ...pick(d) });
      }
      for (const a of owned) {
        if (a.resourceId === resourceId && declaredNames.has(a.name)) continue;
        drift.push({ field: 'scheduledActions', desired: 'absent', actual: describeAction(a), policy });
        actions.push({ api: 'DeleteScheduledAction', resourceId: a.resourceId, scheduledActionName: a.name });
      }
      if (!analysis.inGrace && qs.provisionedRequested !== desiredNow) {
        drift.push({ field: 'provisionedConcurrency', desired: desiredNow, actual: qs.provisionedRequested, policy });
        actions.push(
          desiredNow > 0
            ? { api: 'PutProvisionedConcurrencyConfig', qualifier: q, provisionedConcurrentExecutions: desiredNow }
            : { api: 'DeleteProvisionedConcurrencyConfig', qualifier: q },
        );
      }
    }
  } else if (owned.length > 0) {
    // No Enforce policy declares provisioned concurrency for this function any more: its owned actions go.
    const policy = Object.values(merged).find((w) => w !== undefined)?.policy.id ?? '';
    for (const a of owned) {
      drift.push({ field: 'scheduledActions', desired: 'absent', actual: describeAction(a), policy });
      actions.push({ api: 'DeleteScheduledAction', resourceId: a.resourceId, scheduledActionName: a.name });
    }
  }

  // Asynchronous invocation and log retention are resources beside the function: their writes come last.
  drift.push(...production.laterDrift);
  refusals.push(...production.refusals);
  actions.push(...production.laterActions);
  return { drift, refusals, actions: provisionedBeforeShrinkingReserve(actions, fn) };
}

/**
 * Provisioned concurrency the function holds on qualifiers other than `qualifier` (as far as they were read: the
 * governed ones and `otherProvisioned`), sorted by qualifier; every read qualifier when `qualifier` is undefined.
 */
export function provisionedElsewhere(
  fn: ObservedFunction,
  qualifier: string | undefined,
): { qualifier: string; value: number }[] {
  const out = new Map<string, number>();
  for (const [name, value] of Object.entries(fn.otherProvisioned ?? {})) if (value > 0) out.set(name, value);
  for (const [name, state] of Object.entries(fn.qualifiers ?? {})) {
    if (name !== qualifier && state.exists && state.provisionedRequested > 0) out.set(name, state.provisionedRequested);
  }
  return [...out]
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    .map(([name, value]) => ({ qualifier: name, value }));
}

/** "blue: 5, 3: 2" — at most a few named, so a message stays short on a function with many versions. */
function describeElsewhere(others: readonly { qualifier: string; value: number }[]): string {
  const shown = others.slice(0, 5).map((o) => `${o.qualifier}: ${o.value}`);
  if (others.length > shown.length) shown.push(`and ${others.length - shown.length} more`);
  return shown.join(', ');
}

/**
 * What AWS checks on PutProvisionedConcurrencyConfig, for every value the schedule will ask for (its maximum):
 *  - with a reservation, the sum over ALL the function's qualifiers must fit in it;
 *  - without one, the function's provisioned concurrency comes out of the account's unreserved pool, which must keep
 *    its floor. GetAccountSettings' UnreservedConcurrentExecutions subtracts reservations only, so the pool is
 *    charged with what this function will hold on all its qualifiers; only a raise can be refused (keeping what AWS
 *    already accepted is always possible), and the charge stays on the region's running `unreservedLeft`, so several
 *    functions in one plan add up (provisioned on functions the plan never read is not known here).
 * Records the refusal and returns false when it does not fit.
 */
function provisionedFits(
  fn: ObservedFunction,
  qualifier: string,
  current: number,
  reserved: number | null,
  analysis: BlockAnalysis,
  ctx: RegionContext,
  refusals: Refusal[],
  policy: PolicyInput,
): boolean {
  const others = provisionedElsewhere(fn, qualifier);
  const othersTotal = others.reduce((sum, o) => sum + o.value, 0);
  const onOthers = othersTotal > 0 ? ` plus ${othersTotal} on other qualifiers (${describeElsewhere(others)})` : '';
  const max = analysis.maxValue;
  if (reserved !== null) {
    if (max + othersTotal <= reserved) return true;
    refuse(
      refusals,
      'provisionedConcurrency',
      'ProvisionedExceedsReserved',
      `provisioned concurrency up to ${max} on ${qualifier}${onOthers} exceeds reserved concurrency ${reserved}`,
      policy,
    );
    return false;
  }
  const raising = max > current;
  if (ctx.account === undefined || ctx.unreservedLeft === undefined) {
    if (!raising) return true;
    refuse(refusals, 'provisionedConcurrency', 'NotRead', `account settings of ${ctx.region} were not read`, policy);
    return false;
  }
  const drawn = othersTotal + Math.max(current, max);
  const left = ctx.unreservedLeft - drawn;
  if (raising && left < ctx.account.unreservedFloor) {
    // What it holds now still occupies the pool for the functions planned after it.
    ctx.unreservedLeft -= othersTotal + current;
    refuse(
      refusals,
      'provisionedConcurrency',
      'UnreservedFloor',
      `provisioned concurrency up to ${max} on ${qualifier}${onOthers} would leave ${left} unreserved in ${ctx.region}, below the minimum of ${ctx.account.unreservedFloor}`,
      policy,
    );
    return false;
  }
  ctx.unreservedLeft = left;
  return true;
}

/**
 * AWS refuses a reserved concurrency below the provisioned concurrency already configured on the function. When a
 * plan lowers both, the provisioned change must go first, or the reserved write fails and the function never
 * converges; otherwise the contract's order (configuration, code, concurrency, provisioned) stands.
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

function pick(d: DeclaredAction): { schedule: string; timezone: string; minCapacity: number; maxCapacity: number } {
  return { schedule: d.schedule, timezone: d.timezone, minCapacity: d.minCapacity, maxCapacity: d.maxCapacity };
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
  out.push(...diffProductionAudit(fn, policy));
  return out;
}
