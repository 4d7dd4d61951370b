/** The pure policy engine's public API. */
export { analyzeBlock, type BlockAnalysis, windowView } from './block.ts';
export { policyCleanup, type RegionalAction } from './cleanup.ts';
export {
  arm64MonthlySavingUSD,
  CostAccumulator,
  MONTH_MS,
  PRICES_USD,
  provisionedMonthlyUSD,
  roundCents,
} from './cost.ts';
export {
  type CronFields,
  cronFields,
  cronFiringsBetween,
  cronLatestAtOrBefore,
  ZoneClock,
  zoneClock,
} from './cron.ts';
export { diffAudit, diffEnforced, type FunctionDiff, RegionContext } from './diff.ts';
export { ScheduleError } from './errors.ts';
export {
  compareIds,
  comparePrecedence,
  MERGED_FIELDS,
  type MergedField,
  type MergedSettings,
  type MergeResult,
  mergeEnforce,
  type Winner,
} from './merge.ts';
export * from './model.ts';
export { DEFAULT_GRACE_SECONDS, plan } from './plan.ts';
export { requiredReads } from './requirements.ts';
export {
  awsCronOf,
  type DeclaredAction,
  declaredActions,
  type Edge,
  isActionOfPolicy,
  isOwnedActionName,
  MAX_ACTION_NAME,
  parseResourceId,
  resourceIdOf,
  scheduledActionName,
  toAwsCron,
} from './schedule.ts';
export {
  compileSelector,
  expressionHolds,
  globMatches,
  matches,
  PolicyIndex,
  policyRegions,
  regionsOf,
  type SelectableFunction,
} from './select.ts';
export {
  type CompiledWindow,
  type CronSpec,
  compileWindows,
  desiredAt,
  firingsBetween,
  integrateValueSeconds,
  isOpenAt,
  isValidTimeZone,
  latestAtOrBefore,
  nextChange,
  OVERLAP_HORIZON_MS,
  parseCron,
  type Segment,
  type Timeline,
  timeline,
  type WindowState,
} from './windows.ts';
