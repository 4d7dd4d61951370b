/**
 * The bulk read strategy, built around AWS's per-API quotas: per region
 *   ListFunctions (50 a page) + tagging GetResources (100 a page), joined by ARN -> every function with its tags;
 *   GetAccountSettings once; Application Auto Scaling DescribeScalableTargets + DescribeScheduledActions for the
 *   `lambda` namespace;
 * then, only for what the engine says it needs after selection (`requirementsFor`):
 *   GetFunction (100 req/s bucket) for functions whose reserved concurrency is governed,
 *   ListProvisionedConcurrencyConfigs once per function whose provisioned concurrency is governed (every
 *   qualifier's config: AWS caps their sum, not just the governed one's), and GetFunction with Qualifier only for a
 *   governed qualifier without a config, to tell "0 provisioned" from "no such alias/version";
 *   for a governed alias, ListAliases (its FunctionVersion and routing weights) and GetFunction with the served
 *   version as Qualifier (100 req/s bucket) for that version's immutable configuration; DescribeScalingPolicies once
 *   per region that governs a qualifier.
 * Per-function reads run concurrently; the token buckets pace them.
 */

import {
  DescribeScalableTargetsCommand,
  DescribeScalingPoliciesCommand,
  DescribeScheduledActionsCommand,
} from '@aws-sdk/client-application-auto-scaling';
import {
  GetAccountSettingsCommand,
  GetFunctionCommand,
  ListAliasesCommand,
  ListFunctionsCommand,
  type ListFunctionsCommandOutput,
  ListProvisionedConcurrencyConfigsCommand,
} from '@aws-sdk/client-lambda';
import { GetResourcesCommand } from '@aws-sdk/client-resource-groups-tagging-api';
import {
  type Architecture,
  type FleetSnapshot,
  type ObservedFunction,
  type PackageType,
  type QualifierState,
  type ReadRequirements,
  type RegionAccount,
  type RegionSnapshot,
  SCHEDULED_ACTION_PREFIX,
  type ScalableTargetState,
  type ScheduledActionState,
  type ServedConfiguration,
} from '../engine/model.ts';
import { isOwnedActionName } from '../engine/schedule.ts';
import { describeValue } from './answer-values.ts';
import { CallCounter, type CallCounts } from './calls.ts';
import { mapConcurrent } from './concurrency.ts';
import type { Aws } from './context.ts';
import { type AwsError, AwsUnexpectedError, classifyAwsError } from './errors.ts';
import { accountOfArn, paginate } from './paginate.ts';
import { addProductionFields, type LayerCache, readProductionState } from './production-reads.ts';

export const LAMBDA_NAMESPACE = 'lambda';
export const PROVISIONED_DIMENSION = 'lambda:function:ProvisionedConcurrency';
export const LIST_FUNCTIONS_PAGE_SIZE = 50;
export const TAGGING_PAGE_SIZE = 100;
export const AUTOSCALING_PAGE_SIZE = 50;
/** ListProvisionedConcurrencyConfigs' MaxItems ceiling. */
export const PROVISIONED_PAGE_SIZE = 50;

/** Decides, after selection, which functions need per-function reads. Called once per region. */
export type RequirementsFor = (region: string, functions: readonly ObservedFunction[]) => ReadRequirements[];

export interface ReadError {
  region: string;
  /** Function name, when the failure concerns one function. */
  name?: string;
  qualifier?: string;
  api: string;
  error: AwsError;
}

/** A region's snapshot plus what reading it cost and which per-function reads failed (fields left undefined). */
export interface RegionRead extends RegionSnapshot {
  calls: CallCounts;
  readErrors: ReadError[];
}

export interface FleetRead extends FleetSnapshot {
  regions: RegionRead[];
  calls: CallCounts;
}

export interface ReadOptions {
  /** Per-function reads in flight at once (the buckets decide the actual rate). Default 64. */
  concurrency?: number;
  /** Layer versions already read (they never change); default one cache per region's clients, kept across passes. */
  layerCache?: LayerCache;
}

/**
 * The unreserved concurrency AWS keeps back: 100 on normal accounts. Low-quota accounts report [10] or [50] in
 * the InvalidParameterValueException message; both equal the account limit, hence min(100, limit).
 */
export function unreservedFloor(accountConcurrentExecutions: number): number {
  return Math.max(0, Math.min(100, accountConcurrentExecutions));
}

/** `arn:aws:lambda:r:acct:function:name[:qualifier]` -> the unqualified function ARN, for joining. */
export function unqualifiedArn(arn: string): string {
  const parts = arn.split(':');
  return parts.length > 7 ? parts.slice(0, 7).join(':') : arn;
}

export function scalableTargetResourceId(functionName: string, qualifier: string): string {
  return `function:${functionName}:${qualifier}`;
}

/**
 * AWS's answers are checked, not trusted: a value that is missing, null, of the wrong type, out of AWS's own range
 * or an unknown enum lands in `problems` instead of being defaulted, and the engine never writes to a function with
 * problems (a defaulted memory size of 128 would have "fixed" a function to the policy's value on no evidence).
 */
function intIn(value: unknown, min: number, max: number, field: string, problems: string[]): number {
  if (typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max) return value;
  problems.push(`${field} ${describeValue(value)} is not an integer in ${min}..${max}`);
  return min;
}

function toArchitecture(value: unknown, problems: string[]): Architecture {
  // Functions created before Graviton carry no Architectures at all: x86_64, as AWS documents.
  if (value === undefined) return 'x86_64';
  if (Array.isArray(value) && value.length === 1 && (value[0] === 'x86_64' || value[0] === 'arm64')) return value[0];
  problems.push(
    `Architectures ${Array.isArray(value) ? JSON.stringify(value).slice(0, 60) : describeValue(value)} is not [x86_64] or [arm64]`,
  );
  return 'x86_64';
}

function toPackageType(value: unknown, problems: string[]): PackageType {
  if (value === undefined || value === 'Zip') return 'Zip';
  if (value === 'Image') return 'Image';
  problems.push(`PackageType ${describeValue(value)} is not Zip or Image`);
  return 'Zip';
}

type ListedFunction = NonNullable<ListFunctionsCommandOutput['Functions']>[number];

function toObserved(
  region: string,
  f: ListedFunction,
  tags: Record<string, string>,
  tagProblems: readonly string[] = [],
): ObservedFunction | undefined {
  if (typeof f.FunctionName !== 'string' || f.FunctionName === '' || typeof f.FunctionArn !== 'string')
    return undefined;
  const problems = [...tagProblems];
  const observed: ObservedFunction = {
    region,
    name: f.FunctionName,
    arn: f.FunctionArn,
    memorySize: intIn(f.MemorySize, 128, 10240, 'MemorySize', problems),
    timeout: intIn(f.Timeout, 1, 900, 'Timeout', problems),
    architecture: toArchitecture(f.Architectures, problems),
    packageType: toPackageType(f.PackageType, problems),
    tags,
  };
  if (typeof f.Runtime === 'string') observed.runtime = f.Runtime;
  if (typeof f.CodeSha256 === 'string') observed.codeSha256 = f.CodeSha256;
  addProductionFields(observed, f, problems);
  if (problems.length > 0) observed.unreadable = problems;
  return observed;
}

export async function listAllFunctions(aws: Aws, region: string): Promise<ListedFunction[]> {
  const all: ListedFunction[] = [];
  await paginate<ListFunctionsCommandOutput>(aws, {
    region,
    bucket: 'lambda',
    api: 'ListFunctions',
    send: (c, marker) =>
      c.lambda.send(new ListFunctionsCommand({ MaxItems: LIST_FUNCTIONS_PAGE_SIZE, Marker: marker })),
    next: (page) => page.NextMarker,
    onPage: (page) => {
      const raw: unknown = page.Functions;
      // No list where one belongs is not "no functions" (AWS always sends one, empty or not): a plan on it would
      // pass having checked nothing.
      if (!Array.isArray(raw)) {
        throw new AwsUnexpectedError(`ListFunctions: Functions ${describeValue(raw)} is not a list`, undefined, {
          api: 'ListFunctions',
          awsCode: 'UnparsableAnswer',
        });
      }
      const functions = page.Functions ?? [];
      for (const f of functions) all.push(f);
      return accountOfArn(functions[0]?.FunctionArn);
    },
  });
  return all;
}

/** Tags of every (ever) tagged function in the region, keyed by unqualified ARN; `problems` names bad entries. */
export async function listAllFunctionTags(
  aws: Aws,
  region: string,
  problems: Map<string, string[]> = new Map(),
): Promise<Map<string, Record<string, string>>> {
  const byArn = new Map<string, Record<string, string>>();
  await paginate(aws, {
    region,
    bucket: 'tagging',
    api: 'GetResources',
    send: (c, token) =>
      c.tagging.send(
        new GetResourcesCommand({
          ResourceTypeFilters: ['lambda:function'],
          ResourcesPerPage: TAGGING_PAGE_SIZE,
          PaginationToken: token,
        }),
      ),
    next: (page) => page.PaginationToken,
    onPage: (page) => {
      const raw: unknown = page.ResourceTagMappingList;
      // Without the list every function would look untagged, and policies selecting by absent tags would match.
      if (!Array.isArray(raw)) {
        throw new AwsUnexpectedError(
          `GetResources: ResourceTagMappingList ${describeValue(raw)} is not a list`,
          undefined,
          {
            api: 'GetResources',
            awsCode: 'UnparsableAnswer',
          },
        );
      }
      const mappings = page.ResourceTagMappingList ?? [];
      for (const mapping of mappings) {
        if (typeof mapping.ResourceARN !== 'string') continue;
        const arn = unqualifiedArn(mapping.ResourceARN);
        const tags = byArn.get(arn) ?? {};
        const list: unknown = mapping.Tags === undefined ? [] : mapping.Tags;
        // A tag that did not parse could make a selector match (NotIn, DoesNotExist) or miss: the function is
        // then reported, not selected on a guess.
        if (!Array.isArray(list)) problems.set(arn, [...(problems.get(arn) ?? []), `Tags ${describeValue(list)}`]);
        else {
          for (const tag of list as { Key?: unknown; Value?: unknown }[]) {
            if (typeof tag?.Key === 'string' && typeof tag.Value === 'string') tags[tag.Key] = tag.Value;
            else {
              const what = `tag ${describeValue(tag?.Key)}=${describeValue(tag?.Value)} is not a string pair`;
              problems.set(arn, [...(problems.get(arn) ?? []), what]);
            }
          }
        }
        byArn.set(arn, tags);
      }
      return accountOfArn(mappings[0]?.ResourceARN);
    },
  });
  return byArn;
}

export async function readAccount(aws: Aws, region: string): Promise<RegionAccount> {
  const out = await aws.call({ region, bucket: 'lambda', api: 'GetAccountSettings' }, (c) =>
    c.lambda.send(new GetAccountSettingsCommand({})),
  );
  const limit: unknown = out.AccountLimit?.ConcurrentExecutions;
  const unreserved: unknown = out.AccountLimit?.UnreservedConcurrentExecutions;
  const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0;
  // Unreserved may be reported below zero by an over-reserved (seeded) account; the engine then refuses increases.
  if (!isCount(limit) || typeof unreserved !== 'number' || !Number.isInteger(unreserved)) {
    throw new AwsUnexpectedError(
      `GetAccountSettings: AccountLimit ConcurrentExecutions ${describeValue(limit)} / UnreservedConcurrentExecutions ${describeValue(unreserved)} are not integers`,
      undefined,
      { api: 'GetAccountSettings', awsCode: 'UnparsableAnswer' },
    );
  }
  return {
    concurrentExecutions: limit,
    unreservedConcurrentExecutions: unreserved,
    unreservedFloor: unreservedFloor(limit),
  };
}

/** Problems found in Application Auto Scaling answers, by the function their resource id names. */
export type ProblemsByFunction = Map<string, string[]>;

function addProblem(problems: ProblemsByFunction, resourceId: unknown, problem: string): void {
  const name = typeof resourceId === 'string' ? resourceId.split(':')[1] : undefined;
  if (name === undefined || name === '') return;
  problems.set(name, [...(problems.get(name) ?? []), problem]);
}

const isCapacity = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0;

export async function listScalableTargets(
  aws: Aws,
  region: string,
  problems: ProblemsByFunction = new Map(),
): Promise<ScalableTargetState[]> {
  const all: ScalableTargetState[] = [];
  await paginate(aws, {
    region,
    bucket: 'autoscaling',
    api: 'DescribeScalableTargets',
    send: (c, token) =>
      c.autoscaling.send(
        new DescribeScalableTargetsCommand({
          ServiceNamespace: LAMBDA_NAMESPACE,
          MaxResults: AUTOSCALING_PAGE_SIZE,
          NextToken: token,
        }),
      ),
    next: (page) => page.NextToken,
    onPage: (page) => {
      for (const t of page.ScalableTargets ?? []) {
        if (t.ScalableDimension !== PROVISIONED_DIMENSION || typeof t.ResourceId !== 'string') continue;
        if (!isCapacity(t.MinCapacity) || !isCapacity(t.MaxCapacity)) {
          const range = `${describeValue(t.MinCapacity)}..${describeValue(t.MaxCapacity)}`;
          addProblem(problems, t.ResourceId, `scalable target ${t.ResourceId} capacity ${range} did not parse`);
          continue;
        }
        const target: ScalableTargetState = {
          resourceId: t.ResourceId,
          minCapacity: t.MinCapacity,
          maxCapacity: t.MaxCapacity,
        };
        const s = t.SuspendedState;
        const suspended: NonNullable<ScalableTargetState['suspended']> = {};
        if (s?.ScheduledScalingSuspended === true) suspended.scheduledScaling = true;
        if (s?.DynamicScalingInSuspended === true) suspended.dynamicScalingIn = true;
        if (s?.DynamicScalingOutSuspended === true) suspended.dynamicScalingOut = true;
        if (Object.keys(suspended).length > 0) target.suspended = suspended;
        all.push(target);
      }
    },
  });
  return all;
}

/** Scheduled actions of the lambda namespace that carry our ownership prefix; others are never even returned. */
export async function listOwnedScheduledActions(
  aws: Aws,
  region: string,
  problems: ProblemsByFunction = new Map(),
): Promise<ScheduledActionState[]> {
  const owned: ScheduledActionState[] = [];
  await paginate(aws, {
    region,
    bucket: 'autoscaling',
    api: 'DescribeScheduledActions',
    send: (c, token) =>
      c.autoscaling.send(
        new DescribeScheduledActionsCommand({
          ServiceNamespace: LAMBDA_NAMESPACE,
          MaxResults: AUTOSCALING_PAGE_SIZE,
          NextToken: token,
        }),
      ),
    next: (page) => page.NextToken,
    onPage: (page) => {
      for (const a of page.ScheduledActions ?? []) {
        const name: unknown = a.ScheduledActionName;
        if (typeof name !== 'string' || !isOwnedActionName(name)) continue;
        if (a.ScalableDimension !== undefined && a.ScalableDimension !== PROVISIONED_DIMENSION) continue;
        const target = a.ScalableTargetAction;
        const capacityOk = (v: unknown) => v === undefined || isCapacity(v);
        if (
          typeof a.ResourceId !== 'string' ||
          typeof a.Schedule !== 'string' ||
          (a.Timezone !== undefined && a.Timezone !== null && typeof a.Timezone !== 'string') ||
          !capacityOk(target?.MinCapacity) ||
          !capacityOk(target?.MaxCapacity)
        ) {
          addProblem(problems, a.ResourceId, `scheduled action ${name} did not parse`);
          continue;
        }
        const action: ScheduledActionState = {
          name,
          resourceId: a.ResourceId,
          schedule: a.Schedule,
          timezone: a.Timezone || 'UTC',
        };
        if (target?.MinCapacity !== undefined) action.minCapacity = target.MinCapacity;
        if (target?.MaxCapacity !== undefined) action.maxCapacity = target.MaxCapacity;
        owned.push(action);
      }
    },
  });
  return owned;
}

/**
 * Scaling policies of the lambda namespace's provisioned-concurrency targets, by resource id. The controller creates
 * none (it only schedules); a policy named with its prefix would be its own and is left out.
 */
export async function listScalingPolicies(aws: Aws, region: string): Promise<Map<string, string[]>> {
  const byTarget = new Map<string, string[]>();
  await paginate(aws, {
    region,
    bucket: 'autoscaling',
    api: 'DescribeScalingPolicies',
    send: (c, token) =>
      c.autoscaling.send(
        new DescribeScalingPoliciesCommand({
          ServiceNamespace: LAMBDA_NAMESPACE,
          MaxResults: AUTOSCALING_PAGE_SIZE,
          NextToken: token,
        }),
      ),
    next: (page) => page.NextToken,
    onPage: (page) => {
      for (const p of page.ScalingPolicies ?? []) {
        if (p.ScalableDimension !== undefined && p.ScalableDimension !== PROVISIONED_DIMENSION) continue;
        if (typeof p.ResourceId !== 'string') continue;
        // A policy whose name does not parse is still someone's policy on the target.
        const name = typeof p.PolicyName === 'string' ? p.PolicyName : '(unnamed)';
        if (name.startsWith(`${SCHEDULED_ACTION_PREFIX}.`)) continue;
        byTarget.set(p.ResourceId, [...(byTarget.get(p.ResourceId) ?? []), name]);
      }
    },
  });
  return byTarget;
}

/** Reserved concurrency via GetFunction (100 req/s bucket, not GetFunctionConcurrency's 15 req/s one). */
export async function readReservedConcurrency(aws: Aws, region: string, name: string): Promise<number | null> {
  const out = await aws.call({ region, bucket: 'lambda-getfunction', api: 'GetFunction' }, (c) =>
    c.lambda.send(new GetFunctionCommand({ FunctionName: name })),
  );
  const value: unknown = out.Concurrency?.ReservedConcurrentExecutions;
  if (value === undefined || value === null) return null;
  if (typeof value === 'number' && Number.isInteger(value) && value >= 0) return value;
  throw new AwsUnexpectedError(
    `GetFunction: ReservedConcurrentExecutions ${describeValue(value)} is not a count`,
    undefined,
    {
      api: 'GetFunction',
      awsCode: 'UnparsableAnswer',
    },
  );
}

/** The qualifier of a qualified function ARN (`...:function:name:live` -> `live`), undefined when unqualified. */
export function qualifierOfArn(arn: string): string | undefined {
  const parts = arn.split(':');
  return parts.length > 7 ? parts.slice(7).join(':') : undefined;
}

/** One provisioned concurrency config as ListProvisionedConcurrencyConfigs reports it. */
export interface ProvisionedConfig {
  requested: number;
  status?: 'IN_PROGRESS' | 'READY' | 'FAILED';
  statusReason?: string;
}

/**
 * Every provisioned concurrency config of a function, by qualifier: ListProvisionedConcurrencyConfigs (the 15 req/s
 * shared bucket, like the Get it replaces; at most 50 a page, paged with Marker). ResourceNotFoundException (the
 * function is gone) propagates to the caller.
 */
export async function listProvisionedConfigs(
  aws: Aws,
  region: string,
  name: string,
): Promise<Map<string, ProvisionedConfig>> {
  const configs = new Map<string, ProvisionedConfig>();
  await paginate(aws, {
    region,
    bucket: 'lambda',
    api: 'ListProvisionedConcurrencyConfigs',
    send: (c, marker) =>
      c.lambda.send(
        new ListProvisionedConcurrencyConfigsCommand({
          FunctionName: name,
          MaxItems: PROVISIONED_PAGE_SIZE,
          Marker: marker,
        }),
      ),
    next: (page) => page.NextMarker,
    onPage: (page) => {
      const list = page.ProvisionedConcurrencyConfigs ?? [];
      for (const c of list) {
        const qualifier = typeof c.FunctionArn === 'string' ? qualifierOfArn(c.FunctionArn) : undefined;
        const requested: unknown = c.RequestedProvisionedConcurrentExecutions;
        const status: unknown = c.Status;
        if (
          qualifier === undefined ||
          typeof requested !== 'number' ||
          !Number.isInteger(requested) ||
          requested < 0 ||
          (status !== undefined && status !== 'IN_PROGRESS' && status !== 'READY' && status !== 'FAILED')
        ) {
          // Every qualifier's config counts against the reservation: one that cannot be read makes the sum unknown.
          throw new AwsUnexpectedError(
            `ListProvisionedConcurrencyConfigs: a config did not parse (FunctionArn ${describeValue(c.FunctionArn)}, RequestedProvisionedConcurrentExecutions ${describeValue(requested)}, Status ${describeValue(status)})`,
            undefined,
            { api: 'ListProvisionedConcurrencyConfigs', awsCode: 'UnparsableAnswer' },
          );
        }
        const config: ProvisionedConfig = { requested };
        if (status !== undefined) config.status = status;
        if (typeof c.StatusReason === 'string' && c.StatusReason !== '') config.statusReason = c.StatusReason;
        configs.set(qualifier, config);
      }
      return accountOfArn(list[0]?.FunctionArn);
    },
  });
  return configs;
}

/** A published version's number; anything else a policy names as qualifier (but `$LATEST`) is an alias. */
const PUBLISHED_VERSION = /^[1-9][0-9]*$/;

/** ListAliases' page size (one page holds every alias of almost any function). */
export const ALIASES_PAGE_SIZE = 50;

export interface AliasState {
  functionVersion: string;
  /** RoutingConfig.AdditionalVersionWeights, only when it has entries. */
  routingWeights?: Record<string, number>;
}

/**
 * Every alias of a function with the version it serves and its routing weights: ListAliases (15 req/s bucket, the
 * same cost as the GetAlias it replaces, and one call for all of them). An alias that does not parse makes what the
 * qualifier serves unknown: the answer is refused as a whole.
 */
export async function listAliases(aws: Aws, region: string, name: string): Promise<Map<string, AliasState>> {
  const aliases = new Map<string, AliasState>();
  await paginate(aws, {
    region,
    bucket: 'lambda',
    api: 'ListAliases',
    send: (c, marker) =>
      c.lambda.send(new ListAliasesCommand({ FunctionName: name, MaxItems: ALIASES_PAGE_SIZE, Marker: marker })),
    next: (page) => page.NextMarker,
    onPage: (page) => {
      const list = page.Aliases ?? [];
      for (const a of list) {
        const weights: unknown = a.RoutingConfig?.AdditionalVersionWeights;
        const weightsOk =
          weights === undefined ||
          weights === null ||
          (typeof weights === 'object' && Object.values(weights).every((w) => typeof w === 'number'));
        if (typeof a.Name !== 'string' || typeof a.FunctionVersion !== 'string' || !weightsOk) {
          throw new AwsUnexpectedError(
            `ListAliases: an alias did not parse (Name ${describeValue(a.Name)}, FunctionVersion ${describeValue(a.FunctionVersion)})`,
            undefined,
            { api: 'ListAliases', awsCode: 'UnparsableAnswer' },
          );
        }
        const state: AliasState = { functionVersion: a.FunctionVersion };
        if (weights && Object.keys(weights).length > 0)
          state.routingWeights = { ...(weights as Record<string, number>) };
        aliases.set(a.Name, state);
      }
      return accountOfArn(list[0]?.AliasArn);
    },
  });
  return aliases;
}

/**
 * A published version's configuration: GetFunction with the version as Qualifier (100 req/s bucket, one call for
 * the one version needed, where ListVersionsByFunction would spend 15 req/s tokens on pages of 50 versions, oldest
 * first, the served one usually on the last page). undefined when the version does not exist.
 */
export async function readVersionConfiguration(
  aws: Aws,
  region: string,
  name: string,
  version: string,
): Promise<ServedConfiguration | undefined> {
  let out: Awaited<ReturnType<typeof sendGetFunction>>;
  try {
    out = await sendGetFunction(aws, region, name, version);
  } catch (err) {
    const error = classifyAwsError(err);
    if (error.code === 'NotFound') return undefined;
    throw error;
  }
  const cfg = out.Configuration;
  const problems: string[] = [];
  const served: ServedConfiguration = {
    memorySize: intIn(cfg?.MemorySize, 128, 10240, 'MemorySize', problems),
    timeout: intIn(cfg?.Timeout, 1, 900, 'Timeout', problems),
    architecture: toArchitecture(cfg?.Architectures, problems),
  };
  if (problems.length > 0) {
    throw new AwsUnexpectedError(`GetFunction ${name}:${version}: ${problems.join('; ')}`, undefined, {
      api: 'GetFunction',
      awsCode: 'UnparsableAnswer',
    });
  }
  return served;
}

function sendGetFunction(aws: Aws, region: string, name: string, qualifier: string) {
  return aws.call({ region, bucket: 'lambda-getfunction', api: 'GetFunction' }, (c) =>
    c.lambda.send(new GetFunctionCommand({ FunctionName: name, Qualifier: qualifier })),
  );
}

/** A function's provisioned concurrency: its governed qualifiers, and what its other qualifiers hold. */
export interface ProvisionedRead {
  qualifiers: Record<string, QualifierState>;
  /** Requested provisioned concurrency on qualifiers that are not governed (only those with a config). */
  otherProvisioned: Record<string, number>;
  /** Governed qualifiers whose existence or served version could not be read (left out of `qualifiers`). */
  errors: { qualifier: string; error: AwsError }[];
}

/**
 * Provisioned concurrency of one function and what its governed qualifiers serve. Cheapest correct sequence:
 *  1. ListProvisionedConcurrencyConfigs, once per function (a page holds 50 configs): every qualifier's requested
 *     value and Status, governed or not, since AWS caps the sum over all of them.
 *  2. ListAliases, once per function with a governed alias (concurrently with 1): each alias's FunctionVersion and
 *     routing weights — and whether it exists at all.
 *  3. GetFunction with Qualifier = the served published version (100 req/s bucket), once per distinct version: its
 *     memory, timeout and architecture, which no update of `$LATEST` changes. For a governed version number this
 *     call is also its existence check. An alias serving `$LATEST` needs none (it is refused).
 * `$LATEST` itself never carries provisioned concurrency and always exists: no call for it (the engine refuses it).
 */
export async function readProvisioned(
  aws: Aws,
  region: string,
  name: string,
  governed: readonly string[],
): Promise<ProvisionedRead> {
  const wanted = [...new Set(governed)];
  const needsAliases = wanted.some((q) => q !== '$LATEST' && !PUBLISHED_VERSION.test(q));
  const [configs, aliases] = await Promise.all([
    listProvisionedConfigs(aws, region, name),
    needsAliases ? listAliases(aws, region, name) : Promise.resolve(new Map<string, AliasState>()),
  ]);
  const out: ProvisionedRead = { qualifiers: {}, otherProvisioned: {}, errors: [] };
  for (const [qualifier, config] of [...configs].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))) {
    if (!wanted.includes(qualifier)) out.otherProvisioned[qualifier] = config.requested;
  }
  const versions = new Map<string, Promise<ServedConfiguration | undefined>>();
  const versionConfig = (version: string) => {
    let read = versions.get(version);
    if (!read) {
      read = readVersionConfiguration(aws, region, name, version);
      versions.set(version, read);
    }
    return read;
  };
  for (const qualifier of wanted) {
    const config = configs.get(qualifier);
    const state: QualifierState = {
      qualifier,
      exists: config !== undefined,
      provisionedRequested: config?.requested ?? 0,
    };
    if (config?.status !== undefined) state.provisionedStatus = config.status;
    if (config?.statusReason !== undefined) state.provisionedStatusReason = config.statusReason;
    if (qualifier === '$LATEST') {
      out.qualifiers[qualifier] = { ...state, exists: true };
      continue;
    }
    try {
      if (PUBLISHED_VERSION.test(qualifier)) {
        const served = await versionConfig(qualifier);
        if (served) {
          state.exists = true;
          state.servedVersion = qualifier;
          state.served = served;
        }
      } else {
        const alias = aliases.get(qualifier);
        if (alias) {
          state.exists = true;
          state.servedVersion = alias.functionVersion;
          if (alias.routingWeights) state.routingWeights = alias.routingWeights;
          if (PUBLISHED_VERSION.test(alias.functionVersion)) {
            const served = await versionConfig(alias.functionVersion);
            if (served) state.served = served;
          }
        }
      }
      out.qualifiers[qualifier] = state;
    } catch (err) {
      out.errors.push({ qualifier, error: classifyAwsError(err) });
    }
  }
  return out;
}

/** Reads one region: bulk lists, then only the per-function reads `requirementsFor` asks for. */
export async function readRegion(
  aws: Aws,
  region: string,
  requirementsFor: RequirementsFor,
  options: ReadOptions = {},
): Promise<RegionRead> {
  const counter = new CallCounter();
  const scoped = aws.scoped(counter.record);
  const tagProblems = new Map<string, string[]>();
  const scalingProblems: ProblemsByFunction = new Map();
  const readErrors: ReadError[] = [];
  const [listed, tagsByArn, account, targets, actions] = await Promise.all([
    listAllFunctions(scoped, region),
    listAllFunctionTags(scoped, region, tagProblems),
    // Account settings that do not parse leave the account unknown: the engine then refuses what needs it.
    readAccount(scoped, region).catch((err: unknown) => {
      const error = classifyAwsError(err, 'GetAccountSettings');
      if (error.awsCode !== 'UnparsableAnswer') throw error;
      readErrors.push({ region, api: 'GetAccountSettings', error });
      return undefined;
    }),
    listScalableTargets(scoped, region, scalingProblems),
    listOwnedScheduledActions(scoped, region, scalingProblems),
  ]);

  const functions: ObservedFunction[] = [];
  for (const f of listed) {
    const arn = typeof f.FunctionArn === 'string' ? unqualifiedArn(f.FunctionArn) : undefined;
    const observed = toObserved(
      region,
      f,
      { ...(arn === undefined ? {} : tagsByArn.get(arn)) },
      arn === undefined ? [] : tagProblems.get(arn),
    );
    if (!observed) continue;
    const scaling = scalingProblems.get(observed.name);
    if (scaling) observed.unreadable = [...(observed.unreadable ?? []), ...scaling];
    functions.push(observed);
  }

  const byName = new Map(functions.map((f) => [f.name, f]));
  const requirements = requirementsFor(region, functions).filter(
    (r) =>
      r.region === region &&
      byName.has(r.name) &&
      (r.reservedConcurrency || r.qualifiers.length > 0 || r.asyncConfig || r.layers || r.logGroup),
  );
  const vanished = new Set<string>();

  await mapConcurrent(requirements, options.concurrency ?? 64, async (req) => {
    const fn = byName.get(req.name)!;
    if (req.reservedConcurrency) {
      try {
        fn.reservedConcurrency = await readReservedConcurrency(scoped, region, req.name);
      } catch (err) {
        const error = classifyAwsError(err);
        // Deleted between ListFunctions and now: it is no longer part of the fleet.
        if (error.code === 'NotFound') {
          vanished.add(req.name);
          return;
        }
        readErrors.push({ region, name: req.name, api: 'GetFunction', error });
      }
    }
    if (req.qualifiers.length === 0) return;
    try {
      const read = await readProvisioned(scoped, region, req.name, req.qualifiers);
      fn.qualifiers = read.qualifiers;
      fn.otherProvisioned = read.otherProvisioned;
      for (const { qualifier, error } of read.errors) {
        readErrors.push({ region, name: req.name, qualifier, api: error.api ?? 'GetFunction', error });
      }
    } catch (err) {
      const error = classifyAwsError(err);
      // Deleted between ListFunctions and now: it is no longer part of the fleet.
      if (error.code === 'NotFound') {
        vanished.add(req.name);
        return;
      }
      // Nothing known about any qualifier: each governed one is reported, and the engine refuses them as NotRead.
      for (const qualifier of new Set(req.qualifiers)) {
        readErrors.push({
          region,
          name: req.name,
          qualifier,
          api: error.api ?? 'ListProvisionedConcurrencyConfigs',
          error,
        });
      }
    }
  });

  const production = await readProductionState(scoped, region, requirements, byName, functions.length, {
    concurrency: options.concurrency ?? 64,
    ...(options.layerCache ? { layerCache: options.layerCache } : {}),
  });
  for (const name of production.vanished) vanished.add(name);
  for (const e of production.errors) readErrors.push({ region, name: e.name, api: e.api, error: e.error });

  // Scalable targets matter when we own a schedule on them or a policy governs their qualifier.
  const relevant = new Set(actions.map((a) => a.resourceId));
  const governedTargets = new Set<string>();
  for (const r of requirements) {
    for (const q of r.qualifiers) governedTargets.add(scalableTargetResourceId(r.name, q));
  }
  for (const id of governedTargets) relevant.add(id);
  // Scaling policies matter only on a governed qualifier's target: one bulk read, and only where one exists.
  const policies = targets.some((t) => governedTargets.has(t.resourceId))
    ? await listScalingPolicies(scoped, region)
    : new Map<string, string[]>();
  const kept = targets
    .filter((t) => relevant.has(t.resourceId))
    .map((t) =>
      governedTargets.has(t.resourceId) ? { ...t, foreignScalingPolicies: policies.get(t.resourceId) ?? [] } : t,
    );

  return {
    region,
    ...(account === undefined ? {} : { account }),
    functions: functions.filter((f) => !vanished.has(f.name)),
    scalableTargets: kept,
    scalableTargetCount: targets.length,
    scheduledActions: actions,
    calls: counter.snapshot(),
    readErrors,
  };
}

/** Reads every region concurrently (each region has its own buckets). */
export async function readFleet(
  aws: Aws,
  regions: readonly string[],
  requirementsFor: RequirementsFor,
  options: ReadOptions = {},
): Promise<FleetRead> {
  const readAt = new Date();
  const counter = new CallCounter();
  const scoped = aws.scoped(counter.record);
  const reads = await Promise.all([...new Set(regions)].map((r) => readRegion(scoped, r, requirementsFor, options)));
  return { readAt, regions: reads, calls: counter.snapshot() };
}
