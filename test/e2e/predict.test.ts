// Predictions over a real socket: a platform listening on a free port, a model version registered as a
// training job leaves it, then keep-alive HTTP clients — v1 predict with RateLimit headers, v2 infer,
// a burst of concurrent requests, /metrics — and a clean shutdown that writes the prediction log.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { mintTenantScope, SYSTEM } from '../../src/core/scope.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { registerTrained, trainTiny } from '../integration/inference/fixtures.ts';

describe('predict over HTTP', () => {
  let srv: TestServer;
  let key: string;
  const post = (path: string, body: unknown, k = key) =>
    fetch(`${srv.url}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${k}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });

  before(async () => {
    srv = await startTestServer('tenantml-e2e-predict-', { TENANTML_PREDICTION_LOG_FLUSH_MS: '60000' });
    const admin = { authorization: `Bearer ${srv.platform.adminKey}`, 'content-type': 'application/json' };
    const t = await fetch(`${srv.url}/v1/tenants`, {
      method: 'POST',
      headers: admin,
      body: JSON.stringify({ id: 'e2e-p', name: 'E2E', quotaOverrides: { inFlightRequests: 64 } }),
    });
    assert.equal(t.status, 201);
    const k = await fetch(`${srv.url}/v1/tenants/e2e-p/keys`, {
      method: 'POST',
      headers: admin,
      body: JSON.stringify({ role: 'predict' }),
    });
    key = ((await k.json()) as { key: string }).key;
    await registerTrained(srv.platform, mintTenantScope('e2e-p', SYSTEM), 'churn', trainTiny());
  });
  after(() => srv.close());

  test('v1 predict answers with RateLimit headers; v2 infer agrees with it', async () => {
    const r = await post('/v1/models/churn/predict', { instances: [{ x: 0.8, n: 2, color: 'blue' }] });
    assert.equal(r.status, 200);
    assert.ok(r.headers.get('ratelimit-limit'));
    const body = (await r.json()) as any;
    assert.equal(body.predictions[0].label, 'yes');
    const v2 = await post('/v2/models/churn/infer', {
      inputs: [
        { name: 'x', shape: [1], datatype: 'FP32', data: [0.8] },
        { name: 'n', shape: [1], datatype: 'INT64', data: [2] },
        { name: 'color', shape: [1], datatype: 'BYTES', data: ['blue'] },
      ],
    });
    assert.equal(v2.status, 200);
    const out = ((await v2.json()) as any).outputs;
    const probs = out.find((o: any) => o.name === 'probabilities').data;
    assert.ok(Math.abs(probs[1] - body.predictions[0].probabilities.yes) < 1e-6);
  });

  test('40 concurrent requests all answer, from one loaded session', async () => {
    const res = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        post('/v1/models/churn/predict', { instances: [{ x: i % 2 ? 0.5 : -0.5, n: 1, color: 'red' }] }),
      ),
    );
    const bodies = (await Promise.all(res.map((r) => r.json()))) as any[];
    assert.ok(res.every((r) => r.status === 200));
    assert.ok(bodies.every((b, i) => b.predictions[0].label === (i % 2 ? 'yes' : 'no')));
    const m = await fetch(`${srv.url}/metrics`, {
      headers: { authorization: `Bearer ${srv.platform.adminKey}` },
    });
    const text = await m.text();
    assert.match(text, /tenantml_model_cache_events_total\{tenant="e2e-p",event="load"\} 1\n/);
  });

  test('a bad instance is a 400 problem document; the server serves on', async () => {
    const r = await post('/v1/models/churn/predict', { instances: [{ x: 'NaN', n: 1, color: 'red' }] });
    assert.equal(r.status, 400);
    assert.match(r.headers.get('content-type') ?? '', /application\/problem\+json/);
    const p = (await r.json()) as any;
    assert.deepEqual(
      p.errors.map((e: any) => [e.index, e.field]),
      [[0, 'x']],
    );
    assert.equal(
      (await post('/v1/models/churn/predict', { instances: [{ x: 1, n: 1, color: 'red' }] })).status,
      200,
    );
  });

  test('shutdown writes the buffered prediction log', async () => {
    const log = srv.platform.services.inference.predictionLog;
    assert.ok(log.buffered > 0, 'predictions are buffered (the flush interval is a minute)');
    await srv.platform.services.inference.close();
    const scope = mintTenantScope('e2e-p', SYSTEM);
    const keys = await log.list(scope, 'churn');
    const records = (await Promise.all(keys.map((k) => log.read(scope, k)))).flat();
    assert.ok(records.length >= 42, `${records.length} records`);
  });
});
