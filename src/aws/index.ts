/**
 * The AWS adapters: bulk fleet reads, the executor of engine actions, client-side rate limiting and typed errors.
 *
 *   const aws = createAws({ regions: ['eu-central-1'], endpoint: 'http://127.0.0.1:4566' });
 *   const fleet = await readFleet(aws, aws.regions, (region, fns) => engineRequirements(region, fns));
 *   const results = await executePlan(aws, plan, fleet, { concurrency: 32 });
 */
import { type Aws, type AwsConfig, createAwsContext } from './context.ts';

export { CallCounter, type CallCounts, emptyCallCounts } from './calls.ts';
export {
  type ClientsConfig,
  CONTROLLER_VERSION,
  createRegionClients,
  defaultRegion,
  type RegionClients,
  resolveCredentials,
  type StaticCredentials,
  USER_AGENT_APP_ID,
} from './clients.ts';
export type { Aws, AwsConfig, FetchLike } from './context.ts';
export * from './errors.ts';
export {
  type ActionOutcome,
  type ActionStatus,
  type ExecuteOptions,
  type ExecutePlanOptions,
  executeFunctionActions,
  executePlan,
  type FunctionExecution,
  MAX_ZIP_UPLOAD_BYTES,
} from './executor.ts';
export {
  type FleetRead,
  LAMBDA_NAMESPACE,
  PROVISIONED_DIMENSION,
  type ReadError,
  type ReadOptions,
  type RegionRead,
  type RequirementsFor,
  readFleet,
  readRegion,
  scalableTargetResourceId,
  unreservedFloor,
} from './inventory.ts';
export {
  BUCKET_NAMES,
  type BucketName,
  type CallEvent,
  type CallOutcome,
  type CallSpec,
  DEFAULT_RATES,
  DEFAULT_RETRY_POLICY,
  type OnCall,
  RateLimiter,
  type Rates,
  type RetryPolicy,
  TokenBucket,
} from './ratelimit.ts';
export { callerIdentity } from './sts.ts';

/** The facade: per-region clients + token buckets + counters, configured once per process (or per test). */
export function createAws(config: AwsConfig = {}): Aws {
  return createAwsContext(config);
}
