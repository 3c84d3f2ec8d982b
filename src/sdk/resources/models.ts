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

  /**
   * Makes `version` the live version of `name` (the one that answers predictions) and answers with the
   * model. Promoting the version already live changes nothing.
   */
  promote(name: string, version: number, opts: CallOptions = {}): Promise<ModelDetailView> {
    return this.#t.request(ROUTES.promoteModel, { ...opts, params: { name, v: String(version) } });
  }

  /**
   * Makes live again the version that was live before the current one; each call undoes one promotion.
   * `conflict` (409) when there is no earlier live version.
   */
  rollback(name: string, opts: CallOptions = {}): Promise<ModelDetailView> {
    return this.#t.request(ROUTES.rollbackModel, { ...opts, params: { name } });
  }
}
