import type { JobView, ModelDetailView, ModelSummaryView, TrainRequest } from '../../api/schemas.ts';
import { ROUTES } from '../routes.ts';
import type { CallOptions, Transport } from '../transport.ts';

/** The tenant's models: a tenant admin key, or the operator key with a tenant set on the client. */
export class ModelsApi {
  readonly #t: Transport;
  constructor(transport: Transport) {
    this.#t = transport;
  }

  /**
   * Queues a training job for a new version of `name`; answers at once with the queued job (202).
   * Follow it with `client.jobs.wait(job.id)` or `client.jobs.events(job.id)`.
   */
  train(name: string, body: TrainRequest, opts: CallOptions = {}): Promise<JobView> {
    return this.#t.request(ROUTES.trainModel, { ...opts, params: { name }, json: body });
  }

  async list(opts: CallOptions = {}): Promise<ModelSummaryView[]> {
    const res = await this.#t.request<{ models: ModelSummaryView[] }>(ROUTES.listModels, opts);
    return res.models;
  }

  /** The model with every version: metrics, lineage (`datasets`), and which one is live. */
  get(name: string, opts: CallOptions = {}): Promise<ModelDetailView> {
    return this.#t.request(ROUTES.getModel, { ...opts, params: { name } });
  }
}
