/**
 * Functions owned by infrastructure as code through the reconcile loop, the real SDK and the emulator: under an
 * Enforce policy a CloudFormation-tagged function is IaCManaged in status (stack and template property named) and
 * never written; with iacManaged: Enforce the controller fixes it.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Aws, createAws } from '../../../src/aws/index.ts';
import { Manager } from '../../../src/controller/manager.ts';
import { MemoryStatusSink } from '../../../src/controller/memory-sink.ts';
import { type Emulator, startEmulator } from '../../../src/emulator/index.ts';
import { FilePolicySource } from '../../../src/sources/files.ts';

const REGION = 'eu-central-1';
const SEED = {
  functions: [
    {
      name: 'orders-api',
      region: REGION,
      memorySize: 512,
      tags: { team: 'orders', 'aws:cloudformation:stack-name': 'orders-prod' },
    },
    { name: 'orders-worker', region: REGION, memorySize: 512, tags: { team: 'orders' } },
  ],
};

function policyYaml(generation: number, iacManaged?: string): string {
  return `apiVersion: lambdapolicy.io/v1alpha1
kind: LambdaPolicy
metadata: { name: memory, namespace: platform, generation: ${generation} }
spec:
  interval: 30s
  selector: { regions: [${REGION}], tags: { team: orders } }
  settings: { memorySize: 1024 }${iacManaged ? `\n  iacManaged: ${iacManaged}` : ''}
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

describe('IaC-owned functions under the controller', () => {
  let dir: string;
  let emulator: Emulator;
  let aws: Aws;
  let source: FilePolicySource;
  let sink: MemoryStatusSink;
  let manager: Manager;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'lpc-iac-'));
    await writeFile(join(dir, 'policy.yaml'), policyYaml(1));
    emulator = await startEmulator({ port: 0, seed: SEED, tickMs: 0 });
    aws = createAws({ regions: [REGION], endpoint: emulator.url, rates: { lambda: 100, 'lambda-getfunction': 100 } });
    source = new FilePolicySource([dir], { debounceMs: 50 });
    sink = new MemoryStatusSink();
    manager = new Manager({
      source,
      aws,
      defaultRegions: [REGION],
      sink,
      recheckAfterWritesMs: 50,
      execute: { pollIntervalMs: 20 },
    });
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

  const memory = (name: string) => emulator.state().regions[REGION]?.functions.find((f) => f.name === name)?.memorySize;
  const status = () => sink.statuses.get('platform/memory');

  it('reports IaCManaged and never writes the owned function; iacManaged: Enforce fixes it', async () => {
    const s = await until('IaCManaged', () =>
      status()?.conditions?.find((c) => c.type === 'Ready')?.reason === 'IaCManaged' ? status() : undefined,
    );
    expect(memory('orders-worker')).toBe(1024);
    expect(memory('orders-api')).toBe(512);
    expect(s?.summary).toMatchObject({ matched: 2, compliant: 1, drifted: 1, iacManaged: 1 });
    // Checked (Ready), and not Compliant: the drift is left to the template's owner.
    expect(s?.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True');
    expect(s?.conditions?.find((c) => c.type === 'Stalled')?.status).toBe('False');
    expect(s?.conditions?.find((c) => c.type === 'Compliant')).toMatchObject({
      status: 'False',
      reason: 'Drifted',
      message:
        '1 of 2 matched functions compliant; 1 drifted (1 owned by infrastructure as code: change their templates)',
    });
    expect(s?.functions?.find((f) => f.name === 'orders-api')).toEqual({
      account: 'home',
      region: REGION,
      name: 'orders-api',
      state: 'IaCManaged',
      drift: [{ field: 'memorySize', desired: 1024, actual: 512 }],
      message:
        'owned by CloudFormation stack orders-prod: not written; change MemorySize of AWS::Lambda::Function to 1024 in its template',
    });
    expect(emulator.runtime.writes.filter((w) => w.function === 'orders-api')).toEqual([]);

    await writeFile(join(dir, 'policy.yaml'), policyYaml(2, 'Enforce'));
    await until('orders-api fixed', () => (memory('orders-api') === 1024 ? true : undefined));
    await until('Ready=True', () =>
      status()?.conditions?.find((c) => c.type === 'Ready')?.status === 'True' ? true : undefined,
    );
  });
});
