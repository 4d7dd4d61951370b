/**
 * One info record per AWS write: which policy asked for it, where (account, region, function, qualifier), which
 * fields and their values before and after (`memorySize 512 -> 1024`). Values come from the plan's drift (the
 * governed settings: sizes, timeouts, concurrency, schedules, log settings); a function's environment is never a
 * governed field, so it cannot appear, and every string passes the logger's redaction besides.
 */
import type { Action, Drift, FieldName, FunctionPlan } from '../engine/model.ts';
import type { Logger } from '../shared/logger.ts';
import { truncate } from '../shared/text.ts';
import type { ActionOutcome } from './executor.ts';

/** A value as a log shows it: short, one line. */
const MAX_VALUE = 200;

function show(value: unknown): string {
  if (value === null || value === undefined) return 'none';
  const text = typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value));
  return truncate(text.replace(/\s*\n\s*/g, ' '), MAX_VALUE);
}

/** The alias or version a write is about, when it is about one. */
export function qualifierOf(action: Action): string | undefined {
  switch (action.api) {
    case 'PutProvisionedConcurrencyConfig':
    case 'DeleteProvisionedConcurrencyConfig':
      return action.qualifier;
    case 'RegisterScalableTarget':
    case 'PutScheduledAction':
    case 'DeleteScheduledAction':
      // function:NAME:QUALIFIER
      return action.resourceId.split(':')[2];
    default:
      return undefined;
  }
}

/** The drift entries a write settles: the fields it is tagged with; a schedule write only its own action's. */
function settled(action: Action, drift: readonly Drift[], field: FieldName): Drift[] {
  const own = drift.filter((d) => d.field === field);
  if (field !== 'scheduledActions' || own.length <= 1) return own;
  const mark =
    action.api === 'PutScheduledAction' || action.api === 'DeleteScheduledAction'
      ? action.scheduledActionName
      : action.api === 'RegisterScalableTarget'
        ? action.resourceId
        : undefined;
  if (mark === undefined) return own;
  const named = own.filter((d) => show(d.desired).includes(mark) || show(d.actual).includes(mark));
  return named.length > 0 ? named : own;
}

export interface RemediationRecord {
  fields: Record<string, unknown>;
  msg: string;
}

/** The records of one function's writes (applied actions only: a failed one is logged as a failure elsewhere). */
export function remediationRecords(
  fp: FunctionPlan,
  outcomes: readonly ActionOutcome[],
  account?: string | undefined,
): RemediationRecord[] {
  const out: RemediationRecord[] = [];
  for (const outcome of outcomes) {
    if (outcome.status !== 'applied') continue;
    const action = outcome.action;
    const fields = action.fields ?? [];
    const changes: { field: string; from: string; to: string }[] = [];
    const policies = new Set<string>();
    for (const field of fields) {
      const entries = settled(action, fp.drift, field);
      for (const d of entries) {
        changes.push({ field, from: show(d.actual), to: show(d.desired) });
        policies.add(d.policy);
      }
      if (entries.length === 0) changes.push({ field, from: '?', to: '?' });
    }
    if (policies.size === 0) for (const p of fp.policies) policies.add(p);
    const qualifier = qualifierOf(action);
    const change = changes.map((c) => `${c.field} ${c.from} -> ${c.to}`).join(', ');
    out.push({
      fields: {
        policy: [...policies].join(','),
        ...(account === undefined ? {} : { account }),
        region: fp.region,
        function: fp.name,
        ...(qualifier === undefined ? {} : { qualifier }),
        api: action.api,
        field: fields.join(','),
        change,
        ...(outcome.note === undefined ? {} : { note: outcome.note }),
      },
      msg: `remediated ${fp.name}${qualifier === undefined ? '' : `:${qualifier}`}: ${change || action.api}`,
    });
  }
  return out;
}

export function logRemediations(
  logger: Logger,
  fp: FunctionPlan,
  outcomes: readonly ActionOutcome[],
  account?: string | undefined,
): void {
  for (const r of remediationRecords(fp, outcomes, account)) logger.info(r.fields, r.msg);
}
