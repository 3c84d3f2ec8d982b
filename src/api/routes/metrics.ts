// GET /metrics: the inference metrics in Prometheus text format, for the operator's scraper only (the
// series carry tenant ids).
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { InferenceMetrics } from '../../runtime/metrics.ts';

export function metricsRoutes(metrics: InferenceMetrics): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      '/metrics',
      {
        config: { auth: 'operator' },
        schema: { tags: ['ops'], summary: 'Prometheus metrics (operator key)' },
      },
      async (_req, reply) => {
        reply.type(metrics.contentType);
        return metrics.text();
      },
    );
  };
}
