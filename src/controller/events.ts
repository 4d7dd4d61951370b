/**
 * What one check of one policy deserves in Kubernetes Events: at most one per reason. Remediations
 * (Normal/Remediated), failures (Warning/RemediationFailed) and refusals (Warning/Infeasible, only for Enforce
 * policies, only when something was attempted or is refused; repeats become a series bump, not new objects).
 * Pure: the recorder (src/kube/events.ts) writes them.
 */
import type { FunctionState, LambdaPolicy } from '../api/schema.ts';
import type { FunctionPlan } from '../engine/model.ts';
import { MAX_EVENT_NOTE, type PolicyEventRecord } from '../kube/events.ts';
import { compareOrdinal } from '../shared/compare.ts';
import { objectKey } from '../shared/keys.ts';
import { truncate } from '../shared/text.ts';
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
