/**
 * The Kubernetes side of the controller e2e tests: a real control plane with the generated CRD, a namespace per
 * test, policies applied with kubectl the way a user (or Argo CD) does it, and reads of what the controller wrote.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { KubeConfig, Watch } from '@kubernetes/client-node';
import type { LambdaPolicy, LambdaPolicySpec, LambdaPolicyStatus } from '../../../../src/api/schema.ts';
import { parsePrintedTable } from '../../api/printed-table.ts';
import { type ClusterClient, type ControlPlane, REPO_ROOT, startControlPlane } from '../../harness/index.ts';
import { waitFor } from './wait.ts';

export const CRD_PATH = join(REPO_ROOT, 'crds', 'lambdapolicies.lambdapolicy.io.yaml');
export const ACCOUNT_CRD_PATH = join(REPO_ROOT, 'crds', 'awsaccounts.lambdapolicy.io.yaml');
export const ORGANIZATION_CRD_PATH = join(REPO_ROOT, 'crds', 'awsorganizations.lambdapolicy.io.yaml');

/**
 * A control plane with the generated CRDs installed and Established, as the chart installs them;
 * `extraApiServerArgs` as for startControlPlane.
 */
export async function startClusterWithCrd(options: { extraApiServerArgs?: string[] } = {}): Promise<ControlPlane> {
  const cluster = await startControlPlane(options);
  try {
    await cluster.kubectl(['apply', '-f', CRD_PATH, '-f', ACCOUNT_CRD_PATH, '-f', ORGANIZATION_CRD_PATH]);
    await cluster.waitCrdEstablished('lambdapolicies.lambdapolicy.io');
    await cluster.waitCrdEstablished('awsaccounts.lambdapolicy.io');
    await cluster.waitCrdEstablished('awsorganizations.lambdapolicy.io');
    return cluster;
  } catch (error) {
    await cluster.stop();
    throw error;
  }
}

export async function newNamespace(cluster: ClusterClient, prefix: string): Promise<string> {
  const ns = `${prefix}-${randomBytes(3).toString('hex')}`;
  await cluster.kubectl(['create', 'namespace', ns]);
  return ns;
}

export function policyManifest(namespace: string, name: string, spec: LambdaPolicySpec): string {
  return JSON.stringify({
    apiVersion: 'lambdapolicy.io/v1alpha1',
    kind: 'LambdaPolicy',
    metadata: { name, namespace },
    spec,
  });
}

/** `kubectl apply` of a policy (create or edit). */
export async function applyPolicy(
  cluster: ClusterClient,
  namespace: string,
  name: string,
  spec: LambdaPolicySpec,
): Promise<void> {
  await cluster.apply(policyManifest(namespace, name, spec));
}

export async function getPolicy(cluster: ClusterClient, namespace: string, name: string): Promise<LambdaPolicy> {
  return cluster.kubectlJson<LambdaPolicy>(['get', 'lambdapolicy', name, '-n', namespace]);
}

/** The policy, or undefined once the API server no longer has it. */
export async function findPolicy(
  cluster: ClusterClient,
  namespace: string,
  name: string,
): Promise<LambdaPolicy | undefined> {
  const result = await cluster.kubectl(
    ['get', 'lambdapolicy', name, '-n', namespace, '-o', 'json', '--ignore-not-found'],
    {
      check: true,
    },
  );
  return result.stdout.trim() === '' ? undefined : (JSON.parse(result.stdout) as LambdaPolicy);
}

/** `kubectl get lp` as a user sees it: one row per policy, cells by column header. */
export async function printedPolicies(cluster: ClusterClient, namespace: string): Promise<Record<string, string>[]> {
  const result = await cluster.kubectl(['get', 'lp', '-n', namespace]);
  return [...parsePrintedTable(result.stdout).rows];
}

/** The policy's status as the controller wrote it (typed; the API type leaves it unknown). */
export function statusOf(policy: LambdaPolicy): LambdaPolicyStatus {
  return (policy.status ?? {}) as LambdaPolicyStatus;
}

export function condition(policy: LambdaPolicy, type: string) {
  return statusOf(policy).conditions?.find((c) => c.type === type);
}

/**
 * The policy once the controller has reported on its current generation with Ready=True (and, when given, the
 * summary matches), else undefined: the probe of "it converged".
 */
export function readyAtGeneration(policy: LambdaPolicy, summary: Partial<Record<string, number>> = {}) {
  const ready = condition(policy, 'Ready');
  const status = statusOf(policy);
  if (status.observedGeneration !== policy.metadata.generation) return undefined;
  if (ready?.status !== 'True' || ready.observedGeneration !== policy.metadata.generation) return undefined;
  const actual = (status.summary ?? {}) as Record<string, number>;
  if (!Object.entries(summary).every(([k, v]) => actual[k] === v)) return undefined;
  return policy;
}

/** Waits until the controller reports the policy Ready at its generation with `summary`; the failure shows the last. */
export async function waitPolicyReady(
  cluster: ClusterClient,
  namespace: string,
  name: string,
  summary: Record<string, number>,
  timeoutMs = 90_000,
): Promise<LambdaPolicy> {
  let last: LambdaPolicy | undefined;
  return waitFor(
    `${namespace}/${name} Ready at its generation with ${JSON.stringify(summary)}`,
    async () => {
      last = await findPolicy(cluster, namespace, name);
      return last && readyAtGeneration(last, summary);
    },
    { timeoutMs, describe: () => describeStatus(last) },
  );
}

/** A short description of a policy's status for wait-timeout messages. */
export function describeStatus(policy: LambdaPolicy | undefined): string {
  if (!policy) return 'policy not found';
  const ready = condition(policy, 'Ready');
  return JSON.stringify({
    generation: policy.metadata.generation,
    observedGeneration: statusOf(policy).observedGeneration,
    ready: ready && `${ready.status} ${ready.reason}: ${ready.message}`,
    summary: statusOf(policy).summary,
    finalizers: policy.metadata.finalizers,
  });
}

export interface Observed<O, T> {
  object: O;
  /** What the test captured the moment the event arrived (e.g. the emulator's state). */
  seen: T;
}

/**
 * Watches one object (by collection path and name) and captures, for every change, `capture()` at the moment the
 * change arrives: lets a test check every status the controller wrote against what AWS looked like then, or see
 * every state a Lease went through (not only the last one, as polling would).
 *
 * client-node's Watch ends quietly (a 30 s inactivity timeout, a dropped connection); this one resumes from the last
 * resourceVersion it saw, so no change is missed, and keeps what went wrong in `problems` for assertion messages.
 */
export async function watchObject<O, T>(
  cluster: ClusterClient,
  collectionPath: string,
  name: string,
  capture: () => T,
): Promise<{ events: Observed<O, T>[]; problems: string[]; stop: () => void }> {
  const kc = new KubeConfig();
  kc.loadFromFile(cluster.kubeconfigPath);
  const events: Observed<O, T>[] = [];
  const problems: string[] = [];
  let resourceVersion: string | undefined;
  let stopped = false;
  let current: AbortController | undefined;
  const start = async (): Promise<void> => {
    const watch = new Watch(kc);
    current = await watch.watch(
      collectionPath,
      { fieldSelector: `metadata.name=${name}`, allowWatchBookmarks: true, resourceVersion },
      (phase: string, object: unknown) => {
        const meta = (object as { metadata?: { resourceVersion?: string } }).metadata;
        if (phase === 'ERROR') {
          problems.push(`watch error: ${JSON.stringify(object)}`);
          resourceVersion = undefined; // 410 Gone: resume from now (the gap is in `problems`)
          return;
        }
        if (meta?.resourceVersion) resourceVersion = meta.resourceVersion;
        if (phase !== 'BOOKMARK') events.push({ object: object as O, seen: capture() });
      },
      (error: unknown) => {
        if (stopped) return;
        // client-node's 30 s inactivity timeout is routine when nothing changes; anything else is worth telling
        const routine = error instanceof Error && error.name === 'TimeoutError';
        if (error && !routine) problems.push(`watch ended: ${error instanceof Error ? error.message : String(error)}`);
        setTimeout(() => void start().catch((e: unknown) => problems.push(`watch restart: ${String(e)}`)), 200);
      },
    );
  };
  await start();
  return {
    events,
    problems,
    stop: () => {
      stopped = true;
      current?.abort();
    },
  };
}

export function watchPolicy<T>(cluster: ClusterClient, namespace: string, name: string, capture: () => T) {
  return watchObject<LambdaPolicy, T>(
    cluster,
    `/apis/lambdapolicy.io/v1alpha1/namespaces/${namespace}/lambdapolicies`,
    name,
    capture,
  );
}
