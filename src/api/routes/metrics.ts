// GET /metrics: the platform's metrics in Prometheus text format (docs/observability.md), for the
// operator's scraper only (the series carry tenant ids).
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { errorResponses } from './common.ts';

/** What the route serves: the platform registry (or, for a bare server, the inference metrics alone). */
export interface MetricsSource {
  text(): Promise<string>;
  readonly contentType: string;
}

export function metricsRoutes(metrics: MetricsSource): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      '/metrics',
      {
        config: { auth: 'operator' },
        schema: {
          tags: ['ops'],
          summary: 'Prometheus metrics (operator key)',
          description:
            'Every series of this process in the Prometheus text exposition format: HTTP, predictions, ' +
            'model cache, training jobs and the scheduler queue, usage, and the process itself. ' +
            'docs/observability.md lists each metric and its labels.',
          response: {
            200: Type.String({ description: 'Prometheus text exposition format (version 0.0.4)' }),
            ...errorResponses,
          },
        },
      },
      async (_req, reply) => {
        reply.type(metrics.contentType);
        return metrics.text();
      },
    );
  };
}
