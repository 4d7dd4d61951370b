/**
 * One pass over several AWS accounts: tenancy decides where each policy may reach (src/engine/grants.ts), then
 * every account that any policy reaches gets its own pass — its own clients, credentials and token buckets, its
 * scope applied to its fleet, only the regions granted — all in parallel. An account nobody may reach is not read
 * at all; a refused (account, region) is never read or written. Each account's credentials are verified first
 * (GetCallerIdentity must answer its accountId). One account failing (credentials, mismatch, outage) is reported
 * for that account and delays no other.
 */
import { mapConcurrent } from '../aws/concurrency.ts';
import { type Aws, callerIdentity } from '../aws/index.ts';
import { type AccountGrant, decideGrant, inScope, type PolicyGrant, type TenancyInput } from '../engine/grants.ts';
import type { PolicyInput } from '../engine/model.ts';
import { compareOrdinal } from '../shared/compare.ts';
import { type PassOptions, type PassResult, reconcileFleet } from './pass.ts';

/** The credentials answer for another account than the AwsAccount declares: nothing is read or written. */
export class AccountMismatchError extends Error {
  override readonly name = 'AccountMismatchError';
  constructor(account: string, expected: string, actual: string) {
    super(`AccountMismatch: account ${account} declares ${expected}, its credentials are account ${actual}`);
  }
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
        // The credentials must be the account's: an AwsAccount without a role (or a mistyped one) must never
        // send one account's policies to another account's fleet.
        const who = await callerIdentity(aws, regions[0] ?? 'us-east-1');
        if (account.accountId !== '' && who.account !== account.accountId) {
          throw new AccountMismatchError(account.name, account.accountId, who.account);
        }
        const result = await reconcileFleet(aws, reaching, {
          ...passOptions,
          execute: { ...passOptions.execute, account: account.name },
          defaultRegions: regions,
          onlyRegions: regions,
          visible: (fn) => inScope(account.scope, fn),
        });
        return { ...base, result };
      } catch (error) {
        return { ...base, error: error instanceof Error ? error : new Error(String(error)) };
      }
    },
  );
  return { grants, passes: passes.filter((p): p is AccountPass => p !== undefined) };
}
