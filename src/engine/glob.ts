/**
 * Function name globs: `*` = any run of characters (also none), `?` = exactly one character (a code point), anchored
 * at both ends. Matched without regular expressions: a glob turned into a backtracking RegExp (`^a.*a.*a.*c$`) takes
 * exponential time on near-misses, and any namespace that may create a policy could stall the event loop with one.
 *
 * The glob is split at its stars into literal segments (`?` inside a segment matches any one character). The first
 * segment must match at the start, the last at the end, and each middle segment at its leftmost position after the
 * previous one: leftmost is always safe, because whatever a later segment could match after a later occurrence it
 * can also match after an earlier one (the star in between absorbs the difference). The cursor never moves back, so
 * a match costs at most (name length + 1) x (glob length + 1) character comparisons, whatever the glob.
 */

/** One glob, compiled once: its star-separated segments as arrays of code points (`?` stays `?`). */
export interface CompiledGlob {
  readonly source: string;
  /** The glob had no star: the name must match `segments[0]` exactly, character for character. */
  readonly exact: boolean;
  readonly first: readonly string[];
  readonly middle: readonly (readonly string[])[];
  readonly last: readonly string[];
  /** Characters the name must at least have. */
  readonly minLength: number;
}

export function compileGlob(glob: string): CompiledGlob {
  const parts = glob.split('*').map((part) => Array.from(part));
  const first = parts[0] ?? [];
  if (parts.length === 1) return { source: glob, exact: true, first, middle: [], last: [], minLength: first.length };
  const last = parts[parts.length - 1] ?? [];
  const middle = parts.slice(1, -1).filter((segment) => segment.length > 0);
  const minLength = first.length + last.length + middle.reduce((sum, s) => sum + s.length, 0);
  return { source: glob, exact: false, first, middle, last, minLength };
}

/** Counts character comparisons, so tests can prove the bound without timing anything. */
export interface StepCounter {
  steps: number;
}

/** Non-BMP characters are one character to `?`, as they are to a RegExp with the `u` flag. */
function codePoints(name: string): ArrayLike<string> {
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdfff) return Array.from(name);
  }
  return name;
}

function segmentAt(name: ArrayLike<string>, at: number, segment: readonly string[], counter?: StepCounter): boolean {
  for (let j = 0; j < segment.length; j++) {
    if (counter) counter.steps++;
    const want = segment[j];
    if (want !== '?' && want !== name[at + j]) return false;
  }
  return true;
}

function matchCompiled(g: CompiledGlob, name: ArrayLike<string>, counter?: StepCounter): boolean {
  const n = name.length;
  if (g.exact) return n === g.first.length && segmentAt(name, 0, g.first, counter);
  if (n < g.minLength) return false;
  if (!segmentAt(name, 0, g.first, counter)) return false;
  const end = n - g.last.length;
  if (!segmentAt(name, end, g.last, counter)) return false;
  let pos = g.first.length;
  for (const segment of g.middle) {
    let found = -1;
    for (let at = pos; at + segment.length <= end; at++) {
      if (segmentAt(name, at, segment, counter)) {
        found = at;
        break;
      }
    }
    if (found < 0) return false;
    pos = found + segment.length;
  }
  return true;
}

const cache = new Map<string, CompiledGlob>();
const CACHE_LIMIT = 10_000;

function compiledFor(glob: string): CompiledGlob {
  let g = cache.get(glob);
  if (g === undefined) {
    g = compileGlob(glob);
    // A bound, so a stream of distinct globs cannot grow the cache without end.
    if (cache.size >= CACHE_LIMIT) cache.clear();
    cache.set(glob, g);
  }
  return g;
}

export function globMatches(glob: string, name: string, counter?: StepCounter): boolean {
  return matchCompiled(compiledFor(glob), codePoints(name), counter);
}

/** Several globs as one test: does any of them match? (Same shape as RegExp#test, so selectors hold either.) */
export class GlobSet {
  readonly globs: readonly CompiledGlob[];

  constructor(globs: readonly string[]) {
    this.globs = globs.map(compiledFor);
  }

  test(name: string, counter?: StepCounter): boolean {
    const chars = codePoints(name);
    for (const g of this.globs) if (matchCompiled(g, chars, counter)) return true;
    return false;
  }
}
