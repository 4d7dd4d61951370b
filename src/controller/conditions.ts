/**
 * Status conditions the way apimachinery's `meta.SetStatusCondition` and kstatus (sigs.k8s.io/cli-utils) expect
 * them, so `kubectl wait --for=condition=Ready`, Flux and Argo CD all read our status without special cases.
 *
 * - conditions are a list keyed by `type`; `setCondition` upserts and reports whether anything changed, so callers
 *   can skip no-op writes;
 * - `lastTransitionTime` moves only when `status` flips (a new reason or message alone does not move it);
 * - kstatus reads Reconciling / Stalled (+ observedGeneration): Reconciling=True -> InProgress, Stalled=True ->
 *   Failed, otherwise Current; Ready is what humans, `kubectl wait` and Argo CD read. `kstatusConditions` keeps
 *   the three consistent.
 */
import { truncate } from '../shared/text.ts';

export type ConditionStatus = 'True' | 'False' | 'Unknown';

export interface Condition {
  type: string;
  status: ConditionStatus;
  /** CamelCase, machine-readable. */
  reason: string;
  message: string;
  /** RFC 3339, seconds precision (what metav1.Time serialises to). */
  lastTransitionTime: string;
  observedGeneration?: number;
}

export type ConditionInput = Omit<Condition, 'lastTransitionTime' | 'observedGeneration'> & {
  lastTransitionTime?: string;
  observedGeneration?: number | undefined;
};

/** A condition as read back from the API server (older writers may have left fields out). */
export interface ConditionLike {
  type: string;
  status: ConditionStatus;
  reason?: string;
  message?: string;
  lastTransitionTime?: string;
  observedGeneration?: number;
}

function normalize(c: ConditionLike): Condition {
  const out: Condition = {
    type: c.type,
    status: c.status,
    reason: c.reason ?? '',
    message: c.message ?? '',
    lastTransitionTime: c.lastTransitionTime ?? '',
  };
  if (c.observedGeneration !== undefined) out.observedGeneration = c.observedGeneration;
  return out;
}

/** metav1.Time has seconds precision; writing milliseconds would make every read-back look "changed". */
export function toKubeTime(date: Date): string {
  return `${date.toISOString().slice(0, 19)}Z`;
}

/** Message cap: conditions are shown in `kubectl describe` and must stay small. */
export const CONDITION_MESSAGE_MAX = 1024;

/**
 * Upserts `cond` into a copy of `list`. Returns the new list and whether anything changed. The order of existing
 * conditions is kept (new types are appended), so an unchanged list serialises identically.
 */
export function setCondition(
  list: readonly ConditionLike[] | undefined,
  cond: ConditionInput,
  now: Date,
): { conditions: Condition[]; changed: boolean } {
  const conditions = (list ?? []).map(normalize);
  const message = truncate(cond.message, CONDITION_MESSAGE_MAX);
  const idx = conditions.findIndex((c) => c.type === cond.type);
  if (idx < 0) {
    const added: Condition = {
      type: cond.type,
      status: cond.status,
      reason: cond.reason,
      message,
      lastTransitionTime: cond.lastTransitionTime ?? toKubeTime(now),
    };
    if (cond.observedGeneration !== undefined) added.observedGeneration = cond.observedGeneration;
    conditions.push(added);
    return { conditions, changed: true };
  }
  const existing = conditions[idx] as Condition;
  let changed = false;
  if (existing.status !== cond.status) {
    existing.status = cond.status;
    existing.lastTransitionTime = cond.lastTransitionTime ?? toKubeTime(now);
    changed = true;
  }
  if (existing.reason !== cond.reason) {
    existing.reason = cond.reason;
    changed = true;
  }
  if (existing.message !== message) {
    existing.message = message;
    changed = true;
  }
  if (cond.observedGeneration !== undefined && existing.observedGeneration !== cond.observedGeneration) {
    existing.observedGeneration = cond.observedGeneration;
    changed = true;
  }
  return { conditions, changed };
}

export function findCondition<C extends ConditionLike>(list: readonly C[] | undefined, type: string): C | undefined {
  return list?.find((c) => c.type === type);
}

export function removeCondition(
  list: readonly ConditionLike[] | undefined,
  type: string,
): { conditions: Condition[]; changed: boolean } {
  const conditions = (list ?? []).filter((c) => c.type !== type).map(normalize);
  return { conditions, changed: conditions.length !== (list ?? []).length };
}

export const READY = 'Ready';
export const RECONCILING = 'Reconciling';
export const STALLED = 'Stalled';
/** Compliance, apart from Ready: an Audit policy that finds drift is Ready (checked) and not Compliant. */
export const COMPLIANT = 'Compliant';

/** The Compliant condition: True/False with a compliance reason, Unknown (with why) while nothing was checked. */
export interface Compliance {
  status: ConditionStatus;
  /** Compliant | Drifted | Violations | Infeasible | Failed, or why it is Unknown (InvalidPolicy, AwsUnavailable, ...). */
  reason: string;
  message: string;
}

/** Upserts the Compliant condition (lastTransitionTime moves only when its status flips). */
export function compliantCondition(
  list: readonly ConditionLike[] | undefined,
  compliance: Compliance,
  observedGeneration: number | undefined,
  now: Date,
): { conditions: Condition[]; changed: boolean } {
  return setCondition(list, { type: COMPLIANT, ...compliance, observedGeneration }, now);
}

/** The overall state a reconcile ended in, which decides the three kstatus conditions. */
export type KstatusState =
  /** Work is ongoing (first visit, remediation in progress, waiting for AWS): Reconciling=True, Ready=Unknown. */
  | { kind: 'Reconciling'; reason: string; message: string }
  /** Done and the world matches (or Audit reported): Ready=True. */
  | { kind: 'Ready'; reason: string; message: string }
  /** Done but not in the desired state, and retrying will not help without a change: Stalled=True, Ready=False. */
  | { kind: 'Stalled'; reason: string; message: string }
  /** Done, not in the desired state, but retrying may help (transient failure): Ready=False, nothing stalled. */
  | { kind: 'NotReady'; reason: string; message: string };

/**
 * Applies a KstatusState to a condition list: always sets all three types (kstatus wants Ready present from the
 * first visit; Reconciling/Stalled are kept as False rather than removed, so the list's shape never churns).
 */
export function kstatusConditions(
  list: readonly ConditionLike[] | undefined,
  state: KstatusState,
  observedGeneration: number | undefined,
  now: Date,
): { conditions: Condition[]; changed: boolean } {
  const g = observedGeneration;
  const ready: ConditionStatus = state.kind === 'Ready' ? 'True' : state.kind === 'Reconciling' ? 'Unknown' : 'False';
  const steps: ConditionInput[] = [
    { type: READY, status: ready, reason: state.reason, message: state.message, observedGeneration: g },
    {
      type: RECONCILING,
      status: state.kind === 'Reconciling' ? 'True' : 'False',
      reason: state.kind === 'Reconciling' ? state.reason : 'Reconciled',
      message: state.kind === 'Reconciling' ? state.message : '',
      observedGeneration: g,
    },
    {
      type: STALLED,
      status: state.kind === 'Stalled' ? 'True' : 'False',
      reason: state.kind === 'Stalled' ? state.reason : 'NotStalled',
      message: state.kind === 'Stalled' ? state.message : '',
      observedGeneration: g,
    },
  ];
  let conditions = (list ?? []).map(normalize);
  let changed = false;
  for (const step of steps) {
    const r = setCondition(conditions, step, now);
    conditions = r.conditions;
    changed ||= r.changed;
  }
  return { conditions, changed };
}

/**
 * kstatus' reading of an object (cli-utils pkg/kstatus/status, v0.37), rule for rule, for tests and readiness
 * checks: deletion; an observedGeneration that is present and differs (absent: not checked); the first of
 * Reconciling/Stalled that is True, in list order; then a Ready condition (True: Current, False/Unknown:
 * InProgress); no standard condition at all: Current. Test e2e/argocd runs the real library on the same objects.
 */
export function kstatusOf(obj: {
  metadata: { generation?: number; deletionTimestamp?: string };
  status?: { observedGeneration?: number; conditions?: ConditionLike[] };
}): 'Terminating' | 'InProgress' | 'Failed' | 'Current' {
  if (obj.metadata.deletionTimestamp) return 'Terminating';
  const st = obj.status;
  const observed = st?.observedGeneration;
  if (obj.metadata.generation !== undefined && observed !== undefined && observed !== obj.metadata.generation)
    return 'InProgress';
  for (const c of st?.conditions ?? []) {
    if (c.type === RECONCILING && c.status === 'True') return 'InProgress';
    if (c.type === STALLED && c.status === 'True') return 'Failed';
  }
  const ready = findCondition(st?.conditions, READY);
  if (ready?.status === 'True') return 'Current';
  if (ready?.status === 'False' || ready?.status === 'Unknown') return 'InProgress';
  return 'Current';
}
