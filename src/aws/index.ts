/**
 * The AWS adapters: bulk fleet reads, the executor of engine actions, client-side rate limiting and typed errors.
 *
 *   const aws = createAws({ regions: ['eu-central-1'], endpoint: 'http://127.0.0.1:4566' });
 *   const fleet = await readFleet(aws, aws.regions, (region, fns) => engineRequirements(region, fns));
 *   const results = await executePlan(aws, plan, fleet, { concurrency: 32 });
 */
import { type Aws, type AwsConfig, createAwsContext } from './context.ts';

export type { Aws, AwsConfig } from './context.ts';
export * from './errors.ts';
export {
  type ActionOutcome,
  type ExecutePlanOptions,
  executeFunctionActions,
  executePlan,
  type FunctionExecution,
} from './executor.ts';
export { type FleetRead, readFleet, readRegion } from './inventory.ts';
export type { BucketName, CallEvent, Rates } from './ratelimit.ts';
export { callerIdentity } from './sts.ts';

/** The facade: per-region clients + token buckets + counters, configured once per process (or per test). */
export function createAws(config: AwsConfig = {}): Aws {
  return createAwsContext(config);
}
