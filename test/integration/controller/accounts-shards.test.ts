/**
 * Accounts apart under the controller: an account whose role is refused and an account whose API is slow delay
 * no other (the third converges while the slow one is still being read), and `--account-selector` shards the
 * estate (a release governs only its AwsAccounts: the others are neither read, written, nor reported on).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { AwsAccount, AwsAccountStatus } from '../../../src/api/account-schema.ts';
import type { LabelSelector } from '../../../src/api/label-selector.ts';
import type { LambdaPolicyStatus } from '../../../src/api/schema.ts';
import { createAws } from '../../../src/aws/index.ts';
import type { AccountStatusSink, TenancySource } from '../../../src/controller/accounts.ts';
import { Manager } from '../../../src/controller/manager.ts';
import { MemoryStatusSink } from '../../../src/controller/memory-sink.ts';
import { type Emulator, startEmulator } from '../../../src/emulator/index.ts';
import { AccountClients } from '../../../src/reconcile/accounts.ts';
import { systemClock } from '../../../src/shared/clock.ts';
import { FilePolicySource } from '../../../src/sources/files.ts';

const EU = 'eu-central-1';
const HOME = '123456789012';
const IDS = {
  fast: '111111111111',
  slow: '222222222222',
  denied: '333333333333',
  throttled: '444444444444',
} as const;

const fn = (name: string) => ({ name, region: EU, memorySize: 512 });

const awsAccount = (name: keyof typeof IDS, labels: Record<string, string>, role = 'lpc'): AwsAccount => ({
  apiVersion: 'lambdapolicy.io/v1alpha1',
  kind: 'AwsAccount',
  metadata: { name, labels, generation: 1 },
  spec: {
    accountId: IDS[name],
    regions: [EU],
    assumeRole: { roleArn: `arn:aws:iam::${IDS[name]}:role/${role}` },
    policyNamespaces: {},
  },
});

const tenancyOf = (accounts: AwsAccount[]): TenancySource => ({
  accounts: () => accounts,
  namespaceLabels: () => new Map(),
  onChange: () => () => undefined,
});

class MemoryAccountSink implements AccountStatusSink {
  readonly statuses = new Map<string, AwsAccountStatus>();
  async writeAccountStatus(account: AwsAccount, status: AwsAccountStatus) {
    this.statuses.set(account.metadata.name, status);
    return true;
  }
}

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function start(accounts: AwsAccount[], options: { accountSelector?: LabelSelector; home?: null } = {}) {
  const dir = await mkdtemp(join(tmpdir(), 'lpc-shards-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  for (const name of Object.keys(IDS)) {
    await writeFile(
      join(dir, `${name}.yaml`),
      `apiVersion: lambdapolicy.io/v1alpha1
kind: LambdaPolicy
metadata: { name: ${name}, namespace: team, generation: 1 }
spec:
  interval: 30s
  selector: { accounts: [${name}], functionNames: ["*"] }
  settings: { memorySize: 2048 }
`,
    );
  }
  await writeFile(
    join(dir, 'home.yaml'),
    `apiVersion: lambdapolicy.io/v1alpha1
kind: LambdaPolicy
metadata: { name: home, namespace: team, generation: 1 }
spec:
  interval: 30s
  selector: { functionNames: ["home-*"] }
  settings: { memorySize: 2048 }
`,
  );
  const emulator: Emulator = await startEmulator({
    port: 0,
    tickMs: 0,
    seed: {
      accountId: HOME,
      functions: [fn('home-api')],
      accounts: Object.entries(IDS).map(([name, accountId]) => ({
        accountId,
        roles: [{ name: 'lpc' }],
        functions: [fn(`${name}-api`)],
      })),
    },
  });
  cleanups.push(() => emulator.stop());
  const aws = createAws({ regions: [EU], endpoint: emulator.url });
  cleanups.push(() => aws.destroy());
  const clients = new AccountClients({ regions: [EU], endpoint: emulator.url, clock: systemClock });
  cleanups.push(() => clients.destroy());
  const source = new FilePolicySource([dir], { debounceMs: 50 });
  const sink = new MemoryStatusSink();
  const accountSink = new MemoryAccountSink();
  const manager = new Manager({
    source,
    aws,
    defaultRegions: [EU],
    sink,
    tenancy: tenancyOf(accounts),
    accountClients: clients,
    accountSink,
    homeAccountId: HOME,
    ...(options.accountSelector ? { accountSelector: options.accountSelector } : {}),
    ...(options.home === null ? { homePolicyNamespaces: null } : {}),
  });
  await source.start();
  cleanups.push(() => source.stop());
  cleanups.push(() => manager.stop());
  return { emulator, sink, accountSink, manager };
}

async function until<T>(what: string, probe: () => T | undefined, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

const cond = (s: LambdaPolicyStatus | AwsAccountStatus | undefined, type: string) =>
  s?.conditions?.find((c) => c.type === type);

const memoryIn = (emulator: Emulator, name: keyof typeof IDS) =>
  emulator.runtime.accounts.get(IDS[name])?.store.regions.get(EU)?.functions.get(`${name}-api`)?.config.memorySize;

describe('accounts apart', () => {
  it('a refused role, a slow account and one throttling 30% of its calls delay no other', async () => {
    const { emulator, sink, accountSink, manager } = await start([
      awsAccount('fast', {}),
      awsAccount('slow', {}),
      awsAccount('denied', {}, 'no-such-role'),
      awsAccount('throttled', {}),
    ]);
    // Every answer of the slow account takes long; its first pass is still reading while the others finish.
    emulator.runtime.accounts.get(IDS.slow)?.faults.configure({ latencyMs: { ListFunctions: 4_000 } });
    emulator.runtime.accounts
      .get(IDS.throttled)
      ?.faults.configure({ errorRate: { '*': 0.3 }, errorCode: 'TooManyRequestsException', seed: 7 });
    manager.start();

    await until('fast remediated', () =>
      sink.statuses.get('team/fast')?.summary?.remediated === 1 ? true : undefined,
    );
    expect(memoryIn(emulator, 'fast')).toBe(2048);
    // The slow account has not been written yet: the fast one did not wait for it.
    expect(memoryIn(emulator, 'slow')).toBe(512);
    const denied = await until('denied AssumeRoleFailed', () => {
      const s = accountSink.statuses.get('denied');
      return cond(s, 'Stalled')?.reason === 'AssumeRoleFailed' ? s : undefined;
    });
    expect(cond(denied, 'Stalled')?.message).toContain('no-such-role');
    expect(cond(sink.statuses.get('team/denied'), 'Ready')?.reason).toBe('AwsUnavailable');
    // Only the refused AssumeRole reached that account: nothing of Lambda was asked there.
    expect(Object.keys(emulator.runtime.accounts.get(IDS.denied)?.calls.byApi ?? {})).toEqual(['AssumeRole']);
    await until('slow remediated', () =>
      sink.statuses.get('team/slow')?.summary?.remediated === 1 ? true : undefined,
    );
    expect(memoryIn(emulator, 'slow')).toBe(2048);
  });

  it('--account-selector governs only its shard: other accounts are not read, written or reported on', async () => {
    const { emulator, sink, accountSink, manager } = await start(
      [awsAccount('fast', { shard: 'a' }), awsAccount('slow', { shard: 'b' }), awsAccount('denied', { shard: 'b' })],
      { accountSelector: { matchLabels: { shard: 'a' } }, home: null },
    );
    manager.start();

    await until('fast remediated', () =>
      sink.statuses.get('team/fast')?.summary?.remediated === 1 ? true : undefined,
    );
    // Let the shard-b keys (if any were made) run: a pass of the home account's region would come first.
    await until('fast AwsAccount Ready', () =>
      cond(accountSink.statuses.get('fast'), 'Ready')?.status === 'True' ? true : undefined,
    );
    expect(memoryIn(emulator, 'slow')).toBe(512);
    expect(emulator.runtime.accounts.get(IDS.slow)?.calls.total ?? 0).toBe(0);
    expect(emulator.runtime.accounts.get(IDS.denied)?.calls.total ?? 0).toBe(0);
    expect(sink.statuses.has('team/slow')).toBe(false);
    expect(sink.statuses.has('team/denied')).toBe(false);
    expect([...accountSink.statuses.keys()]).toEqual(['fast']);
    // The home account is another release's (homeAccount.policyNamespaces: null here).
    expect(sink.statuses.has('team/home')).toBe(false);
    expect(emulator.runtime.writes).toEqual([]);
  });

  it('--home-account-namespaces none: a policy for the home account is OutOfScope, nothing read or written there', async () => {
    const { emulator, sink, manager } = await start([awsAccount('fast', {})], { home: null });
    manager.start();

    const status = await until('home OutOfScope', () => {
      const s = sink.statuses.get('team/home');
      return cond(s, 'Stalled')?.reason === 'OutOfScope' ? s : undefined;
    });
    expect(cond(status, 'Stalled')?.message).toContain(`account home (${HOME}): namespace not granted`);
    await until('fast remediated', () =>
      sink.statuses.get('team/fast')?.summary?.remediated === 1 ? true : undefined,
    );
    expect(emulator.runtime.calls.byApi.ListFunctions ?? 0).toBe(0);
    expect(emulator.runtime.writes).toEqual([]);
  });
});
