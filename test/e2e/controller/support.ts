/**
 * Shared pieces of the controller e2e tests: a real control plane with the generated CRD, client-node
 * KubeConfigs for it, and a TCP proxy in front of the API server so tests can break the wire for real (cut
 * every connection, refuse connections, hold bytes) without a fake server anywhere.
 */
import { randomBytes } from 'node:crypto';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';
import type { ControlPlane } from '../harness/index.ts';
import { waitUntil } from '../harness/wait.ts';
import { startClusterWithCrd as startClusterWithCrdInstalled } from './support/cluster.ts';

/**
 * A control plane without the API server's watch cache, so watches are served by etcd itself and an etcd
 * compaction makes an old resourceVersion answer 410 Gone, as happens in production after long disconnects.
 */
export function startClusterWithCrd(): Promise<ControlPlane> {
  return startClusterWithCrdInstalled({ extraApiServerArgs: ['--watch-cache=false'] });
}

/** client-node config for the cluster's admin, optionally through another server URL (the proxy). */
export function kubeConfigFor(kubeconfigPath: string, server?: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfigPath);
  if (server === undefined) return kc;
  const moved = new KubeConfig();
  moved.loadFromOptions({
    clusters: kc.clusters.map((c) => ({ ...c, server })),
    users: kc.users,
    contexts: kc.contexts,
    currentContext: kc.currentContext,
  });
  return moved;
}

export async function newNamespace(cluster: ControlPlane, prefix: string): Promise<string> {
  const ns = `${prefix}-${randomBytes(3).toString('hex')}`;
  await cluster.kubectl(['create', 'namespace', ns]);
  return ns;
}

export function policyManifest(
  name: string,
  namespace: string,
  memorySize = 1024,
  extra: Record<string, unknown> = {},
) {
  return JSON.stringify({
    apiVersion: 'lambdapolicy.io/v1alpha1',
    kind: 'LambdaPolicy',
    metadata: { name, namespace },
    spec: { selector: { functionNames: [`${name}-*`] }, settings: { memorySize }, ...extra },
  });
}

/** Compacts etcd's history up to its current revision (etcd's v3 JSON gateway), invalidating older watches. */
export async function compactEtcd(etcdUrl: string): Promise<number> {
  const range = await fetch(`${etcdUrl}/v3/kv/range`, {
    method: 'POST',
    body: JSON.stringify({ key: Buffer.from('/').toString('base64') }),
  });
  const revision = String(((await range.json()) as { header: { revision: string } }).header.revision);
  const res = await fetch(`${etcdUrl}/v3/kv/compaction`, {
    method: 'POST',
    body: JSON.stringify({ revision, physical: true }),
  });
  if (!res.ok) throw new Error(`etcd compaction failed: ${res.status} ${await res.text()}`);
  return Number(revision);
}

/** A byte-level TCP proxy (TLS passes through untouched) the test can break in the ways networks break. */
export class FaultyProxy {
  private server: Server | undefined;
  private readonly pairs = new Set<{ client: Socket; upstream: Socket }>();
  private holding = false;
  private readonly held: Array<() => void> = [];
  private readonly target: { host: string; port: number };
  port = 0;
  connections = 0;

  constructor(target: { host: string; port: number }) {
    this.target = target;
  }

  static async start(targetUrl: string): Promise<FaultyProxy> {
    const url = new URL(targetUrl);
    const proxy = new FaultyProxy({ host: url.hostname, port: Number(url.port) });
    await proxy.up();
    return proxy;
  }

  get url(): string {
    return `https://127.0.0.1:${this.port}`;
  }

  /** Accepts connections (on the same port as before, if it had one). */
  async up(): Promise<void> {
    const server = createServer((client) => this.accept(client));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    const address = server.address();
    if (typeof address === 'object' && address) this.port = address.port;
    this.server = server;
  }

  /** Refuses new connections and cuts the open ones: the API server is "down". */
  async down(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    this.cut();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Resets every open connection (a network blip or an API server restart, from the client's side). */
  cut(): void {
    for (const { client, upstream } of this.pairs) {
      client.resetAndDestroy();
      upstream.destroy();
    }
    this.pairs.clear();
  }

  /** Buffers client-to-server bytes until release(): requests are sent but do not arrive yet. */
  hold(): void {
    this.holding = true;
  }

  release(): void {
    this.holding = false;
    for (const flush of this.held.splice(0)) flush();
  }

  private accept(client: Socket): void {
    this.connections++;
    const upstream = connect(this.target.port, this.target.host);
    const pair = { client, upstream };
    this.pairs.add(pair);
    const drop = () => {
      this.pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', drop);
    upstream.on('error', drop);
    client.on('close', drop);
    upstream.on('close', drop);
    client.on('data', (chunk) => {
      if (this.holding) this.held.push(() => upstream.write(chunk));
      else upstream.write(chunk);
    });
    upstream.pipe(client);
  }
}

export async function eventually(
  what: string,
  probe: () => boolean | Promise<boolean>,
  timeoutMs = 60_000,
): Promise<void> {
  await waitUntil(what, async () => probe(), { timeoutMs, intervalMs: 100 });
}
