// Models over HTTP: promotion and rollback of the live version, its history in the model's detail, the
// audit entries they leave, who may call them, and another tenant's model answering 404 like a missing one.
// Versions are registered straight into the store: no training is needed to move the live alias.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ManualClock } from '../../../src/core/clock.ts';
import { mintTenantScope, SYSTEM } from '../../../src/core/scope.ts';
import { createTestPlatform, type TestPlatform } from '../../helpers/platform.ts';

const clock = new ManualClock('2031-05-06T07:08:09Z');

import { STORE_KINDS } from '../../helpers/stores.ts';
import { modelVersionInput } from '../store/fixtures.ts';

for (const kind of STORE_KINDS) {
  describe(`models over HTTP (${kind})`, () => {
    let tp: TestPlatform;
    let a: { id: string; admin: string; predict: string };
    let b: { id: string; admin: string; predict: string };

    const register = async (tenantId: string, model: string, n: number) => {
      const scope = mintTenantScope(tenantId, SYSTEM);
      for (let i = 0; i < n; i++) await tp.platform.store.models.register(scope, modelVersionInput(model));
    };
    const liveFlags = (body: any) =>
      [...body.versionList].sort((x: any, y: any) => x.version - y.version).map((v: any) => v.live);

    before(async () => {
      tp = await createTestPlatform(kind, { clock });
      a = await tp.tenant('models-a');
      b = await tp.tenant('models-b');
      await register(a.id, 'churn', 3);
      await register(b.id, 'b-only', 2);
      await register(b.id, 'shared-name', 2);
    });
    after(() => tp.cleanup());

    test('promote changes liveVersion and the live flags; rollback restores; history in the detail', async () => {
      const before = await tp.call({ method: 'GET', url: '/v1/models/churn', key: a.admin });
      assert.equal(before.status, 200);
      assert.equal(before.body.liveVersion, 1);
      assert.deepEqual(liveFlags(before.body), [true, false, false]);
      assert.deepEqual(before.body.liveHistory, []);

      const p3 = await tp.call({ method: 'POST', url: '/v1/models/churn/versions/3/promote', key: a.admin });
      assert.equal(p3.status, 200, p3.text);
      assert.equal(p3.body.liveVersion, 3);
      assert.deepEqual(liveFlags(p3.body), [false, false, true]);
      const p2 = await tp.call({ method: 'POST', url: '/v1/models/churn/versions/2/promote', key: a.admin });
      assert.deepEqual([p2.body.liveVersion, ...liveFlags(p2.body)], [2, false, true, false]);

      const r1 = await tp.call({ method: 'POST', url: '/v1/models/churn/rollback', key: a.admin });
      assert.equal(r1.status, 200, r1.text);
      assert.deepEqual([r1.body.liveVersion, ...liveFlags(r1.body)], [3, false, false, true]);
      const r2 = await tp.call({ method: 'POST', url: '/v1/models/churn/rollback', key: a.admin });
      assert.deepEqual([r2.body.liveVersion, ...liveFlags(r2.body)], [1, true, false, false]);
      const r3 = await tp.call({ method: 'POST', url: '/v1/models/churn/rollback', key: a.admin });
      assert.equal(r3.status, 409);
      assert.equal(r3.body.code, 'conflict');

      const detail = await tp.call({ method: 'GET', url: '/v1/models/churn', key: a.admin });
      assert.equal(detail.body.liveVersion, 1);
      const history = detail.body.liveHistory.map((h: any) => [h.reason, h.fromVersion, h.toVersion]);
      assert.deepEqual(history, [
        ['promote', 1, 3],
        ['promote', 3, 2],
        ['rollback', 2, 3],
        ['rollback', 3, 1],
      ]);
      const adminKeyId = a.admin.split('.')[1];
      assert.ok(
        detail.body.liveHistory.every(
          (h: any) => h.actor === adminKeyId && h.at === clock.now().toISOString(),
        ),
        'each change names the key that made it, at the platform clock’s time',
      );
      const listed = await tp.call({ method: 'GET', url: '/v1/models', key: a.admin });
      assert.equal(listed.body.models.find((m: any) => m.name === 'churn').liveVersion, 1);
    });

    test('promotions and rollbacks leave audit entries', async () => {
      const r = await tp.call({ method: 'GET', url: '/v1/audit', key: a.admin });
      const seen = r.body.entries
        .filter((e: any) => e.action.startsWith('model.'))
        .map((e: any) => `${e.action}:${e.target}:${e.outcome}`);
      assert.deepEqual(seen, [
        'model.promote:churn@3:ok',
        'model.promote:churn@2:ok',
        'model.rollback:churn:ok',
        'model.rollback:churn:ok',
        'model.rollback:churn:failed',
      ]);
    });

    test('a predict key gets 403 and changes nothing', async () => {
      const before = (await tp.call({ method: 'GET', url: '/v1/models/churn', key: a.admin })).body;
      const p = await tp.call({ method: 'POST', url: '/v1/models/churn/versions/2/promote', key: a.predict });
      assert.equal(p.status, 403);
      assert.equal(p.body.code, 'forbidden');
      const r = await tp.call({ method: 'POST', url: '/v1/models/churn/rollback', key: a.predict });
      assert.equal(r.status, 403);
      const after = (await tp.call({ method: 'GET', url: '/v1/models/churn', key: a.admin })).body;
      assert.deepEqual(
        [after.liveVersion, after.liveHistory.length],
        [before.liveVersion, before.liveHistory.length],
      );
    });

    test("tenant A on B's model gets 404 exactly like a missing one, for GET, promote and rollback", async () => {
      const strip = (body: any) => ({
        ...body,
        detail: undefined,
        instance: undefined,
        requestId: undefined,
      });
      for (const [method, path] of [
        ['GET', ''],
        ['POST', '/versions/1/promote'],
        ['POST', '/rollback'],
      ] as const) {
        const theirs = await tp.call({ method, url: `/v1/models/b-only${path}`, key: a.admin });
        const missing = await tp.call({ method, url: `/v1/models/no-such-model${path}`, key: a.admin });
        assert.equal(theirs.status, 404, `${method} ${path}`);
        assert.equal(missing.status, 404, `${method} ${path}`);
        assert.deepEqual(strip(theirs.body), strip(missing.body), `${method} ${path}: no existence leak`);
        assert.equal(theirs.body.detail, missing.body.detail);
      }
      // A's own model of a name B also uses is A's: B's versions are not reachable through it.
      await register(a.id, 'shared-name', 1);
      const p = await tp.call({
        method: 'POST',
        url: '/v1/models/shared-name/versions/2/promote',
        key: a.admin,
      });
      assert.equal(p.status, 404);
      const bSide = await tp.call({ method: 'GET', url: '/v1/models/b-only', key: b.admin });
      assert.deepEqual([bSide.body.liveVersion, bSide.body.liveHistory], [1, []], "B's model is untouched");
      // A missing version of one's own model is 404 as well.
      const v9 = await tp.call({ method: 'POST', url: '/v1/models/churn/versions/9/promote', key: a.admin });
      assert.equal(v9.status, 404);
    });

    test('a version that is not a positive integer is 400 naming v', async () => {
      for (const v of ['0', '-1', 'abc', '1.5', '01', '1e3', '9999999999']) {
        const r = await tp.call({
          method: 'POST',
          url: `/v1/models/churn/versions/${v}/promote`,
          key: a.admin,
        });
        assert.equal(r.status, 400, `v=${v}`);
        assert.equal(r.body.code, 'validation_failed', `v=${v}`);
        assert.deepEqual(
          r.body.errors.map((e: any) => e.field),
          ['v'],
          `v=${v}`,
        );
      }
    });

    test('the operator acts on a tenant named in X-Tenant-Id, recorded as the operator', async () => {
      const r = await tp.call({
        method: 'POST',
        url: '/v1/models/b-only/versions/2/promote',
        key: tp.adminKey,
        tenant: b.id,
      });
      assert.equal(r.status, 200, r.text);
      assert.equal(r.body.liveVersion, 2);
      assert.equal(r.body.liveHistory.at(-1).actor, 'operator');
    });
  });
}
