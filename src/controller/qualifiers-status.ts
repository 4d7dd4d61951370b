/**
 * PendingPublish on a function's status entry: the governed qualifiers whose served (immutable) version differs from
 * what the policy wants. The function's own state is unchanged: `$LATEST` is what the controller governs, and the
 * next publish — the deployer's, never the controller's — carries the fix to the qualifier.
 */
import type { FunctionStatus } from '../api/schema.ts';
import type { FunctionPlan } from '../engine/model.ts';

const MAX_QUALIFIERS = 4;

export function withPendingPublish(
  entry: FunctionStatus,
  fn: FunctionPlan,
  id: string,
  statusValue: (v: unknown) => unknown,
): FunctionStatus {
  const own = (fn.qualifiers ?? []).filter((q) => q.policy === id);
  if (own.length === 0) return entry;
  return {
    ...entry,
    qualifiers: own.slice(0, MAX_QUALIFIERS).map((q) => ({
      qualifier: q.qualifier,
      state: q.state,
      version: q.version,
      fields: q.fields.map((f) => ({ field: f.field, desired: statusValue(f.desired), actual: statusValue(f.served) })),
    })),
  };
}
