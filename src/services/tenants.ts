// Tenant administration (operator): creation with a fresh data key, consent changes with history, and
// deletion that removes rows and artifacts and destroys the data key (crypto-shredding).
import type { Clock, Random } from '../core/clock.ts';
import { AppError, notFound } from '../core/errors.ts';
import { isTenantId, newId } from '../core/ids.ts';
import { type Actor, mintTenantScope } from '../core/scope.ts';
import { effectiveQuotas, type Quotas, type Tier } from '../core/tiers.ts';
import type { ConsentChange, Tenant } from '../core/types.ts';
import type { TenantPatch, TenantRepo } from '../store/ports.ts';
import type { TenantArtifacts } from './artifacts.ts';
import type { AuditService } from './audit.ts';
import type { KeyRing } from './keyring.ts';
import type { Withdrawal } from './provenance.ts';

export interface CreateTenantInput {
  id?: string;
  name: string;
  tier?: Tier;
  sharedTraining?: boolean;
  quotaOverrides?: Partial<Quotas>;
}

export class TenantService {
  constructor(
    private readonly repo: TenantRepo,
    private readonly keyring: KeyRing,
    private readonly artifacts: TenantArtifacts,
    private readonly audit: AuditService,
    private readonly clock: Clock,
    private readonly random: Random,
    /** Told when a tenant's data may no longer train shared models (consent withdrawn, tenant deleted). */
    private readonly onWithdrawal?: (w: Withdrawal) => Promise<unknown>,
  ) {}

  async create(input: CreateTenantInput, actor: Actor): Promise<Tenant> {
    const id = input.id ?? newId('t', this.random).replace('_', '-');
    if (!isTenantId(id))
      throw new AppError('validation_failed', 'invalid tenant id', {
        errors: [{ field: 'id', message: 'lower-case letters, digits and dashes, 1–63 characters' }],
      });
    return this.repo.create(
      {
        id,
        name: input.name,
        tier: input.tier ?? 'standard',
        sharedTraining: input.sharedTraining ?? false,
        quotaOverrides: input.quotaOverrides ?? {},
        wrappedDataKey: this.keyring.newWrappedKey(id),
      },
      actor.keyId,
      this.clock.now().toISOString(),
    );
  }

  list(): Promise<Tenant[]> {
    return this.repo.list();
  }

  /** The tenant, or 404 — the same answer for absent ids and malformed ones. */
  async get(id: string): Promise<Tenant> {
    const t = isTenantId(id) ? await this.repo.get(id) : null;
    if (!t) throw notFound('tenant');
    return t;
  }

  async consentHistory(id: string, actor: Actor): Promise<ConsentChange[]> {
    return this.repo.consentHistory(mintTenantScope(id, actor));
  }

  async update(id: string, patch: TenantPatch, actor: Actor): Promise<Tenant> {
    const before = isTenantId(id) ? await this.repo.get(id) : null;
    const t = before ? await this.repo.update(id, patch, actor.keyId, this.clock.now().toISOString()) : null;
    if (!t) throw notFound('tenant');
    if (before?.sharedTraining && !t.sharedTraining)
      await this.onWithdrawal?.({ tenantId: id, reason: 'consent-withdrawn' });
    return t;
  }

  async delete(id: string): Promise<void> {
    if (!isTenantId(id) || !(await this.repo.delete(id))) throw notFound('tenant');
    this.keyring.forget(id);
    await this.artifacts.deleteTenant(id);
    await this.audit.deleteChain(id);
    await this.onWithdrawal?.({ tenantId: id, reason: 'tenant-deleted' });
  }

  quotas(t: Tenant): Quotas {
    return effectiveQuotas(t.tier, t.quotaOverrides);
  }
}
