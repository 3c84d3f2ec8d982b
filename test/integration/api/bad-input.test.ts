// Bad input gets a clear problem+json answer naming the field, changes nothing, and the server keeps
// serving. Each case checks the status, the code, /healthz afterwards, and that no dataset version or
// row was created.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createTestPlatform, type TestPlatform } from '../../helpers/platform.ts';

describe('bad input changes nothing and gets a clear answer', () => {
  let tp: TestPlatform;
  let t: { id: string; admin: string; predict: string };

  before(async () => {
    tp = await createTestPlatform('sqlite', { env: { TENANTML_MAX_UPLOAD_BYTES: '65536' } });
    t = await tp.tenant('bad-input', { quotaOverrides: { rowsPerDataset: 5, columnsPerDataset: 3 } });
  });
  after(() => tp.cleanup());

  async function expectRefused(
    res: { status: number; body: any; headers: Record<string, unknown> },
    status: number,
    code: string,
  ): Promise<void> {
    assert.equal(res.status, status, JSON.stringify(res.body));
    assert.match(String(res.headers['content-type']), /^application\/problem\+json/);
    assert.equal(res.body.code, code);
    assert.equal(res.body.status, status);
    assert.equal(typeof res.body.requestId, 'string');
    const health = await tp.call({ method: 'GET', url: '/healthz' });
    assert.equal(health.status, 200);
    const list = await tp.call({ method: 'GET', url: '/v1/datasets', key: t.admin });
    assert.deepEqual(list.body.datasets, [], 'no dataset may be created');
    const rows = await tp.ts.query('select count(*) as n from dataset_versions');
    assert.equal(Number(rows[0].n), 0, 'no dataset version row may be written');
  }

  const upload = (body: string | Buffer, contentType = 'text/csv', name = 'ds', key?: string) =>
    tp.call({ method: 'POST', url: `/v1/datasets/${name}`, key: key ?? t.admin, body, contentType });

  test('unbalanced CSV quotes', async () => {
    const r = await upload('a,b\n1,"open\n2,3\n');
    await expectRefused(r, 400, 'dataset_parse_error');
    assert.ok(r.body.errors[0].line >= 2);
  });

  test('ragged rows report the line numbers of the first errors', async () => {
    const r = await upload('a,b,c\n1,2,3\n4,5\n6,7,8\n9\n');
    await expectRefused(r, 400, 'dataset_parse_error');
    const lines = r.body.errors.map((e: { line: number }) => e.line);
    assert.deepEqual(lines, [3, 5]);
  });

  test('empty body', async () => {
    await expectRefused(await upload(''), 400, 'empty_body');
  });

  test('a header and no rows', async () => {
    const r = await upload('a,b\n');
    assert.equal(r.body.status, 400);
    await expectRefused(r, 400, r.body.code);
    assert.ok(['empty_body', 'dataset_parse_error'].includes(r.body.code));
  });

  test('wrong content type', async () => {
    const r = await upload('a,b\n1,2\n', 'application/xml');
    await expectRefused(r, 415, 'unsupported_media_type');
    assert.equal(r.body.errors[0].field, 'Content-Type');
  });

  test('a charset other than UTF-8', async () => {
    await expectRefused(
      await upload('a,b\n1,2\n', 'text/csv; charset=latin1'),
      415,
      'unsupported_media_type',
    );
  });

  test('a body over the size limit', async () => {
    const big = `a,b\n${'1,2\n'.repeat(20_000)}`;
    await expectRefused(await upload(big), 413, 'body_too_large');
  });

  test('JSON that is not an array', async () => {
    await expectRefused(await upload('{"a": 1}', 'application/json'), 400, 'dataset_parse_error');
  });

  test('JSON that does not parse', async () => {
    await expectRefused(await upload('[{"a": 1},', 'application/json'), 400, 'dataset_parse_error');
  });

  test('nested objects as cells name the column', async () => {
    const r = await upload('[{"a": 1, "b": {"deep": true}}]', 'application/json');
    await expectRefused(r, 400, 'dataset_parse_error');
    assert.equal(r.body.errors[0].field, 'b');
  });

  test('nested arrays in JSON Lines', async () => {
    const r = await upload('{"a": 1}\n{"a": [1, 2]}\n', 'application/x-ndjson');
    await expectRefused(r, 400, 'dataset_parse_error');
    assert.equal(r.body.errors[0].field, 'a');
    assert.equal(r.body.errors[0].line, 2);
  });

  test('duplicate column names are named', async () => {
    const r = await upload('a,b,a\n1,2,3\n');
    await expectRefused(r, 400, 'dataset_parse_error');
    assert.ok(r.body.errors.some((e: { field: string }) => e.field === 'a'));
  });

  test('more columns than the tier allows', async () => {
    const r = await upload('a,b,c,d\n1,2,3,4\n');
    await expectRefused(r, 422, 'quota_exceeded');
    assert.equal(r.body.quota, 'columnsPerDataset');
    assert.equal(r.body.limit, 3);
  });

  test('more rows than the tier allows', async () => {
    const r = await upload(`a\n${'1\n'.repeat(6)}`);
    await expectRefused(r, 422, 'quota_exceeded');
    assert.equal(r.body.quota, 'rowsPerDataset');
    assert.equal(r.body.limit, 5);
  });

  test('bytes that are not UTF-8', async () => {
    const r = await upload(
      Buffer.concat([Buffer.from('a,b\n1,'), Buffer.from([0xff, 0xfe, 0xc3]), Buffer.from('\n')]),
    );
    await expectRefused(r, 400, 'invalid_encoding');
  });

  for (const [label, name] of [
    ['..', '..'],
    ['.. inside', 'a..b'],
    ['an encoded slash', 'a%2Fb'],
    ['a control character', 'a%01b'],
    ['300 characters', 'x'.repeat(300)],
    ['a space', 'a%20b'],
  ] as const) {
    test(`a dataset name with ${label}`, async () => {
      const r = await upload('a\n1\n', 'text/csv', name);
      assert.ok(r.status === 400 || r.status === 404, `status ${r.status}`);
      if (r.status === 400) assert.equal(r.body.errors?.[0]?.field ?? 'name', 'name');
      await expectRefused(r, r.status, r.status === 400 ? 'invalid_name' : 'not_found');
    });
  }

  test('an unknown tenant', async () => {
    const r = await tp.call({
      method: 'POST',
      url: '/v1/datasets/ds',
      key: tp.adminKey,
      tenant: 'nobody-here',
      body: 'a\n1\n',
      contentType: 'text/csv',
    });
    await expectRefused(r, 404, 'not_found');
  });

  test('a revoked key', async () => {
    const created = await tp.call({
      method: 'POST',
      url: `/v1/tenants/${t.id}/keys`,
      key: tp.adminKey,
      json: { role: 'admin' },
    });
    const del = await tp.call({
      method: 'DELETE',
      url: `/v1/tenants/${t.id}/keys/${created.body.id}`,
      key: tp.adminKey,
    });
    assert.equal(del.status, 204);
    await expectRefused(await upload('a\n1\n', 'text/csv', 'ds', created.body.key), 401, 'unauthenticated');
  });

  test('a missing Authorization header', async () => {
    const r = await tp.call({
      method: 'POST',
      url: '/v1/datasets/ds',
      body: 'a\n1\n',
      contentType: 'text/csv',
    });
    await expectRefused(r, 401, 'unauthenticated');
    assert.equal(r.headers['www-authenticate'], 'Bearer');
  });

  for (const header of [
    'Basic dXNlcjpwYXNz',
    'Bearer',
    'Bearer a b',
    'tml.tk_000000000000.x',
    'Bearer tml.tk_000000000000.short',
  ]) {
    test(`a malformed Authorization header: ${header}`, async () => {
      const r = await tp.call({
        method: 'POST',
        url: '/v1/datasets/ds',
        headers: { authorization: header },
        body: 'a\n1\n',
        contentType: 'text/csv',
      });
      await expectRefused(r, 401, 'unauthenticated');
    });
  }

  test('a predict key trying to upload', async () => {
    const r = await upload('a\n1\n', 'text/csv', 'ds', t.predict);
    await expectRefused(r, 403, 'forbidden');
  });

  test('JSON bodies: wrong types, missing and unknown fields are named', async () => {
    const r = await tp.call({
      method: 'POST',
      url: '/v1/tenants',
      key: tp.adminKey,
      json: { name: 42, tier: 'gold', bogus: true, quotaOverrides: { datasets: -1 } },
    });
    await expectRefused(r, 400, 'validation_failed');
    const fields = r.body.errors.map((e: { field: string }) => e.field);
    for (const f of ['name', 'bogus', 'quotaOverrides.datasets'])
      assert.ok(fields.includes(f), `${f} in ${fields}`);
    assert.ok(fields.some((f: string) => f.startsWith('tier')));
    const missing = await tp.call({ method: 'POST', url: '/v1/tenants', key: tp.adminKey, json: {} });
    await expectRefused(missing, 400, 'validation_failed');
    assert.equal(missing.body.errors[0].field, 'name');
  });

  test('malformed JSON and a JSON body over the limit', async () => {
    const r = await tp.call({
      method: 'POST',
      url: '/v1/tenants',
      key: tp.adminKey,
      body: '{"name": ',
      contentType: 'application/json',
    });
    await expectRefused(r, 400, 'malformed_body');
    const huge = await tp.call({
      method: 'POST',
      url: '/v1/tenants',
      key: tp.adminKey,
      body: JSON.stringify({ name: 'x'.repeat(2 * 1024 * 1024) }),
      contentType: 'application/json',
    });
    await expectRefused(huge, 413, 'body_too_large');
  });

  test('a duplicate tenant id is a conflict, and a bad tenant id is named', async () => {
    const dup = await tp.call({
      method: 'POST',
      url: '/v1/tenants',
      key: tp.adminKey,
      json: { id: t.id, name: 'again' },
    });
    await expectRefused(dup, 409, 'conflict');
    const bad = await tp.call({
      method: 'POST',
      url: '/v1/tenants',
      key: tp.adminKey,
      json: { id: 'Bad/Id', name: 'x' },
    });
    await expectRefused(bad, 400, 'validation_failed');
    assert.equal(bad.body.errors[0].field, 'id');
  });

  test('an unknown route is a 404 problem', async () => {
    await expectRefused(await tp.call({ method: 'GET', url: '/v1/nothing', key: t.admin }), 404, 'not_found');
  });
});
