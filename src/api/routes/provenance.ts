// "Which models hold this tenant's data?" — the operator asks about any tenant (every version, shared
// or tuned, with where the data came from); a tenant admin asks about itself and also sees which shared
// models it may use, never another tenant's model names.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { AppError } from '../../core/errors.ts';
import { isTenantId } from '../../core/ids.ts';
import type { ApiDeps } from '../context.ts';
import { ProvenanceQuerySchema, ProvenanceRecordSchema, TenantProvenanceSchema } from '../schemas.ts';
import { errorResponses } from './common.ts';

export function provenanceRoutes(deps: ApiDeps): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      '/v1/provenance',
      {
        config: { auth: 'admin' },
        schema: {
          tags: ['provenance'],
          summary: 'Which model versions hold a tenant’s data (operator: ?tenant=; tenant admin: its own)',
          querystring: ProvenanceQuerySchema,
          response: {
            200: Type.Union([
              Type.Object({ tenant: Type.String(), versions: Type.Array(ProvenanceRecordSchema) }),
              TenantProvenanceSchema,
            ]),
            ...errorResponses,
          },
        },
      },
      async (req) => {
        if (req.principal?.kind === 'operator' && !req.scope) {
          const tenant = req.query.tenant;
          if (!tenant || !isTenantId(tenant))
            throw new AppError('validation_failed', 'tenant: the operator names a tenant id', {
              errors: [{ field: 'tenant', message: 'required with the operator key: ?tenant=<id>' }],
            });
          return { tenant, versions: await deps.provenance.holdingDataOf(tenant) };
        }
        return deps.provenance.forTenant(req.scope!);
      },
    );
  };
}
