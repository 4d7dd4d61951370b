/**
 * Warning Events and logs end to end: `lambda-policy-controller run` against a real kube-apiserver and the
 * emulator. Entering a state a person must look at (InvalidPolicy, AwsUnavailable, RolloutPaused) is one Warning
 * Event however many passes it lasts; entering it again bumps the same Event's series count instead of creating
 * another object. The controller's JSON log has level labels and ISO times, and each AWS write is one info record
 * naming the policy, the function and `field old -> new`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LambdaPolicySpec } from '../../../src/api/schema.ts';
import type { ControlPlane } from '../harness/index.ts';
import { applyPolicy, condition, getPolicy, newNamespace, startClusterWithCrd } from './support/cluster.ts';
import { ControllerProcess } from './support/controller-process.ts';
import { EU, type Fleet, seedFunction, startFleet } from './support/fleet.ts';
import { waitFor } from './support/wait.ts';

let cluster: ControlPlane;

beforeAll(async () => {
  cluster = await startClusterWithCrd();
});

afterAll(async () => {
  await cluster?.stop();
});

interface EventItem {
  type: string;
  reason: string;
  note: string;
  action: string;
  reportingController: string;
  series?: { count: number };
  regarding: { kind: string; name: string; uid?: string };
}

async function warnings(ns: string, policy: string, reason: string): Promise<EventItem[]> {
  const list = await cluster.kubectlJson<{ items: EventItem[] }>(['get', 'events.events.k8s.io', '-n', ns]);
  return list.items.filter((e) => e.regarding.name === policy && e.reason === reason && e.type === 'Warning');
}

async function conditionReason(ns: string, name: string, type: string, reason: string, timeoutMs = 120_000) {
  return waitFor(
    `${name}: ${type} reason ${reason}`,
    async () => {
      const p = await getPolicy(cluster, ns, name);
      return condition(p, type)?.reason === reason ? p : undefined;
    },
    { timeoutMs },
  );
}

const passes = (c: ControllerProcess) => c.entries().filter((e) => e.msg === 'region checked').length;

/**
 * Makes the controller pass over the region `n` more times (a spec edit of a policy matching nothing wakes the
 * region key at once), so "one Event, not one per pass" is checked over real passes.
 */
async function morePasses(c: ControllerProcess, ns: string, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    const before = passes(c);
    await applyPolicy(cluster, ns, 'poke', {
      mode: 'Audit',
      selector: { regions: [EU], functionNames: ['no-such-function'] },
      settings: { timeout: 10 + ((before + i) % 800) },
    });
    await waitFor('another pass', () => (passes(c) > before ? true : undefined));
  }
}

function start(ns: string, fleet: Fleet): Promise<ControllerProcess> {
  return ControllerProcess.start({
    name: ns,
    kubeconfig: cluster.kubeconfigPath,
    awsEndpoint: fleet.url,
    namespace: ns,
    regions: [EU],
  });
}

const invalidSpec = (timezone: string): LambdaPolicySpec => ({
  mode: 'Enforce',
  interval: '30s',
  selector: { regions: [EU], functionNames: ['api-*'] },
  settings: {
    memorySize: 1024,
    provisionedConcurrency: {
      qualifier: 'live',
      value: 0,
      windows: [{ name: 'day', start: '0 8 * * *', end: '0 18 * * *', timezone, value: 1 }],
    },
  },
});

describe('Warning Events on entering a state a person must look at', () => {
  it('an invalid policy: exactly one InvalidPolicy Warning over many passes; breaking it again counts, no new object', async () => {
    const fleet = await startFleet([seedFunction(EU, 'other-fn')]);
    const ns = await newNamespace(cluster, 'ev-invalid');
    const controller = await start(ns, fleet);

    await applyPolicy(cluster, ns, 'bad', invalidSpec('Mars/Olympus_Mons'));
    const stalled = await conditionReason(ns, 'bad', 'Stalled', 'InvalidPolicy');
    expect(condition(stalled, 'Stalled')?.message).toContain('unknown time zone "Mars/Olympus_Mons"');
    await morePasses(controller, ns, 3);

    const first = await waitFor('one InvalidPolicy Event', async () => {
      const items = await warnings(ns, 'bad', 'InvalidPolicy');
      return items.length > 0 ? items : undefined;
    });
    expect(first).toHaveLength(1);
    expect(first[0]).toMatchObject({
      action: 'Reconcile',
      reportingController: 'lambdapolicy.io/controller',
      regarding: { kind: 'LambdaPolicy', name: 'bad', uid: stalled.metadata.uid },
    });
    expect(first[0]?.note).toContain('unknown time zone "Mars/Olympus_Mons"');
    expect(first[0]?.series).toBeUndefined();

    // fixed: no Event for leaving the state
    await applyPolicy(cluster, ns, 'bad', invalidSpec('UTC'));
    await waitFor('Stalled=False', async () =>
      condition(await getPolicy(cluster, ns, 'bad'), 'Stalled')?.status === 'False' ? true : undefined,
    );
    // broken again the same way: the same Event, its series count 2
    await applyPolicy(cluster, ns, 'bad', invalidSpec('Mars/Olympus_Mons'));
    await conditionReason(ns, 'bad', 'Stalled', 'InvalidPolicy');
    const again = await waitFor('the series count at 2', async () => {
      const items = await warnings(ns, 'bad', 'InvalidPolicy');
      return items[0]?.series?.count === 2 ? items : undefined;
    });
    expect(again).toHaveLength(1);
    await morePasses(controller, ns, 2);
    expect(await warnings(ns, 'bad', 'InvalidPolicy')).toHaveLength(1);
    expect(await controller.metric('lpc_events_total', { type: 'Warning', reason: 'InvalidPolicy' })).toBe(2);
  });

  it('an AWS outage: one AwsUnavailable Warning while passes keep failing; the remediation before it is logged', async () => {
    const fleet = await startFleet([seedFunction(EU, 'api-orders', { memorySize: 512 })]);
    const ns = await newNamespace(cluster, 'ev-outage');
    const controller = await start(ns, fleet);

    await applyPolicy(cluster, ns, 'memory', {
      mode: 'Enforce',
      interval: '30s',
      selector: { regions: [EU], functionNames: ['api-*'] },
      settings: { memorySize: 1024 },
    });
    const remediated = await controller.waitForLog('remediated api-orders: memorySize 512 -> 1024');
    expect(remediated).toMatchObject({
      level: 'info',
      policy: `${ns}/memory`,
      region: EU,
      function: 'api-orders',
      field: 'memorySize',
      api: 'UpdateFunctionConfiguration',
      change: 'memorySize 512 -> 1024',
    });
    await conditionReason(ns, 'memory', 'Ready', 'Compliant');

    // every AWS call fails (the SDK's retries too): each pass fails, the queue backs off and retries
    fleet.emulator.runtime.faults.configure({ errorRate: { '*': 1 } });
    const failedPasses = () => controller.entries().filter((e) => e.msg === 'reconcile failed; retrying with backoff');
    await applyPolicy(cluster, ns, 'poke', {
      mode: 'Audit',
      selector: { regions: [EU], functionNames: ['no-such-function'] },
      settings: { timeout: 5 },
    });
    const unavailable = await conditionReason(ns, 'memory', 'Ready', 'AwsUnavailable');
    expect(condition(unavailable, 'Ready')?.status).toBe('False');
    await waitFor('three failed passes', () => (failedPasses().length >= 3 ? true : undefined), {
      timeoutMs: 120_000,
    });
    const items = await warnings(ns, 'memory', 'AwsUnavailable');
    expect(items).toHaveLength(1);
    expect(items[0]?.note).toContain(`AWS in ${EU}`);
    expect(items[0]?.series).toBeUndefined();

    // every record is pino JSON with a level label and an ISO 8601 time
    const entries = controller.entries();
    expect(entries.length).toBeGreaterThan(5);
    for (const e of entries) {
      expect(['trace', 'debug', 'info', 'warn', 'error']).toContain(e.level);
      expect(new Date(String(e.time)).toISOString()).toBe(e.time);
    }
  });

  it('a paused rollout: one RolloutPaused Warning while it stays paused', async () => {
    const names = Array.from({ length: 12 }, (_, i) => `api-${String(i).padStart(2, '0')}`);
    const fleet = await startFleet(names.map((n) => seedFunction(EU, n, { memorySize: 128 })));
    const ns = await newNamespace(cluster, 'ev-paused');
    const controller = await start(ns, fleet);

    // 12 of 12 functions would change: above the default guard (25%, more than 10)
    await applyPolicy(cluster, ns, 'wide', {
      mode: 'Enforce',
      interval: '30s',
      selector: { regions: [EU], functionNames: ['api-*'] },
      settings: { memorySize: 256 },
    });
    await conditionReason(ns, 'wide', 'Stalled', 'RolloutPaused');
    await morePasses(controller, ns, 3);
    const items = await warnings(ns, 'wide', 'RolloutPaused');
    expect(items).toHaveLength(1);
    expect(items[0]?.note).toContain('would change 12 of 12 matched functions');
    expect(items[0]?.series).toBeUndefined();
    expect(fleet.writes().filter((w) => w.api === 'UpdateFunctionConfiguration')).toEqual([]);
  });
});
