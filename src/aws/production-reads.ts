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
import { DescribeLogGroupsCommand, type DescribeLogGroupsCommandOutput } from '@aws-sdk/client-cloudwatch-logs';
import {
  GetLayerVersionByArnCommand,
  ListFunctionEventInvokeConfigsCommand,
  type ListFunctionEventInvokeConfigsCommandOutput,
  type ListFunctionsCommandOutput,
} from '@aws-sdk/client-lambda';
import { findSecretLikeVariables } from '../engine/checks/secrets.ts';
import type {
  AsyncConfigState,
  LogGroupState,
  ObservedFunction,
  ObservedLayer,
  ReadRequirements,
} from '../engine/model.ts';
import { describeValue } from './answer-values.ts';
import { mapConcurrent } from './concurrency.ts';
import type { Aws } from './context.ts';
import { type AwsError, AwsUnexpectedError, classifyAwsError } from './errors.ts';
import { accountOfArn, paginate } from './paginate.ts';

type ListedFunction = NonNullable<ListFunctionsCommandOutput['Functions']>[number];

export const DEFAULT_LOG_GROUP_PREFIX = '/aws/lambda/';
/** DescribeLogGroups' limit ceiling. */
export const LOG_GROUPS_PAGE_SIZE = 50;
/** ListFunctionEventInvokeConfigs' MaxItems ceiling. */
export const EVENT_INVOKE_PAGE_SIZE = 50;

const LOG_FORMATS = ['JSON', 'Text'];
const APPLICATION_LOG_LEVELS = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'FATAL'];
const SYSTEM_LOG_LEVELS = ['DEBUG', 'INFO', 'WARN'];
const TRACING_MODES = ['Active', 'PassThrough'];

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0;

function oneOf(value: unknown, allowed: readonly string[], field: string, problems: string[]): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string' && allowed.includes(value)) return value;
  problems.push(`${field} ${describeValue(value)} is not one of ${allowed.join(', ')}`);
  return undefined;
}

function optionalText(value: unknown, field: string, problems: string[]): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string') return value;
  problems.push(`${field} ${describeValue(value)} is not a string`);
  return undefined;
}

/**
 * The fields ListFunctions carries for the production checks, copied onto the observed function. Checked like the
 * rest of the answer: a value of the wrong shape lands in `problems` (the function is then unreadable and never
 * written) instead of being defaulted to Text logging or PassThrough tracing on no evidence. A field AWS leaves out
 * (functions created before the setting existed) takes AWS's documented default.
 */
export function addProductionFields(observed: ObservedFunction, f: ListedFunction, problems: string[]): void {
  const raw: Record<string, unknown> = { ...f };
  if (raw.CodeSize !== undefined) {
    if (isCount(raw.CodeSize)) observed.codeSize = raw.CodeSize;
    else problems.push(`CodeSize ${describeValue(raw.CodeSize)} is not a byte count`);
  }
  if (raw.Layers !== undefined && raw.Layers !== null) {
    if (!Array.isArray(raw.Layers)) problems.push(`Layers ${describeValue(raw.Layers)} is not a list`);
    else {
      const layers: ObservedLayer[] = [];
      for (const l of raw.Layers as unknown[]) {
        if (isRecord(l) && typeof l.Arn === 'string' && (l.CodeSize === undefined || isCount(l.CodeSize))) {
          layers.push({ arn: l.Arn, codeSize: l.CodeSize ?? 0 });
        } else problems.push(`a layer ${isRecord(l) ? `Arn ${describeValue(l.Arn)}` : describeValue(l)} did not parse`);
      }
      if (layers.length > 0) observed.layers = layers;
    }
  }
  const env: unknown = raw.Environment;
  if (env !== undefined && env !== null) {
    if (!isRecord(env)) problems.push(`Environment ${describeValue(env)} is not a mapping`);
    else {
      const vars: unknown = env.Variables;
      let variables: Record<string, string> | undefined;
      if (vars !== undefined && vars !== null) {
        if (!isRecord(vars)) problems.push(`Environment.Variables ${describeValue(vars)} is not a mapping`);
        else {
          variables = {};
          for (const [name, value] of Object.entries(vars)) {
            // Only the type is named: a value may be a credential.
            if (typeof value === 'string') variables[name] = value;
            else problems.push(`Environment variable ${describeValue(name)} is ${typeof value}, not a string`);
          }
        }
      }
      // Values are looked at once, here, and never stored: the snapshot only holds flagged names.
      const secrets = findSecretLikeVariables(variables);
      if (secrets.length > 0) observed.secretLikeVariables = secrets;
      const envError: unknown = env.Error;
      if (isRecord(envError)) {
        const code = optionalText(envError.ErrorCode, 'Environment.Error.ErrorCode', problems);
        if (code) observed.environmentError = code;
      } else if (envError !== undefined && envError !== null) {
        problems.push(`Environment.Error ${describeValue(envError)} is not a mapping`);
      }
    }
  }
  const dlq: unknown = raw.DeadLetterConfig;
  if (isRecord(dlq)) {
    const target = optionalText(dlq.TargetArn, 'DeadLetterConfig.TargetArn', problems);
    if (target) observed.deadLetterTarget = target;
  } else if (dlq !== undefined && dlq !== null)
    problems.push(`DeadLetterConfig ${describeValue(dlq)} is not a mapping`);

  const lc: unknown = raw.LoggingConfig;
  const logging: Record<string, unknown> = isRecord(lc) ? lc : {};
  if (lc !== undefined && lc !== null && !isRecord(lc))
    problems.push(`LoggingConfig ${describeValue(lc)} is not a mapping`);
  const format = oneOf(logging.LogFormat, LOG_FORMATS, 'LoggingConfig.LogFormat', problems);
  const appLevel = oneOf(
    logging.ApplicationLogLevel,
    APPLICATION_LOG_LEVELS,
    'LoggingConfig.ApplicationLogLevel',
    problems,
  );
  const sysLevel = oneOf(logging.SystemLogLevel, SYSTEM_LOG_LEVELS, 'LoggingConfig.SystemLogLevel', problems);
  const group = optionalText(logging.LogGroup, 'LoggingConfig.LogGroup', problems);
  observed.logging = {
    format: format === 'JSON' ? 'JSON' : 'Text',
    logGroup: group || `${DEFAULT_LOG_GROUP_PREFIX}${observed.name}`,
    ...(appLevel ? { applicationLogLevel: appLevel } : {}),
    ...(sysLevel ? { systemLogLevel: sysLevel } : {}),
  };
  const tc: unknown = raw.TracingConfig;
  if (tc !== undefined && tc !== null && !isRecord(tc))
    problems.push(`TracingConfig ${describeValue(tc)} is not a mapping`);
  const mode = oneOf(isRecord(tc) ? tc.Mode : undefined, TRACING_MODES, 'TracingConfig.Mode', problems);
  observed.tracing = mode === 'Active' ? 'Active' : 'PassThrough';
}

function unparsable(api: string, message: string): AwsUnexpectedError {
  return new AwsUnexpectedError(`${api}: ${message}`, undefined, { api, awsCode: 'UnparsableAnswer' });
}

/**
 * The EventInvokeConfig of the unqualified function ($LATEST), or null when it has none. A config that does not
 * parse fails the read (the field is then NotRead) rather than being taken for AWS's defaults.
 */
export async function readAsyncConfig(aws: Aws, region: string, name: string): Promise<AsyncConfigState | null> {
  const api = 'ListFunctionEventInvokeConfigs';
  let found: AsyncConfigState | null = null;
  await paginate<ListFunctionEventInvokeConfigsCommandOutput>(aws, {
    region,
    bucket: 'lambda',
    api,
    send: (c, marker) =>
      c.lambda.send(
        new ListFunctionEventInvokeConfigsCommand({
          FunctionName: name,
          MaxItems: EVENT_INVOKE_PAGE_SIZE,
          Marker: marker,
        }),
      ),
    next: (page) => page.NextMarker,
    done: () => found !== null,
    onPage: (page) => {
      const list: unknown = page.FunctionEventInvokeConfigs;
      if (list === undefined) return undefined;
      if (!Array.isArray(list))
        throw unparsable(api, `FunctionEventInvokeConfigs ${describeValue(list)} is not a list`);
      for (const cfg of list as unknown[]) {
        if (!isRecord(cfg) || typeof cfg.FunctionArn !== 'string') {
          throw unparsable(
            api,
            `a config's FunctionArn ${describeValue(isRecord(cfg) ? cfg.FunctionArn : cfg)} did not parse`,
          );
        }
        const arn = cfg.FunctionArn;
        // Unqualified configs are reported on $LATEST (older answers leave the qualifier out).
        if (!arn.endsWith(':$LATEST') && arn.split(':').length > 7) continue;
        const retries: unknown = cfg.MaximumRetryAttempts;
        const age: unknown = cfg.MaximumEventAgeInSeconds;
        const destinations: unknown = cfg.DestinationConfig;
        const onFailure: unknown =
          isRecord(destinations) && isRecord(destinations.OnFailure) ? destinations.OnFailure.Destination : undefined;
        if (
          (retries !== undefined && retries !== null && !(isCount(retries) && retries <= 2)) ||
          (age !== undefined && age !== null && !(isCount(age) && age >= 60 && age <= 21600)) ||
          (onFailure !== undefined && onFailure !== null && typeof onFailure !== 'string')
        ) {
          throw unparsable(
            api,
            `the config of ${name} did not parse (MaximumRetryAttempts ${describeValue(retries)}, MaximumEventAgeInSeconds ${describeValue(age)}, OnFailure ${describeValue(onFailure)})`,
          );
        }
        const state: AsyncConfigState = {};
        if (typeof retries === 'number') state.maximumRetryAttempts = retries;
        if (typeof age === 'number') state.maximumEventAgeSeconds = age;
        if (typeof onFailure === 'string' && onFailure !== '') state.onFailureDestination = onFailure;
        found = state;
        return accountOfArn(arn);
      }
      return undefined;
    },
  });
  return found;
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
      .then((out) => {
        const archs: unknown = out.CompatibleArchitectures;
        if (archs === undefined || archs === null) return [];
        if (!Array.isArray(archs) || archs.some((a) => typeof a !== 'string')) {
          throw unparsable(
            'GetLayerVersionByArn',
            `CompatibleArchitectures ${describeValue(archs)} is not a list of names`,
          );
        }
        return [...(archs as string[])];
      });
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
  const api = 'DescribeLogGroups';
  // Kept aside until the listing ends: groups from a listing that failed part way are not trusted either.
  const listed = new Map<string, LogGroupState>();
  await paginate<DescribeLogGroupsCommandOutput>(aws, {
    region,
    bucket: 'logs',
    api,
    send: (c, token) =>
      c.logs.send(
        new DescribeLogGroupsCommand({ logGroupNamePrefix: prefix, limit: LOG_GROUPS_PAGE_SIZE, nextToken: token }),
      ),
    next: (page) => page.nextToken,
    // Names come back in order: an exact lookup is done once it has passed the name.
    done: (page) => {
      const last = page.logGroups?.at(-1)?.logGroupName;
      return stopAt !== undefined && last !== undefined && last > stopAt;
    },
    onPage: (page) => {
      const list: unknown = page.logGroups;
      if (list === undefined) return undefined;
      // Without the list every group would look missing, and a retention check would report them all.
      if (!Array.isArray(list)) throw unparsable(api, `logGroups ${describeValue(list)} is not a list`);
      for (const g of list as unknown[]) {
        const name: unknown = isRecord(g) ? g.logGroupName : undefined;
        const retention: unknown = isRecord(g) ? g.retentionInDays : undefined;
        if (typeof name !== 'string' || (retention !== undefined && retention !== null && !isCount(retention))) {
          throw unparsable(
            api,
            `a log group did not parse (logGroupName ${describeValue(name)}, retentionInDays ${describeValue(retention)})`,
          );
        }
        listed.set(name, { name, exists: true, retentionInDays: typeof retention === 'number' ? retention : null });
      }
      return undefined;
    },
  });
  for (const [name, group] of listed) into.set(name, group);
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
