// The predict API over real stores and real ONNX sessions: resolution order (own live, tuned or tenant,
// → published shared → 404), another tenant's model answering exactly like a missing one, atomic swap on
// promotion, single load under 50 cold requests, eviction by bytes, bad instances (each → 400 naming
// index and field, the server serving on), the v2 protocol, the prediction log and /metrics.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ManualClock } from '../../../src/core/clock.ts';
import { mintTenantScope, SYSTEM, sharedScope } from '../../../src/core/scope.ts';
import { createTestPlatform, type TestPlatform } from '../../helpers/platform.ts';
import { STORE_KINDS } from '../../helpers/stores.ts';
import { registerImported, registerTrained, trainTiny } from './fixtures.ts';

const yes = trainTiny();
const no = trainTiny({ flip: true });
const reg = trainTiny({ regression: true });
const row = { x: 0.5, n: 1, color: 'red' };

const predict = (tp: TestPlatform, key: string, model: string, instances: unknown) =>
  tp.call({ method: 'POST', url: `/v1/models/${model}/predict`, key, json: { instances } });

async function metric(tp: TestPlatform, name: string, labels: string): Promise<number> {
  const m = await tp.call({ method: 'GET', url: '/metrics', key: tp.adminKey });
  const line = m.text
    .split('\n')
    .find((l) => (l.startsWith(`${name}{`) || l.startsWith(`${name} `)) && l.includes(labels));
  return line ? Number(line.split(' ').pop()) : 0;
}

for (const kind of STORE_KINDS) {
  describe(`model resolution for predictions (${kind})`, () => {
    let tp: TestPlatform;
    let a: { id: string; admin: string; predict: string };
    let b: { id: string; admin: string; predict: string };
    before(async () => {
      // Every request asks the store: the versions registered in a test must answer the next request.
      tp = await createTestPlatform(kind, { env: { TENANTML_INFERENCE_RESOLVE_TTL_MS: '0' } });
      a = await tp.tenant('pa');
      b = await tp.tenant('pb');
    });
    after(() => tp.cleanup());

    test('shared (published) → tuned → tenant live; unpublished and missing → the same 404', async () => {
      const shared = sharedScope(SYSTEM);
      await registerTrained(tp.platform, shared, 'churn', yes, { mode: 'shared' });
      assert.equal((await predict(tp, a.predict, 'churn', [row])).status, 404, 'not yet published');
      await tp.platform.store.models.setAudience(shared, 'churn', [a.id]);

      const s = await predict(tp, a.predict, 'churn', [row]);
      assert.equal(s.status, 200, s.text);
      assert.deepEqual(s.body.model, { name: 'churn', version: 1, mode: 'shared' });
      assert.equal(s.body.predictions[0].label, 'yes');

      const scopeA = mintTenantScope(a.id, SYSTEM);
      await registerTrained(tp.platform, scopeA, 'churn', no, { mode: 'tuned' });
      const t = await predict(tp, a.admin, 'churn', [row]);
      assert.deepEqual(t.body.model, { name: 'churn', version: 1, mode: 'tuned' });
      assert.equal(t.body.predictions[0].label, 'no');

      await registerTrained(tp.platform, scopeA, 'churn', yes, { mode: 'tenant' });
      await tp.platform.store.models.promote(scopeA, 'churn', 2, 'test', '2031-01-02T00:00:00Z');
      const own = await predict(tp, a.predict, 'churn', [row]);
      assert.deepEqual(own.body.model, { name: 'churn', version: 2, mode: 'tenant' });
      assert.equal(own.body.predictions[0].label, 'yes');

      // B is not in the audience: the shared model is invisible to it, like a missing one.
      const hidden = await predict(tp, b.predict, 'churn', [row]);
      const missing = await predict(tp, b.predict, 'nothing-here', [row]);
      assert.equal(hidden.status, 404);
      assert.equal(hidden.body.code, 'not_found');
      assert.equal(hidden.body.detail, missing.body.detail);
    });

    test("another tenant's own model answers exactly like a missing one", async () => {
      await registerTrained(tp.platform, mintTenantScope(b.id, SYSTEM), 'b-secret', yes);
      assert.equal((await predict(tp, b.predict, 'b-secret', [row])).status, 200);
      const other = await predict(tp, a.predict, 'b-secret', [row]);
      const none = await predict(tp, a.predict, 'no-such-model', [row]);
      assert.equal(other.status, 404);
      const strip = (x: any) => ({ ...x, instance: undefined, requestId: undefined });
      assert.deepEqual(strip(other.body), { ...strip(none.body) });
      // The operator naming A in X-Tenant-Id sees A's world, not B's.
      const op = await tp.call({
        method: 'POST',
        url: '/v1/models/b-secret/predict',
        key: tp.adminKey,
        tenant: a.id,
        json: { instances: [row] },
      });
      assert.equal(op.status, 404);
    });
  });
}

describe('predict API (sqlite)', () => {
  let tp: TestPlatform;
  let a: { id: string; admin: string; predict: string };
  before(async () => {
    tp = await createTestPlatform('sqlite', {
      env: {
        TENANTML_INFERENCE_MAX_INSTANCES: '5',
        TENANTML_INFERENCE_BATCH_WINDOW_MS: '40',
        TENANTML_INFERENCE_RESOLVE_TTL_MS: '0',
        // Short holds: the 429 tests below send several refused requests before their tenant's point
        // comes back (1 s), which 100-ms holds could carry past on a busy machine.
        TENANTML_RATE_LIMIT_HOLD_MS: '40',
      },
    });
    // Room for the 50-request burst below; limits themselves are tested further down.
    a = await tp.tenant('api', {
      quotaOverrides: { inFlightRequests: 100, requestsPerSecond: 10_000, predictionsPerSecond: 10_000 },
    });
    const scope = mintTenantScope(a.id, SYSTEM);
    await registerTrained(tp.platform, scope, 'churn', yes);
    await registerTrained(tp.platform, scope, 'price', reg);
  });
  after(() => tp.cleanup());

  test('a classifier answers label and probabilities by class, with prediction ids', async () => {
    const r = await predict(tp, a.predict, 'churn', [row, { x: -0.7, n: 3, color: null }]);
    assert.equal(r.status, 200, r.text);
    assert.match(r.body.id, /^req_/);
    assert.deepEqual(r.body.model, { name: 'churn', version: 1, mode: 'tenant' });
    const [p0, p1] = r.body.predictions;
    assert.equal(p0.label, 'yes');
    assert.equal(p1.label, 'no');
    assert.deepEqual(Object.keys(p0.probabilities).sort(), ['no', 'yes']);
    assert.ok(Math.abs(p0.probabilities.no + p0.probabilities.yes - 1) < 1e-5);
    assert.notEqual(p0.id, p1.id);
    assert.ok(p0.id.startsWith(r.body.id));
  });

  test('a regressor answers a value', async () => {
    const r = await predict(tp, a.admin, 'price', [{ x: 0.5, n: 1, color: 'blue' }]);
    assert.equal(r.status, 200, r.text);
    assert.equal(typeof r.body.predictions[0].value, 'number');
    assert.ok(Math.abs(r.body.predictions[0].value - 2.5) < 1, `value ${r.body.predictions[0].value}`);
  });

  test('bad instances → 400 validation_failed naming index and field; the server keeps serving', async () => {
    const cases: { instances: unknown; index?: number; field: string }[] = [
      { instances: [], field: 'instances' },
      { instances: Array.from({ length: 6 }, () => row), index: 5, field: 'instances' },
      { instances: [row, { n: 1, color: 'red' }], index: 1, field: 'x' }, // missing feature
      { instances: [{ ...row, n: 'three' }], index: 0, field: 'n' }, // wrong type
      { instances: [{ ...row, color: { a: 1 } }], index: 0, field: 'color' }, // wrong type (object)
      { instances: [row, row, { ...row, extra: 1 }], index: 2, field: 'extra' }, // unknown feature
      { instances: [{ ...row, x: 'NaN' }], index: 0, field: 'x' }, // NaN
      { instances: [{ ...row, x: '' }], index: 0, field: 'x' }, // an empty string is not a number
      { instances: [row, 42], index: 1, field: 'instances[1]' }, // not an object
    ];
    for (const c of cases) {
      const r = await predict(tp, a.predict, 'churn', c.instances);
      assert.equal(r.status, 400, `${JSON.stringify(c.instances).slice(0, 60)} → ${r.text}`);
      assert.equal(r.body.code, 'validation_failed');
      const e = r.body.errors.find((x: any) => x.field === c.field);
      assert.ok(e, `field ${c.field} named in ${JSON.stringify(r.body.errors)}`);
      assert.equal(e.index, c.index);
    }
    // The request body itself: no instances member, or not an array.
    const noList = await tp.call({
      method: 'POST',
      url: '/v1/models/churn/predict',
      key: a.predict,
      json: {},
    });
    assert.equal(noList.status, 400);
    assert.ok(noList.body.errors.some((e: any) => e.field === 'instances'));
    // null is "unknown" and imputed; numeric strings and the target column (left out by training) pass.
    const ok = await predict(tp, a.predict, 'churn', [{ x: null, n: '4', color: 'red', label: 'yes' }]);
    assert.equal(ok.status, 200, ok.text);
    assert.equal((await predict(tp, a.predict, 'churn', [row])).status, 200);
  });

  test('atomic swap on promotion: a request in flight finishes on the version it resolved', async () => {
    const scope = mintTenantScope(a.id, SYSTEM);
    await registerTrained(tp.platform, scope, 'swap', yes);
    await registerTrained(tp.platform, scope, 'swap', no);
    await predict(tp, a.predict, 'swap', [row]); // v1 loaded
    // With a 40 ms batch window, this request has resolved v1 and waits in v1's batcher while v2 goes live.
    const inFlight = predict(tp, a.predict, 'swap', [row]);
    await new Promise((r) => setTimeout(r, 15));
    await tp.platform.store.models.promote(scope, 'swap', 2, 'test', '2031-01-02T00:00:00Z');
    const after = await predict(tp, a.predict, 'swap', [row]);
    const before = await inFlight;
    assert.equal(before.body.model.version, 1);
    assert.equal(before.body.predictions[0].label, 'yes');
    assert.equal(after.body.model.version, 2);
    assert.equal(after.body.predictions[0].label, 'no');
  });

  test('50 concurrent cold requests load the model once, and the batcher merges them', async () => {
    await registerTrained(tp.platform, mintTenantScope(a.id, SYSTEM), 'cold', yes);
    const loadsBefore = await metric(tp, 'tenantml_model_cache_events_total', 'event="load"');
    const runsBefore = await metric(tp, 'tenantml_onnx_runs_total', '');
    const res = await Promise.all(Array.from({ length: 50 }, () => predict(tp, a.predict, 'cold', [row])));
    assert.ok(res.every((r) => r.status === 200));
    assert.ok(res.every((r) => r.body.predictions[0].label === 'yes'));
    const loads = (await metric(tp, 'tenantml_model_cache_events_total', 'event="load"')) - loadsBefore;
    const runs = (await metric(tp, 'tenantml_onnx_runs_total', '')) - runsBefore;
    assert.equal(loads, 1);
    assert.ok(runs < 50, `${runs} ONNX runs for 50 requests`);
  });

  test('v2: metadata, infer (columnar) with prediction ids, health', async () => {
    const md = await tp.call({ method: 'GET', url: '/v2/models/churn', key: a.predict });
    assert.equal(md.status, 200, md.text);
    assert.deepEqual(
      md.body.inputs.map((i: any) => [i.name, i.datatype]),
      [
        ['x', 'FP32'],
        ['n', 'INT64'],
        ['color', 'BYTES'],
      ],
    );
    const r = await tp.call({
      method: 'POST',
      url: '/v2/models/churn/infer',
      key: a.predict,
      json: {
        id: 'my-req',
        inputs: [
          { name: 'x', shape: [2], datatype: 'FP32', data: [0.5, -0.6] },
          { name: 'n', shape: [2, 1], datatype: 'INT64', data: [[1], [2]] },
          { name: 'color', shape: [2], datatype: 'BYTES', data: ['red', 'green'] },
        ],
      },
    });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.id, 'my-req');
    assert.equal(r.body.model_version, '1');
    const out = Object.fromEntries(r.body.outputs.map((o: any) => [o.name, o]));
    assert.deepEqual(out.label.data, ['yes', 'no']);
    assert.deepEqual(out.probabilities.shape, [2, 2]);
    assert.equal(out.prediction_id.data.length, 2);
    const bad = await tp.call({
      method: 'POST',
      url: '/v2/models/churn/infer',
      key: a.predict,
      json: { inputs: [{ name: 'x', shape: [1], datatype: 'FP32', data: [0.5] }] },
    });
    assert.equal(bad.status, 400);
    assert.ok(bad.body.errors.some((e: any) => e.field === 'n' && e.index === 0));
    assert.equal((await tp.call({ method: 'GET', url: '/v2/health/live' })).status, 200);
    assert.deepEqual((await tp.call({ method: 'GET', url: '/v2/health/ready' })).body, { ready: true });
    assert.equal((await tp.call({ method: 'GET', url: '/v2/models/nope', key: a.predict })).status, 404);
  });

  test('GET /metrics: operator only; ids as labels, never feature values', async () => {
    const denied = await tp.call({ method: 'GET', url: '/metrics', key: a.admin });
    assert.equal(denied.status, 403);
    const m = await tp.call({ method: 'GET', url: '/metrics', key: tp.adminKey });
    assert.equal(m.status, 200);
    assert.match(m.text, /tenantml_predict_requests_total\{tenant="api",model="churn",outcome="ok"\} \d+/);
    assert.match(m.text, /tenantml_predict_latency_seconds_bucket/);
    assert.match(m.text, /tenantml_model_cache_bytes \d+/);
    assert.doesNotMatch(m.text, /"red"|"green"/);
  });

  test('the prediction log: sampled records written encrypted under the tenant, read back', async () => {
    const log = tp.platform.services.inference.predictionLog;
    const r = await predict(tp, a.predict, 'churn', [{ x: 0.25, n: 6, color: 'green' }]);
    await log.flush();
    const scope = mintTenantScope(a.id, SYSTEM);
    const keys = await log.list(scope, 'churn');
    assert.ok(keys.length > 0);
    assert.ok(keys.every((k) => /^predictions\/churn\/\d{4}-\d{2}-\d{2}\/[^/]+\.ndjson$/.test(k)));
    const records = (await Promise.all(keys.map((k) => log.read(scope, k)))).flat();
    const mine = records.find((x) => x.id === r.body.predictions[0].id);
    assert.ok(mine, 'the prediction is in the log');
    assert.deepEqual(mine.features, { x: 0.25, n: 6, color: 'green' });
    assert.equal(mine.version, 1);
    assert.equal(mine.output && (mine.output as any).label, r.body.predictions[0].label);
    assert.equal(typeof mine.latencyMs, 'number');
    // On disk it is ciphertext: the feature value does not appear.
    const raw = readFileSync(join(tp.platform.config.artifactsDir, 'tenants', a.id, keys[keys.length - 1]));
    assert.equal(raw.includes(Buffer.from('green')), false);
    // Another tenant's scope lists nothing of A's.
    assert.deepEqual(await log.list(mintTenantScope('someone-else', SYSTEM), 'churn'), []);
  });

  test('admission runs first: RateLimit headers on answers, 429 with Retry-After past the budget', async () => {
    // 1 request/s, a burst of 1: the point taken by the first request is back a second later; the
    // refusals below come within that second.
    const slow = await tp.tenant('api-slow', { quotaOverrides: { requestsPerSecond: 1 } });
    await registerTrained(tp.platform, mintTenantScope(slow.id, SYSTEM), 'churn', yes);
    const first = await predict(tp, slow.predict, 'churn', [row]);
    assert.equal(first.status, 200, first.text);
    assert.equal(first.headers['ratelimit-limit'], '1');
    assert.equal(first.headers['ratelimit-remaining'], '0');
    const refused = await predict(tp, slow.predict, 'churn', [row]);
    assert.equal(refused.status, 429);
    assert.equal(refused.body.code, 'rate_limited');
    assert.ok(Number(refused.headers['retry-after']) >= 1);
    // Refused before any work: even a bad body or a missing model is answered 429 now.
    assert.equal((await predict(tp, slow.predict, 'no-such-model', [row])).status, 429);
    // …and the body is not even parsed: one the schema refuses (400 otherwise) is answered 429, on v1 and v2.
    const unparsed = await tp.call({
      method: 'POST',
      url: '/v1/models/churn/predict',
      key: slow.predict,
      json: { not: 'instances' },
    });
    assert.equal(unparsed.status, 429, unparsed.text);
    assert.equal(unparsed.body.code, 'rate_limited');
    const v2 = await tp.call({
      method: 'POST',
      url: '/v2/models/churn/infer',
      key: slow.predict,
      json: { not: 'inputs' },
    });
    assert.equal(v2.status, 429, v2.text);
    // The neighbour is not affected.
    assert.equal((await predict(tp, a.predict, 'churn', [row])).status, 200);
  });

  test('a 429 is held TENANTML_RATE_LIMIT_HOLD_MS while other requests are served', async () => {
    const holdMs = tp.platform.config.rateLimitHoldMs;
    assert.equal(holdMs, 40, 'the setting reaches the platform');
    const held = await tp.tenant('api-held', { quotaOverrides: { requestsPerSecond: 1 } });
    await registerTrained(tp.platform, mintTenantScope(held.id, SYSTEM), 'churn', yes);
    assert.equal((await predict(tp, held.predict, 'churn', [row])).status, 200);
    // The 2nd request is refused by admission (the counter store), the 3rd before its body is read: both held.
    for (const path of ['admission', 'before the body']) {
      const t0 = performance.now();
      const refusal = predict(tp, held.predict, 'churn', [row]).then((r) => ({ r, at: performance.now() }));
      // Another request meanwhile (a health check: no batch window to wait for) is answered first.
      const neighbour = await tp.call({ method: 'GET', url: '/healthz' });
      const neighbourAt = performance.now();
      const { r, at } = await refusal;
      assert.equal(r.status, 429, `${path}: ${r.text}`);
      assert.ok(Number(r.headers['retry-after']) >= 1);
      assert.equal(neighbour.status, 200);
      assert.ok(at - t0 >= holdMs - 5, `${path}: answered after ${at - t0} ms, not held`);
      assert.ok(neighbourAt < at, `${path}: the other request waited for the held refusal`);
    }
  });

  test('an imported shared model (no featurizer): instances in input-schema order, named outputs', async () => {
    await registerImported(tp.platform, 'imported-risk');
    const r = await predict(tp, a.predict, 'imported-risk', [
      { x: 0.5, n: 1 },
      { x: -0.5, n: null },
    ]);
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.body.model, { name: 'imported-risk', version: 1, mode: 'shared' });
    assert.deepEqual(
      r.body.predictions.map((p: any) => p.label),
      ['yes', 'no'],
    );
    assert.deepEqual(Object.keys(r.body.predictions[0].probabilities).sort(), ['no', 'yes']);
    const bad = await predict(tp, a.predict, 'imported-risk', [{ x: 'high', n: 1, color: 'red' }]);
    assert.equal(bad.status, 400);
    assert.deepEqual(bad.body.errors.map((e: any) => [e.index, e.field]).sort(), [
      [0, 'color'],
      [0, 'x'],
    ]);
  });

  test('an artifact that does not match its checksum is refused (500), and nothing is cached', async () => {
    const scope = mintTenantScope(a.id, SYSTEM);
    const v = await registerTrained(tp.platform, scope, 'tampered', yes);
    await tp.platform.services.artifacts.put(scope, `${v.artifact}/model.onnx`, Buffer.from(no.onnx!));
    const r = await predict(tp, a.predict, 'tampered', [row]);
    assert.equal(r.status, 500);
    assert.equal(r.body.code, 'internal');
    assert.equal(
      [...Array(1)].some(() => tp.platform.services.inference.cache.has(`${a.id}/tampered/1/${v.checksum}`)),
      false,
    );
    assert.equal((await predict(tp, a.predict, 'churn', [row])).status, 200);
  });
});

function evictedSoFar(text: string): number {
  const line = text
    .split('\n')
    .find((l) => l.startsWith('tenantml_model_cache_events_total{') && l.includes('event="eviction"'));
  return line ? Number(line.split(' ').pop()) : 0;
}

describe('resolution reuse (sqlite)', () => {
  const clock = new ManualClock('2031-02-03T04:05:06Z');
  let tp: TestPlatform;
  before(async () => {
    tp = await createTestPlatform('sqlite', { clock, env: { TENANTML_INFERENCE_RESOLVE_TTL_MS: '1000' } });
  });
  after(() => tp.cleanup());

  test('changes from another process reach new requests once the TTL has passed (404s too); this process’s own at once', async () => {
    const t = await tp.tenant('ttl');
    const scope = mintTenantScope(t.id, SYSTEM);
    // tp.ts.store is a second store on the same database: what a separate worker process writes through.
    const elsewhere = { via: tp.ts.store };
    assert.equal((await predict(tp, t.predict, 'churn', [row])).status, 404);
    await registerTrained(tp.platform, scope, 'churn', yes, elsewhere);
    assert.equal(
      (await predict(tp, t.predict, 'churn', [row])).status,
      404,
      'the 404 is reused within the TTL',
    );
    clock.advance(1001);
    const v1 = await predict(tp, t.predict, 'churn', [row]);
    assert.equal(v1.body.model.version, 1);
    await registerTrained(tp.platform, scope, 'churn', no, elsewhere);
    await tp.ts.store.models.promote(scope, 'churn', 2, 'test', '2031-02-03T04:05:07Z');
    assert.equal((await predict(tp, t.predict, 'churn', [row])).body.model.version, 1);
    clock.advance(1001);
    const v2 = await predict(tp, t.predict, 'churn', [row]);
    assert.equal(v2.body.model.version, 2);
    assert.equal(v2.body.predictions[0].label, 'no');
    // A rollback through this process's own registry is seen by the very next request.
    await tp.platform.store.models.rollback(scope, 'churn', 'test', '2031-02-03T04:05:08Z');
    assert.equal((await predict(tp, t.predict, 'churn', [row])).body.model.version, 1);
  });
});

describe('model cache under a byte budget (sqlite)', () => {
  let tp: TestPlatform;
  let a: { id: string; admin: string; predict: string };
  before(async () => {
    tp = await createTestPlatform('sqlite', {
      // ONNX Runtime sessions (estimated at 8.5× their ONNX bytes): 30 overflow the smallest budget (1 MiB);
      // natively compiled, 30 such models would all fit.
      env: {
        TENANTML_INFERENCE_CACHE_BYTES: String(1024 * 1024),
        TENANTML_METRICS_TENANT_LABEL: 'false',
        TENANTML_INFERENCE_ENGINE: 'onnxruntime',
      },
    });
    a = await tp.tenant('budget');
  });
  after(() => tp.cleanup());

  test('models beyond the budget evict the least recently used, one at a time; evicted ones reload', async () => {
    const scope = mintTenantScope(a.id, SYSTEM);
    const big = trainTiny({ rounds: 60 });
    const cache = tp.platform.services.inference.cache;
    let perModel = 0;
    for (let i = 0; i < 30; i++) {
      await registerTrained(tp.platform, scope, `m${i}`, big);
      const before = cache.bytes;
      const r = await predict(tp, a.predict, `m${i}`, [row]);
      assert.equal(r.status, 200, r.text);
      if (i === 0) perModel = cache.bytes - before;
      assert.ok(cache.bytes <= 1024 * 1024, `cache ${cache.bytes} within budget`);
    }
    assert.ok(perModel > 0);
    const fit = Math.floor((1024 * 1024) / perModel);
    assert.ok(fit < 30, `the test needs more models than fit (${fit} fit)`);
    assert.equal(cache.size, fit);
    assert.equal(
      cache.has(`${a.id}/m29/1/${(await tp.platform.store.models.version(scope, 'm29', 1))!.checksum}`),
      true,
    );
    const m = await tp.call({ method: 'GET', url: '/metrics', key: tp.adminKey });
    assert.equal(evictedSoFar(m.text), 30 - fit);
    assert.doesNotMatch(m.text, /tenant="budget"/, 'the tenant label is off');
    // m0 was evicted long ago: it loads again and answers.
    assert.equal((await predict(tp, a.predict, 'm0', [row])).status, 200);
  });
});
