/**
 * The AwsOrganization reconciler: lists each organization's accounts (src/aws/organizations.ts, through the
 * organization's own role) on its interval and keeps one owned AwsAccount per ACTIVE account in step with the
 * template — created when an account appears, replaced when the template or its tags change, deleted when the
 * account leaves the listed OUs, is suspended or closed. Deletion is explicit (the owner reference would let the
 * garbage collector do it only when the whole AwsOrganization goes). A listing that failed or was cut short by a
 * bound deletes nothing: an account missing from an incomplete answer has not left.
 *
 * Level-based and single-flight: every tick lists the AwsOrganizations (new ones, spec changes by generation,
 * deleted ones) and syncs those due; one sync at a time, so the organization API sees one caller.
 */
import { STSClient } from '@aws-sdk/client-sts';
import type { KubeConfig } from '@kubernetes/client-node';
import { parseGoDuration } from '../api/duration.ts';
import { accountInStep, type DesiredAccount, desiredAccount } from '../api/organization-accounts.ts';
import {
  type AwsOrganization,
  type AwsOrganizationStatus,
  DEFAULT_MAX_ACCOUNTS,
  DEFAULT_ORGANIZATION_INTERVAL,
} from '../api/organization-schema.ts';
import { sdkClientConfig } from '../aws/clients.ts';
import { CredentialCache } from '../aws/credentials.ts';
import {
  createOrganizationsClient,
  type Discovery,
  discoverAccounts,
  ORGANIZATIONS_REGION,
} from '../aws/organizations.ts';
import { KubeApiError } from '../kube/errors.ts';
import { KubernetesOrganizationStore, type OrganizationStore } from '../kube/organizations.ts';
import { type Clock, systemClock, type TimerHandle } from '../shared/clock.ts';
import { describeError, type Logger, silentLogger } from '../shared/logger.ts';
import { READY, setCondition, toKubeTime } from './conditions.ts';

export type Discover = (organization: AwsOrganization) => Promise<Discovery>;

export interface OrganizationSync {
  organization: string;
  created: string[];
  updated: string[];
  deleted: string[];
  /** AwsAccounts of the same name that this organization does not own (left alone). */
  conflicts: string[];
  accounts: number;
  truncated?: string;
  error?: string;
}

export interface OrganizationReconcilerOptions {
  store: OrganizationStore;
  discover: Discover;
  clock?: Clock;
  logger?: Logger;
  /** How often the AwsOrganizations themselves are listed (new, changed, deleted). Default 30 s. */
  pollMs?: number;
  onSync?: (sync: OrganizationSync) => void;
}

interface Scheduled {
  generation: number | undefined;
  nextAt: number;
  failures: number;
}

const FIRST_RETRY_MS = 30_000;

export class OrganizationReconciler {
  readonly #options: OrganizationReconcilerOptions;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #schedule = new Map<string, Scheduled>();
  #timer: TimerHandle | undefined;
  #running: Promise<unknown> | undefined;
  #stopped = true;
  #unavailable = false;

  constructor(options: OrganizationReconcilerOptions) {
    this.#options = options;
    this.#clock = options.clock ?? systemClock;
    this.#logger = options.logger ?? silentLogger;
  }

  start(): void {
    if (!this.#stopped) return;
    this.#stopped = false;
    this.#tick();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#running;
  }

  #tick(): void {
    if (this.#stopped) return;
    this.#running = this.syncDue()
      .catch((error: unknown) => this.#logger.error(describeError(error), 'AwsOrganization sync failed'))
      .finally(() => {
        if (!this.#stopped) this.#timer = this.#clock.setTimeout(() => this.#tick(), this.#options.pollMs ?? 30_000);
      });
  }

  /** Lists the AwsOrganizations and syncs each that is new, changed, or due by its interval. */
  async syncDue(): Promise<OrganizationSync[]> {
    let organizations: AwsOrganization[];
    try {
      organizations = await this.#options.store.listOrganizations();
      this.#unavailable = false;
    } catch (error) {
      // The CRD not installed (404) or no RBAC for it (403): say so once, keep polling quietly.
      if (!this.#unavailable) this.#logger.warn(describeError(error), 'cannot list AwsOrganizations');
      this.#unavailable = true;
      return [];
    }
    const seen = new Set<string>();
    const out: OrganizationSync[] = [];
    for (const organization of organizations) {
      const uid = organization.metadata.uid ?? organization.metadata.name;
      seen.add(uid);
      const s = this.#schedule.get(uid);
      const changed = s === undefined || s.generation !== organization.metadata.generation;
      if (!changed && this.#clock.now() < s.nextAt) continue;
      out.push(await this.sync(organization));
    }
    for (const uid of [...this.#schedule.keys()]) if (!seen.has(uid)) this.#schedule.delete(uid);
    return out;
  }

  /** One organization: list its accounts, bring the owned AwsAccounts in step, write its status. */
  async sync(organization: AwsOrganization): Promise<OrganizationSync> {
    const name = organization.metadata.name;
    const uid = organization.metadata.uid ?? name;
    const result: OrganizationSync = {
      organization: name,
      created: [],
      updated: [],
      deleted: [],
      conflicts: [],
      accounts: 0,
    };
    const interval = intervalMs(organization);
    const previous = this.#schedule.get(uid);
    let discovery: Discovery | undefined;
    const writeErrors: string[] = [];
    try {
      discovery = await this.#options.discover(organization);
      const desired = discovery.accounts.map((a) => desiredAccount(organization, a));
      result.accounts = desired.length;
      if (discovery.truncated !== undefined) result.truncated = discovery.truncated;
      const owned = new Map(
        (await this.#options.store.listOwnedAccounts({ name, uid })).map((a) => [a.metadata.name, a]),
      );
      for (const d of desired) {
        try {
          await this.#apply(d, owned.get(d.metadata.name), result);
        } catch (error) {
          writeErrors.push(describeError(error).error);
        }
      }
      if (discovery.truncated === undefined) {
        const wanted = new Set(desired.map((d) => d.metadata.name));
        for (const accountName of owned.keys()) {
          if (wanted.has(accountName)) continue;
          try {
            await this.#options.store.deleteAccount(accountName);
            result.deleted.push(accountName);
          } catch (error) {
            writeErrors.push(describeError(error).error);
          }
        }
      }
      if (writeErrors.length > 0) result.error = writeErrors.join('; ');
    } catch (error) {
      result.error = describeError(error).error;
    }
    const failed = discovery === undefined || writeErrors.length > 0;
    const failures = failed ? (previous?.failures ?? 0) + 1 : 0;
    // A failure is retried sooner than the interval (30 s, doubling), never more often.
    const delay = failed ? Math.min(interval, FIRST_RETRY_MS * 2 ** (failures - 1)) : interval;
    this.#schedule.set(uid, {
      generation: organization.metadata.generation,
      nextAt: this.#clock.now() + delay,
      failures,
    });
    await this.#writeStatus(organization, discovery, result);
    const level = result.error === undefined ? 'info' : 'warn';
    this.#logger[level](
      {
        organization: name,
        accounts: result.accounts,
        created: result.created.length,
        updated: result.updated.length,
        deleted: result.deleted.length,
        ...(result.truncated ? { truncated: result.truncated } : {}),
        ...(result.error ? { error: result.error } : {}),
      },
      'AwsOrganization synced',
    );
    this.#options.onSync?.(result);
    return result;
  }

  async #apply(
    desired: DesiredAccount,
    existing: Parameters<OrganizationStore['replaceAccount']>[0] | undefined,
    result: OrganizationSync,
  ) {
    const store = this.#options.store;
    if (existing === undefined) {
      try {
        await store.createAccount(desired);
        result.created.push(desired.metadata.name);
      } catch (error) {
        // An AwsAccount of that name that someone else made: never taken over.
        if (error instanceof KubeApiError && error.code === 'Conflict') result.conflicts.push(desired.metadata.name);
        else throw error;
      }
      return;
    }
    if (accountInStep(existing, desired)) return;
    await store.replaceAccount(existing, desired);
    result.updated.push(desired.metadata.name);
  }

  async #writeStatus(organization: AwsOrganization, discovery: Discovery | undefined, result: OrganizationSync) {
    const now = new Date(this.#clock.now());
    const ready =
      result.error !== undefined
        ? {
            status: 'False' as const,
            reason: discovery === undefined ? 'DiscoveryFailed' : 'WriteFailed',
            message: result.error,
          }
        : result.truncated !== undefined
          ? {
              status: 'False' as const,
              reason: 'Truncated',
              message: `listing cut short (${result.truncated}): AwsAccounts created and updated, none deleted`,
            }
          : result.conflicts.length > 0
            ? {
                status: 'False' as const,
                reason: 'NameConflict',
                message: `AwsAccounts not owned by this organization already use the names ${result.conflicts.join(', ')}`,
              }
            : {
                status: 'True' as const,
                reason: 'Synced',
                message: `${result.accounts} ACTIVE accounts under ${organization.spec.parents.join(', ')}`,
              };
    const { conditions } = setCondition(
      organization.status?.conditions,
      { type: READY, ...ready, observedGeneration: organization.metadata.generation },
      now,
    );
    const status: AwsOrganizationStatus = {
      ...(organization.metadata.generation !== undefined
        ? { observedGeneration: organization.metadata.generation }
        : {}),
      conditions,
      accounts: discovery === undefined ? (organization.status?.accounts ?? 0) : result.accounts,
      ...(discovery !== undefined
        ? { organizationId: discovery.organizationId, lastSyncTime: toKubeTime(now) }
        : organization.status?.lastSyncTime !== undefined
          ? { lastSyncTime: organization.status.lastSyncTime }
          : {}),
    };
    try {
      await this.#options.store.patchOrganizationStatus(organization.metadata.name, status);
      organization.status = status;
    } catch (error) {
      this.#logger.warn(
        { organization: organization.metadata.name, ...describeError(error) },
        'AwsOrganization status write failed',
      );
    }
  }
}

/** spec.interval in milliseconds (parseGoDuration answers seconds). */
function intervalMs(organization: AwsOrganization): number {
  try {
    return parseGoDuration(organization.spec.interval ?? DEFAULT_ORGANIZATION_INTERVAL) * 1000;
  } catch {
    return parseGoDuration(DEFAULT_ORGANIZATION_INTERVAL) * 1000;
  }
}

export interface AwsDiscoveryOptions {
  /** The emulator or a custom endpoint (as for the fleet clients). */
  endpoint?: string | undefined;
  clock?: Clock;
  /** Organizations calls per second (one at a time). Default 2. */
  rate?: number;
}

/**
 * Discovery through each organization's own role: AssumeRole (with its ExternalId) from the controller's identity,
 * cached per AwsOrganization and refreshed before expiry; absent a role, the controller's own credentials.
 */
export function awsDiscovery(options: AwsDiscoveryOptions = {}): Discover & { destroy(): void } {
  const clock = options.clock ?? systemClock;
  const endpoint = options.endpoint === undefined ? {} : { endpoint: options.endpoint };
  const sts = new STSClient(sdkClientConfig(ORGANIZATIONS_REGION, endpoint));
  const cache = new CredentialCache({ sts, clock });
  const clients = new Map<string, { key: string; client: ReturnType<typeof createOrganizationsClient> }>();
  const discover = async (organization: AwsOrganization): Promise<Discovery> => {
    const role = organization.spec.assumeRole;
    const uid = organization.metadata.uid ?? organization.metadata.name;
    const key = JSON.stringify(role ?? null);
    let entry = clients.get(uid);
    if (entry?.key !== key) {
      entry?.client.destroy();
      cache.invalidate(`organization/${uid}`);
      const credentials = role
        ? cache.provider({
            account: `organization/${uid}`,
            accountId: /:iam::(\d{12}):/.exec(role.roleArn)?.[1] ?? '',
            roleArn: role.roleArn,
            externalId: role.externalId,
            sessionName: role.sessionName,
          })
        : undefined;
      entry = { key, client: createOrganizationsClient({ ...endpoint, ...(credentials ? { credentials } : {}) }) };
      clients.set(uid, entry);
    }
    return discoverAccounts(entry.client, {
      parents: organization.spec.parents,
      clock,
      maxDepth: organization.spec.maxDepth ?? 5,
      maxAccounts: organization.spec.maxAccounts ?? DEFAULT_MAX_ACCOUNTS,
      ...(options.rate !== undefined ? { rate: options.rate } : {}),
    });
  };
  return Object.assign(discover, {
    destroy: () => {
      for (const e of clients.values()) e.client.destroy();
      clients.clear();
      sts.destroy();
    },
  });
}

/** The reconciler `run` starts: the API server's AwsOrganizations, discovery through AWS (or the emulator). */
export function organizationReconciler(
  kc: KubeConfig,
  options: { endpoint?: string | undefined; logger?: Logger; pollMs?: number } = {},
): OrganizationReconciler & { destroy(): void } {
  const discover = awsDiscovery({ endpoint: options.endpoint });
  const reconciler = new OrganizationReconciler({
    store: new KubernetesOrganizationStore(kc),
    discover,
    ...(options.logger ? { logger: options.logger } : {}),
    ...(options.pollMs !== undefined ? { pollMs: options.pollMs } : {}),
  });
  return Object.assign(reconciler, { destroy: () => discover.destroy() });
}
