/**
 * Many accounts, many teams, end to end: `lambda-policy-controller run` as a child process against a real
 * kube-apiserver and the emulator serving the home account and three others (each its own fleet and write log,
 * reached by STS AssumeRole). Two teams' namespaces; AwsAccounts grant them accounts; `scope` narrows what their
 * policies may touch. What AWS looks like is read from every account's write log; what users see with kubectl.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AwsAccount, AwsAccountStatus } from '../../../src/api/account-schema.ts';
import type { LambdaPolicy, LambdaPolicySpec } from '../../../src/api/schema.ts';
import { type Emulator, startEmulator } from '../../../src/emulator/index.ts';
import type { ControlPlane } from '../harness/index.ts';
import { writeBookmarks, writesOutsideClusterGrants } from '../harness/write-grants.ts';
import {
  applyPolicy,
  condition,
  describeStatus,
  findPolicy,
  startClusterWithCrd,
  statusOf,
} from './support/cluster.ts';
import { ControllerProcess } from './support/controller-process.ts';
import { EU, seedFunction } from './support/fleet.ts';
import { waitFor } from './support/wait.ts';

const HOME = '123456789012';
const PAYMENTS = '210987654321';
const SEARCH = '333333333333';
const SHARED = '444444444444';
/** Its role trusts another ExternalId than its AwsAccount sends: STS refuses every AssumeRole. */
const REFUSING = '666666666666';
const PAYMENTS_NS = 'team-payments';
const SEARCH_NS = 'team-search';
/** The controller's own account is the platform team's only. */
const HOME_NAMESPACES = 'team=platform';

let cluster: ControlPlane;
let emulator: Emulator;
let controller: ControllerProcess;

const awsAccount = (name: string, labels: Record<string, string>, spec: AwsAccount['spec']) =>
  JSON.stringify({ apiVersion: 'lambdapolicy.io/v1alpha1', kind: 'AwsAccount', metadata: { name, labels }, spec });

beforeAll(async () => {
  cluster = await startClusterWithCrd();
  emulator = await startEmulator({
    port: 0,
    updateDelayMs: 200,
    seed: {
      accountId: HOME,
      accountConcurrency: 1000,
      functions: [seedFunction(EU, 'home-api')],
      accounts: [
        {
          accountId: PAYMENTS,
          roles: [{ name: 'lpc', externalId: 'lpc-7f3a' }],
          functions: [
            seedFunction(EU, 'payments-api'),
            seedFunction(EU, 'payments-batch'),
            seedFunction(EU, 'ledger-api'),
          ],
        },
        { accountId: SEARCH, roles: [{ name: 'lpc' }], functions: [seedFunction(EU, 'search-api')] },
        {
          accountId: SHARED,
          roles: [{ name: 'lpc' }],
          functions: [
            seedFunction(EU, 'shared-payments', { tags: { team: 'payments' } }),
            seedFunction(EU, 'shared-search', { tags: { team: 'search' } }),
          ],
        },
        {
          accountId: REFUSING,
          roles: [{ name: 'lpc', externalId: 'the-right-one' }],
          functions: [seedFunction(EU, 'search-refused')],
        },
      ],
    },
  });
  await cluster.kubectl(['create', 'namespace', PAYMENTS_NS]);
  await cluster.kubectl(['label', 'namespace', PAYMENTS_NS, 'team=payments']);
  await cluster.kubectl(['create', 'namespace', SEARCH_NS]);
  await cluster.kubectl(['label', 'namespace', SEARCH_NS, 'team=search']);
  await cluster.apply(
    awsAccount(
      'payments-prod',
      { env: 'prod' },
      {
        accountId: PAYMENTS,
        assumeRole: { roleArn: `arn:aws:iam::${PAYMENTS}:role/lpc`, externalId: 'lpc-7f3a' },
        regions: [EU],
        policyNamespaces: { matchLabels: { team: 'payments' } },
        scope: { functionNames: ['payments-*'] },
      },
    ),
  );
  await cluster.apply(
    awsAccount(
      'search-prod',
      { env: 'prod' },
      {
        accountId: SEARCH,
        assumeRole: { roleArn: `arn:aws:iam::${SEARCH}:role/lpc` },
        regions: [EU],
        policyNamespaces: { matchLabels: { team: 'search' } },
      },
    ),
  );
  // Every team may use the shared account, each only on its own tagged functions... through its own grant: here
  // payments' (the scope is the account's, shared by every namespace it grants).
  await cluster.apply(
    awsAccount(
      'shared',
      { env: 'shared' },
      {
        accountId: SHARED,
        assumeRole: { roleArn: `arn:aws:iam::${SHARED}:role/lpc` },
        regions: [EU],
        policyNamespaces: { matchExpressions: [{ key: 'team', operator: 'In', values: ['payments', 'search'] }] },
        scope: { tags: { team: 'payments' } },
      },
    ),
  );
  await cluster.apply(
    awsAccount(
      'search-refusing',
      { env: 'prod' },
      {
        accountId: REFUSING,
        assumeRole: { roleArn: `arn:aws:iam::${REFUSING}:role/lpc`, externalId: 'a-wrong-one' },
        regions: [EU],
        policyNamespaces: { matchLabels: { team: 'search' } },
      },
    ),
  );
  // No role: the controller's own credentials, which are the home account: never this one.
  await cluster.apply(awsAccount('mistyped', {}, { accountId: '555555555555', regions: [EU], policyNamespaces: {} }));
  controller = await ControllerProcess.start({
    name: 'accounts',
    kubeconfig: cluster.kubeconfigPath,
    awsEndpoint: emulator.url,
    regions: [EU],
    extraArgs: ['--home-account-namespaces', HOME_NAMESPACES],
  });
}, 180_000);

afterAll(async () => {
  await controller?.stop();
  await emulator?.stop();
  await cluster?.stop();
});

const spec = (selector: LambdaPolicySpec['selector'], settings: LambdaPolicySpec['settings']): LambdaPolicySpec => ({
  mode: 'Enforce',
  interval: '30s',
  selector,
  settings,
});

const memory = (accountId: string, name: string) => {
  const rt = accountId === HOME ? emulator.runtime : emulator.runtime.accounts.get(accountId);
  return rt?.store.regions.get(EU)?.functions.get(name)?.config;
};

function writesIn(accountId: string) {
  const rt = accountId === HOME ? emulator.runtime : emulator.runtime.accounts.get(accountId);
  return rt?.writes ?? [];
}

async function waitPolicy(ns: string, name: string, what: string, probe: (p: LambdaPolicy) => boolean) {
  let last: LambdaPolicy | undefined;
  return waitFor(
    `${ns}/${name}: ${what}`,
    async () => {
      last = await findPolicy(cluster, ns, name);
      return last && probe(last) ? last : undefined;
    },
    {
      timeoutMs: 90_000,
      describe: () => `${describeStatus(last)} accounts=${JSON.stringify(last && statusOf(last).accounts)}`,
    },
  );
}

const stalledOutOfScope = (p: LambdaPolicy) =>
  condition(p, 'Stalled')?.status === 'True' && condition(p, 'Stalled')?.reason === 'OutOfScope';
const readyNow = (p: LambdaPolicy) =>
  condition(p, 'Ready')?.status === 'True' && statusOf(p).observedGeneration === p.metadata.generation;

async function awsAccountStatus(name: string): Promise<AwsAccountStatus> {
  const object = await cluster.kubectlJson<AwsAccount>(['get', 'awsaccount', name]);
  return (object.status ?? {}) as AwsAccountStatus;
}

describe('two teams, three accounts', () => {
  it('writes only where a namespace was granted, within scope; a policy outside its grant is OutOfScope with zero writes', async () => {
    // Arrange
    await applyPolicy(
      cluster,
      PAYMENTS_NS,
      'all',
      spec({ accounts: ['payments-prod'], functionNames: ['*'] }, { memorySize: 2048 }),
    );
    await applyPolicy(
      cluster,
      SEARCH_NS,
      'steal',
      spec({ accounts: ['payments-prod'], functionNames: ['*'] }, { memorySize: 128 }),
    );
    await applyPolicy(cluster, SEARCH_NS, 'home', spec({ functionNames: ['*'] }, { memorySize: 128 }));
    await applyPolicy(
      cluster,
      SEARCH_NS,
      'own',
      spec({ accounts: ['search-prod'], functionNames: ['search-*'] }, { memorySize: 1536 }),
    );
    await applyPolicy(
      cluster,
      PAYMENTS_NS,
      'shared',
      spec({ accountSelector: { matchLabels: { env: 'shared' } }, functionNames: ['*'] }, { timeout: 45 }),
    );

    // Act
    const all = await waitPolicy(
      PAYMENTS_NS,
      'all',
      'Ready, 2 matched',
      (p) => readyNow(p) && statusOf(p).summary?.matched === 2,
    );
    const steal = await waitPolicy(SEARCH_NS, 'steal', 'OutOfScope', stalledOutOfScope);
    const home = await waitPolicy(SEARCH_NS, 'home', 'OutOfScope', stalledOutOfScope);
    await waitPolicy(SEARCH_NS, 'own', 'Ready, 1 matched', (p) => readyNow(p) && statusOf(p).summary?.matched === 1);
    const shared = await waitPolicy(
      PAYMENTS_NS,
      'shared',
      'Ready, 1 matched',
      (p) => readyNow(p) && statusOf(p).summary?.matched === 1,
    );
    await waitFor('payments-api at 2048', () => memory(PAYMENTS, 'payments-api')?.memorySize === 2048);

    // Assert: the grant and the scope, from every account's write log
    expect(memory(PAYMENTS, 'payments-batch')?.memorySize).toBe(2048);
    expect(memory(PAYMENTS, 'ledger-api')?.memorySize).toBe(512);
    expect(memory(SEARCH, 'search-api')?.memorySize).toBe(1536);
    expect(memory(SHARED, 'shared-payments')?.timeout).toBe(45);
    expect(memory(SHARED, 'shared-search')?.timeout).toBe(30);
    expect(writesIn(HOME)).toEqual([]);
    expect(
      writesIn(PAYMENTS)
        .map((w) => w.function)
        .sort(),
    ).toEqual(['payments-api', 'payments-batch']);
    expect(writesIn(PAYMENTS).every((w) => w.params.MemorySize === 2048)).toBe(true);
    expect(
      await writesOutsideClusterGrants(cluster, emulator, {
        defaultRegions: [EU],
        homePolicyNamespaces: { matchLabels: { team: 'platform' } },
      }),
    ).toEqual([]);

    // Assert: what users see
    expect(
      statusOf(all)
        .functions?.map((f) => `${f.account}/${f.region}/${f.name}`)
        .sort(),
    ).toEqual([`payments-prod/${EU}/payments-api`, `payments-prod/${EU}/payments-batch`]);
    expect(statusOf(all).accounts).toEqual([
      expect.objectContaining({ account: 'payments-prod', accountId: PAYMENTS, matched: 2 }),
    ]);
    expect(condition(steal, 'Stalled')?.message).toContain(
      `account payments-prod (${PAYMENTS}): namespace not granted`,
    );
    expect(statusOf(steal).functions).toEqual([]);
    expect(condition(home, 'Stalled')?.message).toContain(`account home (${HOME}): namespace not granted`);
    expect(statusOf(shared).functions?.map((f) => f.name)).toEqual(['shared-payments']);
  });

  it('relabelling a namespace grants and revokes at once', async () => {
    // Arrange
    await waitPolicy(SEARCH_NS, 'steal', 'OutOfScope', stalledOutOfScope);
    await applyPolicy(
      cluster,
      SEARCH_NS,
      'steal',
      spec({ accounts: ['payments-prod'], functionNames: ['payments-api'] }, { timeout: 60 }),
    );
    await waitPolicy(
      SEARCH_NS,
      'steal',
      'OutOfScope at the new generation',
      (p) => stalledOutOfScope(p) && condition(p, 'Stalled')?.observedGeneration === p.metadata.generation,
    );
    expect(memory(PAYMENTS, 'payments-api')?.timeout).toBe(30);

    // Act: the platform team grants search the payments account (and so no longer search-prod)
    const beforeGrant = writeBookmarks(emulator);
    await cluster.kubectl(['label', 'namespace', SEARCH_NS, 'team=payments', '--overwrite']);

    // Assert
    const granted = await waitPolicy(
      SEARCH_NS,
      'steal',
      'Ready in payments-prod',
      (p) => readyNow(p) && statusOf(p).summary?.matched === 1,
    );
    await waitFor('payments-api timeout 60', () => memory(PAYMENTS, 'payments-api')?.timeout === 60);
    expect(statusOf(granted).accounts?.map((a) => a.account)).toEqual(['payments-prod']);
    expect(condition(granted, 'Stalled')?.status).toBe('False');
    expect(
      await writesOutsideClusterGrants(cluster, emulator, {
        defaultRegions: [EU],
        homePolicyNamespaces: { matchLabels: { team: 'platform' } },
        since: beforeGrant,
      }),
    ).toEqual([]);

    // Act: and takes it back
    const bookmark = writeBookmarks(emulator);
    await cluster.kubectl(['label', 'namespace', SEARCH_NS, 'team=search', '--overwrite']);

    // Assert
    const revoked = await waitPolicy(SEARCH_NS, 'steal', 'OutOfScope again', stalledOutOfScope);
    expect(statusOf(revoked).functions).toEqual([]);
    expect(statusOf(revoked).accounts?.[0]).toMatchObject({ account: 'payments-prod', matched: 0 });
    expect(
      await writesOutsideClusterGrants(cluster, emulator, {
        defaultRegions: [EU],
        homePolicyNamespaces: { matchLabels: { team: 'platform' } },
        since: bookmark,
      }),
    ).toEqual([]);
  });

  it('verifies each AwsAccount: Ready with lastVerifiedTime and its policies, or Stalled/AccountMismatch', async () => {
    const ready = await waitFor('payments-prod Ready', async () => {
      const s = await awsAccountStatus('payments-prod');
      return s.conditions?.find((c) => c.type === 'Ready')?.status === 'True' && (s.policies ?? 0) >= 2 ? s : undefined;
    });
    expect(ready.lastVerifiedTime).toMatch(/^\d{4}-\d\d-\d\dT/);
    const mismatch = await waitFor('mistyped AccountMismatch', async () => {
      const s = await awsAccountStatus('mistyped');
      return s.conditions?.find((c) => c.type === 'Stalled')?.reason === 'AccountMismatch' ? s : undefined;
    });
    expect(mismatch.conditions?.find((c) => c.type === 'Stalled')?.message).toContain(HOME);
    expect(mismatch.lastVerifiedTime).toBeUndefined();
    const table = await cluster.kubectl(['get', 'awsacct']);
    expect(table.stdout).toMatch(/payments-prod\s+210987654321\s+\S+\s+True\s+\d/);
    expect(table.stdout).toMatch(/mistyped\s+555555555555\s+\S+\s+False/);
  });

  it('an account whose role STS refuses (wrong ExternalId) is Stalled/AssumeRoleFailed; its policy names that account only while the other converges', async () => {
    // Arrange: one policy over a working account and the refusing one
    await applyPolicy(
      cluster,
      SEARCH_NS,
      'both',
      spec({ accounts: ['search-prod', 'search-refusing'], functionNames: ['search-*'] }, { timeout: 40 }),
    );

    // Act
    const refusing = await waitFor('search-refusing Stalled/AssumeRoleFailed', async () => {
      const s = await awsAccountStatus('search-refusing');
      return s.conditions?.find((c) => c.type === 'Stalled')?.status === 'True' ? s : undefined;
    });
    await waitFor('search-api timeout 40 in search-prod', () => memory(SEARCH, 'search-api')?.timeout === 40);
    const both = await waitPolicy(SEARCH_NS, 'both', 'the refusing account reported', (p) => {
      const accounts = statusOf(p).accounts ?? [];
      return (
        accounts.some((a) => a.account === 'search-refusing' && a.error !== undefined) &&
        accounts.some((a) => a.account === 'search-prod' && a.matched === 1)
      );
    });

    // Assert: the AwsAccount says why, without a credential in it
    const stalled = refusing.conditions?.find((c) => c.type === 'Stalled');
    expect(stalled?.reason).toBe('AssumeRoleFailed');
    expect(stalled?.message).toContain(`arn:aws:iam::${REFUSING}:role/lpc`);
    expect(refusing.conditions?.find((c) => c.type === 'Ready')?.status).toBe('False');
    expect(refusing.lastVerifiedTime).toBeUndefined();
    expect(JSON.stringify(refusing)).not.toMatch(/ASIA|AKIA|SessionToken|SecretAccessKey/);

    // Assert: the policy names the refusing account's error there only; the other account converged
    const entries = new Map((statusOf(both).accounts ?? []).map((a) => [a.account, a]));
    expect(entries.get('search-refusing')?.error).toContain('search-refusing');
    expect(entries.get('search-prod')).toMatchObject({ accountId: SEARCH, matched: 1 });
    expect(entries.get('search-prod')?.error).toBeUndefined();
    const ready = condition(both, 'Ready');
    expect(ready?.status).toBe('False');
    expect(ready?.message).toContain('search-refusing');
    expect(ready?.message).not.toContain('search-prod');
    expect(statusOf(both).functions?.map((f) => `${f.account}/${f.name}`)).toEqual(['search-prod/search-api']);

    // Assert: nothing written where the role was refused; nothing outside any grant
    expect(writesIn(REFUSING)).toEqual([]);
    expect(memory(REFUSING, 'search-refused')?.timeout).toBe(30);
    expect(
      await writesOutsideClusterGrants(cluster, emulator, {
        defaultRegions: [EU],
        homePolicyNamespaces: { matchLabels: { team: 'platform' } },
      }),
    ).toEqual([]);
  });
});
