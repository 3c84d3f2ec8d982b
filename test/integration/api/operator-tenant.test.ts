// The operator's key names a tenant in X-Tenant-Id on every request (a SaaS backend calling on behalf of
// its customers): the tenant is looked up once a second, not once a request, and the answers stay exact
// where they matter — an unknown tenant is 404, one created a moment later is found at once, one deleted
// in this process is 404 at once.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ManualClock } from '../../../src/core/clock.ts';
import { TENANT_EXISTS_TTL_MS } from '../../../src/services/tenants.ts';
import { createTestPlatform, type TestPlatform } from '../../helpers/platform.ts';

describe('operator key + X-Tenant-Id (sqlite)', () => {
  const clock = new ManualClock('2026-11-29T10:00:00Z');
  let tp: TestPlatform;
  let lookups: string[];

  before(async () => {
    tp = await createTestPlatform('sqlite', { clock });
    // Count the store's tenant lookups (the service holds this same repo object).
    const repo = tp.platform.store.tenants;
    const get = repo.get.bind(repo);
    lookups = [];
    repo.get = (id: string) => {
      lookups.push(id);
      return get(id);
    };
  });
  after(async () => {
    await tp.cleanup();
  });

  const list = (tenant: string) => tp.call({ method: 'GET', url: '/v1/models', key: tp.adminKey, tenant });

  test('an unknown tenant is 404 each time, and found as soon as it is created', async () => {
    for (let i = 0; i < 2; i++) {
      const r = await list('ghost');
      assert.equal(r.status, 404, r.text);
      assert.equal(r.body.code, 'not_found');
    }
    assert.equal(lookups.filter((id) => id === 'ghost').length, 2, 'a 404 is not remembered');
    await tp.tenant('ghost');
    assert.equal((await list('ghost')).status, 200);
  });

  test('a tenant found is trusted for TENANT_EXISTS_TTL_MS: one lookup a period, not one a request', async () => {
    await tp.tenant('busy');
    clock.advance(TENANT_EXISTS_TTL_MS);
    lookups.length = 0;
    for (let i = 0; i < 10; i++) assert.equal((await list('busy')).status, 200);
    assert.equal(lookups.filter((id) => id === 'busy').length, 1, lookups.join(','));
    clock.advance(TENANT_EXISTS_TTL_MS);
    assert.equal((await list('busy')).status, 200);
    assert.equal(lookups.filter((id) => id === 'busy').length, 2, 'asked again after the period');
  });

  test('a tenant deleted in this process is 404 at once, though it was found a moment before', async () => {
    await tp.tenant('gone');
    assert.equal((await list('gone')).status, 200);
    const del = await tp.call({ method: 'DELETE', url: '/v1/tenants/gone', key: tp.adminKey });
    assert.ok(del.status === 204 || del.status === 200, del.text);
    const r = await list('gone');
    assert.equal(r.status, 404, r.text);
  });
});
