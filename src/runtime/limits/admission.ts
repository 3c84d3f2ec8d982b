// Admission to the predict path: a request passes the tenant's rate budgets (requests/s and rows/s, token
// buckets that refill continuously), then its
// in-flight cap, then waits for one of the process's serving slots in a queue that is fair across tenants;
// beyond the queue bounds it is shed. The caller holds the Ticket while it works and releases it after.
import { type Clock, systemClock } from '../../core/clock.ts';
import { AppError } from '../../core/errors.ts';
import type { Quotas } from '../../core/tiers.ts';
import { FairQueue } from './fair-queue.ts';
import { type BudgetState, refusalHeaders, successHeaders } from './headers.ts';
import {
  type Bucket,
  type BucketSpend,
  type LimiterCapabilities,
  POINT_EPSILON,
  pointsLeft,
  type Spends,
  type TakeResult,
  type TokenBuckets,
} from './limiter.ts';
import { createMemoryBuckets } from './memory-limiter.ts';
import { createRedisLimiter } from './redis-limiter.ts';

export interface AdmissionOptions {
  /** Requests served at once in this process, all tenants together; more wait in the fair queue. Default 64. */
  maxConcurrent?: number;
  /** Requests waiting in this process, all tenants together; beyond it requests are shed (503). Default 1024. */
  maxQueued?: number;
  /** Requests of one tenant waiting in this process; beyond it its requests are shed (503). Default 128. */
  maxQueuedPerTenant?: number;
  /**
   * Size of a tenant's buckets in seconds of its quota, whole seconds: a tenant may spend quota × burstSeconds
   * at once, then earns its quota per second back continuously. Default 1.
   */
  burstSeconds?: number;
  /** Counts go to this Redis and are shared by every replica using it; absent, they stay in memory. */
  redisUrl?: string;
  /** Prefix of the Redis keys. Default "tenantml:limits". */
  keyPrefix?: string;
  /** A slower Redis answer counts as a failure and this process's memory answers instead, ms. Default 100. */
  redisTimeoutMs?: number;
  /** After a Redis failure, Redis is skipped this long, ms. Default 1000. */
  redisRetryAfterFailureMs?: number;
  /**
   * An adapter of the limiter port to use instead of memory or Redis (tests, the serving pool's), or what
   * makes one given where its store failures go (they count in `limiterErrors`, then `onLimiterError`).
   */
  limiter?: TokenBuckets | ((onError: (err: unknown) => void) => TokenBuckets);
  /** Retry-After of a shed request, seconds. Default 1. */
  shedRetryAfterSeconds?: number;
  /**
   * A 429 is answered only after holdMs (`holdRefusal`; Retry-After is at least 1 s anyway): a client that
   * ignores Retry-After then waits on its own connection instead of spending the event loop its neighbours
   * share. 0: at once. Default 0 (the platform sets TENANTML_RATE_LIMIT_HOLD_MS).
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
   * Takes a waiting request out of the queue (client gone, deadline passed): 503. An AbortSignal, or an
   * `OnGone` hook, which is called only when the request has to wait: a request admitted at once
   * listens to nothing at all.
   */
  cancel?: AbortSignal | OnGone;
}

/**
 * How a request that has to wait learns that it should leave the queue: called with `leave`, it calls
 * `leave` once the request's client is gone (at once if it already is) and answers how to stop listening,
 * which admission calls when the request leaves the queue. Unlike an AbortSignal it costs the predict
 * path no object beyond the listener it registers (an AbortController per waiting request was ~3% of
 * the predict path's time at peak).
 */
export type OnGone = (leave: () => void) => () => void;

const noop = (): void => {};

/** Starts listening for `cancel`; answers how to stop. */
function listen(cancel: AbortSignal | OnGone, leave: () => void): () => void {
  if (typeof cancel === 'function') return cancel(leave);
  if (cancel.aborted) {
    leave();
    return noop;
  }
  cancel.addEventListener('abort', leave, { once: true });
  return () => cancel.removeEventListener('abort', leave);
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
   * The 429 `admit` would answer at once because the tenant's budget is known to have no room for even a
   * one-row request yet, or undefined. Synchronous and store-free: a flooding tenant can be refused before
   * its request body is even read.
   */
  spent(tenantId: string, quotas: AdmissionQuotas): AppError | undefined;
  /**
   * Resolves when a 429 may be sent: after holdMs, or at once when holdMs is 0, `maxHeld` refusals are
   * held already or admission is closed. Never rejects; `close` ends every hold.
   */
  holdRefusal(): Promise<void>;
  stats(): AdmissionStats;
  /** Refuses every waiting request (503 unavailable), ends every hold and closes the limiter store. */
  close(): Promise<void>;
}

type RateLimitName = 'requestsPerSecond' | 'predictionsPerSecond';

interface Waiter {
  tenantId: string;
  spends: Spends;
  headers: Record<string, string>;
  resolve: (t: Ticket) => void;
  reject: (e: unknown) => void;
  detach: () => void;
}

export function createAdmission(opts: AdmissionOptions = {}): Admission {
  const clock = opts.clock ?? systemClock;
  const burstSeconds = positiveInt('burstSeconds', opts.burstSeconds ?? 1);
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
    (typeof opts.limiter === 'function' ? opts.limiter(onLimiterError) : opts.limiter) ??
    (opts.redisUrl
      ? createRedisLimiter({
          url: opts.redisUrl,
          keyPrefix: opts.keyPrefix ?? 'tenantml:limits',
          timeoutMs: opts.redisTimeoutMs ?? 100,
          retryAfterFailureMs: opts.redisRetryAfterFailureMs ?? 1000,
          clock,
          onError: onLimiterError,
        })
      : createMemoryBuckets({ clock }));

  const queue = new FairQueue<Waiter>();
  const inFlight = new Map<string, number>();
  let inFlightTotal = 0;
  let running = 0;
  let closed = false;
  // A tenant whose buckets have no room for even a one-row request is refused here until they will have,
  // without asking the store: a flooding tenant then costs at most one store call per point it earns back.
  const spent = new Map<
    string,
    { until: number; limit: RateLimitName; requestsPerSecond: number; predictionsPerSecond: number }
  >();
  const pendingRefunds = new Set<Promise<void>>();

  const now = () => clock.now().getTime();
  /** A bucket sized by a per-second quota: it holds burstSeconds of it and earns it back continuously. */
  const bucketOf = (perSecond: number, points: number): BucketSpend => ({
    points,
    capacity: perSecond * burstSeconds,
    refillPerMs: perSecond / 1000,
  });

  const refund = (tenantId: string, spends: Spends): void => {
    const p = limiter.giveBack(tenantId, spends).catch(onLimiterError);
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
    refund(w.tenantId, w.spends);
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
    quota: number,
    remaining: number,
    msBeforeRetry: number,
  ): AppError => {
    stats.rateLimited++;
    const burst = quota * burstSeconds;
    return new AppError(
      'rate_limited',
      `the tenant's ${limit} limit (${quota} per second, bursts of ${burst}) has no room for this request yet`,
      {
        extra: { limit, allowed: quota, burst },
        headers: refusalHeaders(burst, remaining, msBeforeRetry),
      },
    );
  };

  const spentRefusal = (tenantId: string, quotas: AdmissionQuotas): AppError | undefined => {
    const block = spent.get(tenantId);
    if (!block) return undefined;
    const left = block.until - now();
    // A quota changed since (an override raised) makes the store worth asking again.
    const sameQuotas =
      block.requestsPerSecond === quotas.requestsPerSecond &&
      block.predictionsPerSecond === quotas.predictionsPerSecond;
    if (left > 0 && sameQuotas) return rateLimited(block.limit, quotas[block.limit], 0, left);
    spent.delete(tenantId);
    return undefined;
  };

  /**
   * The 429 of a request its tenant's buckets had no room for. Retry-After is when this request fits; the
   * tenant is remembered as spent until a one-row request would fit (not at all when one would now).
   */
  const refusal = (tenantId: string, quotas: AdmissionQuotas, spends: Spends, r: TakeResult): AppError => {
    /** Milliseconds until bucket `b` has room for `points` more (≤ 0: it has now). */
    const wait = (b: Bucket, points: number) =>
      (r.used[b] + points - spends[b].capacity - POINT_EPSILON) / spends[b].refillPerMs;
    const oneRequest = wait('requests', 1);
    const oneRow = wait('rows', 1);
    const retryMs = Math.max(oneRequest, wait('rows', spends.rows.points));
    // Requests are named first: when both are short, fewer requests is the advice that always helps.
    const bucket: Bucket = oneRequest > 0 ? 'requests' : 'rows';
    const limit = LIMIT_OF[bucket];
    const untilOneRow = Math.max(oneRequest, oneRow);
    if (untilOneRow > 0) {
      const at = now();
      spent.set(tenantId, {
        until: at + untilOneRow,
        limit: LIMIT_OF[oneRequest >= oneRow ? 'requests' : 'rows'],
        requestsPerSecond: quotas.requestsPerSecond,
        predictionsPerSecond: quotas.predictionsPerSecond,
      });
      if (spent.size > 10_000) for (const [k, v] of spent) if (v.until <= at) spent.delete(k);
    }
    return rateLimited(limit, quotas[limit], pointsLeft(spends[bucket].capacity, r.used[bucket]), retryMs);
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
    const spends: Spends = {
      requests: bucketOf(quotas.requestsPerSecond, 1),
      rows: bucketOf(quotas.predictionsPerSecond, cost),
    };
    // A request no full bucket could hold is refused for good: a 429 would have its client retry forever.
    if (spends.requests.capacity < 1) throw never('requestsPerSecond', quotas.requestsPerSecond, 1);
    if (cost > spends.rows.capacity) throw never('predictionsPerSecond', quotas.predictionsPerSecond, cost);
    if (quotas.inFlightRequests < 1) throw never('inFlightRequests', quotas.inFlightRequests, 1);

    const refused = spentRefusal(tenantId, quotas);
    if (refused) throw refused;

    const took = await limiter.take(tenantId, spends);
    if (!took.taken) throw refusal(tenantId, quotas, spends, took);

    // The await above let other requests run: the in-flight and queue state is read from here on, synchronously.
    if (closed) {
      refund(tenantId, spends);
      throw new AppError('unavailable', 'the server is shutting down');
    }
    const mine = inFlight.get(tenantId) ?? 0;
    if (mine >= quotas.inFlightRequests) {
      refund(tenantId, spends);
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
    const headers = successHeaders(
      budgetState(spends.requests, took.used.requests),
      budgetState(spends.rows, took.used.rows),
      burstSeconds,
    );
    const weight = admitOpts.weight ?? 1;

    if (running < maxConcurrent && queue.size === 0) {
      running++;
      queue.charge(tenantId, cost, weight);
      return ticket(tenantId, headers);
    }

    // Listening starts before the queue bounds are checked: a client already gone displaces nobody.
    let gone = false;
    let onGone = (): void => {
      gone = true;
    };
    const detach = admitOpts.cancel ? listen(admitOpts.cancel, () => onGone()) : noop;
    const refuseNow = (err: AppError): never => {
      detach();
      leave(tenantId);
      refund(tenantId, spends);
      throw err;
    };
    if (gone) refuseNow(cancelled());
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
      const entry = queue.push(tenantId, cost, weight, {
        tenantId,
        spends,
        headers,
        resolve,
        reject,
        detach,
      });
      onGone = () => {
        if (queue.remove(entry)) refuseWaiting(entry.value, cancelled());
      };
    });
  }

  const cancelled = () => shed('cancelled', 'the request was cancelled while it waited for a slot');

  const holdRefusal = (): Promise<void> => {
    if (holdMs === 0 || closed || holds.size >= maxHeld) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        holds.delete(timer);
        resolve();
      }, holdMs);
      holds.set(timer, resolve);
    });
  };

  return {
    capabilities: limiter.capabilities,
    admit,
    spent: spentRefusal,
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

/** The quota that names each bucket in refusals. */
const LIMIT_OF: Record<Bucket, RateLimitName> = {
  requests: 'requestsPerSecond',
  rows: 'predictionsPerSecond',
};

/** A bucket's state for the response headers: points in use, and when it is full again. */
const budgetState = (spend: BucketSpend, used: number): BudgetState => ({
  limit: spend.capacity,
  used,
  msBeforeReset: used / spend.refillPerMs,
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

export type { Bucket, LimiterCapabilities, TokenBuckets };
