import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AppError } from '../../../src/core/errors.ts';
import { tenantTables } from '../../../src/store/sql/migrations.ts';
import { at, describeStores, newTenant, scopeOf, seedTenant, T0 } from './fixtures.ts';

describeStores('store: tenants', ({ store, t }) => {
  test('create, get, list, update', async () => {
    const s = store();
    const created = await s.tenants.create(
      newTenant('acme', { tier: 'standard', quotaOverrides: { datasets: 7 } }),
      'operator',
      T0,
    );
    assert.deepEqual(created, {
      id: 'acme',
      name: 'Tenant acme',
      tier: 'standard',
      sharedTraining: false,
      quotaOverrides: { datasets: 7 },
      createdAt: T0,
      updatedAt: T0,
    });
    assert.deepEqual(await s.tenants.get('acme'), created);
    assert.equal(await s.tenants.get('nobody'), null);
    await s.tenants.create(newTenant('beta'), 'operator', at(1));
    const ids = (await s.tenants.list()).map((x) => x.id);
    assert.ok(ids.includes('acme') && ids.includes('beta'));

    const updated = await s.tenants.update('acme', { name: 'Acme Inc', tier: 'premium' }, 'operator', at(5));
    assert.equal(updated?.name, 'Acme Inc');
    assert.equal(updated?.tier, 'premium');
    assert.deepEqual(updated?.quotaOverrides, { datasets: 7 }, 'fields left out of the patch are kept');
    assert.equal(updated?.createdAt, T0);
    assert.equal(updated?.updatedAt, at(5));
    assert.deepEqual(await s.tenants.get('acme'), updated);
    assert.equal(await s.tenants.update('nobody', { name: 'x' }, 'operator', at(5)), null);
  });

  test('a duplicate id is a conflict and leaves the first tenant untouched', async () => {
    const s = store();
    await s.tenants.create(newTenant('dup', { name: 'first' }), 'operator', T0);
    await assert.rejects(
      s.tenants.create(
        newTenant('dup', { name: 'second', wrappedDataKey: Buffer.from('other') }),
        'operator',
        T0,
      ),
      (e: unknown) => e instanceof AppError && e.code === 'conflict',
    );
    assert.equal((await s.tenants.get('dup'))?.name, 'first');
    assert.deepEqual(await s.tenants.wrappedDataKey('dup'), Buffer.from('wrapped-key-of-dup'));
  });

  test('consent history records the initial state and every change, not unchanged updates', async () => {
    const s = store();
    await s.tenants.create(newTenant('consent'), 'operator', T0);
    await s.tenants.update('consent', { sharedTraining: true }, 'tk_admin', at(1));
    await s.tenants.update('consent', { name: 'renamed' }, 'tk_admin', at(2));
    await s.tenants.update('consent', { sharedTraining: true }, 'tk_admin', at(3));
    await s.tenants.update('consent', { sharedTraining: false }, 'operator', at(4));
    const history = await s.tenants.consentHistory(scopeOf('consent'));
    assert.deepEqual(history, [
      { tenantId: 'consent', sharedTraining: false, changedBy: 'operator', changedAt: T0 },
      { tenantId: 'consent', sharedTraining: true, changedBy: 'tk_admin', changedAt: at(1) },
      { tenantId: 'consent', sharedTraining: false, changedBy: 'operator', changedAt: at(4) },
    ]);
    assert.equal((await s.tenants.get('consent'))?.sharedTraining, false);
  });

  test('delete removes every row of the tenant in every table, and its wrapped key', async () => {
    const s = store();
    await seedTenant(s, 'doomed');
    await seedTenant(s, 'survivor');
    const rowsOf = async (id: string) => {
      const counts: Record<string, number> = {};
      for (const { table, column } of tenantTables()) {
        const [r] = await t().query(`select count(*) as n from ${table} where ${column} = ?`, [id]);
        counts[table] = Number(r.n);
      }
      return counts;
    };
    const before = await rowsOf('doomed');
    for (const [table, n] of Object.entries(before)) assert.ok(n > 0, `the seed put a row in ${table}`);
    const survivorBefore = await rowsOf('survivor');

    assert.equal(await s.tenants.delete('doomed'), true);
    assert.deepEqual(
      await rowsOf('doomed'),
      Object.fromEntries(Object.keys(before).map((k) => [k, 0])),
      'no row of the deleted tenant remains',
    );
    assert.equal(await s.tenants.wrappedDataKey('doomed'), null);
    assert.equal(await s.tenants.get('doomed'), null);
    assert.equal(await s.keys.findForAuth('tk_doomed_1'), null);
    assert.deepEqual(await s.audit.chain('doomed'), []);
    assert.deepEqual(await rowsOf('survivor'), survivorBefore, 'the other tenant is untouched');
    assert.equal(await s.tenants.delete('doomed'), false);
  });
});
