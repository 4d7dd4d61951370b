/**
 * An AWS Organization in the emulator: a root, nested organizational units and member accounts (each with a State
 * and tags), held by the home runtime (the management account). Seeded from the seed file's `organization:` and
 * changed through the admin API, so tests can add, move, suspend and remove accounts while a controller watches.
 * The list APIs over it are in organizations-api.ts.
 */
import { randomBytes } from 'node:crypto';
import { compareOrdinal } from '../shared/compare.ts';
import { AwsError } from './errors.ts';
import { isRecord } from './http-types.ts';
import type { EmulatorRuntime } from './runtime.ts';
import { SeedError } from './seed.ts';

/**
 * Account states as Organizations reports them in `State` (the older `Status` field was retired in September 2026,
 * so the emulator answers `State` only).
 */
export const ACCOUNT_STATES = ['ACTIVE', 'SUSPENDED', 'PENDING_ACTIVATION', 'PENDING_CLOSURE', 'CLOSED'] as const;
export type AccountState = (typeof ACCOUNT_STATES)[number];

export interface SeedOrganizationAccount {
  id: string;
  name?: string;
  email?: string;
  state?: AccountState;
  tags?: Record<string, string>;
}

export interface SeedOrganizationUnit {
  id: string;
  name: string;
  accounts?: (string | SeedOrganizationAccount)[];
  units?: SeedOrganizationUnit[];
}

export interface SeedOrganization {
  /** o-xxxxxxxxxx (generated when absent). */
  id?: string;
  rootId: string;
  /** Default: the home account. Only it may call the list APIs. */
  managementAccountId?: string;
  /** Accounts directly under the root. */
  accounts?: (string | SeedOrganizationAccount)[];
  units?: SeedOrganizationUnit[];
  /** The first N list answers are empty pages that still carry a NextToken, as AWS documents it may send. */
  emptyPages?: number;
}

export interface OrgParent {
  id: string;
  name: string;
  type: 'ROOT' | 'ORGANIZATIONAL_UNIT';
  /** Absent for the root. */
  parentId?: string;
}

export interface OrgAccount {
  id: string;
  name: string;
  email: string;
  state: AccountState;
  parentId: string;
  tags: Record<string, string>;
  /** Emulator clock, ms. */
  joinedAt: number;
}

export class OrganizationState {
  readonly id: string;
  readonly rootId: string;
  readonly managementAccountId: string;
  readonly parents = new Map<string, OrgParent>();
  readonly accounts = new Map<string, OrgAccount>();
  emptyPages: number;

  constructor(id: string, rootId: string, managementAccountId: string, emptyPages = 0) {
    this.id = id;
    this.rootId = rootId;
    this.managementAccountId = managementAccountId;
    this.emptyPages = emptyPages;
    this.parents.set(rootId, { id: rootId, name: 'Root', type: 'ROOT' });
  }

  arn(kind: 'account' | 'ou' | 'root', id: string): string {
    const base = `arn:aws:organizations::${this.managementAccountId}`;
    if (kind === 'account') return `${base}:account/${this.id}/${id}`;
    if (kind === 'root') return `${base}:root/${this.id}/${id}`;
    return `${base}:ou/${this.id}/${id}`;
  }

  /** Children of a parent, sorted by id (the order pages are served in). */
  childUnits(parentId: string): OrgParent[] {
    return [...this.parents.values()].filter((p) => p.parentId === parentId).sort((a, b) => compareOrdinal(a.id, b.id));
  }

  childAccounts(parentId: string): OrgAccount[] {
    return [...this.accounts.values()]
      .filter((a) => a.parentId === parentId)
      .sort((a, b) => compareOrdinal(a.id, b.id));
  }

  /** Adds an account, or moves/updates one already in the organization. */
  upsertAccount(input: SeedOrganizationAccount & { parentId: string }, nowMs: number): OrgAccount {
    if (!this.parents.has(input.parentId)) {
      throw new AwsError(
        'ParentNotFoundException',
        400,
        `We can't find a root or OU with the ParentId ${input.parentId}`,
      );
    }
    const existing = this.accounts.get(input.id);
    const account: OrgAccount = {
      id: input.id,
      name: input.name ?? existing?.name ?? `account-${input.id}`,
      email: input.email ?? existing?.email ?? `aws+${input.id}@example.com`,
      state: input.state ?? existing?.state ?? 'ACTIVE',
      parentId: input.parentId,
      tags: input.tags ?? existing?.tags ?? {},
      joinedAt: existing?.joinedAt ?? nowMs,
    };
    this.accounts.set(account.id, account);
    return account;
  }

  describe() {
    return {
      id: this.id,
      rootId: this.rootId,
      managementAccountId: this.managementAccountId,
      units: [...this.parents.values()].filter((p) => p.type === 'ORGANIZATIONAL_UNIT'),
      accounts: [...this.accounts.values()].sort((a, b) => compareOrdinal(a.id, b.id)),
    };
  }
}

/** The organization of each home runtime (kept beside it so the runtime needs no field of its own). */
const organizations = new WeakMap<EmulatorRuntime, OrganizationState>();

export function organizationOf(home: EmulatorRuntime): OrganizationState | undefined {
  return organizations.get(home);
}

const ACCOUNT_ID = /^\d{12}$/;
const ROOT_ID = /^r-[0-9a-z]{4,32}$/;
const OU_ID = /^ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}$/;
const ORG_ID = /^o-[a-z0-9]{10,32}$/;
const MAX_UNITS = 1_000;
const MAX_ACCOUNTS = 10_000;
/** AWS's limit: OUs nest at most five levels below the root. */
const MAX_DEPTH = 5;

function validateTags(raw: unknown, path: string): Record<string, string> {
  if (!isRecord(raw)) throw new SeedError(path, 'must be a mapping of strings');
  const out: Record<string, string> = {};
  const entries = Object.entries(raw);
  if (entries.length > 50) throw new SeedError(path, 'may have at most 50 tags');
  for (const [k, v] of entries) {
    if (typeof v !== 'string' || k.length > 128 || v.length > 256) {
      throw new SeedError(`${path}.${k}`, 'must be a string of at most 256 characters (keys 128)');
    }
    out[k] = v;
  }
  return out;
}

export function validateOrgAccount(raw: unknown, path: string): SeedOrganizationAccount {
  if (typeof raw === 'string') {
    if (!ACCOUNT_ID.test(raw)) throw new SeedError(path, 'must be a 12-digit account id');
    return { id: raw };
  }
  if (!isRecord(raw)) throw new SeedError(path, 'must be an account id or a mapping');
  const { id, name, email, state, tags } = raw;
  if (typeof id !== 'string' || !ACCOUNT_ID.test(id)) throw new SeedError(`${path}.id`, 'must be 12 digits');
  const out: SeedOrganizationAccount = { id };
  if (name !== undefined) {
    if (typeof name !== 'string' || name.length === 0 || name.length > 50)
      throw new SeedError(`${path}.name`, 'must be 1..50 characters');
    out.name = name;
  }
  if (email !== undefined) {
    if (typeof email !== 'string' || !/^[^\s@]+@[^\s@]+$/.test(email) || email.length > 64)
      throw new SeedError(`${path}.email`, 'must be an email address');
    out.email = email;
  }
  if (state !== undefined) {
    if (!ACCOUNT_STATES.includes(state as AccountState))
      throw new SeedError(`${path}.state`, `must be one of ${ACCOUNT_STATES.join(', ')}`);
    out.state = state as AccountState;
  }
  if (tags !== undefined) out.tags = validateTags(tags, `${path}.tags`);
  return out;
}

function validateAccounts(raw: unknown, path: string): (string | SeedOrganizationAccount)[] {
  if (!Array.isArray(raw)) throw new SeedError(path, 'must be a list');
  return raw.map((a, i) => validateOrgAccount(a, `${path}[${i}]`));
}

function validateUnits(raw: unknown, path: string, depth: number): SeedOrganizationUnit[] {
  if (!Array.isArray(raw)) throw new SeedError(path, 'must be a list');
  if (depth > MAX_DEPTH) throw new SeedError(path, `OUs nest at most ${MAX_DEPTH} levels`);
  return raw.map((u: unknown, i) => {
    const at = `${path}[${i}]`;
    if (!isRecord(u)) throw new SeedError(at, 'must be a mapping');
    if (typeof u.id !== 'string' || !OU_ID.test(u.id))
      throw new SeedError(`${at}.id`, 'must be an OU id (ou-xxxx-xxxxxxxx)');
    if (typeof u.name !== 'string' || u.name.length === 0 || u.name.length > 128)
      throw new SeedError(`${at}.name`, 'must be 1..128 characters');
    const unit: SeedOrganizationUnit = { id: u.id, name: u.name };
    if (u.accounts !== undefined) unit.accounts = validateAccounts(u.accounts, `${at}.accounts`);
    if (u.units !== undefined) unit.units = validateUnits(u.units, `${at}.units`, depth + 1);
    return unit;
  });
}

/** Checks the seed's `organization:` section; errors name the offending path. */
export function validateSeedOrganization(raw: unknown, path: string): SeedOrganization {
  if (!isRecord(raw)) throw new SeedError(path, 'must be a mapping');
  if (typeof raw.rootId !== 'string' || !ROOT_ID.test(raw.rootId))
    throw new SeedError(`${path}.rootId`, 'must be a root id (r-xxxx)');
  const out: SeedOrganization = { rootId: raw.rootId };
  if (raw.id !== undefined) {
    if (typeof raw.id !== 'string' || !ORG_ID.test(raw.id))
      throw new SeedError(`${path}.id`, 'must be an organization id (o-xxxxxxxxxx)');
    out.id = raw.id;
  }
  if (raw.managementAccountId !== undefined) {
    if (typeof raw.managementAccountId !== 'string' || !ACCOUNT_ID.test(raw.managementAccountId))
      throw new SeedError(`${path}.managementAccountId`, 'must be 12 digits');
    out.managementAccountId = raw.managementAccountId;
  }
  if (raw.accounts !== undefined) out.accounts = validateAccounts(raw.accounts, `${path}.accounts`);
  if (raw.units !== undefined) out.units = validateUnits(raw.units, `${path}.units`, 1);
  if (raw.emptyPages !== undefined) {
    if (typeof raw.emptyPages !== 'number' || !Number.isInteger(raw.emptyPages) || raw.emptyPages < 0)
      throw new SeedError(`${path}.emptyPages`, 'must be an integer >= 0');
    out.emptyPages = raw.emptyPages;
  }
  // Ids are unique across the tree (an account sits under exactly one parent).
  const seenUnits = new Set<string>();
  const seenAccounts = new Set<string>();
  const walk = (units: readonly SeedOrganizationUnit[], accounts: readonly (string | SeedOrganizationAccount)[]) => {
    for (const a of accounts) {
      const id = typeof a === 'string' ? a : a.id;
      if (seenAccounts.has(id)) throw new SeedError(path, `account ${id} appears twice`);
      seenAccounts.add(id);
    }
    for (const u of units) {
      if (seenUnits.has(u.id)) throw new SeedError(path, `OU ${u.id} appears twice`);
      seenUnits.add(u.id);
      walk(u.units ?? [], u.accounts ?? []);
    }
  };
  walk(out.units ?? [], out.accounts ?? []);
  if (seenUnits.size > MAX_UNITS) throw new SeedError(path, `may have at most ${MAX_UNITS} OUs`);
  if (seenAccounts.size > MAX_ACCOUNTS) throw new SeedError(path, `may have at most ${MAX_ACCOUNTS} accounts`);
  return out;
}

/** Replaces the home runtime's organization with the seed's (or removes it: `undefined`). */
export function applySeedOrganization(home: EmulatorRuntime, seed: SeedOrganization | undefined): void {
  if (!seed) {
    organizations.delete(home);
    return;
  }
  const org = new OrganizationState(
    seed.id ?? `o-${randomBytes(5).toString('hex')}`,
    seed.rootId,
    seed.managementAccountId ?? home.store.accountId,
    seed.emptyPages ?? 0,
  );
  const now = home.nowMs();
  const addAccounts = (parentId: string, accounts: readonly (string | SeedOrganizationAccount)[]) => {
    for (const a of accounts) org.upsertAccount({ ...(typeof a === 'string' ? { id: a } : a), parentId }, now);
  };
  const addUnits = (parentId: string, units: readonly SeedOrganizationUnit[]) => {
    for (const u of units) {
      org.parents.set(u.id, { id: u.id, name: u.name, type: 'ORGANIZATIONAL_UNIT', parentId });
      addAccounts(u.id, u.accounts ?? []);
      addUnits(u.id, u.units ?? []);
    }
  };
  addAccounts(seed.rootId, seed.accounts ?? []);
  addUnits(seed.rootId, seed.units ?? []);
  // The management account is a member too (under the root unless the seed placed it).
  if (!org.accounts.has(org.managementAccountId)) {
    org.upsertAccount({ id: org.managementAccountId, name: 'management', parentId: seed.rootId }, now);
  }
  organizations.set(home, org);
}

function requireOrg(home: EmulatorRuntime): OrganizationState {
  const org = organizationOf(home);
  if (!org) throw new AwsError('NotFound', 404, 'no organization: seed one with organization:');
  return org;
}

/**
 * Admin endpoints under `/_emulator/organization`: `GET` the tree; `POST` a seed `organization:` document to
 * replace it; `POST accounts` `{id, parentId, name?, state?, tags?}` to add, move, suspend or retag an account;
 * `DELETE accounts/<id>` to remove one from the organization.
 */
export function handleOrganizationAdmin(
  home: EmulatorRuntime,
  method: string,
  segments: readonly string[],
  body: unknown,
): { status: number; body?: unknown } {
  const [, sub, id] = segments;
  if (sub === undefined) {
    if (method === 'GET') return { status: 200, body: requireOrg(home).describe() };
    if (method === 'POST') {
      applySeedOrganization(home, validateSeedOrganization(body, 'body'));
      return { status: 200, body: requireOrg(home).describe() };
    }
    if (method === 'DELETE') {
      applySeedOrganization(home, undefined);
      return { status: 204 };
    }
  }
  if (sub === 'accounts') {
    const org = requireOrg(home);
    if (method === 'POST' && id === undefined) {
      const account = validateOrgAccount(body, 'body');
      const parentId = isRecord(body) && typeof body.parentId === 'string' ? body.parentId : org.rootId;
      return { status: 200, body: org.upsertAccount({ ...account, parentId }, home.nowMs()) };
    }
    if (method === 'DELETE' && id !== undefined) {
      if (!org.accounts.delete(id)) throw new AwsError('NotFound', 404, `no account ${id} in the organization`);
      return { status: 204 };
    }
  }
  throw new AwsError('NotFound', 404, `unknown admin endpoint ${method} /organization/${segments.slice(1).join('/')}`);
}
