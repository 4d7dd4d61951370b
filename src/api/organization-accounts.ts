/**
 * What an AwsOrganization wants: one AwsAccount per discovered ACTIVE account, from the template, owned by the
 * organization, with the account's tags as labels (those Kubernetes can carry). Pure: the controller
 * (src/controller/organizations.ts) compares this with what exists and writes the difference.
 */
import type { AwsAccount, AwsAccountSpec } from './account-schema.ts';
import { ACCOUNT_KIND } from './account-schema.ts';
import type { AwsOrganization } from './organization-schema.ts';
import { API_GROUP, GROUP_VERSION } from './schema.ts';

/** Which AwsOrganization an AwsAccount was made for (the owner reference says the same, by uid). */
export const ORGANIZATION_LABEL = `${API_GROUP}/organization`;
export const ACCOUNT_ID_LABEL = `${API_GROUP}/account-id`;

export interface OrganizationAccountInput {
  id: string;
  name: string;
  tags: Readonly<Record<string, string>>;
}

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller: boolean;
}

export interface DesiredAccount extends AwsAccount {
  metadata: {
    name: string;
    labels: Record<string, string>;
    ownerReferences: OwnerReference[];
  };
}

const LABEL_NAME = /^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const LABEL_PREFIX = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9])?$/;

/** Whether `key` is a valid Kubernetes label key (optional DNS-subdomain prefix, then a name of at most 63). */
export function isLabelKey(key: string): boolean {
  const slash = key.lastIndexOf('/');
  if (slash < 0) return LABEL_NAME.test(key);
  const prefix = key.slice(0, slash);
  return prefix.length <= 253 && LABEL_PREFIX.test(prefix) && LABEL_NAME.test(key.slice(slash + 1));
}

export function isLabelValue(value: string): boolean {
  return value.length <= 63 && LABEL_VALUE.test(value);
}

/**
 * Account tags as labels. A tag Kubernetes cannot carry (a key with `:` such as `aws:` tags, a value with spaces
 * or over 63 characters) is left out, not mangled: a selector must never match a label the tag did not say. Keys
 * under the controller's own prefix are left out too, so a tag cannot forge which organization owns an account.
 */
export function tagLabels(tags: Readonly<Record<string, string>>): {
  labels: Record<string, string>;
  skipped: string[];
} {
  const labels: Record<string, string> = {};
  const skipped: string[] = [];
  for (const key of Object.keys(tags).sort()) {
    const value = tags[key] ?? '';
    if (!isLabelKey(key) || !isLabelValue(value) || key.startsWith(`${API_GROUP}/`)) skipped.push(key);
    else labels[key] = value;
  }
  return { labels, skipped };
}

/** The AwsAccount object name for an account of an organization (stable, a DNS subdomain). */
export function accountObjectName(organization: string, accountId: string): string {
  return `${organization}-${accountId}`;
}

/** The partition of the organization's role (aws, aws-cn, aws-us-gov), so accounts' roles are in the same one. */
function partitionOf(organization: AwsOrganization): string {
  return /^arn:(aws[a-z-]*):/.exec(organization.spec.assumeRole?.roleArn ?? '')?.[1] ?? 'aws';
}

export function desiredAccount(organization: AwsOrganization, account: OrganizationAccountInput): DesiredAccount {
  const t = organization.spec.template;
  const spec: AwsAccountSpec = {
    accountId: account.id,
    assumeRole: {
      roleArn: `arn:${partitionOf(organization)}:iam::${account.id}:role/${t.roleName}`,
      ...(t.externalId !== undefined ? { externalId: t.externalId } : {}),
      ...(t.sessionName !== undefined ? { sessionName: t.sessionName } : {}),
    },
    regions: [...t.regions],
    ...(t.policyNamespaces !== undefined ? { policyNamespaces: structuredClone(t.policyNamespaces) } : {}),
    ...(t.scope !== undefined ? { scope: structuredClone(t.scope) } : {}),
    ...(t.rates !== undefined ? { rates: { ...t.rates } } : {}),
  };
  // Tags first, then the template's labels, then the controller's own: later ones win.
  const labels: Record<string, string> = {
    ...tagLabels(account.tags).labels,
    ...(t.labels ?? {}),
    [ORGANIZATION_LABEL]: organization.metadata.name,
    [ACCOUNT_ID_LABEL]: account.id,
  };
  return {
    apiVersion: GROUP_VERSION,
    kind: ACCOUNT_KIND,
    metadata: {
      name: accountObjectName(organization.metadata.name, account.id),
      labels,
      ownerReferences: [
        {
          apiVersion: GROUP_VERSION,
          kind: organization.kind,
          name: organization.metadata.name,
          uid: organization.metadata.uid ?? '',
          controller: true,
        },
      ],
    },
    spec,
  };
}

/** Whether an existing AwsAccount already says what `desired` says (spec, labels, owner). */
export function accountInStep(
  existing: AwsAccount & { metadata: { ownerReferences?: OwnerReference[] } },
  desired: DesiredAccount,
): boolean {
  const labels = existing.metadata.labels ?? {};
  const sameLabels =
    Object.keys(labels).length === Object.keys(desired.metadata.labels).length &&
    Object.entries(desired.metadata.labels).every(([k, v]) => labels[k] === v);
  const owned = (existing.metadata.ownerReferences ?? []).some(
    (o) => o.uid === desired.metadata.ownerReferences[0]?.uid,
  );
  return sameLabels && owned && canonical(existing.spec) === canonical(desired.spec);
}

/** JSON with sorted keys, so two specs compare by content, not key order. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(
          Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
        )
      : v,
  );
}
