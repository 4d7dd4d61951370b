/**
 * Ordinal (UTF-16 code unit) string order. Output that must read the same on every machine (status lists, tables,
 * event notes) sorts with this, never with `localeCompare`, whose order depends on the process's locale and ICU.
 */
export function compareOrdinal(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
