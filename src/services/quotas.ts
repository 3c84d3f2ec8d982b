// Quotas in one place (docs/limits.md#quotas): the tier defaults built into core/tiers.ts, the operator's
// run-time edits of each tier (TierQuotaRepo), and each tenant's own overrides. The tier edits are held in
// memory and read again at most every TTL (≤ 2 s, so every replica follows an edit made elsewhere) and at
// once after an edit made here; listeners (the inference plane's limits memo) hear of every local change.
import { AppError, invalidFields, notFound } from '../core/errors.ts';
import { monthOf } from '../core/metering.ts';
import type { TenantScope } from '../core/scope.ts';
import {
  effectiveQuotas,
  QUOTA_NAMES,
  type Quotas,
  TIER_QUOTAS,
  TIERS,
  type Tier,
  type TierEdits,
} from '../core/tiers.ts';
import type { Tenant } from '../core/types.ts';
import type { Store, TierQuotaRepo } from '../store/ports.ts';

/** How long the tier edits are reused before they are read again, ms. */
export const TIER_EDITS_TTL_MS = 1000;

export type QuotaName = (typeof QUOTA_NAMES)[number];

/** Where a quota's value in force comes from. */
export type QuotaSourceKind = 'tier' | 'tierEdit' | 'override';

/** One quota of a tenant: its value in force, where it comes from, and the current use when measurable. */
export interface QuotaLine {
  name: QuotaName;
  limit: number;
  source: QuotaSourceKind;
  used?: number;
}

/** One tier's quotas: the defaults, the operator's edits, and what is in force (defaults + edits). */
export interface TierLine {
  tier: Tier;
  defaults: Quotas;
  edits: Partial<Quotas>;
  quotas: Quotas;
}

/** What the tenants' quotas are computed from (TenantService reads it). */
export interface QuotaSource {
  /** The tier edits as last read (no I/O); a stale copy starts a read in the background. */
  current(): TierEdits;
  /** The tier edits, read again first when older than the TTL. */
  fresh(): Promise<TierEdits>;
  /** Tells the listeners a quota changed (a tier edit, or a tenant's tier or overrides). */
  changed(tenantId?: string): void;
}

/** Current use of the measurable quotas; each figure is optional (a reader that fails leaves it out). */
export interface QuotaUsageReaders {
  store: Pick<Store, 'datasets' | 'jobs'>;
  /** Bytes stored for the tenant: datasets, models and logs (services/metering/storage.ts). */
  storageBytes?: (scope: TenantScope) => Promise<{ total: number }>;
  /** This month's usage (services/metering/usage.ts). */
  monthToDate?: (
    scope: TenantScope,
    month?: string,
  ) => Promise<{ ownUsage: { training_cpu_seconds?: number } }>;
}

export interface QuotaServiceDeps {
  repo: TierQuotaRepo;
  /** For the month of the CPU-seconds figure. */
  clock: { now(): Date };
  ttlMs?: number;
  /** Monotonic milliseconds for the TTL (default performance.now). */
  nowMs?: () => number;
  usage?: QuotaUsageReaders;
  warn?: (obj: Record<string, unknown>, msg: string) => void;
}

const isQuotaName = (k: string): k is QuotaName => (QUOTA_NAMES as readonly string[]).includes(k);

/** The largest value a quota may take (the JSON-safe integers). */
const MAX_QUOTA = Number.MAX_SAFE_INTEGER;

/** Field errors of a tier edit `{quotas: {...}}`: unknown names, non-integers, negatives. */
export function tierEditProblems(quotas: unknown): { field: string; message: string }[] {
  if (typeof quotas !== 'object' || quotas === null || Array.isArray(quotas))
    return [{ field: 'quotas', message: 'must be an object of quota names to whole numbers' }];
  const out: { field: string; message: string }[] = [];
  for (const [k, v] of Object.entries(quotas)) {
    if (!isQuotaName(k))
      out.push({ field: `quotas.${k}`, message: `is not a quota; quotas: ${QUOTA_NAMES.join(', ')}` });
    else if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > MAX_QUOTA)
      out.push({ field: `quotas.${k}`, message: 'must be a whole number >= 0' });
  }
  return out;
}

export class QuotaService implements QuotaSource {
  private edits: TierEdits = {};
  private loadedAt = Number.NEGATIVE_INFINITY;
  private loadedOnce = false;
  private loading: Promise<TierEdits> | null = null;
  private readonly listeners = new Set<(tenantId?: string) => void>();

  constructor(private readonly deps: QuotaServiceDeps) {}

  private get ttlMs(): number {
    return this.deps.ttlMs ?? TIER_EDITS_TTL_MS;
  }

  private nowMs(): number {
    return (this.deps.nowMs ?? (() => performance.now()))();
  }

  current(): TierEdits {
    if (this.nowMs() - this.loadedAt >= this.ttlMs) void this.fresh().catch(() => {});
    return this.edits;
  }

  fresh(): Promise<TierEdits> {
    if (this.nowMs() - this.loadedAt < this.ttlMs) return Promise.resolve(this.edits);
    // A failed read keeps the last edits read (logged); with none read yet, the failure is the answer.
    return this.reload().catch((err) => {
      if (this.loadedOnce) return this.edits;
      throw err;
    });
  }

  /** Reads the edits now (one read at a time; callers during a read share it). */
  private reload(): Promise<TierEdits> {
    if (this.loading) return this.loading;
    const started = this.nowMs();
    const p = this.deps.repo
      .all()
      .then((edits) => {
        const changed = this.loadedOnce && JSON.stringify(edits) !== JSON.stringify(this.edits);
        this.edits = edits;
        this.loadedAt = started;
        this.loadedOnce = true;
        // An edit made on another replica: the memos built on the old values are dropped here too.
        if (changed) this.notify();
        return edits;
      })
      .catch((err) => {
        this.deps.warn?.({ err: String(err) }, 'quotas: the tier edits could not be read; keeping the last');
        throw err;
      })
      .finally(() => {
        this.loading = null;
      });
    this.loading = p;
    return p;
  }

  onChange(listener: (tenantId?: string) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  changed(tenantId?: string): void {
    this.notify(tenantId);
  }

  private notify(tenantId?: string): void {
    for (const l of this.listeners) {
      try {
        l(tenantId);
      } catch {
        // a listener's failure is its own
      }
    }
  }

  /** The quotas in force for a tenant (reading the tier edits first when stale). */
  async of(t: Pick<Tenant, 'tier' | 'quotaOverrides'>): Promise<Quotas> {
    return effectiveQuotas(t.tier, t.quotaOverrides, await this.fresh());
  }

  /** Operator: every tier's defaults, edits and quotas in force. */
  async tiers(): Promise<TierLine[]> {
    const edits = await this.fresh();
    return TIERS.map((tier) => ({
      tier,
      defaults: { ...TIER_QUOTAS[tier] },
      edits: { ...edits[tier] },
      quotas: effectiveQuotas(tier, {}, edits),
    }));
  }

  /**
   * Operator: replaces the edits of one tier (`{}` restores the defaults). Takes effect here at once and on
   * other replicas within the TTL.
   */
  async setTier(tier: string, quotas: unknown, at: string): Promise<TierLine> {
    if (!(TIERS as readonly string[]).includes(tier)) throw notFound('tier');
    const problems = tierEditProblems(quotas);
    if (problems.length > 0) throw invalidFields(problems);
    const clean: Partial<Quotas> = {};
    for (const [k, v] of Object.entries(quotas as Record<string, number>)) if (isQuotaName(k)) clean[k] = v;
    await this.deps.repo.set(tier as Tier, clean, at);
    this.loadedAt = Number.NEGATIVE_INFINITY;
    await this.loading?.catch(() => {}); // a read begun before the edit must not be the one kept
    await this.reload();
    this.notify();
    const line = (await this.tiers()).find((l) => l.tier === tier);
    if (!line) throw new AppError('internal', 'tier vanished');
    return line;
  }

  /** A tenant's quotas: value, source and current use where it is measurable (GET /v1/quotas). */
  async forTenant(scope: TenantScope, t: Pick<Tenant, 'tier' | 'quotaOverrides'>): Promise<QuotaLine[]> {
    const edits = await this.fresh();
    const q = effectiveQuotas(t.tier, t.quotaOverrides, edits);
    const used = await this.measure(scope);
    return QUOTA_NAMES.map((name) => {
      const source: QuotaSourceKind =
        t.quotaOverrides[name] !== undefined
          ? 'override'
          : edits[t.tier]?.[name] !== undefined
            ? 'tierEdit'
            : 'tier';
      const line: QuotaLine = { name, limit: q[name], source };
      if (used[name] !== undefined) line.used = used[name];
      return line;
    });
  }

  /** Current use of the quotas that have one. Each figure is independent: one failing leaves out only it. */
  private async measure(scope: TenantScope): Promise<Partial<Record<QuotaName, number>>> {
    const u = this.deps.usage;
    if (!u) return {};
    const out: Partial<Record<QuotaName, number>> = {};
    const tryRead = async (names: QuotaName[], read: () => Promise<number[]>): Promise<void> => {
      try {
        const values = await read();
        names.forEach((n, i) => {
          out[n] = values[i];
        });
      } catch (err) {
        this.deps.warn?.(
          { tenantId: scope.tenantId, quotas: names, err: String(err) },
          'quotas: use unknown',
        );
      }
    };
    await Promise.all([
      tryRead(['datasets'], async () => [await u.store.datasets.count(scope)]),
      tryRead(['storageBytes'], async () => [
        u.storageBytes ? (await u.storageBytes(scope)).total : await u.store.datasets.storedBytes(scope),
      ]),
      tryRead(['queuedJobs', 'concurrentJobs'], async () => {
        const { queued, running } = await u.store.jobs.countOf(scope);
        return [queued, running];
      }),
      ...(u.monthToDate
        ? [
            tryRead(['cpuSecondsPerMonth'], async () => {
              const m = await u.monthToDate!(scope, monthOf(this.deps.clock.now()));
              return [m.ownUsage.training_cpu_seconds ?? 0];
            }),
          ]
        : []),
    ]);
    return out;
  }
}
