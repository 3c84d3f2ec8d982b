// The job table's conformance suite, on both adapters: queueing and its quota, cancel, fair-share claiming
// across tenants with caps and priorities, leases, heartbeats, finishing, expiry, and tenant isolation.
// Claims cross tenants, so every test starts from an empty job table.
import assert from 'node:assert/strict';
import { beforeEach, test } from 'node:test';
import { AppError } from '../../../src/core/errors.ts';
import type { Job } from '../../../src/core/jobs.ts';
import type { Tier } from '../../../src/core/tiers.ts';
import { CPU_UNIT_SECONDS } from '../../../src/jobs/fair-share.ts';
import type { ClaimRequest, JobOutcome, Store } from '../../../src/store/ports.ts';
import { at, describeStores, jobInput, newTenant, scopeOf, T0, trainSpec } from './fixtures.ts';

const HALF_LIFE = 600;
const LEASE_MS = 60_000;
const ROOMY = { maxQueued: 100 };

const claimReq = (now: string, over: Partial<ClaimRequest> = {}): ClaimRequest => ({
  workerId: 'w1',
  now,
  leaseMs: LEASE_MS,
  globalCap: 100,
  halfLifeSeconds: HALF_LIFE,
  ...over,
});

const outcome = (state: JobOutcome['state'], over: Partial<JobOutcome> = {}): JobOutcome => ({
  state,
  cpuSeconds: 0,
  wallSeconds: 1,
  at: at(10),
  halfLifeSeconds: HALF_LIFE,
  ...over,
});

describeStores('store: jobs', ({ store, t }) => {
  let n = 0;
  /** A fresh tenant for one test; `cap` overrides its concurrentJobs quota. */
  const tenant = async (tier: Tier = 'free', cap?: number): Promise<string> => {
    const id = `jt${++n}-${tier}`;
    await store().tenants.create(
      newTenant(id, { tier, quotaOverrides: cap === undefined ? {} : { concurrentJobs: cap } }),
      'operator',
      T0,
    );
    return id;
  };
  /** Queues `count` jobs for the tenant, a minute apart from `fromMinute`. */
  const queue = async (tenantId: string, count: number, fromMinute = 0, over = {}): Promise<Job[]> => {
    const out: Job[] = [];
    for (let i = 0; i < count; i++)
      out.push(
        await store().jobs.enqueue(
          scopeOf(tenantId),
          jobInput(`job_${tenantId}_${fromMinute + i}`, { createdAt: at(fromMinute + i), ...over }),
          ROOMY,
        ),
      );
    return out;
  };
  const claimAll = async (s: Store, req: ClaimRequest): Promise<Job[]> => {
    const out: Job[] = [];
    for (let j = await s.jobs.claim(req); j; j = await s.jobs.claim(req)) out.push(j);
    return out;
  };

  test('getById (system) reads a job whatever its tenant; an unknown id is null', async () => {
    const a = await tenant();
    const [job] = await queue(a, 1);
    const read = await store().jobs.getById(job.id);
    assert.equal(read?.tenantId, a);
    assert.deepEqual(read, await store().jobs.get(scopeOf(a), job.id));
    assert.equal(await store().jobs.getById('job_nobody'), null);
  });

  beforeEach(async () => {
    await t().query('delete from jobs');
    await t().query('delete from fair_share_usage');
  });

  test('enqueue stores every field; get and list read them back, newest first, filtered', async () => {
    const s = store();
    const a = await tenant();
    const scope = scopeOf(a);
    const spec = trainSpec('churn', { task: 'binary', params: { rounds: 20 } });
    const first = await s.jobs.enqueue(
      scope,
      jobInput('job_1', { spec, priority: 3, maxAttempts: 2, createdAt: at(1) }),
      ROOMY,
    );
    assert.deepEqual(first, {
      id: 'job_1',
      tenantId: a,
      kind: 'train',
      state: 'queued',
      priority: 3,
      spec,
      attempts: 0,
      maxAttempts: 2,
      leaseOwner: null,
      leaseExpiresAt: null,
      cancelRequested: false,
      progress: null,
      limits: { timeoutSeconds: 600, cpuSeconds: 300, heapMb: 512 },
      cpuSeconds: 0,
      wallSeconds: 0,
      error: null,
      result: null,
      createdAt: at(1),
      createdBy: 'tk_creator',
      startedAt: null,
      finishedAt: null,
    });
    assert.deepEqual(await s.jobs.get(scope, 'job_1'), first);
    assert.equal(await s.jobs.get(scope, 'job_missing'), null);
    await s.jobs.enqueue(scope, jobInput('job_2', { spec: trainSpec('price'), createdAt: at(2) }), ROOMY);
    await s.jobs.enqueue(scope, jobInput('job_3', { createdAt: at(3) }), ROOMY);
    await s.jobs.requestCancel(scope, 'job_3', at(4));

    const ids = (jobs: Job[]) => jobs.map((j) => j.id);
    assert.deepEqual(ids(await s.jobs.list(scope)), ['job_3', 'job_2', 'job_1']);
    assert.deepEqual(ids(await s.jobs.list(scope, { limit: 2 })), ['job_3', 'job_2']);
    assert.deepEqual(ids(await s.jobs.list(scope, { state: 'queued' })), ['job_2', 'job_1']);
    assert.deepEqual(ids(await s.jobs.list(scope, { model: 'churn' })), ['job_3', 'job_1']);
    assert.deepEqual(ids(await s.jobs.list(scope, { model: 'churn', state: 'cancelled' })), ['job_3']);
    assert.deepEqual(await s.jobs.list(scope, { model: 'nothing' }), []);
    await assert.rejects(
      s.jobs.enqueue(scope, jobInput('job_1'), ROOMY),
      (e: unknown) => e instanceof AppError && e.code === 'conflict',
      'a job id is never reused',
    );
  });

  test('the queued-jobs quota: 429 queue_full with Retry-After, naming quota, limit and use', async () => {
    const s = store();
    const a = await tenant();
    const scope = scopeOf(a);
    const limits = { maxQueued: 2 };
    await s.jobs.enqueue(scope, jobInput('q1'), limits);
    await s.jobs.enqueue(scope, jobInput('q2'), limits);
    await assert.rejects(s.jobs.enqueue(scope, jobInput('q3'), limits), (e: unknown) => {
      assert.ok(e instanceof AppError);
      assert.equal(e.code, 'queue_full');
      assert.equal(e.status, 429);
      assert.deepEqual(e.extra, { quota: 'queuedJobs', limit: 2, used: 2 });
      assert.match(e.headers?.['Retry-After'] ?? '', /^[1-9][0-9]*$/);
      return true;
    });
    assert.equal(await s.jobs.get(scope, 'q3'), null, 'the refused job left nothing behind');
    // running and finished jobs do not count against the queue
    const running = await s.jobs.claim(claimReq(at(1)));
    assert.equal(running?.id, 'q1');
    await s.jobs.enqueue(scope, jobInput('q3'), limits);
    await s.jobs.requestCancel(scope, 'q2', at(2));
    await s.jobs.enqueue(scope, jobInput('q4'), limits);
    assert.equal((await s.jobs.list(scope, { state: 'queued' })).length, 2);
  });

  test('concurrent enqueues cannot overrun the queued-jobs quota', async () => {
    const s = store();
    const scope = scopeOf(await tenant());
    const outcomes = await Promise.allSettled(
      Array.from({ length: 8 }, (_, i) => s.jobs.enqueue(scope, jobInput(`c${i}`), { maxQueued: 3 })),
    );
    assert.equal(outcomes.filter((o) => o.status === 'fulfilled').length, 3);
    assert.equal(
      outcomes.filter((o) => o.status === 'rejected' && (o.reason as AppError).code === 'queue_full').length,
      5,
    );
    assert.equal((await s.jobs.list(scope)).length, 3);
  });

  test('cancel: a queued job ends at once, a running one is flagged for its worker, a finished one stays', async () => {
    const s = store();
    const scope = scopeOf(await tenant('premium'));
    await s.jobs.enqueue(scope, jobInput('run', { createdAt: at(0) }), ROOMY);
    await s.jobs.enqueue(scope, jobInput('wait', { createdAt: at(1) }), ROOMY);
    assert.equal((await s.jobs.claim(claimReq(at(2))))?.id, 'run');

    const queued = await s.jobs.requestCancel(scope, 'wait', at(3));
    assert.equal(queued?.state, 'cancelled');
    assert.equal(queued?.finishedAt, at(3));
    assert.equal(queued?.cancelRequested, false);

    const running = await s.jobs.requestCancel(scope, 'run', at(3));
    assert.equal(running?.state, 'running', 'the worker stops it');
    assert.equal(running?.cancelRequested, true);
    assert.equal(running?.finishedAt, null);
    const beat = await s.jobs.heartbeat('run', 'w1', at(4), null);
    assert.deepEqual(beat, { ok: true, cancelRequested: true });
    const done = await s.jobs.finish('run', 'w1', outcome('cancelled', { at: at(5) }));
    assert.equal(done?.state, 'cancelled');
    assert.equal(done?.finishedAt, at(5));

    assert.deepEqual(await s.jobs.requestCancel(scope, 'run', at(9)), done, 'terminal: unchanged');
    assert.equal(await s.jobs.requestCancel(scope, 'missing', at(9)), null);
    assert.equal(await s.jobs.claim(claimReq(at(10))), null, 'a cancelled job is never claimed');
  });

  test('a claim takes the tenant with the lowest usage: A with 3 running, B with none → B', async () => {
    const s = store();
    const a = await tenant('free', 10);
    const b = await tenant('free', 10);
    await queue(a, 5, 0);
    for (let i = 0; i < 3; i++) assert.equal((await s.jobs.claim(claimReq(at(10))))?.tenantId, a);
    await queue(b, 2, 20); // B's jobs are newer: only the usage puts them first
    assert.equal((await s.jobs.claim(claimReq(at(30))))?.tenantId, b);
    assert.equal((await s.jobs.claim(claimReq(at(30))))?.tenantId, b, 'B at 1 running still beats A at 3');
    assert.equal((await s.jobs.claim(claimReq(at(30))))?.tenantId, a, 'B has nothing left');
  });

  test('weights 2:1: six claims give the standard tenant four slots and the free tenant two', async () => {
    const s = store();
    const std = await tenant('standard', 10);
    const free = await tenant('free', 10);
    await queue(free, 6, 0);
    await queue(std, 6, 100);
    const claimed = [];
    for (let i = 0; i < 6; i++) claimed.push((await s.jobs.claim(claimReq(at(200))))?.tenantId);
    // scores (running/weight) free 0 = std 0 → free (older); std 0 < 1 → std; std 0.5 < 1 → std;
    // 1 = 1 → free (older); std 1 < 2 → std; 1.5 < 2 → std
    assert.deepEqual(claimed, [free, std, std, free, std, std]);
    const counts = await s.jobs.counts();
    assert.deepEqual(counts.find((c) => c.tenantId === std)?.running, 4);
    assert.deepEqual(counts.find((c) => c.tenantId === free)?.running, 2);
  });

  test('recent CPU use counts against a tenant, and decays with the half-life', async () => {
    const s = store();
    const heavy = await tenant('free', 10);
    const light = await tenant('free', 10);
    await queue(heavy, 1, 0);
    const j = await s.jobs.claim(claimReq(at(0)));
    // 4 CPU units of usage charged at minute 1
    await s.jobs.finish(
      j?.id ?? '',
      'w1',
      outcome('succeeded', { cpuSeconds: 4 * CPU_UNIT_SECONDS, at: at(1) }),
    );
    const [usage] = await t().query(
      'select cpu_seconds, updated_at from fair_share_usage where tenant_id = ?',
      [heavy],
    );
    assert.deepEqual({ cpu: Number(usage.cpu_seconds), at: usage.updated_at }, { cpu: 120, at: at(1) });
    await queue(heavy, 1, 2);
    await queue(light, 3, 3);
    // light: 1 then 2 running (scores 1, 2) stay below heavy's 4 units
    assert.equal((await s.jobs.claim(claimReq(at(5))))?.tenantId, light);
    assert.equal((await s.jobs.claim(claimReq(at(5))))?.tenantId, light);
    assert.equal((await s.jobs.claim(claimReq(at(5))))?.tenantId, light, '2 running < 4 units of CPU');
    await queue(light, 1, 6);
    // Three half-lives later heavy's usage is 0.5 unit, below light's 3 running jobs.
    assert.equal((await s.jobs.claim(claimReq(at(1 + 30))))?.tenantId, heavy);

    // A second charge adds to the decayed value: 120 · 2^-3 + 30 = 45.
    const second = await s.jobs.list(scopeOf(heavy), { state: 'running' });
    await s.jobs.finish(second[0].id, 'w1', outcome('succeeded', { cpuSeconds: 30, at: at(31) }));
    const [after] = await t().query('select cpu_seconds from fair_share_usage where tenant_id = ?', [heavy]);
    assert.ok(Math.abs(Number(after.cpu_seconds) - 45) < 1e-9, String(after.cpu_seconds));
  });

  test("a tenant's concurrency cap holds back its own jobs only", async () => {
    const s = store();
    const capped = await tenant('free'); // free tier: one job at a time
    const other = await tenant('free');
    await queue(capped, 2, 0);
    const first = await s.jobs.claim(claimReq(at(5)));
    assert.equal(first?.tenantId, capped);
    assert.equal(await s.jobs.claim(claimReq(at(5))), null, 'its second job waits for its first');
    await queue(other, 1, 6);
    assert.equal((await s.jobs.claim(claimReq(at(7))))?.tenantId, other);
    await s.jobs.finish(first?.id ?? '', 'w1', outcome('succeeded', { at: at(8) }));
    assert.equal((await s.jobs.claim(claimReq(at(9))))?.tenantId, capped, 'a slot of its own freed up');
  });

  test('the global cap stops every claim; a lone tenant fills every free slot (work-conserving)', async () => {
    const s = store();
    const solo = await tenant('free', 10);
    await queue(solo, 6, 0);
    const claimed = await claimAll(s, claimReq(at(10), { globalCap: 4 }));
    assert.equal(claimed.length, 4, 'all 4 slots busy with one tenant');
    const late = await tenant('premium');
    await queue(late, 1, 11);
    assert.equal(await s.jobs.claim(claimReq(at(12), { globalCap: 4 })), null, 'full, even for a newcomer');
    await s.jobs.finish(claimed[0].id, 'w1', outcome('succeeded', { at: at(13) }));
    assert.equal((await s.jobs.claim(claimReq(at(14), { globalCap: 4 })))?.tenantId, late);
  });

  test('within a tenant: highest priority first, then first in, first out', async () => {
    const s = store();
    const a = await tenant('free', 10);
    const scope = scopeOf(a);
    const plan: [string, number, number][] = [
      ['p0-old', 0, 1],
      ['p5-old', 5, 2],
      ['p0-new', 0, 3],
      ['p5-new', 5, 4],
      ['p9', 9, 5],
    ];
    for (const [id, priority, minute] of plan)
      await s.jobs.enqueue(scope, jobInput(id, { priority, createdAt: at(minute) }), ROOMY);
    // same priority and the same millisecond: the order of queueing decides
    await s.jobs.enqueue(scope, jobInput('same-1', { priority: -1, createdAt: at(9) }), ROOMY);
    await s.jobs.enqueue(scope, jobInput('same-0', { priority: -1, createdAt: at(9) }), ROOMY);
    const order = (await claimAll(s, claimReq(at(10)))).map((j) => j.id);
    assert.deepEqual(order, ['p9', 'p5-old', 'p5-new', 'p0-old', 'p0-new', 'same-1', 'same-0']);
  });

  test('a failure marked not worth retrying ends the job at once, attempts left or not', async () => {
    const s = store();
    const scope = scopeOf(await tenant());
    await s.jobs.enqueue(scope, jobInput('doomed', { maxAttempts: 3 }), ROOMY);
    await s.jobs.claim(claimReq(at(1), { workerId: 'worker-a' }));
    const done = await s.jobs.finish(
      'doomed',
      'worker-a',
      outcome('failed', { error: 'too few rows', retry: false, at: at(2) }),
    );
    assert.equal(done?.state, 'failed');
    assert.equal(done?.attempts, 1);
    assert.equal(done?.finishedAt, at(2));
  });

  test('a claim sets state, attempt, lease and start; a requeued job keeps its first start', async () => {
    const s = store();
    const scope = scopeOf(await tenant());
    await s.jobs.enqueue(scope, jobInput('leased', { maxAttempts: 2 }), ROOMY);
    const j = await s.jobs.claim(claimReq(at(1), { workerId: 'worker-a', leaseMs: 30_000 }));
    assert.equal(j?.state, 'running');
    assert.equal(j?.attempts, 1);
    assert.equal(j?.leaseOwner, 'worker-a');
    assert.equal(j?.leaseExpiresAt, new Date(Date.parse(at(1)) + 30_000).toISOString());
    assert.equal(j?.startedAt, at(1));
    assert.equal(j?.cancelRequested, false);
    assert.deepEqual(await s.jobs.get(scope, 'leased'), j);

    const retried = await s.jobs.finish(
      'leased',
      'worker-a',
      outcome('failed', { error: 'boom', at: at(2) }),
    );
    assert.equal(retried?.state, 'queued', 'attempts remain');
    assert.equal(retried?.error, 'boom');
    assert.equal(retried?.leaseOwner, null);
    assert.equal(retried?.leaseExpiresAt, null);
    assert.equal(retried?.finishedAt, null);
    const again = await s.jobs.claim(claimReq(at(3), { workerId: 'worker-b' }));
    assert.equal(again?.attempts, 2);
    assert.equal(again?.leaseOwner, 'worker-b');
    assert.equal(again?.startedAt, at(1), 'first start kept');
    assert.equal(again?.error, 'boom', 'the last failure stays visible while it runs again');
    const failed = await s.jobs.finish(
      'leased',
      'worker-b',
      outcome('failed', { error: 'boom twice', at: at(4) }),
    );
    assert.equal(failed?.state, 'failed', 'no attempts left');
    assert.equal(failed?.error, 'boom twice');
    assert.equal(failed?.finishedAt, at(4));
    assert.equal(failed?.wallSeconds, 2, 'wall seconds summed over attempts');
  });

  test('heartbeat: only the lease owner, only while running; it renews the lease and keeps progress', async () => {
    const s = store();
    const scope = scopeOf(await tenant());
    await s.jobs.enqueue(scope, jobInput('hb'), ROOMY);
    await s.jobs.claim(claimReq(at(1), { workerId: 'owner' }));
    const progress = {
      phase: 'training' as const,
      iteration: 10,
      totalIterations: 100,
      metric: { name: 'logloss', value: 0.31 },
      etaSeconds: 42,
      at: at(2),
    };
    assert.deepEqual(await s.jobs.heartbeat('hb', 'owner', at(3), progress), {
      ok: true,
      cancelRequested: false,
    });
    let j = await s.jobs.get(scope, 'hb');
    assert.equal(j?.leaseExpiresAt, at(3));
    assert.deepEqual(j?.progress, progress);
    assert.deepEqual(await s.jobs.heartbeat('hb', 'owner', at(4), null), {
      ok: true,
      cancelRequested: false,
    });
    j = await s.jobs.get(scope, 'hb');
    assert.equal(j?.leaseExpiresAt, at(4));
    assert.deepEqual(j?.progress, progress, 'no new progress keeps the last one');

    assert.deepEqual(await s.jobs.heartbeat('hb', 'intruder', at(9), { ...progress, iteration: 99 }), {
      ok: false,
      cancelRequested: false,
    });
    assert.deepEqual(await s.jobs.get(scope, 'hb'), j, 'a non-owner changed nothing');
    assert.deepEqual((await s.jobs.heartbeat('missing', 'owner', at(9), null)).ok, false);
    await s.jobs.finish('hb', 'owner', outcome('succeeded', { at: at(5) }));
    assert.equal((await s.jobs.heartbeat('hb', 'owner', at(9), null)).ok, false, 'not after it finished');
  });

  test('finish: refused for a non-owner and after the end; success records result, times and CPU', async () => {
    const s = store();
    const a = await tenant();
    const scope = scopeOf(a);
    await s.jobs.enqueue(scope, jobInput('fin'), ROOMY);
    await s.jobs.claim(claimReq(at(1), { workerId: 'owner' }));
    const before = await s.jobs.get(scope, 'fin');
    assert.equal(await s.jobs.finish('fin', 'intruder', outcome('succeeded')), null);
    assert.deepEqual(await s.jobs.get(scope, 'fin'), before, 'unchanged');
    assert.equal(await s.jobs.finish('missing', 'owner', outcome('succeeded')), null);

    const done = await s.jobs.finish(
      'fin',
      'owner',
      outcome('succeeded', {
        cpuSeconds: 12.5,
        wallSeconds: 20.25,
        result: { model: 'churn', version: 3 },
        at: at(6),
      }),
    );
    assert.equal(done?.state, 'succeeded');
    assert.deepEqual(done?.result, { model: 'churn', version: 3 });
    assert.equal(done?.cpuSeconds, 12.5);
    assert.equal(done?.wallSeconds, 20.25);
    assert.equal(done?.finishedAt, at(6));
    assert.equal(done?.leaseOwner, null);
    assert.equal(done?.error, null);
    assert.equal(await s.jobs.finish('fin', 'owner', outcome('failed')), null, 'a second finish is refused');
    assert.equal((await s.jobs.get(scope, 'fin'))?.state, 'succeeded');
  });

  test('finish: timed out and cancelled are final; a failure after a cancel request ends cancelled', async () => {
    const s = store();
    const a = await tenant('free', 10);
    const scope = scopeOf(a);
    await queue(a, 3, 0, { maxAttempts: 5 });
    const [x, y, z] = await claimAll(s, claimReq(at(5)));
    const tOut = await s.jobs.finish(x.id, 'w1', outcome('timed_out', { error: 'ran past 600 s' }));
    assert.deepEqual([tOut?.state, tOut?.error, tOut?.finishedAt], ['timed_out', 'ran past 600 s', at(10)]);
    const c = await s.jobs.finish(y.id, 'w1', outcome('cancelled'));
    assert.equal(c?.state, 'cancelled');
    await s.jobs.requestCancel(scope, z.id, at(6));
    const f = await s.jobs.finish(z.id, 'w1', outcome('failed', { error: 'killed' }));
    assert.equal(f?.state, 'cancelled', 'not requeued: the user asked to cancel');
    assert.equal(await s.jobs.claim(claimReq(at(11))), null);
  });

  test('an expired lease requeues the job, then fails it after maxAttempts; the old worker is refused', async () => {
    const s = store();
    const scope = scopeOf(await tenant());
    await s.jobs.enqueue(scope, jobInput('lost', { maxAttempts: 2 }), ROOMY);
    await s.jobs.claim(claimReq(at(0), { workerId: 'dead', leaseMs: 60_000 }));
    assert.deepEqual(await s.jobs.requeueExpired(at(0.5)), { requeued: [], failed: [], cancelled: [] });
    assert.deepEqual(await s.jobs.requeueExpired(at(2)), { requeued: ['lost'], failed: [], cancelled: [] });
    let j = await s.jobs.get(scope, 'lost');
    assert.deepEqual([j?.state, j?.leaseOwner, j?.leaseExpiresAt], ['queued', null, null]);
    assert.match(j?.error ?? '', /worker lost \(lease expired\)/);
    assert.equal(await s.jobs.finish('lost', 'dead', outcome('succeeded')), null, 'the dead worker lost it');
    assert.equal((await s.jobs.heartbeat('lost', 'dead', at(3), null)).ok, false);

    const again = await s.jobs.claim(claimReq(at(3), { workerId: 'second', leaseMs: 60_000 }));
    assert.equal(again?.attempts, 2);
    assert.deepEqual(await s.jobs.requeueExpired(at(5)), { requeued: [], failed: ['lost'], cancelled: [] });
    j = await s.jobs.get(scope, 'lost');
    assert.equal(j?.state, 'failed');
    assert.equal(j?.error, 'worker lost (lease expired) after 2 attempts');
    assert.equal(j?.finishedAt, at(5));
    assert.equal(await s.jobs.claim(claimReq(at(6))), null);

    // a heartbeat keeps a lease alive; an expired job whose cancel was requested is cancelled
    await s.jobs.enqueue(scope, jobInput('alive'), ROOMY);
    await s.jobs.claim(claimReq(at(10), { workerId: 'w', leaseMs: 60_000 }));
    await s.jobs.heartbeat('alive', 'w', at(13), null);
    assert.deepEqual((await s.jobs.requeueExpired(at(12))).requeued, []);
    await s.jobs.requestCancel(scope, 'alive', at(12));
    assert.deepEqual(await s.jobs.requeueExpired(at(14)), { requeued: [], failed: [], cancelled: ['alive'] });
    assert.equal((await s.jobs.get(scope, 'alive'))?.state, 'cancelled');
  });

  test('counts: queued and running per tenant', async () => {
    const s = store();
    const a = await tenant('free', 10);
    const b = await tenant('free', 10);
    await queue(a, 3, 0);
    await queue(b, 1, 10);
    await s.jobs.claim(claimReq(at(20)));
    await s.jobs.claim(claimReq(at(20)));
    const counts = await s.jobs.counts();
    assert.deepEqual(
      counts.filter((c) => c.tenantId === a || c.tenantId === b),
      [
        { tenantId: a, queued: 2, running: 1 },
        { tenantId: b, queued: 0, running: 1 },
      ].sort((x, y) => (x.tenantId < y.tenantId ? -1 : 1)),
    );
  });

  test("isolation: tenant A's scope sees and changes none of B's jobs", async () => {
    const s = store();
    const a = await tenant();
    const b = await tenant();
    const A = scopeOf(a);
    const B = scopeOf(b);
    await s.jobs.enqueue(A, jobInput('a-job', { spec: trainSpec('shared-name') }), ROOMY);
    const bJob = await s.jobs.enqueue(B, jobInput('b-job', { spec: trainSpec('shared-name') }), ROOMY);
    assert.equal(await s.jobs.get(A, 'b-job'), null);
    assert.deepEqual(
      (await s.jobs.list(A)).map((j) => j.id),
      ['a-job'],
    );
    assert.deepEqual(
      (await s.jobs.list(A, { model: 'shared-name' })).map((j) => j.tenantId),
      [a],
    );
    assert.equal(await s.jobs.requestCancel(A, 'b-job', at(1)), null);
    assert.deepEqual(await s.jobs.get(B, 'b-job'), bJob, "B's job is untouched");
    // A's queue quota counts only A's jobs
    await s.jobs.enqueue(A, jobInput('a-job-2'), { maxQueued: 2 });
  });
});
