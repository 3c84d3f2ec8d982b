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
import type { QuotaSource } from './quotas.ts';
import { type TtlMemo, ttlMemo } from './ttl-memo.ts';

/**
 * How long a tenant found is trusted to exist without asking the store (the operator's X-Tenant-Id names
 * one on every request). A deletion in this process forgets it at once; other replicas within this time.
 */
export const TENANT_EXISTS_TTL_MS = 1000;

export interface CreateTenantInput {
  id?: string;
  name: string;
  tier?: Tier;
  sharedTraining?: boolean;
  quotaOverrides?: Partial<Quotas>;
}

export class TenantService {
  /** Tenants found to exist, for TENANT_EXISTS_TTL_MS. */
  private readonly known: TtlMemo<true>;

  constructor(
    private readonly repo: TenantRepo,
    private readonly keyring: KeyRing,
    private readonly artifacts: TenantArtifacts,
    private readonly audit: AuditService,
    private readonly clock: Clock,
    private readonly random: Random,
    /** Told when a tenant's data may no longer train shared models (consent withdrawn, tenant deleted). */
    private readonly onWithdrawal?: (w: Withdrawal) => Promise<unknown>,
    /** The operator's tier edits (services/quotas.ts); without it the built-in tier defaults hold. */
    private readonly quotaSource?: QuotaSource,
  ) {
    this.known = ttlMemo<true>({ ttlMs: TENANT_EXISTS_TTL_MS, clock, maxKeys: 100_000 });
  }

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

  /**
   * Resolves when the tenant exists, else 404 like `get`. A tenant found is trusted for
   * TENANT_EXISTS_TTL_MS; an absent one is asked about again every time (a tenant just created is found).
   */
  async exists(id: string): Promise<void> {
    if (!isTenantId(id)) throw notFound('tenant');
    await this.known.get(id, async () => {
      if (!(await this.repo.get(id))) throw notFound('tenant');
      return true;
    });
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
    if (patch.tier !== undefined || patch.quotaOverrides !== undefined) this.quotaSource?.changed(id);
    if (before?.sharedTraining && !t.sharedTraining)
      await this.onWithdrawal?.({ tenantId: id, reason: 'consent-withdrawn' });
    return t;
  }

  /**
   * Called after a tenant's key is forgotten and before its artifacts are deleted: what still holds its
   * data in memory (the prediction log's buffer and writer) lets go of it, so nothing is written into the
   * folder being deleted. Set by the composition root (the inference plane is built after this service).
   */
  beforeArtifactsDeleted?: (tenantId: string) => Promise<void>;

  async delete(id: string): Promise<void> {
    const deleted = isTenantId(id) && (await this.repo.delete(id));
    this.known.delete(id); // after the rows are gone: an `exists` racing the deletion cannot bring it back
    if (!deleted) throw notFound('tenant');
    this.keyring.forget(id);
    await this.beforeArtifactsDeleted?.(id);
    await this.artifacts.deleteTenant(id);
    await this.audit.deleteChain(id);
    await this.onWithdrawal?.({ tenantId: id, reason: 'tenant-deleted' });
  }

  /** The quotas in force from the tier edits as last read (no I/O); `quotasOf` reads stale edits first. */
  quotas(t: Tenant): Quotas {
    return effectiveQuotas(t.tier, t.quotaOverrides, this.quotaSource?.current());
  }

  /** The quotas in force: tier defaults, the operator's tier edits (fresh within their TTL), overrides. */
  async quotasOf(t: Tenant): Promise<Quotas> {
    return effectiveQuotas(t.tier, t.quotaOverrides, await this.quotaSource?.fresh());
  }
}
