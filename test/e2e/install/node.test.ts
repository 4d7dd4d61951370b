/**
 * The single-node cluster's own contract: it runs a pod, and stop() leaves nothing behind on the host — no process
 * of the pod, no mount, no network namespace, no veth, no cgroup, and the kernel settings the kubelet changed are
 * back to what they were.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { waitFor } from '../controller/support/wait.ts';
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

    // Assert
    expect(existsSync(`/proc/${pid}`)).toBe(false);
    expect(netns().sort()).toEqual(before.netns.sort());
    expect(readFileSync('/proc/self/mountinfo', 'utf8')).not.toContain(workDir);
    expect(cgroupsNamed(id)).toEqual([]);
    expect(spawnSync('ip', ['link', 'show', `lpch${process.pid}`]).status).not.toBe(0);
    expect(sysctls()).toEqual(before.sysctls);
    expect(existsSync(workDir) && process.env.LPC_E2E_KEEP !== '1').toBe(false);
  });
});
