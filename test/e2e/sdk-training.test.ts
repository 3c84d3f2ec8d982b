// Training through the SDK on the real platform (one worker slot): a job is queued, its event stream
// shows progress, `wait` returns it succeeded, and the model shows version 1 live with its lineage.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type JobStreamEvent, TenantmlClient, TenantmlError } from '../../src/sdk/index.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

let running: TestServer;
let tenant: TenantmlClient;

/** Two numeric features and a category decide a yes/no label; enough rows for a validation split. */
function csv(n: number): string {
  const lines = ['x1,x2,colour,label'];
  for (let i = 0; i < n; i++) {
    const x1 = ((i * 37) % 101) / 10;
    const x2 = ((i * 53) % 89) / 10;
    const colour = ['red', 'green', 'blue'][i % 3];
    lines.push(`${x1},${x2},${colour},${x1 + x2 + (colour === 'red' ? 2 : 0) > 10 ? 'yes' : 'no'}`);
  }
  return `${lines.join('\n')}\n`;
}

before(async () => {
  running = await startTestServer('tenantml-sdk-train-', { TENANTML_WORKER_SLOTS: '1' });
  const operator = new TenantmlClient({ baseUrl: running.url, apiKey: running.platform.adminKey });
  await operator.tenants.create({ id: 'acme', name: 'Acme' });
  const key = await operator.keys.create('acme', 'admin');
  tenant = new TenantmlClient({ baseUrl: running.url, apiKey: key.key });
  await tenant.datasets.upload('leads', csv(4000));
});

after(async () => {
  await running?.close();
});

describe('training through the SDK', () => {
  test('train, follow the events, wait: version 1 is live with its lineage', async () => {
    const queued = await tenant.models.train('churn', {
      dataset: 'leads',
      target: 'label',
      algorithm: 'gbdt',
      params: { nRounds: 300, earlyStoppingRounds: 0 },
      seed: 7,
    });
    assert.equal(queued.state, 'queued');
    assert.equal(queued.model, 'churn');
    assert.equal(queued.spec.datasetVersion, 1);
    assert.equal(queued.spec.seed, 7);

    const events: JobStreamEvent[] = [];
    for await (const ev of tenant.jobs.events(queued.id)) events.push(ev);
    const end = events.at(-1);
    assert.equal(end?.type, 'end');
    assert.ok(end?.type === 'end');
    assert.equal(end.state, 'succeeded', `error: ${end.error}`);
    assert.deepEqual(end.result, { model: 'churn', version: 1 });
    const jobs = events.flatMap((e) => (e.type === 'job' ? [e.job] : []));
    assert.ok(jobs.length >= 2, `${jobs.length} job events`);
    assert.ok(jobs.every((j) => j.id === queued.id));
    assert.equal(jobs.at(-1)?.state, 'succeeded');
    // The stream samples the job every 300 ms; a child takes longer than that to start and load.
    assert.ok(jobs.some((j) => j.state === 'running'));
    assert.ok(
      jobs.some((j) => j.progress !== null && typeof j.progress.phase === 'string'),
      'progress reached the stream',
    );

    // wait() on a finished job answers at once with the final job.
    const done = await tenant.jobs.wait(queued.id, { timeoutMs: 10_000 });
    assert.equal(done.state, 'succeeded');
    assert.deepEqual(done.result, { model: 'churn', version: 1 });
    assert.ok(done.finishedAt);

    const models = await tenant.models.list();
    assert.deepEqual(
      models.map((m) => [m.name, m.latestVersion, m.liveVersion, m.versions]),
      [['churn', 1, 1, 1]],
    );
    const model = await tenant.models.get('churn');
    assert.equal(model.liveVersion, 1);
    const [v1] = model.versionList;
    assert.equal(v1.version, 1);
    assert.equal(v1.live, true);
    assert.equal(v1.jobId, queued.id);
    assert.equal(v1.algorithm, 'gbdt');
    assert.deepEqual(v1.datasets, [{ tenantId: 'acme', name: 'leads', version: 1, rows: 4000 }]);
    assert.equal(typeof v1.checksum, 'string');
    assert.ok(Object.keys(v1.metrics).length > 0);

    const listed = await tenant.jobs.list({ model: 'churn', state: 'succeeded' });
    assert.deepEqual(
      listed.map((j) => j.id),
      [queued.id],
    );
    assert.deepEqual(await tenant.jobs.list({ state: 'failed' }), []);
  });

  test('wait follows a second job to the end and reports every change it saw', async () => {
    const job = await tenant.models.train('churn', {
      dataset: 'leads',
      target: 'label',
      algorithm: 'linear',
    });
    const states: string[] = [];
    const done = await tenant.jobs.wait(job.id, {
      timeoutMs: 20_000,
      onJob: (j) => {
        if (states.at(-1) !== j.state) states.push(j.state);
      },
    });
    assert.equal(done.state, 'succeeded', `error: ${done.error}`);
    assert.deepEqual(done.result, { model: 'churn', version: 2 });
    assert.equal(states.at(-1), 'succeeded');
    const model = await tenant.models.get('churn');
    assert.equal(model.versions, 2);
    assert.deepEqual(model.versionList.map((v) => v.version).sort(), [1, 2]);
  });

  test('refusals arrive as problems naming the field; another job id is not_found', async () => {
    const bad = await tenant.models.train('churn', { dataset: 'leads', target: 'nope' }).catch((e) => e);
    assert.ok(bad instanceof TenantmlError);
    assert.ok(bad.status >= 400 && bad.status < 500, `${bad.status}`);
    assert.ok(
      bad.errors.some((e) => e.field === 'target'),
      JSON.stringify(bad.errors),
    );
    const missing = await tenant.jobs.get('j_nope').catch((e) => e);
    assert.ok(missing instanceof TenantmlError);
    assert.equal(missing.code, 'not_found');
    // The event stream refuses before it opens, with the same problem.
    const stream = await (async () => {
      for await (const _ of tenant.jobs.events('j_nope')) return undefined;
    })().catch((e) => e);
    assert.ok(stream instanceof TenantmlError);
    assert.equal(stream.code, 'not_found');
  });
});
