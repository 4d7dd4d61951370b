/**
 * Tenancy's watchers: AwsAccounts and Namespaces as the controller sees them, and which of their changes are
 * announced (an account's labels or spec, a namespace's labels) and which are not (the controller's own AwsAccount
 * status writes, a namespace's annotations).
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { AwsAccount } from '../../../src/api/account-schema.ts';
import { KubernetesTenancy, type NamespaceObject } from '../../../src/kube/accounts.ts';
import type { ListWatchTransport, WatchedObject } from '../../../src/kube/watcher.ts';

class Scripted<T extends WatchedObject> implements ListWatchTransport<T> {
  emit: ((type: string, object: unknown) => void) | undefined;
  private readonly items: T[];
  constructor(items: T[]) {
    this.items = items;
  }
  async list() {
    return { items: this.items, resourceVersion: '1' };
  }
  async watch(_rv: string, onEvent: (type: string, object: unknown) => void) {
    this.emit = onEvent;
    return { abort: () => undefined };
  }
}

const account = (rv: string, spec: Partial<AwsAccount['spec']> = {}, status?: unknown): AwsAccount => ({
  apiVersion: 'lambdapolicy.io/v1alpha1',
  kind: 'AwsAccount',
  metadata: { name: 'payments-prod', resourceVersion: rv, labels: { env: 'prod' } },
  spec: { accountId: '210987654321', regions: ['eu-central-1'], ...spec },
  ...(status === undefined ? {} : { status }),
});

const ns = (rv: string, labels: Record<string, string>, annotations?: Record<string, string>) =>
  ({
    metadata: { name: 'team-a', resourceVersion: rv, labels, ...(annotations ? { annotations } : {}) },
  }) as NamespaceObject;

let tenancy: KubernetesTenancy | undefined;
afterEach(async () => {
  await tenancy?.stop();
});

async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((r) => setTimeout(r, 5));
}

describe('KubernetesTenancy', () => {
  it('lists both, then announces grant-relevant changes only', async () => {
    const accounts = new Scripted([account('1')]);
    const namespaces = new Scripted([ns('1', { team: 'a' })]);
    tenancy = new KubernetesTenancy({ accounts, namespaces }, { coalesceMs: 0 });
    let changes = 0;
    tenancy.onChange(() => changes++);
    await tenancy.start();
    await settle();
    expect(tenancy.ready()).toBe(true);
    expect(tenancy.accounts().map((a) => a.metadata.name)).toEqual(['payments-prod']);
    expect(tenancy.namespaceLabels().get('team-a')).toEqual({ team: 'a' });

    // the controller's own status write, a namespace annotation: nothing to decide again
    accounts.emit?.('MODIFIED', account('2', {}, { policies: 3 }));
    namespaces.emit?.('MODIFIED', ns('2', { team: 'a' }, { note: 'x' }));
    await settle();
    expect(changes).toBe(0);

    // a relabelled namespace, a respecified account
    namespaces.emit?.('MODIFIED', ns('3', { team: 'b' }));
    await settle();
    expect(changes).toBe(1);
    expect(tenancy.namespaceLabels().get('team-a')).toEqual({ team: 'b' });
    accounts.emit?.('MODIFIED', account('3', { scope: { functionNames: ['payments-*'] } }));
    await settle();
    expect(changes).toBe(2);
    accounts.emit?.('DELETED', account('4'));
    await settle();
    expect(changes).toBe(3);
    expect(tenancy.accounts()).toEqual([]);
  });
});
