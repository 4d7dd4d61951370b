/** How an AWS answer's value that did not parse is named in a problem: short, typed, never the whole value. */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'missing';
  if (value === null) return 'null';
  if (typeof value === 'string')
    return value.length > 40 ? `"${value.slice(0, 40)}..." (${value.length} characters)` : JSON.stringify(value);
  return typeof value === 'object' ? typeof value : String(value);
}
