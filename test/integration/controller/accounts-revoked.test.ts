/**
 * A namespace's grant of an account is revoked while its policy owns scheduled actions there (provisioned
 * concurrency windows): the actions are left in place, since a revoked grant means no writes in that account, and
 * the policy's status names them as a problem, so a person removes them or grants the namespace again.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AwsAccount } from '../../../src/api/account-schema.ts';
import type { LambdaPolicyStatus } from '../../../src/api/schema.ts';
import { type Aws, createAws } from '../../../src/aws/index.ts';
import type { TenancySource } from '../../../src/controller/accounts.ts';
import { Manager } from '../../../src/controller/manager.ts';
import { MemoryStatusSink } from '../../../src/controller/memory-sink.ts';
import { type Emulator, startEmulator } from '../../../src/emulator/index.ts';
import { AccountClients } from '../../../src/reconcile/accounts.ts';
import { systemClock } from '../../../src/shared/clock.ts';
import { FilePolicySource } from '../../../src/sources/files.ts';

const EU = 'eu-central-1';
const HOME = '123456789012';
const PAYMENTS = '210987654321';
const START = 'lambda-policy-controller.payments.windows.business-hours.start';
const END = 'lambda-policy-controller.payments.windows.business-hours.end';

class MemoryTenancy implements TenancySource {
  labels = new Map<string, Record<string, string>>();
  private readonly listeners = new Set<() => void>();
  accounts(): AwsAccount[] {
    return [
      {
        apiVersion: 'lambdapolicy.io/v1alpha1',
        kind: 'AwsAccount',
        metadata: { name: 'payments-prod', generation: 1 },
        spec: {
          accountId: PAYMENTS,
          regions: [EU],
          assumeRole: { roleArn: `arn:aws:iam::${PAYMENTS}:role/lpc` },
          policyNamespaces: { matchLabels: { team: 'payments' } },
        },
      },
    ];
  }
  namespaceLabels() {
    return this.labels;
  }
  onChange(listener: () => void) {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
  changed() {
    for (const l of this.listeners) l();
  }
}

const WINDOWS = `apiVersion: lambdapolicy.io/v1alpha1
kind: LambdaPolicy
metadata: { name: windows, namespace: payments, generation: 1 }
spec:
  interval: 30s
  selector: { accounts: [payments-prod], functionNames: [payments-api] }
  settings:
    provisionedConcurrency:
      qualifier: live
      value: 1
      windows:
        - { name: business-hours, start: "0 8 * * 1-5", end: "0 19 * * 1-5", timezone: Europe/Berlin, value: 2 }
`;
/** Another team still granted the account: its passes keep reading the account's fleet. */
const MEMORY = `apiVersion: lambdapolicy.io/v1alpha1
kind: LambdaPolicy
metadata: { name: memory, namespace: platform, generation: 1 }
spec:
  interval: 30s
  selector: { accounts: [payments-prod], functionNames: ["*"] }
  settings: { memorySize: 1024 }
`;

let dir: string;
let emulator: Emulator;
let aws: Aws;
let clients: AccountClients;
let source: FilePolicySource;
let manager: Manager;
let sink: MemoryStatusSink;
let tenancy: MemoryTenancy;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lpc-revoked-'));
  await writeFile(join(dir, 'windows.yaml'), WINDOWS);
  await writeFile(join(dir, 'memory.yaml'), MEMORY);
  emulator = await startEmulator({
    port: 0,
    tickMs: 0,
    seed: {
      accountId: HOME,
      functions: [],
      accounts: [
        {
          accountId: PAYMENTS,
          roles: [{ name: 'lpc' }],
          functions: [{ name: 'payments-api', region: EU, memorySize: 512, aliases: [{ name: 'live', version: '1' }] }],
        },
      ],
    },
  });
  aws = createAws({ regions: [EU], endpoint: emulator.url });
  clients = new AccountClients({ regions: [EU], endpoint: emulator.url, clock: systemClock });
  tenancy = new MemoryTenancy();
  tenancy.labels = new Map([
    ['payments', { team: 'payments' }],
    ['platform', { team: 'payments' }],
  ]);
  source = new FilePolicySource([dir], { debounceMs: 50 });
  sink = new MemoryStatusSink();
  manager = new Manager({
    source,
    aws,
    defaultRegions: [EU],
    sink,
    tenancy,
    accountClients: clients,
    homeAccountId: HOME,
    execute: { pollIntervalMs: 20 },
    recheckAfterWritesMs: 200,
  });
  await source.start();
  manager.start();
});

afterEach(async () => {
  await manager.stop();
  await source.stop();
  aws.destroy();
  clients.destroy();
  await emulator.stop();
  await rm(dir, { recursive: true, force: true });
});

async function until<T>(what: string, probe: () => T | undefined, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const payments = () => emulator.runtime.accounts.get(PAYMENTS);
const actionNames = () => [...(payments()?.store.regions.get(EU)?.actions.values() ?? [])].map((a) => a.name).sort();
const stalled = (s: LambdaPolicyStatus | undefined) => s?.conditions?.find((c) => c.type === 'Stalled');

describe('a revoked grant and the scheduled actions the policy owns there', () => {
  it('leaves them in place (no writes where refused) and names them on the policy', async () => {
    // Arrange: the windows policy has created its schedule in the payments account
    await until('the schedule created', () => (actionNames().length === 2 ? true : undefined));
    expect(actionNames()).toEqual([END, START]);
    await until('payments/windows checked', () =>
      sink.statuses.get('payments/windows')?.conditions?.find((c) => c.type === 'Ready') ? true : undefined,
    );
    const writesBefore = payments()?.writes.length ?? 0;
    const lastPass = () => manager.latest().get(`payments-prod/${EU}`)?.at.getTime() ?? 0;
    const passBefore = lastPass();

    // Act: the payments namespace loses its grant of the account
    tenancy.labels.set('payments', { team: 'elsewhere' });
    tenancy.changed();

    // Assert: OutOfScope, with a problem naming what was left behind
    const status = await until('payments/windows OutOfScope naming its actions', () => {
      const s = sink.statuses.get('payments/windows');
      return stalled(s)?.reason === 'OutOfScope' && (s?.problems ?? []).length > 0 ? s : undefined;
    });
    expect(status.problems).toEqual([
      `grant revoked in account payments-prod region ${EU}: its scheduled actions there are left in place (no writes where refused; delete them or grant again): lambda-policy-controller.payments.windows.{business-hours.end,business-hours.start}`,
    ]);
    // Another team's passes go on reading the account: they neither delete the actions nor drop the problem.
    await until('another pass over the account', () => (lastPass() > passBefore ? true : undefined));
    expect(actionNames()).toEqual([END, START]);
    const after = payments()?.writes.slice(writesBefore) ?? [];
    expect(after.filter((w) => /ScheduledAction|ScalableTarget|ProvisionedConcurrency/.test(w.api))).toEqual([]);
    expect(sink.statuses.get('payments/windows')?.problems).toEqual(status.problems);

    // Act: granted again, the policy owns its schedule again and the problem goes
    tenancy.labels.set('payments', { team: 'payments' });
    tenancy.changed();
    const granted = await until('payments/windows granted again', () => {
      const s = sink.statuses.get('payments/windows');
      return stalled(s)?.reason !== 'OutOfScope' ? s : undefined;
    });
    expect(granted.problems ?? []).toEqual([]);
    expect(actionNames()).toEqual([END, START]);
  });
});
