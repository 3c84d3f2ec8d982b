// Opening a store migrates it: idempotently, safely from two openers at once, with every table that holds
// tenant rows declared as tenant-owned (so that RLS, deletion checks and these tests cover it).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import pg from 'pg';
import { openStore, parseStoreUrl } from '../../../src/store/sql/index.ts';
import { MIGRATIONS, tenantTables } from '../../../src/store/sql/migrations.ts';
import { createEmptyPostgresDatabase, createTestStore, TEST_APP_LOGIN } from '../../helpers/stores.ts';
import { describeStores, newTenant, scopeOf, T0, versionInput } from './fixtures.ts';

const migrationIds = MIGRATIONS.map((m) => m.id);
const run = promisify(execFile);

/** Opens (and so migrates) the store at url in a separate node process. */
async function openInChild(url: string): Promise<string> {
  const module = new URL('../../../src/store/sql/index.ts', import.meta.url).href;
  const script = `const { openStore } = await import(${JSON.stringify(module)});
    const s = await openStore({ url: process.argv[1] }); await s.close(); process.stdout.write('opened');`;
  const { stdout } = await run(
    process.execPath,
    ['--import', 'tsx', '--input-type=module', '-e', script, url],
    {
      timeout: 30_000,
    },
  );
  return stdout;
}

describe('store URLs', () => {
  test('parseStoreUrl tells SQLite from PostgreSQL', () => {
    assert.deepEqual(parseStoreUrl(':memory:'), { kind: 'sqlite', path: ':memory:' });
    assert.deepEqual(parseStoreUrl('sqlite::memory:'), { kind: 'sqlite', path: ':memory:' });
    assert.deepEqual(parseStoreUrl('sqlite:data/x.db'), { kind: 'sqlite', path: 'data/x.db' });
    assert.deepEqual(parseStoreUrl('sqlite:///var/x.db'), { kind: 'sqlite', path: '/var/x.db' });
    assert.deepEqual(parseStoreUrl('./data/tenantml.db'), { kind: 'sqlite', path: './data/tenantml.db' });
    assert.deepEqual(parseStoreUrl('postgres://u@h/db'), { kind: 'postgres', url: 'postgres://u@h/db' });
    assert.deepEqual(parseStoreUrl('postgresql://u@h/db'), { kind: 'postgres', url: 'postgresql://u@h/db' });
    assert.throws(() => parseStoreUrl('mysql://u@h/db'), /unsupported/);
  });

  test('an in-memory SQLite store works', async () => {
    const s = await openStore({ url: ':memory:' });
    try {
      await s.tenants.create(newTenant('mem'), 'operator', T0);
      assert.equal((await s.tenants.get('mem'))?.id, 'mem');
      assert.equal(await s.ping(), true);
      assert.equal(s.capabilities.singleWriter, true);
    } finally {
      await s.close();
    }
    assert.equal(await s.ping(), false, 'closed');
  });
});

describe('migrations [sqlite]', () => {
  test('two processes opening at once both succeed; reopening is idempotent', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tenantml-mig-'));
    try {
      const url = join(dir, 'nested', 'store.db');
      // Two processes, as better-sqlite3 waits on a lock synchronously: in one process the waiter would
      // block the holder.
      const outputs = await Promise.all([openInChild(url), openInChild(url)]);
      assert.deepEqual(outputs, ['opened', 'opened']);
      const a = await openStore({ url });
      await a.tenants.create(newTenant('kept'), 'operator', T0);
      await a.close();
      const c = await openStore({ url });
      assert.equal((await c.tenants.get('kept'))?.id, 'kept', 'reopening keeps the data');
      await c.close();
      const raw = new Database(url);
      const ids = raw.prepare('select id from schema_migrations order by id').all() as { id: number }[];
      const mode = raw.pragma('journal_mode', { simple: true });
      raw.close();
      assert.deepEqual(
        ids.map((r) => r.id),
        migrationIds,
      );
      assert.equal(mode, 'wal');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('migrations [postgres]', () => {
  test('three openers at once migrate once; reopening is idempotent', async () => {
    const db = await createEmptyPostgresDatabase();
    try {
      const stores = await Promise.all([1, 2, 3].map(() => openStore({ url: db.url, poolSize: 2 })));
      await stores[0].tenants.create(newTenant('kept'), 'operator', T0);
      await Promise.all(stores.map((s) => s.close()));
      const again = await openStore({ url: db.url });
      assert.equal((await again.tenants.get('kept'))?.id, 'kept');
      await again.close();
      const c = new pg.Client({ connectionString: db.url });
      await c.connect();
      const { rows } = await c.query('select id from schema_migrations order by id');
      await c.end();
      assert.deepEqual(
        rows.map((r) => r.id),
        migrationIds,
      );
    } finally {
      await db.drop();
    }
  });

  test('with two URLs the application runs as its own login role', async () => {
    const ts = await createTestStore('postgres', { separateAppLogin: true });
    try {
      assert.ok(ts.adminUrl && ts.url !== ts.adminUrl);
      assert.equal(new URL(ts.url).username, TEST_APP_LOGIN);
      const s = ts.store;
      await s.tenants.create(newTenant('two-urls'), 'operator', T0);
      const v = await s.datasets.addVersion(scopeOf('two-urls'), versionInput('d'), { maxDatasets: 1 });
      assert.equal(v.version, 1);
      assert.equal(await s.datasets.count(scopeOf('two-urls')), 1);
      assert.equal(await s.datasets.count(scopeOf('someone-else')), 0);
    } finally {
      await ts.cleanup();
    }
  });
});

describeStores('schema', ({ kind, t }) => {
  test('every table with a tenant_id column is declared tenant-owned', async () => {
    const rows =
      kind === 'postgres'
        ? await t().query(
            "select table_name as t from information_schema.columns where table_schema = current_schema() and column_name = 'tenant_id'",
          )
        : await t().query(
            "select m.name as t from sqlite_master m join pragma_table_info(m.name) p where m.type = 'table' and p.name = 'tenant_id'",
          );
    const declared = new Set(tenantTables().map((x) => x.table));
    const withColumn = rows.map((r) => String(r.t)).sort();
    assert.ok(withColumn.length >= 7);
    for (const table of withColumn) assert.ok(declared.has(table), `${table} is declared tenant-owned`);
  });

  test('foreign keys are enforced', async () => {
    await assert.rejects(
      t().query(
        "insert into api_keys (id, tenant_id, role, hash, created_at, created_by) values ('tk_orphan', 'no-such-tenant', 'admin', 'h', 't', 'o')",
      ),
    );
  });
});
