/**
 * The engine's vocabulary: what it is given (policies with defaults applied, a snapshot of the fleet) and what it
 * returns (drift and ordered actions per function). Pure data: no AWS SDK, Kubernetes or HTTP types appear here,
 * so the AWS adapters and the controller translate at their edges.
 */
import type { Checks, IacManagedMode, Mode, Rollout, Selector, Settings } from '../api/schema.ts';
import type { IacOwner, IacOwnerTag } from './iac.ts';
import type { RolloutReport } from './rollout.ts';

export type Architecture = 'x86_64' | 'arm64';
export type PackageType = 'Zip' | 'Image';

/** A policy as the engine sees it: validated, defaults applied, identified by `namespace/name`. */
export interface PolicyInput {
  /** `namespace/name`; the tie-break order of Enforce policies and the owner of scheduled actions. */
  id: string;
  namespace: string;
  name: string;
  mode: Mode;
  priority: number;
  suspend: boolean;
  intervalSeconds: number;
  selector: Selector;
  settings: Settings;
  /** Report-only rules (spec.checks); absent or empty: none. */
  checks?: Checks;
  /** metadata.generation, when the policy came from the API server. */
  generation?: number | undefined;
  /** The approve-generation annotation: the generation it approves, or why it cannot be read. */
  approval?: { generation: number } | { invalid: string } | undefined;
  rollout?: Rollout | undefined;
  /** How functions owned by infrastructure as code are handled; absent means Audit. */
  iacManaged?: IacManagedMode | undefined;
}

/** Per-qualifier state, read only for qualifiers a matched Enforce/Audit policy governs. */
export interface QualifierState {
  qualifier: string;
  /** false when the alias/version does not exist. */
  exists: boolean;
  /** Requested provisioned concurrency on this qualifier; 0 when none is configured. */
  provisionedRequested: number;
  provisionedStatus?: 'IN_PROGRESS' | 'READY' | 'FAILED';
  /** StatusReason of a FAILED (or IN_PROGRESS) provisioned config, as AWS reports it. */
  provisionedStatusReason?: string;
  /**
   * The version this qualifier serves: an alias's FunctionVersion (`$LATEST` possible), a version's own number.
   * Undefined: not read.
   */
  servedVersion?: string;
  /** An alias's RoutingConfig.AdditionalVersionWeights (version -> share), only when it has any. */
  routingWeights?: Record<string, number>;
  /**
   * The served published version's configuration (versions are immutable: a fix on $LATEST reaches this qualifier
   * only with the next publish). Undefined when not read or when the qualifier serves $LATEST.
   */
  served?: ServedConfiguration;
}

export interface ServedConfiguration {
  memorySize: number;
  timeout: number;
  architecture: Architecture;
}

/** An Application Auto Scaling scheduled action on a function's scalable target (namespace `lambda`). */
export interface ScheduledActionState {
  name: string;
  /** `function:NAME:QUALIFIER` */
  resourceId: string;
  /** `cron(m h dom mon dow year)`, `at(...)` or `rate(...)` */
  schedule: string;
  timezone: string;
  minCapacity?: number;
  maxCapacity?: number;
}

export interface ScalableTargetState {
  /** `function:NAME:QUALIFIER` */
  resourceId: string;
  minCapacity: number;
  maxCapacity: number;
  /** SuspendedState flags that are set (absent: nothing suspended). */
  suspended?: { scheduledScaling?: true; dynamicScalingIn?: true; dynamicScalingOut?: true };
  /**
   * Names of scaling policies (target tracking / step) on the target that the controller did not create; read only
   * where a qualifier is governed. Undefined: not read.
   */
  foreignScalingPolicies?: string[];
}

export interface ObservedFunction {
  region: string;
  name: string;
  arn: string;
  memorySize: number;
  timeout: number;
  architecture: Architecture;
  packageType: PackageType;
  runtime?: string | undefined;
  /** Code SHA, to notice that someone deployed between read and write. */
  codeSha256?: string | undefined;
  tags: Record<string, string>;
  /**
   * Reserved concurrency: a number, `null` when none is set, `undefined` when it was not read (not governed).
   */
  reservedConcurrency?: number | null | undefined;
  /** Governed qualifiers only; absent when no provisioned concurrency is governed. */
  qualifiers?: Record<string, QualifierState> | undefined;
  /**
   * Requested provisioned concurrency on the function's OTHER qualifiers (those not in `qualifiers`), by qualifier;
   * only qualifiers that have a config appear. Read with the governed ones (one ListProvisionedConcurrencyConfigs
   * per function). AWS caps the sum over ALL of a function's qualifiers by its reserved concurrency, and without a
   * reservation draws it from the account's unreserved pool, so feasibility adds these in.
   * Absent: not read (no provisioned concurrency governed), counted as none.
   */
  otherProvisioned?: Record<string, number> | undefined;
  /** Zipped package size in bytes (ListFunctions CodeSize); 0 for Image functions. */
  codeSize?: number;
  /**
   * Layers as ListFunctions lists them (ARN with version, CodeSize); `compatibleArchitectures` only once read
   * (GetLayerVersionByArn, where layersSupportArchitecture is checked): undefined = not read.
   */
  layers?: ObservedLayer[];
  /**
   * Names (never values) of environment variables whose name or value looks like a credential, as the adapter's
   * detector found them while reading; the values themselves are never kept.
   */
  secretLikeVariables?: SecretFinding[];
  /** Environment.Error.ErrorCode: the variables could not be decrypted for the reader (e.g. a KMS key it may not use). */
  environmentError?: string;
  /** DeadLetterConfig.TargetArn, when set. */
  deadLetterTarget?: string;
  /** LoggingConfig as ListFunctions reports it (absent on old snapshots: treated as Text, default group). */
  logging?: ObservedLogging;
  /** TracingConfig.Mode. */
  tracing?: 'Active' | 'PassThrough';
  /**
   * The unqualified function's EventInvokeConfig: `null` when it has none, undefined when it was not read (only read
   * where asyncInvocation is governed or asyncFailureDestination is checked).
   */
  asyncConfig?: AsyncConfigState | null;
  /** The function's log group (read only where logRetentionDays is governed); undefined = not read. */
  logGroup?: LogGroupState;
  /**
   * Duration GB-seconds the function used per month (e.g. from CloudWatch/Cost Explorer), when known; only used
   * to estimate the saving of moving it to arm64. Absent: the saving is n/a.
   */
  monthlyGbSeconds?: number | undefined;
  /**
   * What AWS answered for this function that did not parse (a missing, null, mistyped or unknown value), one
   * message each. Such a function is never written to: its plan carries a NotRead refusal for every matching policy.
   */
  unreadable?: string[];
}

export interface ObservedLayer {
  arn: string;
  codeSize: number;
  compatibleArchitectures?: string[];
  /** Why GetLayerVersionByArn failed (an AWS error code, e.g. AccessDeniedException for another account's layer). */
  readError?: string;
}

export type SecretKind = 'name' | 'aws-access-key' | 'private-key' | 'token' | 'url-credentials' | 'high-entropy';

export interface SecretFinding {
  name: string;
  kind: SecretKind;
}

export type LogFormat = 'JSON' | 'Text';

export interface ObservedLogging {
  format: LogFormat;
  applicationLogLevel?: string;
  systemLogLevel?: string;
  /** The group the function logs to: LoggingConfig.LogGroup, else /aws/lambda/NAME. */
  logGroup: string;
}

export interface AsyncConfigState {
  /** As configured; AWS's defaults (2 retries, 21600 s) apply when absent. */
  maximumRetryAttempts?: number;
  maximumEventAgeSeconds?: number;
  onFailureDestination?: string;
}

export interface LogGroupState {
  name: string;
  exists: boolean;
  /** null: never expire. */
  retentionInDays: number | null;
}

/** AWS's asynchronous invocation defaults when a function has no EventInvokeConfig (or leaves a field out). */
export const ASYNC_DEFAULTS = { maximumRetryAttempts: 2, maximumEventAgeSeconds: 21600 } as const;

export interface RegionAccount {
  /** Account concurrency limit (GetAccountSettings AccountLimit.ConcurrentExecutions). */
  concurrentExecutions: number;
  /** AccountLimit.UnreservedConcurrentExecutions. */
  unreservedConcurrentExecutions: number;
  /** The minimum AWS keeps unreserved (100 by default; 10 or 50 on low-quota accounts). */
  unreservedFloor: number;
}

export interface RegionSnapshot {
  region: string;
  account?: RegionAccount | undefined;
  functions: ObservedFunction[];
  /** Scalable targets of the lambda namespace (only those the controller may own are needed). */
  scalableTargets: ScalableTargetState[];
  /** Scheduled actions of the lambda namespace whose names carry the ownership prefix. */
  scheduledActions: ScheduledActionState[];
  /**
   * Provisioned-concurrency scalable targets the region holds in all (Application Auto Scaling's quota counts
   * every one, not only those `scalableTargets` keeps). Undefined: not counted (then no new target is registered).
   */
  scalableTargetCount?: number;
}

export interface FleetSnapshot {
  /** When the snapshot was read; the planner evaluates windows at `now` it is given, not at this. */
  readAt: Date;
  regions: RegionSnapshot[];
}

/** What a function must be read for, beyond ListFunctions + tags (decided after selection). */
export interface ReadRequirements {
  region: string;
  name: string;
  reservedConcurrency: boolean;
  qualifiers: string[];
  /** ListFunctionEventInvokeConfigs (asyncInvocation governed, or asyncFailureDestination without a DLQ). */
  asyncConfig?: boolean;
  /**
   * GetLayerVersionByArn for each layer version (cached per ARN) where layersSupportArchitecture is checked or an
   * Enforce policy moves the function to an architecture it does not have.
   */
  layers?: boolean;
  /** The function's log group, where logRetentionDays is governed. */
  logGroup?: boolean;
}

export type FieldName =
  | 'memorySize'
  | 'timeout'
  | 'architecture'
  | 'reservedConcurrency'
  | 'provisionedConcurrency'
  | 'scheduledActions'
  | 'logging'
  | 'tracing'
  | 'asyncInvocation'
  | 'logRetentionDays';

export interface DesiredLogging {
  format: LogFormat;
  applicationLogLevel?: string;
  systemLogLevel?: string;
}

export type CheckName =
  | 'maxPackageSizeMB'
  | 'runtime'
  | 'noSecretsInEnvironment'
  | 'asyncFailureDestination'
  | 'layersSupportArchitecture';

/** A report-only check that does not hold: never an action. `actual` never carries a secret's value. */
export interface Violation {
  check: CheckName;
  actual: unknown;
  message: string;
  /** `namespace/name` of the policy whose check it is. */
  policy: string;
}

/**
 * One AWS write. `fields` are the drift fields it corrects, set by the diff that planned it (src/engine/diff/), so
 * what an applied or failed write means for status is decided where the write is decided. Not enumerable: plan
 * output shows the request only.
 */
export type Action = ActionRequest & { readonly fields?: readonly FieldName[] };

type ActionRequest =
  | {
      api: 'UpdateFunctionConfiguration';
      memorySize?: number;
      timeout?: number;
      logging?: DesiredLogging;
      tracing?: 'Active' | 'PassThrough';
    }
  | { api: 'UpdateFunctionCode'; architecture: Architecture }
  | { api: 'PutFunctionConcurrency'; reservedConcurrentExecutions: number }
  | { api: 'DeleteFunctionConcurrency' }
  | { api: 'PutProvisionedConcurrencyConfig'; qualifier: string; provisionedConcurrentExecutions: number }
  | { api: 'DeleteProvisionedConcurrencyConfig'; qualifier: string }
  | { api: 'RegisterScalableTarget'; resourceId: string; minCapacity: number; maxCapacity: number }
  | {
      api: 'PutScheduledAction';
      resourceId: string;
      scheduledActionName: string;
      schedule: string;
      timezone: string;
      minCapacity: number;
      maxCapacity: number;
    }
  | { api: 'DeleteScheduledAction'; resourceId: string; scheduledActionName: string }
  /** No EventInvokeConfig yet: Put creates it (Put replaces a whole config, so it is only used when none exists). */
  | { api: 'PutFunctionEventInvokeConfig'; maximumRetryAttempts?: number; maximumEventAgeSeconds?: number }
  /** A config exists: Update changes the governed fields and keeps its destinations. */
  | { api: 'UpdateFunctionEventInvokeConfig'; maximumRetryAttempts?: number; maximumEventAgeSeconds?: number }
  | { api: 'PutRetentionPolicy'; logGroupName: string; retentionInDays: number };

export type RefusalReason =
  | 'ImageArchitecture'
  /** The function's runtime does not run on the governed architecture. */
  | 'RuntimeArchitecture'
  /** A layer of the function does not list the governed architecture in its CompatibleArchitectures. */
  | 'LayerArchitecture'
  | 'ProvisionedExceedsReserved'
  | 'UnreservedFloor'
  | 'LatestQualifier'
  | 'QualifierNotFound'
  | 'WindowOverlap'
  | 'NotRead'
  /** A window's cron/time zone cannot be parsed, or cannot be expressed as an AWS cron (or name too long). */
  | 'InvalidSchedule'
  /** Functions sharing one log group are governed with different retentions. */
  | 'SharedLogGroup'
  /** The governed alias points at $LATEST: AWS refuses provisioned concurrency on it. */
  | 'AliasOnLatest'
  /** The governed alias routes traffic to a second version (weights): AWS refuses provisioned concurrency on it. */
  | 'WeightedAlias'
  /** The qualifier's provisioned concurrency config ended FAILED (AWS's StatusReason in the message). */
  | 'ProvisionedFailed'
  /** Scheduled scaling of the qualifier's scalable target is suspended: the controller does not override it. */
  | 'ScalingSuspended'
  /** The qualifier's scalable target has a scaling policy the controller did not create. */
  | 'ForeignScalingPolicy'
  /** Registering another scalable target would exceed Application Auto Scaling's per-region quota. */
  | 'ScalableTargetQuota';

export interface Refusal {
  field: FieldName;
  reason: RefusalReason;
  message: string;
  policy: string;
}

/**
 * One difference. Values: numbers/strings for settings; reserved concurrency shows `null` (none) as "Unreserved";
 * `scheduledActions` entries are one per action as `"<name> <schedule> <timezone> <capacity>"` or `"absent"`
 * (a missing scalable target: desired `"scalable target function:NAME:QUALIFIER"`, actual `"absent"`).
 */
export interface Drift {
  field: FieldName;
  desired: unknown;
  actual: unknown;
  /** `namespace/name` of the policy that wants `desired`. */
  policy: string;
}

export interface Overridden {
  field: FieldName;
  /** The losing policy. */
  policy: string;
  /** The policy whose value is enforced instead. */
  winner: string;
}

export interface FunctionPlan {
  region: string;
  name: string;
  /** Enforce and Audit policies that match the function (ids, sorted). */
  policies: string[];
  /** No drift, no Audit drift and no refusal (a field that could not be read is not compliant). */
  compliant: boolean;
  /** Drift against the merged Enforce settings (fixable or not). */
  drift: Drift[];
  /** Ordered: configuration, code (architecture), reserved concurrency, provisioned/scheduled. */
  actions: Action[];
  refusals: Refusal[];
  overridden: Overridden[];
  /** Per Audit policy: its own drift for this function (never actions). */
  auditDrift: Drift[];
  /** Per policy (Enforce or Audit): its checks that do not hold (never actions). The planner always sets it. */
  violations?: Violation[];
  /**
   * Governed qualifiers serving a published version whose settings differ from the policy's: `$LATEST` carries the
   * fix (or is being fixed), the qualifier gets it with the next publish. Reported, never written (the controller
   * never publishes). Absent: none.
   */
  qualifiers?: QualifierReport[];
  /**
   * The function's infrastructure-as-code owner, when Enforce policies hold back because of it (iacManaged:
   * Audit): their drift is in `auditDrift`, never in `actions`.
   */
  iac?: { owner: IacOwner; policies: string[] } | undefined;
}

export interface QualifierReport {
  qualifier: string;
  state: 'PendingPublish';
  /** The published version the qualifier serves. */
  version: string;
  /** Fields whose served value differs from the policy's (desired) value. */
  fields: { field: 'memorySize' | 'timeout' | 'architecture'; desired: unknown; served: unknown }[];
  /** `namespace/name` of the policy that governs the qualifier's provisioned concurrency. */
  policy: string;
}

export interface ProvisionedWindowView {
  desiredNow: number;
  window?: string;
  nextChange?: { at: Date; value: number };
}

/** How many matched functions are in each state: the one shape of every summary (plan, report, status, tables). */
export interface FunctionCounts {
  matched: number;
  compliant: number;
  drifted: number;
  overridden: number;
  infeasible: number;
}

export function zeroCounts(): FunctionCounts {
  return { matched: 0, compliant: 0, drifted: 0, overridden: 0, infeasible: 0 };
}

/**
 * One policy's view. matched = compliant + drifted + overridden + infeasible, each function counted once with
 * precedence infeasible (a refusal for this policy) > drifted (drift for this policy) > overridden > compliant.
 * `problems`: policy-level problems (selector, schedule) and refusals aggregated by reason with an example.
 */
export interface PolicyReport extends FunctionCounts {
  id: string;
  mode: Mode;
  /** Functions whose only problem for this policy is a violated check (counted after infeasible and drifted). */
  violating?: number;
  problems: string[];
  provisionedConcurrency?: ProvisionedWindowView | undefined;
  cost?: CostEstimate | undefined;
  /** The blast-radius guard's decision (set by gateRollout for Enforce policies that change or hold something). */
  rollout?: RolloutReport | undefined;
}

export interface CostEstimate {
  provisionedConcurrencyMonthlyUSD: number;
  /** undefined (n/a) when no GB-seconds are known or the policy does not move functions to arm64. */
  architectureMonthlySavingUSD?: number;
}

/**
 * summary: policies = non-suspended policies; matched = functions listed; compliant/drifted/overridden/infeasible
 * count functions that are compliant / have (Audit) drift / have an Overridden entry / have a refusal.
 */
export interface Plan {
  now: Date;
  functions: FunctionPlan[];
  policies: PolicyReport[];
  /** `violating`: functions with at least one violated check (always set by the planner). */
  summary: FunctionCounts & { policies: number; violating?: number };
}

export interface PlanOptions {
  /** Regions of policies without `selector.regions` (the controller's configured regions). */
  defaultRegions: string[];
  /** Seconds after each window edge during which Application Auto Scaling may not have acted yet. Default 120. */
  graceSeconds?: number;
  /** The runtime deprecation table for the runtime check; default the one shipped with the engine. */
  runtimes?: RuntimeTable;
  /** Tags that mark a function as owned by infrastructure as code, beyond CloudFormation's and SAM's. */
  iacOwnerTags?: readonly IacOwnerTag[] | undefined;
  /** Application Auto Scaling's scalable targets per region (AWS default 500, adjustable). */
  scalableTargetQuota?: number;
  /**
   * Policies (ids) that exist but may not write in this fleet: their grant here was refused or revoked. The
   * scheduled actions they own are left in place, never judged orphaned (a refused grant means no writes there).
   */
  refusedOwners?: ReadonlySet<string> | undefined;
}

/** Lambda runtimes with their deprecation dates (UTC days), keyed by identifier. */
export interface RuntimeTable {
  /** Where the dates come from (a page, or the file that replaced the shipped table). */
  source: string;
  runtimes: ReadonlyMap<string, RuntimeEntry>;
}

export interface RuntimeEntry {
  identifier: string;
  /** `YYYY-MM-DD`: end of standard support (security patches stop). */
  deprecation: string;
  /** `YYYY-MM-DD`: no new functions with this runtime from then on. */
  blockCreate?: string;
  /** `YYYY-MM-DD`: no updates of functions with this runtime from then on. */
  blockUpdate?: string;
  successor?: string;
  /** The architectures Lambda runs this runtime on; absent: both (every runtime since the arm64 launch). */
  architectures?: Architecture[];
}

/** Prefix of every scheduled action the controller creates; it never touches actions without it. */
export const SCHEDULED_ACTION_PREFIX = 'lambda-policy-controller';
