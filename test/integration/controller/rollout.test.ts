/**
 * The blast-radius guard through the real reconcile loop, the real AWS SDK and the emulator: a selector edit that
 * widens a policy from 2 to 900 functions writes nothing and says RolloutPaused; approving the generation lets it
 * proceed in batches; a batch with a failing function stops the rollout and names the failure. And a dry-run
 * controller over the same fleet writes nothing at all while status lists the drift.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  ApplicationAutoScalingClient,
  PutScheduledActionCommand,
  RegisterScalableTargetCommand,
} from '@aws-sdk/client-application-auto-scaling';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { PolicySource } from '../../../src/api/policy-set.ts';
import type { LambdaPolicy, LambdaPolicyStatus } from '../../../src/api/schema.ts';
import { type Aws, createAws } from '../../../src/aws/index.ts';
import { Manager, type ManagerOptions } from '../../../src/controller/manager.ts';
import { MemoryStatusSink } from '../../../src/controller/memory-sink.ts';
import { type Emulator, loadSeedFile, startEmulator } from '../../../src/emulator/index.ts';
import { DEFAULT_MAX_CHANGES_PERCENT } from '../../../src/engine/rollout.ts';
import { FilePolicySource } from '../../../src/sources/files.ts';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const REGION = 'eu-central-1';
const FLEET = 900;
const BATCH = 300;
const names = Array.from({ length: FLEET }, (_, i) => `svc-${String(i).padStart(4, '0')}`);

const SEED = {
  accountConcurrency: 1000,
  functions: names.map((name, i) => ({
    name,
    region: REGION,
    memorySize: 128,
    timeout: 30,
    // two functions carry the team tag; every function carries the env tag the widened selector matches
    tags: { env: 'prod', ...(i < 2 ? { team: 'payments' } : {}) },
  })),
};

function policyYaml(generation: number, selector: string, extra: { approve?: string; batch?: boolean } = {}): string {
  const annotations =
    extra.approve === undefined ? '' : `\n  annotations: { lambdapolicy.io/approve-generation: "${extra.approve}" }`;
  return `apiVersion: lambdapolicy.io/v1alpha1
kind: LambdaPolicy
metadata:
  name: memory
  namespace: platform
  generation: ${generation}${annotations}
spec:
  interval: 30s
  selector: { regions: [${REGION}], tags: ${selector} }
  settings: { memorySize: 256 }${extra.batch ? `\n  rollout: { batchSize: ${BATCH} }` : ''}
`;
}

async function until<T>(what: string, probe: () => T | undefined, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function condition(status: LambdaPolicyStatus | undefined, type: string) {
  return status?.conditions?.find((c) => c.type === type);
}

describe('rollout guard on the emulator', () => {
  let dir: string;
  let emulator: Emulator;
  let aws: Aws;
  let source: FilePolicySource;
  let sink: MemoryStatusSink;
  let manager: Manager | undefined;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'lpc-rollout-'));
    emulator = await startEmulator({ port: 0, seed: SEED, tickMs: 0 });
    aws = createAws({
      regions: [REGION],
      endpoint: emulator.url,
      rates: { lambda: 2000, 'lambda-getfunction': 2000, tagging: 2000 },
    });
    sink = new MemoryStatusSink();
  });

  afterEach(async () => {
    await manager?.stop();
    await source.stop();
    aws.destroy();
    await emulator.stop();
    await rm(dir, { recursive: true, force: true });
  });

  async function start(yaml: string, over: Partial<ManagerOptions> = {}): Promise<void> {
    await writeFile(join(dir, 'policy.yaml'), yaml);
    source = new FilePolicySource([dir], { debounceMs: 50 });
    manager = new Manager({
      source,
      aws,
      defaultRegions: [REGION],
      sink,
      recheckAfterWritesMs: 50,
      execute: { pollIntervalMs: 20, concurrency: 64 },
      maxChangesPercent: DEFAULT_MAX_CHANGES_PERCENT,
      ...over,
    });
    await source.start();
    manager.start();
  }

  const memoryWrites = () => emulator.runtime.writes.filter((w) => w.api === 'UpdateFunctionConfiguration');
  const fixed = () => emulator.state().regions[REGION]?.functions.filter((f) => f.memorySize === 256).length ?? 0;
  const status = () => sink.statuses.get('platform/memory');

  it('pauses a widened selector, proceeds in batches once approved, stops at a failed batch', async () => {
    // Arrange: the policy's first generation matches 2 functions and fixes them (below the default guard's floor).
    await start(policyYaml(1, '{ team: payments }', { batch: true }));
    await until('2 functions fixed', () => (fixed() === 2 ? true : undefined));
    await until('Ready=True', () => (condition(status(), 'Ready')?.status === 'True' ? true : undefined));
    const writesBefore = memoryWrites().length;
    expect(writesBefore).toBe(2);

    // Act: generation 2 widens the selector to every prod function (900).
    await writeFile(join(dir, 'policy.yaml'), policyYaml(2, '{ env: prod }', { batch: true }));

    // Assert: nothing written, Stalled/RolloutPaused with the count, a Warning event.
    const paused = await until('RolloutPaused', () =>
      condition(status(), 'Stalled')?.reason === 'RolloutPaused' ? status() : undefined,
    );
    expect(condition(paused, 'Stalled')?.status).toBe('True');
    expect(condition(paused, 'Stalled')?.message).toContain('would change 898 of 900 matched functions');
    expect(condition(paused, 'Stalled')?.message).toContain('lambdapolicy.io/approve-generation=2');
    expect(paused?.summary).toMatchObject({ matched: 900, drifted: 898 });
    expect(sink.events.some((e) => e.type === 'Warning' && e.reason === 'RolloutPaused')).toBe(true);
    // another pass, still nothing
    manager?.queue.add(`region/${REGION}`);
    await new Promise((r) => setTimeout(r, 500));
    expect(memoryWrites().length).toBe(writesBefore);

    // Arrange: the batch after the first one will meet a function whose update fails.
    const failing = names[2 + BATCH + 10] as string;
    emulator.runtime.faults.configure({
      failUpdates: [{ api: 'UpdateFunctionConfiguration', function: failing, count: 1000, reason: 'EniLimitExceeded' }],
    });

    // Act: approve generation 2.
    await writeFile(join(dir, 'policy.yaml'), policyYaml(2, '{ env: prod }', { batch: true, approve: '2' }));

    // Assert: the first batch (300) is written, then the second batch stops the rollout at the failing function.
    const stopped = await until('RolloutFailed', () =>
      condition(status(), 'Stalled')?.reason === 'RolloutFailed' ? status() : undefined,
    );
    expect(condition(stopped, 'Stalled')?.message).toContain(`${REGION}/${failing}`);
    const batchWrites = memoryWrites().slice(writesBefore);
    expect(batchWrites.length).toBe(2 * BATCH);
    expect(fixed()).toBe(2 + 2 * BATCH - 1);
    // writes came in batches of at most BATCH between re-reads, and stop after the failed batch
    manager?.queue.add(`region/${REGION}`);
    await new Promise((r) => setTimeout(r, 500));
    expect(memoryWrites().length).toBe(writesBefore + 2 * BATCH);
    expect(sink.events.some((e) => e.reason === 'RolloutFailed' && e.note.includes(failing))).toBe(true);
  });

  it('a non-numeric approve annotation approves nothing and says why', async () => {
    await start(policyYaml(2, '{ env: prod }', { approve: 'yes' }));
    const s = await until('RolloutPaused', () =>
      condition(status(), 'Stalled')?.reason === 'RolloutPaused' ? status() : undefined,
    );
    expect(s?.problems?.join()).toContain('must be a generation number such as "3", not "yes"');
    expect(memoryWrites()).toHaveLength(0);
  });

  it('a dry-run controller writes nothing and lists the drift', async () => {
    await start(policyYaml(1, '{ env: prod }', { approve: '1' }), { dryRun: true });
    const s = await until('a status', () => (status()?.summary?.matched === FLEET ? status() : undefined));
    expect(s?.summary).toMatchObject({ matched: FLEET, drifted: FLEET, remediated: 0 });
    expect(s?.functions?.[0]).toMatchObject({ state: 'Drifted', drift: [{ field: 'memorySize', desired: 256 }] });
    expect(condition(s, 'Ready')?.message).toContain('dry run');
    manager?.queue.add(`region/${REGION}`);
    await new Promise((r) => setTimeout(r, 500));
    expect(emulator.runtime.writes).toHaveLength(0);
  });
});

describe('a dry-run controller over the example fleet', () => {
  it('writes nothing to AWS and lists the drift of every policy in status', async () => {
    const seed = await loadSeedFile(join(REPO, 'examples', 'fleet.yaml'));
    const emulator = await startEmulator({ port: 0, seed, tickMs: 0 });
    const regions = [...new Set((seed.functions ?? []).map((f) => f.region))].sort();
    const aws = createAws({ regions, endpoint: emulator.url, rates: { lambda: 500, 'lambda-getfunction': 500 } });
    const source = new FilePolicySource([join(REPO, 'examples', 'policies')], { debounceMs: 50 });
    const sink = new MemoryStatusSink();
    const manager = new Manager({ source, aws, defaultRegions: regions, sink, dryRun: true, execute: {} });
    try {
      await source.start();
      manager.start();
      const ids = source.current().policies.map((p) => `${p.metadata.namespace}/${p.metadata.name}`);
      expect(ids.length).toBeGreaterThan(1);
      await until('a status for every example policy', () =>
        ids.every((id) => sink.statuses.get(id)?.summary !== undefined) ? true : undefined,
      );
      // every example policy (Enforce ones included) reports its drift as Audit would, and nothing is written
      const drifted = ids.filter((id) => (sink.statuses.get(id)?.summary?.drifted ?? 0) > 0);
      expect(drifted.length).toBeGreaterThan(1);
      for (const id of drifted) {
        const s = sink.statuses.get(id);
        expect(s?.functions?.[0]?.state).toBe('Drifted');
        expect(s?.functions?.[0]?.drift?.length).toBeGreaterThan(0);
        expect(condition(s, 'Ready')?.message).toMatch(/^dry run \(controller started with --dry-run\)/);
        expect(s?.summary?.remediated).toBe(0);
      }
      expect(sink.events.filter((e) => e.reason === 'Remediated')).toEqual([]);
      expect(emulator.runtime.writes).toEqual([]);
    } finally {
      await manager.stop();
      await source.stop();
      aws.destroy();
      await emulator.stop();
    }
  });
});

describe('a dry-run controller and a deleted policy', () => {
  it('leaves the scheduled actions the policy owns in AWS and releases the finalizer', async () => {
    const emulator = await startEmulator({
      port: 0,
      tickMs: 0,
      seed: { functions: [{ name: 'api', region: REGION, aliases: [{ name: 'live', version: '1' }] }] },
    });
    const autoscaling = new ApplicationAutoScalingClient({
      region: REGION,
      endpoint: emulator.url,
      credentials: { accessKeyId: 'test', secretAccessKey: 'x' },
    });
    const target = {
      ServiceNamespace: 'lambda' as const,
      ScalableDimension: 'lambda:function:ProvisionedConcurrency' as const,
      ResourceId: 'function:api:live',
    };
    await autoscaling.send(new RegisterScalableTargetCommand({ ...target, MinCapacity: 0, MaxCapacity: 10 }));
    await autoscaling.send(
      new PutScheduledActionCommand({
        ...target,
        ScheduledActionName: 'lambda-policy-controller.platform.pc.bh.start',
        Schedule: 'cron(0 8 * * ? *)',
        ScalableTargetAction: { MinCapacity: 5, MaxCapacity: 5 },
      }),
    );
    autoscaling.destroy();
    const writesBefore = emulator.runtime.writes.length;
    const deleted: LambdaPolicy = {
      apiVersion: 'lambdapolicy.io/v1alpha1',
      kind: 'LambdaPolicy',
      metadata: {
        name: 'pc',
        namespace: 'platform',
        generation: 1,
        uid: 'u1',
        deletionTimestamp: '2026-12-01T09:00:00Z',
        finalizers: ['lambdapolicy.io/cleanup'],
      },
      spec: {
        selector: { regions: [REGION], functionNames: ['api'] },
        settings: { provisionedConcurrency: { qualifier: 'live', value: 0 } },
      },
    };
    const source: PolicySource = {
      start: async () => {},
      stop: async () => {},
      current: () => ({ policies: [deleted], errors: [] }),
      onChange: () => () => {},
      onError: () => () => {},
    };
    const released: string[] = [];
    const sink = new MemoryStatusSink();
    sink.removeFinalizer = async () => {
      released.push('platform/pc');
    };
    const aws = createAws({ regions: [REGION], endpoint: emulator.url });
    const manager = new Manager({ source, aws, defaultRegions: [REGION], sink, dryRun: true });
    try {
      manager.start();
      await until('finalizer released', () => (released.length > 0 ? true : undefined));
      expect(emulator.runtime.writes.length).toBe(writesBefore);
      expect(emulator.state().regions[REGION]?.scheduledActions.map((a) => a.name)).toEqual([
        'lambda-policy-controller.platform.pc.bh.start',
      ]);
    } finally {
      await manager.stop();
      aws.destroy();
      await emulator.stop();
    }
  });
});
