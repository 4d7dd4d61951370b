/**
 * The controller moving a fleet to arm64: a package holding an x86-64 native addon is refused in status with the
 * file named (Failed, never written), a pure-JS package moves; the refused package is not downloaded again.
 */
import { readFileSync } from 'node:fs';
import { CreateFunctionCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { afterEach, describe, expect, it } from 'vitest';
import type { PolicySource } from '../../../src/api/policy-set.ts';
import type { LambdaPolicy } from '../../../src/api/schema.ts';
import { type Aws, createAws } from '../../../src/aws/index.ts';
import { Manager } from '../../../src/controller/manager.ts';
import { MemoryStatusSink } from '../../../src/controller/memory-sink.ts';
import { type Emulator, startEmulator } from '../../../src/emulator/index.ts';

const REGION = 'eu-central-1';
const zip = (name: string) => readFileSync(new URL(`../../fixtures/zips/${name}`, import.meta.url));

async function until<T>(what: string, probe: () => T | undefined, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

let cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const step of cleanup.reverse()) await step();
  cleanup = [];
});

describe('controller: architecture moves', () => {
  it('reports the native addon that blocks the move in status and moves the pure-JS function', async () => {
    const emulator: Emulator = await startEmulator({ port: 0, tickMs: 0 });
    cleanup.push(() => emulator.stop());
    const lambda = new LambdaClient({
      region: REGION,
      endpoint: emulator.url,
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    });
    for (const [name, file] of [
      ['thumbnails', 'x64-addon.zip'],
      ['api', 'pure-js.zip'],
    ] as const) {
      await lambda.send(
        new CreateFunctionCommand({
          FunctionName: name,
          Runtime: 'nodejs22.x',
          Handler: 'index.handler',
          Role: 'arn:aws:iam::123456789012:role/lambda',
          Code: { ZipFile: zip(file) },
        }),
      );
    }
    lambda.destroy();
    const policy: LambdaPolicy = {
      apiVersion: 'lambdapolicy.io/v1alpha1',
      kind: 'LambdaPolicy',
      metadata: { name: 'arm', namespace: 'platform', generation: 1, uid: 'u1' },
      spec: { selector: { regions: [REGION], functionNames: ['*'] }, settings: { architecture: 'arm64' } },
    };
    const source: PolicySource = {
      start: async () => {},
      stop: async () => {},
      current: () => ({ policies: [policy], errors: [] }),
      onChange: () => () => {},
      onError: () => () => {},
    };
    const downloads: string[] = [];
    const aws: Aws = createAws({
      regions: [REGION],
      endpoint: emulator.url,
      fetch: (url) => {
        downloads.push(url);
        return fetch(url);
      },
    });
    const sink = new MemoryStatusSink();
    let passes = 0;
    const manager = new Manager({
      onPass: () => {
        passes++;
      },
      source,
      aws,
      defaultRegions: [REGION],
      sink,
      maxChangesPercent: 100,
      recheckAfterWritesMs: 100,
      execute: { pollIntervalMs: 50 },
    });
    cleanup.push(
      async () => aws.destroy(),
      () => manager.stop(),
    );
    manager.start();

    const failed = await until('thumbnails Failed in status', () =>
      sink.statuses.get('platform/arm')?.functions?.find((f) => f.name === 'thumbnails' && f.state === 'Failed'),
    );

    expect(failed.message).toContain('node_modules/sharp/build/Release/sharp-linux-x64.node');
    expect(failed.message).toContain('x86-64');
    const state = (name: string) => emulator.state().regions[REGION]?.functions.find((f) => f.name === name);
    await until('api on arm64', () => (state('api')?.architecture === 'arm64' ? true : undefined));
    expect(state('thumbnails')?.architecture).toBe('x86_64');
    expect(emulator.runtime.writes.filter((w) => w.api === 'UpdateFunctionCode').map((w) => w.function)).toEqual([
      'api',
    ]);
    // Later passes remember the verdict by CodeSha256: the refused package was downloaded once.
    const before = passes;
    manager.queue.add(`region/${REGION}`);
    await until('another pass', () => (passes > before ? true : undefined));
    expect(sink.statuses.get('platform/arm')?.functions?.find((f) => f.name === 'thumbnails')?.state).toBe('Failed');
    expect(downloads.filter((u) => u.includes('thumbnails'))).toHaveLength(1);
  });
});
