// Tenant isolation through the store: every scoped call with tenant A's scope sees nothing of tenant B.
// On PostgreSQL, row-level security proves it a second time: as the application role, a bare
// `select * from <table>` returns only the tenant named by app.tenant_id, and nothing without one.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { openStore } from '../../../src/store/sql/index.ts';
import { APP_ROLE, tenantTables } from '../../../src/store/sql/migrations.ts';
import { createTestStore, TEST_APP_LOGIN, type TestStore, testAppLoginUrl } from '../../helpers/stores.ts';
import { describeStores, keyRecord, scopeOf, seedTenant, versionInput } from './fixtures.ts';

describeStores('store: isolation', ({ store }) => {
  const A = scopeOf('iso-a');
  const B = scopeOf('iso-b');

  before(async () => {
    await seedTenant(store(), 'iso-a');
    await seedTenant(store(), 'iso-b');
  });

  test("tenant A's scope reads nothing of B's", async () => {
    const s = store();
    assert.equal(await s.datasets.get(A, 'iso-b-data'), null);
    assert.deepEqual(await s.datasets.versions(A, 'iso-b-data'), []);
    assert.equal(await s.datasets.version(A, 'iso-b-data', 1), null);
    assert.deepEqual(
      (await s.datasets.list(A)).map((d) => d.name),
      ['common-name', 'iso-a-data'],
    );
    const common = await s.datasets.version(A, 'common-name', 1);
    assert.equal(common?.tenantId, 'iso-a');
    assert.equal(common?.sha256, 'iso-a'.padEnd(64, '1'), "the same name resolves to A's own dataset");
    assert.deepEqual(
      (await s.datasets.versions(A, 'common-name')).map((v) => v.tenantId),
      ['iso-a'],
    );
    assert.equal(await s.datasets.count(A), 2);
    assert.equal(await s.datasets.storedBytes(A), 200);
    assert.deepEqual(
      (await s.keys.list(A)).map((k) => k.id),
      ['tk_iso-a_1'],
    );
    assert.ok((await s.audit.list(A)).every((e) => e.tenantId === 'iso-a'));
    assert.equal((await s.audit.list(A)).length, 1);
    assert.ok((await s.tenants.consentHistory(A)).every((c) => c.tenantId === 'iso-a'));
  });

  test("tenant A's scope cannot change or delete B's data", async () => {
    const s = store();
    assert.equal(await s.datasets.delete(A, 'iso-b-data'), null);
    assert.equal(await s.keys.revoke(A, 'tk_iso-b_1', '2026-02-01T00:00:00.000Z'), false);
    await assert.rejects(s.keys.create(A, keyRecord('tk_planted', 'iso-b')));
    const v = await s.datasets.addVersion(A, versionInput('iso-b-data'), { maxDatasets: 10 });
    assert.equal(v.version, 1, "A's upload under B's name makes A's own dataset");
    assert.equal(v.tenantId, 'iso-a');

    assert.equal((await s.datasets.get(B, 'iso-b-data'))?.latestVersion, 1, "B's data is intact");
    assert.equal((await s.datasets.versions(B, 'iso-b-data')).length, 1);
    assert.equal((await s.datasets.version(B, 'iso-b-data', 1))?.sha256, 'iso-b'.padEnd(64, '0'));
    assert.equal((await s.keys.findForAuth('tk_iso-b_1'))?.revokedAt, null);
    assert.equal(await s.keys.findForAuth('tk_planted'), null);
  });
});

describe('store: row-level security [postgres]', () => {
  let ts: TestStore;
  let app: pg.Client;

  before(async () => {
    ts = await createTestStore('postgres');
    await seedTenant(ts.store, 'rls-a');
    await seedTenant(ts.store, 'rls-b');
    app = new pg.Client({ connectionString: await testAppLoginUrl(ts.url) });
    await app.connect();
  });
  after(async () => {
    await app?.end();
    await ts?.cleanup();
  });

  test('the store declares row-level security', () => {
    assert.equal(ts.store.capabilities.rowLevelSecurity, true);
  });

  test('the connection is the application role: no superuser, no BYPASSRLS', async () => {
    const { rows } = await app.query(
      'select current_user as u, rolsuper, rolbypassrls from pg_roles where rolname = current_user',
    );
    assert.deepEqual(rows, [{ u: TEST_APP_LOGIN, rolsuper: false, rolbypassrls: false }]);
  });

  test('with no tenant set, every tenant-owned table is empty to the application', async () => {
    for (const { table } of tenantTables()) {
      const { rows } = await app.query(`select * from ${table}`);
      assert.equal(rows.length, 0, `${table} on a fresh connection`);
    }
    // after a transaction that did set one: the setting was local to it
    await app.query('begin');
    await app.query("select set_config('app.tenant_id', 'rls-a', true)");
    await app.query('commit');
    for (const { table } of tenantTables()) {
      const { rows } = await app.query(`select * from ${table}`);
      assert.equal(rows.length, 0, `${table} after a scoped transaction ended`);
    }
  });

  test("with app.tenant_id = A, a bare select returns A's rows and none of B's", async () => {
    await app.query('begin');
    try {
      await app.query("select set_config('app.tenant_id', 'rls-a', true)");
      for (const { table, column } of tenantTables()) {
        const { rows } = await app.query(`select * from ${table}`);
        assert.ok(rows.length > 0, `${table}: A's rows are visible`);
        assert.ok(
          rows.every((r) => r[column] === 'rls-a'),
          `${table}: only A's rows (${rows.map((r) => r[column]).join(',')})`,
        );
      }
    } finally {
      await app.query('rollback');
    }
  });

  test("with app.tenant_id = A, B's rows cannot be written, and rows cannot be planted for B", async () => {
    await app.query('begin');
    try {
      await app.query("select set_config('app.tenant_id', 'rls-a', true)");
      const upd = await app.query("update api_keys set revoked_at = 'x' where tenant_id = 'rls-b'");
      assert.equal(upd.rowCount, 0);
      const del = await app.query('delete from dataset_versions');
      assert.ok((del.rowCount ?? 0) > 0, "A's own versions can be deleted");
      await assert.rejects(
        app.query(
          "insert into api_keys (id, tenant_id, role, hash, created_at, created_by) values ('tk_x', 'rls-b', 'admin', 'h', 't', 'o')",
        ),
        /row-level security/,
      );
    } finally {
      await app.query('rollback').catch(() => {});
    }
    const [b] = await ts.query("select count(*) as n from dataset_versions where tenant_id = 'rls-b'");
    assert.equal(Number(b.n), 2);
  });

  test('the application role cannot switch off row-level security, drop tables or become the owner', async () => {
    for (const stmt of [
      'alter table api_keys disable row level security',
      'alter table api_keys no force row level security',
      'drop policy tenant_isolation on api_keys',
      'drop table dataset_versions',
      'create table planted (id text)',
      'set role postgres',
    ]) {
      await assert.rejects(app.query(stmt), (e: unknown) => {
        assert.equal((e as { code?: string }).code, '42501', stmt);
        return true;
      });
    }
    const [r] = await ts.query(
      "select relrowsecurity, relforcerowsecurity from pg_class where relname = 'api_keys'",
    );
    assert.deepEqual(r, { relrowsecurity: true, relforcerowsecurity: true });
  });

  test(`${APP_ROLE} is DML-only and every tenant-owned table has RLS enabled and forced`, async () => {
    const [role] = await ts.query(
      'select rolsuper, rolbypassrls, rolcanlogin, rolcreaterole, rolcreatedb from pg_roles where rolname = ?',
      [APP_ROLE],
    );
    assert.deepEqual(role, {
      rolsuper: false,
      rolbypassrls: false,
      rolcanlogin: false,
      rolcreaterole: false,
      rolcreatedb: false,
    });
    for (const { table } of tenantTables()) {
      const [r] = await ts.query(
        'select relrowsecurity, relforcerowsecurity, (select count(*) from pg_policy where polrelid = c.oid) as policies from pg_class c where relname = ?',
        [table],
      );
      assert.deepEqual(
        { ...r, policies: Number(r.policies) },
        { relrowsecurity: true, relforcerowsecurity: true, policies: 1 },
        table,
      );
    }
  });

  test('opening the store as a superuser without an application role is refused', async () => {
    await assert.rejects(openStore({ url: ts.url, adminUrl: ts.url }), /refusing to start.*superuser/);
  });
});
