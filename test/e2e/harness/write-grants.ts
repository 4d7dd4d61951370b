/**
 * "No write outside a policy's grant", checked from the emulator's write logs (every account's): each write —
 * applied or refused, to a function or to its Application Auto Scaling target — must be to a function that some
 * policy both selects and may reach there (tenancy from src/engine/grants.ts: the AwsAccounts, the namespaces'
 * labels, the home account's grant; the account's scope). Returns the offending writes, described, so a test
 * asserts `toEqual([])` and a failure names each one.
 */
import type { AwsAccount } from '../../../src/api/account-schema.ts';
import type { LabelSelector } from '../../../src/api/label-selector.ts';
import { toPolicyInput } from '../../../src/api/parse.ts';
import type { LambdaPolicy } from '../../../src/api/schema.ts';
import { snapshotState } from '../../../src/emulator/admin-api.ts';
import type { Emulator } from '../../../src/emulator/index.ts';
import { type EmulatorRuntime, parseFunctionResourceId } from '../../../src/emulator/runtime.ts';
import {
  type AccountGrant,
  accountGrant,
  decideGrant,
  HOME_ACCOUNT,
  homeGrant,
  inScope,
} from '../../../src/engine/grants.ts';
import { matches } from '../../../src/engine/select.ts';
import type { ClusterClient } from './cluster-client.ts';

export interface GrantCheck {
  emulator: Emulator;
  policies: readonly LambdaPolicy[];
  accounts?: readonly AwsAccount[];
  /** Labels of the policies' namespaces (absent: none). */
  namespaceLabels?: ReadonlyMap<string, Readonly<Record<string, string>>>;
  /** The controller's `--regions`. */
  defaultRegions: readonly string[];
  /** `--home-account-namespaces` as parsed (default {}: every namespace; null: none). */
  homePolicyNamespaces?: LabelSelector | null;
  /** Only writes with a higher sequence number, per account id (default: every write). */
  since?: ReadonlyMap<string, number>;
}

function runtimes(emulator: Emulator): EmulatorRuntime[] {
  return [emulator.runtime, ...emulator.runtime.accounts.values()];
}

/** The write-log sequence of every account now: a bookmark for `since`. */
export function writeBookmarks(emulator: Emulator): Map<string, number> {
  return new Map(runtimes(emulator).map((rt) => [rt.store.accountId, rt.writes.at(-1)?.seq ?? 0]));
}

/**
 * writesOutsideGrants with the policies, AwsAccounts and namespace labels the API server holds now. Call it while
 * the policies that wrote are still declared as they were (or pass `since`).
 */
export async function writesOutsideClusterGrants(
  cluster: ClusterClient,
  emulator: Emulator,
  options: Omit<GrantCheck, 'emulator' | 'policies' | 'accounts' | 'namespaceLabels'>,
): Promise<string[]> {
  const [policies, accounts, namespaces] = await Promise.all([
    cluster.kubectlJson<{ items: LambdaPolicy[] }>(['get', 'lambdapolicies', '-A']),
    cluster
      .kubectlJson<{ items: AwsAccount[] }>(['get', 'awsaccounts'])
      .catch((): { items: AwsAccount[] } => ({ items: [] })),
    cluster.kubectlJson<{ items: { metadata: { name: string; labels?: Record<string, string> } }[] }>([
      'get',
      'namespaces',
    ]),
  ]);
  return writesOutsideGrants({
    ...options,
    emulator,
    policies: policies.items.filter((p) => !p.metadata.deletionTimestamp),
    accounts: accounts.items,
    namespaceLabels: new Map(namespaces.items.map((n) => [n.metadata.name, n.metadata.labels ?? {}])),
  });
}

export function writesOutsideGrants(check: GrantCheck): string[] {
  const home = check.emulator.runtime;
  const homeId = home.store.accountId;
  const accounts = (check.accounts ?? []).map(accountGrant);
  const homeNs = check.homePolicyNamespaces === null ? undefined : (check.homePolicyNamespaces ?? {});
  const policies = check.policies.map((p) => ({ object: p, input: toPolicyInput(p) }));
  const offending: string[] = [];
  for (const rt of runtimes(check.emulator)) {
    const accountId = rt.store.accountId;
    // The AwsAccounts naming this account id (and the home account for the home runtime) may each grant.
    const grantsHere: AccountGrant[] = accounts.filter((a) => a.accountId === accountId);
    const tagsOf = new Map<string, Record<string, string>>();
    // A log group's writes (retention) belong to the function that logs there.
    const logGroupOf = new Map<string, string>();
    for (const [region, view] of Object.entries(snapshotState(rt).regions)) {
      for (const fn of view.functions) tagsOf.set(`${region}/${fn.name}`, fn.tags);
    }
    for (const [region, state] of rt.store.regions) {
      for (const [name, fn] of state.functions) {
        logGroupOf.set(`${region}/${fn.config.logging?.logGroup ?? `/aws/lambda/${name}`}`, name);
      }
    }
    for (const w of rt.writes) {
      if (w.seq <= (check.since?.get(accountId) ?? 0)) continue;
      const name =
        w.function ??
        (w.resourceId
          ? (parseFunctionResourceId(w.resourceId)?.name ?? logGroupOf.get(`${w.region}/${w.resourceId}`))
          : undefined);
      const describe = `#${w.seq} ${w.api} account ${accountId} ${w.region}/${name ?? w.resourceId ?? '?'}`;
      if (name === undefined) {
        offending.push(`${describe}: not a function's write`);
        continue;
      }
      const fn = { region: w.region, name, tags: tagsOf.get(`${w.region}/${name}`) ?? {} };
      const allowed = policies.some(({ object, input }) => {
        const namespace = object.metadata.namespace ?? 'default';
        const selector = object.spec.selector ?? {};
        const homeRegions = [...new Set([...check.defaultRegions, ...(selector.regions ?? [])])];
        const grant = decideGrant(
          { namespace, selector },
          {
            accounts,
            home: homeGrant(homeId, homeRegions, homeNs),
            namespaceLabels: check.namespaceLabels ?? new Map(),
            defaultRegions: check.defaultRegions,
          },
        );
        return grant.reach.some((reach) => {
          if (!reach.regions.includes(w.region)) return false;
          const account =
            reach.account === HOME_ACCOUNT
              ? accountId === homeId
                ? { scope: undefined }
                : undefined
              : grantsHere.find((a) => a.name === reach.account);
          if (!account || !inScope(account.scope, fn)) return false;
          return matches({ ...input, selector: { ...input.selector, regions: [w.region] } }, fn, [w.region]);
        });
      });
      if (!allowed) offending.push(`${describe}: no policy may write it there`);
    }
  }
  return offending;
}
