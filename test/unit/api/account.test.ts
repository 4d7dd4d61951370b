import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { validateAccount } from '../../../src/api/account-validate.ts';
import {
  ACCOUNT_CRD_FILE,
  ACCOUNT_CRD_NAME,
  type buildAccountCrd,
  renderAccountCrdYaml,
} from '../../../src/api/crd.ts';
import { matchesLabels } from '../../../src/api/label-selector.ts';
import { parsePolicies } from '../../../src/api/parse.ts';
import { validatePolicy } from '../../../src/api/validate.ts';

const repoRoot = join(import.meta.dirname, '..', '..', '..');

const account = (spec: Record<string, unknown>) => ({
  apiVersion: 'lambdapolicy.io/v1alpha1',
  kind: 'AwsAccount',
  metadata: { name: 'payments-prod', labels: { env: 'prod' } },
  spec: {
    accountId: '210987654321',
    assumeRole: {
      roleArn: 'arn:aws:iam::210987654321:role/lambda-policy-controller',
      externalId: 'lpc-7f3a',
      sessionName: 'lambda-policy-controller',
    },
    regions: ['eu-central-1', 'us-east-1'],
    policyNamespaces: { matchLabels: { team: 'payments' } },
    scope: { functionNames: ['payments-*'], tags: { team: 'payments' } },
    rates: { lambda: 10, getFunction: 80 },
    ...spec,
  },
});

describe('AwsAccount CRD', () => {
  it.each([ACCOUNT_CRD_FILE, join('charts', 'lambda-policy-controller', ACCOUNT_CRD_FILE)])(
    'matches the checked-in %s',
    (file) => {
      expect(readFileSync(join(repoRoot, file), 'utf8'), `${file} is stale: run npm run generate:crd`).toBe(
        renderAccountCrdYaml(),
      );
    },
  );

  it('is cluster-scoped with short name awsacct, printer columns and the CEL rule', () => {
    const crd = parse(renderAccountCrdYaml()) as ReturnType<typeof buildAccountCrd> & {
      metadata: { name: string };
      spec: {
        scope: string;
        names: { shortNames: string[]; kind: string };
        versions: { additionalPrinterColumns: { name: string }[]; schema: { openAPIV3Schema: unknown } }[];
      };
    };
    expect(crd.metadata.name).toBe(ACCOUNT_CRD_NAME);
    expect(crd.spec.scope).toBe('Cluster');
    expect(crd.spec.names.shortNames).toEqual(['awsacct']);
    expect(crd.spec.versions[0]?.additionalPrinterColumns.map((c) => c.name)).toEqual([
      'Account',
      'Regions',
      'Ready',
      'Policies',
      'Age',
    ]);
    expect(JSON.stringify(crd.spec.versions[0]?.schema)).toContain("':iam::' + self.accountId + ':role/'");
  });
});

describe('validateAccount', () => {
  it('accepts the documented example', () => {
    const result = validateAccount(account({}));
    expect(result.issues).toEqual([]);
    expect(result.ok).toBe(true);
  });

  it.each([
    [{ accountId: '21098765432' }, 'spec.accountId', 'must be a 12-digit AWS account id'],
    [
      { assumeRole: { roleArn: 'arn:aws:iam::111111111111:role/x' } },
      'spec.assumeRole.roleArn',
      'assumeRole.roleArn must be a role of accountId',
    ],
    [{ assumeRole: { roleArn: 'not-an-arn' } }, 'spec.assumeRole.roleArn', 'must be an IAM role ARN'],
    [{ regions: [] }, 'spec.regions', 'must have at least 1 item'],
    [{ rates: { lambda: 0 } }, 'spec.rates.lambda', ''],
    [{ scope: { functionNames: ['a b'] } }, 'spec.scope.functionNames[0]', 'must be a function name glob'],
    [{ policyNamespaces: { matchLabels: { team: 'x' }, other: 1 } }, 'spec.policyNamespaces.other', 'unknown field'],
  ])('refuses %j at %s', (spec, path, message) => {
    const result = validateAccount(account(spec));
    expect(result.ok).toBe(false);
    const issue = result.issues.find((i) => i.path === path);
    expect(issue, JSON.stringify(result.issues)).toBeDefined();
    expect(issue?.message).toContain(message);
  });
});

describe('LambdaPolicy selector.accounts / accountSelector', () => {
  const policy = (selector: Record<string, unknown>) => ({
    apiVersion: 'lambdapolicy.io/v1alpha1',
    kind: 'LambdaPolicy',
    metadata: { name: 'p', namespace: 'payments' },
    spec: { selector: { functionNames: ['*'], ...selector }, settings: { memorySize: 512 } },
  });
  it('accepts account names and a label selector', () => {
    const result = validatePolicy(
      policy({ accounts: ['payments-prod'], accountSelector: { matchLabels: { env: 'prod' } } }),
    );
    expect(result.issues).toEqual([]);
  });
  it('refuses an account name that is not an object name', () => {
    const result = validatePolicy(policy({ accounts: ['Payments Prod'] }));
    expect(result.issues.map((i) => i.path)).toEqual(['spec.selector.accounts[0]']);
  });
});

describe('matchesLabels', () => {
  it.each([
    [{}, {}, true],
    [{ matchLabels: { team: 'a' } }, { team: 'a', x: 'y' }, true],
    [{ matchLabels: { team: 'a' } }, { team: 'b' }, false],
    [{ matchExpressions: [{ key: 'team', operator: 'In' as const, values: ['a', 'b'] }] }, { team: 'b' }, true],
    [{ matchExpressions: [{ key: 'team', operator: 'NotIn' as const, values: ['a'] }] }, {}, true],
    [{ matchExpressions: [{ key: 'team', operator: 'Exists' as const }] }, {}, false],
    [{ matchExpressions: [{ key: 'team', operator: 'DoesNotExist' as const }] }, { team: 'a' }, false],
  ])('%j over %j: %s', (selector, labels, expected) => {
    expect(matchesLabels(selector, labels)).toBe(expected);
  });
});

describe('parsePolicies reads tenancy documents beside policies', () => {
  it('collects AwsAccounts and Namespaces, reports an invalid AwsAccount by name', () => {
    const text = [
      'apiVersion: v1\nkind: Namespace\nmetadata: { name: payments, labels: { team: payments, n: 1 } }\n',
      `apiVersion: lambdapolicy.io/v1alpha1\nkind: AwsAccount\nmetadata: { name: ok }\nspec: { accountId: "210987654321", regions: [eu-central-1] }\n`,
      `apiVersion: lambdapolicy.io/v1alpha1\nkind: AwsAccount\nmetadata: { name: bad }\nspec: { accountId: "1", regions: [eu-central-1] }\n`,
    ].join('---\n');
    const result = parsePolicies(text, 'grants.yaml');
    expect(result.namespaces).toEqual([{ name: 'payments', labels: { team: 'payments', n: '1' } }]);
    expect(result.accounts.map((a) => a.metadata.name)).toEqual(['ok']);
    expect(result.policies).toEqual([]);
    expect(result.errors.map((e) => e.message)).toEqual([expect.stringMatching(/grants\.yaml.*bad.*spec\.accountId/s)]);
  });
});
