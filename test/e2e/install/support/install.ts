/**
 * The install e2e's moving parts: the node and image builds (hack/), the packaged chart, and reads of the release's
 * pods, Lease and the emulator's write log.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { ClusterClient } from '../../harness/index.ts';
import { BUILD_IMAGE_SCRIPT, ENSURE_NODE_SCRIPT } from '../../harness/node-binaries.ts';

export const CHART_DIR = join(import.meta.dirname, '../../../../charts/lambda-policy-controller');
export const RELEASE = 'lpc';
export const NAMESPACE = 'lpc-system';
export const FULLNAME = `${RELEASE}-lambda-policy-controller`;
export const LEASE = `${FULLNAME}-leader`;

/** Runs a hack/ script; its progress goes to this process's stderr; returns the last line it printed. */
function hackScript(script: string, args: readonly string[] = []): string {
  const result = spawnSync('bash', [script, ...args], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    timeout: 45 * 60_000,
  });
  if (result.status !== 0) {
    throw new Error(`${script} failed (exit ${result.status ?? result.signal}); its output is above`, {
      cause: result.error,
    });
  }
  const last = result.stdout.trim().split('\n').at(-1);
  if (!last) throw new Error(`${script} printed nothing`);
  return last;
}

/** Builds what the node needs (warm: a second). */
export function ensureNodeInfra(): void {
  hackScript(ENSURE_NODE_SCRIPT);
}

/** ensureNodeInfra(), then the image (buildah's layer cache: seconds when unchanged). */
export function buildNodeAndImage(): { imageArchive: string } {
  ensureNodeInfra();
  return { imageArchive: hackScript(BUILD_IMAGE_SCRIPT) };
}

/** `helm package` of the chart into `dir`; returns the .tgz (what a user installs from a repository). */
export async function packageChart(cluster: ClusterClient, dir: string): Promise<string> {
  await cluster.helm(['package', CHART_DIR, '--destination', dir]);
  const tgz = readdirSync(dir).find((f) => f.endsWith('.tgz'));
  if (!tgz) throw new Error(`helm package wrote no .tgz into ${dir}`);
  return join(dir, tgz);
}

export interface PodView {
  readonly name: string;
  readonly ready: boolean;
  readonly phase: string;
  readonly deleting: boolean;
  readonly containerID: string | undefined;
  readonly restarts: number;
}

interface PodList {
  items: {
    metadata: { name: string; deletionTimestamp?: string; labels?: Record<string, string> };
    status: {
      phase?: string;
      conditions?: { type: string; status: string }[];
      containerStatuses?: { containerID?: string; restartCount: number }[];
    };
  }[];
}

/** The release's controller pods (not its `helm test` pods). */
export async function controllerPods(cluster: ClusterClient): Promise<PodView[]> {
  const list = await cluster.kubectlJson<PodList>([
    'get',
    'pods',
    '-n',
    NAMESPACE,
    '-l',
    `app.kubernetes.io/instance=${RELEASE},app.kubernetes.io/component!=test`,
  ]);
  return list.items.map((pod) => ({
    name: pod.metadata.name,
    phase: pod.status.phase ?? 'Unknown',
    ready: pod.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false,
    deleting: pod.metadata.deletionTimestamp !== undefined,
    containerID: pod.status.containerStatuses?.[0]?.containerID,
    restarts: pod.status.containerStatuses?.[0]?.restartCount ?? 0,
  }));
}

/** The pod holding the release's Lease (holderIdentity is `<pod name>_<suffix>`), or undefined. */
export async function leaseHolder(cluster: ClusterClient): Promise<string | undefined> {
  const lease = await cluster.kubectlJson<{ spec?: { holderIdentity?: string } }>([
    'get',
    'lease',
    '-n',
    NAMESPACE,
    LEASE,
  ]);
  const identity = lease.spec?.holderIdentity;
  return identity ? identity.replace(/_[^_]*$/, '') : undefined;
}

/** Writers in the order they wrote, consecutive repeats folded: [A, B] is a hand-over, [A, B, A] two writers at once. */
export function writerRuns(accessKeys: readonly (string | undefined)[]): string[] {
  const runs: string[] = [];
  for (const key of accessKeys) {
    const writer = key ?? '(unsigned)';
    if (runs.at(-1) !== writer) runs.push(writer);
  }
  return runs;
}
