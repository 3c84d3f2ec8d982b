// Reading metered usage (docs/metering.md): GET /v1/usage and the operator's report turn the store's sums
// per tenant, period, kind and origin into usage and cost per period; budgets and the CPU-seconds-per-month
// quota read the month so far. Every read is one grouped query.
//
// In a period, `usage` is everything the tenant is charged for — its own use and its apportioned share of
// training shared models — and `sharedUsage` is the part of it that is such a share (origin `shared`), so
// that the report shows what came from shared training. `cost` prices `usage`.
import type { Clock } from '../../core/clock.ts';
import { type FieldError, invalid, invalidFields } from '../../core/errors.ts';
import {
  addTotals,
  type Cost,
  costOf,
  GRANULARITIES,
  type Granularity,
  monthOf,
  monthRange,
  nextPeriod,
  type PriceTable,
  periodStart,
  type SharedCostPolicy,
  type UsageTotals,
} from '../../core/metering.ts';
import type { TenantScope } from '../../core/scope.ts';
import type { Store, UsageQuery, UsageSum } from '../../store/ports.ts';

export interface UsageServiceDeps {
  store: Pick<Store, 'usage'>;
  prices: PriceTable;
  clock: Clock;
  /** Shown in reports: who pays for training shared models (configuration). */
  sharedCost?: SharedCostPolicy;
}

export interface UsagePeriod {
  /** The period's start (ISO, UTC). */
  start: string;
  /** All usage charged to the tenant in the period, its shares of shared training included. */
  usage: UsageTotals;
  /** The part of `usage` apportioned from training shared models (origin `shared`). */
  sharedUsage: UsageTotals;
  /** The cost of `usage`. */
  cost: Cost;
}

export interface TenantUsage {
  tenantId: string;
  /** Periods with usage, oldest first; a period without any is left out. */
  periods: UsagePeriod[];
  total: { usage: UsageTotals; sharedUsage: UsageTotals; cost: Cost };
}

export interface UsageReport {
  from: string;
  to: string;
  granularity: Granularity;
  currency: string;
  prices: PriceTable;
  /** Who pays for training shared models, when configured. */
  sharedCostPolicy?: SharedCostPolicy;
  /** By tenant id. A tenant's own report always holds its entry; the operator's holds tenants with usage. */
  tenants: TenantUsage[];
}

export interface MonthToDate {
  /** `YYYY-MM` */
  month: string;
  /** Everything the tenant is charged for (its shares of shared training included). */
  usage: UsageTotals;
  /** Its own use only (origin own): what its quotas count, e.g. cpuSecondsPerMonth. */
  ownUsage: UsageTotals;
  cost: Cost;
}

/** The query parameters of GET /v1/usage, as received. */
export interface RawUsageQuery {
  from?: string;
  to?: string;
  granularity?: string;
}

const DAY_MS = 86_400_000;

/** The longest range each granularity may be asked for. */
export const MAX_SPAN_DAYS: Readonly<Record<Granularity, number>> = Object.freeze({
  hour: 31,
  day: 366,
  month: 3653,
});

export const DEFAULT_GRANULARITY: Granularity = 'day';

/** The earliest start and the latest end of a usage range (ms). */
const MIN_INSTANT = Date.UTC(1970, 0, 1);
const MAX_INSTANT = Date.UTC(9999, 0, 1);

// A date (midnight UTC) or a date-time with a zone (Z or ±hh:mm); an instant without a zone is ambiguous.
const INSTANT = /^(\d{4})-(\d{2})-(\d{2})(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2}))?$/;

/** Milliseconds of an ISO date or zoned date-time, or null (a day the month does not have included). */
export function parseInstant(text: string): number | null {
  const m = INSTANT.exec(text);
  if (!m) return null;
  const t = Date.parse(m[4] ? text : `${text}T00:00:00Z`);
  if (Number.isNaN(t)) return null;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (mo < 1 || mo > 12 || d < 1 || d > new Date(Date.UTC(y, mo, 0)).getUTCDate()) return null;
  return t;
}

/**
 * Reads GET /v1/usage's query: `from`/`to` ISO instants (a date is its midnight UTC), [from, to), and a
 * granularity (default day). Without both bounds the range is the clock's current month; with one, the
 * month holding it. Throws validation_failed naming `from`, `to` or `granularity`.
 */
export function parseUsageQuery(raw: RawUsageQuery, now: Date): UsageQuery {
  const errors: FieldError[] = [];
  const g = raw.granularity ?? DEFAULT_GRANULARITY;
  const granularity = (GRANULARITIES as readonly string[]).includes(g) ? (g as Granularity) : null;
  if (!granularity)
    errors.push({ field: 'granularity', message: `must be one of ${GRANULARITIES.join(', ')}` });
  const read = (field: 'from' | 'to'): number | null | undefined => {
    const v = raw[field];
    if (v === undefined || v === '') return undefined;
    const t = parseInstant(v);
    if (t === null)
      errors.push({
        field,
        message: 'must be an ISO 8601 date (YYYY-MM-DD) or date-time with a zone (e.g. 2026-01-01T00:00:00Z)',
      });
    return t;
  };
  let from = read('from');
  let to = read('to');
  if (errors.length) throw invalidFields(errors);
  const given = { from: from !== undefined, to: to !== undefined };
  if (from === undefined && to === undefined) {
    from = Date.parse(periodStart(now, 'month'));
    to = Date.parse(nextPeriod(periodStart(now, 'month'), 'month'));
  } else if (from === undefined) {
    from = Date.parse(periodStart(new Date((to as number) - 1), 'month'));
  } else if (to === undefined) {
    to = Date.parse(nextPeriod(periodStart(new Date(from as number), 'month'), 'month'));
  }
  const f = from as number;
  const t = to as number;
  const g2 = granularity as Granularity;
  if (t <= f) throw invalid('to', 'must be after from');
  // Instants the answer can write as ISO 8601 (YYYY, not ±YYYYYY), from the Unix epoch on: the range,
  // defaulted bounds included, lies in [1970-01-01, 9999-01-01). A defaulted bound names the given one.
  if (f < MIN_INSTANT)
    throw invalid(given.from ? 'from' : 'to', 'the range must start on 1970-01-01 or later');
  if (t > MAX_INSTANT) throw invalid(given.to ? 'to' : 'from', 'the range must end on 9999-01-01 or earlier');
  if (t - f > MAX_SPAN_DAYS[g2] * DAY_MS)
    throw invalid('to', `the range may span at most ${MAX_SPAN_DAYS[g2]} days at granularity ${g2}`);
  return { from: new Date(f).toISOString(), to: new Date(t).toISOString(), granularity: g2 };
}

/** Reads a `YYYY-MM` month (field `month`); throws validation_failed naming it. */
export function parseMonth(month: string): { from: string; to: string } {
  const r = monthRange(month);
  if (!r) throw invalid('month', 'must be a month as YYYY-MM');
  return r;
}

export class UsageService {
  constructor(private readonly deps: UsageServiceDeps) {}

  /** Parses a usage query against the service's clock (see parseUsageQuery). */
  query(raw: RawUsageQuery): UsageQuery {
    return parseUsageQuery(raw, this.deps.clock.now());
  }

  /**
   * Usage and cost per tenant and period over [from, to). `'all'` reads every tenant (the shared namespace
   * included): operator only — the caller checks the role.
   */
  async report(target: TenantScope | 'all', q: UsageQuery): Promise<UsageReport> {
    const sums =
      target === 'all' ? await this.deps.store.usage.sumsAll(q) : await this.deps.store.usage.sums(target, q);
    const tenants = this.group(sums);
    if (target !== 'all' && !tenants.some((t) => t.tenantId === target.tenantId))
      tenants.push(this.tenantUsage(target.tenantId, []));
    const { prices, sharedCost } = this.deps;
    return {
      from: q.from,
      to: q.to,
      granularity: q.granularity,
      currency: prices.currency,
      prices: { ...prices },
      ...(sharedCost ? { sharedCostPolicy: sharedCost } : {}),
      tenants,
    };
  }

  /** The tenant's usage and cost in a month (default: the clock's), both origins: one grouped query. */
  async monthToDate(scope: TenantScope, month?: string): Promise<MonthToDate> {
    const m = month ?? monthOf(this.deps.clock.now());
    const range = parseMonth(m);
    const sums = await this.deps.store.usage.sums(scope, { ...range, granularity: 'month' });
    const usage: UsageTotals = {};
    const ownUsage: UsageTotals = {};
    for (const s of sums) {
      usage[s.kind] = (usage[s.kind] ?? 0) + s.quantity;
      if (s.origin === 'own') ownUsage[s.kind] = (ownUsage[s.kind] ?? 0) + s.quantity;
    }
    return { month: m, usage, ownUsage, cost: costOf(usage, this.deps.prices) };
  }

  /** Sums (ordered by tenant, period) into per-tenant periods. */
  private group(sums: UsageSum[]): TenantUsage[] {
    const byTenant = new Map<string, UsageSum[]>();
    for (const s of sums) {
      const list = byTenant.get(s.tenantId);
      if (list) list.push(s);
      else byTenant.set(s.tenantId, [s]);
    }
    return [...byTenant]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([tenantId, list]) => this.tenantUsage(tenantId, list));
  }

  private tenantUsage(tenantId: string, sums: UsageSum[]): TenantUsage {
    const byPeriod = new Map<string, { usage: UsageTotals; sharedUsage: UsageTotals }>();
    for (const s of sums) {
      let p = byPeriod.get(s.period);
      if (!p) {
        p = { usage: {}, sharedUsage: {} };
        byPeriod.set(s.period, p);
      }
      p.usage[s.kind] = (p.usage[s.kind] ?? 0) + s.quantity;
      if (s.origin === 'shared') p.sharedUsage[s.kind] = (p.sharedUsage[s.kind] ?? 0) + s.quantity;
    }
    const usage: UsageTotals = {};
    const sharedUsage: UsageTotals = {};
    const periods: UsagePeriod[] = [...byPeriod]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([start, p]) => {
        addTotals(usage, p.usage);
        addTotals(sharedUsage, p.sharedUsage);
        return { start, usage: p.usage, sharedUsage: p.sharedUsage, cost: costOf(p.usage, this.deps.prices) };
      });
    return { tenantId, periods, total: { usage, sharedUsage, cost: costOf(usage, this.deps.prices) } };
  }
}
