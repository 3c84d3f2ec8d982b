// A real training job through the platform's own worker and after-job hook: the CPU-seconds metered for it
// are within 10% of its child process's CPU time measured independently (the kernel's count of this
// process's reaped children), GET /v1/usage shows them with the job's wall time and rows, and running the
// hook's metering again for the same job adds nothing.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { mintTenantScope, SYSTEM } from '../../../src/core/scope.ts';
import { meterFinishedJob } from '../../../src/services/metering/sources.ts';
import { createTestPlatform, type TestPlatform } from '../../helpers/platform.ts';
import { csv, reapedChildrenCpuSeconds, tinyJob } from '../jobs/harness.ts';

describe('training usage from a real job (sqlite)', () => {
  let tp: TestPlatform;
  let t: { id: string; admin: string; predict: string };
  before(async () => {
    tp = await createTestPlatform('sqlite', {
      env: { TENANTML_WORKER_SLOTS: '1' },
      workers: { testHooks: true, pollMs: 50, heartbeatMs: 200, leaseMs: 2000, requeueEveryMs: 300 },
    });
    t = await tp.tenant('mt');
    const up = await tp.upload(t.admin, 'tiny', csv());
    assert.equal(up.status, 201, JSON.stringify(up.body));
  });
  after(() => tp.cleanup());

  test('metered CPU-seconds are within 10% of the child’s CPU time; a second metering counts once', {
    timeout: 90_000,
  }, async (tt) => {
    const scope = mintTenantScope(t.id, SYSTEM);
    const { store } = tp.platform;
    const before = reapedChildrenCpuSeconds();
    // Queued straight into the job table: the API refuses the `__test` parameters.
    await store.jobs.enqueue(
      scope,
      tinyJob(
        'job_metered',
        { params: { __test: { burnCpuMs: 1500 } } },
        { maxAttempts: 1, limits: { timeoutSeconds: 60, cpuSeconds: 60, heapMb: 256 } },
      ),
      { maxQueued: 10 },
    );
    const usage = async () => {
      // Days around now, not "this month": the check must hold across a month boundary too.
      const day = 86_400_000;
      const from = new Date(Date.now() - 2 * day).toISOString();
      const to = new Date(Date.now() + 2 * day).toISOString();
      const r = await tp.call({
        method: 'GET',
        url: `/v1/usage?granularity=day&from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}`,
        key: t.admin,
      });
      assert.equal(r.status, 200, r.text);
      return r.body.tenants[0].total.usage as Record<string, number>;
    };
    // The after-job hook records the usage when the job ends.
    const end = Date.now() + 60_000;
    let u = await usage();
    while (u.training_cpu_seconds === undefined && Date.now() < end) {
      await new Promise((r) => setTimeout(r, 100));
      u = await usage();
    }
    const job = await store.jobs.get(scope, 'job_metered');
    assert.equal(job?.state, 'succeeded', job?.error ?? '');
    const measured = reapedChildrenCpuSeconds() - before;
    assert.ok(measured > 1.5, `measured ${measured}`);
    const diff = Math.abs(u.training_cpu_seconds - measured) / measured;
    tt.diagnostic(
      `metered ${u.training_cpu_seconds} s, kernel ${measured.toFixed(3)} s (${(diff * 100).toFixed(1)}%)`,
    );
    assert.ok(diff <= 0.1, `metered ${u.training_cpu_seconds} s, kernel ${measured.toFixed(3)} s`);
    assert.equal(u.training_cpu_seconds, job?.cpuSeconds);
    assert.equal(u.training_wall_seconds, job?.wallSeconds);
    assert.equal(u.training_rows, 300, 'the rows of the dataset version that trained it');

    // The hook's metering again for the same job (a replay): nothing more.
    await meterFinishedJob(
      { store, sharedCost: tp.platform.config.sharedCost, meter: tp.platform.meter },
      scope,
      job!,
    );
    assert.deepEqual(await usage(), u);
  });
});
