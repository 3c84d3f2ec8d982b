// Training over HTTP with a real worker: submit (202), follow the event stream to the end, find the
// registered model version with its lineage; refusals name their field; another tenant's jobs are 404.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createTestPlatform, type TestPlatform } from '../../helpers/platform.ts';

function churnCsv(n: number): string {
  const lines = ['plan,seats,spend,churned'];
  for (let i = 0; i < n; i++) {
    const plan = ['free', 'team', 'pro'][i % 3];
    const seats = (i * 7) % 23;
    const spend = plan === 'free' ? 0 : seats * 12.5;
    lines.push(`${plan},${seats},${spend},${seats < 8 ? 'yes' : 'no'}`);
  }
  return `${lines.join('\n')}\n`;
}

function parseSse(text: string): { event: string; data: any }[] {
  return text
    .split('\n\n')
    .filter((b) => b.includes('event:'))
    .map((b) => ({
      event: /event: (.*)/.exec(b)![1],
      data: JSON.parse(/data: (.*)/.exec(b)![1]),
    }));
}

describe('training over HTTP', () => {
  let tp: TestPlatform;
  let a: { id: string; admin: string; predict: string };
  let b: { id: string; admin: string; predict: string };
  let jobId: string;

  before(async () => {
    tp = await createTestPlatform('sqlite', { env: { TENANTML_WORKER_SLOTS: '1' } });
    a = await tp.tenant('trainer-a');
    b = await tp.tenant('trainer-b');
    assert.equal((await tp.upload(a.admin, 'churn', churnCsv(300))).status, 201);
  });
  after(() => tp.cleanup());

  test('a job is queued with 202, streams progress and registers one live model version', async () => {
    const r = await tp.call({
      method: 'POST',
      url: '/v1/models/churn-model/train',
      key: a.admin,
      json: { dataset: 'churn', target: 'churned', algorithm: 'linear' },
    });
    assert.equal(r.status, 202, r.text);
    assert.equal(r.headers.location, `/v1/jobs/${r.body.id}`);
    assert.equal(r.body.state, 'queued');
    assert.equal(r.body.spec.datasetVersion, 1);
    jobId = r.body.id;

    const stream = await tp.call({ method: 'GET', url: `/v1/jobs/${jobId}/events`, key: a.admin });
    assert.equal(stream.status, 200);
    assert.match(String(stream.headers['content-type']), /text\/event-stream/);
    const events = parseSse(stream.text);
    assert.equal(events.at(-1)!.event, 'end');
    assert.equal(events.at(-1)!.data.state, 'succeeded', stream.text.slice(-500));
    assert.ok(events.some((e) => e.event === 'job' && e.data.id === jobId));

    const job = await tp.call({ method: 'GET', url: `/v1/jobs/${jobId}`, key: a.admin });
    assert.equal(job.body.state, 'succeeded');
    assert.deepEqual(job.body.result, { model: 'churn-model', version: 1 });
    assert.ok(job.body.cpuSeconds > 0);

    const model = await tp.call({ method: 'GET', url: '/v1/models/churn-model', key: a.admin });
    assert.equal(model.status, 200);
    assert.equal(model.body.liveVersion, 1);
    const v = model.body.versionList[0];
    assert.equal(v.jobId, jobId);
    assert.equal(v.mode, 'tenant');
    assert.deepEqual(v.datasets, [{ tenantId: a.id, name: 'churn', version: 1, rows: 300 }]);
    assert.match(v.checksum, /^[0-9a-f]{64}$/);
    assert.ok(typeof v.metrics.accuracy === 'number' && v.metrics.accuracy > 0.8, JSON.stringify(v.metrics));
    const list = await tp.call({ method: 'GET', url: '/v1/jobs?state=succeeded', key: a.admin });
    assert.deepEqual(
      list.body.jobs.map((j: any) => j.id),
      [jobId],
    );
  });

  test("another tenant's job and model answer 404, and it cannot cancel the job", async () => {
    for (const url of [`/v1/jobs/${jobId}`, `/v1/jobs/${jobId}/events`, '/v1/models/churn-model']) {
      const r = await tp.call({ method: 'GET', url, key: b.admin });
      assert.equal(r.status, 404, url);
    }
    const c = await tp.call({ method: 'POST', url: `/v1/jobs/${jobId}/cancel`, key: b.admin });
    assert.equal(c.status, 404);
    assert.deepEqual((await tp.call({ method: 'GET', url: '/v1/jobs', key: b.admin })).body.jobs, []);
    const train = await tp.call({
      method: 'POST',
      url: '/v1/models/m/train',
      key: b.admin,
      json: { dataset: 'churn', target: 'churned' },
    });
    assert.equal(train.status, 404, "B cannot train on A's dataset");
  });

  test('refusals name the field and queue nothing', async () => {
    const cases: [Record<string, unknown>, number, string][] = [
      [{ dataset: 'churn' }, 400, 'target'],
      [{ dataset: 'churn', target: 'nope' }, 400, 'target'],
      [{ dataset: 'churn', target: 'churned', algorithm: 'forest' }, 400, 'algorithm'],
      [{ dataset: 'churn', target: 'churned', params: { C: -1 } }, 400, 'params.C'],
      [{ dataset: 'churn', target: 'churned', bogus: 1 }, 400, 'bogus'],
      [{ dataset: 'churn', target: 'churned', version: 9 }, 404, ''],
      [{ dataset: 'missing', target: 'churned' }, 404, ''],
    ];
    for (const [body, status, field] of cases) {
      const r = await tp.call({ method: 'POST', url: '/v1/models/m2/train', key: a.admin, json: body });
      assert.equal(r.status, status, `${JSON.stringify(body)} → ${r.text}`);
      if (field)
        assert.ok(
          r.body.errors.some((e: any) => e.field === field),
          `${field} in ${r.text}`,
        );
    }
    const jobs = await tp.call({ method: 'GET', url: '/v1/jobs?model=m2', key: a.admin });
    assert.deepEqual(jobs.body.jobs, []);
  });

  test('a predict key may not train', async () => {
    const r = await tp.call({
      method: 'POST',
      url: '/v1/models/churn-model/train',
      key: a.predict,
      json: { dataset: 'churn', target: 'churned' },
    });
    assert.equal(r.status, 403);
  });
});
