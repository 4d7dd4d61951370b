/**
 * Section "accounts", run in a fresh child process (so RSS and CPU are the controller's alone, not the emulator's):
 * one multi-account audit pass (read + plan, no writes) exactly as `plan -f` with AwsAccounts runs it — each account
 * through its own assumed role (STS AssumeRole with ExternalId), its own clients and token buckets, all accounts in
 * parallel — over the given accounts (all of them, or one alone). Then each account's fleet is planned again on its
 * own, timing plan() in CPU.
 *
 *   node bench/accounts-child.ts <emulator-url> <account-id,account-id,...>
 *
 * Prints one JSON line (AccountsChildResult) on stdout.
 */
import v8 from 'node:v8';
import { runInNewContext } from 'node:vm';
import { STSClient } from '@aws-sdk/client-sts';
import { toPolicyInput } from '../src/api/parse.ts';
import { sdkClientConfig } from '../src/aws/clients.ts';
import { CredentialCache } from '../src/aws/credentials.ts';
import { type Aws, createAws } from '../src/aws/index.ts';
import { type AccountGrant, HOME_ACCOUNT, homeGrant, type TenancyInput } from '../src/engine/grants.ts';
import { plan } from '../src/engine/plan.ts';
import { reconcileAccounts } from '../src/reconcile/accounts.ts';
import { systemClock } from '../src/shared/clock.ts';
import { BENCH_REGIONS, buildPolicies } from './fleet.ts';

export const BENCH_ROLE = 'lambda-policy-controller';
export const BENCH_EXTERNAL_ID = 'lpc-bench';

export interface AccountsChildResult {
  accounts: number;
  functions: number;
  matched: number;
  failedAccounts: string[];
  wallMs: number;
  /** CPU of the whole pass (read, SDK parsing, planning) in this process. */
  passCpuMs: number;
  /** plan() of every account's fleet, one after another, summed. */
  planCpuMs: number;
  /** The same planning per account (to compare accounts with each other). */
  planCpuMsByAccount: number[];
  maxRssMb: number;
  /** CPU of a fixed reference workload in the same process (machine speed in the same run). */
  referenceCpuMs: number;
}

v8.setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

function cpuMs(f: () => void): number {
  gc();
  const before = process.cpuUsage();
  f();
  const d = process.cpuUsage(before);
  return (d.user + d.system) / 1000;
}

function referenceWorkload(): void {
  const xs = new Float64Array(1_000_000);
  let s = 1;
  for (let i = 0; i < xs.length; i++) {
    s = (s * 16807) % 2147483647;
    xs[i] = s / 2147483647;
  }
  xs.sort();
}

export const accountName = (accountId: string) => `acct-${accountId}`;

async function main(): Promise<void> {
  const [url, idList] = process.argv.slice(2);
  if (!url || !idList) throw new Error('usage: accounts-child.ts <emulator-url> <account-ids>');
  const ids = idList.split(',');
  const regions = [...BENCH_REGIONS];
  // The estate's policies, each reaching every AwsAccount (accountSelector {}), from namespaces every account grants.
  const policies = buildPolicies().map((p) => {
    const input = toPolicyInput(p);
    return { ...input, selector: { ...input.selector, accountSelector: {} } };
  });
  const grants: AccountGrant[] = ids.map((id) => ({
    name: accountName(id),
    accountId: id,
    labels: {},
    regions,
    policyNamespaces: {},
  }));
  const tenancy: TenancyInput = {
    accounts: grants,
    home: homeGrant('123456789012', regions, {}),
    namespaceLabels: new Map(policies.map((p) => [p.namespace, {}])),
    defaultRegions: regions,
  };
  const sts = new STSClient(sdkClientConfig(regions[0] ?? 'us-east-1', { endpoint: url }));
  const cache = new CredentialCache({ sts, clock: systemClock });
  const created: Aws[] = [];
  const awsFor = (grant: AccountGrant): Aws => {
    const aws = createAws({
      regions,
      endpoint: url,
      ...(grant.name === HOME_ACCOUNT
        ? {}
        : {
            credentials: cache.provider({
              account: grant.name,
              accountId: grant.accountId,
              roleArn: `arn:aws:iam::${grant.accountId}:role/${BENCH_ROLE}`,
              externalId: BENCH_EXTERNAL_ID,
            }),
          }),
    });
    created.push(aws);
    return aws;
  };

  gc();
  const started = performance.now();
  const cpuBefore = process.cpuUsage();
  // Every account at once: each has its own buckets, so the bound is sockets and memory, not AWS quotas.
  const result = await reconcileAccounts(tenancy, policies, awsFor, { enforce: false, accountConcurrency: ids.length });
  const cpu = process.cpuUsage(cpuBefore);
  const wallMs = performance.now() - started;
  for (const aws of created) aws.destroy();
  sts.destroy();

  const at = new Date('2026-12-01T09:00:00Z');
  const planCpuMsByAccount = result.passes.map((p) => {
    const fleet = p.result?.fleet;
    return fleet ? cpuMs(() => plan(policies, fleet, at, { defaultRegions: regions })) : 0;
  });
  const referenceCpuMs = Math.min(cpuMs(referenceWorkload), cpuMs(referenceWorkload), cpuMs(referenceWorkload));
  const out: AccountsChildResult = {
    accounts: result.passes.length,
    functions: result.passes.reduce(
      (n, p) => n + (p.result?.fleet.regions.reduce((m, r) => m + r.functions.length, 0) ?? 0),
      0,
    ),
    matched: result.passes.reduce((n, p) => n + (p.result?.plan.summary.matched ?? 0), 0),
    failedAccounts: result.passes.filter((p) => p.error).map((p) => `${p.account}: ${p.error?.message ?? ''}`),
    wallMs,
    passCpuMs: (cpu.user + cpu.system) / 1000,
    planCpuMs: planCpuMsByAccount.reduce((a, b) => a + b, 0),
    planCpuMsByAccount,
    maxRssMb: process.resourceUsage().maxRSS / 1024,
    referenceCpuMs,
  };
  process.stdout.write(`${JSON.stringify(out)}\n`);
}

if (process.argv[1]?.endsWith('accounts-child.ts')) await main();
