// Shared models (operator key): training on the pooled data of consenting tenants, importing a pretrained
// ONNX model, publishing to tenants, provenance per version, the ONNX file, and the shared namespace's
// jobs. Those jobs have no event stream, so waiting for one polls.
import type { Static } from 'typebox';
import type {
  AudienceSchema,
  ImportRequestSchema,
  JobView,
  ModelDetailView,
  ModelSummaryView,
  ModelVersionView,
  ProvenanceRecordView,
  SharedTrainRequestSchema,
} from '../../api/schemas.ts';
import { POLL_INTERVAL_MS, pollUntil, waitFailure, waitSignals } from '../poll.ts';
import { ROUTES } from '../routes.ts';
import type { CallOptions, Transport } from '../transport.ts';
import { UPLOAD_TIMEOUT_MS } from './datasets.ts';
import { isFinalJobState, type JobWaitOptions } from './jobs.ts';

/** `'all'` tenants, or a list of tenant ids. */
export type Audience = Static<typeof AudienceSchema>;
export type SharedTrainRequest = Static<typeof SharedTrainRequestSchema>;
export type ImportRequest = Static<typeof ImportRequestSchema>;
/** What an import says about the model besides its bytes: task, input columns, classes, outputs… */
export type ImportSpec = Omit<ImportRequest, 'onnx'>;
/** The ONNX file's bytes. */
export type OnnxBytes = Uint8Array | ArrayBuffer;

/** `waitJob` polls (shared jobs have no event stream); `idleTimeoutMs` has no meaning here. */
export type SharedJobWaitOptions = Omit<JobWaitOptions, 'idleTimeoutMs'>;

/** Standard base64 of any size, without Node's Buffer so that the client also runs in browsers. */
export function toBase64(bytes: Uint8Array): string {
  let out = '';
  // btoa takes a "binary string"; building it in slices keeps String.fromCharCode's argument list short.
  const SLICE = 0x6000; // a multiple of 3, so that no padding falls inside the output
  for (let i = 0; i < bytes.length; i += SLICE) {
    out += btoa(String.fromCharCode(...bytes.subarray(i, i + SLICE)));
  }
  return out;
}

/** The shared namespace's jobs (operator key). */
export class SharedJobsApi {
  readonly #t: Transport;
  constructor(transport: Transport) {
    this.#t = transport;
  }

  /** Newest first. */
  async list(opts: CallOptions = {}): Promise<JobView[]> {
    const res = await this.#t.request<{ jobs: JobView[] }>(ROUTES.listSharedJobs, opts);
    return res.jobs;
  }

  get(id: string, opts: CallOptions = {}): Promise<JobView> {
    return this.#t.request(ROUTES.getSharedJob, { ...opts, params: { id } });
  }

  /**
   * Resolves with the job once it is final (succeeded, failed, cancelled, timed_out) — check
   * `job.state`. Polls every `pollIntervalMs` (default 1 s); `onJob` sees every change.
   */
  async wait(id: string, opts: SharedJobWaitOptions = {}): Promise<JobView> {
    const { timeoutMs = 0, signal, onJob, pollIntervalMs = POLL_INTERVAL_MS } = opts;
    const { both, deadline } = waitSignals(signal, timeoutMs);
    let last: JobView | undefined;
    try {
      return await pollUntil(() => this.get(id, { signal: both }), {
        done: (job) => isFinalJobState(job.state),
        signal: both,
        intervalMs: pollIntervalMs,
        onChange: (job) => {
          last = job;
          onJob?.(job);
        },
      });
    } catch (e) {
      throw waitFailure(
        e,
        signal,
        deadline,
        'The job did not finish in time',
        () => `shared job ${id} was still ${last?.state ?? 'unfinished'} after ${timeoutMs} ms`,
      );
    }
  }
}

/** Shared models: the operator's key (tenants use a published shared model through predict). */
export class SharedApi {
  readonly #t: Transport;
  readonly jobs: SharedJobsApi;
  constructor(transport: Transport) {
    this.#t = transport;
    this.jobs = new SharedJobsApi(transport);
  }

  /**
   * Queues a job training a new version of shared model `name` on the pooled, de-identified data of the
   * tenants that consent to shared training. Answers at once with the queued job; follow it with
   * `client.shared.jobs.wait(job.id)`.
   */
  train(name: string, body: SharedTrainRequest, opts: CallOptions = {}): Promise<JobView> {
    return this.#t.request(ROUTES.trainShared, { ...opts, params: { name }, json: body });
  }

  /**
   * Imports a pretrained ONNX model (one float32 input [N, features]) as a new version of `name`. The
   * server loads it in ONNX Runtime and runs a probe batch before accepting it (`unprocessable` names
   * the problem). The bytes travel base64-encoded in the JSON body.
   */
  import(name: string, onnx: OnnxBytes, spec: ImportSpec, opts: CallOptions = {}): Promise<ModelVersionView> {
    const bytes = onnx instanceof Uint8Array ? onnx : new Uint8Array(onnx);
    return this.#t.request(ROUTES.importShared, {
      timeoutMs: Math.max(UPLOAD_TIMEOUT_MS, this.#t.timeoutMs),
      ...opts,
      params: { name },
      json: { ...spec, onnx: toBase64(bytes) },
    });
  }

  async list(opts: CallOptions = {}): Promise<ModelSummaryView[]> {
    const res = await this.#t.request<{ models: ModelSummaryView[] }>(ROUTES.listShared, opts);
    return res.models;
  }

  /** The shared model with every version, its audience and which version is live. */
  get(name: string, opts: CallOptions = {}): Promise<ModelDetailView> {
    return this.#t.request(ROUTES.getShared, { ...opts, params: { name } });
  }

  /** Publishes the model to every tenant (`'all'`) or to the listed ones, replacing the audience. */
  publish(name: string, audience: Audience, opts: CallOptions = {}): Promise<ModelSummaryView> {
    return this.#t.request(ROUTES.publishShared, { ...opts, params: { name }, json: { audience } });
  }

  /** Which tenants' dataset versions trained this version, and how many rows each gave. */
  async provenance(name: string, version: number, opts: CallOptions = {}): Promise<ProvenanceRecordView[]> {
    const res = await this.#t.request<{ provenance: ProvenanceRecordView[] }>(ROUTES.sharedProvenance, {
      ...opts,
      params: { name, v: String(version) },
    });
    return res.provenance;
  }

  /** The version's ONNX file. */
  download(name: string, version: number, opts: CallOptions = {}): Promise<Uint8Array> {
    return this.#t.request(ROUTES.downloadShared, {
      timeoutMs: Math.max(UPLOAD_TIMEOUT_MS, this.#t.timeoutMs),
      ...opts,
      params: { name, v: String(version) },
      response: 'bytes',
    });
  }
}
