// How one raw cell is read as each column type. Schema inference at upload, frames at training and the
// featurizer at prediction all read cells through these functions, so a value means the same everywhere.
// A raw cell is what a parser produced: a string from CSV, or a JSON scalar from JSON / JSON Lines.

export type RawCell = string | number | boolean | null | undefined;

/** Empty strings, null, undefined and the usual spellings of "no value" count as missing. */
const MISSING = new Set(['', 'na', 'n/a', 'nan', 'null', 'none', '?']);

export function isMissing(v: RawCell): boolean {
  if (v === null || v === undefined) return true;
  if (typeof v === 'number') return Number.isNaN(v);
  if (typeof v === 'string') {
    // Most cells are longer than any missing marker: decide those without trimming or lower-casing.
    if (v.length > 4 && v.charCodeAt(0) > 32 && v.charCodeAt(v.length - 1) > 32) return false;
    return MISSING.has(v.trim().toLowerCase());
  }
  return false;
}

const NUMBER_RE = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/** A finite number, or undefined when the cell is not one (missing cells too). */
export function parseNumber(v: RawCell): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) ? v : undefined;
  if (typeof v === 'boolean' || v === null || v === undefined) return undefined;
  const s = v.trim();
  if (!NUMBER_RE.test(s)) return undefined;
  const n = Number(s);
  return Number.isFinite(n) ? n : undefined;
}

export function isInteger(n: number): boolean {
  return Number.isSafeInteger(n);
}

const TRUE = new Set(['true', 'yes', 't', 'y']);
const FALSE = new Set(['false', 'no', 'f', 'n']);

/** true/false, yes/no, t/f, y/n (any case) and JSON booleans; 0/1 only as JSON numbers or strings. */
export function parseBoolean(v: RawCell, allowBinaryNumbers = true): boolean | undefined {
  if (typeof v === 'boolean') return v;
  if (typeof v === 'number') return allowBinaryNumbers && (v === 0 || v === 1) ? v === 1 : undefined;
  if (typeof v !== 'string') return undefined;
  const s = v.trim().toLowerCase();
  if (TRUE.has(s)) return true;
  if (FALSE.has(s)) return false;
  if (allowBinaryNumbers && (s === '0' || s === '1')) return s === '1';
  return undefined;
}

// ISO-8601 dates and date-times (with optional time zone), and "YYYY-MM-DD HH:MM[:SS]".
const DATETIME_RE = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?)?$/;

/** Milliseconds since the epoch (UTC when no zone is given), or undefined. */
export function parseDatetime(v: RawCell): number | undefined {
  if (typeof v !== 'string') return undefined;
  const s = v.trim();
  if (!DATETIME_RE.test(s)) return undefined;
  let iso = s.replace(' ', 'T');
  if (iso.length === 10) iso += 'T00:00:00Z';
  else if (!/(Z|[+-]\d{2}:?\d{2})$/.test(iso)) iso += 'Z';
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return undefined;
  // Date.parse rolls 2024-02-30 over to March 1st; a day the month does not have is not a date.
  const [y, m, d] = [Number(s.slice(0, 4)), Number(s.slice(5, 7)), Number(s.slice(8, 10))];
  if (m < 1 || m > 12 || d < 1 || d > new Date(Date.UTC(y, m, 0)).getUTCDate()) return undefined;
  return t;
}

/** The cell as a string for categorical and text columns (numbers and booleans in their JSON spelling). */
export function cellText(v: RawCell): string | undefined {
  if (v === null || v === undefined) return undefined;
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : undefined;
  return v ? 'true' : 'false';
}
