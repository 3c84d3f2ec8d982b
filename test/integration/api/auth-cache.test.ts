// Verified keys are reused for AUTH_CACHE_MS so that a predict call costs no key lookup: a revocation or
// a tenant deletion through this process takes effect at once, one made through another replica (here: a
// second store on the same database) within the cache time — and a wrong secret for a cached key id is
// still refused.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ManualClock } from '../../../src/core/clock.ts';
import { mintTenantScope, OPERATOR } from '../../../src/core/scope.ts';
import { AUTH_CACHE_MS } from '../../../src/services/auth.ts';
import { createTestPlatform, type TestPlatform } from '../../helpers/platform.ts';

describe('verified keys are reused briefly, revocations still bite', () => {
  const clock = new ManualClock('2031-03-04T05:06:07Z');
  let tp: TestPlatform;
  before(async () => {
    tp = await createTestPlatform('sqlite', { clock });
  });
  after(() => tp.cleanup());

  const whoami = (key: string) => tp.call({ method: 'GET', url: '/v1/datasets', key });

  test('revoked through this process: refused at once', async () => {
    const t = await tp.tenant('ac-a');
    assert.equal((await whoami(t.admin)).status, 200);
    const id = t.admin.split('.')[1];
    const r = await tp.call({ method: 'DELETE', url: `/v1/tenants/ac-a/keys/${id}`, key: tp.adminKey });
    assert.equal(r.status, 204, r.text);
    assert.equal((await whoami(t.admin)).status, 401);
  });

  test('revoked through another replica: refused once the cache time has passed', async () => {
    const t = await tp.tenant('ac-b');
    assert.equal((await whoami(t.admin)).status, 200);
    const id = t.admin.split('.')[1];
    await tp.ts.store.keys.revoke(mintTenantScope('ac-b', OPERATOR), id, clock.now().toISOString());
    assert.equal((await whoami(t.admin)).status, 200, 'still trusted within the cache time');
    clock.advance(AUTH_CACHE_MS + 1);
    assert.equal((await whoami(t.admin)).status, 401);
  });

  test('a cached key id with a wrong secret is refused', async () => {
    const t = await tp.tenant('ac-c');
    assert.equal((await whoami(t.admin)).status, 200);
    const [tml, id, secret] = t.admin.split('.');
    const forged = `${tml}.${id}.${secret.slice(0, -1)}${secret.endsWith('A') ? 'B' : 'A'}`;
    assert.equal((await whoami(forged)).status, 401);
  });

  test("a deleted tenant's keys stop at once", async () => {
    const t = await tp.tenant('ac-d');
    assert.equal(
      (await whoami(t.predict)).status,
      403,
      'a predict key may not list datasets, but it is known',
    );
    assert.equal(
      (await tp.call({ method: 'DELETE', url: '/v1/tenants/ac-d', key: tp.adminKey })).status,
      204,
    );
    assert.equal((await whoami(t.predict)).status, 401);
  });
});
