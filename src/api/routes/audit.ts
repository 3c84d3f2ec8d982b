// The audit log: the operator reads every chain (and can verify one); a tenant admin reads its own.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { AppError } from '../../core/errors.ts';
import type { ApiDeps } from '../context.ts';
import { AuditListSchema } from '../schemas.ts';
import { errorResponses } from './common.ts';

const AuditQuerySchema = Type.Object(
  {
    limit: Type.Optional(
      Type.String({
        pattern: '^[0-9]{1,4}$',
        description: 'at most this many entries (1–1000, default 100)',
      }),
    ),
    after: Type.Optional(
      Type.String({ pattern: '^[0-9]{1,12}$', description: 'entries with seq greater than this' }),
    ),
    tenant: Type.Optional(
      Type.String({
        maxLength: 63,
        description: 'operator: one tenant’s chain; "operator" for the operator chain',
      }),
    ),
    verify: Type.Optional(
      Type.Union([Type.Literal('true'), Type.Literal('false')], { description: 'verify the chain' }),
    ),
  },
  { additionalProperties: false },
);

export function auditRoutes(deps: ApiDeps): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      '/v1/audit',
      {
        config: { auth: 'admin' },
        schema: {
          tags: ['audit'],
          querystring: AuditQuerySchema,
          response: { 200: AuditListSchema, ...errorResponses },
        },
      },
      async (req) => {
        const limit = Math.min(Math.max(Number(req.query.limit ?? 100), 1), 1000);
        const after = req.query.after === undefined ? undefined : Number(req.query.after);
        const verify = req.query.verify === 'true';
        if (req.scope) {
          // A tenant admin (or the operator naming a tenant): that tenant's own chain.
          if (req.query.tenant !== undefined && req.query.tenant !== req.scope.tenantId) {
            throw new AppError('not_found', 'tenant was not found');
          }
          const entries = await deps.audit.listOwn(req.scope, { limit, after });
          return verify ? { entries, verified: await deps.audit.verify(req.scope.tenantId) } : { entries };
        }
        const tenant =
          req.query.tenant === undefined
            ? undefined
            : req.query.tenant === 'operator'
              ? null
              : req.query.tenant;
        const entries = await deps.audit.listAll({ limit, after, tenantId: tenant });
        if (!verify) return { entries };
        if (tenant === undefined) {
          throw new AppError('validation_failed', 'verify needs one chain: name it with tenant', {
            errors: [{ field: 'tenant', message: 'required with verify=true (a tenant id, or "operator")' }],
          });
        }
        return { entries, verified: await deps.audit.verify(tenant) };
      },
    );
  };
}
