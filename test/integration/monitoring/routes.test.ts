// The monitoring routes over HTTP (inject): feedback by admin and predict keys, idempotent on the
// prediction id; another tenant's model answers 404; bad input answers 400 naming the field; the policy
// routes round-trip; the windows route reads the store.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { STORE_KINDS } from '../../helpers/stores.ts';
import { createWorld, trainingCsv, type World } from './fixtures.ts';

for (const kind of STORE_KINDS) {
  describe(`monitoring routes (${kind})`, () => {
    let w: World;
    let a: { id: string; admin: string; predict: string };
    let b: { id: string; admin: string; predict: string };

    before(async () => {
      w = await createWorld(kind);
      a = await w.tp.tenant('rt-a');
      b = await w.tp.tenant('rt-b');
      for (const t of [a, b])
        assert.equal((await w.tp.upload(t.admin, 'sales', trainingCsv(300, 1))).status, 201);
      await w.model('rt-a', 'churn');
      await w.model('rt-b', 'secret');
    });
    after(() => w.cleanup());

    const fields = (body: { errors?: { field: string }[] }) => (body.errors ?? []).map((e) => e.field);

    test('feedback: one label or a batch, from a predict key; repeats are counted as duplicates', async () => {
      const one = await w.tp.call({
        method: 'POST',
        url: '/v1/models/churn/feedback',
        key: a.predict,
        json: { predictionId: 'req_mhz1-abc.0', label: 'yes' },
      });
      assert.equal(one.status, 202, one.text);
      assert.deepEqual(one.body, { accepted: 1, duplicates: 0 });
      const batch = await w.tp.call({
        method: 'POST',
        url: '/v1/models/churn/feedback',
        key: a.admin,
        json: {
          items: [
            { predictionId: 'req_mhz1-abc.0', label: 'no' },
            { predictionId: 'req_mhz1-abc.1', label: 3.5 },
            { predictionId: 'req_mhz1-abc.2', label: true },
          ],
        },
      });
      assert.equal(batch.status, 202, batch.text);
      assert.deepEqual(batch.body, { accepted: 2, duplicates: 1 });
      const pending = await w.tp.platform.store.monitor.pendingFeedback(w.scope('rt-a'), 'churn', 10);
      assert.deepEqual(
        pending.map((f) => [f.predictionId, f.label]),
        [
          ['req_mhz1-abc.0', 'yes'],
          ['req_mhz1-abc.1', 3.5],
          ['req_mhz1-abc.2', true],
        ],
      );
    });

    test("another tenant's model answers 404 on every route, like a missing one", async () => {
      const calls = [
        {
          method: 'POST' as const,
          url: '/v1/models/secret/feedback',
          json: { predictionId: 'req_x-y.0', label: 'a' },
        },
        { method: 'GET' as const, url: '/v1/models/secret/monitoring' },
        { method: 'GET' as const, url: '/v1/models/secret/policy' },
        { method: 'PUT' as const, url: '/v1/models/secret/policy', json: { onDrift: true } },
        { method: 'DELETE' as const, url: '/v1/models/secret/policy' },
        { method: 'GET' as const, url: '/v1/models/nothing/monitoring' },
      ];
      for (const c of calls) {
        const r = await w.tp.call({ ...c, key: a.admin });
        assert.equal(r.status, 404, `${c.method} ${c.url}: ${r.text}`);
      }
      assert.equal(
        (await w.tp.platform.store.monitor.pendingFeedback(w.scope('rt-b'), 'secret', 10)).length,
        0,
      );
      assert.equal(await w.tp.platform.store.policies.get(w.scope('rt-b'), 'secret'), null);
    });

    test('bad feedback answers 400 naming each field', async () => {
      const cases: [unknown, string[]][] = [
        [{ predictionId: 5, label: 'x' }, ['predictionId']],
        [{ predictionId: 'req_a.0' }, ['label']],
        [{ predictionId: 'has space', label: { no: 1 } }, ['predictionId', 'label']],
        [{ predictionId: 'req_a.0', label: 'x', extra: 1 }, ['extra']],
        [
          { items: [{ predictionId: 'req_a.0', label: 'x' }, { predictionId: 'req_a.1' }] },
          ['items[1].label'],
        ],
        [{ items: [] }, ['items']],
        [
          { items: Array.from({ length: 1001 }, (_, i) => ({ predictionId: `req_a.${i}`, label: 'x' })) },
          ['items'],
        ],
        [[1, 2], ['body']],
      ];
      for (const [json, expected] of cases) {
        const r = await w.tp.call({ method: 'POST', url: '/v1/models/churn/feedback', key: a.predict, json });
        assert.equal(r.status, 400, JSON.stringify(json).slice(0, 80));
        assert.deepEqual(fields(r.body), expected, JSON.stringify(json).slice(0, 80));
      }
    });

    test('policy: PUT validates each field, GET returns it, DELETE removes it; predict keys may not manage it', async () => {
      const bad: [unknown, string[]][] = [
        [{ schedule: '61 * * * *' }, ['schedule']],
        [{ schedule: '* * *' }, ['schedule']],
        [{ onPerformanceDrop: 2 }, ['onPerformanceDrop']],
        [{ onNewRows: 1.5 }, ['onNewRows']],
        [{ onDrift: 'yes', cooldownHours: -1 }, ['onDrift', 'cooldownHours']],
        [{ promoteMargin: 'a lot' }, ['promoteMargin']],
        [{ retrain: true }, ['retrain']],
      ];
      for (const [json, expected] of bad) {
        const r = await w.tp.call({ method: 'PUT', url: '/v1/models/churn/policy', key: a.admin, json });
        assert.equal(r.status, 400, JSON.stringify(json));
        assert.deepEqual(fields(r.body), expected, JSON.stringify(json));
      }
      assert.equal(
        (await w.tp.call({ method: 'GET', url: '/v1/models/churn/policy', key: a.admin })).status,
        404,
      );
      const policy = {
        onDrift: true,
        onPerformanceDrop: 0.05,
        onNewRows: 1000,
        schedule: '0 3 * * 1',
        promoteMargin: 0.01,
        cooldownHours: 12,
      };
      const put = await w.tp.call({
        method: 'PUT',
        url: '/v1/models/churn/policy',
        key: a.admin,
        json: policy,
      });
      assert.equal(put.status, 200, put.text);
      assert.deepEqual(put.body.policy, policy);
      const got = await w.tp.call({ method: 'GET', url: '/v1/models/churn/policy', key: a.admin });
      assert.deepEqual(got.body.policy, policy);
      assert.equal(got.body.lastFiredAt, null);
      assert.equal(
        (await w.tp.call({ method: 'PUT', url: '/v1/models/churn/policy', key: a.predict, json: {} })).status,
        403,
      );
      assert.equal(
        (await w.tp.call({ method: 'DELETE', url: '/v1/models/churn/policy', key: a.admin })).status,
        204,
      );
      assert.equal(
        (await w.tp.call({ method: 'DELETE', url: '/v1/models/churn/policy', key: a.admin })).status,
        404,
      );
    });

    test('monitoring: windows newest first, filtered by query; a bad query answers 400 naming the field', async () => {
      const empty = await w.tp.call({ method: 'GET', url: '/v1/models/churn/monitoring', key: a.admin });
      assert.equal(empty.status, 200, empty.text);
      assert.deepEqual(empty.body, { model: 'churn', liveVersion: 1, windows: [] });
      const bad = await w.tp.call({
        method: 'GET',
        url: '/v1/models/churn/monitoring?from=yesterday',
        key: a.admin,
      });
      assert.equal(bad.status, 400);
      assert.deepEqual(fields(bad.body), ['from']);
      const gran = await w.tp.call({
        method: 'GET',
        url: '/v1/models/churn/monitoring?granularity=week',
        key: a.admin,
      });
      assert.equal(gran.status, 400);
      assert.match(JSON.stringify(fields(gran.body)), /granularity/);
    });
  });
}
