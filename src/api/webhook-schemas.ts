// Request and response schemas of the webhook routes (validation, OpenAPI and the SDK's types).
import { type Static, Type } from 'typebox';
import { ALERT_EVENTS, type AlertEvent } from '../core/monitoring.ts';
import { MAX_URL_LENGTH } from '../services/webhooks/service.ts';

const Timestamp = Type.String({ format: 'date-time', description: 'ISO-8601 UTC' });

export const AlertEventSchema = Type.Unsafe<AlertEvent>({
  type: 'string',
  enum: [...ALERT_EVENTS],
  description: `an alert event: ${ALERT_EVENTS.join(', ')}`,
});

export const WebhookCreateSchema = Type.Object(
  {
    url: Type.String({
      minLength: 1,
      maxLength: MAX_URL_LENGTH,
      description: 'http(s) URL the alerts are POSTed to; no credentials, no private address',
    }),
    events: Type.Array(AlertEventSchema, {
      minItems: 1,
      maxItems: ALERT_EVENTS.length,
      uniqueItems: true,
      description: 'events to receive',
    }),
  },
  { additionalProperties: false },
);

export const WebhookSchema = Type.Object(
  {
    id: Type.String(),
    url: Type.String(),
    events: Type.Array(AlertEventSchema),
    createdAt: Timestamp,
    createdBy: Type.String({ description: 'key id that created it' }),
  },
  { $id: 'Webhook' },
);

export const WebhookCreatedSchema = Type.Object({
  id: Type.String(),
  url: Type.String(),
  events: Type.Array(AlertEventSchema),
  createdAt: Timestamp,
  createdBy: Type.String(),
  secret: Type.String({
    description: 'the signing secret (HMAC-SHA256 key, its UTF-8 bytes); shown only in this answer',
  }),
});

export const WebhookListSchema = Type.Object({ webhooks: Type.Array(WebhookSchema) });

export const WebhookDeliverySchema = Type.Object({
  id: Type.String({ description: 'delivery id, sent as Tenantml-Delivery; the same on every retry' }),
  webhookId: Type.String(),
  event: Type.String({ description: 'an alert event, or "test"' }),
  state: Type.Union([Type.Literal('pending'), Type.Literal('delivered'), Type.Literal('failed')]),
  attempts: Type.Integer(),
  nextAttemptAt: Type.Union([Timestamp, Type.Null()]),
  lastStatus: Type.Union([Type.Integer(), Type.Null()], { description: "the receiver's last HTTP status" }),
  lastError: Type.Union([Type.String(), Type.Null()], { description: 'why the last attempt failed' }),
  createdAt: Timestamp,
  deliveredAt: Type.Union([Timestamp, Type.Null()]),
  payload: Type.Object(
    {
      id: Type.String({ description: 'event id: the idempotency key receivers dedupe on' }),
      event: Type.String(),
      tenantId: Type.String(),
      at: Timestamp,
      model: Type.Optional(Type.String()),
      version: Type.Optional(Type.Integer()),
      data: Type.Object({}, { additionalProperties: true }),
    },
    { description: 'the JSON body that is POSTed' },
  ),
});

export const WebhookDeliveryListSchema = Type.Object({ deliveries: Type.Array(WebhookDeliverySchema) });

export const WebhookIdParams = Type.Object({ id: Type.String({ maxLength: 200 }) });

export const DeliveryQuerySchema = Type.Object(
  {
    limit: Type.Optional(
      Type.String({
        pattern: '^[0-9]{1,3}$',
        description: 'at most this many, newest first (1–200, default 50)',
      }),
    ),
  },
  { additionalProperties: false },
);

export type WebhookCreateBody = Static<typeof WebhookCreateSchema>;
export type WebhookView = Static<typeof WebhookSchema>;
export type WebhookCreatedView = Static<typeof WebhookCreatedSchema>;
export type WebhookDeliveryView = Static<typeof WebhookDeliverySchema>;
