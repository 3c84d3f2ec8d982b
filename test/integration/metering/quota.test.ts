// Quotas in one place through the real server on SQLite and PostgreSQL (docs/limits.md#quotas): a tenant
// sees each quota with its source and current use; the operator sees the tier table and edits a tier; a
// tier edit and a tenant override take effect on the very next request and job claim, without restart;
// another replica follows within the TTL; cpuSecondsPerMonth refuses training; bad input names its field;
// a tenant never sees another's quotas.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ManualClock } from '../../../src/core/clock.ts';
import { QUOTA_NAMES, TIER_QUOTAS } from '../../../src/core/tiers.ts';
import { QuotaService } from '../../../src/services/quotas.ts';
import { createTestPlatform, type TestPlatform } from '../../helpers/platform.ts';
import { STORE_KINDS } from '../../helpers/stores.ts';
import { jobInput, scopeOf } from '../store/fixtures.ts';

function csv(n = 40): string {
  const lines = ['x,y,label'];
  for (let i = 0; i < n; i++) lines.push(`${i % 7},${(i * 3) % 11},${i % 2 ? 'yes' : 'no'}`);
  return `${lines.join('\n')}\n`;
}

type Line = { name: string; limit: number; source: string; used?: number };

for (const kind of STORE_KINDS) {
  describe(`quotas (${kind})`, () => {
    let tp: TestPlatform;
    const clock = new ManualClock('2026-05-20T08:00:00Z');
    let a: { id: string; admin: string; predict: string };
    let b: { id: string; admin: string; predict: string };

    const quotas = (key: string, tenant?: string) =>
      tp.call({ method: 'GET', url: '/v1/quotas', key, tenant });
    const setTier = (tier: string, json: unknown, key = tp.adminKey) =>
      tp.call({ method: 'PUT', url: `/v1/quotas/tiers/${tier}`, key, json });
    const line = (body: { quotas: Line[] }, name: string): Line => body.quotas.find((l) => l.name === name)!;

    before(async () => {
      tp = await createTestPlatform(kind, { clock, env: { TENANTML_WORKER_SLOTS: '0' } });
      a = await tp.tenant('quo-a', { tier: 'free' });
      b = await tp.tenant('quo-b', { tier: 'premium', quotaOverrides: { datasets: 9 } });
    });
    after(async () => {
      // Edits are global to the store: leave the defaults for the other tests of this file.
      await setTier('free', { quotas: {} });
      await tp.cleanup();
    });

    test('a tenant sees every quota with its source and current use', async () => {
      assert.equal((await tp.upload(a.admin, 'one', csv())).status, 201);
      const r = await quotas(a.admin);
      assert.equal(r.status, 200, r.text);
      assert.equal(r.body.tenantId, a.id);
      assert.equal(r.body.tier, 'free');
      assert.deepEqual(
        r.body.quotas.map((l: Line) => l.name),
        [...QUOTA_NAMES],
      );
      for (const l of r.body.quotas as Line[]) {
        assert.equal(l.source, 'tier');
        assert.equal(l.limit, TIER_QUOTAS.free[l.name as keyof typeof TIER_QUOTAS.free]);
      }
      assert.equal(line(r.body, 'datasets').used, 1);
      assert.ok((line(r.body, 'storageBytes').used ?? 0) > 0);
      assert.equal(line(r.body, 'queuedJobs').used, 0);
      assert.equal(line(r.body, 'concurrentJobs').used, 0);
      assert.equal(line(r.body, 'cpuSecondsPerMonth').used, 0);
      assert.equal(line(r.body, 'predictionsPerSecond').used, undefined);
      // The override shows as such; the operator reads a tenant's view with X-Tenant-Id.
      const rb = await quotas(tp.adminKey, b.id);
      assert.equal(rb.status, 200);
      assert.deepEqual(line(rb.body, 'datasets'), {
        name: 'datasets',
        limit: 9,
        source: 'override',
        used: 0,
      });
    });

    test('the operator without X-Tenant-Id sees the tier table', async () => {
      const r = await quotas(tp.adminKey);
      assert.equal(r.status, 200, r.text);
      assert.deepEqual(
        r.body.tiers.map((t: { tier: string }) => t.tier),
        ['free', 'standard', 'premium'],
      );
      const free = r.body.tiers[0];
      assert.deepEqual(free.defaults, { ...TIER_QUOTAS.free });
      assert.deepEqual(free.quotas, { ...TIER_QUOTAS.free });
      assert.deepEqual(free.edits, {});
    });

    test('a tier edit and a tenant override take effect on the very next request', async () => {
      // Free allows 5 datasets; A holds 1. Edit the tier to 1: the next new dataset is refused.
      const edit = await setTier('free', { quotas: { datasets: 1, cpuSecondsPerMonth: 50 } });
      assert.equal(edit.status, 200, edit.text);
      assert.deepEqual(edit.body.edits, { datasets: 1, cpuSecondsPerMonth: 50 });
      assert.equal(edit.body.quotas.datasets, 1);
      assert.equal(edit.body.quotas.rowsPerDataset, TIER_QUOTAS.free.rowsPerDataset);
      const refused = await tp.upload(a.admin, 'two', csv());
      assert.equal(refused.status, 422, JSON.stringify(refused.body));
      assert.equal(refused.body.code, 'quota_exceeded');
      assert.equal(refused.body.quota, 'datasets');
      assert.equal(refused.body.limit, 1);
      const view = await quotas(a.admin);
      assert.deepEqual(line(view.body, 'datasets'), {
        name: 'datasets',
        limit: 1,
        source: 'tierEdit',
        used: 1,
      });
      assert.equal(line(view.body, 'cpuSecondsPerMonth').limit, 50);
      // The operator's tenant view shows the quotas in force, tier edits included.
      const detail = await tp.call({ method: 'GET', url: `/v1/tenants/${a.id}`, key: tp.adminKey });
      assert.equal(detail.status, 200, detail.text);
      assert.equal(detail.body.quotas.datasets, 1);
      assert.equal(detail.body.quotas.cpuSecondsPerMonth, 50);
      // The tenant's own override wins over the tier edit, at once.
      const patch = await tp.call({
        method: 'PATCH',
        url: `/v1/tenants/${a.id}`,
        key: tp.adminKey,
        json: { quotaOverrides: { datasets: 3 } },
      });
      assert.equal(patch.status, 200, patch.text);
      assert.equal((await tp.upload(a.admin, 'two', csv())).status, 201);
      assert.equal(line((await quotas(a.admin)).body, 'datasets').source, 'override');
      // Rates on the predict path follow too: requestsPerSecond 0 refuses the very next prediction.
      assert.equal((await setTier('free', { quotas: { datasets: 1, requestsPerSecond: 0 } })).status, 200);
      const p = await tp.call({
        method: 'POST',
        url: '/v1/models/nothere/predict',
        key: a.predict,
        json: { instances: [{ x: 1 }] },
      });
      assert.equal(p.status, 422, p.text);
      assert.equal(p.body.quota, 'requestsPerSecond');
      // {} restores the defaults.
      const reset = await setTier('free', { quotas: {} });
      assert.deepEqual(reset.body.edits, {});
      assert.equal(reset.body.quotas.datasets, TIER_QUOTAS.free.datasets);
      const p2 = await tp.call({
        method: 'POST',
        url: '/v1/models/nothere/predict',
        key: a.predict,
        json: { instances: [{ x: 1 }] },
      });
      assert.equal(p2.status, 404, p2.text);
      // Edits are audited in the operator's chain.
      const audit = await tp.call({ method: 'GET', url: '/v1/audit?limit=200', key: tp.adminKey });
      const edits = audit.body.entries.filter((e: { action: string }) => e.action === 'quotas.tier');
      assert.ok(edits.length >= 3, audit.text.slice(0, 300));
      assert.equal(edits[0].target, 'free');
      assert.equal(edits[0].tenantId, null);
    });

    test('the job claim obeys a concurrentJobs edit without restart', async () => {
      const store = tp.platform.store;
      const c = await tp.tenant(`quo-claim-${kind}`, { tier: 'free' });
      const scope = scopeOf(c.id);
      for (const id of ['j1', 'j2'])
        await store.jobs.enqueue(scope, jobInput(`job_${kind}_${id}`), { maxQueued: 10 });
      const claim = () =>
        store.jobs.claim({
          workerId: 'w',
          now: clock.now().toISOString(),
          leaseMs: 60_000,
          globalCap: 100,
          halfLifeSeconds: 600,
        });
      assert.ok(await claim(), 'free runs one job at once');
      assert.equal(await claim(), null, 'the second waits');
      assert.equal((await setTier('free', { quotas: { concurrentJobs: 2 } })).status, 200);
      const second = await claim();
      assert.equal(second?.tenantId, c.id, 'the edit holds from the next claim');
      const view = await quotas(c.admin);
      assert.deepEqual(line(view.body, 'concurrentJobs'), {
        name: 'concurrentJobs',
        limit: 2,
        source: 'tierEdit',
        used: 2,
      });
      // A tenant override holds in the claim too.
      await tp.call({
        method: 'PATCH',
        url: `/v1/tenants/${c.id}`,
        key: tp.adminKey,
        json: { quotaOverrides: { concurrentJobs: 3 } },
      });
      await store.jobs.enqueue(scope, jobInput(`job_${kind}_j3`), { maxQueued: 10 });
      assert.equal((await claim())?.tenantId, c.id);
      assert.equal((await setTier('free', { quotas: {} })).status, 200);
    });

    test('queued and running jobs are counted, not listed: past 1,000 (the list cap) and own only', async () => {
      const store = tp.platform.store;
      const c = await tp.tenant(`quo-many-${kind}`, { tier: 'premium' });
      const scope = scopeOf(c.id);
      const n = 1001;
      for (let i = 0; i < n; i += 50)
        await Promise.all(
          Array.from({ length: Math.min(50, n - i) }, (_, k) =>
            store.jobs.enqueue(scope, jobInput(`job_${kind}_many_${i + k}`), { maxQueued: 2000 }),
          ),
        );
      const view = await quotas(c.admin);
      assert.equal(view.status, 200, view.text);
      assert.equal(line(view.body, 'queuedJobs').used, n);
      assert.equal(line(view.body, 'concurrentJobs').used, 0);
      // Another tenant's figures do not include them.
      assert.equal(line((await quotas(b.admin)).body, 'queuedJobs').used, 0);
    });

    test('another replica follows a tier edit within the TTL', async () => {
      let now = 0;
      const other = new QuotaService({
        repo: tp.platform.store.tierQuotas,
        clock,
        nowMs: () => now,
        ttlMs: 1000,
      });
      const heard: unknown[] = [];
      other.onChange((id) => heard.push(id));
      assert.equal(effectiveDatasets(await other.tiers()), TIER_QUOTAS.standard.datasets);
      assert.equal((await setTier('standard', { quotas: { datasets: 7 } })).status, 200);
      now = 500;
      assert.equal(effectiveDatasets(await other.tiers()), TIER_QUOTAS.standard.datasets, 'within the TTL');
      now = 1000;
      assert.equal(effectiveDatasets(await other.tiers()), 7, 'read again after the TTL');
      assert.equal(heard.length, 1, 'its listeners hear of it');
      assert.equal((await setTier('standard', { quotas: {} })).status, 200);
    });

    test('storageBytes counts models and prediction logs too, not only datasets', async () => {
      const d = await tp.tenant(`quo-sto-${kind}`, { quotaOverrides: { storageBytes: 4096 } });
      // 8 KiB of model artifacts and nothing else: the next upload is refused on storage.
      await tp.platform.services.artifacts.put(
        scopeOf(d.id),
        'models/m/v1/model.onnx',
        Buffer.alloc(8192, 7),
      );
      const r = await tp.upload(d.admin, 'leads', csv());
      assert.equal(r.status, 422, JSON.stringify(r.body));
      assert.equal(r.body.quota, 'storageBytes');
      assert.ok(r.body.used > 8192, `used ${r.body.used}`);
      assert.ok(line((await quotas(d.admin)).body, 'storageBytes').used! > 8192);
    });

    test('cpuSecondsPerMonth: training is refused with 422 once the month used it up', async () => {
      const d = await tp.tenant(`quo-cpu-${kind}`, { quotaOverrides: { cpuSecondsPerMonth: 100 } });
      assert.equal((await tp.upload(d.admin, 'leads', csv())).status, 201);
      const train = () =>
        tp.call({
          method: 'POST',
          url: '/v1/models/m/train',
          key: d.admin,
          json: { dataset: 'leads', target: 'label', algorithm: 'linear' },
        });
      assert.equal((await train()).status, 202);
      // Its share of training a shared model is cost (budgets), not its quota: 500 CPU-seconds of it
      // refuse nothing.
      await tp.platform.store.usage.record([
        {
          id: `cpu-${kind}-shared`,
          tenantId: d.id,
          kind: 'training_cpu_seconds',
          quantity: 500,
          at: clock.now().toISOString(),
          subject: 'shared:churn@1',
          origin: 'shared',
        },
      ]);
      assert.equal((await train()).status, 202);
      assert.equal(line((await quotas(d.admin)).body, 'cpuSecondsPerMonth').used, 0);
      await tp.platform.store.usage.record([
        {
          id: `cpu-${kind}-1`,
          tenantId: d.id,
          kind: 'training_cpu_seconds',
          quantity: 100,
          at: clock.now().toISOString(),
          subject: 'job_x',
          origin: 'own',
        },
      ]);
      const r = await train();
      assert.equal(r.status, 422, r.text);
      assert.equal(r.body.code, 'quota_exceeded');
      assert.equal(r.body.quota, 'cpuSecondsPerMonth');
      assert.equal(r.body.limit, 100);
      assert.equal(r.body.used, 100);
      assert.equal(line((await quotas(d.admin)).body, 'cpuSecondsPerMonth').used, 100);
      // Raising the override lets the next request through.
      await tp.call({
        method: 'PATCH',
        url: `/v1/tenants/${d.id}`,
        key: tp.adminKey,
        json: { quotaOverrides: { cpuSecondsPerMonth: 1000 } },
      });
      assert.equal((await train()).status, 202);
    });

    test('bad input names the field; only the operator edits; unknown tier is 404', async () => {
      const cases: [unknown, string][] = [
        [{ quotas: { nonsense: 3 } }, 'nonsense'],
        [{ quotas: { datasets: -1 } }, 'datasets'],
        [{ quotas: { datasets: 1.5 } }, 'datasets'],
        [{ quotas: { datasets: 1e20 } }, 'datasets'], // beyond the JSON-safe integers
        [{ quotas: { datasets: '3' } }, 'datasets'],
        [{ quotas: [] }, 'quotas'],
        [{}, 'quotas'],
        [{ quotas: {}, extra: 1 }, 'extra'],
      ];
      for (const [json, field] of cases) {
        const r = await setTier('free', json);
        assert.equal(r.status, 400, `${JSON.stringify(json)}: ${r.text}`);
        assert.ok(
          r.body.errors.some((e: { field: string }) => e.field.includes(field)),
          `${JSON.stringify(json)} names ${field}: ${r.text}`,
        );
      }
      assert.equal((await setTier('gold', { quotas: {} })).status, 404);
      assert.equal((await setTier('free', { quotas: { datasets: 1 } }, a.admin)).status, 403);
      assert.equal((await quotas(a.predict)).status, 403);
      const free = (await quotas(tp.adminKey)).body.tiers[0];
      assert.deepEqual(free.edits, {}, 'nothing was stored');
    });

    test("a tenant never sees another tenant's quotas", async () => {
      const r = await quotas(a.admin, b.id);
      assert.equal(r.status, 404);
      const own = await quotas(b.admin);
      assert.equal(own.body.tenantId, b.id);
      assert.ok(!own.text.includes(a.id));
    });
  });
}

function effectiveDatasets(tiers: { tier: string; quotas: { datasets: number } }[]): number {
  return tiers.find((t) => t.tier === 'standard')!.quotas.datasets;
}

describe('quota service: a failed read of the tier edits', () => {
  test('keeps the last edits read; with none read yet, the failure is the answer', async () => {
    let fail = false;
    let now = 0;
    const repo = {
      all: async () => {
        if (fail) throw new Error('database down');
        return { free: { datasets: 2 } };
      },
      set: async () => {},
    };
    const warned: string[] = [];
    const q = new QuotaService({
      repo,
      clock: new ManualClock(),
      nowMs: () => now,
      warn: (_o, m) => warned.push(m),
    });
    assert.deepEqual(await q.fresh(), { free: { datasets: 2 } });
    fail = true;
    now = 5000;
    assert.deepEqual(await q.fresh(), { free: { datasets: 2 } });
    assert.equal(warned.length, 1);
    const never = new QuotaService({ repo, clock: new ManualClock(), nowMs: () => now });
    await assert.rejects(never.fresh(), /database down/);
  });
});
