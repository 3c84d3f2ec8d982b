// The HTTP surface itself: request ids, the OpenAPI document and its offline viewer, readiness, and logs
// that carry ids but never the tenants' data values — one line per request at debug only, and refusals a
// flood repeats (429, shedding) at debug too.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createTestPlatform, type TestPlatform } from '../../helpers/platform.ts';

/** A well-formed predict body (a missing model answers 404 after admission). */
const body = { instances: [{ x: 1 }] };

describe('HTTP surface', () => {
  let tp: TestPlatform;
  const lines: string[] = [];

  before(async () => {
    tp = await createTestPlatform('sqlite', {
      env: { TENANTML_LOG_LEVEL: 'debug' },
      logStream: { write: (l: string) => lines.push(l) },
    });
  });
  after(() => tp.cleanup());

  test('every answer carries a request id; a well-formed one sent by the client is kept', async () => {
    const mine = await tp.call({ method: 'GET', url: '/healthz', headers: { 'x-request-id': 'client-123' } });
    assert.equal(mine.headers['x-request-id'], 'client-123');
    const bogus = await tp.call({
      method: 'GET',
      url: '/healthz',
      headers: { 'x-request-id': 'no spaces <allowed>' },
    });
    assert.match(String(bogus.headers['x-request-id']), /^[0-9a-f-]{36}$/);
    const err = await tp.call({ method: 'GET', url: '/v1/datasets' });
    assert.equal(err.body.requestId, err.headers['x-request-id']);
  });

  test('/openapi.json documents every route of the contract with its schemas', async () => {
    const r = await tp.call({ method: 'GET', url: '/openapi.json' });
    assert.equal(r.status, 200);
    assert.equal(r.body.openapi, '3.1.0');
    for (const [path, method] of [
      ['/v1/tenants', 'post'],
      ['/v1/tenants', 'get'],
      ['/v1/tenants/{id}', 'get'],
      ['/v1/tenants/{id}', 'patch'],
      ['/v1/tenants/{id}', 'delete'],
      ['/v1/tenants/{id}/keys', 'post'],
      ['/v1/tenants/{id}/keys/{keyId}', 'delete'],
      ['/v1/datasets/{name}', 'post'],
      ['/v1/datasets', 'get'],
      ['/v1/datasets/{name}', 'get'],
      ['/v1/datasets/{name}', 'delete'],
      ['/v1/models', 'get'],
      ['/v1/models/{name}', 'get'],
      ['/v1/models/{name}/versions/{v}/promote', 'post'],
      ['/v1/models/{name}/rollback', 'post'],
      ['/v1/audit', 'get'],
      ['/healthz', 'get'],
      ['/readyz', 'get'],
    ]) {
      assert.ok(
        r.body.paths[path]?.[method],
        `${method.toUpperCase()} ${path} missing from the OpenAPI document`,
      );
    }
    const created = r.body.paths['/v1/tenants'].post.responses['201'];
    assert.ok(JSON.stringify(created).includes('sharedTraining'));
    assert.ok(r.body.components.schemas.Problem);
    const promote = r.body.paths['/v1/models/{name}/versions/{v}/promote'].post;
    assert.ok(JSON.stringify(promote.responses['200']).includes('liveHistory'));
    assert.deepEqual(promote.parameters.map((p: any) => p.name).sort(), ['name', 'v']);
  });

  test('/docs serves the API viewer from the installed package (no network)', async () => {
    const page = await tp.call({ method: 'GET', url: '/docs/' });
    assert.equal(page.status, 200);
    assert.match(String(page.headers['content-type']), /text\/html/);
    const asset = await tp.call({ method: 'GET', url: '/docs/static/swagger-ui-bundle.js' });
    assert.equal(asset.status, 200);
    assert.ok(asset.text.length > 100_000);
  });

  test('/readyz answers ready while the database answers', async () => {
    const r = await tp.call({ method: 'GET', url: '/readyz' });
    assert.deepEqual([r.status, r.body.status], [200, 'ready']);
  });

  test('logs carry ids and codes, never the uploaded values or the keys', async () => {
    const t = await tp.tenant('logged');
    const secretCell = 'zanzibar-confidential-991';
    await tp.upload(t.admin, 'good', `a,b\n1,${secretCell}\n`);
    await tp.upload(t.admin, 'bad', `a,b\n1,${secretCell}\n2\n`);
    await tp.call({
      method: 'POST',
      url: '/v1/tenants',
      key: tp.adminKey,
      json: { name: 'x', tier: `${secretCell}-tier` },
    });
    const all = lines.join('');
    assert.ok(all.includes('"reqId"') || all.includes('"id"'), 'request ids are logged');
    assert.ok(all.includes('dataset_parse_error'), 'refusals are logged with their code');
    assert.equal(all.includes(secretCell), false, 'a data value reached the log');
    assert.equal(all.includes(t.admin), false, 'a key reached the log');
    assert.equal(all.includes(tp.adminKey), false, 'the operator key reached the log');
  });

  test('at debug every request gets one "request completed" line; a 429 is logged at debug', async () => {
    const t = await tp.tenant('logged-debug', { quotaOverrides: { requestsPerSecond: 1 } });
    const before = lines.length;
    const first = await tp.call({
      method: 'POST',
      url: '/v1/models/nope/predict',
      key: t.predict,
      json: body,
    });
    const second = await tp.call({
      method: 'POST',
      url: '/v1/models/nope/predict',
      key: t.predict,
      json: body,
    });
    assert.deepEqual([first.status, second.status], [404, 429]);
    const mine = lines.slice(before).map((l) => JSON.parse(l));
    const done = mine.filter((l) => l.msg === 'request completed');
    assert.equal(done.length, 2, JSON.stringify(mine));
    assert.deepEqual(
      done.map((l) => [l.level, l.reqId, l.req.route, l.res.statusCode]),
      [
        [20, first.headers['x-request-id'], '/v1/models/:name/predict', 404],
        [20, second.headers['x-request-id'], '/v1/models/:name/predict', 429],
      ],
    );
    assert.ok(done.every((l) => typeof l.ms === 'number'));
    const refused = mine.filter((l) => l.msg === 'request refused').map((l) => [l.level, l.code]);
    assert.deepEqual(refused, [
      [30, 'not_found'],
      [20, 'rate_limited'],
    ]);
  });
});

describe('HTTP logs at info (the default level)', () => {
  let tp: TestPlatform;
  const lines: string[] = [];
  before(async () => {
    tp = await createTestPlatform('sqlite', {
      env: { TENANTML_LOG_LEVEL: 'info', TENANTML_RATE_LIMIT_HOLD_MS: '0' },
      logStream: { write: (l: string) => lines.push(l) },
    });
  });
  after(() => tp.cleanup());

  test('no line per request; a refusal is logged, a 429 repeated by a flood is not', async () => {
    const t = await tp.tenant('quiet', { quotaOverrides: { requestsPerSecond: 1 } });
    const before = lines.length;
    assert.equal((await tp.call({ method: 'GET', url: '/healthz' })).status, 200);
    const answers = [];
    for (let i = 0; i < 5; i++)
      answers.push(
        await tp.call({ method: 'POST', url: '/v1/models/nope/predict', key: t.predict, json: body }),
      );
    assert.deepEqual(
      answers.map((a) => a.status),
      [404, 429, 429, 429, 429],
    );
    const mine = lines.slice(before).map((l) => JSON.parse(l));
    assert.deepEqual(
      mine.map((l) => [l.level, l.msg, l.code, l.reqId]),
      [[30, 'request refused', 'not_found', answers[0].headers['x-request-id']]],
      'one line: the 404; no incoming/completed lines, no 429 lines',
    );
  });
});
