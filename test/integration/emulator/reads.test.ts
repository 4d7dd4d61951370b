import { createHash } from 'node:crypto';
import {
  GetAccountSettingsCommand,
  GetFunctionCommand,
  GetFunctionConfigurationCommand,
  ListFunctionsCommand,
  paginateListFunctions,
} from '@aws-sdk/client-lambda';
import { GetResourcesCommand, paginateGetResources } from '@aws-sdk/client-resource-groups-tagging-api';
import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Emulator, type SeedFunction, startEmulator } from '../../../src/emulator/index.ts';
import { type Clients, clientsFor } from './clients.ts';

function fleet(count: number, region: string): SeedFunction[] {
  return Array.from({ length: count }, (_, i) => ({
    name: `fn-${String(i).padStart(4, '0')}`,
    region,
    memorySize: 128 + (i % 8) * 128,
    tags: i % 3 === 0 ? {} : ({ tier: i % 3 === 1 ? 'api' : 'worker', team: 'orders' } as Record<string, string>),
  }));
}

describe('emulator reads through the real AWS SDK', () => {
  let emulator: Emulator;
  let eu: Clients;
  let us: Clients;

  beforeAll(async () => {
    emulator = await startEmulator({
      port: 0,
      seed: {
        functions: [
          ...fleet(120, 'eu-central-1'),
          ...fleet(7, 'us-east-1'),
          {
            name: 'search-indexer',
            region: 'us-east-1',
            packageType: 'Image',
            architecture: 'x86_64',
            imageUri: '123456789012.dkr.ecr.us-east-1.amazonaws.com/search-indexer:1.4.2',
            reservedConcurrency: 40,
            tags: { tier: 'batch' },
            aliases: [{ name: 'live', version: '2', provisionedConcurrency: 5 }],
          },
        ],
      },
    });
    eu = clientsFor(emulator.url, 'eu-central-1');
    us = clientsFor(emulator.url, 'us-east-1');
  });
  afterAll(() => emulator.stop());

  it('pages ListFunctions 50 at a time with Marker/NextMarker, per region', async () => {
    const pageSizes: number[] = [];
    const names: string[] = [];
    for await (const page of paginateListFunctions({ client: eu.lambda }, {})) {
      pageSizes.push(page.Functions?.length ?? 0);
      names.push(...(page.Functions ?? []).map((f) => f.FunctionName ?? ''));
    }

    expect(pageSizes).toEqual([50, 50, 20]);
    expect(new Set(names).size).toBe(120);
    const usPage = await us.lambda.send(new ListFunctionsCommand({}));
    expect(usPage.Functions).toHaveLength(8);
    expect(usPage.NextMarker).toBeUndefined();
  });

  it('caps MaxItems at 50 and honours smaller values', async () => {
    const big = await eu.lambda.send(new ListFunctionsCommand({ MaxItems: 500 }));
    const small = await eu.lambda.send(new ListFunctionsCommand({ MaxItems: 7 }));

    expect(big.Functions).toHaveLength(50);
    expect(small.Functions).toHaveLength(7);
    expect(small.NextMarker).toBeDefined();
  });

  it('returns the ListFunctions subset: no State, no LastUpdateStatus', async () => {
    const page = await eu.lambda.send(new ListFunctionsCommand({ MaxItems: 1 }));
    const fn = page.Functions?.[0];

    expect(fn).toMatchObject({
      FunctionName: 'fn-0000',
      FunctionArn: 'arn:aws:lambda:eu-central-1:123456789012:function:fn-0000',
      MemorySize: 128,
      Timeout: 3,
      Architectures: ['x86_64'],
      PackageType: 'Zip',
      Runtime: 'nodejs22.x',
    });
    expect(fn?.LastModified).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}\+0000$/);
    expect(fn?.CodeSha256).toBeTruthy();
    expect(fn?.State).toBeUndefined();
    expect(fn?.LastUpdateStatus).toBeUndefined();
  });

  it('GetFunction returns configuration, a downloadable code location, tags and reserved concurrency', async () => {
    const result = await eu.lambda.send(new GetFunctionCommand({ FunctionName: 'fn-0001' }));
    const download = await fetch(result.Code?.Location ?? '');
    const bytes = Buffer.from(await download.arrayBuffer());

    expect(result.Configuration).toMatchObject({ State: 'Active', LastUpdateStatus: 'Successful', MemorySize: 256 });
    expect(result.Code?.RepositoryType).toBe('S3');
    expect(result.Tags).toEqual({ tier: 'api', team: 'orders' });
    expect(result.Concurrency).toBeUndefined();
    expect(download.status).toBe(200);
    expect(createHash('sha256').update(bytes).digest('base64')).toBe(result.Configuration?.CodeSha256);
  });

  it('GetFunction of an Image function returns the ImageUri; qualifiers resolve aliases to versions', async () => {
    const latest = await us.lambda.send(new GetFunctionCommand({ FunctionName: 'search-indexer' }));
    const live = await us.lambda.send(
      new GetFunctionConfigurationCommand({ FunctionName: 'search-indexer', Qualifier: 'live' }),
    );

    expect(latest.Code).toMatchObject({
      RepositoryType: 'ECR',
      ImageUri: '123456789012.dkr.ecr.us-east-1.amazonaws.com/search-indexer:1.4.2',
    });
    expect(latest.Configuration?.PackageType).toBe('Image');
    expect(latest.Configuration?.Runtime).toBeUndefined();
    expect(latest.Concurrency?.ReservedConcurrentExecutions).toBe(40);
    expect(live.Version).toBe('2');
    expect(live.FunctionArn).toBe('arn:aws:lambda:us-east-1:123456789012:function:search-indexer:live');
  });

  it('GetFunction accepts a function ARN', async () => {
    const arn = 'arn:aws:lambda:eu-central-1:123456789012:function:fn-0002';
    const result = await eu.lambda.send(new GetFunctionCommand({ FunctionName: arn }));

    expect(result.Configuration?.FunctionName).toBe('fn-0002');
  });

  it('GetAccountSettings reports the account limit minus reservations, per region', async () => {
    const euSettings = await eu.lambda.send(new GetAccountSettingsCommand({}));
    const usSettings = await us.lambda.send(new GetAccountSettingsCommand({}));

    expect(euSettings.AccountLimit).toMatchObject({ ConcurrentExecutions: 1000, UnreservedConcurrentExecutions: 1000 });
    expect(usSettings.AccountLimit?.UnreservedConcurrentExecutions).toBe(960);
    expect(euSettings.AccountUsage?.FunctionCount).toBe(120);
  });

  it('tagging GetResources pages 100 at a time and lists only tagged functions', async () => {
    const pageSizes: number[] = [];
    const arns: string[] = [];
    for await (const page of paginateGetResources(
      { client: eu.tagging },
      { ResourceTypeFilters: ['lambda:function'], ResourcesPerPage: 100 },
    )) {
      pageSizes.push(page.ResourceTagMappingList?.length ?? 0);
      arns.push(...(page.ResourceTagMappingList ?? []).map((r) => r.ResourceARN ?? ''));
    }

    expect(pageSizes).toEqual([80]);
    expect(arns).not.toContain('arn:aws:lambda:eu-central-1:123456789012:function:fn-0000');
    const small = await eu.tagging.send(new GetResourcesCommand({ ResourcesPerPage: 30 }));
    expect(small.ResourceTagMappingList).toHaveLength(30);
    expect(small.PaginationToken).toBeTruthy();
  });

  it('tagging GetResources filters by tag key and values', async () => {
    const result = await eu.tagging.send(
      new GetResourcesCommand({
        ResourceTypeFilters: ['lambda:function'],
        TagFilters: [{ Key: 'tier', Values: ['api'] }],
      }),
    );

    expect(result.ResourceTagMappingList).toHaveLength(40);
    expect(result.ResourceTagMappingList?.[0]?.Tags).toEqual(expect.arrayContaining([{ Key: 'tier', Value: 'api' }]));
    expect(result.PaginationToken).toBe('');
  });

  it('tagging GetResources rejects more than 100 per page', async () => {
    await expect(eu.tagging.send(new GetResourcesCommand({ ResourcesPerPage: 101 }))).rejects.toMatchObject({
      name: 'InvalidParameterException',
    });
  });

  it('STS GetCallerIdentity answers with the account', async () => {
    const identity = await eu.sts.send(new GetCallerIdentityCommand({}));

    expect(identity.Account).toBe('123456789012');
    expect(identity.Arn).toMatch(/^arn:aws:iam::123456789012:/);
  });
});
