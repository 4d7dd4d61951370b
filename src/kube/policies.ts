/**
 * LambdaPolicy over the Kubernetes API, typed: list (paged), get, metadata and status merge patches, and the
 * list+watch transport the PolicyWatcher runs on. Every failure is a KubeApiError by HTTP status (./errors.ts).
 */
import {
  type CustomObjectsApi,
  CustomObjectsApi as CustomObjectsApiClass,
  type KubeConfig,
  PatchStrategy,
  setHeaderOptions,
  Watch,
} from '@kubernetes/client-node';
import { API_GROUP, API_VERSION, type LambdaPolicy, PLURAL } from '../api/schema.ts';
import type { NamespacedObject } from '../shared/keys.ts';
import { namespaceOf, objectKey } from '../shared/keys.ts';
import { kubeError } from './errors.ts';
import type { ListWatchTransport } from './watcher.ts';

export const FIELD_MANAGER = 'lambda-policy-controller';

export interface PolicyPage {
  items: LambdaPolicy[];
  resourceVersion: string;
  /** The token of the next page; undefined on the last one. */
  continue: string | undefined;
}

export class LambdaPolicyClient {
  private readonly api: CustomObjectsApi;
  private readonly fieldManager: string;

  constructor(api: CustomObjectsApi, options: { fieldManager?: string } = {}) {
    this.api = api;
    this.fieldManager = options.fieldManager ?? FIELD_MANAGER;
  }

  /** One page of policies, of one namespace or of all. */
  async list(options: {
    namespace?: string | undefined;
    limit: number;
    continue?: string | undefined;
  }): Promise<PolicyPage> {
    const base = {
      group: API_GROUP,
      version: API_VERSION,
      plural: PLURAL,
      limit: options.limit,
      ...(options.continue === undefined ? {} : { _continue: options.continue }),
    };
    let page: { items?: LambdaPolicy[]; metadata?: { resourceVersion?: string; continue?: string } };
    try {
      page = (
        options.namespace
          ? await this.api.listNamespacedCustomObject({ ...base, namespace: options.namespace })
          : await this.api.listClusterCustomObject(base)
      ) as typeof page;
    } catch (error) {
      throw kubeError(error, `listing LambdaPolicies${options.namespace ? ` in ${options.namespace}` : ''}`);
    }
    return {
      items: page.items ?? [],
      resourceVersion: page.metadata?.resourceVersion ?? '',
      continue: page.metadata?.continue || undefined,
    };
  }

  async get(policy: NamespacedObject): Promise<LambdaPolicy> {
    try {
      return (await this.api.getNamespacedCustomObject({
        ...this.target(policy),
      })) as LambdaPolicy;
    } catch (error) {
      throw kubeError(error, `reading ${objectKey(policy)}`);
    }
  }

  /** A JSON merge patch of the object (metadata only: the controller never writes spec). */
  async patch(policy: NamespacedObject, body: object, what: string): Promise<LambdaPolicy> {
    try {
      return (await this.api.patchNamespacedCustomObject(
        { ...this.target(policy), body, fieldManager: this.fieldManager },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      )) as LambdaPolicy;
    } catch (error) {
      throw kubeError(error, `${what} of ${objectKey(policy)}`);
    }
  }

  /** A JSON merge patch of the status subresource. */
  async patchStatus(policy: NamespacedObject, body: object): Promise<LambdaPolicy> {
    try {
      return (await this.api.patchNamespacedCustomObjectStatus(
        { ...this.target(policy), body, fieldManager: this.fieldManager },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      )) as LambdaPolicy;
    } catch (error) {
      throw kubeError(error, `status write for ${objectKey(policy)}`);
    }
  }

  private target(policy: NamespacedObject) {
    return {
      group: API_GROUP,
      version: API_VERSION,
      namespace: namespaceOf(policy),
      plural: PLURAL,
      name: policy.metadata.name,
    };
  }
}

export interface KubernetesTransportOptions {
  /** Watch one namespace only; default all namespaces. */
  namespace?: string | undefined;
  /** Page size of lists. Default 500. */
  pageSize?: number;
  /** Server-side watch timeout range in seconds (randomised to spread reconnects). Default 300..600. */
  watchTimeoutSeconds?: [number, number];
}

/**
 * List+watch of LambdaPolicies over the real API server. client-node's watch inactivity timer is 30 s, so quiet
 * watches would be cut every 30 s: the server is asked to end each watch after 5–10 min (timeoutSeconds, like
 * client-go) and the client-side timer is raised above that, so a healthy watch is only renewed by the server.
 */
export function kubernetesPolicyTransport(
  kc: KubeConfig,
  options: KubernetesTransportOptions = {},
): ListWatchTransport {
  const client = new LambdaPolicyClient(kc.makeApiClient(CustomObjectsApiClass));
  const ns = options.namespace;
  const pageSize = options.pageSize ?? 500;
  const [minT, maxT] = options.watchTimeoutSeconds ?? [300, 600];
  const path = ns
    ? `/apis/${API_GROUP}/${API_VERSION}/namespaces/${encodeURIComponent(ns)}/${PLURAL}`
    : `/apis/${API_GROUP}/${API_VERSION}/${PLURAL}`;
  return {
    async list() {
      const items: LambdaPolicy[] = [];
      let cont: string | undefined;
      let resourceVersion = '';
      do {
        const page = await client.list({ namespace: ns, limit: pageSize, continue: cont });
        // One page at a time, not `push(...items)`: a huge page must not overflow the stack.
        for (const item of page.items) items.push(item);
        resourceVersion = page.resourceVersion || resourceVersion;
        cont = page.continue;
      } while (cont);
      return { items, resourceVersion };
    },
    async watch(resourceVersion, onEvent, onDone) {
      const watch = new Watch(kc);
      const timeoutSeconds = Math.round(minT + Math.random() * (maxT - minT));
      // The inactivity timer stays as a dead-connection detector, above the server's own timeout (the field is
      // private in the typings, hence Reflect).
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
