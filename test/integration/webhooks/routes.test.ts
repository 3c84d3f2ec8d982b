// The webhook routes through the real server on SQLite and PostgreSQL: create shows the secret once,
// another tenant's webhook answers 404, bad input answers 400 naming the field, a predict key is refused,
// the operator acts on a named tenant, and creations and deletions are audited.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createTestPlatform, type TestPlatform } from '../../helpers/platform.ts';
import { STORE_KINDS } from '../../helpers/stores.ts';

const URL_A = 'https://hooks.example.com/tenant-a';

for (const kind of STORE_KINDS) {
  describe(`webhook routes (${kind})`, () => {
    let tp: TestPlatform;
    let a: { id: string; admin: string; predict: string };
    let b: { id: string; admin: string; predict: string };

    before(async () => {
      tp = await createTestPlatform(kind);
      a = await tp.tenant('hook-a');
      b = await tp.tenant('hook-b');
    });
    after(() => tp.cleanup());

    const create = (key: string, json: unknown, tenant?: string) =>
      tp.call({ method: 'POST', url: '/v1/webhooks', key, json, tenant });

    test('create answers 201 with the secret once; reads never show it', async () => {
      const r = await create(a.admin, { url: URL_A, events: ['drift', 'promotion'] });
      assert.equal(r.status, 201, r.text);
      assert.match(r.body.id, /^wh_/);
      assert.equal(r.body.url, URL_A);
      assert.deepEqual(r.body.events, ['drift', 'promotion']);
      assert.equal(Buffer.from(r.body.secret, 'base64url').length, 32);
      assert.ok(r.body.createdAt);

      const one = await tp.call({ method: 'GET', url: `/v1/webhooks/${r.body.id}`, key: a.admin });
      assert.equal(one.status, 200);
      assert.equal(one.body.secret, undefined);
      assert.ok(!one.text.includes(r.body.secret));
      const list = await tp.call({ method: 'GET', url: '/v1/webhooks', key: a.admin });
      assert.ok(list.body.webhooks.some((w: { id: string }) => w.id === r.body.id));
      assert.ok(!list.text.includes(r.body.secret));
    });

    test("another tenant's webhook answers 404 like a missing one, for every route", async () => {
      const mine = await create(a.admin, { url: `${URL_A}/2`, events: ['job_failed'] });
      const id = mine.body.id as string;
      for (const [method, url] of [
        ['GET', `/v1/webhooks/${id}`],
        ['GET', `/v1/webhooks/${id}/deliveries`],
        ['POST', `/v1/webhooks/${id}/test`],
        ['DELETE', `/v1/webhooks/${id}`],
      ] as const) {
        const theirs = await tp.call({ method, url, key: b.admin });
        const missing = await tp.call({ method, url: url.replace(id, 'wh_nothere0000'), key: b.admin });
        assert.equal(theirs.status, 404, `${method} ${url}`);
        assert.equal(theirs.body.title, missing.body.title);
      }
      const list = await tp.call({ method: 'GET', url: '/v1/webhooks', key: b.admin });
      assert.ok(!list.body.webhooks.some((w: { id: string }) => w.id === id));
      assert.equal((await tp.call({ method: 'GET', url: `/v1/webhooks/${id}`, key: a.admin })).status, 200);
    });

    test('a test delivery is queued and listed; delete removes the webhook; both are audited', async () => {
      const w = await create(a.admin, { url: `${URL_A}/3`, events: ['drift'] });
      const t = await tp.call({ method: 'POST', url: `/v1/webhooks/${w.body.id}/test`, key: a.admin });
      assert.equal(t.status, 202, t.text);
      assert.equal(t.body.event, 'test');
      assert.equal(t.body.state, 'pending');
      const ds = await tp.call({
        method: 'GET',
        url: `/v1/webhooks/${w.body.id}/deliveries?limit=5`,
        key: a.admin,
      });
      assert.equal(ds.status, 200);
      assert.equal(ds.body.deliveries.length, 1);
      assert.equal(ds.body.deliveries[0].id, t.body.id);
      assert.equal(ds.body.deliveries[0].payload.tenantId, a.id);

      const del = await tp.call({ method: 'DELETE', url: `/v1/webhooks/${w.body.id}`, key: a.admin });
      assert.equal(del.status, 204);
      assert.equal(
        (await tp.call({ method: 'GET', url: `/v1/webhooks/${w.body.id}`, key: a.admin })).status,
        404,
      );
      assert.equal(
        (await tp.call({ method: 'DELETE', url: `/v1/webhooks/${w.body.id}`, key: a.admin })).status,
        404,
      );

      const audit = await tp.call({ method: 'GET', url: '/v1/audit', key: a.admin });
      const actions = audit.body.entries
        .filter((e: { target: string }) => e.target === w.body.id)
        .map((e: { action: string; outcome: string }) => `${e.action}:${e.outcome}`);
      assert.ok(actions.includes('webhook.create:ok'), actions.join());
      assert.ok(actions.includes('webhook.delete:ok'), actions.join());
    });

    test('bad input answers 400 naming the field', async () => {
      const cases: [unknown, string][] = [
        [{ url: 'not a url', events: ['drift'] }, 'url'],
        [{ url: 'ftp://example.com/x', events: ['drift'] }, 'url'],
        [{ url: 'https://u:p@example.com/x', events: ['drift'] }, 'url'],
        [{ url: URL_A, events: ['drift', 'nonsense'] }, 'events.1'],
        [{ url: URL_A, events: [] }, 'events'],
        [{ url: URL_A }, 'events'],
        [{ events: ['drift'] }, 'url'],
        [{ url: URL_A, events: ['drift'], extra: 1 }, 'extra'],
      ];
      for (const [json, field] of cases) {
        const r = await create(a.admin, json);
        assert.equal(r.status, 400, JSON.stringify(json));
        assert.equal(r.body.code, 'validation_failed');
        assert.ok(
          r.body.errors.some((e: { field: string }) => e.field === field),
          `${JSON.stringify(json)} → ${JSON.stringify(r.body.errors)}`,
        );
      }
    });

    test('private addresses are refused by default (SSRF)', async () => {
      for (const url of [
        'http://127.0.0.1:8080/x',
        'http://localhost/x',
        'http://169.254.169.254/latest',
        'http://[::1]/',
      ]) {
        const r = await create(a.admin, { url, events: ['drift'] });
        assert.equal(r.status, 400, url);
        assert.equal(r.body.errors[0].field, 'url');
      }
    });

    test('a tenant holds at most 20 webhooks', async () => {
      const have = (await tp.call({ method: 'GET', url: '/v1/webhooks', key: b.admin })).body.webhooks.length;
      for (let i = have; i < 20; i++) {
        assert.equal(
          (await create(b.admin, { url: `https://hooks.example.com/b/${i}`, events: ['drift'] })).status,
          201,
        );
      }
      const over = await create(b.admin, { url: 'https://hooks.example.com/b/over', events: ['drift'] });
      assert.equal(over.status, 400);
      assert.equal(over.body.errors[0].field, 'url');
      assert.match(over.body.detail, /at most 20/);
    });

    test('a predict key is refused; the operator acts on the tenant it names', async () => {
      const p = await create(a.predict, { url: `${URL_A}/p`, events: ['drift'] });
      assert.equal(p.status, 403);
      assert.equal((await tp.call({ method: 'GET', url: '/v1/webhooks', key: a.predict })).status, 403);
      const noTenant = await create(tp.adminKey, { url: `${URL_A}/op`, events: ['drift'] });
      assert.equal(noTenant.status, 400);
      const op = await create(tp.adminKey, { url: `${URL_A}/op`, events: ['drift'] }, a.id);
      assert.equal(op.status, 201, op.text);
      const seen = await tp.call({ method: 'GET', url: `/v1/webhooks/${op.body.id}`, key: a.admin });
      assert.equal(seen.status, 200);
      assert.equal(seen.body.createdBy, 'operator');
    });
  });
}
