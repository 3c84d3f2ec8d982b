// The tenant's models: training, versions and the live one, the advisor (tenant-specific vs shared vs
// tuned on the same held-out rows), predictions, and their monitoring (feedback, windows, policy).
import type { Static } from 'typebox';
import type { PredictBodySchema, PredictResponse } from '../../api/inference-schemas.ts';
import type {
  AdviceView,
  AdviseRequestSchema,
  JobView,
  ModelDetailView,
  ModelSummaryView,
  TrainRequest,
} from '../../api/schemas.ts';
import { TenantmlError } from '../errors.ts';
import { POLL_INTERVAL_MS, type PollWaitOptions, pollUntil, waitFailure, waitSignals } from '../poll.ts';
import { ROUTES } from '../routes.ts';
import type { CallOptions, Transport } from '../transport.ts';
import {
  type FeedbackItem,
  type FeedbackResponse,
  type MonitoringOptions,
  type MonitoringView,
  PolicyApi,
} from './monitoring.ts';

export type AdviseRequest = Static<typeof AdviseRequestSchema>;
/** One object per prediction, `{feature: value}`; every feature present, `null` when unknown. */
export type PredictInstances = Static<typeof PredictBodySchema>['instances'];

export interface AdviceWaitOptions extends PollWaitOptions {
  /** Called with the advice at every change seen. */
  onAdvice?: (advice: AdviceView) => void;
}

/** The tenant's models: a tenant admin key, or the operator key with a tenant set on the client. */
export class ModelsApi {
  readonly #t: Transport;
  /** The retraining policy of a model: `get`, `put`, `delete` (tenant admin key). */
  readonly policy: PolicyApi;
  constructor(transport: Transport) {
    this.#t = transport;
    this.policy = new PolicyApi(transport);
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

  /**
   * Asks which approach suits this tenant for `name`: trains a tenant-specific candidate and, when a
   * trainable shared model `name` is published to the tenant, a tuned one, and compares them with the
   * shared model on the same held-out rows. Answers at once (202) with the advice `running`; follow it
   * with `waitAdvice(name, advice.id)`. With `autoPromote` the recommended own candidate goes live.
   */
  advise(name: string, body: AdviseRequest, opts: CallOptions = {}): Promise<AdviceView> {
    return this.#t.request(ROUTES.adviseModel, { ...opts, params: { name }, json: body });
  }

  /** Every advice given for `name`, newest first; `result` is set once its jobs have ended. */
  async advice(name: string, opts: CallOptions = {}): Promise<AdviceView[]> {
    const res = await this.#t.request<{ advice: AdviceView[] }>(ROUTES.listAdvice, {
      ...opts,
      params: { name },
    });
    return res.advice;
  }

  /**
   * Resolves with advice `id` once it is no longer `running` (`done` or `failed`: check `state`).
   * Polls every `pollIntervalMs` (default 1 s).
   */
  async waitAdvice(name: string, id: string, opts: AdviceWaitOptions = {}): Promise<AdviceView> {
    const { timeoutMs = 0, signal, onAdvice, pollIntervalMs = POLL_INTERVAL_MS } = opts;
    const { both, deadline } = waitSignals(signal, timeoutMs);
    let last: AdviceView | undefined;
    const read = async (): Promise<AdviceView> => {
      const found = (await this.advice(name, { signal: both })).find((a) => a.id === id);
      if (found) return found;
      throw new TenantmlError({
        status: 404,
        code: 'not_found',
        title: 'Not found',
        detail: `model ${name} has no advice ${id}`,
      });
    };
    try {
      return await pollUntil(read, {
        done: (a) => a.state !== 'running',
        signal: both,
        intervalMs: pollIntervalMs,
        onChange: (a) => {
          last = a;
          onAdvice?.(a);
        },
      });
    } catch (e) {
      throw waitFailure(
        e,
        signal,
        deadline,
        'The advice was not ready in time',
        () => `advice ${id} for model ${name} was still ${last?.state ?? 'unread'} after ${timeoutMs} ms`,
      );
    }
  }

  /**
   * Predicts with the version `name` resolves to for this tenant: its own live version, else a shared
   * model of that name published to it. Any key of the tenant may call it (admin or predict).
   */
  predict(name: string, instances: PredictInstances, opts: CallOptions = {}): Promise<PredictResponse> {
    return this.#t.request(ROUTES.predict, { ...opts, params: { name }, json: { instances } });
  }

  /**
   * Sends the true label of one prediction, or of up to 1000 (`MAX_FEEDBACK_ITEMS`) in one request; any
   * key of the tenant may. Answers `{accepted, duplicates}`: a prediction already labelled keeps its
   * first label. A bad item is `validation_failed` naming `items[i].field`.
   */
  feedback(
    name: string,
    labels: FeedbackItem | FeedbackItem[],
    opts: CallOptions = {},
  ): Promise<FeedbackResponse> {
    const json = Array.isArray(labels) ? { items: labels } : labels;
    return this.#t.request(ROUTES.sendFeedback, { ...opts, params: { name }, json });
  }

  /**
   * The model's monitoring windows, newest first: rows, status, drift per feature and of the
   * predictions, data quality, and performance measured from feedback (tenant admin key).
   */
  monitoring(name: string, opts: MonitoringOptions = {}): Promise<MonitoringView> {
    const { granularity, from, to, version, limit, ...call } = opts;
    return this.#t.request(ROUTES.getMonitoring, {
      ...call,
      params: { name },
      query: { granularity, from, to, version, limit },
    });
  }
}
