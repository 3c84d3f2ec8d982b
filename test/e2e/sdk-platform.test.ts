// The SDK against the real platform on a real socket: the operator sets up a tenant, the tenant works
// with its datasets, a revoked key stops working, and every route the SDK calls is in /openapi.json.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ROUTES, TenantmlClient, TenantmlError } from '../../src/sdk/index.ts';
import { uploadFile } from '../../src/sdk/node.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

let dataDir: string;
let running: TestServer;
let operator: TenantmlClient;

before(async () => {
  running = await startTestServer('tenantml-sdk-e2e-');
  dataDir = running.dataDir;
  operator = new TenantmlClient({ baseUrl: running.url, apiKey: running.platform.adminKey });
});

after(async () => {
  await running?.close();
});

async function rejection(p: Promise<unknown>): Promise<TenantmlError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  assert.ok(err instanceof TenantmlError, `expected a TenantmlError, got ${String(err)}`);
  return err;
}

const CSV = 'sepal,petal,species\n5.1,1.4,setosa\n6.2,4.5,versicolor\n5.9,5.1,virginica\n';

describe('SDK on the real platform', () => {
  test('tenant, key, upload, list, revoke: a revoked key is unauthenticated', async () => {
    assert.deepEqual(await operator.health(), { status: 'ok' });
    assert.equal((await operator.ready()).status, 'ready');

    const t = await operator.tenants.create({ id: 'acme', name: 'Acme', tier: 'free' });
    assert.equal(t.id, 'acme');
    assert.equal(t.tier, 'free');
    assert.equal(typeof t.quotas.datasets, 'number');
    assert.ok((await operator.tenants.list()).some((x) => x.id === 'acme'));

    const updated = await operator.tenants.update('acme', { sharedTraining: true });
    assert.equal(updated.sharedTraining, true);
    const detail = await operator.tenants.get('acme');
    assert.equal(detail.consentHistory.at(-1)?.sharedTraining, true);

    const key = await operator.keys.create('acme', 'admin');
    assert.equal(key.tenantId, 'acme');
    assert.ok(key.key.length >= 20);
    const tenant = new TenantmlClient({ baseUrl: running.url, apiKey: key.key });

    const v1 = await tenant.datasets.upload('iris', CSV);
    assert.equal(v1.version, 1);
    assert.equal(v1.rows, 3);
    assert.equal(v1.format, 'csv');
    assert.deepEqual(
      v1.schema.columns.map((c) => c.name),
      ['sepal', 'petal', 'species'],
    );

    // The same data as JSON Lines from a file, streamed: a second version.
    const file = join(dataDir, 'iris.jsonl');
    await writeFile(
      file,
      CSV.trim()
        .split('\n')
        .slice(1)
        .map((l) => {
          const [sepal, petal, species] = l.split(',');
          return JSON.stringify({ sepal: Number(sepal), petal: Number(petal), species });
        })
        .join('\n'),
    );
    const v2 = await uploadFile(tenant, 'iris', file);
    assert.equal(v2.version, 2);
    assert.equal(v2.format, 'ndjson');
    assert.equal(v2.rows, 3);

    const list = await tenant.datasets.list();
    assert.deepEqual(
      list.map((d) => [d.name, d.latestVersion, d.versions]),
      [['iris', 2, 2]],
    );
    const got = await tenant.datasets.get('iris');
    assert.equal(got.versions.length, 2);
    assert.deepEqual(got.preview.columns, ['sepal', 'petal', 'species']);

    // The operator reaches the same data by naming the tenant.
    const asAcme = operator.withTenant('acme');
    assert.equal((await asAcme.datasets.list()).length, 1);

    const keys = await operator.keys.list('acme');
    assert.ok(keys.some((k) => k.id === key.id && k.revokedAt === null));
    await operator.keys.revoke('acme', key.id);
    assert.ok((await operator.keys.list('acme')).some((k) => k.id === key.id && k.revokedAt !== null));

    const err = await rejection(tenant.datasets.list());
    assert.equal(err.status, 401);
    assert.equal(err.code, 'unauthenticated');
    assert.ok(err.requestId, 'the server names the request');
  });

  test('problems arrive whole: field errors, 404 across tenants, the operator header rule', async () => {
    const bad = await rejection(operator.tenants.create({ id: 'Not Valid!', name: '' }));
    assert.equal(bad.status, 400);
    assert.equal(bad.code, 'validation_failed');
    const fields = bad.errors.map((e) => e.field);
    assert.ok(fields.includes('id'), `fields: ${fields.join(', ')}`);
    assert.ok(fields.includes('name'), `fields: ${fields.join(', ')}`);

    await operator.tenants.create({ id: 'globex', name: 'Globex' });
    await operator.tenants.create({ id: 'initech', name: 'Initech' });
    const g = new TenantmlClient({
      baseUrl: running.url,
      apiKey: (await operator.keys.create('globex', 'admin')).key,
    });
    const i = new TenantmlClient({
      baseUrl: running.url,
      apiKey: (await operator.keys.create('initech', 'admin')).key,
    });
    await g.datasets.upload('secret', CSV);
    const notFound = await rejection(i.datasets.get('secret'));
    assert.equal(notFound.status, 404);
    assert.equal(notFound.code, 'not_found');

    const parse = await rejection(g.datasets.upload('broken', 'a,b\n1,2,3\n'));
    assert.equal(parse.code, 'dataset_parse_error');
    assert.equal(parse.errors[0]?.line, 2);

    const predict = new TenantmlClient({
      baseUrl: running.url,
      apiKey: (await operator.keys.create('globex', 'predict')).key,
    });
    assert.equal((await rejection(predict.datasets.list())).code, 'forbidden');
    assert.equal((await rejection(operator.datasets.list())).code, 'tenant_header_required');
    assert.equal((await rejection(g.tenants.list())).code, 'forbidden');

    await g.datasets.delete('secret');
    assert.equal((await rejection(g.datasets.get('secret'))).code, 'not_found');

    await operator.tenants.delete('initech');
    assert.equal((await rejection(operator.tenants.get('initech'))).code, 'not_found');

    const audit = await operator.audit.list({ tenant: 'globex', verify: true, limit: 500 });
    assert.equal(audit.verified?.ok, true);
    assert.ok(audit.entries.some((e) => e.action === 'dataset.delete' && e.target === 'secret'));
    const own = await g.audit.list();
    assert.ok(own.entries.length > 0);
    assert.ok(own.entries.every((e) => e.tenantId === 'globex'));
  });

  test('every route the SDK calls is in /openapi.json with the same method', async () => {
    const res = await fetch(`${running.url}/openapi.json`);
    assert.equal(res.status, 200);
    const spec = (await res.json()) as { paths: Record<string, Record<string, unknown>> };
    const missing: string[] = [];
    for (const [name, route] of Object.entries(ROUTES)) {
      if (!spec.paths[route.path]?.[route.method.toLowerCase()]) {
        missing.push(`${name}: ${route.method} ${route.path}`);
      }
    }
    assert.deepEqual(missing, [], `routes the SDK calls but the server does not document`);
  });
});
