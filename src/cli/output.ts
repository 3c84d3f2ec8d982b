// How the CLI shows results and errors: readable tables by default, JSON with --json, and errors as
// `error <code>: <detail>` with one line per field error.
import { isTenantmlError } from '../sdk/errors.ts';

export interface CliIo {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
  /** Read by `datasets upload <name> -`. */
  readonly stdin?: NodeJS.ReadableStream;
  stdout(text: string): void;
  stderr(text: string): void;
  /** Standard output is a terminal: progress redraws one line in place. */
  readonly isTTY?: boolean;
  /** The terminal's width, when it is one. */
  readonly columns?: number;
}

/** A usage problem found by a command itself (bad argument value, missing confirmation); exit 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** Ends a command with this exit code after it printed its own report (e.g. a broken audit chain). */
export class ExitCode extends Error {
  readonly code: number;
  constructor(code: number) {
    super(`exit ${code}`);
    this.code = code;
  }
}

const ISO = /^(\d{4}-\d\d-\d\d)T(\d\d:\d\d:\d\d)(\.\d+)?Z$/;

/** One table cell: nothing is `-`, timestamps lose their milliseconds, objects are compact JSON. */
export function cell(value: unknown): string {
  if (value === null || value === undefined || value === '') return '-';
  if (typeof value === 'string') {
    const m = ISO.exec(value);
    const s = m ? `${m[1]} ${m[2]}Z` : value;
    // A value must not break the table's lines.
    return s.replace(/[\r\n\t]+/g, ' ');
  }
  if (typeof value === 'boolean') return value ? 'yes' : 'no';
  if (typeof value === 'number' || typeof value === 'bigint') return String(value);
  return JSON.stringify(value);
}

/** Columns padded to their widest cell; the last column is not padded. */
export function table(headers: readonly string[], rows: readonly (readonly unknown[])[]): string {
  const cells = rows.map((r) => r.map(cell));
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((r) => (r[i] ?? '').length)));
  const line = (r: readonly string[]) =>
    r
      .map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  return [line(headers), ...cells.map(line)].join('\n') + '\n';
}

/** `label:  value` lines, the values aligned. */
export function record(pairs: readonly (readonly [string, unknown])[]): string {
  const width = Math.max(0, ...pairs.map(([k]) => k.length)) + 1;
  return pairs.map(([k, v]) => `${`${k}:`.padEnd(width)}  ${cell(v)}`).join('\n') + '\n';
}

/** Prints `value` as JSON with --json, else the human rendering. */
export function emit(io: CliIo, json: boolean, value: unknown, human: () => string): void {
  io.stdout(json ? `${JSON.stringify(value, null, 2)}\n` : human());
}

/** The lines that describe an error to a person, and the exit code it maps to. */
export function describeError(err: unknown): { lines: string[]; exitCode: number } {
  if (isTenantmlError(err)) {
    const lines = [`error ${err.code}: ${err.detail}`];
    for (const e of err.errors) {
      const where = [
        e.line !== undefined ? `line ${e.line}` : '',
        e.index !== undefined ? `index ${e.index}` : '',
      ]
        .filter(Boolean)
        .join(', ');
      lines.push(`  ${e.field || '(body)'}${where ? ` (${where})` : ''}: ${e.message}`);
    }
    if (err.requestId) lines.push(`  request id: ${err.requestId}`);
    return { lines, exitCode: 1 };
  }
  if (err instanceof UsageError) return { lines: [`error usage: ${err.message}`], exitCode: 2 };
  const message = err instanceof Error ? err.message : String(err);
  return { lines: [`error internal: ${message}`], exitCode: 1 };
}
