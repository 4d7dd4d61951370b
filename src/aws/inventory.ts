/**
 * The bulk read strategy (spec section 3, "Quotas"): per region
 *   ListFunctions (50 a page) + tagging GetResources (100 a page), joined by ARN -> every function with its tags;
 *   GetAccountSettings once; Application Auto Scaling DescribeScalableTargets + DescribeScheduledActions for the
 *   `lambda` namespace;
 * then, only for what the engine says it needs after selection (`requirementsFor`):
 *   GetFunction (100 req/s bucket) for functions whose reserved concurrency is governed,
 *   GetProvisionedConcurrencyConfig per governed qualifier, and GetFunction with Qualifier to tell
 *   "no provisioned config" from "no such alias/version".
 * Per-function reads run concurrently; the token buckets pace them.
 */

import {
  DescribeScalableTargetsCommand,
  DescribeScheduledActionsCommand,
} from '@aws-sdk/client-application-auto-scaling';
import {
  GetAccountSettingsCommand,
  GetFunctionCommand,
  GetProvisionedConcurrencyConfigCommand,
  ListFunctionsCommand,
  type ListFunctionsCommandOutput,
} from '@aws-sdk/client-lambda';
import { GetResourcesCommand } from '@aws-sdk/client-resource-groups-tagging-api';
import type {
  Architecture,
  FleetSnapshot,
  ObservedFunction,
  PackageType,
  QualifierState,
  ReadRequirements,
  RegionAccount,
  RegionSnapshot,
  ScalableTargetState,
  ScheduledActionState,
} from '../engine/model.ts';
import { isOwnedActionName } from '../engine/schedule.ts';
import { CallCounter, type CallCounts } from './calls.ts';
import { mapConcurrent } from './concurrency.ts';
import type { Aws } from './context.ts';
import { type AwsError, classifyAwsError } from './errors.ts';

export const LAMBDA_NAMESPACE = 'lambda';
export const PROVISIONED_DIMENSION = 'lambda:function:ProvisionedConcurrency';
export const LIST_FUNCTIONS_PAGE_SIZE = 50;
export const TAGGING_PAGE_SIZE = 100;
export const AUTOSCALING_PAGE_SIZE = 50;

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

function toArchitecture(value: readonly string[] | undefined): Architecture {
  return value?.[0] === 'arm64' ? 'arm64' : 'x86_64';
}

function toPackageType(value: string | undefined): PackageType {
  return value === 'Image' ? 'Image' : 'Zip';
}

type ListedFunction = NonNullable<ListFunctionsCommandOutput['Functions']>[number];

function toObserved(region: string, f: ListedFunction, tags: Record<string, string>): ObservedFunction | undefined {
  if (f.FunctionName === undefined || f.FunctionArn === undefined) return undefined;
  const observed: ObservedFunction = {
    region,
    name: f.FunctionName,
    arn: f.FunctionArn,
    memorySize: f.MemorySize ?? 128,
    timeout: f.Timeout ?? 3,
    architecture: toArchitecture(f.Architectures),
    packageType: toPackageType(f.PackageType),
    tags,
  };
  if (f.Runtime !== undefined) observed.runtime = f.Runtime;
  if (f.CodeSha256 !== undefined) observed.codeSha256 = f.CodeSha256;
  return observed;
}

export async function listAllFunctions(aws: Aws, region: string): Promise<ListedFunction[]> {
  const all: ListedFunction[] = [];
  let marker: string | undefined;
  do {
    const page: ListFunctionsCommandOutput = await aws.call({ region, bucket: 'lambda', api: 'ListFunctions' }, (c) =>
      c.lambda.send(new ListFunctionsCommand({ MaxItems: LIST_FUNCTIONS_PAGE_SIZE, Marker: marker })),
    );
    all.push(...(page.Functions ?? []));
    marker = page.NextMarker || undefined;
  } while (marker !== undefined);
  return all;
}

/** Tags of every (ever) tagged function in the region, keyed by unqualified ARN. */
export async function listAllFunctionTags(aws: Aws, region: string): Promise<Map<string, Record<string, string>>> {
  const byArn = new Map<string, Record<string, string>>();
  let token: string | undefined;
  do {
    const page = await aws.call({ region, bucket: 'tagging', api: 'GetResources' }, (c) =>
      c.tagging.send(
        new GetResourcesCommand({
          ResourceTypeFilters: ['lambda:function'],
          ResourcesPerPage: TAGGING_PAGE_SIZE,
          PaginationToken: token,
        }),
      ),
    );
    for (const mapping of page.ResourceTagMappingList ?? []) {
      if (mapping.ResourceARN === undefined) continue;
      const arn = unqualifiedArn(mapping.ResourceARN);
      const tags = byArn.get(arn) ?? {};
      for (const tag of mapping.Tags ?? []) {
        if (tag.Key !== undefined) tags[tag.Key] = tag.Value ?? '';
      }
      byArn.set(arn, tags);
    }
    token = page.PaginationToken || undefined;
  } while (token !== undefined);
  return byArn;
}

export async function readAccount(aws: Aws, region: string): Promise<RegionAccount> {
  const out = await aws.call({ region, bucket: 'lambda', api: 'GetAccountSettings' }, (c) =>
    c.lambda.send(new GetAccountSettingsCommand({})),
  );
  const concurrentExecutions = out.AccountLimit?.ConcurrentExecutions ?? 1000;
  return {
    concurrentExecutions,
    unreservedConcurrentExecutions: out.AccountLimit?.UnreservedConcurrentExecutions ?? concurrentExecutions,
    unreservedFloor: unreservedFloor(concurrentExecutions),
  };
}

export async function listScalableTargets(aws: Aws, region: string): Promise<ScalableTargetState[]> {
  const all: ScalableTargetState[] = [];
  let token: string | undefined;
  do {
    const page = await aws.call({ region, bucket: 'autoscaling', api: 'DescribeScalableTargets' }, (c) =>
      c.autoscaling.send(
        new DescribeScalableTargetsCommand({
          ServiceNamespace: LAMBDA_NAMESPACE,
          MaxResults: AUTOSCALING_PAGE_SIZE,
          NextToken: token,
        }),
      ),
    );
    for (const t of page.ScalableTargets ?? []) {
      if (t.ScalableDimension !== PROVISIONED_DIMENSION || t.ResourceId === undefined) continue;
      all.push({ resourceId: t.ResourceId, minCapacity: t.MinCapacity ?? 0, maxCapacity: t.MaxCapacity ?? 0 });
    }
    token = page.NextToken || undefined;
  } while (token !== undefined);
  return all;
}

/** Scheduled actions of the lambda namespace that carry our ownership prefix; others are never even returned. */
export async function listOwnedScheduledActions(aws: Aws, region: string): Promise<ScheduledActionState[]> {
  const owned: ScheduledActionState[] = [];
  let token: string | undefined;
  do {
    const page = await aws.call({ region, bucket: 'autoscaling', api: 'DescribeScheduledActions' }, (c) =>
      c.autoscaling.send(
        new DescribeScheduledActionsCommand({
          ServiceNamespace: LAMBDA_NAMESPACE,
          MaxResults: AUTOSCALING_PAGE_SIZE,
          NextToken: token,
        }),
      ),
    );
    for (const a of page.ScheduledActions ?? []) {
      const name = a.ScheduledActionName;
      if (name === undefined || !isOwnedActionName(name)) continue;
      if (a.ScalableDimension !== undefined && a.ScalableDimension !== PROVISIONED_DIMENSION) continue;
      const action: ScheduledActionState = {
        name,
        resourceId: a.ResourceId ?? '',
        schedule: a.Schedule ?? '',
        timezone: a.Timezone || 'UTC',
      };
      if (a.ScalableTargetAction?.MinCapacity !== undefined) action.minCapacity = a.ScalableTargetAction.MinCapacity;
      if (a.ScalableTargetAction?.MaxCapacity !== undefined) action.maxCapacity = a.ScalableTargetAction.MaxCapacity;
      owned.push(action);
    }
    token = page.NextToken || undefined;
  } while (token !== undefined);
  return owned;
}

/** Reserved concurrency via GetFunction (100 req/s bucket, not GetFunctionConcurrency's 15 req/s one). */
export async function readReservedConcurrency(aws: Aws, region: string, name: string): Promise<number | null> {
  const out = await aws.call({ region, bucket: 'lambda-getfunction', api: 'GetFunction' }, (c) =>
    c.lambda.send(new GetFunctionCommand({ FunctionName: name })),
  );
  return out.Concurrency?.ReservedConcurrentExecutions ?? null;
}

/**
 * One governed qualifier. Cheapest correct sequence:
 *  1. GetProvisionedConcurrencyConfig (15 req/s bucket; there is no cheaper way to read it).
 *     Found -> the qualifier exists (a config cannot outlive its alias/version). ResourceNotFoundException -> the
 *     function or qualifier does not exist.
 *  2. Only on ProvisionedConcurrencyConfigNotFoundException: GetFunction with Qualifier (100 req/s bucket, works
 *     for aliases and versions alike, unlike GetAlias / GetFunctionConfiguration which both spend the scarce
 *     15 req/s bucket) to tell "0 provisioned" from "no such alias/version".
 */
export async function readQualifier(
  aws: Aws,
  region: string,
  name: string,
  qualifier: string,
): Promise<QualifierState> {
  // $LATEST always exists and can never carry provisioned concurrency; the engine refuses it without a call.
  if (qualifier === '$LATEST') return { qualifier, exists: true, provisionedRequested: 0 };
  try {
    const out = await aws.call({ region, bucket: 'lambda', api: 'GetProvisionedConcurrencyConfig' }, (c) =>
      c.lambda.send(new GetProvisionedConcurrencyConfigCommand({ FunctionName: name, Qualifier: qualifier })),
    );
    const state: QualifierState = {
      qualifier,
      exists: true,
      provisionedRequested: out.RequestedProvisionedConcurrentExecutions ?? 0,
    };
    if (out.Status !== undefined) state.provisionedStatus = out.Status;
    return state;
  } catch (err) {
    const error = classifyAwsError(err);
    if (error.code !== 'NotFound') throw error;
    if (error.awsCode !== 'ProvisionedConcurrencyConfigNotFoundException') {
      return { qualifier, exists: false, provisionedRequested: 0 };
    }
  }
  try {
    await aws.call({ region, bucket: 'lambda-getfunction', api: 'GetFunction' }, (c) =>
      c.lambda.send(new GetFunctionCommand({ FunctionName: name, Qualifier: qualifier })),
    );
    return { qualifier, exists: true, provisionedRequested: 0 };
  } catch (err) {
    const error = classifyAwsError(err);
    if (error.code === 'NotFound') return { qualifier, exists: false, provisionedRequested: 0 };
    throw error;
  }
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
  const [listed, tagsByArn, account, targets, actions] = await Promise.all([
    listAllFunctions(scoped, region),
    listAllFunctionTags(scoped, region),
    readAccount(scoped, region),
    listScalableTargets(scoped, region),
    listOwnedScheduledActions(scoped, region),
  ]);

  const functions: ObservedFunction[] = [];
  for (const f of listed) {
    const arn = f.FunctionArn === undefined ? undefined : unqualifiedArn(f.FunctionArn);
    const observed = toObserved(region, f, { ...(arn === undefined ? {} : tagsByArn.get(arn)) });
    if (observed) functions.push(observed);
  }

  const byName = new Map(functions.map((f) => [f.name, f]));
  const requirements = requirementsFor(region, functions).filter(
    (r) => r.region === region && byName.has(r.name) && (r.reservedConcurrency || r.qualifiers.length > 0),
  );
  const readErrors: ReadError[] = [];
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
    const qualifiers = [...new Set(req.qualifiers)];
    if (qualifiers.length === 0) return;
    const states: Record<string, QualifierState> = {};
    for (const q of qualifiers) {
      try {
        states[q] = await readQualifier(scoped, region, req.name, q);
      } catch (err) {
        const error = classifyAwsError(err);
        readErrors.push({
          region,
          name: req.name,
          qualifier: q,
          api: error.api ?? 'GetProvisionedConcurrencyConfig',
          error,
        });
      }
    }
    fn.qualifiers = states;
  });

  // Scalable targets matter when we own a schedule on them or a policy governs their qualifier.
  const relevant = new Set(actions.map((a) => a.resourceId));
  for (const r of requirements) {
    for (const q of r.qualifiers) relevant.add(scalableTargetResourceId(r.name, q));
  }

  return {
    region,
    account,
    functions: functions.filter((f) => !vanished.has(f.name)),
    scalableTargets: targets.filter((t) => relevant.has(t.resourceId)),
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
