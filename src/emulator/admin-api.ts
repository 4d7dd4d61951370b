/**
 * Admin endpoints under `/_emulator/`: inspect state, the write log and call counts; move the clock; inject
 * faults; enforce quotas; change functions "behind the controller's back"; serve code packages.
 */

import { randomUUID } from 'node:crypto';
import { compareOrdinal } from '../shared/compare.ts';
import { applySeedAccounts, describeAccounts, expireSessions } from './accounts.ts';
import { setProvisioned } from './concurrency.ts';
import { AwsError } from './errors.ts';
import type { FaultOptions } from './faults.ts';
import type { ApiResponse } from './http-types.ts';
import { isRecord, num, str, stringMap } from './http-types.ts';
import { applySeedOrganization, handleOrganizationAdmin } from './organizations.ts';
import type { QuotaOptions } from './quotas.ts';
import type { EmulatorRuntime } from './runtime.ts';
import { applySeed, validateSeed } from './seed.ts';
import type { FunctionRecord, RegionState } from './store.ts';
import { lambdaTimestamp, newFunctionRecord, provisionedStatus, publishVersion, Store, settleUpdate } from './store.ts';
import { codeSha256 } from './zip.ts';

export const ADMIN_PREFIX = '/_emulator';

export interface FunctionStateView {
  region: string;
  name: string;
  arn: string;
  memorySize: number;
  timeout: number;
  architecture: string;
  packageType: string;
  runtime?: string;
  imageUri?: string;
  codeSha256: string;
  lastModified: string;
  lastUpdateStatus: string;
  tags: Record<string, string>;
  reservedConcurrency: number | null;
  versions: string[];
  aliases: { name: string; version: string }[];
  provisioned: { qualifier: string; requested: number; status: string }[];
  monthlyGbSeconds?: number;
}

export function functionState(fn: FunctionRecord, nowMs: number): FunctionStateView {
  settleUpdate(fn, nowMs);
  const view: FunctionStateView = {
    region: fn.region,
    name: fn.name,
    arn: fn.arn,
    memorySize: fn.config.memorySize,
    timeout: fn.config.timeout,
    architecture: fn.config.architecture,
    packageType: fn.packageType,
    codeSha256: fn.config.codeSha256,
    lastModified: fn.config.lastModified,
    lastUpdateStatus: fn.lastUpdate.status,
    tags: { ...fn.tags },
    reservedConcurrency: fn.reservedConcurrency ?? null,
    versions: [...fn.versions.keys()],
    aliases: [...fn.aliases.values()].map((a) => ({ name: a.name, version: a.functionVersion })),
    provisioned: [...fn.provisioned].map(([qualifier, p]) => ({
      qualifier,
      requested: p.requested,
      status: provisionedStatus(p, nowMs),
    })),
  };
  if (fn.config.runtime) view.runtime = fn.config.runtime;
  if (fn.config.imageUri) view.imageUri = fn.config.imageUri;
  if (fn.monthlyGbSeconds !== undefined) view.monthlyGbSeconds = fn.monthlyGbSeconds;
  return view;
}

function regionState(rt: EmulatorRuntime, region: RegionState, functionFilter: string | null) {
  const now = rt.nowMs();
  const names = region.sortedNames().filter((n) => !functionFilter || n === functionFilter);
  return {
    account: {
      concurrentExecutions: rt.store.account.concurrentExecutions,
      unreservedConcurrentExecutions: rt.store.unreservedConcurrency(region.region),
      unreservedFloor: rt.store.account.unreservedFloor,
    },
    functions: names.flatMap((n) => {
      const fn = region.functions.get(n);
      return fn ? [functionState(fn, now)] : [];
    }),
    scalableTargets: [...region.targets.values()].map((t) => ({
      resourceId: t.resourceId,
      minCapacity: t.minCapacity,
      maxCapacity: t.maxCapacity,
    })),
    scheduledActions: [...region.actions.values()].map((a) => ({
      name: a.name,
      resourceId: a.resourceId,
      schedule: a.schedule,
      timezone: a.timezone ?? 'UTC',
      minCapacity: a.minCapacity,
      maxCapacity: a.maxCapacity,
      nextFireAt: a.nextFireAt === null ? null : new Date(a.nextFireAt).toISOString(),
    })),
  };
}

export function snapshotState(rt: EmulatorRuntime, regionFilter?: string | null, functionFilter?: string | null) {
  const regions: Record<string, ReturnType<typeof regionState>> = {};
  for (const [name, region] of [...rt.store.regions].sort(([a], [b]) => compareOrdinal(a, b))) {
    if (regionFilter && name !== regionFilter) continue;
    regions[name] = regionState(rt, region, functionFilter ?? null);
  }
  return {
    now: new Date(rt.nowMs()).toISOString(),
    accountId: rt.store.accountId,
    accountConcurrency: rt.store.account.concurrentExecutions,
    unreservedFloor: rt.store.account.unreservedFloor,
    updateDelayMs: rt.updateDelayMs,
    provisionDelayMs: rt.provisionDelayMs,
    regions,
    firings: [...rt.store.firings],
  };
}

function badRequest(message: string): AwsError {
  return new AwsError('BadRequest', 400, message);
}

function ok(body: unknown, status = 200): ApiResponse {
  return { status, body };
}

/** `POST /_emulator/functions/<region>/<name>`: upsert outside the API (no write log, no rules, no delay). */
function changeFunction(rt: EmulatorRuntime, regionName: string, name: string, body: Record<string, unknown>) {
  const region = rt.store.region(regionName);
  const now = rt.nowMs();
  let fn = region.functions.get(name);
  if (!fn) {
    const packageType = body.packageType === 'Image' ? 'Image' : 'Zip';
    fn = newFunctionRecord(rt.store, { region: regionName, name, packageType }, now);
    region.addFunction(fn);
  }
  settleUpdate(fn, now);
  const memorySize = num(body.memorySize);
  const timeout = num(body.timeout);
  if (memorySize !== undefined) fn.config.memorySize = memorySize;
  if (timeout !== undefined) fn.config.timeout = timeout;
  if (body.architecture === 'x86_64' || body.architecture === 'arm64') fn.config.architecture = body.architecture;
  const runtime = str(body.runtime);
  if (runtime) fn.config.runtime = runtime;
  const imageUri = str(body.imageUri);
  if (imageUri) fn.config.imageUri = imageUri;
  if (body.code === 'redeploy' && fn.code) {
    // A "deployment": new bytes, new sha.
    fn.code = Buffer.concat([fn.code, Buffer.from(`\n// ${randomUUID()}\n`)]);
    fn.config.codeSha256 = codeSha256(fn.code);
  }
  const tags = stringMap(body.tags);
  if (tags) {
    fn.tags = tags;
    if (Object.keys(tags).length > 0) fn.everTagged = true;
  }
  if (body.reservedConcurrency === null) delete fn.reservedConcurrency;
  else {
    const reserved = num(body.reservedConcurrency);
    if (reserved !== undefined) fn.reservedConcurrency = reserved;
  }
  const gbSeconds = num(body.monthlyGbSeconds);
  if (gbSeconds !== undefined) fn.monthlyGbSeconds = gbSeconds;
  if (Array.isArray(body.aliases)) {
    for (const a of body.aliases) {
      if (!isRecord(a) || !str(a.name)) continue;
      const version = String(a.version ?? '1');
      while (fn.nextVersion <= Number(version)) publishVersion(fn, true);
      fn.aliases.set(str(a.name) ?? '', {
        name: str(a.name) ?? '',
        functionVersion: version,
        description: '',
        revisionId: randomUUID(),
      });
    }
  }
  if (isRecord(body.provisioned)) {
    for (const [qualifier, value] of Object.entries(body.provisioned)) {
      setProvisioned(fn, qualifier, typeof value === 'number' ? value : 0, now, 0);
    }
  }
  if (body.lastUpdateStatus === 'InProgress') {
    fn.lastUpdate = {
      status: 'InProgress',
      until: now + (num(body.inProgressMs) ?? rt.updateDelayMs),
      outcome: 'Successful',
    };
  }
  fn.config.lastModified = lambdaTimestamp(now);
  fn.config.revisionId = randomUUID();
  return functionState(fn, now);
}

export function handleAdmin(
  rt: EmulatorRuntime,
  method: string,
  path: string,
  query: URLSearchParams,
  body: unknown,
): ApiResponse {
  const rest = path.slice(ADMIN_PREFIX.length).replace(/\/+$/, '');
  const json = isRecord(body) ? body : {};
  const segments = rest.split('/').filter(Boolean).map(decodeURIComponent);
  const [head, a, b] = segments;
  switch (`${method} ${head ?? ''}`) {
    case 'GET health':
      return ok({ ok: true });
    case 'GET accounts':
      return ok(describeAccounts(rt));
    case 'GET organization':
    case 'POST organization':
    case 'DELETE organization':
      return handleOrganizationAdmin(rt, method, segments, body);
    case 'POST sessions':
      // `/_emulator/sessions/expire?account=ID` `{ afterCalls? }`: the account's issued credentials expire early.
      if (a !== 'expire') throw badRequest('use /_emulator/sessions/expire');
      return ok(expireSessions(rt, num(json.afterCalls) ?? 0));
    case 'GET state':
      rt.fireDue();
      return ok(snapshotState(rt, query.get('region'), query.get('function')));
    case 'GET writes': {
      const since = Number(query.get('since') ?? 0);
      return ok({ writes: rt.writes.filter((w) => w.seq > since) });
    }
    case 'DELETE writes':
      rt.writes.length = 0;
      return ok({ writes: [] });
    case 'GET calls':
      return ok(rt.calls);
    case 'DELETE calls':
      rt.resetCalls();
      return ok(rt.calls);
    case 'GET clock':
      return ok({ now: new Date(rt.nowMs()).toISOString() });
    case 'POST clock': {
      if (str(json.now) !== undefined) {
        const date = new Date(str(json.now) ?? '');
        if (Number.isNaN(date.getTime())) throw badRequest('now must be an ISO 8601 date');
        rt.clock.set(date);
      } else if (num(json.advanceSeconds) !== undefined) {
        rt.clock.advance(num(json.advanceSeconds) ?? 0);
      } else {
        throw badRequest('send { now: ISO } or { advanceSeconds: n }');
      }
      const fired = rt.fireDue();
      return ok({ now: new Date(rt.nowMs()).toISOString(), fired });
    }
    case 'GET faults':
      return ok(rt.faults.describe());
    case 'POST faults':
      rt.faults.configure(json as FaultOptions);
      return ok(rt.faults.describe());
    case 'DELETE faults':
      rt.faults.configure({});
      return ok(rt.faults.describe());
    case 'GET quotas':
      return ok(rt.quotas.describe());
    case 'POST quotas':
      rt.quotas.configure({ enabled: true, ...(json as QuotaOptions) });
      return ok(rt.quotas.describe());
    case 'DELETE quotas':
      rt.quotas.configure({});
      return ok(rt.quotas.describe());
    case 'GET settings':
    case 'POST settings': {
      if (method === 'POST') {
        if (num(json.updateDelayMs) !== undefined) rt.updateDelayMs = num(json.updateDelayMs) ?? 0;
        if (num(json.provisionDelayMs) !== undefined) rt.provisionDelayMs = num(json.provisionDelayMs) ?? 0;
        if (num(json.accountConcurrency) !== undefined) {
          rt.store.account.concurrentExecutions = num(json.accountConcurrency) ?? 1000;
        }
        if (num(json.unreservedFloor) !== undefined)
          rt.store.account.unreservedFloor = num(json.unreservedFloor) ?? 100;
      }
      return ok({
        updateDelayMs: rt.updateDelayMs,
        provisionDelayMs: rt.provisionDelayMs,
        accountConcurrency: rt.store.account.concurrentExecutions,
        unreservedFloor: rt.store.account.unreservedFloor,
      });
    }
    case 'POST seed': {
      const seed = validateSeed(body, 'body');
      if (query.get('replace') !== 'false') {
        rt.replaceStore(
          new Store(seed.accountId ?? rt.store.accountId, {
            concurrentExecutions: seed.accountConcurrency ?? 1000,
            unreservedFloor: seed.unreservedFloor ?? 100,
          }),
        );
      }
      applySeed(rt.store, seed, rt.nowMs());
      applySeedAccounts(rt, seed.accounts ?? [], query.get('replace') !== 'false');
      if (seed.organization || query.get('replace') !== 'false') applySeedOrganization(rt, seed.organization);
      return ok({ functions: seed.functions?.length ?? 0, accounts: seed.accounts?.length ?? 0 });
    }
    case 'GET functions':
    case 'POST functions':
    case 'DELETE functions': {
      if (!a || !b) throw badRequest('use /_emulator/functions/<region>/<name>');
      const region = rt.store.region(a);
      if (method === 'POST') return ok(changeFunction(rt, a, b, json));
      const fn = region.functions.get(b);
      if (!fn) throw new AwsError('NotFound', 404, `no function ${a}/${b}`);
      if (method === 'DELETE') {
        region.deleteFunction(b);
        return { status: 204 };
      }
      return ok(functionState(fn, rt.nowMs()));
    }
    case 'GET code': {
      const fn = a && b ? rt.store.region(a).functions.get(b) : undefined;
      const version = query.get('version');
      const bytes = version ? fn?.versions.get(version)?.code : fn?.code;
      if (!bytes) throw new AwsError('NoSuchKey', 404, 'The specified key does not exist.');
      return { status: 200, raw: bytes, contentType: 'application/zip' };
    }
  }
  throw new AwsError('NotFound', 404, `unknown admin endpoint ${method} ${path}`);
}
