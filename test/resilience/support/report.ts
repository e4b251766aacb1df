/**
 * Plain-text tables for the resilience scenarios: what a scenario measured goes to stdout in a form a
 * person reads in a CI log (and pastes into a report), not only into pass/fail.
 */

/**
 * Prints `rows` as an aligned table under `title` and returns the text. Columns are the union of the
 * rows' keys in first-seen order; numbers are right-aligned, text left-aligned; a missing cell is
 * blank.
 * @example printTable('registrations', [{ instance: 'a', sent: 10, lost: 0 }]);
 */
export function printTable(title: string, rows: Array<Record<string, string | number>>): string {
  const columns: string[] = [];
  for (const row of rows) for (const key of Object.keys(row)) if (!columns.includes(key)) columns.push(key);
  const cell = (row: Record<string, string | number>, column: string) =>
    row[column] === undefined ? '' : String(row[column]);
  const widths = columns.map((column) => Math.max(column.length, ...rows.map((row) => cell(row, column).length)));
  const line = (cells: string[], numeric: boolean[]) =>
    cells
      .map((text, i) => (numeric[i] ? text.padStart(widths[i]!) : text.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  const header = line(
    columns,
    columns.map(() => false),
  );
  const body = rows.map((row) =>
    line(
      columns.map((column) => cell(row, column)),
      columns.map((column) => typeof row[column] === 'number'),
    ),
  );
  const rule = widths.map((w) => '-'.repeat(w)).join('  ');
  const text = [`== ${title}`, header, rule, ...(rows.length ? body : ['(no rows)'])].join('\n') + '\n';
  process.stdout.write(`\n${text}`);
  return text;
}
