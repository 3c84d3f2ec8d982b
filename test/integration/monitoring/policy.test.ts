// Retraining policies and champion/challenger over a real store: drift fires a policy → a challenger job
// on the latest dataset version with the live version as champion; the cooldown holds the next one; the
// challenger is promoted only when better by the margin, and every decision is in the tenant's audit log
// with its reasons; failed jobs alert; schedules and new rows fire too.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Job } from '../../../src/core/jobs.ts';
import { createRng } from '../../../src/ml/rng.ts';
import { STORE_KINDS } from '../../helpers/stores.ts';
import { createWorld, HOUR, T0, trainingCsv, type World } from './fixtures.ts';

const h = (i: number): number => Date.parse(T0) + i * HOUR;

for (const kind of STORE_KINDS) {
  describe(`retraining policies and champion/challenger (${kind})`, () => {
    let w: World;
    let t: { id: string; admin: string; predict: string };

    before(async () => {
      w = await createWorld(kind);
      t = await w.tp.tenant('pol-a');
      assert.equal((await w.tp.upload(t.admin, 'sales', trainingCsv(300, 1))).status, 201);
    });
    after(() => w.cleanup());

    const scope = () => w.scope('pol-a');
    const challengerJobs = async (model: string) =>
      (await w.tp.platform.store.jobs.list(scope(), { model })).filter((j) => j.spec.champion);

    /** Registers the challenger a job would have trained, and the job as the worker reports it ended. */
    let attempt = 0;
    const finish = async (job: Job, accuracy: number, championAccuracy: number): Promise<Job> => {
      // A distinct job id per registration (the registry is idempotent on the job id).
      const jobId = `${job.id}-${attempt++}`;
      const v = await w.tp.platform.store.models.register(scope(), {
        model: job.spec.model,
        mode: 'tenant',
        task: 'binary',
        algorithm: 'linear',
        params: {},
        metrics: { accuracy, auc: 0.9 },
        datasets: [{ tenantId: 'pol-a', name: 'sales', version: job.spec.datasetVersion, rows: 400 }],
        artifact: `models/${job.spec.model}/${jobId}`,
        checksum: jobId.padEnd(64, '1').slice(0, 64),
        jobId,
        base: null,
        createdAt: w.clock.now().toISOString(),
        createdBy: 'system',
        candidate: true,
      });
      return {
        ...job,
        state: 'succeeded',
        result: {
          model: job.spec.model,
          version: v.version,
          championMetrics: { accuracy: championAccuracy },
        },
      };
    };
    const challengerAudit = async () =>
      (await w.tp.platform.services.audit.listOwn(scope(), { limit: 1000 })).filter(
        (e) => e.action === 'model.challenger',
      );

    test('drift fires the policy: one challenger job on the latest dataset version, the cooldown holds the next', async () => {
      const v1 = await w.model('pol-a', 'churn');
      // A newer dataset version exists: the challenger trains on it.
      assert.equal((await w.tp.upload(t.admin, 'sales', trainingCsv(400, 2))).status, 201);
      const put = await w.tp.call({
        method: 'PUT',
        url: '/v1/models/churn/policy',
        key: t.admin,
        json: { onDrift: true, promoteMargin: 0.01, cooldownHours: 6 },
      });
      assert.equal(put.status, 200, put.text);
      const rng = createRng(5);
      await w.predict('pol-a', 'churn', v1.version, h(0), 1000, rng);
      assert.equal((await w.cycleAfter(h(0))).jobs, 0);
      await w.predict('pol-a', 'churn', v1.version, h(1), 1000, rng, { x1: 1.5 });
      const stats = await w.cycleAfter(h(1));
      assert.equal(stats.jobs, 1);
      const jobs = await challengerJobs('churn');
      assert.equal(jobs.length, 1);
      const spec = jobs[0].spec;
      assert.deepEqual(spec.champion, { model: 'churn', version: v1.version });
      assert.equal(spec.reason, 'policy:drift');
      assert.equal(spec.dataset, 'sales');
      assert.equal(spec.datasetVersion, 2);
      assert.equal(spec.target, 'y');
      assert.equal(spec.algorithm, 'linear');
      const rec = await w.tp.platform.store.policies.get(scope(), 'churn');
      assert.equal(rec?.lastTrigger, 'drift');

      // Still drifting two hours later: within the cooldown, no second job.
      await w.predict('pol-a', 'churn', v1.version, h(2), 1000, rng, { x1: 1.5 });
      assert.equal((await w.cycleAfter(h(2))).jobs, 0);
      assert.equal((await challengerJobs('churn')).length, 1);
    });

    test('the challenger is promoted only when better by the margin; each decision is audited with its reasons', async () => {
      const [job] = await challengerJobs('churn');
      const before = w.alerts.length;
      // Worse than the champion by a hair under the margin (0.905 vs 0.9 + 0.01): stays a candidate.
      await w.monitoring.onJobFinished(await finish(job, 0.905, 0.9));
      let summary = await w.tp.platform.store.models.get(scope(), 'churn');
      assert.equal(summary?.liveVersion, 1);
      let audit = await challengerAudit();
      assert.equal(audit.length, 1);
      assert.match(
        audit[0].target,
        /^churn@2 vs @1: rejected; accuracy 0\.905 vs champion 0\.9 .*not better by the promotion margin/,
      );
      assert.equal(audit[0].actorRole, 'system');

      // Better by more than the margin: promoted, live moves, the audit says why.
      const [job2] = await challengerJobs('churn');
      await w.monitoring.onJobFinished(await finish(job2, 0.93, 0.9));
      summary = await w.tp.platform.store.models.get(scope(), 'churn');
      assert.equal(summary?.liveVersion, 3);
      audit = await challengerAudit();
      assert.equal(audit.length, 2);
      assert.match(audit[1].target, /^churn@3 vs @1: promoted; accuracy 0\.93 vs champion 0\.9/);
      assert.deepEqual(
        w.alerts.slice(before).map((a) => [a.event, a.version, a.data.championValue, a.data.challengerValue]),
        [
          ['challenger_rejected', 2, 0.9, 0.905],
          ['promotion', 3, 0.9, 0.93],
        ],
      );

      // A challenger whose champion is no longer live is never promoted over the new live version.
      await w.monitoring.onJobFinished(await finish(job2, 0.99, 0.9));
      assert.equal((await w.tp.platform.store.models.get(scope(), 'churn'))?.liveVersion, 3);
      audit = await challengerAudit();
      assert.match(audit[2].target, /rejected; .*the champion is no longer the live version/);

      // Rollback stays one call.
      const rb = await w.tp.call({ method: 'POST', url: '/v1/models/churn/rollback', key: t.admin });
      assert.equal(rb.status, 200, rb.text);
      assert.equal(rb.body.liveVersion, 1);
    });

    test('a failed job alerts job_failed', async () => {
      const [job] = await challengerJobs('churn');
      const before = w.alerts.length;
      await w.monitoring.onJobFinished({ ...job, state: 'failed', error: 'out of memory' });
      assert.deepEqual(
        w.alerts.slice(before).map((a) => [a.event, a.data.jobId, a.data.error]),
        [['job_failed', job.id, 'out of memory']],
      );
    });

    test('a schedule fires at its next occurrence, and new rows fire once the dataset has grown enough', async () => {
      const v = await w.model('pol-a', 'sched');
      w.clock.set(new Date(h(10)));
      const put = await w.tp.call({
        method: 'PUT',
        url: '/v1/models/sched/policy',
        key: t.admin,
        json: { schedule: '30 12 * * *' },
      });
      assert.equal(put.status, 200, put.text);
      w.clock.set(new Date(h(12) + 29 * 60_000));
      await w.monitoring.cycle();
      assert.equal((await challengerJobs('sched')).length, 0);
      w.clock.set(new Date(h(12) + 31 * 60_000));
      await w.monitoring.cycle();
      const jobs = await challengerJobs('sched');
      assert.deepEqual(
        jobs.map((j) => [j.spec.reason, j.spec.champion?.version]),
        [['policy:schedule', v.version]],
      );

      await w.model('pol-a', 'grow');
      // The live version trained on 300 rows; version 2 of the dataset has 400.
      assert.equal(
        (
          await w.tp.call({
            method: 'PUT',
            url: '/v1/models/grow/policy',
            key: t.admin,
            json: { onNewRows: 200 },
          })
        ).status,
        200,
      );
      await w.monitoring.cycle();
      assert.equal((await challengerJobs('grow')).length, 0);
      assert.equal(
        (
          await w.tp.call({
            method: 'PUT',
            url: '/v1/models/grow/policy',
            key: t.admin,
            json: { onNewRows: 100 },
          })
        ).status,
        200,
      );
      await w.monitoring.cycle();
      assert.deepEqual(
        (await challengerJobs('grow')).map((j) => j.spec.reason),
        ['policy:new-rows'],
      );
    });
  });
}
