import {
  CreateAliasCommand,
  DeleteFunctionConcurrencyCommand,
  GetFunctionCommand,
  GetFunctionConcurrencyCommand,
  GetProvisionedConcurrencyConfigCommand,
  InvalidParameterValueException,
  ListAliasesCommand,
  ListProvisionedConcurrencyConfigsCommand,
  ListTagsCommand,
  ProvisionedConcurrencyConfigNotFoundException,
  PublishVersionCommand,
  PutFunctionConcurrencyCommand,
  PutProvisionedConcurrencyConfigCommand,
  ResourceConflictException,
  ResourceNotFoundException,
  TagResourceCommand,
  UpdateFunctionCodeCommand,
  UpdateFunctionConfigurationCommand,
} from '@aws-sdk/client-lambda';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Emulator, startEmulator } from '../../../src/emulator/index.ts';
import { type Clients, clientsFor, failure } from './clients.ts';

const REGION = 'eu-central-1';

describe('emulator writes through the real AWS SDK', () => {
  let emulator: Emulator;
  let aws: Clients;

  beforeEach(async () => {
    emulator = await startEmulator({
      port: 0,
      updateDelayMs: 2_000,
      provisionDelayMs: 5_000,
      seed: {
        accountConcurrency: 1000,
        functions: [
          { name: 'orders-api', region: REGION, memorySize: 512, timeout: 30, tags: { tier: 'api' } },
          {
            name: 'payments-api',
            region: REGION,
            reservedConcurrency: 50,
            aliases: [{ name: 'live', version: '3', provisionedConcurrency: 5 }],
          },
          { name: 'search-image', region: REGION, packageType: 'Image', architecture: 'x86_64' },
        ],
      },
    });
    aws = clientsFor(emulator.url, REGION);
  });
  afterEach(() => emulator.stop());

  /** Lets an InProgress update finish by moving the emulator clock past updateDelayMs. */
  const finishUpdates = () => emulator.clock.advance(3);

  it.each([
    [
      { MemorySize: 20000 },
      "Value '20000' at 'memorySize' failed to satisfy constraint: Member must have value less than or equal to 10240",
    ],
    [
      { MemorySize: 64 },
      "Value '64' at 'memorySize' failed to satisfy constraint: Member must have value greater than or equal to 128",
    ],
    [
      { Timeout: 901 },
      "Value '901' at 'timeout' failed to satisfy constraint: Member must have value less than or equal to 900",
    ],
    [
      { Timeout: 0 },
      "Value '0' at 'timeout' failed to satisfy constraint: Member must have value greater than or equal to 1",
    ],
  ])('UpdateFunctionConfiguration %o is a ValidationException like AWS', async (change, message) => {
    const error = await failure(
      aws.lambda.send(new UpdateFunctionConfigurationCommand({ FunctionName: 'orders-api', ...change })),
    );

    expect(error.name).toBe('ValidationException');
    expect(error.message).toBe(`1 validation error detected: ${message}`);
    expect((error.$metadata as { httpStatusCode: number }).httpStatusCode).toBe(400);
  });

  it('reports two violations in one message', async () => {
    const error = await failure(
      aws.lambda.send(
        new UpdateFunctionConfigurationCommand({ FunctionName: 'orders-api', MemorySize: 1, Timeout: 1000 }),
      ),
    );

    expect(error.message).toMatch(
      /^2 validation errors detected: Value '1' at 'memorySize'.*; Value '1000' at 'timeout'/,
    );
  });

  it('an unknown function is ResourceNotFoundException', async () => {
    const error = await failure(aws.lambda.send(new GetFunctionCommand({ FunctionName: 'nope' })));

    expect(error).toBeInstanceOf(ResourceNotFoundException);
    expect(error.message).toBe('Function not found: arn:aws:lambda:eu-central-1:123456789012:function:nope');
  });

  it('keeps LastUpdateStatus InProgress for updateDelayMs and rejects further updates with a conflict', async () => {
    const update = await aws.lambda.send(
      new UpdateFunctionConfigurationCommand({ FunctionName: 'orders-api', MemorySize: 1024 }),
    );
    const during = await aws.lambda.send(new GetFunctionCommand({ FunctionName: 'orders-api' }));
    const conflicts = await Promise.all([
      failure(aws.lambda.send(new UpdateFunctionConfigurationCommand({ FunctionName: 'orders-api', Timeout: 10 }))),
      failure(
        aws.lambda.send(
          new UpdateFunctionCodeCommand({
            FunctionName: 'orders-api',
            ZipFile: Buffer.from('x'),
            Architectures: ['arm64'],
          }),
        ),
      ),
      failure(aws.lambda.send(new PublishVersionCommand({ FunctionName: 'orders-api' }))),
      failure(
        aws.lambda.send(
          new TagResourceCommand({
            Resource: 'arn:aws:lambda:eu-central-1:123456789012:function:orders-api',
            Tags: { a: 'b' },
          }),
        ),
      ),
    ]);
    finishUpdates();
    const after = await aws.lambda.send(new GetFunctionCommand({ FunctionName: 'orders-api' }));
    const next = await aws.lambda.send(
      new UpdateFunctionConfigurationCommand({ FunctionName: 'orders-api', Timeout: 10 }),
    );

    expect(update.LastUpdateStatus).toBe('InProgress');
    expect(during.Configuration).toMatchObject({ LastUpdateStatus: 'InProgress', MemorySize: 1024 });
    for (const conflict of conflicts) {
      expect(conflict).toBeInstanceOf(ResourceConflictException);
      expect(conflict.message).toBe(
        'An update is in progress for resource: arn:aws:lambda:eu-central-1:123456789012:function:orders-api',
      );
      expect((conflict.$metadata as { httpStatusCode: number }).httpStatusCode).toBe(409);
    }
    expect(after.Configuration?.LastUpdateStatus).toBe('Successful');
    expect(next.Timeout).toBe(10);
  });

  it('changes a Zip architecture only when the code is sent again', async () => {
    const withoutCode = await failure(
      aws.lambda.send(new UpdateFunctionCodeCommand({ FunctionName: 'orders-api', Architectures: ['arm64'] })),
    );
    const current = await aws.lambda.send(new GetFunctionCommand({ FunctionName: 'orders-api' }));
    const zip = Buffer.from(await (await fetch(current.Code?.Location ?? '')).arrayBuffer());
    const updated = await aws.lambda.send(
      new UpdateFunctionCodeCommand({ FunctionName: 'orders-api', ZipFile: zip, Architectures: ['arm64'] }),
    );

    expect(withoutCode).toBeInstanceOf(InvalidParameterValueException);
    expect(updated.Architectures).toEqual(['arm64']);
    expect(updated.CodeSha256).toBe(current.Configuration?.CodeSha256);
    expect(updated.LastUpdateStatus).toBe('InProgress');
  });

  it('changes an Image architecture only with an ImageUri', async () => {
    const zipOnImage = await failure(
      aws.lambda.send(new UpdateFunctionCodeCommand({ FunctionName: 'search-image', ZipFile: Buffer.from('x') })),
    );
    const updated = await aws.lambda.send(
      new UpdateFunctionCodeCommand({
        FunctionName: 'search-image',
        ImageUri: '123456789012.dkr.ecr.eu-central-1.amazonaws.com/search-image:arm64',
        Architectures: ['arm64'],
      }),
    );

    expect(zipOnImage).toBeInstanceOf(InvalidParameterValueException);
    expect(updated.Architectures).toEqual(['arm64']);
  });

  it('enforces the unreserved floor with the AWS message', async () => {
    const tooMuch = await failure(
      aws.lambda.send(
        new PutFunctionConcurrencyCommand({ FunctionName: 'orders-api', ReservedConcurrentExecutions: 851 }),
      ),
    );
    const exact = await aws.lambda.send(
      new PutFunctionConcurrencyCommand({ FunctionName: 'orders-api', ReservedConcurrentExecutions: 850 }),
    );

    expect(tooMuch).toBeInstanceOf(InvalidParameterValueException);
    expect(tooMuch.message).toBe(
      "Specified ReservedConcurrentExecutions for function decreases account's UnreservedConcurrentExecution below its minimum value of [100].",
    );
    expect(exact.ReservedConcurrentExecutions).toBe(850);
  });

  it('reads, deletes and rejects negative reserved concurrency', async () => {
    const before = await aws.lambda.send(new GetFunctionConcurrencyCommand({ FunctionName: 'payments-api' }));
    const negative = await failure(
      aws.lambda.send(
        new PutFunctionConcurrencyCommand({ FunctionName: 'payments-api', ReservedConcurrentExecutions: -1 }),
      ),
    );
    const belowProvisioned = await failure(
      aws.lambda.send(
        new PutFunctionConcurrencyCommand({ FunctionName: 'payments-api', ReservedConcurrentExecutions: 4 }),
      ),
    );
    await aws.lambda.send(new DeleteFunctionConcurrencyCommand({ FunctionName: 'payments-api' }));
    const after = await aws.lambda.send(new GetFunctionConcurrencyCommand({ FunctionName: 'payments-api' }));

    expect(before.ReservedConcurrentExecutions).toBe(50);
    expect(negative.name).toBe('ValidationException');
    expect(belowProvisioned).toBeInstanceOf(InvalidParameterValueException);
    expect(after.ReservedConcurrentExecutions).toBeUndefined();
  });

  it.each([
    [
      '$LATEST',
      1,
      InvalidParameterValueException,
      'Provisioned Concurrency Configs cannot be applied to unpublished function versions.',
    ],
    [
      'staging',
      1,
      ResourceNotFoundException,
      'Function not found: arn:aws:lambda:eu-central-1:123456789012:function:payments-api:staging',
    ],
    ['live', 51, InvalidParameterValueException, /should not be greater than the reservedConcurrentExecution/],
    ['2', 46, InvalidParameterValueException, /should not be greater than the reservedConcurrentExecution/],
  ])('PutProvisionedConcurrencyConfig on %s = %i fails like AWS', async (qualifier, value, errorClass, message) => {
    const error = await failure(
      aws.lambda.send(
        new PutProvisionedConcurrencyConfigCommand({
          FunctionName: 'payments-api',
          Qualifier: qualifier,
          ProvisionedConcurrentExecutions: value,
        }),
      ),
    );

    expect(error).toBeInstanceOf(errorClass);
    if (typeof message === 'string') expect(error.message).toBe(message);
    else expect(error.message).toMatch(message);
  });

  it('provisioned concurrency on a function without reservation respects the account floor', async () => {
    await aws.lambda.send(new PublishVersionCommand({ FunctionName: 'orders-api' }));
    const error = await failure(
      aws.lambda.send(
        new PutProvisionedConcurrencyConfigCommand({
          FunctionName: 'orders-api',
          Qualifier: '1',
          ProvisionedConcurrentExecutions: 901,
        }),
      ),
    );

    expect(error).toBeInstanceOf(InvalidParameterValueException);
  });

  it('provisioned concurrency is IN_PROGRESS, then READY after provisionDelayMs on the clock', async () => {
    const put = await aws.lambda.send(
      new PutProvisionedConcurrencyConfigCommand({
        FunctionName: 'payments-api',
        Qualifier: 'live',
        ProvisionedConcurrentExecutions: 20,
      }),
    );
    const during = await aws.lambda.send(
      new GetProvisionedConcurrencyConfigCommand({ FunctionName: 'payments-api', Qualifier: 'live' }),
    );
    emulator.clock.advance(6);
    const after = await aws.lambda.send(
      new GetProvisionedConcurrencyConfigCommand({ FunctionName: 'payments-api', Qualifier: 'live' }),
    );
    const list = await aws.lambda.send(new ListProvisionedConcurrencyConfigsCommand({ FunctionName: 'payments-api' }));

    expect(put).toMatchObject({ RequestedProvisionedConcurrentExecutions: 20, Status: 'IN_PROGRESS' });
    expect(during.Status).toBe('IN_PROGRESS');
    expect(after).toMatchObject({ Status: 'READY', AllocatedProvisionedConcurrentExecutions: 20 });
    expect(list.ProvisionedConcurrencyConfigs).toEqual([
      expect.objectContaining({
        FunctionArn: 'arn:aws:lambda:eu-central-1:123456789012:function:payments-api:live',
        RequestedProvisionedConcurrentExecutions: 20,
      }),
    ]);
  });

  it('a qualifier without provisioned concurrency is ProvisionedConcurrencyConfigNotFoundException', async () => {
    const error = await failure(
      aws.lambda.send(new GetProvisionedConcurrencyConfigCommand({ FunctionName: 'payments-api', Qualifier: '1' })),
    );

    expect(error).toBeInstanceOf(ProvisionedConcurrencyConfigNotFoundException);
  });

  it('publishes versions, creates aliases and tags', async () => {
    const v1 = await aws.lambda.send(new PublishVersionCommand({ FunctionName: 'orders-api' }));
    const again = await aws.lambda.send(new PublishVersionCommand({ FunctionName: 'orders-api' }));
    await aws.lambda.send(new CreateAliasCommand({ FunctionName: 'orders-api', Name: 'live', FunctionVersion: '1' }));
    const duplicate = await failure(
      aws.lambda.send(new CreateAliasCommand({ FunctionName: 'orders-api', Name: 'live', FunctionVersion: '1' })),
    );
    const aliases = await aws.lambda.send(new ListAliasesCommand({ FunctionName: 'orders-api' }));
    const arn = 'arn:aws:lambda:eu-central-1:123456789012:function:orders-api';
    await aws.lambda.send(new TagResourceCommand({ Resource: arn, Tags: { team: 'orders' } }));
    const tags = await aws.lambda.send(new ListTagsCommand({ Resource: arn }));

    expect(v1.Version).toBe('1');
    expect(again.Version).toBe('1');
    expect(duplicate).toBeInstanceOf(ResourceConflictException);
    expect(aliases.Aliases?.map((a) => [a.Name, a.FunctionVersion])).toEqual([['live', '1']]);
    expect(tags.Tags).toEqual({ tier: 'api', team: 'orders' });
  });
});
