/**
 * Everything about one policy's provisionedConcurrency block that does not depend on the function: its windows
 * parsed, its scheduled actions, its timeline from `now` (desired value, next change, overlap, last edge) and its
 * monthly value-seconds. Computed once per policy per plan, then reused for every matched function.
 */
import type { ProvisionedConcurrency } from '../api/schema.ts';
import { COST_SAMPLE_MS, MONTH_MS } from './cost.ts';
import type { PolicyInput, ProvisionedWindowView, RefusalReason } from './model.ts';
import { type DeclaredAction, declaredActions } from './schedule.ts';
import {
  type CompiledWindow,
  compileWindows,
  integrateValueSeconds,
  nextChange,
  ScheduleError,
  type Timeline,
  timeline,
} from './windows.ts';

export interface BlockAnalysis {
  policy: PolicyInput;
  block: ProvisionedConcurrency;
  /** Set when the block can be applied to no function at all (the reason is the policy's, not the function's). */
  refusal?: { reason: RefusalReason; message: string };
  windows: CompiledWindow[];
  declared: DeclaredAction[];
  timeline?: Timeline;
  desiredNow: number;
  windowNow?: string;
  nextChange?: { at: number; value: number };
  /** Within the grace after a window edge: Application Auto Scaling may not have acted yet. */
  inGrace: boolean;
  /** The highest value the schedule ever asks for (checked against reserved concurrency). */
  maxValue: number;
  /** ∫ value dt over the 30 days from now, in value-seconds. */
  monthlyValueSeconds: number;
}

export function analyzeBlock(
  policy: PolicyInput,
  block: ProvisionedConcurrency,
  now: number,
  graceMs: number,
): BlockAnalysis {
  const maxValue = Math.max(block.value, ...(block.windows ?? []).map((w) => w.value));
  const a: BlockAnalysis = {
    policy,
    block,
    windows: [],
    declared: [],
    desiredNow: block.value,
    inGrace: false,
    maxValue,
    monthlyValueSeconds: (block.value * MONTH_MS) / 1000,
  };
  try {
    a.windows = compileWindows(block.windows);
    a.declared = declaredActions(policy.namespace, policy.name, block, a.windows);
  } catch (cause) {
    if (!(cause instanceof ScheduleError)) throw cause;
    a.refusal = { reason: 'InvalidSchedule', message: cause.message };
    return a;
  }
  if (a.windows.length > 0) {
    const tl = timeline(block, a.windows, now);
    a.timeline = tl;
    const first = tl.segments[0];
    if (first) {
      a.desiredNow = first.value;
      if (first.open[0] !== undefined) a.windowNow = first.open[0];
    }
    const change = nextChange(tl);
    if (change) a.nextChange = change;
    a.inGrace = tl.lastEdge !== undefined && now - tl.lastEdge < graceMs;
    a.monthlyValueSeconds = integrateValueSeconds(tl, now, now + COST_SAMPLE_MS) * (MONTH_MS / COST_SAMPLE_MS);
    if (tl.overlap) {
      a.refusal = {
        reason: 'WindowOverlap',
        message: `windows ${tl.overlap.windows.join(' and ')} are both open at ${new Date(tl.overlap.at).toISOString()}`,
      };
    }
  }
  if (block.qualifier === '$LATEST') {
    a.refusal = { reason: 'LatestQualifier', message: 'provisioned concurrency cannot be applied to $LATEST' };
  }
  return a;
}

export function windowView(a: BlockAnalysis): ProvisionedWindowView {
  const view: ProvisionedWindowView = { desiredNow: a.desiredNow };
  if (a.windowNow !== undefined) view.window = a.windowNow;
  if (a.nextChange) view.nextChange = { at: new Date(a.nextChange.at), value: a.nextChange.value };
  return view;
}
