// Webhook routes: a tenant admin (or the operator naming the tenant) subscribes URLs to alert events,
// reads what was delivered, and can queue a test delivery. Another tenant's webhook answers 404.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { Webhook, WebhookDelivery } from '../../store/ports.ts';
import type { ApiDeps } from '../context.ts';
import {
  DeliveryQuerySchema,
  WebhookCreatedSchema,
  WebhookCreateSchema,
  WebhookDeliveryListSchema,
  WebhookDeliverySchema,
  type WebhookDeliveryView,
  WebhookIdParams,
  WebhookListSchema,
  WebhookSchema,
  type WebhookView,
} from '../webhook-schemas.ts';
import { errorResponses } from './common.ts';

const view = (w: Webhook): WebhookView => ({
  id: w.id,
  url: w.url,
  events: w.events,
  createdAt: w.createdAt,
  createdBy: w.createdBy,
});

const deliveryView = (d: WebhookDelivery): WebhookDeliveryView => ({
  id: d.id,
  webhookId: d.webhookId,
  event: d.event,
  state: d.state,
  attempts: d.attempts,
  nextAttemptAt: d.nextAttemptAt,
  lastStatus: d.lastStatus,
  lastError: d.lastError,
  createdAt: d.createdAt,
  deliveredAt: d.deliveredAt,
  payload: d.payload,
});

export function webhookRoutes(deps: Pick<ApiDeps, 'webhooks'>): FastifyPluginAsyncTypebox {
  return async (app) => {
    const tags = ['webhooks'];

    app.post(
      '/v1/webhooks',
      {
        config: { auth: 'tenantAdmin', audit: 'webhook.create' },
        schema: {
          tags,
          summary: 'Subscribe a URL to alert events; the signing secret is shown only in this answer',
          body: WebhookCreateSchema,
          response: { 201: WebhookCreatedSchema, ...errorResponses },
        },
      },
      async (req, reply) => {
        const { webhook, secret } = await deps.webhooks.create(req.scope!, req.body);
        req.auditTarget = webhook.id;
        return reply.code(201).send({ ...view(webhook), secret });
      },
    );

    app.get(
      '/v1/webhooks',
      {
        config: { auth: 'tenantAdmin' },
        schema: {
          tags,
          summary: "The tenant's webhooks",
          response: { 200: WebhookListSchema, ...errorResponses },
        },
      },
      async (req) => ({ webhooks: (await deps.webhooks.list(req.scope!)).map(view) }),
    );

    app.get(
      '/v1/webhooks/:id',
      {
        config: { auth: 'tenantAdmin' },
        schema: { tags, params: WebhookIdParams, response: { 200: WebhookSchema, ...errorResponses } },
      },
      async (req) => view(await deps.webhooks.get(req.scope!, req.params.id)),
    );

    app.delete(
      '/v1/webhooks/:id',
      {
        config: { auth: 'tenantAdmin', audit: 'webhook.delete' },
        schema: {
          tags,
          summary: 'Delete a webhook and its pending deliveries',
          params: WebhookIdParams,
          response: { 204: Type.Null(), ...errorResponses },
        },
      },
      async (req, reply) => {
        await deps.webhooks.delete(req.scope!, req.params.id);
        return reply.code(204).send(null);
      },
    );

    app.get(
      '/v1/webhooks/:id/deliveries',
      {
        config: { auth: 'tenantAdmin' },
        schema: {
          tags,
          summary: 'Recent deliveries of a webhook, newest first',
          params: WebhookIdParams,
          querystring: DeliveryQuerySchema,
          response: { 200: WebhookDeliveryListSchema, ...errorResponses },
        },
      },
      async (req) => {
        const limit = req.query.limit === undefined ? 50 : Number(req.query.limit);
        const list = await deps.webhooks.deliveries(req.scope!, req.params.id, limit);
        return { deliveries: list.map(deliveryView) };
      },
    );

    app.post(
      '/v1/webhooks/:id/test',
      {
        config: { auth: 'tenantAdmin', audit: 'webhook.test' },
        schema: {
          tags,
          summary: 'Queue a delivery of event "test" to this webhook',
          params: WebhookIdParams,
          response: { 202: WebhookDeliverySchema, ...errorResponses },
        },
      },
      async (req, reply) =>
        reply.code(202).send(deliveryView(await deps.webhooks.test(req.scope!, req.params.id))),
    );
  };
}
