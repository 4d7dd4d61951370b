/**
 * Policies from the Kubernetes API: the same PolicySource interface as files, backed by the resilient
 * PolicyWatcher. The API server has validated every object already (schema + CEL), so nothing is re-validated
 * here; rules only the CLI validator knows (cron syntax, time zones) surface in status via the planner.
 *
 * Set-level changes are emitted only for events that matter (needsReconcile: spec/generation changes, creation,
 * deletion), coalesced over a short window, so our own status writes never trigger a re-plan.
 * The controller also wants key-level events for its work queue: use `watcher.on(...)` directly for that.
 */
import type { KubeConfig } from '@kubernetes/client-node';
import { Listeners, type PolicySet, type PolicySource, sortPolicies } from '../api/policy-set.ts';
import type { LambdaPolicy } from '../api/schema.ts';
import { kubernetesPolicyTransport } from '../kube/policies.ts';
import { needsReconcile, PolicyWatcher, type WatcherOptions } from '../kube/watcher.ts';
import { type Clock, systemClock, type TimerHandle } from '../shared/clock.ts';

export interface KubernetesPolicySourceOptions extends WatcherOptions {
  /** One namespace, or all namespaces when absent (`--namespace`). */
  namespace?: string;
  /** Coalescing window for set-level change notifications (ms). Default 100. */
  coalesceMs?: number;
}

export class KubernetesPolicySource implements PolicySource {
  readonly watcher: PolicyWatcher;
  private readonly changes = new Listeners<PolicySet>();
  private readonly errors = new Listeners<string[]>();
  private readonly coalesceMs: number;
  private readonly clock: Clock;
  private timer: TimerHandle | undefined;
  private lastError: string | undefined;

  /** From a kubeconfig (the real API server), or around an existing watcher (tests, a shared watcher). */
  constructor(source: KubeConfig | PolicyWatcher, options: KubernetesPolicySourceOptions = {}) {
    this.watcher =
      source instanceof PolicyWatcher
        ? source
        : new PolicyWatcher(kubernetesPolicyTransport(source, { namespace: options.namespace }), options);
    this.coalesceMs = options.coalesceMs ?? 100;
    this.clock = options.clock ?? systemClock;
    this.watcher.on((event) => {
      if (needsReconcile(event)) this.schedule();
    });
    this.watcher.onError((error) => {
      this.lastError = error instanceof Error ? error.message : String(error);
      this.errors.emit([`policy watch: ${this.lastError}`]);
    });
  }

  async start(): Promise<void> {
    this.watcher.start();
    await this.watcher.waitForSync();
  }

  async stop(): Promise<void> {
    if (this.timer) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    await this.watcher.stop();
  }

  current(): PolicySet {
    const policies: LambdaPolicy[] = sortPolicies(this.watcher.list());
    return { policies, errors: [] };
  }

  onChange(listener: (set: PolicySet) => void): () => void {
    return this.changes.add(listener);
  }

  onError(listener: (errors: string[]) => void): () => void {
    return this.errors.add(listener);
  }

  private schedule(): void {
    if (this.timer || !this.watcher.ready()) return;
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined;
      this.changes.emit(this.current());
    }, this.coalesceMs);
  }
}
