/**
 * A window in a time zone alias (US/Eastern) is refused where a user sees it: the CLI names the file and the field,
 * the controller's status names the field and the canonical zone, and nothing is sent to AWS.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { PolicySource } from '../../../src/api/policy-set.ts';
import type { LambdaPolicy, LambdaPolicySpec } from '../../../src/api/schema.ts';
import { type Aws, createAws } from '../../../src/aws/index.ts';
import { Manager } from '../../../src/controller/manager.ts';
import { MemoryStatusSink } from '../../../src/controller/memory-sink.ts';
import { type Emulator, startEmulator } from '../../../src/emulator/index.ts';
import { awsArgs, runCli } from '../cli/harness.ts';

const REGION = 'eu-central-1';
const SEED = {
  functions: [{ name: 'orders-api', region: REGION, memorySize: 512, timeout: 30, tags: { tier: 'api' } }],
};
const MESSAGE =
  'time zone "US/Eastern" is an alias of America/New_York: Application Auto Scaling takes canonical IANA names only, use "America/New_York"';

function policyYaml(timezone: string): string {
  return `apiVersion: lambdapolicy.io/v1alpha1
kind: LambdaPolicy
metadata: { name: api, namespace: platform }
spec:
  interval: 30s
  selector: { regions: [${REGION}], tags: { tier: api } }
  settings:
    memorySize: 1024
    provisionedConcurrency:
      qualifier: live
      value: 1
      windows:
        - { name: business-hours, start: "0 8 * * 1-5", end: "0 19 * * 1-5", timezone: ${timezone}, value: 2 }
`;
}

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

async function setup(): Promise<{ file: string; emulator: Emulator }> {
  const dir = await mkdtemp(join(tmpdir(), 'lpc-tz-'));
  const file = join(dir, 'api.yaml');
  await writeFile(file, policyYaml('US/Eastern'));
  const emulator = await startEmulator({ port: 0, seed: SEED, tickMs: 0 });
  cleanup.push(
    () => emulator.stop(),
    () => rm(dir, { recursive: true, force: true }),
  );
  return { file, emulator };
}

describe('time zone aliases', () => {
  it('the CLI refuses US/Eastern naming the file, the field and the canonical zone, and calls no AWS API', async () => {
    const { file, emulator } = await setup();

    const result = await runCli(['plan', '-f', file, '-o', 'json', ...awsArgs(emulator.url)]);

    expect(result.code).toBe(1);
    expect(result.stderr).toContain(file);
    expect(result.stderr).toContain(`spec.settings.provisionedConcurrency.windows[0].timezone: ${MESSAGE}`);
    expect(emulator.runtime.calls.total).toBe(0);
  });

  it('the controller reports it in status (Stalled) and writes nothing', async () => {
    const { emulator } = await setup();
    // As the API server hands it over: its CRD pattern admits any zone-shaped name, so only the controller can refuse.
    const policy: LambdaPolicy = {
      apiVersion: 'lambdapolicy.io/v1alpha1',
      kind: 'LambdaPolicy',
      metadata: { name: 'api', namespace: 'platform', generation: 1, uid: 'u1' },
      spec: parse(policyYaml('US/Eastern')).spec as LambdaPolicySpec,
    };
    const source: PolicySource = {
      start: async () => {},
      stop: async () => {},
      current: () => ({ policies: [policy], errors: [] }),
      onChange: () => () => {},
      onError: () => () => {},
    };
    const aws: Aws = createAws({ regions: [REGION], endpoint: emulator.url });
    const sink = new MemoryStatusSink();
    const manager = new Manager({ source, aws, defaultRegions: [REGION], sink, execute: { pollIntervalMs: 50 } });
    cleanup.push(
      async () => aws.destroy(),
      () => manager.stop(),
    );
    manager.start();

    const stalled = await until('Stalled', () => {
      const s = sink.statuses.get('platform/api');
      return s?.conditions?.find((c) => c.type === 'Stalled' && c.status === 'True');
    });

    expect(stalled.message).toContain(`settings.provisionedConcurrency.windows[0].timezone: ${MESSAGE}`);
    expect(emulator.runtime.writes).toEqual([]);
  });
});
