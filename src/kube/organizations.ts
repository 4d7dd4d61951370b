/**
 * AwsOrganization and the AwsAccounts it owns, over the Kubernetes API (both cluster-scoped): list the
 * organizations, list/create/replace/delete the owned AwsAccounts (found by the organization label, confirmed by
 * owner uid), and merge-patch an organization's status. Every failure is a KubeApiError by HTTP status.
 */
import { CustomObjectsApi, type KubeConfig, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { ACCOUNT_PLURAL, type AwsAccount } from '../api/account-schema.ts';
import { type DesiredAccount, ORGANIZATION_LABEL, type OwnerReference } from '../api/organization-accounts.ts';
import { type AwsOrganization, type AwsOrganizationStatus, ORGANIZATION_PLURAL } from '../api/organization-schema.ts';
import { API_GROUP, API_VERSION } from '../api/schema.ts';
import { kubeError } from './errors.ts';
import { FIELD_MANAGER } from './policies.ts';

export type ExistingAccount = AwsAccount & {
  metadata: AwsAccount['metadata'] & { resourceVersion?: string; ownerReferences?: OwnerReference[] };
};

/** What the organizations reconciler needs from the API server (a fake in unit tests, this client for real). */
export interface OrganizationStore {
  listOrganizations(): Promise<AwsOrganization[]>;
  /** The AwsAccounts labelled for the organization and owned by it (uid). */
  listOwnedAccounts(organization: { name: string; uid: string }): Promise<ExistingAccount[]>;
  createAccount(account: DesiredAccount): Promise<void>;
  /** Replaces the object (spec and metadata labels/owners), keeping what others set in its other metadata. */
  replaceAccount(existing: ExistingAccount, desired: DesiredAccount): Promise<void>;
  deleteAccount(name: string): Promise<void>;
  patchOrganizationStatus(name: string, status: AwsOrganizationStatus): Promise<void>;
}

const LIST_LIMIT = 500;

export class KubernetesOrganizationStore implements OrganizationStore {
  readonly #api: CustomObjectsApi;

  constructor(kc: KubeConfig) {
    this.#api = kc.makeApiClient(CustomObjectsApi);
  }

  async #listAll<T>(plural: string, what: string, labelSelector?: string): Promise<T[]> {
    const items: T[] = [];
    let cont: string | undefined;
    do {
      let page: { items?: T[]; metadata?: { continue?: string } };
      try {
        page = (await this.#api.listClusterCustomObject({
          group: API_GROUP,
          version: API_VERSION,
          plural,
          limit: LIST_LIMIT,
          ...(labelSelector === undefined ? {} : { labelSelector }),
          ...(cont === undefined ? {} : { _continue: cont }),
        })) as typeof page;
      } catch (error) {
        throw kubeError(error, `listing ${what}`);
      }
      for (const item of page.items ?? []) items.push(item);
      cont = page.metadata?.continue || undefined;
    } while (cont !== undefined);
    return items;
  }

  listOrganizations(): Promise<AwsOrganization[]> {
    return this.#listAll<AwsOrganization>(ORGANIZATION_PLURAL, 'AwsOrganizations');
  }

  async listOwnedAccounts(organization: { name: string; uid: string }): Promise<ExistingAccount[]> {
    const labelled = await this.#listAll<ExistingAccount>(
      ACCOUNT_PLURAL,
      `AwsAccounts of ${organization.name}`,
      `${ORGANIZATION_LABEL}=${organization.name}`,
    );
    // A label can be copied; the owner uid cannot: only what this very object owns is ever replaced or deleted.
    return labelled.filter((a) => (a.metadata.ownerReferences ?? []).some((o) => o.uid === organization.uid));
  }

  async createAccount(account: DesiredAccount): Promise<void> {
    try {
      await this.#api.createClusterCustomObject({
        group: API_GROUP,
        version: API_VERSION,
        plural: ACCOUNT_PLURAL,
        body: account,
        fieldManager: FIELD_MANAGER,
      });
    } catch (error) {
      throw kubeError(error, `creating AwsAccount ${account.metadata.name}`);
    }
  }

  async replaceAccount(existing: ExistingAccount, desired: DesiredAccount): Promise<void> {
    const body = {
      ...desired,
      metadata: {
        ...existing.metadata,
        labels: desired.metadata.labels,
        ownerReferences: desired.metadata.ownerReferences,
        // The resourceVersion read makes this a compare-and-swap: a concurrent change is a Conflict, retried later.
        ...(existing.metadata.resourceVersion !== undefined
          ? { resourceVersion: existing.metadata.resourceVersion }
          : {}),
      },
    };
    try {
      await this.#api.replaceClusterCustomObject({
        group: API_GROUP,
        version: API_VERSION,
        plural: ACCOUNT_PLURAL,
        name: desired.metadata.name,
        body,
        fieldManager: FIELD_MANAGER,
      });
    } catch (error) {
      throw kubeError(error, `updating AwsAccount ${desired.metadata.name}`);
    }
  }

  async deleteAccount(name: string): Promise<void> {
    try {
      await this.#api.deleteClusterCustomObject({
        group: API_GROUP,
        version: API_VERSION,
        plural: ACCOUNT_PLURAL,
        name,
      });
    } catch (error) {
      const e = kubeError(error, `deleting AwsAccount ${name}`);
      // Already gone (garbage collection may have been first): that is what was wanted.
      if (e.code !== 'NotFound') throw e;
    }
  }

  async patchOrganizationStatus(name: string, status: AwsOrganizationStatus): Promise<void> {
    try {
      await this.#api.patchClusterCustomObjectStatus(
        {
          group: API_GROUP,
          version: API_VERSION,
          plural: ORGANIZATION_PLURAL,
          name,
          body: { status },
          fieldManager: FIELD_MANAGER,
        },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      );
    } catch (error) {
      throw kubeError(error, `status write for AwsOrganization ${name}`);
    }
  }
}
