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

describe('pool limiter leases', () => {
  const big = (points = 1): Spends => ({
    requests: { points, capacity: 160, refillPerMs: 0 },
    rows: { points, capacity: 1600, refillPerMs: 0 },
  });
  const opts = (clock: ManualClock) => ({
    timeoutMs: 1000,
    retryAfterFailureMs: 1000,
    clock,
    onError: (err: unknown) => assert.fail(String(err)),
  });
  /**
   * A primary's memory buckets under a manual clock, and `process(leaseMs)`: an API process's limiter on
   * it (leaseMs absent: the default) with the messages its channel sent.
   */
  const primaryOf = () => {
    const clock = new ManualClock();
    const primary = createMemoryBuckets({ clock });
    const process = (leaseMs?: number) => {
      const { channel, sent } = channelTo(primary);
      return { limiter: createPoolLimiter({ ...opts(clock), channel, leaseMs }), sent };
    };
    return { clock, process };
  };

  test('a lease of 1/16 of the bucket answers the next calls without a message; headers count down', async () => {
    const { limiter: l, sent } = primaryOf().process();
    const results = [];
    for (let i = 0; i < 10; i++) results.push(await l.take('t1', big()));
    assert.ok(results.every((r) => r.taken));
    assert.equal(sent.length, 1, 'one lease (10 requests) for ten calls');
    assert.deepEqual(
      results.map((r) => r.used.requests),
      [1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
    );
    await l.take('t1', big());
    assert.equal(sent.length, 2, 'the eleventh asks for a new lease');
    // A give back goes into the live lease: no message.
    await l.giveBack('t1', big(3));
    assert.equal(sent.length, 2);
    await l.close();
  });

  /** Two API processes' limiters on one primary, with leases of a minute. */
  const twoProcesses = () => {
    const { process } = primaryOf();
    return { a: process(60_000).limiter, b: process(60_000).limiter };
  };

  test("two processes never admit more than the bucket; a lease's points are its own process's", async () => {
    const { a, b } = twoProcesses();
    let taken = 0;
    // a spends 1 of its lease of 10; then b takes everything the primary has left.
    if ((await a.take('t1', big())).taken) taken++;
    for (let i = 0; i < 400; i++) if ((await b.take('t1', big())).taken) taken++;
    assert.equal(taken, 1 + 150, 'the 9 points of a’s lease are a’s');
    for (let i = 0; i < 20; i++) if ((await a.take('t1', big())).taken) taken++;
    assert.equal(taken, 160, 'never more than the bucket holds');
    await a.close();
    await b.close();
  });

  test('after leaseMs the unspent points return (the sweep), and another process can take them', async () => {
    const { clock, process } = primaryOf();
    const a = process(20);
    const la = a.limiter;
    const lb = process(20).limiter;
    assert.equal((await la.take('t1', big(5))).taken, true); // leases 10, keeps 5
    let bTook = 0;
    while ((await lb.take('t1', big())).taken) bTook++;
    assert.equal(bTook, 150);
    clock.advance(21);
    await new Promise((r) => setTimeout(r, 60)); // the sweep runs every leaseMs
    const give = a.sent.find((m) => m.pool === 'buckets' && m.calls.some((c) => c[0] === 0));
    assert.ok(give, 'the rest was given back');
    clock.advance(21); // b's own lease (if any) expires too
    let more = 0;
    while ((await lb.take('t1', big())).taken) more++;
    assert.equal(more, 5, 'a’s 5 unspent points');
    await la.close();
    await lb.close();
  });

  /** Lets the batched calls of this turn reach the primary and its answers come back. */
  const settle = async () => {
    for (let i = 0; i < 4; i++) await new Promise((r) => setImmediate(r));
  };
  const calls = (sent: ToPrimary[]) => sent.flatMap((m) => (m.pool === 'buckets' ? m.calls : []));

  test('two busy processes calling at once never admit more than the bucket', async () => {
    const { a, b } = twoProcesses();
    let taken = 0;
    for (let i = 0; i < 200; i++) {
      const [x, y] = await Promise.all([a.take('t1', big()), b.take('t1', big())]);
      taken += Number(x.taken) + Number(y.taken);
      if (i % 7 === 0) await settle();
    }
    assert.equal(taken, 160);
    await a.close();
    await b.close();
  });

  test('the calls of one busy turn ask for one lease between them, not one each', async () => {
    // A bug fixed: 64 calls arriving together with no lease each asked for one (64 slices of 10 for a
    // bucket of 160): the first 16 emptied the bucket and the process refused its own tenant.
    const { limiter: l, sent } = primaryOf().process(60_000);
    const results = await Promise.all(Array.from({ length: 64 }, () => l.take('t1', big())));
    assert.equal(results.filter((r) => r.taken).length, 64, 'all 64 fit in the bucket of 160');
    const leaseCalls = calls(sent).filter((c) => c[0] === 2);
    assert.equal(leaseCalls.length, 1, 'one lease call; the calls it cannot serve take their own points');
    await l.close();
  });
});
