/**
 * The controller over several accounts of the emulator: AwsAccounts and namespace labels from a tenancy source,
 * each account reached with its own clients (assumed role, token buckets), its scope hiding functions, a policy
 * outside its grant Stalled/OutOfScope with zero writes for it in every account's write log, a relabelled
 * namespace granted/revoked at once, AwsAccount status Ready or Stalled/AccountMismatch.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AwsAccount, AwsAccountStatus } from '../../../src/api/account-schema.ts';
import type { LambdaPolicyStatus } from '../../../src/api/schema.ts';
import { type Aws, createAws } from '../../../src/aws/index.ts';
import type { AccountStatusSink, TenancySource } from '../../../src/controller/accounts.ts';
import { Manager } from '../../../src/controller/manager.ts';
import { MemoryStatusSink } from '../../../src/controller/memory-sink.ts';
import { type Emulator, startEmulator } from '../../../src/emulator/index.ts';
import { AccountClients } from '../../../src/reconcile/accounts.ts';
import { systemClock } from '../../../src/shared/clock.ts';
import { FilePolicySource } from '../../../src/sources/files.ts';
import { writesOutsideGrants } from '../../e2e/harness/write-grants.ts';

const EU = 'eu-central-1';
const HOME = '123456789012';
const PAYMENTS = '210987654321';
const SEARCH = '333333333333';

class MemoryTenancy implements TenancySource {
  accountList: AwsAccount[] = [];
  labels = new Map<string, Record<string, string>>();
  private readonly listeners = new Set<() => void>();
  accounts() {
    return this.accountList;
  }
  namespaceLabels() {
    return this.labels;
  }
  onChange(listener: () => void) {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
  changed() {
    for (const l of this.listeners) l();
  }
}

class MemoryAccountSink implements AccountStatusSink {
  readonly statuses = new Map<string, AwsAccountStatus>();
  async writeAccountStatus(account: AwsAccount, status: AwsAccountStatus) {
    this.statuses.set(account.metadata.name, status);
    return true;
  }
}

const fn = (name: string, tags: Record<string, string> = {}) => ({ name, region: EU, memorySize: 512, tags });

const awsAccount = (name: string, spec: Partial<AwsAccount['spec']> & { accountId: string }): AwsAccount => ({
  apiVersion: 'lambdapolicy.io/v1alpha1',
  kind: 'AwsAccount',
  metadata: { name, labels: { env: 'prod' }, generation: 1 },
  spec: { regions: [EU], ...spec },
});

const ACCOUNTS = [
  awsAccount('payments-prod', {
    accountId: PAYMENTS,
    assumeRole: { roleArn: `arn:aws:iam::${PAYMENTS}:role/lpc`, externalId: 'lpc-7f3a' },
    policyNamespaces: { matchLabels: { team: 'payments' } },
    scope: { functionNames: ['payments-*'] },
  }),
  awsAccount('search-prod', {
    accountId: SEARCH,
    assumeRole: { roleArn: `arn:aws:iam::${SEARCH}:role/lpc` },
    policyNamespaces: { matchLabels: { team: 'search' } },
  }),
  // No role: the controller's own credentials, which answer the home account: a mismatch, never used.
  awsAccount('mistyped', { accountId: '444444444444', policyNamespaces: {} }),
];

const policy = (ns: string, name: string, selector: string) => `apiVersion: lambdapolicy.io/v1alpha1
kind: LambdaPolicy
metadata: { name: ${name}, namespace: ${ns}, generation: 1 }
spec:
  interval: 30s
  selector: ${selector}
  settings: { memorySize: 2048 }
`;

let dir: string;
let emulator: Emulator;
let aws: Aws;
let clients: AccountClients;
let source: FilePolicySource;
let manager: Manager;
let sink: MemoryStatusSink;
let accountSink: MemoryAccountSink;
let tenancy: MemoryTenancy;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lpc-accounts-'));
  await writeFile(
    join(dir, 'payments.yaml'),
    policy('payments', 'all', '{ accounts: [payments-prod], functionNames: ["*"] }'),
  );
  await writeFile(
    join(dir, 'search.yaml'),
    policy('search', 'steal', '{ accounts: [payments-prod], functionNames: ["*"] }'),
  );
  await writeFile(
    join(dir, 'search-own.yaml'),
    policy('search', 'own', '{ accounts: [search-prod], functionNames: ["search-*"] }'),
  );
  await writeFile(
    join(dir, 'mistyped.yaml'),
    policy('search', 'mistyped', '{ accounts: [mistyped], functionNames: ["*"] }'),
  );
  emulator = await startEmulator({
    port: 0,
    tickMs: 0,
    seed: {
      accountId: HOME,
      functions: [fn('home-api')],
      accounts: [
        {
          accountId: PAYMENTS,
          roles: [{ name: 'lpc', externalId: 'lpc-7f3a' }],
          functions: [fn('payments-api'), fn('payments-batch'), fn('ledger-api')],
        },
        { accountId: SEARCH, roles: [{ name: 'lpc' }], functions: [fn('search-api')] },
      ],
    },
  });
  aws = createAws({ regions: [EU], endpoint: emulator.url });
  clients = new AccountClients({ regions: [EU], endpoint: emulator.url, clock: systemClock });
  tenancy = new MemoryTenancy();
  tenancy.accountList = ACCOUNTS;
  tenancy.labels = new Map([
    ['payments', { team: 'payments' }],
    ['search', { team: 'search' }],
  ]);
  source = new FilePolicySource([dir], { debounceMs: 50 });
  sink = new MemoryStatusSink();
  accountSink = new MemoryAccountSink();
  manager = new Manager({
    source,
    aws,
    defaultRegions: [EU],
    sink,
    tenancy,
    accountClients: clients,
    accountSink,
    homeAccountId: HOME,
  });
  await source.start();
  manager.start();
});

afterEach(async () => {
  await manager.stop();
  await source.stop();
  aws.destroy();
  clients.destroy();
  await emulator.stop();
  await rm(dir, { recursive: true, force: true });
});

async function until<T>(what: string, probe: () => T | undefined, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const cond = (s: LambdaPolicyStatus | AwsAccountStatus | undefined, type: string) =>
  s?.conditions?.find((c) => c.type === type);

const memoryOf = (accountId: string, name: string) =>
  emulator.runtime.accounts.get(accountId)?.store.regions.get(EU)?.functions.get(name)?.config.memorySize;

function outsideGrants(): string[] {
  return writesOutsideGrants({
    emulator,
    policies: source.current().policies,
    accounts: tenancy.accountList,
    namespaceLabels: tenancy.labels,
    defaultRegions: [EU],
  });
}

describe('the controller across AwsAccounts', () => {
  it('writes each account only where granted and within scope; the rest is OutOfScope with zero writes', async () => {
    const paid = await until('payments/all Ready', () => {
      const s = sink.statuses.get('payments/all');
      return cond(s, 'Ready')?.status === 'True' && s?.summary?.remediated === 2 ? s : undefined;
    });
    expect(memoryOf(PAYMENTS, 'payments-api')).toBe(2048);
    expect(memoryOf(PAYMENTS, 'payments-batch')).toBe(2048);
    // scope: payments-* only, whatever the policy's own "*" says
    expect(memoryOf(PAYMENTS, 'ledger-api')).toBe(512);
    expect(paid.functions?.every((f) => f.account === 'payments-prod')).toBe(true);
    expect(paid.functions?.map((f) => f.name).sort()).toEqual(['payments-api', 'payments-batch']);
    expect(paid.accounts).toEqual([
      expect.objectContaining({ account: 'payments-prod', accountId: PAYMENTS, matched: 2 }),
    ]);

    const stolen = await until('search/steal OutOfScope', () => {
      const s = sink.statuses.get('search/steal');
      return cond(s, 'Stalled')?.reason === 'OutOfScope' ? s : undefined;
    });
    expect(cond(stolen, 'Stalled')?.message).toContain(`account payments-prod (${PAYMENTS}): namespace not granted`);
    expect(stolen.functions).toEqual([]);
    expect(stolen.accounts?.[0]?.error).toContain('OutOfScope');

    await until('search/own remediated', () =>
      sink.statuses.get('search/own')?.summary?.remediated === 1 ? true : undefined,
    );
    expect(emulator.runtime.writes).toEqual([]);
    expect(outsideGrants()).toEqual([]);
  });

  it('an account whose credentials answer another account id is Stalled/AccountMismatch; nothing read there', async () => {
    const status = await until('mistyped AccountMismatch', () => {
      const s = accountSink.statuses.get('mistyped');
      return cond(s, 'Stalled')?.reason === 'AccountMismatch' ? s : undefined;
    });
    expect(cond(status, 'Ready')?.status).toBe('False');
    expect(status.policies).toBe(1);
    const ready = await until('payments-prod Ready', () => {
      const s = accountSink.statuses.get('payments-prod');
      return cond(s, 'Ready')?.status === 'True' ? s : undefined;
    });
    expect(ready.lastVerifiedTime).toMatch(/^\d{4}-/);
    expect(ready.policies).toBe(2);
    const mistyped = await until('search/mistyped unavailable', () => {
      const s = sink.statuses.get('search/mistyped');
      return cond(s, 'Ready')?.reason === 'AwsUnavailable' ? s : undefined;
    });
    expect(cond(mistyped, 'Ready')?.message).toContain('AccountMismatch');
    // The home account (where those credentials land) was never read for it, nor written.
    expect(emulator.runtime.calls.byApi.ListFunctions ?? 0).toBe(0);
    expect(emulator.runtime.writes).toEqual([]);
  });

  it('relabelling a namespace grants and revokes at once', async () => {
    await until('search/steal OutOfScope', () =>
      cond(sink.statuses.get('search/steal'), 'Stalled')?.reason === 'OutOfScope' ? true : undefined,
    );
    tenancy.labels = new Map([
      ['payments', { team: 'payments' }],
      ['search', { team: 'payments' }],
    ]);
    tenancy.changed();
    const granted = await until('search/steal reaches payments-prod', () => {
      const s = sink.statuses.get('search/steal');
      return cond(s, 'Stalled')?.status === 'False' && (s?.summary?.matched ?? 0) === 2 ? s : undefined;
    });
    expect(granted.accounts?.map((a) => a.account)).toEqual(['payments-prod']);
    tenancy.labels = new Map([
      ['payments', { team: 'payments' }],
      ['search', { team: 'search' }],
    ]);
    tenancy.changed();
    const revoked = await until('search/steal OutOfScope again', () => {
      const s = sink.statuses.get('search/steal');
      return cond(s, 'Stalled')?.reason === 'OutOfScope' ? s : undefined;
    });
    expect(revoked.functions).toEqual([]);
    expect(outsideGrants()).toEqual([]);
  });
});
