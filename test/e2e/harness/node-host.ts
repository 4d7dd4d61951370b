/**
 * What a single-node cluster changes on the host, and how all of it is undone (synchronously, so a process 'exit'
 * hook can run it): a network namespace joined to the host by a veth pair, a cgroup subtree in every hierarchy,
 * mounts (container root filesystems, volume tmpfs, pod network namespaces) and a few kernel sysctls the kubelet
 * insists on. Every name carries the owning process's pid, so a later run removes what a killed one left behind.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CommandFailedError, ToolMissingError } from './errors.ts';

/** Fixed addresses: only one node runs on a machine at a time (a lock file says whose it is). */
export const NODE_NETWORK = {
  /** The host's end of the veth: kube-apiserver and the test's servers are reachable here from the node and pods. */
  hostIp: '172.31.213.1',
  /** The node's address (the kubelet's, kube-proxy's). */
  nodeIp: '172.31.213.2',
  linkPrefixLength: 30,
  /** Pods get addresses here, on a bridge inside the node's network namespace. */
  podSubnet: '10.244.0.0/24',
  clusterCidr: '10.244.0.0/16',
  /** The harness control plane's --service-cluster-ip-range; its first address is the `kubernetes` Service. */
  serviceCidr: '10.0.0.0/24',
  kubernetesServiceIp: '10.0.0.1',
} as const;

const PREFIX = 'lpc-node-';
const LOCK_FILE = '/run/lpc-e2e-node.lock';
const NETNS_DIR = '/run/netns';
/** The kubelet sets these (protectKernelDefaults: false); they are put back when the node stops. */
const KUBELET_SYSCTLS = [
  'vm/overcommit_memory',
  'vm/panic_on_oom',
  'kernel/panic',
  'kernel/panic_on_oops',
  'kernel/keys/root_maxkeys',
  'kernel/keys/root_maxbytes',
];

export interface NodeHostResources {
  /** `lpc-node-<pid>`: the network namespace's and the cgroup's name. */
  readonly id: string;
  readonly netnsPath: string;
  readonly hostLink: string;
  /** The cgroup (relative to each hierarchy's root) the kubelet puts pods under (cgroupRoot). */
  readonly cgroupRoot: string;
  /** Where containerd and its shims go (`<cgroupRoot>/runtime`), as a path in the pids hierarchy. */
  readonly runtimeCgroupProcs: string;
  readonly workDir: string;
  readonly sysctls: ReadonlyMap<string, string>;
  readonly netnsBefore: ReadonlySet<string>;
}

export function run(command: string, args: readonly string[], input?: string): string {
  const result = spawnSync(command, args, { encoding: 'utf8', input: input ?? '', timeout: 60_000 });
  if (result.error) {
    const code = (result.error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT')
      throw new ToolMissingError(command, 'not found (is it installed and on PATH?)', result.error);
    throw result.error;
  }
  if (result.status !== 0) {
    throw new CommandFailedError(command, args, result.status, result.stdout, result.stderr);
  }
  return result.stdout;
}

function tryRun(command: string, args: readonly string[]): void {
  spawnSync(command, args, { stdio: 'ignore', timeout: 30_000 });
}

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

interface Mount {
  readonly mountPoint: string;
  readonly fsType: string;
}

function mounts(): Mount[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => {
      const fields = line.split(' ');
      const separator = fields.indexOf('-');
      const unescapeOctal = (s: string) =>
        s.replace(/\\([0-7]{3})/g, (_m, octal: string) => String.fromCharCode(Number.parseInt(octal, 8)));
      return { mountPoint: unescapeOctal(fields[4] ?? ''), fsType: fields[separator + 1] ?? '' };
    });
}

/**
 * Mount points of the cgroup hierarchies: every v1 controller's, or the single v2 one. `all` adds the v2 hierarchy
 * a hybrid host also mounts (runc makes its cgroups there too, so they must be removed there).
 */
export function cgroupHierarchies(): {
  readonly paths: string[];
  readonly all: string[];
  readonly pidsPath: string;
  readonly v2: boolean;
} {
  const mounted = mounts();
  const v1 = mounted.filter((m) => m.fsType === 'cgroup').map((m) => m.mountPoint);
  const unified = mounted.filter((m) => m.fsType === 'cgroup2').map((m) => m.mountPoint);
  if (v1.length > 0) {
    const pids = v1.find((p) => p.endsWith('/pids'));
    if (!pids) throw new Error('no pids cgroup hierarchy is mounted: the node cannot track its processes');
    return { paths: v1, all: [...v1, ...unified], pidsPath: pids, v2: false };
  }
  const [root] = unified;
  if (root === undefined) throw new Error('no cgroup hierarchy is mounted under /sys/fs/cgroup');
  return { paths: [root], all: [root], pidsPath: root, v2: true };
}

function netnsNames(): string[] {
  return existsSync(NETNS_DIR) ? readdirSync(NETNS_DIR) : [];
}

/**
 * Takes the machine's node lock (only one node at a time: the addresses are fixed), removes what a dead run left,
 * and makes the namespace, veth pair, cgroups and work folder. Throws if another live process holds the lock.
 */
export function createNodeHost(workRoot: string): NodeHostResources {
  takeLock();
  sweepStale();
  const id = `${PREFIX}${process.pid}`;
  const workDir = join(workRoot, id);
  rmSync(workDir, { recursive: true, force: true });
  mkdirSync(workDir, { recursive: true });
  const sysctls = new Map(KUBELET_SYSCTLS.map((key) => [key, readSysctl(key)] as const).filter(([, v]) => v !== ''));
  const netnsBefore = new Set(netnsNames());
  const resources: NodeHostResources = {
    id,
    netnsPath: join(NETNS_DIR, id),
    hostLink: `lpch${process.pid}`,
    cgroupRoot: `/${id}`,
    runtimeCgroupProcs: join(cgroupHierarchies().pidsPath, id, 'runtime', 'cgroup.procs'),
    workDir,
    sysctls,
    netnsBefore,
  };
  writeFileSync(join(workDir, 'sysctls.json'), JSON.stringify(Object.fromEntries(sysctls)));
  try {
    createNetwork(resources);
    createCgroups(resources);
  } catch (error) {
    removeNodeHost(resources);
    throw error;
  }
  return resources;
}

function createNetwork(r: NodeHostResources): void {
  const { hostIp, nodeIp, linkPrefixLength } = NODE_NETWORK;
  const peer = `lpcp${process.pid}`;
  const inNs = (...args: string[]) => run('ip', ['netns', 'exec', r.id, ...args]);
  run('ip', ['netns', 'add', r.id]);
  run('ip', ['link', 'add', r.hostLink, 'type', 'veth', 'peer', 'name', peer]);
  run('ip', ['link', 'set', peer, 'netns', r.id]);
  run('ip', ['addr', 'add', `${hostIp}/${linkPrefixLength}`, 'dev', r.hostLink]);
  run('ip', ['link', 'set', r.hostLink, 'up']);
  inNs('ip', 'link', 'set', peer, 'name', 'eth0');
  inNs('ip', 'addr', 'add', `${nodeIp}/${linkPrefixLength}`, 'dev', 'eth0');
  inNs('ip', 'link', 'set', 'eth0', 'up');
  inNs('ip', 'link', 'set', 'lo', 'up');
  inNs('ip', 'route', 'add', 'default', 'via', hostIp);
  // Pods reach the host through the node: it routes, and (per namespace) bridged traffic meets iptables, which
  // kube-proxy's Service rules need.
  inNs('sysctl', '-q', '-w', 'net.ipv4.ip_forward=1');
  inNs('sysctl', '-q', '-w', 'net.bridge.bridge-nf-call-iptables=1');
}

function createCgroups(r: NodeHostResources): void {
  const { paths, v2 } = cgroupHierarchies();
  for (const hierarchy of paths) {
    const dir = join(hierarchy, r.id);
    mkdirSync(join(dir, 'runtime'), { recursive: true });
    if (hierarchy.endsWith('/cpuset') || hierarchy.includes('cpuset,')) {
      // A new v1 cpuset starts with no CPUs and no memory nodes: nothing could run in it.
      for (const file of ['cpuset.cpus', 'cpuset.mems']) {
        const value = readFileSync(join(hierarchy, file), 'utf8').trim();
        writeFileSync(join(dir, file), value);
        writeFileSync(join(dir, 'runtime', file), value);
      }
    }
    if (v2) {
      const controllers = readFileSync(join(hierarchy, 'cgroup.controllers'), 'utf8').trim().split(/\s+/);
      writeFileSync(join(dir, 'cgroup.subtree_control'), controllers.map((c) => `+${c}`).join(' '));
    }
  }
}

function readSysctl(key: string): string {
  try {
    return readFileSync(join('/proc/sys', key), 'utf8').trim();
  } catch {
    return '';
  }
}

function takeLock(): void {
  if (existsSync(LOCK_FILE)) {
    const owner = Number.parseInt(readFileSync(LOCK_FILE, 'utf8'), 10);
    if (Number.isInteger(owner) && owner !== process.pid && pidAlive(owner)) {
      throw new Error(`another single-node cluster runs on this machine (pid ${owner}, ${LOCK_FILE}); only one can`);
    }
  }
  writeFileSync(LOCK_FILE, String(process.pid));
}

/** Removes the node resources of every `lpc-node-<pid>` whose process is gone. */
function sweepStale(): void {
  const ids = new Set<string>();
  for (const name of netnsNames()) if (name.startsWith(PREFIX)) ids.add(name);
  for (const hierarchy of cgroupHierarchies().all) {
    for (const name of readdirSync(hierarchy)) if (name.startsWith(PREFIX)) ids.add(name);
  }
  for (const id of ids) {
    const pid = Number.parseInt(id.slice(PREFIX.length), 10);
    if (pid === process.pid || pidAlive(pid)) continue;
    removeNodeHost({
      id,
      netnsPath: join(NETNS_DIR, id),
      hostLink: `lpch${pid}`,
      cgroupRoot: `/${id}`,
      runtimeCgroupProcs: '',
      workDir: join('/tmp', id),
      sysctls: new Map(),
      netnsBefore: new Set(netnsNames().filter((n) => !n.startsWith('cni-'))),
    });
  }
}

/** Every process in the node's cgroup subtree (containerd, shims, containers; the kubelet's pods). */
function treeProcesses(dir: string): number[] {
  if (!existsSync(dir)) return [];
  const pids: number[] = [];
  const walk = (d: string) => {
    try {
      for (const line of readFileSync(join(d, 'cgroup.procs'), 'utf8').split('\n')) {
        const pid = Number.parseInt(line, 10);
        if (Number.isInteger(pid)) pids.push(pid);
      }
      for (const entry of readdirSync(d, { withFileTypes: true })) if (entry.isDirectory()) walk(join(d, entry.name));
    } catch {
      // A cgroup removed while walking.
    }
  };
  walk(dir);
  return pids;
}

function cgroupDirsDeepestFirst(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  const walk = (d: string) => {
    try {
      for (const entry of readdirSync(d, { withFileTypes: true })) if (entry.isDirectory()) walk(join(d, entry.name));
    } catch {
      // Gone already.
    }
    out.push(d);
  };
  walk(dir);
  return out;
}

/**
 * Undoes everything createNodeHost (and what ran in the node) made: kills every process of the cgroup subtree,
 * unmounts what is mounted under the work folder and the pod network namespaces that appeared, deletes the node's
 * network namespace (its veth pair and iptables rules go with it), puts the sysctls back, removes the cgroups,
 * the work folder and the lock. Synchronous and idempotent; never throws.
 */
export function removeNodeHost(r: NodeHostResources): void {
  try {
    const { all, pidsPath } = cgroupHierarchies();
    const tree = join(pidsPath, r.id);
    for (let attempt = 0; attempt < 50; attempt++) {
      const pids = treeProcesses(tree);
      if (pids.length === 0) break;
      for (const pid of pids) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // Already gone.
        }
      }
      sleepSync(100);
    }
    const isOurs = (mountPoint: string) => {
      if (mountPoint === r.workDir || mountPoint.startsWith(`${r.workDir}/`)) return true;
      const netns = mountPoint.match(/^\/(?:var\/)?run\/netns\/(cni-[^/]+)$/)?.[1];
      return netns !== undefined && !r.netnsBefore.has(netns);
    };
    const ours = mounts()
      .map((m) => m.mountPoint)
      .filter(isOurs)
      .sort((a, b) => b.length - a.length);
    for (const mountPoint of ours) tryRun('umount', ['--lazy', mountPoint]);
    for (const name of netnsNames()) {
      if (name === r.id || (name.startsWith('cni-') && !r.netnsBefore.has(name)))
        tryRun('ip', ['netns', 'delete', name]);
    }
    // The host's end of the veth is normally gone with the namespace.
    tryRun('ip', ['link', 'delete', r.hostLink]);
    for (const [key, value] of restoreSysctls(r)) {
      try {
        writeFileSync(join('/proc/sys', key), value);
      } catch {
        // Read-only here; nothing to put back.
      }
    }
    for (const hierarchy of all) {
      for (const dir of cgroupDirsDeepestFirst(join(hierarchy, r.id))) {
        try {
          rmdirSync(dir);
        } catch {
          // Busy: a process outlived the kill loop; a later run's sweep retries.
        }
      }
    }
    // LPC_E2E_KEEP=1 keeps the logs and configs (everything mounted is gone by now).
    if (process.env.LPC_E2E_KEEP !== '1') rmSync(r.workDir, { recursive: true, force: true });
    if (existsSync(LOCK_FILE) && readFileSync(LOCK_FILE, 'utf8').trim() === r.id.slice(PREFIX.length)) {
      rmSync(LOCK_FILE, { force: true });
    }
  } catch {
    // Best effort: this also runs from a process 'exit' hook.
  }
}

function restoreSysctls(r: NodeHostResources): Map<string, string> {
  if (r.sysctls.size > 0) return new Map(r.sysctls);
  try {
    const saved = JSON.parse(readFileSync(join(r.workDir, 'sysctls.json'), 'utf8')) as Record<string, string>;
    return new Map(Object.entries(saved));
  } catch {
    return new Map();
  }
}
