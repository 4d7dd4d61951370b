/**
 * What every field group's diff writes to, and the helpers they share. A field group (./configuration.ts,
 * ./architecture.ts, ./reserved.ts, ./provisioned.ts,
 * ./async-invocation.ts, ./log-retention.ts) compares one function with the merged settings it governs
 * and appends its drift, refusals and actions here, each action tagged with the drift fields it corrects. A new
 * setting is a new module with one function of this shape, called from diffEnforced in action order.
 */

import { compareOrdinal } from '../../shared/compare.ts';
import type { BlockAnalysis } from '../block.ts';
import type { MergedSettings } from '../merge.ts';
import type {
  Action,
  Drift,
  FieldName,
  ObservedFunction,
  PolicyInput,
  Refusal,
  RefusalReason,
  RegionAccount,
  RuntimeTable,
  ScalableTargetState,
  ScheduledActionState,
} from '../model.ts';
import { isOwnedActionName, parseResourceId } from '../schedule.ts';

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
  /**
   * Scalable targets Application Auto Scaling's quota still allows in this region, after the registrations planned
   * so far; undefined when the region's targets were not counted.
   */
  scalableTargetsLeft: number | undefined;
  /** The runtime table the plan was given (architecture moves check it); the shipped one when absent. */
  runtimes: RuntimeTable | undefined;

  constructor(
    region: string,
    account: RegionAccount | undefined,
    targets: readonly ScalableTargetState[],
    actions: readonly ScheduledActionState[],
    scalableTargetsLeft?: number,
  ) {
    this.region = region;
    this.account = account;
    this.scalableTargetsLeft = scalableTargetsLeft;
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

/** One function's diff as it is built: drift, refusals and actions in the order AWS gets them. */
export interface DiffOutput {
  drift: Drift[];
  refusals: Refusal[];
  actions: Action[];
}

/** What a field group sees: the function, what governs it, and what the region and earlier groups know. */
export interface FieldContext {
  fn: ObservedFunction;
  merged: MergedSettings;
  blocks: ReadonlyMap<string, BlockAnalysis>;
  region: RegionContext;
  /** Reserved concurrency once this plan's reserved write lands (provisioned must fit in it). */
  effectiveReserved: number | null | undefined;
}

export type FieldDiff = (ctx: FieldContext, out: DiffOutput) => void;

/** Tags `action` with the drift fields it corrects. */
export function tag<A extends Action>(action: A, ...fields: FieldName[]): A {
  // Not enumerable: plan output (`plan -o json`) shows actions as the AWS requests they are.
  Object.defineProperty(action, 'fields', { value: fields, enumerable: false });
  return action;
}

export function refuse(
  out: DiffOutput,
  field: FieldName,
  reason: RefusalReason,
  message: string,
  policy: PolicyInput,
): void {
  out.refusals.push({ field, reason, message, policy: policy.id });
}

export const showReserved = (v: number | null): number | 'Unreserved' => (v === null ? 'Unreserved' : v);

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
  return [...out].sort((a, b) => compareOrdinal(a[0], b[0])).map(([name, value]) => ({ qualifier: name, value }));
}

/** "blue: 5, 3: 2" — at most a few named, so a message stays short on a function with many versions. */
export function describeElsewhere(others: readonly { qualifier: string; value: number }[]): string {
  const shown = others.slice(0, 5).map((o) => `${o.qualifier}: ${o.value}`);
  if (others.length > shown.length) shown.push(`and ${others.length - shown.length} more`);
  return shown.join(', ');
}
