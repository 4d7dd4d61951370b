/**
 * The product installed the way a user installs it: the image built from the Dockerfile (hack/build-image.sh), the
 * packaged chart installed with helm on a real node (kubelet, containerd, kube-proxy, CNI: harness/node.ts), two
 * controller pods against the AWS emulator, which runs on the host at the node network's host address. The tests
 * run in order on one release: install, enforce, the demo fleet's RSS, leader hand-over, a rolling upgrade, `helm
 * test`, signals as PID 1, uninstall.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { type Emulator, loadSeedFile, startEmulator, type WriteLogEntry } from '../../../src/emulator/index.ts';
import { statusOf, waitPolicyReady } from '../controller/support/cluster.ts';
import { waitFor } from '../controller/support/wait.ts';
import { REPO_ROOT } from '../harness/index.ts';
import { type NodeCluster, startNodeCluster } from '../harness/node.ts';
import {
  buildNodeAndImage,
  controllerPods,
  FULLNAME,
  leaseHolder,
  NAMESPACE,
  type PodView,
  packageChart,
  RELEASE,
  writerRuns,
} from './support/install.ts';

const EXAMPLES = join(REPO_ROOT, 'examples');
const IMAGE_REPOSITORY = 'lambda-policy-controller';
const IMAGE_TAG = (JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
const ROLLOUT_TIMEOUT_MS = 240_000;

let cluster: NodeCluster;
let emulator: Emulator;
let scratch: string;
let chart: string;

/** Values as a platform team would set them; AWS_ACCESS_KEY_ID = the pod's name, so the write log names the writer. */
function values(extra: Record<string, unknown> = {}): string {
  return stringify({
    replicaCount: 2,
    image: { repository: IMAGE_REPOSITORY, tag: IMAGE_TAG, pullPolicy: 'Never' },
    aws: { regions: ['eu-central-1', 'us-east-1'], endpoint: emulator.url },
    extraEnv: [
      { name: 'AWS_ACCESS_KEY_ID', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
      { name: 'AWS_SECRET_ACCESS_KEY', value: 'emulator' },
    ],
    // The demo fleet starts out of line everywhere (one example policy changes all 20 functions it matches), which the
    // default blast-radius guard (25%) would pause for approval; these tests are about the install, not the guard.
    safety: { maxChangesPercent: 100 },
    ...extra,
  });
}

async function helmWithValues(args: readonly string[], valuesYaml: string) {
  return cluster.helm([...args, '--values', '-'], { input: valuesYaml, timeoutMs: ROLLOUT_TIMEOUT_MS + 30_000 });
}

/** Two controller pods Running and Ready (none terminating), one of them holding the Lease. */
async function waitTwoReadyOneLeader(): Promise<{ pods: PodView[]; leader: string; standby: string }> {
  let seen: unknown;
  return waitFor(
    '2 controller pods Ready, one holding the Lease',
    async () => {
      const pods = (await controllerPods(cluster.client)).filter((p) => !p.deleting);
      const leader = await leaseHolder(cluster.client).catch(() => undefined);
      seen = { pods, leader };
      if (pods.length !== 2 || !pods.every((p) => p.ready && p.phase === 'Running')) return undefined;
      const standby = pods.find((p) => p.name !== leader)?.name;
      if (!leader || !pods.some((p) => p.name === leader) || !standby) return undefined;
      return { pods, leader, standby };
    },
    { timeoutMs: ROLLOUT_TIMEOUT_MS, intervalMs: 1_000, describe: () => JSON.stringify(seen) },
  );
}

function writesSince(mark: number): WriteLogEntry[] {
  return emulator.runtime.writes.filter((w) => w.seq > mark);
}

function lastSeq(): number {
  return emulator.runtime.writes.at(-1)?.seq ?? 0;
}

function memoryOf(region: string, name: string): number | undefined {
  return emulator.state().regions[region]?.functions.find((f) => f.name === name)?.memorySize;
}

async function setPaymentsMemory(memorySize: number): Promise<void> {
  await cluster.kubectl([
    'patch',
    'lambdapolicy',
    'payments-memory',
    '-n',
    'payments',
    '--type=merge',
    '-p',
    JSON.stringify({ spec: { settings: { memorySize } } }),
  ]);
}

beforeAll(async () => {
  const { imageArchive } = buildNodeAndImage();
  cluster = await startNodeCluster({ images: [imageArchive] });
  emulator = await startEmulator({
    host: cluster.hostIp,
    seed: await loadSeedFile(join(EXAMPLES, 'fleet.yaml')),
  });
  scratch = mkdtempSync(join(tmpdir(), 'lpc-install-'));
  chart = await packageChart(cluster.client, scratch);
  await helmWithValues(
    [
      'install',
      RELEASE,
      chart,
      '--namespace',
      NAMESPACE,
      '--create-namespace',
      '--wait',
      `--timeout=${ROLLOUT_TIMEOUT_MS / 1000}s`,
    ],
    values(),
  );
}, 45 * 60_000);

afterAll(async () => {
  await emulator?.stop();
  await cluster?.stop();
  if (scratch) rmSync(scratch, { recursive: true, force: true });
}, 120_000);

describe('helm install of the packaged chart with the built image', () => {
  it('runs 2 controller pods, Running and Ready, one of them the leader', async () => {
    const { pods, leader } = await waitTwoReadyOneLeader();

    expect(pods.map((p) => p.name)).toContain(leader);
    expect(pods.every((p) => p.restarts === 0)).toBe(true);
  });

  it('runs the controller as uid 65532 on a read-only root filesystem', async () => {
    const { pods } = await waitTwoReadyOneLeader();

    for (const pod of pods) {
      const container = cluster.containerProcess(pod.containerID ?? '');
      expect({ pod: pod.name, uid: container.uid, readOnlyRoot: container.readOnlyRoot }).toEqual({
        pod: pod.name,
        uid: 65532,
        readOnlyRoot: true,
      });
    }
  });

  it('enforces a policy applied with kubectl against the emulator, and the leader pod writes its status', async () => {
    // Arrange
    const { leader } = await waitTwoReadyOneLeader();
    const mark = lastSeq();
    await cluster.kubectl(['create', 'namespace', 'payments']);

    // Act
    await cluster.kubectl(['apply', '-f', join(EXAMPLES, 'policies', 'payments.yaml')]);

    // Assert
    const policy = await waitPolicyReady(cluster.client, 'payments', 'payments-memory', { drifted: 0 }, 120_000);
    expect(statusOf(policy).summary?.matched).toBeGreaterThan(0);
    expect(memoryOf('eu-central-1', 'payments-api')).toBe(2048);
    expect(memoryOf('eu-central-1', 'payments-api-canary')).toBe(1024);
    const writes = writesSince(mark);
    expect(writes.length).toBeGreaterThan(0);
    expect(new Set(writes.map((w) => w.accessKeyId))).toEqual(new Set([leader]));
    // The status subresource was written by the controller, not by kubectl.
    const managed = await cluster.client.kubectlJson<{
      metadata: { managedFields?: { manager: string; subresource?: string }[] };
    }>(['get', 'lambdapolicy', 'payments-memory', '-n', 'payments', '--show-managed-fields']);
    const statusManagers = (managed.metadata.managedFields ?? [])
      .filter((f) => f.subresource === 'status')
      .map((f) => f.manager);
    expect(statusManagers.length).toBeGreaterThan(0);
    expect(statusManagers.some((m) => m.startsWith('kubectl'))).toBe(false);
  });

  it('converges the demo fleet under every example policy; the container RSS is reported', async () => {
    // Arrange
    for (const ns of ['platform', 'search']) await cluster.kubectl(['create', 'namespace', ns]);

    // Act
    await cluster.kubectl(['apply', '-f', join(EXAMPLES, 'policies')]);

    // Assert
    // Converged: every policy reconciled at its generation, and every Enforce policy Ready, or held only by a change
    // the controller refuses (Compliant=False, Infeasible: a person must act). The example fleet has exactly one:
    // payments-webhooks' arm64 move, refused because its java-otel layer is published for x86_64 only.
    type Listed = {
      metadata: { name: string; generation: number };
      spec: { mode?: string };
      status?: {
        observedGeneration?: number;
        conditions?: { type: string; status: string; reason?: string }[];
        functions?: { name: string; state: string; message?: string }[];
      };
    };
    const has = (p: Listed, type: string, status: string, reason?: string) =>
      p.status?.conditions?.some(
        (c) => c.type === type && c.status === status && (reason === undefined || c.reason === reason),
      ) ?? false;
    const policies = await waitFor(
      'every example policy reconciled at its generation, the Enforce ones Ready or refused as Infeasible',
      async () => {
        const list = await cluster.client.kubectlJson<{ items: Listed[] }>(['get', 'lambdapolicies', '-A']);
        const converged = list.items.every(
          (p) =>
            p.status?.observedGeneration === p.metadata.generation &&
            has(p, 'Reconciling', 'False') &&
            (p.spec.mode !== 'Enforce' || has(p, 'Ready', 'True') || has(p, 'Compliant', 'False', 'Infeasible')),
        );
        return converged && list.items.length >= 5 ? list.items : undefined;
      },
      { timeoutMs: 180_000, intervalMs: 1_000 },
    );
    expect(policies.length).toBeGreaterThanOrEqual(5);
    const refused = policies
      .filter((p) => p.spec.mode === 'Enforce')
      .flatMap((p) => (p.status?.functions ?? []).filter((f) => f.state === 'Infeasible'));
    expect(refused.map((f) => f.name)).toEqual(['payments-webhooks']);
    expect(refused[0]?.message).toMatch(/java-otel/);
    const { pods, leader } = await waitTwoReadyOneLeader();
    const deployment = await cluster.client.kubectlJson<{
      spec: { template: { spec: { containers: { resources?: { limits?: { memory?: string } } }[] } } };
    }>(['get', 'deployment', FULLNAME, '-n', NAMESPACE]);
    const limit = parseQuantity(deployment.spec.template.spec.containers[0]?.resources?.limits?.memory ?? '0');
    const rss = pods.map((pod) => ({
      pod: pod.name,
      role: pod.name === leader ? 'leader' : 'standby',
      rssMiB: Math.round(cluster.containerProcess(pod.containerID ?? '').rssBytes / 2 ** 20),
    }));
    const functions = Object.values(emulator.state().regions).reduce((n, r) => n + r.functions.length, 0);
    console.info(
      `[install e2e] container RSS at the demo fleet (${functions} functions, ${policies.length} policies): ${JSON.stringify(rss)}; limit ${limit / 2 ** 20} MiB`,
    );
    for (const { rssMiB } of rss) {
      expect(rssMiB).toBeGreaterThan(0);
      if (limit > 0) expect(rssMiB * 2 ** 20).toBeLessThan(limit);
    }
  });

  it('hands over when the leader pod is deleted, and the new leader finishes the work', async () => {
    // Arrange
    const { leader, standby } = await waitTwoReadyOneLeader();
    const mark = lastSeq();

    // Act: the leader's pod is deleted; once another pod holds the Lease, new work arrives. That is the standby as a
    // rule (the stopping leader releases the Lease); on a loaded machine the Deployment's replacement pod can win the
    // race for it, which is as good a hand-over, so the test does not depend on who wins.
    await cluster.kubectl(['delete', 'pod', leader, '-n', NAMESPACE, '--wait=false']);
    let holder: string | undefined;
    await waitFor(
      'another pod to hold the Lease',
      async () => {
        holder = await leaseHolder(cluster.client).catch(() => undefined);
        return holder !== undefined && holder !== leader;
      },
      { timeoutMs: 120_000, intervalMs: 250 },
    ).catch(async (error: unknown) => {
      // Say why: the Lease as it stands and the last words of both controllers.
      const tail = async (args: string[]) =>
        (await cluster.kubectl(args, { check: false })).stdout.split('\n').slice(-40).join('\n');
      const lease = await tail(['get', 'leases', '-n', NAMESPACE, '-o', 'yaml']);
      const logs = await Promise.all(
        [leader, standby].map(async (pod) => `--- ${pod}\n${await tail(['logs', pod, '-n', NAMESPACE, '--tail=40'])}`),
      );
      throw new Error(`${(error as Error).message}\n${lease}\n${logs.join('\n')}`, { cause: error });
    });
    const newLeader = holder ?? '';
    console.info(`[install e2e] hand-over to the ${newLeader === standby ? 'standby' : 'replacement pod'}`);
    const takeover = lastSeq();
    await setPaymentsMemory(1792);

    // Assert
    await waitPolicyReady(cluster.client, 'payments', 'payments-memory', { drifted: 0 }, 120_000);
    expect(memoryOf('eu-central-1', 'payments-api')).toBe(1792);
    const writes = writesSince(takeover);
    expect(writes.length).toBeGreaterThan(0);
    expect(new Set(writes.map((w) => w.accessKeyId))).toEqual(new Set([newLeader]));
    // Whatever the old leader still wrote while stopping came before the new leader's first write, never after.
    const runs = writerRuns(writesSince(mark).map((w) => w.accessKeyId));
    expect(new Set(runs).size, `writers in order: ${runs.join(' → ')}`).toBe(runs.length);
    expect(await leaseHolder(cluster.client)).toBe(newLeader);
    // The Deployment replaces the deleted pod: two Ready again, one of them leading.
    const after = await waitTwoReadyOneLeader();
    expect(after.leader).toBe(newLeader);
  });

  it('rolls out a helm upgrade with changed values without two writers at any time', async () => {
    // Arrange
    const before = await waitTwoReadyOneLeader();
    const oldPods = new Set(before.pods.map((p) => p.name));
    const mark = lastSeq();

    // Act: keep the leader busy (a policy change every 2 s) while the pods are replaced one by one.
    let upgrading = true;
    const upgrade = helmWithValues(
      ['upgrade', RELEASE, chart, '--namespace', NAMESPACE, '--wait', `--timeout=${ROLLOUT_TIMEOUT_MS / 1000}s`],
      values({ logLevel: 'debug', podAnnotations: { 'lpc.e2e/rollout': '2' } }),
    ).finally(() => {
      upgrading = false;
    });
    let memorySize = 1536;
    while (upgrading) {
      memorySize = memorySize === 1536 ? 1280 : 1536;
      await setPaymentsMemory(memorySize);
      await new Promise((resolve) => setTimeout(resolve, 2_000));
    }
    await upgrade;
    await setPaymentsMemory(1024);

    // Assert
    const after = await waitTwoReadyOneLeader();
    expect(after.pods.some((p) => oldPods.has(p.name))).toBe(false);
    await waitPolicyReady(cluster.client, 'payments', 'payments-memory', { drifted: 0 }, 120_000);
    expect(memoryOf('eu-central-1', 'payments-api')).toBe(1024);
    const runs = writerRuns(writesSince(mark).map((w) => w.accessKeyId));
    // One writer at a time: a writer that handed over never writes again.
    expect(new Set(runs).size, `writers in order: ${runs.join(' → ')}`).toBe(runs.length);
    expect(runs.at(-1)).toBe(after.leader);
    expect(oldPods.has(after.leader)).toBe(false);
  });

  it('passes `helm test` (the doctor preflight as a pod, against the emulator)', async () => {
    // Act
    const result = await cluster.helm(['test', RELEASE, '--namespace', NAMESPACE, '--logs', '--timeout=180s'], {
      check: false,
      timeoutMs: 200_000,
    });

    // Assert
    expect(result.exitCode, result.stdout + result.stderr).toBe(0);
    expect(result.stdout).toMatch(/Phase:\s+Succeeded/);
  });

  it('stops a one-shot `plan` on SIGTERM as PID 1 of its container (exit 143)', async () => {
    // Arrange: an "AWS" that accepts connections and never answers, so plan is mid-call when the signal comes.
    const sockets: Socket[] = [];
    const blackhole: Server = createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => blackhole.listen(0, cluster.hostIp, resolve));
    const address = blackhole.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    try {
      await cluster.client.apply(
        stringify({
          apiVersion: 'v1',
          kind: 'ConfigMap',
          metadata: { name: 'plan-policy', namespace: NAMESPACE },
          data: { 'policy.yaml': readFileSync(join(EXAMPLES, 'policies', 'payments.yaml'), 'utf8') },
        }),
      );
      await cluster.client.apply(
        stringify({
          apiVersion: 'v1',
          kind: 'Pod',
          metadata: { name: 'plan-pid1', namespace: NAMESPACE },
          spec: {
            restartPolicy: 'Never',
            containers: [
              {
                name: 'plan',
                image: `${IMAGE_REPOSITORY}:${IMAGE_TAG}`,
                imagePullPolicy: 'Never',
                args: [
                  'plan',
                  '-f',
                  '/policies/policy.yaml',
                  '--regions=us-east-1',
                  `--aws-endpoint=http://${cluster.hostIp}:${port}`,
                ],
                env: [
                  { name: 'AWS_ACCESS_KEY_ID', value: 'plan' },
                  { name: 'AWS_SECRET_ACCESS_KEY', value: 'plan' },
                  { name: 'AWS_REGION', value: 'us-east-1' },
                ],
                volumeMounts: [{ name: 'policies', mountPath: '/policies' }],
              },
            ],
            volumes: [{ name: 'policies', configMap: { name: 'plan-policy' } }],
          },
        }),
      );
      await waitFor('plan to call the never-answering endpoint', () => sockets.length > 0, {
        timeoutMs: 120_000,
        intervalMs: 500,
      });

      // Act
      await cluster.kubectl(['exec', '-n', NAMESPACE, 'plan-pid1', '--', '/bin/sh', '-c', 'kill -TERM 1']);

      // Assert
      const terminated = await waitFor(
        'the plan container to exit',
        async () => {
          const pod = await cluster.client.kubectlJson<{
            status: { containerStatuses?: { state: { terminated?: { exitCode: number } } }[] };
          }>(['get', 'pod', 'plan-pid1', '-n', NAMESPACE]);
          return pod.status.containerStatuses?.[0]?.state.terminated;
        },
        { timeoutMs: 60_000, intervalMs: 500 },
      );
      expect(terminated.exitCode).toBe(143);
    } finally {
      for (const socket of sockets) socket.destroy();
      blackhole.close();
      await cluster.kubectl(['delete', 'pod', 'plan-pid1', '-n', NAMESPACE, '--wait=false'], { check: false });
    }
  });

  it('uninstalls cleanly: policies deleted first are gone, the rest stay, none is stuck terminating', async () => {
    // Arrange
    await waitTwoReadyOneLeader();

    // Act: the documented order — delete policies while the controller runs, then uninstall.
    await cluster.kubectl(['delete', 'lambdapolicy', 'payments-memory', '-n', 'payments', '--timeout=120s']);
    await cluster.helm(['uninstall', RELEASE, '--namespace', NAMESPACE, '--wait', '--timeout=120s']);

    // Assert
    await waitFor('the controller pods to be gone', async () => (await controllerPods(cluster.client)).length === 0, {
      timeoutMs: 120_000,
      intervalMs: 1_000,
    });
    const left = await cluster.client.kubectlJson<{
      items: { metadata: { namespace: string; name: string; deletionTimestamp?: string } }[];
    }>(['get', 'lambdapolicies', '-A']);
    expect(left.items.map((p) => `${p.metadata.namespace}/${p.metadata.name}`)).not.toContain(
      'payments/payments-memory',
    );
    expect(left.items.length).toBeGreaterThan(0);
    expect(left.items.filter((p) => p.metadata.deletionTimestamp !== undefined)).toEqual([]);
  });
});

/** A Kubernetes memory quantity (Mi, Gi, M, G or bytes) in bytes. */
function parseQuantity(quantity: string): number {
  const match = quantity.match(/^(\d+(?:\.\d+)?)(Ki|Mi|Gi|K|M|G)?$/);
  if (!match) return 0;
  const factor: Record<string, number> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, K: 1e3, M: 1e6, G: 1e9 };
  return Number(match[1]) * (match[2] ? (factor[match[2]] ?? 1) : 1);
}
