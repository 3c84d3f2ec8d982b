// Admission to the predict path: a request passes the tenant's rate budgets (requests/s, rows/s), then its
// in-flight cap, then waits for one of the process's serving slots in a queue that is fair across tenants;
// beyond the queue bounds it is shed. The caller holds the Ticket while it works and releases it after.
import { type Clock, systemClock } from '../../core/clock.ts';
import { AppError } from '../../core/errors.ts';
import type { Quotas } from '../../core/tiers.ts';
import { FairQueue, type QueueEntry } from './fair-queue.ts';
import { type BudgetState, refusalHeaders, successHeaders } from './headers.ts';
import type { Bucket, LimiterCapabilities, WindowCount, WindowLimiter } from './limiter.ts';
import { createMemoryLimiter } from './memory-limiter.ts';
import { createRedisLimiter } from './redis-limiter.ts';

export interface AdmissionOptions {
  /** Requests served at once in this process, all tenants together; more wait in the fair queue. Default 64. */
  maxConcurrent?: number;
  /** Requests waiting in this process, all tenants together; beyond it requests are shed (503). Default 1024. */
  maxQueued?: number;
  /** Requests of one tenant waiting in this process; beyond it its requests are shed (503). Default 128. */
  maxQueuedPerTenant?: number;
  /** Length of a rate window, whole seconds: a tenant may spend quota × window at once. Default 1. */
  windowSeconds?: number;
  /** Counts go to this Redis and are shared by every replica using it; absent, they stay in memory. */
  redisUrl?: string;
  /** Prefix of the Redis keys. Default "tenantml:limits". */
  keyPrefix?: string;
  /** A slower Redis answer counts as a failure and this process's memory answers instead, ms. Default 100. */
  redisTimeoutMs?: number;
  /** After a Redis failure, Redis is skipped this long, ms. Default 1000. */
  redisRetryAfterFailureMs?: number;
  /** An adapter of the limiter port to use instead of memory or Redis (tests, other stores). */
  limiter?: WindowLimiter;
  /** Retry-After of a shed request, seconds. Default 1. */
  shedRetryAfterSeconds?: number;
  /**
   * A request refused because its tenant's rate budget is spent for the rest of the window is answered
   * only after min(the rest of the window, holdMs), ms (`holdRefusal`): a client that ignores Retry-After
   * then waits on its own connection instead of spending the event loop its neighbours share. 0: at once.
   * Default 0 (the platform sets TENANTML_RATE_LIMIT_HOLD_MS).
   */
  holdMs?: number;
  /** Refusals held at once, all tenants; beyond it a refusal is answered at once. Default 10,000. */
  maxHeld?: number;
  clock?: Clock;
  /** Told of each limiter store failure, for a warning log or metric; the store's memory fallback answered. */
  onLimiterError?: (err: unknown) => void;
}

/** The quotas admission reads (a tenant's effective quotas satisfy it). */
export type AdmissionQuotas = Pick<Quotas, 'requestsPerSecond' | 'predictionsPerSecond' | 'inFlightRequests'>;

export interface AdmitOptions {
  /** The tenant's share of contended slots, relative to others (TIER_WEIGHTS of its tier). Default 1. */
  weight?: number;
  /**
   * Aborting it takes a waiting request out of the queue (client gone, deadline passed): 503. A function
   * is called only when the request has to wait, so a request admitted at once makes no signal at all.
   */
  signal?: AbortSignal | (() => AbortSignal);
}

export interface Ticket {
  /** Gives the slot back; the caller calls it once the request is answered or its client went away. Idempotent. */
  release(): void;
  /** RateLimit-* headers for the response. */
  readonly headers: Readonly<Record<string, string>>;
}

export interface AdmissionStats {
  running: number;
  queued: number;
  /** Admitted and not released, queued ones included, all tenants. */
  inFlight: number;
  admitted: number;
  /** Refused with 429 (rate budgets and in-flight caps). */
  rateLimited: number;
  /** Refused with 503 (queue bounds, displaced, cancelled while waiting). */
  shed: number;
  /** Limiter store failures answered by the memory fallback. */
  limiterErrors: number;
  /** Refusals being held now (`holdRefusal`). */
  held: number;
}

export interface Admission {
  readonly capabilities: LimiterCapabilities;
  /** Resolves once the request may run; rejects with AppError rate_limited (429), overloaded (503), quota_exceeded (422). */
  admit(tenantId: string, rows: number, quotas: AdmissionQuotas, opts?: AdmitOptions): Promise<Ticket>;
  /**
   * The 429 `admit` would answer at once because the tenant's budget is known to be spent for the rest of
   * its window, or undefined. Synchronous and store-free: a flooding tenant can be refused before its
   * request body is even read.
   */
  spent(tenantId: string, quotas: AdmissionQuotas): AppError | undefined;
  /**
   * Resolves when a 429 of this tenant may be sent: at once unless the tenant's budget is known to be spent
   * for the rest of its window, then after min(the rest of the window, holdMs). Never rejects; `close`
   * ends every hold.
   */
  holdRefusal(tenantId: string): Promise<void>;
  stats(): AdmissionStats;
  /** Refuses every waiting request (503 unavailable), ends every hold and closes the limiter store. */
  close(): Promise<void>;
}

type RateLimitName = 'requestsPerSecond' | 'predictionsPerSecond';

interface Waiter {
  tenantId: string;
  cost: number;
  headers: Record<string, string>;
  resolve: (t: Ticket) => void;
  reject: (e: unknown) => void;
  detach: () => void;
}

export function createAdmission(opts: AdmissionOptions = {}): Admission {
  const clock = opts.clock ?? systemClock;
  const windowSeconds = positiveInt('windowSeconds', opts.windowSeconds ?? 1);
  const maxConcurrent = positiveInt('maxConcurrent', opts.maxConcurrent ?? 64);
  const maxQueued = nonNegativeInt('maxQueued', opts.maxQueued ?? 1024);
  const maxQueuedPerTenant = nonNegativeInt('maxQueuedPerTenant', opts.maxQueuedPerTenant ?? 128);
  const shedRetryAfter = String(positiveInt('shedRetryAfterSeconds', opts.shedRetryAfterSeconds ?? 1));
  const holdMs = nonNegativeInt('holdMs', opts.holdMs ?? 0);
  const maxHeld = nonNegativeInt('maxHeld', opts.maxHeld ?? 10_000);
  /** The holds running: each one's timer and its resolve, so that close ends them at once. */
  const holds = new Map<ReturnType<typeof setTimeout>, () => void>();
  const stats = { admitted: 0, rateLimited: 0, shed: 0, limiterErrors: 0 };
  const onLimiterError = (err: unknown) => {
    stats.limiterErrors++;
    opts.onLimiterError?.(err);
  };
  const limiter =
    opts.limiter ??
    (opts.redisUrl
      ? createRedisLimiter({
          url: opts.redisUrl,
          keyPrefix: opts.keyPrefix ?? 'tenantml:limits',
          windowSeconds,
          timeoutMs: opts.redisTimeoutMs ?? 100,
          retryAfterFailureMs: opts.redisRetryAfterFailureMs ?? 1000,
          clock,
          onError: onLimiterError,
        })
      : createMemoryLimiter({ windowSeconds }));

  const queue = new FairQueue<Waiter>();
  const inFlight = new Map<string, number>();
  let inFlightTotal = 0;
  let running = 0;
  let closed = false;
  // A tenant whose budget is spent is refused here until its window resets, without asking the store:
  // a flooding tenant then costs no Redis round trip per request.
  const spent = new Map<string, { until: number; limit: RateLimitName; allowed: number }>();
  const pendingRefunds = new Set<Promise<void>>();

  const now = () => clock.now().getTime();

  const refund = (tenantId: string, cost: number): void => {
    const p = Promise.all([limiter.refund('requests', tenantId, 1), limiter.refund('rows', tenantId, cost)])
      .then(() => undefined)
      .catch(onLimiterError);
    pendingRefunds.add(p);
    void p.finally(() => pendingRefunds.delete(p));
  };

  const leave = (tenantId: string): void => {
    const n = (inFlight.get(tenantId) ?? 1) - 1;
    if (n > 0) inFlight.set(tenantId, n);
    else inFlight.delete(tenantId);
    inFlightTotal--;
  };

  const shed = (reason: string, detail: string): AppError => {
    stats.shed++;
    return new AppError('overloaded', detail, {
      extra: { reason },
      headers: { 'Retry-After': shedRetryAfter },
    });
  };

  /** A queued request that will not run: its in-flight place and its budget are given back. */
  const refuseWaiting = (w: Waiter, err: unknown): void => {
    w.detach();
    leave(w.tenantId);
    refund(w.tenantId, w.cost);
    w.reject(err);
  };

  const ticket = (tenantId: string, headers: Record<string, string>): Ticket => {
    let released = false;
    stats.admitted++;
    return {
      headers,
      release() {
        if (released) return;
        released = true;
        leave(tenantId);
        running--;
        dispatch();
      },
    };
  };

  const dispatch = (): void => {
    while (running < maxConcurrent) {
      const entry = queue.pop();
      if (!entry) return;
      running++;
      entry.value.detach();
      entry.value.resolve(ticket(entry.tenantId, entry.value.headers));
    }
  };

  const rateLimited = (
    limit: RateLimitName,
    allowed: number,
    remaining: number,
    msBeforeReset: number,
  ): AppError => {
    stats.rateLimited++;
    return new AppError(
      'rate_limited',
      `the tenant's ${limit} limit (${allowed} per ${windowSeconds} s) is spent`,
      {
        extra: { limit, allowed, windowSeconds },
        headers: refusalHeaders(allowed, remaining, msBeforeReset),
      },
    );
  };

  const spentRefusal = (tenantId: string, requestLimit: number, rowLimit: number): AppError | undefined => {
    const block = spent.get(tenantId);
    if (!block) return undefined;
    const left = block.until - now();
    // A quota changed since (an override raised) makes the store's count worth asking again.
    const sameLimit = block.allowed === (block.limit === 'requestsPerSecond' ? requestLimit : rowLimit);
    if (left > 0 && sameLimit) return rateLimited(block.limit, block.allowed, 0, left);
    spent.delete(tenantId);
    return undefined;
  };

  async function admit(
    tenantId: string,
    rows: number,
    quotas: AdmissionQuotas,
    admitOpts: AdmitOptions = {},
  ): Promise<Ticket> {
    if (closed) throw new AppError('unavailable', 'the server is shutting down');
    // Every request costs at least one row; a count that is not a number (a caller's bug) costs one.
    const cost = Number.isFinite(rows) && rows > 1 ? Math.ceil(rows) : 1;
    const requestLimit = quotas.requestsPerSecond * windowSeconds;
    const rowLimit = quotas.predictionsPerSecond * windowSeconds;
    // A request no window could ever hold is refused for good: a 429 would have its client retry forever.
    if (requestLimit < 1) throw never('requestsPerSecond', quotas.requestsPerSecond, 1);
    if (cost > rowLimit) throw never('predictionsPerSecond', quotas.predictionsPerSecond, cost);
    if (quotas.inFlightRequests < 1) throw never('inFlightRequests', quotas.inFlightRequests, 1);

    const refused = spentRefusal(tenantId, requestLimit, rowLimit);
    if (refused) throw refused;

    const [req, row] = await Promise.all([
      limiter.consume('requests', tenantId, 1),
      limiter.consume('rows', tenantId, cost),
    ]);
    const over = overBudget(req, requestLimit, row, rowLimit, cost);
    if (over) {
      refund(tenantId, cost);
      const at = now();
      if (over.remaining <= 0) {
        spent.set(tenantId, {
          until: at + over.count.msBeforeReset,
          limit: over.limit,
          allowed: over.allowed,
        });
        if (spent.size > 10_000) for (const [k, v] of spent) if (v.until <= at) spent.delete(k);
      }
      throw rateLimited(over.limit, over.allowed, over.remaining, over.count.msBeforeReset);
    }

    // The await above let other requests run: the in-flight and queue state is read from here on, synchronously.
    if (closed) {
      refund(tenantId, cost);
      throw new AppError('unavailable', 'the server is shutting down');
    }
    const mine = inFlight.get(tenantId) ?? 0;
    if (mine >= quotas.inFlightRequests) {
      refund(tenantId, cost);
      stats.rateLimited++;
      throw new AppError(
        'rate_limited',
        `the tenant's inFlightRequests limit (${quotas.inFlightRequests}) is reached`,
        {
          extra: { limit: 'inFlightRequests', allowed: quotas.inFlightRequests },
          headers: { 'Retry-After': '1' },
        },
      );
    }
    inFlight.set(tenantId, mine + 1);
    inFlightTotal++;
    const headers = successHeaders(budget(req, requestLimit), budget(row, rowLimit), windowSeconds);
    const weight = admitOpts.weight ?? 1;

    if (running < maxConcurrent && queue.size === 0) {
      running++;
      queue.charge(tenantId, cost, weight);
      return ticket(tenantId, headers);
    }

    const refuseNow = (err: AppError): never => {
      leave(tenantId);
      refund(tenantId, cost);
      throw err;
    };
    const signal = typeof admitOpts.signal === 'function' ? admitOpts.signal() : admitOpts.signal;
    if (signal?.aborted) refuseNow(cancelled());
    if (queue.sizeOf(tenantId) >= maxQueuedPerTenant) {
      refuseNow(shed('tenant_queue_full', `the tenant already has ${maxQueuedPerTenant} requests waiting`));
    }
    if (queue.size >= maxQueued) {
      // The queue is full: the tenant holding most of it gives up its newest request, so that a tenant with
      // little waiting is not shed because of a neighbour's flood.
      const longest = queue.longest();
      if (longest && longest.tenantId !== tenantId && longest.count > queue.sizeOf(tenantId) + 1) {
        const victim = queue.popNewest(longest.tenantId)!;
        refuseWaiting(
          victim.value,
          shed('displaced', 'the server is saturated; a request of a quieter tenant took this place'),
        );
      } else {
        refuseNow(shed('queue_full', `the server is saturated (${maxQueued} requests waiting)`));
      }
    }

    return new Promise<Ticket>((resolve, reject) => {
      let entry: QueueEntry<Waiter> | undefined;
      const onAbort = () => {
        if (entry && queue.remove(entry)) refuseWaiting(entry.value, cancelled());
      };
      const waiter: Waiter = {
        tenantId,
        cost,
        headers,
        resolve,
        reject,
        detach: () => signal?.removeEventListener('abort', onAbort),
      };
      entry = queue.push(tenantId, cost, weight, waiter);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  const cancelled = () => shed('cancelled', 'the request was cancelled while it waited for a slot');

  const holdRefusal = (tenantId: string): Promise<void> => {
    if (holdMs === 0 || closed || holds.size >= maxHeld) return Promise.resolve();
    const block = spent.get(tenantId);
    const ms = block ? Math.min(holdMs, block.until - now()) : 0;
    if (ms <= 0) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        holds.delete(timer);
        resolve();
      }, ms);
      holds.set(timer, resolve);
    });
  };

  return {
    capabilities: limiter.capabilities,
    admit,
    spent: (tenantId, quotas) =>
      spentRefusal(
        tenantId,
        quotas.requestsPerSecond * windowSeconds,
        quotas.predictionsPerSecond * windowSeconds,
      ),
    holdRefusal,
    stats: () => ({ running, queued: queue.size, inFlight: inFlightTotal, held: holds.size, ...stats }),
    async close() {
      if (closed) return;
      closed = true;
      for (const [timer, resolve] of holds) {
        clearTimeout(timer);
        resolve();
      }
      holds.clear();
      for (const e of queue.drain()) {
        refuseWaiting(e.value, new AppError('unavailable', 'the server is shutting down'));
      }
      await Promise.all([...pendingRefunds]);
      await limiter.close();
    },
  };
}

function overBudget(
  req: WindowCount,
  requestLimit: number,
  row: WindowCount,
  rowLimit: number,
  cost: number,
): { limit: RateLimitName; allowed: number; remaining: number; count: WindowCount } | undefined {
  // Requests are named first: when both are spent, fewer requests is the advice that always helps.
  if (req.consumed > requestLimit) {
    return {
      limit: 'requestsPerSecond',
      allowed: requestLimit,
      remaining: requestLimit - (req.consumed - 1),
      count: req,
    };
  }
  if (row.consumed > rowLimit) {
    return {
      limit: 'predictionsPerSecond',
      allowed: rowLimit,
      remaining: rowLimit - (row.consumed - cost),
      count: row,
    };
  }
  return undefined;
}

const budget = (count: WindowCount, limit: number): BudgetState => ({
  limit,
  used: count.consumed,
  msBeforeReset: count.msBeforeReset,
});

function never(quota: keyof AdmissionQuotas, limit: number, requested: number): AppError {
  return new AppError('quota_exceeded', `the ${quota} quota (${limit}) can never admit this request`, {
    extra: { quota, limit, requested },
  });
}

function positiveInt(name: string, v: number): number {
  if (!Number.isInteger(v) || v < 1)
    throw new Error(`admission: ${name} must be a positive integer, got ${v}`);
  return v;
}

function nonNegativeInt(name: string, v: number): number {
  if (!Number.isInteger(v) || v < 0) throw new Error(`admission: ${name} must be an integer ≥ 0, got ${v}`);
  return v;
}

export type { Bucket, LimiterCapabilities, WindowCount, WindowLimiter };
