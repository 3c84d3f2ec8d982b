// Usage metering, pricing and budgets — the pure part (docs/metering.md). Usage arrives as events, each
// with a unique id so that a replayed event counts once; events are summed per tenant, period and kind;
// a price table turns sums into cost; a budget turns month-to-date cost into alerts and refusals.

/** What is metered. Quantities are in the unit the name ends with (rows, seconds, byte-hours, runs). */
export const USAGE_KINDS = [
  'training_cpu_seconds',
  'training_wall_seconds',
  'training_rows',
  'predict_requests',
  'predicted_rows',
  'inference_cpu_seconds',
  'storage_byte_hours',
  'monitoring_runs',
] as const;
export type UsageKind = (typeof USAGE_KINDS)[number];

/**
 * Where a quantity comes from: the tenant's own use, or its apportioned share of training a shared model
 * (by rows contributed, when the operator apportions shared training cost to the contributors).
 */
export type UsageOrigin = 'own' | 'shared';

export interface UsageEvent {
  /** Unique; an event whose id is already stored is not counted again. */
  id: string;
  tenantId: string;
  kind: UsageKind;
  quantity: number;
  /** When the usage happened (ISO 8601, UTC); it is counted in the hour, day and month holding it. */
  at: string;
  /** What it was about: a job id, a model name, a storage category (datasets, models, logs). */
  subject: string | null;
  origin: UsageOrigin;
}

/**
 * Why an event cannot be stored, or null when it can: a non-empty id and tenant, a known kind and origin,
 * a finite quantity > 0 and an instant `at`. The meter drops such an event (logged) instead of writing it:
 * on SQLite a NaN fails the batch's NOT NULL check on every retry, on PostgreSQL it is stored and turns
 * every sum and cost of the month into NaN.
 */
export function usageEventProblem(e: UsageEvent): string | null {
  if (typeof e.id !== 'string' || e.id === '') return 'id must be a non-empty string';
  if (typeof e.tenantId !== 'string' || e.tenantId === '') return 'tenantId must be a non-empty string';
  if (!(USAGE_KINDS as readonly string[]).includes(e.kind)) return 'kind is not a usage kind';
  if (e.origin !== 'own' && e.origin !== 'shared') return 'origin must be own or shared';
  if (typeof e.quantity !== 'number' || !Number.isFinite(e.quantity) || !(e.quantity > 0))
    return 'quantity must be a finite number > 0';
  if (typeof e.at !== 'string' || Number.isNaN(Date.parse(e.at))) return 'at must be an ISO 8601 instant';
  return null;
}

export const GRANULARITIES = ['hour', 'day', 'month'] as const;
export type Granularity = (typeof GRANULARITIES)[number];

/** Sums by kind (absent kinds are 0). */
export type UsageTotals = Partial<Record<UsageKind, number>>;

/** The start of the hour, day or month (UTC) holding `at`, as an ISO string. */
export function periodStart(at: Date | string, g: Granularity): string {
  const d = typeof at === 'string' ? new Date(at) : at;
  const y = d.getUTCFullYear();
  const m = d.getUTCMonth();
  if (g === 'month') return new Date(Date.UTC(y, m, 1)).toISOString();
  if (g === 'day') return new Date(Date.UTC(y, m, d.getUTCDate())).toISOString();
  return new Date(Date.UTC(y, m, d.getUTCDate(), d.getUTCHours())).toISOString();
}

/** The start of the period after the one starting at `start`. */
export function nextPeriod(start: string, g: Granularity): string {
  const d = new Date(start);
  if (g === 'month') return new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1)).toISOString();
  return new Date(d.getTime() + (g === 'day' ? 86_400_000 : 3_600_000)).toISOString();
}

/** `YYYY-MM` of the UTC month holding `at`. */
export function monthOf(at: Date | string): string {
  return periodStart(at, 'month').slice(0, 7);
}

const MONTH = /^(\d{4})-(0[1-9]|1[0-2])$/;

/** [from, to) of a `YYYY-MM` month, or null when the text is not one. */
export function monthRange(month: string): { from: string; to: string } | null {
  const m = MONTH.exec(month);
  if (!m) return null;
  const from = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, 1)).toISOString();
  return { from, to: nextPeriod(from, 'month') };
}

/**
 * The price table (configurable: TENANTML_PRICES). CPU-seconds of training and of inference are priced
 * alike; predictions per 1,000 predicted rows (one instance is one prediction); storage per GB-month
 * (10^9 bytes held for 730 hours); a monitoring run per run.
 */
export interface PriceTable {
  currency: string;
  cpuSecond: number;
  per1000Predictions: number;
  gbMonth: number;
  monitoringRun: number;
}

export const DEFAULT_PRICES: Readonly<PriceTable> = Object.freeze({
  currency: 'USD',
  cpuSecond: 0.00005,
  per1000Predictions: 0.01,
  gbMonth: 0.1,
  monitoringRun: 0.0001,
});

export const HOURS_PER_MONTH = 730;
const GB = 1e9;

/** Cost by line and in total, in the table's currency. */
export interface Cost {
  training: number;
  inference: number;
  predictions: number;
  storage: number;
  monitoring: number;
  total: number;
}

export function costOf(t: UsageTotals, p: PriceTable): Cost {
  const training = (t.training_cpu_seconds ?? 0) * p.cpuSecond;
  const inference = (t.inference_cpu_seconds ?? 0) * p.cpuSecond;
  const predictions = ((t.predicted_rows ?? 0) / 1000) * p.per1000Predictions;
  const storage = ((t.storage_byte_hours ?? 0) / GB / HOURS_PER_MONTH) * p.gbMonth;
  const monitoring = (t.monitoring_runs ?? 0) * p.monitoringRun;
  return {
    training,
    inference,
    predictions,
    storage,
    monitoring,
    total: training + inference + predictions + storage + monitoring,
  };
}

/** Adds `b` into `a` (in place) and returns `a`. */
export function addTotals(a: UsageTotals, b: UsageTotals): UsageTotals {
  for (const k of USAGE_KINDS) {
    const v = b[k];
    if (v) a[k] = (a[k] ?? 0) + v;
  }
  return a;
}

/**
 * Who pays for training a shared model: the tenants whose rows trained it, in proportion to their rows
 * (`contributors`), or the operator alone (`operator`: the usage stays with the shared namespace).
 */
export type SharedCostPolicy = 'contributors' | 'operator';

/**
 * Splits `quantity` over contributors in proportion to their rows; the shares sum to `quantity` exactly,
 * in any order (the last takes the remainder; the others are rounded to a grid 2^40 times finer than
 * `quantity`, so that every partial sum is a representable double). No rows: nothing to split.
 */
export function apportion(
  quantity: number,
  contributors: readonly { tenantId: string; rows: number }[],
): { tenantId: string; quantity: number }[] {
  const rows = contributors.reduce((s, c) => s + Math.max(0, c.rows), 0);
  if (rows <= 0) return [];
  const out: { tenantId: string; quantity: number }[] = [];
  // The remainder `quantity - given` alone would not do: given + (quantity - given) may round away
  // from quantity. On the grid every share, every partial sum and the remainder are exact.
  const grid = quantity > 0 ? 2 ** (Math.floor(Math.log2(quantity)) - 40) : 0;
  const onGrid = (x: number): number => (grid > 0 ? Math.round(x / grid) * grid : x);
  let given = 0;
  contributors.forEach((c, i) => {
    const q =
      i === contributors.length - 1 ? quantity - given : onGrid((quantity * Math.max(0, c.rows)) / rows);
    given += q;
    out.push({ tenantId: c.tenantId, quantity: q });
  });
  return out;
}

/** A tenant's monthly budget (PUT /v1/budget). */
export interface Budget {
  /** Spend allowed per calendar month (UTC), in the price table's currency. */
  monthly: number;
  /** Fractions of `monthly` at which an alert is sent once per month, ascending, each in (0, 10]. */
  alertAt: number[];
  /** At 100%: refuse new training jobs with 402. */
  hardLimit: boolean;
  /** With hardLimit: refuse predictions too. */
  blockPredictions: boolean;
  /** The operator lifted the hard limit for this month (`YYYY-MM`), or null. */
  overrideMonth: string | null;
}

export const DEFAULT_ALERT_AT: readonly number[] = Object.freeze([0.5, 0.8, 1]);

export interface BudgetState {
  month: string;
  spent: number;
  limit: number;
  /** spent / limit (Infinity for a zero limit with any spend). */
  ratio: number;
  /** Thresholds reached this month. */
  reached: number[];
  /** What the hard limit refuses now. */
  blocks: { training: boolean; predictions: boolean };
}

export function budgetState(b: Budget, spent: number, month: string): BudgetState {
  const ratio = b.monthly > 0 ? spent / b.monthly : spent > 0 ? Number.POSITIVE_INFINITY : 0;
  const reached = b.alertAt.filter((t) => ratio >= t);
  const over = b.hardLimit && spent >= b.monthly && b.overrideMonth !== month;
  return {
    month,
    spent,
    limit: b.monthly,
    ratio,
    reached,
    blocks: { training: over, predictions: over && b.blockPredictions },
  };
}

/** Thresholds reached and not yet alerted this month: each alerts once. */
export function thresholdsToAlert(state: BudgetState, alerted: readonly number[]): number[] {
  return state.reached.filter((t) => !alerted.includes(t));
}
