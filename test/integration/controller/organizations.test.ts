/**
 * The AwsOrganization reconciler's decisions, with real discovery against the emulator and an in-memory store
 * standing in for the API server (the e2e test runs the same reconciler on a real one): when it syncs (new,
 * changed generation, interval, retry after failure) and what a cut-short listing may not do (delete).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { DesiredAccount } from '../../../src/api/organization-accounts.ts';
import type { AwsOrganization, AwsOrganizationStatus } from '../../../src/api/organization-schema.ts';
import { awsDiscovery, OrganizationReconciler } from '../../../src/controller/organizations.ts';
import { type Emulator, emulatorAdmin, startEmulator } from '../../../src/emulator/index.ts';
import { ConflictError } from '../../../src/kube/errors.ts';
import type { ExistingAccount, OrganizationStore } from '../../../src/kube/organizations.ts';
import { FakeClock } from '../../support/fake-clock.ts';

const PROD = 'ou-ab12-11111111';
const id = (n: number) => `2100000000${String(n).padStart(2, '0')}`;

class MemoryStore implements OrganizationStore {
  organizations: AwsOrganization[] = [];
  accounts = new Map<string, ExistingAccount>();
  statuses: AwsOrganizationStatus[] = [];
  writes: string[] = [];

  async listOrganizations() {
    return structuredClone(this.organizations);
  }
  async listOwnedAccounts(o: { name: string; uid: string }) {
    return [...this.accounts.values()].filter((a) => a.metadata.ownerReferences?.some((r) => r.uid === o.uid));
  }
  async createAccount(a: DesiredAccount) {
    if (this.accounts.has(a.metadata.name)) throw new ConflictError(`${a.metadata.name} exists`);
    this.accounts.set(a.metadata.name, structuredClone(a));
    this.writes.push(`create ${a.metadata.name}`);
  }
  async replaceAccount(_e: ExistingAccount, d: DesiredAccount) {
    this.accounts.set(d.metadata.name, structuredClone(d));
    this.writes.push(`replace ${d.metadata.name}`);
  }
  async deleteAccount(name: string) {
    this.accounts.delete(name);
    this.writes.push(`delete ${name}`);
  }
  async patchOrganizationStatus(_name: string, status: AwsOrganizationStatus) {
    this.statuses.push(status);
    const o = this.organizations[0];
    if (o) o.status = status;
  }
}

const organization = (spec: Partial<AwsOrganization['spec']> = {}, generation = 1): AwsOrganization => ({
  apiVersion: 'lambdapolicy.io/v1alpha1',
  kind: 'AwsOrganization',
  metadata: { name: 'main', uid: 'uid-main', generation },
  spec: { parents: [PROD], interval: '10m', template: { roleName: 'lpc', regions: ['eu-central-1'] }, ...spec },
});

describe('OrganizationReconciler', () => {
  let emulator: Emulator;
  let clock: FakeClock;
  let store: MemoryStore;
  let reconciler: OrganizationReconciler;
  let discover: ReturnType<typeof awsDiscovery>;

  beforeEach(async () => {
    emulator = await startEmulator({
      port: 0,
      tickMs: 0,
      seed: {
        organization: { rootId: 'r-ab12', units: [{ id: PROD, name: 'prod', accounts: [id(1), id(2), id(3)] }] },
      },
    });
    clock = new FakeClock(Date.parse('2026-12-02T10:00:00Z'));
    clock.sleep = async (ms) => {
      clock.advance(ms);
    };
    store = new MemoryStore();
    store.organizations = [organization()];
    discover = awsDiscovery({ endpoint: emulator.url, clock, rate: 1000 });
    reconciler = new OrganizationReconciler({ store, discover, clock });
  });
  afterEach(async () => {
    discover.destroy();
    await emulator.stop();
  });

  it('syncs a new organization at once, then only on its interval or a spec change', async () => {
    expect(await reconciler.syncDue()).toHaveLength(1);
    expect(store.accounts.size).toBe(3);
    clock.advance(9 * 60_000);
    expect(await reconciler.syncDue()).toEqual([]);
    clock.advance(60_000);
    expect(await reconciler.syncDue()).toHaveLength(1);
    // A spec change (new generation) is synced at once, whatever the interval says.
    store.organizations = [organization({ template: { roleName: 'lpc', regions: ['us-east-1'] } }, 2)];
    const [sync] = await reconciler.syncDue();
    expect(sync?.updated).toHaveLength(3);
    expect([...store.accounts.values()].every((a) => a.spec.regions[0] === 'us-east-1')).toBe(true);
    expect(store.statuses.at(-1)?.observedGeneration).toBe(2);
  });

  it('a listing cut short by maxAccounts creates what it saw and deletes nothing', async () => {
    await reconciler.syncDue();
    store.organizations = [organization({ maxAccounts: 1 }, 2)];
    const [sync] = await reconciler.syncDue();
    expect(sync?.truncated).toBe('more than 1 active accounts');
    expect(sync?.deleted).toEqual([]);
    expect(store.accounts.size).toBe(3);
    expect(store.statuses.at(-1)?.conditions?.find((c) => c.type === 'Ready')).toMatchObject({
      status: 'False',
      reason: 'Truncated',
    });
  });

  it('a failed listing keeps the accounts and the last sync time, and is retried after 30 s, doubling', async () => {
    await reconciler.syncDue();
    const synced = store.statuses.at(-1)?.lastSyncTime;
    await emulatorAdmin(emulator.url, 'POST', 'faults', {
      forced: [{ api: 'DescribeOrganization', error: 'AccessDeniedException', status: 400, count: 2 }],
    });
    clock.advance(10 * 60_000);
    const [failed] = await reconciler.syncDue();
    expect(failed?.error).toMatch(/AccessDeniedException/);
    expect(store.accounts.size).toBe(3);
    expect(store.statuses.at(-1)).toMatchObject({ accounts: 3, lastSyncTime: synced });
    clock.advance(29_000);
    expect(await reconciler.syncDue()).toEqual([]);
    clock.advance(1_000);
    expect((await reconciler.syncDue())[0]?.error).toMatch(/AccessDeniedException/);
    clock.advance(59_000);
    expect(await reconciler.syncDue()).toEqual([]);
    clock.advance(1_000);
    expect((await reconciler.syncDue())[0]?.error).toBeUndefined();
  });

  it('an account that leaves is deleted, explicitly; a deleted organization is forgotten', async () => {
    await reconciler.syncDue();
    await emulatorAdmin(emulator.url, 'DELETE', `organization/accounts/${id(2)}`);
    clock.advance(10 * 60_000);
    const [sync] = await reconciler.syncDue();
    expect(sync?.deleted).toEqual([`main-${id(2)}`]);
    expect(store.writes.filter((w) => w.startsWith('delete'))).toEqual([`delete main-${id(2)}`]);
    store.organizations = [];
    expect(await reconciler.syncDue()).toEqual([]);
    // Created again under the same uid it would be synced at once: the schedule was dropped.
    store.organizations = [organization()];
    expect(await reconciler.syncDue()).toHaveLength(1);
  });

  it('start() syncs at once and keeps polling until stop()', async () => {
    const started = new OrganizationReconciler({ store, discover, clock, pollMs: 30_000 });
    started.start();
    await waitUntil(() => store.accounts.size === 3);
    await started.stop();
    const writes = store.writes.length;
    clock.advance(60 * 60_000);
    await new Promise((r) => setTimeout(r, 50));
    expect(store.writes).toHaveLength(writes);
  });
});

async function waitUntil(done: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !done(); i++) await new Promise((r) => setTimeout(r, 10));
  expect(done()).toBe(true);
}
