/**
 * "The policies currently declared", whatever declares them: files (CLI, demo) or the Kubernetes API (controller).
 * The reconcile loop only ever asks a PolicySource for the current set and listens for changes.
 */
import { compareOrdinal } from '../shared/compare.ts';
import { objectKey } from '../shared/keys.ts';
import type { AwsAccount } from './account-schema.ts';
import { APPROVE_GENERATION_ANNOTATION, type LambdaPolicy } from './schema.ts';
import type { NamespaceLabels } from './tenancy-documents.ts';

export interface PolicySet {
  /** Valid policies, sorted by `namespace/name`; namespace always set (default `default`). */
  policies: LambdaPolicy[];
  /** Problems found while reading (one line each, naming file/document/policy). Empty when all is well. */
  errors: string[];
  /** AwsAccount grants and Namespace labels declared beside the policies (files only). */
  tenancy?: { accounts: AwsAccount[]; namespaces: NamespaceLabels[] };
}

export interface PolicySource {
  /** Reads the first set (and begins watching, for sources that watch). Resolves once `current()` is meaningful. */
  start(): Promise<void>;
  stop(): Promise<void>;
  current(): PolicySet;
  /** Called with the new set whenever the declared policies change (never for no-op edits). */
  onChange(listener: (set: PolicySet) => void): () => void;
  /** Called when a re-read failed; the last good set stays current. */
  onError(listener: (errors: string[]) => void): () => void;
}

export function sortPolicies(policies: readonly LambdaPolicy[]): LambdaPolicy[] {
  return [...policies].sort((a, b) => compareOrdinal(objectKey(a), objectKey(b)));
}

/** Whether two sets declare the same policies (metadata that does not matter, like resourceVersion, aside). */
export function samePolicies(a: readonly LambdaPolicy[], b: readonly LambdaPolicy[]): boolean {
  if (a.length !== b.length) return false;
  const fingerprint = (p: LambdaPolicy) =>
    JSON.stringify([
      objectKey(p),
      p.metadata.generation ?? null,
      p.metadata.deletionTimestamp ?? null,
      p.metadata.annotations?.[APPROVE_GENERATION_ANNOTATION] ?? null,
      p.spec,
    ]);
  const fa = sortPolicies(a).map(fingerprint);
  const fb = sortPolicies(b).map(fingerprint);
  return fa.every((f, i) => f === fb[i]);
}

/** A tiny listener set that never lets one listener's exception reach the source. */
export class Listeners<T> {
  private readonly set = new Set<(value: T) => void>();

  add(listener: (value: T) => void): () => void {
    this.set.add(listener);
    return () => this.set.delete(listener);
  }

  emit(value: T): void {
    for (const listener of this.set) {
      try {
        listener(value);
      } catch {
        // A consumer's bug must not stop the source.
      }
    }
  }
}
