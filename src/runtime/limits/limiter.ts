// The port behind per-tenant rate limits: a counter per (bucket, tenant) over a fixed window. Two adapters
// implement it — memory (one process) and Redis (shared by every replica) — and the admission code above
// judges counts against each tenant's own quota, so one counter serves every tier and override.

/** The two budgets a prediction spends: one request, and one unit per row. */
export type Bucket = 'requests' | 'rows';

export interface WindowCount {
  /** Points counted in the current window, this call's included. */
  consumed: number;
  /** Milliseconds until the current window ends and the count starts again from zero. */
  msBeforeReset: number;
}

export interface LimiterCapabilities {
  /** Counts are shared by every process that uses the same store (several API replicas). */
  readonly sharedAcrossProcesses: boolean;
}

export interface WindowLimiter {
  readonly capabilities: LimiterCapabilities;
  /** Adds `points` to the key's count in the current window and returns the count after it. */
  consume(bucket: Bucket, key: string, points: number): Promise<WindowCount>;
  /** Takes back points counted for work that was then refused, so a refusal costs no budget. */
  refund(bucket: Bucket, key: string, points: number): Promise<void>;
  close(): Promise<void>;
}

/**
 * rate-limiter-flexible rejects once `points` are exceeded; the adapters give it a ceiling no tenant reaches
 * and read the count instead, because each tenant's limit comes from its own quotas.
 */
export const UNBOUNDED_POINTS = Number.MAX_SAFE_INTEGER;
