// Workers racing on real PostgreSQL: four Store instances (four pools, as four worker processes would have)
// claim from one job table at once. No job may be claimed twice, none may be left behind, and a tenant's
// concurrency cap must hold even when every worker picks the same tenant at the same moment.
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import type { Job } from '../../../src/core/jobs.ts';
import type { ClaimRequest, Store } from '../../../src/store/ports.ts';
import { openStore } from '../../../src/store/sql/index.ts';
import { createTestStore, type TestStore } from '../../helpers/stores.ts';
import { at, jobInput, newTenant, scopeOf, T0 } from './fixtures.ts';

const WORKERS = 4;

describe('store: jobs, four claimers racing [postgres]', () => {
  let ts: TestStore;
  let stores: Store[] = [];

  before(async () => {
    ts = await createTestStore('postgres');
    const others = await Promise.all(
      Array.from({ length: WORKERS - 1 }, () => openStore({ url: ts.url, poolSize: 3 })),
    );
    stores = [ts.store, ...others];
  });
  after(async () => {
    await Promise.all(stores.slice(1).map((s) => s.close()));
    await ts?.cleanup();
  });
  beforeEach(async () => {
    await ts.query('delete from jobs');
  });

  const req = (w: number): ClaimRequest => ({
    workerId: `worker-${w}`,
    now: at(10),
    leaseMs: 60_000,
    globalCap: 1000,
    halfLifeSeconds: 600,
  });

  /** Every worker claims until the table gives it nothing more. */
  const drain = (): Promise<Job[][]> =>
    Promise.all(
      stores.map(async (s, w) => {
        const mine: Job[] = [];
        for (let j = await s.jobs.claim(req(w)); j; j = await s.jobs.claim(req(w))) mine.push(j);
        return mine;
      }),
    );

  test('40 jobs of 4 tenants: each claimed exactly once, all claimed', async () => {
    const tenants = ['race-a', 'race-b', 'race-c', 'race-d'];
    for (const id of tenants) {
      await ts.store.tenants.create(
        newTenant(id, { quotaOverrides: { concurrentJobs: 100 } }),
        'operator',
        T0,
      );
      for (let i = 0; i < 10; i++)
        await ts.store.jobs.enqueue(scopeOf(id), jobInput(`${id}-${i}`, { createdAt: at(i) }), {
          maxQueued: 100,
        });
    }
    const perWorker = await drain();
    const all = perWorker.flat();
    assert.equal(all.length, 40, 'as many claims as jobs');
    assert.equal(new Set(all.map((j) => j.id)).size, 40, 'no job claimed twice');
    assert.ok(perWorker.filter((jobs) => jobs.length > 0).length >= 2, 'the workers really raced');
    const rows = await ts.query('select state, attempts, lease_owner from jobs');
    assert.equal(rows.length, 40);
    for (const r of rows) {
      assert.equal(r.state, 'running');
      assert.equal(Number(r.attempts), 1);
    }
    // each job's lease names the worker that got it back from claim
    const owner = new Map(perWorker.flatMap((jobs, w) => jobs.map((j) => [j.id, `worker-${w}`] as const)));
    const leases = await ts.query('select id, lease_owner from jobs');
    for (const r of leases) assert.equal(r.lease_owner, owner.get(String(r.id)));
  });

  test("a tenant's cap holds when every worker picks it at once", async () => {
    await ts.store.tenants.create(
      newTenant('race-capped', { quotaOverrides: { concurrentJobs: 3 } }),
      'operator',
      T0,
    );
    for (let i = 0; i < 12; i++)
      await ts.store.jobs.enqueue(scopeOf('race-capped'), jobInput(`capped-${i}`, { createdAt: at(i) }), {
        maxQueued: 100,
      });
    const all = (await drain()).flat();
    assert.equal(all.length, 3);
    const [r] = await ts.query("select count(*) as n from jobs where state = 'running'");
    assert.equal(Number(r.n), 3);
  });

  test('the global cap holds when every worker claims for a different tenant at once', async () => {
    for (const id of ['glob-a', 'glob-b', 'glob-c', 'glob-d']) {
      await ts.store.tenants.create(
        newTenant(id, { quotaOverrides: { concurrentJobs: 100 } }),
        'operator',
        T0,
      );
      for (let i = 0; i < 5; i++)
        await ts.store.jobs.enqueue(scopeOf(id), jobInput(`${id}-${i}`, { createdAt: at(i) }), {
          maxQueued: 100,
        });
    }
    const perWorker = await Promise.all(
      stores.map(async (s, w) => {
        const mine: Job[] = [];
        const r = { ...req(w), globalCap: 6 };
        for (let j = await s.jobs.claim(r); j; j = await s.jobs.claim(r)) mine.push(j);
        return mine;
      }),
    );
    assert.equal(perWorker.flat().length, 6);
    const [r] = await ts.query("select count(*) as n from jobs where state = 'running'");
    assert.equal(Number(r.n), 6);
  });
});
