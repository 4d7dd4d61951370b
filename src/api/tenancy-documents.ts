/**
 * The tenancy documents a directory of manifests may hold next to its LambdaPolicies: AwsAccount grants and
 * Namespaces (for their labels), so `plan -f repo/` checks grants and policies together, as the cluster would.
 */
import type { AwsAccount } from './account-schema.ts';
import { validateAccount } from './account-validate.ts';
import type { ValidationIssue } from './errors.ts';

export interface NamespaceLabels {
  name: string;
  labels: Record<string, string>;
}

export type TenancyDocument =
  | { kind: 'AwsAccount'; account: AwsAccount }
  | { kind: 'Namespace'; namespace: NamespaceLabels }
  | { kind: 'invalid'; name: string | undefined; issues: ValidationIssue[] };

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** undefined: not a tenancy document (a policy, or something else for the policy parser to judge). */
export function readTenancyDocument(value: unknown): TenancyDocument | undefined {
  if (!isRecord(value)) return undefined;
  if (value.kind === 'AwsAccount' && String(value.apiVersion).startsWith('lambdapolicy.io/')) {
    const result = validateAccount(value);
    if (result.ok) return { kind: 'AwsAccount', account: result.value };
    const name = isRecord(value.metadata) && typeof value.metadata.name === 'string' ? value.metadata.name : undefined;
    return { kind: 'invalid', name, issues: result.issues };
  }
  if (value.kind === 'Namespace' && value.apiVersion === 'v1') {
    const metadata = isRecord(value.metadata) ? value.metadata : {};
    const labels: Record<string, string> = {};
    if (isRecord(metadata.labels)) {
      for (const [k, v] of Object.entries(metadata.labels)) labels[k] = String(v);
    }
    if (typeof metadata.name !== 'string' || metadata.name === '') {
      return {
        kind: 'invalid',
        name: undefined,
        issues: [{ path: 'metadata.name', message: 'Required value', source: 'schema' }],
      };
    }
    return { kind: 'Namespace', namespace: { name: metadata.name, labels } };
  }
  return undefined;
}
