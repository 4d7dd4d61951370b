/**
 * Kubernetes Events (events.k8s.io/v1), aggregated so a fleet of thousands of functions never floods the API
 * server: an event identical to one recorded recently (same object, type, reason, action and note) is not created
 * again; it joins a series, as in client-go's events library: the first repeat patches `series` (count 2), later
 * repeats only count in memory and the Event is patched with the current count at most once per heartbeat
 * (default 30 min) or on `flush()`. A failure that repeats every check therefore costs one write per half hour,
 * not one per check. If the Event expired meanwhile (TTL 1 h) a new one is created. Notes are capped at the API's
 * 1 KiB and pass through `redactSecrets`: they are built from AWS answers and error texts.
 */
import { type EventsV1Api, PatchStrategy, setHeaderOptions, V1MicroTime } from '@kubernetes/client-node';
import type { LambdaPolicy } from '../api/schema.ts';
import { namespaceOf } from '../shared/keys.ts';
import { describeError, type Logger, redactSecrets, silentLogger } from '../shared/logger.ts';
import { truncate } from '../shared/text.ts';
import { kubeError, NotFoundError } from './errors.ts';

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
  /** Told of every occurrence the API server was sent or counted (a new Event or a series repeat). */
  onRecorded?: (event: PolicyEventRecord) => void;
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
  private readonly onRecorded: ((event: PolicyEventRecord) => void) | undefined;
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
    this.onRecorded = options.onRecorded;
  }

  /** Records each event; never throws (an Event is best effort and must not fail a reconcile). */
  async recordAll(policy: LambdaPolicy, events: readonly PolicyEventRecord[]): Promise<void> {
    for (const e of events) await this.record(policy, e);
  }

  async record(policy: LambdaPolicy, raw: PolicyEventRecord): Promise<void> {
    // Notes are built from AWS answers and error texts: bounded, and never carrying a credential.
    const event = { ...raw, note: truncate(redactSecrets(raw.note), MAX_EVENT_NOTE) };
    const namespace = namespaceOf(policy);
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
        if (
          (known.written > 1 && now.getTime() - known.lastWrite < this.heartbeatMs) ||
          (await this.writeSeries(known))
        ) {
          this.onRecorded?.(event);
          return;
        }
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
          note: event.note,
          regarding: {
            apiVersion: policy.apiVersion,
            kind: policy.kind,
            name: policy.metadata.name,
            namespace,
            ...(policy.metadata.uid === undefined ? {} : { uid: policy.metadata.uid }),
            ...(policy.metadata.resourceVersion === undefined
              ? {}
              : { resourceVersion: policy.metadata.resourceVersion }),
          },
        },
      });
      this.sent.created++;
      this.onRecorded?.(event);
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
      if (kubeError(error, `event ${known.namespace}/${known.name}`) instanceof NotFoundError) return false;
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
