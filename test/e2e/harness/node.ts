/**
 * A single-node Kubernetes cluster that runs pods, for the install e2e: the harness control plane (etcd +
 * kube-apiserver, test/e2e/harness/control-plane.ts) plus kube-controller-manager, kube-scheduler, and a node —
 * containerd + runc, the kubelet, kube-proxy and a CNI bridge — inside a network namespace of its own, so its
 * iptables rules, bridge and ports never touch the host's. The node reaches kube-apiserver, and pods reach the
 * test's servers, at NODE_NETWORK.hostIp (the host's end of a veth pair); nothing listens outside this machine.
 *
 *   const cluster = await startNodeCluster({ images: [archive] });
 *   try { await cluster.kubectl(['get', 'nodes']); } finally { await cluster.stop(); }
 *
 * Needs root, and what hack/ensure-node-infra.sh builds and checks. stop() (and a process 'exit' hook) kills every
 * process of the node's cgroup subtree, unmounts, and deletes the namespaces and cgroups (node-host.ts).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClientCertificate } from './certs.ts';
import type { ClusterClient } from './cluster-client.ts';
import { type ControlPlane, startControlPlane } from './control-plane.ts';
import { writeKubeconfig } from './kubeconfig.ts';
import { type NodeInfra, nodeInfra } from './node-binaries.ts';
import { createNodeHost, NODE_NETWORK, type NodeHostResources, removeNodeHost, run } from './node-host.ts';
import { ManagedProcess, onProcessExit } from './processes.ts';
import { waitUntil } from './wait.ts';

export const NODE_NAME = 'lpc-node';

export interface NodeClusterOptions {
  /** docker-archives imported into the node's containerd (k8s.io namespace) before the node registers. */
  readonly images?: readonly string[];
  /** Hang guard for each component's readiness. Default 180 s. */
  readonly readyTimeoutMs?: number;
  /** Keep the control plane's work folder (logs) after stop(). Default: env LPC_E2E_KEEP=1. */
  readonly keepWorkDir?: boolean;
}

export interface ContainerProcess {
  /** The container's init process on the host (its PID 1). */
  readonly pid: number;
  /** VmRSS of that process, in bytes. */
  readonly rssBytes: number;
  /** The numeric uid it runs as. */
  readonly uid: number;
  /** Whether its root filesystem is mounted read-only (as the process sees /). */
  readonly readOnlyRoot: boolean;
}

export class NodeCluster {
  readonly controlPlane: ControlPlane;
  readonly hostIp = NODE_NETWORK.hostIp;
  readonly nodeIp = NODE_NETWORK.nodeIp;
  readonly containerdSocket: string;
  private readonly host: NodeHostResources;
  private readonly processes: ManagedProcess[];
  private readonly forgetExitHook: () => void;
  private stopping: Promise<void> | undefined;

  constructor(init: {
    controlPlane: ControlPlane;
    host: NodeHostResources;
    containerdSocket: string;
    processes: ManagedProcess[];
    forgetExitHook: () => void;
  }) {
    this.controlPlane = init.controlPlane;
    this.host = init.host;
    this.containerdSocket = init.containerdSocket;
    this.processes = init.processes;
    this.forgetExitHook = init.forgetExitHook;
  }

  get client(): ClusterClient {
    return this.controlPlane;
  }

  /** Logs of the node's components: containerd.log, kubelet.log, kube-proxy.log, ... */
  get logDir(): string {
    return this.host.workDir;
  }

  kubectl(...args: Parameters<ControlPlane['kubectl']>): ReturnType<ControlPlane['kubectl']> {
    return this.controlPlane.kubectl(...args);
  }

  helm(...args: Parameters<ControlPlane['helm']>): ReturnType<ControlPlane['helm']> {
    return this.controlPlane.helm(...args);
  }

  /** `ctr -n k8s.io <args>` against the node's containerd. */
  ctr(args: readonly string[]): string {
    return run('ctr', ['--address', this.containerdSocket, '--namespace', 'k8s.io', ...args]);
  }

  importImage(archive: string): void {
    this.ctr(['images', 'import', archive]);
  }

  /** The host view of a running container (`containerID` as in a pod's status: `containerd://<id>`). */
  containerProcess(containerID: string): ContainerProcess {
    const id = containerID.replace(/^containerd:\/\//, '');
    const line = this.ctr(['tasks', 'ls'])
      .split('\n')
      .find((l) => l.startsWith(`${id} `));
    const pid = Number.parseInt(line?.trim().split(/\s+/)[1] ?? '', 10);
    if (!Number.isInteger(pid) || pid <= 0) throw new Error(`no running task for container ${id}`);
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const field = (name: string) => status.match(new RegExp(`^${name}:\\s+(\\d+)`, 'm'))?.[1];
    const rootMount = readFileSync(`/proc/${pid}/mountinfo`, 'utf8')
      .split('\n')
      .find((l) => l.split(' ')[4] === '/');
    return {
      pid,
      rssBytes: Number(field('VmRSS') ?? 0) * 1024,
      uid: Number(field('Uid') ?? -1),
      readOnlyRoot: rootMount?.split(' ')[5]?.split(',').includes('ro') ?? false,
    };
  }

  /** Stops the node (kube-proxy, kubelet, scheduler, controller-manager), removes what it left, then the control plane. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      for (const managed of [...this.processes].reverse()) await managed.stop(5_000);
      removeNodeHost(this.host);
      this.forgetExitHook();
      await this.controlPlane.stop();
    })();
    return this.stopping;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.stop();
  }
}

const DEFAULT_READY_TIMEOUT_MS = 180_000;

export async function startNodeCluster(options: NodeClusterOptions = {}): Promise<NodeCluster> {
  const infra = nodeInfra();
  const readyTimeoutMs = options.readyTimeoutMs ?? DEFAULT_READY_TIMEOUT_MS;
  const host = createNodeHost(tmpdir());
  const forgetExitHook = onProcessExit(() => removeNodeHost(host));
  const processes: ManagedProcess[] = [];
  let controlPlane: ControlPlane | undefined;
  try {
    controlPlane = await startControlPlane({
      readyTimeoutMs,
      ...(options.keepWorkDir !== undefined ? { keepWorkDir: options.keepWorkDir } : {}),
      servingCertificateIps: [NODE_NETWORK.hostIp, NODE_NETWORK.kubernetesServiceIp],
      serviceAccountAdmission: true,
      extraApiServerArgs: [
        // Listen on the veth too (the node and pods come from there); the `kubernetes` Service points at it.
        '--bind-address=0.0.0.0',
        `--advertise-address=${NODE_NETWORK.hostIp}`,
        // `kubectl logs` goes to the kubelet at the node's address (its name resolves nowhere).
        '--kubelet-preferred-address-types=InternalIP',
      ],
    });
    const kubeconfigs = await nodeKubeconfigs(controlPlane, host);
    const socket = join(host.workDir, 'containerd', 'containerd.sock');
    processes.push(await startContainerd(infra, host, socket, readyTimeoutMs));
    const ctr = (args: string[]) => run('ctr', ['--address', socket, '--namespace', 'k8s.io', ...args]);
    for (const archive of [infra.pauseArchive, ...(options.images ?? [])]) ctr(['images', 'import', archive]);
    processes.push(startControllerManager(infra, host, controlPlane, kubeconfigs.admin));
    processes.push(startScheduler(infra, host, kubeconfigs.admin));
    processes.push(startKubelet(infra, host, socket, kubeconfigs.kubelet));
    processes.push(startKubeProxy(infra, host, kubeconfigs.admin));
    const cluster = new NodeCluster({ controlPlane, host, containerdSocket: socket, processes, forgetExitHook });
    await waitNodeReady(cluster, processes, readyTimeoutMs);
    return cluster;
  } catch (error) {
    for (const managed of processes.reverse()) await managed.stop(2_000);
    removeNodeHost(host);
    forgetExitHook();
    await controlPlane?.stop();
    throw error;
  }
}

/** The command in the node's network namespace only (same mounts as the host: the kubelet and containerd share them). */
function inNode(
  host: NodeHostResources,
  command: string,
  args: readonly string[],
): { command: string; args: string[] } {
  return { command: 'nsenter', args: [`--net=${host.netnsPath}`, '--', command, ...args] };
}

async function nodeKubeconfigs(controlPlane: ControlPlane, host: NodeHostResources) {
  const server = controlPlane.server.replace('127.0.0.1', NODE_NETWORK.hostIp);
  const certDir = join(controlPlane.workDir, 'certs');
  const write = async (name: string, user: string, groups: string[]) => {
    const files = await createClientCertificate(certDir, `node-${name}`, controlPlane.pki.ca, { user, groups });
    return writeKubeconfig(join(host.workDir, `${name}.kubeconfig`), {
      server,
      caPem: controlPlane.caPem,
      credentials: {
        kind: 'clientCertificate',
        certPem: readFileSync(files.certPath, 'utf8'),
        keyPem: readFileSync(files.keyPath, 'utf8'),
      },
    });
  };
  // The harness authorizes with RBAC only (no Node authorizer), so the node's components are cluster admins.
  return {
    admin: await write('admin', 'lpc-node-components', ['system:masters']),
    kubelet: await write('kubelet', `system:node:${NODE_NAME}`, ['system:nodes', 'system:masters']),
  };
}

async function startContainerd(
  infra: NodeInfra,
  host: NodeHostResources,
  socket: string,
  timeoutMs: number,
): Promise<ManagedProcess> {
  const dir = join(host.workDir, 'containerd');
  const cniConfDir = join(host.workDir, 'cni', 'net.d');
  run('mkdir', ['-p', dir, cniConfDir, join(host.workDir, 'cni', 'ipam')]);
  writeFileSync(
    join(cniConfDir, '10-lpc.conflist'),
    JSON.stringify({
      cniVersion: '1.0.0',
      name: 'lpc',
      plugins: [
        {
          type: 'bridge',
          bridge: 'lpc0',
          isGateway: true,
          ipMasq: true,
          hairpinMode: true,
          ipam: {
            type: 'host-local',
            ranges: [[{ subnet: NODE_NETWORK.podSubnet }]],
            routes: [{ dst: '0.0.0.0/0' }],
            dataDir: join(host.workDir, 'cni', 'ipam'),
          },
        },
        { type: 'portmap', capabilities: { portMappings: true } },
      ],
    }),
  );
  const config = join(dir, 'config.toml');
  writeFileSync(
    config,
    [
      'version = 2',
      `root = ${JSON.stringify(join(dir, 'root'))}`,
      `state = ${JSON.stringify(join(dir, 'state'))}`,
      '[grpc]',
      `  address = ${JSON.stringify(socket)}`,
      '[plugins."io.containerd.internal.v1.opt"]',
      `  path = ${JSON.stringify(join(dir, 'opt'))}`,
      '[plugins."io.containerd.grpc.v1.cri"]',
      `  sandbox_image = ${JSON.stringify(infra.pauseImage)}`,
      // Root here may lack CAP_SYS_RESOURCE (it is itself in a container): a sandbox's oom_score_adj of -998 would
      // fail every pod; clamp to containerd's own score instead.
      '  restrict_oom_score_adj = true',
      '  [plugins."io.containerd.grpc.v1.cri".containerd]',
      '    snapshotter = "overlayfs"',
      '    default_runtime_name = "runc"',
      '    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]',
      '      runtime_type = "io.containerd.runc.v2"',
      '      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]',
      '        SystemdCgroup = false',
      '  [plugins."io.containerd.grpc.v1.cri".cni]',
      `    bin_dir = ${JSON.stringify(infra.cniBinDir)}`,
      `    conf_dir = ${JSON.stringify(cniConfDir)}`,
      '',
    ].join('\n'),
  );
  // containerd and the shims it starts (they outlive it by design) go into the node's cgroup subtree, which stop()
  // empties: that is how no container survives the test.
  const launch = inNode(host, 'containerd', ['--config', config]);
  const containerd = ManagedProcess.start({
    name: 'containerd',
    command: 'sh',
    args: [
      '-c',
      'echo $$ > "$1" && shift && exec "$@"',
      'lpc-containerd',
      host.runtimeCgroupProcs,
      launch.command,
      ...launch.args,
    ],
    logFile: join(host.workDir, 'containerd.log'),
  });
  await waitUntil(
    `containerd at ${socket}`,
    async () => {
      containerd.assertRunning();
      run('ctr', ['--address', socket, 'version']);
      return true;
    },
    { timeoutMs, intervalMs: 250 },
  );
  return containerd;
}

function startControllerManager(
  infra: NodeInfra,
  host: NodeHostResources,
  controlPlane: ControlPlane,
  kubeconfig: string,
): ManagedProcess {
  const launch = inNode(host, join(infra.binDir, 'kube-controller-manager'), [
    `--kubeconfig=${kubeconfig}`,
    `--authentication-kubeconfig=${kubeconfig}`,
    `--authorization-kubeconfig=${kubeconfig}`,
    '--bind-address=127.0.0.1',
    '--leader-elect=false',
    // Signs legacy tokens and publishes the CA every pod's token volume carries (kube-root-ca.crt).
    `--service-account-private-key-file=${controlPlane.pki.serviceAccountPrivateKeyPath}`,
    `--root-ca-file=${controlPlane.pki.ca.certPath}`,
    '--use-service-account-credentials=false',
    `--cluster-cidr=${NODE_NETWORK.clusterCidr}`,
    `--service-cluster-ip-range=${NODE_NETWORK.serviceCidr}`,
    '--v=1',
  ]);
  return ManagedProcess.start({
    name: 'kube-controller-manager',
    ...launch,
    logFile: join(host.workDir, 'kube-controller-manager.log'),
  });
}

function startScheduler(infra: NodeInfra, host: NodeHostResources, kubeconfig: string): ManagedProcess {
  const launch = inNode(host, join(infra.binDir, 'kube-scheduler'), [
    `--kubeconfig=${kubeconfig}`,
    `--authentication-kubeconfig=${kubeconfig}`,
    `--authorization-kubeconfig=${kubeconfig}`,
    '--bind-address=127.0.0.1',
    '--leader-elect=false',
    '--v=1',
  ]);
  return ManagedProcess.start({ name: 'kube-scheduler', ...launch, logFile: join(host.workDir, 'kube-scheduler.log') });
}

function startKubelet(infra: NodeInfra, host: NodeHostResources, socket: string, kubeconfig: string): ManagedProcess {
  const dir = join(host.workDir, 'kubelet');
  run('mkdir', ['-p', dir, join(dir, 'pod-logs')]);
  const config = join(dir, 'config.yaml');
  writeFileSync(
    config,
    JSON.stringify({
      apiVersion: 'kubelet.config.k8s.io/v1beta1',
      kind: 'KubeletConfiguration',
      // This machine mounts cgroup v1; Kubernetes 1.35 refuses it unless told otherwise.
      failCgroupV1: false,
      cgroupDriver: 'cgroupfs',
      cgroupRoot: host.cgroupRoot,
      containerRuntimeEndpoint: `unix://${socket}`,
      address: NODE_NETWORK.nodeIp,
      readOnlyPort: 0,
      healthzBindAddress: '127.0.0.1',
      // The API server's `kubectl logs` calls come from the host; the kubelet listens only inside the namespace.
      authentication: { anonymous: { enabled: true }, webhook: { enabled: false } },
      authorization: { mode: 'AlwaysAllow' },
      podLogsDir: join(dir, 'pod-logs'),
      failSwapOn: false,
      resolvConf: '',
      // Test data is small; never evict or collect images for disk pressure on a shared disk.
      evictionHard: { 'memory.available': '50Mi', 'nodefs.available': '1%', 'imagefs.available': '1%' },
      imageGCHighThresholdPercent: 100,
      imageGCLowThresholdPercent: 99,
      serializeImagePulls: false,
      registerNode: true,
      nodeStatusUpdateFrequency: '5s',
    }),
  );
  const launch = inNode(host, join(infra.binDir, 'kubelet'), [
    `--config=${config}`,
    `--kubeconfig=${kubeconfig}`,
    `--root-dir=${join(dir, 'root')}`,
    `--cert-dir=${join(dir, 'pki')}`,
    `--hostname-override=${NODE_NAME}`,
    `--node-ip=${NODE_NETWORK.nodeIp}`,
    '--v=1',
  ]);
  return ManagedProcess.start({ name: 'kubelet', ...launch, logFile: join(host.workDir, 'kubelet.log') });
}

function startKubeProxy(infra: NodeInfra, host: NodeHostResources, kubeconfig: string): ManagedProcess {
  const config = join(host.workDir, 'kube-proxy.yaml');
  writeFileSync(
    config,
    JSON.stringify({
      apiVersion: 'kubeproxy.config.k8s.io/v1alpha1',
      kind: 'KubeProxyConfiguration',
      clientConnection: { kubeconfig },
      mode: 'iptables',
      clusterCIDR: NODE_NETWORK.clusterCidr,
      hostnameOverride: NODE_NAME,
      bindAddress: NODE_NETWORK.nodeIp,
      // nf_conntrack_max is global to the machine: leave it (and the per-namespace timeouts) alone.
      conntrack: { maxPerCore: 0, min: 0, tcpEstablishedTimeout: '0s', tcpCloseWaitTimeout: '0s' },
    }),
  );
  const launch = inNode(host, join(infra.binDir, 'kube-proxy'), [`--config=${config}`, '--v=1']);
  return ManagedProcess.start({ name: 'kube-proxy', ...launch, logFile: join(host.workDir, 'kube-proxy.log') });
}

async function waitNodeReady(
  cluster: NodeCluster,
  processes: readonly ManagedProcess[],
  timeoutMs: number,
): Promise<void> {
  await waitUntil(
    `node ${NODE_NAME} Ready (logs in ${cluster.logDir})`,
    async () => {
      for (const managed of processes) managed.assertRunning();
      const result = await cluster.kubectl(['get', 'node', NODE_NAME, '-o', 'json'], { check: false });
      if (result.exitCode !== 0) return false;
      const node = JSON.parse(result.stdout) as { status?: { conditions?: { type: string; status: string }[] } };
      return node.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
    },
    { timeoutMs, intervalMs: 1_000 },
  );
  // Pods need their ServiceAccount token volume's CA: published by the controller-manager per namespace.
  await waitUntil(
    'kube-root-ca.crt in namespace default',
    async () => (await cluster.kubectl(['get', 'configmap', 'kube-root-ca.crt'], { check: false })).exitCode === 0,
    { timeoutMs, intervalMs: 500 },
  );
}
