// Per-tenant limits in Redis are one budget across API replicas: two real platforms (separate processes'
// worth of state: separate stores, caches and admissions) pointed at one real Redis admit, together, what
// one tenant's buckets allow — and refuse the rest with 429 and its headers, on either one.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { mintTenantScope, SYSTEM } from '../../../src/core/scope.ts';
import { createTestPlatform, type TestPlatform } from '../../helpers/platform.ts';
import { registerTrained, trainTiny } from '../inference/fixtures.ts';

const REDIS_URL = process.env.TENANTML_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

describe('rate limits shared by two server instances through Redis', () => {
  // A fresh tenant id per run: Redis outlives the test, and keys are per tenant.
  const tenant = `rl-${randomBytes(4).toString('hex')}`;
  const servers: TestPlatform[] = [];
  const keys: string[] = [];

  before(async () => {
    const model = trainTiny();
    for (let i = 0; i < 2; i++) {
      // A generous Redis timeout: on a busy machine (the whole suite at once) a 100-ms answer can be late,
      // and the replica then counts in memory by design — which this test must not mistake for sharing.
      // Buckets of 5 s at 1 request/s: a burst of 5, then a point back each second. Refusals sent at once
      // (holding is tested in predict.test.ts), so the ten requests take well under that second.
      const tp = await createTestPlatform('sqlite', {
        env: {
          TENANTML_REDIS_URL: REDIS_URL,
          TENANTML_REDIS_TIMEOUT_MS: '5000',
          TENANTML_RATE_LIMIT_HOLD_MS: '0',
          TENANTML_RATE_LIMIT_BURST_SECONDS: '5',
        },
      });
      const t = await tp.tenant(tenant, { quotaOverrides: { requestsPerSecond: 1 } });
      await registerTrained(tp.platform, mintTenantScope(tenant, SYSTEM), 'churn', model);
      servers.push(tp);
      keys.push(t.predict);
    }
  });
  after(async () => {
    for (const tp of servers) await tp.cleanup();
  });

  test('a burst of 5 between both replicas; the 6th and later answer 429 with RateLimit headers', async () => {
    const results: { server: number; status: number; headers: Record<string, unknown>; body: any }[] = [];
    const t0 = performance.now();
    // Alternate between the replicas: each alone would admit all 5 it sees.
    for (let i = 0; i < 10; i++) {
      const s = i % 2;
      const r = await servers[s].call({
        method: 'POST',
        url: '/v1/models/churn/predict',
        key: keys[s],
        json: { instances: [{ x: 0.5, n: 3, color: 'red' }] },
      });
      results.push({ server: s, status: r.status, headers: r.headers, body: r.body });
    }
    // Points earned back meanwhile: 0 unless the machine stalled for a second.
    const earned = Math.floor((performance.now() - t0) / 1000);
    const ok = results.filter((r) => r.status === 200);
    const limited = results.filter((r) => r.status === 429);
    const seen = results.map((r) => `${r.server}:${r.status}`).join(' ');
    assert.ok(ok.length >= 5 && ok.length <= 5 + earned, `${seen} in ${earned} s`);
    assert.equal(limited.length, 10 - ok.length);
    assert.ok(
      new Set(limited.map((r) => r.server)).size === 2,
      'both replicas refuse once the budget is spent',
    );
    for (const r of limited) {
      assert.equal(r.body.code, 'rate_limited');
      assert.ok(Number(r.headers['retry-after']) >= 1);
      assert.equal(r.headers['ratelimit-remaining'], '0');
      assert.equal(r.headers['ratelimit-limit'], '5');
    }
    // The first answers counted the one budget down across both replicas.
    if (earned === 0) {
      assert.deepEqual(
        ok.map((r) => Number(r.headers['ratelimit-remaining'])),
        [4, 3, 2, 1, 0],
      );
    }
  });
});
