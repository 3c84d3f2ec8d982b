// Tracing over OTLP/HTTP to a real receiver (a node:http server in the test): with an endpoint, a server
// span per request (route template, method, status, tenant id), predict phase spans as its children, the
// caller's W3C traceparent honoured, a span per training job run in the worker, all sent when the platform
// closes, and no feature value in what is exported; without an endpoint, nothing is sent at all.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { mintTenantScope, SYSTEM } from '../../../src/core/scope.ts';
import { parseTraceparent } from '../../../src/observability/tracing.ts';
import { createTestPlatform, type TestPlatform } from '../../helpers/platform.ts';
import { registerTrained, trainTiny } from '../inference/fixtures.ts';
import { churnCsv, type OtlpReceiver, type OtlpSpan, startOtlpReceiver } from './helpers.ts';

const SERVER = 2; // SPAN_KIND_SERVER in OTLP
const ERROR = 2; // STATUS_CODE_ERROR
const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const PARENT_ID = '00f067aa0ba902b7';
/** Feature values that must never leave in a span. */
const SECRET_X = 0.7373737;
const SECRET_COLOR = 'zebra-purple-secret';

describe('tracing on: spans reach a real OTLP/HTTP receiver', () => {
  let receiver: OtlpReceiver;
  let tp: TestPlatform;
  let a: { id: string; admin: string; predict: string };
  let spans: OtlpSpan[];
  let jobId: string;

  before(async () => {
    receiver = await startOtlpReceiver();
    tp = await createTestPlatform('sqlite', {
      env: { TENANTML_WORKER_SLOTS: '1', TENANTML_OTLP_TRACES_ENDPOINT: receiver.url },
    });
    a = await tp.tenant('trace-a');
    await registerTrained(tp.platform, mintTenantScope(a.id, SYSTEM), 'churn', trainTiny());

    // A predict whose caller started the trace; one that starts its own; a 404; a malformed traceparent.
    const p1 = await tp.call({
      method: 'POST',
      url: '/v1/models/churn/predict',
      key: a.predict,
      headers: { traceparent: `00-${TRACE_ID}-${PARENT_ID}-01` },
      json: { instances: [{ x: SECRET_X, n: 3, color: SECRET_COLOR }] },
    });
    assert.equal(p1.status, 200, p1.text);
    const p2 = await tp.call({
      method: 'POST',
      url: '/v1/models/churn/predict',
      key: a.predict,
      json: { instances: [{ x: SECRET_X, n: 4, color: SECRET_COLOR }] },
    });
    assert.equal(p2.status, 200, p2.text);
    assert.equal((await tp.call({ method: 'GET', url: '/v1/models/nope-123', key: a.admin })).status, 404);
    const bad = await tp.call({
      method: 'GET',
      url: '/healthz',
      headers: { traceparent: `00-${'0'.repeat(32)}-${PARENT_ID}-01` },
    });
    assert.equal(bad.status, 200);

    // A real training job in the worker.
    assert.equal((await tp.upload(a.admin, 'churn', churnCsv(150))).status, 201);
    const job = await tp.call({
      method: 'POST',
      url: '/v1/models/churn-model/train',
      key: a.admin,
      json: { dataset: 'churn', target: 'churned', algorithm: 'linear' },
    });
    assert.equal(job.status, 202, job.text);
    jobId = job.body.id;
    const events = await tp.call({ method: 'GET', url: `/v1/jobs/${jobId}/events`, key: a.admin });
    assert.match(events.text, /"state":"succeeded"/);

    await tp.cleanup(); // closes the platform: the batch processor sends what it holds
    spans = receiver.spans();
  });
  after(() => receiver.close());

  test('the resource names the service, its version and role', () => {
    assert.ok(spans.length > 0, 'spans arrived');
    const r = spans[0]!.resource;
    assert.equal(r['service.name'], 'tenantml');
    assert.equal(r['service.version'], '0.1.0');
    assert.equal(r['tenantml.role'], 'api+worker');
  });

  test('a server span per request: route template, method, status, tenant id; the caller is its parent', () => {
    const predicts = spans.filter((s) => s.name === 'POST /v1/models/:name/predict');
    assert.equal(predicts.length, 2);
    const withParent = predicts.find((s) => s.traceId === TRACE_ID);
    assert.ok(withParent, 'the traceparent trace id was kept');
    assert.equal(withParent.parentSpanId, PARENT_ID);
    assert.equal(withParent.kind, SERVER);
    assert.equal(withParent.attributes['http.route'], '/v1/models/:name/predict');
    assert.equal(withParent.attributes['http.request.method'], 'POST');
    assert.equal(withParent.attributes['http.response.status_code'], 200);
    assert.equal(withParent.attributes['tenantml.tenant_id'], a.id);
    const own = predicts.find((s) => s !== withParent)!;
    assert.notEqual(own.traceId, TRACE_ID);
    assert.ok(!own.parentSpanId, 'no traceparent: a root span');

    const missing = spans.find((s) => s.name === 'GET /v1/models/:name');
    assert.ok(missing);
    assert.equal(missing.attributes['http.response.status_code'], 404);
    // A malformed traceparent (all-zero trace id) starts a new trace.
    const health = spans.find((s) => s.name === 'GET /healthz');
    assert.ok(health);
    assert.ok(!health.parentSpanId);
    assert.doesNotMatch(health.traceId, /^0+$/);
  });

  test('predict phases are children of the request span: resolve, load on the miss only, run', () => {
    const predicts = spans.filter((s) => s.name === 'POST /v1/models/:name/predict');
    const first = predicts.find((s) => s.traceId === TRACE_ID)!;
    const children = (p: OtlpSpan) =>
      spans.filter((s) => s.parentSpanId === p.spanId && s.traceId === p.traceId).map((s) => s.name);
    assert.deepEqual(children(first).sort(), ['predict.load', 'predict.resolve', 'predict.run']);
    const second = predicts.find((s) => s !== first)!;
    assert.deepEqual(
      children(second).sort(),
      ['predict.resolve', 'predict.run'],
      'a cache hit loads nothing',
    );
    const resolve = spans.find((s) => s.name === 'predict.resolve' && s.parentSpanId === first.spanId)!;
    assert.equal(resolve.attributes['tenantml.model'], 'churn');
    assert.equal(resolve.attributes['tenantml.model_version'], 1);
    const run = spans.find((s) => s.name === 'predict.run' && s.parentSpanId === first.spanId)!;
    assert.equal(run.attributes['tenantml.rows'], 1);
  });

  test('a span per training job run: job id, tenant, outcome, CPU seconds', () => {
    const runs = spans.filter((s) => s.name === 'job.run');
    assert.equal(runs.length, 1);
    const run = runs[0]!;
    assert.equal(run.attributes['tenantml.job_id'], jobId);
    assert.equal(run.attributes['tenantml.tenant_id'], a.id);
    assert.equal(run.attributes['tenantml.job_outcome'], 'succeeded');
    assert.ok((run.attributes['tenantml.cpu_seconds'] as number) > 0);
    assert.notEqual(run.status?.code, ERROR);
  });

  test('no feature value, key or body is exported', () => {
    const all = receiver.bodies.join('\n');
    assert.ok(!all.includes(String(SECRET_X)), 'a numeric feature value was exported');
    assert.ok(!all.includes(SECRET_COLOR), 'a categorical feature value was exported');
    assert.ok(!all.includes(a.predict) && !all.includes(a.admin), 'a key was exported');
    assert.ok(!all.includes('plan,seats'), 'dataset content was exported');
  });
});

describe('tracing off: nothing is sent', () => {
  let receiver: OtlpReceiver;
  before(async () => {
    receiver = await startOtlpReceiver();
  });
  after(() => receiver.close());

  test('requests with a traceparent, then close: the receiver gets no request', async () => {
    // The receiver is running, but the platform is not told about it: no endpoint, no provider.
    const tp = await createTestPlatform('sqlite', { env: { TENANTML_WORKER_SLOTS: '0' } });
    assert.equal(tp.platform.config.otlpTracesEndpoint, null);
    const a = await tp.tenant('trace-off');
    await registerTrained(tp.platform, mintTenantScope(a.id, SYSTEM), 'churn', trainTiny());
    const r = await tp.call({
      method: 'POST',
      url: '/v1/models/churn/predict',
      key: a.predict,
      headers: { traceparent: `00-${TRACE_ID}-${PARENT_ID}-01` },
      json: { instances: [{ x: 0.1, n: 1, color: 'red' }] },
    });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.headers.traceparent, undefined);
    await tp.cleanup();
    await new Promise((res) => setTimeout(res, 200));
    assert.equal(receiver.bodies.length, 0);
  });
});

describe('parseTraceparent: malformed headers start a new trace', () => {
  test('valid → the remote parent; each kind of bad header → null', () => {
    assert.deepEqual(parseTraceparent(`00-${TRACE_ID}-${PARENT_ID}-01`), {
      traceId: TRACE_ID,
      spanId: PARENT_ID,
      traceFlags: 1,
      isRemote: true,
    });
    assert.equal(parseTraceparent(`00-${TRACE_ID}-${PARENT_ID}-00`)?.traceFlags, 0);
    // A later version may carry more fields.
    assert.equal(parseTraceparent(`01-${TRACE_ID}-${PARENT_ID}-01-extra`)?.spanId, PARENT_ID);
    for (const bad of [
      undefined,
      '',
      'garbage',
      [`00-${TRACE_ID}-${PARENT_ID}-01`], // repeated header
      `ff-${TRACE_ID}-${PARENT_ID}-01`, // forbidden version
      `00-${'0'.repeat(32)}-${PARENT_ID}-01`, // all-zero trace id
      `00-${TRACE_ID}-${'0'.repeat(16)}-01`, // all-zero span id
      `00-${TRACE_ID}-${PARENT_ID}-01-extra`, // version 00 has exactly four fields
      `00-${TRACE_ID.slice(1)}-${PARENT_ID}-01`, // short trace id
      `00-${TRACE_ID}-${PARENT_ID}-1`, // short flags
      `00-${TRACE_ID.replace('4', 'g')}-${PARENT_ID}-01`, // not hex
      `00-${TRACE_ID.toUpperCase()}-${PARENT_ID}-01`, // upper case
    ]) {
      assert.equal(parseTraceparent(bad), null, JSON.stringify(bad));
    }
  });
});
