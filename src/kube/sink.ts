/**
 * Where the controller's statuses, Events and finalizers go on the Kubernetes API: status by merge patch on the
 * status subresource (only when changed), aggregated Events, and the finalizer that guards owned scheduled actions.
 * It fills the controller's PolicyStatusSink.
 */
import { CustomObjectsApi, EventsV1Api, type KubeConfig } from '@kubernetes/client-node';
import type { LambdaPolicy, LambdaPolicyStatus } from '../api/schema.ts';
import type { Logger } from '../shared/logger.ts';
import { NotFoundError } from './errors.ts';
import { EventRecorder, type PolicyEventRecord } from './events.ts';
import { Finalizers } from './finalizers.ts';
import { StatusWriter } from './status-writer.ts';

export interface KubernetesSinkOptions {
  /** This replica's identity (Events' reportingInstance). */
  instance: string;
  logger?: Logger;
  /** Called after every status write (the status-writes metric). */
  onStatusWrite?: () => void;
  /** Called for every Event occurrence recorded (the events metric). */
  onEvent?: (event: PolicyEventRecord) => void;
}

export class KubernetesStatusSink {
  private readonly statusWriter: StatusWriter;
  private readonly events: EventRecorder;
  private readonly finalizers: Finalizers;

  constructor(kc: KubeConfig, options: KubernetesSinkOptions) {
    const custom = kc.makeApiClient(CustomObjectsApi);
    const onWrite = options.onStatusWrite;
    this.statusWriter = new StatusWriter(custom, onWrite ? { onWrite: () => onWrite() } : {});
    this.events = new EventRecorder(kc.makeApiClient(EventsV1Api), {
      instance: options.instance,
      ...(options.logger ? { logger: options.logger } : {}),
      ...(options.onEvent ? { onRecorded: options.onEvent } : {}),
    });
    this.finalizers = new Finalizers(custom);
  }

  async writeStatus(policy: LambdaPolicy, previous: unknown, status: LambdaPolicyStatus): Promise<boolean> {
    try {
      const result = await this.statusWriter.write({ ...policy, status: previous }, status);
      return result.written;
    } catch (error) {
      // The policy was deleted meanwhile: nothing to report on.
      if (error instanceof NotFoundError) return false;
      throw error;
    }
  }

  async recordEvents(policy: LambdaPolicy, events: readonly PolicyEventRecord[]): Promise<void> {
    await this.events.recordAll(policy, events);
  }

  async ensureFinalizer(policy: LambdaPolicy): Promise<void> {
    try {
      await this.finalizers.ensure(policy);
    } catch (error) {
      if (error instanceof NotFoundError) return;
      throw error;
    }
  }

  async removeFinalizer(policy: LambdaPolicy): Promise<void> {
    await this.finalizers.remove(policy);
  }

  async close(): Promise<void> {
    await this.events.flush();
  }
}
