/**
 * Talking to a test control plane: kubectl and helm with its kubeconfig, and kubeconfigs for other identities
 * (a ServiceAccount's token, or admin impersonating someone) to prove RBAC is enough, and not more.
 */
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { testInfraBinary, testInfraBinDir } from './binaries.ts';
import { type CommandResult, type RunOptions, runCommand } from './exec.ts';
import { type AdminKubeconfig, readAdminKubeconfig, writeKubeconfig } from './kubeconfig.ts';
import { waitUntil } from './wait.ts';

export interface ClusterCommandOptions extends RunOptions {
  /** Run as someone else: a kubeconfig from serviceAccountKubeconfig()/impersonatingKubeconfig(). Default: admin. */
  readonly kubeconfig?: string;
}

export interface ServiceAccountIdentity {
  readonly namespace: string;
  readonly name: string;
  /** Create the namespace and ServiceAccount if they do not exist (default true). */
  readonly create?: boolean;
  /** Token lifetime passed to `kubectl create token --duration` (default 2h). */
  readonly duration?: string;
}

export interface ServiceAccountKubeconfig {
  readonly kubeconfigPath: string;
  readonly token: string;
  /** The user name the API server sees: system:serviceaccount:<namespace>:<name>. */
  readonly username: string;
}

let attachedClients = 0;

export class ClusterClient {
  /** https://127.0.0.1:<port> */
  readonly server: string;
  /** Admin kubeconfig (CN=admin, O=system:masters). */
  readonly kubeconfigPath: string;
  readonly binDir: string;
  /** Scratch folder for generated kubeconfigs and helm's cache/config/data (default: beside the kubeconfig). */
  readonly scratchDir: string;
  protected readonly admin: AdminKubeconfig;
  private generated = 0;

  constructor(options: { kubeconfigPath: string; binDir?: string; scratchDir?: string }) {
    this.kubeconfigPath = options.kubeconfigPath;
    this.admin = readAdminKubeconfig(options.kubeconfigPath);
    this.server = this.admin.server;
    this.binDir = options.binDir ?? testInfraBinDir();
    // By default next to the kubeconfig: for a harness control plane that is its work folder, removed with it.
    this.scratchDir =
      options.scratchDir ?? join(dirname(options.kubeconfigPath), `client-${process.pid}-${++attachedClients}`);
    mkdirSync(this.scratchDir, { recursive: true });
  }

  /** PEM of the cluster CA (e.g. for a Node HTTPS client or @kubernetes/client-node). */
  get caPem(): string {
    return this.admin.caPem;
  }

  /** `kubectl <args>` against this cluster; rejects on a non-zero exit unless `check: false`. */
  kubectl(args: readonly string[], options: ClusterCommandOptions = {}): Promise<CommandResult> {
    return runCommand(testInfraBinary('kubectl', this.binDir), args, this.commandOptions(options));
  }

  /**
   * Waits until the CRD reports Established. Polled rather than `kubectl wait --for=condition=Established`, which
   * fails at once ("conditions accessor error") when it reads the CRD before the API server wrote any condition,
   * as happens under load.
   */
  async waitCrdEstablished(crdName: string, timeoutMs = 60_000): Promise<void> {
    await waitUntil(
      `CRD ${crdName} Established`,
      async () => {
        const result = await this.kubectl([
          'get',
          `crd/${crdName}`,
          '-o',
          'jsonpath={.status.conditions[?(@.type=="Established")].status}',
        ]);
        return result.stdout.trim() === 'True';
      },
      { timeoutMs },
    );
  }

  /** `kubectl <args> -o json`, parsed. */
  async kubectlJson<T = unknown>(args: readonly string[], options: ClusterCommandOptions = {}): Promise<T> {
    const result = await this.kubectl([...args, '-o', 'json'], options);
    return JSON.parse(result.stdout) as T;
  }

  /** `kubectl apply -f -` with the given YAML/JSON (server-side validation, like a user's apply). */
  apply(manifest: string, options: ClusterCommandOptions = {}): Promise<CommandResult> {
    return this.kubectl(['apply', '-f', '-'], { ...options, input: manifest });
  }

  /** `helm <args>` against this cluster, with helm's cache/config/data kept in the scratch folder. */
  helm(args: readonly string[], options: ClusterCommandOptions = {}): Promise<CommandResult> {
    const helmHome = join(this.scratchDir, 'helm');
    const base = this.commandOptions(options);
    return runCommand(testInfraBinary('helm', this.binDir), args, {
      ...base,
      env: {
        HELM_CACHE_HOME: join(helmHome, 'cache'),
        HELM_CONFIG_HOME: join(helmHome, 'config'),
        HELM_DATA_HOME: join(helmHome, 'data'),
        ...base.env,
      },
    });
  }

  /**
   * A kubeconfig that authenticates as a ServiceAccount with a bound token (TokenRequest API, like a pod's
   * projected token). Grant it permissions with a Role/ClusterRole binding before using it.
   */
  async serviceAccountKubeconfig(identity: ServiceAccountIdentity): Promise<ServiceAccountKubeconfig> {
    const { namespace, name } = identity;
    if (identity.create !== false) {
      await this.apply(
        JSON.stringify({
          apiVersion: 'v1',
          kind: 'List',
          items: [
            { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } },
            { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name, namespace } },
          ],
        }),
      );
    }
    const created = await this.kubectl([
      'create',
      'token',
      name,
      '--namespace',
      namespace,
      '--duration',
      identity.duration ?? '2h',
    ]);
    const token = created.stdout.trim();
    const kubeconfigPath = writeKubeconfig(this.nextPath(`sa-${namespace}-${name}`), {
      server: this.server,
      caPem: this.admin.caPem,
      credentials: { kind: 'token', token },
      namespace,
    });
    return { kubeconfigPath, token, username: `system:serviceaccount:${namespace}:${name}` };
  }

  /**
   * A kubeconfig that authenticates as admin and impersonates `user` (and `groups`): the API server
   * authorizes every request as that identity. For a ServiceAccount use
   * user 'system:serviceaccount:<ns>:<name>' and groups ['system:serviceaccounts', 'system:serviceaccounts:<ns>'].
   */
  impersonatingKubeconfig(identity: { user: string; groups?: readonly string[]; namespace?: string }): string {
    return writeKubeconfig(this.nextPath(`as-${identity.user}`), {
      server: this.server,
      caPem: this.admin.caPem,
      credentials: {
        kind: 'impersonate',
        certPem: this.admin.certPem,
        keyPem: this.admin.keyPem,
        as: identity.user,
        ...(identity.groups ? { asGroups: identity.groups } : {}),
      },
      ...(identity.namespace ? { namespace: identity.namespace } : {}),
    });
  }

  private commandOptions(options: ClusterCommandOptions): RunOptions {
    const { kubeconfig, ...rest } = options;
    return { ...rest, env: { KUBECONFIG: kubeconfig ?? this.kubeconfigPath, ...rest.env } };
  }

  private nextPath(label: string): string {
    this.generated += 1;
    const safe = label.replace(/[^A-Za-z0-9_.-]/g, '_');
    return join(this.scratchDir, `kubeconfig-${this.generated}-${safe}.yaml`);
  }
}

/**
 * A client for a control plane started elsewhere (e.g. in a vitest globalSetup that passed its kubeconfigPath
 * through `provide`). It cannot stop that control plane.
 */
export function attachControlPlane(kubeconfigPath: string, options: { binDir?: string } = {}): ClusterClient {
  return new ClusterClient({ kubeconfigPath, ...options });
}
