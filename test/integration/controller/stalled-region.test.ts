/**
 * A region whose AWS endpoint stalls (the connection is accepted, the answer never comes) makes the controller say
 * so — Ready=False/AwsUnavailable naming the region — once the attempts' deadlines have passed, instead of a pass
 * that never ends while /healthz and /readyz say ok; /readyz names it (staying ready) and lpc_aws_region_unavailable
 * is 1 for it. Without deadlines this test waits forever.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import type { LambdaPolicyStatus } from '../../../src/api/schema.ts';
import { type Aws, createAws } from '../../../src/aws/index.ts';
import { controllerReadiness } from '../../../src/controller/health.ts';
import { Manager } from '../../../src/controller/manager.ts';
import { MemoryStatusSink } from '../../../src/controller/memory-sink.ts';
import { ControllerMetrics } from '../../../src/controller/metrics.ts';
import { type Emulator, startEmulator } from '../../../src/emulator/index.ts';
import { FilePolicySource } from '../../../src/sources/files.ts';

const REGION = 'eu-central-1';

let dir: string;
let emulator: Emulator;
let aws: Aws;
let source: FilePolicySource;
let manager: Manager;
let sink: MemoryStatusSink;
let metrics: ControllerMetrics;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lpc-stall-'));
  await writeFile(
    join(dir, 'api.yaml'),
    `apiVersion: lambdapolicy.io/v1alpha1
kind: LambdaPolicy
metadata: { name: api, namespace: platform }
spec:
  selector: { regions: [${REGION}], tags: { tier: api } }
  settings: { memorySize: 1024 }
`,
  );
  emulator = await startEmulator({
    port: 0,
    tickMs: 0,
    seed: { functions: [{ name: 'orders-api', region: REGION, memorySize: 512, tags: { tier: 'api' } }] },
    // Every ListFunctions is accepted and never answered.
    faults: { answers: [{ api: 'ListFunctions', kind: 'hang', count: 100_000 }] },
  });
  aws = createAws({
    regions: [REGION],
    endpoint: emulator.url,
    env: {},
    deadlines: { connectMs: 300, responseMs: 300, socketIdleMs: 300, attemptMs: 600 },
    retry: { baseDelayMs: 1, maxDelayMs: 5 },
  });
  source = new FilePolicySource([dir], { debounceMs: 50 });
  sink = new MemoryStatusSink();
  metrics = new ControllerMetrics({ processMetrics: false });
  manager = new Manager({ source, aws, defaultRegions: [REGION], sink, metrics });
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

function ready(status: LambdaPolicyStatus | undefined) {
  return status?.conditions?.find((x) => x.type === 'Ready');
}

it('a stalled region: Ready=False/AwsUnavailable naming the region, and no write', async () => {
  let condition = ready(sink.statuses.get('platform/api'));
  for (;;) {
    condition = ready(sink.statuses.get('platform/api'));
    if (condition?.reason === 'AwsUnavailable') break;
    await new Promise((r) => setTimeout(r, 50));
  }
  expect(condition).toMatchObject({ status: 'False', reason: 'AwsUnavailable' });
  expect(condition?.message).toContain(REGION);
  expect(emulator.runtime.writes).toEqual([]);

  const readiness = controllerReadiness({
    watcherReady: () => true,
    unavailableRegions: () => manager.unavailableRegions(),
  });
  const aws = readiness.aws?.();
  expect(aws?.ok).toBe(true);
  expect(aws?.detail).toMatch(new RegExp(`^unavailable: AWS in ${REGION}: `));
  expect((await metrics.render()).body).toContain(`lpc_aws_region_unavailable{region="${REGION}"} 1`);
});
