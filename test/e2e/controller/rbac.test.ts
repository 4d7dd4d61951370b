/**
 * The Helm chart's RBAC is enough, and no more: the controller process runs with a real bound token of the
 * ServiceAccount the chart renders (rules from charts/lambda-policy-controller/files/rbac-rules.yaml, bound exactly
 * as the chart's templates/rbac.yaml binds them), watches all namespaces, takes its Lease, reconciles a
 * policy, writes status, Events and its finalizer, and releases the finalizer on delete; meanwhile the identity is
 * refused everything outside the rules, above all any write of a policy's spec.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_LEASE_NAME } from '../../../src/controller/leader.ts';
import { FINALIZER } from '../../../src/kube/finalizers.ts';
import { applyChartRbac } from '../chart/support/render.ts';
import type { ControlPlane, ServiceAccountKubeconfig } from '../harness/index.ts';
import {
  applyPolicy,
  describeStatus,
  findPolicy,
  getPolicy,
  newNamespace,
  readyAtGeneration,
  startClusterWithCrd,
} from './support/cluster.ts';
import { ControllerProcess } from './support/controller-process.ts';
import { EU, seedFunction, startFleet, US } from './support/fleet.ts';
import { waitFor } from './support/wait.ts';

/** The release namespace, and the ServiceAccount the chart names for release `lambda-policy-controller`. */
const SYSTEM_NS = 'lambda-policy-system';
const SA_NAME = 'lambda-policy-controller';

let cluster: ControlPlane;
let sa: ServiceAccountKubeconfig;
/** A namespace where tenants keep their policies. */
let tenantNs: string;

beforeAll(async () => {
  cluster = await startClusterWithCrd();
  await cluster.kubectl(['create', 'namespace', SYSTEM_NS]);
  const { serviceAccount } = await applyChartRbac(cluster, { namespace: SYSTEM_NS });
  expect(serviceAccount).toBe(SA_NAME);
  sa = await cluster.serviceAccountKubeconfig({ namespace: SYSTEM_NS, name: SA_NAME, create: false });
  tenantNs = await newNamespace(cluster, 'tenant');
});

afterAll(async () => {
  await cluster?.stop();
});

interface ManagedFieldsEntry {
  manager?: string;
  operation?: string;
  subresource?: string;
  fieldsV1?: Record<string, unknown>;
}

describe("the controller under exactly the chart's RBAC", () => {
  it('reconciles a policy in any namespace, writes status, Events and its finalizer, and never writes spec', async () => {
    // Arrange
    const aws = await startFleet([
      seedFunction(EU, 'billing-api', { tags: { tier: 'api' } }),
      seedFunction(US, 'billing-api', { tags: { tier: 'api' } }),
    ]);
    const controller = await ControllerProcess.start({
      name: 'service-account',
      kubeconfig: sa.kubeconfigPath,
      awsEndpoint: aws.url,
      leaderElectionNamespace: SYSTEM_NS,
    });
    await controller.waitForLog('started leading');

    // Act
    await applyPolicy(cluster, tenantNs, 'api', {
      interval: '30s',
      selector: { tags: { tier: 'api' } },
      settings: { memorySize: 1024, timeout: 10 },
    });

    // Assert: reconciled and reported
    let last: Awaited<ReturnType<typeof findPolicy>>;
    const policy = await waitFor(
      'the policy Ready at its generation',
      async () => {
        last = await findPolicy(cluster, tenantNs, 'api');
        return last && readyAtGeneration(last, { matched: 2, compliant: 2 });
      },
      { timeoutMs: 90_000, describe: () => describeStatus(last) },
    );
    expect(aws.fn(EU, 'billing-api').memorySize).toBe(1024);
    expect(aws.fn(US, 'billing-api').memorySize).toBe(1024);
    expect(policy.metadata.finalizers).toContain(FINALIZER);
    expect(policy.metadata.generation).toBe(1);
    const lease = await cluster.kubectlJson<{ spec: { holderIdentity?: string } }>([
      'get',
      'lease',
      DEFAULT_LEASE_NAME,
      '-n',
      SYSTEM_NS,
    ]);
    expect(lease.spec.holderIdentity).toBe(controller.identity);
    const events = await waitFor('a Remediated Event', async () => {
      const list = await cluster.kubectlJson<{ items: { reason: string; reportingController?: string }[] }>([
        'get',
        'events.events.k8s.io',
        '-n',
        tenantNs,
      ]);
      return list.items.some((e) => e.reason === 'Remediated') && list.items;
    });
    expect(events.map((e) => e.reason)).toContain('Remediated');

    // Assert: what the controller's identity wrote to the object: finalizers and status, never spec
    const { metadata } = await cluster.kubectlJson<{ metadata: { managedFields?: ManagedFieldsEntry[] } }>([
      'get',
      'lambdapolicy',
      'api',
      '-n',
      tenantNs,
      '--show-managed-fields',
    ]);
    const managed = metadata.managedFields;
    const byController = (managed ?? []).filter((m) => m.manager === 'lambda-policy-controller');
    expect(byController.map((m) => m.subresource ?? 'main').sort()).toEqual(['main', 'status']);
    for (const entry of byController) {
      const fields = JSON.stringify(entry.fieldsV1);
      expect(fields, JSON.stringify(entry)).not.toContain('f:spec');
      if (entry.subresource === undefined) expect(Object.keys(entry.fieldsV1 ?? {})).toEqual(['f:metadata']);
    }

    // Act: delete
    await cluster.kubectl(['delete', 'lambdapolicy', 'api', '-n', tenantNs, '--wait=false']);

    // Assert: the finalizer is released with the same identity, and nothing was ever refused
    await waitFor('the policy to be gone', async () => (await findPolicy(cluster, tenantNs, 'api')) === undefined);
    const refused = controller
      .log()
      .split('\n')
      // the words, or 401/403 as a status code (not any number that happens to be 403, e.g. a duration)
      .filter((line) => /forbidden|unauthorized|"(statusCode|code|status)":"?40[13]\b/i.test(line));
    expect(refused).toEqual([]);
  }, 240_000);

  const yes = [
    ['list', 'lambdapolicies.lambdapolicy.io', '--all-namespaces'],
    ['watch', 'lambdapolicies.lambdapolicy.io', '--all-namespaces'],
    ['get', 'lambdapolicies.lambdapolicy.io'],
    ['patch', 'lambdapolicies.lambdapolicy.io', '--subresource=status'],
    ['update', 'lambdapolicies.lambdapolicy.io', '--subresource=finalizers'],
    ['create', 'events.events.k8s.io'],
    ['patch', 'events.events.k8s.io'],
    ['create', 'leases.coordination.k8s.io', `--namespace=${SYSTEM_NS}`],
    ['get', `leases.coordination.k8s.io/${DEFAULT_LEASE_NAME}`, `--namespace=${SYSTEM_NS}`],
    ['update', `leases.coordination.k8s.io/${DEFAULT_LEASE_NAME}`, `--namespace=${SYSTEM_NS}`],
    ['list', 'awsaccounts.lambdapolicy.io'],
    ['watch', 'awsaccounts.lambdapolicy.io'],
    ['patch', 'awsaccounts.lambdapolicy.io', '--subresource=status'],
    ['list', 'namespaces'],
    ['watch', 'namespaces'],
    // The AwsOrganization reconciler: it lists organizations, patches their status, and keeps the AwsAccounts an
    // organization owns (create, replace, delete).
    ['list', 'awsorganizations.lambdapolicy.io'],
    ['patch', 'awsorganizations.lambdapolicy.io', '--subresource=status'],
    ['create', 'awsaccounts.lambdapolicy.io'],
    ['update', 'awsaccounts.lambdapolicy.io'],
    ['delete', 'awsaccounts.lambdapolicy.io'],
  ];
  const no = [
    // Never the spec: no create/update (PUT)/delete of policies, no PUT of status either (only merge patches).
    ['create', 'lambdapolicies.lambdapolicy.io'],
    ['update', 'lambdapolicies.lambdapolicy.io'],
    ['delete', 'lambdapolicies.lambdapolicy.io'],
    ['deletecollection', 'lambdapolicies.lambdapolicy.io'],
    ['update', 'lambdapolicies.lambdapolicy.io', '--subresource=status'],
    ['patch', 'awsaccounts.lambdapolicy.io'],
    ['create', 'awsorganizations.lambdapolicy.io'],
    ['delete', 'awsorganizations.lambdapolicy.io'],
    ['patch', 'awsorganizations.lambdapolicy.io'],
    ['patch', 'namespaces'],
    ['update', 'namespaces'],
    // Nothing else in the cluster.
    ['get', 'secrets'],
    ['list', 'configmaps'],
    ['create', 'events'],
    ['delete', 'events.events.k8s.io'],
    ['list', 'events.events.k8s.io'],
    ['create', 'customresourcedefinitions.apiextensions.k8s.io'],
    ['create', 'leases.coordination.k8s.io', '--namespace=default'],
    ['get', 'leases.coordination.k8s.io/someone-elses-lease', `--namespace=${SYSTEM_NS}`],
    ['update', 'leases.coordination.k8s.io/someone-elses-lease', `--namespace=${SYSTEM_NS}`],
    ['delete', `leases.coordination.k8s.io/${DEFAULT_LEASE_NAME}`, `--namespace=${SYSTEM_NS}`],
  ];
  const canI = async (args: readonly string[]) => {
    const namespaced = args.some((a) => a.startsWith('--namespace') || a === '--all-namespaces');
    const result = await cluster.kubectl(['auth', 'can-i', ...args, ...(namespaced ? [] : ['-n', tenantNs])], {
      kubeconfig: sa.kubeconfigPath,
      check: false,
    });
    return result.stdout.trim();
  };

  /** [verb, resource, flag or ''] so every row names its three parts in the test title. */
  const rows = (table: string[][]) => table.map(([verb = '', resource = '', flag = '']) => [verb, resource, flag]);

  it.each(rows(yes))('may %s %s %s', async (...args: string[]) => {
    expect(await canI(args.filter((a) => a !== ''))).toBe('yes');
  });

  it.each(rows(no))('may not %s %s %s', async (...args: string[]) => {
    expect(await canI(args.filter((a) => a !== ''))).toBe('no');
  });

  it('is refused a write of a policy spec by a real request, not only by can-i', async () => {
    // Arrange
    await applyPolicy(cluster, tenantNs, 'guarded', {
      selector: { functionNames: ['nothing-*'] },
      settings: { memorySize: 512 },
    });
    const policy = await getPolicy(cluster, tenantNs, 'guarded');
    const edited = { ...policy, spec: { ...policy.spec, settings: { memorySize: 4096 } } };

    // Act
    const replaced = await cluster.kubectl(['replace', '-f', '-'], {
      kubeconfig: sa.kubeconfigPath,
      input: JSON.stringify(edited),
      check: false,
    });
    const deleted = await cluster.kubectl(['delete', 'lambdapolicy', 'guarded', '-n', tenantNs], {
      kubeconfig: sa.kubeconfigPath,
      check: false,
    });

    // Assert
    expect(replaced.exitCode).not.toBe(0);
    expect(replaced.stderr).toMatch(/forbidden/i);
    expect(deleted.exitCode).not.toBe(0);
    expect(deleted.stderr).toMatch(/forbidden/i);
    expect((await getPolicy(cluster, tenantNs, 'guarded')).spec.settings.memorySize).toBe(512);
  });
});
