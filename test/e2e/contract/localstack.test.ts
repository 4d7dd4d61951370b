/**
 * Contract: the Lambda control plane (functions, versions, aliases, reserved and provisioned concurrency, layers)
 * against the project's emulator and LocalStack's core (a third, independent implementation, run from PyPI without
 * Docker), through the real AWS SDK. Each test asserts AWS's behaviour; where LocalStack departs from it, the
 * difference is named (docs/emulator-vs-moto.md, "LocalStack") and LocalStack's known behaviour is pinned, so a
 * change on either side is noticed.
 */
import {
  CreateAliasCommand,
  CreateFunctionCommand,
  DeleteFunctionConcurrencyCommand,
  GetAccountSettingsCommand,
  GetAliasCommand,
  GetFunctionCommand,
  GetFunctionConcurrencyCommand,
  GetLayerVersionByArnCommand,
  GetProvisionedConcurrencyConfigCommand,
  LambdaClient,
  ListAliasesCommand,
  ListFunctionsCommand,
  ListProvisionedConcurrencyConfigsCommand,
  ListVersionsByFunctionCommand,
  PublishLayerVersionCommand,
  PublishVersionCommand,
  PutFunctionConcurrencyCommand,
  PutProvisionedConcurrencyConfigCommand,
  UpdateFunctionConfigurationCommand,
} from '@aws-sdk/client-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Emulator, startEmulator } from '../../../src/emulator/index.ts';
import { buildZip, defaultPackage } from '../../../src/emulator/zip.ts';
import { LOCALSTACK_DIFFERENCES, type LocalStackDifference } from '../../contract/localstack.ts';
import { LOCALSTACK_ACCOUNT, type LocalStackServer, startLocalStack } from '../harness/localstack.ts';

interface Target {
  name: string;
  lambda: LambdaClient;
  account: string;
  differs(d: LocalStackDifference): boolean;
  stop(): Promise<void>;
}

const REGION = 'us-east-1';
const FLOOR_MESSAGE =
  "Specified ReservedConcurrentExecutions for function decreases account's UnreservedConcurrentExecution below its minimum value of [100].";

async function emulatorTarget(): Promise<Target> {
  const emulator: Emulator = await startEmulator({ port: 0, tickMs: 0 });
  const lambda = new LambdaClient({
    endpoint: emulator.url,
    region: REGION,
    credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
    maxAttempts: 1,
  });
  return {
    name: 'emulator',
    lambda,
    account: '123456789012',
    differs: () => false,
    stop: async () => {
      lambda.destroy();
      await emulator.stop();
    },
  };
}

async function localStackTarget(): Promise<Target> {
  const server: LocalStackServer = await startLocalStack({ region: REGION });
  const lambda = new LambdaClient(server.clientConfig);
  return {
    name: `LocalStack ${server.version}`,
    lambda,
    account: LOCALSTACK_ACCOUNT,
    differs: (d) => LOCALSTACK_DIFFERENCES.has(d),
    stop: async () => {
      lambda.destroy();
      await server.stop();
    },
  };
}

/** The AWS error name and HTTP status of a failed call (or "ok"). */
async function outcome(send: () => Promise<unknown>): Promise<string> {
  try {
    await send();
    return 'ok';
  } catch (error) {
    const e = error as { name?: string; $metadata?: { httpStatusCode?: number } };
    return `${e.name} ${e.$metadata?.httpStatusCode}`;
  }
}

describe.each([
  { name: 'emulator', start: emulatorTarget },
  { name: 'LocalStack', start: localStackTarget },
])('Lambda control plane contract: $name', ({ start }) => {
  let t: Target;
  let counter = 0;

  beforeAll(async () => {
    t = await start();
  }, 240_000);
  afterAll(async () => {
    await t?.stop();
  });

  /** A fresh function per test (one server serves the whole file). */
  async function create(extra: { MemorySize?: number } = {}): Promise<string> {
    counter++;
    const name = `contract-${counter}`;
    await t.lambda.send(
      new CreateFunctionCommand({
        FunctionName: name,
        Runtime: 'nodejs22.x',
        Role: `arn:aws:iam::${t.account}:role/lambda`,
        Handler: 'index.handler',
        Code: { ZipFile: defaultPackage(name) },
        MemorySize: extra.MemorySize ?? 512,
        Timeout: 30,
        Architectures: ['x86_64'],
      }),
    );
    return name;
  }

  it('creates a function and lists it with its configuration, through Marker/NextMarker paging', async () => {
    const names = [await create(), await create(), await create()];

    const first = await t.lambda.send(new ListFunctionsCommand({ MaxItems: 2 }));
    expect(first.Functions).toHaveLength(2);
    expect(first.NextMarker).toBeTruthy();
    const all = [...(first.Functions ?? [])];
    let marker = first.NextMarker;
    while (marker) {
      const page = await t.lambda.send(new ListFunctionsCommand({ MaxItems: 2, Marker: marker }));
      all.push(...(page.Functions ?? []));
      marker = page.NextMarker;
    }
    const listed = all.filter((f) => names.includes(f.FunctionName ?? ''));
    expect(listed.map((f) => f.FunctionName).sort()).toEqual([...names].sort());
    expect(listed[0]).toMatchObject({ MemorySize: 512, Timeout: 30, Architectures: ['x86_64'], PackageType: 'Zip' });
  });

  it('GetFunction: configuration, code location and reserved concurrency; the function becomes Active', async () => {
    const name = await create();
    await t.lambda.send(new PutFunctionConcurrencyCommand({ FunctionName: name, ReservedConcurrentExecutions: 7 }));

    const out = await t.lambda.send(new GetFunctionCommand({ FunctionName: name }));

    expect(out.Configuration).toMatchObject({ FunctionName: name, MemorySize: 512, Runtime: 'nodejs22.x' });
    expect(out.Code?.Location).toMatch(/^http/);
    expect(out.Concurrency?.ReservedConcurrentExecutions).toBe(7);
    if (t.differs('functionsNeverActive')) {
      expect(['Pending', 'Failed']).toContain(out.Configuration?.State);
    } else {
      expect(out.Configuration?.State).toBe('Active');
    }
  });

  it('UpdateFunctionConfiguration changes $LATEST', async () => {
    const name = await create();

    const result = await outcome(() =>
      t.lambda.send(new UpdateFunctionConfigurationCommand({ FunctionName: name, MemorySize: 1024, Timeout: 10 })),
    );

    if (t.differs('updatesAnswerInternalError')) {
      expect(result).toBe('InternalError 500');
      return;
    }
    expect(result).toBe('ok');
    const after = await t.lambda.send(new GetFunctionCommand({ FunctionName: name }));
    expect(after.Configuration).toMatchObject({ MemorySize: 1024, Timeout: 10 });
  });

  it('reserved concurrency: put, read, delete, and the unreserved floor with AWS’s message', async () => {
    const name = await create();
    await t.lambda.send(new PutFunctionConcurrencyCommand({ FunctionName: name, ReservedConcurrentExecutions: 10 }));
    const settings = await t.lambda.send(new GetAccountSettingsCommand({}));
    expect(settings.AccountLimit?.ConcurrentExecutions).toBe(1000);
    const unreserved = settings.AccountLimit?.UnreservedConcurrentExecutions ?? 0;
    expect(unreserved).toBeLessThanOrEqual(990);

    const tooMuch = t.lambda.send(
      new PutFunctionConcurrencyCommand({ FunctionName: name, ReservedConcurrentExecutions: unreserved + 10 - 99 }),
    );
    await expect(tooMuch).rejects.toMatchObject({ name: 'InvalidParameterValueException', message: FLOOR_MESSAGE });

    expect(
      (await t.lambda.send(new GetFunctionConcurrencyCommand({ FunctionName: name }))).ReservedConcurrentExecutions,
    ).toBe(10);
    await t.lambda.send(new DeleteFunctionConcurrencyCommand({ FunctionName: name }));
    const gone = await t.lambda.send(new GetFunctionConcurrencyCommand({ FunctionName: name }));
    expect(gone.ReservedConcurrentExecutions).toBeUndefined();
  });

  it('versions and aliases: publish, alias to a version, list both', async () => {
    const name = await create();

    const v1 = await t.lambda.send(new PublishVersionCommand({ FunctionName: name }));
    await t.lambda.send(new CreateAliasCommand({ FunctionName: name, Name: 'live', FunctionVersion: v1.Version }));

    expect(v1.Version).toBe('1');
    expect(v1.MemorySize).toBe(512);
    const alias = await t.lambda.send(new GetAliasCommand({ FunctionName: name, Name: 'live' }));
    expect(alias).toMatchObject({ Name: 'live', FunctionVersion: '1' });
    const aliases = await t.lambda.send(new ListAliasesCommand({ FunctionName: name }));
    expect(aliases.Aliases?.map((a) => a.Name)).toEqual(['live']);
    const versions = await t.lambda.send(new ListVersionsByFunctionCommand({ FunctionName: name }));
    expect(versions.Versions?.map((v) => v.Version)).toEqual(['$LATEST', '1']);
  });

  it('provisioned concurrency: refused on $LATEST and above reserved, accepted on an alias', async () => {
    const name = await create();
    const v1 = await t.lambda.send(new PublishVersionCommand({ FunctionName: name }));
    await t.lambda.send(new CreateAliasCommand({ FunctionName: name, Name: 'live', FunctionVersion: v1.Version }));
    await t.lambda.send(new PutFunctionConcurrencyCommand({ FunctionName: name, ReservedConcurrentExecutions: 5 }));

    const onLatest = t.lambda.send(
      new PutProvisionedConcurrencyConfigCommand({
        FunctionName: name,
        Qualifier: '$LATEST',
        ProvisionedConcurrentExecutions: 1,
      }),
    );
    await expect(onLatest).rejects.toMatchObject({
      name: 'InvalidParameterValueException',
      message: 'Provisioned Concurrency Configs cannot be applied to unpublished function versions.',
    });
    expect(
      await outcome(() =>
        t.lambda.send(
          new PutProvisionedConcurrencyConfigCommand({
            FunctionName: name,
            Qualifier: 'live',
            ProvisionedConcurrentExecutions: 6,
          }),
        ),
      ),
    ).toBe('InvalidParameterValueException 400');
    expect(
      await outcome(() =>
        t.lambda.send(new GetProvisionedConcurrencyConfigCommand({ FunctionName: name, Qualifier: 'live' })),
      ),
    ).toBe('ProvisionedConcurrencyConfigNotFoundException 404');

    const put = await outcome(() =>
      t.lambda.send(
        new PutProvisionedConcurrencyConfigCommand({
          FunctionName: name,
          Qualifier: 'live',
          ProvisionedConcurrentExecutions: 2,
        }),
      ),
    );

    const listed = await t.lambda.send(new ListProvisionedConcurrencyConfigsCommand({ FunctionName: name }));
    if (t.differs('provisionedNeedsRunningVersion')) {
      expect(put).toBe('InternalError 500');
      expect(listed.ProvisionedConcurrencyConfigs).toEqual([]);
    } else {
      expect(put).toBe('ok');
      expect(listed.ProvisionedConcurrencyConfigs?.map((c) => c.RequestedProvisionedConcurrentExecutions)).toEqual([2]);
    }
  });

  it('layers: PublishLayerVersion and GetLayerVersionByArn carry CompatibleArchitectures', async () => {
    const published = await t.lambda.send(
      new PublishLayerVersionCommand({
        LayerName: `deps-${++counter}`,
        Content: { ZipFile: buildZip([{ name: 'nodejs/index.js', content: 'module.exports = 1;\n' }]) },
        CompatibleArchitectures: ['x86_64'],
        CompatibleRuntimes: ['nodejs22.x'],
      }),
    );
    expect(published.LayerVersionArn).toMatch(new RegExp(`^arn:aws:lambda:${REGION}:${t.account}:layer:deps-\\d+:1$`));

    const read = await t.lambda.send(new GetLayerVersionByArnCommand({ Arn: published.LayerVersionArn }));

    expect(read.CompatibleArchitectures).toEqual(['x86_64']);
    expect(read.Version).toBe(1);
  });
});
