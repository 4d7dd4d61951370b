/**
 * The real test infrastructure works: pinned binaries from the cache, a control plane with RBAC, helm against
 * it, and moto reached through the real AWS SDK. Needs `hack/ensure-test-infra.sh` to have run.
 */
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { LambdaClient, ListFunctionsCommand } from '@aws-sdk/client-lambda';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  attachControlPlane,
  type ControlPlane,
  ENSURE_SCRIPT,
  type MotoServer,
  REPO_ROOT,
  runCommand,
  startControlPlane,
  startMoto,
  TestInfraMissingError,
  testInfraBinary,
  testInfraBinDir,
  testInfraVersions,
  waitUntil,
} from './harness/index.ts';

const versions = testInfraVersions();

describe('pinned binaries', () => {
  it('are found where hack/ensure-test-infra.sh puts them', () => {
    const printed = execFileSync('bash', [ENSURE_SCRIPT, '--print-bin-dir'], { encoding: 'utf8' }).trim();

    expect(testInfraBinDir()).toBe(printed);
  });

  it('give a clear error naming the build script when the cache is empty', () => {
    const emptyCache = mkdtempSync(join(tmpdir(), 'lpc-empty-cache-'));
    try {
      const find = () => testInfraBinDir({ ...process.env, LPC_CACHE: emptyCache });

      expect(find).toThrow(TestInfraMissingError);
      expect(find).toThrow(/hack\/ensure-test-infra\.sh/);
    } finally {
      rmSync(emptyCache, { recursive: true, force: true });
    }
  });

  it('kube-apiserver --version reports the pinned release, not v0.0.0-master', async () => {
    const { stdout } = await runCommand(testInfraBinary('kube-apiserver'), ['--version']);

    expect(stdout.trim()).toBe(`Kubernetes v${versions.kubernetes}`);
  });

  it('etcd --version reports the pinned release', async () => {
    const { stdout } = await runCommand(testInfraBinary('etcd'), ['--version']);

    expect(stdout).toContain(`etcd Version: ${versions.etcd}`);
  });
});

describe('control plane', () => {
  let cluster: ControlPlane;

  beforeAll(async () => {
    cluster = await startControlPlane();
  });

  afterAll(async () => {
    await cluster?.stop();
  });

  it('kubectl version reports the pinned client and server versions', async () => {
    const version = await cluster.kubectlJson<{
      clientVersion: { gitVersion: string };
      serverVersion: { gitVersion: string };
    }>(['version']);

    expect(version.clientVersion.gitVersion).toBe(`v${versions.kubernetes}`);
    expect(version.serverVersion.gitVersion).toBe(`v${versions.kubernetes}`);
  });

  it('authenticates the admin kubeconfig as admin in system:masters', async () => {
    const review = await cluster.kubectlJson<{ status: { userInfo: { username: string; groups: string[] } } }>([
      'auth',
      'whoami',
    ]);

    expect(review.status.userInfo.username).toBe('admin');
    expect(review.status.userInfo.groups).toContain('system:masters');
  });

  it('stores objects (no kubelet needed)', async () => {
    await cluster.apply(
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: 'stored', namespace: 'default' },
        data: { answer: '42' },
      }),
    );

    const stored = await cluster.kubectlJson<{ data: Record<string, string> }>(['get', 'configmap', 'stored']);

    expect(stored.data).toEqual({ answer: '42' });
  });

  it('limits a ServiceAccount token kubeconfig to what RBAC grants it', async () => {
    const sa = await cluster.serviceAccountKubeconfig({ namespace: 'rbac-check', name: 'reader' });
    const canList = () =>
      cluster.kubectl(['auth', 'can-i', 'list', 'configmaps', '-n', 'rbac-check'], {
        kubeconfig: sa.kubeconfigPath,
        check: false,
      });

    const before = await canList();
    await cluster.kubectl(['create', 'role', 'cm-reader', '-n', 'rbac-check', '--verb=list', '--resource=configmaps']);
    await cluster.kubectl([
      'create',
      'rolebinding',
      'cm-reader',
      '-n',
      'rbac-check',
      '--role=cm-reader',
      `--serviceaccount=rbac-check:reader`,
    ]);
    const after = await canList();
    const whoami = await cluster.kubectlJson<{ status: { userInfo: { username: string } } }>(['auth', 'whoami'], {
      kubeconfig: sa.kubeconfigPath,
    });

    expect(before.stdout.trim()).toBe('no');
    expect(after.stdout.trim()).toBe('yes');
    expect(whoami.status.userInfo.username).toBe('system:serviceaccount:rbac-check:reader');
  });

  it('gives @kubernetes/client-node a working ServiceAccount kubeconfig, limited by RBAC', async () => {
    const sa = await cluster.serviceAccountKubeconfig({ namespace: 'client-node', name: 'lister' });
    await cluster.kubectl(['create', 'configmap', 'visible', '-n', 'client-node', '--from-literal=k=v']);
    await cluster.kubectl(['create', 'role', 'cm-lister', '-n', 'client-node', '--verb=list', '--resource=configmaps']);
    await cluster.kubectl([
      'create',
      'rolebinding',
      'cm-lister',
      '-n',
      'client-node',
      '--role=cm-lister',
      '--serviceaccount=client-node:lister',
    ]);
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromFile(sa.kubeconfigPath);
    const core = kubeConfig.makeApiClient(CoreV1Api);

    const listed = await core.listNamespacedConfigMap({ namespace: 'client-node' });
    const secrets = core.listNamespacedSecret({ namespace: 'client-node' });

    expect(listed.items.map((item) => item.metadata?.name)).toEqual(['visible']);
    await expect(secrets).rejects.toMatchObject({ code: 403 });
  });

  it('makes client-certificate kubeconfigs for any user and groups', async () => {
    const kubeconfig = await cluster.clientCertificateKubeconfig({ user: 'alice', groups: ['devs', 'oncall'] });

    const whoami = await cluster.kubectlJson<{ status: { userInfo: { username: string; groups: string[] } } }>(
      ['auth', 'whoami'],
      { kubeconfig },
    );

    expect(whoami.status.userInfo.username).toBe('alice');
    expect(whoami.status.userInfo.groups).toEqual(expect.arrayContaining(['devs', 'oncall']));
  });

  it('impersonates another identity, which RBAC then judges', async () => {
    const kubeconfig = cluster.impersonatingKubeconfig({ user: 'someone', groups: ['some-team'] });

    const whoami = await cluster.kubectlJson<{ status: { userInfo: { username: string; groups: string[] } } }>(
      ['auth', 'whoami'],
      { kubeconfig },
    );
    const denied = await cluster.kubectl(['get', 'secrets', '-n', 'default'], { kubeconfig, check: false });

    expect(whoami.status.userInfo.username).toBe('someone');
    expect(whoami.status.userInfo.groups).toContain('some-team');
    expect(denied.exitCode).not.toBe(0);
    expect(denied.stderr).toMatch(/forbidden/i);
  });

  it('helm version reports the pinned release', async () => {
    const { stdout } = await cluster.helm(['version', '--template', '{{.Version}}']);

    expect(stdout.trim()).toBe(`v${versions.helm}`);
  });

  it('helm installs a chart whose kubeVersion constraint the real server version satisfies', async () => {
    const chartDir = join(cluster.scratchDir, 'tiny-chart');
    mkdirSync(join(chartDir, 'templates'), { recursive: true });
    writeFileSync(
      join(chartDir, 'Chart.yaml'),
      'apiVersion: v2\nname: tiny\nversion: 0.1.0\nkubeVersion: ">= 1.30.0-0"\n',
    );
    writeFileSync(
      join(chartDir, 'templates', 'configmap.yaml'),
      'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-cm\ndata:\n  kube: "{{ .Capabilities.KubeVersion.Version }}"\n',
    );

    await cluster.helm(['install', 'tiny', chartDir, '--namespace', 'default', '--wait=false']);
    const rendered = await cluster.kubectlJson<{ data: { kube: string } }>(['get', 'configmap', 'tiny-cm']);

    expect(rendered.data.kube).toBe(`v${versions.kubernetes}`);
  });

  it('can be driven from another client attached through the kubeconfig alone', async () => {
    const attached = attachControlPlane(cluster.kubeconfigPath);

    const { stdout } = await attached.kubectl(['get', 'namespace', 'default', '-o', 'name']);

    expect(stdout.trim()).toBe('namespace/default');
  });
});

describe('control plane teardown', () => {
  it('stop() kills the servers and removes the work folder', async () => {
    const cluster = await startControlPlane();
    const apiServerPort = Number(new URL(cluster.server).port);
    const etcdPort = Number(new URL(cluster.etcdUrl).port);

    await cluster.stop();

    expect(existsSync(cluster.workDir)).toBe(false);
    expect(await acceptsConnections(apiServerPort)).toBe(false);
    expect(await acceptsConnections(etcdPort)).toBe(false);
  });
});

describe('abandoned servers', () => {
  const abandon = join(REPO_ROOT, 'test', 'e2e', 'harness', 'fixtures', 'abandon-servers.ts');

  // "exit": the process exits without stop() (its exit hook kills the groups);
  // "hang": it is SIGKILLed, so no hook runs and the watchdogs must notice.
  it.each(['exit', 'hang'])('are torn down when their owner process ends (%s)', async (mode) => {
    const child = spawn(process.execPath, [abandon, mode], { stdio: ['ignore', 'pipe', 'inherit'] });
    const [line] = (await once(createInterface({ input: child.stdout }), 'line')) as [string];
    const started = JSON.parse(line) as { apiServerPort: number; etcdPort: number; motoPort: number; workDir: string };

    if (mode === 'hang') child.kill('SIGKILL');
    await once(child, 'exit');
    await waitUntil(
      'abandoned servers to be gone',
      async () => !(await anyOpen(started)) && !existsSync(started.workDir),
      {
        timeoutMs: 60_000,
      },
    );

    expect(await anyOpen(started)).toBe(false);
    expect(existsSync(started.workDir)).toBe(false);
  });
});

describe('moto', () => {
  let moto: MotoServer;

  beforeAll(async () => {
    moto = await startMoto();
  });

  afterAll(async () => {
    await moto?.stop();
  });

  it('answers Lambda ListFunctions through the real AWS SDK', async () => {
    const lambda = new LambdaClient(moto.clientConfig);

    const listed = await lambda.send(new ListFunctionsCommand({}));

    expect(listed.Functions).toEqual([]);
    lambda.destroy();
  });

  it('stop() frees its port', async () => {
    const other = await startMoto();

    await other.stop();

    expect(await acceptsConnections(other.port)).toBe(false);
  });
});

async function anyOpen(ports: { apiServerPort: number; etcdPort: number; motoPort: number }): Promise<boolean> {
  const open = await Promise.all([ports.apiServerPort, ports.etcdPort, ports.motoPort].map(acceptsConnections));
  return open.some(Boolean);
}

function acceptsConnections(port: number): Promise<boolean> {
  return new Promise((resolveOpen) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolveOpen(true);
    });
    socket.once('error', () => resolveOpen(false));
  });
}
