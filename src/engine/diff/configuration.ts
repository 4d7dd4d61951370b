/**
 * Memory, timeout, logging and tracing: one UpdateFunctionConfiguration for every configuration field that
 * drifted.
 */
import type { DesiredLogging } from '../model.ts';
import type { DiffOutput, FieldContext } from './common.ts';
import { tag } from './common.ts';
import { desiredLogging, loggingDiffers, loggingView, observedLogging, observedTracing } from './logging.ts';

type ConfigurationField = 'memorySize' | 'timeout' | 'logging' | 'tracing';

export function diffConfiguration({ fn, merged }: FieldContext, out: DiffOutput): void {
  const update: {
    memorySize?: number;
    timeout?: number;
    logging?: DesiredLogging;
    tracing?: 'Active' | 'PassThrough';
  } = {};
  const fields: ConfigurationField[] = [];
  if (merged.memorySize && fn.memorySize !== merged.memorySize.value) {
    out.drift.push({
      field: 'memorySize',
      desired: merged.memorySize.value,
      actual: fn.memorySize,
      policy: merged.memorySize.policy.id,
    });
    update.memorySize = merged.memorySize.value;
    fields.push('memorySize');
  }
  if (merged.timeout && fn.timeout !== merged.timeout.value) {
    out.drift.push({
      field: 'timeout',
      desired: merged.timeout.value,
      actual: fn.timeout,
      policy: merged.timeout.policy.id,
    });
    update.timeout = merged.timeout.value;
    fields.push('timeout');
  }
  const logging = merged.logging;
  if (logging) {
    const observed = observedLogging(fn);
    if (loggingDiffers(observed, logging.value)) {
      out.drift.push({
        field: 'logging',
        desired: desiredLogging(logging.value),
        actual: loggingView(observed, logging.value),
        policy: logging.policy.id,
      });
      update.logging = desiredLogging(logging.value);
      fields.push('logging');
    }
  }
  const tracing = merged.tracing;
  if (tracing && observedTracing(fn) !== tracing.value) {
    out.drift.push({
      field: 'tracing',
      desired: tracing.value,
      actual: observedTracing(fn),
      policy: tracing.policy.id,
    });
    update.tracing = tracing.value;
    fields.push('tracing');
  }
  if (fields.length > 0) out.actions.push(tag({ api: 'UpdateFunctionConfiguration', ...update }, ...fields));
}
