// The port behind per-tenant rate limits: two token buckets per tenant (requests and rows), taken from
// together or not at all. Two adapters implement it — memory (one process) and Redis (shared by every
// replica, a Lua script) — and the admission code above sizes each bucket from the tenant's own quotas at
// every call, so one store serves every tier and override, and a changed quota is obeyed at once.

/** The two budgets a prediction spends: one request, and one unit per row. */
export type Bucket = 'requests' | 'rows';

/** What one call asks of one bucket: the points it takes (or gives back) and the bucket's size. */
export interface BucketSpend {
  /** Points taken by this call (given back, for `giveBack`). */
  points: number;
  /** Points the bucket holds when full: the largest burst. */
  capacity: number;
  /** Points the bucket refills per millisecond, continuously (the quota per second / 1000). */
  refillPerMs: number;
}

export type Spends = Readonly<Record<Bucket, BucketSpend>>;

export interface TakeResult {
  /** Both buckets had room and both were taken from; otherwise neither was touched. */
  taken: boolean;
  /** Points in use in each bucket after the call (this call's included when taken); fractional. */
  used: Record<Bucket, number>;
}

export interface LimiterCapabilities {
  /** Counts are shared by every process that uses the same store (several API replicas). */
  readonly sharedAcrossProcesses: boolean;
}

export interface TokenBuckets {
  readonly capabilities: LimiterCapabilities;
  /** Takes `points` from both of the key's buckets if both have room for them, else takes nothing. */
  take(key: string, spends: Spends): Promise<TakeResult>;
  /** Gives back points taken for work that was then refused, so a refusal costs no budget. */
  giveBack(key: string, spends: Spends): Promise<void>;
  close(): Promise<void>;
}

/** Floating-point slack when comparing points: a bucket refilled for exactly one point's time has room for it. */
export const POINT_EPSILON = 1e-9;

/** Whole points left in a bucket of `capacity` with `used` in use (never below 0). */
export function pointsLeft(capacity: number, used: number): number {
  return Math.max(0, Math.floor(capacity - used + POINT_EPSILON));
}

/** One key's buckets as stored: points in use in each, as of `at` (epoch ms). Absent = both full. */
export interface BucketState {
  at: number;
  requests: number;
  rows: number;
}

/**
 * The token-bucket rule, pure: bring both buckets up to `now` (each refills `refillPerMs` × elapsed, down
 * to 0 in use), then take both spends if both fit, or give them back. Returns the state to store (absent:
 * nothing changed) and the answer. The Redis adapter's script says the same in Lua.
 */
export function applySpends(
  prev: BucketState | undefined,
  now: number,
  spends: Spends,
  mode: 'take' | 'give',
): { next: BucketState | undefined; result: TakeResult } {
  const elapsed = prev ? Math.max(0, now - prev.at) : 0;
  const refilled = (b: Bucket) => Math.max(0, (prev?.[b] ?? 0) - elapsed * spends[b].refillPerMs);
  const used = { requests: refilled('requests'), rows: refilled('rows') };
  if (mode === 'give') {
    const next = {
      at: now,
      requests: Math.max(0, used.requests - spends.requests.points),
      rows: Math.max(0, used.rows - spends.rows.points),
    };
    return { next, result: { taken: false, used: { requests: next.requests, rows: next.rows } } };
  }
  const fits = (b: Bucket) => used[b] + spends[b].points <= spends[b].capacity + POINT_EPSILON;
  if (!fits('requests') || !fits('rows')) return { next: undefined, result: { taken: false, used } };
  const next = {
    at: now,
    requests: used.requests + spends.requests.points,
    rows: used.rows + spends.rows.points,
  };
  return { next, result: { taken: true, used: { requests: next.requests, rows: next.rows } } };
}

/** Milliseconds until both buckets of a stored state are full again (and the state can be forgotten). */
export function msUntilFull(state: BucketState, spends: Spends): number {
  return Math.max(state.requests / spends.requests.refillPerMs, state.rows / spends.rows.refillPerMs);
}
