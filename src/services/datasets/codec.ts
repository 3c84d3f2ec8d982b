// How a dataset version is stored (before encryption): JSON Lines, optionally gzip-compressed.
//   line 1     {"format":"tenantml.rows/1","columns":["a","b",…]}
//   row lines  ["x",1,true,null]            one JSON array per row, aligned with the columns
//   growth     {"columns":["a","b","c",…]}  the full list again, when a JSON upload met a new key
// A row shorter than the column list is missing its trailing cells; missing cells are stored as null.
// Encoding and decoding both stream, so neither ever holds a dataset whole.
import { pipeline, Readable } from 'node:stream';
import { createGunzip, createGzip } from 'node:zlib';
import type { RawCell } from '../../core/cells.ts';

export const ROWS_FORMAT = 'tenantml.rows/1';

export interface EncodeOptions {
  /** Compress with gzip; off by default (see docs/datasets.md for the cost measured). */
  gzip?: boolean;
  /** zlib level when gzip is on; 1 when absent. */
  gzipLevel?: number;
}

type Batches = AsyncIterable<readonly (readonly RawCell[])[]>;

/**
 * Encodes row batches as stored bytes (uncompressed). `columns` is read when the first batch arrives
 * and again before every batch, so a column list that grows while parsing is recorded where it grew.
 */
export async function* encodeRows(batches: Batches, columns: readonly string[]): AsyncGenerator<Buffer> {
  let written = -1;
  // Each row's JSON is written straight into one scratch buffer, copied out once per batch: measured
  // about 30% faster than concatenating the lines into a string and encoding that.
  let scratch = Buffer.allocUnsafe(1 << 20);
  let off = 0;
  const put = (s: string): void => {
    if (off + s.length * 3 + 1 > scratch.length) {
      const bigger = Buffer.allocUnsafe(Math.max(scratch.length * 2, off + s.length * 3 + 1));
      scratch.copy(bigger, 0, 0, off);
      scratch = bigger;
    }
    off += scratch.write(s, off, 'utf8');
    scratch[off++] = 0x0a;
  };
  for await (const batch of batches) {
    off = 0;
    if (written < 0) {
      put(JSON.stringify({ format: ROWS_FORMAT, columns }));
      written = columns.length;
    } else if (columns.length > written) {
      put(JSON.stringify({ columns }));
      written = columns.length;
    }
    for (const row of batch) put(JSON.stringify(row));
    yield Buffer.from(scratch.subarray(0, off));
  }
  if (written < 0) {
    off = 0;
    put(JSON.stringify({ format: ROWS_FORMAT, columns }));
    yield Buffer.from(scratch.subarray(0, off));
  }
}

/** encodeRows as a Readable (with gzip when asked): pulls batches only as fast as it is read. */
export function encodeStream(
  batches: Batches,
  columns: readonly string[],
  opts: EncodeOptions = {},
): Readable {
  const plain = Readable.from(encodeRows(batches, columns), { objectMode: false });
  if (!opts.gzip) return plain;
  const gz = createGzip({ level: opts.gzipLevel ?? 1 });
  return pipeline(plain, gz, () => {
    // pipeline destroys gz with the error; its reader sees it.
  });
}

export interface DecodeOptions {
  /** The final column list (from the stored schema); rows are padded to it from the first batch. */
  columns?: readonly string[];
  /** Rows per batch handed out; 1,000 when absent. */
  batchRows?: number;
}

export interface DecodedRows {
  /**
   * The columns. When the stored data recorded a column list that grew (a JSON upload) and no final
   * list was passed in `DecodeOptions.columns`, this array grows in place while the rows are read.
   */
  columns: string[];
  /** Batches of rows, each padded with null to the column count known when it is handed out. */
  rows: AsyncIterable<RawCell[][]>;
}

const GZIP_MAGIC_0 = 0x1f;
const GZIP_MAGIC_1 = 0x8b;

function corrupt(why: string): Error {
  return new Error(`stored dataset is not valid ${ROWS_FORMAT}: ${why}`);
}

async function* bytesOf(body: AsyncIterable<Uint8Array | string>): AsyncGenerator<Buffer> {
  for await (const c of body)
    yield typeof c === 'string' ? Buffer.from(c) : Buffer.isBuffer(c) ? c : Buffer.from(c);
}

/** Undoes gzip when the bytes start with its magic number, so either stored form decodes. */
async function* plainBytes(body: AsyncIterable<Uint8Array | string>): AsyncGenerator<Buffer> {
  const it = bytesOf(body)[Symbol.asyncIterator]();
  let first = await it.next();
  while (!first.done && first.value.length === 0) first = await it.next();
  if (first.done) return;
  const head = first.value;
  const rest = async function* () {
    yield head;
    for (let r = await it.next(); !r.done; r = await it.next()) yield r.value;
  };
  if (head[0] !== GZIP_MAGIC_0 || head[1] !== GZIP_MAGIC_1) {
    yield* rest();
    return;
  }
  const gunzip = createGunzip();
  pipeline(Readable.from(rest()), gunzip, () => {});
  for await (const c of gunzip) yield c as Buffer;
}

async function* linesOf(body: AsyncIterable<Uint8Array | string>): AsyncGenerator<string> {
  const decoder = new TextDecoder('utf-8');
  let carry = '';
  for await (const chunk of plainBytes(body)) {
    const s = carry + decoder.decode(chunk, { stream: true });
    let start = 0;
    for (let nl = s.indexOf('\n'); nl >= 0; nl = s.indexOf('\n', start)) {
      if (nl > start) yield s.slice(start, nl);
      start = nl + 1;
    }
    carry = s.slice(start);
  }
  carry += decoder.decode();
  if (carry.length > 0) yield carry;
}

/** Reads stored bytes back: the header first (awaited), then the rows as they stream. */
export async function decodeRows(
  bytes: AsyncIterable<Uint8Array | string>,
  opts: DecodeOptions = {},
): Promise<DecodedRows> {
  const lines = linesOf(bytes)[Symbol.asyncIterator]();
  const first = await lines.next();
  if (first.done) throw corrupt('it is empty');
  let header: { format?: unknown; columns?: unknown };
  try {
    header = JSON.parse(first.value);
  } catch {
    throw corrupt('the header line is not JSON');
  }
  if (header.format !== ROWS_FORMAT) throw corrupt(`unknown format ${JSON.stringify(header.format)}`);
  if (!Array.isArray(header.columns)) throw corrupt('the header has no columns');
  const recorded = header.columns as string[];
  const fixed = opts.columns ? [...opts.columns] : null;
  if (fixed && !isPrefix(recorded, fixed)) throw corrupt('the stored columns do not match the schema');
  const columns = fixed ?? [...recorded];
  const batchRows = opts.batchRows ?? 1000;

  // The engine's JSON errors quote the text they failed on: tenant data. Ours give the line only.
  let lineNo = 1;
  const parseLine = (line: string): unknown => {
    try {
      return JSON.parse(line);
    } catch {
      throw corrupt(`line ${lineNo} is not valid JSON`);
    }
  };

  async function* rows(): AsyncGenerator<RawCell[][]> {
    let batch: RawCell[][] = [];
    for (let r = await lines.next(); !r.done; r = await lines.next()) {
      lineNo++;
      const line = r.value;
      if (line.charCodeAt(0) === 0x7b) {
        const grown = (parseLine(line) as { columns?: unknown }).columns;
        if (
          !Array.isArray(grown) ||
          !isPrefix(columns.slice(0, Math.min(columns.length, grown.length)), grown)
        )
          throw corrupt('a column update does not extend the columns');
        if (fixed) {
          if (!isPrefix(grown, fixed)) throw corrupt('the stored columns do not match the schema');
        } else if (grown.length > columns.length) {
          if (batch.length > 0) {
            yield batch;
            batch = [];
          }
          for (let j = columns.length; j < grown.length; j++) columns.push(grown[j] as string);
        }
        continue;
      }
      const row = parseLine(line) as RawCell[];
      if (!Array.isArray(row) || row.length > columns.length) throw corrupt('a row does not fit the columns');
      while (row.length < columns.length) row.push(null);
      batch.push(row);
      if (batch.length >= batchRows) {
        yield batch;
        batch = [];
      }
    }
    if (batch.length > 0) yield batch;
  }

  return { columns, rows: rows() };
}

function isPrefix(a: readonly unknown[], b: readonly unknown[]): boolean {
  if (a.length > b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Reads a stored dataset whole, as one object per row keyed by column (missing cells are null).
 * For training and small datasets; large ones should iterate `decodeRows` instead.
 */
export async function readAllRows(
  bytes: AsyncIterable<Uint8Array | string>,
  opts: DecodeOptions = {},
): Promise<Record<string, RawCell>[]> {
  const { columns, rows } = await decodeRows(bytes, opts);
  const all: RawCell[][] = [];
  for await (const batch of rows) for (const row of batch) all.push(row);
  return all.map((row) => {
    const o: Record<string, RawCell> = {};
    for (let j = 0; j < columns.length; j++) o[columns[j]] = j < row.length ? row[j] : null;
    return o;
  });
}
