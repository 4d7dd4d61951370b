/**
 * Which functions a policy governs. Selection runs for every (function, policy) pair of the fleet, so selectors are
 * compiled once (globs to linear-time matchers, tags to arrays, expression values to Sets) and policies are indexed by
 * region and by a cheap key (a literal name prefix or a tag) so that a function is only tested against candidates.
 */
import type { Selector, TagExpression } from '../api/schema.ts';
import { GlobSet } from './glob.ts';
import type { PolicyInput } from './model.ts';

/** The minimal view of a function selection needs (ObservedFunction and ListFunctions results both fit). */
export interface SelectableFunction {
  region: string;
  name: string;
  tags: Record<string, string>;
}

export { globMatches } from './glob.ts';

/** The literal text before the first wildcard; '' when the glob starts with one. */
export function literalPrefix(glob: string): string {
  const i = glob.search(/[*?]/);
  return i < 0 ? glob : glob.slice(0, i);
}

interface CompiledExpression {
  key: string;
  operator: TagExpression['operator'];
  values: Set<string>;
}

export interface CompiledSelector {
  regions: Set<string>;
  /** undefined: any name; a list that is present but empty matches no name. */
  names?: GlobSet | null | undefined;
  excludes?: GlobSet | undefined;
  tags: [string, string][];
  expressions: CompiledExpression[];
  /**
   * false when the selector has no criterion (no functionNames, tags or tagExpressions): such a policy is invalid
   * and must never match everything by accident, so it matches nothing.
   */
  hasCriterion: boolean;
}

/** Policy regions, else the default regions (an empty list counts as absent). */
export function policyRegions(selector: Selector, defaultRegions: readonly string[]): string[] {
  return selector.regions && selector.regions.length > 0 ? selector.regions : [...defaultRegions];
}

export function compileSelector(selector: Selector, defaultRegions: readonly string[]): CompiledSelector {
  const tags = Object.entries(selector.tags ?? {});
  const expressions = (selector.tagExpressions ?? []).map((e) => ({
    key: e.key,
    operator: e.operator,
    values: new Set(e.values ?? []),
  }));
  const names = selector.functionNames;
  const excludes = selector.excludeFunctionNames;
  return {
    regions: new Set(policyRegions(selector, defaultRegions)),
    names: names === undefined ? undefined : names.length === 0 ? null : new GlobSet(names),
    excludes: excludes && excludes.length > 0 ? new GlobSet(excludes) : undefined,
    tags,
    expressions,
    hasCriterion: names !== undefined || tags.length > 0 || expressions.length > 0,
  };
}

/** Kubernetes label-selector semantics over tags: NotIn and DoesNotExist hold when the key is absent. */
export function expressionHolds(
  expression: { key: string; operator: TagExpression['operator']; values: ReadonlySet<string> },
  tags: Record<string, string>,
): boolean {
  const present = Object.hasOwn(tags, expression.key);
  switch (expression.operator) {
    case 'In':
      return present && expression.values.has(tags[expression.key] as string);
    case 'NotIn':
      return !present || !expression.values.has(tags[expression.key] as string);
    case 'Exists':
      return present;
    case 'DoesNotExist':
      return !present;
    default:
      return false;
  }
}

export function compiledMatches(c: CompiledSelector, fn: SelectableFunction): boolean {
  if (!c.hasCriterion || !c.regions.has(fn.region)) return false;
  if (c.names === null) return false;
  if (c.names !== undefined && !c.names.test(fn.name)) return false;
  if (c.excludes?.test(fn.name)) return false;
  for (const [key, value] of c.tags) {
    if (!Object.hasOwn(fn.tags, key) || fn.tags[key] !== value) return false;
  }
  for (const e of c.expressions) {
    if (!expressionHolds(e, fn.tags)) return false;
  }
  return true;
}

const compiledCache = new WeakMap<Selector, { key: string; compiled: CompiledSelector }>();

function compiledFor(selector: Selector, defaultRegions: readonly string[]): CompiledSelector {
  const key = defaultRegions.join(',');
  const hit = compiledCache.get(selector);
  if (hit && hit.key === key) return hit.compiled;
  const compiled = compileSelector(selector, defaultRegions);
  compiledCache.set(selector, { key, compiled });
  return compiled;
}

/** Does the policy select the function? (Suspension and mode are not selection's business.) */
export function matches(policy: PolicyInput, fn: SelectableFunction, defaultRegions: readonly string[]): boolean {
  return compiledMatches(compiledFor(policy.selector, defaultRegions), fn);
}

/** Every region any of the policies looks in (sorted, distinct): what the AWS adapters must list. */
export function regionsOf(policies: readonly PolicyInput[], defaultRegions: readonly string[]): string[] {
  const out = new Set<string>();
  for (const p of policies) {
    if (p.suspend) continue;
    for (const r of policyRegions(p.selector, defaultRegions)) out.add(r);
  }
  return [...out].sort();
}

/** The literal text after the last wildcard; '' when the glob ends with one. */
export function literalSuffix(glob: string): string {
  const i = Math.max(glob.lastIndexOf('*'), glob.lastIndexOf('?'));
  return i < 0 ? glob : glob.slice(i + 1);
}

interface Entry {
  policy: PolicyInput;
  compiled: CompiledSelector;
  /** Position in the input; candidates are returned in this order and deduplicated with `stamp`. */
  order: number;
  stamp: number;
}

interface RegionIndex {
  byPrefix: Map<string, Entry[]>;
  prefixLengths: number[];
  bySuffix: Map<string, Entry[]>;
  suffixLengths: number[];
  /** tag key -> tag value -> entries (nested, so a lookup allocates no key string). */
  byTag: Map<string, Map<string, Entry[]>>;
  byTagKey: Map<string, Entry[]>;
  rest: Entry[];
}

function push<K>(map: Map<K, Entry[]>, key: K, entry: Entry): void {
  const list = map.get(key);
  if (list) list.push(entry);
  else map.set(key, [entry]);
}

function pushTag(idx: RegionIndex, key: string, value: string, entry: Entry): void {
  let values = idx.byTag.get(key);
  if (!values) {
    values = new Map();
    idx.byTag.set(key, values);
  }
  push(values, value, entry);
}
const lengths = (m: Map<string, Entry[]>): number[] =>
  [...new Set([...m.keys()].map((k) => k.length))].sort((a, b) => a - b);

/**
 * Policies indexed for fast selection. Each policy is filed under the most selective cheap key it must satisfy:
 * its name globs (each under its literal prefix, else its literal suffix; only when every glob has one), else one
 * required tag, else the values of its narrowest `In` expression, else the key of an `Exists` expression. The rest
 * are tested against every function of the region. Filing is only a pre-filter: candidates are fully matched.
 */
export class PolicyIndex {
  readonly #regions = new Map<string, RegionIndex>();
  #stamp = 0;

  constructor(policies: readonly PolicyInput[], defaultRegions: readonly string[]) {
    policies.forEach((policy, order) => {
      const compiled = compiledFor(policy.selector, defaultRegions);
      if (!compiled.hasCriterion || compiled.names === null) return;
      const entry: Entry = { policy, compiled, order, stamp: 0 };
      for (const region of compiled.regions) this.#file(this.#region(region), entry);
    });
    for (const idx of this.#regions.values()) {
      idx.prefixLengths = lengths(idx.byPrefix);
      idx.suffixLengths = lengths(idx.bySuffix);
    }
  }

  #region(region: string): RegionIndex {
    let idx = this.#regions.get(region);
    if (!idx) {
      idx = {
        byPrefix: new Map(),
        prefixLengths: [],
        bySuffix: new Map(),
        suffixLengths: [],
        byTag: new Map(),
        byTagKey: new Map(),
        rest: [],
      };
      this.#regions.set(region, idx);
    }
    return idx;
  }

  #file(idx: RegionIndex, entry: Entry): void {
    const names = entry.policy.selector.functionNames;
    if (names && names.length > 0) {
      const keys = names.map((g) => ({ prefix: literalPrefix(g), suffix: literalSuffix(g) }));
      if (keys.every((k) => k.prefix.length > 0 || k.suffix.length > 0)) {
        for (const k of keys) {
          if (k.prefix.length > 0) push(idx.byPrefix, k.prefix, entry);
          else push(idx.bySuffix, k.suffix, entry);
        }
        return;
      }
    }
    const firstTag = entry.compiled.tags[0];
    if (firstTag) {
      pushTag(idx, firstTag[0], firstTag[1], entry);
      return;
    }
    let narrowest: CompiledExpression | undefined;
    for (const e of entry.compiled.expressions) {
      if (e.operator === 'In' && (narrowest === undefined || e.values.size < narrowest.values.size)) narrowest = e;
    }
    if (narrowest) {
      // An In with no values matches nothing: filing it nowhere is exact.
      for (const v of narrowest.values) pushTag(idx, narrowest.key, v, entry);
      return;
    }
    const exists = entry.compiled.expressions.find((e) => e.operator === 'Exists');
    if (exists) {
      push(idx.byTagKey, exists.key, entry);
      return;
    }
    idx.rest.push(entry);
  }

  #consider(list: Entry[] | undefined, fn: SelectableFunction, found: Entry[]): void {
    if (list === undefined) return;
    const stamp = this.#stamp;
    for (let i = 0; i < list.length; i++) {
      const e = list[i] as Entry;
      if (e.stamp === stamp) continue;
      e.stamp = stamp;
      if (compiledMatches(e.compiled, fn)) found.push(e);
    }
  }

  /** The policies (in input order) whose selectors match the function. */
  matching(fn: SelectableFunction): PolicyInput[] {
    const idx = this.#regions.get(fn.region);
    if (!idx) return [];
    this.#stamp++;
    const found: Entry[] = [];
    const name = fn.name;
    for (const len of idx.prefixLengths) {
      if (len > name.length) break;
      this.#consider(idx.byPrefix.get(name.slice(0, len)), fn, found);
    }
    for (const len of idx.suffixLengths) {
      if (len > name.length) break;
      this.#consider(idx.bySuffix.get(name.slice(name.length - len)), fn, found);
    }
    if (idx.byTag.size > 0 || idx.byTagKey.size > 0) {
      for (const key in fn.tags) {
        if (!Object.hasOwn(fn.tags, key)) continue;
        this.#consider(idx.byTag.get(key)?.get(fn.tags[key] as string), fn, found);
        this.#consider(idx.byTagKey.get(key), fn, found);
      }
    }
    this.#consider(idx.rest, fn, found);
    if (found.length > 1) found.sort((a, b) => a.order - b.order);
    const out: PolicyInput[] = new Array(found.length);
    for (let i = 0; i < found.length; i++) out[i] = (found[i] as Entry).policy;
    return out;
  }
}
