import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, describe, test } from 'node:test';
import { Redis } from 'ioredis';
import { AppError } from '../../../src/core/errors.ts';
import {
  type Admission,
  type AdmissionQuotas,
  createAdmission,
} from '../../../src/runtime/limits/admission.ts';

// A real Redis at 127.0.0.1:6379; every run writes under its own key prefix and deletes it afterwards.
const REDIS_URL = process.env.TENANTML_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const prefix = `tenantml-test:limits:${randomBytes(6).toString('hex')}`;
const admin = new Redis(REDIS_URL);

after(async () => {
  const keys = await admin.keys(`${prefix}:*`);
  if (keys.length > 0) await admin.del(...keys);
  await admin.quit();
});

const quotas: AdmissionQuotas = { requestsPerSecond: 1, predictionsPerSecond: 100, inFlightRequests: 100 };

async function outcome(a: Admission, tenant: string, rows = 1): Promise<AppError | Record<string, string>> {
  try {
    const t = await a.admit(tenant, rows, quotas);
    t.release();
    return t.headers;
  } catch (e) {
    assert.ok(e instanceof AppError, String(e));
    return e;
  }
}

describe('runtime/limits on Redis: replicas share one budget', () => {
  test('two Admission instances on one Redis spend one tenant budget together', async () => {
    // Buckets of 10 s at 1/s: 10 requests at once, then one more per second.
    const opts = { redisUrl: REDIS_URL, keyPrefix: prefix, burstSeconds: 10, redisTimeoutMs: 2000 };
    const one = createAdmission(opts);
    const two = createAdmission(opts);
    try {
      assert.equal(one.capabilities.sharedAcrossProcesses, true);
      const results: (AppError | Record<string, string>)[] = [];
      const t0 = performance.now();
      for (let i = 0; i < 14; i++) results.push(await outcome(i % 2 === 0 ? one : two, 'tenant-a'));
      const earned = Math.floor((performance.now() - t0) / 1000); // points refilled meanwhile (0 unless the machine stalls)
      const admitted = results.filter((r) => !(r instanceof AppError)) as Record<string, string>[];
      const refused = results.filter((r) => r instanceof AppError) as AppError[];
      assert.ok(
        admitted.length >= 10 && admitted.length <= 10 + earned,
        `one bucket of 10, not 10 per instance: ${admitted.length} admitted in ${earned} s`,
      );
      if (earned === 0) {
        assert.deepEqual(
          admitted.map((h) => h['RateLimit-Remaining']),
          ['9', '8', '7', '6', '5', '4', '3', '2', '1', '0'],
          'each instance sees the other’s spending',
        );
      }
      assert.equal(refused.length, 14 - admitted.length);
      for (const e of refused) {
        assert.equal(e.status, 429);
        assert.equal(e.extra?.limit, 'requestsPerSecond');
        assert.equal(e.headers?.['Retry-After'], '1', 'a point is back within a second');
        assert.equal(e.headers?.['RateLimit-Limit'], '10');
        assert.equal(e.headers?.['RateLimit-Remaining'], '0');
      }
      // Another tenant has its own budget in the same store.
      assert.ok(!((await outcome(two, 'tenant-b')) instanceof AppError));
      assert.equal(one.stats().limiterErrors + two.stats().limiterErrors, 0);
      const stored = await admin.hgetall(`${prefix}:tenant-a`);
      assert.deepEqual(Object.keys(stored).sort(), ['at', 'requests', 'rows'], 'one hash per tenant');
      assert.ok(Number(stored.requests) > 9 && Number(stored.requests) <= 10, stored.requests);
      const ttl = await admin.pttl(`${prefix}:tenant-a`);
      assert.ok(ttl > 0 && ttl <= 10_001, `the hash expires once both buckets are full again: ${ttl} ms`);
    } finally {
      await one.close();
      await two.close();
    }
  });

  test('the shared buckets refill continuously: after the burst, one request per point earned', async () => {
    // 2 per second, a burst of 2: a point comes back every 500 ms.
    const a = createAdmission({ redisUrl: REDIS_URL, keyPrefix: prefix, redisTimeoutMs: 2000 });
    const q: AdmissionQuotas = { requestsPerSecond: 2, predictionsPerSecond: 100, inFlightRequests: 100 };
    const admitted = async () => {
      try {
        (await a.admit('tenant-p', 1, q)).release();
        return true;
      } catch (e) {
        assert.ok(e instanceof AppError && e.code === 'rate_limited', String(e));
        return false;
      }
    };
    try {
      const t0 = performance.now();
      assert.deepEqual([await admitted(), await admitted(), await admitted()], [true, true, false]);
      const burstMs = performance.now() - t0;
      await new Promise((r) => setTimeout(r, 600));
      const t1 = performance.now();
      const pair = [await admitted(), await admitted()];
      if (performance.now() - t1 + burstMs < 400) {
        assert.deepEqual(pair, [true, false], 'one point back after 600 ms, not a whole new burst');
      } else {
        assert.equal(pair[0], true);
      }
      assert.equal(a.stats().limiterErrors, 0);
    } finally {
      await a.close();
    }
  });

  test('points taken for a request then refused (in-flight cap) are given back in Redis', async () => {
    const a = createAdmission({
      redisUrl: REDIS_URL,
      keyPrefix: prefix,
      redisTimeoutMs: 2000,
      burstSeconds: 10,
    });
    const q: AdmissionQuotas = { requestsPerSecond: 1, predictionsPerSecond: 100, inFlightRequests: 1 };
    try {
      const held = await a.admit('tenant-g', 5, q);
      const e = await a.admit('tenant-g', 7, q).catch((err: unknown) => err as AppError);
      assert.equal((e as AppError).extra?.limit, 'inFlightRequests');
      await a.close(); // waits for the give-back to reach Redis
      held.release();
      const stored = await admin.hgetall(`${prefix}:tenant-g`);
      assert.ok(Number(stored.requests) <= 1, `requests in use: ${stored.requests}`);
      assert.ok(Number(stored.rows) <= 5, `rows in use: ${stored.rows} (the refused 7 came back)`);
      assert.ok(Number(stored.rows) > 4, stored.rows);
    } finally {
      await a.close();
    }
  });

  test('Redis unreachable: requests are still admitted, limits hold per process, failures are reported', async () => {
    const errors: unknown[] = [];
    const a = createAdmission({
      redisUrl: 'redis://127.0.0.1:1',
      keyPrefix: prefix,
      burstSeconds: 10,
      redisTimeoutMs: 50,
      onLimiterError: (e) => errors.push(e),
    });
    try {
      const results: (AppError | Record<string, string>)[] = [];
      const t0 = performance.now();
      for (let i = 0; i < 12; i++) results.push(await outcome(a, 'tenant-c'));
      const earned = Math.floor((performance.now() - t0) / 1000);
      const admitted = results.filter((r) => !(r instanceof AppError)).length;
      assert.ok(
        admitted >= 10 && admitted <= 10 + earned,
        `the memory fallback counts: ${admitted} admitted`,
      );
      if (earned === 0) assert.equal((results[11] as AppError).code, 'rate_limited');
      assert.ok(a.stats().limiterErrors >= 1);
      assert.ok(errors.length >= 1);
    } finally {
      await a.close();
    }
  });
});

describe('runtime/limits on Redis: leases', () => {
  /** EVAL and EVALSHA calls Redis has served so far (all clients: concurrent test files count too). */
  async function scriptCalls(): Promise<number> {
    const info = await admin.info('commandstats');
    let n = 0;
    for (const m of info.matchAll(/^cmdstat_(?:evalsha|eval):calls=(\d+)/gm)) n += Number(m[1]);
    return n;
  }
  const opts = { redisUrl: REDIS_URL, keyPrefix: prefix, burstSeconds: 10, redisTimeoutMs: 2000 };

  test('replicas spend slices of a large bucket without a round trip each: 1,000 requests, a few dozen scripts', async () => {
    // 160/s with a 10-s burst: buckets of 1,600 requests and 160,000 rows; a lease is 1/16 of each.
    const q: AdmissionQuotas = {
      requestsPerSecond: 160,
      predictionsPerSecond: 16_000,
      inFlightRequests: 100,
    };
    const one = createAdmission(opts);
    const two = createAdmission(opts);
    try {
      const before = await scriptCalls();
      let admitted = 0;
      for (let i = 0; i < 1000; i++) {
        const t = await (i % 2 === 0 ? one : two).admit('tenant-lease', 1, q);
        t.release();
        admitted++;
      }
      const calls = (await scriptCalls()) - before;
      assert.equal(admitted, 1000);
      assert.ok(calls < 200, `${calls} scripts for 1,000 requests (one per request without leases)`);
      assert.equal(one.stats().limiterErrors + two.stats().limiterErrors, 0);
    } finally {
      await one.close();
      await two.close();
    }
  });

  test('leased or not, the replicas together never admit more than the bucket holds', async () => {
    // 32/s with a 10-s burst: 320 requests; leases of 20.
    const q: AdmissionQuotas = { requestsPerSecond: 32, predictionsPerSecond: 3200, inFlightRequests: 100 };
    const one = createAdmission({ ...opts, holdMs: 0 });
    const two = createAdmission({ ...opts, holdMs: 0 });
    try {
      const t0 = performance.now();
      let admitted = 0;
      for (let i = 0; i < 400; i++) {
        try {
          (await (i % 2 === 0 ? one : two).admit('tenant-lease-cap', 1, q)).release();
          admitted++;
        } catch (e) {
          assert.ok(e instanceof AppError && e.code === 'rate_limited', String(e));
        }
      }
      const earned = Math.ceil(((performance.now() - t0) / 1000) * 32);
      assert.ok(
        admitted >= 320 - 40 && admitted <= 320 + earned,
        `${admitted} admitted of a bucket of 320 (+${earned} earned meanwhile)`,
      );
    } finally {
      await one.close();
      await two.close();
    }
  });
});
