// Plain-text tables for terminal output (`baton status`, the benchmark summary).

/** Left-aligned columns, each as wide as its widest cell, separated by `gap`. */
export function table(rows: string[][], gap = '  '): string {
  const widths = rows[0].map((_, col) => Math.max(...rows.map((r) => r[col].length)));
  return rows
    .map((r) =>
      r
        .map((cell, col) => cell.padEnd(widths[col]))
        .join(gap)
        .trimEnd(),
    )
    .join('\n');
}
