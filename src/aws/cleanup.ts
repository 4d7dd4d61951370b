/**
 * Removal of the scheduled actions one policy owns in a region, for the finalizer of a deleted policy. Function
 * settings are left as they are (the contract): only actions whose names carry this policy's ownership prefix go.
 */
import type { ObservedFunction } from '../engine/model.ts';
import { isActionOfPolicy, parseResourceId } from '../engine/schedule.ts';
import type { Aws } from './context.ts';
import { executeFunctionActions, type FunctionExecution } from './executor.ts';
import { listOwnedScheduledActions } from './inventory.ts';

export async function deletePolicyScheduledActions(
  aws: Aws,
  region: string,
  namespace: string,
  policyName: string,
): Promise<FunctionExecution[]> {
  const owned = (await listOwnedScheduledActions(aws, region)).filter((a) =>
    isActionOfPolicy(a.name, namespace, policyName),
  );
  const byFunction = new Map<string, typeof owned>();
  for (const action of owned) {
    const name = parseResourceId(action.resourceId)?.functionName;
    if (name === undefined) continue;
    byFunction.set(name, [...(byFunction.get(name) ?? []), action]);
  }
  const results: FunctionExecution[] = [];
  for (const [name, actions] of byFunction) {
    // Deleting a scheduled action needs only the function's name; the executor never reads the other fields for it.
    const fn: ObservedFunction = {
      region,
      name,
      arn: '',
      memorySize: 0,
      timeout: 0,
      architecture: 'x86_64',
      packageType: 'Zip',
      tags: {},
    };
    const outcomes = await executeFunctionActions(
      aws,
      region,
      fn,
      actions.map((a) => ({ api: 'DeleteScheduledAction', resourceId: a.resourceId, scheduledActionName: a.name })),
    );
    results.push({ region, name, ok: outcomes.every((o) => o.ok), outcomes });
  }
  return results;
}
