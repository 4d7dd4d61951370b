/**
 * Fairness between accounts: one slow account with more regions than half the workers holds its share of the
 * workers (`maxWorkersPerAccount`, default half), never all of them, so another account's pass goes on while the
 * slow one's reads are still out. Asserted by order (which pass came first, what was in flight then), never by
 * durations: the slow account's ListFunctions is delayed in the emulator far beyond what the other account needs.
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

const HOME = '123456789012';
const SLOW = '210987654321';
const FAST = '333333333333';
const SLOW_REGIONS = ['eu-central-1', 'eu-west-1', 'us-east-1', 'us-west-2'];
const FAST_REGION = 'eu-central-1';
/** How long the slow account's ListFunctions is held: far longer than the fast account's whole pass. */
const SLOW_LIST_MS = 6_000;

const tenancy: TenancySource = {
  accounts: (): AwsAccount[] => [
    {
      apiVersion: 'lambdapolicy.io/v1alpha1',
      kind: 'AwsAccount',
      metadata: { name: 'slow', generation: 1 },
      spec: {
        accountId: SLOW,
        regions: SLOW_REGIONS,
        assumeRole: { roleArn: `arn:aws:iam::${SLOW}:role/lpc` },
        policyNamespaces: {},
      },
    },
    {
      apiVersion: 'lambdapolicy.io/v1alpha1',
      kind: 'AwsAccount',
      metadata: { name: 'fast', generation: 1 },
      spec: {
        accountId: FAST,
        regions: [FAST_REGION],
        assumeRole: { roleArn: `arn:aws:iam::${FAST}:role/lpc` },
        policyNamespaces: {},
      },
    },
  ],
  namespaceLabels: () => new Map(),
  onChange: () => () => {},
};

const policy = (name: string, account: string) => `apiVersion: lambdapolicy.io/v1alpha1
kind: LambdaPolicy
metadata: { name: ${name}, namespace: team, generation: 1 }
spec:
  interval: 10m
  selector: { accounts: [${account}], functionNames: ["*"] }
  settings: { memorySize: 2048 }
`;

let dir: string;
let emulator: Emulator;
let aws: Aws;
let clients: AccountClients;
let source: FilePolicySource;
let manager: Manager;
let sink: MemoryStatusSink;
/** Every pass in the order it ended, with what the slow account had in flight and asked for at that moment. */
let passes: { label: string; slowInFlight: number; slowLists: number }[];

const slowLists = () => emulator.runtime.accounts.get(SLOW)?.calls.byApi.ListFunctions ?? 0;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lpc-fairness-'));
  await writeFile(join(dir, 'slow.yaml'), policy('slow', 'slow'));
  emulator = await startEmulator({
    port: 0,
    tickMs: 0,
    seed: {
      accountId: HOME,
      functions: [],
      accounts: [
        {
          accountId: SLOW,
          roles: [{ name: 'lpc' }],
          functions: SLOW_REGIONS.map((region) => ({ name: `slow-${region}`, region, memorySize: 512 })),
        },
        {
          accountId: FAST,
          roles: [{ name: 'lpc' }],
          functions: [{ name: 'fast-api', region: FAST_REGION, memorySize: 512 }],
        },
      ],
    },
  });
  emulator.runtime.accounts.get(SLOW)?.faults.configure({ latencyMs: { ListFunctions: SLOW_LIST_MS } });
  aws = createAws({ regions: [FAST_REGION], endpoint: emulator.url });
  clients = new AccountClients({ regions: SLOW_REGIONS, endpoint: emulator.url, clock: systemClock });
  source = new FilePolicySource([dir], { debounceMs: 50 });
  sink = new MemoryStatusSink();
  passes = [];
  manager = new Manager({
    source,
    aws,
    defaultRegions: [FAST_REGION],
    sink,
    tenancy,
    accountClients: clients,
    homeAccountId: HOME,
    homePolicyNamespaces: null,
    workers: 4,
    onPass: (label) => passes.push({ label, slowInFlight: manager.queue.inFlightOf('slow'), slowLists: slowLists() }),
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

async function until<T>(what: string, probe: () => T | undefined, timeoutMs = 40_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

const ready = (s: LambdaPolicyStatus | undefined) =>
  s?.conditions?.find((c) => c.type === 'Ready')?.status === 'True' ? s : undefined;

describe('fairness between accounts', () => {
  it('a slow account with 4 regions and workers=4 holds half the workers; another account converges meanwhile', async () => {
    // The slow account's regions are being read (their ListFunctions are held in the emulator) ...
    await until('the slow account being read', () => (slowLists() >= 2 ? true : undefined));
    // ... when a policy for another account arrives.
    await writeFile(join(dir, 'fast.yaml'), policy('fast', 'fast'));

    const fast = await until('team/fast Ready', () => ready(sink.statuses.get('team/fast')));
    expect(fast.summary?.matched).toBe(1);
    expect(
      emulator.runtime.accounts.get(FAST)?.store.regions.get(FAST_REGION)?.functions.get('fast-api')?.config.memorySize,
    ).toBe(2048);

    // The fast account's pass ended before any of the slow account's, while two slow regions were in flight and
    // the other two had not even been asked for: the cap held them back in the queue, not on a worker.
    expect(passes[0]).toEqual({ label: `fast/${FAST_REGION}`, slowInFlight: 2, slowLists: 2 });

    // The held-back regions are not lost: every slow region is reconciled, never more than two at once.
    await until('every slow region reconciled', () =>
      SLOW_REGIONS.every((r) => passes.some((p) => p.label === `slow/${r}`)) ? true : undefined,
    );
    const slowPasses = passes.filter((p) => p.label.startsWith('slow/'));
    expect(slowPasses.map((p) => p.slowInFlight).every((n) => n <= 2)).toBe(true);
    expect(ready(sink.statuses.get('team/slow'))).toBeDefined();
  });
});
