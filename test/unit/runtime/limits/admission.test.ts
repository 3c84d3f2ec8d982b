import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, mock, test } from 'node:test';
import { AppError } from '../../../../src/core/errors.ts';
import { TIER_QUOTAS } from '../../../../src/core/tiers.ts';
import {
  type Admission,
  type AdmissionOptions,
  type AdmissionQuotas,
  createAdmission,
  type OnGone,
  type Ticket,
} from '../../../../src/runtime/limits/admission.ts';

// The memory buckets read the clock (Date) and holds set timers: both are mocked, so refills are exact.
const quotas = (over: Partial<AdmissionQuotas> = {}): AdmissionQuotas => ({
  requestsPerSecond: 5,
  predictionsPerSecond: 50,
  inFlightRequests: 100,
  ...over,
});

async function refusal(p: Promise<unknown>): Promise<AppError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof AppError, `expected an AppError, got ${e}`);
    return e;
  }
  assert.fail('expected a refusal');
}

/** Releases the ticket as soon as it is granted; answers 'served', or the refusal's reason or code. */
const outcome = (p: Promise<Ticket>): Promise<string> =>
  p.then(
    (t) => {
      t.release();
      return 'served';
    },
    (e: AppError) => String(e.extra?.reason ?? e.code),
  );

/** Lets pending promise callbacks run (the admission awaits its limiter). */
const settle = () => new Promise<void>((r) => setImmediate(r));

describe('runtime/limits/admission (memory limiter)', () => {
  let admission: Admission;
  const open = (opts: AdmissionOptions = {}) => {
    admission = createAdmission(opts);
    return admission;
  };

  beforeEach(() => {
    mock.timers.enable({ apis: ['Date', 'setTimeout'], now: Date.parse('2026-01-01T00:00:00Z') });
  });
  afterEach(async () => {
    await admission?.close();
    mock.timers.reset();
  });

  test('requests/s: the 6th request of a burst of 5 gets 429 with Retry-After and RateLimit headers', async () => {
    const a = open();
    const tickets: Ticket[] = [];
    for (let i = 0; i < 5; i++) tickets.push(await a.admit('t1', 1, quotas()));
    assert.equal(tickets[0]!.headers['RateLimit-Limit'], '5');
    assert.equal(tickets[0]!.headers['RateLimit-Remaining'], '4');
    assert.equal(tickets[4]!.headers['RateLimit-Remaining'], '0');
    assert.equal(tickets[4]!.headers['RateLimit-Reset'], '1', 'full again in 1 s');
    assert.equal(tickets[4]!.headers['RateLimit-Policy'], '5;w=1;comment="requests", 50;w=1;comment="rows"');
    for (const t of tickets) t.release();

    mock.timers.tick(150); // 0.75 of a point earned back: not enough
    const e = await refusal(a.admit('t1', 1, quotas()));
    assert.equal(e.code, 'rate_limited');
    assert.equal(e.status, 429);
    assert.deepEqual(e.extra, { limit: 'requestsPerSecond', allowed: 5, burst: 5 });
    assert.equal(e.headers?.['Retry-After'], '1');
    assert.equal(e.headers?.['RateLimit-Limit'], '5');
    assert.equal(e.headers?.['RateLimit-Remaining'], '0');
    assert.equal(e.headers?.['RateLimit-Reset'], '1');
    assert.equal(a.stats().rateLimited, 1);
  });

  test('the buckets refill continuously at the quota: one request per 200 ms at 5/s, the burst after 1 s', async () => {
    const a = open();
    for (let i = 0; i < 5; i++) (await a.admit('t1', 1, quotas())).release();
    for (let i = 0; i < 3; i++) await refusal(a.admit('t1', 1, quotas()));
    mock.timers.tick(199);
    await refusal(a.admit('t1', 1, quotas()));
    mock.timers.tick(1);
    const one = await a.admit('t1', 1, quotas());
    assert.equal(one.headers['RateLimit-Remaining'], '0', 'the refused requests took nothing');
    one.release();
    await refusal(a.admit('t1', 1, quotas()));
    mock.timers.tick(1000);
    const tickets: Ticket[] = [];
    for (let i = 0; i < 5; i++) tickets.push(await a.admit('t1', 1, quotas()));
    assert.equal(tickets[0]!.headers['RateLimit-Remaining'], '4', 'a full bucket again, no more');
    await refusal(a.admit('t1', 1, quotas()));
  });

  test('paced: a tenant asking every millisecond for 3 s gets its burst, then its quota per second, evenly', async () => {
    const a = open();
    const q = quotas({ requestsPerSecond: 100, predictionsPerSecond: 1000 });
    const tryAt = async (ms: number, into: number[]) => {
      try {
        (await a.admit('t1', 1, q)).release();
        into.push(ms);
      } catch (e) {
        assert.equal((e as AppError).code, 'rate_limited');
      }
    };
    const burst: number[] = [];
    for (let i = 0; i < 150; i++) await tryAt(0, burst);
    assert.equal(burst.length, 100, 'the burst: 100 at once');
    const later: number[] = [];
    for (let ms = 1; ms <= 3000; ms++) {
      mock.timers.tick(1);
      await tryAt(ms, later);
    }
    assert.equal(later.length, 300, 'then 100 per second');
    const gaps = later.map((ms, i) => ms - (later[i - 1] ?? 0));
    assert.deepEqual([...new Set(gaps)], [10], 'one every 10 ms, never a burst at a window edge');
  });

  test('rows/s is its own budget: few requests with many rows are refused by predictionsPerSecond', async () => {
    const a = open();
    const q = quotas({ requestsPerSecond: 100, predictionsPerSecond: 50 });
    const t1 = await a.admit('t1', 30, q);
    assert.equal(t1.headers['RateLimit-Limit'], '50', 'rows are nearer to running out than requests');
    assert.equal(t1.headers['RateLimit-Remaining'], '20');
    const e = await refusal(a.admit('t1', 30, q));
    assert.equal(e.code, 'rate_limited');
    assert.equal(e.extra?.limit, 'predictionsPerSecond');
    assert.equal(e.headers?.['RateLimit-Limit'], '50');
    assert.equal(e.headers?.['RateLimit-Remaining'], '20', 'the refused 30 rows took nothing');
    assert.equal(a.spent('t1', q), undefined, 'a one-row request would fit: not spent');
    // A smaller request still fits what is left; and the requests bucket was not taken from by the refusal.
    const t2 = await a.admit('t1', 20, q);
    assert.equal(t2.headers['RateLimit-Remaining'], '0');
    // 30 rows at 50/s: room again after 600 ms, so Retry-After rounds it up to 1 s.
    mock.timers.tick(599);
    assert.equal((await refusal(a.admit('t1', 30, q))).headers?.['Retry-After'], '1');
    mock.timers.tick(1);
    (await a.admit('t1', 30, q)).release();
  });

  test('tenants are independent: one tenant spending its budget leaves another untouched', async () => {
    const a = open();
    for (let i = 0; i < 5; i++) (await a.admit('noisy', 1, quotas())).release();
    await refusal(a.admit('noisy', 1, quotas()));
    const t = await a.admit('quiet', 1, quotas());
    assert.equal(t.headers['RateLimit-Remaining'], '4');
  });

  test('spent: once a refusal found no room, the same 429 is known synchronously until a point is back', async () => {
    const a = open();
    const q = quotas();
    assert.equal(a.spent('t1', q), undefined);
    for (let i = 0; i < 5; i++) (await a.admit('t1', 1, q)).release();
    assert.equal(a.spent('t1', q), undefined, 'not known before a refusal found it');
    await refusal(a.admit('t1', 1, q));
    const e = a.spent('t1', q);
    assert.equal(e?.code, 'rate_limited');
    assert.equal(e?.extra?.limit, 'requestsPerSecond');
    assert.equal(e?.headers?.['RateLimit-Remaining'], '0');
    assert.equal(a.spent('other', q), undefined);
    const before = a.stats().rateLimited;
    a.spent('t1', q);
    assert.equal(a.stats().rateLimited, before + 1, 'an early refusal is counted like any 429');
    mock.timers.tick(199);
    assert.ok(a.spent('t1', q));
    assert.equal(
      a.spent('t1', { ...q, requestsPerSecond: 6 }),
      undefined,
      'a raised quota asks the store again',
    );
    await refusal(a.admit('t1', 1, q));
    mock.timers.tick(1);
    assert.equal(a.spent('t1', q), undefined, 'a point is back');
    (await a.admit('t1', 1, q)).release();
  });

  test('each tenant is judged by its own quotas (tier defaults and overrides), a raised quota at once', async () => {
    const a = open();
    const free = TIER_QUOTAS.free;
    for (let i = 0; i < free.requestsPerSecond; i++) (await a.admit('f', 1, free)).release();
    await refusal(a.admit('f', 1, free));
    const raised = { ...free, requestsPerSecond: free.requestsPerSecond + 1 };
    (await a.admit('f', 1, raised)).release();
    await refusal(a.admit('f', 1, raised));
  });

  test('burstSeconds: the buckets hold that many seconds of the quota and refill at the quota', async () => {
    const a = open({ burstSeconds: 3 });
    const q = quotas({ requestsPerSecond: 2, predictionsPerSecond: 100 });
    const first = await a.admit('t1', 1, q);
    assert.equal(first.headers['RateLimit-Limit'], '6');
    assert.equal(first.headers['RateLimit-Policy'], '6;w=3;comment="requests", 300;w=3;comment="rows"');
    for (let i = 0; i < 5; i++) (await a.admit('t1', 1, q)).release();
    const e = await refusal(a.admit('t1', 1, q));
    assert.deepEqual(e.extra, { limit: 'requestsPerSecond', allowed: 2, burst: 6 });
    mock.timers.tick(500);
    (await a.admit('t1', 1, q)).release();
    await refusal(a.admit('t1', 1, q));
    // 301 rows fit no bucket of 300: refused for good.
    assert.equal((await refusal(a.admit('t1', 301, q))).code, 'quota_exceeded');
  });

  test('a refusal after admission (in-flight cap) gives its points back', async () => {
    const a = open();
    const q = quotas({ inFlightRequests: 1 });
    const held = await a.admit('t1', 1, q);
    assert.equal((await refusal(a.admit('t1', 1, q))).extra?.limit, 'inFlightRequests');
    await settle();
    held.release();
    const tickets: Ticket[] = [];
    for (let i = 0; i < 4; i++) {
      const t = await a.admit('t1', 1, q);
      tickets.push(t);
      t.release();
    }
    assert.equal(
      tickets[3]!.headers['RateLimit-Remaining'],
      '0',
      '5 taken in all: the refused one came back',
    );
    await refusal(a.admit('t1', 1, q));
  });

  test('a request no full bucket could hold is refused for good with 422, not 429', async () => {
    const a = open();
    const e = await refusal(a.admit('t1', 51, quotas()));
    assert.equal(e.code, 'quota_exceeded');
    assert.deepEqual(e.extra, { quota: 'predictionsPerSecond', limit: 50, requested: 51 });
    assert.equal((await refusal(a.admit('t1', 1, quotas({ inFlightRequests: 0 })))).code, 'quota_exceeded');
  });

  test('in-flight cap: the tenant’s 3rd concurrent request gets 429 until one is released', async () => {
    const a = open();
    const q = quotas({ inFlightRequests: 2, requestsPerSecond: 100 });
    const t1 = await a.admit('t1', 1, q);
    const t2 = await a.admit('t1', 1, q);
    const e = await refusal(a.admit('t1', 1, q));
    assert.equal(e.code, 'rate_limited');
    assert.deepEqual(e.extra, { limit: 'inFlightRequests', allowed: 2 });
    assert.equal(e.headers?.['Retry-After'], '1');
    (await a.admit('other', 1, q)).release();
    t1.release();
    t1.release(); // idempotent: a second release must not free a second place
    const t3 = await a.admit('t1', 1, q);
    await refusal(a.admit('t1', 1, q));
    assert.equal(a.stats().inFlight, 2);
    t2.release();
    t3.release();
    assert.equal(a.stats().inFlight, 0);
  });

  test('fair queue: with one slot and 100 of A’s requests waiting, B’s request is served within two slots', async () => {
    const a = open({ maxConcurrent: 1 });
    const q = quotas({ requestsPerSecond: 1000, predictionsPerSecond: 1000, inFlightRequests: 1000 });
    const order: string[] = [];
    const running = await a.admit('A', 1, q);
    const waiting: Promise<void>[] = [];
    const enqueue = (tenant: string, i: number) =>
      waiting.push(
        a.admit(tenant, 1, q).then((t) => {
          order.push(`${tenant}${i}`);
          t.release();
        }),
      );
    for (let i = 0; i < 100; i++) enqueue('A', i);
    await settle();
    assert.equal(a.stats().queued, 100);
    enqueue('B', 0);
    await settle();
    assert.equal(a.stats().queued, 101);
    running.release();
    await Promise.all(waiting);
    const slot = order.indexOf('B0');
    assert.ok(slot >= 0 && slot < 2, `B served in slot ${slot} of ${order.length}`);
    assert.deepEqual(
      order.filter((x) => x.startsWith('A')),
      Array.from({ length: 100 }, (_, i) => `A${i}`),
      'A’s own requests keep their order',
    );
    assert.equal(a.stats().running, 0);
  });

  test('weights: a premium tenant (4) gets four slots for every one of a free tenant (1) when both wait', async () => {
    const a = open({ maxConcurrent: 1 });
    const q = quotas({ requestsPerSecond: 1000, predictionsPerSecond: 1000, inFlightRequests: 1000 });
    const order: string[] = [];
    const running = await a.admit('x', 1, q);
    const waiting: Promise<void>[] = [];
    for (let i = 0; i < 20; i++) {
      for (const [tenant, weight] of [
        ['premium', 4],
        ['free', 1],
      ] as const) {
        waiting.push(
          a.admit(tenant, 1, q, { weight }).then((t) => {
            order.push(tenant);
            t.release();
          }),
        );
      }
    }
    await settle();
    running.release();
    await Promise.all(waiting);
    assert.equal(order.slice(0, 20).filter((t) => t === 'premium').length, 16);
  });

  test('shedding: beyond the per-tenant and global queue bounds requests get 503 with Retry-After', async () => {
    const a = open({ maxConcurrent: 1, maxQueued: 3, maxQueuedPerTenant: 2 });
    const q = quotas({ requestsPerSecond: 1000, predictionsPerSecond: 1000, inFlightRequests: 1000 });
    const running = await a.admit('A', 1, q);
    const queued = [outcome(a.admit('A', 1, q)), outcome(a.admit('A', 1, q))];
    const e = await refusal(a.admit('A', 1, q));
    assert.equal(e.code, 'overloaded');
    assert.equal(e.status, 503);
    assert.equal(e.headers?.['Retry-After'], '1');
    assert.deepEqual(e.extra, { reason: 'tenant_queue_full' });

    queued.push(outcome(a.admit('B', 1, q)));
    await settle();
    assert.equal(a.stats().queued, 3);
    // The global queue is full and A holds two places against C's none: A's newest request makes room.
    queued.push(outcome(a.admit('C', 1, q)));
    await settle();
    assert.equal(a.stats().queued, 3);
    // Now nobody holds more than one place: the newcomer is the one shed.
    const e2 = await refusal(a.admit('D', 1, q));
    assert.deepEqual(e2.extra, { reason: 'queue_full' });
    assert.equal(a.stats().shed, 3);
    assert.equal(a.stats().inFlight, 4, 'shed requests hold no in-flight place');
    running.release();
    assert.deepEqual(await Promise.all(queued), ['served', 'displaced', 'served', 'served']);
    assert.equal(a.stats().inFlight, 0);
    assert.equal(a.stats().running, 0);
  });

  test('a waiting request whose signal aborts leaves the queue with 503 and gives its place back', async () => {
    const a = open({ maxConcurrent: 1 });
    const q = quotas({ inFlightRequests: 2, requestsPerSecond: 100 });
    const running = await a.admit('t1', 1, q);
    const ac = new AbortController();
    const waiting = a.admit('t1', 1, q, { cancel: ac.signal });
    await settle();
    assert.equal(a.stats().queued, 1);
    ac.abort();
    const e = await refusal(waiting);
    assert.equal(e.code, 'overloaded');
    assert.deepEqual(e.extra, { reason: 'cancelled' });
    assert.equal(a.stats().queued, 0);
    assert.equal(a.stats().inFlight, 1);
    const again = a.admit('t1', 1, q);
    running.release();
    (await again).release();
  });

  test('an OnGone hook is called only when the request has to wait, and stops listening when it leaves the queue', async () => {
    const a = open({ maxConcurrent: 1 });
    const q = quotas({ inFlightRequests: 4, requestsPerSecond: 100 });
    const listening = new Set<() => void>();
    let asked = 0;
    const hook: OnGone = (leave) => {
      asked++;
      listening.add(leave);
      return () => listening.delete(leave);
    };
    const running = await a.admit('t1', 1, q, { cancel: hook });
    assert.equal(asked, 0, 'admitted at once: the hook is never asked');
    const waiting = a.admit('t1', 1, q, { cancel: hook });
    const served = a.admit('t1', 1, q, { cancel: hook });
    await settle();
    assert.equal(asked, 2);
    assert.equal(listening.size, 2);
    // The first waiting request's client goes: it leaves the queue with 503, and its listener is removed.
    [...listening][0]();
    assert.deepEqual((await refusal(waiting)).extra, { reason: 'cancelled' });
    assert.equal(listening.size, 1);
    assert.equal(a.stats().queued, 1);
    // The other one gets a slot: it stops listening too.
    running.release();
    (await served).release();
    assert.equal(listening.size, 0);
    // A client already gone when the request would wait (the hook calls leave at once): refused at
    // once, nothing queued, and it displaces nobody.
    const hold = await a.admit('t1', 1, q);
    const goneAlready: OnGone = (leave) => {
      leave();
      return () => {};
    };
    const e = await refusal(a.admit('t1', 1, q, { cancel: goneAlready }));
    assert.deepEqual(e.extra, { reason: 'cancelled' });
    assert.equal(a.stats().queued, 0);
    assert.equal(a.stats().inFlight, 1, 'its in-flight place is given back');
    hold.release();
  });

  test('an AbortSignal aborted before the request would wait refuses it at once', async () => {
    const a = open({ maxConcurrent: 1 });
    const q = quotas({ inFlightRequests: 3, requestsPerSecond: 100 });
    const running = await a.admit('t1', 1, q);
    const ac = new AbortController();
    ac.abort();
    const e = await refusal(a.admit('t1', 1, q, { cancel: ac.signal }));
    assert.deepEqual(e.extra, { reason: 'cancelled' });
    assert.equal(a.stats().queued, 0);
    running.release();
  });

  test('close refuses waiting requests with 503 unavailable, and later admits too', async () => {
    const a = open({ maxConcurrent: 1 });
    const running = await a.admit('t1', 1, quotas());
    const waiting = a.admit('t2', 1, quotas());
    await settle();
    await a.close();
    assert.equal((await refusal(waiting)).code, 'unavailable');
    assert.equal((await refusal(a.admit('t1', 1, quotas()))).code, 'unavailable');
    running.release();
  });

  /** A hold's promise and whether it has resolved yet. */
  function watch(p: Promise<void>): { done: () => boolean } {
    let resolved = false;
    void p.then(() => {
      resolved = true;
    });
    return { done: () => resolved };
  }

  test('holdRefusal: a 429 waits holdMs, then is sent', async () => {
    const a = open({ holdMs: 100 });
    const h = watch(a.holdRefusal());
    await settle();
    assert.equal(a.stats().held, 1);
    mock.timers.tick(99);
    await settle();
    assert.equal(h.done(), false, 'still held after 99 ms');
    mock.timers.tick(1);
    await settle();
    assert.equal(h.done(), true, 'sent after holdMs');
    assert.equal(a.stats().held, 0);
  });

  test('holdRefusal resolves at once: holdMs 0, maxHeld reached; close ends every hold', async () => {
    const off = open({ holdMs: 0 });
    const atOnce = watch(off.holdRefusal());
    await settle();
    assert.equal(atOnce.done(), true, 'holdMs 0: no hold');
    await off.close();

    const a = open({ holdMs: 500, maxHeld: 2 });
    const first = watch(a.holdRefusal());
    const second = watch(a.holdRefusal());
    const third = watch(a.holdRefusal());
    await settle();
    assert.deepEqual(
      [first.done(), second.done(), third.done()],
      [false, false, true],
      'beyond maxHeld: at once',
    );
    assert.equal(a.stats().held, 2);
    await a.close();
    await settle();
    assert.deepEqual([first.done(), second.done()], [true, true], 'close ends the holds');
    assert.equal(a.stats().held, 0);
    const late = watch(a.holdRefusal());
    await settle();
    assert.equal(late.done(), true, 'closed: at once');
  });

  test('options are checked once, at creation', () => {
    assert.throws(() => createAdmission({ maxConcurrent: 0 }), /maxConcurrent/);
    assert.throws(() => createAdmission({ burstSeconds: 0.5 }), /burstSeconds/);
    assert.throws(() => createAdmission({ holdMs: -1 }), /holdMs/);
  });
});
