// The monitoring loop on generated data over a real store and the real prediction log, hour by hour with
// a ManualClock: no drift → no alert over 20 windows; a shift in one feature caught in its first full
// window; a label shift caught through feedback; windows and cursor never fold a batch twice; tenants
// never see each other's alerts.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createRng } from '../../../src/ml/rng.ts';
import type { StoredReport } from '../../../src/services/monitoring/service.ts';
import { STORE_KINDS } from '../../helpers/stores.ts';
import { createWorld, HOUR, T0, trainingCsv, type World } from './fixtures.ts';

const h = (i: number): number => Date.parse(T0) + i * HOUR;

for (const kind of STORE_KINDS) {
  describe(`monitoring cycle (${kind})`, () => {
    let w: World;
    let a: { id: string; admin: string; predict: string };
    let b: { id: string; admin: string; predict: string };
    let hookA: string;
    let hookB: string;

    before(async () => {
      w = await createWorld(kind);
      a = await w.tp.tenant('mon-a');
      b = await w.tp.tenant('mon-b');
      for (const t of [a, b])
        assert.equal((await w.tp.upload(t.admin, 'sales', trainingCsv(300, 1))).status, 201);
      const webhooks = w.tp.platform.services.webhooks;
      const events = ['drift', 'performance_drop', 'job_failed', 'promotion', 'challenger_rejected'];
      hookA = (await webhooks.create(w.scope('mon-a'), { url: 'https://hooks.example.com/a', events }))
        .webhook.id;
      hookB = (await webhooks.create(w.scope('mon-b'), { url: 'https://hooks.example.com/b', events }))
        .webhook.id;
    });
    after(() => w.cleanup());

    test('no drift: 20 hourly windows of reference-like traffic raise no alert; a shift in x1 is caught in its first full window', async () => {
      const v = await w.model('mon-a', 'churn');
      const quiet = await w.model('mon-b', 'churn');
      const rng = createRng(101);
      for (let i = 0; i < 20; i++) {
        await w.predict('mon-a', 'churn', v.version, h(i), 1000, rng);
        await w.predict('mon-b', 'churn', quiet.version, h(i), 1000, rng);
        const stats = await w.cycleAfter(h(i));
        assert.equal(stats.errors, 0, String(w.errors[0]));
        assert.equal(stats.batches, 2);
        assert.equal(stats.records, 2000);
      }
      assert.equal(w.alerts.length, 0, JSON.stringify(w.alerts));
      const windows = await w.tp.platform.store.monitor.windows(w.scope('mon-a'), 'churn', { limit: 100 });
      assert.equal(windows.length, 20);
      for (const win of windows) {
        const r = win.report as StoredReport;
        assert.equal(win.rows, 1000);
        assert.equal(
          r.status,
          'ok',
          `${win.start}: ${JSON.stringify(r.features.map((f) => [f.name, f.statistic]))}`,
        );
        assert.equal(r.datasetDrift, false);
      }

      // Windows of 1000 rows: with a reference above 1000 rows the Wasserstein distance (threshold 0.1)
      // has a noise floor near 0.04 at 1000 rows, but reaches 0.1 in about one window in ten at 300 rows.
      // Hour 20: x1 moves by one standard deviation; c does not.
      await w.predict('mon-a', 'churn', v.version, h(20), 1000, rng, { x1: 1 });
      await w.predict('mon-b', 'churn', quiet.version, h(20), 1000, rng);
      await w.cycleAfter(h(20));
      const win = await w.tp.platform.store.monitor.window(
        w.scope('mon-a'),
        'churn',
        v.version,
        'hour',
        new Date(h(20)).toISOString(),
      );
      const r = win?.report as StoredReport;
      assert.equal(r.status, 'drift');
      assert.deepEqual(
        r.features.filter((f) => f.drifted).map((f) => f.name),
        ['x1'],
      );
      assert.equal(w.alerts.length, 1);
      assert.equal(w.alerts[0].event, 'drift');
      assert.equal(w.alerts[0].tenantId, 'mon-a');
      assert.deepEqual(
        (w.alerts[0].data.features as { name: string }[]).map((f) => f.name),
        ['x1'],
      );

      // The drift goes on: no second alert for the next window (it started an hour ago).
      await w.predict('mon-a', 'churn', v.version, h(21), 1000, rng, { x1: 1 });
      await w.cycleAfter(h(21));
      assert.equal(w.alerts.filter((x) => x.event === 'drift').length, 1);

      // A tenant never gets another tenant's alerts: B's webhook has no delivery, A's has the drift.
      const store = w.tp.platform.store;
      const delivA = await store.webhooks.deliveries(w.scope('mon-a'), hookA, 100);
      const delivB = await store.webhooks.deliveries(w.scope('mon-b'), hookB, 100);
      assert.deepEqual(
        delivA.map((d) => [d.event, d.payload.tenantId]),
        [['drift', 'mon-a']],
      );
      assert.deepEqual(delivB, []);
    });

    test('a cycle with nothing new writes nothing; a batch is never folded twice', async () => {
      const before = await w.tp.platform.store.monitor.windows(w.scope('mon-a'), 'churn', { limit: 100 });
      const stats = await w.monitoring.cycle();
      assert.equal(stats.batches, 0);
      assert.equal(stats.windows, 0);
      const afterW = await w.tp.platform.store.monitor.windows(w.scope('mon-a'), 'churn', { limit: 100 });
      assert.deepEqual(
        afterW.map((x) => x.rows),
        before.map((x) => x.rows),
      );
    });

    test('a label shift is caught through feedback (sent by a predict key) in its window', async () => {
      const v = await w.model('mon-a', 'risk', { accuracy: 0.92 });
      const rng = createRng(202);
      const ok = await w.predict('mon-a', 'risk', v.version, h(30), 1000, rng);
      const shifted = await w.predict('mon-a', 'risk', v.version, h(31), 1000, rng);
      await w.cycleAfter(h(31));
      // Labels arrive later (the batches are already folded): found by the time in their ids.
      const truth = (p: { label: string }) => p.label;
      const flipped = (p: { label: string }, i: number) =>
        i % 2 === 0 ? (p.label === 'yes' ? 'no' : 'yes') : p.label;
      const send = (items: { predictionId: string; label: string }[]) =>
        w.tp.call({ method: 'POST', url: '/v1/models/risk/feedback', key: a.predict, json: { items } });
      const r1 = await send(ok.map((p) => ({ predictionId: p.id, label: truth(p) })));
      assert.equal(r1.status, 202, r1.text);
      assert.deepEqual(r1.body, { accepted: 1000, duplicates: 0 });
      const r2 = await send(shifted.map((p, i) => ({ predictionId: p.id, label: flipped(p, i) })));
      assert.deepEqual(r2.body, { accepted: 1000, duplicates: 0 });
      const before = w.alerts.length;
      w.clock.advance(60_000);
      const stats = await w.monitoring.cycle();
      assert.equal(stats.feedbackMatched, 2000);
      assert.equal(stats.feedbackUnmatched, 0);
      const fresh = w.alerts.slice(before);
      assert.deepEqual(
        fresh.map((x) => [x.event, x.model, x.data.window]),
        [['performance_drop', 'risk', new Date(h(31)).toISOString()]],
      );
      const view = await w.tp.call({ method: 'GET', url: '/v1/models/risk/monitoring', key: a.admin });
      assert.equal(view.status, 200, view.text);
      const [w31, w30] = view.body.windows;
      assert.equal(w30.performance.metric, 'accuracy');
      assert.equal(w30.performance.value, 1);
      assert.equal(w30.performanceDrop, false);
      assert.equal(w31.performance.n, 1000);
      assert.ok(w31.performance.value < 0.6, String(w31.performance.value));
      assert.equal(w31.performanceDrop, true);
      assert.deepEqual(w31.reference, { metric: 'accuracy', value: 0.92 });
      assert.equal(w31.status, 'ok'); // the features did not move: only P(y|x) did
      const one = await w.tp.call({
        method: 'GET',
        url: `/v1/models/risk/monitoring?version=${v.version}&limit=1&from=${new Date(h(30)).toISOString()}`,
        key: a.admin,
      });
      assert.equal(one.status, 200, one.text);
      assert.deepEqual(
        one.body.windows.map((x: { start: string }) => x.start),
        [new Date(h(31)).toISOString()],
      );
      const none = await w.tp.call({
        method: 'GET',
        url: '/v1/models/risk/monitoring?version=99',
        key: a.admin,
      });
      assert.deepEqual(none.body.windows, []);

      // Feedback for a prediction that is not in the log is given up once it cannot arrive any more.
      const ghost = `req_${h(31).toString(36)}-ghost.0`;
      assert.equal((await send([{ predictionId: ghost, label: 'yes' }])).status, 202);
      const again = await w.monitoring.cycle();
      assert.equal(again.feedbackUnmatched, 1);
    });

    test('an idle model lists a few days only: its cursor moves to the end of a day long over', async () => {
      const s = w.scope('mon-b');
      const before = await w.tp.platform.store.monitor.cursor(s, 'churn');
      assert.match(before?.lastKey ?? '', /^predictions\/churn\/2026-11-02\/20261102T2030/);
      w.clock.set(new Date(h(24 * 6)));
      const stats = await w.monitoring.cycle();
      assert.equal(stats.batches, 0);
      assert.equal(
        (await w.tp.platform.store.monitor.cursor(s, 'churn'))?.lastKey,
        'predictions/churn/2026-11-06/~',
      );
      // Traffic again: folded as usual.
      const v = (await w.tp.platform.store.models.get(s, 'churn'))?.liveVersion as number;
      await w.predict('mon-b', 'churn', v, h(24 * 6 + 1), 100, createRng(9));
      const next = await w.cycleAfter(h(24 * 6 + 1));
      assert.equal(next.batches >= 1, true);
      const win = await w.tp.platform.store.monitor.window(
        s,
        'churn',
        v,
        'hour',
        new Date(h(24 * 6 + 1)).toISOString(),
      );
      assert.equal(win?.rows, 100);
    });

    test('a version without a reference profile is watched with status no_reference and never alerts', async () => {
      const v = await w.model('mon-a', 'imported', { profile: null });
      const before = w.alerts.length;
      await w.predict('mon-a', 'imported', v.version, h(40), 100, createRng(3), { x1: 3 });
      await w.cycleAfter(h(40));
      const win = await w.tp.platform.store.monitor.window(
        w.scope('mon-a'),
        'imported',
        v.version,
        'hour',
        new Date(h(40)).toISOString(),
      );
      assert.equal(win?.rows, 100);
      assert.equal((win?.report as StoredReport | undefined)?.status, 'no_reference');
      assert.equal(w.alerts.length, before);
    });
  });
}
