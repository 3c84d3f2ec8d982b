// The serving pool's adapter of the limiter port (docs/serving-pool.md): an API process of the pool asks
// the primary, which holds every tenant's buckets in its memory, so that the pool's processes spend one
// budget per tenant as replicas do through Redis. Calls made in one turn of the event loop travel as one
// message. A primary that does not answer within the timeout (it is gone, or stalled) is left alone for a
// while and this process's memory answers instead, as the Redis adapter does.
import type { Clock } from '../../core/clock.ts';
import {
  type BucketAnswer,
  type BucketCall,
  type PoolChannel,
  poolKind,
  type ToChild,
} from '../pool/protocol.ts';
import type { Spends, TakeResult, TokenBuckets } from './limiter.ts';
import { withMemoryFallback } from './shared-buckets.ts';

export interface PoolLimiterOptions {
  channel: PoolChannel;
  /** A batch the primary has not answered within this many ms fails, and memory answers it. */
  timeoutMs: number;
  /** After a failure, the primary is left alone this long before it is asked again, ms. */
  retryAfterFailureMs: number;
  clock: Clock;
  onError: (err: unknown) => void;
}

interface Waiter {
  resolve(result: TakeResult): void;
  reject(err: Error): void;
}

export function createPoolLimiter(opts: PoolLimiterOptions): TokenBuckets {
  const { channel, timeoutMs } = opts;
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
      if (a) w.resolve({ taken: a[0] === 1, used: { requests: a[1], rows: a[2] } });
      else w.reject(new Error('the serving pool answered fewer bucket calls than were sent'));
    });
  });

  const flush = (): void => {
    const b = batch!;
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

  const call = (mode: 'take' | 'give', key: string, s: Spends): Promise<TakeResult> =>
    new Promise((resolve, reject) => {
      if (!batch) {
        batch = { calls: [], waiters: [] };
        setImmediate(flush);
      }
      batch.calls.push([
        mode === 'take' ? 1 : 0,
        key,
        s.requests.points,
        s.requests.capacity,
        s.requests.refillPerMs,
        s.rows.points,
        s.rows.capacity,
        s.rows.refillPerMs,
      ]);
      batch.waiters.push({ resolve, reject });
    });

  return withMemoryFallback(call, {
    clock: opts.clock,
    retryAfterFailureMs: opts.retryAfterFailureMs,
    onError: opts.onError,
    async close() {
      stop();
      for (const [id, p] of pending) {
        clearTimeout(p.timer);
        pending.delete(id);
        fail(p.waiters, new Error('the pool limiter is closed'));
      }
    },
  });
}

/** The primary's side: answers an API process's batch of calls from `buckets` (its memory), in order. */
export async function answerBucketCalls(buckets: TokenBuckets, calls: BucketCall[]): Promise<BucketAnswer[]> {
  const answers: BucketAnswer[] = [];
  for (const c of calls) {
    const [mode, key, rp, rc, rr, wp, wc, wr] = c;
    const spends: Spends = {
      requests: { points: rp!, capacity: rc!, refillPerMs: rr! },
      rows: { points: wp!, capacity: wc!, refillPerMs: wr! },
    };
    if (mode === 1) {
      const r = await buckets.take(key, spends);
      answers.push([r.taken ? 1 : 0, r.used.requests, r.used.rows]);
    } else {
      await buckets.giveBack(key, spends);
      answers.push([0, 0, 0]);
    }
  }
  return answers;
}
