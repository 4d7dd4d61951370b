/**
 * A PolicyStatusSink that keeps statuses and events in memory: the demo and the file-based loop have no API server
 * to write to, but run the very same reconcile loop and status building as the controller.
 */
import type { LambdaPolicy, LambdaPolicyStatus } from '../api/schema.ts';
import type { PolicyEventRecord } from '../kube/events.ts';
import { statusChanged } from '../kube/status-writer.ts';
import { objectKey } from '../shared/keys.ts';
import type { PolicyStatusSink } from './status-publisher.ts';

export interface RecordedEvent extends PolicyEventRecord {
  policy: string;
  at: Date;
}

export class MemoryStatusSink implements PolicyStatusSink {
  readonly statuses = new Map<string, LambdaPolicyStatus>();
  readonly events: RecordedEvent[] = [];
  statusWrites = 0;
  private readonly now: () => Date;
  private readonly maxEvents: number;

  constructor(options: { now?: () => Date; maxEvents?: number } = {}) {
    this.now = options.now ?? (() => new Date());
    this.maxEvents = options.maxEvents ?? 200;
  }

  async writeStatus(policy: LambdaPolicy, previous: unknown, status: LambdaPolicyStatus): Promise<boolean> {
    const key = objectKey(policy);
    if (!statusChanged(previous ?? this.statuses.get(key), status)) return false;
    this.statuses.set(key, status);
    this.statusWrites++;
    return true;
  }

  async recordEvents(policy: LambdaPolicy, events: readonly PolicyEventRecord[]): Promise<void> {
    for (const e of events) this.events.push({ ...e, policy: objectKey(policy), at: this.now() });
    if (this.events.length > this.maxEvents) this.events.splice(0, this.events.length - this.maxEvents);
  }

  async ensureFinalizer(): Promise<void> {}

  async removeFinalizer(): Promise<void> {}
}
