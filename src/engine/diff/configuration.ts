/** Memory and timeout: one UpdateFunctionConfiguration for every configuration field that drifted. */
import type { DiffOutput, FieldContext } from './common.ts';
import { tag } from './common.ts';

export function diffConfiguration({ fn, merged }: FieldContext, out: DiffOutput): void {
  const update: { memorySize?: number; timeout?: number } = {};
  const fields: ('memorySize' | 'timeout')[] = [];
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
  if (fields.length > 0) out.actions.push(tag({ api: 'UpdateFunctionConfiguration', ...update }, ...fields));
}
