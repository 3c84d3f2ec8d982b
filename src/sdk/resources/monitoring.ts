// Monitoring of a tenant model: the types of feedback and of the monitoring windows, and the retraining
// policy (`client.models.policy`). Feedback and windows are methods of `client.models`.
import type { Static } from 'typebox';
import type {
  FeedbackBodySchema,
  FeedbackResponse,
  MonitoringQuery,
  MonitoringResponseSchema,
  PolicyViewSchema,
  RetrainPolicySchema,
  WindowView,
} from '../../api/monitoring-schemas.ts';
import { ROUTES } from '../routes.ts';
import type { CallOptions, Transport } from '../transport.ts';

export type FeedbackBody = Static<typeof FeedbackBodySchema>;
/** The true label of one prediction: its `id` from a predict answer, and the class or the value. */
export type FeedbackItem = Extract<FeedbackBody, { items: unknown }>['items'][number];
export type { FeedbackResponse, WindowView };
/** The windows of a model, newest first, with its live version. */
export type MonitoringView = Static<typeof MonitoringResponseSchema>;
/** Every trigger optional; an empty policy only watches the model. */
export type RetrainPolicy = Static<typeof RetrainPolicySchema>;
/** A stored policy with when it last fired and why. */
export type PolicyView = Static<typeof PolicyViewSchema>;

/** The server takes at most this many labels in one feedback request. */
export const MAX_FEEDBACK_ITEMS = 1000;

export interface MonitoringOptions extends CallOptions {
  /** Window width; default the server's (`TENANTML_MONITOR_GRANULARITY`). */
  granularity?: MonitoringQuery['granularity'];
  /** ISO time: windows starting at or after it. */
  from?: string;
  /** ISO time: windows starting before it. */
  to?: string;
  /** Only this model version's windows. */
  version?: number;
  /** 1–1000; the server's default is 168 (a week of hours). */
  limit?: number;
}

/**
 * A model's retraining policy (tenant admin key). A missing policy and a missing model both answer
 * `not_found`.
 */
export class PolicyApi {
  readonly #t: Transport;
  constructor(transport: Transport) {
    this.#t = transport;
  }

  get(name: string, opts: CallOptions = {}): Promise<PolicyView> {
    return this.#t.request(ROUTES.getPolicy, { ...opts, params: { name } });
  }

  /** Replaces the policy as a whole: a trigger left out is off. Invalid fields are `validation_failed`. */
  put(name: string, policy: RetrainPolicy, opts: CallOptions = {}): Promise<PolicyView> {
    return this.#t.request(ROUTES.putPolicy, { ...opts, params: { name }, json: policy });
  }

  /** Removes the policy; the model is still watched and alerts still go out. */
  async delete(name: string, opts: CallOptions = {}): Promise<void> {
    await this.#t.request(ROUTES.deletePolicy, { ...opts, params: { name }, response: 'none' });
  }
}
