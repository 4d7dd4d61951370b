/**
 * Account discovery in AWS Organizations: the ACTIVE accounts under given roots/OUs, recursively, each with its
 * tags, read through the organization's own role (management account or a delegated administrator).
 *
 * Organizations publishes no per-API request rate, answers TooManyRequestsException (HTTP 400, "another request is
 * already in progress") to bursts and parallel calls, and serves at most 20 items a page. So discovery is one call
 * at a time, paced (default 2 calls/s), throttling and transient errors retried with exponential backoff and full
 * jitter, pages of 20, and every list is followed by NextToken alone (a page may be empty and still not the last).
 * It is bounded: OU depth (AWS nests at most five levels), accounts, and calls.
 */
import {
  DescribeOrganizationCommand,
  ListAccountsForParentCommand,
  ListOrganizationalUnitsForParentCommand,
  ListTagsForResourceCommand,
  OrganizationsClient,
} from '@aws-sdk/client-organizations';
import type { Clock } from '../shared/clock.ts';
import { compareOrdinal } from '../shared/compare.ts';
import { CAPTURE_STEP, type ClientsConfig, expiredTokenMiddleware, RETRY_STEP, sdkClientConfig } from './clients.ts';
import { type AwsError, AwsRetryableError, AwsThrottledError, classifyAwsError } from './errors.ts';

/** Organizations is a global service signed for us-east-1 (aws partition). */
export const ORGANIZATIONS_REGION = 'us-east-1';
export const PAGE_SIZE = 20;
/** AWS nests OUs at most five levels below the root. */
export const MAX_OU_DEPTH = 5;

export function createOrganizationsClient(config: ClientsConfig): OrganizationsClient {
  const client = new OrganizationsClient(sdkClientConfig(ORGANIZATIONS_REGION, config));
  if (typeof config.credentials === 'function') {
    const mw = expiredTokenMiddleware(config.credentials);
    client.middlewareStack.add(mw.capture, CAPTURE_STEP);
    client.middlewareStack.add(mw.retry, RETRY_STEP);
  }
  return client;
}

export interface DiscoveredAccount {
  id: string;
  name: string;
  email: string;
  /** The root or OU the account sits directly under. */
  parentId: string;
  tags: Record<string, string>;
}

export interface DiscoveryOptions {
  /** Root and OU ids to start from. */
  parents: readonly string[];
  clock: Clock;
  /** OU levels followed below each parent (0: the parents' own accounts only). Default MAX_OU_DEPTH. */
  maxDepth?: number;
  /** At most this many ACTIVE accounts (the rest is reported as truncated). Default 1000. */
  maxAccounts?: number;
  /** Calls at most (a runaway tree or a token loop ends here). Default 10 000. */
  maxCalls?: number;
  /** Calls per second, one at a time. Default 2. */
  rate?: number;
  /** Attempts per call for throttling and transient errors. Default 6. */
  maxAttempts?: number;
  /** First backoff delay, doubled per attempt, full jitter. Default 1000 ms. */
  baseDelayMs?: number;
  random?: () => number;
  onCall?: (event: { api: string; attempt: number; outcome: 'ok' | 'throttled' | 'retryable' | 'failed' }) => void;
}

export interface Discovery {
  organizationId: string;
  managementAccountId: string;
  /** ACTIVE accounts, by id. */
  accounts: DiscoveredAccount[];
  /** Accounts seen that are not ACTIVE (suspended, closing, pending), by id. */
  inactive: { id: string; state: string }[];
  /** A bound (depth, accounts or calls) cut the listing short; what is missing is unknown. */
  truncated: string | undefined;
  calls: number;
}

/** Discovery failed (the cause is the classified AWS error, naming the API). */
export class OrganizationsDiscoveryError extends Error {
  override readonly name = 'OrganizationsDiscoveryError';
  readonly awsCode: string | undefined;
  readonly api: string;
  constructor(api: string, cause: AwsError) {
    super(`Organizations ${api} failed: ${cause.awsCode ?? cause.code}: ${cause.message}`, { cause });
    this.api = api;
    this.awsCode = cause.awsCode;
  }
}

class Caller {
  readonly #client: OrganizationsClient;
  readonly #options: DiscoveryOptions;
  #nextAt = 0;
  calls = 0;

  constructor(client: OrganizationsClient, options: DiscoveryOptions) {
    this.#client = client;
    this.#options = options;
  }

  async send<T>(api: string, run: (client: OrganizationsClient) => Promise<T>): Promise<T> {
    const { clock } = this.#options;
    const maxAttempts = this.#options.maxAttempts ?? 6;
    const base = this.#options.baseDelayMs ?? 1000;
    const random = this.#options.random ?? Math.random;
    const interval = 1000 / (this.#options.rate ?? 2);
    for (let attempt = 1; ; attempt++) {
      const wait = this.#nextAt - clock.now();
      if (wait > 0) await clock.sleep(wait);
      this.#nextAt = clock.now() + interval;
      this.calls++;
      try {
        const out = await run(this.#client);
        this.#options.onCall?.({ api, attempt, outcome: 'ok' });
        return out;
      } catch (raw) {
        const error = classifyAwsError(raw, api);
        const throttled = error instanceof AwsThrottledError;
        const transient = throttled || error instanceof AwsRetryableError;
        this.#options.onCall?.({
          api,
          attempt,
          outcome: throttled ? 'throttled' : transient ? 'retryable' : 'failed',
        });
        if (!transient || attempt >= maxAttempts) throw new OrganizationsDiscoveryError(api, error);
        const retryAfter = throttled ? (error.retryAfterMs ?? 0) : 0;
        await clock.sleep(Math.max(retryAfter, random() * base * 2 ** (attempt - 1)));
      }
    }
  }
}

/** Every page of one list, following NextToken only (an empty page may still have a successor). */
async function listAll<T>(
  caller: Caller,
  api: string,
  budget: () => boolean,
  page: (client: OrganizationsClient, token: string | undefined) => Promise<{ items: T[]; next: string | undefined }>,
): Promise<{ items: T[]; complete: boolean }> {
  const items: T[] = [];
  const seen = new Set<string>();
  let token: string | undefined;
  do {
    if (!budget()) return { items, complete: false };
    const out = await caller.send(api, (client) => page(client, token));
    items.push(...out.items);
    token = out.next;
    if (token !== undefined) {
      // A token served twice would loop for ever.
      if (seen.has(token)) {
        throw new OrganizationsDiscoveryError(
          api,
          new AwsRetryableError(`${api} repeated its NextToken`, undefined, { api, awsCode: 'PaginationLoop' }),
        );
      }
      seen.add(token);
    }
  } while (token !== undefined);
  return { items, complete: true };
}

/** Lists the ACTIVE accounts under `parents` (recursively, bounded) with their tags. */
export async function discoverAccounts(client: OrganizationsClient, options: DiscoveryOptions): Promise<Discovery> {
  const caller = new Caller(client, options);
  const maxDepth = Math.min(options.maxDepth ?? MAX_OU_DEPTH, MAX_OU_DEPTH);
  const maxAccounts = options.maxAccounts ?? 1000;
  const maxCalls = options.maxCalls ?? 10_000;
  let truncated: string | undefined;
  const withinCalls = () => {
    if (caller.calls < maxCalls) return true;
    truncated ??= `stopped after ${maxCalls} calls`;
    return false;
  };

  const org = await caller.send('DescribeOrganization', (c) => c.send(new DescribeOrganizationCommand({})));
  const active = new Map<string, DiscoveredAccount>();
  const inactive = new Map<string, string>();
  const visited = new Set<string>();
  // Breadth first, so a depth or count bound cuts the deepest or last OUs, never a parent's own accounts.
  let level: string[] = [...new Set(options.parents)].sort(compareOrdinal);
  for (let depth = 0; level.length > 0; depth++) {
    const next: string[] = [];
    for (const parentId of level) {
      if (visited.has(parentId)) continue;
      visited.add(parentId);
      const accounts = await listAll(caller, 'ListAccountsForParent', withinCalls, async (c, token) => {
        const out = await c.send(
          new ListAccountsForParentCommand({ ParentId: parentId, MaxResults: PAGE_SIZE, NextToken: token }),
        );
        return { items: out.Accounts ?? [], next: out.NextToken };
      });
      for (const a of accounts.items) {
        if (!a.Id) continue;
        // `State` replaced `Status` (retired September 2026); an older endpoint may still send only `Status`.
        const state = a.State ?? a.Status ?? 'UNKNOWN';
        if (state !== 'ACTIVE') {
          inactive.set(a.Id, state);
          continue;
        }
        if (active.has(a.Id)) continue;
        if (active.size >= maxAccounts) {
          truncated ??= `more than ${maxAccounts} active accounts`;
          continue;
        }
        active.set(a.Id, { id: a.Id, name: a.Name ?? a.Id, email: a.Email ?? '', parentId, tags: {} });
      }
      if (!accounts.complete) break;
      const units = await listAll(caller, 'ListOrganizationalUnitsForParent', withinCalls, async (c, token) => {
        const out = await c.send(
          new ListOrganizationalUnitsForParentCommand({ ParentId: parentId, MaxResults: PAGE_SIZE, NextToken: token }),
        );
        return { items: out.OrganizationalUnits ?? [], next: out.NextToken };
      });
      const children = units.items.flatMap((u) => (u.Id ? [u.Id] : []));
      if (depth < maxDepth) next.push(...children);
      else if (children.length > 0) truncated ??= `OUs nested deeper than ${maxDepth} levels were not listed`;
      if (!units.complete) break;
    }
    level = [...new Set(next)].sort(compareOrdinal);
  }

  let accounts = [...active.values()].sort((a, b) => compareOrdinal(a.id, b.id));
  for (const [i, account] of accounts.entries()) {
    const tags = await listAll(caller, 'ListTagsForResource', withinCalls, async (c, token) => {
      const out = await c.send(new ListTagsForResourceCommand({ ResourceId: account.id, NextToken: token }));
      return { items: out.Tags ?? [], next: out.NextToken };
    });
    if (!tags.complete) {
      // An account without all its tags would get wrong labels: it and the rest are left out (truncated).
      accounts = accounts.slice(0, i);
      break;
    }
    for (const t of tags.items) if (t.Key !== undefined && t.Value !== undefined) account.tags[t.Key] = t.Value;
  }
  return {
    organizationId: org.Organization?.Id ?? '',
    managementAccountId: org.Organization?.MasterAccountId ?? '',
    accounts,
    inactive: [...inactive].map(([id, state]) => ({ id, state })).sort((a, b) => compareOrdinal(a.id, b.id)),
    truncated,
    calls: caller.calls,
  };
}
