// The rate-limit response headers, in the form of draft-ietf-httpapi-ratelimit-headers-06 (the separate
// RateLimit-Limit / -Remaining / -Reset fields most clients and proxies read today) plus Retry-After on refusals.
import { pointsLeft } from './limiter.ts';

/** One budget's bucket after a request was taken from it. */
export interface BudgetState {
  /** Points the bucket holds when full (the burst). */
  limit: number;
  /** Points in use, this request's included; fractional (the bucket refills continuously). */
  used: number;
  /** Milliseconds until the bucket is full again. */
  msBeforeReset: number;
}

/** Whole points left in a bucket. */
const left = (b: BudgetState): number => pointsLeft(b.limit, b.used);

/** Whole seconds, rounded up, never 0 for a wait still running: a client must not retry before it fits. */
const ceilSeconds = (ms: number): number => Math.max(1, Math.ceil(ms / 1000));

/**
 * The headers of an admitted request. Two budgets (requests and rows) are in force but the fields hold one,
 * so they describe the one nearer to running out; RateLimit-Policy names both.
 */
export function successHeaders(
  requests: BudgetState,
  rows: BudgetState,
  burstSeconds: number,
): Record<string, string> {
  const tighter = left(rows) / rows.limit < left(requests) / requests.limit ? rows : requests;
  return {
    'RateLimit-Limit': String(tighter.limit),
    'RateLimit-Remaining': String(left(tighter)),
    'RateLimit-Reset': String(Math.ceil(tighter.msBeforeReset / 1000)),
    // q;w=: q points per w seconds — a bucket of `burstSeconds` worth of the quota, refilled over as long.
    'RateLimit-Policy': `${requests.limit};w=${burstSeconds};comment="requests", ${rows.limit};w=${burstSeconds};comment="rows"`,
  };
}

/**
 * The headers of a request refused by a budget. `remaining` is what the bucket holds (the refused request
 * took nothing): a smaller request may still pass; this one fits in `msBeforeRetry`.
 */
export function refusalHeaders(
  limit: number,
  remaining: number,
  msBeforeRetry: number,
): Record<string, string> {
  const seconds = ceilSeconds(msBeforeRetry);
  return {
    'Retry-After': String(seconds),
    'RateLimit-Limit': String(limit),
    'RateLimit-Remaining': String(Math.max(0, remaining)),
    'RateLimit-Reset': String(seconds),
  };
}
