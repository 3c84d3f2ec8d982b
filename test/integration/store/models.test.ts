// The model registry's store side, on both adapters: versions numbered per model, the first one live,
// registration idempotent on the job id (also when two registers race), promotion and rollback with their
// history, and tenant isolation.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AppError } from '../../../src/core/errors.ts';
import { at, describeStores, modelVersionInput, newTenant, scopeOf, T0 } from './fixtures.ts';

describeStores('store: models', ({ store }) => {
  test('versions number from 1 per model; the first is live; list, get, versions, version', async () => {
    const s = store();
    await s.tenants.create(newTenant('m1'), 'operator', T0);
    const scope = scopeOf('m1');
    const v1 = await s.models.register(
      scope,
      modelVersionInput('churn', { jobId: 'job_a', createdAt: at(1) }),
    );
    const tuned = modelVersionInput('churn', {
      jobId: 'job_b',
      mode: 'tuned',
      base: { model: 'sentiment-base', version: 4 },
      params: { rounds: 10, nested: { depth: [1, 2] } },
      metrics: { rmse: 1.5e-7 },
      datasets: [
        { tenantId: 'm1', name: 'sales', version: 2, rows: 5_000_000_000 },
        { tenantId: 'other', name: 'pool', version: 1, rows: 10 },
      ],
      createdAt: at(2),
    });
    const v2 = await s.models.register(scope, tuned);
    const other = await s.models.register(scope, modelVersionInput('price', { createdAt: at(3) }));
    assert.deepEqual([v1.version, v2.version, other.version], [1, 2, 1]);
    assert.equal(v1.tenantId, 'm1');
    assert.deepEqual(v2, { ...tuned, tenantId: 'm1', version: 2, status: 'ok', taint: null });

    assert.deepEqual(await s.models.get(scope, 'churn'), {
      name: 'churn',
      latestVersion: 2,
      liveVersion: 1,
      versions: 2,
      audience: null,
      createdAt: at(1),
    });
    assert.equal(await s.models.get(scope, 'missing'), null);
    assert.deepEqual(
      (await s.models.list(scope)).map((m) => [m.name, m.latestVersion, m.liveVersion, m.versions]),
      [
        ['churn', 2, 1, 2],
        ['price', 1, 1, 1],
      ],
    );
    assert.deepEqual(await s.models.versions(scope, 'churn'), [v1, v2]);
    assert.deepEqual(
      await s.models.version(scope, 'churn', 2),
      v2,
      'JSON members and big numbers round-trip',
    );
    assert.equal(await s.models.version(scope, 'churn', 3), null);
    assert.deepEqual(await s.models.versions(scope, 'missing'), []);
  });

  test('register is idempotent on the job id', async () => {
    const s = store();
    await s.tenants.create(newTenant('m2'), 'operator', T0);
    const scope = scopeOf('m2');
    const first = await s.models.register(scope, modelVersionInput('churn', { jobId: 'job_once' }));
    const again = await s.models.register(
      scope,
      modelVersionInput('churn', { jobId: 'job_once', checksum: 'd'.repeat(64), createdAt: at(9) }),
    );
    assert.deepEqual(again, first, 'the first registration is returned, not a new one');
    assert.equal((await s.models.versions(scope, 'churn')).length, 1);
    assert.equal((await s.models.get(scope, 'churn'))?.latestVersion, 1, 'no version number was used up');
    // versions without a job (imports) are never merged
    await s.models.register(scope, modelVersionInput('churn', { jobId: null }));
    await s.models.register(scope, modelVersionInput('churn', { jobId: null }));
    assert.deepEqual(
      (await s.models.versions(scope, 'churn')).map((v) => [v.version, v.jobId]),
      [
        [1, 'job_once'],
        [2, null],
        [3, null],
      ],
    );
  });

  test('concurrent registers: one job id → one version; distinct jobs → distinct numbers', async () => {
    const s = store();
    await s.tenants.create(newTenant('m3'), 'operator', T0);
    const scope = scopeOf('m3');
    const same = await Promise.all(
      Array.from({ length: 6 }, () =>
        s.models.register(scope, modelVersionInput('hot', { jobId: 'job_dup' })),
      ),
    );
    assert.equal(new Set(same.map((v) => v.version)).size, 1);
    assert.equal((await s.models.versions(scope, 'hot')).length, 1);
    const distinct = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        s.models.register(scope, modelVersionInput('hot', { jobId: `job_${i}` })),
      ),
    );
    assert.deepEqual(
      distinct.map((v) => v.version).sort((x, y) => x - y),
      [2, 3, 4, 5, 6, 7, 8, 9],
    );
  });

  test('promote moves live and records it; rollbacks undo promotions one at a time', async () => {
    const s = store();
    await s.tenants.create(newTenant('p1'), 'operator', T0);
    const scope = scopeOf('p1');
    for (let i = 0; i < 3; i++) await s.models.register(scope, modelVersionInput('churn'));
    assert.equal((await s.models.get(scope, 'churn'))?.liveVersion, 1);

    const p2 = await s.models.promote(scope, 'churn', 2, 'tk_alice', at(1));
    assert.deepEqual([p2.name, p2.liveVersion, p2.latestVersion, p2.versions], ['churn', 2, 3, 3]);
    const p3 = await s.models.promote(scope, 'churn', 3, 'tk_bob', at(2));
    assert.equal(p3.liveVersion, 3);
    const same = await s.models.promote(scope, 'churn', 3, 'tk_bob', at(3));
    assert.equal(same.liveVersion, 3, 'promoting the live version changes nothing');

    const r1 = await s.models.rollback(scope, 'churn', 'tk_carol', at(4));
    assert.equal(r1.liveVersion, 2, 'back to the version live before 3');
    const r2 = await s.models.rollback(scope, 'churn', 'tk_carol', at(5));
    assert.equal(r2.liveVersion, 1, 'and once more, to the one before 2');
    assert.equal((await s.models.get(scope, 'churn'))?.liveVersion, 1);
    await assert.rejects(
      s.models.rollback(scope, 'churn', 'tk_carol', at(6)),
      (e: unknown) => e instanceof AppError && e.code === 'conflict',
    );
    assert.equal((await s.models.get(scope, 'churn'))?.liveVersion, 1, 'a refused rollback changes nothing');

    assert.deepEqual(await s.models.liveHistory(scope, 'churn'), [
      { model: 'churn', fromVersion: 1, toVersion: 2, actor: 'tk_alice', at: at(1), reason: 'promote' },
      { model: 'churn', fromVersion: 2, toVersion: 3, actor: 'tk_bob', at: at(2), reason: 'promote' },
      { model: 'churn', fromVersion: 3, toVersion: 2, actor: 'tk_carol', at: at(4), reason: 'rollback' },
      { model: 'churn', fromVersion: 2, toVersion: 1, actor: 'tk_carol', at: at(5), reason: 'rollback' },
    ]);

    // After rollbacks a promotion stacks on the current version again.
    await s.models.promote(scope, 'churn', 3, 'tk_alice', at(7));
    assert.equal((await s.models.rollback(scope, 'churn', 'tk_alice', at(8))).liveVersion, 1);
  });

  test('a model that was never promoted has nothing to roll back to; missing model or version → not_found', async () => {
    const s = store();
    await s.tenants.create(newTenant('p2'), 'operator', T0);
    const scope = scopeOf('p2');
    await s.models.register(scope, modelVersionInput('fresh'));
    await s.models.register(scope, modelVersionInput('fresh'));
    await assert.rejects(
      s.models.rollback(scope, 'fresh', 'tk_x', at(1)),
      (e: unknown) => e instanceof AppError && e.code === 'conflict',
    );
    const notFound = (e: unknown) => e instanceof AppError && e.code === 'not_found';
    await assert.rejects(s.models.promote(scope, 'fresh', 3, 'tk_x', at(1)), notFound);
    await assert.rejects(s.models.promote(scope, 'fresh', 0, 'tk_x', at(1)), notFound);
    await assert.rejects(s.models.promote(scope, 'missing', 1, 'tk_x', at(1)), notFound);
    await assert.rejects(s.models.rollback(scope, 'missing', 'tk_x', at(1)), notFound);
    assert.deepEqual(await s.models.liveHistory(scope, 'fresh'), []);
    assert.deepEqual(await s.models.liveHistory(scope, 'missing'), []);
    assert.equal((await s.models.get(scope, 'fresh'))?.liveVersion, 1);
  });

  test('concurrent promotions serialize: the history chains each change to the one before', async () => {
    const s = store();
    await s.tenants.create(newTenant('p3'), 'operator', T0);
    const scope = scopeOf('p3');
    for (let i = 0; i < 6; i++) await s.models.register(scope, modelVersionInput('hot'));
    await Promise.all([2, 3, 4, 5, 6].map((v) => s.models.promote(scope, 'hot', v, `tk_${v}`, at(v))));
    const history = await s.models.liveHistory(scope, 'hot');
    assert.equal(history.length, 5);
    let live = 1;
    for (const h of history) {
      assert.equal(h.fromVersion, live, 'each change starts from the version the previous one left live');
      live = h.toVersion;
    }
    assert.equal((await s.models.get(scope, 'hot'))?.liveVersion, live);
  });

  test("isolation: tenant A's scope cannot promote, roll back or read the history of B's model", async () => {
    const s = store();
    await s.tenants.create(newTenant('pi-a'), 'operator', T0);
    await s.tenants.create(newTenant('pi-b'), 'operator', T0);
    const A = scopeOf('pi-a');
    const B = scopeOf('pi-b');
    await s.models.register(B, modelVersionInput('b-model'));
    await s.models.register(B, modelVersionInput('b-model'));
    await s.models.promote(B, 'b-model', 2, 'tk_b', at(1));
    const notFound = (e: unknown) => e instanceof AppError && e.code === 'not_found';
    await assert.rejects(s.models.promote(A, 'b-model', 1, 'tk_a', at(2)), notFound);
    await assert.rejects(s.models.rollback(A, 'b-model', 'tk_a', at(2)), notFound);
    assert.deepEqual(await s.models.liveHistory(A, 'b-model'), []);
    assert.equal((await s.models.get(B, 'b-model'))?.liveVersion, 2, "B's live version is untouched");
    assert.equal((await s.models.liveHistory(B, 'b-model')).length, 1);
    // A's own model of the same name is A's alone.
    await s.models.register(A, modelVersionInput('b-model'));
    await assert.rejects(s.models.promote(A, 'b-model', 2, 'tk_a', at(3)), notFound);
    assert.equal((await s.models.get(B, 'b-model'))?.liveVersion, 2);
  });

  test("isolation: tenant A's scope sees none of B's models, and B's name means A's own model", async () => {
    const s = store();
    await s.tenants.create(newTenant('m-a'), 'operator', T0);
    await s.tenants.create(newTenant('m-b'), 'operator', T0);
    const A = scopeOf('m-a');
    const B = scopeOf('m-b');
    const bV = await s.models.register(B, modelVersionInput('b-only', { jobId: 'job_b1' }));
    await s.models.register(B, modelVersionInput('common', { checksum: 'b'.repeat(64) }));
    assert.deepEqual(await s.models.list(A), []);
    assert.equal(await s.models.get(A, 'b-only'), null);
    assert.deepEqual(await s.models.versions(A, 'b-only'), []);
    assert.equal(await s.models.version(A, 'b-only', 1), null);
    const aV = await s.models.register(A, modelVersionInput('common', { checksum: 'a'.repeat(64) }));
    assert.deepEqual([aV.tenantId, aV.version], ['m-a', 1], "A's own model, numbered on its own");
    assert.deepEqual(
      (await s.models.versions(A, 'common')).map((v) => v.checksum),
      ['a'.repeat(64)],
    );
    assert.deepEqual(await s.models.version(B, 'b-only', 1), bV, "B's version is intact");

    // The unique job id answers a registration that the lookup could not see: a conflict, never B's version,
    // and nothing of A's registration is kept.
    await assert.rejects(
      s.models.register(A, modelVersionInput('stolen', { jobId: 'job_b1' })),
      (e: unknown) => e instanceof AppError && e.code === 'conflict',
    );
    assert.equal(await s.models.get(A, 'stolen'), null);
  });
});
