/**
 * What a policy deserves in Kubernetes Events. Pure: the recorder (src/kube/events.ts) writes them, turning repeats
 * into a series bump, not new objects.
 *
 * - Per check, at most one per reason: remediations (Normal/Remediated), failures (Warning/RemediationFailed) and
 *   refusals (Warning/Infeasible, only for Enforce policies, only when something was attempted or is refused).
 * - Per status transition (`transitionEvents`): a Warning when the policy enters a state a person must look at —
 *   Stalled=True with any reason (InvalidPolicy, RolloutPaused, RolloutFailed, OutOfScope, ...) or Ready=False with
 *   any reason (AwsUnavailable, ...) — named by the condition's own reason, so a new reason gets its Event without
 *   code here. Staying in the state emits nothing; leaving and entering again repeats the Event (a series).
 */
import type { FunctionState, LambdaPolicy, LambdaPolicyStatus } from '../api/schema.ts';
import type { FunctionPlan } from '../engine/model.ts';
import { MAX_EVENT_NOTE, type PolicyEventRecord } from '../kube/events.ts';
import { compareOrdinal } from '../shared/compare.ts';
import { objectKey } from '../shared/keys.ts';
import { redactSecrets } from '../shared/logger.ts';
import { truncate } from '../shared/text.ts';
import { type ConditionLike, findCondition, READY, STALLED } from './conditions.ts';
import { type ExecutedFunction, functionStatusFor } from './status.ts';

/** How many function names an event lists before "and N more". */
const NAMES_SHOWN = 10;

function listNames(names: readonly string[]): string {
  const shown = names.slice(0, NAMES_SHOWN).join(', ');
  return names.length > NAMES_SHOWN ? `${shown} and ${names.length - NAMES_SHOWN} more` : shown;
}

export function cycleEvents(
  policy: LambdaPolicy,
  functions: readonly FunctionPlan[],
  executions: readonly ExecutedFunction[] | undefined,
): PolicyEventRecord[] {
  const id = objectKey(policy);
  const mode = policy.spec.mode ?? 'Enforce';
  if (mode === 'Audit' || policy.spec.suspend) return [];
  const byFunction = new Map((executions ?? []).map((e) => [`${e.region}\u0000${e.name}`, e]));
  const groups = new Map<FunctionState, { name: string; detail: string }[]>();
  const sorted = [...functions].sort((a, b) => compareOrdinal(a.region, b.region) || compareOrdinal(a.name, b.name));
  for (const fn of sorted) {
    const st = functionStatusFor(id, mode, fn, byFunction.get(`${fn.region}\u0000${fn.name}`));
    const list = groups.get(st.state) ?? [];
    list.push({ name: `${fn.region}/${fn.name}`, detail: st.message ?? '' });
    groups.set(st.state, list);
  }
  const out: PolicyEventRecord[] = [];
  const remediated = groups.get('Remediated') ?? [];
  if (remediated.length > 0) {
    const fields = new Set(remediated.flatMap((r) => r.detail.replace(/^remediated /, '').split(', ')));
    out.push({
      type: 'Normal',
      reason: 'Remediated',
      action: 'Remediate',
      note: truncate(
        `remediated ${remediated.length} function${remediated.length === 1 ? '' : 's'} (${[...fields].join(', ')}): ${listNames(remediated.map((r) => r.name))}`,
        MAX_EVENT_NOTE,
      ),
    });
  }
  const failed = groups.get('Failed') ?? [];
  if (failed.length > 0) {
    const first = failed[0];
    out.push({
      type: 'Warning',
      reason: 'RemediationFailed',
      action: 'Remediate',
      note: truncate(
        `${failed.length} function${failed.length === 1 ? '' : 's'} failed: ${listNames(failed.map((f) => f.name))}; first error: ${first?.detail ?? ''}`,
        MAX_EVENT_NOTE,
      ),
    });
  }
  const infeasible = groups.get('Infeasible') ?? [];
  if (infeasible.length > 0) {
    out.push({
      type: 'Warning',
      reason: 'Infeasible',
      action: 'Plan',
      note: truncate(
        `${infeasible.length} function${infeasible.length === 1 ? '' : 's'} cannot be brought in line: ${listNames(infeasible.map((f) => `${f.name} (${f.detail})`))}`,
        MAX_EVENT_NOTE,
      ),
    });
  }
  return out;
}

/** Reasons whose Events every check already records (cycleEvents): a transition into them would say it twice. */
const PER_CHECK_REASONS: ReadonlySet<string> = new Set(['RemediationFailed', 'Infeasible']);

/** The action of transition Events: the controller's reconcile of the policy is what is held up. */
export const TRANSITION_ACTION = 'Reconcile';

interface WarningState {
  reason: string;
  message: string;
  generation: number | undefined;
}

/** The state a status is in that a person must look at: Stalled=True first, else Ready=False; else none. */
function warningState(status: unknown): WarningState | undefined {
  const conditions = (status as { conditions?: ConditionLike[] } | undefined)?.conditions;
  if (!Array.isArray(conditions)) return undefined;
  const stalled = findCondition(conditions, STALLED);
  const ready = findCondition(conditions, READY);
  const c = stalled?.status === 'True' ? stalled : ready?.status === 'False' ? ready : undefined;
  if (!c?.reason) return undefined;
  return { reason: c.reason, message: c.message ?? '', generation: c.observedGeneration };
}

/**
 * The Warning Events of a status change: one when `next` enters a warning state `previous` was not in (another
 * reason, or none), and one when a new generation is still in it with another message (a spec edit that did not
 * fix it says what is wrong now). Nothing while the state holds, so a policy stalled for days costs no writes.
 */
export function transitionEvents(previous: unknown, next: LambdaPolicyStatus): PolicyEventRecord[] {
  const now = warningState(next);
  if (!now || PER_CHECK_REASONS.has(now.reason)) return [];
  const before = warningState(previous);
  const entered = before?.reason !== now.reason;
  const edited = !entered && before?.generation !== now.generation && before?.message !== now.message;
  if (!entered && !edited) return [];
  const note = now.message === '' ? now.reason : now.message;
  return [
    {
      type: 'Warning',
      reason: now.reason,
      action: TRANSITION_ACTION,
      note: truncate(redactSecrets(note), MAX_EVENT_NOTE),
    },
  ];
}
