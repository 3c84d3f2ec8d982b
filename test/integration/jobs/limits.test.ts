// A running job's limits on the real store (SQLite): cancel stops the child within 2 seconds, the
// wall-clock limit times it out, a heap limit ends it as out of memory, a CPU-time limit stops it, a
// crash becomes a readable failed attempt, and the CPU-seconds recorded match the child's real CPU time.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createHarness, type Harness, reapedChildrenCpuSeconds } from './harness.ts';

describe('job limits (sqlite)', () => {
  let h: Harness;
  before(async () => {
    h = await createHarness('sqlite');
    await h.workers({ slots: 2 });
  });
  after(async () => {
    await h?.cleanup();
  });

  test('cancel stops the child within 2 seconds of the request', { timeout: 60_000 }, async (t) => {
    const id = 'job_cancel';
    await h.enqueue(id, {
      algorithm: 'gbdt',
      params: { nRounds: 200, earlyStoppingRounds: 0, __test: { sleepPerIterationMs: 100 } },
    });
    await h.waitForJob(id, (j) => j.progress?.phase === 'training');
    const t0 = performance.now();
    await h.training.cancel(h.scope, id);
    const done = await h.waitForJob(id, (j) => j.state !== 'running', 10_000);
    const exit = h.events.find((e) => e.type === 'child-exited' && e.jobId === id);
    assert.ok(exit && exit.type === 'child-exited');
    const ms = exit.at - t0;
    t.diagnostic(`cancel request → child exit: ${Math.round(ms)} ms`);
    assert.ok(ms < 2000, `the child exited ${Math.round(ms)} ms after the cancel request`);
    assert.equal(exit.signal, 'SIGKILL');
    assert.equal(done.state, 'cancelled');
    assert.equal(done.attempts, 1);
  });

  test('the wall-clock limit ends the job as timed_out', { timeout: 60_000 }, async () => {
    const id = 'job_timeout';
    await h.enqueue(
      id,
      {
        algorithm: 'gbdt',
        params: { nRounds: 200, earlyStoppingRounds: 0, __test: { sleepPerIterationMs: 100 } },
      },
      { limits: { timeoutSeconds: 3, cpuSeconds: 120, heapMb: 256 } },
    );
    const done = await h.waitForJob(id, (j) => j.state !== 'running' && j.state !== 'queued');
    assert.equal(done.state, 'timed_out');
    assert.equal(done.error, 'wall-clock limit of 3 s reached');
    assert.ok(done.wallSeconds >= 3 && done.wallSeconds < 6, `wall ${done.wallSeconds}`);
  });

  test('a child over its heap limit fails with the out-of-memory reason', { timeout: 60_000 }, async () => {
    const id = 'job_oom';
    await h.enqueue(
      id,
      { params: { __test: { exhaustHeap: true } } },
      { maxAttempts: 1, limits: { timeoutSeconds: 60, cpuSeconds: 60, heapMb: 32 } },
    );
    const done = await h.waitForJob(id, (j) => j.state !== 'running' && j.state !== 'queued');
    assert.equal(done.state, 'failed');
    assert.equal(done.error, 'out of memory (heap limit 32 MiB)');
  });

  test('the CPU-time limit stops the child', { timeout: 60_000 }, async () => {
    const id = 'job_cpu';
    await h.enqueue(
      id,
      { params: { __test: { burnCpuMs: 20_000 } } },
      { maxAttempts: 1, limits: { timeoutSeconds: 60, cpuSeconds: 3, heapMb: 256 } },
    );
    const done = await h.waitForJob(id, (j) => j.state !== 'running' && j.state !== 'queued');
    assert.equal(done.state, 'failed');
    assert.equal(done.error, 'CPU-time limit of 3 s reached');
    assert.ok(done.cpuSeconds >= 3 && done.cpuSeconds < 4, `cpu ${done.cpuSeconds}`);
  });

  test('a crash is a failed attempt with a readable reason, retried while attempts remain', {
    timeout: 60_000,
  }, async () => {
    const id = 'job_crash';
    await h.enqueue(id, { params: { __test: { exitCode: 3 } } }, { maxAttempts: 2 });
    const done = await h.waitForJob(id, (j) => j.state === 'failed');
    assert.equal(done.attempts, 2);
    assert.equal(done.error, 'the training process exited with code 3');
  });

  test('the CPU-seconds recorded are within 10% of the child’s CPU time measured by the kernel', {
    timeout: 60_000,
  }, async (t) => {
    // This process's other children are the running tests' training children: wait until none runs.
    const id = 'job_meter';
    const running = () =>
      h.tp.platform.store.jobs.counts().then((c) => c.reduce((s, x) => s + x.running + x.queued, 0));
    const end = Date.now() + 30_000;
    while ((await running()) > 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 100));
    const before = reapedChildrenCpuSeconds();
    await h.enqueue(id, { params: { __test: { burnCpuMs: 1500 } } });
    const done = await h.waitForJob(id, (j) => j.state === 'succeeded');
    await new Promise((r) => setTimeout(r, 100));
    const measured = reapedChildrenCpuSeconds() - before;
    assert.ok(measured > 1.5, `measured ${measured}`);
    const diff = Math.abs(done.cpuSeconds - measured) / measured;
    t.diagnostic(
      `recorded ${done.cpuSeconds} s, kernel ${measured.toFixed(3)} s (${(diff * 100).toFixed(1)}%)`,
    );
    assert.ok(
      diff <= 0.1,
      `recorded ${done.cpuSeconds} s, kernel ${measured.toFixed(3)} s (${(diff * 100).toFixed(1)}%)`,
    );
  });
});
