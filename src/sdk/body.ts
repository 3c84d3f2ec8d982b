// Upload bodies: what callers may pass, how it goes on the wire (streams stay streams), and which
// dataset format it is. No Node-only APIs here, so the core client also runs in browsers.

export type DatasetFormat = 'csv' | 'json' | 'ndjson';

export const DATASET_FORMATS: readonly DatasetFormat[] = ['csv', 'json', 'ndjson'];

export const CONTENT_TYPES: Readonly<Record<DatasetFormat, string>> = {
  csv: 'text/csv',
  json: 'application/json',
  ndjson: 'application/x-ndjson',
};

/** A Node readable (`fs.createReadStream`, `process.stdin`): async-iterable over Buffers or strings. */
export interface NodeReadableLike {
  [Symbol.asyncIterator](): AsyncIterator<string | Uint8Array>;
}

export type UploadBody =
  | string
  | Uint8Array
  | Blob
  | ReadableStream<Uint8Array>
  | NodeJS.ReadableStream
  | NodeReadableLike
  | AsyncIterable<Uint8Array>;

/**
 * The format to send when the caller named none: a File's name, else the first character of an
 * in-memory body; streams and nameless Blobs are taken as CSV.
 */
export function defaultFormat(body: UploadBody): DatasetFormat {
  if (typeof body === 'string' || body instanceof Uint8Array) return sniffFormat(body);
  const name = (body as { name?: unknown }).name;
  if (isBlob(body) && typeof name === 'string') return formatFromFileName(name) ?? 'csv';
  return 'csv';
}

/** The format a file name implies (`.csv`, `.json`, `.ndjson`/`.jsonl`), or undefined. */
export function formatFromFileName(fileName: string): DatasetFormat | undefined {
  const lower = fileName.toLowerCase();
  if (lower.endsWith('.csv')) return 'csv';
  if (lower.endsWith('.ndjson') || lower.endsWith('.jsonl')) return 'ndjson';
  if (lower.endsWith('.json')) return 'json';
  return undefined;
}

/**
 * The format of an in-memory body from its first character: `[` is a JSON array, `{` a JSON Lines file,
 * anything else CSV. Streams are not sniffed (that would mean buffering); they default to CSV.
 */
export function sniffFormat(body: string | Uint8Array): DatasetFormat {
  let first = '';
  if (typeof body === 'string') {
    first = body.trimStart().charAt(0); // trimStart also drops a byte-order mark
  } else {
    let i = 0;
    if (body[0] === 0xef && body[1] === 0xbb && body[2] === 0xbf) i = 3; // UTF-8 byte-order mark
    while (i < body.length && (body[i] === 0x20 || body[i] === 0x09 || body[i] === 0x0a || body[i] === 0x0d))
      i++;
    first = i < body.length ? String.fromCharCode(body[i]) : '';
  }
  if (first === '[') return 'json';
  if (first === '{') return 'ndjson';
  return 'csv';
}

const isWebStream = (b: unknown): b is ReadableStream<Uint8Array> =>
  typeof b === 'object' && b !== null && typeof (b as ReadableStream).getReader === 'function';

const isAsyncIterable = (b: unknown): b is AsyncIterable<string | Uint8Array> =>
  typeof b === 'object' &&
  b !== null &&
  typeof (b as AsyncIterable<unknown>)[Symbol.asyncIterator] === 'function';

/** Turns any async iterable of chunks into a web stream that pulls one chunk at a time (backpressure). */
function iterableToStream(source: AsyncIterable<string | Uint8Array>): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  let iterator: AsyncIterator<string | Uint8Array> | undefined;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      iterator ??= source[Symbol.asyncIterator]();
      const { value, done } = await iterator.next();
      if (done) {
        controller.close();
        return;
      }
      controller.enqueue(typeof value === 'string' ? encoder.encode(value) : value);
    },
    async cancel(reason) {
      await iterator?.return?.(reason);
    },
  });
}

export interface WireBody {
  body: string | Uint8Array | Blob | ReadableStream<Uint8Array>;
  /** Stream bodies need `duplex: 'half'` with fetch. */
  streaming: boolean;
}

const isBlob = (b: unknown): b is Blob => typeof Blob !== 'undefined' && b instanceof Blob;

export function toWireBody(body: UploadBody): WireBody {
  if (typeof body === 'string' || body instanceof Uint8Array) return { body, streaming: false };
  // A Blob (a browser File) has a known size; fetch reads it without buffering it again.
  if (isBlob(body)) return { body, streaming: false };
  if (isWebStream(body)) return { body, streaming: true };
  if (isAsyncIterable(body)) return { body: iterableToStream(body), streaming: true };
  throw new TypeError(
    'upload body must be a string, a Uint8Array, a ReadableStream, a Node stream or an async iterable',
  );
}
