import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AppError } from '../../../src/core/errors.ts';
import { at, describeStores, keyRecord, newTenant, scopeOf, T0 } from './fixtures.ts';

describeStores('store: api keys', ({ store }) => {
  test('create, find for auth, list', async () => {
    const s = store();
    await s.tenants.create(newTenant('k1'), 'operator', T0);
    const a = keyRecord('tk_a', 'k1');
    const b = keyRecord('tk_b', 'k1', { role: 'predict', createdAt: at(1), hash: 'c'.repeat(64) });
    await s.keys.create(scopeOf('k1'), a);
    await s.keys.create(scopeOf('k1'), b);
    assert.deepEqual(await s.keys.findForAuth('tk_b'), b);
    assert.equal(await s.keys.findForAuth('tk_none'), null);
    assert.deepEqual(await s.keys.list(scopeOf('k1')), [a, b]);
  });

  test('a duplicate key id is a conflict; a key for another tenant than the scope is refused', async () => {
    const s = store();
    await s.tenants.create(newTenant('k2'), 'operator', T0);
    await s.tenants.create(newTenant('k2-other'), 'operator', T0);
    await s.keys.create(scopeOf('k2'), keyRecord('tk_dup', 'k2'));
    await assert.rejects(
      s.keys.create(scopeOf('k2'), keyRecord('tk_dup', 'k2', { role: 'predict' })),
      (e: unknown) => e instanceof AppError && e.code === 'conflict',
    );
    await assert.rejects(s.keys.create(scopeOf('k2'), keyRecord('tk_wrong', 'k2-other')), AppError);
    assert.equal(await s.keys.findForAuth('tk_wrong'), null);
    assert.equal((await s.keys.findForAuth('tk_dup'))?.role, 'admin');
  });

  test('revoke sets revokedAt once; findForAuth still returns the revoked key', async () => {
    const s = store();
    await s.tenants.create(newTenant('k3'), 'operator', T0);
    await s.keys.create(scopeOf('k3'), keyRecord('tk_rev', 'k3'));
    assert.equal(await s.keys.revoke(scopeOf('k3'), 'tk_rev', at(10)), true);
    assert.equal(
      await s.keys.revoke(scopeOf('k3'), 'tk_rev', at(20)),
      true,
      'revoking again is not an error',
    );
    const found = await s.keys.findForAuth('tk_rev');
    assert.equal(found?.revokedAt, at(10), 'the first revocation time is kept');
    assert.equal(await s.keys.revoke(scopeOf('k3'), 'tk_missing', at(10)), false);
  });

  test('touch records last use, at most once a minute per key, and never throws', async () => {
    const s = store();
    await s.tenants.create(newTenant('k4'), 'operator', T0);
    await s.keys.create(scopeOf('k4'), keyRecord('tk_touch', 'k4'));
    await s.keys.touch('tk_touch', at(1));
    assert.equal((await s.keys.findForAuth('tk_touch'))?.lastUsedAt, at(1));
    await s.keys.touch('tk_touch', at(1.5));
    assert.equal((await s.keys.findForAuth('tk_touch'))?.lastUsedAt, at(1), 'within a minute: skipped');
    await s.keys.touch('tk_touch', at(3));
    assert.equal((await s.keys.findForAuth('tk_touch'))?.lastUsedAt, at(3));
    await s.keys.touch('tk_unknown', at(3));
  });
});
