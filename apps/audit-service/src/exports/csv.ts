/**
 * CSV for compliance exports (RFC 4180): comma-separated, CRLF line ends, every field quoted with
 * inner quotes doubled, so commas, quotes and line breaks in a value never shift columns.
 *
 * Spreadsheet formula injection (OWASP "CSV Injection"): a value starting with =, +, -, @, tab or
 * carriage return is run as a formula by spreadsheet programs, and audit records carry text written
 * by users (device names, reasons). Such values get a leading apostrophe, as OWASP recommends.
 */
const FORMULA_START = /^[=+\-@\t\r]/;

export function csvField(value: unknown): string {
  let text: string;
  if (value === null || value === undefined) text = '';
  else if (typeof value === 'object') text = isErasedValue(value) ? '[erased]' : JSON.stringify(value);
  else text = String(value);
  if (FORMULA_START.test(text)) text = `'${text}`;
  return `"${text.replaceAll('"', '""')}"`;
}

export function csvLine(values: readonly unknown[]): string {
  return `${values.map(csvField).join(',')}\r\n`;
}

function isErasedValue(value: object): boolean {
  return (value as { erased?: unknown }).erased === true && Object.keys(value).length === 1;
}

/** Flattens one level of nested objects into `parent.child` columns; deeper values stay JSON. */
export function flatten(row: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const flat: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(row)) {
    if (typeof value === 'object' && value !== null && !Array.isArray(value) && !isErasedValue(value)) {
      for (const [inner, innerValue] of Object.entries(value)) flat[`${key}.${inner}`] = innerValue;
    } else {
      flat[key] = value;
    }
  }
  return flat;
}

/** Rows of differing shapes as one CSV: the header is the union of their columns, in first-seen order. */
export function toCsv(rows: readonly Readonly<Record<string, unknown>>[]): string {
  const flat = rows.map(flatten);
  const columns: string[] = [];
  const seen = new Set<string>();
  for (const row of flat) {
    for (const key of Object.keys(row)) {
      if (seen.has(key)) continue;
      seen.add(key);
      columns.push(key);
    }
  }
  return csvLine(columns) + flat.map((row) => csvLine(columns.map((column) => row[column]))).join('');
}
