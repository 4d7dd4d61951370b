/**
 * Several AWS accounts in one emulator. The home account is the top-level runtime (the seed's top level, reached
 * with any credentials the emulator has not issued itself); every other account is a runtime of its own — fleet,
 * quotas, faults, call counts and write log apart — sharing the home clock. STS AssumeRole issues temporary
 * credentials whose access key selects the role's account for every API, until they expire.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { AwsError } from './errors.ts';
import type { ApiResponse } from './http-types.ts';
import { EmulatorRuntime } from './runtime.ts';
import type { SeedDocument } from './seed.ts';
import { applySeed, SeedError } from './seed.ts';

export interface SeedRole {
  name: string;
  /** When set, AssumeRole must send exactly this ExternalId (the trust policy's sts:ExternalId condition). */
  externalId?: string;
}

export interface SeedAccount {
  accountId: string;
  accountConcurrency?: number;
  unreservedFloor?: number;
  roles?: SeedRole[];
  functions?: SeedDocument['functions'];
}

/** The temporary credentials AssumeRole handed out, by access key id. */
export interface AssumedSession {
  accountId: string;
  roleName: string;
  sessionName: string;
  /** Emulator clock, ms. */
  expiresAt: number;
}

const ROLE_NAME = /^[\w+=,.@-]{1,64}$/;
const ROLE_ARN = /^arn:aws:iam::(\d{12}):role\/(?:[\w+=,.@/-]*\/)?([\w+=,.@-]{1,64})$/;
const SESSION_NAME = /^[\w+=,.@-]{2,64}$/;
/** AWS's bounds for DurationSeconds; a chained role session (assumed-role caller) is capped at one hour. */
const MIN_DURATION_S = 900;
const DEFAULT_DURATION_S = 3600;
const MAX_DURATION_S = 43_200;
const CHAINED_MAX_DURATION_S = 3600;

/** Validates `accounts:` of a seed; each account's fleet is checked by the seed's own validator. */
export function validateSeedAccounts(
  raw: unknown,
  path: string,
  validateFleet: (doc: unknown, source: string) => SeedDocument,
  homeAccountId: string | undefined,
): SeedAccount[] {
  if (!Array.isArray(raw)) throw new SeedError(path, 'must be a list');
  const seen = new Set<string>(homeAccountId ? [homeAccountId] : []);
  return raw.map((entry: unknown, i) => {
    const at = `${path}[${i}]`;
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry))
      throw new SeedError(at, 'must be a mapping');
    const record = entry as Record<string, unknown>;
    const { roles, ...fleetPart } = record;
    const fleet = validateFleet(fleetPart, at);
    if (!fleet.accountId) throw new SeedError(`${at}.accountId`, 'is required (12 digits)');
    if (seen.has(fleet.accountId)) throw new SeedError(`${at}.accountId`, `duplicate account ${fleet.accountId}`);
    seen.add(fleet.accountId);
    const account: SeedAccount = { accountId: fleet.accountId };
    if (fleet.accountConcurrency !== undefined) account.accountConcurrency = fleet.accountConcurrency;
    if (fleet.unreservedFloor !== undefined) account.unreservedFloor = fleet.unreservedFloor;
    if (fleet.functions) account.functions = fleet.functions;
    if (roles !== undefined) account.roles = validateRoles(roles, `${at}.roles`);
    return account;
  });
}

function validateRoles(raw: unknown, path: string): SeedRole[] {
  if (!Array.isArray(raw)) throw new SeedError(path, 'must be a list');
  const names = new Set<string>();
  return raw.map((entry: unknown, i) => {
    const at = `${path}[${i}]`;
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry))
      throw new SeedError(at, 'must be a mapping');
    const { name, externalId } = entry as Record<string, unknown>;
    if (typeof name !== 'string' || !ROLE_NAME.test(name))
      throw new SeedError(`${at}.name`, 'must be an IAM role name');
    if (names.has(name)) throw new SeedError(`${at}.name`, `duplicate role ${name}`);
    names.add(name);
    const role: SeedRole = { name };
    if (externalId !== undefined) {
      if (typeof externalId !== 'string' || !/^[\w+=,.@:/-]{2,1224}$/.test(externalId)) {
        throw new SeedError(`${at}.externalId`, 'must be 2..1224 characters of [\\w+=,.@:/-]');
      }
      role.externalId = externalId;
    }
    return role;
  });
}

/** Creates (or, with `replace`, recreates) the seed's other accounts under the home runtime. */
export function applySeedAccounts(home: EmulatorRuntime, accounts: readonly SeedAccount[], replace: boolean): void {
  if (replace) {
    home.accounts.clear();
    home.sessions.clear();
  }
  for (const spec of accounts) {
    let rt = home.accounts.get(spec.accountId);
    if (!rt) {
      rt = new EmulatorRuntime({
        accountId: spec.accountId,
        clock: home.clock,
        updateDelayMs: home.updateDelayMs,
        provisionDelayMs: home.provisionDelayMs,
        ...(spec.accountConcurrency !== undefined ? { accountConcurrency: spec.accountConcurrency } : {}),
        ...(spec.unreservedFloor !== undefined ? { unreservedFloor: spec.unreservedFloor } : {}),
      });
      home.accounts.set(spec.accountId, rt);
      homes.set(rt, home);
    }
    for (const role of spec.roles ?? []) rt.roles.set(role.name, role);
    applySeed(rt.store, { functions: spec.functions ?? [] }, rt.nowMs());
  }
}

/** The account runtime an admin call with `?account=ID` addresses (the home one without it). */
export function adminAccount(home: EmulatorRuntime, accountId: string | null): EmulatorRuntime {
  if (!accountId || accountId === home.store.accountId) return home;
  const rt = home.accounts.get(accountId);
  if (!rt) throw new AwsError('NotFound', 404, `no account ${accountId}`);
  return rt;
}

/**
 * The account a signed request lands in and the session it was signed with. Credentials the emulator did not issue
 * are the home account's (any key works, as before); issued ones select their account until they expire.
 */
export function callerAccount(
  home: EmulatorRuntime,
  accessKeyId: string | undefined,
  stsService: boolean,
): { runtime: EmulatorRuntime; session?: AssumedSession } {
  const session = accessKeyId ? home.sessions.get(accessKeyId) : undefined;
  if (!session) return { runtime: home };
  const pending = earlyExpiry.get(home);
  const left = pending?.get(session.accountId);
  if (pending && left !== undefined) {
    if (left <= 1) expireNow(home, session.accountId);
    else pending.set(session.accountId, left - 1);
  }
  if (home.nowMs() >= session.expiresAt) {
    throw new AwsError(
      stsService ? 'ExpiredToken' : 'ExpiredTokenException',
      403,
      'The security token included in the request is expired',
    );
  }
  return { runtime: adminAccount(home, session.accountId), session };
}

/** Fault: an account's issued sessions expire early, now or after that many more calls signed with them. */
const earlyExpiry = new WeakMap<EmulatorRuntime, Map<string, number>>();

function expireNow(home: EmulatorRuntime, accountId: string): number {
  earlyExpiry.get(home)?.delete(accountId);
  let expired = 0;
  const now = home.nowMs();
  for (const session of home.sessions.values()) {
    if (session.accountId === accountId && session.expiresAt > now) {
      session.expiresAt = now;
      expired++;
    }
  }
  return expired;
}

/**
 * `POST /_emulator/sessions/expire?account=ID`: the credentials AssumeRole issued for the account stop working
 * (ExpiredToken / ExpiredTokenException) before their Expiration — at once, or after `afterCalls` more calls made
 * with them, so a test can expire them in the middle of a pass. Credentials issued later work as usual.
 */
export function expireSessions(account: EmulatorRuntime, afterCalls: number) {
  const home = homeOf(account);
  const accountId = account.store.accountId;
  if (afterCalls > 0) {
    const pending = earlyExpiry.get(home) ?? new Map<string, number>();
    pending.set(accountId, afterCalls);
    earlyExpiry.set(home, pending);
    return { account: accountId, expired: 0, afterCalls };
  }
  return { account: accountId, expired: expireNow(home, accountId), afterCalls: 0 };
}

/** The home runtime an account runtime belongs to (sessions are kept there). */
const homes = new WeakMap<EmulatorRuntime, EmulatorRuntime>();
function homeOf(account: EmulatorRuntime): EmulatorRuntime {
  return homes.get(account) ?? account;
}

/** The account whose STS answers an AssumeRole: the role's (so faults and counts on that account apply to it). */
export function assumeRoleAccount(home: EmulatorRuntime, form: URLSearchParams): EmulatorRuntime {
  const m = ROLE_ARN.exec(form.get('RoleArn') ?? '');
  return (m && home.accounts.get(m[1] ?? '')) || home;
}

function xmlEscape(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function principalArn(home: EmulatorRuntime, caller: AssumedSession | undefined): string {
  return caller
    ? `arn:aws:sts::${caller.accountId}:assumed-role/${caller.roleName}/${caller.sessionName}`
    : `arn:aws:iam::${home.store.accountId}:user/emulator`;
}

/** STS AssumeRole: AccessDenied for an unknown account or role or a wrong/missing ExternalId, like AWS. */
export function assumeRole(
  home: EmulatorRuntime,
  form: URLSearchParams,
  caller: AssumedSession | undefined,
): ApiResponse {
  const roleArn = form.get('RoleArn') ?? '';
  const sessionName = form.get('RoleSessionName') ?? '';
  if (!SESSION_NAME.test(sessionName)) {
    throw new AwsError(
      'ValidationError',
      400,
      `1 validation error detected: Value '${sessionName}' at 'roleSessionName' failed to satisfy constraint`,
    );
  }
  const m = ROLE_ARN.exec(roleArn);
  if (!m) throw new AwsError('ValidationError', 400, `${roleArn} is invalid`);
  const durationText = form.get('DurationSeconds');
  const duration = durationText === null ? DEFAULT_DURATION_S : Number(durationText);
  if (!Number.isInteger(duration) || duration < MIN_DURATION_S || duration > MAX_DURATION_S) {
    throw new AwsError(
      'ValidationError',
      400,
      `DurationSeconds must be between ${MIN_DURATION_S} and ${MAX_DURATION_S}`,
    );
  }
  const accountId = m[1] ?? '';
  const roleName = m[2] ?? '';
  const denied = () =>
    new AwsError(
      'AccessDenied',
      403,
      `User: ${principalArn(home, caller)} is not authorized to perform: sts:AssumeRole on resource: ${roleArn}`,
    );
  const target = accountId === home.store.accountId ? home : home.accounts.get(accountId);
  const role = target?.roles.get(roleName);
  if (!target || !role) throw denied();
  const externalId = form.get('ExternalId');
  if (role.externalId !== undefined && externalId !== role.externalId) throw denied();
  if (caller && duration > CHAINED_MAX_DURATION_S) {
    throw new AwsError(
      'ValidationError',
      400,
      'The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.',
    );
  }
  const accessKeyId = `ASIA${randomBytes(8).toString('hex').toUpperCase()}`;
  const expiresAt = Math.floor(home.nowMs() / 1000) * 1000 + duration * 1000;
  home.sessions.set(accessKeyId, { accountId, roleName, sessionName, expiresAt });
  const roleId = `AROA${randomBytes(8).toString('hex').toUpperCase()}`;
  const xml = `<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <AssumeRoleResult>
    <AssumedRoleUser>
      <AssumedRoleId>${roleId}:${xmlEscape(sessionName)}</AssumedRoleId>
      <Arn>arn:aws:sts::${accountId}:assumed-role/${xmlEscape(roleName)}/${xmlEscape(sessionName)}</Arn>
    </AssumedRoleUser>
    <Credentials>
      <AccessKeyId>${accessKeyId}</AccessKeyId>
      <SecretAccessKey>${randomBytes(30).toString('base64')}</SecretAccessKey>
      <SessionToken>${randomBytes(48).toString('base64')}</SessionToken>
      <Expiration>${new Date(expiresAt).toISOString().replace('.000Z', 'Z')}</Expiration>
    </Credentials>
  </AssumeRoleResult>
  <ResponseMetadata>
    <RequestId>${randomUUID()}</RequestId>
  </ResponseMetadata>
</AssumeRoleResponse>
`;
  return { status: 200, raw: xml, contentType: 'text/xml' };
}

/** GetCallerIdentity of whoever signed: the home user, or the assumed role's session in its account. */
export function callerIdentityXml(home: EmulatorRuntime, caller: AssumedSession | undefined): string {
  const account = caller?.accountId ?? home.store.accountId;
  const userId = caller
    ? `AROAEMULATOR${caller.roleName.length.toString().padStart(8, '0')}:${caller.sessionName}`
    : 'AIDAEMULATOR000000001';
  return `<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <GetCallerIdentityResult>
    <Arn>${xmlEscape(principalArn(home, caller))}</Arn>
    <UserId>${xmlEscape(userId)}</UserId>
    <Account>${account}</Account>
  </GetCallerIdentityResult>
  <ResponseMetadata>
    <RequestId>${randomUUID()}</RequestId>
  </ResponseMetadata>
</GetCallerIdentityResponse>
`;
}

/** `GET /_emulator/accounts`: every account, home first. */
export function describeAccounts(home: EmulatorRuntime) {
  const view = (rt: EmulatorRuntime, isHome: boolean) => ({
    accountId: rt.store.accountId,
    home: isHome,
    roles: [...rt.roles.values()].map((r) => r.name),
    functions: [...rt.store.regions.values()].reduce((n, r) => n + r.functions.size, 0),
    writes: rt.writes.length,
  });
  return { accounts: [view(home, true), ...[...home.accounts.values()].map((rt) => view(rt, false))] };
}
