/**
 * Until the controller reconciles AwsAccounts, a policy that names accounts must not be applied to the home
 * account instead: it is Stalled and nothing is written for it (the write log stays empty).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { type Aws, createAws } from '../../../src/aws/index.ts';
import { Manager } from '../../../src/controller/manager.ts';
import { MemoryStatusSink } from '../../../src/controller/memory-sink.ts';
import { type Emulator, startEmulator } from '../../../src/emulator/index.ts';
import type { PassResult } from '../../../src/reconcile/pass.ts';
import { FilePolicySource } from '../../../src/sources/files.ts';

const REGION = 'eu-central-1';
let dir: string;
let emulator: Emulator;
let aws: Aws;
let source: FilePolicySource;
let manager: Manager;
let sink: MemoryStatusSink;
const passes: PassResult[] = [];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lpc-accounts-guard-'));
  const policy = (name: string, accounts: string) => `apiVersion: lambdapolicy.io/v1alpha1
kind: LambdaPolicy
metadata: { name: ${name}, namespace: team }
spec:
  interval: 30s
  selector: { regions: [${REGION}], functionNames: ["*"]${accounts} }
  settings: { memorySize: 2048 }
`;
  await writeFile(join(dir, 'named.yaml'), policy('named', ', accounts: [payments-prod]'));
  await writeFile(join(dir, 'labelled.yaml'), policy('labelled', ', accountSelector: { matchLabels: { env: prod } }'));
  emulator = await startEmulator({ port: 0, tickMs: 0, seed: { functions: [{ name: 'home-api', region: REGION }] } });
  aws = createAws({ regions: [REGION], endpoint: emulator.url });
  source = new FilePolicySource([dir], { debounceMs: 50 });
  sink = new MemoryStatusSink();
  manager = new Manager({ source, aws, defaultRegions: [REGION], sink, onPass: (_r, pass) => passes.push(pass) });
  await source.start();
  manager.start();
});

afterEach(async () => {
  await manager.stop();
  await source.stop();
  aws.destroy();
  await emulator.stop();
  await rm(dir, { recursive: true, force: true });
});

it('stalls policies that name AwsAccounts and writes nothing to the home account for them', async () => {
  const deadline = Date.now() + 20_000;
  const stalled = () =>
    ['team/named', 'team/labelled'].every(
      (id) => sink.statuses.get(id)?.conditions?.find((c) => c.type === 'Stalled')?.status === 'True',
    );
  while (!stalled() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));

  for (const id of ['team/named', 'team/labelled']) {
    const stalledCondition = sink.statuses.get(id)?.conditions?.find((c) => c.type === 'Stalled');
    expect(stalledCondition?.message).toContain('the controller does not reconcile AwsAccounts yet');
  }
  expect(emulator.runtime.writes).toEqual([]);
  expect(passes.flatMap((p) => p.plan.functions.flatMap((f) => f.actions))).toEqual([]);
});
