/**
 * The seed file (YAML): an account's concurrency and its functions, with tags, reserved
 * concurrency and aliases on published versions (created as needed) carrying provisioned concurrency.
 */
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { parse } from 'yaml';
import { type SeedAccount, validateSeedAccounts } from './accounts.ts';
import { setProvisioned } from './concurrency.ts';
import { isRecord } from './http-types.ts';
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

export async function loadSeedFile(path: string): Promise<SeedDocument> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (cause) {
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
    const tags: Record<string, string> = {};
    for (const [k, v] of Object.entries(raw.tags)) {
      if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') {
        throw new SeedError(`${path}.tags.${k}`, 'must be a string');
      }
      tags[k] = String(v);
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
  if (raw.aliases !== undefined) {
    if (!Array.isArray(raw.aliases)) throw new SeedError(`${path}.aliases`, 'must be a list');
    fn.aliases = raw.aliases.map((a, i) => {
      const at = `${path}.aliases[${i}]`;
      if (!isRecord(a)) throw new SeedError(at, 'must be a mapping');
      const aliasName = optionalString(a.name, `${at}.name`);
      if (!aliasName || !/^(?!^[0-9]+$)[A-Za-z0-9_-]{1,128}$/.test(aliasName)) {
        throw new SeedError(`${at}.name`, 'must be an alias name (not a number)');
      }
      const version = String(a.version ?? '');
      if (!/^[1-9]\d*$/.test(version)) throw new SeedError(`${at}.version`, 'must be a published version number');
      const alias: SeedAlias = { name: aliasName, version };
      const provisioned = intIn(a.provisionedConcurrency, `${at}.provisionedConcurrency`, 0, 10_000_000);
      if (provisioned !== undefined) alias.provisionedConcurrency = provisioned;
      return alias;
    });
  }
  return fn;
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
    const highest = Math.max(0, ...(spec.aliases ?? []).map((a) => Number(a.version)));
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
