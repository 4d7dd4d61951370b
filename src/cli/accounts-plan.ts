/**
 * `plan` / `apply` over several AWS accounts: the AwsAccount grants and Namespaces found beside the policies (the
 * same -f paths) decide where each policy may reach; each reached account gets its own clients (its assumed
 * role's credentials, its rates) and its own pass. A policy reaching outside its grant is reported OutOfScope and
 * fails the check (exit 1): nothing is read or written where it was refused.
 */
import { STSClient } from '@aws-sdk/client-sts';
import { Document } from 'yaml';
import type { AwsAccount } from '../api/account-schema.ts';
import type { NamespaceLabels } from '../api/tenancy-documents.ts';
import { sdkClientConfig } from '../aws/clients.ts';
import { CredentialCache, type RoleTarget } from '../aws/credentials.ts';
import { type Aws, type BucketName, callerIdentity, createAws, type Rates } from '../aws/index.ts';
import {
  type AccountGrant,
  accountGrant,
  HOME_ACCOUNT,
  homeGrant,
  outOfScopeMessage,
  type TenancyInput,
} from '../engine/grants.ts';
import type { IacOwnerTag } from '../engine/iac.ts';
import type { Plan, PolicyInput, RuntimeTable } from '../engine/model.ts';
import type { RolloutOptions } from '../engine/rollout.ts';
import { type AccountsResult, reconcileAccounts } from '../reconcile/accounts.ts';
import { systemClock } from '../shared/clock.ts';
import { escapeJsonText } from './escape.ts';
import { EXIT_DRIFT, EXIT_ERROR, EXIT_OK } from './exit-codes.ts';
import { PLAN_FORMAT_VERSION, planToJson, renderMarkdown, renderText } from './render.ts';

export interface AccountsPlanOptions {
  output: 'table' | 'json' | 'yaml' | 'markdown';
  /** Documents that are not LambdaPolicies (nor grants), counted by kind. */
  skipped: Record<string, number>;
  runtimes?: RuntimeTable | undefined;
  rollout?: RolloutOptions | undefined;
  iacOwnerTags?: readonly IacOwnerTag[] | undefined;
  now?: Date | undefined;
  enforce: boolean;
  concurrency?: number | undefined;
  endpoint?: string | undefined;
  defaultRegions: string[];
  /** `--assume-role`: the home account is reached through this role instead of the caller's own identity. */
  assumeRole?: { roleArn: string; externalId?: string | undefined } | undefined;
}

/** Whether the multi-account path applies: grants were given, a policy names accounts, or a role is assumed. */
export function usesAccounts(
  policies: readonly PolicyInput[],
  tenancy: { accounts: AwsAccount[] } | undefined,
  assumeRole: unknown,
): boolean {
  return (
    assumeRole !== undefined ||
    (tenancy?.accounts.length ?? 0) > 0 ||
    policies.some((p) => (p.selector.accounts ?? []).length > 0 || p.selector.accountSelector !== undefined)
  );
}

const RATE_BUCKETS: Record<string, BucketName> = {
  lambda: 'lambda',
  getFunction: 'lambda-getfunction',
  autoscaling: 'autoscaling',
  tagging: 'tagging',
};

function ratesOf(account: AwsAccount | undefined): Partial<Rates> {
  const out: Partial<Rates> = {};
  for (const [key, value] of Object.entries(account?.spec.rates ?? {})) {
    const bucket = RATE_BUCKETS[key];
    if (bucket !== undefined && typeof value === 'number') out[bucket] = value;
  }
  return out;
}

function accountIdOfRole(roleArn: string): string {
  return /:iam::(\d{12}):role\//.exec(roleArn)?.[1] ?? '';
}

export async function runAccountsPlan(
  policies: readonly PolicyInput[],
  tenancy: { accounts: AwsAccount[]; namespaces: NamespaceLabels[] },
  opts: AccountsPlanOptions,
): Promise<number> {
  const region = opts.defaultRegions[0] ?? 'us-east-1';
  const endpoint = opts.endpoint === undefined ? {} : { endpoint: opts.endpoint };
  const sts = new STSClient(sdkClientConfig(region, endpoint));
  const cache = new CredentialCache({ sts, clock: systemClock });
  const created: Aws[] = [];
  const make = (credentials: RoleTarget | undefined, rates: Partial<Rates>): Aws => {
    const aws = createAws({
      regions: opts.defaultRegions,
      ...endpoint,
      ...(credentials ? { credentials: cache.provider(credentials) } : {}),
      rates,
    });
    created.push(aws);
    return aws;
  };
  try {
    const homeRole = opts.assumeRole
      ? { account: HOME_ACCOUNT, accountId: accountIdOfRole(opts.assumeRole.roleArn), ...opts.assumeRole }
      : undefined;
    const homeAws = make(homeRole, {});
    const homeId =
      homeRole?.accountId ||
      (await callerIdentity(homeAws, region).then(
        (i) => i.account,
        () => '',
      ));
    const byName = new Map(tenancy.accounts.map((a) => [a.metadata.name, a]));
    const input: TenancyInput = {
      accounts: tenancy.accounts.map(accountGrant),
      home: homeGrant(homeId, opts.defaultRegions, {}),
      namespaceLabels: new Map(tenancy.namespaces.map((n) => [n.name, n.labels])),
      defaultRegions: opts.defaultRegions,
    };
    const awsFor = (grant: AccountGrant): Aws => {
      if (grant.name === HOME_ACCOUNT) return homeAws;
      const account = byName.get(grant.name);
      const role = account?.spec.assumeRole;
      return make(
        role
          ? {
              account: grant.name,
              accountId: grant.accountId,
              roleArn: role.roleArn,
              externalId: role.externalId,
              sessionName: role.sessionName,
            }
          : undefined,
        ratesOf(account),
      );
    };
    const result = await reconcileAccounts(input, policies, awsFor, {
      now: opts.now,
      enforce: opts.enforce,
      execute: { concurrency: opts.concurrency },
      runtimes: opts.runtimes,
      rollout: opts.rollout,
      iacOwnerTags: opts.iacOwnerTags,
    });
    const stalled = [...result.grants].filter(([, g]) => g.refused.length > 0);
    for (const [id, g] of stalled) {
      process.stderr.write(`error: policy ${id}: OutOfScope: ${outOfScopeMessage(g.refused)}\n`);
    }
    for (const pass of result.passes.filter((p) => p.error)) {
      process.stderr.write(`error: account ${pass.account}: ${pass.error?.message ?? ''}\n`);
    }
    process.stdout.write(renderAccounts(result, opts));
    if (stalled.length > 0 || result.passes.some((p) => p.error)) return EXIT_ERROR;
    const executions = result.passes.flatMap((p) => p.result?.executions ?? []);
    if (executions.some((e) => !e.ok)) return EXIT_DRIFT;
    if (opts.enforce && executions.length > 0) return EXIT_OK;
    return result.passes.some((p) => p.result && hasDrift(p.result.plan)) ? EXIT_DRIFT : EXIT_OK;
  } finally {
    for (const aws of created) aws.destroy();
    sts.destroy();
  }
}

function hasDrift(plan: Plan): boolean {
  return plan.functions.some((f) => !f.compliant || f.auditDrift.length > 0);
}

/** The plan document with `account` on every function, plus per-account and per-policy tenancy outcomes. */
export function accountsJson(result: AccountsResult) {
  const functions = result.passes.flatMap((p) => (p.result ? planToJson(p.result.plan, p.account).functions : []));
  return {
    accounts: result.passes.map((p) => ({
      account: p.account,
      accountId: p.accountId,
      regions: p.regions,
      ...(p.result ? { summary: p.result.plan.summary, writes: p.result.executions.length } : {}),
      ...(p.error ? { error: p.error.message } : {}),
    })),
    functions,
    policies: [...result.grants].map(([id, g]) => ({
      name: id,
      reach: g.reach,
      ...(g.refused.length > 0 ? { stalled: 'OutOfScope', message: outOfScopeMessage(g.refused) } : {}),
    })),
  };
}

function renderAccounts(result: AccountsResult, opts: AccountsPlanOptions): string {
  if (opts.output === 'json' || opts.output === 'yaml') {
    const doc = { formatVersion: PLAN_FORMAT_VERSION, ...accountsJson(result), skipped: opts.skipped };
    return opts.output === 'json'
      ? `${escapeJsonText(JSON.stringify(doc, null, 2))}\n`
      : new Document(doc).toString({ lineWidth: 0 });
  }
  return accountsText(result, opts);
}

function accountsText(result: AccountsResult, opts: AccountsPlanOptions): string {
  const parts: string[] = [];
  for (const p of result.passes) {
    const report = { plan: p.result?.plan, skipped: opts.skipped, account: p.account };
    const title = `lambda-policy-controller ${opts.enforce ? 'apply' : 'plan'}: account ${p.account} (${p.accountId})`;
    if (report.plan === undefined)
      parts.push(`account ${p.account} (${p.accountId}) error: ${p.error?.message ?? ''}\n`);
    else if (opts.output === 'markdown') parts.push(renderMarkdown({ ...report, plan: report.plan }, { title }));
    else
      parts.push(
        `account ${p.account} (${p.accountId}) ${p.regions.join(',')}\n`,
        renderText({ ...report, plan: report.plan }),
      );
  }
  for (const [id, g] of result.grants) {
    if (g.refused.length > 0) parts.push(`${id}: OutOfScope: ${outOfScopeMessage(g.refused)}\n`);
  }
  return parts.join('');
}
