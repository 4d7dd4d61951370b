/** Architecture: UpdateFunctionCode with the same Zip; an Image cannot change architecture (refused, reported). */
import type { DiffOutput, FieldContext } from './common.ts';
import { refuse, tag } from './common.ts';

export function diffArchitecture({ fn, merged }: FieldContext, out: DiffOutput): void {
  const arch = merged.architecture;
  if (!arch || fn.architecture === arch.value) return;
  out.drift.push({ field: 'architecture', desired: arch.value, actual: fn.architecture, policy: arch.policy.id });
  if (fn.packageType === 'Image') {
    refuse(
      out,
      'architecture',
      'ImageArchitecture',
      `image functions need an image built for ${arch.value}; report only`,
      arch.policy,
    );
  } else {
    out.actions.push(tag({ api: 'UpdateFunctionCode', architecture: arch.value }, 'architecture'));
  }
}
