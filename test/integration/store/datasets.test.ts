import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AppError } from '../../../src/core/errors.ts';
import { at, describeStores, newTenant, scopeOf, T0, versionInput } from './fixtures.ts';

const LIMITS = { maxDatasets: 100 };

describeStores('store: datasets', ({ store }) => {
  test('versions number from 1 per dataset; get, list, versions, version', async () => {
    const s = store();
    await s.tenants.create(newTenant('d1'), 'operator', T0);
    const scope = scopeOf('d1');
    const v1 = await s.datasets.addVersion(scope, versionInput('sales', { createdAt: at(1) }), LIMITS);
    const v2 = await s.datasets.addVersion(
      scope,
      versionInput('sales', { createdAt: at(2), rows: 9, storedBytes: 5_000_000_000, format: 'ndjson' }),
      LIMITS,
    );
    const other = await s.datasets.addVersion(scope, versionInput('churn', { createdAt: at(3) }), LIMITS);
    assert.equal(v1.version, 1);
    assert.equal(v2.version, 2);
    assert.equal(other.version, 1);
    assert.equal(v2.tenantId, 'd1');

    assert.deepEqual(await s.datasets.get(scope, 'sales'), {
      tenantId: 'd1',
      name: 'sales',
      createdAt: at(1),
      latestVersion: 2,
      versions: 2,
    });
    assert.equal(await s.datasets.get(scope, 'missing'), null);
    assert.deepEqual(
      (await s.datasets.list(scope)).map((d) => [d.name, d.latestVersion, d.versions]),
      [
        ['churn', 1, 1],
        ['sales', 2, 2],
      ],
    );
    assert.deepEqual(await s.datasets.versions(scope, 'sales'), [v1, v2]);
    assert.deepEqual(await s.datasets.version(scope, 'sales', 2), v2, 'schema and big numbers round-trip');
    assert.equal(await s.datasets.version(scope, 'sales', 3), null);
    assert.deepEqual(await s.datasets.versions(scope, 'missing'), []);
    assert.equal(await s.datasets.count(scope), 2);
    assert.equal(await s.datasets.storedBytes(scope), 100 + 5_000_000_000 + 100);
  });

  test('delete returns the removed versions; the name then starts again', async () => {
    const s = store();
    await s.tenants.create(newTenant('d2'), 'operator', T0);
    const scope = scopeOf('d2');
    const v1 = await s.datasets.addVersion(scope, versionInput('gone'), LIMITS);
    const v2 = await s.datasets.addVersion(scope, versionInput('gone'), LIMITS);
    assert.deepEqual(await s.datasets.delete(scope, 'gone'), [v1, v2]);
    assert.equal(await s.datasets.get(scope, 'gone'), null);
    assert.deepEqual(await s.datasets.versions(scope, 'gone'), []);
    assert.equal(await s.datasets.delete(scope, 'gone'), null);
    assert.equal(await s.datasets.count(scope), 0);
    assert.equal(await s.datasets.storedBytes(scope), 0);
    assert.equal((await s.datasets.addVersion(scope, versionInput('gone'), LIMITS)).version, 1);
  });

  test('the datasets quota counts names, not versions', async () => {
    const s = store();
    await s.tenants.create(newTenant('d3'), 'operator', T0);
    const scope = scopeOf('d3');
    const limits = { maxDatasets: 2 };
    await s.datasets.addVersion(scope, versionInput('a'), limits);
    await s.datasets.addVersion(scope, versionInput('b'), limits);
    await s.datasets.addVersion(scope, versionInput('a'), limits); // a new version of a held name is fine
    await assert.rejects(s.datasets.addVersion(scope, versionInput('c'), limits), (e: unknown) => {
      assert.ok(e instanceof AppError);
      assert.equal(e.code, 'quota_exceeded');
      assert.deepEqual(e.extra, { quota: 'datasets', limit: 2, used: 2 });
      return true;
    });
    assert.equal(await s.datasets.get(scope, 'c'), null, 'the refused dataset left nothing behind');
    assert.equal(await s.datasets.count(scope), 2);
  });

  test('concurrent addVersion hands out each version number once', async () => {
    const s = store();
    await s.tenants.create(newTenant('d4'), 'operator', T0);
    const scope = scopeOf('d4');
    const results = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        s.datasets.addVersion(scope, versionInput('hot', { sha256: String(i).padStart(64, '0') }), LIMITS),
      ),
    );
    const numbers = results.map((r) => r.version).sort((x, y) => x - y);
    assert.deepEqual(
      numbers,
      Array.from({ length: 12 }, (_, i) => i + 1),
    );
    const stored = await s.datasets.versions(scope, 'hot');
    assert.equal(stored.length, 12);
    assert.equal(new Set(stored.map((v) => v.sha256)).size, 12);
  });

  test('concurrent uploads of new names cannot overrun the datasets quota', async () => {
    const s = store();
    await s.tenants.create(newTenant('d5'), 'operator', T0);
    const scope = scopeOf('d5');
    const outcomes = await Promise.allSettled(
      Array.from({ length: 8 }, (_, i) =>
        s.datasets.addVersion(scope, versionInput(`n${i}`), { maxDatasets: 3 }),
      ),
    );
    const ok = outcomes.filter((o) => o.status === 'fulfilled').length;
    const refused = outcomes.filter(
      (o) => o.status === 'rejected' && o.reason instanceof AppError && o.reason.code === 'quota_exceeded',
    ).length;
    assert.equal(ok, 3);
    assert.equal(refused, 5);
    assert.equal(await s.datasets.count(scope), 3);
  });
});
