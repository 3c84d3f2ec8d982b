// The whole loop with real training children (SQLite, one worker slot): a trained version's profile.json,
// real predictions through the API into the prediction log, a shifted feature caught by the cycle, the
// drift policy queueing a challenger that the worker trains on the newest dataset version (where the
// rule changed), the challenger measured against the champion on the same rows and promoted because it is
// better; a second challenger on the same data is not better by the margin and stays a candidate.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { mintTenantScope, SYSTEM } from '../../../src/core/scope.ts';
import { createRng } from '../../../src/ml/rng.ts';
import { MonitoringService } from '../../../src/services/monitoring/service.ts';
import { createTestPlatform, type TestPlatform } from '../../helpers/platform.ts';
import { draw } from './fixtures.ts';

/** y = yes when x1 > cut (plus a little noise); `cut` is what changes between dataset versions. */
function csv(n: number, seed: number, cut: number, shift = 0): string {
  const rng = createRng(seed);
  const lines = ['x1,c,y'];
  for (let i = 0; i < n; i++) {
    const r = draw(rng, { x1: shift });
    const y = r.x1 + (rng.next() - 0.5) * 0.2 > cut ? 'yes' : 'no';
    lines.push(`${r.x1.toFixed(4)},${r.c},${y}`);
  }
  return `${lines.join('\n')}\n`;
}

describe('the monitoring loop with real training', () => {
  let tp: TestPlatform;
  let t: { id: string; admin: string; predict: string };
  let monitoring: MonitoringService;
  const alerts: string[] = [];

  const waitJob = async (id: string) => {
    const until = Date.now() + 120_000;
    for (;;) {
      const r = await tp.call({ method: 'GET', url: `/v1/jobs/${id}`, key: t.admin });
      assert.equal(r.status, 200, r.text);
      if (['succeeded', 'failed', 'cancelled', 'timed_out'].includes(r.body.state)) return r.body;
      if (Date.now() > until) throw new Error(`job ${id} did not end: ${r.text}`);
      await new Promise((res) => setTimeout(res, 200));
    }
  };
  /** The champion/challenger decisions in the tenant's audit log, once there are at least `n`. */
  const waitDecisions = async (n: number) => {
    const scope = mintTenantScope('loop-a', SYSTEM);
    const until = Date.now() + 30_000;
    for (;;) {
      const entries = (await tp.platform.services.audit.listOwn(scope, { limit: 1000 })).filter(
        (e) => e.action === 'model.challenger',
      );
      if (entries.length >= n || Date.now() > until) return entries;
      await new Promise((res) => setTimeout(res, 100));
    }
  };
  const predictBatch = async (n: number, seed: number, shift: number) => {
    const rng = createRng(seed);
    const instances = Array.from({ length: n }, () => draw(rng, { x1: shift }));
    await new Promise((res) => setTimeout(res, 1100)); // the premium tier admits 2000 predictions a second
    const r = await tp.call({
      method: 'POST',
      url: '/v1/models/churn/predict',
      key: t.predict,
      json: { instances },
    });
    assert.equal(r.status, 200, r.text);
    await tp.platform.services.inference.predictionLog.flush();
  };

  before(async () => {
    tp = await createTestPlatform('sqlite', { env: { TENANTML_WORKER_SLOTS: '1' } });
    t = await tp.tenant('loop-a', { tier: 'premium' });
    const { services, store } = tp.platform;
    monitoring = new MonitoringService({
      store,
      log: services.inference.predictionLog,
      artifacts: services.artifacts,
      training: services.training,
      alerts: {
        async emit(scope, event, body) {
          alerts.push(`${scope.tenantId}:${event}:${body.model}`);
          return services.webhooks.emit(scope, event, body);
        },
      },
      audit: services.audit,
      clock: { now: () => new Date() },
      settings: { granularity: 'day', minRows: 50, driftShare: 0.5, feedbackHorizonHours: 168 },
      settleMs: 0,
    });
  });
  after(() => tp.cleanup());

  test('drift → policy → challenger trained on the newest data → promoted when better, audited; not when no better', async () => {
    assert.equal((await tp.upload(t.admin, 'sales', csv(2000, 1, 0))).status, 201);
    const train = await tp.call({
      method: 'POST',
      url: '/v1/models/churn/train',
      key: t.admin,
      json: { dataset: 'sales', target: 'y', algorithm: 'linear' },
    });
    assert.equal(train.status, 202, train.text);
    assert.equal((await waitJob(train.body.id)).state, 'succeeded');
    const scope = mintTenantScope('loop-a', SYSTEM);
    const v1 = await tp.platform.store.models.version(scope, 'churn', 1);
    assert.ok(v1);
    const profile = JSON.parse(
      (await tp.platform.services.artifacts.get(scope, `${v1.artifact}/profile.json`)).toString(),
    );
    assert.equal(profile.format, 'tenantml.profile/1');

    const put = await tp.call({
      method: 'PUT',
      url: '/v1/models/churn/policy',
      key: t.admin,
      json: { onDrift: true, promoteMargin: 0.02 },
    });
    assert.equal(put.status, 200, put.text);

    // Traffic like the training data: no alert, no job.
    await predictBatch(1000, 2, 0);
    let stats = await monitoring.cycle();
    assert.equal(stats.errors, 0);
    assert.equal(stats.records, 1000);
    assert.deepEqual(alerts, []);
    assert.equal(stats.jobs, 0);

    // The world moves: x1 shifts, and (the newest dataset version shows it) the rule changed.
    assert.equal((await tp.upload(t.admin, 'sales', csv(2000, 3, 1.5, 1.5))).status, 201);
    await predictBatch(1000, 4, 1.5);
    await predictBatch(1000, 5, 1.5);
    stats = await monitoring.cycle();
    assert.equal(stats.errors, 0);
    assert.deepEqual(alerts, ['loop-a:drift:churn']);
    assert.equal(stats.jobs, 1);

    const jobs = (await tp.platform.store.jobs.list(scope, { model: 'churn' })).filter(
      (j) => j.spec.champion,
    );
    assert.equal(jobs.length, 1);
    assert.equal(jobs[0].spec.datasetVersion, 2);
    const done = await waitJob(jobs[0].id);
    assert.equal(done.state, 'succeeded', done.error);
    const job = await tp.platform.store.jobs.get(scope, done.id);
    assert.ok(job?.result?.championMetrics, 'the challenger job measured the champion');
    const challengerAccuracy = (await tp.platform.store.models.version(scope, 'churn', job.result.version))
      ?.metrics.accuracy as number;
    const championAccuracy = job.result.championMetrics.accuracy;
    // On the new rule the old model is clearly worse: the challenger wins by more than the margin.
    assert.ok(challengerAccuracy >= championAccuracy + 0.02, `${challengerAccuracy} vs ${championAccuracy}`);
    // The platform's after-job hook makes the decision (the worker runs in this process).
    const decisions = await waitDecisions(1);
    assert.equal((await tp.platform.store.models.get(scope, 'churn'))?.liveVersion, job.result.version);
    assert.match(decisions[0].target, new RegExp(`^churn@${job.result.version} vs @1: promoted; accuracy `));

    // Retrained again on the same data: no better than the new champion by the margin, stays a candidate.
    const again = await tp.platform.services.training.submit(
      scope,
      'churn',
      { dataset: 'sales', target: 'y', algorithm: 'linear' },
      { champion: { model: 'churn', version: job.result.version }, reason: 'policy:schedule' },
    );
    const done2 = await waitJob(again.id);
    assert.equal(done2.state, 'succeeded', done2.error);
    const job2 = await tp.platform.store.jobs.get(scope, again.id);
    assert.ok(job2?.result?.championMetrics);
    const audit = await waitDecisions(2);
    assert.equal((await tp.platform.store.models.get(scope, 'churn'))?.liveVersion, job.result.version);
    assert.match(audit[1].target, /: rejected; accuracy .* not better by the promotion margin/);
    assert.equal(audit.length, 2);
  });
});
