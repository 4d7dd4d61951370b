/**
 * One policy's report across the regions it reaches: the engine reports per pass, and the controller passes over
 * one region at a time. Counts and costs add up; problems are united; the window view is the same everywhere.
 */
import type { Mode } from '../api/schema.ts';
import { roundCents } from '../engine/cost.ts';
import { type PolicyReport, zeroCounts } from '../engine/model.ts';

export function mergePolicyReports(id: string, mode: Mode, reports: readonly PolicyReport[]): PolicyReport {
  const merged: PolicyReport = {
    id,
    mode,
    ...zeroCounts(),
    problems: [],
  };
  const problems = new Set<string>();
  for (const r of reports) {
    merged.matched += r.matched;
    merged.compliant += r.compliant;
    merged.drifted += r.drifted;
    merged.overridden += r.overridden;
    merged.infeasible += r.infeasible;
    for (const p of r.problems) problems.add(p);
    if (r.provisionedConcurrency && !merged.provisionedConcurrency)
      merged.provisionedConcurrency = r.provisionedConcurrency;
    if (r.cost) {
      const cost = merged.cost ?? { provisionedConcurrencyMonthlyUSD: 0 };
      cost.provisionedConcurrencyMonthlyUSD = roundCents(
        cost.provisionedConcurrencyMonthlyUSD + r.cost.provisionedConcurrencyMonthlyUSD,
      );
      if (r.cost.architectureMonthlySavingUSD !== undefined) {
        cost.architectureMonthlySavingUSD = roundCents(
          (cost.architectureMonthlySavingUSD ?? 0) + r.cost.architectureMonthlySavingUSD,
        );
      }
      merged.cost = cost;
    }
  }
  merged.problems = [...problems];
  return merged;
}
