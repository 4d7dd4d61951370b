/**
 * What must be read per function beyond ListFunctions + tags, decided after selection so that quota-expensive reads
 * (GetFunction for reserved concurrency, a function's provisioned-concurrency configs) happen only where a
 * matching policy governs the field. A function with governed qualifiers has ALL its configs listed (AWS caps their
 * sum), but only the governed qualifiers are checked for existence.
 */

import { compareOrdinal } from '../shared/compare.ts';
import type { ObservedFunction, PolicyInput, ReadRequirements } from './model.ts';
import { PolicyIndex, type SelectableFunction } from './select.ts';

/**
 * Reads of the production settings and checks, each only where a matching policy needs it: the EventInvokeConfig
 * where asyncInvocation is governed or an on-failure destination is required of a function without a dead-letter
 * queue (ListFunctions already shows that one), layer versions where their architectures are checked or a governed
 * architecture move needs them, the log group where its retention is governed.
 */
function productionReads(
  fn: SelectableFunction | ObservedFunction,
  matched: readonly PolicyInput[],
): Pick<ReadRequirements, 'asyncConfig' | 'layers' | 'logGroup'> {
  const observed: Partial<ObservedFunction> = fn;
  const out: Pick<ReadRequirements, 'asyncConfig' | 'layers' | 'logGroup'> = {};
  for (const p of matched) {
    if (p.settings.asyncInvocation !== undefined) out.asyncConfig = true;
    if (p.checks?.asyncFailureDestination === 'Required' && observed.deadLetterTarget === undefined)
      out.asyncConfig = true;
    const hasLayers = (observed.layers ?? []).length > 0;
    if (p.checks?.layersSupportArchitecture === true && hasLayers) out.layers = true;
    // An architecture move is refused unless every layer lists the target: read them only where one is due.
    const arch = p.settings.architecture;
    const moves = arch !== undefined && arch !== observed.architecture && observed.packageType !== 'Image';
    if (p.mode === 'Enforce' && moves && hasLayers) out.layers = true;
    if (p.settings.logRetentionDays !== undefined) out.logGroup = true;
  }
  return out;
}

/**
 * Read requirements for the matched functions of one region (sorted by name). Reserved concurrency is needed where
 * a matching (Enforce or Audit, not suspended) policy governs it, or governs provisioned concurrency, which must
 * fit in the reserved concurrency. Qualifiers: those the matching policies' provisioned blocks name ($LATEST never).
 */
export function requiredReads(
  policies: readonly PolicyInput[],
  region: string,
  functions: readonly (SelectableFunction | ObservedFunction)[],
  defaultRegions: readonly string[],
): ReadRequirements[] {
  const active = policies.filter((p) => !p.suspend).sort((a, b) => compareOrdinal(a.id, b.id));
  const index = new PolicyIndex(active, defaultRegions);
  const out: ReadRequirements[] = [];
  for (const fn of functions) {
    const inRegion = fn.region === region ? fn : { ...fn, region };
    const matched = index.matching(inRegion);
    if (matched.length === 0) continue;
    let reservedConcurrency = false;
    const qualifiers = new Set<string>();
    const extra = productionReads(fn, matched);
    for (const p of matched) {
      const s = p.settings;
      if (s.reservedConcurrency !== undefined || s.provisionedConcurrency !== undefined) reservedConcurrency = true;
      if (s.provisionedConcurrency && s.provisionedConcurrency.qualifier !== '$LATEST') {
        qualifiers.add(s.provisionedConcurrency.qualifier);
      }
    }
    out.push({
      region,
      name: fn.name,
      reservedConcurrency,
      qualifiers: [...qualifiers].sort(compareOrdinal),
      ...extra,
    });
  }
  return out.sort((a, b) => compareOrdinal(a.name, b.name));
}
