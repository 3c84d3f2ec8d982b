// Quotas in one place (docs/limits.md#quotas): a tenant reads each quota in force, where it comes from
// and its current use; the operator reads the tier table (defaults and edits) and edits a tier.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { QuotaService } from '../../services/quotas.ts';
import type { TenantService } from '../../services/tenants.ts';
import { QuotasViewSchema, TierEditSchema, TierLineSchema, TierParams } from '../budget-schemas.ts';
import { errorResponses } from './common.ts';

export function quotaRoutes(deps: {
  quotaService: QuotaService;
  tenants: Pick<TenantService, 'get'>;
  clock: { now(): Date };
}): FastifyPluginAsyncTypebox {
  return async (app) => {
    const tags = ['quotas'];
    app.get(
      '/v1/quotas',
      {
        config: { auth: 'admin' },
        schema: {
          tags,
          summary:
            "A tenant's quotas with their source and current use; the operator without X-Tenant-Id gets the tier table",
          response: { 200: QuotasViewSchema, ...errorResponses },
        },
      },
      async (req) => {
        if (!req.scope) return { tiers: await deps.quotaService.tiers() };
        const t = await deps.tenants.get(req.scope.tenantId);
        return { tenantId: t.id, tier: t.tier, quotas: await deps.quotaService.forTenant(req.scope, t) };
      },
    );

    app.put(
      '/v1/quotas/tiers/:tier',
      {
        config: { auth: 'operator', audit: 'quotas.tier' },
        schema: {
          tags,
          summary:
            "Operator: set a tier's edited quotas (replacing earlier edits; {} restores the defaults); in force at once",
          params: TierParams,
          body: TierEditSchema,
          response: { 200: TierLineSchema, ...errorResponses },
        },
      },
      async (req) => {
        req.auditTarget = req.params.tier;
        return deps.quotaService.setTier(req.params.tier, req.body.quotas, deps.clock.now().toISOString());
      },
    );
  };
}
