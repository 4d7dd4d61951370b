/**
 * The AwsAccount CRD on a real kube-apiserver: cluster-scoped, short name awsacct, printer columns, and the CEL
 * rule (the role must be in the account) refusing what the CLI's validator refuses, with the same message.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateAccount } from '../../../src/api/account-validate.ts';
import { ACCOUNT_CRD_FILE, ACCOUNT_CRD_NAME, CRD_FILE, CRD_NAME } from '../../../src/api/crd.ts';
import { type ControlPlane, REPO_ROOT, startControlPlane } from '../harness/index.ts';
import { parsePrintedTable } from './printed-table.ts';

let cluster: ControlPlane;

beforeAll(async () => {
  cluster = await startControlPlane();
  await cluster.kubectl(['apply', '-f', join(REPO_ROOT, ACCOUNT_CRD_FILE), '-f', join(REPO_ROOT, CRD_FILE)]);
  for (const name of [ACCOUNT_CRD_NAME, CRD_NAME]) {
    await cluster.kubectl(['wait', '--for=condition=Established', '--timeout=60s', `crd/${name}`]);
  }
});

afterAll(async () => {
  await cluster?.stop();
});

const manifest = (name: string, accountId: string, roleAccount: string) => ({
  apiVersion: 'lambdapolicy.io/v1alpha1',
  kind: 'AwsAccount',
  metadata: { name, labels: { env: 'prod' } },
  spec: {
    accountId,
    assumeRole: { roleArn: `arn:aws:iam::${roleAccount}:role/lambda-policy-controller`, externalId: 'lpc-7f3a' },
    regions: ['eu-central-1', 'us-east-1'],
    policyNamespaces: { matchLabels: { team: 'payments' } },
    scope: { functionNames: ['payments-*'], tags: { team: 'payments' } },
    rates: { lambda: 10, getFunction: 80 },
  },
});

describe('AwsAccount CRD', () => {
  it('accepts the documented example, cluster-scoped, listed by short name with its columns', async () => {
    const example = manifest('payments-prod', '210987654321', '210987654321');
    expect(validateAccount(example).ok).toBe(true);
    await cluster.apply(JSON.stringify(example));

    const table = parsePrintedTable((await cluster.kubectl(['get', 'awsacct'])).stdout);
    expect(table.rows).toEqual([
      expect.objectContaining({
        NAME: 'payments-prod',
        ACCOUNT: '210987654321',
        REGIONS: '["eu-central-1","us-east-1"]',
      }),
    ]);
    const stored = await cluster.kubectlJson<{ metadata: { namespace?: string } }>([
      'get',
      'awsaccount',
      'payments-prod',
    ]);
    expect(stored.metadata.namespace).toBeUndefined();
  });

  it('refuses a role of another account with the message the CLI prints', async () => {
    const bad = manifest('wrong-role', '210987654321', '111111111111');
    const cli = validateAccount(bad);
    const server = await cluster.apply(JSON.stringify(bad), { check: false });

    expect(cli.ok).toBe(false);
    expect(cli.issues.map((i) => [i.path, i.message])).toEqual([
      ['spec.assumeRole.roleArn', 'assumeRole.roleArn must be a role of accountId'],
    ]);
    expect(server.exitCode).not.toBe(0);
    expect(server.stderr).toContain('spec.assumeRole.roleArn');
    expect(server.stderr).toContain('assumeRole.roleArn must be a role of accountId');
  });

  it('refuses an account id that is not 12 digits and an empty regions list', async () => {
    const bad = { ...manifest('short-id', '2109876543', '2109876543'), spec: { accountId: '2109876543', regions: [] } };
    const server = await cluster.apply(JSON.stringify(bad), { check: false });
    expect(server.exitCode).not.toBe(0);
    expect(server.stderr).toContain('spec.accountId');
    expect(server.stderr).toContain('spec.regions');
    expect(
      validateAccount(bad)
        .issues.map((i) => i.path)
        .sort(),
    ).toEqual(['spec.accountId', 'spec.regions']);
  });

  it('LambdaPolicy accepts selector.accounts and selector.accountSelector', async () => {
    await cluster.kubectl(['create', 'namespace', 'payments']);
    const result = await cluster.apply(
      JSON.stringify({
        apiVersion: 'lambdapolicy.io/v1alpha1',
        kind: 'LambdaPolicy',
        metadata: { name: 'p', namespace: 'payments' },
        spec: {
          selector: {
            functionNames: ['*'],
            accounts: ['payments-prod'],
            accountSelector: { matchExpressions: [{ key: 'env', operator: 'In', values: ['prod'] }] },
          },
          settings: { memorySize: 512 },
        },
      }),
    );
    expect(result.stdout).toContain('lambdapolicy.lambdapolicy.io/p created');
  });
});
