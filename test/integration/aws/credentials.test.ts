/**
 * Per-account credentials over the wire: the real STS and Lambda SDK clients against the multi-account emulator,
 * the cache on a fake clock (time moves only when the test says so; backoff sleeps are recorded, not waited).
 */
import { LambdaClient, ListFunctionsCommand } from '@aws-sdk/client-lambda';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  type AssumeEvent,
  AssumeRoleFailedError,
  CredentialCache,
  type RoleTarget,
} from '../../../src/aws/credentials.ts';
import { type Emulator, emulatorAdmin, startEmulator } from '../../../src/emulator/index.ts';
import { FakeClock } from '../../support/fake-clock.ts';

const REGION = 'eu-central-1';
const PAYMENTS: RoleTarget = {
  account: 'payments-prod',
  accountId: '210987654321',
  roleArn: 'arn:aws:iam::210987654321:role/lambda-policy-controller',
  externalId: 'lpc-7f3a',
};
const SEARCH: RoleTarget = {
  account: 'search-prod',
  accountId: '333333333333',
  roleArn: 'arn:aws:iam::333333333333:role/lpc',
};

describe('CredentialCache against the emulator', () => {
  let emulator: Emulator;
  let clock: FakeClock;
  let events: AssumeEvent[];
  let sleeps: number[];
  let cache: CredentialCache;

  beforeEach(async () => {
    emulator = await startEmulator({
      port: 0,
      tickMs: 0,
      seed: {
        functions: [{ name: 'home-fn', region: REGION }],
        accounts: [
          {
            accountId: PAYMENTS.accountId,
            roles: [{ name: 'lambda-policy-controller', externalId: 'lpc-7f3a' }],
            functions: [{ name: 'payments-api', region: REGION }],
          },
          {
            accountId: SEARCH.accountId,
            roles: [{ name: 'lpc' }],
            functions: [{ name: 'search-api', region: REGION }],
          },
        ],
      },
    });
    clock = new FakeClock(Date.now());
    sleeps = [];
    clock.sleep = async (ms) => {
      sleeps.push(ms);
      clock.advance(ms);
    };
    events = [];
    cache = new CredentialCache({
      sts: new STSClient({
        endpoint: emulator.url,
        region: REGION,
        credentials: { accessKeyId: 'AKIDBASE', secretAccessKey: 'base' },
        maxAttempts: 1,
      }),
      clock,
      random: () => 1,
      onAssume: (e) => events.push(e),
    });
  });
  afterEach(() => emulator.stop());

  const lambdaFor = (target: RoleTarget) =>
    new LambdaClient({ endpoint: emulator.url, region: REGION, credentials: cache.provider(target), maxAttempts: 1 });
  const names = async (target: RoleTarget) =>
    (await lambdaFor(target).send(new ListFunctionsCommand({}))).Functions?.map((f) => f.FunctionName);

  it('each account gets its own credentials, and the SDK sees that account', async () => {
    expect(await names(PAYMENTS)).toEqual(['payments-api']);
    expect(await names(SEARCH)).toEqual(['search-api']);
    const who = await new STSClient({
      endpoint: emulator.url,
      region: REGION,
      credentials: cache.provider(PAYMENTS),
      maxAttempts: 1,
    }).send(new GetCallerIdentityCommand({}));
    expect(who.Account).toBe(PAYMENTS.accountId);
    expect(who.Arn).toBe(
      `arn:aws:sts::${PAYMENTS.accountId}:assumed-role/lambda-policy-controller/lambda-policy-controller`,
    );
  });

  it('caches per account and refreshes only within refreshBefore of Expiration', async () => {
    const first = await cache.get(PAYMENTS);
    await names(PAYMENTS);
    await names(PAYMENTS);
    expect(events.filter((e) => e.account === 'payments-prod')).toHaveLength(1);

    // 54 minutes on: still 6 minutes left, more than the 5-minute margin.
    clock.advance(54 * 60_000);
    expect((await cache.get(PAYMENTS)).accessKeyId).toBe(first.accessKeyId);
    clock.advance(2 * 60_000);
    const second = await cache.get(PAYMENTS);
    expect(second.accessKeyId).not.toBe(first.accessKeyId);
    expect(events.map((e) => e.outcome)).toEqual(['ok', 'ok']);
  });

  it('concurrent requests share one AssumeRole', async () => {
    await Promise.all([names(PAYMENTS), names(PAYMENTS), names(PAYMENTS), cache.get(PAYMENTS)]);
    expect(events).toHaveLength(1);
  });

  it('retries STS throttling with backoff, then succeeds', async () => {
    await emulatorAdmin(emulator.url, 'POST', `faults?account=${SEARCH.accountId}`, {
      forced: [{ api: 'AssumeRole', error: 'Throttling', status: 400, count: 2 }],
    });
    expect(await names(SEARCH)).toEqual(['search-api']);
    expect(events.map((e) => e.outcome)).toEqual(['throttled', 'throttled', 'ok']);
    expect(sleeps).toEqual([200, 400]);
  });

  it('AccessDenied marks that account only, is not retried, and carries no credential', async () => {
    const wrong: RoleTarget = { ...PAYMENTS, externalId: 'wrong' };
    await cache.get(SEARCH);
    const error = await cache.get(wrong).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(AssumeRoleFailedError);
    expect((error as AssumeRoleFailedError).denied).toBe(true);
    expect((error as AssumeRoleFailedError).message).toBe(
      'account payments-prod: AssumeRole arn:aws:iam::210987654321:role/lambda-policy-controller failed: AccessDenied',
    );
    expect(cache.failure('payments-prod')?.denied).toBe(true);
    expect(cache.failure('search-prod')).toBeUndefined();
    expect(events.filter((e) => e.account === 'payments-prod').map((e) => e.outcome)).toEqual(['denied']);
    expect(await names(SEARCH)).toEqual(['search-api']);
    const search = await cache.get(SEARCH);
    for (const text of [String(error), JSON.stringify(error), JSON.stringify(events)]) {
      expect(text).not.toContain(search.secretAccessKey);
      expect(text).not.toContain(search.sessionToken);
      expect(text).not.toMatch(/ASIA[A-Z0-9]{8}/);
    }
  });

  it('a refresh that fails while the credentials are still valid keeps them in use', async () => {
    const first = await cache.get(SEARCH);
    clock.advance(57 * 60_000);
    await emulatorAdmin(emulator.url, 'POST', `faults?account=${SEARCH.accountId}`, {
      forced: [{ api: 'AssumeRole', error: 'InternalFailure', status: 500, count: 5 }],
    });
    expect((await cache.get(SEARCH)).accessKeyId).toBe(first.accessKeyId);
    expect(cache.failure('search-prod')?.awsCode).toBe('InternalFailure');
    expect(events.map((e) => e.outcome)).toEqual([
      'ok',
      'retryable',
      'retryable',
      'retryable',
      'retryable',
      'retryable',
    ]);
    // The faults are used up: the next request refreshes and clears the mark.
    expect(await names(SEARCH)).toEqual(['search-api']);
    expect(cache.failure('search-prod')).toBeUndefined();
    // Past Expiration the failure surfaces.
    clock.advance(3 * 60_000 + 1);
    await emulatorAdmin(emulator.url, 'POST', `faults?account=${SEARCH.accountId}`, {
      forced: [{ api: 'AssumeRole', error: 'InternalFailure', status: 500, count: 5 }],
    });
    await expect(cache.get(SEARCH)).rejects.toBeInstanceOf(AssumeRoleFailedError);
  });

  it('credentials the emulator expired are refused; invalidate fetches fresh ones', async () => {
    await names(SEARCH);
    emulator.clock.advance(3601);
    const failed = await names(SEARCH).then(
      () => 'ok',
      (e: unknown) => (e as Error).name,
    );
    expect(failed).toBe('ExpiredTokenException');
    cache.invalidate('search-prod');
    expect(await names(SEARCH)).toEqual(['search-api']);
  });
});
