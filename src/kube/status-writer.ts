/**
 * Writing a LambdaPolicy's status: through the status subresource, with a JSON merge patch, and only when it
 * changed in something but the check times (so an in-sync fleet writes nothing to the API server).
 */
import type { CustomObjectsApi } from '@kubernetes/client-node';
import type { LambdaPolicy, LambdaPolicyStatus } from '../api/schema.ts';
import { LambdaPolicyClient } from './policies.ts';

/** The order status keys are written in, so serialised statuses compare and `kubectl get -o yaml` diffs stay stable. */
export const STATUS_KEY_ORDER = [
  'observedGeneration',
  'conditions',
  'summary',
  'functions',
  'truncated',
  'accounts',
  'problems',
  'lastCheckTime',
  'nextCheckTime',
  'provisionedConcurrency',
  'cost',
] as const;

/** Fields that change every cycle and must not, on their own, cause a write. */
const VOLATILE_FIELDS = new Set(['lastCheckTime', 'nextCheckTime']);

export interface StatusChangedOptions {
  /**
   * Refresh the volatile times when the previous lastCheckTime is older than this (ms). Default: never, so an
   * in-sync fleet writes no status at all.
   */
  heartbeatMs?: number;
}

/**
 * Whether `next` differs from `prev` in anything but the volatile times. `prev` is the status as read from the
 * API server (any key order, maybe unknown extra fields, maybe written by an older version).
 */
export function statusChanged(prev: unknown, next: LambdaPolicyStatus, options: StatusChangedOptions = {}): boolean {
  if (!isRecord(prev)) return true;
  if (canonical(withoutAccountTimes(prev), VOLATILE_FIELDS) !== canonical(withoutAccountTimes(next), VOLATILE_FIELDS))
    return true;
  if (options.heartbeatMs !== undefined && next.lastCheckTime !== undefined) {
    const last = typeof prev.lastCheckTime === 'string' ? Date.parse(prev.lastCheckTime) : Number.NaN;
    if (!Number.isFinite(last)) return true;
    return Date.parse(next.lastCheckTime) - last >= options.heartbeatMs;
  }
  return false;
}

/** Each account's lastCheckTime is volatile too (it moves every pass): compared without it. */
function withoutAccountTimes(status: object): object {
  const accounts = (status as { accounts?: unknown }).accounts;
  if (!Array.isArray(accounts)) return status;
  return {
    ...status,
    accounts: accounts.map((a: unknown) => {
      if (!isRecord(a)) return a;
      const { lastCheckTime: _time, ...rest } = a;
      return rest;
    }),
  };
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** JSON with sorted keys and `undefined`/`null` members dropped (merge patch treats null as absent). */
function canonical(value: unknown, skipTopLevel: ReadonlySet<string> = new Set()): string {
  const walk = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(walk);
    if (isRecord(v)) {
      const out: Record<string, unknown> = {};
      for (const k of Object.keys(v).sort()) {
        const inner = v[k];
        if (inner !== undefined && inner !== null) out[k] = walk(inner);
      }
      return out;
    }
    return v;
  };
  const top = isRecord(value) ? Object.fromEntries(Object.entries(value).filter(([k]) => !skipTopLevel.has(k))) : value;
  return JSON.stringify(walk(top));
}

/**
 * The JSON merge patch body that makes the stored status equal `next`, whatever was stored before: every optional
 * field `next` lacks is sent as null (merge patch would otherwise keep a stale value), arrays are sent whole
 * (merge patch replaces arrays; in particular the complete `conditions` list).
 */
export function statusMergePatch(next: LambdaPolicyStatus): { status: Record<string, unknown> } {
  const status: Record<string, unknown> = {};
  const src = next as unknown as Record<string, unknown>;
  for (const k of STATUS_KEY_ORDER) status[k] = src[k] ?? null;
  if (next.provisionedConcurrency) {
    status.provisionedConcurrency = {
      window: null,
      nextChange: null,
      ...next.provisionedConcurrency,
    };
  }
  if (next.cost) status.cost = { architectureMonthlySavingUSD: null, ...next.cost };
  return { status };
}

export interface StatusWriterOptions {
  /** Called after every successful write (for the status-writes metric). */
  onWrite?: (policy: LambdaPolicy) => void;
  heartbeatMs?: number;
  fieldManager?: string;
}

export interface StatusWriteResult {
  written: boolean;
  /** The object as the API server returned it after the write. */
  object?: LambdaPolicy;
}

/** Writes status through the status subresource with a JSON merge patch, only when it changed. */
export class StatusWriter {
  private count = 0;
  private readonly client: LambdaPolicyClient;
  private readonly options: StatusWriterOptions;

  constructor(api: CustomObjectsApi, options: StatusWriterOptions = {}) {
    this.client = new LambdaPolicyClient(
      api,
      options.fieldManager === undefined ? {} : { fieldManager: options.fieldManager },
    );
    this.options = options;
  }

  /** Successful writes so far (tests and metrics). */
  get writes(): number {
    return this.count;
  }

  /**
   * Writes `next` unless it equals `policy.status` (the status the caller last read) in everything but the
   * volatile times. Throws a KubeApiError (NotFoundError when the policy is gone, so callers can ignore it).
   */
  async write(policy: LambdaPolicy, next: LambdaPolicyStatus): Promise<StatusWriteResult> {
    const changedOptions = this.options.heartbeatMs === undefined ? {} : { heartbeatMs: this.options.heartbeatMs };
    if (!statusChanged(policy.status, next, changedOptions)) return { written: false };
    const object = await this.client.patchStatus(policy, statusMergePatch(next));
    this.count++;
    this.options.onWrite?.(policy);
    return { written: true, object };
  }
}
