/**
 * Argo CD's health of a LambdaPolicy, computed by Argo CD's own Lua runtime (hack/argocd-health: the argo-cd Go
 * module's util/lua, as its resource_customizations tests run it), and kstatus' verdict (sigs.k8s.io/cli-utils,
 * what Flux waits on) over the same objects:
 * - the fixtures of the chart's upstream-shaped contribution (charts/lambda-policy-controller/argocd);
 * - objects a real kube-apiserver and the real controller produced: a policy no controller has visited, an
 *   Audit policy that finds drift, a policy the controller cannot use (Stalled), a policy mid-remediation, a
 *   policy whose only finding is a failed check.
 * The two must agree on every object.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import type { LambdaPolicy, LambdaPolicySpec } from '../../../src/api/schema.ts';
import {
  applyPolicy,
  findPolicy,
  newNamespace,
  startClusterWithCrd,
  statusOf,
  watchPolicy,
} from '../controller/support/cluster.ts';
import { ControllerProcess } from '../controller/support/controller-process.ts';
import { EU, seedFunction, startFleet, US } from '../controller/support/fleet.ts';
import { waitFor } from '../controller/support/wait.ts';
import { type ControlPlane, REPO_ROOT } from '../harness/index.ts';

const CONTRIBUTION = join(REPO_ROOT, 'charts', 'lambda-policy-controller', 'argocd');
const BUILD = join(REPO_ROOT, 'hack', 'argocd-health', 'build.sh');

interface Verdict {
  status: string;
  message: string;
}
interface Evaluation {
  input: string;
  expected?: Verdict;
  argocd: Verdict;
  kstatus: Verdict;
  error?: string;
}

/** Argo CD health -> the kstatus statuses that mean the same. */
const SAME: Record<string, readonly string[]> = {
  Healthy: ['Current'],
  Suspended: ['Current'],
  Progressing: ['InProgress', 'Terminating'],
  Degraded: ['Failed'],
};

let binary = '';
let cluster: ControlPlane;
const scratch = mkdtempSync(join(tmpdir(), 'lpc-argocd-'));

beforeAll(async () => {
  // Cached in ~/.cache/lambda-policy-controller after the first build (several minutes: Argo CD is a big module).
  const build = spawnSync('bash', [BUILD], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (build.status !== 0) throw new Error(`hack/argocd-health/build.sh failed:\n${build.stderr}`);
  binary = build.stdout.trim().split('\n').at(-1) ?? '';
  cluster = await startClusterWithCrd();
}, 3_600_000);

afterAll(async () => {
  await cluster?.stop();
  rmSync(scratch, { recursive: true, force: true });
});

/** Runs the runner over the contribution's tests and the given objects (written as YAML files). */
function evaluate(objects: Record<string, unknown> = {}): { code: number; results: Evaluation[]; stderr: string } {
  const files = Object.entries(objects).map(([name, object]) => {
    const file = join(scratch, `${name}.json`);
    writeFileSync(file, JSON.stringify(object));
    return file;
  });
  const run = spawnSync(binary, [CONTRIBUTION, ...files], { encoding: 'utf8' });
  const results = run.stdout
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Evaluation);
  return { code: run.status ?? -1, results, stderr: run.stderr };
}

function expectAgreement(result: Evaluation | undefined): void {
  expect(result?.error, result?.input).toBeUndefined();
  expect(SAME[result?.argocd.status ?? ''] ?? [], JSON.stringify(result)).toContain(result?.kstatus.status);
}

describe('Argo CD health (Argo CD runtime) and kstatus', () => {
  it('the contribution: Argo CD gives every health_test.yaml verdict, and kstatus agrees on every fixture', () => {
    const { code, results, stderr } = evaluate();

    const tests = (parse(readText(join(CONTRIBUTION, 'health_test.yaml'))) as { tests: unknown[] }).tests;
    expect(results).toHaveLength(tests.length);
    for (const result of results) {
      expect(result.argocd, result.input).toEqual(result.expected);
      expectAgreement(result);
    }
    expect(code, stderr).toBe(0);
  });

  it('objects the API server and the controller produced: both read each the same way', async () => {
    // Arrange: a fleet with drift for an Audit policy and for an Enforce policy; writes stay InProgress a while
    const fleet = await startFleet([
      seedFunction(EU, 'audit-fn', { memorySize: 512, tags: { tier: 'audit' } }),
      seedFunction(EU, 'fix-fn', { memorySize: 512, tags: { tier: 'fix' } }),
      seedFunction(US, 'fix-fn', { memorySize: 512, tags: { tier: 'fix' } }),
      seedFunction(EU, 'legacy-fn', { runtime: 'nodejs18.x', tags: { tier: 'legacy' } }),
    ]);
    const ns = await newNamespace(cluster, 'argocd-health');
    const audit: LambdaPolicySpec = {
      mode: 'Audit',
      interval: '30s',
      selector: { tags: { tier: 'audit' } },
      settings: { memorySize: 1024 },
    };
    // Only a check fails: checked (Ready) and not Compliant, reason Violations.
    const violating: LambdaPolicySpec = {
      mode: 'Enforce',
      interval: '30s',
      selector: { tags: { tier: 'legacy' } },
      settings: {},
      checks: { runtime: { deprecatedWithinDays: 30 } },
    };
    const stalled = parse(readText(join(REPO_ROOT, 'test', 'fixtures', 'invalid-policies', '31-timezone-unknown.yaml')))
      .spec as LambdaPolicySpec;
    // Two regions: the first region's report says Reconciling (RegionsPending) until the second is checked too.
    const enforce: LambdaPolicySpec = {
      interval: '30s',
      selector: { regions: [EU, US], tags: { tier: 'fix' } },
      settings: { memorySize: 2048 },
    };

    // Act: a policy before any controller runs; then the controller's view of each
    await applyPolicy(cluster, ns, 'audit', audit);
    const unvisited = await findPolicy(cluster, ns, 'audit');
    const controller = await ControllerProcess.start({
      name: 'argocd-health',
      kubeconfig: cluster.kubeconfigPath,
      awsEndpoint: fleet.url,
      regions: [EU, US],
      namespace: ns,
    });
    await applyPolicy(cluster, ns, 'invalid', stalled);
    await applyPolicy(cluster, ns, 'violating', violating);
    // Every version of the Enforce policy: the remediating one may be replaced by the confirmed one within a second.
    const enforceWatch = await watchPolicy(cluster, ns, 'enforce', () => undefined);
    await applyPolicy(cluster, ns, 'enforce', enforce);
    const seen: Record<string, LambdaPolicy> = {};
    const last: Record<string, unknown> = {};
    await waitFor(
      'each state to be seen: Audit checked, invalid stalled, Enforce remediating, checks violated',
      async () => {
        for (const name of ['audit', 'invalid', 'enforce', 'violating']) {
          const policy = await findPolicy(cluster, ns, name);
          if (!policy) continue;
          const status = statusOf(policy);
          last[name] = { generation: policy.metadata.generation, status };
          const isTrue = (type: string) =>
            (status.conditions ?? []).some((c) => c.type === type && c.status === 'True');
          if (status.observedGeneration !== policy.metadata.generation) continue;
          if (name === 'audit' && (status.summary?.drifted ?? 0) > 0 && !isTrue('Reconciling')) seen.audit = policy;
          if (name === 'invalid' && isTrue('Stalled')) seen.invalid = policy;
          if (name === 'violating' && (status.summary?.violating ?? 0) > 0 && !isTrue('Reconciling'))
            seen.violating = policy;
        }
        const remediating = enforceWatch.events
          .map((e) => e.object)
          .find((p) => {
            const status = statusOf(p);
            return (
              status.observedGeneration === p.metadata.generation &&
              (status.conditions ?? []).some((c) => c.type === 'Reconciling' && c.status === 'True')
            );
          });
        if (remediating) seen.enforce = remediating;
        return ['audit', 'invalid', 'enforce', 'violating'].every((name) => seen[name] !== undefined);
      },
      { timeoutMs: 90_000, intervalMs: 100, describe: () => JSON.stringify({ seen: Object.keys(seen), last }) },
    );
    enforceWatch.stop();
    await controller.stop();

    // Assert
    const { results } = evaluate({ unvisited, ...seen });
    const byName = (name: string) => results.find((r) => r.input.endsWith(`${name}.json`));
    for (const name of ['unvisited', 'audit', 'invalid', 'enforce', 'violating']) expectAgreement(byName(name));
    expect(byName('unvisited')).toMatchObject({ argocd: { status: 'Progressing' }, kstatus: { status: 'InProgress' } });
    expect(byName('invalid')).toMatchObject({ argocd: { status: 'Degraded' }, kstatus: { status: 'Failed' } });
    expect(byName('invalid')?.argocd.message).toContain('unknown time zone');
    expect(byName('enforce')).toMatchObject({ argocd: { status: 'Progressing' }, kstatus: { status: 'InProgress' } });
    // Ready vs Compliant: drift an Audit policy finds is reported, never ill health, in both tools.
    expect(byName('audit')).toMatchObject({ argocd: { status: 'Healthy' }, kstatus: { status: 'Current' } });
    expect(byName('audit')?.argocd.message).toBe('Drifted: 0 of 1 matched functions compliant; 1 drifted');
    // A check that fails is for people to fix: Healthy and Current, the reason says Violations.
    expect(byName('violating')).toMatchObject({ argocd: { status: 'Healthy' }, kstatus: { status: 'Current' } });
    expect(byName('violating')?.argocd.message).toBe(
      'Violations: 0 of 1 matched functions compliant; 1 violate checks',
    );
    if (process.env.UPDATE_ARGOCD_FIXTURES === '1') writeFixtures({ unvisited, ...seen });
  });
});

/** Writes the objects into the contribution's testdata as `e2e_<name>.yaml`, without server-only metadata. */
function writeFixtures(objects: Record<string, LambdaPolicy | undefined>): void {
  for (const [name, object] of Object.entries(objects)) {
    if (!object) continue;
    const { name: objectName, namespace, generation, deletionTimestamp } = object.metadata;
    const clean = {
      apiVersion: object.apiVersion,
      kind: object.kind,
      metadata: { name: objectName, namespace, generation, ...(deletionTimestamp ? { deletionTimestamp } : {}) },
      spec: object.spec,
      ...(object.status ? { status: object.status } : {}),
    };
    const header = `# Written by test/e2e/argocd/health.test.ts (UPDATE_ARGOCD_FIXTURES=1): a LambdaPolicy as the API server\n# and the controller left it (${name}).\n`;
    writeFileSync(join(CONTRIBUTION, 'testdata', `e2e_${name}.yaml`), header + stringify(clean));
  }
}

function readText(path: string): string {
  return readFileSync(path, 'utf8');
}
