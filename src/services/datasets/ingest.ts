// The upload data path in one piece: body → parser → (schema inference + encoder) → a Readable of stored
// bytes. The caller pipes that stream into the tenant's encryption and the BlobStore; it is pulled, so
// the body is read only as fast as the blob is written, and memory stays bounded whatever the size.
import type { Readable } from 'node:stream';
import type { InferenceOptions } from '../../core/schema-inference.ts';
import { SchemaInferrer } from '../../core/schema-inference.ts';
import type { DatasetSchema } from '../../core/types.ts';
import { type EncodeOptions, encodeStream } from './codec.ts';
import { type DatasetFormat, type ParseLimits, type ParseSummary, parseDataset } from './parse.ts';

export interface IngestOutcome extends ParseSummary {
  schema: DatasetSchema;
}

export interface Ingest {
  /** The stored form of the dataset (codec.ts), not yet encrypted. */
  stream: Readable;
  /**
   * Settles when the stream has been read to its end: the row count, body hash and schema, or the
   * AppError that stopped the upload (it rejects before `stream` errors, so await both and report this
   * one: `const [outcome] = await Promise.all([result, blobs.put(path, stream.pipe(encrypt))])`).
   */
  result: Promise<IngestOutcome>;
}

export function ingestDataset(
  body: Readable | AsyncIterable<Uint8Array | string>,
  format: DatasetFormat,
  limits: ParseLimits,
  opts: EncodeOptions & { inference?: InferenceOptions } = {},
): Ingest {
  const parsed = parseDataset(body, format, limits);
  const inferrer = new SchemaInferrer([], opts.inference);
  let settle!: { resolve: (o: IngestOutcome) => void; reject: (e: unknown) => void };
  const result = new Promise<IngestOutcome>((resolve, reject) => {
    settle = { resolve, reject };
  });
  // The caller may only await the blob write; an unobserved rejection must not crash the process.
  result.catch(() => {});

  async function* observed() {
    try {
      for await (const batch of parsed) {
        inferrer.syncColumns(parsed.columns);
        inferrer.observe(batch);
        yield batch;
      }
      settle.resolve({ ...parsed.summary(), schema: inferrer.finish() });
    } catch (e) {
      settle.reject(e);
      throw e;
    } finally {
      // Reached early when the reader stopped (the blob write failed): the upload did not finish.
      settle.reject(new Error('the dataset stream was not read to its end'));
    }
  }

  return { stream: encodeStream(observed(), parsed.columns, opts), result };
}
