/**
 * A real Kubernetes control plane for e2e tests, started the way controller-runtime's envtest does it:
 * etcd + kube-apiserver on free loopback ports, a generated PKI, RBAC authorization, ServiceAccount token
 * signing. There is no kubelet and no controller-manager: objects are stored and validated, pods never run,
 * namespaces never finish deleting (use a fresh namespace per test instead of deleting one).
 *
 *   const cluster = await startControlPlane();
 *   try { await cluster.kubectl(['get', 'ns']); } finally { await cluster.stop(); }
 *
 * stopApiServer()/startApiServer() take kube-apiserver down and bring it back (same flags, port, certs, etcd: the
 * admin kubeconfig keeps working) while etcd keeps running, to test clients across a real server restart.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { testInfraBinary, testInfraBinDir } from './binaries.ts';
import { type ClientIdentity, type ControlPlanePki, createClientCertificate, createControlPlanePki } from './certs.ts';
import { ClusterClient } from './cluster-client.ts';
import { ProcessExitedError } from './errors.ts';
import { writeKubeconfig } from './kubeconfig.ts';
import { ManagedProcess, onProcessExit } from './processes.ts';
import { freeLoopbackPort, waitUntil } from './wait.ts';

export interface ControlPlaneOptions {
  /** Folder with kube-apiserver, etcd, kubectl, helm (default: testInfraBinDir()). */
  readonly binDir?: string;
  /** Keep the work folder (logs, certs, etcd data) after stop(). Default: env LPC_E2E_KEEP=1. */
  readonly keepWorkDir?: boolean;
  /** How long to wait for etcd and kube-apiserver to become ready (a hang guard). Default 180 s. */
  readonly readyTimeoutMs?: number;
  /** Appended to kube-apiserver's flags (later flags win), e.g. ['--feature-gates=...']. */
  readonly extraApiServerArgs?: readonly string[];
  /** More IP addresses kube-apiserver's serving certificate is valid for (e.g. where a node reaches it). */
  readonly servingCertificateIps?: readonly string[];
  /**
   * Keep the ServiceAccount admission plugin (pods get their token volume). Only with a controller-manager that
   * creates ServiceAccounts and the root CA ConfigMap (a node, test/e2e/harness/node.ts). Default false.
   */
  readonly serviceAccountAdmission?: boolean;
}

export class ControlPlane extends ClusterClient {
  /** Folder with certs/, etcd data, etcd.log, kube-apiserver.log, generated kubeconfigs. */
  readonly workDir: string;
  readonly etcdUrl: string;
  readonly pki: ControlPlanePki;
  /** Started in order (etcd, then kube-apiserver); a restarted kube-apiserver replaces its predecessor here. */
  private readonly processes: ManagedProcess[];
  private readonly launchApiServer: (() => Promise<ManagedProcess>) | undefined;
  private readonly keepWorkDir: boolean;
  private readonly forgetExitHook: () => void;
  private stopping: Promise<void> | undefined;
  private certificates = 0;

  constructor(init: {
    kubeconfigPath: string;
    binDir: string;
    workDir: string;
    etcdUrl: string;
    pki: ControlPlanePki;
    processes: readonly ManagedProcess[];
    keepWorkDir: boolean;
    /** Starts kube-apiserver again exactly as the first time and waits until it is ready (startApiServer()). */
    launchApiServer?: () => Promise<ManagedProcess>;
  }) {
    super({ kubeconfigPath: init.kubeconfigPath, binDir: init.binDir, scratchDir: join(init.workDir, 'client') });
    this.workDir = init.workDir;
    this.etcdUrl = init.etcdUrl;
    this.pki = init.pki;
    this.processes = [...init.processes];
    this.launchApiServer = init.launchApiServer;
    this.keepWorkDir = init.keepWorkDir;
    // Servers are killed by processes.ts on exit; the work folder is removed here.
    this.forgetExitHook = onProcessExit(() => {
      if (!this.keepWorkDir) rmSync(this.workDir, { recursive: true, force: true });
    });
  }

  /**
   * A kubeconfig with a client certificate for any identity, signed by this cluster's CA (the API server maps
   * CN to the user name and O to groups). Only the process that started the control plane holds the CA key.
   */
  async clientCertificateKubeconfig(identity: ClientIdentity & { namespace?: string }): Promise<string> {
    this.certificates += 1;
    const baseName = `client-${this.certificates}`;
    const certDir = join(this.workDir, 'certs');
    const files = await createClientCertificate(certDir, baseName, this.pki.ca, identity);
    return writeKubeconfig(join(this.scratchDir, `kubeconfig-${baseName}.yaml`), {
      server: this.server,
      caPem: this.caPem,
      credentials: {
        kind: 'clientCertificate',
        certPem: readFileSync(files.certPath, 'utf8'),
        keyPem: readFileSync(files.keyPath, 'utf8'),
      },
      ...(identity.namespace ? { namespace: identity.namespace } : {}),
    });
  }

  /** The kube-apiserver log so far (handy in a failing test's message). */
  apiServerLog(): string {
    return readFileSync(join(this.workDir, 'kube-apiserver.log'), 'utf8');
  }

  /** Whether kube-apiserver is running (false between stopApiServer() and startApiServer()). */
  get apiServerRunning(): boolean {
    return this.apiServerProcess().running;
  }

  /**
   * Stops only kube-apiserver (SIGTERM, SIGKILL after 10 s) and waits for it to exit; etcd keeps running, so
   * everything stored survives. Safe to call when it is already stopped.
   */
  async stopApiServer(): Promise<void> {
    await this.apiServerProcess().stop();
  }

  /**
   * Starts kube-apiserver again with the same flags, port, certificates and etcd, and waits until its /readyz
   * answers 200. Does nothing when it is running. The port is not re-picked (the kubeconfigs name it): if it is
   * briefly still held, the start is retried.
   */
  async startApiServer(): Promise<void> {
    if (this.stopping) throw new Error('the control plane is stopping');
    if (!this.launchApiServer) throw new Error('this control plane cannot restart kube-apiserver');
    const current = this.apiServerProcess();
    if (current.running) return;
    for (let attempt = 1; ; attempt++) {
      try {
        const fresh = await this.launchApiServer();
        this.processes[this.processes.indexOf(current)] = fresh;
        return;
      } catch (error) {
        const portClash = error instanceof ProcessExitedError && /address already in use/i.test(error.logTail);
        if (!portClash || attempt >= START_ATTEMPTS) throw error;
        await sleep(1_000);
      }
    }
  }

  /** stopApiServer(), then startApiServer(). */
  async restartApiServer(): Promise<void> {
    await this.stopApiServer();
    await this.startApiServer();
  }

  private apiServerProcess(): ManagedProcess {
    const found = this.processes.find((p) => p.name === API_SERVER);
    if (!found) throw new Error('this control plane has no kube-apiserver process');
    return found;
  }

  /** Stops kube-apiserver, then etcd (process groups, SIGTERM then SIGKILL), then removes the work folder. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      for (const managed of [...this.processes].reverse()) await managed.stop();
      this.forgetExitHook();
      if (!this.keepWorkDir) rmSync(this.workDir, { recursive: true, force: true });
    })();
    return this.stopping;
  }

  /** `await using cluster = await startControlPlane()` stops it at the end of the scope. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.stop();
  }
}

const DEFAULT_READY_TIMEOUT_MS = 180_000;
const API_SERVER = 'kube-apiserver';
/** A port picked as free can be taken before the server binds it; then the start is retried with new ports. */
const START_ATTEMPTS = 3;

export async function startControlPlane(options: ControlPlaneOptions = {}): Promise<ControlPlane> {
  const binDir = options.binDir ?? testInfraBinDir();
  const keepWorkDir = options.keepWorkDir ?? process.env.LPC_E2E_KEEP === '1';
  const readyTimeoutMs = options.readyTimeoutMs ?? DEFAULT_READY_TIMEOUT_MS;
  const workDir = mkdtempSync(join(tmpdir(), 'lpc-e2e-'));
  try {
    const certDir = join(workDir, 'certs');
    mkdirSync(certDir);
    const pki = await createControlPlanePki(certDir, options.servingCertificateIps);
    for (let attempt = 1; ; attempt++) {
      try {
        return await startServers({ binDir, workDir, pki, readyTimeoutMs, keepWorkDir, options });
      } catch (error) {
        const portClash = error instanceof ProcessExitedError && /address already in use/i.test(error.logTail);
        if (!portClash || attempt >= START_ATTEMPTS) throw error;
      }
    }
  } catch (error) {
    if (!keepWorkDir) rmSync(workDir, { recursive: true, force: true });
    throw error;
  }
}

async function startServers(context: {
  binDir: string;
  workDir: string;
  pki: ControlPlanePki;
  readyTimeoutMs: number;
  keepWorkDir: boolean;
  options: ControlPlaneOptions;
}): Promise<ControlPlane> {
  const { binDir, workDir, pki, readyTimeoutMs } = context;
  const started: ManagedProcess[] = [];
  try {
    const orphanCleanupDir = context.keepWorkDir ? undefined : workDir;
    const etcdUrl = await startEtcd(binDir, workDir, readyTimeoutMs, started, orphanCleanupDir);
    const apiServer = await prepareApiServer(binDir, workDir, pki, etcdUrl, readyTimeoutMs, context.options);
    started.push(await apiServer.launch());
    const { server } = apiServer;
    const kubeconfigPath = writeKubeconfig(join(workDir, 'kubeconfig.yaml'), {
      server,
      caPem: readFileSync(pki.ca.certPath, 'utf8'),
      credentials: {
        kind: 'clientCertificate',
        certPem: readFileSync(pki.admin.certPath, 'utf8'),
        keyPem: readFileSync(pki.admin.keyPath, 'utf8'),
      },
    });
    return new ControlPlane({
      kubeconfigPath,
      binDir,
      workDir,
      etcdUrl,
      pki,
      processes: started,
      keepWorkDir: context.keepWorkDir,
      launchApiServer: apiServer.launch,
    });
  } catch (error) {
    for (const managed of started.reverse()) await managed.stop(2_000);
    throw error;
  }
}

async function startEtcd(
  binDir: string,
  workDir: string,
  timeoutMs: number,
  started: ManagedProcess[],
  orphanCleanupDir: string | undefined,
) {
  const clientPort = await freeLoopbackPort();
  const peerPort = await freeLoopbackPort();
  const clientUrl = `http://127.0.0.1:${clientPort}`;
  const peerUrl = `http://127.0.0.1:${peerPort}`;
  const dataDir = join(workDir, `etcd-data-${clientPort}`);
  const etcd = ManagedProcess.start({
    name: 'etcd',
    command: testInfraBinary('etcd', binDir),
    args: [
      '--name=lpc-e2e',
      `--data-dir=${dataDir}`,
      `--listen-client-urls=${clientUrl}`,
      `--advertise-client-urls=${clientUrl}`,
      `--listen-peer-urls=${peerUrl}`,
      `--initial-advertise-peer-urls=${peerUrl}`,
      `--initial-cluster=lpc-e2e=${peerUrl}`,
      // Test data is disposable: skipping fsync makes etcd much faster on shared disks.
      '--unsafe-no-fsync=true',
      '--log-level=warn',
    ],
    logFile: join(workDir, 'etcd.log'),
    ...(orphanCleanupDir ? { orphanCleanupDir } : {}),
  });
  started.push(etcd);
  await waitUntil(
    `etcd at ${clientUrl}`,
    async () => {
      etcd.assertRunning();
      const response = await fetch(`${clientUrl}/health`);
      const body = (await response.json()) as { health?: unknown };
      return response.ok && body.health === 'true';
    },
    { timeoutMs },
  );
  return clientUrl;
}

/**
 * Picks kube-apiserver's port and flags once; `launch` starts it with them and waits until /readyz answers 200
 * (stopping it again if it never gets there). Called once at start and again by ControlPlane.startApiServer().
 */
async function prepareApiServer(
  binDir: string,
  workDir: string,
  pki: ControlPlanePki,
  etcdUrl: string,
  timeoutMs: number,
  options: ControlPlaneOptions,
): Promise<{ server: string; launch: () => Promise<ManagedProcess> }> {
  const port = await freeLoopbackPort();
  const server = `https://127.0.0.1:${port}`;
  const certDir = join(workDir, 'apiserver-certs');
  mkdirSync(certDir, { recursive: true });
  const args = [
    `--etcd-servers=${etcdUrl}`,
    `--cert-dir=${certDir}`,
    `--tls-cert-file=${pki.serving.certPath}`,
    `--tls-private-key-file=${pki.serving.keyPath}`,
    `--client-ca-file=${pki.ca.certPath}`,
    `--secure-port=${port}`,
    '--bind-address=127.0.0.1',
    '--advertise-address=127.0.0.1',
    '--service-cluster-ip-range=10.0.0.0/24',
    '--allow-privileged=true',
    // No controller-manager creates ServiceAccount tokens, so the admission plugin would reject pods.
    ...(options.serviceAccountAdmission ? [] : ['--disable-admission-plugins=ServiceAccount']),
    '--authorization-mode=RBAC',
    `--service-account-issuer=${server}/`,
    `--service-account-key-file=${pki.serviceAccountPublicKeyPath}`,
    `--service-account-signing-key-file=${pki.serviceAccountPrivateKeyPath}`,
    ...(options.extraApiServerArgs ?? []),
  ];
  const tls = {
    ca: readFileSync(pki.ca.certPath),
    cert: readFileSync(pki.admin.certPath),
    key: readFileSync(pki.admin.keyPath),
  };
  const launch = async (): Promise<ManagedProcess> => {
    const apiServer = ManagedProcess.start({
      name: API_SERVER,
      command: testInfraBinary('kube-apiserver', binDir),
      args,
      // Appended to: a restarted server's lines follow the first one's.
      logFile: join(workDir, 'kube-apiserver.log'),
    });
    try {
      await waitUntil(
        `kube-apiserver at ${server}`,
        async () => {
          apiServer.assertRunning();
          return (await httpsStatus(`${server}/readyz`, tls)) === 200;
        },
        { timeoutMs, intervalMs: 500 },
      );
      return apiServer;
    } catch (error) {
      await apiServer.stop(2_000);
      throw error;
    }
  };
  return { server, launch };
}

function httpsStatus(url: string, tls: { ca: Buffer; cert: Buffer; key: Buffer }): Promise<number> {
  return new Promise((resolveStatus, reject) => {
    const req = request(url, { ...tls, method: 'GET', timeout: 5_000 }, (response) => {
      response.resume();
      resolveStatus(response.statusCode ?? 0);
    });
    req.on('timeout', () => req.destroy(new Error(`timeout requesting ${url}`)));
    req.on('error', reject);
    req.end();
  });
}
