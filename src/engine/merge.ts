/**
 * Merging the Enforce policies that match one function, field by field: the highest priority wins, a tie goes to
 * the policy whose `namespace/name` sorts first (plain code-unit order, so no locale can change the winner).
 * `provisionedConcurrency` is one block: qualifier, value and windows always come from the same policy.
 * Audit and suspended policies never take part.
 */
import type { ProvisionedConcurrency, Settings } from '../api/schema.ts';
import { compareOrdinal } from '../shared/compare.ts';
import type { Architecture, FieldName, Overridden, PolicyInput } from './model.ts';

export const MERGED_FIELDS = [
  'memorySize',
  'timeout',
  'architecture',
  'reservedConcurrency',
  'provisionedConcurrency',
] as const satisfies readonly (keyof Settings & FieldName)[];
export type MergedField = (typeof MERGED_FIELDS)[number];

export interface Winner<T> {
  value: T;
  policy: PolicyInput;
}

export interface MergedSettings {
  memorySize?: Winner<number>;
  timeout?: Winner<number>;
  architecture?: Winner<Architecture>;
  reservedConcurrency?: Winner<number | 'Unreserved'>;
  provisionedConcurrency?: Winner<ProvisionedConcurrency>;
}

/** Precedence among Enforce policies: priority descending, then id ascending. */
export function comparePrecedence(a: PolicyInput, b: PolicyInput): number {
  return b.priority - a.priority || compareOrdinal(a.id, b.id);
}

export function isActiveEnforce(p: PolicyInput): boolean {
  return p.mode === 'Enforce' && !p.suspend;
}

export interface MergeResult {
  settings: MergedSettings;
  /** One entry per (losing policy, field), ordered by field then loser precedence. */
  overridden: Overridden[];
}

/** Merges the given policies (any order; Audit/suspended ones are skipped). */
export function mergeEnforce(policies: readonly PolicyInput[]): MergeResult {
  const ranked = policies.filter(isActiveEnforce).sort(comparePrecedence);
  const settings: MergedSettings = {};
  const overridden: Overridden[] = [];
  for (const field of MERGED_FIELDS) {
    let winner: PolicyInput | undefined;
    for (const p of ranked) {
      if (p.settings[field] === undefined) continue;
      if (winner === undefined) {
        winner = p;
        (settings as Record<MergedField, Winner<unknown>>)[field] = { value: p.settings[field], policy: p };
      } else {
        overridden.push({ field, policy: p.id, winner: winner.id });
      }
    }
  }
  return { settings, overridden };
}
