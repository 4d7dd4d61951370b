/**
 * Tenancy: which (account, region) pairs a LambdaPolicy may reach, decided from the cluster-scoped AwsAccounts,
 * the labels of the policy's namespace and the policy's own selector. Pure: the shell lists AwsAccounts and
 * Namespaces and hands them in; nothing here reads or writes.
 *
 * A policy names accounts with `selector.accounts` / `selector.accountSelector`, or neither (the home account: the
 * controller's own credentials). Every account it names must grant its namespace (`policyNamespaces`) and every
 * region it names must be one of the account's; what is refused is reported (the policy is Stalled, OutOfScope)
 * and never read or written. An account's `scope` is shared by every policy that reaches it, so it applies to the
 * account's fleet: functions outside it are invisible (never matched, never written).
 */
import type { AwsAccount } from '../api/account-schema.ts';
import { type LabelSelector, matchesLabels } from '../api/label-selector.ts';
import type { Selector } from '../api/schema.ts';
import { compareOrdinal } from '../shared/compare.ts';
import type { PolicyInput } from './model.ts';
import { globMatches, type SelectableFunction } from './select.ts';

/** The account name policies and status use for the controller's own credentials. */
export const HOME_ACCOUNT = 'home';

export interface AccountScope {
  functionNames?: readonly string[] | undefined;
  tags?: Readonly<Record<string, string>> | undefined;
}

/** One account as tenancy sees it (an AwsAccount, or the home account). */
export interface AccountGrant {
  /** AwsAccount name, or `home`. */
  name: string;
  accountId: string;
  labels: Readonly<Record<string, string>>;
  regions: readonly string[];
  /** undefined: no namespace may use it. */
  policyNamespaces: LabelSelector | undefined;
  scope?: AccountScope | undefined;
}

export interface TenancyInput {
  accounts: readonly AccountGrant[];
  home: AccountGrant;
  /** Labels of every namespace the controller knows, by name (an unknown namespace has no labels). */
  namespaceLabels: ReadonlyMap<string, Readonly<Record<string, string>>>;
  /** Regions of policies without `selector.regions` in the home account (the controller's regions). */
  defaultRegions: readonly string[];
}

export interface Reach {
  account: string;
  accountId: string;
  regions: string[];
}

export type RefusalReason = 'UnknownAccount' | 'NamespaceNotGranted' | 'RegionNotGranted';

export interface Refusal {
  account: string;
  accountId?: string;
  region?: string;
  reason: RefusalReason;
}

export interface PolicyGrant {
  reach: Reach[];
  refused: Refusal[];
}

type AccountSelection = Pick<Selector, 'regions'> & {
  accounts?: readonly string[] | undefined;
  accountSelector?: LabelSelector | undefined;
};

/**
 * The home account as a grant. `policyNamespaces` is required, with no default: `{}` is every namespace (the
 * controller's default, as before accounts existed) and `undefined` is none, so a caller passing on an absent
 * selector gets "nobody", never "everyone".
 */
export function homeGrant(
  accountId: string,
  regions: readonly string[],
  policyNamespaces: LabelSelector | undefined,
): AccountGrant {
  return { name: HOME_ACCOUNT, accountId, labels: {}, regions, policyNamespaces };
}

export function accountGrant(account: AwsAccount): AccountGrant {
  return {
    name: account.metadata.name,
    accountId: account.spec.accountId,
    labels: account.metadata.labels ?? {},
    regions: account.spec.regions,
    policyNamespaces: account.spec.policyNamespaces,
    scope: account.spec.scope,
  };
}

export function namespaceGranted(account: AccountGrant, labels: Readonly<Record<string, string>>): boolean {
  return account.policyNamespaces !== undefined && matchesLabels(account.policyNamespaces, labels);
}

/** Where one policy may reach, and what it asked for that it may not have. */
export function decideGrant(
  policy: { namespace: string; selector: AccountSelection },
  input: TenancyInput,
): PolicyGrant {
  const { selector } = policy;
  const byName = new Map(input.accounts.map((a) => [a.name, a]));
  const targets = new Map<string, AccountGrant>();
  const refused: Refusal[] = [];
  const named = selector.accounts ?? [];
  const usesAccounts = named.length > 0 || selector.accountSelector !== undefined;
  if (!usesAccounts) targets.set(input.home.name, input.home);
  for (const name of named) {
    const account = byName.get(name);
    if (account) targets.set(name, account);
    else refused.push({ account: name, reason: 'UnknownAccount' });
  }
  if (selector.accountSelector) {
    for (const account of input.accounts) {
      if (matchesLabels(selector.accountSelector, account.labels)) targets.set(account.name, account);
    }
  }
  const nsLabels = input.namespaceLabels.get(policy.namespace) ?? {};
  const reach: Reach[] = [];
  for (const account of [...targets.values()].sort((a, b) => compareOrdinal(a.name, b.name))) {
    if (!namespaceGranted(account, nsLabels)) {
      refused.push({ account: account.name, accountId: account.accountId, reason: 'NamespaceNotGranted' });
      continue;
    }
    const asked =
      selector.regions && selector.regions.length > 0
        ? selector.regions
        : account === input.home
          ? input.defaultRegions
          : account.regions;
    const granted = new Set(account.regions);
    const regions = [...new Set(asked)].filter((r) => granted.has(r)).sort(compareOrdinal);
    for (const region of [...new Set(asked)].filter((r) => !granted.has(r)).sort(compareOrdinal)) {
      refused.push({ account: account.name, accountId: account.accountId, region, reason: 'RegionNotGranted' });
    }
    if (regions.length > 0) reach.push({ account: account.name, accountId: account.accountId, regions });
  }
  return { reach, refused };
}

/** The Stalled/OutOfScope message: what was refused, named (bounded, so status stays small). */
export function outOfScopeMessage(refused: readonly Refusal[], max = 8): string {
  const describe = (r: Refusal): string => {
    const id = r.accountId ? ` (${r.accountId})` : '';
    if (r.reason === 'UnknownAccount') return `account ${r.account}: no such AwsAccount`;
    if (r.reason === 'NamespaceNotGranted') return `account ${r.account}${id}: namespace not granted`;
    return `account ${r.account}${id} region ${r.region ?? ''}: region not granted`;
  };
  const shown = refused.slice(0, max).map(describe);
  const more = refused.length > max ? `; and ${refused.length - max} more` : '';
  return `out of scope, nothing read or written there: ${shown.join('; ')}${more}`;
}

/** Is the function inside the account's scope (absent scope: everything)? */
export function inScope(scope: AccountScope | undefined, fn: Pick<SelectableFunction, 'name' | 'tags'>): boolean {
  if (!scope) return true;
  if (scope.functionNames && !scope.functionNames.some((g) => globMatches(g, fn.name))) return false;
  for (const [key, value] of Object.entries(scope.tags ?? {})) {
    if (fn.tags[key] !== value) return false;
  }
  return true;
}

/** The part of an account's fleet its policies may see. */
export function scopeFunctions<T extends Pick<SelectableFunction, 'name' | 'tags'>>(
  scope: AccountScope | undefined,
  functions: readonly T[],
): T[] {
  return scope ? functions.filter((f) => inScope(scope, f)) : [...functions];
}

/**
 * The policies that reach (account, region), each narrowed to that region, for one plan over that account's
 * region fleet. A policy without a grant there is left out: it can match nothing it may not touch.
 */
export function policiesFor(
  account: string,
  region: string,
  policies: readonly PolicyInput[],
  grants: ReadonlyMap<string, PolicyGrant>,
): PolicyInput[] {
  const out: PolicyInput[] = [];
  for (const policy of policies) {
    const reach = grants.get(policy.id)?.reach.find((r) => r.account === account);
    if (!reach?.regions.includes(region)) continue;
    out.push({ ...policy, selector: { ...policy.selector, regions: [region] } });
  }
  return out;
}
