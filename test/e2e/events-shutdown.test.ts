// An open job event stream must not hold a graceful shutdown open: on SIGTERM the server ends every
// stream (clients reconnect or poll) and closes within moments, even while a job is still queued.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startTestServer, tenantKey } from '../helpers/server.ts';

test('shutting down ends open event streams instead of waiting for their clients', {
  timeout: 30_000,
}, async () => {
  // No workers: the job stays queued, so its stream would run forever.
  const run = await startTestServer('tenantml-sse-', { TENANTML_WORKER_SLOTS: '0' });
  try {
    const app = run.platform.app;
    const key = await tenantKey(run, 'sse');
    const auth = { authorization: `Bearer ${key}` };
    let csv = 'a,b\n';
    for (let i = 0; i < 50; i++) csv += `${i},${i % 2 ? 'x' : 'y'}\n`;
    await app.inject({
      method: 'POST',
      url: '/v1/datasets/d',
      headers: { ...auth, 'content-type': 'text/csv' },
      payload: csv,
    });
    const job = (
      await app.inject({
        method: 'POST',
        url: '/v1/models/m/train',
        headers: auth,
        payload: { dataset: 'd', target: 'b' },
      })
    ).json();
    assert.equal(job.state, 'queued');

    const res = await fetch(`${run.url}/v1/jobs/${job.id}/events`, { headers: auth });
    assert.equal(res.status, 200);
    const reader = res.body!.getReader();
    const first = await reader.read();
    assert.match(new TextDecoder().decode(first.value), /event: job/);
    const drained = (async () => {
      for (;;) if ((await reader.read()).done) return true;
    })();

    const started = Date.now();
    await run.close();
    const took = Date.now() - started;
    assert.ok(took < 2000, `close took ${took} ms with an open event stream`);
    assert.equal(await drained, true, 'the client saw its stream end');
  } finally {
    await run.close();
  }
});
