import { describe, expect, it } from 'vitest';
import {
  ACCOUNT_ID_LABEL,
  accountInStep,
  desiredAccount,
  isLabelKey,
  ORGANIZATION_LABEL,
  tagLabels,
} from '../../../src/api/organization-accounts.ts';
import type { AwsOrganization } from '../../../src/api/organization-schema.ts';

const org = (spec: Partial<AwsOrganization['spec']> = {}): AwsOrganization => ({
  apiVersion: 'lambdapolicy.io/v1alpha1',
  kind: 'AwsOrganization',
  metadata: { name: 'main', uid: 'uid-1', generation: 1 },
  spec: {
    parents: ['ou-ab12-11111111'],
    template: { roleName: 'lpc', regions: ['eu-central-1'], policyNamespaces: {}, labels: { env: 'prod' } },
    ...spec,
  },
});

describe('tagLabels', () => {
  it('keeps the tags Kubernetes can carry and leaves out the rest, never mangled', () => {
    const { labels, skipped } = tagLabels({
      team: 'payments',
      'example.com/cost-center': '42',
      'aws:cloudformation:stack-name': 'x',
      owner: 'Jane Doe',
      long: 'v'.repeat(64),
      empty: '',
      [ORGANIZATION_LABEL]: 'forged',
    });
    expect(labels).toEqual({ team: 'payments', 'example.com/cost-center': '42', empty: '' });
    expect(skipped.sort()).toEqual(['aws:cloudformation:stack-name', 'long', 'owner', ORGANIZATION_LABEL].sort());
  });

  it('label keys: a DNS-subdomain prefix and a name of at most 63', () => {
    expect(isLabelKey('a.b/c')).toBe(true);
    expect(isLabelKey('A.b/c')).toBe(false);
    expect(isLabelKey(`x/${'n'.repeat(64)}`)).toBe(false);
    expect(isLabelKey('-bad')).toBe(false);
  });
});

describe('desiredAccount', () => {
  it('builds the AwsAccount from the template, owned by the organization', () => {
    const d = desiredAccount(org(), { id: '210987654321', name: 'payments', tags: { team: 'payments', env: 'dev' } });
    expect(d.metadata.name).toBe('main-210987654321');
    // The template's labels win over a tag; the controller's own win over both.
    expect(d.metadata.labels).toEqual({
      team: 'payments',
      env: 'prod',
      [ORGANIZATION_LABEL]: 'main',
      [ACCOUNT_ID_LABEL]: '210987654321',
    });
    expect(d.metadata.ownerReferences).toEqual([
      { apiVersion: 'lambdapolicy.io/v1alpha1', kind: 'AwsOrganization', name: 'main', uid: 'uid-1', controller: true },
    ]);
    expect(d.spec).toEqual({
      accountId: '210987654321',
      assumeRole: { roleArn: 'arn:aws:iam::210987654321:role/lpc' },
      regions: ['eu-central-1'],
      policyNamespaces: {},
    });
  });

  it('the role ARN is in the partition of the organization role', () => {
    const d = desiredAccount(org({ assumeRole: { roleArn: 'arn:aws-us-gov:iam::111111111111:role/org-reader' } }), {
      id: '210987654321',
      name: 'x',
      tags: {},
    });
    expect(d.spec.assumeRole?.roleArn).toBe('arn:aws-us-gov:iam::210987654321:role/lpc');
  });
});

describe('accountInStep', () => {
  const d = desiredAccount(org(), { id: '210987654321', name: 'x', tags: { team: 'a' } });
  const existing = () => structuredClone(d);

  it('is in step when spec (any key order), labels and owner match', () => {
    const e = existing();
    e.spec = {
      regions: e.spec.regions,
      accountId: e.spec.accountId,
      ...(e.spec.assumeRole ? { assumeRole: e.spec.assumeRole } : {}),
      policyNamespaces: {},
    };
    expect(accountInStep(e, d)).toBe(true);
  });

  it('is out of step on a spec change, a label change or another owner', () => {
    const spec = existing();
    spec.spec.regions = ['us-east-1'];
    expect(accountInStep(spec, d)).toBe(false);
    const labels = existing();
    labels.metadata.labels.team = 'b';
    expect(accountInStep(labels, d)).toBe(false);
    const extra = existing();
    extra.metadata.labels.extra = 'x';
    expect(accountInStep(extra, d)).toBe(false);
    const owner = existing();
    owner.metadata.ownerReferences = [];
    expect(accountInStep(owner, d)).toBe(false);
  });
});
