// Streaming parsers for dataset uploads: CSV (csv-parse), a JSON array of objects and JSON Lines.
// They read the body chunk by chunk with backpressure, hash it and check it is UTF-8 as it passes, and
// hand out rows in batches, so an upload is never held in memory whole. Every failure is an AppError that
// names the column and line; messages carry column names and positions, never cell values.
import { isAscii } from 'node:buffer';
import { createHash } from 'node:crypto';
import { pipeline, Readable } from 'node:stream';
import { CsvError, parse as csvParse } from 'csv-parse';
import type { RawCell } from '../../core/cells.ts';
import { AppError, type FieldError } from '../../core/errors.ts';

export type DatasetFormat = 'csv' | 'json' | 'ndjson';
export const DATASET_FORMATS: readonly DatasetFormat[] = ['csv', 'json', 'ndjson'];

export interface ParseLimits {
  /** Data rows allowed (the tenant's rowsPerDataset). */
  maxRows: number;
  /** Columns allowed (the tenant's columnsPerDataset). */
  maxColumns: number;
  /** Longest cell in UTF-8 bytes; 1 MiB when absent. */
  maxCellBytes?: number;
  /** Rows per batch handed out; 1,000 when absent. */
  batchRows?: number;
}

export interface ParseSummary {
  columns: string[];
  rows: number;
  /** Bytes of the body as received. */
  bytes: number;
  /** sha256 of the body as received, hex. */
  sha256: string;
}

/**
 * A dataset being parsed: iterate it for batches of rows. Each row is aligned with `columns`; JSON
 * uploads may add a column when a later object has a new key, so rows handed out earlier can be shorter
 * than the final column list (their missing trailing cells are `undefined`). `columns` is filled before
 * the first batch is handed out and is final once iteration ends; `summary()` is available then.
 * When parsing fails or the reader stops early, the body stream is left as it is, not destroyed: the
 * caller decides whether to drain it (so that an error response can still be sent) or destroy it.
 */
export interface ParsedDataset extends AsyncIterable<RawCell[][]> {
  readonly format: DatasetFormat;
  readonly columns: readonly string[];
  summary(): ParseSummary;
}

const DEFAULT_MAX_CELL_BYTES = 1024 * 1024;
const DEFAULT_BATCH_ROWS = 1000;
/** Errors of one kind collected before giving up (ragged rows, nested cells, long cells). */
export const MAX_REPORTED_ERRORS = 10;
/** A single record (CSV line, JSON object) larger than this is refused; it bounds memory per row. */
const MAX_RECORD_BYTES = 16 * 1024 * 1024;

export function parseDataset(
  body: Readable | AsyncIterable<Uint8Array | string>,
  format: DatasetFormat,
  limits: ParseLimits,
): ParsedDataset {
  const state = new ParseState(format, limits);
  const source = bodyChunks(body, state);
  const gen = format === 'csv' ? parseCsv(source, state) : parseJson(source, state, format === 'ndjson');
  return {
    format,
    columns: state.columns,
    [Symbol.asyncIterator]: () => gen,
    summary: () => state.summary(),
  };
}

/** Parses a whole body into memory: for tests and small uploads only. */
export async function parseAll(
  body: Readable | AsyncIterable<Uint8Array | string> | string,
  format: DatasetFormat,
  limits: ParseLimits,
): Promise<ParseSummary & { rows: number; data: RawCell[][] }> {
  const src = typeof body === 'string' ? Readable.from([Buffer.from(body)]) : body;
  const parsed = parseDataset(src, format, limits);
  const data: RawCell[][] = [];
  for await (const batch of parsed) for (const row of batch) data.push(row);
  return { ...parsed.summary(), data };
}

class ParseState {
  readonly columns: string[] = [];
  readonly maxCellBytes: number;
  readonly batchRows: number;
  rows = 0;
  bytes = 0;
  sha256 = '';
  sawContent = false;
  done = false;
  readonly errors: FieldError[] = [];

  constructor(
    readonly format: DatasetFormat,
    readonly limits: ParseLimits,
  ) {
    this.maxCellBytes = limits.maxCellBytes ?? DEFAULT_MAX_CELL_BYTES;
    this.batchRows = limits.batchRows ?? DEFAULT_BATCH_ROWS;
  }

  summary(): ParseSummary {
    if (!this.done) throw new Error('summary() is only available once the dataset has been read to its end');
    return { columns: [...this.columns], rows: this.rows, bytes: this.bytes, sha256: this.sha256 };
  }

  /** Records a row-level error; throws once enough are collected to tell the uploader what to fix. */
  fail(e: FieldError): void {
    this.errors.push(e);
    if (this.errors.length >= MAX_REPORTED_ERRORS) this.throwCollected();
  }

  throwCollected(): never {
    const n = this.errors.length;
    const first = this.errors[0];
    const where = first.line !== undefined ? `Line ${first.line}: ` : '';
    const more = n > 1 ? ` (and ${n - 1} more error${n > 2 ? 's' : ''})` : '';
    const msg = where ? first.message : first.message.charAt(0).toUpperCase() + first.message.slice(1);
    throw new AppError('dataset_parse_error', `${where}${msg}${more}`, { errors: [...this.errors] });
  }

  countRow(): void {
    this.rows++;
    if (this.rows > this.limits.maxRows) {
      throw new AppError('quota_exceeded', `The dataset has more than ${this.limits.maxRows} rows`, {
        errors: [{ field: 'body', message: `more than ${this.limits.maxRows} rows` }],
        extra: { quota: 'rowsPerDataset', limit: this.limits.maxRows, used: this.rows },
      });
    }
  }

  checkColumnCount(n: number): void {
    if (n > this.limits.maxColumns) {
      throw new AppError(
        'quota_exceeded',
        `The dataset has ${n} columns; at most ${this.limits.maxColumns} are allowed`,
        {
          errors: [{ field: 'columns', message: `${n} columns, limit ${this.limits.maxColumns}` }],
          extra: { quota: 'columnsPerDataset', limit: this.limits.maxColumns, used: n },
        },
      );
    }
  }

  /** True when the string cell is longer than allowed (checks bytes only when it could matter). */
  cellTooLong(s: string): boolean {
    if (s.length * 3 <= this.maxCellBytes) return false;
    return s.length > this.maxCellBytes || Buffer.byteLength(s, 'utf8') > this.maxCellBytes;
  }
}

const parseError = (message: string, errors: FieldError[]): AppError =>
  new AppError('dataset_parse_error', message, { errors });

const emptyBody = (): AppError =>
  new AppError('empty_body', 'The dataset body is empty', {
    errors: [{ field: 'body', message: 'no data' }],
  });

/**
 * The body's bytes, hashed and counted as they pass, checked to be UTF-8 (a fatal decoder in streaming
 * mode, so a character split across chunks is fine). Yields the raw chunk and its decoded text.
 */
async function* bodyChunks(
  body: Readable | AsyncIterable<Uint8Array | string>,
  state: ParseState,
): AsyncGenerator<{ raw: Buffer; text: string }> {
  const hash = createHash('sha256');
  // ignoreBOM false: a leading byte-order mark is accepted and dropped.
  const decoder = new TextDecoder('utf-8', { fatal: true });
  // The previous chunk's last bytes: a character split across chunks began there, so an error found
  // by the decoder is located by scanning them together with the new chunk.
  let last = Buffer.alloc(0);
  const invalidAt = (at: number): AppError =>
    new AppError('invalid_encoding', `The body is not valid UTF-8: byte ${at} (counting from 0)`, {
      errors: [{ field: 'body', message: `invalid UTF-8 at byte ${at}` }],
    });
  const decode = (raw: Buffer | undefined): string => {
    try {
      const text = raw ? decoder.decode(raw, { stream: true }) : decoder.decode();
      if (raw) last = Buffer.from(raw.subarray(Math.max(0, raw.length - 3)));
      return text;
    } catch {
      if (!raw) {
        // The body ends inside a character: it starts at the last lead byte.
        let lead = last.length - 1;
        while (lead > 0 && (last[lead] & 0xc0) === 0x80) lead--;
        throw invalidAt(state.bytes - last.length + Math.max(0, lead));
      }
      const both = Buffer.concat([last, raw]);
      let k = 0;
      while (k < last.length && (both[k] & 0xc0) === 0x80) k++; // tail of a character begun earlier
      throw invalidAt(state.bytes - last.length + k + firstInvalidUtf8(both.subarray(k)));
    }
  };
  // The body belongs to the caller: stopping early (a parse error) must not destroy it, because an HTTP
  // request destroyed mid-upload takes its socket down and the error response with it.
  const chunks: AsyncIterable<Uint8Array | string> =
    body instanceof Readable ? body.iterator({ destroyOnReturn: false }) : body;
  // CSV hands csv-parse the bytes, so its text is only needed for validation: a chunk of pure ASCII
  // (checked natively, without allocating) is valid UTF-8 as it stands, as long as the decoder holds
  // no unfinished character from the chunk before.
  const bytesOnly = state.format === 'csv';
  let clean = true;
  for await (const chunk of chunks) {
    const raw =
      typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk);
    if (raw.length === 0) continue;
    let text = '';
    if (bytesOnly && clean && isAscii(raw)) {
      last = Buffer.from(raw.subarray(Math.max(0, raw.length - 3)));
      if (!state.sawContent) text = raw.toString('latin1');
    } else {
      text = decode(raw);
      clean = raw[raw.length - 1] < 0x80;
    }
    if (!state.sawContent && /\S/.test(text)) state.sawContent = true;
    hash.update(raw);
    state.bytes += raw.length;
    yield { raw, text };
  }
  const rest = decode(undefined);
  if (rest.length > 0) yield { raw: Buffer.alloc(0), text: rest };
  state.sha256 = hash.digest('hex');
}

/**
 * Offset of the first byte that breaks UTF-8 in `buf` (only called once the decoder has failed, to
 * tell the uploader where). A sequence cut off by the end of the buffer counts as broken at its start.
 */
export function firstInvalidUtf8(buf: Uint8Array): number {
  let i = 0;
  while (i < buf.length) {
    const b = buf[i];
    let need: number;
    let min: number;
    if (b < 0x80) {
      i++;
      continue;
    } else if (b >= 0xc2 && b <= 0xdf) {
      need = 1;
      min = 0x80;
    } else if (b >= 0xe0 && b <= 0xef) {
      need = 2;
      min = 0x800;
    } else if (b >= 0xf0 && b <= 0xf4) {
      need = 3;
      min = 0x10000;
    } else return i;
    let cp = b & (0x3f >> need);
    for (let k = 1; k <= need; k++) {
      const c = buf[i + k];
      if (c === undefined || (c & 0xc0) !== 0x80) return i;
      cp = (cp << 6) | (c & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return i;
    i += need + 1;
  }
  return buf.length;
}

// ---------------------------------------------------------------------------------------------------
// CSV

function checkHeader(names: string[], state: ParseState): string[] {
  state.checkColumnCount(names.length);
  const cols = names.map((n) => n.trim());
  const errors: FieldError[] = [];
  const seen = new Map<string, number>();
  cols.forEach((name, i) => {
    if (name === '') {
      errors.push({
        field: `columns[${i}]`,
        message: `column ${i + 1} has an empty name`,
        line: 1,
        index: i,
      });
      return;
    }
    const first = seen.get(name);
    if (first === undefined) seen.set(name, i);
    else
      errors.push({
        field: name,
        message: `duplicate column name "${name}" (columns ${first + 1} and ${i + 1})`,
        line: 1,
        index: i,
      });
  });
  if (errors.length > 0) {
    throw parseError(
      errors.length === 1
        ? `The header is not valid: ${errors[0].message}`
        : `The header has ${errors.length} problems`,
      errors.slice(0, MAX_REPORTED_ERRORS),
    );
  }
  return cols;
}

function csvErrorToField(err: CsvError): FieldError {
  const line = (err as CsvError & { lines?: number }).lines;
  switch (err.code) {
    case 'CSV_QUOTE_NOT_CLOSED':
      return {
        field: 'body',
        message: 'the body ends inside a quoted field: a quote opened on or before this line is never closed',
        line,
      };
    case 'CSV_INVALID_CLOSING_QUOTE':
      return { field: 'body', message: 'a closing quote is followed by other characters', line };
    case 'INVALID_OPENING_QUOTE':
      return { field: 'body', message: 'a quote appears inside an unquoted field', line };
    case 'CSV_MAX_RECORD_SIZE':
      return {
        field: 'body',
        message: `a record is larger than ${MAX_RECORD_BYTES} bytes (an unclosed quote?)`,
        line,
      };
    default:
      return { field: 'body', message: `the CSV could not be parsed (${err.code})`, line };
  }
}

async function* parseCsv(
  source: AsyncGenerator<{ raw: Buffer; text: string }>,
  state: ParseState,
): AsyncGenerator<RawCell[][]> {
  const parser = csvParse({
    bom: true,
    relax_column_count: false,
    skip_empty_lines: true,
    max_record_size: MAX_RECORD_BYTES,
    // Ragged rows are skipped and reported (the first few, with their lines); any other error stops.
    skip_records_with_error: true,
    on_skip: (err: CsvError | undefined): undefined => {
      if (!err) return undefined;
      if (err.code === 'CSV_RECORD_INCONSISTENT_FIELDS_LENGTH') {
        const rec = (err as CsvError & { record?: unknown[] }).record;
        const got = Array.isArray(rec) ? rec.length : undefined;
        const line = (err as CsvError & { lines?: number }).lines;
        // csv-parse knows the header's width before our loop has seen the header; its message says it.
        const expected = /expect (\d+)/.exec(err.message)?.[1];
        state.fail({
          field: 'body',
          message:
            got !== undefined && expected !== undefined
              ? `row has ${got} fields, the header has ${expected}`
              : 'row has a different number of fields than the header',
          line,
        });
        return undefined;
      }
      throw err;
    },
  });
  const raw = Readable.from(
    (async function* () {
      for await (const c of source) if (c.raw.length > 0) yield c.raw;
    })(),
  );
  pipeline(raw, parser, () => {
    // Errors surface through the iteration below.
  });

  let batch: RawCell[][] = [];
  let header = true;
  try {
    for await (const records of drain<string[]>(parser, state.batchRows)) {
      for (const record of records) {
        if (header) {
          if (!state.sawContent) throw emptyBody();
          const cols = checkHeader(record, state);
          state.columns.push(...cols);
          header = false;
          continue;
        }
        if (state.errors.length > 0) continue; // keep reading only to report more ragged rows
        state.countRow();
        for (let j = 0; j < record.length; j++) {
          if (state.cellTooLong(record[j])) {
            state.fail({
              field: state.columns[j],
              message: `cell in column "${state.columns[j]}", row ${state.rows}, is longer than ${state.maxCellBytes} bytes`,
              index: state.rows,
            });
          }
        }
        if (state.errors.length > 0) continue;
        batch.push(record);
        if (batch.length >= state.batchRows) {
          yield batch;
          batch = [];
        }
      }
    }
  } catch (e) {
    if (e instanceof CsvError) {
      state.errors.push(csvErrorToField(e));
      state.throwCollected();
    }
    throw e;
  }
  if (state.errors.length > 0) state.throwCollected();
  if (header || !state.sawContent) throw emptyBody();
  if (state.rows === 0)
    throw parseError('The dataset has a header but no rows', [
      { field: 'body', message: 'no rows after the header', line: 2 },
    ]);
  if (batch.length > 0) yield batch;
  state.done = true;
}

/**
 * Reads a stream's buffered objects in runs of up to `max`: one await per run rather than per record,
 * which a stream's own async iterator costs. Destroys the stream when the reader stops early.
 */
async function* drain<T>(stream: Readable, max: number): AsyncGenerator<T[]> {
  let wake: (() => void) | null = null;
  let ended = false;
  let failure: unknown = null;
  const poke = (): void => {
    const w = wake;
    wake = null;
    w?.();
  };
  const onEnd = (): void => {
    ended = true;
    poke();
  };
  const onError = (e: unknown): void => {
    failure = e;
    poke();
  };
  stream.on('readable', poke);
  stream.on('end', onEnd);
  stream.on('error', onError);
  try {
    for (;;) {
      const run: T[] = [];
      while (run.length < max) {
        const item = stream.read() as T | null;
        if (item === null) break;
        run.push(item);
      }
      if (run.length > 0) {
        yield run;
        continue;
      }
      if (failure) throw failure;
      if (ended) return;
      await new Promise<void>((resolve) => {
        wake = resolve;
      });
    }
  } finally {
    stream.off('readable', poke);
    stream.off('end', onEnd);
    stream.off('error', onError);
    if (!ended) stream.destroy();
  }
}

// ---------------------------------------------------------------------------------------------------
// JSON array and JSON Lines

/** Turns parsed JSON objects into rows aligned with a column list that grows with new keys. */
class ObjectRows {
  private readonly index = new Map<string, number>();

  constructor(private readonly state: ParseState) {}

  toRow(value: unknown, line: number): RawCell[] | undefined {
    const state = this.state;
    state.countRow();
    const rowNo = state.rows;
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      const what = value === null ? 'null' : Array.isArray(value) ? 'an array' : `a ${typeof value}`;
      throw parseError(`Row ${rowNo} is ${what}, not an object`, [
        {
          field: 'body',
          message: `row ${rowNo} is ${what}; every row must be an object`,
          line,
          index: rowNo,
        },
      ]);
    }
    const obj = value as Record<string, unknown>;
    const cols = state.columns;
    const row: RawCell[] = new Array<RawCell>(cols.length).fill(undefined);
    let ok = true;
    for (const key in obj) {
      let j = this.index.get(key);
      if (j === undefined) {
        if (key.trim() === '') {
          state.fail({
            field: `columns[${cols.length}]`,
            message: `row ${rowNo} has a key with an empty name`,
            line,
            index: rowNo,
          });
          ok = false;
          continue;
        }
        state.checkColumnCount(cols.length + 1);
        j = cols.length;
        cols.push(key);
        this.index.set(key, j);
      }
      const v = obj[key];
      if (v !== null && typeof v === 'object') {
        state.fail({
          field: key,
          message: `column "${key}", row ${rowNo}, holds ${Array.isArray(v) ? 'an array' : 'an object'}; cells must be strings, numbers, booleans or null`,
          line,
          index: rowNo,
        });
        ok = false;
        continue;
      }
      if (typeof v === 'string' && state.cellTooLong(v)) {
        state.fail({
          field: key,
          message: `cell in column "${key}", row ${rowNo}, is longer than ${state.maxCellBytes} bytes`,
          line,
          index: rowNo,
        });
        ok = false;
        continue;
      }
      row[j] = v as RawCell;
    }
    return ok && state.errors.length === 0 ? row : undefined;
  }
}

function parseJsonText(text: string, rowNo: number, line: number): unknown {
  try {
    return JSON.parse(text);
  } catch {
    // The engine's message quotes the offending text; ours names only the position.
    throw parseError(`Row ${rowNo} is not valid JSON (line ${line})`, [
      { field: 'body', message: `row ${rowNo} is not valid JSON`, line, index: rowNo },
    ]);
  }
}

const WS = (c: number): boolean => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;

async function* parseJson(
  source: AsyncGenerator<{ raw: Buffer; text: string }>,
  state: ParseState,
  lines: boolean,
): AsyncGenerator<RawCell[][]> {
  const objects = new ObjectRows(state);
  const splitter = lines ? new LineSplitter() : new ArraySplitter();
  let batch: RawCell[][] = [];
  for await (const { text } of source) {
    for (const el of splitter.push(text)) {
      const value = parseJsonText(el.text, state.rows + 1, el.line);
      const row = objects.toRow(value, el.line);
      if (row) batch.push(row);
      if (batch.length >= state.batchRows) {
        yield batch;
        batch = [];
      }
    }
  }
  if (!state.sawContent) throw emptyBody();
  for (const el of splitter.end()) {
    const value = parseJsonText(el.text, state.rows + 1, el.line);
    const row = objects.toRow(value, el.line);
    if (row) batch.push(row);
  }
  if (state.errors.length > 0) state.throwCollected();
  if (state.rows === 0)
    throw parseError('The dataset has no rows', [{ field: 'body', message: 'no rows', line: 1 }]);
  if (batch.length > 0) yield batch;
  state.done = true;
}

interface Element {
  text: string;
  /** Line where the element starts, from 1. */
  line: number;
}

/** Cuts JSON Lines into lines (blank lines skipped), remembering each line's number. */
class LineSplitter {
  private carry = '';
  private line = 1;

  push(text: string): Element[] {
    const out: Element[] = [];
    let start = 0;
    const s = this.carry.length > 0 ? this.carry + text : text;
    this.carry = '';
    for (let nl = s.indexOf('\n', start); nl >= 0; nl = s.indexOf('\n', start)) {
      this.take(s.slice(start, nl), out);
      start = nl + 1;
    }
    this.carry = s.slice(start);
    if (this.carry.length > MAX_RECORD_BYTES)
      throw parseError(`Line ${this.line} is longer than ${MAX_RECORD_BYTES} bytes`, [
        { field: 'body', message: `line longer than ${MAX_RECORD_BYTES} bytes`, line: this.line },
      ]);
    return out;
  }

  end(): Element[] {
    const out: Element[] = [];
    if (this.carry.length > 0) this.take(this.carry, out);
    this.carry = '';
    return out;
  }

  private take(raw: string, out: Element[]): void {
    const line = this.line++;
    const t = raw.trim();
    if (t.length > 0) out.push({ text: t, line });
  }
}

/**
 * Cuts a top-level JSON array into its elements without parsing them: it tracks strings, escapes and
 * bracket depth, and hands each complete element's text to JSON.parse. Only objects are accepted as
 * elements, so the scan only has to find where each object ends.
 */
class ArraySplitter {
  private phase: 'start' | 'before' | 'in' | 'after' | 'done' = 'start';
  private depth = 0;
  private inString = false;
  private escape = false;
  private pieces: string[] = [];
  private size = 0;
  private line = 1;
  private elementLine = 1;
  private count = 0;
  private afterComma = false;

  push(s: string): Element[] {
    const out: Element[] = [];
    let elStart = this.phase === 'in' ? 0 : -1;
    const n = s.length;
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(i);
      if (this.phase === 'in') {
        if (this.inString) {
          if (this.escape) this.escape = false;
          else if (c === 0x5c) this.escape = true;
          else if (c === 0x22) this.inString = false;
          else if (c === 0x0a) this.line++;
          continue;
        }
        if (c === 0x22) this.inString = true;
        else if (c === 0x7b || c === 0x5b) this.depth++;
        else if (c === 0x7d || c === 0x5d) {
          this.depth--;
          if (this.depth === 0) {
            this.pieces.push(s.slice(elStart, i + 1));
            out.push({ text: this.pieces.join(''), line: this.elementLine });
            this.pieces = [];
            this.size = 0;
            this.phase = 'after';
            elStart = -1;
          }
        } else if (c === 0x0a) this.line++;
        continue;
      }
      if (c === 0x0a) this.line++;
      if (WS(c)) continue;
      switch (this.phase) {
        case 'start':
          if (c !== 0x5b) this.notArray(c);
          this.phase = 'before';
          break;
        case 'before':
          if (c === 0x5d) {
            if (this.afterComma) this.syntax(`a "," after row ${this.count} is followed by "]"`);
            this.phase = 'done';
            break;
          }
          if (c !== 0x7b) this.notObject(c);
          this.phase = 'in';
          this.depth = 1;
          this.count++;
          this.elementLine = this.line;
          elStart = i;
          break;
        case 'after':
          if (c === 0x2c) {
            this.phase = 'before';
            this.afterComma = true;
          } else if (c === 0x5d) this.phase = 'done';
          else this.syntax(`expected "," or "]" after row ${this.count}`);
          break;
        case 'done':
          this.syntax('unexpected content after the closing "]"');
      }
    }
    if (this.phase === 'in' && elStart >= 0) {
      const piece = s.slice(elStart);
      this.pieces.push(piece);
      this.size += piece.length;
      if (this.size > MAX_RECORD_BYTES)
        throw parseError(`Row ${this.count} is larger than ${MAX_RECORD_BYTES} bytes`, [
          {
            field: 'body',
            message: `row larger than ${MAX_RECORD_BYTES} bytes`,
            line: this.elementLine,
            index: this.count,
          },
        ]);
    }
    return out;
  }

  end(): Element[] {
    if (this.phase === 'start') return [];
    if (this.phase !== 'done')
      this.syntax(
        this.phase === 'in' ? `row ${this.count} is cut off` : 'the array is never closed with "]"',
      );
    return [];
  }

  private notArray(c: number): never {
    const what = c === 0x7b ? 'an object (send JSON Lines as format ndjson)' : 'not an array';
    throw parseError(`The JSON body must be an array of objects; it is ${what}`, [
      { field: 'body', message: 'expected a JSON array of objects', line: this.line },
    ]);
  }

  private notObject(c: number): never {
    const row = this.count + 1;
    const what = c === 0x5b ? 'an array' : c === 0x22 ? 'a string' : c === 0x6e ? 'null' : 'a scalar';
    throw parseError(`Row ${row} is ${what}, not an object`, [
      {
        field: 'body',
        message: `row ${row} is ${what}; every row must be an object`,
        line: this.line,
        index: row,
      },
    ]);
  }

  private syntax(message: string): never {
    throw parseError(`The JSON body is not valid: ${message}`, [{ field: 'body', message, line: this.line }]);
  }
}
