/**
 * Logging and tracing: carried by the function's one UpdateFunctionConfiguration (./configuration.ts), so a
 * function gets one configuration write whatever of memory, timeout, logging and tracing drifted.
 */
import type { Logging } from '../../api/schema.ts';
import type { DesiredLogging, ObservedFunction, ObservedLogging } from '../model.ts';

/** What the function's logging is, with AWS's defaults for a snapshot that did not carry it. */
export function observedLogging(fn: ObservedFunction): ObservedLogging {
  return fn.logging ?? { format: 'Text', logGroup: `/aws/lambda/${fn.name}` };
}

/** The governed part of the function's logging, in the policy's shape (only the keys the policy sets). */
export function loggingView(observed: ObservedLogging, wanted: Logging): Record<string, string | undefined> {
  const view: Record<string, string | undefined> = { format: observed.format };
  if (wanted.applicationLogLevel !== undefined) view.applicationLogLevel = observed.applicationLogLevel ?? 'none';
  if (wanted.systemLogLevel !== undefined) view.systemLogLevel = observed.systemLogLevel ?? 'none';
  return view;
}

export function loggingDiffers(observed: ObservedLogging, wanted: Logging): boolean {
  if (observed.format !== wanted.format) return true;
  if (wanted.applicationLogLevel !== undefined && observed.applicationLogLevel !== wanted.applicationLogLevel) {
    return true;
  }
  return wanted.systemLogLevel !== undefined && observed.systemLogLevel !== wanted.systemLogLevel;
}

export function desiredLogging(wanted: Logging): DesiredLogging {
  const out: DesiredLogging = { format: wanted.format };
  if (wanted.applicationLogLevel !== undefined) out.applicationLogLevel = wanted.applicationLogLevel;
  if (wanted.systemLogLevel !== undefined) out.systemLogLevel = wanted.systemLogLevel;
  return out;
}

/** Tracing mode as AWS reports it; a function that never set one is PassThrough. */
export const observedTracing = (fn: ObservedFunction): 'Active' | 'PassThrough' => fn.tracing ?? 'PassThrough';
