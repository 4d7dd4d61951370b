/**
 * Account discovery over the wire: the real Organizations SDK client against the emulated organization, on a fake
 * clock (pacing and backoff sleeps are recorded, not waited). Covers what AWS does that a naive lister gets wrong:
 * empty pages that are not the last, TooManyRequestsException bursts, a member account calling, token loops, and
 * the bounds (depth, accounts, calls).
 */
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  createOrganizationsClient,
  type DiscoveryOptions,
  discoverAccounts,
  OrganizationsDiscoveryError,
} from '../../../src/aws/organizations.ts';
import { type Emulator, emulatorAdmin, startEmulator } from '../../../src/emulator/index.ts';
import type { SeedOrganization } from '../../../src/emulator/organizations.ts';
import { FakeClock } from '../../support/fake-clock.ts';

const MANAGEMENT = '123456789012';
const PROD = 'ou-ab12-11111111';
const EU = 'ou-ab12-22222222';
const DEV = 'ou-ab12-33333333';
const id = (n: number) => `2100000000${String(n).padStart(2, '0')}`;

const ORGANIZATION: SeedOrganization = {
  rootId: 'r-ab12',
  units: [
    {
      id: PROD,
      name: 'prod',
      accounts: [
        { id: id(1), name: 'payments', tags: { team: 'payments', env: 'prod' } },
        { id: id(2), name: 'search' },
        { id: id(3), name: 'old', state: 'SUSPENDED' },
      ],
      units: [{ id: EU, name: 'eu', accounts: [{ id: id(4), name: 'payments-eu' }] }],
    },
    { id: DEV, name: 'dev', accounts: [id(5)] },
  ],
};

describe('discoverAccounts against the emulator', () => {
  let emulator: Emulator;
  let clock: FakeClock;
  let sleeps: number[];

  beforeEach(async () => {
    emulator = await startEmulator({
      port: 0,
      tickMs: 0,
      seed: {
        accountId: MANAGEMENT,
        accounts: [{ accountId: id(1), roles: [{ name: 'lpc' }] }],
        organization: ORGANIZATION,
      },
    });
    clock = new FakeClock(Date.now());
    sleeps = [];
    clock.sleep = async (ms) => {
      sleeps.push(ms);
      clock.advance(ms);
    };
  });
  afterEach(() => emulator.stop());

  const client = () =>
    createOrganizationsClient({
      endpoint: emulator.url,
      credentials: { accessKeyId: 'AKIDMANAGEMENT', secretAccessKey: 'x' },
    });
  const discover = (options: Partial<DiscoveryOptions> = {}) =>
    discoverAccounts(client(), { parents: [PROD], clock, random: () => 1, ...options });

  it('lists ACTIVE accounts under an OU and its children, with tags, paced one call at a time', async () => {
    const found = await discover();
    expect(found.accounts.map((a) => [a.id, a.name, a.parentId])).toEqual([
      [id(1), 'payments', PROD],
      [id(2), 'search', PROD],
      [id(4), 'payments-eu', EU],
    ]);
    expect(found.accounts[0]?.tags).toEqual({ team: 'payments', env: 'prod' });
    expect(found.inactive).toEqual([{ id: id(3), state: 'SUSPENDED' }]);
    expect(found.managementAccountId).toBe(MANAGEMENT);
    expect(found.truncated).toBeUndefined();
    // Describe; prod: accounts, OUs; eu: accounts, OUs; 3 tag reads.
    expect(found.calls).toBe(8);
    // 2 calls/s: every call after the first waited for its slot, none ran in parallel.
    expect(sleeps).toEqual(Array(7).fill(500));
    expect(emulator.runtime.calls.byApi).toMatchObject({
      DescribeOrganization: 1,
      ListAccountsForParent: 2,
      ListOrganizationalUnitsForParent: 2,
      ListTagsForResource: 3,
    });
  });

  it('follows NextToken through empty pages (AWS may send one before the last)', async () => {
    await emulatorAdmin(emulator.url, 'POST', 'organization', { ...ORGANIZATION, emptyPages: 3 });
    const found = await discover({ rate: 1000 });
    expect(found.accounts.map((a) => a.id)).toEqual([id(1), id(2), id(4)]);
    expect(found.calls).toBe(8 + 3);
  });

  it('retries TooManyRequestsException with exponential backoff', async () => {
    await emulatorAdmin(emulator.url, 'POST', 'faults', {
      forced: [{ api: 'ListAccountsForParent', error: 'TooManyRequestsException', status: 400, count: 3 }],
    });
    const found = await discover({ rate: 1000 });
    expect(found.accounts).toHaveLength(3);
    expect(emulator.runtime.calls.faulted.byApi.ListAccountsForParent).toBe(3);
    // Full jitter at its maximum (random = 1): 1 s, 2 s, 4 s; the 1 ms waits are the pacing.
    expect(sleeps.filter((ms) => ms >= 1000)).toEqual([1000, 2000, 4000]);
  });

  it('gives up after maxAttempts with a typed error naming the API', async () => {
    await emulatorAdmin(emulator.url, 'POST', 'faults', {
      forced: [{ api: 'ListTagsForResource', error: 'TooManyRequestsException', status: 400, count: 10 }],
    });
    const error = await discover({ rate: 1000, maxAttempts: 3 }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(OrganizationsDiscoveryError);
    expect((error as OrganizationsDiscoveryError).api).toBe('ListTagsForResource');
    expect((error as OrganizationsDiscoveryError).awsCode).toBe('TooManyRequestsException');
  });

  it('a member account is refused (AccessDeniedException), not retried', async () => {
    const member = createOrganizationsClient({
      endpoint: emulator.url,
      credentials: async () => {
        const out = await new STSClient({
          endpoint: emulator.url,
          region: 'us-east-1',
          credentials: { accessKeyId: 'AKIDMANAGEMENT', secretAccessKey: 'x' },
        }).send(new AssumeRoleCommand({ RoleArn: `arn:aws:iam::${id(1)}:role/lpc`, RoleSessionName: 'lpc' }));
        return {
          accessKeyId: out.Credentials?.AccessKeyId ?? '',
          secretAccessKey: out.Credentials?.SecretAccessKey ?? '',
          sessionToken: out.Credentials?.SessionToken ?? '',
        };
      },
    });
    const error = await discoverAccounts(member, { parents: [PROD], clock, rate: 1000 }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect((error as OrganizationsDiscoveryError).awsCode).toBe('AccessDeniedException');
    expect(emulator.runtime.accounts.get(id(1))?.calls.byApi.DescribeOrganization).toBe(1);
  });

  it('a NextToken that repeats ends the listing with an error instead of looping', async () => {
    await emulatorAdmin(emulator.url, 'POST', 'organization', {
      ...ORGANIZATION,
      units: [{ id: PROD, name: 'prod', accounts: Array.from({ length: 25 }, (_, i) => id(i + 10)) }],
    });
    await emulatorAdmin(emulator.url, 'POST', 'faults', {
      answers: [{ api: 'ListAccountsForParent', kind: 'repeatToken', count: 5 }],
    });
    const error = await discover({ rate: 1000 }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect((error as OrganizationsDiscoveryError).awsCode).toBe('PaginationLoop');
  });

  it('stops at the bounds and says so: depth, accounts, calls', async () => {
    const shallow = await discover({ rate: 1000, maxDepth: 0 });
    expect(shallow.accounts.map((a) => a.id)).toEqual([id(1), id(2)]);
    expect(shallow.truncated).toBe('OUs nested deeper than 0 levels were not listed');

    const few = await discover({ rate: 1000, maxAccounts: 1 });
    expect(few.accounts.map((a) => a.id)).toEqual([id(1)]);
    expect(few.truncated).toBe('more than 1 active accounts');

    const calls = await discover({ rate: 1000, maxCalls: 6 });
    expect(calls.calls).toBe(6);
    expect(calls.truncated).toBe('stopped after 6 calls');
    // Two tag reads did not happen: those accounts are left out rather than labelled without their tags.
    expect(calls.accounts.map((a) => a.id)).toEqual([id(1)]);
  });

  it('several parents: the root lists the management account too; an account is listed once', async () => {
    const found = await discover({ parents: ['r-ab12', PROD, EU, DEV], rate: 1000 });
    expect(found.accounts.map((a) => a.id)).toEqual([MANAGEMENT, id(1), id(2), id(4), id(5)]);
  });

  it('the admin API adds, suspends and removes accounts between listings', async () => {
    await emulatorAdmin(emulator.url, 'POST', 'organization/accounts', {
      id: id(6),
      parentId: EU,
      name: 'new',
      tags: { team: 'search' },
    });
    await emulatorAdmin(emulator.url, 'POST', 'organization/accounts', {
      id: id(2),
      parentId: PROD,
      state: 'SUSPENDED',
    });
    await emulatorAdmin(emulator.url, 'DELETE', `organization/accounts/${id(4)}`);
    const found = await discover({ rate: 1000 });
    expect(found.accounts.map((a) => [a.id, a.tags])).toEqual([
      [id(1), { team: 'payments', env: 'prod' }],
      [id(6), { team: 'search' }],
    ]);
    expect(found.inactive.map((a) => a.id)).toEqual([id(2), id(3)]);
  });

  it('without an organization: AWSOrganizationsNotInUseException', async () => {
    await emulatorAdmin(emulator.url, 'DELETE', 'organization');
    const error = await discover({ rate: 1000 }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect((error as OrganizationsDiscoveryError).awsCode).toBe('AWSOrganizationsNotInUseException');
  });
});
