import type { DatasetDetail, DatasetSummary, DatasetVersionView } from '../../api/schemas.ts';
import { CONTENT_TYPES, type DatasetFormat, defaultFormat, toWireBody, type UploadBody } from '../body.ts';
import { ROUTES } from '../routes.ts';
import type { CallOptions, Transport } from '../transport.ts';

export interface UploadOptions extends CallOptions {
  /** Default: a File's name; else sniffed from a string or bytes (`[` JSON, `{` JSON Lines, else CSV); CSV for streams. */
  format?: DatasetFormat;
}

/** Uploads are long; they get this timeout unless the call sets one. */
export const UPLOAD_TIMEOUT_MS = 10 * 60_000;

/** The tenant's datasets: a tenant key, or the operator key with a tenant set on the client. */
export class DatasetsApi {
  readonly #t: Transport;
  constructor(transport: Transport) {
    this.#t = transport;
  }

  /** Uploads a new immutable version of `name`. Streams are sent as they are read, never buffered. */
  upload(name: string, body: UploadBody, opts: UploadOptions = {}): Promise<DatasetVersionView> {
    const { format: given, ...call } = opts;
    const format = given ?? defaultFormat(body);
    const wire = toWireBody(body);
    return this.#t.request(ROUTES.uploadDataset, {
      timeoutMs: Math.max(UPLOAD_TIMEOUT_MS, this.#t.timeoutMs),
      ...call,
      params: { name },
      body: wire.body,
      contentType: CONTENT_TYPES[format],
    });
  }

  async list(opts: CallOptions = {}): Promise<DatasetSummary[]> {
    const res = await this.#t.request<{ datasets: DatasetSummary[] }>(ROUTES.listDatasets, opts);
    return res.datasets;
  }

  get(name: string, opts: CallOptions = {}): Promise<DatasetDetail> {
    return this.#t.request(ROUTES.getDataset, { ...opts, params: { name } });
  }

  /** Deletes every version of the dataset. */
  async delete(name: string, opts: CallOptions = {}): Promise<void> {
    await this.#t.request(ROUTES.deleteDataset, { ...opts, params: { name }, response: 'none' });
  }
}
