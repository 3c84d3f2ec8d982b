// Usage sources on both stores: a finished job's events (ids from the job id, so a second after-job call
// counts once), shared training apportioned to the contributing tenants by rows (or kept on the shared
// namespace), monitoring runs once per model and window, and storage byte-hours from what is stored.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { cryptoRandom, ManualClock } from '../../../src/core/clock.ts';
import type { Job } from '../../../src/core/jobs.ts';
import type { UsageKind } from '../../../src/core/metering.ts';
import { SHARED_NAMESPACE, SYSTEM, sharedScope } from '../../../src/core/scope.ts';
import { BufferedMeter } from '../../../src/services/metering/meter.ts';
import {
  meterFinishedJob,
  monitoringRunEvent,
  trainingUsage,
} from '../../../src/services/metering/sources.ts';
import { StorageSampler, storageBytes, storageEventId } from '../../../src/services/metering/storage.ts';
import { FsBlobStore } from '../../../src/store/artifacts/fs.ts';
import type { Store } from '../../../src/store/ports.ts';
import {
  at,
  describeStores,
  jobInput,
  modelVersionInput,
  newTenant,
  scopeOf,
  T0,
  trainSpec,
  versionInput,
} from '../store/fixtures.ts';

const RANGE = {
  from: '2026-01-01T00:00:00.000Z',
  to: '2026-02-01T00:00:00.000Z',
  granularity: 'month' as const,
};

/** A finished job as the store would answer it. */
function finishedJob(id: string, tenantId: string, over: Partial<Job> = {}): Job {
  const j = jobInput(id);
  return {
    id,
    tenantId,
    kind: 'train',
    state: 'succeeded',
    priority: 0,
    spec: j.spec,
    attempts: 1,
    maxAttempts: 3,
    leaseOwner: null,
    leaseExpiresAt: null,
    cancelRequested: false,
    progress: null,
    limits: j.limits,
    cpuSeconds: 8,
    wallSeconds: 4,
    error: null,
    result: null,
    createdAt: T0,
    createdBy: 'test',
    startedAt: at(1),
    finishedAt: at(10),
    ...over,
  };
}

/** Sums of one tenant by kind and origin over January 2026. */
async function sums(store: Store, tenantId: string): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const s of await store.usage.sums(scopeOf(tenantId), RANGE))
    out[`${s.kind}/${s.origin}`] = (out[`${s.kind}/${s.origin}`] ?? 0) + s.quantity;
  return out;
}

const meterOf = (store: Store) =>
  new BufferedMeter({ repo: store.usage, clock: new ManualClock(T0), random: cryptoRandom, flushMs: 0 });

describeStores('metering sources', ({ store }) => {
  test('a finished job: CPU, wall time and the rows of its version; a second after-job call counts once', async () => {
    const s = store();
    await s.tenants.create(newTenant('sa'), 'operator', T0);
    const scope = scopeOf('sa');
    await s.models.register(
      scope,
      modelVersionInput('churn', {
        jobId: 'job_sa',
        datasets: [{ tenantId: 'sa', name: 'sales', version: 1, rows: 250 }],
      }),
    );
    const job = finishedJob('job_sa', 'sa', {
      result: { model: 'churn', version: 1 },
      cpuSeconds: 2.5,
      wallSeconds: 3,
    });
    const events = await trainingUsage({ store: s, sharedCost: 'contributors' }, scope, job);
    assert.deepEqual(
      events.map((e) => [e.id, e.kind, e.quantity, e.origin, e.subject]),
      [
        ['job:job_sa:cpu', 'training_cpu_seconds', 2.5, 'own', 'churn'],
        ['job:job_sa:wall', 'training_wall_seconds', 3, 'own', 'churn'],
        ['job:job_sa:rows', 'training_rows', 250, 'own', 'churn'],
      ],
    );
    assert.ok(events.every((e) => e.at === job.finishedAt));
    const meter = meterOf(s);
    await meterFinishedJob({ store: s, sharedCost: 'contributors', meter }, scope, job);
    await meterFinishedJob({ store: s, sharedCost: 'contributors', meter }, scope, job);
    assert.deepEqual(await sums(s, 'sa'), {
      'training_cpu_seconds/own': 2.5,
      'training_wall_seconds/own': 3,
      'training_rows/own': 250,
    });
  });

  test('a failed job (no version) records its CPU and wall time, no rows', async () => {
    const s = store();
    await s.tenants.create(newTenant('sf'), 'operator', T0);
    const job = finishedJob('job_sf', 'sf', {
      state: 'failed',
      error: 'boom',
      cpuSeconds: 1.25,
      wallSeconds: 2,
    });
    const events = await trainingUsage({ store: s, sharedCost: 'contributors' }, scopeOf('sf'), job);
    assert.deepEqual(
      events.map((e) => e.kind),
      ['training_cpu_seconds', 'training_wall_seconds'],
    );
  });

  test('the scope must be the job’s own namespace', async () => {
    const job = finishedJob('job_x', 'sa');
    await assert.rejects(trainingUsage({ store: store(), sharedCost: 'contributors' }, scopeOf('sb'), job));
  });

  test('shared training: apportioned to contributors by rows, or kept by the operator', async () => {
    const s = store();
    await s.tenants.create(newTenant(SHARED_NAMESPACE), 'operator', T0);
    await s.tenants.create(newTenant('ca'), 'operator', T0);
    await s.tenants.create(newTenant('cb'), 'operator', T0);
    const shared = sharedScope(SYSTEM);
    await s.models.register(
      shared,
      modelVersionInput('pool', {
        mode: 'shared',
        jobId: 'job_shared',
        datasets: [
          { tenantId: 'ca', name: 'sales', version: 1, rows: 30 },
          { tenantId: 'cb', name: 'sales', version: 2, rows: 10 },
        ],
      }),
    );
    const job = finishedJob('job_shared', SHARED_NAMESPACE, {
      spec: trainSpec('pool', { mode: 'shared', datasetVersion: 0 }),
      result: { model: 'pool', version: 1 },
      cpuSeconds: 8,
      wallSeconds: 4,
    });
    const meter = meterOf(s);
    const deps = { store: s, sharedCost: 'contributors' as const, meter };
    await meterFinishedJob(deps, shared, job);
    await meterFinishedJob(deps, shared, job); // replayed: counts once
    assert.deepEqual(await sums(s, 'ca'), {
      'training_cpu_seconds/shared': 6,
      'training_wall_seconds/shared': 3,
      'training_rows/shared': 30,
    });
    assert.deepEqual(await sums(s, 'cb'), {
      'training_cpu_seconds/shared': 2,
      'training_wall_seconds/shared': 1,
      'training_rows/shared': 10,
    });
    assert.deepEqual(await sums(s, SHARED_NAMESPACE), {}, 'nothing stays with the operator');
    const events = await trainingUsage(deps, shared, job);
    assert.ok(events.every((e) => e.subject === '_shared/pool' && e.origin === 'shared'));

    // Operator policy: the same kind of job stays on the shared namespace.
    const kept = await trainingUsage({ store: s, sharedCost: 'operator' }, shared, {
      ...job,
      id: 'job_shared_2',
    });
    assert.ok(
      kept.every((e) => e.tenantId === SHARED_NAMESPACE && e.origin === 'own' && e.subject === 'pool'),
    );
    assert.equal(kept.find((e) => e.kind === 'training_cpu_seconds')?.quantity, 8);

    // A failed shared job registered no version: nothing says whose rows it read, so it stays too.
    const failed = await trainingUsage({ store: s, sharedCost: 'contributors' }, shared, {
      ...job,
      id: 'job_shared_3',
      state: 'failed',
      result: null,
    });
    assert.deepEqual(
      failed.map((e) => [e.tenantId, e.kind]),
      [
        [SHARED_NAMESPACE, 'training_cpu_seconds'],
        [SHARED_NAMESPACE, 'training_wall_seconds'],
      ],
    );

    // A contributor deleted before the job ended cannot be charged: its share stays with the operator,
    // so the job's whole cost is still accounted for.
    await s.tenants.delete('cb');
    const late = { ...job, id: 'job_shared_4' };
    await meterFinishedJob(deps, shared, late);
    await meter.flush();
    const lateEvents = await trainingUsage(deps, shared, late);
    const cpu = lateEvents.filter((e) => e.kind === 'training_cpu_seconds');
    assert.deepEqual(
      cpu.map((e) => [e.tenantId, e.quantity, e.origin]),
      [
        ['ca', 6, 'shared'],
        [SHARED_NAMESPACE, 2, 'own'],
      ],
    );
    assert.equal(
      (await sums(s, SHARED_NAMESPACE))['training_cpu_seconds/own'],
      2,
      "the deleted contributor's share is the operator's",
    );
  });

  test('a monitoring run counts once per model and window', async () => {
    const s = store();
    await s.tenants.create(newTenant('mr'), 'operator', T0);
    const start = '2026-01-05T10:00:00.000Z';
    const e1 = monitoringRunEvent('mr', 'churn', 'hour', start, '2026-01-05T10:20:00.000Z');
    const e2 = monitoringRunEvent('mr', 'churn', 'hour', start, '2026-01-05T10:40:00.000Z');
    const e3 = monitoringRunEvent(
      'mr',
      'churn',
      'hour',
      '2026-01-05T11:00:00.000Z',
      '2026-01-05T11:05:00.000Z',
    );
    assert.equal(await s.usage.record([e1]), 1);
    assert.equal(await s.usage.record([e2, e3]), 1);
    assert.deepEqual(await sums(s, 'mr'), { 'monitoring_runs/own': 2 });
  });

  test('storage: bytes as stored by category, another tenant’s never counted; hourly byte-hours', async () => {
    const s = store();
    const dir = mkdtempSync(join(tmpdir(), 'tenantml-storage-'));
    try {
      const blobs = new FsBlobStore(dir);
      for (const id of ['st', 'su']) {
        await s.tenants.create(newTenant(id), 'operator', T0);
        await s.datasets.addVersion(scopeOf(id), versionInput('sales', { storedBytes: 1000 }), {
          maxDatasets: 10,
        });
      }
      if (!(await s.tenants.get(SHARED_NAMESPACE)))
        await s.tenants.create(newTenant(SHARED_NAMESPACE), 'operator', T0);
      await blobs.put('tenants/st/models/churn/job_1/model.onnx', Buffer.alloc(300));
      await blobs.put('tenants/st/models/churn/job_1/model.json', Buffer.alloc(20));
      await blobs.put('tenants/st/predictions/churn/2026-01-01/0001.ndjson', Buffer.alloc(50));
      await blobs.put('tenants/su/models/ltv/job_2/model.onnx', Buffer.alloc(7000));
      await blobs.put('tenants/_shared/models/pool/job_3/model.onnx', Buffer.alloc(400));
      assert.deepEqual(await storageBytes({ store: s, blobs }, scopeOf('st')), {
        datasets: 1000,
        models: 320,
        logs: 50,
        total: 1370,
      });

      const clock = new ManualClock('2026-01-03T10:05:00Z');
      const sampler = new StorageSampler({
        store: s,
        blobs,
        clock,
        scopeOf,
        record: (e) => s.usage.record(e),
      });
      const first = await sampler.sample();
      assert.ok(first.some((e) => e.id === storageEventId('st', 'models', '2026-01-03T10:00:00.000Z')));
      assert.ok(first.some((e) => e.tenantId === SHARED_NAMESPACE && e.subject === 'models'));
      clock.advance(20 * 60_000); // same hour: no second sample
      assert.deepEqual(await sampler.sample(), []);
      clock.advance(70 * 60_000); // 11:35: 1.5 hours since the first sample, capped at one
      await sampler.sample();
      const byKind = async (id: string) => {
        const out: Partial<Record<UsageKind, number>> = {};
        for (const x of await s.usage.sums(scopeOf(id), RANGE)) out[x.kind] = (out[x.kind] ?? 0) + x.quantity;
        return out;
      };
      assert.deepEqual(await byKind('st'), { storage_byte_hours: 2 * 1370 });
      assert.deepEqual(await byKind('su'), { storage_byte_hours: 2 * 8000 });
      // A restarted sampler in the same hour records the same ids: nothing more.
      const again = new StorageSampler({ store: s, blobs, clock, scopeOf, record: (e) => s.usage.record(e) });
      await again.sample();
      assert.deepEqual(await byKind('st'), { storage_byte_hours: 2 * 1370 });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
