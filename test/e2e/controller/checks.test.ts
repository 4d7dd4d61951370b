/**
 * The production settings and checks through the real controller process, a real kube-apiserver (the generated CRD
 * accepts the new spec fields and the violations in status) and the emulator: logging, tracing and log retention
 * are enforced; checks are reported per function as Violating with {check, actual, message}; a seeded credential
 * never reaches the status object, the Events or the controller's log.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LambdaPolicySpec } from '../../../src/api/schema.ts';
import type { ControlPlane } from '../harness/index.ts';
import { writesOutsideClusterGrants } from '../harness/write-grants.ts';
import { applyPolicy, condition, getPolicy, newNamespace, startClusterWithCrd, statusOf } from './support/cluster.ts';
import { ControllerProcess } from './support/controller-process.ts';
import { EU, seedFunction, startFleet } from './support/fleet.ts';
import { waitFor } from './support/wait.ts';

// Invented, shaped like an AWS secret access key; assembled so no scanner sees it in this file.
const SECRET = ['q9Xv2LmT8rB4nZ7kW1pY', '5sD3fH6jG0cU2aE8iO4t'].join('');

let cluster: ControlPlane;
beforeAll(async () => {
  cluster = await startClusterWithCrd();
});
afterAll(async () => {
  await cluster?.stop();
});

describe('production settings and checks in a cluster', () => {
  it('enforces logging, tracing and retention in one pass, and reports violations by name only', async () => {
    // Arrange
    const fleet = await startFleet([
      seedFunction(EU, 'shop-api', { tags: { tier: 'api' }, runtime: 'nodejs24.x', logRetentionDays: 'Never' }),
      seedFunction(EU, 'shop-legacy', {
        tags: { tier: 'api' },
        runtime: 'nodejs18.x',
        environment: { SIGNING_SECRET: SECRET, TABLE: 'shop' },
        logRetentionDays: 7,
      }),
    ]);
    const ns = await newNamespace(cluster, 'checks');
    const controller = await ControllerProcess.start({
      name: ns,
      kubeconfig: cluster.kubeconfigPath,
      awsEndpoint: fleet.url,
      namespace: ns,
      regions: [EU],
    });
    const spec: LambdaPolicySpec = {
      mode: 'Enforce',
      interval: '30s',
      selector: { tags: { tier: 'api' } },
      settings: {
        logging: { format: 'JSON', applicationLogLevel: 'INFO', systemLogLevel: 'WARN' },
        tracing: 'Active',
        logRetentionDays: 14,
      },
      checks: { runtime: { deprecatedWithinDays: 30 }, noSecretsInEnvironment: true },
    };

    // Act
    await applyPolicy(cluster, ns, 'baseline', spec);

    // Assert: the settings are in AWS, one configuration write per function
    const policy = await waitFor(
      'status listing shop-legacy as Violating and shop-api in line',
      async () => {
        const p = await getPolicy(cluster, ns, 'baseline');
        const fns = statusOf(p).functions ?? [];
        const legacy = fns.find((f) => f.name === 'shop-legacy');
        const api = fns.find((f) => f.name === 'shop-api');
        return legacy?.state === 'Violating' && api?.state === 'Compliant' ? p : undefined;
      },
      { timeoutMs: 90_000 },
    );
    const configWrites = fleet.writes().filter((w) => w.api === 'UpdateFunctionConfiguration');
    expect(configWrites.map((w) => w.function).sort()).toEqual(['shop-api', 'shop-legacy']);
    expect(fleet.writes().filter((w) => w.api === 'PutRetentionPolicy')).toHaveLength(2);
    expect(await writesOutsideClusterGrants(cluster, fleet.emulator, { defaultRegions: [EU] })).toEqual([]);

    // Assert: what kubectl shows
    const status = statusOf(policy);
    const legacy = status.functions?.find((f) => f.name === 'shop-legacy');
    expect(legacy?.violations?.map((v) => [v.check, v.actual])).toEqual([
      ['runtime', 'nodejs18.x'],
      ['noSecretsInEnvironment', 'SIGNING_SECRET'],
    ]);
    expect(status.summary).toMatchObject({ matched: 2, violating: 1, drifted: 0, failed: 0 });
    // Checked (Ready) and not Compliant: violations are for people to fix, so health stays Healthy (Current).
    expect(condition(policy, 'Ready')).toMatchObject({ status: 'True' });
    expect(condition(policy, 'Compliant')).toMatchObject({ status: 'False', reason: 'Violations' });
    expect(condition(policy, 'Stalled')).toMatchObject({ status: 'False' });
    expect(condition(policy, 'Reconciling')).toMatchObject({ status: 'False' });

    // Assert: the value is nowhere the user or an operator looks
    const events = await cluster.kubectl(['get', 'events', '-n', ns, '-o', 'json']);
    const everything = [
      JSON.stringify(policy),
      events.stdout,
      controller.log(),
      fleet
        .writes()
        .map((w) => JSON.stringify(w))
        .join('\n'),
    ].join('\n');
    expect(everything).toContain('SIGNING_SECRET');
    for (const probe of [SECRET, SECRET.slice(0, 8), SECRET.slice(-8)]) expect(everything).not.toContain(probe);
  });
});
