/**
 * What the safety rails mean for a policy's status and metrics (a paused or halted rollout's Warning Event is the
 * generic one of entering a Stalled reason, src/controller/events.ts): the rollout guard's decision (Paused,
 * Halted, Batched) and the controller's dry-run mode. Kept apart from the status rules so each rail is one small
 * function the status publisher calls.
 */
import { Gauge, type Registry } from 'prom-client';
import type { LambdaPolicy, LambdaPolicyStatus } from '../api/schema.ts';
import type { PolicyReport } from '../engine/model.ts';
import type { RolloutHalt } from '../engine/rollout.ts';
import type { KstatusState } from './conditions.ts';

/**
 * The state once the rollout guard has spoken: a paused or halted rollout is Stalled (a person must approve or fix
 * something; retrying alone changes nothing), a batched one is Reconciling until its last batch is written.
 */
export function rolloutState(own: KstatusState, reports: readonly PolicyReport[]): KstatusState {
  const decisions = reports.flatMap((r) => (r.rollout ? [r.rollout] : []));
  const halted = decisions.filter((d) => d.state === 'Halted');
  if (halted.length > 0) {
    return { kind: 'Stalled', reason: 'RolloutFailed', message: halted.map((d) => d.message).join('; ') };
  }
  const paused = decisions.filter((d) => d.state === 'Paused');
  if (paused.length > 0) {
    return { kind: 'Stalled', reason: 'RolloutPaused', message: paused.map((d) => d.message).join('; ') };
  }
  const batched = decisions.filter((d) => d.state === 'Batched');
  if (batched.length > 0 && own.kind !== 'Stalled') {
    return { kind: 'Reconciling', reason: 'RollingOut', message: batched.map((d) => d.message).join('; ') };
  }
  return own;
}

/**
 * A halt the policy's own status records (Stalled/RolloutFailed at its current generation): a restarted controller,
 * or a new leader, must not resume a rollout its predecessor stopped.
 */
export function haltFromStatus(policy: LambdaPolicy): RolloutHalt | undefined {
  const status = policy.status as LambdaPolicyStatus | undefined;
  const stalled = status?.conditions?.find((c) => c.type === 'Stalled');
  const generation = policy.metadata.generation;
  if (stalled?.status !== 'True' || stalled.reason !== 'RolloutFailed') return undefined;
  if (generation === undefined || stalled.observedGeneration !== generation) return undefined;
  const message = (stalled.message ?? '').replace(/^rollout stopped at a failed batch: /, '');
  return { generation, message };
}

export const DRY_RUN_NOTE = 'dry run (controller started with --dry-run): treated as Audit, nothing is written';

/** The policy as a dry-run controller plans and reports it: Audit, whatever its spec says. */
export function asDryRun(policy: LambdaPolicy): LambdaPolicy {
  if (policy.spec.mode === 'Audit') return policy;
  return { ...policy, spec: { ...policy.spec, mode: 'Audit' } };
}

/** Every condition message of a dry-run controller says so. */
export function dryRunState(own: KstatusState): KstatusState {
  return { ...own, message: own.message === '' ? DRY_RUN_NOTE : `${DRY_RUN_NOTE}; ${own.message}` };
}

/** `lpc_dry_run`: 1 while the controller only reports, so a dashboard can tell a read-only install apart. */
export function registerDryRunGauge(registry: Registry, dryRun: boolean): void {
  new Gauge({
    name: 'lpc_dry_run',
    help: '1 when the controller runs with --dry-run (every policy treated as Audit, nothing written), else 0.',
    registers: [registry],
  }).set(dryRun ? 1 : 0);
}
