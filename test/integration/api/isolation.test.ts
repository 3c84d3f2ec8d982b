// Isolation through the HTTP API, on SQLite and on PostgreSQL: tenant A's keys on every one of tenant B's
// resources answer 404, exactly like a missing resource, and no list shows another tenant's rows.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createTestPlatform, type TestPlatform } from '../../helpers/platform.ts';
import { STORE_KINDS } from '../../helpers/stores.ts';

for (const kind of STORE_KINDS) {
  describe(`tenant isolation over HTTP (${kind})`, () => {
    let tp: TestPlatform;
    let a: { id: string; admin: string; predict: string };
    let b: { id: string; admin: string; predict: string };

    before(async () => {
      tp = await createTestPlatform(kind);
      a = await tp.tenant('tenant-a');
      b = await tp.tenant('tenant-b');
      assert.equal((await tp.upload(a.admin, 'shared-name', 'x,y\n1,2\n')).status, 201);
      assert.equal((await tp.upload(b.admin, 'shared-name', 'x,y\n3,4\n5,6\n')).status, 201);
      assert.equal((await tp.upload(b.admin, 'b-only', 'p,q\n7,8\n')).status, 201);
    });
    after(() => tp.cleanup());

    test("A's key on B's dataset answers 404 like a missing one", async () => {
      const theirs = await tp.call({ method: 'GET', url: '/v1/datasets/b-only', key: a.admin });
      const missing = await tp.call({ method: 'GET', url: '/v1/datasets/never-existed', key: a.admin });
      assert.equal(theirs.status, 404);
      assert.equal(theirs.body.code, 'not_found');
      assert.equal(theirs.body.detail, missing.body.detail);
      assert.equal(theirs.body.title, missing.body.title);
    });

    test("deleting B's dataset with A's key answers 404 and leaves it intact", async () => {
      const del = await tp.call({ method: 'DELETE', url: '/v1/datasets/b-only', key: a.admin });
      assert.equal(del.status, 404);
      const still = await tp.call({ method: 'GET', url: '/v1/datasets/b-only', key: b.admin });
      assert.equal(still.status, 200);
      assert.equal(still.body.versions.length, 1);
    });

    test('the same dataset name in two tenants stays two datasets', async () => {
      const mine = await tp.call({ method: 'GET', url: '/v1/datasets/shared-name', key: a.admin });
      const theirs = await tp.call({ method: 'GET', url: '/v1/datasets/shared-name', key: b.admin });
      assert.equal(mine.body.versions[0].rows, 1);
      assert.equal(theirs.body.versions[0].rows, 2);
      assert.deepEqual(mine.body.preview.rows, [['1', '2']]);
    });

    test('lists return only the caller’s own rows', async () => {
      const list = await tp.call({ method: 'GET', url: '/v1/datasets', key: a.admin });
      assert.deepEqual(
        list.body.datasets.map((d: { name: string }) => d.name),
        ['shared-name'],
      );
      const audit = await tp.call({ method: 'GET', url: '/v1/audit', key: a.admin });
      assert.equal(audit.status, 200);
      assert.ok(audit.body.entries.length > 0);
      for (const e of audit.body.entries) assert.equal(e.tenantId, a.id);
    });

    test("naming B in X-Tenant-Id with A's key answers 404", async () => {
      const r = await tp.call({ method: 'GET', url: '/v1/datasets', key: a.admin, tenant: b.id });
      assert.equal(r.status, 404);
      const up = await tp.call({
        method: 'POST',
        url: '/v1/datasets/sneaky',
        key: a.admin,
        tenant: b.id,
        body: 'x\n1\n',
        contentType: 'text/csv',
      });
      assert.equal(up.status, 404);
      const bList = await tp.call({ method: 'GET', url: '/v1/datasets', key: b.admin });
      assert.ok(!bList.body.datasets.some((d: { name: string }) => d.name === 'sneaky'));
    });

    test('tenant keys cannot reach operator routes for any tenant', async () => {
      for (const url of ['/v1/tenants', `/v1/tenants/${b.id}`, `/v1/tenants/${b.id}/keys`]) {
        const r = await tp.call({ method: 'GET', url, key: a.admin });
        assert.equal(r.status, 403, url);
      }
      const mint = await tp.call({
        method: 'POST',
        url: `/v1/tenants/${b.id}/keys`,
        key: a.admin,
        json: { role: 'admin' },
      });
      assert.equal(mint.status, 403);
      const del = await tp.call({ method: 'DELETE', url: `/v1/tenants/${b.id}`, key: a.admin });
      assert.equal(del.status, 403);
      assert.equal(
        (await tp.call({ method: 'GET', url: `/v1/tenants/${b.id}`, key: tp.adminKey })).status,
        200,
      );
    });

    test('a key’s last use is recorded and shown, never its secret', async () => {
      const keys = await tp.call({ method: 'GET', url: `/v1/tenants/${a.id}/keys`, key: tp.adminKey });
      assert.equal(keys.status, 200);
      const adminKeyId = a.admin.split('.')[1];
      const mine = keys.body.keys.find((k: { id: string }) => k.id === adminKeyId);
      assert.ok(mine, 'the admin key is listed');
      assert.match(mine.lastUsedAt ?? '', /^\d{4}-\d{2}-\d{2}T/, 'used above, so its last use is set');
      assert.equal(JSON.stringify(keys.body).includes(a.admin.split('.')[2]), false, 'no secret in the list');
      for (const k of keys.body.keys) assert.equal(k.tenantId, a.id);
    });

    test("revoking B's key through A's tenant path answers 404", async () => {
      const keys = await tp.call({ method: 'GET', url: `/v1/tenants/${b.id}/keys`, key: tp.adminKey });
      const bKey = keys.body.keys[0].id;
      const r = await tp.call({
        method: 'DELETE',
        url: `/v1/tenants/${a.id}/keys/${bKey}`,
        key: tp.adminKey,
      });
      assert.equal(r.status, 404);
      const ok = await tp.call({ method: 'GET', url: '/v1/datasets', key: b.admin });
      assert.equal(ok.status, 200);
    });

    test('the operator acts on a tenant only by naming it, and an unknown tenant is 404', async () => {
      const none = await tp.call({ method: 'GET', url: '/v1/datasets', key: tp.adminKey });
      assert.equal(none.status, 400);
      assert.equal(none.body.code, 'tenant_header_required');
      const named = await tp.call({ method: 'GET', url: '/v1/datasets', key: tp.adminKey, tenant: b.id });
      assert.deepEqual(named.body.datasets.map((d: { name: string }) => d.name).sort(), [
        'b-only',
        'shared-name',
      ]);
      const unknown = await tp.call({
        method: 'GET',
        url: '/v1/datasets',
        key: tp.adminKey,
        tenant: 'no-such-tenant',
      });
      assert.equal(unknown.status, 404);
    });

    test("a tenant admin's audit query for another tenant answers 404", async () => {
      const r = await tp.call({ method: 'GET', url: `/v1/audit?tenant=${b.id}`, key: a.admin });
      assert.equal(r.status, 404);
    });
  });
}
