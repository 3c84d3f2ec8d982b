// The audit trail: one hash chain per tenant plus the operator's chain. Entries carry ids and names,
// never tenant data values.
import { verifyChain } from '../core/audit-chain.ts';
import type { Clock } from '../core/clock.ts';
import type { Actor, TenantScope } from '../core/scope.ts';
import type { AuditEntry, AuditOutcome } from '../core/types.ts';
import type { AuditQuery, AuditRepo } from '../store/ports.ts';

export interface AuditRecord {
  actor: Actor;
  tenantId: string | null;
  action: string;
  target: string;
  outcome: AuditOutcome;
  requestId?: string | null;
}

export class AuditService {
  constructor(
    private readonly repo: AuditRepo,
    private readonly clock: Clock,
  ) {}

  record(r: AuditRecord): Promise<AuditEntry> {
    return this.repo.append({
      tenantId: r.tenantId,
      actorKeyId: r.actor.keyId,
      actorRole: r.actor.role,
      action: r.action,
      target: r.target,
      outcome: r.outcome,
      requestId: r.requestId ?? null,
      at: this.clock.now().toISOString(),
    });
  }

  listOwn(scope: TenantScope, q?: AuditQuery): Promise<AuditEntry[]> {
    return this.repo.list(scope, q);
  }

  listAll(q?: AuditQuery & { tenantId?: string | null }): Promise<AuditEntry[]> {
    return this.repo.listAll(q);
  }

  /** Checks the chain against its separately kept head, so a cut-off tail is caught too. */
  async verify(tenantId: string | null): Promise<ReturnType<typeof verifyChain>> {
    const [entries, head] = await Promise.all([this.repo.chain(tenantId), this.repo.head(tenantId)]);
    return verifyChain(entries, { head });
  }

  deleteChain(tenantId: string): Promise<void> {
    return this.repo.deleteChain(tenantId);
  }
}
