/**
 * Applies the engine's actions. One function's actions run in order, one at a time, and every Lambda update waits
 * for `LastUpdateStatus: Successful` before the next call (updates are asynchronous and a second update while one
 * is InProgress fails with ResourceConflictException). Different functions run in parallel, paced by the buckets.
 *
 * Every action yields an outcome; after the first failure the rest of that function's actions are reported as
 * skipped, so a caller always knows exactly what was applied.
 */
import { createHash } from 'node:crypto';
import {
  DeleteScheduledActionCommand,
  PutScheduledActionCommand,
  RegisterScalableTargetCommand,
} from '@aws-sdk/client-application-auto-scaling';
import {
  DeleteFunctionConcurrencyCommand,
  DeleteProvisionedConcurrencyConfigCommand,
  type FunctionConfiguration,
  GetFunctionCommand,
  type GetFunctionCommandOutput,
  GetProvisionedConcurrencyConfigCommand,
  PutFunctionConcurrencyCommand,
  PutProvisionedConcurrencyConfigCommand,
  UpdateFunctionCodeCommand,
  UpdateFunctionConfigurationCommand,
} from '@aws-sdk/client-lambda';
import { describeForeignBinary } from '../engine/checks/architecture-binaries.ts';
import {
  type Action,
  type Architecture,
  type FleetSnapshot,
  type ObservedFunction,
  type Plan,
  SCHEDULED_ACTION_PREFIX,
} from '../engine/model.ts';
import { isOwnedActionName } from '../engine/schedule.ts';
import type { Logger } from '../shared/logger.ts';
import { mapConcurrent } from './concurrency.ts';
import type { Aws } from './context.ts';
import {
  type AwsError,
  AwsInfeasibleError,
  AwsNotFoundError,
  AwsRetryableError,
  AwsUpdateFailedError,
  AwsWaitTimeoutError,
  classifyAwsError,
} from './errors.ts';
import { LAMBDA_NAMESPACE, PROVISIONED_DIMENSION } from './inventory.ts';
import { loggingConfigFor, putRetentionPolicy, writeEventInvokeConfig } from './production-writes.ts';
import { logRemediations } from './remediation-log.ts';
import { inspectZipForArchitecture } from './zip-inspect.ts';

/** The first look after an update, before the regular poll interval. */
const FIRST_POLL_MS = 250;

/** Lambda's limit for a direct ZipFile upload (zipped). */
export const MAX_ZIP_UPLOAD_BYTES = 50 * 1024 * 1024;
/**
 * Lambda's limit on the UpdateFunctionCode request itself ("Request must be smaller than 69905067 bytes"): the zip
 * travels base64-encoded inside JSON, so a package just under 50 MB zipped can still be refused with 413.
 */
export const MAX_CODE_REQUEST_BYTES = 69_905_067;

/** The size of the UpdateFunctionCode body the SDK sends: the other members as JSON plus the base64 zip. */
export function encodedCodeRequestBytes(zipBytes: number, fields: Record<string, unknown>): number {
  const base64 = 4 * Math.ceil(zipBytes / 3);
  return Buffer.byteLength(JSON.stringify({ ...fields, ZipFile: '' })) + base64;
}

export interface ExecuteOptions {
  /** GetFunction polling interval while an update is InProgress/Pending. Default 1000 (as waitUntilFunctionUpdatedV2). */
  pollIntervalMs?: number;
  /** Longest wait for one update to finish. Default 5 minutes. */
  maxWaitMs?: number;
  /** Retries of one action after ResourceConflictException (after waiting for the function). Default 5. */
  conflictRetries?: number;
  /** Default MAX_ZIP_UPLOAD_BYTES; lowered in tests. */
  maxZipBytes?: number;
  /**
   * GetProvisionedConcurrencyConfig polling interval while a previous allocation is IN_PROGRESS (a Put then gets
   * 409). Default 5000: the call spends the scarce 15 req/s bucket, and allocations take minutes.
   */
  provisionedPollIntervalMs?: number;
  /** Default MAX_CODE_REQUEST_BYTES (the encoded request must stay below it); lowered in tests. */
  maxRequestBytes?: number;
}

export type ActionStatus = 'applied' | 'failed' | 'skipped';

export interface ActionOutcome {
  action: Action;
  /** true only when the action was applied (or was already in effect). */
  ok: boolean;
  status: ActionStatus;
  /** Set when status is 'failed'. */
  error?: AwsError;
  /** Short note, e.g. "already arm64" when nothing needed sending. */
  note?: string;
}

export interface FunctionExecution {
  region: string;
  name: string;
  ok: boolean;
  outcomes: ActionOutcome[];
}

interface Resolved {
  pollIntervalMs: number;
  maxWaitMs: number;
  conflictRetries: number;
  maxZipBytes: number;
  provisionedPollIntervalMs: number;
  maxRequestBytes: number;
}

function resolve(opts: ExecuteOptions): Resolved {
  return {
    pollIntervalMs: opts.pollIntervalMs ?? 1000,
    maxWaitMs: opts.maxWaitMs ?? 300_000,
    conflictRetries: opts.conflictRetries ?? 5,
    maxZipBytes: opts.maxZipBytes ?? MAX_ZIP_UPLOAD_BYTES,
    provisionedPollIntervalMs: opts.provisionedPollIntervalMs ?? 5000,
    maxRequestBytes: opts.maxRequestBytes ?? MAX_CODE_REQUEST_BYTES,
  };
}

function isBusy(cfg: FunctionConfiguration | undefined): boolean {
  return cfg?.State === 'Pending' || cfg?.LastUpdateStatus === 'InProgress';
}

/** Per-function execution state: which function, and whether we already know it is not busy. */
interface Target {
  aws: Aws;
  region: string;
  fn: ObservedFunction;
  opts: Resolved;
}

async function getFunction(t: Target): Promise<GetFunctionCommandOutput> {
  return t.aws.call({ region: t.region, bucket: 'lambda-getfunction', api: 'GetFunction' }, (c) =>
    c.lambda.send(new GetFunctionCommand({ FunctionName: t.fn.name })),
  );
}

/**
 * Polls GetFunction (100 req/s bucket) until the function is neither Pending nor InProgress. With `expectOurs`,
 * a Failed LastUpdateStatus is our update failing and becomes AwsUpdateFailedError; before an update, an old
 * Failed status from someone else's update does not stop us.
 */
async function waitUntilNotBusy(
  t: Target,
  expectOurs: boolean,
  sleepFirst = false,
): Promise<GetFunctionCommandOutput & { polls: number }> {
  const clock = t.aws.clock;
  const deadline = clock.now() + t.opts.maxWaitMs;
  // Most configuration updates finish within a fraction of a second: a short first look confirms them sooner
  // (one extra GetFunction in its 100 req/s bucket when they take longer), then the waiter's 1 s rhythm.
  if (sleepFirst) await clock.sleep(Math.min(FIRST_POLL_MS, t.opts.pollIntervalMs));
  for (let polls = 1; ; polls++) {
    const out = await getFunction(t);
    const cfg = out.Configuration;
    if (!isBusy(cfg)) {
      if (expectOurs && cfg?.LastUpdateStatus === 'Failed') {
        throw new AwsUpdateFailedError(
          `update of ${t.fn.name} failed: ${cfg.LastUpdateStatusReason ?? 'no reason given'}`,
          { reasonCode: cfg.LastUpdateStatusReasonCode, api: 'GetFunction' },
        );
      }
      return { ...out, polls };
    }
    if (clock.now() + t.opts.pollIntervalMs > deadline) {
      throw new AwsWaitTimeoutError(
        `${t.fn.name} still ${cfg?.State === 'Pending' ? 'Pending' : 'InProgress'} after ${t.opts.maxWaitMs} ms`,
        undefined,
        { api: 'GetFunction' },
      );
    }
    await clock.sleep(t.opts.pollIntervalMs);
  }
}

/**
 * Runs `step` and, on ResourceConflictException (or a stale RevisionId), waits until the function is not busy and
 * runs the whole step again — including its own pre-reads, so a code re-send never uses a stale package.
 */
async function withConflictRetry<T>(t: Target, step: () => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await step();
    } catch (err) {
      const error = classifyAwsError(err);
      if (error.code !== 'Conflict' || attempt >= t.opts.conflictRetries) throw error;
      const { polls } = await waitUntilNotBusy(t, false);
      // Not busy at the first look (the conflict was not about an update we can see): give AWS a poll interval.
      if (polls === 1) await t.aws.clock.sleep(t.opts.pollIntervalMs);
    }
  }
}

/**
 * Polls GetProvisionedConcurrencyConfig until the qualifier's allocation is no longer IN_PROGRESS (READY, FAILED or
 * gone), within maxWaitMs. No cheaper read shows it: GetFunction's 100 req/s bucket does not carry the status.
 * Returns whether an allocation was in progress at the first look.
 */
async function waitForAllocation(t: Target, qualifier: string): Promise<boolean> {
  const clock = t.aws.clock;
  const deadline = clock.now() + t.opts.maxWaitMs;
  for (let polls = 1; ; polls++) {
    let status: string | undefined;
    try {
      const out = await t.aws.call(
        { region: t.region, bucket: 'lambda', api: 'GetProvisionedConcurrencyConfig' },
        (c) =>
          c.lambda.send(new GetProvisionedConcurrencyConfigCommand({ FunctionName: t.fn.name, Qualifier: qualifier })),
      );
      status = out.Status;
    } catch (err) {
      if (classifyAwsError(err).code !== 'NotFound') throw err;
    }
    if (status !== 'IN_PROGRESS') return polls > 1;
    if (clock.now() + t.opts.provisionedPollIntervalMs > deadline) {
      throw new AwsWaitTimeoutError(
        `provisioned concurrency of ${t.fn.name}:${qualifier} still IN_PROGRESS after ${t.opts.maxWaitMs} ms`,
        undefined,
        { api: 'GetProvisionedConcurrencyConfig' },
      );
    }
    await clock.sleep(t.opts.provisionedPollIntervalMs);
  }
}

/**
 * A provisioned-concurrency write answered 409: AWS refuses it while the qualifier's previous allocation is
 * IN_PROGRESS ("A previous request is being processed"), so wait for that one to settle and send it again
 * (bounded by conflictRetries and maxWaitMs); a conflict with a function update falls back to the update wait.
 */
async function withProvisionedRetry<T>(t: Target, qualifier: string, step: () => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await step();
    } catch (err) {
      const error = classifyAwsError(err);
      if (error.code !== 'Conflict' || attempt >= t.opts.conflictRetries) throw error;
      const waited = await waitForAllocation(t, qualifier);
      if (!waited) {
        const { polls } = await waitUntilNotBusy(t, false);
        if (polls === 1) await t.aws.clock.sleep(t.opts.pollIntervalMs);
      }
    }
  }
}

/**
 * Application Auto Scaling answers ConcurrentUpdateException while another change to the same target is applied:
 * sent again after a growing pause (bounded by conflictRetries).
 */
async function withAutoscalingRetry<T>(t: Target, step: () => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await step();
    } catch (err) {
      const error = classifyAwsError(err);
      if (error.awsCode !== 'ConcurrentUpdateException' || attempt >= t.opts.conflictRetries) throw error;
      await t.aws.clock.sleep(t.opts.pollIntervalMs * 2 ** attempt);
    }
  }
}

async function afterUpdate(t: Target, cfg: FunctionConfiguration | undefined): Promise<void> {
  if (cfg?.LastUpdateStatus === 'Successful') return;
  if (cfg?.LastUpdateStatus === 'Failed') {
    throw new AwsUpdateFailedError(
      `update of ${t.fn.name} failed: ${cfg.LastUpdateStatusReason ?? 'no reason given'}`,
      {
        reasonCode: cfg.LastUpdateStatusReasonCode,
      },
    );
  }
  await waitUntilNotBusy(t, true, true);
}

async function updateConfiguration(
  t: Target,
  action: Extract<Action, { api: 'UpdateFunctionConfiguration' }>,
): Promise<string | undefined> {
  const { memorySize, timeout, logging, tracing } = action;
  if (memorySize === undefined && timeout === undefined && logging === undefined && tracing === undefined) {
    return 'nothing to change';
  }
  await withConflictRetry(t, async () => {
    await waitUntilNotBusy(t, false);
    const out = await t.aws.call({ region: t.region, bucket: 'lambda', api: 'UpdateFunctionConfiguration' }, (c) =>
      c.lambda.send(
        new UpdateFunctionConfigurationCommand({
          FunctionName: t.fn.name,
          MemorySize: memorySize,
          Timeout: timeout,
          ...(logging ? { LoggingConfig: loggingConfigFor(logging, t.fn.logging?.logGroup) } : {}),
          ...(tracing ? { TracingConfig: { Mode: tracing } } : {}),
        }),
      ),
    );
    await afterUpdate(t, out);
  });
  return undefined;
}

function sha256Base64(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('base64');
}

async function downloadCode(t: Target, location: string, expectedSha: string | undefined): Promise<Uint8Array> {
  let response: Response;
  try {
    response = await t.aws.fetch(location);
  } catch (err) {
    throw new AwsRetryableError(`downloading the code of ${t.fn.name} failed: ${String(err)}`, err, {
      api: 'GetFunction',
      awsCode: 'NetworkError',
    });
  }
  if (!response.ok) {
    // A presigned URL lives 10 minutes: an expired one (403) is fixed by reading GetFunction again.
    throw new AwsRetryableError(`downloading the code of ${t.fn.name} failed: HTTP ${response.status}`, undefined, {
      api: 'GetFunction',
      httpStatus: response.status,
    });
  }
  const length = Number(response.headers.get('content-length') ?? Number.NaN);
  if (Number.isFinite(length) && length > t.opts.maxZipBytes) {
    await response.body?.cancel();
    throw tooLarge(t, length);
  }
  const bytes = new Uint8Array(await response.arrayBuffer());
  if (bytes.byteLength > t.opts.maxZipBytes) throw tooLarge(t, bytes.byteLength);
  // Re-deploying a corrupt or different package would change what the function runs: refuse instead.
  if (expectedSha !== undefined && sha256Base64(bytes) !== expectedSha) {
    throw new AwsRetryableError(`downloaded code of ${t.fn.name} does not match CodeSha256 ${expectedSha}`, undefined, {
      api: 'GetFunction',
    });
  }
  return bytes;
}

function tooLarge(t: Target, bytes: number): AwsInfeasibleError {
  return new AwsInfeasibleError(
    `${t.fn.name}: code package is ${bytes} bytes, above the ${t.opts.maxZipBytes}-byte direct upload limit; ` +
      'the architecture can only be changed by redeploying from S3',
    undefined,
    { api: 'UpdateFunctionCode', reason: 'CodeTooLarge' },
  );
}

function checkRequestSize(t: Target, zipBytes: number, fields: Record<string, unknown>): void {
  const encoded = encodedCodeRequestBytes(zipBytes, fields);
  if (encoded < t.opts.maxRequestBytes) return;
  throw new AwsInfeasibleError(
    `${t.fn.name}: code package of ${zipBytes} bytes makes a ${encoded}-byte UpdateFunctionCode request (base64 in ` +
      `JSON); Lambda accepts requests smaller than ${t.opts.maxRequestBytes} bytes, so the architecture can only be ` +
      'changed by redeploying from S3',
    undefined,
    { api: 'UpdateFunctionCode', reason: 'RequestTooLarge' },
  );
}

/** Refused packages, per region client, by CodeSha256 and target: a package never changes under its sha. */
const refusedByClients = new WeakMap<object, Map<string, AwsInfeasibleError>>();
const MAX_REMEMBERED_REFUSALS = 10_000;

function refusedPackages(t: Target): Map<string, AwsInfeasibleError> {
  const key = t.aws.clients(t.region);
  let map = refusedByClients.get(key);
  if (map === undefined) {
    map = new Map();
    refusedByClients.set(key, map);
  }
  return map;
}

function verdictKey(sha: string, architecture: Architecture): string {
  return `${sha} ${architecture}`;
}

function rememberRefusal(t: Target, key: string, refusal: AwsInfeasibleError): void {
  const map = refusedPackages(t);
  if (map.size >= MAX_REMEMBERED_REFUSALS) map.clear();
  map.set(key, refusal);
}

/** Native binaries for the other CPU (or a package that cannot be looked into) refuse the move. */
async function inspectPackage(
  t: Target,
  zip: Uint8Array,
  architecture: Architecture,
): Promise<AwsInfeasibleError | undefined> {
  const verdict = await inspectZipForArchitecture(zip, architecture);
  if (verdict.kind === 'fits') return undefined;
  if (verdict.kind === 'foreign') {
    return new AwsInfeasibleError(`${t.fn.name}: ${describeForeignBinary(verdict.finding, architecture)}`, undefined, {
      api: 'UpdateFunctionCode',
      reason: 'NativeArchitecture',
    });
  }
  return new AwsInfeasibleError(
    `${t.fn.name}: the code package could not be inspected for native binaries (${verdict.reason}); not moved to ${architecture}`,
    undefined,
    { api: 'UpdateFunctionCode', reason: 'CodeUnreadable' },
  );
}

function imageArchitecture(t: Target): AwsInfeasibleError {
  return new AwsInfeasibleError(
    `${t.fn.name} is an Image function: Lambda has no multi-architecture images, so its architecture changes only ` +
      'with an image built for the other architecture',
    undefined,
    { api: 'UpdateFunctionCode', reason: 'ImageArchitecture' },
  );
}

/**
 * Architecture changes go through UpdateFunctionCode with the same code: read Code.Location (GetFunction), download
 * it, look inside it (native binaries for the other CPU refuse the move), re-send it as ZipFile with the new
 * Architectures. RevisionId pins the write to the version we downloaded, so a deploy that lands in between makes
 * AWS refuse (PreconditionFailed) instead of us rolling it back.
 */
async function updateArchitecture(t: Target, architecture: Architecture): Promise<string | undefined> {
  if (t.fn.packageType === 'Image') throw imageArchitecture(t);
  let note: string | undefined;
  await withConflictRetry(t, async () => {
    const current = await waitUntilNotBusy(t, false);
    const cfg = current.Configuration;
    if (cfg?.PackageType === 'Image') throw imageArchitecture(t);
    if (cfg?.Architectures?.[0] === architecture) {
      note = `already ${architecture}`;
      return;
    }
    if (cfg?.CodeSize !== undefined && cfg.CodeSize > t.opts.maxZipBytes) throw tooLarge(t, cfg.CodeSize);
    const location = current.Code?.Location;
    if (location === undefined || location === '') {
      throw new AwsInfeasibleError(`${t.fn.name}: GetFunction returned no Code.Location`, undefined, {
        api: 'GetFunction',
        reason: 'CodeUnavailable',
      });
    }
    const known =
      cfg?.CodeSha256 === undefined ? undefined : refusedPackages(t).get(verdictKey(cfg.CodeSha256, architecture));
    // The same package was already looked into: no second download to learn the same answer.
    if (known !== undefined) throw known;
    const fields = { Architectures: [architecture], ...(cfg?.RevisionId ? { RevisionId: cfg.RevisionId } : {}) };
    // Checked before downloading where CodeSize tells, and again on the bytes.
    if (cfg?.CodeSize !== undefined) checkRequestSize(t, cfg.CodeSize, fields);
    // The package lives only in this step: inspected in place (no copy), then sent; nothing keeps it afterwards.
    const zip = await downloadCode(t, location, cfg?.CodeSha256);
    checkRequestSize(t, zip.byteLength, fields);
    const refusal = await inspectPackage(t, zip, architecture);
    if (refusal !== undefined) {
      if (cfg?.CodeSha256 !== undefined) rememberRefusal(t, verdictKey(cfg.CodeSha256, architecture), refusal);
      throw refusal;
    }
    const out = await t.aws.call({ region: t.region, bucket: 'lambda', api: 'UpdateFunctionCode' }, (c) =>
      c.lambda.send(new UpdateFunctionCodeCommand({ FunctionName: t.fn.name, ZipFile: zip, ...fields })),
    );
    await afterUpdate(t, out);
  });
  return note;
}

function requireOwnedName(name: string): void {
  if (!isOwnedActionName(name)) {
    throw new AwsInfeasibleError(
      `scheduled action ${name} does not carry the prefix ${SCHEDULED_ACTION_PREFIX}: not ours to change`,
      undefined,
      { reason: 'NotOwned' },
    );
  }
}

/** Runs `send`; a NotFound with one of `goneCodes` means the thing to delete is already gone: success. */
async function idempotentDelete(
  send: () => Promise<unknown>,
  goneCodes: readonly string[],
): Promise<string | undefined> {
  try {
    await send();
    return undefined;
  } catch (err) {
    const error = classifyAwsError(err);
    if (error.code === 'NotFound' && goneCodes.includes(error.awsCode ?? '')) return 'already absent';
    throw error;
  }
}

async function applyAction(t: Target, action: Action): Promise<string | undefined> {
  const { aws, region } = t;
  const FunctionName = t.fn.name;
  const lambda = (api: string) => ({ region, bucket: 'lambda' as const, api });
  const autoscaling = (api: string) => ({ region, bucket: 'autoscaling' as const, api });
  switch (action.api) {
    case 'UpdateFunctionConfiguration':
      return updateConfiguration(t, action);
    case 'UpdateFunctionCode':
      return updateArchitecture(t, action.architecture);
    case 'PutFunctionConcurrency':
      await withConflictRetry(t, () =>
        aws.call(lambda(action.api), (c) =>
          c.lambda.send(
            new PutFunctionConcurrencyCommand({
              FunctionName,
              ReservedConcurrentExecutions: action.reservedConcurrentExecutions,
            }),
          ),
        ),
      );
      return undefined;
    case 'DeleteFunctionConcurrency':
      await withConflictRetry(t, () =>
        aws.call(lambda(action.api), (c) => c.lambda.send(new DeleteFunctionConcurrencyCommand({ FunctionName }))),
      );
      return undefined;
    case 'PutProvisionedConcurrencyConfig':
      await withProvisionedRetry(t, action.qualifier, () =>
        aws.call(lambda(action.api), (c) =>
          c.lambda.send(
            new PutProvisionedConcurrencyConfigCommand({
              FunctionName,
              Qualifier: action.qualifier,
              ProvisionedConcurrentExecutions: action.provisionedConcurrentExecutions,
            }),
          ),
        ),
      );
      return undefined;
    case 'DeleteProvisionedConcurrencyConfig':
      return withProvisionedRetry(t, action.qualifier, () =>
        idempotentDelete(
          () =>
            aws.call(lambda(action.api), (c) =>
              c.lambda.send(
                new DeleteProvisionedConcurrencyConfigCommand({ FunctionName, Qualifier: action.qualifier }),
              ),
            ),
          ['ProvisionedConcurrencyConfigNotFoundException'],
        ),
      );
    case 'RegisterScalableTarget':
      await withAutoscalingRetry(t, () =>
        aws.call(autoscaling(action.api), (c) =>
          c.autoscaling.send(
            new RegisterScalableTargetCommand({
              ServiceNamespace: LAMBDA_NAMESPACE,
              ResourceId: action.resourceId,
              ScalableDimension: PROVISIONED_DIMENSION,
              MinCapacity: action.minCapacity,
              MaxCapacity: action.maxCapacity,
            }),
          ),
        ),
      );
      return undefined;
    case 'PutScheduledAction':
      requireOwnedName(action.scheduledActionName);
      await withAutoscalingRetry(t, () =>
        aws.call(autoscaling(action.api), (c) =>
          c.autoscaling.send(
            new PutScheduledActionCommand({
              ServiceNamespace: LAMBDA_NAMESPACE,
              ScheduledActionName: action.scheduledActionName,
              ResourceId: action.resourceId,
              ScalableDimension: PROVISIONED_DIMENSION,
              Schedule: action.schedule,
              Timezone: action.timezone,
              ScalableTargetAction: { MinCapacity: action.minCapacity, MaxCapacity: action.maxCapacity },
            }),
          ),
        ),
      );
      return undefined;
    case 'DeleteScheduledAction':
      requireOwnedName(action.scheduledActionName);
      return withAutoscalingRetry(t, () =>
        idempotentDelete(
          () =>
            aws.call(autoscaling(action.api), (c) =>
              c.autoscaling.send(
                new DeleteScheduledActionCommand({
                  ServiceNamespace: LAMBDA_NAMESPACE,
                  ScheduledActionName: action.scheduledActionName,
                  ResourceId: action.resourceId,
                  ScalableDimension: PROVISIONED_DIMENSION,
                }),
              ),
            ),
          ['ObjectNotFoundException'],
        ),
      );
    case 'PutFunctionEventInvokeConfig':
    case 'UpdateFunctionEventInvokeConfig':
      await withConflictRetry(t, () => writeEventInvokeConfig(aws, region, FunctionName, action));
      return undefined;
    case 'PutRetentionPolicy':
      await putRetentionPolicy(aws, region, action.logGroupName, action.retentionInDays);
      return undefined;
    default: {
      const unknown: never = action;
      throw new AwsInfeasibleError(`unknown action ${JSON.stringify(unknown)}`, undefined, { reason: 'UnknownAction' });
    }
  }
}

/**
 * Runs one function's actions in order. Never throws for AWS failures: the first failing action is reported with
 * its typed error and every later action as skipped.
 */
export async function executeFunctionActions(
  aws: Aws,
  region: string,
  fn: ObservedFunction,
  actions: readonly Action[],
  opts: ExecuteOptions = {},
): Promise<ActionOutcome[]> {
  const t: Target = { aws, region, fn, opts: resolve(opts) };
  const outcomes: ActionOutcome[] = [];
  let failed = false;
  for (const action of actions) {
    if (failed) {
      outcomes.push({ action, ok: false, status: 'skipped' });
      continue;
    }
    try {
      const note = await applyAction(t, action);
      outcomes.push(
        note === undefined ? { action, ok: true, status: 'applied' } : { action, ok: true, status: 'applied', note },
      );
    } catch (err) {
      failed = true;
      outcomes.push({ action, ok: false, status: 'failed', error: classifyAwsError(err, action.api) });
    }
  }
  return outcomes;
}

export interface ExecutePlanOptions extends ExecuteOptions {
  /** Functions worked on at once. Default 32; the token buckets keep the aggregate rate within quota. */
  concurrency?: number | undefined;
  /** Gets one info record per write (policy, function, field, old -> new); default none. */
  logger?: Logger | undefined;
  /** The AwsAccount the writes go to, named in those records. */
  account?: string | undefined;
}

/** Runs every function's actions of a plan, functions in parallel (bounded), each function's actions in order. */
export async function executePlan(
  aws: Aws,
  plan: Plan,
  fleet: FleetSnapshot,
  opts: ExecutePlanOptions = {},
): Promise<FunctionExecution[]> {
  const observed = new Map<string, ObservedFunction>();
  for (const region of fleet.regions) {
    for (const fn of region.functions) observed.set(`${fn.region}/${fn.name}`, fn);
  }
  const work = plan.functions.filter((f) => f.actions.length > 0);
  return mapConcurrent(work, opts.concurrency ?? 32, async (fp) => {
    const fn = observed.get(`${fp.region}/${fp.name}`);
    if (fn === undefined) {
      const error = new AwsNotFoundError(`${fp.region}/${fp.name} is not in the fleet snapshot`);
      const outcomes: ActionOutcome[] = fp.actions.map((action, i) =>
        i === 0 ? { action, ok: false, status: 'failed', error } : { action, ok: false, status: 'skipped' },
      );
      return { region: fp.region, name: fp.name, ok: false, outcomes };
    }
    const outcomes = await executeFunctionActions(aws, fp.region, fn, fp.actions, opts);
    if (opts.logger) logRemediations(opts.logger, fp, outcomes, opts.account);
    return { region: fp.region, name: fp.name, ok: outcomes.every((o) => o.ok), outcomes };
  });
}
