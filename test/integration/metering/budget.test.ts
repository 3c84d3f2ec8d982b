// Budgets through the real server on SQLite and PostgreSQL (docs/budgets.md): each threshold alerts once
// (two evaluations, and concurrent ones), with a `budget` webhook delivery and an audit entry each; the hard
// limit refuses training with 402 and its body, lifts in the next month (injected clock) and by the
// operator's override; blockPredictions refuses predictions; bad input names its field; a tenant never
// sees or changes another tenant's budget. Usage is injected with store.usage.record.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ManualClock } from '../../../src/core/clock.ts';
import type { UsageKind } from '../../../src/core/metering.ts';
import { mintTenantScope, SYSTEM } from '../../../src/core/scope.ts';
import { createTestPlatform, type TestPlatform } from '../../helpers/platform.ts';
import { STORE_KINDS } from '../../helpers/stores.ts';

/** 40 rows, a yes/no target: enough for a training request to pass its checks. */
function csv(n = 40): string {
  const lines = ['x,y,label'];
  for (let i = 0; i < n; i++) lines.push(`${i % 7},${(i * 3) % 11},${i % 2 ? 'yes' : 'no'}`);
  return `${lines.join('\n')}\n`;
}

let seq = 0;

for (const kind of STORE_KINDS) {
  describe(`budgets (${kind})`, () => {
    let tp: TestPlatform;
    const clock = new ManualClock('2026-03-10T12:00:00Z');
    let a: { id: string; admin: string; predict: string };
    let b: { id: string; admin: string; predict: string };

    /** Usage of `tenant` now, costing `usd` at the default prices (predicted rows: 0.01 USD per 1,000). */
    const spend = async (tenant: string, usd: number, kindOf: UsageKind = 'predicted_rows') => {
      const quantity = kindOf === 'predicted_rows' ? usd * 100_000 : usd / 0.00005;
      await tp.platform.store.usage.record([
        {
          id: `test-${kind}-${++seq}`,
          tenantId: tenant,
          kind: kindOf,
          quantity,
          at: clock.now().toISOString(),
          subject: null,
          origin: 'own',
        },
      ]);
    };
    const budget = (key: string, method: 'GET' | 'PUT' | 'DELETE', json?: unknown, tenant?: string) =>
      tp.call({ method, url: '/v1/budget', key, json, tenant });
    const train = (key: string) =>
      tp.call({
        method: 'POST',
        url: '/v1/models/m1/train',
        key,
        json: { dataset: 'leads', target: 'label', algorithm: 'linear' },
      });
    const predict = (key: string) =>
      tp.call({ method: 'POST', url: '/v1/models/nothere/predict', key, json: { instances: [{ x: 1 }] } });

    before(async () => {
      tp = await createTestPlatform(kind, { clock, env: { TENANTML_WORKER_SLOTS: '0' } });
      a = await tp.tenant('bud-a');
      b = await tp.tenant('bud-b');
      for (const t of [a, b]) assert.equal((await tp.upload(t.admin, 'leads', csv())).status, 201);
    });
    after(() => tp.cleanup());

    test('no budget: GET answers 404; PUT sets it with defaults; GET shows it with its state', async () => {
      assert.equal((await budget(a.admin, 'GET')).status, 404);
      const put = await budget(a.admin, 'PUT', { monthly: 10 });
      assert.equal(put.status, 200, put.text);
      assert.deepEqual(put.body.budget, {
        monthly: 10,
        alertAt: [0.5, 0.8, 1],
        hardLimit: false,
        blockPredictions: false,
        overrideMonth: null,
      });
      assert.equal(put.body.currency, 'USD');
      assert.equal(put.body.state.month, '2026-03');
      assert.equal(put.body.state.limit, 10);
      assert.equal(put.body.state.spent, 0);
      assert.deepEqual(put.body.state.blocks, { training: false, predictions: false });
      const got = await budget(a.admin, 'GET');
      assert.equal(got.status, 200);
      assert.deepEqual(got.body.budget, put.body.budget);
      // The operator reads and sets it for a named tenant.
      const op = await budget(tp.adminKey, 'GET', undefined, a.id);
      assert.equal(op.status, 200);
      assert.equal(op.body.budget.monthly, 10);
      const del = await budget(a.admin, 'DELETE');
      assert.equal(del.status, 204);
      assert.equal((await budget(a.admin, 'GET')).status, 404);
      assert.equal((await budget(a.admin, 'DELETE')).status, 404);
    });

    test('bad input answers 400 naming the field', async () => {
      const cases: [unknown, string][] = [
        [{ monthly: -1 }, 'monthly'],
        [{ monthly: 'ten' }, 'monthly'],
        [{}, 'monthly'],
        [{ monthly: 5, alertAt: [0.8, 0.5] }, 'alertAt[1]'],
        [{ monthly: 5, alertAt: [0.5, 0.5] }, 'alertAt[1]'],
        [{ monthly: 5, alertAt: [0] }, 'alertAt[0]'],
        [{ monthly: 5, alertAt: [10.5] }, 'alertAt[0]'],
        [{ monthly: 5, alertAt: [-0.2, 0.5] }, 'alertAt[0]'],
        [{ monthly: 5, alertAt: 'half' }, 'alertAt'],
        [{ monthly: 5, hardLimit: 'yes' }, 'hardLimit'],
        [{ monthly: 5, blockPredictions: true }, 'blockPredictions'],
        [{ monthly: 5, cap: 3 }, 'cap'],
      ];
      for (const [json, field] of cases) {
        const r = await budget(a.admin, 'PUT', json);
        assert.equal(r.status, 400, `${JSON.stringify(json)}: ${r.text}`);
        assert.equal(r.body.code, 'validation_failed');
        assert.ok(
          r.body.errors.some((e: { field: string }) => e.field === field || e.field === `/${field}`),
          `${JSON.stringify(json)} names ${field}: ${r.text}`,
        );
      }
      const nan = await tp.call({
        method: 'PUT',
        url: '/v1/budget',
        key: a.admin,
        body: '{"monthly": NaN}',
        contentType: 'application/json',
      });
      assert.equal(nan.status, 400);
      assert.equal((await budget(a.admin, 'GET')).status, 404, 'nothing was stored');
    });

    test('a zero budget: ratio null once anything is spent (not a 500), every threshold alerts, the hard limit refuses', async () => {
      const z = await tp.tenant(`bud-zero-${kind}`);
      const put = await budget(z.admin, 'PUT', { monthly: 0, hardLimit: true });
      assert.equal(put.status, 200, put.text);
      // Nothing spent yet: 0 of 0 is no ratio to alert on, but spent ≥ monthly already refuses training.
      assert.equal(put.body.state.ratio, 0);
      assert.deepEqual(put.body.state.blocks, { training: true, predictions: false });
      await spend(z.id, 0.01);
      const got = await budget(z.admin, 'GET');
      assert.equal(got.status, 200, got.text);
      assert.equal(got.body.state.ratio, null);
      assert.deepEqual(got.body.state.reached, [0.5, 0.8, 1]);
      assert.equal(await tp.platform.services.budgets!.evaluate(z.id), 3);
      assert.deepEqual((await budget(z.admin, 'GET')).body.state.alerted, [0.5, 0.8, 1]);
      // A tiny limit: a ratio too large to round to 6 decimals is still a finite number in the answer.
      const tiny = await budget(z.admin, 'PUT', { monthly: 1e-306, alertAt: [10] });
      assert.equal(tiny.status, 200, tiny.text);
      assert.ok(Number.isFinite(tiny.body.state.ratio) && tiny.body.state.ratio > 1e300, tiny.text);
      assert.equal((await budget(z.admin, 'DELETE')).status, 204);
    });

    test('who may: a predict key is refused; a tenant key cannot name another tenant nor override', async () => {
      assert.equal((await budget(a.predict, 'GET')).status, 403);
      assert.equal((await budget(a.predict, 'PUT', { monthly: 1 })).status, 403);
      await budget(b.admin, 'PUT', { monthly: 7 });
      const other = await budget(a.admin, 'GET', undefined, b.id);
      assert.equal(other.status, 404);
      assert.equal((await budget(a.admin, 'PUT', { monthly: 1 }, b.id)).status, 404);
      assert.equal((await budget(a.admin, 'DELETE', undefined, b.id)).status, 404);
      // A's budget is not B's.
      assert.equal((await budget(a.admin, 'GET')).status, 404);
      assert.equal((await budget(b.admin, 'GET')).body.budget.monthly, 7);
      const ov = await budget(b.admin, 'PUT', { monthly: 7, override: true });
      assert.equal(ov.status, 403, ov.text);
      assert.equal(ov.body.errors[0].field, 'override');
      assert.equal((await budget(b.admin, 'PUT', { override: true })).status, 403);
      await budget(b.admin, 'DELETE');
    });

    test('each threshold alerts once: a budget webhook delivery and an audit entry each', async () => {
      const c = await tp.tenant(`bud-alerts-${kind}`);
      const hook = await tp.call({
        method: 'POST',
        url: '/v1/webhooks',
        key: c.admin,
        json: { url: 'https://hooks.example.com/budget', events: ['budget'] },
      });
      assert.equal(hook.status, 201, hook.text);
      assert.equal((await budget(c.admin, 'PUT', { monthly: 2, alertAt: [0.5, 0.8, 1] })).status, 200);
      const budgets = tp.platform.services.budgets!;
      const scope = mintTenantScope(c.id, SYSTEM);
      const deliveries = async () =>
        (await tp.platform.store.webhooks.deliveries(scope, hook.body.id, 100)).filter(
          (d) => d.event === 'budget',
        );
      const alerts = async () =>
        (await tp.platform.services.audit.listOwn(scope, { limit: 200 })).filter(
          (e) => e.action === 'budget.alert',
        );

      assert.equal(await budgets.evaluate(c.id), 0);
      await spend(c.id, 1.2); // 60%
      assert.equal(await budgets.evaluate(), 1);
      assert.equal(await budgets.evaluate(), 0, 'a second evaluation alerts nothing');
      await spend(c.id, 0.9); // 105%
      // Concurrent evaluations (both stores; on PostgreSQL they are separate connections): one wins each.
      const sent = await Promise.all([budgets.evaluate(c.id), budgets.evaluate(), budgets.evaluate(c.id)]);
      assert.equal(
        sent.reduce((x, y) => x + y, 0),
        2,
      );
      assert.equal(await budgets.evaluate(c.id), 0);

      const ds = await deliveries();
      assert.equal(ds.length, 3);
      const thresholds = ds.map((d) => d.payload.data.threshold as number).sort();
      assert.deepEqual(thresholds, [0.5, 0.8, 1]);
      const top = ds.find((d) => d.payload.data.threshold === 1)!;
      assert.equal(top.payload.tenantId, c.id);
      assert.equal(top.payload.data.month, '2026-03');
      assert.equal(top.payload.data.limit, 2);
      assert.equal(top.payload.data.currency, 'USD');
      assert.ok(Math.abs((top.payload.data.spent as number) - 2.1) < 1e-6);
      assert.equal((await alerts()).length, 3);

      const got = await budget(c.admin, 'GET');
      assert.deepEqual(got.body.state.alerted, [0.5, 0.8, 1]);
      assert.deepEqual(got.body.state.reached, [0.5, 0.8, 1]);
      // Removing the budget and setting it again does not alert this month's thresholds a second time.
      assert.equal((await budget(c.admin, 'DELETE')).status, 204);
      assert.equal((await budget(c.admin, 'PUT', { monthly: 2, alertAt: [0.5, 0.8, 1] })).status, 200);
      assert.equal(await budgets.evaluate(c.id), 0);
      // Another tenant's evaluation alerts nothing of C's, and C's deliveries are C's alone.
      assert.equal(
        (await tp.call({ method: 'GET', url: `/v1/webhooks/${hook.body.id}`, key: a.admin })).status,
        404,
      );
    });

    test('the hard limit refuses training with 402 and its body; the next month lifts it (injected clock)', async () => {
      const d = await tp.tenant(`bud-hard-${kind}`);
      assert.equal((await tp.upload(d.admin, 'leads', csv())).status, 201);
      assert.equal((await budget(d.admin, 'PUT', { monthly: 1, hardLimit: true })).status, 200);
      assert.equal((await train(d.admin)).status, 202, 'under the limit');
      await spend(d.id, 1.5, 'training_cpu_seconds');
      const refused = await train(d.admin);
      assert.equal(refused.status, 402, refused.text);
      assert.equal(refused.body.code, 'budget_exceeded');
      assert.equal(refused.body.month, clock.now().toISOString().slice(0, 7));
      assert.equal(refused.body.limit, 1);
      assert.equal(refused.body.currency, 'USD');
      assert.ok(Math.abs(refused.body.spent - 1.5) < 1e-6, refused.text);
      assert.match(refused.headers['content-type'] as string, /application\/problem\+json/);
      // The advisor queues jobs too: refused the same way.
      const advise = await tp.call({
        method: 'POST',
        url: '/v1/models/m1/advise',
        key: d.admin,
        json: { dataset: 'leads', target: 'label' },
      });
      assert.equal(advise.status, 402, advise.text);
      const state = await budget(d.admin, 'GET');
      assert.deepEqual(state.body.state.blocks, { training: true, predictions: false });
      // Predictions are not blocked without blockPredictions (the unknown model answers 404).
      assert.equal((await predict(d.predict)).status, 404);

      const before = clock.now();
      clock.set('2026-04-01T00:00:01Z');
      try {
        const next = await train(d.admin);
        assert.equal(next.status, 202, `a new month: ${next.text}`);
        assert.equal((await budget(d.admin, 'GET')).body.state.spent, 0);
      } finally {
        clock.set(before);
      }
      assert.equal((await train(d.admin)).status, 402, 'back in the spent month');
    });

    test('the operator override lifts the hard limit for the current month only', async () => {
      const e = await tp.tenant(`bud-override-${kind}`);
      assert.equal((await tp.upload(e.admin, 'leads', csv())).status, 201);
      assert.equal((await budget(e.admin, 'PUT', { monthly: 1, hardLimit: true })).status, 200);
      await spend(e.id, 2, 'training_cpu_seconds');
      assert.equal((await train(e.admin)).status, 402);
      const ov = await budget(tp.adminKey, 'PUT', { override: true }, e.id);
      assert.equal(ov.status, 200, ov.text);
      assert.equal(ov.body.budget.overrideMonth, '2026-03');
      assert.equal(ov.body.budget.monthly, 1, 'the rest of the budget is kept');
      assert.equal(ov.body.state.blocks.training, false);
      assert.equal((await train(e.admin)).status, 202);
      // The tenant changing its budget keeps this month's override.
      assert.equal(
        (await budget(e.admin, 'PUT', { monthly: 1.5, hardLimit: true })).body.budget.overrideMonth,
        '2026-03',
      );
      assert.equal((await train(e.admin)).status, 202);
      // Next month the override no longer holds: spend there again and the limit refuses.
      const before = clock.now();
      clock.set('2026-04-02T00:00:00Z');
      try {
        await spend(e.id, 2, 'training_cpu_seconds');
        assert.equal((await train(e.admin)).status, 402);
      } finally {
        clock.set(before);
      }
      // The operator restores the limit.
      const off = await budget(tp.adminKey, 'PUT', { override: false }, e.id);
      assert.equal(off.body.budget.overrideMonth, null);
      assert.equal((await train(e.admin)).status, 402);
      // Audited: the operator's override lands in the tenant's chain.
      const entries = await tp.platform.services.audit.listOwn(mintTenantScope(e.id, SYSTEM), { limit: 100 });
      assert.ok(
        entries.some(
          (x) =>
            x.action === 'budget.put' && x.target === 'budget override=true' && x.actorKeyId === 'operator',
        ),
      );
    });

    test('blockPredictions: predictions answer 402 at the hard limit, from any key of the tenant', async () => {
      const f = await tp.tenant(`bud-predict-${kind}`);
      assert.equal(
        (await budget(f.admin, 'PUT', { monthly: 1, hardLimit: true, blockPredictions: true })).status,
        200,
      );
      assert.equal((await predict(f.predict)).status, 404, 'under the limit: the model is looked up');
      await spend(f.id, 1);
      // The predict path keeps the state a few seconds; a budget evaluation (periodic, or after a job) renews it.
      await tp.platform.services.budgets!.evaluate(f.id);
      const r = await predict(f.predict);
      assert.equal(r.status, 402, r.text);
      assert.equal(r.body.code, 'budget_exceeded');
      assert.equal(r.body.limit, 1);
      assert.equal(r.body.currency, 'USD');
      // Kept and already read, the state answers synchronously: no promise on the predict path.
      const kept = tp.platform.services.budgets!.predictionBlock(f.id);
      assert.ok(!(kept instanceof Promise), 'a kept state answers without a promise');
      assert.equal(kept?.code, 'budget_exceeded');
      const v2 = await tp.call({
        method: 'POST',
        url: '/v2/models/nothere/infer',
        key: f.predict,
        json: { inputs: [{ name: 'x', shape: [1], datatype: 'FP64', data: [1] }] },
      });
      assert.equal(v2.status, 402, v2.text);
      // Refused before the body is read: even a body that is not JSON gets the 402, not a 400.
      const early = await tp.call({
        method: 'POST',
        url: '/v1/models/nothere/predict',
        key: f.predict,
        body: '{not json',
        contentType: 'application/json',
      });
      assert.equal(early.status, 402, early.text);
      // Another tenant predicts as before.
      assert.equal((await predict(a.predict)).status, 404);
      // A new month: the state is read afresh, predictions pass.
      const before = clock.now();
      clock.set('2026-04-03T00:00:00Z');
      try {
        assert.equal((await predict(f.predict)).status, 404);
      } finally {
        clock.set(before);
      }
      // Removing the budget lifts it at once.
      await budget(f.admin, 'DELETE');
      assert.equal((await predict(f.predict)).status, 404);
    });
  });
}

for (const kind of STORE_KINDS) {
  describe(`budget alerts after a training job (${kind})`, () => {
    let tp: TestPlatform;
    after(() => tp?.cleanup());

    test("a finished job's metered CPU alerts at once, without waiting for the periodic evaluation", async () => {
      tp = await createTestPlatform(kind, { env: { TENANTML_WORKER_SLOTS: '1' } });
      const t = await tp.tenant(`bud-job-${kind}`);
      assert.equal((await tp.upload(t.admin, 'leads', csv(200))).status, 201);
      const hook = await tp.call({
        method: 'POST',
        url: '/v1/webhooks',
        key: t.admin,
        json: { url: 'https://hooks.example.com/budget', events: ['budget'] },
      });
      assert.equal(hook.status, 201, hook.text);
      // Any training CPU crosses a budget this small.
      assert.equal((await budget(t.admin, { monthly: 1e-9, alertAt: [1] })).status, 200);
      const job = await tp.call({
        method: 'POST',
        url: '/v1/models/m1/train',
        key: t.admin,
        json: { dataset: 'leads', target: 'label', algorithm: 'linear' },
      });
      assert.equal(job.status, 202, job.text);
      const scope = mintTenantScope(t.id, SYSTEM);
      const deadline = Date.now() + 60_000;
      let alerts: unknown[] = [];
      while (Date.now() < deadline) {
        alerts = (await tp.platform.store.webhooks.deliveries(scope, hook.body.id, 10)).filter(
          (d) => d.event === 'budget',
        );
        if (alerts.length > 0) break;
        await new Promise((r) => setTimeout(r, 200));
      }
      assert.equal(alerts.length, 1, 'the after-job evaluation alerted');
      const j = await tp.call({ method: 'GET', url: `/v1/jobs/${job.body.id}`, key: t.admin });
      assert.equal(j.body.state, 'succeeded', j.text);
    });

    function budget(key: string, json: unknown) {
      return tp.call({ method: 'PUT', url: '/v1/budget', key, json });
    }
  });
}
