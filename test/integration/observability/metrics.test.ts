// GET /metrics over real stores and a real server: the operator key only; HTTP series by route template
// (never a raw path or id, unmatched paths folded into one label value); predictions, model cache and
// usage series after real predictions; queued jobs and the scheduler's queue depth from the store; a real
// training job's outcome and CPU seconds; the tenant label switched off; the process defaults.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { mintTenantScope, SYSTEM } from '../../../src/core/scope.ts';
import { PlatformRegistry } from '../../../src/observability/registry.ts';
import { createTestPlatform, type TestPlatform } from '../../helpers/platform.ts';
import { STORE_KINDS } from '../../helpers/stores.ts';
import { registerTrained, trainTiny } from '../inference/fixtures.ts';
import { churnCsv, scrape, series } from './helpers.ts';

const tiny = trainTiny();

for (const kind of STORE_KINDS) {
  describe(`GET /metrics (${kind})`, () => {
    let tp: TestPlatform;
    let a: { id: string; admin: string; predict: string };
    before(async () => {
      tp = await createTestPlatform(kind, { env: { TENANTML_WORKER_SLOTS: '0' } });
      a = await tp.tenant('obs-a');
      await registerTrained(tp.platform, mintTenantScope(a.id, SYSTEM), 'churn', tiny);
    });
    after(() => tp.cleanup());

    test('needs the operator key: none → 401, a tenant key → 403', async () => {
      const none = await tp.call({ method: 'GET', url: '/metrics' });
      assert.equal(none.status, 401);
      assert.equal(none.body.code, 'unauthenticated');
      const tenant = await tp.call({ method: 'GET', url: '/metrics', key: a.admin });
      assert.equal(tenant.status, 403);
      assert.equal(tenant.body.code, 'forbidden');
      const ok = await tp.call({ method: 'GET', url: '/metrics', key: tp.adminKey });
      assert.equal(ok.status, 200);
      assert.match(String(ok.headers['content-type']), /^text\/plain; version=0\.0\.4/);
      // The exposition text itself, not a JSON string of it.
      assert.ok(ok.text.startsWith('# HELP'), ok.text.slice(0, 80));
    });

    test('HTTP series carry the route template, never the raw path; unknown paths fold into one', async () => {
      const secretId = 'secret-model-7f3a9';
      assert.equal(
        (await tp.call({ method: 'GET', url: `/v1/models/${secretId}`, key: a.admin })).status,
        404,
      );
      assert.equal(
        (await tp.call({ method: 'GET', url: '/v1/models/another-one', key: a.admin })).status,
        404,
      );
      assert.equal((await tp.call({ method: 'GET', url: '/no/such/path-xyz-123' })).status, 404);
      assert.equal((await tp.call({ method: 'GET', url: '/no/such/path-abc-456' })).status, 404);
      // A method outside the known ones is counted as OTHER, not under the client's word.
      await tp.platform.app.inject({ method: 'PROPFIND' as 'GET', url: '/healthz' });
      const text = await scrape(tp);
      assert.equal(
        series(text, 'tenantml_http_requests_total', 'method="GET",route="/v1/models/:name",status="404"'),
        2,
      );
      assert.equal(
        series(text, 'tenantml_http_requests_total', 'method="GET",route="unmatched",status="404"'),
        2,
      );
      assert.ok(
        (series(
          text,
          'tenantml_http_request_duration_seconds_count',
          'method="GET",route="/v1/models/:name"',
        ) ?? 0) >= 2,
      );
      // Refusals by authentication are counted under their route too.
      assert.ok(
        (series(text, 'tenantml_http_requests_total', 'method="GET",route="/metrics",status="401"') ?? 0) >=
          1,
      );
      assert.ok(
        (series(text, 'tenantml_http_requests_total', 'method="GET",route="/metrics",status="403"') ?? 0) >=
          1,
      );
      assert.match(text, /tenantml_http_requests_total\{method="OTHER",route="unmatched",status="404"\} 1/);
      assert.doesNotMatch(text, /secret-model-7f3a9|another-one|path-xyz-123|path-abc-456|PROPFIND/);
    });

    test('predictions, model cache and usage series after real predictions; no feature value', async () => {
      for (let i = 0; i < 3; i++) {
        const r = await tp.call({
          method: 'POST',
          url: '/v1/models/churn/predict',
          key: a.predict,
          json: {
            instances: [
              { x: 0.4242, n: 1, color: 'green' },
              { x: -0.4242, n: 2, color: 'blue' },
            ],
          },
        });
        assert.equal(r.status, 200, r.text);
      }
      // Prediction usage reaches the counter when the meter writes its sums (each flush), not per request.
      await tp.platform.meter.flush();
      const text = await scrape(tp);
      assert.equal(
        series(text, 'tenantml_predict_requests_total', `tenant="${a.id}",model="churn",outcome="ok"`),
        3,
      );
      assert.equal(series(text, 'tenantml_model_cache_events_total', `tenant="${a.id}",event="miss"`), 1);
      assert.equal(series(text, 'tenantml_model_cache_events_total', `tenant="${a.id}",event="hit"`), 2);
      assert.equal(series(text, 'tenantml_model_cache_events_total', `tenant="${a.id}",event="load"`), 1);
      assert.ok((series(text, 'tenantml_model_load_seconds_count') ?? 0) >= 1);
      assert.equal(series(text, 'tenantml_usage_total', `tenant="${a.id}",kind="predict_requests"`), 3);
      assert.equal(series(text, 'tenantml_usage_total', `tenant="${a.id}",kind="predicted_rows"`), 6);
      assert.ok(
        (series(text, 'tenantml_usage_total', `tenant="${a.id}",kind="inference_cpu_seconds"`) ?? 0) > 0,
      );
      assert.equal(
        series(
          text,
          'tenantml_http_requests_total',
          'method="POST",route="/v1/models/:name/predict",status="200"',
        ),
        3,
      );
      assert.doesNotMatch(text, /0\.4242|"green"|"blue"/);
    });

    test('queued jobs per tenant and the scheduler queue depth come from the store', async () => {
      assert.equal((await tp.upload(a.admin, 'churn', churnCsv(60))).status, 201);
      for (const model of ['m1', 'm2']) {
        const r = await tp.call({
          method: 'POST',
          url: `/v1/models/${model}/train`,
          key: a.admin,
          json: { dataset: 'churn', target: 'churned', algorithm: 'linear' },
        });
        assert.equal(r.status, 202, r.text);
      }
      // Counts are reused for a second: wait past it so this scrape sees the new jobs.
      await new Promise((r) => setTimeout(r, 1100));
      const text = await scrape(tp);
      assert.equal(series(text, 'tenantml_jobs', `tenant="${a.id}",state="queued"`), 2);
      assert.equal(series(text, 'tenantml_jobs', `tenant="${a.id}",state="running"`), 0);
      assert.equal(series(text, 'tenantml_scheduler_queue_depth'), 2);
      // This process runs no workers: no slot series.
      assert.equal(series(text, 'tenantml_worker_slots'), undefined);
    });

    test('the process defaults are on the same registry', async () => {
      const text = await scrape(tp);
      assert.ok((series(text, 'process_cpu_user_seconds_total') ?? 0) > 0);
      assert.match(text, /^nodejs_heap_size_used_bytes \d+/m);
    });
  });
}

describe('GET /metrics after a real training job (sqlite)', () => {
  let tp: TestPlatform;
  let a: { id: string; admin: string; predict: string };
  before(async () => {
    tp = await createTestPlatform('sqlite', { env: { TENANTML_WORKER_SLOTS: '1' } });
    a = await tp.tenant('obs-job');
    assert.equal((await tp.upload(a.admin, 'churn', churnCsv(200))).status, 201);
  });
  after(() => tp.cleanup());

  test('the attempt is counted by outcome with its CPU and wall seconds; usage counts its CPU', async () => {
    const r = await tp.call({
      method: 'POST',
      url: '/v1/models/churn-model/train',
      key: a.admin,
      json: { dataset: 'churn', target: 'churned', algorithm: 'linear' },
    });
    assert.equal(r.status, 202, r.text);
    // The event stream ends when the job does.
    const events = await tp.call({ method: 'GET', url: `/v1/jobs/${r.body.id}/events`, key: a.admin });
    assert.match(events.text, /"state":"succeeded"/);
    const job = (await tp.call({ method: 'GET', url: `/v1/jobs/${r.body.id}`, key: a.admin })).body;

    // The outcome is counted when the worker records it, the usage when the after-job hook has run.
    let text = '';
    for (let i = 0; i < 50; i++) {
      text = await scrape(tp);
      if (series(text, 'tenantml_usage_total', `tenant="${a.id}",kind="training_cpu_seconds"`) !== undefined)
        break;
      await new Promise((res) => setTimeout(res, 100));
    }
    assert.equal(series(text, 'tenantml_jobs_finished_total', `tenant="${a.id}",outcome="succeeded"`), 1);
    assert.equal(series(text, 'tenantml_job_cpu_seconds_count', 'outcome="succeeded"'), 1);
    const cpu = series(text, 'tenantml_job_cpu_seconds_sum', 'outcome="succeeded"') ?? 0;
    assert.ok(cpu > 0 && Math.abs(cpu - job.cpuSeconds) < 1e-6, `${cpu} vs ${job.cpuSeconds}`);
    assert.ok((series(text, 'tenantml_job_wall_seconds_sum', 'outcome="succeeded"') ?? 0) >= cpu * 0.5);
    assert.ok(
      (series(text, 'tenantml_usage_total', `tenant="${a.id}",kind="training_cpu_seconds"`) ?? 0) > 0,
    );
    assert.equal(series(text, 'tenantml_worker_slots'), 1);
    assert.equal(series(text, 'tenantml_worker_slots_busy'), 0);
  });

  test('docs/observability.md describes every tenantml metric this platform serves', async () => {
    const docs = readFileSync(new URL('../../../docs/observability.md', import.meta.url), 'utf8');
    const names = [...(await scrape(tp)).matchAll(/^# HELP (tenantml_\w+) /gm)].map((m) => m[1]);
    assert.ok(names.length > 20, names.join(' '));
    assert.deepEqual(
      names.filter((n) => !docs.includes(`\`${n}\``)),
      [],
      'metrics missing from docs/observability.md',
    );
  });
});

describe('the tenant label switched off', () => {
  let tp: TestPlatform;
  let a: { id: string; admin: string; predict: string };
  before(async () => {
    tp = await createTestPlatform('sqlite', {
      env: { TENANTML_WORKER_SLOTS: '0', TENANTML_METRICS_TENANT_LABEL: 'false' },
    });
    a = await tp.tenant('obs-nolabel');
    await registerTrained(tp.platform, mintTenantScope(a.id, SYSTEM), 'churn', tiny);
  });
  after(() => tp.cleanup());

  test('usage and job series fold every tenant into one', async () => {
    const r = await tp.call({
      method: 'POST',
      url: '/v1/models/churn/predict',
      key: a.predict,
      json: { instances: [{ x: 0.1, n: 1, color: 'red' }] },
    });
    assert.equal(r.status, 200, r.text);
    await tp.upload(a.admin, 'churn', churnCsv(60));
    await tp.call({
      method: 'POST',
      url: '/v1/models/m/train',
      key: a.admin,
      json: { dataset: 'churn', target: 'churned', algorithm: 'linear' },
    });
    await tp.platform.meter.flush();
    const text = await scrape(tp);
    assert.equal(series(text, 'tenantml_usage_total', 'tenant="",kind="predict_requests"'), 1);
    assert.equal(series(text, 'tenantml_jobs', 'tenant="",state="queued"'), 1);
    assert.doesNotMatch(text, /obs-nolabel/);
  });
});

describe('countUsage: bad input neither throws nor adds series', () => {
  test('negative, zero, NaN and infinite quantities are ignored; an unknown kind is `other`', async () => {
    const reg = new PlatformRegistry({ tenantLabel: true });
    for (const q of [-1, 0, Number.NaN, Number.POSITIVE_INFINITY]) reg.countUsage('t1', 'predicted_rows', q);
    reg.countUsage('t1', 'made_up_kind', 2);
    reg.countUsage('t1', 'predicted_rows', 5);
    const text = await reg.text();
    assert.equal(series(text, 'tenantml_usage_total', 'tenant="t1",kind="predicted_rows"'), 5);
    assert.equal(series(text, 'tenantml_usage_total', 'tenant="t1",kind="other"'), 2);
    assert.doesNotMatch(text, /made_up_kind/);
  });
});
