/** The planner's one call into the checks: every matched policy's checks for one function. */
import type { MergedSettings } from '../merge.ts';
import type { ObservedFunction, PolicyInput, RuntimeTable, Violation } from '../model.ts';
import { evaluateChecks, hasChecks } from './index.ts';
import { shippedRuntimeTable } from './runtimes.ts';

export function policyViolations(
  fn: ObservedFunction,
  matched: readonly PolicyInput[],
  merged: MergedSettings,
  now: Date,
  runtimes: RuntimeTable | undefined,
): Violation[] {
  const out: Violation[] = [];
  for (const p of matched) {
    if (!hasChecks(p.checks)) continue;
    // Layers must also fit the architecture the function is being moved to (Enforce: the merged winner).
    const desired = p.mode === 'Enforce' ? merged.architecture?.value : p.settings.architecture;
    out.push(
      ...evaluateChecks(fn, p.checks, p.id, {
        now,
        runtimes: runtimes ?? shippedRuntimeTable(),
        ...(desired !== undefined ? { desiredArchitecture: desired } : {}),
      }),
    );
  }
  return out;
}
