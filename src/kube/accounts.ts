/**
 * What tenancy needs from the Kubernetes API: the cluster-scoped AwsAccounts and the Namespaces' labels, each kept
 * by its own resilient watcher (./watcher.ts: list+watch, relist on 410, backoff, watchdog), and the AwsAccount
 * status writer. The controller decides grants from these (src/engine/grants.ts); a change of an AwsAccount or of
 * a namespace's labels is announced (coalesced) so it can re-enqueue what is affected, level-based.
 */
import {
  CoreV1Api,
  CustomObjectsApi,
  type KubeConfig,
  PatchStrategy,
  setHeaderOptions,
  Watch,
} from '@kubernetes/client-node';
import { ACCOUNT_PLURAL, type AwsAccount, type AwsAccountStatus } from '../api/account-schema.ts';
import { API_GROUP, API_VERSION } from '../api/schema.ts';
import { type Clock, systemClock, type TimerHandle } from '../shared/clock.ts';
import type { Logger } from '../shared/logger.ts';
import { GoneError, KubeApiError, kubeError, NotFoundError } from './errors.ts';
import { FIELD_MANAGER } from './policies.ts';
import { type ListWatchTransport, type PolicyEvent, PolicyWatcher, type WatchedObject } from './watcher.ts';

/** A Namespace as tenancy reads it: its name and labels. */
export interface NamespaceObject {
  metadata: { name: string; labels?: Record<string, string>; resourceVersion?: string };
}

interface Page<T> {
  items: T[];
  resourceVersion: string;
  continue: string | undefined;
}

/** How often a collection that is not there (CRD not installed, no RBAC for it) is listed again. */
const ABSENT_RELIST_MS = 60_000;

/**
 * List (paged) + watch of one cluster-scoped collection, as the policy transport does it for LambdaPolicies.
 * A collection the API server does not serve (404: the AwsAccount CRD of an upgraded release, which Helm does
 * not install on upgrade) or does not let us read (403: an older chart's RBAC) reads as empty and is listed
 * again every minute: no AwsAccount means policies naming one are OutOfScope, no namespace labels mean only
 * `{}` grants — nothing is written that a grant would refuse, and the controller still starts.
 */
function clusterTransport<T extends WatchedObject>(
  kc: KubeConfig,
  path: string,
  page: (limit: number, cont: string | undefined) => Promise<Page<T>>,
  options: { pageSize?: number; watchTimeoutSeconds?: [number, number]; logger?: Logger | undefined } = {},
): ListWatchTransport<T> {
  const pageSize = options.pageSize ?? 500;
  const [minT, maxT] = options.watchTimeoutSeconds ?? [300, 600];
  let absent = false;
  return {
    async list() {
      const items: T[] = [];
      let cont: string | undefined;
      let resourceVersion = '';
      try {
        do {
          const next = await page(pageSize, cont);
          for (const item of next.items) items.push(item);
          resourceVersion = next.resourceVersion || resourceVersion;
          cont = next.continue;
        } while (cont);
      } catch (error) {
        const status = error instanceof KubeApiError ? error.status : undefined;
        if (status !== 404 && status !== 403) throw error;
        if (!absent)
          options.logger?.warn({ path, status }, 'collection not readable; read as empty, listed again every minute');
        absent = true;
        return { items: [], resourceVersion: '' };
      }
      absent = false;
      return { items, resourceVersion };
    },
    async watch(resourceVersion, onEvent, onDone) {
      if (absent) {
        // Nothing to watch: end as expired after a while, so the watcher lists again (quietly, no backoff).
        const timer = setTimeout(() => onDone(new GoneError(`${path}: not served; listing again`)), ABSENT_RELIST_MS);
        timer.unref();
        return { abort: () => clearTimeout(timer) };
      }
      const watch = new Watch(kc);
      const timeoutSeconds = Math.round(minT + Math.random() * (maxT - minT));
      Reflect.set(watch, 'requestTimeoutMs', (timeoutSeconds + 60) * 1000);
      const controller = await watch.watch(
        path,
        { resourceVersion, allowWatchBookmarks: true, timeoutSeconds },
        (type: string, object: unknown) => onEvent(type, object),
        (error: unknown) => onDone(error ?? null),
      );
      return { abort: () => controller.abort() };
    },
  };
}

export class AwsAccountClient {
  private readonly api: CustomObjectsApi;

  constructor(api: CustomObjectsApi) {
    this.api = api;
  }

  async list(limit: number, cont: string | undefined): Promise<Page<AwsAccount>> {
    let page: { items?: AwsAccount[]; metadata?: { resourceVersion?: string; continue?: string } };
    try {
      page = (await this.api.listClusterCustomObject({
        group: API_GROUP,
        version: API_VERSION,
        plural: ACCOUNT_PLURAL,
        limit,
        ...(cont === undefined ? {} : { _continue: cont }),
      })) as typeof page;
    } catch (error) {
      throw kubeError(error, 'listing AwsAccounts');
    }
    return {
      items: page.items ?? [],
      resourceVersion: page.metadata?.resourceVersion ?? '',
      continue: page.metadata?.continue || undefined,
    };
  }

  async patchStatus(name: string, body: object): Promise<AwsAccount> {
    try {
      return (await this.api.patchClusterCustomObjectStatus(
        { group: API_GROUP, version: API_VERSION, plural: ACCOUNT_PLURAL, name, body, fieldManager: FIELD_MANAGER },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      )) as AwsAccount;
    } catch (error) {
      throw kubeError(error, `status write for AwsAccount ${name}`);
    }
  }
}

export function kubernetesAccountTransport(kc: KubeConfig, logger?: Logger): ListWatchTransport<AwsAccount> {
  const client = new AwsAccountClient(kc.makeApiClient(CustomObjectsApi));
  return clusterTransport(
    kc,
    `/apis/${API_GROUP}/${API_VERSION}/${ACCOUNT_PLURAL}`,
    (limit, cont) => client.list(limit, cont),
    { logger },
  );
}

export function kubernetesNamespaceTransport(kc: KubeConfig, logger?: Logger): ListWatchTransport<NamespaceObject> {
  const core = kc.makeApiClient(CoreV1Api);
  return clusterTransport(
    kc,
    '/api/v1/namespaces',
    async (limit, cont) => {
      try {
        const list = await core.listNamespace({ limit, ...(cont === undefined ? {} : { _continue: cont }) });
        return {
          items: list.items.map((n) => ({
            metadata: {
              name: n.metadata?.name ?? '',
              ...(n.metadata?.labels ? { labels: n.metadata.labels } : {}),
              ...(n.metadata?.resourceVersion ? { resourceVersion: n.metadata.resourceVersion } : {}),
            },
          })),
          resourceVersion: list.metadata?.resourceVersion ?? '',
          continue: list.metadata?._continue || undefined,
        };
      } catch (error) {
        throw kubeError(error, 'listing Namespaces');
      }
    },
    { logger },
  );
}

/** What changes grants: an AwsAccount's labels and spec (not its status), a namespace's labels. */
function accountFingerprint(a: AwsAccount): string {
  return JSON.stringify([a.metadata.labels ?? {}, a.spec]);
}

function labelsFingerprint(n: NamespaceObject): string {
  return JSON.stringify(n.metadata.labels ?? {});
}

export interface TenancyWatchOptions {
  logger?: Logger;
  clock?: Clock;
  /** Coalescing window of change notifications (ms). Default 100. */
  coalesceMs?: number;
}

/**
 * AwsAccounts and Namespaces from the API server, for the controller's tenancy. Changes that matter (an account
 * added, removed, relabelled or respecified; a namespace added, removed or relabelled) are announced, coalesced;
 * the controller's own AwsAccount status writes are not.
 */
export class KubernetesTenancy {
  readonly accountWatcher: PolicyWatcher<AwsAccount>;
  readonly namespaceWatcher: PolicyWatcher<NamespaceObject>;
  private readonly listeners = new Set<() => void>();
  private readonly clock: Clock;
  private readonly coalesceMs: number;
  private timer: TimerHandle | undefined;

  constructor(
    source: KubeConfig | { accounts: ListWatchTransport<AwsAccount>; namespaces: ListWatchTransport<NamespaceObject> },
    options: TenancyWatchOptions = {},
  ) {
    const transports =
      'accounts' in source
        ? source
        : {
            accounts: kubernetesAccountTransport(source, options.logger),
            namespaces: kubernetesNamespaceTransport(source, options.logger),
          };
    const common = {
      ...(options.logger ? { logger: options.logger } : {}),
      ...(options.clock ? { clock: options.clock } : {}),
    };
    this.accountWatcher = new PolicyWatcher(transports.accounts, { ...common, resource: 'AwsAccount' });
    this.namespaceWatcher = new PolicyWatcher(transports.namespaces, { ...common, resource: 'Namespace' });
    this.clock = options.clock ?? systemClock;
    this.coalesceMs = options.coalesceMs ?? 100;
    this.accountWatcher.on((e) => {
      if (changed(e, accountFingerprint)) this.schedule();
    });
    this.namespaceWatcher.on((e) => {
      if (changed(e, labelsFingerprint)) this.schedule();
    });
  }

  async start(): Promise<void> {
    this.accountWatcher.start();
    this.namespaceWatcher.start();
    await Promise.all([this.accountWatcher.waitForSync(), this.namespaceWatcher.waitForSync()]);
  }

  async stop(): Promise<void> {
    if (this.timer) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    await Promise.all([this.accountWatcher.stop(), this.namespaceWatcher.stop()]);
  }

  ready(): boolean {
    return this.accountWatcher.ready() && this.namespaceWatcher.ready();
  }

  accounts(): AwsAccount[] {
    return this.accountWatcher.list();
  }

  namespaceLabels(): Map<string, Readonly<Record<string, string>>> {
    return new Map(this.namespaceWatcher.list().map((n) => [n.metadata.name, n.metadata.labels ?? {}]));
  }

  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private schedule(): void {
    if (this.timer || !this.ready()) return;
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined;
      for (const listener of this.listeners) listener();
    }, this.coalesceMs);
  }
}

function changed<T extends WatchedObject>(event: PolicyEvent<T>, fingerprint: (o: T) => string): boolean {
  if (event.type !== 'updated' || event.previous === undefined) return true;
  return fingerprint(event.previous) !== fingerprint(event.object);
}

/** AwsAccount status keys in the order they are written. */
const ACCOUNT_STATUS_KEYS = ['observedGeneration', 'conditions', 'lastVerifiedTime', 'policies'] as const;

/**
 * Whether `next` differs from `prev` in anything but lastVerifiedTime, or lastVerifiedTime is older than the
 * heartbeat: an account verified every few minutes is not written every few minutes.
 */
export function accountStatusChanged(prev: unknown, next: AwsAccountStatus, heartbeatMs: number): boolean {
  if (typeof prev !== 'object' || prev === null) return true;
  const p = prev as Record<string, unknown>;
  const n = next as Record<string, unknown>;
  for (const key of ACCOUNT_STATUS_KEYS) {
    if (key === 'lastVerifiedTime') continue;
    if (JSON.stringify(p[key] ?? null) !== JSON.stringify(n[key] ?? null)) return true;
  }
  if (next.lastVerifiedTime === undefined) return p.lastVerifiedTime !== undefined;
  const last = typeof p.lastVerifiedTime === 'string' ? Date.parse(p.lastVerifiedTime) : Number.NaN;
  return !Number.isFinite(last) || Date.parse(next.lastVerifiedTime) - last >= heartbeatMs;
}

/** Writes an AwsAccount's status (merge patch on its status subresource) only when it changed. */
export class AccountStatusWriter {
  private readonly client: AwsAccountClient;
  private readonly heartbeatMs: number;
  private readonly written = new Map<string, AwsAccountStatus>();
  writes = 0;

  constructor(kc: KubeConfig, options: { heartbeatMs?: number } = {}) {
    this.client = new AwsAccountClient(kc.makeApiClient(CustomObjectsApi));
    this.heartbeatMs = options.heartbeatMs ?? 3_600_000;
  }

  /** Returns whether it wrote; an account deleted meanwhile is not an error. */
  async writeAccountStatus(account: AwsAccount, next: AwsAccountStatus): Promise<boolean> {
    // By uid: an AwsAccount deleted and created again under its name starts without a status.
    const key = account.metadata.uid ?? account.metadata.name;
    const previous = this.written.get(key) ?? account.status;
    if (!accountStatusChanged(previous, next, this.heartbeatMs)) return false;
    const status: Record<string, unknown> = {};
    for (const key of ACCOUNT_STATUS_KEYS) status[key] = next[key] ?? null;
    try {
      await this.client.patchStatus(account.metadata.name, { status });
    } catch (error) {
      if (error instanceof NotFoundError) return false;
      throw error;
    }
    this.written.set(key, next);
    this.writes++;
    return true;
  }
}
