// A worker SIGKILLed mid-training, or right after registering its model, loses its lease; another worker
// takes the job after the lease expires and finishes it, and the job yields exactly one model version —
// on a SQLite file and on PostgreSQL, with the first worker a separate OS process.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { STORE_KINDS } from '../../helpers/stores.ts';
import { alive, createHarness, type Harness, spawnWorker } from './harness.ts';

// Slow enough to be killed in the middle: 30 rounds × 100 ms of sleep (no CPU) per round.
const SLOW = { sleepPerIterationMs: 100 };

for (const kind of STORE_KINDS) {
  describe(`worker killed (${kind})`, () => {
    let h: Harness;
    before(async () => {
      h = await createHarness(kind);
    });
    after(async () => {
      await h?.cleanup();
    });

    async function exactlyOneVersion(jobId: string): Promise<void> {
      const job = await h.job(jobId);
      assert.equal(job.state, 'succeeded', job.error ?? '');
      const versions = (await h.tp.platform.store.models.versions(h.scope, 'churn')).filter(
        (v) => v.jobId === jobId,
      );
      assert.equal(versions.length, 1, 'exactly one model version for the job');
      assert.deepEqual(job.result, { model: 'churn', version: versions[0].version });
      // The registered checksum is that of the ONNX bytes stored at the job's path.
      const onnx = await h.tp.platform.services.artifacts.get(h.scope, `${versions[0].artifact}/model.onnx`);
      assert.equal(createHash('sha256').update(onnx).digest('hex'), versions[0].checksum);
      assert.equal(versions[0].artifact, `models/churn/${jobId}`);
    }

    test('SIGKILL mid-training: the child exits too, another worker finishes the job', {
      timeout: 90_000,
    }, async () => {
      const id = `job_kill_${kind}`;
      await h.enqueue(id, {
        algorithm: 'gbdt',
        params: { nRounds: 30, earlyStoppingRounds: 0, __test: SLOW },
      });
      const w = spawnWorker(h.tp.ts.url, h.tp.dataDir);
      try {
        const started = await w.waitFor('child-started');
        await h.waitForJob(id, (j) => j.progress?.phase === 'training');
        w.proc.kill('SIGKILL');
        const childPid = started.pid as number;
        // The orphaned child notices its parent is gone and stops training.
        const end = Date.now() + 3000;
        while (alive(childPid) && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
        assert.equal(alive(childPid), false, 'the training child outlived its killed worker');
      } finally {
        if (w.proc.exitCode === null) w.proc.kill('SIGKILL');
      }
      assert.equal((await h.job(id)).state, 'running'); // still leased by the dead worker

      const b = await h.workers();
      const done = await h.waitForJob(id, (j) => j.state !== 'running' && j.state !== 'queued', 60_000);
      await b.stop(0); // the next test's job is for a worker process
      assert.equal(done.attempts, 2);
      await exactlyOneVersion(id);
    });

    test('SIGKILL after registering, before finishing: the retry registers nothing new', {
      timeout: 90_000,
    }, async () => {
      const id = `job_reg_${kind}`;
      const before = (await h.tp.platform.store.models.versions(h.scope, 'churn')).length;
      await h.enqueue(id, { algorithm: 'linear' });
      const w = spawnWorker(h.tp.ts.url, h.tp.dataDir, ['--die-after-register']);
      try {
        await w.waitFor('registered');
        await new Promise<void>((r) =>
          w.proc.exitCode !== null || w.proc.signalCode !== null ? r() : w.proc.once('exit', () => r()),
        );
        assert.equal(w.proc.signalCode, 'SIGKILL');
      } finally {
        if (w.proc.exitCode === null && w.proc.signalCode === null) w.proc.kill('SIGKILL');
      }
      assert.equal((await h.job(id)).state, 'running');
      await h.workers();
      await h.waitForJob(id, (j) => j.state === 'succeeded', 60_000);
      await exactlyOneVersion(id);
      assert.equal((await h.tp.platform.store.models.versions(h.scope, 'churn')).length, before + 1);
    });
  });
}
