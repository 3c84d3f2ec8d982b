// Metering through the real server on both stores: 1,000 predictions (a mix of batch sizes, concurrent, so
// the micro-batcher splits runs between requests) are metered as exactly 1,000 predicted rows; GET
// /v1/usage shows a tenant its own usage only (another tenant's answers 404, a predict key 403), the
// operator every tenant's; replayed events count once; bad query parameters answer 400 naming the field.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { monthOf } from '../../../src/core/metering.ts';
import { mintTenantScope, SYSTEM } from '../../../src/core/scope.ts';
import { createTestPlatform, type TestPlatform } from '../../helpers/platform.ts';
import { STORE_KINDS } from '../../helpers/stores.ts';
import { registerTrained, trainTiny } from '../inference/fixtures.ts';

const model = trainTiny();
const row = (i: number) => ({ x: ((i % 21) - 10) / 10, n: i % 7, color: ['red', 'green', 'blue'][i % 3] });
const HOUR = 3_600_000;

/** A range holding now whatever the day: from the start of yesterday to the end of tomorrow (UTC). */
function aroundNow(): { from: string; to: string } {
  const day = Math.floor(Date.now() / 86_400_000) * 86_400_000;
  return { from: new Date(day - 86_400_000).toISOString(), to: new Date(day + 2 * 86_400_000).toISOString() };
}

for (const kind of STORE_KINDS) {
  describe(`usage metering and GET /v1/usage (${kind})`, () => {
    let tp: TestPlatform;
    let a: { id: string; admin: string; predict: string };
    let b: { id: string; admin: string; predict: string };
    /** When the 1,000 predictions were answered. */
    let predictedAt = 0;
    const usage = (key: string, query = '', tenant?: string) =>
      tp.call({ method: 'GET', url: `/v1/usage${query}`, key, ...(tenant ? { tenant } : {}) });
    const range = () => {
      const r = aroundNow();
      return `?from=${encodeURIComponent(r.from)}&to=${encodeURIComponent(r.to)}&granularity=day`;
    };

    before(async () => {
      tp = await createTestPlatform(kind, { env: { TENANTML_METERING_FLUSH_MS: '3600000' } });
      const fast = { tier: 'premium', quotaOverrides: { predictionsPerSecond: 1_000_000 } };
      a = await tp.tenant('ua', fast);
      b = await tp.tenant('ub', fast);
      await registerTrained(tp.platform, mintTenantScope(a.id, SYSTEM), 'churn', model);
      await registerTrained(tp.platform, mintTenantScope(b.id, SYSTEM), 'ltv', model);
    });
    after(() => tp.cleanup());

    test('1,000 predictions through the server are metered as exactly 1,000 predicted rows', async () => {
      // Batch sizes 1…40 cycling, sent 8 at a time: runs are shared between requests.
      const sizes: number[] = [];
      let left = 1000;
      for (let i = 0; left > 0; i++) {
        const n = Math.min(left, (i % 40) + 1);
        sizes.push(n);
        left -= n;
      }
      let next = 0;
      let sent = 0;
      const worker = async () => {
        while (next < sizes.length) {
          const n = sizes[next++];
          const instances = Array.from({ length: n }, (_, i) => row(sent + i));
          sent += n;
          const r = await tp.call({
            method: 'POST',
            url: '/v1/models/churn/predict',
            key: a.predict,
            json: { instances },
          });
          assert.equal(r.status, 200, r.text);
          assert.equal(r.body.predictions.length, n);
        }
      };
      await Promise.all(Array.from({ length: 8 }, worker));
      predictedAt = Date.now();
      // Refused requests are not metered: a bad instance and an unknown model.
      const bad = await tp.call({
        method: 'POST',
        url: '/v1/models/churn/predict',
        key: a.predict,
        json: { instances: [{ x: 'not a number', n: 1, color: 'red' }] },
      });
      assert.equal(bad.status, 400);
      const missing = await tp.call({
        method: 'POST',
        url: '/v1/models/nope/predict',
        key: a.predict,
        json: { instances: [row(1)] },
      });
      assert.equal(missing.status, 404);
      await tp.platform.meter.flush();

      const r = await usage(a.admin, range());
      assert.equal(r.status, 200, r.text);
      assert.equal(r.body.tenants.length, 1);
      const t = r.body.tenants[0];
      assert.equal(t.tenantId, a.id);
      assert.equal(t.total.usage.predicted_rows, 1000);
      assert.equal(t.total.usage.predict_requests, sizes.length);
      assert.ok(t.total.usage.inference_cpu_seconds > 0, 'the runs’ compute time is attributed');
      assert.ok(
        Math.abs(t.total.cost.predictions - (1000 / 1000) * r.body.prices.per1000Predictions) < 1e-12,
        'predictions priced per 1,000 rows',
      );
      assert.equal(r.body.granularity, 'day');
      assert.equal(r.body.currency, 'USD');
      assert.equal(r.body.sharedCostPolicy, 'contributors');
    });

    test('a tenant sees only its own usage; the operator sees every tenant, or the one it names', async () => {
      await tp.call({
        method: 'POST',
        url: '/v1/models/ltv/predict',
        key: b.predict,
        json: { instances: [row(1), row(2)] },
      });
      await tp.platform.meter.flush();

      const ownA = await usage(a.admin, range());
      assert.deepEqual(
        ownA.body.tenants.map((t: { tenantId: string }) => t.tenantId),
        [a.id],
      );
      const ownB = await usage(b.admin, range());
      assert.deepEqual(
        ownB.body.tenants.map((t: { tenantId: string }) => t.tenantId),
        [b.id],
      );
      assert.equal(ownB.body.tenants[0].total.usage.predicted_rows, 2);

      // A's key naming B learns nothing: 404, like a missing tenant.
      const cross = await usage(a.admin, range(), b.id);
      assert.equal(cross.status, 404);
      assert.equal(cross.body.code, 'not_found');
      // A predict key may not read usage.
      const pk = await usage(a.predict, range());
      assert.equal(pk.status, 403);

      const all = await usage(tp.adminKey, range());
      assert.equal(all.status, 200, all.text);
      const ids = all.body.tenants.map((t: { tenantId: string }) => t.tenantId);
      assert.ok(ids.includes(a.id) && ids.includes(b.id), JSON.stringify(ids));
      const one = await usage(tp.adminKey, range(), b.id);
      assert.deepEqual(
        one.body.tenants.map((t: { tenantId: string }) => t.tenantId),
        [b.id],
      );
    });

    test('a replayed event counts once', async () => {
      const at = new Date(Math.floor(Date.now() / HOUR) * HOUR).toISOString();
      const e = {
        id: 'test:replay:1',
        tenantId: b.id,
        kind: 'monitoring_runs' as const,
        quantity: 1,
        at,
        subject: 'ltv',
        origin: 'own' as const,
      };
      tp.platform.meter.record([e]);
      assert.equal(await tp.platform.meter.flush(), 1);
      tp.platform.meter.record([e]);
      assert.equal(await tp.platform.meter.flush(), 0);
      const r = await usage(b.admin, range());
      assert.equal(r.body.tenants[0].total.usage.monitoring_runs, 1);
    });

    test('hour and month granularities sum the same usage into their periods', async () => {
      const hour = Math.floor(Date.now() / HOUR) * HOUR;
      const q = `?from=${new Date(hour - HOUR).toISOString()}&to=${new Date(hour + 2 * HOUR).toISOString()}&granularity=hour`;
      const r = await usage(a.admin, q);
      assert.equal(r.status, 200, r.text);
      const periods = r.body.tenants[0].periods;
      assert.ok(periods.length >= 1);
      for (const p of periods) assert.equal(new Date(p.start).getTime() % HOUR, 0);
      assert.equal(r.body.tenants[0].total.usage.predicted_rows, 1000);
      const m = await usage(a.admin, '?granularity=month');
      assert.equal(m.status, 200, m.text);
      // The default range is the month of the query; the predictions were made moments before it. Right
      // after a month boundary they belong to the month before, and the current month holds none.
      const sameMonth = monthOf(new Date(predictedAt)) === monthOf(new Date());
      assert.equal(m.body.tenants[0].periods.length, sameMonth ? 1 : 0, 'the current month (default range)');
    });

    test('bad query parameters answer 400 naming the field', async () => {
      const cases: [string, string][] = [
        ['?granularity=week', 'granularity'],
        ['?from=yesterday', 'from'],
        ['?to=2026-13-01', 'to'],
        ['?from=2026-02-30', 'from'],
        ['?from=2026-03-01T00:00:00', 'from'], // no zone: ambiguous
        ['?from=2026-03-02&to=2026-03-01', 'to'],
        ['?from=2026-01-01&to=2026-03-01&granularity=hour', 'to'], // more than 31 days by hour
        ['?from=9999-12-31', 'from'], // its month would end in year 10000
      ];
      for (const [q, field] of cases) {
        const r = await usage(a.admin, q);
        assert.equal(r.status, 400, `${q}: ${r.text}`);
        assert.equal(r.headers['content-type'], 'application/problem+json; charset=utf-8');
        assert.ok(
          r.body.errors?.some((e: { field: string }) => e.field === field),
          `${q} names ${field}: ${r.text}`,
        );
      }
      const unknown = await usage(a.admin, '?tenant=ub');
      assert.equal(unknown.status, 400, unknown.text);
      assert.ok(JSON.stringify(unknown.body).includes('tenant'), unknown.text);
    });
  });
}
