/**
 * The finalizer that lets the controller remove the scheduled actions a policy owns before the policy disappears.
 *
 * It is added and removed with a JSON merge patch on `metadata` only (the controller never writes `spec`, so
 * Argo CD never sees the policy OutOfSync). A merge patch replaces the finalizers array whole, so the patch
 * carries `metadata.resourceVersion`: the API server then rejects it (409) if anyone changed the object since we
 * read it, and we re-read and retry instead of dropping someone else's finalizer.
 */
import type { CustomObjectsApi } from '@kubernetes/client-node';
import type { LambdaPolicy } from '../api/schema.ts';
import { ConflictError, NotFoundError } from './errors.ts';
import { LambdaPolicyClient } from './policies.ts';

export const FINALIZER = 'lambdapolicy.io/scheduled-actions';

export function hasFinalizer(policy: LambdaPolicy, finalizer: string = FINALIZER): boolean {
  return policy.metadata.finalizers?.includes(finalizer) ?? false;
}

export function isBeingDeleted(policy: LambdaPolicy): boolean {
  return Boolean(policy.metadata.deletionTimestamp);
}

/** The merge patch that sets `finalizers`, guarded by the resourceVersion it was computed from. */
function finalizersPatch(policy: LambdaPolicy, finalizers: string[]): { metadata: Record<string, unknown> } {
  const metadata: Record<string, unknown> = { finalizers };
  if (policy.metadata.resourceVersion) metadata.resourceVersion = policy.metadata.resourceVersion;
  return { metadata };
}

export interface FinalizerOptions {
  finalizer?: string;
  /** Attempts on 409 Conflict (each re-reads the object). Default 3. */
  attempts?: number;
  fieldManager?: string;
}

export class Finalizers {
  private readonly client: LambdaPolicyClient;
  private readonly finalizer: string;
  private readonly attempts: number;
  /** Metadata patches sent (tests and metrics). */
  patches = 0;

  constructor(api: CustomObjectsApi, options: FinalizerOptions = {}) {
    this.client = new LambdaPolicyClient(
      api,
      options.fieldManager === undefined ? {} : { fieldManager: options.fieldManager },
    );
    this.finalizer = options.finalizer ?? FINALIZER;
    this.attempts = options.attempts ?? 3;
  }

  /**
   * Makes sure the finalizer is present (no request when it already is). Never adds it to an object that is being
   * deleted (the API server forbids new finalizers then). Returns the object as it is now. Throws a KubeApiError
   * (NotFoundError when the object is gone).
   */
  async ensure(policy: LambdaPolicy): Promise<LambdaPolicy> {
    return this.update(policy, (p) => {
      if (hasFinalizer(p, this.finalizer) || isBeingDeleted(p)) return undefined;
      return [...(p.metadata.finalizers ?? []), this.finalizer];
    });
  }

  /**
   * Removes the finalizer (no request when absent). Returns the object afterwards, or undefined when the object is
   * gone (removing the last finalizer of a deleted object lets the API server delete it).
   */
  async remove(policy: LambdaPolicy): Promise<LambdaPolicy | undefined> {
    try {
      return await this.update(policy, (p) => {
        if (!hasFinalizer(p, this.finalizer)) return undefined;
        return (p.metadata.finalizers ?? []).filter((f) => f !== this.finalizer);
      });
    } catch (error) {
      if (error instanceof NotFoundError) return undefined;
      throw error;
    }
  }

  private async update(policy: LambdaPolicy, change: (p: LambdaPolicy) => string[] | undefined): Promise<LambdaPolicy> {
    let current = policy;
    for (let attempt = 1; ; attempt++) {
      const finalizers = change(current);
      if (finalizers === undefined) return current;
      try {
        const result = await this.client.patch(current, finalizersPatch(current, finalizers), 'finalizer patch');
        this.patches++;
        return result;
      } catch (error) {
        if (!(error instanceof ConflictError) || attempt >= this.attempts) throw error;
        current = await this.client.get(current);
      }
    }
  }
}
