/**
 * The seed file (YAML): an account's concurrency and its functions, with tags, reserved
 * concurrency and aliases on published versions (created as needed) carrying provisioned concurrency.
 */
import { randomUUID } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { parse } from 'yaml';
import { type SeedAccount, validateSeedAccounts } from './accounts.ts';
import { setProvisioned } from './concurrency.ts';
import { isRecord } from './http-types.ts';
import { applyLoggingConfig, publishLayer } from './lambda-production.ts';
import { createLogGroup, RETENTION_DAYS } from './logs-api.ts';
import { type SeedOrganization, validateSeedOrganization } from './organizations.ts';
import type { Architecture, PackageType, Store } from './store.ts';
import { newFunctionRecord, publishVersion } from './store.ts';

export interface SeedAlias {
  name: string;
  /** The version the alias points at; versions 1..N are published as needed. */
  version: string;
  provisionedConcurrency?: number;
}

export interface SeedFunction {
  name: string;
  region: string;
  memorySize?: number;
  timeout?: number;
  architecture?: Architecture;
  packageType?: PackageType;
  runtime?: string;
  imageUri?: string;
  description?: string;
  tags?: Record<string, string>;
  reservedConcurrency?: number;
  aliases?: SeedAlias[];
  /** Monthly compute GB-seconds, so cost estimates can show what arm64 would save. */
  monthlyGbSeconds?: number;
  environment?: Record<string, string>;
  logging?: SeedLogging;
  tracing?: 'Active' | 'PassThrough';
  /** Layer versions (created in the region as needed; the same name and shape reuse one version). */
  layers?: SeedLayer[];
  /** Zipped package size in bytes, as CodeSize reports it. */
  codeSize?: number;
  /** DeadLetterConfig.TargetArn. */
  deadLetterTarget?: string;
  /** The unqualified function's EventInvokeConfig. */
  asyncInvocation?: { maximumRetryAttempts?: number; maximumEventAgeSeconds?: number; onFailureDestination?: string };
  /** Creates the function's log group with this retention ("Never": no retention policy). */
  logRetentionDays?: number | 'Never';
}

export interface SeedLogging {
  format: 'JSON' | 'Text';
  applicationLogLevel?: string;
  systemLogLevel?: string;
  logGroup?: string;
}

export interface SeedLayer {
  name: string;
  compatibleArchitectures?: Architecture[];
  codeSize?: number;
}

export interface SeedDocument {
  accountId?: string;
  /** Account concurrency limit per region (default 1000). */
  accountConcurrency?: number;
  /** Minimum unreserved concurrency AWS keeps (default 100). */
  unreservedFloor?: number;
  functions?: SeedFunction[];
  /** Other accounts, each with its own fleet, quotas, write log and assumable roles. */
  accounts?: SeedAccount[];
  /** The AWS Organization the home account manages (the management account), with its OUs and member accounts. */
  organization?: SeedOrganization;
}

export class SeedError extends Error {
  readonly code = 'InvalidSeed';
  readonly path: string;
  constructor(path: string, message: string, options?: { cause?: unknown }) {
    super(`${path}: ${message}`, options);
    this.name = 'SeedError';
    this.path = path;
  }
}

/**
 * Limits on what one seed may ask for, so a typo (`version: 99999999999`) cannot make the emulator exhaust memory
 * publishing versions; each is far above what any test or demo fleet needs.
 */
export const SEED_LIMITS = {
  fileBytes: 64 * 1024 * 1024,
  functions: 200_000,
  /** Versions 1..N are published for an alias on version N. */
  version: 10_000,
  aliasesPerFunction: 1_000,
  /** AWS's own limit of tags per resource. */
  tagsPerFunction: 50,
  stringLength: 4_096,
  /** AWS's own limit on a function's environment variables, names and values together. */
  environmentBytes: 4_096,
} as const;

export async function loadSeedFile(path: string): Promise<SeedDocument> {
  let text: string;
  try {
    const info = await stat(path);
    if (!info.isFile()) throw new SeedError(path, 'is not a regular file');
    if (info.size > SEED_LIMITS.fileBytes) {
      throw new SeedError(path, `is ${info.size} bytes; seed files may have at most ${SEED_LIMITS.fileBytes}`);
    }
    text = await readFile(path, 'utf8');
  } catch (cause) {
    if (cause instanceof SeedError) throw cause;
    throw new SeedError(path, 'cannot read seed file', { cause });
  }
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (cause) {
    throw new SeedError(path, `invalid YAML: ${(cause as Error).message}`, { cause });
  }
  return validateSeed(doc ?? {}, path);
}

const NAME = /^[A-Za-z0-9_-]{1,64}$/;
const REGION = /^[a-z]{2}(-[a-z]+)+-\d$/;

function intIn(value: unknown, path: string, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new SeedError(path, `must be an integer in ${min}..${max}`);
  }
  return value;
}

function optionalString(value: unknown, path: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw new SeedError(path, 'must be a string');
  if (value.length > SEED_LIMITS.stringLength) {
    throw new SeedError(path, `must have at most ${SEED_LIMITS.stringLength} characters`);
  }
  return value;
}

/** Checks a parsed seed document and returns it typed; errors name the offending path. */
export function validateSeed(doc: unknown, source = 'seed'): SeedDocument {
  if (!isRecord(doc)) throw new SeedError(source, 'must be a mapping');
  const out: SeedDocument = {};
  const accountId = optionalString(doc.accountId, `${source}.accountId`);
  if (accountId !== undefined) {
    if (!/^\d{12}$/.test(accountId)) throw new SeedError(`${source}.accountId`, 'must be 12 digits');
    out.accountId = accountId;
  }
  const concurrency = intIn(doc.accountConcurrency, `${source}.accountConcurrency`, 1, 10_000_000);
  if (concurrency !== undefined) out.accountConcurrency = concurrency;
  const floor = intIn(doc.unreservedFloor, `${source}.unreservedFloor`, 0, 10_000_000);
  if (floor !== undefined) out.unreservedFloor = floor;
  if (doc.functions !== undefined) {
    if (!Array.isArray(doc.functions)) throw new SeedError(`${source}.functions`, 'must be a list');
    if (doc.functions.length > SEED_LIMITS.functions) {
      throw new SeedError(`${source}.functions`, `must have at most ${SEED_LIMITS.functions} functions`);
    }
    const seen = new Set<string>();
    out.functions = doc.functions.map((raw, i) => {
      const fn = validateFunction(raw, `${source}.functions[${i}]`);
      const key = `${fn.region}/${fn.name}`;
      if (seen.has(key)) throw new SeedError(`${source}.functions[${i}]`, `duplicate function ${key}`);
      seen.add(key);
      return fn;
    });
  }
  if (doc.accounts !== undefined) {
    out.accounts = validateSeedAccounts(doc.accounts, `${source}.accounts`, validateSeed, out.accountId);
  }
  if (doc.organization !== undefined) {
    out.organization = validateSeedOrganization(doc.organization, `${source}.organization`);
  }
  return out;
}

function validateFunction(raw: unknown, path: string): SeedFunction {
  if (!isRecord(raw)) throw new SeedError(path, 'must be a mapping');
  const name = optionalString(raw.name, `${path}.name`);
  if (!name || !NAME.test(name)) throw new SeedError(`${path}.name`, 'must be a Lambda function name');
  const region = optionalString(raw.region, `${path}.region`);
  if (!region || !REGION.test(region)) throw new SeedError(`${path}.region`, 'must be an AWS region like eu-central-1');
  const fn: SeedFunction = { name, region };
  const memorySize = intIn(raw.memorySize, `${path}.memorySize`, 128, 10240);
  if (memorySize !== undefined) fn.memorySize = memorySize;
  const timeout = intIn(raw.timeout, `${path}.timeout`, 1, 900);
  if (timeout !== undefined) fn.timeout = timeout;
  if (raw.architecture !== undefined) {
    if (raw.architecture !== 'x86_64' && raw.architecture !== 'arm64') {
      throw new SeedError(`${path}.architecture`, 'must be x86_64 or arm64');
    }
    fn.architecture = raw.architecture;
  }
  if (raw.packageType !== undefined) {
    if (raw.packageType !== 'Zip' && raw.packageType !== 'Image') {
      throw new SeedError(`${path}.packageType`, 'must be Zip or Image');
    }
    fn.packageType = raw.packageType;
  }
  for (const key of ['runtime', 'imageUri', 'description'] as const) {
    const value = optionalString(raw[key], `${path}.${key}`);
    if (value !== undefined) fn[key] = value;
  }
  if (raw.tags !== undefined) {
    if (!isRecord(raw.tags)) throw new SeedError(`${path}.tags`, 'must be a mapping of strings');
    if (Object.keys(raw.tags).length > SEED_LIMITS.tagsPerFunction) {
      throw new SeedError(`${path}.tags`, `must have at most ${SEED_LIMITS.tagsPerFunction} tags`);
    }
    const tags: Record<string, string> = {};
    for (const [k, v] of Object.entries(raw.tags)) {
      if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') {
        throw new SeedError(`${path}.tags.${k}`, 'must be a string');
      }
      const value = String(v);
      if (k.length > 128 || value.length > 256) throw new SeedError(`${path}.tags.${k}`, 'is longer than AWS allows');
      tags[k] = value;
    }
    fn.tags = tags;
  }
  const reserved = intIn(raw.reservedConcurrency, `${path}.reservedConcurrency`, 0, 10_000_000);
  if (reserved !== undefined) fn.reservedConcurrency = reserved;
  if (raw.monthlyGbSeconds !== undefined) {
    if (typeof raw.monthlyGbSeconds !== 'number' || raw.monthlyGbSeconds < 0) {
      throw new SeedError(`${path}.monthlyGbSeconds`, 'must be a non-negative number');
    }
    fn.monthlyGbSeconds = raw.monthlyGbSeconds;
  }
  validateProduction(raw, path, fn);
  if (raw.aliases !== undefined) {
    if (!Array.isArray(raw.aliases)) throw new SeedError(`${path}.aliases`, 'must be a list');
    if (raw.aliases.length > SEED_LIMITS.aliasesPerFunction) {
      throw new SeedError(`${path}.aliases`, `must have at most ${SEED_LIMITS.aliasesPerFunction} aliases`);
    }
    fn.aliases = raw.aliases.map((a, i) => {
      const at = `${path}.aliases[${i}]`;
      if (!isRecord(a)) throw new SeedError(at, 'must be a mapping');
      const aliasName = optionalString(a.name, `${at}.name`);
      if (!aliasName || !/^(?!^[0-9]+$)[A-Za-z0-9_-]{1,128}$/.test(aliasName)) {
        throw new SeedError(`${at}.name`, 'must be an alias name (not a number)');
      }
      const version = String(a.version ?? '');
      if (!/^[1-9]\d{0,9}$/.test(version) || Number(version) > SEED_LIMITS.version) {
        throw new SeedError(`${at}.version`, `must be a published version number from 1 to ${SEED_LIMITS.version}`);
      }
      const alias: SeedAlias = { name: aliasName, version };
      const provisioned = intIn(a.provisionedConcurrency, `${at}.provisionedConcurrency`, 0, 10_000_000);
      if (provisioned !== undefined) alias.provisionedConcurrency = provisioned;
      return alias;
    });
  }
  return fn;
}

function validateProduction(raw: Record<string, unknown>, path: string, fn: SeedFunction): void {
  if (raw.environment !== undefined) {
    if (!isRecord(raw.environment)) throw new SeedError(`${path}.environment`, 'must be a mapping of strings');
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries(raw.environment)) {
      if (!/^[a-zA-Z]([a-zA-Z0-9_])+$/.test(k)) throw new SeedError(`${path}.environment.${k}`, 'is not a valid name');
      if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean')
        throw new SeedError(`${path}.environment.${k}`, 'must be a string');
      env[k] = String(v);
    }
    const size = Object.entries(env).reduce((n, [k, v]) => n + Buffer.byteLength(k) + Buffer.byteLength(v), 0);
    if (size > SEED_LIMITS.environmentBytes) {
      throw new SeedError(`${path}.environment`, `must have at most ${SEED_LIMITS.environmentBytes} bytes in all`);
    }
    fn.environment = env;
  }
  if (raw.logging !== undefined) {
    const l = raw.logging;
    if (!isRecord(l) || (l.format !== 'JSON' && l.format !== 'Text'))
      throw new SeedError(`${path}.logging.format`, 'must be JSON or Text');
    const logging: SeedLogging = { format: l.format };
    for (const key of ['applicationLogLevel', 'systemLogLevel', 'logGroup'] as const) {
      const v = optionalString(l[key], `${path}.logging.${key}`);
      if (v !== undefined) logging[key] = v;
    }
    try {
      applyLoggingConfig(
        { format: 'Text', logGroup: `/aws/lambda/${fn.name}` },
        {
          LogFormat: logging.format,
          ApplicationLogLevel: logging.applicationLogLevel,
          SystemLogLevel: logging.systemLogLevel,
          LogGroup: logging.logGroup,
        },
      );
    } catch (cause) {
      throw new SeedError(`${path}.logging`, (cause as Error).message, { cause });
    }
    fn.logging = logging;
  }
  if (raw.tracing !== undefined) {
    if (raw.tracing !== 'Active' && raw.tracing !== 'PassThrough')
      throw new SeedError(`${path}.tracing`, 'must be Active or PassThrough');
    fn.tracing = raw.tracing;
  }
  if (raw.layers !== undefined) {
    if (!Array.isArray(raw.layers) || raw.layers.length > 5)
      throw new SeedError(`${path}.layers`, 'must be a list of at most 5 layers');
    fn.layers = raw.layers.map((l, i) => {
      const at = `${path}.layers[${i}]`;
      if (!isRecord(l)) throw new SeedError(at, 'must be a mapping');
      const name = optionalString(l.name, `${at}.name`);
      if (!name || !/^[A-Za-z0-9_-]{1,140}$/.test(name)) throw new SeedError(`${at}.name`, 'must be a layer name');
      const layer: SeedLayer = { name };
      if (l.compatibleArchitectures !== undefined) {
        const archs = l.compatibleArchitectures;
        if (!Array.isArray(archs) || archs.length > 2 || archs.some((a) => a !== 'x86_64' && a !== 'arm64'))
          throw new SeedError(`${at}.compatibleArchitectures`, 'must list x86_64 and/or arm64');
        layer.compatibleArchitectures = archs as Architecture[];
      }
      const size = intIn(l.codeSize, `${at}.codeSize`, 0, 262_144_000);
      if (size !== undefined) layer.codeSize = size;
      return layer;
    });
  }
  const codeSize = intIn(raw.codeSize, `${path}.codeSize`, 0, 262_144_000);
  if (codeSize !== undefined) fn.codeSize = codeSize;
  const dlq = optionalString(raw.deadLetterTarget, `${path}.deadLetterTarget`);
  if (dlq !== undefined) {
    if (!/^arn:aws[a-z-]*:(sqs|sns):/.test(dlq))
      throw new SeedError(`${path}.deadLetterTarget`, 'must be an SQS or SNS ARN');
    fn.deadLetterTarget = dlq;
  }
  if (raw.asyncInvocation !== undefined) {
    const a = raw.asyncInvocation;
    if (!isRecord(a)) throw new SeedError(`${path}.asyncInvocation`, 'must be a mapping');
    const out: NonNullable<SeedFunction['asyncInvocation']> = {};
    const retries = intIn(a.maximumRetryAttempts, `${path}.asyncInvocation.maximumRetryAttempts`, 0, 2);
    if (retries !== undefined) out.maximumRetryAttempts = retries;
    const age = intIn(a.maximumEventAgeSeconds, `${path}.asyncInvocation.maximumEventAgeSeconds`, 60, 21600);
    if (age !== undefined) out.maximumEventAgeSeconds = age;
    const dest = optionalString(a.onFailureDestination, `${path}.asyncInvocation.onFailureDestination`);
    if (dest !== undefined) out.onFailureDestination = dest;
    fn.asyncInvocation = out;
  }
  if (raw.logRetentionDays !== undefined) {
    if (raw.logRetentionDays !== 'Never' && !RETENTION_DAYS.includes(raw.logRetentionDays as number))
      throw new SeedError(`${path}.logRetentionDays`, `must be Never or one of ${RETENTION_DAYS.join(', ')}`);
    fn.logRetentionDays = raw.logRetentionDays as number | 'Never';
  }
}

function seedProduction(
  store: Store,
  spec: SeedFunction,
  fn: ReturnType<typeof newFunctionRecord>,
  nowMs: number,
): void {
  const region = store.region(spec.region);
  if (spec.environment) fn.config.environment = { ...spec.environment };
  if (spec.logging) {
    fn.config.logging = applyLoggingConfig(fn.config.logging, {
      LogFormat: spec.logging.format,
      ApplicationLogLevel: spec.logging.applicationLogLevel,
      SystemLogLevel: spec.logging.systemLogLevel,
      LogGroup: spec.logging.logGroup,
    });
  }
  if (spec.tracing) fn.config.tracing = spec.tracing;
  if (spec.codeSize !== undefined) fn.config.codeSize = spec.codeSize;
  if (spec.deadLetterTarget) fn.config.deadLetterTarget = spec.deadLetterTarget;
  for (const l of spec.layers ?? []) {
    const archs = l.compatibleArchitectures ?? [];
    const size = l.codeSize ?? 1024;
    const existing = region.layers
      .get(l.name)
      ?.find((v) => v.codeSize === size && v.compatibleArchitectures.join() === archs.join());
    const layer =
      existing ??
      publishLayer(
        region,
        store.accountId,
        spec.region,
        l.name,
        { compatibleArchitectures: archs, codeSize: size },
        nowMs,
      );
    fn.config.layers.push({ arn: layer.arn, codeSize: layer.codeSize });
  }
  if (spec.asyncInvocation) {
    const a = spec.asyncInvocation;
    fn.eventInvoke.set('$LATEST', {
      lastModified: nowMs / 1000,
      ...(a.maximumRetryAttempts !== undefined ? { maximumRetryAttempts: a.maximumRetryAttempts } : {}),
      ...(a.maximumEventAgeSeconds !== undefined ? { maximumEventAgeSeconds: a.maximumEventAgeSeconds } : {}),
      ...(a.onFailureDestination ? { onFailure: a.onFailureDestination } : {}),
    });
  }
  if (spec.logRetentionDays !== undefined) {
    const days = spec.logRetentionDays === 'Never' ? undefined : spec.logRetentionDays;
    createLogGroup(region, store.accountId, fn.config.logging.logGroup, nowMs, days);
  }
}

/**
 * Loads a seed into a store. Seeds describe a state AWS could be in, so they are applied directly (no
 * InProgress, provisioned READY at once); the account's rules are not re-checked.
 */
export function applySeed(store: Store, seed: SeedDocument, nowMs: number): void {
  for (const spec of seed.functions ?? []) {
    const fn = newFunctionRecord(
      store,
      {
        region: spec.region,
        name: spec.name,
        ...(spec.packageType ? { packageType: spec.packageType } : {}),
        ...(spec.memorySize !== undefined ? { memorySize: spec.memorySize } : {}),
        ...(spec.timeout !== undefined ? { timeout: spec.timeout } : {}),
        ...(spec.architecture ? { architecture: spec.architecture } : {}),
        ...(spec.runtime ? { runtime: spec.runtime } : {}),
        ...(spec.imageUri ? { imageUri: spec.imageUri } : {}),
        ...(spec.description ? { description: spec.description } : {}),
        ...(spec.tags ? { tags: spec.tags } : {}),
        ...(spec.monthlyGbSeconds !== undefined ? { monthlyGbSeconds: spec.monthlyGbSeconds } : {}),
      },
      nowMs,
    );
    if (spec.reservedConcurrency !== undefined) fn.reservedConcurrency = spec.reservedConcurrency;
    seedProduction(store, spec, fn, nowMs);
    let highest = 0;
    for (const alias of spec.aliases ?? []) highest = Math.max(highest, Number(alias.version));
    for (let v = 1; v <= highest; v++) publishVersion(fn, true);
    for (const alias of spec.aliases ?? []) {
      fn.aliases.set(alias.name, {
        name: alias.name,
        functionVersion: alias.version,
        description: '',
        revisionId: randomUUID(),
      });
      if (alias.provisionedConcurrency) setProvisioned(fn, alias.name, alias.provisionedConcurrency, nowMs, 0);
    }
    store.region(spec.region).addFunction(fn);
  }
}
