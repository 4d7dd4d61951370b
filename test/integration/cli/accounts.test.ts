/**
 * `plan` / `apply` over several accounts of the emulator: AwsAccount grants and Namespaces read from the same -f
 * directory as the policies, each account reached through its assumed role, scope hiding functions, and a policy
 * outside its grant refused (OutOfScope, exit 1) with zero writes for it in every account's write log.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { PLAN_FORMAT_VERSION } from '../../../src/cli/render.ts';
import type { WriteLogEntry } from '../../../src/emulator/index.ts';
import { awsArgs, runCli, startTestEmulator, type TestEmulator } from './harness.ts';

const EU = 'eu-central-1';
const HOME = '123456789012';
const PAYMENTS = '210987654321';
const SEARCH = '333333333333';
const SHARED = '444444444444';

let emu: TestEmulator | undefined;
afterEach(async () => {
  await emu?.stop();
  emu = undefined;
});

const fn = (name: string, tags: Record<string, string> = {}) => ({ name, region: EU, memorySize: 512, tags });

async function start(): Promise<TestEmulator> {
  return startTestEmulator({
    accountId: HOME,
    functions: [fn('home-api')],
    accounts: [
      {
        accountId: PAYMENTS,
        roles: [{ name: 'lpc', externalId: 'lpc-7f3a' }],
        functions: [
          fn('payments-api', { team: 'payments' }),
          fn('payments-batch'),
          fn('orders-api', { team: 'payments' }),
        ],
      },
      { accountId: SEARCH, roles: [{ name: 'lpc' }], functions: [fn('search-api')] },
      { accountId: SHARED, roles: [{ name: 'lpc' }], functions: [fn('shared-api')] },
    ],
  });
}

const account = (name: string, id: string, extra: string) => `apiVersion: lambdapolicy.io/v1alpha1
kind: AwsAccount
metadata: { name: ${name}, labels: { env: prod } }
spec:
  accountId: "${id}"
  regions: [${EU}]
${extra}`;

function repo(searchTeamLabel = 'search'): string {
  const dir = mkdtempSync(join(tmpdir(), 'lpc-accounts-'));
  writeFileSync(
    join(dir, 'grants.yaml'),
    [
      `apiVersion: v1\nkind: Namespace\nmetadata: { name: payments, labels: { team: payments } }\n`,
      `apiVersion: v1\nkind: Namespace\nmetadata: { name: search, labels: { team: ${searchTeamLabel} } }\n`,
      account(
        'payments-prod',
        PAYMENTS,
        `  assumeRole: { roleArn: "arn:aws:iam::${PAYMENTS}:role/lpc", externalId: lpc-7f3a }
  policyNamespaces: { matchLabels: { team: payments } }
  scope: { functionNames: ["payments-*"], tags: { team: payments } }
`,
      ),
      account(
        'search-prod',
        SEARCH,
        `  assumeRole: { roleArn: "arn:aws:iam::${SEARCH}:role/lpc" }
  policyNamespaces: { matchLabels: { team: search } }
`,
      ),
      account('shared', SHARED, `  assumeRole: { roleArn: "arn:aws:iam::${SHARED}:role/lpc" }\n`),
    ].join('---\n'),
  );
  const policy = (
    ns: string,
    name: string,
    accounts: string[],
    memorySize: number,
  ) => `apiVersion: lambdapolicy.io/v1alpha1
kind: LambdaPolicy
metadata: { name: ${name}, namespace: ${ns} }
spec:
  selector: { functionNames: ["*"], accounts: [${accounts.join(', ')}] }
  settings: { memorySize: ${memorySize} }
`;
  writeFileSync(
    join(dir, 'policies.yaml'),
    [
      policy('payments', 'tune', ['payments-prod'], 1024),
      policy('search', 'tune', ['search-prod'], 2048),
      // search's namespace is not granted payments-prod (nor shared, which grants nobody)
      policy('search', 'grab', ['payments-prod', 'shared'], 128),
    ].join('---\n'),
  );
  return dir;
}

async function writesOf(e: TestEmulator, id: string): Promise<WriteLogEntry[]> {
  const path = id === HOME ? 'writes' : `writes?account=${id}`;
  return (await e.admin<{ writes: WriteLogEntry[] }>('GET', path)).writes;
}

describe('plan/apply across accounts', () => {
  it('applies inside each grant and scope only; the out-of-scope policy writes nothing anywhere (exit 1)', async () => {
    emu = await start();
    const result = await runCli(['apply', '-f', repo(), '-o', 'json', ...awsArgs(emu.url)]);

    expect(result.stderr).toContain(
      'error: policy search/grab: OutOfScope: out of scope, nothing read or written there: account payments-prod (210987654321): namespace not granted; account shared (444444444444): namespace not granted',
    );
    expect(result.code).toBe(1);
    const payments = await writesOf(emu, PAYMENTS);
    expect(payments.map((w) => [w.account, w.function, w.params.MemorySize])).toEqual([
      [PAYMENTS, 'payments-api', 1024],
    ]);
    expect((await writesOf(emu, SEARCH)).map((w) => [w.account, w.function, w.params.MemorySize])).toEqual([
      [SEARCH, 'search-api', 2048],
    ]);
    expect(await writesOf(emu, SHARED)).toEqual([]);
    expect(await writesOf(emu, HOME)).toEqual([]);
    // Nothing in any log carries the refused policy's setting.
    for (const id of [HOME, PAYMENTS, SEARCH, SHARED]) {
      expect((await writesOf(emu, id)).filter((w) => w.params.MemorySize === 128)).toEqual([]);
    }

    const doc = JSON.parse(result.stdout) as {
      accounts: { account: string; accountId: string }[];
      functions: { account: string; name: string }[];
      policies: { name: string; stalled?: string }[];
    };
    expect(doc.accounts.map((a) => [a.account, a.accountId])).toEqual([
      ['payments-prod', PAYMENTS],
      ['search-prod', SEARCH],
    ]);
    // orders-api is outside payments-prod's scope (name), payments-batch too (tag): invisible, not even listed.
    expect(doc.functions.map((f) => `${f.account}/${f.name}`)).toEqual([
      'payments-prod/payments-api',
      'search-prod/search-api',
    ]);
    expect(doc.policies.filter((p) => p.stalled).map((p) => [p.name, p.stalled])).toEqual([
      ['search/grab', 'OutOfScope'],
    ]);
  });

  it('relabelling the namespace grants the account: the same policy then plans there', async () => {
    emu = await start();
    const result = await runCli(['plan', '-f', repo('payments'), '-o', 'json', ...awsArgs(emu.url)]);

    expect(result.stderr).toContain(
      'error: policy search/grab: OutOfScope: out of scope, nothing read or written there: account shared',
    );
    expect(result.stderr).not.toContain('payments-prod (210987654321): namespace not granted');
    const doc = JSON.parse(result.stdout) as { policies: { name: string; reach: { account: string }[] }[] };
    expect(doc.policies.find((p) => p.name === 'search/grab')?.reach.map((r) => r.account)).toEqual(['payments-prod']);
    // plan writes nothing
    for (const id of [HOME, PAYMENTS, SEARCH, SHARED]) expect(await writesOf(emu, id)).toEqual([]);
  });

  it('-o yaml is the same document as -o json; -o markdown and the table name each account', async () => {
    emu = await start();
    const dir = repo();
    const json = await runCli(['plan', '-f', dir, '-o', 'json', ...awsArgs(emu.url)]);
    const yaml = await runCli(['plan', '-f', dir, '-o', 'yaml', ...awsArgs(emu.url)]);
    const markdown = await runCli(['plan', '-f', dir, '-o', 'markdown', ...awsArgs(emu.url)]);
    const table = await runCli(['plan', '-f', dir, ...awsArgs(emu.url)]);

    expect([json.code, yaml.code, markdown.code, table.code]).toEqual([1, 1, 1, 1]);
    const doc = JSON.parse(json.stdout) as { formatVersion: string; skipped: unknown };
    expect(doc.formatVersion).toBe(PLAN_FORMAT_VERSION);
    expect(doc.skipped).toEqual({});
    expect(parseYaml(yaml.stdout)).toEqual(doc);
    for (const out of [markdown.stdout, table.stdout]) {
      expect(out).toContain('payments-prod');
      expect(out).toContain('search-prod');
    }
    expect(markdown.stdout).toContain('### lambda-policy-controller plan: account payments-prod (210987654321)');
    expect(table.stdout).toMatch(/^account payments-prod \(210987654321\) eu-central-1$/m);
    for (const id of [HOME, PAYMENTS, SEARCH, SHARED]) expect(await writesOf(emu, id)).toEqual([]);
  });

  it('--assume-role reaches the home account through a role; a wrong ExternalId fails that account only', async () => {
    emu = await start();
    const dir = mkdtempSync(join(tmpdir(), 'lpc-assume-'));
    writeFileSync(
      join(dir, 'p.yaml'),
      `apiVersion: lambdapolicy.io/v1alpha1\nkind: LambdaPolicy\nmetadata: { name: p, namespace: default }\nspec:\n  selector: { functionNames: ["*"] }\n  settings: { memorySize: 1024 }\n`,
    );
    const ok = await runCli([
      'plan',
      '-f',
      dir,
      '-o',
      'json',
      '--assume-role',
      `arn:aws:iam::${PAYMENTS}:role/lpc`,
      '--external-id',
      'lpc-7f3a',
      ...awsArgs(emu.url),
    ]);
    expect(ok.code).toBe(2);
    const doc = JSON.parse(ok.stdout) as { functions: { account: string; name: string }[] };
    expect(doc.functions.map((f) => f.name)).toEqual(['orders-api', 'payments-api', 'payments-batch']);

    const denied = await runCli([
      'plan',
      '-f',
      dir,
      '--assume-role',
      `arn:aws:iam::${PAYMENTS}:role/lpc`,
      ...awsArgs(emu.url),
    ]);
    expect(denied.code).toBe(1);
    expect(denied.stderr).toContain('account home: AssumeRole arn:aws:iam::210987654321:role/lpc failed: AccessDenied');
    expect(denied.stderr + denied.stdout).not.toMatch(/ASIA[A-Z0-9]{8}/);
  });

  it('one account whose STS refuses and one throttled at 30% delay no other: each granted account converges', async () => {
    emu = await start();
    await emu.admin('POST', `faults?account=${SEARCH}`, {
      forced: [{ api: 'AssumeRole', error: 'AccessDenied', status: 403, count: 100 }],
    });
    await emu.admin('POST', `faults?account=${PAYMENTS}`, {
      errorRate: { UpdateFunctionConfiguration: 0.3, ListFunctions: 0.3 },
      errorCode: 'TooManyRequestsException',
      seed: 7,
    });
    const result = await runCli(['apply', '-f', repo(), '-o', 'json', ...awsArgs(emu.url)]);

    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      'error: account search-prod: GetCallerIdentity: AssumeRoleFailedError: account search-prod: AssumeRole arn:aws:iam::333333333333:role/lpc failed: AccessDenied',
    );
    const doc = JSON.parse(result.stdout) as { accounts: { account: string; error?: string; writes?: number }[] };
    expect(doc.accounts.find((a) => a.account === 'search-prod')?.error).toMatch(/AccessDenied/);
    expect(doc.accounts.find((a) => a.account === 'payments-prod')?.error).toBeUndefined();
    expect(
      emu.emulator.runtime.accounts.get(PAYMENTS)?.store.region(EU).functions.get('payments-api')?.config.memorySize,
    ).toBe(1024);
    expect(await writesOf(emu, SEARCH)).toEqual([]);
    // The throttling happened (and was retried through): not a test that passes because no fault fired.
    expect(emu.emulator.runtime.accounts.get(PAYMENTS)?.calls.faulted.total).toBeGreaterThan(0);
  });

  it('an AwsAccount whose credentials are another account (no role: the home identity) is AccountMismatch, untouched', async () => {
    emu = await start();
    const dir = mkdtempSync(join(tmpdir(), 'lpc-mismatch-'));
    writeFileSync(
      join(dir, 'all.yaml'),
      [
        account('payments-prod', PAYMENTS, '  policyNamespaces: {}\n'),
        `apiVersion: lambdapolicy.io/v1alpha1\nkind: LambdaPolicy\nmetadata: { name: p, namespace: default }\nspec:\n  selector: { functionNames: ["*"], accounts: [payments-prod] }\n  settings: { memorySize: 2048 }\n`,
      ].join('---\n'),
    );
    const result = await runCli(['apply', '-f', dir, ...awsArgs(emu.url)]);

    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      `error: account payments-prod: AccountMismatch: account payments-prod declares ${PAYMENTS}, its credentials are account ${HOME}`,
    );
    for (const id of [HOME, PAYMENTS, SEARCH, SHARED]) expect(await writesOf(emu, id)).toEqual([]);
    expect(emu.emulator.runtime.calls.byApi.ListFunctions).toBeUndefined();
  });
});
