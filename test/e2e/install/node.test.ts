/**
 * The single-node cluster's own contract: it runs a pod, and stop() leaves nothing behind on the host — no process
 * of the pod, no mount, no network namespace, no veth, no cgroup, and the kernel settings the kubelet changed are
 * back to what they were; and what a SIGKILLed run left is removed by the next start.
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { waitFor } from '../controller/support/wait.ts';
import { REPO_ROOT } from '../harness/index.ts';
import { type NodeCluster, startNodeCluster } from '../harness/node.ts';
import { nodeInfra } from '../harness/node-binaries.ts';
import { ensureNodeInfra } from './support/install.ts';

const SYSCTLS = ['vm/overcommit_memory', 'kernel/panic', 'kernel/panic_on_oops'];

function sysctls(): Record<string, string> {
  return Object.fromEntries(SYSCTLS.map((k) => [k, readFileSync(`/proc/sys/${k}`, 'utf8').trim()]));
}

function netns(): string[] {
  return existsSync('/run/netns') ? readdirSync('/run/netns') : [];
}

function cgroupsNamed(id: string): string[] {
  return readdirSync('/sys/fs/cgroup')
    .map((h) => `/sys/fs/cgroup/${h}/${id}`)
    .filter((p) => existsSync(p));
}

let cluster: NodeCluster | undefined;

beforeAll(() => {
  ensureNodeInfra();
}, 45 * 60_000);

afterAll(async () => {
  await cluster?.stop();
});

describe('startNodeCluster', () => {
  it('runs a pod, and stop() removes its processes, mounts, namespaces, link and cgroups', async () => {
    // Arrange
    const before = { sysctls: sysctls(), netns: netns() };
    cluster = await startNodeCluster();
    const id = `lpc-node-${process.pid}`;
    await cluster.client.apply(
      stringify({
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'sleeper', namespace: 'default' },
        spec: { containers: [{ name: 'pause', image: nodeInfra().pauseImage, imagePullPolicy: 'Never' }] },
      }),
    );
    const containerID = await waitFor(
      'the pod Running',
      async () => {
        const pod = await cluster?.client.kubectlJson<{
          status: { phase?: string; containerStatuses?: { containerID?: string }[] };
        }>(['get', 'pod', 'sleeper']);
        return pod?.status.phase === 'Running' ? pod.status.containerStatuses?.[0]?.containerID : undefined;
      },
      { timeoutMs: 120_000, intervalMs: 500 },
    );
    const { pid } = cluster.containerProcess(containerID);
    const workDir = cluster.logDir;
    expect(netns()).toContain(id);
    expect(netns().filter((n) => n.startsWith('cni-') && !before.netns.includes(n))).toHaveLength(1);

    // Act
    await cluster.stop();

    // Assert: a killed process stays in /proc until its parent reaps it, which under load takes a moment
    await waitFor(`container process ${pid} gone`, () => !existsSync(`/proc/${pid}`), {
      timeoutMs: 30_000,
      intervalMs: 100,
    });
    expect(existsSync(`/proc/${pid}`)).toBe(false);
    expect(netns().sort()).toEqual(before.netns.sort());
    expect(readFileSync('/proc/self/mountinfo', 'utf8')).not.toContain(workDir);
    expect(cgroupsNamed(id)).toEqual([]);
    expect(existsSync(`/sys/class/net/lpch${process.pid}`)).toBe(false);
    expect(sysctls()).toEqual(before.sysctls);
    expect(existsSync(workDir) && process.env.LPC_E2E_KEEP !== '1').toBe(false);
  });
});

/** A run that starts a node with a pod on it, prints READY, and waits to be killed. */
const KILLED_RUN = `
import { startNodeCluster } from ${JSON.stringify(`${REPO_ROOT}/test/e2e/harness/node.ts`)};
import { nodeInfra } from ${JSON.stringify(`${REPO_ROOT}/test/e2e/harness/node-binaries.ts`)};
const cluster = await startNodeCluster();
await cluster.client.kubectl(['run', 'sleeper', '--image=' + nodeInfra().pauseImage, '--image-pull-policy=Never']);
await cluster.client.kubectl(['wait', '--for=condition=Ready', 'pod/sleeper', '--timeout=120s']);
console.log('READY');
setInterval(() => {}, 1000);
`;

describe('a run killed with SIGKILL', () => {
  it('leaves containers, mounts, namespaces and cgroups that the next startNodeCluster() removes', async () => {
    // Arrange
    const before = { netns: netns() };
    const child = spawn(join(REPO_ROOT, 'node_modules', '.bin', 'node'), ['--input-type=module', '-e', KILLED_RUN], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const childId = `lpc-node-${child.pid}`;
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8');
    });
    await waitFor('the killed run to have its pod Running', () => output.includes('READY'), {
      timeoutMs: 240_000,
      intervalMs: 500,
    });
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));
    expect(netns()).toContain(childId);
    expect(cgroupsNamed(childId).length).toBeGreaterThan(0);

    // Act
    cluster = await startNodeCluster();

    // Assert: the dead run's namespace, pod namespaces, cgroups and mounts are gone; only ours are there.
    expect(netns().filter((n) => !before.netns.includes(n))).toEqual([`lpc-node-${process.pid}`]);
    expect(cgroupsNamed(childId)).toEqual([]);
    expect(readFileSync('/proc/self/mountinfo', 'utf8')).not.toContain(`/tmp/${childId}/`);
    await cluster.stop();
    expect(netns().sort()).toEqual(before.netns.sort());
  });
});
