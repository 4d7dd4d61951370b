/**
 * A session that ends early (revoked, or AWS's clock ahead of ours) answers ExpiredTokenException before the
 * credentials' Expiration. The clients made with an assumed role's provider refresh and send the call once more:
 * the real SDK against the emulator, whose `sessions/expire` fault ends an account's sessions at once or after a
 * number of calls.
 */
import {
  GetFunctionConcurrencyCommand,
  ListFunctionsCommand,
  PutFunctionConcurrencyCommand,
} from '@aws-sdk/client-lambda';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createRegionClients, type RegionClients } from '../../../src/aws/clients.ts';
import { type AssumeEvent, CredentialCache, type RoleTarget } from '../../../src/aws/credentials.ts';
import { type Emulator, emulatorAdmin, startEmulator } from '../../../src/emulator/index.ts';
import { FakeClock } from '../../support/fake-clock.ts';

const REGION = 'eu-central-1';
const TARGET: RoleTarget = {
  account: 'payments-prod',
  accountId: '210987654321',
  roleArn: 'arn:aws:iam::210987654321:role/lpc',
};

describe('ExpiredToken refresh-and-retry', () => {
  let emulator: Emulator;
  let assumes: AssumeEvent[];
  let expiries: string[];
  let cache: CredentialCache;
  let clients: RegionClients;

  beforeEach(async () => {
    emulator = await startEmulator({
      port: 0,
      tickMs: 0,
      seed: {
        accounts: [
          {
            accountId: TARGET.accountId,
            roles: [{ name: 'lpc' }],
            functions: [{ name: 'payments-api', region: REGION }],
          },
        ],
      },
    });
    assumes = [];
    expiries = [];
    cache = new CredentialCache({
      sts: new STSClient({
        endpoint: emulator.url,
        region: REGION,
        credentials: { accessKeyId: 'AKIDBASE', secretAccessKey: 'base' },
        maxAttempts: 1,
      }),
      clock: new FakeClock(Date.now()),
      onAssume: (e) => assumes.push(e),
      onExpired: (e) => expiries.push(e.account),
    });
    clients = createRegionClients(REGION, { endpoint: emulator.url, credentials: cache.provider(TARGET) });
  });
  afterEach(() => emulator.stop());

  const expire = (afterCalls = 0) =>
    emulatorAdmin(emulator.url, 'POST', `sessions/expire?account=${TARGET.accountId}`, { afterCalls });

  it('a read after the session ended is refreshed and answered', async () => {
    await clients.lambda.send(new ListFunctionsCommand({}));
    await expire();
    const out = await clients.lambda.send(new ListFunctionsCommand({}));
    expect(out.Functions?.map((f) => f.FunctionName)).toEqual(['payments-api']);
    expect(assumes.map((e) => e.outcome)).toEqual(['ok', 'ok']);
    expect(expiries).toEqual(['payments-prod']);
  });

  it('a write is sent once more and applied once; the write log has no failed entry', async () => {
    await clients.lambda.send(new ListFunctionsCommand({}));
    await expire();
    await clients.lambda.send(
      new PutFunctionConcurrencyCommand({ FunctionName: 'payments-api', ReservedConcurrentExecutions: 7 }),
    );
    const got = await clients.lambda.send(new GetFunctionConcurrencyCommand({ FunctionName: 'payments-api' }));
    expect(got.ReservedConcurrentExecutions).toBe(7);
    const writes = emulator.runtime.accounts.get(TARGET.accountId)?.writes ?? [];
    expect(writes.map((w) => [w.api, w.ok])).toEqual([['PutFunctionConcurrency', true]]);
  });

  it('calls in flight when the session ends cause one AssumeRole, not one each', async () => {
    await clients.lambda.send(new ListFunctionsCommand({}));
    await expire();
    await Promise.all(Array.from({ length: 8 }, () => clients.lambda.send(new ListFunctionsCommand({}))));
    expect(assumes).toHaveLength(2);
  });

  it('STS under the assumed credentials (ExpiredToken, query protocol) is retried too', async () => {
    await clients.sts.send(new GetCallerIdentityCommand({}));
    await expire();
    const who = await clients.sts.send(new GetCallerIdentityCommand({}));
    expect(who.Account).toBe(TARGET.accountId);
    expect(assumes).toHaveLength(2);
  });

  it('retries once only: a second ExpiredToken surfaces', async () => {
    await clients.lambda.send(new ListFunctionsCommand({}));
    await emulatorAdmin(emulator.url, 'POST', `faults?account=${TARGET.accountId}`, {
      forced: [{ api: 'ListFunctions', error: 'ExpiredTokenException', status: 403, count: 2 }],
    });
    const name = await clients.lambda.send(new ListFunctionsCommand({})).then(
      () => 'ok',
      (e: unknown) => (e as Error).name,
    );
    expect(name).toBe('ExpiredTokenException');
    expect(assumes).toHaveLength(2);
    expect(emulator.runtime.accounts.get(TARGET.accountId)?.calls.faulted.byApi.ListFunctions).toBe(2);
  });

  it('static credentials are not wrapped (nothing to refresh)', async () => {
    const plain = createRegionClients(REGION, {
      endpoint: emulator.url,
      credentials: { accessKeyId: 'AKIDPLAIN', secretAccessKey: 'x' },
    });
    const names = plain.lambda.middlewareStack.identify().filter((n) => n.startsWith('lpc'));
    expect(names).toEqual([]);
    expect(
      clients.lambda.middlewareStack
        .identify()
        .filter((n) => n.startsWith('lpc'))
        .sort(),
    ).toEqual(['lpcExpiredTokenRetry - initialize', 'lpcSignedAccessKey - deserialize']);
  });
});
