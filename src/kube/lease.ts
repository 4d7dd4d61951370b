/**
 * The coordination.k8s.io/v1 Lease the leader elector campaigns on: read, create, replace (guarded by the
 * resourceVersion read, so two candidates can never both win). Failures are KubeApiErrors (ConflictError on 409).
 */
import { type CoordinationV1Api, type V1Lease, type V1LeaseSpec, V1MicroTime } from '@kubernetes/client-node';
import { kubeError, NotFoundError } from './errors.ts';

export interface LeaseRecord {
  holderIdentity?: string | undefined;
  leaseDurationSeconds?: number | undefined;
  acquireTime?: Date | undefined;
  renewTime?: Date | undefined;
  leaseTransitions?: number | undefined;
}

/** The Lease operations the elector needs; kubernetesLeaseClient implements them over CoordinationV1Api. */
export interface LeaseClient {
  /** undefined when the Lease does not exist. */
  get(): Promise<{ record: LeaseRecord; resourceVersion: string } | undefined>;
  /** Throws ConflictError when it already exists. */
  create(record: LeaseRecord): Promise<void>;
  /** Throws ConflictError when `resourceVersion` is stale. */
  update(record: LeaseRecord, resourceVersion: string): Promise<void>;
}

/** LeaseClient over the real API server. */
export function kubernetesLeaseClient(api: CoordinationV1Api, namespace: string, name: string): LeaseClient {
  const toSpec = (r: LeaseRecord): V1LeaseSpec => {
    const spec: V1LeaseSpec = {};
    if (r.holderIdentity !== undefined) spec.holderIdentity = r.holderIdentity;
    if (r.leaseDurationSeconds !== undefined) spec.leaseDurationSeconds = r.leaseDurationSeconds;
    // MicroTime: the API server rejects millisecond-precision timestamps for these fields.
    if (r.acquireTime) spec.acquireTime = new V1MicroTime(r.acquireTime.getTime());
    if (r.renewTime) spec.renewTime = new V1MicroTime(r.renewTime.getTime());
    if (r.leaseTransitions !== undefined) spec.leaseTransitions = r.leaseTransitions;
    return spec;
  };
  const what = `lease ${namespace}/${name}`;
  return {
    async get() {
      let lease: V1Lease;
      try {
        lease = await api.readNamespacedLease({ name, namespace });
      } catch (error) {
        const failure = kubeError(error, `reading ${what}`);
        if (failure instanceof NotFoundError) return undefined;
        throw failure;
      }
      const s = lease.spec ?? {};
      const date = (v: unknown) => (v === undefined || v === null ? undefined : new Date(v as string | Date));
      return {
        resourceVersion: lease.metadata?.resourceVersion ?? '',
        record: {
          holderIdentity: s.holderIdentity ?? undefined,
          leaseDurationSeconds: s.leaseDurationSeconds ?? undefined,
          acquireTime: date(s.acquireTime),
          renewTime: date(s.renewTime),
          leaseTransitions: s.leaseTransitions ?? undefined,
        },
      };
    },
    async create(record) {
      try {
        await api.createNamespacedLease({
          namespace,
          body: {
            apiVersion: 'coordination.k8s.io/v1',
            kind: 'Lease',
            metadata: { name, namespace },
            spec: toSpec(record),
          },
        });
      } catch (error) {
        throw kubeError(error, what);
      }
    },
    async update(record, resourceVersion) {
      try {
        await api.replaceNamespacedLease({
          name,
          namespace,
          body: {
            apiVersion: 'coordination.k8s.io/v1',
            kind: 'Lease',
            metadata: { name, namespace, resourceVersion },
            spec: toSpec(record),
          },
        });
      } catch (error) {
        throw kubeError(error, what);
      }
    },
  };
}
