// A tenant's alert webhooks: subscribing URLs to events, reading what was delivered, queueing a test.
// Receivers check each delivery with `verifyWebhookSignature` (../webhook-signature.ts).
import type {
  WebhookCreateBody,
  WebhookCreatedView,
  WebhookDeliveryView,
  WebhookView,
} from '../../api/webhook-schemas.ts';
import type { AlertEvent } from '../../core/monitoring.ts';
import { ROUTES } from '../routes.ts';
import type { CallOptions, Transport } from '../transport.ts';

export type { AlertEvent, WebhookCreateBody, WebhookCreatedView, WebhookDeliveryView, WebhookView };

export interface DeliveryListOptions extends CallOptions {
  /** 1–200, newest first; the server's default is 50. */
  limit?: number;
}

/** Webhooks of the tenant: a tenant admin key, or the operator key with a tenant set on the client. */
export class WebhooksApi {
  readonly #t: Transport;
  constructor(transport: Transport) {
    this.#t = transport;
  }

  /**
   * Subscribes `url` to `events`. The answer's `secret` signs every delivery and is shown only here:
   * keep it where the receiver can read it. A private or loopback address is `validation_failed`.
   */
  create(body: WebhookCreateBody, opts: CallOptions = {}): Promise<WebhookCreatedView> {
    return this.#t.request(ROUTES.createWebhook, { ...opts, json: body });
  }

  async list(opts: CallOptions = {}): Promise<WebhookView[]> {
    const res = await this.#t.request<{ webhooks: WebhookView[] }>(ROUTES.listWebhooks, opts);
    return res.webhooks;
  }

  /** One webhook, never its secret. */
  get(id: string, opts: CallOptions = {}): Promise<WebhookView> {
    return this.#t.request(ROUTES.getWebhook, { ...opts, params: { id } });
  }

  /** Deletes the webhook with its deliveries, pending or not. */
  async delete(id: string, opts: CallOptions = {}): Promise<void> {
    await this.#t.request(ROUTES.deleteWebhook, { ...opts, params: { id }, response: 'none' });
  }

  /** Recent deliveries, newest first: state, attempts, the receiver's last status, the payload sent. */
  async deliveries(id: string, opts: DeliveryListOptions = {}): Promise<WebhookDeliveryView[]> {
    const { limit, ...call } = opts;
    const res = await this.#t.request<{ deliveries: WebhookDeliveryView[] }>(ROUTES.listWebhookDeliveries, {
      ...call,
      params: { id },
      query: { limit },
    });
    return res.deliveries;
  }

  /** Queues one delivery of event `test` and answers with it (`pending`); read its fate in `deliveries`. */
  test(id: string, opts: CallOptions = {}): Promise<WebhookDeliveryView> {
    return this.#t.request(ROUTES.testWebhook, { ...opts, params: { id } });
  }
}
