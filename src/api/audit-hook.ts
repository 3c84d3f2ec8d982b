// Every mutating call leaves an audit entry — success, refusal or failure — written before the response
// is sent, so a client that reads the audit log right after its call finds the entry.
import type { FastifyInstance } from 'fastify';
import type { AuditOutcome } from '../core/types.ts';
import { actorOf } from './auth.ts';
import type { ApiDeps } from './context.ts';

function outcomeOf(status: number): AuditOutcome {
  if (status < 400) return 'ok';
  if (status === 401 || status === 403 || status === 404) return 'denied';
  return 'failed';
}

export function registerAuditHook(app: FastifyInstance, deps: ApiDeps): void {
  app.addHook('onSend', async (req, reply, payload) => {
    const action = req.routeOptions.config?.audit;
    if (!action || !req.principal) return payload; // unauthenticated attempts are logged, not audited
    const params = (req.params ?? {}) as Record<string, string>;
    const target = req.auditTarget ?? params.name ?? params.keyId ?? params.id ?? '';
    try {
      await deps.audit.record({
        actor: actorOf(req.principal),
        tenantId: req.scope?.tenantId ?? req.auditTenant ?? null,
        action,
        target: target.slice(0, 200),
        outcome: outcomeOf(reply.statusCode),
        requestId: req.id,
      });
    } catch (err) {
      req.log.error({ err, action }, 'audit append failed');
    }
    return payload;
  });
}
