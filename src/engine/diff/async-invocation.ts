/**
 * Asynchronous invocation (the unqualified function's EventInvokeConfig): Put when none exists, Update when one
 * does (Put replaces a whole config, Update keeps its destinations). A resource beside the function: its write
 * comes after the Lambda configuration, code and concurrency writes.
 */
import type { AsyncInvocation } from '../../api/schema.ts';
import { ASYNC_DEFAULTS, type ObservedFunction } from '../model.ts';
import type { DiffOutput, FieldContext } from './common.ts';
import { refuse, tag } from './common.ts';

/** The governed part of the function's config, with AWS's defaults for what it leaves out. */
export function asyncView(fn: ObservedFunction, wanted: AsyncInvocation): Record<string, number> {
  const view: Record<string, number> = {};
  const c = fn.asyncConfig ?? {};
  if (wanted.maximumRetryAttempts !== undefined)
    view.maximumRetryAttempts = c.maximumRetryAttempts ?? ASYNC_DEFAULTS.maximumRetryAttempts;
  if (wanted.maximumEventAgeSeconds !== undefined)
    view.maximumEventAgeSeconds = c.maximumEventAgeSeconds ?? ASYNC_DEFAULTS.maximumEventAgeSeconds;
  return view;
}

export function asyncDiffers(fn: ObservedFunction, wanted: AsyncInvocation): boolean {
  const actual = asyncView(fn, wanted);
  return (
    (wanted.maximumRetryAttempts !== undefined && actual.maximumRetryAttempts !== wanted.maximumRetryAttempts) ||
    (wanted.maximumEventAgeSeconds !== undefined && actual.maximumEventAgeSeconds !== wanted.maximumEventAgeSeconds)
  );
}

export function wantedAsync(wanted: AsyncInvocation): Record<string, number> {
  const out: Record<string, number> = {};
  if (wanted.maximumRetryAttempts !== undefined) out.maximumRetryAttempts = wanted.maximumRetryAttempts;
  if (wanted.maximumEventAgeSeconds !== undefined) out.maximumEventAgeSeconds = wanted.maximumEventAgeSeconds;
  return out;
}

export function diffAsyncInvocation({ fn, merged }: FieldContext, out: DiffOutput): void {
  const async = merged.asyncInvocation;
  if (!async) return;
  if (fn.asyncConfig === undefined) {
    refuse(out, 'asyncInvocation', 'NotRead', 'the asynchronous invocation config was not read', async.policy);
    return;
  }
  if (!asyncDiffers(fn, async.value)) return;
  out.drift.push({
    field: 'asyncInvocation',
    desired: wantedAsync(async.value),
    actual: asyncView(fn, async.value),
    policy: async.policy.id,
  });
  out.actions.push(
    tag(
      {
        api: fn.asyncConfig === null ? 'PutFunctionEventInvokeConfig' : 'UpdateFunctionEventInvokeConfig',
        ...wantedAsync(async.value),
      },
      'asyncInvocation',
    ),
  );
}
