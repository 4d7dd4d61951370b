/**
 * Where the single node's binaries live (kubelet & co., CNI plugins, the pause image): the same cache path as
 * `node_dir` in hack/lib/node.sh, computed from hack/versions.env. containerd, runc and ctr are Debian packages on
 * PATH; hack/ensure-node-infra.sh checks their versions.
 */
import { accessSync, constants, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseVersionsEnv, REPO_ROOT, testInfraCacheRoot, VERSIONS_FILE } from './binaries.ts';
import { TestInfraError } from './errors.ts';

export const ENSURE_NODE_SCRIPT = join(REPO_ROOT, 'hack', 'ensure-node-infra.sh');
export const BUILD_IMAGE_SCRIPT = join(REPO_ROOT, 'hack', 'build-image.sh');

export const NODE_TOOLS = ['kubelet', 'kube-scheduler', 'kube-controller-manager', 'kube-proxy'] as const;
export const CNI_PLUGINS = ['bridge', 'host-local', 'loopback', 'portmap'] as const;

export interface NodeInfra {
  /** kubelet, kube-scheduler, kube-controller-manager, kube-proxy */
  readonly binDir: string;
  /** The CNI plugins (containerd's bin_dir for CNI). */
  readonly cniBinDir: string;
  /** docker-archive of the sandbox image, tagged `pauseImage`. */
  readonly pauseArchive: string;
  readonly pauseImage: string;
}

/** Same string as `node_versions_key` in hack/lib/node.sh. */
export function nodeVersionsKey(values: Record<string, string>): string {
  const need = (key: string): string => {
    const value = values[key];
    if (value === undefined || value === '') {
      throw new TestInfraError('TEST_INFRA_MISSING', `${VERSIONS_FILE} does not set ${key}`);
    }
    return value;
  };
  const pauseTag = need('PAUSE_IMAGE').split(':').at(-1);
  return (
    `node-k8s-${need('KUBERNETES_VERSION')}_cni-${need('CNI_PLUGINS_VERSION')}_containerd-${need('CONTAINERD_VERSION')}` +
    `_runc-${need('RUNC_VERSION')}_pause-${pauseTag}_n${need('NODE_RECIPE_REVISION')}`
  );
}

/** The node's binaries for the pinned versions; throws (telling to run hack/ensure-node-infra.sh) when incomplete. */
export function nodeInfra(env: NodeJS.ProcessEnv = process.env): NodeInfra {
  const values = parseVersionsEnv(readFileSync(VERSIONS_FILE, 'utf8'));
  const dir = join(testInfraCacheRoot(env), nodeVersionsKey(values));
  const infra: NodeInfra = {
    binDir: join(dir, 'bin'),
    cniBinDir: join(dir, 'cni'),
    pauseArchive: join(dir, 'images', 'pause.tar'),
    pauseImage: values.PAUSE_IMAGE ?? '',
  };
  const missing = [
    ...NODE_TOOLS.filter((tool) => !isExecutable(join(infra.binDir, tool))),
    ...CNI_PLUGINS.filter((plugin) => !isExecutable(join(infra.cniBinDir, plugin))).map((p) => `cni/${p}`),
    ...(isReadable(infra.pauseArchive) ? [] : ['images/pause.tar']),
  ];
  if (missing.length > 0) {
    throw new TestInfraError(
      'TEST_INFRA_MISSING',
      `the single-node cluster is not built: ${missing.join(', ')} missing in ${dir}. Run hack/ensure-node-infra.sh ` +
        '(needs root, Go, and the Debian packages containerd, runc, iptables, buildah).',
    );
  }
  return infra;
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function isReadable(path: string): boolean {
  try {
    accessSync(path, constants.R_OK);
    return true;
  } catch {
    return false;
  }
}
