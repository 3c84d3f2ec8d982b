// The serving pool's adapter of the limiter port (docs/serving-pool.md): an API process of the pool asks
// the primary, which holds every tenant's buckets in its memory, so that the pool's processes spend one
// budget per tenant as replicas do through Redis.
//
// A message per request would cost more than the prediction's own work (measured: the pool's peak 21.9k
// req/s against 29.3k with per-process buckets, bench/RESULTS.md), so a process takes a **lease**: a
// slice of each bucket (1/16 of its capacity) that it spends locally, without a message, for at most
// `leaseMs`; what is left then goes back to the primary. Points are taken from the primary's bucket when
// leased, so the pool never admits more than the bucket holds; a lease only keeps its points from the
// other processes for a moment. A bucket too small to slice (under 16 points) is asked call by call.
// Calls made in one turn of the event loop travel as one message. A primary that does not answer within
// the timeout (gone, or stalled) is left alone for a while and this process's memory answers instead, as
// the Redis adapter does.
import type { Clock } from '../../core/clock.ts';
import {
  type BucketAnswer,
  type BucketCall,
  type PoolChannel,
  poolKind,
  type ToChild,
} from '../pool/protocol.ts';
import { POINT_EPSILON, type Spends, type TakeResult, type TokenBuckets } from './limiter.ts';
import { withMemoryFallback } from './shared-buckets.ts';

/** A lease is this share of a bucket's capacity (at least the call's own points). */
export const LEASE_SHARE = 1 / 16;

export interface PoolLimiterOptions {
  channel: PoolChannel;
  /** A batch the primary has not answered within this many ms fails, and memory answers it. */
  timeoutMs: number;
  /** After a failure, the primary is left alone this long before it is asked again, ms. */
  retryAfterFailureMs: number;
  /** A lease's unspent points go back to the primary after this long, ms. Default 250. */
  leaseMs?: number;
  clock: Clock;
  onError: (err: unknown) => void;
}

interface Waiter {
  resolve(answer: BucketAnswer): void;
  reject(err: Error): void;
}

/** Points a process holds of one key's buckets, until `until` (epoch ms). */
interface Lease {
  requests: number;
  rows: number;
  until: number;
  /** Points in use at the primary when the lease was granted (headers count down from there). */
  usedAtGrant: { requests: number; rows: number };
  /** The buckets' sizes, for giving the rest back. */
  spends: Spends;
}

const NOTHING: TakeResult = { taken: false, used: { requests: 0, rows: 0 } };

export function createPoolLimiter(opts: PoolLimiterOptions): TokenBuckets {
  const { channel, timeoutMs, clock } = opts;
  const leaseMs = opts.leaseMs ?? 250;
  let nextId = 1;
  /** The calls of this turn of the event loop, sent together when it ends. */
  let batch: { calls: BucketCall[]; waiters: Waiter[] } | null = null;
  const pending = new Map<number, { waiters: Waiter[]; timer: ReturnType<typeof setTimeout> }>();
  const leases = new Map<string, Lease>();

  const fail = (waiters: Waiter[], err: Error): void => {
    for (const w of waiters) w.reject(err);
  };
  const stop = channel.listen((m) => {
    if (poolKind(m) !== 'buckets') return;
    const { id, answers } = m as Extract<ToChild, { pool: 'buckets' }>;
    const p = pending.get(id);
    if (!p) return; // answered after its timeout: memory has answered those calls already
    pending.delete(id);
    clearTimeout(p.timer);
    p.waiters.forEach((w, i) => {
      const a = answers[i];
      if (a) w.resolve(a);
      else w.reject(new Error('the serving pool answered fewer bucket calls than were sent'));
    });
  });

  const flush = (): void => {
    const b = batch;
    if (!b) return; // sent already (by close)
    batch = null;
    const id = nextId++;
    const timer = setTimeout(() => {
      pending.delete(id);
      fail(b.waiters, new Error(`the serving pool's primary did not answer within ${timeoutMs} ms`));
    }, timeoutMs);
    pending.set(id, { waiters: b.waiters, timer });
    try {
      channel.send({ pool: 'buckets', id, calls: b.calls });
    } catch (err) {
      pending.delete(id);
      clearTimeout(timer);
      fail(b.waiters, err instanceof Error ? err : new Error(String(err)));
    }
  };

  /** Sends one call with this turn's others; resolves with the primary's answer to it. */
  const ask = (call: BucketCall): Promise<BucketAnswer> =>
    new Promise((resolve, reject) => {
      if (!batch) {
        batch = { calls: [], waiters: [] };
        setImmediate(flush);
      }
      batch.calls.push(call);
      batch.waiters.push({ resolve, reject });
    });

  const sizes = (s: Spends, mode: 0 | 1 | 2, key: string, points: [number, number]): BucketCall => [
    mode,
    key,
    points[0],
    s.requests.capacity,
    s.requests.refillPerMs,
    points[1],
    s.rows.capacity,
    s.rows.refillPerMs,
  ];

  /** A lease's unspent points go back to the primary (best effort: lost if the primary is gone). */
  const giveBackLease = (key: string, l: Lease): void => {
    if (l.requests <= POINT_EPSILON && l.rows <= POINT_EPSILON) return;
    ask(sizes(l.spends, 0, key, [Math.max(0, l.requests), Math.max(0, l.rows)])).catch(() => {});
  };
  const liveLease = (key: string, now: number): Lease | undefined => {
    const l = leases.get(key);
    if (!l || l.until > now) return l;
    leases.delete(key);
    giveBackLease(key, l);
    return undefined;
  };
  const sweep = setInterval(() => {
    const now = clock.now().getTime();
    for (const key of leases.keys()) liveLease(key, now);
  }, leaseMs);
  sweep.unref();

  const usedOf = (l: Lease): TakeResult['used'] => ({
    requests: Math.max(0, l.usedAtGrant.requests - l.requests),
    rows: Math.max(0, l.usedAtGrant.rows - l.rows),
  });

  const call = async (mode: 'take' | 'give', key: string, s: Spends): Promise<TakeResult> => {
    const now = clock.now().getTime();
    const l = liveLease(key, now);
    const points: [number, number] = [s.requests.points, s.rows.points];
    if (mode === 'give') {
      if (l) {
        l.requests += points[0];
        l.rows += points[1];
      } else await ask(sizes(s, 0, key, points));
      return NOTHING;
    }
    if (l && l.requests + POINT_EPSILON >= points[0] && l.rows + POINT_EPSILON >= points[1]) {
      l.requests -= points[0];
      l.rows -= points[1];
      return { taken: true, used: usedOf(l) };
    }
    if (l) {
      leases.delete(key);
      giveBackLease(key, l);
    }
    const chunk: [number, number] = [
      Math.max(points[0], Math.floor(s.requests.capacity * LEASE_SHARE)),
      Math.max(points[1], Math.floor(s.rows.capacity * LEASE_SHARE)),
    ];
    // Only both buckets sliced make a lease worth holding: a call spends from both.
    const leasing = chunk[0] > points[0] && chunk[1] > points[1];
    const asked = sizes(s, leasing ? 2 : 1, key, points);
    if (leasing) asked.push(chunk[0], chunk[1]);
    const [granted, usedRequests, usedRows] = await ask(asked);
    const used = { requests: usedRequests, rows: usedRows };
    if (granted !== 2) return { taken: granted === 1, used };
    // A lease: what the call did not spend is this process's until it expires (added to one that
    // another call of the same turn was granted meanwhile).
    const rest = { requests: chunk[0] - points[0], rows: chunk[1] - points[1] };
    const held = liveLease(key, clock.now().getTime());
    if (held) {
      held.requests += rest.requests;
      held.rows += rest.rows;
      return { taken: true, used: usedOf(held) };
    }
    const lease: Lease = { ...rest, until: now + leaseMs, usedAtGrant: used, spends: s };
    leases.set(key, lease);
    return { taken: true, used: usedOf(lease) };
  };

  return withMemoryFallback(call, {
    clock,
    retryAfterFailureMs: opts.retryAfterFailureMs,
    onError: opts.onError,
    async close() {
      clearInterval(sweep);
      for (const [key, l] of leases) giveBackLease(key, l);
      leases.clear();
      if (batch) flush();
      stop();
      for (const [id, p] of pending) {
        clearTimeout(p.timer);
        pending.delete(id);
        fail(p.waiters, new Error('the pool limiter is closed'));
      }
    },
  });
}

/**
 * The primary's side: answers an API process's batch of calls from `buckets` (its memory), in order. A
 * lease call (mode 2) takes its chunk if both buckets hold it (answer 2), else only its own points.
 */
export async function answerBucketCalls(buckets: TokenBuckets, calls: BucketCall[]): Promise<BucketAnswer[]> {
  const answers: BucketAnswer[] = [];
  for (const c of calls) {
    const [mode, key, rp, rc, rr, wp, wc, wr, chunkR, chunkW] = c;
    const spends = (requests: number, rows: number): Spends => ({
      requests: { points: requests, capacity: rc!, refillPerMs: rr! },
      rows: { points: rows, capacity: wc!, refillPerMs: wr! },
    });
    if (mode === 0) {
      await buckets.giveBack(key, spends(rp!, wp!));
      answers.push([0, 0, 0]);
      continue;
    }
    if (mode === 2) {
      const leased = await buckets.take(key, spends(chunkR!, chunkW!));
      if (leased.taken) {
        answers.push([2, leased.used.requests, leased.used.rows]);
        continue;
      }
    }
    const r = await buckets.take(key, spends(rp!, wp!));
    answers.push([r.taken ? 1 : 0, r.used.requests, r.used.rows]);
  }
  return answers;
}
