/**
 * Reading kubectl's default table output by column position: cells are left-aligned under their header, and an
 * empty cell is only blanks, so splitting on whitespace would shift the columns after it.
 */
export interface PrintedTable {
  readonly header: readonly string[];
  readonly rows: readonly Record<string, string>[];
}

export function parsePrintedTable(output: string): PrintedTable {
  const [headerLine = '', ...lines] = output.split('\n').filter((line) => line.trim() !== '');
  const starts = [...headerLine.matchAll(/\S+/g)].map((match) => ({ name: match[0], at: match.index }));
  const rows = lines.map((line) =>
    Object.fromEntries(
      starts.map((column, index) => [column.name, line.slice(column.at, starts[index + 1]?.at ?? line.length).trim()]),
    ),
  );
  return { header: starts.map((column) => column.name), rows };
}
