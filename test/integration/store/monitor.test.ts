// The monitoring state on both adapters: windows and cursor committed together (or not at all), the
// windows query's filters and order, the watched list (own live models, shared ones followed by a cursor)
// and its paging, feedback kept once per prediction and settled once.
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { SHARED_NAMESPACE } from '../../../src/core/scope.ts';
import type { MonitorWindow, Store } from '../../../src/store/ports.ts';
import { at, describeStores, modelVersionInput, newTenant, scopeOf, T0, windowInput } from './fixtures.ts';

async function tenants(s: Store, ...ids: string[]): Promise<void> {
  for (const id of ids) await s.tenants.create(newTenant(id), 'operator', T0);
}

const hour = (h: number): string => at(h * 60);

describeStores('store: monitoring', ({ store, t }) => {
  before(() => tenants(store(), SHARED_NAMESPACE));

  test('commit saves windows and moves the cursor; a second commit replaces a window by its key', async () => {
    const s = store();
    await tenants(s, 'mo-c');
    const scope = scopeOf('mo-c');
    assert.equal(await s.monitor.cursor(scope, 'churn'), null);
    const w1 = windowInput('mo-c', 'churn', { start: hour(0), rows: 5, aggregate: { n: 5, bins: [1, 4] } });
    const w2 = windowInput('mo-c', 'churn', { start: hour(1), rows: 7, report: { status: 'ok', rows: 7 } });
    await s.monitor.commit(scope, 'churn', [w1, w2], { model: 'churn', lastKey: 'k1', updatedAt: at(1) });
    assert.deepEqual(await s.monitor.cursor(scope, 'churn'), {
      model: 'churn',
      lastKey: 'k1',
      updatedAt: at(1),
    });
    assert.deepEqual(await s.monitor.window(scope, 'churn', 1, 'hour', hour(0)), w1);
    assert.deepEqual(
      await s.monitor.window(scope, 'churn', 1, 'hour', hour(1)),
      w2,
      'the report round-trips',
    );

    const w1b: MonitorWindow = {
      ...w1,
      rows: 9,
      aggregate: { n: 9, bins: [3, 6] },
      report: { status: 'drift' },
    };
    await s.monitor.commit(scope, 'churn', [w1b], { model: 'churn', lastKey: 'k2', updatedAt: at(2) });
    assert.deepEqual(await s.monitor.window(scope, 'churn', 1, 'hour', hour(0)), w1b);
    assert.equal((await s.monitor.windows(scope, 'churn')).length, 2, 'replaced, not added');
    assert.equal((await s.monitor.cursor(scope, 'churn'))?.lastKey, 'k2');

    // A null cursor saves windows only; the same key twice in one commit keeps the last.
    const w3 = windowInput('mo-c', 'churn', { start: hour(2), rows: 1 });
    await s.monitor.commit(scope, 'churn', [w3, { ...w3, rows: 2 }], null);
    assert.equal((await s.monitor.window(scope, 'churn', 1, 'hour', hour(2)))?.rows, 2);
    assert.equal((await s.monitor.cursor(scope, 'churn'))?.lastKey, 'k2');
    // Another model's cursor is its own.
    assert.equal(await s.monitor.cursor(scope, 'other'), null);
    await assert.rejects(s.monitor.commit(scope, 'other', [w3], null), /model churn/);
  });

  test('a failed commit leaves neither its windows nor its cursor', async () => {
    const s = store();
    await tenants(s, 'mo-f');
    const scope = scopeOf('mo-f');
    const before = windowInput('mo-f', 'churn', { start: hour(0), rows: 3 });
    await s.monitor.commit(scope, 'churn', [before], { model: 'churn', lastKey: 'k1', updatedAt: at(1) });

    const good = windowInput('mo-f', 'churn', { start: hour(1), rows: 4 });
    const replaced = { ...before, rows: 99 };
    // The store refuses this one (granularity check), after the cursor and the good windows were written.
    const bad = windowInput('mo-f', 'churn', { start: hour(2), granularity: 'week' as 'hour' });
    await assert.rejects(
      s.monitor.commit(scope, 'churn', [replaced, good, bad], {
        model: 'churn',
        lastKey: 'k2',
        updatedAt: at(2),
      }),
    );
    assert.deepEqual(await s.monitor.cursor(scope, 'churn'), {
      model: 'churn',
      lastKey: 'k1',
      updatedAt: at(1),
    });
    assert.deepEqual(await s.monitor.windows(scope, 'churn'), [before]);
    const [raw] = await t().query('select count(*) as n from monitor_windows where tenant_id = ?', ['mo-f']);
    assert.equal(Number(raw.n), 1);
  });

  test('windows: newest first, filtered by granularity, version, [from, to) and limit', async () => {
    const s = store();
    await tenants(s, 'mo-w');
    const scope = scopeOf('mo-w');
    const ws: MonitorWindow[] = [
      windowInput('mo-w', 'churn', { version: 1, start: hour(0) }),
      windowInput('mo-w', 'churn', { version: 1, start: hour(1) }),
      windowInput('mo-w', 'churn', { version: 2, start: hour(1) }),
      windowInput('mo-w', 'churn', { version: 2, start: hour(2) }),
      windowInput('mo-w', 'churn', { version: 2, granularity: 'day', start: T0 }),
    ];
    await s.monitor.commit(scope, 'churn', ws, null);
    await s.monitor.commit(scope, 'price', [windowInput('mo-w', 'price', { start: hour(5) })], null);
    const keys = (list: MonitorWindow[]) =>
      list.map((w) => `${w.granularity}:v${w.version}@${w.start.slice(11, 13)}`);

    assert.deepEqual(keys(await s.monitor.windows(scope, 'churn')), [
      'hour:v2@02',
      'hour:v2@01',
      'hour:v1@01',
      'day:v2@00',
      'hour:v1@00',
    ]);
    assert.deepEqual(keys(await s.monitor.windows(scope, 'churn', { granularity: 'hour' })), [
      'hour:v2@02',
      'hour:v2@01',
      'hour:v1@01',
      'hour:v1@00',
    ]);
    assert.deepEqual(keys(await s.monitor.windows(scope, 'churn', { granularity: 'hour', version: 1 })), [
      'hour:v1@01',
      'hour:v1@00',
    ]);
    assert.deepEqual(
      keys(await s.monitor.windows(scope, 'churn', { granularity: 'hour', from: hour(1), to: hour(2) })),
      ['hour:v2@01', 'hour:v1@01'],
      'from inclusive, to exclusive',
    );
    assert.deepEqual(keys(await s.monitor.windows(scope, 'churn', { granularity: 'hour', limit: 2 })), [
      'hour:v2@02',
      'hour:v2@01',
    ]);
    assert.deepEqual(keys(await s.monitor.windows(scope, 'price')), ['hour:v1@05']);
    assert.deepEqual(await s.monitor.windows(scope, 'none'), []);
  });

  test('watched: own live models and followed shared ones, in (tenant, model) order, paged', async () => {
    const s = store();
    const ts = t();
    // This suite's store is shared by its tests: count only the tenants made here.
    await tenants(s, 'wa-a', 'wa-b', 'wa-c');
    const shared = scopeOf(SHARED_NAMESPACE);
    await s.models.register(shared, modelVersionInput('sh-base', { mode: 'shared' }));
    await s.models.register(shared, modelVersionInput('sh-idle', { mode: 'shared' }));
    await s.models.register(scopeOf('wa-a'), modelVersionInput('zeta'));
    await s.models.register(scopeOf('wa-a'), modelVersionInput('alpha'));
    await s.models.register(scopeOf('wa-b'), modelVersionInput('beta'));
    await s.models.register(scopeOf('wa-b'), modelVersionInput('beta', { createdAt: at(1) }));
    await s.models.promote(scopeOf('wa-b'), 'beta', 2, 'tk', at(2));
    await s.models.register(scopeOf('wa-c'), modelVersionInput('dark'));
    // A model with no live version is not watched.
    await ts.query('update models set live_version = null where tenant_id = ? and name = ?', [
      'wa-c',
      'dark',
    ]);
    // wa-b and wa-c follow the shared model (a cursor each); nobody follows sh-idle. A cursor on wa-a's own
    // "alpha" changes nothing: it is listed once.
    await s.monitor.commit(scopeOf('wa-b'), 'sh-base', [], {
      model: 'sh-base',
      lastKey: null,
      updatedAt: at(3),
    });
    await s.monitor.commit(scopeOf('wa-c'), 'sh-base', [], {
      model: 'sh-base',
      lastKey: 'k',
      updatedAt: at(3),
    });
    await s.monitor.commit(scopeOf('wa-a'), 'alpha', [], { model: 'alpha', lastKey: 'k', updatedAt: at(3) });
    // A cursor on a name that is no shared model (or no live one) is not watched.
    await s.monitor.commit(scopeOf('wa-c'), 'ghost', [], { model: 'ghost', lastKey: 'k', updatedAt: at(3) });
    // A tenant's own live model of a shared model's name is watched once, with its own live version.
    await s.models.register(scopeOf('wa-a'), modelVersionInput('sh-base'));
    await s.models.register(scopeOf('wa-a'), modelVersionInput('sh-base', { createdAt: at(1) }));
    await s.models.promote(scopeOf('wa-a'), 'sh-base', 2, 'tk', at(2));
    await s.monitor.commit(scopeOf('wa-a'), 'sh-base', [], {
      model: 'sh-base',
      lastKey: 'k',
      updatedAt: at(3),
    });

    const all: { tenantId: string; model: string; liveVersion: number }[] = [];
    let after: { tenantId: string; model: string } | null = null;
    for (let pages = 0; pages < 20; pages++) {
      const page = await s.monitor.watched(after, 2);
      assert.ok(page.length <= 2);
      if (page.length === 0) break;
      all.push(...page);
      const last = page[page.length - 1] as { tenantId: string; model: string };
      after = { tenantId: last.tenantId, model: last.model };
    }
    const mine = all.filter((w) => w.tenantId.startsWith('wa-'));
    assert.deepEqual(mine, [
      { tenantId: 'wa-a', model: 'alpha', liveVersion: 1 },
      { tenantId: 'wa-a', model: 'sh-base', liveVersion: 2 },
      { tenantId: 'wa-a', model: 'zeta', liveVersion: 1 },
      { tenantId: 'wa-b', model: 'beta', liveVersion: 2 },
      { tenantId: 'wa-b', model: 'sh-base', liveVersion: 1 },
      { tenantId: 'wa-c', model: 'sh-base', liveVersion: 1 },
    ]);
    assert.ok(!all.some((w) => w.tenantId === SHARED_NAMESPACE), 'the shared namespace is never listed');
    const keys = all.map((w) => `${w.tenantId}\u0000${w.model}`);
    assert.deepEqual(keys, [...keys].sort(), 'pages are in (tenant, model) order');
    assert.equal(new Set(keys).size, keys.length, 'no row twice across pages');
    // Starting after a row resumes right after it.
    const resumed = await s.monitor.watched({ tenantId: 'wa-a', model: 'zeta' }, 100);
    assert.deepEqual(
      resumed.filter((w) => w.tenantId.startsWith('wa-')).map((w) => `${w.tenantId}/${w.model}`),
      ['wa-b/beta', 'wa-b/sh-base', 'wa-c/sh-base'],
    );
  });

  test('feedback: the first label per prediction is kept, repeats counted; pending oldest first', async () => {
    const s = store();
    await tenants(s, 'fb-a');
    const scope = scopeOf('fb-a');
    const r1 = await s.monitor.addFeedback(scope, [
      { model: 'churn', predictionId: 'p2', label: 'yes', receivedAt: at(2) },
      { model: 'churn', predictionId: 'p1', label: true, receivedAt: at(1) },
      { model: 'churn', predictionId: 'p3', label: 12.5, receivedAt: at(2) },
      { model: 'churn', predictionId: 'p1', label: false, receivedAt: at(3) },
      { model: 'price', predictionId: 'p1', label: 3, receivedAt: at(1) },
    ]);
    assert.deepEqual(r1, { accepted: 4, duplicates: 1 });
    const r2 = await s.monitor.addFeedback(scope, [
      { model: 'churn', predictionId: 'p2', label: 'no', receivedAt: at(4) },
      { model: 'churn', predictionId: 'p4', label: 'no', receivedAt: at(4) },
    ]);
    assert.deepEqual(r2, { accepted: 1, duplicates: 1 });
    assert.deepEqual(await s.monitor.addFeedback(scope, []), { accepted: 0, duplicates: 0 });

    assert.deepEqual(await s.monitor.pendingFeedback(scope, 'churn', 10), [
      { model: 'churn', predictionId: 'p1', label: true, receivedAt: at(1) },
      { model: 'churn', predictionId: 'p2', label: 'yes', receivedAt: at(2) },
      { model: 'churn', predictionId: 'p3', label: 12.5, receivedAt: at(2) },
      { model: 'churn', predictionId: 'p4', label: 'no', receivedAt: at(4) },
    ]);
    assert.deepEqual(
      (await s.monitor.pendingFeedback(scope, 'churn', 2)).map((f) => f.predictionId),
      ['p1', 'p2'],
    );
    assert.deepEqual(
      (await s.monitor.pendingFeedback(scope, 'price', 10)).map((f) => f.label),
      [3],
    );
  });

  test('settleFeedback: matched and unmatched leave the pending list, once, for that model only', async () => {
    const s = store();
    await tenants(s, 'fb-s');
    const scope = scopeOf('fb-s');
    await s.monitor.addFeedback(
      scope,
      ['p1', 'p2', 'p3', 'p4'].map((id, i) => ({
        model: 'churn',
        predictionId: id,
        label: 'y',
        receivedAt: at(i),
      })),
    );
    await s.monitor.addFeedback(scope, [{ model: 'price', predictionId: 'p1', label: 1, receivedAt: at(0) }]);
    await s.monitor.settleFeedback(scope, 'churn', ['p1', 'p3'], 'matched');
    await s.monitor.settleFeedback(scope, 'churn', ['p2', 'p1'], 'unmatched');
    await s.monitor.settleFeedback(scope, 'churn', [], 'matched');
    assert.deepEqual(
      (await s.monitor.pendingFeedback(scope, 'churn', 10)).map((f) => f.predictionId),
      ['p4'],
    );
    assert.equal(
      (await s.monitor.pendingFeedback(scope, 'price', 10)).length,
      1,
      'another model is untouched',
    );
    const rows = await t().query(
      'select prediction_id as id, state from monitor_feedback where tenant_id = ? and model = ? order by prediction_id',
      ['fb-s', 'churn'],
    );
    assert.deepEqual(
      rows.map((r) => `${r.id}:${r.state}`),
      ['p1:matched', 'p2:unmatched', 'p3:matched', 'p4:pending'],
      'a settled item is not settled again',
    );
    // A repeat of settled feedback is still a duplicate: it does not come back as pending.
    assert.deepEqual(
      await s.monitor.addFeedback(scope, [
        { model: 'churn', predictionId: 'p1', label: 'n', receivedAt: at(9) },
      ]),
      { accepted: 0, duplicates: 1 },
    );
  });

  test("isolation: A's scope sees none of B's windows, cursors or feedback, and cannot settle B's", async () => {
    const s = store();
    await tenants(s, 'mi-a', 'mi-b');
    const A = scopeOf('mi-a');
    const B = scopeOf('mi-b');
    await s.monitor.commit(B, 'churn', [windowInput('mi-b', 'churn')], {
      model: 'churn',
      lastKey: 'k',
      updatedAt: T0,
    });
    await s.monitor.addFeedback(B, [{ model: 'churn', predictionId: 'p1', label: 'y', receivedAt: T0 }]);
    assert.equal(await s.monitor.cursor(A, 'churn'), null);
    assert.equal(await s.monitor.window(A, 'churn', 1, 'hour', T0), null);
    assert.deepEqual(await s.monitor.windows(A, 'churn'), []);
    assert.deepEqual(await s.monitor.pendingFeedback(A, 'churn', 10), []);
    await s.monitor.settleFeedback(A, 'churn', ['p1'], 'matched');
    assert.equal((await s.monitor.pendingFeedback(B, 'churn', 10)).length, 1);
    // A's own feedback for the same prediction id is A's, not a duplicate of B's.
    assert.deepEqual(
      await s.monitor.addFeedback(A, [{ model: 'churn', predictionId: 'p1', label: 'n', receivedAt: T0 }]),
      { accepted: 1, duplicates: 0 },
    );
    await s.monitor.commit(A, 'churn', [windowInput('mi-a', 'churn', { rows: 1 })], null);
    assert.equal((await s.monitor.window(B, 'churn', 1, 'hour', T0))?.rows, 10, "B's window is intact");
    assert.equal((await s.monitor.window(A, 'churn', 1, 'hour', T0))?.tenantId, 'mi-a');
  });
});

describeStores('store: monitoring cursor compare-and-set', ({ store }) => {
  test('two processes folding the same batch: the second commit is a conflict and writes nothing', async () => {
    const s = store();
    await s.tenants.create(newTenant('mo-cas'), 'operator', T0);
    const scope = scopeOf('mo-cas');
    const cursor = (lastKey: string) => ({ model: 'churn', lastKey, updatedAt: at(1) });
    const w = (rows: number) => windowInput('mo-cas', 'churn', { start: at(0), rows });
    // Both read "no cursor yet", both folded batch b1.
    await s.monitor.commit(scope, 'churn', [w(10)], cursor('b1'), null);
    await assert.rejects(
      s.monitor.commit(scope, 'churn', [w(99)], cursor('b1'), null),
      (e: any) => e.code === 'conflict',
    );
    assert.equal((await s.monitor.windows(scope, 'churn'))[0].rows, 10);
    // From b1 on: one of two racers wins again.
    const racers = await Promise.allSettled([
      s.monitor.commit(scope, 'churn', [w(20)], cursor('b2'), 'b1'),
      s.monitor.commit(scope, 'churn', [w(30)], cursor('b2'), 'b1'),
    ]);
    assert.deepEqual(racers.map((r) => r.status).sort(), ['fulfilled', 'rejected']);
    assert.equal((await s.monitor.cursor(scope, 'churn'))?.lastKey, 'b2');
    assert.ok([20, 30].includes((await s.monitor.windows(scope, 'churn'))[0].rows));
    // Without an expectation the commit is unconditional, as before.
    await s.monitor.commit(scope, 'churn', [], cursor('b3'));
    assert.equal((await s.monitor.cursor(scope, 'churn'))?.lastKey, 'b3');
  });
});
