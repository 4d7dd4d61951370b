/**
 * Kubernetes Events (events.k8s.io/v1) for remediations and failures, aggregated so a fleet of thousands of
 * functions never floods the API server:
 * - one event per policy, per reason, per check, with a count and a summary ("remediated 14 functions: ...");
 * - an event identical to one recorded recently (same object, type, reason, action and note) is not created
 *   again; it joins a series, as in client-go's events library: the first repeat patches `series` (count 2), later
 *   repeats only count in memory and the Event is patched with the current count at most once per heartbeat
 *   (default 30 min) or on `flush()`. A failure that repeats every check therefore costs one write per half hour,
 *   not one per check. If the Event expired meanwhile (TTL 1 h) a new one is created.
 *
 * `cycleEvents` is pure (what to record for one check); `EventRecorder` talks to the API server.
 */
import { type EventsV1Api, PatchStrategy, setHeaderOptions, V1MicroTime } from '@kubernetes/client-node';
import type { FunctionState, LambdaPolicy } from '../api/schema.ts';
import type { FunctionPlan } from '../engine/model.ts';
import { truncate } from './conditions.ts';
import { describeError, type Logger, silentLogger } from './logger.ts';
import { type ExecutedFunction, functionStatusFor, httpCode, policyId } from './status.ts';

export type EventType = 'Normal' | 'Warning';

export interface PolicyEventRecord {
  type: EventType;
  /** CamelCase, e.g. Remediated, RemediationFailed, Infeasible. */
  reason: string;
  /** What the controller did or tried, e.g. Remediate. */
  action: string;
  /** Human summary, at most 1 KiB (the API's limit). */
  note: string;
}

/** events.k8s.io/v1 limits `note` to 1 KiB. */
export const MAX_EVENT_NOTE = 1024;
/** How many function names an event lists before "and N more". */
const NAMES_SHOWN = 10;

function listNames(names: readonly string[]): string {
  const shown = names.slice(0, NAMES_SHOWN).join(', ');
  return names.length > NAMES_SHOWN ? `${shown} and ${names.length - NAMES_SHOWN} more` : shown;
}

/**
 * The events one check of one policy deserves: at most one per reason. Remediations (Normal/Remediated),
 * failures (Warning/RemediationFailed) and refusals (Warning/Infeasible, only for Enforce policies, only when
 * something was attempted or is refused; repeats become a series bump, not new objects).
 */
export function cycleEvents(
  policy: LambdaPolicy,
  functions: readonly FunctionPlan[],
  executions: readonly ExecutedFunction[] | undefined,
): PolicyEventRecord[] {
  const id = policyId(policy);
  const mode = policy.spec.mode ?? 'Enforce';
  if (mode === 'Audit' || policy.spec.suspend) return [];
  const byFunction = new Map((executions ?? []).map((e) => [`${e.region}\u0000${e.name}`, e]));
  const groups = new Map<FunctionState, { name: string; detail: string }[]>();
  const sorted = [...functions].sort((a, b) =>
    a.region === b.region ? (a.name < b.name ? -1 : a.name > b.name ? 1 : 0) : a.region < b.region ? -1 : 1,
  );
  for (const fn of sorted) {
    const st = functionStatusFor(id, mode, fn, byFunction.get(`${fn.region}\u0000${fn.name}`));
    const list = groups.get(st.state) ?? [];
    list.push({ name: `${fn.region}/${fn.name}`, detail: st.message ?? '' });
    groups.set(st.state, list);
  }
  const out: PolicyEventRecord[] = [];
  const remediated = groups.get('Remediated') ?? [];
  if (remediated.length > 0) {
    const fields = new Set(remediated.flatMap((r) => r.detail.replace(/^remediated /, '').split(', ')));
    out.push({
      type: 'Normal',
      reason: 'Remediated',
      action: 'Remediate',
      note: truncate(
        `remediated ${remediated.length} function${remediated.length === 1 ? '' : 's'} (${[...fields].join(', ')}): ${listNames(remediated.map((r) => r.name))}`,
        MAX_EVENT_NOTE,
      ),
    });
  }
  const failed = groups.get('Failed') ?? [];
  if (failed.length > 0) {
    const first = failed[0];
    out.push({
      type: 'Warning',
      reason: 'RemediationFailed',
      action: 'Remediate',
      note: truncate(
        `${failed.length} function${failed.length === 1 ? '' : 's'} failed: ${listNames(failed.map((f) => f.name))}; first error: ${first?.detail ?? ''}`,
        MAX_EVENT_NOTE,
      ),
    });
  }
  const infeasible = groups.get('Infeasible') ?? [];
  if (infeasible.length > 0) {
    out.push({
      type: 'Warning',
      reason: 'Infeasible',
      action: 'Plan',
      note: truncate(
        `${infeasible.length} function${infeasible.length === 1 ? '' : 's'} cannot be brought in line: ${listNames(infeasible.map((f) => `${f.name} (${f.detail})`))}`,
        MAX_EVENT_NOTE,
      ),
    });
  }
  return out;
}

export interface EventRecorderOptions {
  /** `reportingController`; default lambdapolicy.io/controller. */
  controller?: string;
  /** `reportingInstance`, e.g. the pod name; default the hostname+pid identity. */
  instance: string;
  /** Identical events within this window join a series instead of creating a new Event. Default 30 min. */
  seriesWindowMs?: number;
  /** A series' count is written at most this often (ms). Default 30 min. */
  seriesHeartbeatMs?: number;
  now?: () => Date;
  logger?: Logger;
}

interface Known {
  namespace: string;
  name: string;
  /** Occurrences so far. */
  count: number;
  /** The count the API server has. */
  written: number;
  lastSeen: number;
  lastWrite: number;
}

/** Entries kept for series detection; old ones are dropped first. */
const MAX_KNOWN = 4096;

export class EventRecorder {
  private readonly api: EventsV1Api;
  private readonly controller: string;
  private readonly instance: string;
  private readonly windowMs: number;
  private readonly heartbeatMs: number;
  private readonly now: () => Date;
  private readonly log: Logger;
  private readonly known = new Map<string, Known>();
  /** Requests sent (tests and metrics). */
  readonly sent = { created: 0, patched: 0, failed: 0 };

  constructor(api: EventsV1Api, options: EventRecorderOptions) {
    this.api = api;
    this.controller = options.controller ?? 'lambdapolicy.io/controller';
    this.instance = options.instance;
    this.windowMs = options.seriesWindowMs ?? 30 * 60_000;
    this.heartbeatMs = options.seriesHeartbeatMs ?? 30 * 60_000;
    this.now = options.now ?? (() => new Date());
    this.log = options.logger ?? silentLogger;
  }

  /** Records each event; never throws (an Event is best effort and must not fail a reconcile). */
  async recordAll(policy: LambdaPolicy, events: readonly PolicyEventRecord[]): Promise<void> {
    for (const e of events) await this.record(policy, e);
  }

  async record(policy: LambdaPolicy, event: PolicyEventRecord): Promise<void> {
    const namespace = policy.metadata.namespace ?? 'default';
    const ident = [
      policy.metadata.uid ?? `${namespace}/${policy.metadata.name}`,
      event.type,
      event.reason,
      event.action,
      event.note,
    ].join('\u0000');
    const now = this.now();
    const known = this.known.get(ident);
    try {
      if (known && now.getTime() - known.lastSeen <= this.windowMs) {
        known.count++;
        known.lastSeen = now.getTime();
        this.touch(ident, known);
        // The first repeat makes it a series at once; later counts wait for the heartbeat.
        if (known.written > 1 && now.getTime() - known.lastWrite < this.heartbeatMs) return;
        if (await this.writeSeries(known)) return;
        // The Event expired (default TTL 1 h): start a new one.
      }
      const name = `${policy.metadata.name}.${now.getTime().toString(16)}${Math.floor(Math.random() * 0xfff)
        .toString(16)
        .padStart(3, '0')}`;
      await this.api.createNamespacedEvent({
        namespace,
        body: {
          apiVersion: 'events.k8s.io/v1',
          kind: 'Event',
          metadata: { name, namespace },
          eventTime: new V1MicroTime(now.getTime()),
          reportingController: this.controller,
          reportingInstance: this.instance,
          action: event.action,
          reason: event.reason,
          type: event.type,
          note: truncate(event.note, MAX_EVENT_NOTE),
          regarding: {
            apiVersion: policy.apiVersion,
            kind: policy.kind,
            name: policy.metadata.name,
            namespace,
            uid: policy.metadata.uid,
            resourceVersion: policy.metadata.resourceVersion,
          },
        },
      });
      this.sent.created++;
      this.touch(ident, { namespace, name, count: 1, written: 1, lastSeen: now.getTime(), lastWrite: now.getTime() });
    } catch (error) {
      this.sent.failed++;
      this.log.warn(
        { ...describeError(error), reason: event.reason, policy: `${namespace}/${policy.metadata.name}` },
        'recording an event failed',
      );
    }
  }

  /** Writes the counts that are ahead of the API server (call on shutdown so the last repeats are not lost). */
  async flush(): Promise<void> {
    for (const known of this.known.values()) {
      if (known.count > known.written) {
        try {
          await this.writeSeries(known);
        } catch (error) {
          this.sent.failed++;
          this.log.warn(describeError(error), 'flushing an event series failed');
        }
      }
    }
  }

  /** Patches the Event's series with the current count; false when the Event no longer exists. */
  private async writeSeries(known: Known): Promise<boolean> {
    try {
      await this.api.patchNamespacedEvent(
        {
          name: known.name,
          namespace: known.namespace,
          body: { series: { count: known.count, lastObservedTime: new V1MicroTime(known.lastSeen) } },
        },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      );
    } catch (error) {
      if (httpCode(error) === 404) return false;
      throw error;
    }
    this.sent.patched++;
    known.written = known.count;
    known.lastWrite = this.now().getTime();
    return true;
  }

  private touch(ident: string, known: Known): void {
    this.known.delete(ident);
    this.known.set(ident, known);
    if (this.known.size > MAX_KNOWN) {
      const oldest = this.known.keys().next().value;
      if (oldest !== undefined) this.known.delete(oldest);
    }
  }
}
