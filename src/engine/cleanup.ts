/**
 * What deleting a policy must undo: the scheduled actions it owns (its finalizer). Function settings stay as they
 * are. Ownership is read from the action name, so actions of other policies or other tools are never touched.
 */

import { compareOrdinal } from '../shared/compare.ts';
import type { Action, FleetSnapshot } from './model.ts';
import { isActionOfPolicy } from './schedule.ts';

export interface RegionalAction {
  region: string;
  action: Extract<Action, { api: 'DeleteScheduledAction' }>;
}

export function policyCleanup(fleet: FleetSnapshot, namespace: string, name: string): RegionalAction[] {
  const out: RegionalAction[] = [];
  for (const r of fleet.regions) {
    for (const a of r.scheduledActions) {
      if (!isActionOfPolicy(a.name, namespace, name)) continue;
      out.push({
        region: r.region,
        action: { api: 'DeleteScheduledAction', resourceId: a.resourceId, scheduledActionName: a.name },
      });
    }
  }
  return out.sort(
    (a, b) =>
      compareOrdinal(a.region, b.region) ||
      compareOrdinal(a.action.resourceId, b.action.resourceId) ||
      compareOrdinal(a.action.scheduledActionName, b.action.scheduledActionName),
  );
}
