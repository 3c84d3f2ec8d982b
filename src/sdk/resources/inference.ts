// The Open Inference Protocol (KServe v2) routes, for callers that already speak it: columnar inputs
// (one tensor per feature), metadata, and the health routes. Everyday predictions go through
// `client.models.predict`, which takes rows.
import type { Static } from 'typebox';
import type {
  V2HealthSchema,
  V2InferRequestSchema,
  V2InferResponseSchema,
  V2ModelMetadataSchema,
} from '../../api/inference-schemas.ts';
import { ROUTES } from '../routes.ts';
import type { CallOptions, Transport } from '../transport.ts';

export type V2InferRequest = Static<typeof V2InferRequestSchema>;
export type V2InferResponse = Static<typeof V2InferResponseSchema>;
export type V2ModelMetadata = Static<typeof V2ModelMetadataSchema>;
export type V2Health = Static<typeof V2HealthSchema>;

export class V2Api {
  readonly #t: Transport;
  constructor(transport: Transport) {
    this.#t = transport;
  }

  /** Inputs named by feature, shape [N] (or [N, 1]); outputs `label`+`probabilities` or `value`, and `prediction_id`. */
  infer(name: string, body: V2InferRequest, opts: CallOptions = {}): Promise<V2InferResponse> {
    return this.#t.request(ROUTES.inferV2, { ...opts, params: { name }, json: body });
  }

  /** The inputs and outputs of the version `name` resolves to for this tenant. */
  metadata(name: string, opts: CallOptions = {}): Promise<V2ModelMetadata> {
    return this.#t.request(ROUTES.modelMetadataV2, { ...opts, params: { name } });
  }

  /** `{live: true}` while the process serves. */
  live(opts: CallOptions = {}): Promise<V2Health> {
    return this.#t.request(ROUTES.liveV2, opts);
  }

  /** `{ready: true}`; throws a TenantmlError (503 `unavailable`) while the server shuts down. */
  ready(opts: CallOptions = {}): Promise<V2Health> {
    return this.#t.request(ROUTES.readyV2, opts);
  }
}
