/**
 * AwsOrganization on a real API server, under exactly the chart's RBAC (the ServiceAccount's token): the
 * reconciler lists the emulated organization and keeps owned AwsAccounts in step as accounts join, change tags,
 * are suspended or leave; an AwsAccount it does not own is never taken over; the status says what happened. The
 * reconciler runs in the test process on a fake clock (its interval is ≥ 30 s), then once more inside the real
 * `run` process, which must create the AwsAccounts by itself.
 */
import { KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACCOUNT_CRD_FILE } from '../../../src/api/crd.ts';
import { ACCOUNT_ID_LABEL, ORGANIZATION_LABEL } from '../../../src/api/organization-accounts.ts';
import { ORGANIZATION_CRD_FILE } from '../../../src/api/organization-crd.ts';
import type { AwsOrganization } from '../../../src/api/organization-schema.ts';
import { awsDiscovery, OrganizationReconciler, type OrganizationSync } from '../../../src/controller/organizations.ts';
import { type Emulator, emulatorAdmin, startEmulator } from '../../../src/emulator/index.ts';
import { KubernetesOrganizationStore } from '../../../src/kube/organizations.ts';
import { FakeClock } from '../../support/fake-clock.ts';
import { applyChartRbac } from '../chart/support/render.ts';
import { type ControlPlane, REPO_ROOT, type ServiceAccountKubeconfig } from '../harness/index.ts';
import { startClusterWithCrd } from './support/cluster.ts';
import { ControllerProcess } from './support/controller-process.ts';
import { waitFor } from './support/wait.ts';

const SYSTEM_NS = 'lambda-policy-system';
const PROD = 'ou-ab12-11111111';
const id = (n: number) => `2100000000${String(n).padStart(2, '0')}`;

interface AccountObject {
  metadata: {
    name: string;
    labels?: Record<string, string>;
    ownerReferences?: { kind: string; name: string; uid: string; controller?: boolean }[];
  };
  spec: { accountId: string; assumeRole?: { roleArn: string; externalId?: string }; regions: string[] };
}

let cluster: ControlPlane;
let sa: ServiceAccountKubeconfig;
let emulator: Emulator;

beforeAll(async () => {
  cluster = await startClusterWithCrd();
  await cluster.kubectl([
    'apply',
    '-f',
    `${REPO_ROOT}/${ACCOUNT_CRD_FILE}`,
    '-f',
    `${REPO_ROOT}/${ORGANIZATION_CRD_FILE}`,
  ]);
  await cluster.waitCrdEstablished('awsaccounts.lambdapolicy.io');
  await cluster.waitCrdEstablished('awsorganizations.lambdapolicy.io');
  await cluster.kubectl(['create', 'namespace', SYSTEM_NS]);
  const { serviceAccount } = await applyChartRbac(cluster, { namespace: SYSTEM_NS });
  sa = await cluster.serviceAccountKubeconfig({ namespace: SYSTEM_NS, name: serviceAccount, create: false });
  // A CRD just established may still answer 429 while its storage starts; new RBAC bindings reach the API
  // server's authorizer a moment later.
  await waitFor('the new resources served', async () => {
    const out = await cluster.kubectl(['get', 'awsaccounts,awsorganizations'], { check: false });
    return out.exitCode === 0;
  });
  await waitFor('the chart RBAC in force', async () => {
    const out = await cluster.kubectl(
      ['auth', 'can-i', 'list', 'awsorganizations.lambdapolicy.io', '--as', sa.username],
      {
        check: false,
      },
    );
    return out.stdout.trim() === 'yes';
  });
  emulator = await startEmulator({
    port: 0,
    tickMs: 0,
    seed: {
      organization: {
        rootId: 'r-ab12',
        units: [
          {
            id: PROD,
            name: 'prod',
            accounts: [
              { id: id(1), name: 'payments', tags: { team: 'payments', 'aws:cloudformation:stack': 'x' } },
              { id: id(2), name: 'search', tags: { team: 'search' } },
            ],
          },
        ],
      },
    },
  });
});

afterAll(async () => {
  await emulator?.stop();
  await cluster?.stop();
});

const organizationManifest = (name: string, extra = '') => `apiVersion: lambdapolicy.io/v1alpha1
kind: AwsOrganization
metadata: { name: ${name} }
spec:
  parents: [${PROD}]
  interval: 10m
  template:
    roleName: lambda-policy-controller
    externalId: lpc-7f3a
    regions: [eu-central-1, us-east-1]
    policyNamespaces: { matchLabels: { team: platform } }
    labels: { env: prod }
${extra}`;

async function accountsOf(organization: string): Promise<AccountObject[]> {
  const list = await cluster.kubectlJson<{ items: AccountObject[] }>([
    'get',
    'awsaccounts',
    '-l',
    `${ORGANIZATION_LABEL}=${organization}`,
  ]);
  return list.items.sort((a, b) => (a.metadata.name < b.metadata.name ? -1 : 1));
}

async function organization(name: string): Promise<AwsOrganization & { metadata: { uid: string } }> {
  return cluster.kubectlJson(['get', 'awsorganization', name]);
}

describe('AwsOrganization keeps its AwsAccounts in step (chart RBAC, real API server)', () => {
  let clock: FakeClock;
  let reconciler: OrganizationReconciler;
  const syncs: OrganizationSync[] = [];
  const advanceAndSync = async () => {
    clock.advance(10 * 60_000);
    return reconciler.syncDue();
  };

  beforeAll(() => {
    clock = new FakeClock(Date.now());
    clock.sleep = async (ms) => {
      clock.advance(ms);
    };
    const kc = new KubeConfig();
    kc.loadFromFile(sa.kubeconfigPath);
    reconciler = new OrganizationReconciler({
      store: new KubernetesOrganizationStore(kc),
      discover: awsDiscovery({ endpoint: emulator.url, clock }),
      clock,
      onSync: (s) => syncs.push(s),
    });
  });

  it('creates one owned AwsAccount per ACTIVE account, from the template, tags as labels', async () => {
    await cluster.apply(organizationManifest('main'));
    const [sync] = await reconciler.syncDue();
    expect(sync?.error).toBeUndefined();
    expect(sync).toMatchObject({ organization: 'main', created: [`main-${id(1)}`, `main-${id(2)}`], deleted: [] });

    const org = await organization('main');
    const accounts = await accountsOf('main');
    expect(accounts.map((a) => a.metadata.name)).toEqual([`main-${id(1)}`, `main-${id(2)}`]);
    const [payments] = accounts;
    expect(payments?.spec).toEqual({
      accountId: id(1),
      assumeRole: { roleArn: `arn:aws:iam::${id(1)}:role/lambda-policy-controller`, externalId: 'lpc-7f3a' },
      regions: ['eu-central-1', 'us-east-1'],
      policyNamespaces: { matchLabels: { team: 'platform' } },
    });
    // The aws: tag cannot be a label and is left out; the controller's own labels say which organization owns it.
    expect(payments?.metadata.labels).toEqual({
      team: 'payments',
      env: 'prod',
      [ORGANIZATION_LABEL]: 'main',
      [ACCOUNT_ID_LABEL]: id(1),
    });
    expect(payments?.metadata.ownerReferences).toEqual([
      {
        apiVersion: 'lambdapolicy.io/v1alpha1',
        kind: 'AwsOrganization',
        name: 'main',
        uid: org.metadata.uid,
        controller: true,
      },
    ]);
    expect(org.status).toMatchObject({ accounts: 2, observedGeneration: 1 });
    expect(org.status?.lastSyncTime).toMatch(/Z$/);
    expect(org.status?.conditions?.find((c) => c.type === 'Ready')).toMatchObject({ status: 'True', reason: 'Synced' });
    const printed = await cluster.kubectl(['get', 'awsorganizations']);
    expect(printed.stdout).toMatch(/main\s+o-[a-z0-9]+\s+\["ou-ab12-11111111"\]\s+2\s+True/);
  });

  it('a quiet re-list writes nothing; a new account is created, a tag change relabels', async () => {
    expect((await advanceAndSync())[0]).toMatchObject({ created: [], updated: [], deleted: [] });
    await emulatorAdmin(emulator.url, 'POST', 'organization/accounts', { id: id(3), parentId: PROD, name: 'new' });
    await emulatorAdmin(emulator.url, 'POST', 'organization/accounts', {
      id: id(2),
      parentId: PROD,
      tags: { team: 'search', tier: 'gold' },
    });
    const [sync] = await advanceAndSync();
    expect(sync).toMatchObject({ created: [`main-${id(3)}`], updated: [`main-${id(2)}`], deleted: [] });
    const search = (await accountsOf('main')).find((a) => a.spec.accountId === id(2));
    expect(search?.metadata.labels).toMatchObject({ team: 'search', tier: 'gold' });
  });

  it('suspended and removed accounts lose their AwsAccounts', async () => {
    await emulatorAdmin(emulator.url, 'POST', 'organization/accounts', {
      id: id(1),
      parentId: PROD,
      state: 'SUSPENDED',
    });
    await emulatorAdmin(emulator.url, 'DELETE', `organization/accounts/${id(3)}`);
    const [sync] = await advanceAndSync();
    expect(sync?.deleted.sort()).toEqual([`main-${id(1)}`, `main-${id(3)}`]);
    expect((await accountsOf('main')).map((a) => a.spec.accountId)).toEqual([id(2)]);
    expect((await organization('main')).status?.accounts).toBe(1);
  });

  it('a failed listing deletes nothing and says DiscoveryFailed', async () => {
    await emulatorAdmin(emulator.url, 'POST', 'faults', {
      forced: [{ api: 'ListAccountsForParent', error: 'AccessDeniedException', status: 400, count: 1 }],
    });
    const [sync] = await advanceAndSync();
    expect(sync?.error).toMatch(/AccessDeniedException/);
    expect((await accountsOf('main')).map((a) => a.spec.accountId)).toEqual([id(2)]);
    const ready = (await organization('main')).status?.conditions?.find((c) => c.type === 'Ready');
    expect(ready).toMatchObject({ status: 'False', reason: 'DiscoveryFailed' });
    // Retried sooner than the interval, and it recovers.
    clock.advance(30_000);
    const [again] = await reconciler.syncDue();
    expect(again?.error).toBeUndefined();
  });

  it('an AwsAccount of the same name it does not own is left alone (NameConflict)', async () => {
    await cluster.apply(`apiVersion: lambdapolicy.io/v1alpha1
kind: AwsAccount
metadata: { name: main-${id(4)} }
spec: { accountId: "${id(4)}", regions: [eu-central-1] }
`);
    await emulatorAdmin(emulator.url, 'POST', 'organization/accounts', { id: id(4), parentId: PROD });
    const [sync] = await advanceAndSync();
    expect(sync?.conflicts).toEqual([`main-${id(4)}`]);
    const hand = await cluster.kubectlJson<AccountObject>(['get', 'awsaccount', `main-${id(4)}`]);
    expect(hand.metadata.ownerReferences).toBeUndefined();
    expect(hand.spec.assumeRole).toBeUndefined();
    const ready = (await organization('main')).status?.conditions?.find((c) => c.type === 'Ready');
    expect(ready).toMatchObject({ status: 'False', reason: 'NameConflict' });
    await cluster.kubectl(['delete', 'awsaccount', `main-${id(4)}`]);
    await emulatorAdmin(emulator.url, 'DELETE', `organization/accounts/${id(4)}`);
  });

  it('the ServiceAccount may write AwsAccounts but not change AwsOrganizations', async () => {
    const can = async (verb: string, resource: string) =>
      (await cluster.kubectl(['auth', 'can-i', verb, resource, '--as', sa.username], { check: false })).stdout.trim();
    expect(await can('create', 'awsaccounts.lambdapolicy.io')).toBe('yes');
    expect(await can('delete', 'awsaccounts.lambdapolicy.io')).toBe('yes');
    expect(await can('update', 'awsorganizations.lambdapolicy.io')).toBe('no');
    expect(await can('delete', 'awsorganizations.lambdapolicy.io')).toBe('no');
  });
});

describe('the run process reconciles AwsOrganizations by itself', () => {
  it('creates the AwsAccounts of an organization that exists when it starts', async () => {
    await cluster.apply(organizationManifest('second'));
    const controller = await ControllerProcess.start({
      name: 'org',
      kubeconfig: sa.kubeconfigPath,
      awsEndpoint: emulator.url,
    });
    await controller.waitForLog('AwsOrganization synced');
    const accounts = await waitFor('the AwsAccounts of organization second', async () => {
      const found = await accountsOf('second');
      return found.length === 1 ? found : undefined;
    });
    expect(accounts.map((a) => a.spec.accountId)).toEqual([id(2)]);
  });
});
