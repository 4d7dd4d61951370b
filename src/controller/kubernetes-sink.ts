/**
 * The controller's PolicyStatusSink on the Kubernetes API: status by merge patch on the status subresource (only
 * when changed), aggregated Events, and the finalizer that guards owned scheduled actions.
 */
import { CustomObjectsApi, EventsV1Api, type KubeConfig } from '@kubernetes/client-node';
import type { LambdaPolicy, LambdaPolicyStatus } from '../api/schema.ts';
import { EventRecorder, type PolicyEventRecord } from './events.ts';
import { FinalizerError, Finalizers } from './finalizer.ts';
import type { Logger } from './logger.ts';
import type { ControllerMetrics } from './metrics.ts';
import { StatusWriteError, StatusWriter } from './status.ts';
import type { PolicyStatusSink } from './status-publisher.ts';

export interface KubernetesSinkOptions {
  /** This replica's identity (Events' reportingInstance). */
  instance: string;
  logger?: Logger;
  metrics?: ControllerMetrics;
}

export class KubernetesStatusSink implements PolicyStatusSink {
  readonly statusWriter: StatusWriter;
  readonly events: EventRecorder;
  readonly finalizers: Finalizers;

  constructor(kc: KubeConfig, options: KubernetesSinkOptions) {
    const custom = kc.makeApiClient(CustomObjectsApi);
    this.statusWriter = new StatusWriter(custom, {
      onWrite: () => options.metrics?.statusWrites.inc({ result: 'written' }),
    });
    this.events = new EventRecorder(kc.makeApiClient(EventsV1Api), {
      instance: options.instance,
      ...(options.logger ? { logger: options.logger } : {}),
    });
    this.finalizers = new Finalizers(custom);
  }

  async writeStatus(policy: LambdaPolicy, previous: unknown, status: LambdaPolicyStatus): Promise<boolean> {
    try {
      const result = await this.statusWriter.write({ ...policy, status: previous }, status);
      return result.written;
    } catch (error) {
      // The policy was deleted meanwhile: nothing to report on.
      if (error instanceof StatusWriteError && error.code === 'NotFound') return false;
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
      if (error instanceof FinalizerError && error.code === 'NotFound') return;
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
