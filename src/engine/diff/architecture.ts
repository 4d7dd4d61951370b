/**
 * Architecture: UpdateFunctionCode with the same Zip. Refused (reported, never written) where the move would break
 * the function at its next invocation, which AWS itself does not prevent: an Image (no multi-architecture images),
 * a runtime Lambda does not run on the target, a layer whose CompatibleArchitectures lack it. Native binaries in
 * the package itself are found by the executor, which is the one that downloads it.
 */
import { runtimeArchitectureProblem, shippedRuntimeTable } from '../checks/runtimes.ts';
import type { Architecture, ObservedFunction } from '../model.ts';
import type { DiffOutput, FieldContext } from './common.ts';
import { refuse, tag } from './common.ts';

/** The first layer that cannot serve `target`, as a message; undefined when every layer lists it. */
export function layerArchitectureProblem(
  fn: ObservedFunction,
  target: Architecture,
): { reason: 'LayerArchitecture' | 'NotRead'; message: string } | undefined {
  for (const layer of fn.layers ?? []) {
    const archs = layer.compatibleArchitectures;
    if (archs === undefined) {
      const why = layer.readError ? ` (${layer.readError})` : '';
      return {
        reason: 'NotRead',
        message: `CompatibleArchitectures of layer ${layer.arn} could not be read${why}: not moved to ${target}`,
      };
    }
    if (archs.includes(target)) continue;
    const listed =
      archs.length > 0 ? `lists CompatibleArchitectures ${archs.join(', ')}` : 'lists no CompatibleArchitectures';
    return {
      reason: 'LayerArchitecture',
      message: `layer ${layer.arn} ${listed}, not ${target}: publish a layer version for ${target} first`,
    };
  }
  return undefined;
}

export function diffArchitecture({ fn, merged, region }: FieldContext, out: DiffOutput): void {
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
    return;
  }
  const runtime = runtimeArchitectureProblem(fn.runtime, arch.value, region.runtimes ?? shippedRuntimeTable());
  if (runtime !== undefined) {
    refuse(out, 'architecture', 'RuntimeArchitecture', `${runtime}; move to a newer runtime first`, arch.policy);
    return;
  }
  const layer = layerArchitectureProblem(fn, arch.value);
  if (layer !== undefined) {
    refuse(out, 'architecture', layer.reason, layer.message, arch.policy);
    return;
  }
  out.actions.push(tag({ api: 'UpdateFunctionCode', architecture: arch.value }, 'architecture'));
}
