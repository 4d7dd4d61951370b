/**
 * Reads for the production settings and checks. Most come free with ListFunctions (CodeSize, Layers, Environment,
 * DeadLetterConfig, LoggingConfig, TracingConfig); the rest only where the engine asks (`ReadRequirements`):
 *   ListFunctionEventInvokeConfigs (15 req/s bucket) per function whose asynchronous invocation matters;
 *   GetLayerVersionByArn (15 req/s bucket) once per distinct layer version, remembered across passes (versions
 *   are immutable);
 *   DescribeLogGroups (CloudWatch Logs) in pages of 50: one listing of the /aws/lambda/ prefix when that is
 *   cheaper than one exact-prefix lookup per governed function, and one lookup per custom log group.
 * Environment values are inspected here, as they arrive, and dropped: only the names the detector flags survive.
 */
import { DescribeLogGroupsCommand } from '@aws-sdk/client-cloudwatch-logs';
import {
  GetLayerVersionByArnCommand,
  ListFunctionEventInvokeConfigsCommand,
  type ListFunctionsCommandOutput,
} from '@aws-sdk/client-lambda';
import { findSecretLikeVariables } from '../engine/checks/secrets.ts';
import type { AsyncConfigState, LogGroupState, ObservedFunction, ReadRequirements } from '../engine/model.ts';
import { mapConcurrent } from './concurrency.ts';
import type { Aws } from './context.ts';
import { type AwsError, classifyAwsError } from './errors.ts';

type ListedFunction = NonNullable<ListFunctionsCommandOutput['Functions']>[number];

export const DEFAULT_LOG_GROUP_PREFIX = '/aws/lambda/';
/** DescribeLogGroups' limit ceiling. */
export const LOG_GROUPS_PAGE_SIZE = 50;
/** ListFunctionEventInvokeConfigs' MaxItems ceiling. */
export const EVENT_INVOKE_PAGE_SIZE = 50;

/** The fields ListFunctions carries for the production checks, copied onto the observed function. */
export function addProductionFields(observed: ObservedFunction, f: ListedFunction): void {
  if (f.CodeSize !== undefined) observed.codeSize = f.CodeSize;
  if (f.Layers && f.Layers.length > 0) {
    observed.layers = f.Layers.filter((l) => l.Arn !== undefined).map((l) => ({
      arn: l.Arn ?? '',
      codeSize: l.CodeSize ?? 0,
    }));
  }
  // Values are looked at once, here, and never stored: the snapshot only holds flagged names.
  const secrets = findSecretLikeVariables(f.Environment?.Variables);
  if (secrets.length > 0) observed.secretLikeVariables = secrets;
  if (f.Environment?.Error?.ErrorCode) observed.environmentError = f.Environment.Error.ErrorCode;
  if (f.DeadLetterConfig?.TargetArn) observed.deadLetterTarget = f.DeadLetterConfig.TargetArn;
  const lc = f.LoggingConfig;
  observed.logging = {
    format: lc?.LogFormat === 'JSON' ? 'JSON' : 'Text',
    logGroup: lc?.LogGroup || `${DEFAULT_LOG_GROUP_PREFIX}${observed.name}`,
    ...(lc?.ApplicationLogLevel ? { applicationLogLevel: lc.ApplicationLogLevel } : {}),
    ...(lc?.SystemLogLevel ? { systemLogLevel: lc.SystemLogLevel } : {}),
  };
  observed.tracing = f.TracingConfig?.Mode === 'Active' ? 'Active' : 'PassThrough';
}

/** The EventInvokeConfig of the unqualified function ($LATEST), or null when it has none. */
export async function readAsyncConfig(aws: Aws, region: string, name: string): Promise<AsyncConfigState | null> {
  let marker: string | undefined;
  do {
    const page = await aws.call({ region, bucket: 'lambda', api: 'ListFunctionEventInvokeConfigs' }, (c) =>
      c.lambda.send(
        new ListFunctionEventInvokeConfigsCommand({
          FunctionName: name,
          MaxItems: EVENT_INVOKE_PAGE_SIZE,
          Marker: marker,
        }),
      ),
    );
    for (const cfg of page.FunctionEventInvokeConfigs ?? []) {
      const arn = cfg.FunctionArn ?? '';
      // Unqualified configs are reported on $LATEST (older answers leave the qualifier out).
      if (!arn.endsWith(':$LATEST') && arn.split(':').length > 7) continue;
      const state: AsyncConfigState = {};
      if (cfg.MaximumRetryAttempts !== undefined) state.maximumRetryAttempts = cfg.MaximumRetryAttempts;
      if (cfg.MaximumEventAgeInSeconds !== undefined) state.maximumEventAgeSeconds = cfg.MaximumEventAgeInSeconds;
      const onFailure = cfg.DestinationConfig?.OnFailure?.Destination;
      if (onFailure) state.onFailureDestination = onFailure;
      return state;
    }
    marker = page.NextMarker || undefined;
  } while (marker !== undefined);
  return null;
}

/** Layer versions are immutable: what one says about its architectures holds for good. */
export type LayerCache = Map<string, Promise<string[]>>;

/** Bound on remembered layer versions per region client (a fleet uses far fewer). */
const MAX_CACHED_LAYERS = 10_000;
/**
 * One cache per region's SDK clients, so every pass of one controller (one `Aws`) shares it and a new `Aws` (another
 * endpoint, another test) starts empty.
 */
const layerCaches = new WeakMap<object, LayerCache>();

export function layerCacheFor(aws: Aws, region: string): LayerCache {
  const key = aws.clients(region);
  let cache = layerCaches.get(key);
  if (cache === undefined) {
    cache = new Map();
    layerCaches.set(key, cache);
  }
  if (cache.size > MAX_CACHED_LAYERS) cache.clear();
  return cache;
}

export function readLayerArchitectures(aws: Aws, region: string, arn: string, cache: LayerCache): Promise<string[]> {
  let pending = cache.get(arn);
  if (pending === undefined) {
    pending = aws
      .call({ region, bucket: 'lambda', api: 'GetLayerVersionByArn' }, (c) =>
        c.lambda.send(new GetLayerVersionByArnCommand({ Arn: arn })),
      )
      .then((out) => [...(out.CompatibleArchitectures ?? [])]);
    // A failed read is not remembered: the next pass asks again.
    pending.catch(() => cache.delete(arn));
    cache.set(arn, pending);
  }
  return pending;
}

async function describeLogGroups(
  aws: Aws,
  region: string,
  prefix: string,
  into: Map<string, LogGroupState>,
  stopAt?: string,
): Promise<void> {
  let token: string | undefined;
  do {
    const page = await aws.call({ region, bucket: 'logs', api: 'DescribeLogGroups' }, (c) =>
      c.logs.send(
        new DescribeLogGroupsCommand({ logGroupNamePrefix: prefix, limit: LOG_GROUPS_PAGE_SIZE, nextToken: token }),
      ),
    );
    for (const g of page.logGroups ?? []) {
      if (g.logGroupName === undefined) continue;
      into.set(g.logGroupName, { name: g.logGroupName, exists: true, retentionInDays: g.retentionInDays ?? null });
    }
    // Names come back in order: an exact lookup is done once it has passed the name.
    const last = page.logGroups?.at(-1)?.logGroupName;
    if (stopAt !== undefined && last !== undefined && last > stopAt) return;
    token = page.nextToken || undefined;
  } while (token !== undefined);
}

/**
 * The log groups of `wanted` functions. Default groups (/aws/lambda/NAME): one listing of the prefix costs about
 * one call per 50 functions in the region, a lookup one call per governed function; the cheaper is taken.
 */
export async function readLogGroups(
  aws: Aws,
  region: string,
  groups: readonly string[],
  functionsInRegion: number,
  concurrency: number,
): Promise<{ found: Map<string, LogGroupState>; errors: { name: string; error: AwsError }[] }> {
  const found = new Map<string, LogGroupState>();
  const errors: { name: string; error: AwsError }[] = [];
  const distinct = [...new Set(groups)].sort();
  const defaults = distinct.filter((g) => g.startsWith(DEFAULT_LOG_GROUP_PREFIX));
  const listAll = defaults.length > Math.ceil(functionsInRegion / LOG_GROUPS_PAGE_SIZE);
  const lookups = listAll ? distinct.filter((g) => !g.startsWith(DEFAULT_LOG_GROUP_PREFIX)) : distinct;
  if (listAll) {
    try {
      await describeLogGroups(aws, region, DEFAULT_LOG_GROUP_PREFIX, found);
    } catch (err) {
      const error = classifyAwsError(err);
      for (const name of defaults) errors.push({ name, error });
    }
  }
  await mapConcurrent(lookups, concurrency, async (name) => {
    try {
      await describeLogGroups(aws, region, name, found, name);
    } catch (err) {
      errors.push({ name, error: classifyAwsError(err) });
    }
  });
  const failed = new Set(errors.map((e) => e.name));
  for (const name of distinct) {
    if (!found.has(name) && !failed.has(name)) found.set(name, { name, exists: false, retentionInDays: null });
  }
  return { found, errors };
}

export interface ProductionReadError {
  name: string;
  api: string;
  error: AwsError;
}

/**
 * Every production read the requirements ask for, onto the observed functions. A function that vanished
 * (ResourceNotFound) is reported in `vanished`; other failures leave the field undefined (the engine then refuses
 * or reports the field as not read).
 */
export async function readProductionState(
  aws: Aws,
  region: string,
  requirements: readonly ReadRequirements[],
  byName: ReadonlyMap<string, ObservedFunction>,
  functionsInRegion: number,
  options: { concurrency: number; layerCache?: LayerCache },
): Promise<{ errors: ProductionReadError[]; vanished: Set<string> }> {
  const errors: ProductionReadError[] = [];
  const vanished = new Set<string>();
  const cache = options.layerCache ?? layerCacheFor(aws, region);
  await mapConcurrent(
    requirements.filter((r) => r.asyncConfig || r.layers),
    options.concurrency,
    async (req) => {
      const fn = byName.get(req.name);
      if (!fn) return;
      if (req.asyncConfig) {
        try {
          fn.asyncConfig = await readAsyncConfig(aws, region, req.name);
        } catch (err) {
          const error = classifyAwsError(err);
          if (error.code === 'NotFound') vanished.add(req.name);
          else errors.push({ name: req.name, api: 'ListFunctionEventInvokeConfigs', error });
        }
      }
      if (req.layers && fn.layers) {
        for (const layer of fn.layers) {
          try {
            layer.compatibleArchitectures = await readLayerArchitectures(aws, region, layer.arn, cache);
          } catch (err) {
            const error = classifyAwsError(err);
            layer.readError = error.awsCode ?? error.code;
            errors.push({ name: req.name, api: 'GetLayerVersionByArn', error });
          }
        }
      }
    },
  );
  const wantGroups = requirements.filter((r) => r.logGroup).map((r) => byName.get(r.name));
  const names = wantGroups.flatMap((fn) =>
    fn ? [fn.logging?.logGroup ?? `${DEFAULT_LOG_GROUP_PREFIX}${fn.name}`] : [],
  );
  if (names.length > 0) {
    const { found, errors: groupErrors } = await readLogGroups(
      aws,
      region,
      names,
      functionsInRegion,
      options.concurrency,
    );
    for (const fn of wantGroups) {
      if (!fn) continue;
      const group = found.get(fn.logging?.logGroup ?? `${DEFAULT_LOG_GROUP_PREFIX}${fn.name}`);
      if (group) fn.logGroup = group;
    }
    for (const e of groupErrors) errors.push({ name: e.name, api: 'DescribeLogGroups', error: e.error });
  }
  return { errors, vanished };
}
