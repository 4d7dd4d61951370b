/**
 * The reconcile loop (Manager) over a file policy source and the emulator, through the real AWS SDK: convergence,
 * quiet when in sync, edits picked up, and what a region AWS refuses to read does to status and retries.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { LambdaPolicyStatus } from '../../../src/api/schema.ts';
import { type Aws, createAws } from '../../../src/aws/index.ts';
import { Manager } from '../../../src/controller/manager.ts';
import { MemoryStatusSink } from '../../../src/controller/memory-sink.ts';
import { type Emulator, emulatorAdmin, startEmulator } from '../../../src/emulator/index.ts';
import type { PassResult } from '../../../src/reconcile/pass.ts';
import { FilePolicySource } from '../../../src/sources/files.ts';

const REGION = 'eu-central-1';

const ORDERS_API_US = { name: 'orders-api', region: 'us-east-1', memorySize: 512, timeout: 30, tags: { tier: 'api' } };

const SEED = {
  accountConcurrency: 1000,
  functions: [
    { name: 'orders-api', region: REGION, memorySize: 512, timeout: 30, tags: { tier: 'api' } },
    { name: 'orders-worker', region: REGION, memorySize: 512, timeout: 30, tags: { tier: 'worker' } },
  ],
};

function policyYaml(memorySize: number): string {
  return `apiVersion: lambdapolicy.io/v1alpha1
kind: LambdaPolicy
metadata: { name: api, namespace: platform }
spec:
  interval: 30s
  selector: { regions: [${REGION}], tags: { tier: api } }
  settings: { memorySize: ${memorySize}, timeout: 10 }
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

function ready(status: LambdaPolicyStatus | undefined): string | undefined {
  const c = status?.conditions?.find((x) => x.type === 'Ready');
  return c ? `${c.status}/${c.reason}` : undefined;
}

describe('Manager on the emulator with a file source', () => {
  let dir: string;
  let emulator: Emulator;
  let aws: Aws;
  let source: FilePolicySource;
  let sink: MemoryStatusSink;
  let manager: Manager;
  let passes: PassResult[];

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'lpc-manager-'));
    await writeFile(join(dir, 'api.yaml'), policyYaml(1024));
    emulator = await startEmulator({ port: 0, seed: SEED, tickMs: 0 });
    aws = createAws({ regions: [REGION], endpoint: emulator.url, rates: { lambda: 100, 'lambda-getfunction': 100 } });
    source = new FilePolicySource([dir], { debounceMs: 50 });
    sink = new MemoryStatusSink();
    passes = [];
    manager = new Manager({
      source,
      aws,
      defaultRegions: [REGION],
      sink,
      recheckAfterWritesMs: 100,
      execute: { pollIntervalMs: 50 },
      onPass: (_region, pass) => passes.push(pass),
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

  const fn = (name: string) => emulator.state().regions[REGION]?.functions.find((f) => f.name === name);
  const writes = () => emulator.runtime.writes.length;

  it('converges, then stays quiet: no AWS writes and no status writes while in sync', async () => {
    // Act: the first pass writes, the re-check confirms.
    await until('a pass with no actions after writes', () =>
      passes.length >= 2 && passes.at(-1)?.plan.functions.every((f) => f.actions.length === 0) ? true : undefined,
    );

    // Assert: the matched function is fixed, the unmatched one untouched, the status says so.
    expect(fn('orders-api')).toMatchObject({ memorySize: 1024, timeout: 10 });
    expect(fn('orders-worker')).toMatchObject({ memorySize: 512, timeout: 30 });
    const status = await until('Ready=True/Compliant', () => {
      const s = sink.statuses.get('platform/api');
      return ready(s) === 'True/Compliant' ? s : undefined;
    });
    expect(status.summary).toMatchObject({ matched: 1, compliant: 1, drifted: 0, remediated: 1 });

    // Act: more passes in sync (forced through the queue, as the interval would).
    const writesBefore = writes();
    const statusWritesBefore = sink.statusWrites;
    const passesBefore = passes.length;
    for (let i = 0; i < 3; i++) {
      manager.queue.add(`region/${REGION}`);
      await until(`in-sync pass ${i + 1}`, () => (passes.length > passesBefore + i ? true : undefined));
    }

    // Assert
    expect(writes()).toBe(writesBefore);
    expect(sink.statusWrites).toBe(statusWritesBefore);
  });

  it('re-enforces when the policy file is edited', async () => {
    await until('first fix', () => (fn('orders-api')?.memorySize === 1024 ? true : undefined));

    await writeFile(join(dir, 'api.yaml'), policyYaml(2048));

    await until('the edited value enforced', () => (fn('orders-api')?.memorySize === 2048 ? true : undefined));
  });

  it('writes nothing (AWS, status, finalizers) while it may not write, e.g. after losing its Lease', async () => {
    await manager.stop();
    await emulatorAdmin(emulator.url, 'POST', `functions/${REGION}/orders-api`, { memorySize: 512 });
    let leading = false;
    passes = [];
    manager = new Manager({
      source,
      aws,
      defaultRegions: [REGION],
      sink,
      recheckAfterWritesMs: 100,
      execute: { pollIntervalMs: 50 },
      onPass: (_region, pass) => passes.push(pass),
      mayWrite: () => leading,
    });
    const writesBefore = writes();
    const statusWritesBefore = sink.statusWrites;

    // Act: passes plan the fix but may not make it
    manager.start();
    await until('a pass that planned writes', () =>
      passes.some((p) => p.plan.functions.some((f) => f.actions.length > 0)) ? true : undefined,
    );

    // Assert
    expect(writes()).toBe(writesBefore);
    expect(sink.statusWrites).toBe(statusWritesBefore);
    expect(passes.every((p) => p.executions.length === 0)).toBe(true);

    // Once it may write again, the next pass does
    leading = true;
    manager.queue.add(`region/${REGION}`);
    await until('the fix made', () => (fn('orders-api')?.memorySize === 1024 ? true : undefined));
  });

  it('forgets what it kept for a policy once the policy is gone', async () => {
    await until('status of platform/api', () => (sink.statuses.has('platform/api') ? true : undefined));
    expect(manager.trackedPolicies).toBe(1);

    // Act: the policy is replaced by another one (an Audit policy, which never gets a finalizer)
    await writeFile(
      join(dir, 'other.yaml'),
      policyYaml(1024).replace('name: api', 'name: other').replace('interval: 30s', 'mode: Audit\n  interval: 30s'),
    );
    await rm(join(dir, 'api.yaml'));

    // Assert: only the policy that is still declared is kept
    // Generous hang guards: the file source's reload and the next pass are slow on a loaded machine.
    await until('status of platform/other', () => (sink.statuses.has('platform/other') ? true : undefined), 60_000);
    await until('platform/api forgotten', () => (manager.trackedPolicies === 1 ? true : undefined), 60_000);
  }, 150_000);

  it('reports a region AWS refuses to read on the policy, backs off, and recovers', async () => {
    await until('Ready=True', () => (ready(sink.statuses.get('platform/api'))?.startsWith('True') ? true : undefined));

    // Arrange: every ListFunctions in the region is refused for a while.
    emulator.runtime.faults.configure({
      forced: [{ api: 'ListFunctions', error: 'AccessDeniedException', status: 403, count: 1000 }],
    });

    // Act
    manager.queue.add(`region/${REGION}`);

    // Assert: Ready=False naming AWS; the key is retried with backoff, not dropped.
    const status = await until('AwsUnavailable', () => {
      const s = sink.statuses.get('platform/api');
      return ready(s) === 'False/AwsUnavailable' ? s : undefined;
    });
    expect(status.conditions?.find((c) => c.type === 'Ready')?.message).toContain(REGION);
    expect(status.summary?.matched).toBe(1);
    await until('the key retried with backoff', () =>
      manager.queue.numRequeues(`region/${REGION}`) > 0 ? true : undefined,
    );

    // Act: AWS answers again; the backoff's next attempt (1 s) succeeds.
    emulator.runtime.faults.configure({});

    // Assert
    await until('Ready=True again', () =>
      ready(sink.statuses.get('platform/api'))?.startsWith('True') ? true : undefined,
    );
  });

  it('a suspended policy reads nothing, writes nothing and says Suspended', async () => {
    await until('first fix', () => (fn('orders-api')?.memorySize === 1024 ? true : undefined));
    const writesBefore = writes();

    await writeFile(join(dir, 'api.yaml'), policyYaml(2048).replace('interval: 30s', 'interval: 30s\n  suspend: true'));

    await until('Suspended', () => (ready(sink.statuses.get('platform/api')) === 'True/Suspended' ? true : undefined));
    expect(fn('orders-api')?.memorySize).toBe(1024);
    expect(writes()).toBe(writesBefore);
  });

  it('an overlap is decided by priority; the loser reports the field as Overridden, not as drift', async () => {
    await writeFile(
      join(dir, 'strict.yaml'),
      `apiVersion: lambdapolicy.io/v1alpha1
kind: LambdaPolicy
metadata: { name: strict, namespace: orders }
spec:
  priority: 200
  selector: { regions: [${REGION}], functionNames: ["orders-*"], tags: { tier: api } }
  settings: { memorySize: 4096 }
`,
    );

    await until('the winner enforced', () => (fn('orders-api')?.memorySize === 4096 ? true : undefined));
    const loser = await until('the loser settled', () => {
      const s = sink.statuses.get('platform/api');
      return s?.functions?.[0]?.state === 'Overridden' ? s : undefined;
    });
    expect(fn('orders-api')?.timeout).toBe(10);
    expect(loser.summary).toMatchObject({ matched: 1, drifted: 0, overridden: 1 });
    expect(loser.functions?.[0]?.message).toContain('orders/strict');
  });

  it('a fix made while status cannot be written is reported (count and Event) once status can be written', async () => {
    // Arrange: converged; then the API server goes away (every status write fails) and someone changes the function
    const settled = await until('Ready=True/Compliant', () => {
      const s = sink.statuses.get('platform/api');
      return ready(s) === 'True/Compliant' ? s : undefined;
    });
    const remediatedBefore = settled.summary?.remediated ?? 0;
    const eventsBefore = sink.events.length;
    const write = sink.writeStatus.bind(sink);
    let apiServerUp = false;
    sink.writeStatus = async (policy, previous, status) => {
      if (!apiServerUp) throw new Error('connect ECONNREFUSED (the API server is away)');
      return write(policy, previous, status);
    };
    await emulatorAdmin(emulator.url, 'POST', `functions/${REGION}/orders-api`, { memorySize: 512 });

    // Act: the controller fixes AWS while it cannot report, and checks again (in sync); then the API server is back
    const passesBefore = passes.length;
    manager.queue.add(`region/${REGION}`);
    const fixedIn = await until('the pass that fixes AWS during the outage', () => {
      const i = passes.findIndex((p, j) => j >= passesBefore && p.executions.some((e) => e.outcomes.length > 0));
      return i >= 0 ? i : undefined;
    });
    await until('a pass in sync after the fix', () =>
      passes.slice(fixedIn + 1).some((p) => p.plan.functions.every((f) => f.actions.length === 0)) ? true : undefined,
    );
    expect(fn('orders-api')?.memorySize).toBe(1024);
    apiServerUp = true;
    manager.queue.add(`region/${REGION}`);

    // Assert: the fix is counted once and its Event recorded
    const reported = await until('the fix reported', () => {
      const s = sink.statuses.get('platform/api');
      return s?.summary?.remediated === remediatedBefore + 1 ? s : undefined;
    });
    expect(ready(reported)).toMatch(/^True\//);
    expect(sink.events.slice(eventsBefore).map((e) => e.reason)).toContain('Remediated');
    const passesReported = passes.length;
    manager.queue.add(`region/${REGION}`);
    await until('one more pass', () => (passes.length > passesReported ? true : undefined));
    expect(sink.statuses.get('platform/api')?.summary?.remediated).toBe(remediatedBefore + 1);
  });

  it('what AWS would refuse is reported (Stalled, Infeasible) and never written', async () => {
    await writeFile(
      join(dir, 'api.yaml'),
      policyYaml(1024).replace('timeout: 10 }', 'timeout: 10, reservedConcurrency: 950 }'),
    );

    const status = await until('Stalled', () => {
      const s = sink.statuses.get('platform/api');
      return s?.conditions?.find((c) => c.type === 'Stalled' && c.status === 'True') ? s : undefined;
    });
    expect(status.summary?.infeasible).toBe(1);
    expect(status.functions?.[0]).toMatchObject({ name: 'orders-api', state: 'Infeasible' });
    expect(status.functions?.[0]?.message).toContain('UnreservedFloor');
    expect(emulator.runtime.writes.filter((w) => w.api === 'PutFunctionConcurrency')).toEqual([]);
  });
});

describe('Manager with a policy over two regions', () => {
  const US = 'us-east-1';
  let dir: string;
  let emulator: Emulator;
  let aws: Aws;
  let source: FilePolicySource;
  let written: LambdaPolicyStatus[];
  let passes: string[];
  let manager: Manager;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'lpc-manager-'));
    await writeFile(
      join(dir, 'api.yaml'),
      policyYaml(1024).replace(`regions: [${REGION}]`, `regions: [${REGION}, ${US}]`),
    );
    emulator = await startEmulator({
      port: 0,
      seed: { ...SEED, functions: [...SEED.functions, ORDERS_API_US] },
      tickMs: 0,
    });
    aws = createAws({ regions: [REGION, US], endpoint: emulator.url, rates: { lambda: 100 } });
    source = new FilePolicySource([dir], { debounceMs: 50 });
    written = [];
    passes = [];
    const sink = new MemoryStatusSink();
    const record = sink.writeStatus.bind(sink);
    sink.writeStatus = async (policy, previous, status) => {
      const wrote = await record(policy, previous, status);
      if (wrote) written.push(status);
      return wrote;
    };
    manager = new Manager({
      source,
      aws,
      defaultRegions: [REGION],
      sink,
      recheckAfterWritesMs: 100,
      execute: { pollIntervalMs: 50 },
      onPass: (region) => passes.push(region),
    });
  });

  afterEach(async () => {
    await manager.stop();
    await source.stop();
    aws.destroy();
    await emulator.stop();
    await rm(dir, { recursive: true, force: true });
  });

  const readyReasons = () => written.map(ready).filter((r, i, all) => r !== all[i - 1]);

  it('is not Ready until both regions are checked: the first status says which region is pending', async () => {
    // Act
    await source.start();
    manager.start();

    // Assert
    await until('Ready=True', () => (readyReasons().at(-1)?.startsWith('True') ? true : undefined));
    const first = written[0]?.conditions?.find((c) => c.type === 'Reconciling');
    expect(first).toMatchObject({ status: 'True', reason: 'RegionsPending' });
    expect(first?.message).toMatch(new RegExp(`not yet checked at generation .*: (${REGION}|${US})$`));
    expect(written[0]?.conditions?.find((c) => c.type === 'Ready')?.status).not.toBe('True');
    // each region fixed its orders-api once: both counted, though the two passes may finish at the same moment
    await until('remediated counts both regions', () => (written.at(-1)?.summary?.remediated === 2 ? true : undefined));
  });

  it('while one region fails, says AwsUnavailable whichever region reports, without flapping', async () => {
    // Arrange: us-east-1 refuses ListFunctions for its first passes (3 attempts each, then 1 s, 2 s backoff)
    emulator.runtime.faults.configure({
      forced: [{ api: 'ListFunctions', error: 'ServiceException', region: US, count: 9 }],
    });
    await source.start();
    manager.start();
    await until('AwsUnavailable', () => (readyReasons().includes('False/AwsUnavailable') ? true : undefined));

    // Act: the healthy region is checked again during the outage (as its interval would)
    const passesBefore = passes.length;
    manager.queue.add(`region/${REGION}`);
    await until('a pass over the healthy region', () => (passes.length > passesBefore ? true : undefined));

    // Assert: that pass did not overwrite the outage; recovery ends it
    expect(ready(written.at(-1))).toBe('False/AwsUnavailable');
    await until('Ready=True', () => (readyReasons().at(-1)?.startsWith('True') ? true : undefined), 30_000);
    const reasons = readyReasons();
    expect(
      reasons.filter((r, i) => reasons.indexOf(r) < i),
      reasons.join(' -> '),
    ).toEqual([]);
    const outage = written.find((s) => ready(s) === 'False/AwsUnavailable');
    expect(outage?.conditions?.find((c) => c.type === 'Ready')?.message).toContain(`AWS in ${US}`);
    expect(emulator.state().regions[REGION]?.functions.find((f) => f.name === 'orders-api')?.memorySize).toBe(1024);
  });
});
