// The MLOps loop's side of training, with real child processes on the real platform: every trained
// version stores its reference profile (profile.json) beside its artifacts; a challenger job registers a
// candidate that is not live and measures its champion on exactly its own validation rows; a champion
// that cannot be read leaves the job training on without the comparison, and the worker says why.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Job } from '../../../src/core/jobs.ts';
import { mintTenantScope, SYSTEM } from '../../../src/core/scope.ts';
import { loadTrainingFrame } from '../../../src/jobs/runner.ts';
import { prepareStart, type WorkerLog } from '../../../src/jobs/supervisor.ts';
import { loadTrained } from '../../../src/ml/codec.ts';
import { evaluateOn, type ModelJson, validationSplit } from '../../../src/ml/train.ts';
import { createHarness, type Harness, TENANT } from './harness.ts';

const system = mintTenantScope(TENANT, SYSTEM);

describe('reference profiles and challenger jobs (sqlite)', () => {
  let h: Harness;
  const warnings: { obj: Record<string, unknown>; msg: string }[] = [];
  const infos: { obj: Record<string, unknown>; msg: string }[] = [];
  const log: WorkerLog = {
    info: (obj, msg) => infos.push({ obj: obj as Record<string, unknown>, msg }),
    warn: (obj, msg) => warnings.push({ obj: obj as Record<string, unknown>, msg }),
    error: () => {},
  };
  const read = async (artifact: string, file: string): Promise<string> =>
    (await h.tp.platform.services.artifacts.get(system, `${artifact}/${file}`)).toString('utf8');
  const succeeded = (id: string): Promise<Job> =>
    h.waitForJob(id, (j) => j.state !== 'queued' && j.state !== 'running', 60_000);

  before(async () => {
    h = await createHarness('sqlite');
    await h.workers({}, { log });
    // The champion: a tree model, version 1 of 'churn', live.
    await h.enqueue('job_champ', { algorithm: 'gbdt', params: { nRounds: 20 }, seed: 11 });
    const j = await succeeded('job_champ');
    assert.equal(j.state, 'succeeded', j.error ?? '');
  });
  after(async () => {
    await h?.cleanup();
  });

  test('a trained version stores profile.json over the model’s own input features', async () => {
    const v = await h.tp.platform.store.models.version(system, 'churn', 1);
    assert.ok(v);
    const modelJson = JSON.parse(await read(v.artifact, 'model.json')) as ModelJson;
    const profile = JSON.parse(await read(v.artifact, 'profile.json'));
    assert.equal(profile.format, 'tenantml.profile/1');
    const names = (profile.features as { name: string }[]).map((f) => f.name);
    assert.deepEqual(
      names,
      modelJson.inputSchema.map((c) => c.name),
    );
    assert.ok(!names.includes('label'), 'the target is not a feature');
    // Small enough for a monitoring loop that reads thousands of them.
    assert.ok((await read(v.artifact, 'profile.json')).length < 64 * 1024);
    const built = infos.find(
      (i) => i.msg === 'worker: reference profile built' && i.obj.jobId === 'job_champ',
    );
    assert.ok(built && typeof built.obj.profileMs === 'number', JSON.stringify(infos.map((i) => i.msg)));
  });

  test('a challenger registers a candidate that is not live, with its champion measured on its validation rows', {
    timeout: 90_000,
  }, async () => {
    await h.enqueue('job_chal', {
      algorithm: 'linear',
      seed: 23,
      validFraction: 0.25,
      reason: 'policy:drift',
      champion: { model: 'churn', version: 1 },
    });
    const job = await succeeded('job_chal');
    assert.equal(job.state, 'succeeded', job.error ?? '');
    assert.equal(job.result?.version, 2);
    const champion = job.result?.championMetrics;
    assert.ok(champion, JSON.stringify(job.result));

    const { store } = h.tp.platform;
    const v2 = await store.models.version(system, 'churn', 2);
    assert.ok(v2);
    assert.equal((await store.models.get(system, 'churn'))?.liveVersion, 1, 'the champion stays live');
    // The same rows: as many as the challenger's own metrics were measured on …
    assert.equal(champion.n, v2.metrics.n);
    assert.deepEqual(Object.keys(champion).sort(), Object.keys(v2.metrics).sort());
    // … and the very rows: the champion scored here on the split this job's seed and fraction give.
    const prepared = await prepareStart(
      {
        store,
        artifacts: h.tp.platform.services.artifacts,
        keyring: h.tp.platform.services.keyring,
        blobs: { kind: 'fs', root: h.tp.platform.config.artifactsDir },
      },
      job,
    );
    assert.ok('start' in prepared && prepared.start.champion, 'the champion’s artifacts are sent');
    const { frame } = await loadTrainingFrame(prepared.start);
    const { validRows } = validationSplit(frame, 'label', 'binary', 23, 0.25);
    const v1 = await store.models.version(system, 'churn', 1);
    assert.ok(v1);
    const rebuilt = loadTrained({
      fitted: await read(v1.artifact, 'fitted.json'),
      featurizer: await read(v1.artifact, 'featurizer.json'),
      model: await read(v1.artifact, 'model.json'),
    });
    const expected = evaluateOn(rebuilt, frame, validRows, 'label');
    assert.equal(expected.n, champion.n);
    assert.ok(expected.task !== 'regression');
    assert.equal(champion.accuracy, expected.accuracy);
    assert.equal(champion.logLoss, expected.logLoss);
    // Not the champion's own validation rows (another seed): its registered figure is another measurement.
    assert.notEqual(champion.n, v1.metrics.n);
    // A challenger has a profile like any version.
    assert.equal(JSON.parse(await read(v2.artifact, 'profile.json')).format, 'tenantml.profile/1');
  });

  test('a champion on the same seed is scored on its own validation rows: its registered metrics', {
    timeout: 90_000,
  }, async () => {
    await h.enqueue('job_same', { algorithm: 'linear', seed: 11, champion: { model: 'churn', version: 1 } });
    const job = await succeeded('job_same');
    assert.equal(job.state, 'succeeded', job.error ?? '');
    const v1 = await h.tp.platform.store.models.version(system, 'churn', 1);
    assert.deepEqual(job.result?.championMetrics, v1?.metrics);
  });

  test('a champion that cannot be read: the job trains without championMetrics, and the log says why', {
    timeout: 90_000,
  }, async () => {
    // A version that does not exist, and one whose fitted parameters are gone (like an imported model).
    const { store } = h.tp.platform;
    await h.enqueue('job_base2', { algorithm: 'linear', seed: 5 });
    assert.equal((await succeeded('job_base2')).state, 'succeeded');
    const gone = await store.models.version(
      system,
      'churn',
      (await store.models.get(system, 'churn'))!.latestVersion,
    );
    assert.ok(gone);
    await h.tp.platform.services.artifacts.delete(system, `${gone.artifact}/fitted.json`);

    // A fresh model has no live version, so only its being a candidate keeps its first version off.
    await h.enqueue('job_nochamp', { model: 'fresh', seed: 3, champion: { model: 'churn', version: 99 } });
    await h.enqueue('job_nofitted', { seed: 4, champion: { model: 'churn', version: gone.version } });
    for (const [id, reason] of [
      ['job_nochamp', /churn@99 does not exist/],
      ['job_nofitted', /has no fitted parameters/],
    ] as const) {
      const job = await succeeded(id);
      assert.equal(job.state, 'succeeded', job.error ?? '');
      assert.ok(job.result && !('championMetrics' in job.result), JSON.stringify(job.result));
      const model = job.spec.model;
      const v = await store.models.version(system, model, job.result.version);
      assert.ok(v);
      const summary = await store.models.get(system, model);
      assert.equal(summary?.liveVersion, model === 'fresh' ? null : 1, `${model}: a challenger is not live`);
      const line = warnings.find((w) => w.obj.jobId === id);
      assert.ok(line, `no warning for ${id}`);
      assert.match(String(line.obj.reason), reason);
    }
  });
});
