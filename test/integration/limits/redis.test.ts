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
    // A 10-second window keeps the whole test inside one window on a loaded machine: 1/s × 10 s = 10 requests.
    const opts = { redisUrl: REDIS_URL, keyPrefix: prefix, windowSeconds: 10, redisTimeoutMs: 2000 };
    const one = createAdmission(opts);
    const two = createAdmission(opts);
    try {
      assert.equal(one.capabilities.sharedAcrossProcesses, true);
      const results: (AppError | Record<string, string>)[] = [];
      for (let i = 0; i < 14; i++) results.push(await outcome(i % 2 === 0 ? one : two, 'tenant-a'));
      const admitted = results.filter((r) => !(r instanceof AppError)) as Record<string, string>[];
      const refused = results.filter((r) => r instanceof AppError) as AppError[];
      assert.equal(admitted.length, 10, 'one budget of 10, not 10 per instance');
      assert.deepEqual(
        admitted.map((h) => h['RateLimit-Remaining']),
        ['9', '8', '7', '6', '5', '4', '3', '2', '1', '0'],
        'each instance sees the other’s spending',
      );
      assert.equal(refused.length, 4);
      for (const e of refused) {
        assert.equal(e.status, 429);
        assert.equal(e.extra?.limit, 'requestsPerSecond');
        const retry = Number(e.headers?.['Retry-After']);
        assert.ok(retry >= 1 && retry <= 10, `Retry-After ${retry}`);
        assert.equal(e.headers?.['RateLimit-Limit'], '10');
        assert.equal(e.headers?.['RateLimit-Remaining'], '0');
      }
      // Another tenant has its own budget in the same store.
      assert.ok(!((await outcome(two, 'tenant-b')) instanceof AppError));
      assert.equal(one.stats().limiterErrors + two.stats().limiterErrors, 0);
      const stored = await admin.keys(`${prefix}:*`);
      assert.ok(
        stored.some((k) => k.endsWith(':requests:tenant-a')),
        stored.join(', '),
      );
    } finally {
      await one.close();
      await two.close();
    }
  });

  test('Redis unreachable: requests are still admitted, limits hold per process, failures are reported', async () => {
    const errors: unknown[] = [];
    const a = createAdmission({
      redisUrl: 'redis://127.0.0.1:1',
      keyPrefix: prefix,
      windowSeconds: 10,
      redisTimeoutMs: 50,
      onLimiterError: (e) => errors.push(e),
    });
    try {
      const results: (AppError | Record<string, string>)[] = [];
      for (let i = 0; i < 12; i++) results.push(await outcome(a, 'tenant-c'));
      assert.equal(results.filter((r) => !(r instanceof AppError)).length, 10, 'the memory fallback counts');
      assert.equal((results[11] as AppError).code, 'rate_limited');
      assert.ok(a.stats().limiterErrors >= 1);
      assert.ok(errors.length >= 1);
    } finally {
      await a.close();
    }
  });
});
