// Metering's store on both adapters: usage events (a replay counts once — the same batch twice, duplicate
// ids in a batch, concurrent replays; events of unknown tenants dropped; deletion of a tenant takes its
// usage), sums per hour, day and month over [from, to) — whole hours from the hourly rollup, partial ones
// from the events — per tenant and across tenants; budgets and their
// once-a-month alerts (exactly one winner under concurrency); the operator's tier quota edits. Then, on
// PostgreSQL, row-level security on the new tables for bare queries as the application role.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import type { Budget, UsageEvent, UsageKind, UsageOrigin } from '../../../src/core/metering.ts';
import { SHARED_NAMESPACE } from '../../../src/core/scope.ts';
import type { Store, UsageQuery } from '../../../src/store/ports.ts';
import { createTestStore, type TestStore, testAppLoginUrl } from '../../helpers/stores.ts';
import { assertRowLevelSecurity, describeStores, newTenant, scopeOf, seedTenant, T0 } from './fixtures.ts';

async function tenants(s: Store, ...ids: string[]): Promise<void> {
  for (const id of ids) await s.tenants.create(newTenant(id), 'operator', T0);
}

function ev(
  id: string,
  tenantId: string,
  at: string,
  quantity = 1,
  kind: UsageKind = 'predicted_rows',
  origin: UsageOrigin = 'own',
): UsageEvent {
  return { id, tenantId, kind, quantity, at, subject: 'churn', origin };
}

const JAN: UsageQuery = {
  from: '2026-01-01T00:00:00.000Z',
  to: '2026-02-01T00:00:00.000Z',
  granularity: 'day',
};

const budget = (over: Partial<Budget> = {}): Budget => ({
  monthly: 25.5,
  alertAt: [0.5, 0.8, 1],
  hardLimit: true,
  blockPredictions: false,
  overrideMonth: null,
  ...over,
});

describeStores('store: usage events', ({ store, t }) => {
  test('record returns the new events; the same batch again, and duplicate ids within one, count once', async () => {
    const s = store();
    await tenants(s, 'ur-a');
    const batch = [
      ev('ur-1', 'ur-a', '2026-01-01T10:00:00.000Z', 2),
      ev('ur-2', 'ur-a', '2026-01-01T10:30:00.000Z', 3),
      ev('ur-1', 'ur-a', '2026-01-01T10:00:00.000Z', 2),
    ];
    assert.equal(await s.usage.record(batch), 2);
    assert.equal(await s.usage.record(batch), 0, 'a replayed batch adds nothing');
    assert.equal(
      await s.usage.record([
        ev('ur-2', 'ur-a', '2026-01-01T10:30:00.000Z', 3),
        ev('ur-3', 'ur-a', '2026-01-01T11:00:00.000Z'),
      ]),
      1,
    );
    assert.equal(await s.usage.record([]), 0);
    const sums = await s.usage.sums(scopeOf('ur-a'), JAN);
    assert.deepEqual(sums, [
      {
        tenantId: 'ur-a',
        period: '2026-01-01T00:00:00.000Z',
        kind: 'predicted_rows',
        origin: 'own',
        quantity: 6,
      },
    ]);
  });

  test('onStored reports exactly the events newly stored: not replays, not unknown tenants', async () => {
    const s = store();
    await tenants(s, 'uo-a');
    const seen: string[] = [];
    const onStored = (e: { tenantId: string; kind: string; quantity: number }) =>
      seen.push(`${e.tenantId}/${e.kind}/${e.quantity}`);
    const batch = [
      ev('uo-1', 'uo-a', '2026-01-01T10:00:00.000Z', 2),
      ev('uo-2', 'uo-nobody', '2026-01-01T10:00:00.000Z', 7),
    ];
    assert.equal(await s.usage.record(batch, { onStored }), 1);
    assert.deepEqual(seen, ['uo-a/predicted_rows/2']);
    assert.equal(await s.usage.record(batch, { onStored }), 0);
    assert.deepEqual(seen, ['uo-a/predicted_rows/2'], 'a replay reports nothing');
  });

  test("events of a tenant that does not exist are dropped, the batch's others stored", async () => {
    const s = store();
    await tenants(s, 'ud-a');
    const n = await s.usage.record([
      ev('ud-1', 'no-such-tenant', '2026-01-02T00:00:00.000Z'),
      ev('ud-2', 'ud-a', '2026-01-02T00:00:00.000Z', 4),
    ]);
    assert.equal(n, 1);
    const [r] = await t().query("select count(*) as n from usage_events where tenant_id = 'no-such-tenant'");
    assert.equal(Number(r.n), 0);
    assert.equal((await s.usage.sums(scopeOf('ud-a'), JAN))[0]?.quantity, 4);
  });

  test('concurrent replays of one batch, in either order, store and count each event once', async () => {
    const s = store();
    await tenants(s, 'uc-a', 'uc-b');
    // More than one insert statement per batch, so that replays in opposite orders could cross. Even
    // events are uc-b's in even hours, odd ones uc-a's in odd hours: 24 rollup rows.
    const batch = Array.from({ length: 2400 }, (_, i) =>
      ev(`uc-${i}`, i % 2 ? 'uc-a' : 'uc-b', `2026-01-03T${String(i % 24).padStart(2, '0')}:00:00.000Z`),
    );
    const reversed = [...batch].reverse();
    const counts = await Promise.all([
      ...Array.from({ length: 3 }, () => s.usage.record(batch)),
      ...Array.from({ length: 3 }, () => s.usage.record(reversed)),
      s.usage.record(batch.slice(0, 1200)),
      s.usage.record(reversed.slice(0, 1200)),
    ]);
    assert.equal(
      counts.reduce((a, b) => a + b, 0),
      2400,
      `the counts returned add up to the events stored once (${counts.join(',')})`,
    );
    const [r] = await t().query("select count(*) as n from usage_events where tenant_id like 'uc-%'");
    assert.equal(Number(r.n), 2400);
    const [h] = await t().query(
      "select count(*) as n, sum(quantity) as q from usage_hourly where tenant_id like 'uc-%'",
    );
    assert.deepEqual([Number(h.n), Number(h.q)], [24, 2400], 'the rollup added each stored event once');
    const all = await s.usage.sumsAll({ ...JAN, granularity: 'month' });
    assert.deepEqual(
      all.filter((x) => x.tenantId.startsWith('uc-')).map((x) => [x.tenantId, x.quantity]),
      [
        ['uc-a', 1200],
        ['uc-b', 1200],
      ],
    );
  });

  test('sums per hour, day and month: [from, to) on the instant, periods across day, month and year ends', async () => {
    const s = store();
    await tenants(s, 'us-a');
    await s.usage.record([
      ev('us-0', 'us-a', '2025-12-31T23:59:59.999Z', 1), // before the range
      ev('us-1', 'us-a', '2026-01-01T00:00:00.000Z', 2), // at from: in
      ev('us-2', 'us-a', '2026-01-01T00:59:59.999Z', 3),
      ev('us-3', 'us-a', '2026-01-01T01:00:00.000Z', 4),
      ev('us-4', 'us-a', '2026-01-31T23:30:00.000Z', 5),
      ev('us-5', 'us-a', '2026-02-01T00:00:00.000Z', 6), // at the month's to: out of January
      ev('us-6', 'us-a', '2026-02-01T00:00:00.000Z', 0.5, 'training_cpu_seconds', 'shared'),
      ev('us-7', 'us-a', '2026-01-01T00:10:00.000Z', 0.25, 'training_cpu_seconds', 'shared'),
      ev('us-8', 'us-a', '2026-01-01T00:20:00.000Z', 0.125, 'training_cpu_seconds', 'own'),
      ev('us-9', 'us-a', '2026-01-15T12:00:00.000+02:00', 7), // 10:00 UTC
    ]);
    const A = scopeOf('us-a');
    const row = (
      period: string,
      quantity: number,
      kind: UsageKind = 'predicted_rows',
      origin: UsageOrigin = 'own',
    ) => ({
      tenantId: 'us-a',
      period,
      kind,
      origin,
      quantity,
    });
    assert.deepEqual(await s.usage.sums(A, { ...JAN, granularity: 'hour' }), [
      row('2026-01-01T00:00:00.000Z', 5),
      row('2026-01-01T00:00:00.000Z', 0.125, 'training_cpu_seconds', 'own'),
      row('2026-01-01T00:00:00.000Z', 0.25, 'training_cpu_seconds', 'shared'),
      row('2026-01-01T01:00:00.000Z', 4),
      row('2026-01-15T10:00:00.000Z', 7),
      row('2026-01-31T23:00:00.000Z', 5),
    ]);
    assert.deepEqual(await s.usage.sums(A, JAN), [
      row('2026-01-01T00:00:00.000Z', 9),
      row('2026-01-01T00:00:00.000Z', 0.125, 'training_cpu_seconds', 'own'),
      row('2026-01-01T00:00:00.000Z', 0.25, 'training_cpu_seconds', 'shared'),
      row('2026-01-15T00:00:00.000Z', 7),
      row('2026-01-31T00:00:00.000Z', 5),
    ]);
    assert.deepEqual(
      await s.usage.sums(A, {
        from: '2025-12-01T00:00:00.000Z',
        to: '2026-03-01T00:00:00.000Z',
        granularity: 'month',
      }),
      [
        row('2025-12-01T00:00:00.000Z', 1),
        row('2026-01-01T00:00:00.000Z', 21),
        row('2026-01-01T00:00:00.000Z', 0.125, 'training_cpu_seconds', 'own'),
        row('2026-01-01T00:00:00.000Z', 0.25, 'training_cpu_seconds', 'shared'),
        row('2026-02-01T00:00:00.000Z', 6),
        row('2026-02-01T00:00:00.000Z', 0.5, 'training_cpu_seconds', 'shared'),
      ],
    );
    // A range inside an hour: the period is still the hour's start; only events in [from, to) count.
    assert.deepEqual(
      await s.usage.sums(A, {
        from: '2026-01-01T00:00:00.001Z',
        to: '2026-01-01T00:59:59.999Z',
        granularity: 'hour',
      }),
      [
        row('2026-01-01T00:00:00.000Z', 0.125, 'training_cpu_seconds', 'own'),
        row('2026-01-01T00:00:00.000Z', 0.25, 'training_cpu_seconds', 'shared'),
      ],
    );
    // Bounds with an offset are the instants they name.
    assert.deepEqual(
      await s.usage.sums(A, {
        from: '2026-01-15T11:00:00+02:00',
        to: '2026-01-15T13:00:00+02:00',
        granularity: 'day',
      }),
      [row('2026-01-15T00:00:00.000Z', 7)],
    );
    assert.deepEqual(
      await s.usage.sums(A, {
        from: '2027-01-01T00:00:00.000Z',
        to: '2027-02-01T00:00:00.000Z',
        granularity: 'day',
      }),
      [],
    );
  });

  test('a range with partial first and last hours: whole hours from the rollup, the edges from the events', async () => {
    const s = store();
    await tenants(s, 'ue-a', 'ue-b');
    await s.usage.record([
      ev('ue-0', 'ue-a', '2026-01-08T00:10:00.000Z', 1), // before from
      ev('ue-1', 'ue-a', '2026-01-08T00:30:00.000Z', 2), // at from
      ev('ue-2', 'ue-a', '2026-01-08T00:59:00.000Z', 4),
      ev('ue-3', 'ue-a', '2026-01-08T01:30:00.000Z', 8),
      ev('ue-4', 'ue-a', '2026-01-08T02:59:59.999Z', 16),
      ev('ue-5', 'ue-a', '2026-01-08T03:00:00.000Z', 32),
      ev('ue-6', 'ue-a', '2026-01-08T03:14:59.999Z', 64),
      ev('ue-7', 'ue-a', '2026-01-08T03:15:00.000Z', 128), // at to
      ev('ue-8', 'ue-b', '2026-01-08T00:45:00.000Z', 256),
    ]);
    const q = (granularity: UsageQuery['granularity']): UsageQuery => ({
      from: '2026-01-08T00:30:00.000Z',
      to: '2026-01-08T03:15:00.000Z',
      granularity,
    });
    assert.deepEqual(
      (await s.usage.sums(scopeOf('ue-a'), q('hour'))).map((x) => [x.period.slice(11, 13), x.quantity]),
      [
        ['00', 6],
        ['01', 8],
        ['02', 16],
        ['03', 96],
      ],
    );
    assert.deepEqual(
      (await s.usage.sums(scopeOf('ue-a'), q('day'))).map((x) => x.quantity),
      [126],
    );
    assert.deepEqual(
      (await s.usage.sumsAll(q('month')))
        .filter((x) => x.tenantId.startsWith('ue-'))
        .map((x) => [x.tenantId, x.quantity]),
      [
        ['ue-a', 126],
        ['ue-b', 256],
      ],
    );
    // Two partial hours with no whole hour between them.
    assert.deepEqual(
      (
        await s.usage.sums(scopeOf('ue-a'), {
          from: '2026-01-08T02:30:00.000Z',
          to: '2026-01-08T03:10:00.000Z',
          granularity: 'day',
        })
      ).map((x) => x.quantity),
      [48],
    );
    // A replay changes nothing, whole hours included.
    await s.usage.record([ev('ue-3', 'ue-a', '2026-01-08T01:30:00.000Z', 8)]);
    assert.deepEqual(
      (await s.usage.sums(scopeOf('ue-a'), q('day'))).map((x) => x.quantity),
      [126],
    );
  });

  test("a tenant's sums hold only its own usage; sumsAll holds every tenant's, the shared namespace included", async () => {
    const s = store();
    await tenants(s, 'ui-a', 'ui-b', SHARED_NAMESPACE);
    await s.usage.record([
      ev('ui-1', 'ui-a', '2026-01-05T00:00:00.000Z', 1),
      ev('ui-2', 'ui-b', '2026-01-05T00:00:00.000Z', 10),
      ev('ui-3', SHARED_NAMESPACE, '2026-01-05T00:00:00.000Z', 100, 'training_cpu_seconds'),
    ]);
    const q: UsageQuery = {
      from: '2026-01-05T00:00:00.000Z',
      to: '2026-01-06T00:00:00.000Z',
      granularity: 'day',
    };
    assert.deepEqual(
      (await s.usage.sums(scopeOf('ui-a'), q)).map((x) => [x.tenantId, x.quantity]),
      [['ui-a', 1]],
    );
    assert.deepEqual(
      (await s.usage.sums(scopeOf('ui-b'), q)).map((x) => [x.tenantId, x.quantity]),
      [['ui-b', 10]],
    );
    assert.deepEqual(
      (await s.usage.sumsAll(q)).map((x) => [x.tenantId, x.kind, x.quantity]),
      [
        [SHARED_NAMESPACE, 'training_cpu_seconds', 100],
        ['ui-a', 'predicted_rows', 1],
        ['ui-b', 'predicted_rows', 10],
      ],
    );
  });

  test("deleting a tenant deletes its usage; later events of it are dropped; others' stay", async () => {
    const s = store();
    await tenants(s, 'ux-gone', 'ux-kept');
    await s.usage.record([
      ev('ux-1', 'ux-gone', '2026-01-07T00:00:00.000Z', 1),
      ev('ux-2', 'ux-kept', '2026-01-07T00:00:00.000Z', 2),
    ]);
    assert.equal(await s.tenants.delete('ux-gone'), true);
    const [r] = await t().query("select count(*) as n from usage_events where tenant_id = 'ux-gone'");
    assert.equal(Number(r.n), 0);
    assert.equal(await s.usage.record([ev('ux-3', 'ux-gone', '2026-01-07T01:00:00.000Z')]), 0);
    const all = await s.usage.sumsAll(JAN);
    assert.deepEqual(
      all.filter((x) => x.tenantId.startsWith('ux-')).map((x) => [x.tenantId, x.quantity]),
      [['ux-kept', 2]],
    );
  });

  test('20,000 events: recorded in one call, summed per hour well under a second', async () => {
    const s = store();
    await tenants(s, 'up-a', 'up-b');
    const kinds: UsageKind[] = [
      'predicted_rows',
      'predict_requests',
      'inference_cpu_seconds',
      'training_cpu_seconds',
    ];
    const base = Date.parse('2026-01-10T00:00:00.000Z');
    const events = Array.from({ length: 20_000 }, (_, i) =>
      ev(
        `up-${i}`,
        i % 3 ? 'up-a' : 'up-b',
        new Date(base + i * 60_000).toISOString(), // one a minute: ~14 days
        1,
        kinds[i % kinds.length],
      ),
    );
    assert.equal(await s.usage.record(events), 20_000);
    const q: UsageQuery = {
      from: '2026-01-10T00:00:00.000Z',
      to: '2026-01-31T00:00:00.000Z',
      granularity: 'hour',
    };
    const started = performance.now();
    const sums = await s.usage.sums(scopeOf('up-a'), q);
    const all = await s.usage.sumsAll({ ...q, granularity: 'day' });
    const ms = performance.now() - started;
    assert.ok(ms < 1000, `both sums took ${ms.toFixed(0)} ms`);
    assert.equal(
      sums.reduce((a, x) => a + x.quantity, 0),
      events.filter((e) => e.tenantId === 'up-a').length,
    );
    assert.equal(
      all.filter((x) => x.tenantId.startsWith('up-')).reduce((a, x) => a + x.quantity, 0),
      20_000,
    );
    assert.equal(new Set(sums.map((x) => x.period)).size, Math.ceil(20_000 / 60), 'one period per hour');
    const keys = new Set(events.map((e) => `${e.tenantId}/${e.at.slice(0, 13)}/${e.kind}`));
    const [h] = await t().query("select count(*) as n from usage_hourly where tenant_id like 'up-%'");
    assert.equal(Number(h.n), keys.size, 'the rollup holds one row per tenant, hour, kind and origin');
  });
});

describeStores('store: budgets', ({ store }) => {
  test('put creates and replaces; get reads it back; delete says whether there was one', async () => {
    const s = store();
    await tenants(s, 'bu-a');
    const A = scopeOf('bu-a');
    assert.equal(await s.budgets.get(A), null);
    const b = budget();
    assert.deepEqual(await s.budgets.put(A, b, T0), b);
    assert.deepEqual(await s.budgets.get(A), b);
    const b2 = budget({
      monthly: 0,
      alertAt: [0.25, 2.5],
      hardLimit: false,
      blockPredictions: true,
      overrideMonth: '2026-01',
    });
    assert.deepEqual(await s.budgets.put(A, b2, T0), b2);
    assert.deepEqual(await s.budgets.get(A), b2);
    assert.equal(await s.budgets.delete(A), true);
    assert.equal(await s.budgets.get(A), null);
    assert.equal(await s.budgets.delete(A), false);
  });

  test("a scope sees and deletes only its own budget; listAll holds every tenant's", async () => {
    const s = store();
    await tenants(s, 'bl-a', 'bl-b');
    await s.budgets.put(scopeOf('bl-a'), budget({ monthly: 1 }), T0);
    assert.equal(await s.budgets.get(scopeOf('bl-b')), null);
    assert.equal(await s.budgets.delete(scopeOf('bl-b')), false);
    await s.budgets.put(scopeOf('bl-b'), budget({ monthly: 2 }), T0);
    assert.equal((await s.budgets.get(scopeOf('bl-a')))?.monthly, 1);
    assert.deepEqual(
      (await s.budgets.listAll()).filter((x) => x.tenantId.startsWith('bl-')),
      [
        { tenantId: 'bl-a', budget: budget({ monthly: 1 }) },
        { tenantId: 'bl-b', budget: budget({ monthly: 2 }) },
      ],
    );
  });

  test('markAlerted: once per tenant, month and threshold; alerted lists them ascending', async () => {
    const s = store();
    await tenants(s, 'ba-a', 'ba-b');
    const A = scopeOf('ba-a');
    assert.deepEqual(await s.budgets.alerted(A, '2026-01'), []);
    assert.equal(await s.budgets.markAlerted(A, '2026-01', 0.8, T0), true);
    assert.equal(await s.budgets.markAlerted(A, '2026-01', 0.5, T0), true);
    assert.equal(await s.budgets.markAlerted(A, '2026-01', 0.8, T0), false);
    assert.deepEqual(await s.budgets.alerted(A, '2026-01'), [0.5, 0.8]);
    assert.deepEqual(await s.budgets.alerted(A, '2026-02'), [], 'a new month starts over');
    assert.equal(await s.budgets.markAlerted(A, '2026-02', 0.8, T0), true);
    assert.deepEqual(await s.budgets.alerted(scopeOf('ba-b'), '2026-01'), [], "another tenant's alerts");
    assert.equal(await s.budgets.markAlerted(scopeOf('ba-b'), '2026-01', 0.8, T0), true);
  });

  test('markAlerted under concurrency: exactly one caller wins', async () => {
    const s = store();
    await tenants(s, 'bc-a');
    const A = scopeOf('bc-a');
    const wins = await Promise.all(
      Array.from({ length: 12 }, () => s.budgets.markAlerted(A, '2026-01', 1, T0)),
    );
    assert.equal(wins.filter(Boolean).length, 1, wins.join(','));
    assert.deepEqual(await s.budgets.alerted(A, '2026-01'), [1]);
  });

  test("deleting a budget keeps the month's alerts (re-creating it does not alert again)", async () => {
    const s = store();
    await tenants(s, 'bk-a');
    const A = scopeOf('bk-a');
    await s.budgets.put(A, budget(), T0);
    await s.budgets.markAlerted(A, '2026-01', 0.5, T0);
    await s.budgets.delete(A);
    await s.budgets.put(A, budget(), T0);
    assert.deepEqual(await s.budgets.alerted(A, '2026-01'), [0.5]);
    assert.equal(await s.budgets.markAlerted(A, '2026-01', 0.5, T0), false);
  });
});

describeStores('store: tier quota edits', ({ store }) => {
  test('set replaces a tier’s edits whole; {} restores the defaults; all lists the edited tiers', async () => {
    const s = store();
    assert.deepEqual(await s.tierQuotas.all(), {});
    await s.tierQuotas.set('free', { datasets: 3, cpuSecondsPerMonth: 60 }, T0);
    await s.tierQuotas.set('premium', { predictionsPerSecond: 5000 }, T0);
    assert.deepEqual(await s.tierQuotas.all(), {
      free: { datasets: 3, cpuSecondsPerMonth: 60 },
      premium: { predictionsPerSecond: 5000 },
    });
    await s.tierQuotas.set('free', { rowsPerDataset: 10 }, T0);
    assert.deepEqual((await s.tierQuotas.all()).free, { rowsPerDataset: 10 }, 'replaced, not merged');
    await s.tierQuotas.set('free', {}, T0);
    assert.deepEqual(await s.tierQuotas.all(), { premium: { predictionsPerSecond: 5000 } });
    await s.tierQuotas.set('standard', {}, T0);
    assert.deepEqual(await s.tierQuotas.all(), { premium: { predictionsPerSecond: 5000 } });
  });
});

describe('store: row-level security on the metering tables [postgres]', () => {
  let ts: TestStore;
  let app: pg.Client;
  const TABLES = ['usage_events', 'usage_hourly', 'budgets', 'budget_alerts'];

  before(async () => {
    ts = await createTestStore('postgres');
    await seedTenant(ts.store, 'mr-a');
    await seedTenant(ts.store, 'mr-b');
    await ts.store.tierQuotas.set('free', { datasets: 2 }, T0);
    app = new pg.Client({ connectionString: await testAppLoginUrl(ts.url) });
    await app.connect();
  });
  after(async () => {
    await app?.end();
    await ts?.cleanup();
  });

  test("with app.tenant_id = A: A's usage, budget and alerts only; B's cannot be changed or planted", async () => {
    const plants = [
      "insert into usage_events (id, tenant_id, kind, quantity, at, hour, subject, origin) values ('planted', 'mr-b', 'predicted_rows', 1, 't', 'h', null, 'own')",
      "insert into budget_alerts (tenant_id, month, threshold, at) values ('mr-b', '2026-02', 0.5, 't')",
      "insert into usage_hourly (tenant_id, hour, kind, origin, quantity) values ('mr-b', 'h', 'predicted_rows', 'own', 1)",
      "update budgets set tenant_id = 'mr-b' where tenant_id = 'mr-a'",
    ];
    await assertRowLevelSecurity(app, (q) => ts.query(q), {
      a: 'mr-a',
      b: 'mr-b',
      tables: TABLES,
      plants,
      refusal: /row-level security|duplicate key/,
    });
    // An aggregate over every row still sees A's only.
    await app.query('begin');
    try {
      await app.query("select set_config('app.tenant_id', 'mr-a', true)");
      const { rows: sums } = await app.query(
        'select tenant_id, sum(quantity) as q from usage_events group by tenant_id',
      );
      assert.deepEqual(
        sums.map((r) => r.tenant_id),
        ['mr-a'],
        "an aggregate over every row still sees A's only",
      );
    } finally {
      await app.query('rollback').catch(() => {});
    }
    const [b] = await ts.query("select count(*) as n from usage_events where tenant_id = 'mr-b'");
    assert.equal(Number(b.n), 1, "B's usage is intact");
  });

  test('tier_quotas is operator data: the application role reads and writes it, with no tenant policy', async () => {
    const { rows } = await app.query('select tier, quotas from tier_quotas');
    assert.deepEqual(rows, [{ tier: 'free', quotas: '{"datasets":2}' }]);
    const [r] = await ts.query("select relrowsecurity from pg_class where relname = 'tier_quotas'");
    assert.equal(r.relrowsecurity, false);
  });

  test('the store reads through the application role: scoped sums are the tenant’s, the system sums every tenant’s', async () => {
    const q: UsageQuery = {
      from: '2026-01-01T00:00:00.000Z',
      to: '2026-02-01T00:00:00.000Z',
      granularity: 'month',
    };
    assert.deepEqual(
      (await ts.store.usage.sums(scopeOf('mr-a'), q)).map((x) => x.tenantId),
      ['mr-a'],
    );
    assert.deepEqual(
      (await ts.store.usage.sumsAll(q)).map((x) => x.tenantId),
      ['mr-a', 'mr-b'],
    );
    assert.deepEqual(
      (await ts.store.budgets.listAll()).map((x) => x.tenantId),
      ['mr-a', 'mr-b'],
    );
  });
});
