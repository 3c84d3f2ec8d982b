// Authentication and tenant scope, before the body is read: a request with a bad key never gets to
// upload anything. The TenantScope minted here is what every tenant-owned call downstream requires.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AppError } from '../core/errors.ts';
import { isTenantId } from '../core/ids.ts';
import { type Actor, mintTenantScope } from '../core/scope.ts';
import type { Principal } from '../services/auth.ts';
import type { ApiDeps } from './context.ts';

export function actorOf(p: Principal): Actor {
  return p.kind === 'operator' ? { keyId: 'operator', role: 'operator' } : { keyId: p.keyId, role: p.role };
}

export function registerAuth(app: FastifyInstance, deps: ApiDeps): void {
  app.addHook('onRequest', async (req: FastifyRequest) => {
    const rule = req.routeOptions.config?.auth ?? 'public';
    if (rule === 'public') return;
    const principal = await deps.auth.authenticate(req.headers.authorization);
    req.principal = principal;
    const header = req.headers['x-tenant-id'];
    const named = typeof header === 'string' && header !== '' ? header : undefined;

    if (principal.kind === 'operator') {
      if (rule === 'operator') return;
      if (named === undefined) {
        if (rule === 'admin') return; // the operator reading across tenants
        throw new AppError(
          'tenant_header_required',
          'the operator key must name a tenant in the X-Tenant-Id header',
          {
            errors: [{ field: 'X-Tenant-Id', message: 'required with the operator key' }],
          },
        );
      }
      // An unknown or malformed tenant answers 404, like any missing resource.
      if (!isTenantId(named)) throw new AppError('not_found', 'tenant was not found');
      await deps.tenants.exists(named); // trusted for a second once found (TENANT_EXISTS_TTL_MS)
      req.scope = mintTenantScope(named, actorOf(principal));
      return;
    }

    if (rule === 'operator') throw new AppError('forbidden', 'this route needs the operator key');
    if (named !== undefined && named !== principal.tenantId) {
      // A tenant key naming another tenant learns nothing about it.
      throw new AppError('not_found', 'tenant was not found');
    }
    if ((rule === 'tenantAdmin' || rule === 'admin') && principal.role !== 'admin') {
      req.scope = mintTenantScope(principal.tenantId, actorOf(principal));
      throw new AppError('forbidden', `a ${principal.role} key may not do this; it needs an admin key`);
    }
    req.scope = mintTenantScope(principal.tenantId, actorOf(principal));
  });
}
