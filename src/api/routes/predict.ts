// POST /v1/models/{name}/predict: the one predict API every tenant shares. Any key of the tenant (admin
// or predict) may call it; the model is resolved per request (own live → shared published → 404).
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import type { OnGone } from '../../runtime/limits/admission.ts';
import type { InferenceService } from '../../services/inference/service.ts';
import { PredictBodySchema, PredictResponseSchema } from '../inference-schemas.ts';
import { NameParams } from '../schemas.ts';
import { errorResponses } from './common.ts';

export function predictRoutes(inference: InferenceService): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.post(
      '/v1/models/:name/predict',
      {
        config: { auth: 'tenant' },
        preParsing: refuseSpent(inference),
        schema: {
          tags: ['inference'],
          summary: 'Predict with the version of the model this tenant resolves to',
          params: NameParams,
          body: PredictBodySchema,
          response: {
            200: PredictResponseSchema,
            429: Type.Ref('Problem'),
            503: Type.Ref('Problem'),
            ...errorResponses,
          },
        },
      },
      async (req, reply) => {
        const r = await inference.predict(req.scope!, req.params.name, req.body.instances, {
          cancel: clientGone(reply),
          phases: req.phases, // predict spans (tracing on only)
        });
        reply.headers(r.headers);
        return { id: r.id, model: r.model, predictions: r.predictions };
      },
    );
  };
}

/**
 * A route hook, run after authentication and before the body is read: a tenant whose rate budget is spent
 * gets its 429 without the body being parsed and validated, so a flood over budget costs its neighbours as
 * little of the event loop as possible.
 */
export function refuseSpent(inference: InferenceService) {
  return async (req: FastifyRequest): Promise<void> => {
    if (!req.scope) return;
    const refused = await inference.spent(req.scope.tenantId);
    if (refused) throw refused;
  };
}

/**
 * The predict path's `OnGone` hook (runtime/limits/admission.ts): a request still waiting for a slot
 * leaves the queue when its connection closes before the answer is sent. It listens only when admission
 * asks (the request has to wait): most requests are admitted at once and never listen at all.
 */
export function clientGone(reply: FastifyReply): OnGone {
  return (leave) => {
    const res = reply.raw;
    if (res.closed) {
      if (!res.writableFinished) leave(); // gone before admission asked
      return noop;
    }
    const onClose = (): void => {
      if (!res.writableFinished) leave();
    };
    res.on('close', onClose);
    return () => res.removeListener('close', onClose);
  };
}

const noop = (): void => {};
