// The supervisor loop with real child processes over in-memory job and model repositories: results are
// stored and registered once per job, slots bound the children, a lost lease or a shutdown kills the
// child without recording an outcome, and a refusal inside the child is a readable failure.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import type { Job } from '../../../src/core/jobs.ts';
import { createFixture, type Fixture, waitFor } from './fixture.ts';

const limits = { timeoutSeconds: 60, cpuSeconds: 60, heapMb: 256 };

describe('supervisor', () => {
  let f: Fixture;
  before(async () => {
    process.env.TENANTML_PROBE = 'must-not-reach-the-child';
    f = await createFixture();
  });
  after(async () => {
    await f?.cleanup();
  });

  const enqueue = (
    id: string,
    over: Partial<Parameters<Fixture['spec']>[0]> = {},
    maxAttempts = 3,
  ): Promise<Job> =>
    f.jobs.enqueue(f.scope, {
      id,
      kind: 'train',
      priority: 0,
      spec: f.spec(over),
      maxAttempts,
      limits,
      createdAt: new Date().toISOString(),
      createdBy: 'k_test',
    });
  const state = (id: string): Job => f.jobs.jobs.get(id) as Job;

  test('one slot runs jobs one at a time; each stores its artifacts at the job path and registers once', {
    timeout: 60_000,
  }, async () => {
    // A previous attempt of job_b registered its version before its worker died.
    await f.models.register(f.scope, {
      model: 'churn',
      mode: 'tenant',
      task: 'binary',
      algorithm: 'linear',
      params: {},
      metrics: {},
      datasets: [],
      artifact: 'models/churn/job_b',
      checksum: 'x',
      jobId: 'job_b',
      base: null,
      createdAt: '2026-01-01T00:00:00.000Z',
      createdBy: 'k_test',
    });
    await enqueue('job_a');
    await enqueue('job_b');
    const s = f.supervisor({ slots: 1 });
    s.start();
    await waitFor(
      'both jobs',
      () => state('job_a').state === 'succeeded' && state('job_b').state === 'succeeded',
      45_000,
    );
    await s.stop(0);

    const starts = f.events.filter((e) => e.type === 'child-started').map((e) => e.t);
    const exits = f.events.filter((e) => e.type === 'child-exited').map((e) => e.t);
    assert.equal(starts.length, 2);
    assert.ok(starts[1] > exits[0], 'the second child started before the first exited');

    assert.equal(f.models.versionsList.length, 2, 'job_b kept the version registered before the crash');
    assert.deepEqual(state('job_b').result, { model: 'churn', version: 1 });
    const a = f.models.versionsList.find((v) => v.jobId === 'job_a');
    assert.ok(a);
    assert.deepEqual(state('job_a').result, { model: 'churn', version: 2 });
    assert.equal(a.artifact, 'models/churn/job_a');
    assert.deepEqual(a.datasets, [{ tenantId: 'acme', name: 'tiny', version: 1, rows: 200 }]);
    assert.equal(a.mode, 'tenant');
    assert.equal(a.createdBy, 'k_test');
    assert.match(a.checksum, /^[0-9a-f]{64}$/);
    assert.ok(a.metrics.accuracy > 0.7, `accuracy ${a.metrics.accuracy}`);
    const modelJson = JSON.parse(
      (await f.artifacts.get(f.scope, `${a.artifact}/model.json`)).toString('utf8'),
    );
    assert.equal(modelJson.format, 'tenantml.model/1');
    const featurizer = JSON.parse(
      (await f.artifacts.get(f.scope, `${a.artifact}/featurizer.json`)).toString('utf8'),
    );
    assert.equal(featurizer.format, 'tenantml.featurizer');
    // The fitted parameters are kept too: every trained model can be the base of a tuned one.
    const fitted = JSON.parse((await f.artifacts.get(f.scope, `${a.artifact}/fitted.json`)).toString('utf8'));
    assert.equal(fitted.format, 'tenantml.fitted/1');
    assert.equal(a.status, 'ok');
    assert.equal(a.base, null);
    assert.ok(state('job_a').cpuSeconds > 0);
    assert.ok(state('job_a').wallSeconds > 0);
  });

  test('a job its dead worker left running, with no attempt left, ends by lease expiry and gets its hook', {
    timeout: 30_000,
  }, async () => {
    await enqueue('job_orphan', {}, 1);
    // Claimed by a worker that then died: running, its one attempt used, its lease long expired.
    const j = state('job_orphan');
    Object.assign(j, {
      state: 'running',
      attempts: 1,
      leaseOwner: 'dead-worker',
      leaseExpiresAt: '2000-01-01T00:00:00.000Z',
    });
    const seen: Job[] = [];
    const s = f.supervisor(
      { slots: 0, requeueEveryMs: 50 },
      {
        onFinished: async (job) => {
          seen.push(job);
        },
      },
    );
    s.start();
    await waitFor('the hook', () => seen.length > 0);
    await s.stop(0);
    assert.deepEqual(
      seen.map((x) => [x.id, x.state]),
      [['job_orphan', 'failed']],
    );
  });

  test('a refusal inside the child is a failed attempt with its reason', { timeout: 30_000 }, async () => {
    // Three attempts allowed, one used: a refusal by the training is the same every time.
    await enqueue('job_refused', { target: 'colour', task: 'binary' }, 3);
    // The onFinished hook sees the job once it ended for good; its failure is logged, never thrown.
    const seen: Job[] = [];
    const s = f.supervisor(
      {},
      {
        onFinished: async (j) => {
          seen.push(j);
          throw new Error('the hook broke');
        },
      },
    );
    s.start();
    await waitFor('failure', () => state('job_refused').state === 'failed');
    await waitFor('the hook', () => seen.length > 0);
    await s.stop(0);
    assert.deepEqual(
      seen.map((j) => [j.id, j.state]),
      [['job_refused', 'failed']],
    );
    assert.equal(state('job_refused').attempts, 1);
    assert.match(
      state('job_refused').error ?? '',
      /^validation_failed: target: binary classification needs 2 classes/,
    );
  });

  test('a lost lease kills the child and records nothing', { timeout: 30_000 }, async () => {
    await enqueue('job_stolen', {
      algorithm: 'gbdt',
      params: { nRounds: 100, earlyStoppingRounds: 0, __test: { sleepPerIterationMs: 100 } },
    });
    const s = f.supervisor();
    s.start();
    // Progress reaches the job through the heartbeat: rounds, the validation metric, time left.
    const p = await waitFor('an estimate', () => {
      const pr = state('job_stolen').progress;
      return pr?.phase === 'training' && pr.etaSeconds !== undefined && (pr.iteration ?? 0) >= 3 ? pr : null;
    });
    assert.equal(p.totalIterations, 100);
    // Without early stopping no rows are held out of training, so there is no metric to show (trees
    // never report one measured on the validation rows).
    assert.equal(p.metric, undefined);
    // ~100 ms a round: the rounds left take about that long each (loose bounds: a loaded machine).
    const left = 100 - (p.iteration ?? 0);
    assert.ok(
      p.etaSeconds !== undefined && p.etaSeconds > left * 0.05 && p.etaSeconds < left * 1,
      `eta ${p.etaSeconds}`,
    );
    if (process.platform === 'linux') {
      // The data key went over IPC only, and nothing of this process's environment reached the child.
      const started = f.events.find((e) => e.type === 'child-started' && e.jobId === 'job_stolen');
      assert.ok(started && started.type === 'child-started');
      const environ = readFileSync(`/proc/${started.pid}/environ`, 'utf8');
      const cmdline = readFileSync(`/proc/${started.pid}/cmdline`, 'utf8');
      assert.ok(!environ.includes('TENANTML_PROBE'), 'the parent environment leaked into the child');
      const key = await f.dataKey();
      for (const form of [key.toString('hex'), key.toString('base64')]) {
        assert.ok(!environ.includes(form) && !cmdline.includes(form), 'the data key is in argv or env');
      }
    }
    f.jobs.steal('job_stolen');
    await waitFor('child exit', () =>
      f.events.find((e) => e.type === 'child-exited' && e.jobId === 'job_stolen'),
    );
    await waitFor('slot freed', () => s.active === 0);
    await s.stop(0);
    assert.ok(f.events.some((e) => e.type === 'lease-lost' && e.jobId === 'job_stolen'));
    assert.ok(!f.events.some((e) => e.type === 'finished' && e.jobId === 'job_stolen'));
    assert.equal(state('job_stolen').state, 'running');
    assert.equal(state('job_stolen').leaseOwner, 'someone-else');
  });

  test('stop() stops claiming, then kills what is still running after the grace period', {
    timeout: 30_000,
  }, async () => {
    await enqueue('job_slow', {
      algorithm: 'gbdt',
      params: { nRounds: 100, earlyStoppingRounds: 0, __test: { sleepPerIterationMs: 100 } },
    });
    await enqueue('job_waiting');
    const s = f.supervisor({ slots: 1 });
    s.start();
    await waitFor('training', () => state('job_slow').progress?.phase === 'training');
    const t0 = performance.now();
    await s.stop(300);
    assert.ok(performance.now() - t0 < 3000);
    assert.ok(f.events.some((e) => e.type === 'abandoned' && e.jobId === 'job_slow'));
    assert.ok(f.events.some((e) => e.type === 'child-exited' && e.jobId === 'job_slow'));
    // Left to its lease: another worker requeues it when the lease expires.
    assert.equal(state('job_slow').state, 'running');
    assert.equal(state('job_waiting').state, 'queued');
  });
});
