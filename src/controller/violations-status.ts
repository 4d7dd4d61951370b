/**
 * How a policy's violated checks appear on a function's status entry: the `{check, actual, message}` list, and the
 * state Violating for a function that is otherwise in line (a drifted, failed or infeasible one keeps its state and
 * carries the list too). A Remediated entry keeps its state for the check it was fixed in, so the remediated count
 * stays right; the next check shows it Violating.
 */
import { type FunctionStatus, MAX_STATUS_MESSAGE } from '../api/schema.ts';
import type { FunctionPlan } from '../engine/model.ts';
import { truncate } from '../shared/text.ts';

const MAX_VIOLATIONS = 16;

export function withViolations(
  entry: FunctionStatus,
  fn: FunctionPlan,
  id: string,
  statusValue: (v: unknown) => unknown,
): FunctionStatus {
  const own = (fn.violations ?? []).filter((v) => v.policy === id);
  if (own.length === 0) return entry;
  const out: FunctionStatus = {
    ...entry,
    violations: own.slice(0, MAX_VIOLATIONS).map((v) => ({
      check: v.check,
      actual: statusValue(v.actual),
      message: truncate(v.message, MAX_STATUS_MESSAGE),
    })),
  };
  if (entry.state === 'Compliant' || entry.state === 'Overridden') {
    out.state = 'Violating';
    out.message = truncate(own.map((v) => `${v.check}: ${v.message}`).join('; '), MAX_STATUS_MESSAGE);
  }
  return out;
}
