// Real stores for tests, one per suite: SQLite in a temporary folder, PostgreSQL in a fresh database of the
// test server (created through the `test` database, dropped WITH (FORCE) after), so that test files can
// run in parallel. Suites loop over STORE_KINDS to run every test against both adapters.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import type { Store } from '../../src/store/ports.ts';
import { openStore } from '../../src/store/sql/index.ts';
import { APP_ROLE } from '../../src/store/sql/migrations.ts';

export const STORE_KINDS = ['sqlite', 'postgres'] as const;
export type StoreKind = (typeof STORE_KINDS)[number];

export const TEST_POSTGRES_URL =
  process.env.TENANTML_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** A login role for the tests that connect "as the application": a member of tenantml_app, nothing more. */
export const TEST_APP_LOGIN = 'tenantml_test_app';

export interface TestStore {
  store: Store;
  url: string;
  adminUrl?: string;
  /**
   * Raw SQL as the database owner (superuser on PostgreSQL), past every policy: for setting up tampering
   * and for checking what is really stored. Placeholders are `?` on both dialects.
   */
  query(text: string, params?: unknown[]): Promise<Record<string, unknown>[]>;
  cleanup(): Promise<void>;
}

export interface TestStoreOptions {
  /**
   * PostgreSQL: connect the application with its own login role (`url`) and migrate with the owner
   * (`adminUrl`), instead of one URL plus `SET ROLE`.
   */
  separateAppLogin?: boolean;
}

function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

const toDollar = (text: string): string => {
  let i = 0;
  return text.replace(/\?/g, () => `$${++i}`);
};

/**
 * The URL of the same database as `ownerUrl`, logged in as TEST_APP_LOGIN, a member of the application
 * role and nothing more. Creates that cluster-wide role if absent (parallel suites may race to). The
 * application role must exist already: open a store on the database first.
 */
export async function testAppLoginUrl(ownerUrl: string): Promise<string> {
  const c = new pg.Client({ connectionString: ownerUrl });
  await c.connect();
  try {
    await c.query(`
      do $$
      begin
        if not exists (select 1 from pg_roles where rolname = '${TEST_APP_LOGIN}') then
          begin
            create role ${TEST_APP_LOGIN} login nosuperuser nobypassrls in role ${APP_ROLE};
          exception when duplicate_object or unique_violation then null;
          end;
        end if;
      end
      $$`);
  } finally {
    await c.end();
  }
  const u = new URL(ownerUrl);
  u.username = TEST_APP_LOGIN;
  u.password = '';
  return u.toString();
}

/** A fresh, empty PostgreSQL database (no store opened on it yet), for tests of migrations themselves. */
export async function createEmptyPostgresDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const database = `tenantml_t_${randomBytes(6).toString('hex')}`;
  const control = new pg.Client({ connectionString: TEST_POSTGRES_URL });
  await control.connect();
  await control.query(`create database ${database}`);
  return {
    url: withDatabase(TEST_POSTGRES_URL, database),
    drop: async () => {
      await control.query(`drop database if exists ${database} with (force)`);
      await control.end();
    },
  };
}

export async function createTestStore(kind: StoreKind, opts: TestStoreOptions = {}): Promise<TestStore> {
  if (kind === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'tenantml-store-'));
    const url = join(dir, 'store.db');
    const store = await openStore({ url });
    const raw = new Database(url);
    raw.pragma('busy_timeout = 5000');
    return {
      store,
      url,
      query: async (text, params = []) => {
        const stmt = raw.prepare(text);
        if (stmt.reader) return stmt.all(...params) as Record<string, unknown>[];
        stmt.run(...params);
        return [];
      },
      cleanup: async () => {
        await store.close();
        raw.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }

  const database = `tenantml_t_${randomBytes(6).toString('hex')}`;
  const control = new pg.Client({ connectionString: TEST_POSTGRES_URL });
  await control.connect();
  await control.query(`create database ${database}`);
  const adminUrl = withDatabase(TEST_POSTGRES_URL, database);
  let store: Store | undefined;
  const owner = new pg.Client({ connectionString: adminUrl });
  try {
    let url = adminUrl;
    if (opts.separateAppLogin) {
      // The app role exists once some store has migrated on this cluster: migrate first, as the owner.
      await (await openStore({ url: adminUrl })).close();
      url = await testAppLoginUrl(adminUrl);
      store = await openStore({ url, adminUrl });
    } else {
      store = await openStore({ url });
    }
    await owner.connect();
    const s = store;
    return {
      store: s,
      url,
      adminUrl: opts.separateAppLogin ? adminUrl : undefined,
      query: async (text, params = []) => (await owner.query(toDollar(text), params)).rows,
      cleanup: async () => {
        await s.close();
        await owner.end();
        await control.query(`drop database if exists ${database} with (force)`);
        await control.end();
      },
    };
  } catch (e) {
    await store?.close().catch(() => {});
    await owner.end().catch(() => {});
    await control.query(`drop database if exists ${database} with (force)`).catch(() => {});
    await control.end().catch(() => {});
    throw e;
  }
}
