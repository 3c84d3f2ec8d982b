// Advice records on both adapters: created running, read back whole, listed newest first, ended once.
// And isolation of the new tenant-owned tables (advice, model_provenance): through the repositories on
// both adapters, and on PostgreSQL by row-level security for a bare query as the application role.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import type { AdviceResult } from '../../../src/core/advice.ts';
import { AppError } from '../../../src/core/errors.ts';
import { createTestStore, type TestStore, testAppLoginUrl } from '../../helpers/stores.ts';
import {
  adviceInput,
  at,
  describeStores,
  modelVersionInput,
  newTenant,
  scopeOf,
  seedTenant,
  T0,
} from './fixtures.ts';

const result: AdviceResult = {
  metric: { name: 'auc', higherIsBetter: true },
  validRows: 400,
  candidates: [
    { mode: 'tenant', ref: { model: 'churn', version: 3 }, metrics: { auc: 0.81 }, score: 0.81 },
    { mode: 'shared', ref: { model: 'churn-base', version: 2 }, metrics: { auc: 0.77 }, score: 0.77 },
    { mode: 'tuned', ref: null, metrics: {}, score: null },
  ],
  recommendation: 'tenant',
  reasons: ['tenant-specific beats shared by 0.04 AUC on 400 held-out rows'],
  promoted: { model: 'churn', version: 3 },
};

describeStores('store: advice', ({ store }) => {
  test('create → running; get reads it back; a duplicate id is a conflict', async () => {
    const s = store();
    await s.tenants.create(newTenant('ad-a'), 'operator', T0);
    const scope = scopeOf('ad-a');
    const input = adviceInput('adv_1', {
      shared: { model: 'churn-base', version: 2 },
      jobs: { tenant: 'job_t', tuned: 'job_u' },
      autoPromote: true,
      datasetVersion: 4,
    });
    const created = await s.advice.create(scope, input);
    assert.deepEqual(created, {
      ...input,
      tenantId: 'ad-a',
      state: 'running',
      result: null,
      error: null,
      finishedAt: null,
    });
    assert.deepEqual(await s.advice.get(scope, 'adv_1'), created);
    assert.equal(await s.advice.get(scope, 'adv_missing'), null);
    await assert.rejects(
      s.advice.create(scope, adviceInput('adv_1', { model: 'other' })),
      (e: unknown) => e instanceof AppError && e.code === 'conflict',
    );
    assert.equal((await s.advice.get(scope, 'adv_1'))?.model, 'churn', 'the first record is untouched');
  });

  test('list: newest first, optionally one model', async () => {
    const s = store();
    await s.tenants.create(newTenant('ad-l'), 'operator', T0);
    const scope = scopeOf('ad-l');
    await s.advice.create(scope, adviceInput('adv_old', { createdAt: at(1) }));
    await s.advice.create(scope, adviceInput('adv_price', { model: 'price', createdAt: at(2) }));
    // Same instant: the later insert is the newer.
    await s.advice.create(scope, adviceInput('adv_new_b', { createdAt: at(3) }));
    await s.advice.create(scope, adviceInput('adv_new_a', { createdAt: at(3) }));
    assert.deepEqual(
      (await s.advice.list(scope)).map((a) => a.id),
      ['adv_new_a', 'adv_new_b', 'adv_price', 'adv_old'],
    );
    assert.deepEqual(
      (await s.advice.list(scope, 'churn')).map((a) => a.id),
      ['adv_new_a', 'adv_new_b', 'adv_old'],
    );
    assert.deepEqual(await s.advice.list(scope, 'none'), []);
  });

  test('finish ends a running advice once; a second call returns null and changes nothing', async () => {
    const s = store();
    await s.tenants.create(newTenant('ad-f'), 'operator', T0);
    const scope = scopeOf('ad-f');
    await s.advice.create(scope, adviceInput('adv_done'));
    const done = await s.advice.finish(scope, 'adv_done', { state: 'done', result, error: null, at: at(5) });
    assert.equal(done?.state, 'done');
    assert.deepEqual(done?.result, result, 'the result round-trips');
    assert.equal(done?.finishedAt, at(5));
    assert.deepEqual(await s.advice.get(scope, 'adv_done'), done);

    const again = await s.advice.finish(scope, 'adv_done', {
      state: 'failed',
      result: null,
      error: 'late',
      at: at(6),
    });
    assert.equal(again, null);
    assert.deepEqual(await s.advice.get(scope, 'adv_done'), done, 'the first end stands');

    await s.advice.create(scope, adviceInput('adv_failed'));
    const failed = await s.advice.finish(scope, 'adv_failed', {
      state: 'failed',
      result: null,
      error: 'the tenant-specific job failed',
      at: at(7),
    });
    assert.deepEqual(
      [failed?.state, failed?.result, failed?.error, failed?.finishedAt],
      ['failed', null, 'the tenant-specific job failed', at(7)],
    );
    assert.equal(
      await s.advice.finish(scope, 'adv_missing', { state: 'done', result, error: null, at: at(8) }),
      null,
    );
  });

  test("isolation: tenant A's scope cannot read or end B's advice, nor read B's provenance", async () => {
    const s = store();
    await s.tenants.create(newTenant('ad-ia'), 'operator', T0);
    await s.tenants.create(newTenant('ad-ib'), 'operator', T0);
    const A = scopeOf('ad-ia');
    const B = scopeOf('ad-ib');
    await s.advice.create(B, adviceInput('adv_b'));
    await s.models.register(
      B,
      modelVersionInput('b-model', {
        datasets: [{ tenantId: 'ad-ib', name: 'secret', version: 1, rows: 9 }],
      }),
    );
    assert.equal(await s.advice.get(A, 'adv_b'), null);
    assert.deepEqual(await s.advice.list(A), []);
    assert.equal(await s.advice.finish(A, 'adv_b', { state: 'done', result, error: null, at: at(1) }), null);
    assert.equal((await s.advice.get(B, 'adv_b'))?.state, 'running', "B's advice is still running");
    assert.deepEqual(await s.models.provenance(A, 'b-model', 1), []);
    assert.equal((await s.models.provenance(B, 'b-model', 1)).length, 1);
    // The same id in A is A's own record.
    const mine = await s.advice.create(A, adviceInput('adv_b', { model: 'a-model' }));
    assert.equal(mine.tenantId, 'ad-ia');
    assert.equal((await s.advice.get(B, 'adv_b'))?.model, 'churn');
  });
});

describe('store: row-level security on advice and model_provenance [postgres]', () => {
  let ts: TestStore;
  let app: pg.Client;

  before(async () => {
    ts = await createTestStore('postgres');
    await seedTenant(ts.store, 'rl-a');
    await seedTenant(ts.store, 'rl-b');
    app = new pg.Client({ connectionString: await testAppLoginUrl(ts.url) });
    await app.connect();
  });
  after(async () => {
    await app?.end();
    await ts?.cleanup();
  });

  test("with app.tenant_id = A, a bare select shows A's rows only, and B's cannot be written or planted", async () => {
    const owner = await ts.query(
      "select (select count(*) from advice where tenant_id = 'rl-b') as a, (select count(*) from model_provenance where tenant_id = 'rl-b') as p",
    );
    assert.ok(Number(owner[0].a) > 0 && Number(owner[0].p) > 0, "B's rows exist");
    await app.query('begin');
    try {
      await app.query("select set_config('app.tenant_id', 'rl-a', true)");
      for (const table of ['advice', 'model_provenance']) {
        const { rows } = await app.query(`select * from ${table}`);
        assert.ok(rows.length > 0, `${table}: A's rows are visible`);
        assert.deepEqual([...new Set(rows.map((r) => r.tenant_id))], ['rl-a'], table);
      }
      const upd = await app.query("update advice set state = 'done' where tenant_id = 'rl-b'");
      assert.equal(upd.rowCount, 0);
      const del = await app.query("delete from model_provenance where tenant_id = 'rl-b'");
      assert.equal(del.rowCount, 0);
      await assert.rejects(
        app.query(
          `insert into advice (id, tenant_id, model, dataset, dataset_version, target, jobs, auto_promote, state, created_at, created_by)
           values ('adv_x', 'rl-b', 'm', 'd', 1, 'y', '{}', false, 'running', 't', 'o')`,
        ),
        /row-level security/,
      );
    } finally {
      await app.query('rollback').catch(() => {});
    }
    const { rows } = await app.query('select * from advice');
    assert.equal(rows.length, 0, 'no tenant set: nothing');
  });
});
