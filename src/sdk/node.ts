// Node-only helpers (file I/O), kept apart so that the core client stays usable in browsers.
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { DatasetVersionView } from '../api/schemas.ts';
import { type DatasetFormat, formatFromFileName } from './body.ts';
import type { TenantmlClient } from './client.ts';
import type { UploadOptions } from './resources/datasets.ts';

/**
 * Streams the file at `path` as a new version of dataset `name`. The format comes from `opts.format`,
 * else from the file name (`.csv`, `.json`, `.ndjson`/`.jsonl`); any other name is an error.
 */
export async function uploadFile(
  client: TenantmlClient,
  name: string,
  path: string,
  opts: UploadOptions = {},
): Promise<DatasetVersionView> {
  const format: DatasetFormat | undefined = opts.format ?? formatFromFileName(path);
  if (format === undefined) {
    throw new TypeError(
      `cannot tell the format of ${path} from its name; name it .csv, .json, .ndjson or .jsonl, or pass a format`,
    );
  }
  // stat first so a missing file fails here, with its path, rather than mid-request.
  const info = await stat(path);
  if (!info.isFile()) throw new TypeError(`${path} is not a file`);
  return client.datasets.upload(name, createReadStream(path), { ...opts, format });
}
