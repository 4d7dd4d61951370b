/**
 * Contract: the same Lambda API calls against the emulator and moto, through the real AWS SDK. Where a target
 * departs from AWS it says so (test/contract/targets.ts, docs/emulator-vs-moto.md) and the test pins that.
 */
import {
  CreateAliasCommand,
  CreateFunctionCommand,
  DeleteFunctionConcurrencyCommand,
  GetAliasCommand,
  GetFunctionCommand,
  GetFunctionConcurrencyCommand,
  GetFunctionConfigurationCommand,
  InvalidParameterValueException,
  ListFunctionsCommand,
  PublishVersionCommand,
  PutFunctionConcurrencyCommand,
  paginateListFunctions,
  ResourceNotFoundException,
  UpdateFunctionCodeCommand,
  UpdateFunctionConfigurationCommand,
} from '@aws-sdk/client-lambda';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { defaultPackage } from '../../../src/emulator/zip.ts';
import { type ContractTarget, TARGETS } from '../../contract/targets.ts';

const FLOOR_MESSAGE =
  "Specified ReservedConcurrentExecutions for function decreases account's UnreservedConcurrentExecution below its minimum value of [100].";

describe.each(TARGETS)('Lambda contract: $name', ({ start }) => {
  let t: ContractTarget;

  beforeAll(async () => {
    t = await start();
  });
  afterAll(async () => {
    await t?.stop();
  });
  beforeEach(async () => {
    await t.reset();
  });

  const create = (name: string, extra: { MemorySize?: number; Timeout?: number; Tags?: Record<string, string> } = {}) =>
    t.lambda.send(
      new CreateFunctionCommand({
        FunctionName: name,
        Runtime: 'nodejs22.x',
        Role: t.role,
        Handler: 'index.handler',
        Code: { ZipFile: defaultPackage(name) },
        MemorySize: extra.MemorySize ?? 512,
        Timeout: extra.Timeout ?? 30,
        Architectures: ['x86_64'],
        ...(extra.Tags ? { Tags: extra.Tags } : {}),
      }),
    );

  it('lists every function through Marker/NextMarker paging', async () => {
    const names = Array.from({ length: 60 }, (_, i) => `fn-${String(i).padStart(2, '0')}`);
    for (const name of names) await create(name);

    const pageSizes: number[] = [];
    const listed: string[] = [];
    for await (const page of paginateListFunctions({ client: t.lambda }, {})) {
      pageSizes.push(page.Functions?.length ?? 0);
      listed.push(...(page.Functions ?? []).map((f) => f.FunctionName ?? ''));
    }

    expect(listed.sort()).toEqual(names);
    expect(pageSizes).toEqual(t.differs('listFunctionsNotPaged') ? [60] : [50, 10]);
  });

  it('returns the same configuration fields from ListFunctions, GetFunction and GetFunctionConfiguration', async () => {
    await create('orders-api', { Tags: { tier: 'api', team: 'orders' } });

    const list = await t.lambda.send(new ListFunctionsCommand({}));
    const get = await t.lambda.send(new GetFunctionCommand({ FunctionName: 'orders-api' }));
    const config = await t.lambda.send(new GetFunctionConfigurationCommand({ FunctionName: 'orders-api' }));

    const expected = {
      FunctionName: 'orders-api',
      FunctionArn: `arn:aws:lambda:${t.region}:123456789012:function:orders-api`,
      Runtime: 'nodejs22.x',
      Handler: 'index.handler',
      MemorySize: 512,
      Timeout: 30,
      Architectures: ['x86_64'],
      PackageType: 'Zip',
      Version: '$LATEST',
      CodeSha256: get.Configuration?.CodeSha256,
    };
    expect(list.Functions?.[0]).toMatchObject(expected);
    expect(get.Configuration).toMatchObject({ ...expected, State: 'Active', LastUpdateStatus: 'Successful' });
    expect(config).toMatchObject({ ...expected, State: 'Active', LastUpdateStatus: 'Successful' });
    expect(get.Tags).toEqual({ tier: 'api', team: 'orders' });
    expect(get.Code?.RepositoryType).toBe('S3');
    expect(get.Code?.Location).toMatch(/^https?:\/\//);
    expect(list.Functions?.[0]?.LastUpdateStatus).toBe(
      t.differs('listFunctionsIncludesState') ? 'Successful' : undefined,
    );
  });

  it('GetFunction of an unknown function is ResourceNotFoundException naming its ARN', async () => {
    const error = await t.lambda.send(new GetFunctionCommand({ FunctionName: 'nope' })).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(ResourceNotFoundException);
    expect((error as Error).message).toBe(`Function not found: arn:aws:lambda:${t.region}:123456789012:function:nope`);
  });

  it('UpdateFunctionConfiguration changes memory and timeout; reads after it see Successful', async () => {
    await create('orders-api');

    const update = await t.lambda.send(
      new UpdateFunctionConfigurationCommand({ FunctionName: 'orders-api', MemorySize: 1024, Timeout: 10 }),
    );
    const after = await t.lambda.send(new GetFunctionConfigurationCommand({ FunctionName: 'orders-api' }));

    expect(update).toMatchObject({ MemorySize: 1024, Timeout: 10 });
    expect(update.LastUpdateStatus).toBe(t.differs('updatesCompleteImmediately') ? 'Successful' : 'InProgress');
    expect(after).toMatchObject({ MemorySize: 1024, Timeout: 10, LastUpdateStatus: 'Successful' });
  });

  it.each([
    ['MemorySize', 10241, 'memorySize', 'less than or equal to 10240'],
    ['MemorySize', 127, 'memorySize', 'greater than or equal to 128'],
    ['Timeout', 901, 'timeout', 'less than or equal to 900'],
    ['Timeout', 0, 'timeout', 'greater than or equal to 1'],
  ])('UpdateFunctionConfiguration %s=%i is rejected like AWS', async (field, value, member, constraint) => {
    await create('orders-api');

    const outcome = await t.lambda
      .send(new UpdateFunctionConfigurationCommand({ FunctionName: 'orders-api', [field]: value }))
      .then(
        (ok) => ({ ok: true as const, value: ok[field as 'MemorySize' | 'Timeout'] }),
        (error: Error) => ({ ok: false as const, name: error.name, message: error.message }),
      );

    if (t.differs('noRangeValidation')) {
      expect(outcome).toEqual({ ok: true, value });
    } else {
      expect(outcome).toEqual({
        ok: false,
        name: 'ValidationException',
        message: `1 validation error detected: Value '${value}' at '${member}' failed to satisfy constraint: Member must have value ${constraint}`,
      });
    }
  });

  it('UpdateFunctionConfiguration of an unknown function is ResourceNotFoundException', async () => {
    const error = await t.lambda
      .send(new UpdateFunctionConfigurationCommand({ FunctionName: 'nope', MemorySize: 1024 }))
      .catch((e: unknown) => e);

    expect(error).toBeInstanceOf(ResourceNotFoundException);
  });

  it('reserved concurrency keeps the account unreserved floor of 100 (account limit 1000)', async () => {
    await create('orders-api');
    await create('payments-api');

    const tooMuch = await t.lambda
      .send(new PutFunctionConcurrencyCommand({ FunctionName: 'orders-api', ReservedConcurrentExecutions: 901 }))
      .catch((e: unknown) => e);
    const put = await t.lambda.send(
      new PutFunctionConcurrencyCommand({ FunctionName: 'orders-api', ReservedConcurrentExecutions: 850 }),
    );
    const secondTooMuch = await t.lambda
      .send(new PutFunctionConcurrencyCommand({ FunctionName: 'payments-api', ReservedConcurrentExecutions: 51 }))
      .catch((e: unknown) => e);
    const secondOk = await t.lambda.send(
      new PutFunctionConcurrencyCommand({ FunctionName: 'payments-api', ReservedConcurrentExecutions: 50 }),
    );
    const read = await t.lambda.send(new GetFunctionConcurrencyCommand({ FunctionName: 'orders-api' }));
    const viaGetFunction = await t.lambda.send(new GetFunctionCommand({ FunctionName: 'orders-api' }));
    await t.lambda.send(new DeleteFunctionConcurrencyCommand({ FunctionName: 'orders-api' }));
    const afterDelete = await t.lambda.send(new GetFunctionConcurrencyCommand({ FunctionName: 'orders-api' }));

    expect(tooMuch).toBeInstanceOf(InvalidParameterValueException);
    expect((tooMuch as Error).message).toBe(FLOOR_MESSAGE);
    expect(put.ReservedConcurrentExecutions).toBe(850);
    expect(secondTooMuch).toBeInstanceOf(InvalidParameterValueException);
    expect(secondOk.ReservedConcurrentExecutions).toBe(50);
    expect(read.ReservedConcurrentExecutions).toBe(850);
    expect(viaGetFunction.Concurrency?.ReservedConcurrentExecutions).toBe(850);
    expect(afterDelete.ReservedConcurrentExecutions).toBeUndefined();
  });

  it('publishes versions and points aliases at them', async () => {
    await create('orders-api');

    const version = await t.lambda.send(new PublishVersionCommand({ FunctionName: 'orders-api' }));
    await t.lambda.send(new CreateAliasCommand({ FunctionName: 'orders-api', Name: 'live', FunctionVersion: '1' }));
    const alias = await t.lambda.send(new GetAliasCommand({ FunctionName: 'orders-api', Name: 'live' }));

    expect(version).toMatchObject({
      Version: '1',
      FunctionArn: `arn:aws:lambda:${t.region}:123456789012:function:orders-api:1`,
    });
    expect(alias).toMatchObject({
      Name: 'live',
      FunctionVersion: '1',
      AliasArn: `arn:aws:lambda:${t.region}:123456789012:function:orders-api:live`,
    });
  });

  it('UpdateFunctionCode with the same package and Architectures switches a Zip function to arm64', async () => {
    await create('orders-api');

    const updated = await t.lambda.send(
      new UpdateFunctionCodeCommand({
        FunctionName: 'orders-api',
        ZipFile: defaultPackage('orders-api'),
        Architectures: ['arm64'],
      }),
    );

    expect(updated.Architectures).toEqual(t.differs('codeIgnoresArchitectures') ? ['x86_64'] : ['arm64']);
  });
});
