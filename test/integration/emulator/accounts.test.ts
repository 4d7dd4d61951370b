import { CloudWatchLogsClient, DescribeLogGroupsCommand } from '@aws-sdk/client-cloudwatch-logs';
import {
  GetFunctionConfigurationCommand,
  LambdaClient,
  ListFunctionsCommand,
  PutFunctionConcurrencyCommand,
} from '@aws-sdk/client-lambda';
import { AssumeRoleCommand, GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Emulator, startEmulator, type WriteLogEntry } from '../../../src/emulator/index.ts';
import { validateSeed } from '../../../src/emulator/seed.ts';
import { admin, clientsFor, failure } from './clients.ts';

const REGION = 'eu-central-1';
const PAYMENTS = '210987654321';
const SEARCH = '333333333333';

describe('emulator accounts and STS AssumeRole', () => {
  let emulator: Emulator;

  beforeEach(async () => {
    emulator = await startEmulator({
      port: 0,
      tickMs: 0,
      seed: {
        accountId: '123456789012',
        functions: [{ name: 'home-fn', region: REGION }],
        accounts: [
          {
            accountId: PAYMENTS,
            accountConcurrency: 500,
            roles: [{ name: 'lambda-policy-controller', externalId: 'lpc-7f3a' }],
            functions: [
              { name: 'payments-api', region: REGION },
              { name: 'payments-worker', region: REGION },
            ],
          },
          { accountId: SEARCH, roles: [{ name: 'lpc' }], functions: [{ name: 'search-api', region: REGION }] },
        ],
      },
    });
  });
  afterEach(() => emulator.stop());

  const home = () => clientsFor(emulator.url, REGION);
  async function assume(roleArn: string, externalId?: string, sts = home().sts) {
    const out = await sts.send(
      new AssumeRoleCommand({
        RoleArn: roleArn,
        RoleSessionName: 'lambda-policy-controller',
        ...(externalId ? { ExternalId: externalId } : {}),
      }),
    );
    const c = out.Credentials;
    if (!c?.AccessKeyId || !c.SecretAccessKey || !c.SessionToken) throw new Error('no credentials');
    return {
      out,
      credentials: { accessKeyId: c.AccessKeyId, secretAccessKey: c.SecretAccessKey, sessionToken: c.SessionToken },
    };
  }
  const lambdaWith = (credentials: { accessKeyId: string; secretAccessKey: string; sessionToken: string }) =>
    new LambdaClient({ endpoint: emulator.url, region: REGION, credentials, maxAttempts: 1 });

  it('AssumeRole returns credentials that select the role account for Lambda and GetCallerIdentity', async () => {
    const { out, credentials } = await assume(`arn:aws:iam::${PAYMENTS}:role/lambda-policy-controller`, 'lpc-7f3a');
    expect(out.AssumedRoleUser?.Arn).toBe(
      `arn:aws:sts::${PAYMENTS}:assumed-role/lambda-policy-controller/lambda-policy-controller`,
    );
    expect(out.Credentials?.AccessKeyId).toMatch(/^ASIA/);
    // Default DurationSeconds is one hour from the emulator clock.
    const expires = out.Credentials?.Expiration?.getTime() ?? 0;
    expect(Math.abs(expires - (emulator.clock.now().getTime() + 3600_000))).toBeLessThan(2000);

    const names = (await lambdaWith(credentials).send(new ListFunctionsCommand({}))).Functions?.map(
      (f) => f.FunctionName,
    );
    expect(names).toEqual(['payments-api', 'payments-worker']);
    const homeNames = (await home().lambda.send(new ListFunctionsCommand({}))).Functions?.map((f) => f.FunctionName);
    expect(homeNames).toEqual(['home-fn']);

    const sts = new STSClient({ endpoint: emulator.url, region: REGION, credentials, maxAttempts: 1 });
    const who = await sts.send(new GetCallerIdentityCommand({}));
    expect(who.Account).toBe(PAYMENTS);
    expect(who.Arn).toBe(`arn:aws:sts::${PAYMENTS}:assumed-role/lambda-policy-controller/lambda-policy-controller`);
    expect((await home().sts.send(new GetCallerIdentityCommand({}))).Account).toBe('123456789012');
    const arn = (
      await lambdaWith(credentials).send(new GetFunctionConfigurationCommand({ FunctionName: 'payments-api' }))
    ).FunctionArn;
    expect(arn).toBe(`arn:aws:lambda:${REGION}:${PAYMENTS}:function:payments-api`);
  });

  it('refuses a wrong or missing ExternalId and an unknown role or account with AccessDenied', async () => {
    for (const [arn, externalId] of [
      [`arn:aws:iam::${PAYMENTS}:role/lambda-policy-controller`, 'wrong'],
      [`arn:aws:iam::${PAYMENTS}:role/lambda-policy-controller`, undefined],
      [`arn:aws:iam::${PAYMENTS}:role/nobody`, 'lpc-7f3a'],
      ['arn:aws:iam::999999999999:role/lambda-policy-controller', undefined],
    ] as const) {
      const error = await failure(assume(arn, externalId));
      expect(error.name).toBe('AccessDenied');
      expect(error.message).toContain(`sts:AssumeRole on resource: ${arn}`);
      expect((error.$metadata as { httpStatusCode?: number }).httpStatusCode).toBe(403);
    }
    // A role without an ExternalId condition accepts any.
    await expect(assume(`arn:aws:iam::${SEARCH}:role/lpc`, 'anything')).resolves.toBeDefined();
  });

  it('keeps write logs, faults and quotas per account; entries carry the account', async () => {
    const payments = (await assume(`arn:aws:iam::${PAYMENTS}:role/lambda-policy-controller`, 'lpc-7f3a')).credentials;
    const search = (await assume(`arn:aws:iam::${SEARCH}:role/lpc`)).credentials;
    await admin(emulator.url, `faults?account=${SEARCH}`, { body: { errorRate: { PutFunctionConcurrency: 1 } } });

    await lambdaWith(payments).send(
      new PutFunctionConcurrencyCommand({ FunctionName: 'payments-api', ReservedConcurrentExecutions: 5 }),
    );
    const failed = await failure(
      lambdaWith(search).send(
        new PutFunctionConcurrencyCommand({ FunctionName: 'search-api', ReservedConcurrentExecutions: 5 }),
      ),
    );
    expect(failed.name).toBe('ServiceException');

    const log = async (account?: string) =>
      (await admin<{ writes: WriteLogEntry[] }>(emulator.url, account ? `writes?account=${account}` : 'writes')).writes;
    expect((await log(PAYMENTS)).map((w) => [w.account, w.function, w.ok])).toEqual([[PAYMENTS, 'payments-api', true]]);
    expect((await log(SEARCH)).map((w) => [w.account, w.function, w.ok])).toEqual([[SEARCH, 'search-api', false]]);
    expect(await log()).toEqual([]);
    const state = await admin<{
      accountId: string;
      regions: Record<string, { functions: { name: string; reservedConcurrency: number | null }[] }>;
    }>(emulator.url, `state?account=${PAYMENTS}`);
    expect(state.accountId).toBe(PAYMENTS);
    expect(state.regions[REGION]?.functions.find((f) => f.name === 'payments-api')?.reservedConcurrency).toBe(5);
    const accounts = await admin<{ accounts: { accountId: string; home: boolean }[] }>(emulator.url, 'accounts');
    expect(accounts.accounts.map((a) => a.accountId)).toEqual(['123456789012', PAYMENTS, SEARCH]);
    await expect(admin(emulator.url, 'writes?account=999999999999')).rejects.toThrow(/HTTP 404/);
  });

  it('AssumeRole faults injected on an account apply to that account only', async () => {
    await admin(emulator.url, `faults?account=${SEARCH}`, {
      body: { forced: [{ api: 'AssumeRole', error: 'Throttling', status: 400 }] },
    });
    const error = await failure(assume(`arn:aws:iam::${SEARCH}:role/lpc`));
    expect(error.name).toBe('Throttling');
    await expect(assume(`arn:aws:iam::${PAYMENTS}:role/lambda-policy-controller`, 'lpc-7f3a')).resolves.toBeDefined();
  });

  it('expired session credentials are refused with ExpiredToken; role chaining is capped at one hour', async () => {
    const { credentials } = await assume(`arn:aws:iam::${SEARCH}:role/lpc`);
    emulator.clock.advance(3601);
    const lambdaError = await failure(lambdaWith(credentials).send(new ListFunctionsCommand({})));
    expect(lambdaError.name).toBe('ExpiredTokenException');
    const sts = new STSClient({ endpoint: emulator.url, region: REGION, credentials, maxAttempts: 1 });
    expect((await failure(sts.send(new GetCallerIdentityCommand({})))).name).toBe('ExpiredToken');

    const fresh = (await assume(`arn:aws:iam::${SEARCH}:role/lpc`)).credentials;
    const chained = new STSClient({ endpoint: emulator.url, region: REGION, credentials: fresh, maxAttempts: 1 });
    const tooLong = await failure(
      chained.send(
        new AssumeRoleCommand({
          RoleArn: `arn:aws:iam::${PAYMENTS}:role/lambda-policy-controller`,
          RoleSessionName: 'chain',
          ExternalId: 'lpc-7f3a',
          DurationSeconds: 7200,
        }),
      ),
    );
    expect(tooLong.message).toContain('role chaining');
  });

  it('the seed validates accounts: 12-digit ids, no duplicates, role names', () => {
    expect(() => validateSeed({ accounts: [{ accountId: '12' }] })).toThrow(/seed.accounts\[0\].accountId/);
    expect(() => validateSeed({ accountId: PAYMENTS, accounts: [{ accountId: PAYMENTS }] })).toThrow(
      /duplicate account/,
    );
    expect(() => validateSeed({ accounts: [{ accountId: SEARCH, roles: [{ name: 'a b' }] }] })).toThrow(
      /roles\[0\].name/,
    );
    expect(() =>
      validateSeed({ accounts: [{ accountId: SEARCH, functions: [{ name: 'x', region: 'nowhere' }] }] }),
    ).toThrow(/accounts\[0\].functions\[0\].region/);
    expect(
      validateSeed({ accounts: [{ accountId: SEARCH, roles: [{ name: 'r', externalId: 'ext-1' }] }] }).accounts,
    ).toEqual([{ accountId: SEARCH, roles: [{ name: 'r', externalId: 'ext-1' }] }]);
  });
});

describe('emulator accounts with the production APIs and broken answers', () => {
  let emulator: Emulator;
  afterEach(() => emulator.stop());

  it("an account's log groups and broken answers are its own, not the home account's", async () => {
    emulator = await startEmulator({
      port: 0,
      tickMs: 0,
      seed: {
        accountId: '123456789012',
        functions: [{ name: 'home-fn', region: REGION, logRetentionDays: 7 }],
        accounts: [
          {
            accountId: PAYMENTS,
            roles: [{ name: 'lpc' }],
            functions: [{ name: 'payments-api', region: REGION, logRetentionDays: 30 }],
          },
        ],
      },
    });
    const homeClients = clientsFor(emulator.url, REGION);
    const out = await homeClients.sts.send(
      new AssumeRoleCommand({ RoleArn: `arn:aws:iam::${PAYMENTS}:role/lpc`, RoleSessionName: 'lpc' }),
    );
    const c = out.Credentials;
    if (!c?.AccessKeyId || !c.SecretAccessKey || !c.SessionToken) throw new Error('no credentials');
    const credentials = {
      accessKeyId: c.AccessKeyId,
      secretAccessKey: c.SecretAccessKey,
      sessionToken: c.SessionToken,
    };
    const config = { endpoint: emulator.url, region: REGION, credentials, maxAttempts: 1 };
    const groups = async (logs: CloudWatchLogsClient) =>
      ((await logs.send(new DescribeLogGroupsCommand({}))).logGroups ?? []).map((g) => [
        g.logGroupName,
        g.retentionInDays,
      ]);

    expect(await groups(new CloudWatchLogsClient(config))).toEqual([['/aws/lambda/payments-api', 30]]);
    expect(
      await groups(
        new CloudWatchLogsClient({
          ...config,
          credentials: { accessKeyId: 'AKIDEMULATOR', secretAccessKey: 'emulator-secret' },
        }),
      ),
    ).toEqual([['/aws/lambda/home-fn', 7]]);

    await admin(emulator.url, `faults?account=${PAYMENTS}`, {
      body: { answers: [{ api: 'ListFunctions', kind: 'html', count: 100 }] },
    });
    await expect(new LambdaClient(config).send(new ListFunctionsCommand({}))).rejects.toThrow();
    const homeNames = (await homeClients.lambda.send(new ListFunctionsCommand({}))).Functions?.map(
      (f) => f.FunctionName,
    );
    expect(homeNames).toEqual(['home-fn']);
  });
});
