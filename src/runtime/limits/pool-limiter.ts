// The serving pool's adapter of the limiter port (docs/serving-pool.md): an API process of the pool asks
// the primary, which holds every tenant's buckets in its memory, so that the pool's processes spend one
// budget per tenant as replicas do through Redis. Through leases (leases.ts): a process spends a slice of
// a bucket without a message. Calls made in one turn of the event loop travel as one message. A primary
// that does not answer within the timeout (gone, or stalled) is left alone for a while and this process's
// memory answers instead, as the Redis adapter does.
import type { Clock } from '../../core/clock.ts';
import { type PoolChannel, poolKind, type ToChild } from '../pool/protocol.ts';
import { type BucketAnswer, type BucketCall, withLeases } from './leases.ts';
import type { Spends, TokenBuckets } from './limiter.ts';
import { withMemoryFallback } from './shared-buckets.ts';

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

export function createPoolLimiter(opts: PoolLimiterOptions): TokenBuckets {
  const { channel, timeoutMs, clock } = opts;
  let nextId = 1;
  /** The calls of this turn of the event loop, sent together when it ends. */
  let batch: { calls: BucketCall[]; waiters: Waiter[] } | null = null;
  const pending = new Map<number, { waiters: Waiter[]; timer: ReturnType<typeof setTimeout> }>();

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

  const leased = withLeases(ask, { clock, leaseMs: opts.leaseMs ?? 250 });

  return withMemoryFallback(leased.call, {
    clock,
    retryAfterFailureMs: opts.retryAfterFailureMs,
    onError: opts.onError,
    async close() {
      const gaveBack = leased.close();
      flush(); // the leases' rests, now
      await gaveBack;
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
