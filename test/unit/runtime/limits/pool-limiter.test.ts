// The serving pool's limiter adapter: API processes' calls reach the primary's memory buckets in batches
// (one message per turn of the event loop), so that two processes spend one budget; a primary that does
// not answer is left alone and memory answers. The channel here is an in-process pair with the real
// primary-side code (answerBucketCalls over real memory buckets) at its other end.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ManualClock } from '../../../../src/core/clock.ts';
import type { Spends, TokenBuckets } from '../../../../src/runtime/limits/limiter.ts';
import { createMemoryBuckets } from '../../../../src/runtime/limits/memory-limiter.ts';
import { answerBucketCalls, createPoolLimiter } from '../../../../src/runtime/limits/pool-limiter.ts';
import type { PoolChannel, ToPrimary } from '../../../../src/runtime/pool/protocol.ts';

const spends = (points = 1, capacity = 5): Spends => ({
  requests: { points, capacity, refillPerMs: 0.001 },
  rows: { points, capacity: 100, refillPerMs: 0.1 },
});

/** An API process's channel to a primary that answers from `buckets` (or, `silent`, never). */
function channelTo(buckets: TokenBuckets, opts: { silent?: boolean } = {}) {
  const handlers = new Set<(m: unknown) => void>();
  const sent: ToPrimary[] = [];
  const channel: PoolChannel = {
    send(message) {
      const m = message as ToPrimary;
      sent.push(m);
      if (opts.silent || m.pool !== 'buckets') return;
      void answerBucketCalls(buckets, m.calls).then((answers) => {
        for (const h of handlers) h({ pool: 'buckets', id: m.id, answers });
      });
    },
    listen(handler) {
      handlers.add(handler);
      return () => handlers.delete(handler);
    },
  };
  return { channel, sent, handlers };
}

describe('pool limiter', () => {
  test("two API processes spend one tenant's budget at the primary; a turn's calls travel as one message", async () => {
    const clock = new ManualClock();
    const primary = createMemoryBuckets({ clock });
    const a = channelTo(primary);
    const b = channelTo(primary);
    const opts = {
      timeoutMs: 1000,
      retryAfterFailureMs: 1000,
      clock,
      onError: () => assert.fail('no failure'),
    };
    const la = createPoolLimiter({ ...opts, channel: a.channel });
    const lb = createPoolLimiter({ ...opts, channel: b.channel });
    const results = await Promise.all([
      ...Array.from({ length: 4 }, () => la.take('t1', spends())),
      ...Array.from({ length: 4 }, () => lb.take('t1', spends())),
    ]);
    assert.deepEqual(
      results.map((r) => r.taken),
      [true, true, true, true, true, false, false, false],
    );
    // In use as the primary counted them, in order: 1..4 from a, then 5 from b and three refusals.
    assert.deepEqual(
      results.map((r) => r.used.requests),
      [1, 2, 3, 4, 5, 5, 5, 5],
    );
    assert.equal(a.sent.length, 1, 'four calls of one turn: one message');
    assert.equal(a.sent[0]!.pool === 'buckets' && a.sent[0]!.calls.length, 4);
    // Given back through b, taken again through a: the same bucket.
    await lb.giveBack('t1', spends(2));
    assert.equal((await la.take('t1', spends(2))).taken, true);
    assert.equal((await la.take('t1', spends())).taken, false);
    // Another tenant's buckets are its own.
    assert.equal((await lb.take('t2', spends(5))).taken, true);
    await la.close();
    await lb.close();
    assert.equal(a.handlers.size, 0, 'close stops listening');
  });

  test('a silent primary: memory answers after the timeout, the error is told once, the primary is left alone', async () => {
    const clock = new ManualClock();
    const silent = channelTo(createMemoryBuckets({ clock }), { silent: true });
    const errors: unknown[] = [];
    const l = createPoolLimiter({
      channel: silent.channel,
      timeoutMs: 20,
      retryAfterFailureMs: 1000,
      clock,
      onError: (err) => errors.push(err),
    });
    const first = await l.take('t1', spends(5));
    assert.equal(first.taken, true, 'memory took it');
    assert.equal(errors.length, 1);
    assert.match(String(errors[0]), /did not answer within 20 ms/);
    // Within retryAfterFailureMs nothing is sent: this process's memory answers (its bucket is spent).
    assert.equal((await l.take('t1', spends())).taken, false);
    assert.equal(silent.sent.length, 1);
    clock.advance(1000);
    const late = l.take('t1', spends());
    await new Promise((r) => setImmediate(r));
    assert.equal(silent.sent.length, 2, 'asked again once the pause is over');
    await l.close(); // a call pending at close is answered by memory, not left hanging
    assert.equal(typeof (await late).taken, 'boolean');
  });

  test('a send that throws (the channel is closed) fails over to memory at once', async () => {
    const clock = new ManualClock();
    const errors: unknown[] = [];
    const l = createPoolLimiter({
      channel: {
        send() {
          throw new Error('channel closed');
        },
        listen: () => () => {},
      },
      timeoutMs: 60_000,
      retryAfterFailureMs: 1000,
      clock,
      onError: (err) => errors.push(err),
    });
    assert.equal((await l.take('t1', spends())).taken, true);
    assert.match(String(errors[0]), /channel closed/);
    await l.close();
  });
});
