/**
 * Architecture moves through the real SDK against the emulator: the executor downloads the package from
 * Code.Location, looks inside it, and re-sends it only when nothing in it is built for the other CPU.
 */
import { readFileSync } from 'node:fs';
import { CreateFunctionCommand, UpdateFunctionCodeCommand } from '@aws-sdk/client-lambda';
import { afterEach, describe, expect, it } from 'vitest';
import { MAX_ZIP_UPLOAD_BYTES } from '../../../src/aws/executor.ts';
import {
  type ActionOutcome,
  AwsInfeasibleError,
  classifyAwsError,
  executeFunctionActions,
} from '../../../src/aws/index.ts';
import type { ObservedFunction } from '../../../src/engine/model.ts';
import { type Harness, startHarness, writes } from './harness.ts';

const REGION = 'eu-central-1';
const FAST = { pollIntervalMs: 25 };
const fixture = (name: string) => readFileSync(new URL(`../../fixtures/zips/${name}`, import.meta.url));

let h: Harness | undefined;
afterEach(async () => {
  await h?.stop();
  h = undefined;
});

async function createFunction(harness: Harness, name: string, zip: Buffer): Promise<ObservedFunction> {
  await harness.aws.clients(REGION).lambda.send(
    new CreateFunctionCommand({
      FunctionName: name,
      Runtime: 'nodejs22.x',
      Handler: 'index.handler',
      Role: 'arn:aws:iam::123456789012:role/lambda',
      Code: { ZipFile: zip },
      Architectures: ['x86_64'],
    }),
  );
  return {
    region: REGION,
    name,
    arn: `arn:aws:lambda:${REGION}:123456789012:function:${name}`,
    memorySize: 128,
    timeout: 3,
    architecture: 'x86_64',
    packageType: 'Zip',
    runtime: 'nodejs22.x',
    tags: {},
  };
}

function architectureOf(harness: Harness, name: string): string | undefined {
  return harness.emulator.state().regions[REGION]?.functions.find((f) => f.name === name)?.architecture;
}

const moveToArm = [{ api: 'UpdateFunctionCode' as const, architecture: 'arm64' as const }];
const failure = (outcomes: ActionOutcome[]) => outcomes[0]?.error;

describe('architecture moves that cannot break code', () => {
  it('refuses a package holding an x86-64 .node addon for arm64, naming the file, and writes nothing', async () => {
    h = await startHarness();
    const fn = await createFunction(h, 'thumbnails', fixture('x64-addon.zip'));
    const before = (await writes(h)).length;

    const outcomes = await executeFunctionActions(h.aws, REGION, fn, moveToArm, FAST);

    expect(outcomes[0]?.status).toBe('failed');
    const error = failure(outcomes);
    expect(error).toBeInstanceOf(AwsInfeasibleError);
    expect(error).toMatchObject({ reason: 'NativeArchitecture' });
    expect(error?.message).toContain('node_modules/sharp/build/Release/sharp-linux-x64.node');
    expect(error?.message).toContain('x86-64');
    expect((await writes(h)).slice(before)).toEqual([]);
    expect(architectureOf(h, 'thumbnails')).toBe('x86_64');
  });

  it('remembers a refused package by its CodeSha256: the next pass does not download it again', async () => {
    const downloaded: string[] = [];
    const counting = (url: string) => {
      downloaded.push(url);
      return fetch(url);
    };
    h = await startHarness({}, { fetch: counting });
    const fn = await createFunction(h, 'thumbnails', fixture('x64-addon.zip'));
    await executeFunctionActions(h.aws, REGION, fn, moveToArm, FAST);
    expect(downloaded).toHaveLength(1);

    const again = await executeFunctionActions(h.aws, REGION, fn, moveToArm, FAST);

    expect(failure(again)).toMatchObject({ reason: 'NativeArchitecture' });
    expect(failure(again)?.message).toContain('sharp-linux-x64.node');
    expect(downloaded).toHaveLength(1);
  });

  it('moves a pure-JS package to arm64 with the same bytes', async () => {
    h = await startHarness();
    const fn = await createFunction(h, 'api', fixture('pure-js.zip'));

    const outcomes = await executeFunctionActions(h.aws, REGION, fn, moveToArm, FAST);

    expect(outcomes.map((o) => o.status)).toEqual(['applied']);
    const update = (await writes(h)).find((w) => w.api === 'UpdateFunctionCode');
    expect(update?.params.Architectures).toEqual(['arm64']);
    expect(update?.params.ZipFile).toEqual({ bytes: fixture('pure-js.zip').length });
    expect(architectureOf(h, 'api')).toBe('arm64');
  });

  it('refuses an upload whose encoded request would be too large before sending it', async () => {
    h = await startHarness();
    const zip = fixture('pure-js.zip');
    const fn = await createFunction(h, 'big', zip);

    // The zip itself is within the zipped limit; base64 in JSON is a third larger and is not.
    const outcomes = await executeFunctionActions(h.aws, REGION, fn, moveToArm, {
      ...FAST,
      maxZipBytes: zip.length,
      maxRequestBytes: zip.length + 100,
    });

    expect(failure(outcomes)).toMatchObject({ code: 'Infeasible', reason: 'RequestTooLarge' });
    expect(failure(outcomes)?.message).toMatch(/base64 in JSON/);
    expect((await writes(h)).filter((w) => w.api === 'UpdateFunctionCode')).toEqual([]);
    expect(architectureOf(h, 'big')).toBe('x86_64');
  });

  it('reports AWS answering 413 RequestEntityTooLargeException as not retryable, with the reason', async () => {
    h = await startHarness({
      faults: {
        forced: [
          {
            api: 'UpdateFunctionCode',
            error: 'RequestEntityTooLargeException',
            status: 413,
            message: 'Request must be smaller than 69905067 bytes for the UpdateFunctionCode operation',
          },
        ],
      },
    });
    const fn = await createFunction(h, 'api', fixture('pure-js.zip'));

    const outcomes = await executeFunctionActions(h.aws, REGION, fn, moveToArm, FAST);

    expect(failure(outcomes)).toMatchObject({ code: 'Infeasible', reason: 'RequestTooLarge', httpStatus: 413 });
    expect(h.events.filter((e) => e.api === 'UpdateFunctionCode')).toHaveLength(1);
  });

  it('the emulator answers a 50 MiB zip, whose request is too large, with 413 RequestEntityTooLargeException', async () => {
    h = await startHarness();
    await createFunction(h, 'huge', fixture('pure-js.zip'));
    const zip = Buffer.alloc(MAX_ZIP_UPLOAD_BYTES, 1);

    const sent = h.aws
      .clients(REGION)
      .lambda.send(new UpdateFunctionCodeCommand({ FunctionName: 'huge', ZipFile: zip, Architectures: ['arm64'] }));

    const error = await sent.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toMatchObject({
      name: 'RequestEntityTooLargeException',
      message: 'Request must be smaller than 69905067 bytes for the UpdateFunctionCode operation',
    });
    expect(classifyAwsError(error)).toMatchObject({ code: 'Infeasible', reason: 'RequestTooLarge', httpStatus: 413 });
    expect(architectureOf(h, 'huge')).toBe('x86_64');
  });
});
