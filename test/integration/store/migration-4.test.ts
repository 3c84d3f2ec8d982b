// Upgrading a database that migration 3 left, with models in it, to migration 4: tuned versions get their
// base columns, existing versions their provenance rows from the datasets they recorded, the live history
// keeps its rows and accepts the new 'successor' reason, and every old version reads back clean.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import Database from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect, sql } from 'kysely';
import pg from 'pg';
import type { Store } from '../../../src/store/ports.ts';
import { openStore } from '../../../src/store/sql/index.ts';
import { migrate, type SqlDialect } from '../../../src/store/sql/migrations.ts';
import { createEmptyPostgresDatabase } from '../../helpers/stores.ts';
import { at, modelVersionInput, scopeOf, T0 } from './fixtures.ts';

const datasets = JSON.stringify([
  { tenantId: 'up-a', name: 'sales', version: 2, rows: 120 },
  { tenantId: 'up-a', name: 'returns', version: 1, rows: 30 },
]);

/** The rows a release at migration 3 could have written: two versions (one tuned), one promotion. */
const OLD_ROWS = [
  `insert into tenants (id, name, tier, shared_training, quota_overrides, created_at, updated_at)
     values ('up-a', 'A', 'free', false, '{}', '${T0}', '${T0}')`,
  `insert into models (tenant_id, name, latest_version, live_version, created_at)
     values ('up-a', 'churn', 2, 2, '${T0}')`,
  `insert into model_versions (tenant_id, model, version, mode, task, algorithm, params, metrics, datasets,
     artifact, checksum, job_id, base, created_at, created_by)
     values ('up-a', 'churn', 1, 'tenant', 'binary', 'gbdt', '{}', '{}', '${datasets}', 'a1', 'c1', 'job_1', null,
       '${at(1)}', 'tk_x')`,
  `insert into model_versions (tenant_id, model, version, mode, task, algorithm, params, metrics, datasets,
     artifact, checksum, job_id, base, created_at, created_by)
     values ('up-a', 'churn', 2, 'tuned', 'binary', 'gbdt', '{}', '{}', '[]', 'a2', 'c2', 'job_2',
       '{"model":"old-base","version":3}', '${at(2)}', 'tk_x')`,
  `insert into model_live_history (tenant_id, model, from_version, to_version, actor, at, reason)
     values ('up-a', 'churn', 1, 2, 'tk_admin', '${at(3)}', 'promote')`,
];

/** A database as migration 3 left it, with OLD_ROWS; returns the URL to open it at and a cleanup. */
async function atMigration3(dialect: SqlDialect): Promise<{ url: string; cleanup(): Promise<void> }> {
  if (dialect === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'tenantml-up-'));
    const url = join(dir, 'store.db');
    const raw = new Database(url);
    raw.pragma('foreign_keys = ON');
    const db = new Kysely<unknown>({ dialect: new SqliteDialect({ database: raw }) });
    // better-sqlite3 binds no booleans: the literal false is written as 0 here.
    await migrate(db, 'sqlite', 3);
    for (const stmt of OLD_ROWS) await sql.raw(stmt.replace(', false,', ', 0,')).execute(db);
    await db.destroy();
    return { url, cleanup: async () => rmSync(dir, { recursive: true, force: true }) };
  }
  const pgdb = await createEmptyPostgresDatabase();
  const db = new Kysely<unknown>({
    dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: pgdb.url, max: 1 }) }),
  });
  try {
    await migrate(db, 'postgres', 3);
    for (const stmt of OLD_ROWS) await sql.raw(stmt).execute(db);
  } finally {
    await db.destroy();
  }
  return { url: pgdb.url, cleanup: pgdb.drop };
}

for (const dialect of ['sqlite', 'postgres'] as const) {
  describe(`migration 4 upgrades a populated database [${dialect}]`, () => {
    test('old versions read back clean, with base columns and provenance; the history takes a successor', async () => {
      const old = await atMigration3(dialect);
      let store: Store | undefined;
      try {
        store = await openStore({ url: old.url });
        const s = store;
        const A = scopeOf('up-a');
        assert.deepEqual(
          (await s.models.versions(A, 'churn')).map((v) => [v.version, v.status, v.taint, v.base]),
          [
            [1, 'ok', null, null],
            [2, 'ok', null, { model: 'old-base', version: 3 }],
          ],
        );
        assert.deepEqual(
          (await s.models.tunedOn('old-base')).map((v) => [v.tenantId, v.model, v.version]),
          [['up-a', 'churn', 2]],
          'the base columns were filled from the base JSON',
        );
        assert.equal((await s.models.get(A, 'churn'))?.audience, null);
        assert.deepEqual(
          (await s.models.provenance(A, 'churn', 1)).map((p) => [p.source, p.via, p.live]),
          [
            [{ tenantId: 'up-a', dataset: 'sales', version: 2, rows: 120 }, null, false],
            [{ tenantId: 'up-a', dataset: 'returns', version: 1, rows: 30 }, null, false],
          ],
        );
        assert.deepEqual(
          (await s.models.holdingDataOf('up-a', 'returns')).map((p) => [p.model, p.version]),
          [['churn', 1]],
        );

        // The kept history, then a successor change after it (the widened check), then a rollback.
        await s.models.taint([{ tenantId: 'up-a', model: 'churn', version: 2 }], 'test', at(4));
        await s.models.register(A, modelVersionInput('churn', { createdAt: at(5), createdBy: 'tk_t' }));
        assert.deepEqual(
          (await s.models.liveHistory(A, 'churn')).map((h) => [h.fromVersion, h.toVersion, h.reason]),
          [
            [1, 2, 'promote'],
            [2, 3, 'successor'],
          ],
        );
        assert.equal((await s.models.rollback(A, 'churn', 'tk_admin', at(6))).liveVersion, 2);
        assert.equal((await s.models.rollback(A, 'churn', 'tk_admin', at(7))).liveVersion, 1);
      } finally {
        await store?.close();
        await old.cleanup();
      }
    });
  });
}
