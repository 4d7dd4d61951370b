import { fileURLToPath } from 'node:url';
import {
  GetFunctionCommand,
  GetFunctionConfigurationCommand,
  ListFunctionsCommand,
  PutFunctionConcurrencyCommand,
  ServiceException,
  TooManyRequestsException,
  UpdateFunctionConfigurationCommand,
} from '@aws-sdk/client-lambda';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  type CallCounts,
  type Emulator,
  loadSeedFile,
  startEmulator,
  type WriteLogEntry,
} from '../../../src/emulator/index.ts';
import { admin, type Clients, clientsFor, failure } from './clients.ts';

const REGION = 'eu-central-1';

describe('emulator admin endpoints', () => {
  let emulator: Emulator;
  let aws: Clients;

  beforeEach(async () => {
    emulator = await startEmulator({
      port: 0,
      seed: {
        functions: [
          { name: 'orders-api', region: REGION, memorySize: 512, tags: { tier: 'api' } },
          { name: 'payments-api', region: REGION, memorySize: 512 },
          { name: 'search-api', region: 'us-east-1' },
        ],
      },
    });
    aws = clientsFor(emulator.url, REGION);
  });
  afterEach(() => emulator.stop());

  it('enforces the shared Lambda bucket with 429, Retry-After and Reason', async () => {
    await admin(emulator.url, 'quotas', { body: { lambda: 3, getFunction: 100 } });

    const results = await Promise.allSettled(
      Array.from({ length: 6 }, () =>
        aws.lambda.send(new GetFunctionConfigurationCommand({ FunctionName: 'orders-api' })),
      ),
    );
    const throttled = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as TooManyRequestsException] : []));
    const getFunction = await aws.lambda.send(new GetFunctionCommand({ FunctionName: 'orders-api' }));
    const calls = await admin<CallCounts>(emulator.url, 'calls');

    expect(throttled.length).toBeGreaterThanOrEqual(3);
    expect(throttled[0]).toBeInstanceOf(TooManyRequestsException);
    expect(throttled[0]?.retryAfterSeconds).toBe('1');
    expect(throttled[0]?.Reason).toBe('CallerRateLimitExceeded');
    expect(throttled[0]?.$metadata.httpStatusCode).toBe(429);
    expect(getFunction.Configuration?.FunctionName).toBe('orders-api');
    expect(calls.throttled.byApi.GetFunctionConfiguration).toBe(throttled.length);
  });

  it('enforces quotas passed to startEmulator', async () => {
    const limited = await startEmulator({ port: 0, quotas: { lambda: 1 }, seed: { functions: [] } });
    try {
      const client = clientsFor(limited.url, REGION);

      await client.lambda.send(new ListFunctionsCommand({}));
      const second = await failure(client.lambda.send(new ListFunctionsCommand({})));

      expect(second).toBeInstanceOf(TooManyRequestsException);
    } finally {
      await limited.stop();
    }
  });

  it('keeps quota buckets per region', async () => {
    await admin(emulator.url, 'quotas', { body: { lambda: 1 } });
    const us = clientsFor(emulator.url, 'us-east-1');

    await aws.lambda.send(new ListFunctionsCommand({}));
    const euAgain = await failure(aws.lambda.send(new ListFunctionsCommand({})));
    const usFirst = await us.lambda.send(new ListFunctionsCommand({}));

    expect(euAgain).toBeInstanceOf(TooManyRequestsException);
    expect(usFirst.Functions).toHaveLength(1);
  });

  it('injects one-shot forced errors and then recovers', async () => {
    await admin(emulator.url, 'faults', {
      body: { forced: [{ api: 'UpdateFunctionConfiguration', error: 'TooManyRequestsException', count: 2 }] },
    });
    const send = () =>
      aws.lambda.send(new UpdateFunctionConfigurationCommand({ FunctionName: 'orders-api', MemorySize: 1024 }));

    const first = await failure(send());
    const second = await failure(send());
    const third = await send();

    expect(first).toBeInstanceOf(TooManyRequestsException);
    expect(second).toBeInstanceOf(TooManyRequestsException);
    expect(third.MemorySize).toBe(1024);
  });

  it('the SDK retries an injected throttle when allowed to', async () => {
    await admin(emulator.url, 'faults', {
      body: { forced: [{ api: 'ListFunctions', error: 'TooManyRequestsException', retryAfterSeconds: 0 }] },
    });
    const retrying = clientsFor(emulator.url, REGION, 3);

    const page = await retrying.lambda.send(new ListFunctionsCommand({}));
    const calls = await admin<CallCounts>(emulator.url, 'calls');

    expect(page.Functions).toHaveLength(2);
    expect(calls.byApi.ListFunctions).toBe(2);
  });

  it('applies an error rate per API with a seeded random source', async () => {
    await admin(emulator.url, 'faults', { body: { errorRate: { GetFunction: 1 } } });

    const error = await failure(aws.lambda.send(new GetFunctionCommand({ FunctionName: 'orders-api' })));
    const other = await aws.lambda.send(new GetFunctionConfigurationCommand({ FunctionName: 'orders-api' }));

    expect(error).toBeInstanceOf(ServiceException);
    expect(other.FunctionName).toBe('orders-api');
  });

  it('can make an accepted update end Failed with the old configuration', async () => {
    await admin(emulator.url, 'faults', {
      body: { failUpdates: [{ api: 'UpdateFunctionConfiguration', function: 'orders-api' }] },
    });

    const accepted = await aws.lambda.send(
      new UpdateFunctionConfigurationCommand({ FunctionName: 'orders-api', MemorySize: 2048 }),
    );
    const after = await aws.lambda.send(new GetFunctionConfigurationCommand({ FunctionName: 'orders-api' }));

    expect(accepted.LastUpdateStatus).toBe('InProgress');
    expect(after).toMatchObject({ LastUpdateStatus: 'Failed', MemorySize: 512 });
    expect(after.LastUpdateStatusReason).toBeTruthy();
  });

  it('logs every mutating call (and only those) with region, api, function and params', async () => {
    await aws.lambda.send(new ListFunctionsCommand({}));
    await aws.lambda.send(new UpdateFunctionConfigurationCommand({ FunctionName: 'orders-api', Timeout: 10 }));
    await failure(
      aws.lambda.send(
        new PutFunctionConcurrencyCommand({ FunctionName: 'orders-api', ReservedConcurrentExecutions: 999 }),
      ),
    );

    const { writes } = await admin<{ writes: WriteLogEntry[] }>(emulator.url, 'writes');
    await admin(emulator.url, 'writes', { method: 'DELETE' });
    const cleared = await admin<{ writes: WriteLogEntry[] }>(emulator.url, 'writes');

    expect(writes.map((w) => [w.api, w.region, w.function, w.ok, w.error])).toEqual([
      ['UpdateFunctionConfiguration', REGION, 'orders-api', true, undefined],
      ['PutFunctionConcurrency', REGION, 'orders-api', false, 'InvalidParameterValueException'],
    ]);
    expect(writes[0]?.params).toEqual({ Timeout: 10 });
    expect(cleared.writes).toEqual([]);
  });

  it('counts calls by API and region', async () => {
    await aws.lambda.send(new ListFunctionsCommand({}));
    await clientsFor(emulator.url, 'us-east-1').lambda.send(new ListFunctionsCommand({}));
    await aws.lambda.send(new GetFunctionCommand({ FunctionName: 'orders-api' }));

    const calls = await admin<CallCounts>(emulator.url, 'calls');

    expect(calls.total).toBe(3);
    expect(calls.byApi).toEqual({ ListFunctions: 2, GetFunction: 1 });
    expect(calls.byRegionApi).toEqual({
      [REGION]: { ListFunctions: 1, GetFunction: 1 },
      'us-east-1': { ListFunctions: 1 },
    });
  });

  it("changes a function behind the controller's back without a write log entry", async () => {
    await admin(emulator.url, 'functions/eu-central-1/orders-api', {
      body: { memorySize: 3008, architecture: 'arm64', tags: { tier: 'worker' }, reservedConcurrency: 7 },
    });
    await admin(emulator.url, 'functions/eu-central-1/brand-new', { body: { memorySize: 256 } });

    const fn = await aws.lambda.send(new GetFunctionCommand({ FunctionName: 'orders-api' }));
    const created = await aws.lambda.send(new GetFunctionConfigurationCommand({ FunctionName: 'brand-new' }));
    const { writes } = await admin<{ writes: WriteLogEntry[] }>(emulator.url, 'writes');

    expect(fn.Configuration).toMatchObject({ MemorySize: 3008, Architectures: ['arm64'] });
    expect(fn.Tags).toEqual({ tier: 'worker' });
    expect(fn.Concurrency?.ReservedConcurrentExecutions).toBe(7);
    expect(created.MemorySize).toBe(256);
    expect(writes).toEqual([]);
  });

  it('shows the whole state, filterable by region and function', async () => {
    const state = await admin<{ regions: Record<string, { functions: { name: string }[] }> }>(
      emulator.url,
      'state?region=eu-central-1&function=orders-api',
    );

    expect(Object.keys(state.regions)).toEqual(['eu-central-1']);
    expect(state.regions['eu-central-1']?.functions.map((f) => f.name)).toEqual(['orders-api']);
  });

  it('reads and sets the clock', async () => {
    const set = await admin<{ now: string }>(emulator.url, 'clock', { body: { now: '2027-03-01T09:00:00Z' } });
    const read = await admin<{ now: string }>(emulator.url, 'clock');

    expect(set.now).toMatch(/^2027-03-01T09:00/);
    expect(new Date(read.now).getTime()).toBeGreaterThanOrEqual(new Date('2027-03-01T09:00:00Z').getTime());
  });

  it('loads the example fleet seed file', async () => {
    const seed = await loadSeedFile(fileURLToPath(new URL('../../../examples/fleet.yaml', import.meta.url)));
    const fleet = await startEmulator({ port: 0, seed });
    try {
      const state = fleet.state();
      const functions = Object.values(state.regions).flatMap((r) => r.functions);

      expect(functions.length).toBeGreaterThanOrEqual(50);
      expect(new Set(functions.map((f) => f.region))).toEqual(new Set(['eu-central-1', 'us-east-1']));
      expect(functions.some((f) => f.packageType === 'Image')).toBe(true);
      expect(functions.some((f) => f.provisioned.length > 0)).toBe(true);
    } finally {
      await fleet.stop();
    }
  });
});
