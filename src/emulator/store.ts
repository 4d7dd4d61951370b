/**
 * The emulator's in-memory AWS account: Lambda functions (with versions, aliases, concurrency), Application Auto
 * Scaling targets and scheduled actions, per region. Indexed for the benchmark scale (10,000 functions): a Map per
 * region plus a lazily rebuilt sorted name list, so a page is a binary search and a slice.
 */
import { randomUUID } from 'node:crypto';
import type { Schedule } from './schedule.ts';
import { codeSha256, defaultPackage } from './zip.ts';

export type Architecture = 'x86_64' | 'arm64';
export type PackageType = 'Zip' | 'Image';
export type UpdateStatus = 'Successful' | 'InProgress' | 'Failed';

/** The configuration fields a version snapshots and an update changes. */
export interface FunctionConfig {
  memorySize: number;
  timeout: number;
  architecture: Architecture;
  runtime?: string;
  handler?: string;
  role: string;
  description: string;
  imageUri?: string;
  codeSha256: string;
  codeSize: number;
  lastModified: string;
  revisionId: string;
  environment?: Record<string, string>;
  logging: LoggingRecord;
  tracing: 'Active' | 'PassThrough';
  deadLetterTarget?: string;
  /** Layer version ARNs with their CodeSize, in order. */
  layers: { arn: string; codeSize: number }[];
}

export interface LoggingRecord {
  format: 'JSON' | 'Text';
  applicationLogLevel?: string;
  systemLogLevel?: string;
  logGroup: string;
}

/** An EventInvokeConfig (asynchronous invocation) of one qualifier. */
export interface EventInvokeRecord {
  maximumRetryAttempts?: number;
  maximumEventAgeSeconds?: number;
  onSuccess?: string;
  onFailure?: string;
  lastModified: number;
}

export interface LayerVersionRecord {
  name: string;
  version: number;
  arn: string;
  compatibleArchitectures: Architecture[];
  compatibleRuntimes: string[];
  codeSize: number;
  codeSha256: string;
  createdDate: string;
}

export interface LogGroupRecord {
  name: string;
  retentionInDays?: number;
  creationTime: number;
  arn: string;
}

export interface VersionRecord {
  version: string;
  config: FunctionConfig;
  code?: Buffer;
}

export interface AliasRecord {
  name: string;
  functionVersion: string;
  description: string;
  revisionId: string;
  /** RoutingConfig.AdditionalVersionWeights: a second version and the share of traffic it gets (0..1). */
  routingWeights?: Record<string, number>;
}

export interface ProvisionedRecord {
  requested: number;
  /** Epoch ms (emulator clock) when allocation completes; READY (or FAILED) from then on. */
  readyAt: number;
  lastModified: string;
  /** Set when the allocation ends FAILED (an injected failure): the StatusReason AWS reports. */
  failReason?: string;
}

export interface LastUpdate {
  status: UpdateStatus;
  /** Epoch ms (emulator clock) when an InProgress update completes. */
  until: number;
  /** The outcome once `until` passes (an injected failure ends Failed and restores `revert`). */
  outcome: 'Successful' | 'Failed';
  revert?: { config: FunctionConfig; code?: Buffer };
  reason?: string;
  reasonCode?: string;
}

export interface FunctionRecord {
  region: string;
  name: string;
  arn: string;
  packageType: PackageType;
  config: FunctionConfig;
  code?: Buffer;
  lastUpdate: LastUpdate;
  tags: Record<string, string>;
  /** The tagging API lists only resources that are or were tagged. */
  everTagged: boolean;
  reservedConcurrency?: number;
  versions: Map<string, VersionRecord>;
  nextVersion: number;
  /** Revision last published, so PublishVersion without changes returns the latest version (as AWS does). */
  publishedRevision?: string;
  aliases: Map<string, AliasRecord>;
  provisioned: Map<string, ProvisionedRecord>;
  /** EventInvokeConfigs by qualifier ($LATEST for the unqualified function). */
  eventInvoke: Map<string, EventInvokeRecord>;
  monthlyGbSeconds?: number;
}

export interface ScalableTargetRecord {
  resourceId: string;
  scalableDimension: string;
  minCapacity?: number;
  maxCapacity?: number;
  arn: string;
  creationTime: number;
  suspendedState?: Record<string, boolean>;
}

/** A scaling policy (target tracking or step) on a scalable target; the emulator stores it, it never scales. */
export interface ScalingPolicyRecord {
  name: string;
  resourceId: string;
  scalableDimension: string;
  policyType: string;
  arn: string;
  creationTime: number;
  configuration?: Record<string, unknown>;
}

export interface ScheduledActionRecord {
  name: string;
  resourceId: string;
  scalableDimension: string;
  schedule: string;
  timezone?: string;
  startTime?: number;
  endTime?: number;
  minCapacity?: number;
  maxCapacity?: number;
  arn: string;
  creationTime: number;
  compiled: Schedule;
  /** Cached next firing (epoch ms) after the last time the scheduler looked; null = never again. */
  nextFireAt: number | null;
}

export interface Firing {
  at: string;
  region: string;
  action: string;
  resourceId: string;
  minCapacity?: number;
  maxCapacity?: number;
  provisioned?: number;
  /** How many firings a clock jump folded into this one. */
  folded?: number;
  error?: string;
}

export class RegionState {
  readonly region: string;
  readonly functions = new Map<string, FunctionRecord>();
  readonly targets = new Map<string, ScalableTargetRecord>();
  /** Keyed by `resourceId` + NUL + action name (names are unique per scalable target). */
  readonly actions = new Map<string, ScheduledActionRecord>();
  /** Scaling policies, keyed like actions: `resourceId` + NUL + policy name. */
  readonly scalingPolicies = new Map<string, ScalingPolicyRecord>();
  /** Layer versions by layer name, version 1 first. */
  readonly layers = new Map<string, LayerVersionRecord[]>();
  /** CloudWatch Logs log groups of the region. */
  readonly logGroups = new Map<string, LogGroupRecord>();
  #sortedNames: string[] | null = null;

  constructor(region: string) {
    this.region = region;
  }

  sortedNames(): string[] {
    if (!this.#sortedNames) this.#sortedNames = [...this.functions.keys()].sort();
    return this.#sortedNames;
  }

  addFunction(fn: FunctionRecord): void {
    this.functions.set(fn.name, fn);
    this.#sortedNames = null;
  }

  deleteFunction(name: string): void {
    this.functions.delete(name);
    this.#sortedNames = null;
  }
}

export interface AccountSettings {
  concurrentExecutions: number;
  unreservedFloor: number;
}

export function actionKey(resourceId: string, name: string): string {
  return `${resourceId}\u0000${name}`;
}

/** Lambda's LastModified format: `2026-11-26T14:13:28.305+0000`. */
export function lambdaTimestamp(epochMs: number): string {
  return new Date(epochMs).toISOString().replace('Z', '+0000');
}

export class Store {
  readonly accountId: string;
  readonly account: AccountSettings;
  readonly regions = new Map<string, RegionState>();
  readonly firings: Firing[] = [];

  constructor(accountId: string, account: AccountSettings) {
    this.accountId = accountId;
    this.account = account;
  }

  region(region: string): RegionState {
    let state = this.regions.get(region);
    if (!state) {
      state = new RegionState(region);
      this.regions.set(region, state);
    }
    return state;
  }

  functionArn(region: string, name: string, qualifier?: string): string {
    return `arn:aws:lambda:${region}:${this.accountId}:function:${name}${qualifier ? `:${qualifier}` : ''}`;
  }

  recordFiring(firing: Firing): void {
    this.firings.push(firing);
    if (this.firings.length > 1000) this.firings.splice(0, this.firings.length - 1000);
  }

  /** Sum of reserved concurrency in a region (optionally leaving one function out). */
  reservedTotal(region: string, except?: string): number {
    let total = 0;
    for (const fn of this.region(region).functions.values()) {
      if (fn.name !== except && fn.reservedConcurrency !== undefined) total += fn.reservedConcurrency;
    }
    return total;
  }

  /** Provisioned concurrency drawn from the unreserved pool: on functions that have no reservation. */
  unreservedProvisioned(region: string, except?: { name: string; qualifier?: string }): number {
    let total = 0;
    for (const fn of this.region(region).functions.values()) {
      if (fn.reservedConcurrency !== undefined) continue;
      if (except && except.name === fn.name && except.qualifier === undefined) continue;
      for (const [qualifier, config] of fn.provisioned) {
        if (except && except.name === fn.name && except.qualifier === qualifier) continue;
        total += config.requested;
      }
    }
    return total;
  }

  /** GetAccountSettings' UnreservedConcurrentExecutions: the account limit minus every reservation. */
  unreservedConcurrency(region: string): number {
    return this.account.concurrentExecutions - this.reservedTotal(region);
  }
}

export interface NewFunction {
  region: string;
  name: string;
  packageType?: PackageType;
  memorySize?: number;
  timeout?: number;
  architecture?: Architecture;
  runtime?: string;
  handler?: string;
  role?: string;
  description?: string;
  imageUri?: string;
  code?: Buffer;
  tags?: Record<string, string>;
  monthlyGbSeconds?: number;
}

export function newFunctionRecord(store: Store, spec: NewFunction, nowMs: number): FunctionRecord {
  const packageType = spec.packageType ?? 'Zip';
  const code = packageType === 'Zip' ? (spec.code ?? defaultPackage(spec.name)) : undefined;
  const imageUri =
    packageType === 'Image'
      ? (spec.imageUri ?? `${store.accountId}.dkr.ecr.${spec.region}.amazonaws.com/${spec.name}:latest`)
      : undefined;
  const config: FunctionConfig = {
    memorySize: spec.memorySize ?? 128,
    timeout: spec.timeout ?? 3,
    architecture: spec.architecture ?? 'x86_64',
    role: spec.role ?? `arn:aws:iam::${store.accountId}:role/lambda-role`,
    description: spec.description ?? '',
    codeSha256: code ? codeSha256(code) : codeSha256(Buffer.from(imageUri ?? '')),
    codeSize: code ? code.length : 0,
    lastModified: lambdaTimestamp(nowMs),
    revisionId: randomUUID(),
    logging: { format: 'Text', logGroup: `/aws/lambda/${spec.name}` },
    tracing: 'PassThrough',
    layers: [],
  };
  if (packageType === 'Zip') {
    config.runtime = spec.runtime ?? 'nodejs22.x';
    config.handler = spec.handler ?? 'index.handler';
  }
  if (imageUri) config.imageUri = imageUri;
  const tags = { ...(spec.tags ?? {}) };
  const record: FunctionRecord = {
    region: spec.region,
    name: spec.name,
    arn: store.functionArn(spec.region, spec.name),
    packageType,
    config,
    lastUpdate: { status: 'Successful', until: 0, outcome: 'Successful' },
    tags,
    everTagged: Object.keys(tags).length > 0,
    versions: new Map(),
    nextVersion: 1,
    aliases: new Map(),
    provisioned: new Map(),
    eventInvoke: new Map(),
  };
  if (code) record.code = code;
  if (spec.monthlyGbSeconds !== undefined) record.monthlyGbSeconds = spec.monthlyGbSeconds;
  return record;
}

/**
 * Publishes $LATEST as the next version, or returns the latest one when nothing changed since (as AWS does);
 * `force` publishes anyway (seeding versions 1..N).
 */
export function publishVersion(fn: FunctionRecord, force = false): VersionRecord {
  if (!force && fn.publishedRevision === fn.config.revisionId) {
    const latest = fn.versions.get(String(fn.nextVersion - 1));
    if (latest) return latest;
  }
  const version: VersionRecord = { version: String(fn.nextVersion), config: structuredClone(fn.config) };
  if (fn.code) version.code = fn.code;
  fn.versions.set(version.version, version);
  fn.nextVersion++;
  fn.publishedRevision = fn.config.revisionId;
  return version;
}

/** Settles an InProgress update whose time has come (lazily, on every read and write). */
export function settleUpdate(fn: FunctionRecord, nowMs: number): void {
  const update = fn.lastUpdate;
  if (update.status !== 'InProgress' || nowMs < update.until) return;
  if (update.outcome === 'Failed' && update.revert) {
    fn.config = update.revert.config;
    if (update.revert.code) fn.code = update.revert.code;
    fn.lastUpdate = {
      status: 'Failed',
      until: update.until,
      outcome: 'Failed',
      reason: update.reason ?? 'The function update failed (injected by the emulator).',
      reasonCode: update.reasonCode ?? 'InternalError',
    };
    return;
  }
  fn.lastUpdate = { status: 'Successful', until: update.until, outcome: 'Successful' };
}

/** Resolves a qualifier (version number or alias name) to the version it points at, or undefined. */
export function resolveQualifier(fn: FunctionRecord, qualifier: string): string | undefined {
  if (qualifier === '$LATEST') return '$LATEST';
  if (fn.versions.has(qualifier)) return qualifier;
  return fn.aliases.get(qualifier)?.functionVersion;
}

export function provisionedStatus(record: ProvisionedRecord, nowMs: number): 'IN_PROGRESS' | 'READY' | 'FAILED' {
  if (nowMs < record.readyAt) return 'IN_PROGRESS';
  return record.failReason === undefined ? 'READY' : 'FAILED';
}
