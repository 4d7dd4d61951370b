/**
 * One pass over several AWS accounts: tenancy decides where each policy may reach (src/engine/grants.ts), then
 * every account that any policy reaches gets its own pass — its own clients, credentials and token buckets, its
 * scope applied to its fleet, only the regions granted — all in parallel. An account nobody may reach is not read
 * at all; a refused (account, region) is never read or written. Each account's credentials are verified first
 * (GetCallerIdentity must answer its accountId). One account failing (credentials, mismatch, outage) is reported
 * for that account and delays no other.
 */
import { STSClient } from '@aws-sdk/client-sts';
import type { AwsAccount } from '../api/account-schema.ts';
import { sdkClientConfig } from '../aws/clients.ts';
import { mapConcurrent } from '../aws/concurrency.ts';
import { CredentialCache } from '../aws/credentials.ts';
import { type Aws, type BucketName, type CallEvent, callerIdentity, createAws, type Rates } from '../aws/index.ts';
import { type AccountGrant, decideGrant, inScope, type PolicyGrant, type TenancyInput } from '../engine/grants.ts';
import type { PolicyInput } from '../engine/model.ts';
import type { Clock } from '../shared/clock.ts';
import { compareOrdinal } from '../shared/compare.ts';
import { type PassOptions, type PassResult, reconcileFleet } from './pass.ts';

/** The credentials answer for another account than the AwsAccount declares: nothing is read or written. */
export class AccountMismatchError extends Error {
  override readonly name = 'AccountMismatchError';
  constructor(account: string, expected: string, actual: string) {
    super(`AccountMismatch: account ${account} declares ${expected}, its credentials are account ${actual}`);
  }
}

/**
 * The credentials must be the account's: an AwsAccount without a role (or a mistyped one) must never send one
 * account's policies to another account's fleet. Throws AccountMismatchError, or the STS error as it came.
 */
export async function verifyAccount(
  aws: Aws,
  account: Pick<AccountGrant, 'name' | 'accountId'>,
  region: string,
): Promise<Awaited<ReturnType<typeof callerIdentity>>> {
  const who = await callerIdentity(aws, region);
  if (account.accountId !== '' && who.account !== account.accountId) {
    throw new AccountMismatchError(account.name, account.accountId, who.account);
  }
  return who;
}

/**
 * One pass over `regions` of one account with the policies that reach it (each already narrowed to its granted
 * regions there): the account's scope hides what its policies may not see, so it is never matched or written.
 */
export function reconcileInAccount(
  aws: Aws,
  account: Pick<AccountGrant, 'scope'>,
  reaching: readonly PolicyInput[],
  regions: string[],
  options: Omit<PassOptions, 'defaultRegions' | 'visible' | 'onlyRegions'>,
): Promise<PassResult> {
  const scope = account.scope;
  return reconcileFleet(aws, reaching, {
    ...options,
    defaultRegions: regions,
    onlyRegions: regions,
    ...(scope ? { visible: (fn: Parameters<typeof inScope>[1]) => inScope(scope, fn) } : {}),
  });
}

export interface AccountPass {
  account: string;
  accountId: string;
  regions: string[];
  result?: PassResult;
  error?: Error;
}

export interface AccountsResult {
  grants: Map<string, PolicyGrant>;
  passes: AccountPass[];
}

/** The policies reaching one account, each narrowed to the regions granted to it there. */
function policiesIn(account: string, policies: readonly PolicyInput[], grants: ReadonlyMap<string, PolicyGrant>) {
  const out: PolicyInput[] = [];
  for (const policy of policies) {
    const reach = grants.get(policy.id)?.reach.find((r) => r.account === account);
    if (reach) out.push({ ...policy, selector: { ...policy.selector, regions: reach.regions } });
  }
  return out;
}

export async function reconcileAccounts(
  tenancy: TenancyInput,
  policies: readonly PolicyInput[],
  awsFor: (account: AccountGrant) => Aws,
  options: Omit<PassOptions, 'defaultRegions' | 'visible' | 'onlyRegions'> & {
    /** Accounts in flight at once (each has its own buckets; this bounds sockets and memory). Default 8. */
    accountConcurrency?: number;
  },
): Promise<AccountsResult> {
  const grants = new Map(policies.map((p) => [p.id, decideGrant(p, tenancy)]));
  const accounts = [tenancy.home, ...tenancy.accounts].sort((a, b) => compareOrdinal(a.name, b.name));
  const { accountConcurrency, ...passOptions } = options;
  const passes = await mapConcurrent(
    accounts,
    accountConcurrency ?? 8,
    async (account): Promise<AccountPass | undefined> => {
      const reaching = policiesIn(account.name, policies, grants);
      if (reaching.length === 0) return undefined;
      const regions = [...new Set(reaching.flatMap((p) => p.selector.regions ?? []))].sort(compareOrdinal);
      const base = { account: account.name, accountId: account.accountId, regions };
      try {
        const aws = awsFor(account);
        await verifyAccount(aws, account, regions[0] ?? 'us-east-1');
        // Policies this account refuses (namespace not granted): what they own here stays, nothing is written.
        const refusedOwners = new Set(
          [...grants]
            .filter(([, g]) => g.refused.some((r) => r.account === account.name && !r.region))
            .map(([id]) => id),
        );
        const result = await reconcileInAccount(aws, account, reaching, regions, {
          ...passOptions,
          refusedOwners,
          // Remediation records name the account the write went to.
          execute: { ...passOptions.execute, account: account.name },
        });
        return { ...base, result };
      } catch (error) {
        return { ...base, error: error instanceof Error ? error : new Error(String(error)) };
      }
    },
  );
  return { grants, passes: passes.filter((p): p is AccountPass => p !== undefined) };
}

const RATE_BUCKETS: Record<string, BucketName> = {
  lambda: 'lambda',
  getFunction: 'lambda-getfunction',
  autoscaling: 'autoscaling',
  tagging: 'tagging',
};

/** An AwsAccount's `rates` as the rate limiter's buckets (each account, region and bucket has its own). */
export function ratesOf(account: AwsAccount | undefined): Partial<Rates> {
  const out: Partial<Rates> = {};
  for (const [key, value] of Object.entries(account?.spec.rates ?? {})) {
    const bucket = RATE_BUCKETS[key];
    if (bucket !== undefined && typeof value === 'number') out[bucket] = value;
  }
  return out;
}

/** What of an AwsAccount its clients are made from: a change makes new clients (and new credentials). */
function clientFingerprint(account: AwsAccount): string {
  return JSON.stringify([account.spec.accountId, account.spec.assumeRole ?? null, account.spec.rates ?? null]);
}

/**
 * Clients per AwsAccount for a long-running process: each account has its own SDK clients, token buckets and
 * credentials (assumed from the process's own identity, cached and refreshed before expiry); an account whose
 * role, id or rates change gets new ones, an account that goes is destroyed.
 */
export class AccountClients {
  readonly #options: {
    regions: string[];
    endpoint?: string | undefined;
    onCall?: ((call: CallEvent) => void) | undefined;
    clock: Clock;
  };
  readonly #sts: STSClient;
  readonly #cache: CredentialCache;
  readonly #clients = new Map<string, { fingerprint: string; aws: Aws }>();

  constructor(options: {
    regions: string[];
    endpoint?: string | undefined;
    onCall?: ((call: CallEvent) => void) | undefined;
    clock: Clock;
  }) {
    this.#options = options;
    const endpoint = options.endpoint === undefined ? {} : { endpoint: options.endpoint };
    this.#sts = new STSClient(sdkClientConfig(options.regions[0] ?? 'us-east-1', endpoint));
    this.#cache = new CredentialCache({ sts: this.#sts, clock: options.clock });
  }

  get(account: AwsAccount): Aws {
    const name = account.metadata.name;
    const fingerprint = clientFingerprint(account);
    const known = this.#clients.get(name);
    if (known?.fingerprint === fingerprint) return known.aws;
    if (known) this.forget(name);
    const role = account.spec.assumeRole;
    const aws = createAws({
      regions: account.spec.regions,
      ...(this.#options.endpoint === undefined ? {} : { endpoint: this.#options.endpoint }),
      ...(this.#options.onCall ? { onCall: this.#options.onCall } : {}),
      ...(role
        ? {
            credentials: this.#cache.provider({
              account: name,
              accountId: account.spec.accountId,
              roleArn: role.roleArn,
              externalId: role.externalId,
              sessionName: role.sessionName,
            }),
          }
        : {}),
      rates: ratesOf(account),
    });
    this.#clients.set(name, { fingerprint, aws });
    return aws;
  }

  /** Names of the accounts with clients. */
  names(): string[] {
    return [...this.#clients.keys()];
  }

  forget(name: string): void {
    this.#clients.get(name)?.aws.destroy();
    this.#clients.delete(name);
    this.#cache.invalidate(name);
  }

  destroy(): void {
    for (const name of this.names()) this.forget(name);
    this.#sts.destroy();
  }
}
