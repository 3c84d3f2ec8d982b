// Quotas in one place (docs/limits.md#quotas): a tenant's quotas with their source and current use, the
// operator's tier table, and the operator's edits of a tier (in force at once, without restart).
import type { QuotaLineBody, QuotasViewBody, TierEditBody, TierLineBody } from '../../api/budget-schemas.ts';
import type { Tier } from '../../core/tiers.ts';
import { ROUTES } from '../routes.ts';
import type { CallOptions, Transport } from '../transport.ts';

export type { QuotaLineBody, QuotasViewBody, TierEditBody, TierLineBody };

export class QuotasApi {
  readonly #t: Transport;
  constructor(transport: Transport) {
    this.#t = transport;
  }

  /**
   * A tenant key (admin), or the operator with a tenant set: `{tenantId, tier, quotas: [{name, limit,
   * source, used?}]}`. The operator without a tenant: `{tiers: [{tier, defaults, edits, quotas}]}`.
   */
  get(opts: CallOptions = {}): Promise<QuotasViewBody> {
    return this.#t.request(ROUTES.getQuotas, opts);
  }

  /** Operator: replaces the edits of `tier` (`{}` restores its defaults); answers the tier's line. */
  setTier(tier: Tier, quotas: TierEditBody['quotas'], opts: CallOptions = {}): Promise<TierLineBody> {
    return this.#t.request(ROUTES.setTierQuotas, { ...opts, params: { tier }, json: { quotas } });
  }
}
