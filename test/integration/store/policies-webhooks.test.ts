// Retraining policies and webhooks on both adapters: policy CRUD, firing and the system listing; webhook
// CRUD with the encrypted secret kept apart; the delivery queue (enqueue, claims exclusive under
// concurrent claimers, outcomes, newest-first listing, deletion with the webhook). Then, on PostgreSQL,
// row-level security on every table of migration 5 for bare queries as the application role.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import type { Store, WebhookDelivery } from '../../../src/store/ports.ts';
import { openStore } from '../../../src/store/sql/index.ts';
import { createTestStore, type TestStore, testAppLoginUrl } from '../../helpers/stores.ts';
import {
  assertRowLevelSecurity,
  at,
  deliveryInput,
  describeStores,
  newTenant,
  scopeOf,
  seedTenant,
  T0,
  webhookInput,
} from './fixtures.ts';

async function tenants(s: Store, ...ids: string[]): Promise<void> {
  for (const id of ids) await s.tenants.create(newTenant(id), 'operator', T0);
}

describeStores('store: retraining policies', ({ store }) => {
  test('put creates and replaces; get reads it back; delete says whether there was one', async () => {
    const s = store();
    await tenants(s, 'po-a');
    const scope = scopeOf('po-a');
    assert.equal(await s.policies.get(scope, 'churn'), null);
    const created = await s.policies.put(scope, 'churn', { onDrift: true, cooldownHours: 12 }, at(1));
    assert.deepEqual(created, {
      model: 'churn',
      policy: { onDrift: true, cooldownHours: 12 },
      lastFiredAt: null,
      lastTrigger: null,
      updatedAt: at(1),
    });
    assert.deepEqual(await s.policies.get(scope, 'churn'), created);
    const replaced = await s.policies.put(scope, 'churn', { schedule: '0 3 * * *', onNewRows: 500 }, at(2));
    assert.deepEqual(
      replaced.policy,
      { schedule: '0 3 * * *', onNewRows: 500 },
      'replaced whole, not merged',
    );
    assert.equal(replaced.updatedAt, at(2));
    assert.deepEqual(await s.policies.get(scope, 'churn'), replaced);
    assert.equal(await s.policies.delete(scope, 'churn'), true);
    assert.equal(await s.policies.get(scope, 'churn'), null);
    assert.equal(await s.policies.delete(scope, 'churn'), false);
  });

  test('fired records the trigger and time; replacing the policy keeps them; no policy, no row', async () => {
    const s = store();
    await tenants(s, 'po-f');
    const scope = scopeOf('po-f');
    await s.policies.put(scope, 'churn', { onDrift: true }, at(1));
    await s.policies.fired(scope, 'churn', 'drift', at(5));
    assert.deepEqual(
      [
        (await s.policies.get(scope, 'churn'))?.lastFiredAt,
        (await s.policies.get(scope, 'churn'))?.lastTrigger,
      ],
      [at(5), 'drift'],
    );
    await s.policies.fired(scope, 'churn', 'schedule', at(9));
    const p = await s.policies.put(scope, 'churn', { onDrift: false, onPerformanceDrop: 0.05 }, at(10));
    assert.deepEqual(
      [p.lastFiredAt, p.lastTrigger],
      [at(9), 'schedule'],
      'an edit does not reset the cooldown',
    );
    await s.policies.fired(scope, 'none', 'drift', at(11));
    assert.equal(await s.policies.get(scope, 'none'), null);
  });

  test("listAll: every tenant's policies in (tenant, model) order; a scope sees only its own", async () => {
    const s = store();
    await tenants(s, 'pl-a', 'pl-b');
    await s.policies.put(scopeOf('pl-b'), 'zeta', { onDrift: true }, at(1));
    await s.policies.put(scopeOf('pl-a'), 'price', { onNewRows: 10 }, at(2));
    await s.policies.put(scopeOf('pl-a'), 'churn', { schedule: '@daily' }, at(3));
    await s.policies.fired(scopeOf('pl-a'), 'churn', 'schedule', at(4));
    const all = (await s.policies.listAll()).filter((p) => p.tenantId.startsWith('pl-'));
    assert.deepEqual(
      all.map((p) => [p.tenantId, p.model, p.lastTrigger]),
      [
        ['pl-a', 'churn', 'schedule'],
        ['pl-a', 'price', null],
        ['pl-b', 'zeta', null],
      ],
    );
    assert.deepEqual(all[2]?.policy, { onDrift: true });
    assert.equal(await s.policies.get(scopeOf('pl-a'), 'zeta'), null);
    assert.equal(await s.policies.delete(scopeOf('pl-a'), 'zeta'), false);
    await s.policies.fired(scopeOf('pl-a'), 'zeta', 'drift', at(5));
    assert.equal(
      (await s.policies.get(scopeOf('pl-b'), 'zeta'))?.lastFiredAt,
      null,
      "B's policy is untouched",
    );
  });
});

describeStores('store: webhooks', ({ kind, store, t }) => {
  test('create, get, list (oldest first), the secret apart, delete', async () => {
    const s = store();
    await tenants(s, 'wh-a', 'wh-b');
    const A = scopeOf('wh-a');
    const secret = Buffer.from([0, 1, 2, 250, 255, 0, 42]);
    const w1 = await s.webhooks.create(A, webhookInput('wh_1', 'wh-a', { createdAt: at(1) }), secret);
    assert.deepEqual(w1, webhookInput('wh_1', 'wh-a', { createdAt: at(1) }));
    assert.ok(!('secret' in w1), 'the secret is never part of the webhook');
    const w2 = await s.webhooks.create(
      A,
      webhookInput('wh_2', 'wh-a', {
        events: ['job_failed'],
        url: 'https://b.example.com/x',
        createdAt: at(2),
      }),
      Buffer.from('other'),
    );
    assert.deepEqual(await s.webhooks.get(A, 'wh_1'), w1);
    assert.deepEqual(await s.webhooks.list(A), [w1, w2]);
    const back = await s.webhooks.secret(A, 'wh_1');
    assert.ok(Buffer.isBuffer(back));
    assert.deepEqual(back, secret, 'the bytes round-trip exactly');
    assert.equal(await s.webhooks.secret(A, 'wh_missing'), null);
    await assert.rejects(s.webhooks.create(A, webhookInput('wh_1', 'wh-a'), secret), 'a duplicate id');

    // B sees none of it.
    const B = scopeOf('wh-b');
    assert.equal(await s.webhooks.get(B, 'wh_1'), null);
    assert.equal(await s.webhooks.secret(B, 'wh_1'), null);
    assert.deepEqual(await s.webhooks.list(B), []);
    assert.equal(await s.webhooks.delete(B, 'wh_1'), false);

    assert.equal(await s.webhooks.delete(A, 'wh_1'), true);
    assert.equal(await s.webhooks.delete(A, 'wh_1'), false);
    assert.equal(await s.webhooks.get(A, 'wh_1'), null);
    assert.equal(await s.webhooks.secret(A, 'wh_1'), null);
    assert.deepEqual(await s.webhooks.list(A), [w2]);
  });

  test('enqueue → deliveries newest first; record an outcome; a foreign or absent webhook is refused', async () => {
    const s = store();
    await tenants(s, 'wd-a', 'wd-b');
    const A = scopeOf('wd-a');
    await s.webhooks.create(A, webhookInput('wd_1', 'wd-a'), Buffer.from('s'));
    await s.webhooks.create(scopeOf('wd-b'), webhookInput('wd_b', 'wd-b'), Buffer.from('s'));
    const d = (id: string, minute: number) => deliveryInput(id, 'wd-a', 'wd_1', { createdAt: at(minute) });
    await s.webhooks.enqueue(A, [d('dl_1', 1), d('dl_2', 2)]);
    await s.webhooks.enqueue(A, [d('dl_3', 2)]);
    await s.webhooks.enqueue(A, []);
    const list = await s.webhooks.deliveries(A, 'wd_1', 10);
    assert.deepEqual(
      list.map((x) => x.id),
      ['dl_3', 'dl_2', 'dl_1'],
      'newest first; the same instant by insertion',
    );
    assert.deepEqual(list[2], d('dl_1', 1), 'the delivery and its payload round-trip');
    assert.deepEqual(
      (await s.webhooks.deliveries(A, 'wd_1', 2)).map((x) => x.id),
      ['dl_3', 'dl_2'],
    );

    await s.webhooks.record('dl_1', {
      state: 'delivered',
      attempts: 1,
      nextAttemptAt: null,
      lastStatus: 204,
      lastError: null,
      deliveredAt: at(3),
    });
    await s.webhooks.record('dl_2', {
      state: 'pending',
      attempts: 1,
      nextAttemptAt: at(30),
      lastStatus: 503,
      lastError: 'HTTP 503',
      deliveredAt: null,
    });
    const byId = new Map((await s.webhooks.deliveries(A, 'wd_1', 10)).map((x) => [x.id, x]));
    assert.deepEqual(byId.get('dl_1'), {
      ...d('dl_1', 1),
      state: 'delivered',
      attempts: 1,
      nextAttemptAt: null,
      lastStatus: 204,
      deliveredAt: at(3),
    });
    assert.deepEqual(byId.get('dl_2'), {
      ...d('dl_2', 2),
      attempts: 1,
      nextAttemptAt: at(30),
      lastStatus: 503,
      lastError: 'HTTP 503',
    });

    // Another tenant's webhook, or none: the foreign key refuses, nothing is queued.
    await assert.rejects(s.webhooks.enqueue(A, [deliveryInput('dl_x', 'wd-a', 'wd_b')]));
    await assert.rejects(s.webhooks.enqueue(A, [deliveryInput('dl_y', 'wd-a', 'wd_none')]));
    assert.deepEqual(await s.webhooks.deliveries(scopeOf('wd-b'), 'wd_b', 10), []);
    assert.deepEqual(await s.webhooks.deliveries(scopeOf('wd-b'), 'wd_1', 10), [], "B cannot list A's");
  });

  test('claimDue: due pending ones only, oldest first, up to the limit, leased until leaseUntil', async () => {
    const s = store();
    await tenants(s, 'wc-a', 'wc-b');
    await s.webhooks.create(scopeOf('wc-a'), webhookInput('wc_a', 'wc-a'), Buffer.from('s'));
    await s.webhooks.create(scopeOf('wc-b'), webhookInput('wc_b', 'wc-b'), Buffer.from('s'));
    // Years before the other tests' deliveries (T0), so that none of theirs is due in this window of time.
    const base = Date.parse('2020-01-01T00:00:00.000Z');
    const m = (minutes: number) => new Date(base + minutes * 60_000).toISOString();
    await s.webhooks.enqueue(scopeOf('wc-a'), [
      deliveryInput('wc_1', 'wc-a', 'wc_a', { createdAt: m(1), nextAttemptAt: m(1) }),
      deliveryInput('wc_later', 'wc-a', 'wc_a', { createdAt: m(2), nextAttemptAt: m(50) }),
      deliveryInput('wc_3', 'wc-a', 'wc_a', { createdAt: m(3), nextAttemptAt: m(3) }),
    ]);
    await s.webhooks.enqueue(scopeOf('wc-b'), [
      deliveryInput('wc_2', 'wc-b', 'wc_b', { createdAt: m(2), nextAttemptAt: m(2) }),
      deliveryInput('wc_4', 'wc-b', 'wc_b', { createdAt: m(4), nextAttemptAt: m(4) }),
    ]);
    await s.webhooks.record('wc_4', {
      state: 'failed',
      attempts: 5,
      nextAttemptAt: null,
      lastStatus: 500,
      lastError: 'gave up',
      deliveredAt: null,
    });
    const now = m(10);
    const first = await s.webhooks.claimDue(now, m(11), 2);
    assert.deepEqual(
      first.map((x) => [x.id, x.tenantId, x.nextAttemptAt]),
      [
        ['wc_1', 'wc-a', m(11)],
        ['wc_2', 'wc-b', m(11)],
      ],
      'across tenants, oldest first, the due time pushed to the lease end',
    );
    assert.deepEqual(
      (await s.webhooks.claimDue(now, m(11), 10)).map((x) => x.id),
      ['wc_3'],
      'claimed ones are not due again before the lease ends; failed and future ones never',
    );
    assert.deepEqual(await s.webhooks.claimDue(now, m(11), 10), []);
    // The lease ended without an outcome (the worker died): due again.
    assert.deepEqual(
      (await s.webhooks.claimDue(m(11), m(12), 10)).map((x) => x.id),
      ['wc_1', 'wc_2', 'wc_3'],
    );
    // A delivered one is never claimed again.
    await s.webhooks.record('wc_1', {
      state: 'delivered',
      attempts: 1,
      nextAttemptAt: null,
      lastStatus: 200,
      lastError: null,
      deliveredAt: m(12),
    });
    assert.deepEqual(
      (await s.webhooks.claimDue(m(60), m(61), 10)).map((x) => x.id),
      ['wc_later', 'wc_2', 'wc_3'],
    );
  });

  test('claimDue is exclusive: two claimers at once never take the same delivery, and together take all', async () => {
    const s = store();
    // PostgreSQL: a second store, its own pool, as a second worker process would have. SQLite is embedded
    // (one process, one writer): both claimers share the store, and its transactions run one at a time.
    const other = kind === 'postgres' ? await openStore({ url: t().url, poolSize: 3 }) : s;
    try {
      await tenants(s, 'wx-a');
      const A = scopeOf('wx-a');
      await s.webhooks.create(A, webhookInput('wx_1', 'wx-a'), Buffer.from('s'));
      const base = Date.parse('2019-01-01T00:00:00.000Z'); // before every other test's deliveries
      const m = (minutes: number) => new Date(base + minutes * 60_000).toISOString();
      const N = 60;
      await s.webhooks.enqueue(
        A,
        Array.from({ length: N }, (_, i) =>
          deliveryInput(`wx_${String(i).padStart(3, '0')}`, 'wx-a', 'wx_1', {
            createdAt: m(0),
            nextAttemptAt: m(0),
          }),
        ),
      );
      const claimer = async (st: Store): Promise<WebhookDelivery[]> => {
        const mine: WebhookDelivery[] = [];
        for (;;) {
          const got = await st.webhooks.claimDue(m(1), m(30), 4);
          if (got.length === 0) return mine;
          mine.push(...got);
        }
      };
      const [a, b, c] = await Promise.all([claimer(s), claimer(other), claimer(other)]);
      const ids = [...(a ?? []), ...(b ?? []), ...(c ?? [])].map((x) => x.id);
      assert.equal(new Set(ids).size, ids.length, 'no delivery claimed twice');
      assert.equal(ids.length, N, 'every due delivery claimed');
      if (kind === 'postgres') assert.ok((a?.length ?? 0) > 0 && (b?.length ?? 0) + (c?.length ?? 0) > 0);
    } finally {
      if (other !== s) await other.close();
    }
  });

  test('deleting a webhook deletes its deliveries, pending or not; a late record changes nothing', async () => {
    const s = store();
    await tenants(s, 'wz-a');
    const A = scopeOf('wz-a');
    await s.webhooks.create(A, webhookInput('wz_1', 'wz-a'), Buffer.from('s'));
    await s.webhooks.create(A, webhookInput('wz_2', 'wz-a'), Buffer.from('s'));
    await s.webhooks.enqueue(A, [
      deliveryInput('wz_d1', 'wz-a', 'wz_1'),
      deliveryInput('wz_d2', 'wz-a', 'wz_1'),
      deliveryInput('wz_d3', 'wz-a', 'wz_2'),
    ]);
    await s.webhooks.record('wz_d1', {
      state: 'delivered',
      attempts: 1,
      nextAttemptAt: null,
      lastStatus: 200,
      lastError: null,
      deliveredAt: at(1),
    });
    assert.equal(await s.webhooks.delete(A, 'wz_1'), true);
    const rows = await t().query('select id from webhook_deliveries where tenant_id = ? order by id', [
      'wz-a',
    ]);
    assert.deepEqual(
      rows.map((r) => r.id),
      ['wz_d3'],
    );
    await s.webhooks.record('wz_d2', {
      state: 'failed',
      attempts: 3,
      nextAttemptAt: null,
      lastStatus: 500,
      lastError: 'x',
      deliveredAt: null,
    });
    assert.deepEqual(await s.webhooks.deliveries(A, 'wz_1', 10), []);
    assert.equal((await s.webhooks.deliveries(A, 'wz_2', 10)).length, 1, "the other webhook's stay");
  });
});

describe('store: row-level security on the MLOps tables [postgres]', () => {
  let ts: TestStore;
  let app: pg.Client;
  const TABLES = [
    'monitor_windows',
    'monitor_cursors',
    'monitor_feedback',
    'retrain_policies',
    'webhooks',
    'webhook_deliveries',
  ];

  before(async () => {
    ts = await createTestStore('postgres');
    await seedTenant(ts.store, 'ml-a');
    await seedTenant(ts.store, 'ml-b');
    app = new pg.Client({ connectionString: await testAppLoginUrl(ts.url) });
    await app.connect();
  });
  after(async () => {
    await app?.end();
    await ts?.cleanup();
  });

  test("with app.tenant_id = A: A's rows only; B's cannot be changed, deleted or planted", async () => {
    const plants = [
      "insert into monitor_cursors (tenant_id, model, updated_at) values ('ml-b', 'm', 't')",
      "insert into monitor_windows (tenant_id, model, version, granularity, start, rows, aggregate, updated_at) values ('ml-b', 'm', 1, 'hour', 's', 1, '{}', 't')",
      "insert into monitor_feedback (tenant_id, model, prediction_id, label, received_at, state) values ('ml-b', 'm', 'p', '1', 't', 'pending')",
      "insert into retrain_policies (tenant_id, model, policy, updated_at) values ('ml-b', 'm', '{}', 't')",
      "insert into webhooks (tenant_id, id, url, events, secret, created_at, created_by) values ('ml-b', 'w', 'u', '[]', '\\x00', 't', 'o')",
      "update webhook_deliveries set tenant_id = 'ml-b' where tenant_id = 'ml-a'",
    ];
    await assertRowLevelSecurity(app, (q) => ts.query(q), { a: 'ml-a', b: 'ml-b', tables: TABLES, plants });
    const [b] = await ts.query("select count(*) as n from webhook_deliveries where tenant_id = 'ml-b'");
    assert.equal(Number(b.n), 1, "B's delivery is intact");
  });

  test('the system paths see every tenant through the application role', async () => {
    const ids = (await ts.store.policies.listAll()).map((p) => p.tenantId);
    assert.deepEqual(ids, ['ml-a', 'ml-b']);
    const watched = await ts.store.monitor.watched(null, 10);
    assert.deepEqual(
      watched.map((w) => `${w.tenantId}/${w.model}@${w.liveVersion}`),
      ['ml-a/churn@2', 'ml-b/churn@2'],
    );
    const claimed = await ts.store.webhooks.claimDue(at(60), at(61), 10);
    assert.deepEqual(
      claimed.map((d) => d.id),
      ['dl_ml-a_1', 'dl_ml-b_1'],
    );
  });
});
