// The rate-limit response headers, in the form of draft-ietf-httpapi-ratelimit-headers-06 (the separate
// RateLimit-Limit / -Remaining / -Reset fields most clients and proxies read today) plus Retry-After on refusals.

/** One budget's state in the current window. */
export interface BudgetState {
  /** Points allowed per window. */
  limit: number;
  /** Points counted in the window, this request's included. */
  used: number;
  msBeforeReset: number;
}

/** Whole seconds, rounded up, never 0 for a wait still running: a client must not retry within the window. */
const ceilSeconds = (ms: number): number => Math.max(1, Math.ceil(ms / 1000));

/**
 * The headers of an admitted request. Two budgets (requests and rows) are in force but the fields hold one,
 * so they describe the one nearer to running out; RateLimit-Policy names both.
 */
export function successHeaders(
  requests: BudgetState,
  rows: BudgetState,
  windowSeconds: number,
): Record<string, string> {
  const left = (b: BudgetState) => Math.max(0, b.limit - b.used);
  const tighter = left(rows) / rows.limit < left(requests) / requests.limit ? rows : requests;
  return {
    'RateLimit-Limit': String(tighter.limit),
    'RateLimit-Remaining': String(left(tighter)),
    'RateLimit-Reset': String(Math.ceil(tighter.msBeforeReset / 1000)),
    'RateLimit-Policy': `${requests.limit};w=${windowSeconds};comment="requests", ${rows.limit};w=${windowSeconds};comment="rows"`,
  };
}

/**
 * The headers of a request refused by a budget. `remaining` is what is left after the refused request was
 * taken back: a smaller request may still pass, this one waits for the window to reset.
 */
export function refusalHeaders(
  limit: number,
  remaining: number,
  msBeforeReset: number,
): Record<string, string> {
  const seconds = ceilSeconds(msBeforeReset);
  return {
    'Retry-After': String(seconds),
    'RateLimit-Limit': String(limit),
    'RateLimit-Remaining': String(Math.max(0, remaining)),
    'RateLimit-Reset': String(seconds),
  };
}
