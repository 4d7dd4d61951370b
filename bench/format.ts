/** Plain-text tables and number formatting for the benchmark report. */

export function table(headers: readonly string[], rows: readonly (readonly (string | number)[])[]): string {
  const cells = [headers, ...rows.map((r) => r.map((c) => (typeof c === 'number' ? num(c) : c)))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => String(r[i] ?? '').length)));
  const line = (r: readonly (string | number)[], header: boolean) =>
    r
      .map((c, i) => {
        const s = String(c ?? '');
        // Text left-aligned, numbers (and the header above them) right-aligned.
        const numeric = !header && /^[-+]?[\d.,]+( ?[a-z%×x]+)?$/i.test(s);
        return i === 0 || (!numeric && !header) ? s.padEnd(widths[i] ?? 0) : s.padStart(widths[i] ?? 0);
      })
      .join('  ')
      .trimEnd();
  const out = [line(cells[0] ?? [], true), widths.map((w) => '-'.repeat(w)).join('  ')];
  for (const r of cells.slice(1)) out.push(line(r, false));
  return out.map((l) => `  ${l}`).join('\n');
}

export function num(n: number, digits?: number): string {
  if (!Number.isFinite(n)) return String(n);
  if (digits !== undefined) return n.toFixed(digits);
  if (Number.isInteger(n)) return n.toLocaleString('en-US');
  return Math.abs(n) >= 100 ? n.toFixed(0) : Math.abs(n) >= 10 ? n.toFixed(1) : n.toFixed(2);
}

export const seconds = (s: number) => (s >= 100 ? `${s.toFixed(0)} s` : `${s.toFixed(1)} s`);
export const ms = (v: number) => `${v.toFixed(v >= 100 ? 0 : 1)} ms`;
export const pct = (f: number) => `${(f * 100).toFixed(1)}%`;
export const ratio = (r: number) => `${r.toFixed(r >= 10 ? 1 : 2)}×`;
export const verdict = (ok: boolean) => (ok ? 'met' : 'MISSED');

export function heading(title: string): string {
  return `\n${title}\n${'='.repeat(title.length)}`;
}
