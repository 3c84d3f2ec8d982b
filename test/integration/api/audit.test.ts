// The audit log over HTTP: every mutating call leaves an entry with actor, tenant, action, target and
// outcome; a tenant admin reads its own; altering one entry breaks the chain check.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createTestPlatform, type TestPlatform } from '../../helpers/platform.ts';
import { STORE_KINDS } from '../../helpers/stores.ts';

for (const kind of STORE_KINDS) {
  describe(`audit log over HTTP (${kind})`, () => {
    let tp: TestPlatform;
    let t: { id: string; admin: string; predict: string };

    before(async () => {
      tp = await createTestPlatform(kind);
      t = await tp.tenant('audited');
      await tp.upload(t.admin, 'ds', 'a\n1\n');
      await tp.upload(t.predict, 'ds', 'a\n1\n'); // refused: a predict key
      await tp.call({ method: 'DELETE', url: '/v1/datasets/ds', key: t.admin });
      await tp.call({
        method: 'PATCH',
        url: `/v1/tenants/${t.id}`,
        key: tp.adminKey,
        json: { sharedTraining: true },
      });
    });
    after(() => tp.cleanup());

    test('mutating calls are recorded with actor, action, target and outcome', async () => {
      const r = await tp.call({ method: 'GET', url: '/v1/audit', key: t.admin });
      assert.equal(r.status, 200);
      const seen = r.body.entries.map((e: any) => `${e.actorRole}:${e.action}:${e.target}:${e.outcome}`);
      assert.deepEqual(seen, [
        'operator:key.create:' + r.body.entries[0].target + ':ok',
        'operator:key.create:' + r.body.entries[1].target + ':ok',
        'admin:dataset.upload:ds:ok',
        'predict:dataset.upload:ds:denied',
        'admin:dataset.delete:ds:ok',
        'operator:tenant.update:audited:ok',
      ]);
      for (const e of r.body.entries) {
        assert.equal(e.tenantId, t.id);
        assert.match(e.hash, /^[0-9a-f]{64}$/);
        assert.ok(e.requestId);
      }
      const tenantCreate = await tp.call({
        method: 'GET',
        url: '/v1/audit?tenant=operator',
        key: tp.adminKey,
      });
      assert.ok(
        tenantCreate.body.entries.some((e: any) => e.action === 'tenant.create' && e.target === t.id),
      );
    });

    test('a predict key cannot read the audit log', async () => {
      const r = await tp.call({ method: 'GET', url: '/v1/audit', key: t.predict });
      assert.equal(r.status, 403);
    });

    test('the consent change is kept in the tenant’s history', async () => {
      const r = await tp.call({ method: 'GET', url: `/v1/tenants/${t.id}`, key: tp.adminKey });
      assert.equal(r.body.sharedTraining, true);
      assert.equal(r.body.consentHistory.at(-1).sharedTraining, true);
      assert.equal(r.body.consentHistory.at(-1).changedBy, 'operator');
    });

    test('altering one entry is reported by the chain check', async () => {
      const before = await tp.call({
        method: 'GET',
        url: `/v1/audit?tenant=${t.id}&verify=true`,
        key: tp.adminKey,
      });
      assert.equal(before.body.verified.ok, true);
      await tp.ts.query("update audit_entries set outcome = 'ok' where tenant_id = ? and seq = 4", [t.id]);
      const afterAlter = await tp.call({
        method: 'GET',
        url: `/v1/audit?tenant=${t.id}&verify=true`,
        key: tp.adminKey,
      });
      assert.equal(afterAlter.body.verified.ok, false);
      assert.equal(afterAlter.body.verified.brokenAt, 4);
      const own = await tp.call({ method: 'GET', url: '/v1/audit?verify=true', key: t.admin });
      assert.equal(own.body.verified.ok, false);
    });

    test('removing the newest entry is reported too (the head is kept apart)', async () => {
      const u = await tp.tenant('audited-tail');
      await tp.upload(u.admin, 'ds', 'a\n1\n');
      const ok = await tp.call({
        method: 'GET',
        url: `/v1/audit?tenant=${u.id}&verify=true`,
        key: tp.adminKey,
      });
      assert.equal(ok.body.verified.ok, true);
      const last = ok.body.entries.at(-1).seq;
      await tp.ts.query('delete from audit_entries where tenant_id = ? and seq = ?', [u.id, last]);
      const cut = await tp.call({
        method: 'GET',
        url: `/v1/audit?tenant=${u.id}&verify=true`,
        key: tp.adminKey,
      });
      assert.equal(cut.body.verified.ok, false);
    });
  });
}
