/**
 * Owned scheduled actions that nothing declares any more, read from what exists in AWS rather than from what is
 * matched. Two callers share the ownership rules: the finalizer of a deleted policy (everything that policy owns)
 * and every plan (actions on functions no Enforce policy matches any more: a narrowed selector, a retagged
 * function, a policy removed from a repository). Ownership is read from the action name, so actions of other
 * tools are never touched, and Function settings are never changed here.
 */

import { compareOrdinal } from '../shared/compare.ts';
import { tag } from './diff/common.ts';
import type { Action, Drift, FleetSnapshot, PolicyInput, ScheduledActionState } from './model.ts';
import { SCHEDULED_ACTION_PREFIX } from './model.ts';
import { isActionOfPolicy } from './schedule.ts';

export interface RegionalAction {
  region: string;
  action: Extract<Action, { api: 'DeleteScheduledAction' }>;
}

/** The policy (`namespace/name`) an owned action name belongs to; undefined for names we did not create. */
export function ownerOfAction(name: string): { namespace: string; name: string; id: string } | undefined {
  if (!name.startsWith(`${SCHEDULED_ACTION_PREFIX}.`)) return undefined;
  const parts = name.slice(SCHEDULED_ACTION_PREFIX.length + 1).split('.');
  // namespace . policy name (a DNS subdomain: may hold dots) . window . edge
  if (parts.length < 4) return undefined;
  const namespace = parts[0] as string;
  const policy = parts.slice(1, -2).join('.');
  if (!isActionOfPolicy(name, namespace, policy)) return undefined;
  return { namespace, name: policy, id: `${namespace}/${policy}` };
}

export function deleteOf(a: ScheduledActionState): Extract<Action, { api: 'DeleteScheduledAction' }> {
  return { api: 'DeleteScheduledAction', resourceId: a.resourceId, scheduledActionName: a.name };
}

/**
 * Which owned actions of a function that no active Enforce policy matches must go: those whose owner is no longer
 * in the policy set, or is an active Enforce policy (which, not matching the function, no longer declares them).
 * An owner that is suspended or in Audit mode keeps its actions: suspension means "no writes", Audit "never writes".
 * Only owners in `namespaces` are judged: a policy set covers the namespaces it holds policies in, and knows
 * nothing of others (a controller watching one namespace, a CI job over one team's repository), whose actions an
 * absent owner would otherwise make look orphaned.
 */
export function orphanedActions(
  owned: readonly ScheduledActionState[],
  policiesById: ReadonlyMap<string, PolicyInput>,
  namespaces: ReadonlySet<string>,
): { drift: Drift[]; actions: Action[] } {
  const drift: Drift[] = [];
  const actions: Action[] = [];
  const sorted = [...owned].sort(
    (a, b) => compareOrdinal(a.resourceId, b.resourceId) || compareOrdinal(a.name, b.name),
  );
  for (const a of sorted) {
    const owner = ownerOfAction(a.name);
    if (owner === undefined || !namespaces.has(owner.namespace)) continue;
    const policy = policiesById.get(owner.id);
    if (policy && (policy.suspend || policy.mode !== 'Enforce')) continue;
    drift.push({
      field: 'scheduledActions',
      desired: 'absent',
      actual: `${a.name} ${a.schedule} ${a.timezone || 'UTC'} (${policy ? 'no longer selects this function' : 'policy gone'})`,
      policy: owner.id,
    });
    actions.push(tag(deleteOf(a), 'scheduledActions'));
  }
  return { drift, actions };
}

/** Everything one (deleted) policy owns in the fleet: its finalizer's work. */
export function policyCleanup(fleet: FleetSnapshot, namespace: string, name: string): RegionalAction[] {
  const out: RegionalAction[] = [];
  for (const r of fleet.regions) {
    for (const a of r.scheduledActions) {
      if (!isActionOfPolicy(a.name, namespace, name)) continue;
      out.push({ region: r.region, action: deleteOf(a) });
    }
  }
  return out.sort(
    (a, b) =>
      compareOrdinal(a.region, b.region) ||
      compareOrdinal(a.action.resourceId, b.action.resourceId) ||
      compareOrdinal(a.action.scheduledActionName, b.action.scheduledActionName),
  );
}
