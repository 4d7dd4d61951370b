/**
 * Discovery through an AwsOrganization's own role: AssumeRole (with its ExternalId) into the management account,
 * then the Organizations reads signed with those credentials. The real SDK against the emulator, where the
 * management account is not the home one, so the controller's own identity is refused and only the role works.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AwsOrganization } from '../../../src/api/organization-schema.ts';
import { awsDiscovery } from '../../../src/controller/organizations.ts';
import { type Emulator, startEmulator } from '../../../src/emulator/index.ts';

const MANAGEMENT = '111111111111';
const PROD = 'ou-ab12-11111111';

const organization = (assumeRole?: AwsOrganization['spec']['assumeRole']): AwsOrganization => ({
  apiVersion: 'lambdapolicy.io/v1alpha1',
  kind: 'AwsOrganization',
  metadata: { name: 'main', uid: 'uid-main', generation: 1 },
  spec: {
    ...(assumeRole ? { assumeRole } : {}),
    parents: [PROD],
    template: { roleName: 'lpc', regions: ['eu-central-1'] },
  },
});

describe('awsDiscovery', () => {
  let emulator: Emulator;
  let discover: ReturnType<typeof awsDiscovery>;

  beforeEach(async () => {
    emulator = await startEmulator({
      port: 0,
      tickMs: 0,
      seed: {
        accounts: [{ accountId: MANAGEMENT, roles: [{ name: 'org-reader', externalId: 'lpc-org' }] }],
        organization: {
          rootId: 'r-ab12',
          managementAccountId: MANAGEMENT,
          units: [{ id: PROD, name: 'prod', accounts: ['210000000001', '210000000002'] }],
        },
      },
    });
    discover = awsDiscovery({ endpoint: emulator.url, rate: 1000 });
  });
  afterEach(async () => {
    discover.destroy();
    await emulator.stop();
  });

  it('assumes the organization role and lists through it', async () => {
    const found = await discover(
      organization({ roleArn: `arn:aws:iam::${MANAGEMENT}:role/org-reader`, externalId: 'lpc-org' }),
    );
    expect(found.managementAccountId).toBe(MANAGEMENT);
    expect(found.accounts.map((a) => a.id)).toEqual(['210000000001', '210000000002']);
    const management = emulator.runtime.accounts.get(MANAGEMENT);
    expect(management?.calls.byApi.AssumeRole).toBe(1);
    expect(management?.calls.byApi.ListAccountsForParent).toBe(1);
    // The session is reused on the next listing.
    await discover(organization({ roleArn: `arn:aws:iam::${MANAGEMENT}:role/org-reader`, externalId: 'lpc-org' }));
    expect(management?.calls.byApi.AssumeRole).toBe(1);
  });

  it('a wrong ExternalId fails the listing on AssumeRole (AccessDenied)', async () => {
    const error = await discover(
      organization({ roleArn: `arn:aws:iam::${MANAGEMENT}:role/org-reader`, externalId: 'wrong' }),
    ).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(error?.message).toMatch(/AssumeRole|AccessDenied/);
    expect(emulator.runtime.calls.byApi.ListAccountsForParent).toBeUndefined();
  });

  it("without a role the controller's own identity is not the management account: AWSOrganizationsNotInUse", async () => {
    const error = await discover(organization()).then(
      () => undefined,
      (e: unknown) => e as Error & { awsCode?: string },
    );
    expect(error?.awsCode).toBe('AWSOrganizationsNotInUseException');
  });
});
