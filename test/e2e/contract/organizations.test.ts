/**
 * Contract: AWS Organizations' list APIs, against the emulator and moto through the real AWS SDK. The same
 * organization is built on both (an OU with 25 active accounts, so lists page at 20; a nested OU with one more; a
 * suspended account; tags on one account), and the controller's discovery (src/aws/organizations.ts) must find the
 * same accounts, tags and states on each. Where moto does not check a bound AWS checks, the test says so.
 */
import {
  CloseAccountCommand,
  CreateAccountCommand,
  CreateOrganizationalUnitCommand,
  CreateOrganizationCommand,
  DescribeOrganizationCommand,
  ListAccountsForParentCommand,
  ListOrganizationalUnitsForParentCommand,
  ListRootsCommand,
  ListTagsForResourceCommand,
  MoveAccountCommand,
  OrganizationsClient,
} from '@aws-sdk/client-organizations';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { discoverAccounts } from '../../../src/aws/organizations.ts';
import { type Emulator, startEmulator } from '../../../src/emulator/index.ts';
import type { SeedOrganizationAccount } from '../../../src/emulator/organizations.ts';
import { systemClock } from '../../../src/shared/clock.ts';
import { type MotoServer, startMoto } from '../harness/moto.ts';

const REGION = 'us-east-1';
const MANAGEMENT = '123456789012';
const ACTIVE_IN_PROD = 25;

interface OrgTarget {
  name: string;
  client: OrganizationsClient;
  /** moto pages any MaxResults it is sent; AWS refuses more than 20. */
  strict: boolean;
  prodOu: string;
  nestedOu: string;
  rootId: string;
  /** Ids by role in the test. */
  tagged: string;
  suspended: string;
  nested: string;
  prod: string[];
  stop(): Promise<void>;
}

const client = (url: string) =>
  new OrganizationsClient({
    endpoint: url,
    region: REGION,
    credentials: { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'testing' },
    maxAttempts: 1,
  });

const TARGETS: { name: string; start: () => Promise<OrgTarget> }[] = [
  {
    name: 'emulator',
    start: async () => {
      const id = (n: number) => `2100000000${String(n).padStart(2, '0')}`;
      const prod: SeedOrganizationAccount[] = Array.from({ length: ACTIVE_IN_PROD }, (_, i) => ({
        id: id(i + 1),
        name: `prod-${i + 1}`,
      }));
      const tagged = id(1);
      const first = prod[0];
      if (first) first.tags = { team: 'payments', env: 'prod' };
      const emulator: Emulator = await startEmulator({
        port: 0,
        seed: {
          accountId: MANAGEMENT,
          organization: {
            rootId: 'r-ab12',
            units: [
              {
                id: 'ou-ab12-11111111',
                name: 'prod',
                accounts: [...prod, { id: id(90), name: 'closed', state: 'SUSPENDED' }],
                units: [{ id: 'ou-ab12-22222222', name: 'eu', accounts: [{ id: id(91), name: 'nested' }] }],
              },
            ],
          },
        },
      });
      return {
        name: 'emulator',
        client: client(emulator.url),
        strict: true,
        rootId: 'r-ab12',
        prodOu: 'ou-ab12-11111111',
        nestedOu: 'ou-ab12-22222222',
        tagged,
        suspended: id(90),
        nested: id(91),
        prod: prod.map((p) => p.id),
        stop: () => emulator.stop(),
      };
    },
  },
  {
    name: 'moto',
    start: async () => {
      const binDir = process.env.LPC_MOTO_BIN_DIR;
      const moto: MotoServer = await startMoto({ region: REGION, ...(binDir ? { binDir } : {}) });
      const c = client(moto.url);
      await c.send(new CreateOrganizationCommand({ FeatureSet: 'ALL' }));
      const rootId = (await c.send(new ListRootsCommand({}))).Roots?.[0]?.Id ?? '';
      const prodOu =
        (await c.send(new CreateOrganizationalUnitCommand({ ParentId: rootId, Name: 'prod' }))).OrganizationalUnit
          ?.Id ?? '';
      const nestedOu =
        (await c.send(new CreateOrganizationalUnitCommand({ ParentId: prodOu, Name: 'eu' }))).OrganizationalUnit?.Id ??
        '';
      const create = async (name: string, parent: string, tags?: Record<string, string>) => {
        const out = await c.send(
          new CreateAccountCommand({
            AccountName: name,
            Email: `${name}@example.com`,
            ...(tags ? { Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })) } : {}),
          }),
        );
        const accountId = out.CreateAccountStatus?.AccountId ?? '';
        await c.send(
          new MoveAccountCommand({ AccountId: accountId, SourceParentId: rootId, DestinationParentId: parent }),
        );
        return accountId;
      };
      const prod: string[] = [];
      for (let i = 1; i <= ACTIVE_IN_PROD; i++) {
        prod.push(await create(`prod-${i}`, prodOu, i === 1 ? { team: 'payments', env: 'prod' } : undefined));
      }
      const suspended = await create('closed', prodOu);
      await c.send(new CloseAccountCommand({ AccountId: suspended }));
      const nested = await create('nested', nestedOu);
      return {
        name: 'moto',
        client: c,
        strict: false,
        rootId,
        prodOu,
        nestedOu,
        tagged: prod[0] ?? '',
        suspended,
        nested,
        prod,
        stop: () => moto.stop(),
      };
    },
  },
];

describe.each(TARGETS)('Organizations contract: $name', ({ start }) => {
  let t: OrgTarget;
  beforeAll(async () => {
    t = await start();
  }, 120_000);
  afterAll(async () => {
    await t?.stop();
  });

  it('DescribeOrganization names the management account', async () => {
    const out = await t.client.send(new DescribeOrganizationCommand({}));
    expect(out.Organization?.MasterAccountId).toBe(MANAGEMENT);
    expect(out.Organization?.Id).toMatch(/^o-[a-z0-9]{10,32}$/);
  });

  it('ListAccountsForParent pages at 20 with NextToken, accounts carry State', async () => {
    const first = await t.client.send(new ListAccountsForParentCommand({ ParentId: t.prodOu, MaxResults: 20 }));
    expect(first.Accounts).toHaveLength(20);
    expect(first.NextToken).toBeTruthy();
    const second = await t.client.send(
      new ListAccountsForParentCommand({ ParentId: t.prodOu, MaxResults: 20, NextToken: first.NextToken }),
    );
    expect(second.NextToken).toBeUndefined();
    const all = [...(first.Accounts ?? []), ...(second.Accounts ?? [])];
    // The nested OU's account is not the parent's own.
    expect(all.map((a) => a.Id).sort()).toEqual([...t.prod, t.suspended].sort());
    expect(all.find((a) => a.Id === t.suspended)?.State).toBe('SUSPENDED');
    expect(all.find((a) => a.Id === t.tagged)?.State).toBe('ACTIVE');
    expect(all.find((a) => a.Id === t.tagged)?.Name).toBe('prod-1');
  });

  it('ListOrganizationalUnitsForParent lists the child OUs', async () => {
    const out = await t.client.send(new ListOrganizationalUnitsForParentCommand({ ParentId: t.prodOu }));
    expect(out.OrganizationalUnits?.map((u) => [u.Id, u.Name])).toEqual([[t.nestedOu, 'eu']]);
  });

  it('ListTagsForResource answers an account tags', async () => {
    const out = await t.client.send(new ListTagsForResourceCommand({ ResourceId: t.tagged }));
    const tags = Object.fromEntries((out.Tags ?? []).map((x) => [x.Key, x.Value]));
    expect(tags).toEqual({ team: 'payments', env: 'prod' });
  });

  it('an unknown parent is ParentNotFoundException', async () => {
    const name = await t.client.send(new ListAccountsForParentCommand({ ParentId: 'ou-ab12-99999999' })).then(
      () => 'accepted',
      (e: unknown) => (e as Error).name,
    );
    expect(name).toBe('ParentNotFoundException');
  });

  it('MaxResults above 20 is InvalidInputException (where the target checks it)', async () => {
    const name = await t.client.send(new ListAccountsForParentCommand({ ParentId: t.prodOu, MaxResults: 21 })).then(
      () => 'accepted',
      (e: unknown) => (e as Error).name,
    );
    expect(name).toBe(t.strict ? 'InvalidInputException' : 'accepted');
  });

  it('discovery finds the same ACTIVE accounts, recursively, with tags', async () => {
    const found = await discoverAccounts(t.client, { parents: [t.prodOu], clock: systemClock, rate: 1000 });
    expect(found.managementAccountId).toBe(MANAGEMENT);
    expect(found.accounts.map((a) => a.id)).toEqual([...t.prod, t.nested].sort());
    expect(found.accounts.find((a) => a.id === t.nested)?.parentId).toBe(t.nestedOu);
    expect(found.accounts.find((a) => a.id === t.tagged)?.tags).toEqual({ team: 'payments', env: 'prod' });
    expect(found.inactive).toEqual([{ id: t.suspended, state: 'SUSPENDED' }]);
    expect(found.truncated).toBeUndefined();
    // Describe + 2 account pages + 1 OU page for prod, 1 + 1 for the nested OU, one tags call per account.
    expect(found.calls).toBe(1 + 3 + 2 + ACTIVE_IN_PROD + 1);
  });

  it('depth 0 keeps to the parent own accounts and says the listing was cut', async () => {
    const found = await discoverAccounts(t.client, {
      parents: [t.prodOu],
      clock: systemClock,
      rate: 1000,
      maxDepth: 0,
    });
    expect(found.accounts.map((a) => a.id)).toEqual([...t.prod].sort());
    expect(found.truncated).toMatch(/deeper than 0/);
  });
});
