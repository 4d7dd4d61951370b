/**
 * The running emulator's shared context: the store, the clock, timing options, fault injection, quotas, the write
 * log, call counters, and the scheduler that fires Application Auto Scaling scheduled actions on the clock.
 */

import type { AssumedSession, SeedRole } from './accounts.ts';
import { EmulatorClock } from './clock.ts';
import { checkProvisionedConcurrency, setProvisioned } from './concurrency.ts';
import { FaultInjector } from './faults.ts';
import { QuotaEnforcer, type QuotaOptions } from './quotas.ts';
import { lastFiringIn, nextFiring } from './schedule.ts';
import type { FunctionRecord, RegionState, ScalableTargetRecord, ScheduledActionRecord } from './store.ts';
import { Store } from './store.ts';

export interface WriteLogEntry {
  seq: number;
  /** Emulator clock, ISO 8601. */
  time: string;
  /** The account written to (each account keeps its own log). */
  account: string;
  region: string;
  api: string;
  function?: string;
  resourceId?: string;
  /** The SigV4 access key id the call was signed with (absent for unsigned calls). */
  accessKeyId?: string;
  params: Record<string, unknown>;
  ok: boolean;
  error?: string;
}

export interface CallCounts {
  total: number;
  byApi: Record<string, number>;
  byRegion: Record<string, number>;
  byRegionApi: Record<string, Record<string, number>>;
  throttled: { total: number; byApi: Record<string, number> };
  faulted: { total: number; byApi: Record<string, number> };
}

export interface RuntimeOptions {
  accountId?: string;
  accountConcurrency?: number;
  unreservedFloor?: number;
  updateDelayMs?: number;
  provisionDelayMs?: number;
  quotas?: QuotaOptions;
  /** Application Auto Scaling's scalable targets per account and region (AWS default 500, adjustable). */
  scalableTargetsPerRegion?: number;
  now?: Date;
  /** Another account's runtime shares the home account's clock. */
  clock?: EmulatorClock;
}

const MUTATING_APIS = new Set([
  'CreateFunction',
  'DeleteFunction',
  'UpdateFunctionConfiguration',
  'UpdateFunctionCode',
  'PublishVersion',
  'CreateAlias',
  'UpdateAlias',
  'DeleteAlias',
  'PutFunctionConcurrency',
  'DeleteFunctionConcurrency',
  'PutProvisionedConcurrencyConfig',
  'DeleteProvisionedConcurrencyConfig',
  'TagResource',
  'UntagResource',
  'RegisterScalableTarget',
  'DeregisterScalableTarget',
  'PutScheduledAction',
  'DeleteScheduledAction',
  'PutScalingPolicy',
  'DeleteScalingPolicy',
  'PutFunctionEventInvokeConfig',
  'UpdateFunctionEventInvokeConfig',
  'DeleteFunctionEventInvokeConfig',
  'PublishLayerVersion',
  'CreateLogGroup',
  'DeleteLogGroup',
  'PutRetentionPolicy',
  'DeleteRetentionPolicy',
]);

export function isMutating(api: string): boolean {
  return MUTATING_APIS.has(api);
}

function emptyCounts(): CallCounts {
  return {
    total: 0,
    byApi: {},
    byRegion: {},
    byRegionApi: {},
    throttled: { total: 0, byApi: {} },
    faulted: { total: 0, byApi: {} },
  };
}

export class EmulatorRuntime {
  store: Store;
  readonly clock: EmulatorClock;
  readonly faults = new FaultInjector();
  readonly quotas: QuotaEnforcer;
  updateDelayMs: number;
  provisionDelayMs: number;
  scalableTargetsPerRegion: number;
  readonly writes: WriteLogEntry[] = [];
  calls: CallCounts = emptyCounts();
  /** The other accounts (home runtime only), by account id. */
  readonly accounts = new Map<string, EmulatorRuntime>();
  /** Roles AssumeRole may assume in this account, by name. */
  readonly roles = new Map<string, SeedRole>();
  /** Credentials issued by AssumeRole (home runtime only), by access key id. */
  readonly sessions = new Map<string, AssumedSession>();
  #seq = 0;
  /** The clock time up to which scheduled actions have been fired. */
  #firedUntil: number;

  constructor(options: RuntimeOptions = {}) {
    this.clock = options.clock ?? new EmulatorClock(options.now);
    this.store = new Store(options.accountId ?? '123456789012', {
      concurrentExecutions: options.accountConcurrency ?? 1000,
      unreservedFloor: options.unreservedFloor ?? 100,
    });
    this.quotas = new QuotaEnforcer(options.quotas);
    this.updateDelayMs = options.updateDelayMs ?? 0;
    this.provisionDelayMs = options.provisionDelayMs ?? 0;
    this.scalableTargetsPerRegion = options.scalableTargetsPerRegion ?? 500;
    this.#firedUntil = this.clock.nowMs();
  }

  nowMs(): number {
    return this.clock.nowMs();
  }

  replaceStore(store: Store): void {
    this.store = store;
    this.#firedUntil = this.clock.nowMs();
  }

  countCall(region: string, api: string): void {
    const c = this.calls;
    c.total++;
    c.byApi[api] = (c.byApi[api] ?? 0) + 1;
    c.byRegion[region] = (c.byRegion[region] ?? 0) + 1;
    const perRegion = c.byRegionApi[region] ?? {};
    perRegion[api] = (perRegion[api] ?? 0) + 1;
    c.byRegionApi[region] = perRegion;
  }

  countThrottled(api: string): void {
    this.calls.throttled.total++;
    this.calls.throttled.byApi[api] = (this.calls.throttled.byApi[api] ?? 0) + 1;
  }

  countFaulted(api: string): void {
    this.calls.faulted.total++;
    this.calls.faulted.byApi[api] = (this.calls.faulted.byApi[api] ?? 0) + 1;
  }

  resetCalls(): void {
    this.calls = emptyCounts();
  }

  logWrite(entry: Omit<WriteLogEntry, 'seq' | 'time' | 'account'>): void {
    const time = new Date(this.nowMs()).toISOString();
    this.writes.push({ seq: ++this.#seq, time, account: this.store.accountId, ...entry });
  }

  // ---- scheduled actions -------------------------------------------------------------------------------------

  /** Computes when an action fires next after `afterMs` (respecting StartTime/EndTime). */
  scheduleNext(action: ScheduledActionRecord, afterMs: number): void {
    const from = Math.max(afterMs, (action.startTime ?? 0) - 1);
    const until = action.endTime ?? Number.MAX_SAFE_INTEGER;
    action.nextFireAt = nextFiring(action.compiled, from, until, action.startTime ?? action.creationTime) ?? null;
  }

  /**
   * Fires every scheduled action due between the last check and now. A jump of the clock folds an action's many
   * firings into its last one; actions are applied in the order of those last firings, which gives the same
   * min/max as replaying every firing.
   */
  fireDue(): number {
    let fired = 0;
    for (const other of this.accounts.values()) fired += other.fireDue();
    return fired + this.#fireDueHere();
  }

  #fireDueHere(): number {
    const now = this.nowMs();
    const from = this.#firedUntil;
    this.#firedUntil = now;
    if (now < from) {
      // The clock went back: forget the future we had computed.
      for (const region of this.store.regions.values()) {
        for (const action of region.actions.values()) this.scheduleNext(action, now);
      }
      return 0;
    }
    const due: { at: number; count: number; region: RegionState; action: ScheduledActionRecord }[] = [];
    for (const region of this.store.regions.values()) {
      for (const action of region.actions.values()) {
        if (action.nextFireAt === null || action.nextFireAt > now) continue;
        const until = Math.min(now, action.endTime ?? now);
        const anchor = action.startTime ?? action.creationTime;
        const last = lastFiringIn(action.compiled, action.nextFireAt - 1, until, anchor);
        if (last) due.push({ at: last.last, count: last.count, region, action });
        this.scheduleNext(action, now);
      }
    }
    due.sort((a, b) => a.at - b.at);
    for (const item of due) this.#fire(item.region, item.action, item.at, item.count);
    return due.length;
  }

  #fire(region: RegionState, action: ScheduledActionRecord, at: number, count: number): void {
    const firing = {
      at: new Date(at).toISOString(),
      region: region.region,
      action: action.name,
      resourceId: action.resourceId,
      ...(count > 1 ? { folded: count } : {}),
    };
    const target = region.targets.get(action.resourceId);
    if (!target) {
      this.store.recordFiring({ ...firing, error: 'scalable target not found' });
      return;
    }
    // A target whose scheduled scaling is suspended does not run its scheduled actions at all.
    if (target.suspendedState?.ScheduledScalingSuspended === true) {
      this.store.recordFiring({ ...firing, error: 'scheduled scaling suspended' });
      return;
    }
    if (action.minCapacity !== undefined) target.minCapacity = action.minCapacity;
    if (action.maxCapacity !== undefined) target.maxCapacity = action.maxCapacity;
    const result = this.clampCapacity(region, target);
    this.store.recordFiring({
      ...firing,
      ...(target.minCapacity !== undefined ? { minCapacity: target.minCapacity } : {}),
      ...(target.maxCapacity !== undefined ? { maxCapacity: target.maxCapacity } : {}),
      ...result,
    });
  }

  /**
   * Application Auto Scaling keeps the current capacity (the qualifier's provisioned concurrency) inside
   * [min, max]: scale to min when below, to max when above. The change goes through Lambda's own rules.
   */
  clampCapacity(region: RegionState, target: ScalableTargetRecord): { provisioned?: number; error?: string } {
    const parsed = parseFunctionResourceId(target.resourceId);
    if (!parsed) return { error: 'unsupported resource id' };
    const fn: FunctionRecord | undefined = region.functions.get(parsed.name);
    if (!fn) return { error: `function not found: ${parsed.name}` };
    const current = fn.provisioned.get(parsed.qualifier)?.requested ?? 0;
    let desired = current;
    if (target.minCapacity !== undefined && desired < target.minCapacity) desired = target.minCapacity;
    if (target.maxCapacity !== undefined && desired > target.maxCapacity) desired = target.maxCapacity;
    if (desired === current) return { provisioned: current };
    if (desired > 0) {
      const problem = checkProvisionedConcurrency(this.store, fn, parsed.qualifier, desired);
      if (problem) return { provisioned: current, error: `${problem.code}: ${problem.message}` };
    }
    setProvisioned(fn, parsed.qualifier, desired, this.nowMs(), this.provisionDelayMs);
    return { provisioned: desired };
  }
}

/** `function:NAME:QUALIFIER` → parts, or undefined when malformed. */
export function parseFunctionResourceId(resourceId: string): { name: string; qualifier: string } | undefined {
  const m = /^function:([A-Za-z0-9_-]{1,140}):([A-Za-z0-9_$-]{1,128})$/.exec(resourceId);
  if (!m) return undefined;
  return { name: m[1] ?? '', qualifier: m[2] ?? '' };
}
