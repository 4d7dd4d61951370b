/**
 * The production settings beside memory and timeout: logging and tracing (carried by the same
 * UpdateFunctionConfiguration, so a function gets one configuration write), asynchronous invocation
 * (Put/UpdateFunctionEventInvokeConfig) and log retention (PutRetentionPolicy on the function's log group).
 */
import type { AsyncInvocation, Logging } from '../api/schema.ts';
import type { MergedSettings } from './merge.ts';
import {
  type Action,
  ASYNC_DEFAULTS,
  type DesiredLogging,
  type Drift,
  type FieldName,
  type ObservedFunction,
  type ObservedLogging,
  type PolicyInput,
  type Refusal,
} from './model.ts';

/** What the function's logging is, with AWS's defaults for a snapshot that did not carry it. */
export function observedLogging(fn: ObservedFunction): ObservedLogging {
  return fn.logging ?? { format: 'Text', logGroup: `/aws/lambda/${fn.name}` };
}

/** The governed part of the function's logging, in the policy's shape (only the keys the policy sets). */
function loggingView(observed: ObservedLogging, wanted: Logging): Record<string, string | undefined> {
  const view: Record<string, string | undefined> = { format: observed.format };
  if (wanted.applicationLogLevel !== undefined) view.applicationLogLevel = observed.applicationLogLevel ?? 'none';
  if (wanted.systemLogLevel !== undefined) view.systemLogLevel = observed.systemLogLevel ?? 'none';
  return view;
}

function loggingDiffers(observed: ObservedLogging, wanted: Logging): boolean {
  if (observed.format !== wanted.format) return true;
  if (wanted.applicationLogLevel !== undefined && observed.applicationLogLevel !== wanted.applicationLogLevel) {
    return true;
  }
  return wanted.systemLogLevel !== undefined && observed.systemLogLevel !== wanted.systemLogLevel;
}

function desiredLogging(wanted: Logging): DesiredLogging {
  const out: DesiredLogging = { format: wanted.format };
  if (wanted.applicationLogLevel !== undefined) out.applicationLogLevel = wanted.applicationLogLevel;
  if (wanted.systemLogLevel !== undefined) out.systemLogLevel = wanted.systemLogLevel;
  return out;
}

function asyncView(fn: ObservedFunction, wanted: AsyncInvocation): Record<string, number> {
  const view: Record<string, number> = {};
  const c = fn.asyncConfig ?? {};
  if (wanted.maximumRetryAttempts !== undefined)
    view.maximumRetryAttempts = c.maximumRetryAttempts ?? ASYNC_DEFAULTS.maximumRetryAttempts;
  if (wanted.maximumEventAgeSeconds !== undefined)
    view.maximumEventAgeSeconds = c.maximumEventAgeSeconds ?? ASYNC_DEFAULTS.maximumEventAgeSeconds;
  return view;
}

function asyncDiffers(fn: ObservedFunction, wanted: AsyncInvocation): boolean {
  const actual = asyncView(fn, wanted);
  return (
    (wanted.maximumRetryAttempts !== undefined && actual.maximumRetryAttempts !== wanted.maximumRetryAttempts) ||
    (wanted.maximumEventAgeSeconds !== undefined && actual.maximumEventAgeSeconds !== wanted.maximumEventAgeSeconds)
  );
}

function wantedAsync(wanted: AsyncInvocation): Record<string, number> {
  const out: Record<string, number> = {};
  if (wanted.maximumRetryAttempts !== undefined) out.maximumRetryAttempts = wanted.maximumRetryAttempts;
  if (wanted.maximumEventAgeSeconds !== undefined) out.maximumEventAgeSeconds = wanted.maximumEventAgeSeconds;
  return out;
}

export interface ProductionDiff {
  /** Drift of logging/tracing, reported right after memory/timeout (same write). */
  configDrift: Drift[];
  /** Fields for the function's one UpdateFunctionConfiguration. */
  configUpdate: { logging?: DesiredLogging; tracing?: 'Active' | 'PassThrough' };
  /** Drift and actions that come after every Lambda configuration/code/concurrency write. */
  laterDrift: Drift[];
  laterActions: Action[];
  refusals: Refusal[];
}

/**
 * Logging, tracing, asyncInvocation and logRetentionDays of one function under merged Enforce settings.
 * `retentionPlanned` carries the region's log groups whose retention the plan already sets: a group shared by
 * several functions is written once, and two retentions wanted for one group are refused instead of alternating.
 */
export function diffProductionEnforced(
  fn: ObservedFunction,
  merged: MergedSettings,
  retentionPlanned: Map<string, { days: number; fn: string; policy: string }> = new Map(),
): ProductionDiff {
  const out: ProductionDiff = { configDrift: [], configUpdate: {}, laterDrift: [], laterActions: [], refusals: [] };
  const logging = merged.logging;
  if (logging) {
    const observed = observedLogging(fn);
    if (loggingDiffers(observed, logging.value)) {
      out.configDrift.push({
        field: 'logging',
        desired: desiredLogging(logging.value),
        actual: loggingView(observed, logging.value),
        policy: logging.policy.id,
      });
      out.configUpdate.logging = desiredLogging(logging.value);
    }
  }
  const tracing = merged.tracing;
  if (tracing && (fn.tracing ?? 'PassThrough') !== tracing.value) {
    out.configDrift.push({
      field: 'tracing',
      desired: tracing.value,
      actual: fn.tracing ?? 'PassThrough',
      policy: tracing.policy.id,
    });
    out.configUpdate.tracing = tracing.value;
  }
  const async = merged.asyncInvocation;
  if (async) {
    if (fn.asyncConfig === undefined) {
      out.refusals.push(notRead('asyncInvocation', 'the asynchronous invocation config was not read', async.policy));
    } else if (asyncDiffers(fn, async.value)) {
      out.laterDrift.push({
        field: 'asyncInvocation',
        desired: wantedAsync(async.value),
        actual: asyncView(fn, async.value),
        policy: async.policy.id,
      });
      out.laterActions.push({
        api: fn.asyncConfig === null ? 'PutFunctionEventInvokeConfig' : 'UpdateFunctionEventInvokeConfig',
        ...wantedAsync(async.value),
      });
    }
  }
  const retention = merged.logRetentionDays;
  if (retention) {
    const group = fn.logGroup;
    if (group === undefined) {
      out.refusals.push(notRead('logRetentionDays', 'the log group was not read', retention.policy));
    } else if (group.exists) {
      const other = retentionPlanned.get(group.name);
      if (other && other.days !== retention.value) {
        out.refusals.push({
          field: 'logRetentionDays',
          reason: 'SharedLogGroup',
          message: `log group ${group.name} is shared with ${other.fn}, whose policy ${other.policy} wants ${other.days} days`,
          policy: retention.policy.id,
        });
      } else {
        if (!other)
          retentionPlanned.set(group.name, { days: retention.value, fn: fn.name, policy: retention.policy.id });
        // A group that does not exist yet keeps nothing; Lambda creates it on the first invocation and the next
        // check sets its retention.
        if (group.retentionInDays !== retention.value) {
          out.laterDrift.push({
            field: 'logRetentionDays',
            desired: retention.value,
            actual: group.retentionInDays ?? 'Never expire',
            policy: retention.policy.id,
          });
          // One write per group: the first function of the region that wants it carries the action.
          if (!other)
            out.laterActions.push({
              api: 'PutRetentionPolicy',
              logGroupName: group.name,
              retentionInDays: retention.value,
            });
        }
      }
    }
  }
  return out;
}

function notRead(field: FieldName, message: string, policy: PolicyInput): Refusal {
  return { field, reason: 'NotRead', message, policy: policy.id };
}

/** One Audit policy's drift in the production settings (never actions). */
export function diffProductionAudit(fn: ObservedFunction, policy: PolicyInput): Drift[] {
  const s = policy.settings;
  const out: Drift[] = [];
  if (s.logging !== undefined) {
    const observed = observedLogging(fn);
    if (loggingDiffers(observed, s.logging))
      out.push({
        field: 'logging',
        desired: desiredLogging(s.logging),
        actual: loggingView(observed, s.logging),
        policy: policy.id,
      });
  }
  if (s.tracing !== undefined && (fn.tracing ?? 'PassThrough') !== s.tracing)
    out.push({ field: 'tracing', desired: s.tracing, actual: fn.tracing ?? 'PassThrough', policy: policy.id });
  if (s.asyncInvocation !== undefined && fn.asyncConfig !== undefined && asyncDiffers(fn, s.asyncInvocation))
    out.push({
      field: 'asyncInvocation',
      desired: wantedAsync(s.asyncInvocation),
      actual: asyncView(fn, s.asyncInvocation),
      policy: policy.id,
    });
  const group = fn.logGroup;
  if (s.logRetentionDays !== undefined && group?.exists && group.retentionInDays !== s.logRetentionDays)
    out.push({
      field: 'logRetentionDays',
      desired: s.logRetentionDays,
      actual: group.retentionInDays ?? 'Never expire',
      policy: policy.id,
    });
  return out;
}
