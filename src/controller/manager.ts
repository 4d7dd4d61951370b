/**
 * The reconcile loop: a deduplicating work queue keyed by fleet — one key per (account, region) some policy may
 * reach (`region/<r>` for the home account, `fleet/<account>/<r>` for an AwsAccount) — plus one key per deleted
 * policy, per AwsAccount (its credentials check and status) and per policy refused everywhere (its OutOfScope
 * status). Fed by a PolicySource (Kubernetes or files), by the tenancy source (AwsAccounts and namespace labels)
 * and by each key's own schedule (the shortest policy interval, or the next provisioned-concurrency window edge).
 *
 * Where a policy may reach is tenancy's verdict (src/engine/grants.ts) over the current AwsAccounts and namespace
 * labels; a change of either re-enqueues exactly the fleets whose policies' grants (or whose account) changed.
 * A fleet key re-reads the world (level-based): the current policy set, the grants, then one bulk read of the
 * account's region with the account's own clients (credentials, token buckets, scope: src/reconcile/accounts.ts),
 * one plan, the writes, and then hands every policy that reaches into it to the status publisher, which alone
 * decides what its status says. Nothing is read or written for a policy where it was refused. The manager itself
 * keeps keys, scheduling, passes and backoff only.
 */

import type { AwsAccount } from '../api/account-schema.ts';
import { formatIssue } from '../api/errors.ts';
import { type LabelSelector, matchesLabels } from '../api/label-selector.ts';
import { toPolicyInput } from '../api/parse.ts';
import type { PolicySet, PolicySource } from '../api/policy-set.ts';
import { cliOnlyIssues } from '../api/rules.ts';
import { APPROVE_GENERATION_ANNOTATION, type LambdaPolicy } from '../api/schema.ts';
import { deletePolicyScheduledActions } from '../aws/cleanup.ts';
import type { Aws, ExecutePlanOptions } from '../aws/index.ts';
import { ownerOfAction } from '../engine/cleanup.ts';
import {
  type AccountGrant,
  accountGrant,
  decideGrant,
  HOME_ACCOUNT,
  homeGrant,
  type PolicyGrant,
  policiesFor,
  type TenancyInput,
} from '../engine/grants.ts';
import type { IacOwnerTag } from '../engine/iac.ts';
import type { PolicyInput, RuntimeTable } from '../engine/model.ts';
import type { RolloutHalt } from '../engine/rollout.ts';
import { isBeingDeleted } from '../kube/finalizers.ts';
import { reconcileInAccount, verifyAccount } from '../reconcile/accounts.ts';
import type { PassResult } from '../reconcile/pass.ts';
import { namespaceOf, objectKey } from '../shared/keys.ts';
import { describeError, type Logger, silentLogger } from '../shared/logger.ts';
import {
  type AccountStatusSink,
  composeAccountStatus,
  type TenancySource,
  type Verification,
  verificationFailure,
  verifiedState,
} from './accounts.ts';
import type { ControllerMetrics } from './metrics.ts';
import { WorkQueue } from './queue.ts';
import { asDryRun, haltFromStatus } from './safety.ts';
import { type PolicyStatusSink, type RegionView, StatusPublisher, type TenancyView } from './status-publisher.ts';
import { type ReconcileResult, runWorkers } from './worker.ts';

export interface ManagerOptions {
  source: PolicySource;
  aws: Aws;
  /** Regions of policies without `selector.regions`. */
  defaultRegions: string[];
  sink: PolicyStatusSink;
  /** Keys reconciled at once (different regions in parallel; one key never twice at once). Default 4. */
  workers?: number | undefined;
  /**
   * Fleet keys of one account (the home account included) reconciled at once, at most: a slow or failing account
   * with many regions holds this many workers, never all, so other accounts' keys go on. Default half the
   * workers, at least 1.
   */
  maxWorkersPerAccount?: number | undefined;
  logger?: Logger | undefined;
  metrics?: ControllerMetrics | undefined;
  now?: () => Date;
  execute?: ExecutePlanOptions;
  /**
   * After a pass that wrote to AWS, check the region again this soon, to confirm the fix and report it (default
   * 10 s; the demo uses less). Without it, a remediation would be confirmed only at the next interval.
   */
  recheckAfterWritesMs?: number;
  /**
   * Whether this process may write now (AWS, status, finalizers): the leader elector's verdict, asked before each
   * write so a leader that lost its Lease stops writing at once. Default: always.
   */
  mayWrite?: (() => boolean) | undefined;
  /**
   * The default blast-radius guard for policies without spec.rollout limits (percentage of matched functions a
   * pass may change); undefined: none.
   */
  maxChangesPercent?: number | undefined;
  /** Tags that mark a function as owned by infrastructure as code (beyond CloudFormation's and SAM's). */
  iacOwnerTags?: readonly IacOwnerTag[] | undefined;
  /** Treat every policy as Audit: read and report, never write AWS (status still written). */
  dryRun?: boolean | undefined;
  /** After each region pass (the demo's live view, tests). */
  onPass?: (region: string, pass: PassResult) => void;
  /** The runtime table of checks.runtime (`--runtimes-file`); default the shipped one. */
  runtimes?: RuntimeTable | undefined;
  /** AwsAccounts and namespace labels (the Kubernetes watchers); absent: no AwsAccounts, no namespace labels. */
  tenancy?: TenancySource | undefined;
  /** Clients per AwsAccount (own credentials and token buckets); required for policies to reach AwsAccounts. */
  accountClients?: { get(account: AwsAccount): Aws; forget(name: string): void } | undefined;
  /** Where AwsAccount statuses go (Ready/AccountMismatch, lastVerifiedTime, policies). */
  accountSink?: AccountStatusSink | undefined;
  /** The home account's id, when known (status names it). */
  homeAccountId?: string | undefined;
  /**
   * The namespaces whose policies may reach the home account (the controller's own credentials): default `{}`,
   * every namespace, as before AwsAccounts existed; null: none.
   */
  homePolicyNamespaces?: LabelSelector | null | undefined;
  /**
   * Sharding (`--account-selector`): govern only the AwsAccounts whose labels match. Policies reaching only other
   * accounts are left to the release that governs them (no status, no reads, no writes here).
   */
  accountSelector?: LabelSelector | undefined;
  /** How long an account's verified credentials stand before GetCallerIdentity is asked again. Default 5 min. */
  verifyIntervalMs?: number | undefined;
}

interface RegionResult {
  pass: PassResult;
  at: Date;
  /** Policy key -> the uid/generation the pass planned it at (Ready needs every region current). */
  planned: Map<string, string>;
}

/** Error codes of src/aws that a later attempt may not meet again. */
const TRANSIENT_ERRORS: ReadonlySet<string> = new Set(['Throttled', 'Retryable', 'Conflict', 'WaitTimeout']);

const REGION_KEY = 'region/';
const FLEET_KEY = 'fleet/';
const ACCOUNT_KEY = 'account/';
const SCOPE_KEY = 'scope/';
const DELETE_KEY = 'delete/';
/** A failed credentials check is asked again this soon at most (the account's keys back off meanwhile). */
const FAILED_VERIFY_MS = 30_000;

/** The account a fleet key belongs to (what the per-account worker cap counts); undefined for other keys. */
export function accountOfKey(key: string): string | undefined {
  if (key.startsWith(REGION_KEY)) return HOME_ACCOUNT;
  if (!key.startsWith(FLEET_KEY)) return undefined;
  const rest = key.slice(FLEET_KEY.length);
  return rest.slice(0, rest.indexOf('/'));
}

/** The per-account cap in force: the option, else half the workers (at least 1), never above the workers. */
export function workersPerAccount(workers: number, max: number | undefined): number {
  return Math.max(1, Math.min(workers, max ?? Math.floor(workers / 2)));
}

/** What names one fleet in maps and messages: the region for the home account, `account/region` otherwise. */
function fleetLabel(account: string, region: string): string {
  return account === HOME_ACCOUNT ? region : `${account}/${region}`;
}

function fleetKey(account: string, region: string): string {
  return account === HOME_ACCOUNT ? REGION_KEY + region : FLEET_KEY + fleetLabel(account, region);
}

function usesAccounts(policy: LambdaPolicy): boolean {
  const selector = policy.spec.selector;
  return (selector?.accounts ?? []).length > 0 || selector?.accountSelector !== undefined;
}

/** A policy's grant, cached at a tenancy version (grants depend on nothing else than the policy and tenancy). */
interface CachedGrant {
  fingerprint: string;
  version: number;
  grant: PolicyGrant | undefined;
}
/** Visit a region shortly after a window edge so status shows the new desired value. */
const EDGE_SLACK_MS = 5_000;

export class Manager {
  private readonly options: ManagerOptions;
  private readonly log: Logger;
  private readonly now: () => Date;
  readonly queue: WorkQueue;
  private readonly results = new Map<string, RegionResult>();
  private readonly status: StatusPublisher;
  private known = new Map<string, LambdaPolicy>();
  /** Consecutive passes per region whose writes failed for a passing reason (their retry backs off). */
  private readonly transientFailures = new Map<string, number>();
  /**
   * Regions whose last read failed, with the message. While one is failing, every policy reaching into it says so
   * whichever region's pass publishes.
   */
  private readonly regionErrors = new Map<string, string>();
  /** Rollouts a failed batch stopped, by policy key; a new generation of the policy resumes it. */
  private readonly halted = new Map<string, RolloutHalt>();
  private unsubscribe: (() => void) | undefined;
  private unsubscribeTenancy: (() => void) | undefined;
  private workers: Promise<void> | undefined;
  /** Bumped when AwsAccounts or namespace labels change: every cached grant is decided again. */
  private tenancyVersion = 0;
  private tenancyCache: { version: number; input: TenancyInput; byName: Map<string, AwsAccount> } | undefined;
  private readonly grants = new Map<string, CachedGrant>();
  /** The keys each known policy was last placed on (its fleets, or its scope key), to enqueue old and new. */
  private readonly placed = new Map<string, { grant: string; keys: string[] }>();
  /** Client fingerprints of the governed AwsAccounts, to tell which changed. */
  private accountFingerprints = new Map<string, string>();
  private readonly verifications = new Map<string, Verification>();
  /**
   * Per policy: scheduled actions it owns in fleets it is refused (its grant was revoked), by fleet label, as last
   * seen there. They are left in place (no writes where refused) and named on the policy's status.
   */
  private readonly leftInPlace = new Map<string, Map<string, string[]>>();
  private readonly verifying = new Map<string, Promise<Verification>>();

  constructor(options: ManagerOptions) {
    this.options = options;
    this.log = options.logger ?? silentLogger;
    this.now = options.now ?? (() => new Date());
    this.status = new StatusPublisher({
      sink: options.sink,
      metrics: options.metrics,
      mayWrite: options.mayWrite,
      dryRun: options.dryRun,
    });
    // A region key costs a bulk read of the region: back off from 1 s to 5 min, not controller-runtime's 5 ms, so a
    // region AWS refuses (access denied, an outage) is not hammered by retries.
    this.queue = new WorkQueue({
      baseMs: 1_000,
      maxMs: 300_000,
      // Fleet keys are grouped by account: a capped account's key waits in line while other accounts' keys go.
      groupOf: accountOfKey,
      maxPerGroup: workersPerAccount(options.workers ?? 4, options.maxWorkersPerAccount),
      onDepthChange: (depth) => options.metrics?.workqueue.depth(depth),
      ...(options.metrics ? { metrics: options.metrics.workqueue } : {}),
    });
  }

  /** Starts the workers over the source's current set; the source must have been started. */
  start(): void {
    this.unsubscribe = this.options.source.onChange((set) => this.onPolicySet(set));
    this.unsubscribeTenancy = this.options.tenancy?.onChange(() => this.onTenancyChange());
    this.onTenancyChange();
    this.onPolicySet(this.options.source.current());
    this.workers = runWorkers(this.queue, this.options.workers ?? 4, (key) => this.reconcile(key), {
      onResult: (key, outcome, durationMs, error) => {
        this.options.metrics?.observeReconcile(outcome, durationMs);
        if (error) this.log.warn({ key, ...describeError(error) }, 'reconcile failed; retrying with backoff');
        else this.log.debug({ key, outcome, durationMs: Math.round(durationMs) }, 'reconciled');
      },
    });
  }

  /** Stops taking keys, lets running reconciles finish. */
  async stop(): Promise<void> {
    this.unsubscribe?.();
    this.unsubscribeTenancy?.();
    this.queue.shutdown();
    await this.workers;
    await this.options.sink.close?.();
  }

  /** Policies the status publisher keeps something for (its maps shrink when a policy goes). */
  get trackedPolicies(): number {
    return this.status.tracked;
  }

  /** Regions whose last read failed, with the message (what /readyz shows as detail). */
  unavailableRegions(): ReadonlyMap<string, string> {
    return this.regionErrors;
  }

  /** Latest region passes (the demo's view). */
  latest(): ReadonlyMap<string, RegionResult> {
    return this.results;
  }

  /** Enqueues what a new policy set affects: fleets of changed/removed policies, deletions, account counts. */
  private onPolicySet(set: PolicySet): void {
    const next = new Map(set.policies.map((p) => [objectKey(p), p]));
    const keys = new Set<string>();
    for (const [key, policy] of next) {
      const before = this.known.get(key);
      if (isBeingDeleted(policy)) this.queue.add(DELETE_KEY + key);
      if (before === undefined || fingerprint(before) !== fingerprint(policy)) {
        for (const k of this.place(policy, true)) keys.add(k);
      }
    }
    for (const [key, before] of this.known) {
      if (!next.has(key)) {
        const placed = this.placed.get(key);
        for (const k of placed?.keys ?? []) keys.add(k);
        for (const account of accountsOf(placed?.grant)) keys.add(ACCOUNT_KEY + account);
        this.placed.delete(key);
        this.grants.delete(key);
        this.leftInPlace.delete(key);
        this.halted.delete(key);
        this.options.metrics?.forgetPolicy(key);
        this.status.forget(before);
      }
    }
    this.known = next;
    for (const k of keys) this.queue.add(k);
  }

  /**
   * AwsAccounts or namespace labels changed (or the manager starts): decide every grant again and enqueue the
   * fleets of the policies whose grant changed (before and after), the fleets of accounts whose spec or labels
   * changed, and the changed accounts' own keys.
   */
  private onTenancyChange(): void {
    this.tenancyVersion++;
    const keys = new Set<string>();
    const next = new Map(
      this.governedAccounts().map((a) => [a.metadata.name, JSON.stringify([a.metadata.labels ?? {}, a.spec])]),
    );
    const touchAccount = (name: string) => {
      keys.add(ACCOUNT_KEY + name);
      const prefix = `${FLEET_KEY}${name}/`;
      for (const placed of this.placed.values()) for (const k of placed.keys) if (k.startsWith(prefix)) keys.add(k);
    };
    for (const [name, fp] of next) if (this.accountFingerprints.get(name) !== fp) touchAccount(name);
    for (const name of this.accountFingerprints.keys()) {
      if (next.has(name)) continue;
      touchAccount(name);
      this.options.accountClients?.forget(name);
      this.verifications.delete(name);
    }
    this.accountFingerprints = next;
    for (const policy of this.known.values()) for (const k of this.place(policy, false)) keys.add(k);
    for (const k of keys) this.queue.add(k);
  }

  /**
   * Where a policy is reconciled now: the fleet keys of every (account, region) it reaches, or its scope key when
   * it reaches nothing but was refused something. Returns the keys to enqueue: old and new ones when they (or the
   * grant) changed, or always when `force` (the policy itself changed). AwsAccount keys of the accounts it names
   * are included so their `policies` count follows.
   */
  private place(policy: LambdaPolicy, force: boolean): string[] {
    const id = objectKey(policy);
    const grant = this.grantFor(policy);
    const keys: string[] = [];
    for (const r of grant?.reach ?? []) for (const region of r.regions) keys.push(fleetKey(r.account, region));
    if (grant && grant.reach.length === 0 && grant.refused.length > 0) keys.push(SCOPE_KEY + id);
    const grantText = JSON.stringify(grant ?? null);
    const before = this.placed.get(id);
    this.placed.set(id, { grant: grantText, keys });
    if (before?.grant !== grantText) this.noteRevoked(id, grant, before?.keys ?? []);
    if (!force && before?.grant === grantText) return [];
    const accounts = new Set([...accountsOf(grantText), ...accountsOf(before?.grant)]);
    return [...new Set([...(before?.keys ?? []), ...keys, ...[...accounts].map((a) => ACCOUNT_KEY + a)])];
  }

  /**
   * A policy's grant changed: the fleets it reached before and is refused now keep what it owns there (nothing is
   * written where it is refused), as the fleet's last pass saw it; fleets granted again are forgotten.
   */
  private noteRevoked(id: string, grant: PolicyGrant | undefined, keysBefore: readonly string[]): void {
    const kept = this.leftInPlace.get(id) ?? new Map<string, string[]>();
    for (const key of keysBefore) {
      const account = accountOfKey(key);
      if (account === undefined) continue;
      const region = key.slice(key.lastIndexOf('/') + 1);
      if (!refusedIn(grant, account, region)) continue;
      const label = fleetLabel(account, region);
      const seen = this.results.get(label);
      const names = seen ? ownedIn(seen.pass, id, region) : [];
      if (names.length > 0) kept.set(label, names);
    }
    for (const label of kept.keys()) {
      const slash = label.lastIndexOf('/');
      const account = slash < 0 ? HOME_ACCOUNT : label.slice(0, slash);
      if (!refusedIn(grant, account, label.slice(slash + 1))) kept.delete(label);
    }
    if (kept.size > 0) this.leftInPlace.set(id, kept);
    else this.leftInPlace.delete(id);
  }

  /** After a pass over a fleet: what the policies refused there own in it now (enqueues their keys on a change). */
  private noteLeftInPlace(label: string, region: string, pass: PassResult, refused: ReadonlySet<string>): void {
    for (const id of refused) {
      const policy = this.known.get(id);
      const slash = label.lastIndexOf('/');
      const account = slash < 0 ? HOME_ACCOUNT : label.slice(0, slash);
      // Granted again while the pass ran: what it owns there is its own to manage again.
      if (!policy || !refusedIn(this.grantFor(policy), account, region)) continue;
      const names = ownedIn(pass, id, region);
      const kept = this.leftInPlace.get(id) ?? new Map<string, string[]>();
      if (JSON.stringify(kept.get(label) ?? []) === JSON.stringify(names)) continue;
      if (names.length > 0) kept.set(label, names);
      else kept.delete(label);
      if (kept.size > 0) this.leftInPlace.set(id, kept);
      else this.leftInPlace.delete(id);
      for (const k of this.placed.get(id)?.keys ?? []) this.queue.add(k);
    }
  }

  /** The AwsAccounts this controller governs (all, or those its --account-selector matches). */
  private governedAccounts(): AwsAccount[] {
    const all = this.options.tenancy?.accounts() ?? [];
    const selector = this.options.accountSelector;
    return selector ? all.filter((a) => matchesLabels(selector, a.metadata.labels ?? {})) : [...all];
  }

  private get sharded(): boolean {
    return this.options.accountSelector !== undefined;
  }

  /** Whether this release governs the account (the home account: unless sharded without a home grant). */
  private inShard(account: string): boolean {
    if (account === HOME_ACCOUNT) return !this.sharded || this.options.homePolicyNamespaces !== null;
    return !this.sharded || this.tenancy().byName.has(account);
  }

  /** Tenancy as grants.ts takes it, at the current version. */
  private tenancy(): { input: TenancyInput; byName: Map<string, AwsAccount> } {
    if (this.tenancyCache?.version === this.tenancyVersion) return this.tenancyCache;
    const all = this.options.tenancy?.accounts() ?? [];
    const governed = new Map(this.governedAccounts().map((a) => [a.metadata.name, a]));
    const home = this.options.homePolicyNamespaces;
    const input: TenancyInput = {
      // Every AwsAccount, so a policy naming another shard's account is told apart from one naming none.
      accounts: all.map(accountGrant),
      home: homeGrant(
        this.options.homeAccountId ?? '',
        this.options.defaultRegions,
        home === null ? undefined : (home ?? {}),
      ),
      namespaceLabels: this.options.tenancy?.namespaceLabels() ?? new Map(),
      defaultRegions: this.options.defaultRegions,
    };
    this.tenancyCache = { version: this.tenancyVersion, input, byName: governed };
    return this.tenancyCache;
  }

  /**
   * Where one policy may reach (undefined: nothing this release governs). The home account has every region the
   * policy names (as before AwsAccounts: `--regions` are only the default).
   */
  private grantFor(policy: LambdaPolicy): PolicyGrant | undefined {
    const id = objectKey(policy);
    const selector = policy.spec.selector ?? {};
    const fp = JSON.stringify([selector.regions ?? null, selector.accounts ?? null, selector.accountSelector ?? null]);
    const cached = this.grants.get(id);
    if (cached?.fingerprint === fp && cached.version === this.tenancyVersion) return cached.grant;
    const { input } = this.tenancy();
    const home = { ...input.home, regions: [...new Set([...input.home.regions, ...(selector.regions ?? [])])] };
    const decided = decideGrant({ namespace: namespaceOf(policy), selector }, { ...input, home });
    let grant: PolicyGrant | undefined = decided;
    if (this.sharded) {
      const reach = decided.reach.filter((r) => this.inShard(r.account));
      const ours = decided.refused.filter((r) => r.reason !== 'UnknownAccount' && this.inShard(r.account));
      grant =
        reach.length > 0 || ours.length > 0
          ? { reach, refused: [...decided.refused.filter((r) => r.reason === 'UnknownAccount'), ...ours] }
          : undefined;
    }
    this.grants.set(id, { fingerprint: fp, version: this.tenancyVersion, grant });
    return grant;
  }

  private mayWrite(): boolean {
    return this.options.mayWrite?.() ?? true;
  }

  /** The (account, region) pairs a policy reaches, as fleet labels. */
  private fleetsOf(policy: LambdaPolicy): { account: string; region: string; label: string }[] {
    return (this.grantFor(policy)?.reach ?? []).flatMap((r) =>
      r.regions.map((region) => ({ account: r.account, region, label: fleetLabel(r.account, region) })),
    );
  }

  private async reconcile(key: string): Promise<ReconcileResult | undefined> {
    if (key.startsWith(REGION_KEY)) return this.reconcileFleetKey(HOME_ACCOUNT, key.slice(REGION_KEY.length));
    if (key.startsWith(FLEET_KEY)) {
      const rest = key.slice(FLEET_KEY.length);
      const slash = rest.indexOf('/');
      return this.reconcileFleetKey(rest.slice(0, slash), rest.slice(slash + 1));
    }
    if (key.startsWith(ACCOUNT_KEY)) return this.reconcileAccount(key.slice(ACCOUNT_KEY.length));
    if (key.startsWith(SCOPE_KEY)) return this.reconcileOutOfScope(key.slice(SCOPE_KEY.length));
    if (key.startsWith(DELETE_KEY)) return this.reconcileDeletion(key.slice(DELETE_KEY.length));
    return undefined;
  }

  /** The clients of an account (the home account: the controller's own). */
  private awsOf(account: string): Aws {
    if (account === HOME_ACCOUNT) return this.options.aws;
    const object = this.tenancy().byName.get(account);
    if (!object || !this.options.accountClients) throw new Error(`account ${account}: not governed here`);
    return this.options.accountClients.get(object);
  }

  /**
   * The account's credentials check: cached while fresh (the same role and id), else GetCallerIdentity, once at a
   * time per account. A change of outcome enqueues the account's key (its status) and, when it recovers, its fleets.
   */
  private async verification(account: AwsAccount, now: Date): Promise<Verification> {
    const name = account.metadata.name;
    const fp = JSON.stringify([account.spec.accountId, account.spec.assumeRole ?? null]);
    const cached = this.verifications.get(name);
    const fresh = cached?.error === undefined ? (this.options.verifyIntervalMs ?? 300_000) : FAILED_VERIFY_MS;
    if (cached?.fingerprint === fp && now.getTime() - cached.at.getTime() < fresh) return cached;
    const running = this.verifying.get(name);
    if (running) return running;
    const check = (async (): Promise<Verification> => {
      const grant: AccountGrant = accountGrant(account);
      const region = account.spec.regions[0] ?? this.options.defaultRegions[0] ?? 'us-east-1';
      try {
        await verifyAccount(this.awsOf(name), grant, region);
        return { fingerprint: fp, at: now, verifiedAt: now, state: verifiedState(account) };
      } catch (error) {
        const state = verificationFailure(error);
        this.log.warn(
          { account: name, reason: state.kind === 'Ready' ? '' : state.reason, ...describeError(error) },
          'account credentials check failed',
        );
        return {
          fingerprint: fp,
          at: now,
          verifiedAt: cached?.verifiedAt,
          state,
          error: `AWS account ${name}: ${state.message}`,
        };
      }
    })();
    this.verifying.set(name, check);
    try {
      const result = await check;
      this.verifications.set(name, result);
      if (JSON.stringify(cached?.state ?? null) !== JSON.stringify(result.state)) {
        this.queue.add(ACCOUNT_KEY + name);
        if (result.error === undefined && cached?.error !== undefined) {
          for (const placed of this.placed.values())
            for (const k of placed.keys) if (k.startsWith(`${FLEET_KEY}${name}/`)) this.queue.add(k);
        }
      }
      return result;
    } finally {
      this.verifying.delete(name);
    }
  }

  /** An AwsAccount's key: check its credentials when due and write its status (when it changed). */
  private async reconcileAccount(name: string): Promise<ReconcileResult | undefined> {
    const account = this.tenancy().byName.get(name);
    if (!account) {
      this.verifications.delete(name);
      return undefined;
    }
    const now = this.now();
    const verification = await this.verification(account, now);
    let policies = 0;
    for (const policy of this.known.values()) {
      const grant = this.grantFor(policy);
      if (grant?.reach.some((r) => r.account === name) || grant?.refused.some((r) => r.account === name)) policies++;
    }
    if (this.mayWrite()) {
      await this.options.accountSink?.writeAccountStatus(
        account,
        composeAccountStatus(account, verification, policies, now),
      );
    }
    const interval = this.options.verifyIntervalMs ?? 300_000;
    return { requeueAfterMs: verification.error === undefined ? interval : Math.min(interval, FAILED_VERIFY_MS * 2) };
  }

  /** A policy refused everywhere it asked to reach: Stalled/OutOfScope, nothing read or written for it. */
  private async reconcileOutOfScope(id: string): Promise<ReconcileResult | undefined> {
    const policy = this.options.source.current().policies.find((p) => objectKey(p) === id);
    if (!policy || isBeingDeleted(policy)) return undefined;
    const grant = this.grantFor(policy);
    if (!grant || grant.reach.length > 0 || grant.refused.length === 0) return undefined;
    const view = this.tenancyView(policy) ?? { reach: [], refused: grant.refused };
    await this.status.publishOutOfScope(policy, view, this.now());
    return undefined;
  }

  private async reconcileFleetKey(account: string, region: string): Promise<ReconcileResult | undefined> {
    const label = fleetLabel(account, region);
    const now = this.now();
    const set = this.options.source.current();
    const declared = set.policies.filter((p) => !isBeingDeleted(p));
    const live = this.options.dryRun ? declared.map(asDryRun) : declared;
    const reaches = (p: LambdaPolicy) =>
      this.grantFor(p)?.reach.some((r) => r.account === account && r.regions.includes(region)) ?? false;
    const inFleet = this.inShard(account) ? live.filter(reaches) : [];
    if (inFleet.length === 0) {
      this.results.delete(label);
      this.regionErrors.delete(label);
      if (account === HOME_ACCOUNT) this.options.metrics?.forgetRegion(region);
      this.transientFailures.delete(label);
      return undefined;
    }
    const { valid, invalid } = this.toInputs(inFleet);
    for (const { policy, problems } of invalid) await this.status.publishInvalid(policy, problems, now);
    for (const policy of inFleet) {
      const input = valid.get(objectKey(policy));
      if (input && input.mode === 'Enforce' && !input.suspend && this.mayWrite())
        await this.options.sink.ensureFinalizer(policy);
    }
    const grants = new Map<string, PolicyGrant>();
    for (const policy of inFleet) {
      const grant = this.grantFor(policy);
      if (grant) grants.set(objectKey(policy), grant);
    }
    // Policies refused this fleet: the scheduled actions they own here are left in place, whoever else reaches it.
    const refusedHere = new Set(
      declared.filter((p) => refusedIn(this.grantFor(p), account, region)).map((p) => objectKey(p)),
    );
    let pass: PassResult;
    try {
      const aws = this.awsOf(account);
      const object = account === HOME_ACCOUNT ? undefined : this.tenancy().byName.get(account);
      if (object) {
        const verified = await this.verification(object, now);
        if (verified.error !== undefined) throw new Error(verified.error);
      }
      pass = await reconcileInAccount(
        aws,
        { scope: object?.spec.scope },
        policiesFor(account, region, [...valid.values()], grants),
        [region],
        {
          now,
          enforce: true,
          // Remediation records name the AwsAccount the write went to (the home account is the default).
          execute: account === HOME_ACCOUNT ? this.options.execute : { ...this.options.execute, account },
          mayWrite: () => this.mayWrite(),
          ...(this.options.runtimes ? { runtimes: this.options.runtimes } : {}),
          iacOwnerTags: this.options.iacOwnerTags,
          refusedOwners: refusedHere,
          rollout: { defaultMaxPercent: this.options.maxChangesPercent, halted: this.currentHalts(valid, inFleet) },
        },
      );
    } catch (error) {
      // The fleet could not be read: say so on every policy that reaches into it (figures of the last good check
      // stay), then let the queue back off and retry.
      const where = account === HOME_ACCOUNT ? `AWS in ${region}` : `AWS account ${account} in ${region}`;
      const message = error instanceof Error ? error.message : String(error);
      this.regionErrors.set(label, message.startsWith('AWS account ') ? message : `${where}: ${message}`);
      if (account === HOME_ACCOUNT) this.options.metrics?.setRegionUnavailable(region, true);
      for (const policy of inFleet) {
        if (valid.has(objectKey(policy))) await this.status.publishUnavailable(policy, this.unavailable(policy), now);
      }
      throw error;
    }
    this.regionErrors.delete(label);
    for (const [id, halt] of pass.halted) {
      this.halted.set(id, halt);
      this.log.warn({ account, region, policy: id, failure: halt.message }, 'rollout stopped at a failed batch');
    }
    if (account === HOME_ACCOUNT) this.options.metrics?.setRegionUnavailable(region, false);
    this.results.set(label, { pass, at: now, planned: new Map(inFleet.map((p) => [objectKey(p), planVersion(p)])) });
    this.logPass(label, pass);
    this.noteLeftInPlace(label, region, pass, refusedHere);
    this.options.onPass?.(label, pass);
    for (const policy of inFleet) {
      // A policy removed while the pass ran was forgotten by the publisher: publishing it would keep it for good.
      if (valid.has(objectKey(policy)) && this.known.has(objectKey(policy)))
        await this.publish(policy, account, region, pass, now);
    }
    return { requeueAfterMs: this.afterPassMs(label, inFleet, valid, pass, now) };
  }

  /** One line per pass; one line per function whose writes failed, naming the function and its policies. */
  private logPass(region: string, pass: PassResult): void {
    const plans = new Map(pass.plan.functions.map((f) => [f.name, f]));
    const applied = pass.executions.reduce((n, e) => n + e.outcomes.filter((o) => o.status === 'applied').length, 0);
    for (const e of pass.executions) {
      const policies = plans.get(e.name)?.policies ?? [];
      const failed = e.outcomes.find((o) => o.status === 'failed');
      if (failed) {
        this.log.warn(
          { region, function: e.name, policies, api: failed.action.api, error: failed.error?.message },
          'remediation failed',
        );
      } else {
        this.log.info(
          { region, function: e.name, policies, actions: e.outcomes.map((o) => o.action.api) },
          'remediated',
        );
      }
    }
    this.log.info(
      {
        region,
        matched: pass.plan.functions.length,
        drifted: pass.plan.functions.filter((f) => !f.compliant).length,
        applied,
        calls: pass.fleet.calls,
      },
      'region checked',
    );
  }

  private toInputs(policies: readonly LambdaPolicy[]): {
    valid: Map<string, PolicyInput>;
    invalid: { policy: LambdaPolicy; problems: string[] }[];
  } {
    const valid = new Map<string, PolicyInput>();
    const invalid: { policy: LambdaPolicy; problems: string[] }[] = [];
    for (const policy of policies) {
      // The API server enforced the schema and CEL; what only the CLI can check (cron parse, known time zone)
      // is checked here, and a policy failing it is reported (Stalled), never planned.
      const problems = cliOnlyIssues(policy.spec).map(formatIssue);
      if (problems.length === 0) {
        try {
          valid.set(objectKey(policy), toPolicyInput(policy));
          continue;
        } catch (error) {
          problems.push(error instanceof Error ? error.message : String(error));
        }
      }
      invalid.push({ policy, problems });
    }
    return { valid, invalid };
  }

  /** Halted rollouts still at their policy's generation (older ones are dropped: a new generation resumes). */
  private currentHalts(
    valid: ReadonlyMap<string, PolicyInput>,
    policies: readonly LambdaPolicy[],
  ): Map<string, RolloutHalt> {
    for (const [id, halt] of this.halted) {
      if (valid.get(id)?.generation !== halt.generation) this.halted.delete(id);
    }
    for (const policy of policies) {
      const id = objectKey(policy);
      if (this.halted.has(id)) continue;
      const recorded = haltFromStatus(policy);
      if (recorded) this.halted.set(id, recorded);
    }
    return this.halted;
  }

  /** The messages of every failing fleet `policy` reaches into (empty when none). */
  private unavailable(policy: LambdaPolicy): string[] {
    return this.fleetsOf(policy).flatMap((f) => this.regionErrors.get(f.label) ?? []);
  }

  /** Status and events of one policy after a pass over (account, region), with its other fleets' latest passes. */
  private publish(policy: LambdaPolicy, account: string, region: string, pass: PassResult, now: Date): Promise<void> {
    const id = objectKey(policy);
    const here = regionView(pass, account, now);
    const regions: RegionView[] = [];
    const pendingRegions: string[] = [];
    for (const f of this.fleetsOf(policy)) {
      if (f.account === account && f.region === region) {
        regions.push(here);
        continue;
      }
      const result = this.results.get(f.label);
      if (result?.planned.get(id) !== planVersion(policy)) pendingRegions.push(f.label);
      if (result) regions.push(regionView(result.pass, f.account, result.at));
    }
    return this.status.publishPass(policy, here, {
      regions,
      pendingRegions,
      unavailable: this.unavailable(policy),
      now,
      tenancy: this.tenancyView(policy),
    });
  }

  /** What status.accounts says for a policy that uses AwsAccounts or was refused one; undefined otherwise. */
  private tenancyView(policy: LambdaPolicy): TenancyView | undefined {
    const grant = this.grantFor(policy);
    if (!grant || (!usesAccounts(policy) && grant.refused.length === 0)) return undefined;
    return {
      reach: grant.reach.map((r) => {
        const errors = r.regions.flatMap((region) => this.regionErrors.get(fleetLabel(r.account, region)) ?? []);
        return {
          account: r.account,
          accountId: r.accountId,
          ...(errors.length > 0 ? { error: errors.join('; ') } : {}),
        };
      }),
      refused: grant.refused,
      // Only where it is still refused: a pass that began before a grant came back may have noted them.
      leftInPlace: [...(this.leftInPlace.get(objectKey(policy)) ?? [])].flatMap(([label, actions]) => {
        const slash = label.lastIndexOf('/');
        const account = slash < 0 ? HOME_ACCOUNT : label.slice(0, slash);
        const region = label.slice(slash + 1);
        return refusedIn(grant, account, region) ? [{ fleet: `account ${account} region ${region}`, actions }] : [];
      }),
    };
  }

  /**
   * When to visit the region again: the shortest policy interval or the next window edge; soon after writes, to
   * confirm them; and after writes that failed for a passing reason (throttled, conflict, timeout, 5xx) with a
   * per-region backoff from 10 s. Failures retrying cannot fix (access denied, refused values) wait for the interval.
   */
  private afterPassMs(
    region: string,
    policies: readonly LambdaPolicy[],
    valid: ReadonlyMap<string, PolicyInput>,
    pass: PassResult,
    now: Date,
  ): number {
    let ms = this.nextVisitMs(policies, valid, pass, now);
    const outcomes = pass.executions.flatMap((e) => e.outcomes);
    if (outcomes.some((o) => o.status === 'applied')) ms = Math.min(ms, this.options.recheckAfterWritesMs ?? 10_000);
    const transient = outcomes.some((o) => o.error !== undefined && TRANSIENT_ERRORS.has(o.error.code));
    const failures = transient ? (this.transientFailures.get(region) ?? 0) + 1 : 0;
    this.transientFailures.set(region, failures);
    if (failures > 0) ms = Math.min(ms, 10_000 * 2 ** Math.min(failures - 1, 5));
    return ms;
  }

  /** The shortest interval of the region's policies, or sooner when a window edge comes first. */
  private nextVisitMs(
    policies: readonly LambdaPolicy[],
    valid: ReadonlyMap<string, PolicyInput>,
    pass: PassResult,
    now: Date,
  ): number {
    let ms = Number.POSITIVE_INFINITY;
    for (const policy of policies) {
      const input = valid.get(objectKey(policy));
      if (input && !input.suspend) ms = Math.min(ms, input.intervalSeconds * 1000);
    }
    for (const report of pass.plan.policies) {
      const edge = report.provisionedConcurrency?.nextChange?.at;
      if (edge) ms = Math.min(ms, Math.max(0, edge.getTime() - now.getTime()) + EDGE_SLACK_MS);
    }
    return Number.isFinite(ms) ? ms : 300_000;
  }

  private async reconcileDeletion(id: string): Promise<ReconcileResult | undefined> {
    const policy = this.options.source.current().policies.find((p) => objectKey(p) === id);
    if (!policy || !isBeingDeleted(policy) || !this.mayWrite()) return undefined;
    const namespace = namespaceOf(policy);
    // A dry-run controller never writes AWS, not even to clean up: the scheduled actions stay for a real
    // controller (or a person) to remove, and the deletion is not blocked.
    const fleets = this.options.dryRun ? [] : this.fleetsOf(policy);
    if (this.options.dryRun) {
      this.log.warn({ policy: id }, 'dry run: scheduled actions owned by the deleted policy are left in AWS');
    }
    for (const { account, region } of fleets) {
      const results = await deletePolicyScheduledActions(this.awsOf(account), region, namespace, policy.metadata.name);
      const failed = results.find((r) => !r.ok);
      if (failed) {
        const outcome = failed.outcomes.find((o) => !o.ok);
        throw new Error(
          `cannot delete scheduled actions of ${id} in ${fleetLabel(account, region)}: ${outcome?.error?.message ?? 'failed'}`,
          {
            cause: outcome?.error,
          },
        );
      }
      if (results.length > 0)
        this.log.info({ policy: id, account, region, functions: results.length }, 'removed owned scheduled actions');
    }
    await this.options.sink.removeFinalizer(policy);
    this.status.forget(policy);
    for (const f of this.fleetsOf(policy)) this.queue.add(fleetKey(f.account, f.region));
    return undefined;
  }
}

/** Whether the grant refuses the policy (account, region): its namespace, or that region, not granted there. */
function refusedIn(grant: PolicyGrant | undefined, account: string, region: string): boolean {
  return (
    grant?.refused.some(
      (r) => r.account === account && r.reason !== 'UnknownAccount' && (r.region === undefined || r.region === region),
    ) ?? false
  );
}

/** The names of the scheduled actions a policy owns in a pass's read of one region, sorted. */
function ownedIn(pass: PassResult, id: string, region: string): string[] {
  return pass.fleet.regions
    .filter((r) => r.region === region)
    .flatMap((r) => r.scheduledActions)
    .filter((a) => ownerOfAction(a.name)?.id === id)
    .map((a) => a.name)
    .sort();
}

/** The AwsAccounts a placed grant names, reached or refused (their `policies` count depends on it). */
function accountsOf(grantText: string | undefined): string[] {
  const grant = grantText === undefined ? null : (JSON.parse(grantText) as PolicyGrant | null);
  const names = new Set([...(grant?.reach ?? []), ...(grant?.refused ?? [])].map((r) => r.account));
  names.delete(HOME_ACCOUNT);
  return [...names];
}

function planVersion(p: LambdaPolicy): string {
  return `${p.metadata.uid ?? ''}/${p.metadata.generation ?? ''}`;
}

function regionView(pass: PassResult, account: string, at: Date): RegionView {
  return { account, at, functions: pass.plan.functions, executions: pass.executions, policies: pass.plan.policies };
}

function fingerprint(p: LambdaPolicy): string {
  // The approve annotation is not spec (no new generation) but lets a paused rollout proceed: it must wake us.
  const approval = p.metadata.annotations?.[APPROVE_GENERATION_ANNOTATION] ?? null;
  return JSON.stringify([p.metadata.generation ?? null, p.metadata.deletionTimestamp ?? null, approval, p.spec]);
}
