// Liveness and readiness for load balancers and Kubernetes probes.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { AppError } from '../../core/errors.ts';
import type { ApiDeps } from '../context.ts';
import { HealthSchema } from '../schemas.ts';

export function healthRoutes(deps: ApiDeps, state: { shuttingDown: boolean }): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get('/healthz', { schema: { tags: ['ops'], response: { 200: HealthSchema } } }, async () => ({
      status: 'ok',
    }));
    app.get('/readyz', { schema: { tags: ['ops'], response: { 200: HealthSchema } } }, async () => {
      if (state.shuttingDown) throw new AppError('unavailable', 'shutting down');
      if (!(await deps.store.ping().catch(() => false)))
        throw new AppError('unavailable', 'the database does not answer');
      return { status: 'ready' };
    });
  };
}
