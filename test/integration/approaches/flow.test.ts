// The three approaches end to end, with real training children: a shared model pooled from consenting
// tenants only, published, tuned by one tenant, resolved for prediction (own tuned → shared → 404), then
// a withdrawal of consent that taints the shared version and the tuned one built on it, queues the
// retraining, and replaces both once clean successors exist. And the advisor's side-by-side answer.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createTestPlatform, type TestPlatform } from '../../helpers/platform.ts';

type Tenant = { id: string; admin: string; predict: string };

/** A small binary problem; `shift` moves this tenant's decision boundary. */
function csv(
  n: number,
  seed: number,
  opts: { shift?: number; email?: boolean; marker?: string } = {},
): string {
  let s = seed >>> 0;
  const rnd = () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
  const head = ['x1', 'x2', 'plan', ...(opts.email ? ['email'] : []), 'y'];
  const lines = [head.join(',')];
  for (let i = 0; i < n; i++) {
    const x1 = rnd() * 4 - 2;
    const x2 = rnd() * 4 - 2;
    const plan = opts.marker && i % 10 === 0 ? opts.marker : ['basic', 'pro', 'team'][i % 3];
    const y = x1 + 0.5 * x2 + (opts.shift ?? 0) + (rnd() - 0.5) * 0.6 > 0 ? 'yes' : 'no';
    const row = [x1.toFixed(4), x2.toFixed(4), plan, ...(opts.email ? [`user${i}@example.com`] : []), y];
    lines.push(row.join(','));
  }
  return `${lines.join('\n')}\n`;
}

describe('shared, tuned and tenant models over HTTP, with training workers (sqlite)', () => {
  let tp: TestPlatform;
  let a: Tenant; // consents, tunes the shared model
  let b: Tenant; // consents, later withdraws
  let c: Tenant; // never consents
  let d: Tenant; // no data; uses the shared model as published
  let e: Tenant; // not in a list-published shared model's audience
  const op = () => tp.adminKey;

  const waitJob = async (url: string, key: string) => {
    const until = Date.now() + 90_000;
    for (;;) {
      const r = await tp.call({ method: 'GET', url, key });
      assert.equal(r.status, 200, r.text);
      if (['succeeded', 'failed', 'cancelled', 'timed_out'].includes(r.body.state)) return r.body;
      if (Date.now() > until) throw new Error(`job ${url} did not end: ${r.text}`);
      await new Promise((res) => setTimeout(res, 150));
    }
  };
  const sharedJobs = async () =>
    (await tp.call({ method: 'GET', url: '/v1/shared/jobs', key: op() })).body.jobs as any[];
  const predict = (t: Tenant, model: string) =>
    tp.call({
      method: 'POST',
      url: `/v1/models/${model}/predict`,
      key: t.predict,
      json: { instances: [{ x1: 1, x2: 0.5, plan: 'pro' }] },
    });

  before(async () => {
    tp = await createTestPlatform('sqlite', { env: { TENANTML_WORKER_SLOTS: '2' } });
    a = await tp.tenant('flow-a', { sharedTraining: true });
    b = await tp.tenant('flow-b', { sharedTraining: true });
    c = await tp.tenant('flow-c');
    d = await tp.tenant('flow-d');
    e = await tp.tenant('flow-e');
    assert.equal((await tp.upload(a.admin, 'churn', csv(160, 1, { email: true }))).status, 201);
    assert.equal((await tp.upload(b.admin, 'churn', csv(140, 2, { shift: 0.3 }))).status, 201);
    assert.equal((await tp.upload(c.admin, 'churn', csv(150, 3, { marker: 'c-secret-plan' }))).status, 201);
  });
  after(() => tp.cleanup());

  let sharedJob: any;

  test('the operator trains a shared model: consenting tenants only, identifying columns dropped', async () => {
    const r = await tp.call({
      method: 'POST',
      url: '/v1/shared/models/churn/train',
      key: op(),
      json: { dataset: 'churn', target: 'y', algorithm: 'linear', publish: 'all' },
    });
    assert.equal(r.status, 202, r.text);
    assert.equal(r.body.spec.mode, 'shared');
    sharedJob = await waitJob(`/v1/shared/jobs/${r.body.id}`, op());
    assert.equal(sharedJob.state, 'succeeded', sharedJob.error);

    const detail = await tp.call({ method: 'GET', url: '/v1/shared/models/churn', key: op() });
    assert.equal(detail.status, 200, detail.text);
    assert.equal(detail.body.liveVersion, 1);
    assert.equal(detail.body.audience, 'all');
    const v1 = detail.body.versionList[0];
    assert.equal(v1.mode, 'shared');
    assert.equal(v1.status, 'ok', JSON.stringify(v1));
    assert.deepEqual(v1.datasets.map((x: any) => x.tenantId).sort(), ['flow-a', 'flow-b']);
    assert.deepEqual(
      v1.datasets.map((x: any) => x.rows).sort((p: number, q: number) => p - q),
      [140, 160],
    );

    const prov = await tp.call({
      method: 'GET',
      url: '/v1/shared/models/churn/versions/1/provenance',
      key: op(),
    });
    assert.equal(prov.status, 200, prov.text);
    assert.deepEqual(prov.body.provenance.map((p: any) => p.source.tenantId).sort(), ['flow-a', 'flow-b']);
    const ofC = await tp.call({ method: 'GET', url: '/v1/provenance?tenant=flow-c', key: op() });
    assert.deepEqual(ofC.body.versions, []);
    const ofA = await tp.call({ method: 'GET', url: '/v1/provenance?tenant=flow-a', key: op() });
    assert.deepEqual(
      ofA.body.versions.map((p: any) => `${p.tenantId}/${p.model}@${p.version}`),
      ['_shared/churn@1'],
    );
  });

  test('resolution: a tenant without its own model gets the shared one; tenants never read shared internals', async () => {
    const r = await predict(d, 'churn');
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.body.model, { name: 'churn', version: 1, mode: 'shared' });
    for (const url of [
      '/v1/models/churn',
      '/v1/shared/models/churn',
      '/v1/shared/models/churn/versions/1/model.onnx',
    ]) {
      const x = await tp.call({ method: 'GET', url, key: d.admin });
      assert.ok([403, 404].includes(x.status), `${url}: ${x.status}`);
    }
    const mine = await tp.call({ method: 'GET', url: '/v1/provenance', key: d.admin });
    assert.equal(mine.status, 200, mine.text);
    assert.deepEqual(mine.body.contributions, []);
    assert.deepEqual(
      mine.body.sharedInUse.map((s: any) => s.model),
      ['churn'],
    );
  });

  let tunedJob: any;

  test('tenant A tunes the shared model; its own tuned version then answers it', async () => {
    const r = await tp.call({
      method: 'POST',
      url: '/v1/models/churn/train',
      key: a.admin,
      json: { dataset: 'churn', target: 'y', mode: 'tuned', base: 'churn' },
    });
    assert.equal(r.status, 202, r.text);
    assert.deepEqual(r.body.spec.base, { model: 'churn', version: 1 });
    tunedJob = await waitJob(`/v1/jobs/${r.body.id}`, a.admin);
    assert.equal(tunedJob.state, 'succeeded', tunedJob.error);
    assert.ok(tunedJob.result.baseMetrics && typeof tunedJob.result.baseMetrics.accuracy === 'number');
    const m = await tp.call({ method: 'GET', url: '/v1/models/churn', key: a.admin });
    assert.equal(m.body.versionList[0].mode, 'tuned');
    assert.deepEqual(m.body.versionList[0].base, { model: 'churn', version: 1 });
    const p = await predict(a, 'churn');
    assert.deepEqual(p.body.model, { name: 'churn', version: 1, mode: 'tuned' });
    const mine = await tp.call({ method: 'GET', url: '/v1/provenance', key: a.admin });
    assert.deepEqual(
      mine.body.contributions.map((x: any) => [x.model, x.version, x.rows]),
      [['churn', 1, 160]],
    );
    assert.deepEqual(mine.body.sharedInUse[0].tunedBy, [{ model: 'churn', version: 1 }]);
  });

  test("isolation: another tenant's model is 404 to see, tune from, promote or predict with", async () => {
    const t = await tp.call({
      method: 'POST',
      url: '/v1/models/b-private/train',
      key: b.admin,
      json: { dataset: 'churn', target: 'y', algorithm: 'linear' },
    });
    assert.equal(t.status, 202, t.text);
    assert.equal((await waitJob(`/v1/jobs/${t.body.id}`, b.admin)).state, 'succeeded');
    const calls = [
      tp.call({ method: 'GET', url: '/v1/models/b-private', key: a.admin }),
      tp.call({
        method: 'POST',
        url: '/v1/models/x/train',
        key: a.admin,
        json: { dataset: 'churn', target: 'y', mode: 'tuned', base: 'b-private' },
      }),
      tp.call({ method: 'POST', url: '/v1/models/b-private/versions/1/promote', key: a.admin }),
      tp.call({ method: 'POST', url: '/v1/models/b-private/rollback', key: a.admin }),
      predict(a, 'b-private'),
      tp.call({
        method: 'POST',
        url: '/v2/models/b-private/infer',
        key: a.predict,
        json: { inputs: [{ name: 'x1', shape: [1], datatype: 'FP64', data: [1] }] },
      }),
      tp.call({ method: 'GET', url: '/v2/models/b-private', key: a.predict }),
    ];
    const missing = await tp.call({ method: 'GET', url: '/v1/models/never-existed', key: a.admin });
    for (const r of await Promise.all(calls)) {
      assert.equal(r.status, 404, r.text);
      assert.equal(r.body.code, 'not_found');
    }
    assert.equal(missing.status, 404);
  });

  test('a shared model published to a list is 404 for tenants outside it (predict and tune)', async () => {
    const imp = await tp.call({
      method: 'POST',
      url: '/v1/shared/models/churn-lite/import',
      key: op(),
      json: await importBody(),
    });
    assert.equal(imp.status, 201, imp.text);
    assert.equal(imp.body.algorithm, 'onnx');
    const pub = await tp.call({
      method: 'PUT',
      url: '/v1/shared/models/churn-lite/audience',
      key: op(),
      json: { audience: ['flow-d'] },
    });
    assert.equal(pub.status, 200, pub.text);
    const ok = await tp.call({
      method: 'POST',
      url: '/v1/models/churn-lite/predict',
      key: d.predict,
      json: { instances: [{ x1: 1, x2: 0.5 }] },
    });
    assert.equal(ok.status, 200, ok.text);
    assert.equal(ok.body.model.mode, 'shared');
    const denied = await tp.call({
      method: 'POST',
      url: '/v1/models/churn-lite/predict',
      key: e.predict,
      json: { instances: [{ x1: 1, x2: 0.5 }] },
    });
    assert.equal(denied.status, 404, denied.text);
    const tune = await tp.call({
      method: 'POST',
      url: '/v1/models/churn-lite/train',
      key: e.admin,
      json: { dataset: 'churn', target: 'y', mode: 'tuned', base: 'churn-lite' },
    });
    assert.equal(tune.status, 404, tune.text);
    // Published to D, but an imported model has no parameters to continue from.
    await tp.upload(d.admin, 'churn', csv(60, 9));
    const noTune = await tp.call({
      method: 'POST',
      url: '/v1/models/churn-lite/train',
      key: d.admin,
      json: { dataset: 'churn', target: 'y', mode: 'tuned', base: 'churn-lite' },
    });
    assert.equal(noTune.status, 422, noTune.text);
    assert.equal(noTune.body.errors[0].field, 'base');
  });

  test('withdrawing consent taints the shared version and the tuned one on it, retrains, then replaces both', async () => {
    const before = (await sharedJobs()).length;
    const w = await tp.call({
      method: 'PATCH',
      url: '/v1/tenants/flow-b',
      key: op(),
      json: { sharedTraining: false },
    });
    assert.equal(w.status, 200, w.text);

    const shared = await tp.call({ method: 'GET', url: '/v1/shared/models/churn', key: op() });
    const v1 = shared.body.versionList.find((v: any) => v.version === 1);
    assert.equal(v1.status, 'tainted');
    assert.match(v1.taint.reason, /consent-withdrawn/);
    const tuned = await tp.call({ method: 'GET', url: '/v1/models/churn', key: a.admin });
    assert.equal(tuned.body.versionList.find((v: any) => v.version === 1).status, 'tainted');
    // A's own (untuned) models and B's own model are untouched.
    const own = await tp.call({ method: 'GET', url: '/v1/models/b-private', key: b.admin });
    assert.equal(own.body.versionList[0].status, 'ok');

    // Still served until a clean successor exists (the default policy).
    assert.equal((await predict(d, 'churn')).body.model.version, 1);

    const jobs = await sharedJobs();
    assert.equal(jobs.length, before + 1);
    const retrain = jobs.find((j) => j.spec.reason === 'retrain-after-taint');
    assert.ok(retrain, 'a retraining job was queued');
    assert.equal((await waitJob(`/v1/shared/jobs/${retrain.id}`, op())).state, 'succeeded');

    const after = await tp.call({ method: 'GET', url: '/v1/shared/models/churn', key: op() });
    assert.equal(after.body.liveVersion, 2);
    const v2 = after.body.versionList.find((v: any) => v.version === 2);
    assert.equal(v2.status, 'ok');
    assert.deepEqual(
      v2.datasets.map((x: any) => x.tenantId),
      ['flow-a'],
    );
    assert.equal(after.body.liveHistory.at(-1).reason, 'successor');
    assert.deepEqual((await predict(d, 'churn')).body.model, { name: 'churn', version: 2, mode: 'shared' });

    // The tuned model is retrained on the clean base, and its successor replaces the tainted version.
    const until = Date.now() + 90_000;
    let retune: any;
    while (!retune) {
      const js = (await tp.call({ method: 'GET', url: '/v1/jobs?model=churn', key: a.admin })).body.jobs;
      retune = js.find((j: any) => j.spec.reason === 'retune-on-successor');
      if (Date.now() > until) throw new Error('no retune job');
      if (!retune) await new Promise((res) => setTimeout(res, 100));
    }
    assert.deepEqual(retune.spec.base, { model: 'churn', version: 2 });
    assert.equal((await waitJob(`/v1/jobs/${retune.id}`, a.admin)).state, 'succeeded');
    assert.deepEqual((await predict(a, 'churn')).body.model, { name: 'churn', version: 2, mode: 'tuned' });

    const ofB = await tp.call({ method: 'GET', url: '/v1/provenance?tenant=flow-b', key: op() });
    // Everything outside B's own namespace that holds B's data is tainted; B's own model is B's business.
    const elsewhere = ofB.body.versions.filter((p: any) => p.tenantId !== 'flow-b');
    assert.deepEqual(elsewhere.map((p: any) => `${p.tenantId}/${p.model}@${p.version}:${p.status}`).sort(), [
      '_shared/churn@1:tainted',
      'flow-a/churn@1:tainted',
    ]);
  });

  test('a tainted version cannot be promoted back', async () => {
    const r = await tp.call({ method: 'POST', url: '/v1/models/churn/versions/1/promote', key: a.admin });
    assert.equal(r.status, 409, r.text);
    assert.equal(r.body.code, 'conflict');
  });

  test('the advisor compares tenant-specific, tuned and shared on the same held-out rows', async () => {
    const r = await tp.call({
      method: 'POST',
      url: '/v1/models/churn/advise',
      key: a.admin,
      json: { dataset: 'churn', target: 'y' },
    });
    assert.equal(r.status, 202, r.text);
    assert.equal(r.body.state, 'running');
    assert.ok(r.body.jobs.tuned, 'a tuned candidate is trained when the shared model can be tuned');
    assert.deepEqual(r.body.shared, { model: 'churn', version: 2 });
    await waitJob(`/v1/jobs/${r.body.jobs.tenant}`, a.admin);
    await waitJob(`/v1/jobs/${r.body.jobs.tuned}`, a.admin);
    let advice: any;
    const until = Date.now() + 30_000;
    do {
      advice = (await tp.call({ method: 'GET', url: '/v1/models/churn/advice', key: a.admin })).body
        .advice[0];
      if (advice.state === 'running') await new Promise((res) => setTimeout(res, 100));
    } while (advice.state === 'running' && Date.now() < until);
    assert.equal(advice.state, 'done', JSON.stringify(advice));
    assert.deepEqual(advice.result.candidates.map((x: any) => x.mode).sort(), ['shared', 'tenant', 'tuned']);
    assert.ok(['tenant', 'shared', 'tuned'].includes(advice.result.recommendation));
    assert.ok(advice.result.reasons.length > 0);
    const n = new Set(advice.result.candidates.map((x: any) => x.metrics.n));
    assert.equal(n.size, 1, 'every candidate was measured on the same number of held-out rows');
    // Candidates do not go live on their own (no autoPromote).
    const m = await tp.call({ method: 'GET', url: '/v1/models/churn', key: a.admin });
    assert.equal(m.body.liveVersion, 2);
  });
  test('advice on a fresh model name: candidates stay out of serving unless autoPromote picks one', async () => {
    const advise = async (autoPromote: boolean) => {
      const r = await tp.call({
        method: 'POST',
        url: '/v1/models/churn/advise',
        key: d.admin,
        json: { dataset: 'churn', target: 'y', autoPromote },
      });
      assert.equal(r.status, 202, r.text);
      for (const id of [r.body.jobs.tenant, r.body.jobs.tuned].filter(Boolean))
        await waitJob(`/v1/jobs/${id}`, d.admin);
      const until = Date.now() + 30_000;
      for (;;) {
        const list = (await tp.call({ method: 'GET', url: '/v1/models/churn/advice', key: d.admin })).body
          .advice;
        const mine = list.find((x: any) => x.id === r.body.id);
        if (mine.state !== 'running' || Date.now() > until) return mine;
        await new Promise((res) => setTimeout(res, 100));
      }
    };
    const plain = await advise(false);
    assert.equal(plain.state, 'done', JSON.stringify(plain));
    assert.equal(plain.result.promoted, null);
    let m = await tp.call({ method: 'GET', url: '/v1/models/churn', key: d.admin });
    assert.equal(m.body.liveVersion, null, 'no candidate went live');
    assert.equal((await predict(d, 'churn')).body.model.mode, 'shared', 'D still gets the shared model');

    const auto = await advise(true);
    assert.equal(auto.state, 'done', JSON.stringify(auto));
    m = await tp.call({ method: 'GET', url: '/v1/models/churn', key: d.admin });
    if (auto.result.recommendation === 'shared') {
      assert.equal(auto.result.promoted, null);
      assert.equal(m.body.liveVersion, null);
    } else {
      const pick = auto.result.candidates.find((x: any) => x.mode === auto.result.recommendation);
      assert.deepEqual(auto.result.promoted, pick.ref);
      assert.equal(m.body.liveVersion, pick.ref.version);
      assert.equal((await predict(d, 'churn')).body.model.mode, auto.result.recommendation);
    }
  });
});

/** An ONNX model with input [N, 2] (x1, x2) made by our own exporter, as an operator would upload it. */
async function importBody() {
  const { trainModel } = await import('../../../src/ml/train.ts');
  const rows = Array.from({ length: 60 }, (_, i) => ({
    x1: (i % 7) - 3,
    x2: (i % 5) - 2,
    y: i % 7 > 3 ? 'yes' : 'no',
  }));
  const schema = {
    columns: ['x1', 'x2'].map((name) => ({
      name,
      type: 'numeric' as const,
      nullable: false,
      missing: 0,
      distinct: 7,
      distinctApprox: false,
      identifying: false,
      identifyingReasons: [],
    })),
  };
  schema.columns.push({ ...schema.columns[0], name: 'y', type: 'categorical' as never, distinct: 2 });
  const m = trainModel({ rows, schema, target: 'y', algorithm: 'gbdt', params: { nRounds: 5 }, seed: 1 });
  // Our trees-mode featurizer passes numeric columns through as they are: the ONNX input is [x1, x2].
  return {
    onnx: Buffer.from(m.onnx as Uint8Array).toString('base64'),
    task: 'binary',
    inputs: m.modelJson.featureNames.map((name) => ({ name })),
    classes: m.modelJson.classes,
    publish: ['flow-a'],
  };
}
