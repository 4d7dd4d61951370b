/**
 * Removal of the scheduled actions one policy owns in a region, for the finalizer of a deleted policy. The engine
 * decides which actions go (policyCleanup: only names with this policy's ownership prefix); this shell reads them
 * and executes the deletes. Function settings are left as they are: deleting a policy stops enforcement, it does
 * not undo what was enforced.
 */
import { policyCleanup } from '../engine/cleanup.ts';
import type { Action, ObservedFunction } from '../engine/model.ts';
import { parseResourceId } from '../engine/schedule.ts';
import type { Aws } from './context.ts';
import { executeFunctionActions, type FunctionExecution } from './executor.ts';
import { listOwnedScheduledActions } from './inventory.ts';

export async function deletePolicyScheduledActions(
  aws: Aws,
  region: string,
  namespace: string,
  policyName: string,
): Promise<FunctionExecution[]> {
  const scheduledActions = await listOwnedScheduledActions(aws, region);
  const fleet = { readAt: new Date(), regions: [{ region, functions: [], scalableTargets: [], scheduledActions }] };
  const byFunction = new Map<string, Action[]>();
  for (const { action } of policyCleanup(fleet, namespace, policyName)) {
    if (action.api !== 'DeleteScheduledAction') continue;
    const name = parseResourceId(action.resourceId)?.functionName;
    if (name !== undefined) byFunction.set(name, [...(byFunction.get(name) ?? []), action]);
  }
  const results: FunctionExecution[] = [];
  for (const [name, actions] of byFunction) {
    const outcomes = await executeFunctionActions(aws, region, functionRef(region, name), actions);
    results.push({ region, name, ok: outcomes.every((o) => o.ok), outcomes });
  }
  return results;
}

/** Deleting a scheduled action needs only the function's name; the executor reads no other field for it. */
function functionRef(region: string, name: string): ObservedFunction {
  return { region, name, arn: '', memorySize: 0, timeout: 0, architecture: 'x86_64', packageType: 'Zip', tags: {} };
}
