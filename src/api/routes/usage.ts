// GET /v1/usage (docs/metering.md): a tenant admin reads its own usage and cost; the operator reads every
// tenant's (or one tenant's, named in X-Tenant-Id). A predict key is refused (403): usage and cost are
// the business of the tenant's administrators, and predict keys live in applications.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { AppError } from '../../core/errors.ts';
import type { UsageService } from '../../services/metering/usage.ts';
import { UsageQuerySchema, UsageReportSchema } from '../usage-schemas.ts';
import { errorResponses } from './common.ts';

export function usageRoutes(deps: { usage: UsageService }): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      '/v1/usage',
      {
        config: { auth: 'admin' },
        schema: {
          tags: ['usage'],
          summary:
            'Metered usage and its cost per period (tenant admin: its own; operator: every tenant, or the one in X-Tenant-Id)',
          querystring: UsageQuerySchema,
          response: { 200: UsageReportSchema, ...errorResponses },
        },
      },
      async (req) => {
        const q = deps.usage.query(req.query);
        if (req.scope) return deps.usage.report(req.scope, q);
        // Only the operator's key passes the `admin` rule without a scope: it reads every tenant.
        if (req.principal?.kind !== 'operator')
          throw new AppError('forbidden', 'usage of all tenants needs the operator key');
        return deps.usage.report('all', q);
      },
    );
  };
}
