// Shared and tuned training on the real platform, real child processes and both stores: the pooled frame
// a shared job trains on holds only consenting tenants' rows, without identifying columns, e-mail
// addresses or phone numbers; its version records exactly who gave what; a tuned job starts from it in a
// tenant's own namespace; a withdrawal during training taints the version; a missing base fails for good.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { cryptoRandom, systemClock } from '../../../src/core/clock.ts';
import type { Job, TrainSpec } from '../../../src/core/jobs.ts';
import { mintTenantScope, OPERATOR, SHARED_NAMESPACE, SYSTEM, sharedScope } from '../../../src/core/scope.ts';
import { loadTrainingFrame } from '../../../src/jobs/runner.ts';
import {
  prepareStart,
  selectSharedSources,
  startWorkers,
  type WorkerDeps,
  type WorkerEvent,
} from '../../../src/jobs/supervisor.ts';
import type { StringColumn } from '../../../src/ml/frame.ts';
import { TenantArtifacts } from '../../../src/services/artifacts.ts';
import { AuditService } from '../../../src/services/audit.ts';
import { DatasetService } from '../../../src/services/datasets/service.ts';
import { KeyRing } from '../../../src/services/keyring.ts';
import { ensureSharedNamespace } from '../../../src/services/shared-namespace.ts';
import { TenantService } from '../../../src/services/tenants.ts';
import { newDataKey } from '../../../src/store/artifacts/envelope.ts';
import { FsBlobStore } from '../../../src/store/artifacts/fs.ts';
import type { Store } from '../../../src/store/ports.ts';
import { createTestStore, STORE_KINDS, type TestStore } from '../../helpers/stores.ts';

/** Marks every row of the tenant without consent: none of these may reach a pooled frame. */
const GAMMA_X1 = 777.25;
const GAMMA_COLOUR = 'zzgamma';
const GAMMA_NOTE = 'GAMMASECRET';

/**
 * One tenant's rows of a common binary problem. `identifying`: an e-mail column, and phone numbers (and a
 * few e-mail addresses) inside the free-text notes — in few enough rows that the notes column itself is
 * not flagged, so it is pooled and must be scrubbed.
 */
function tenantCsv(n: number, opts: { identifying?: boolean; gamma?: boolean } = {}): string {
  const header = ['x1', 'x2', 'colour', 'notes', ...(opts.identifying ? ['email'] : []), 'label'];
  const lines = [header.join(',')];
  const words = ['arrived late', 'paid early', 'asked about pricing', 'renewed', 'opened a ticket'];
  for (let i = 0; i < n; i++) {
    const x1 = opts.gamma ? GAMMA_X1 : ((i * 37) % 101) / 10;
    const x2 = ((i * 53) % 89) / 10;
    const colour = opts.gamma ? GAMMA_COLOUR : ['red', 'green', 'blue'][i % 3];
    let notes = `order ${i} ${words[i % words.length]}`;
    if (opts.gamma) notes = `${GAMMA_NOTE} order ${i}`;
    else if (opts.identifying && i % 5 === 0) notes += ` call +1 415 555 ${String(1000 + i).slice(-4)}`;
    else if (opts.identifying && i % 17 === 1) notes += ` mail buyer${i}@alpha-corp.example`;
    const label = x1 + x2 + (colour === 'red' ? 2 : 0) > 10 ? 'yes' : 'no';
    const cells = [
      x1,
      x2,
      colour,
      `"${notes}"`,
      ...(opts.identifying ? [`user${i}@alpha-corp.example`] : []),
    ];
    lines.push([...cells, label].join(','));
  }
  return `${lines.join('\n')}\n`;
}

const ALPHA_ROWS = 120;
const BETA_ROWS = 80;
const PHONES_IN_ALPHA = Math.ceil(ALPHA_ROWS / 5);

for (const kind of STORE_KINDS) {
  describe(`shared and tuned training (${kind})`, () => {
    let ts: TestStore;
    let store: Store;
    let dir: string;
    let artifacts: TenantArtifacts;
    let deps: WorkerDeps;
    const keysAsked: string[] = [];
    const finished: Job[] = [];
    const events: WorkerEvent[] = [];
    let stopWorkers: (() => Promise<void>) | null = null;
    /** Runs once a job's child has started (its sources are chosen by then). */
    const onChildStarted = new Map<string, () => Promise<void>>();
    const pending: Promise<void>[] = [];

    const sharedSpec = (over: Partial<TrainSpec> = {}): TrainSpec => ({
      model: 'pooled',
      dataset: 'churn',
      datasetVersion: 0,
      target: 'label',
      algorithm: 'linear',
      mode: 'shared',
      pool: {},
      params: {},
      seed: 5,
      validFraction: 0.2,
      ...over,
    });

    const enqueue = (tenantId: string, id: string, spec: TrainSpec): Promise<Job> =>
      store.jobs.enqueue(
        mintTenantScope(tenantId, SYSTEM),
        {
          id,
          kind: 'train',
          priority: 0,
          spec,
          maxAttempts: 3,
          limits: { timeoutSeconds: 120, cpuSeconds: 120, heapMb: 256 },
          createdAt: new Date().toISOString(),
          createdBy: 'test',
        },
        { maxQueued: 100 },
      );

    const waitForJob = async (tenantId: string, id: string, ms = 40_000): Promise<Job> => {
      const end = Date.now() + ms;
      for (;;) {
        const j = await store.jobs.get(mintTenantScope(tenantId, SYSTEM), id);
        if (!j) throw new Error(`no job ${id}`);
        if (j.state !== 'queued' && j.state !== 'running') return j;
        if (Date.now() > end) throw new Error(`job ${id} is ${j.state} after ${ms} ms`);
        await new Promise((r) => setTimeout(r, 50));
      }
    };

    before(async () => {
      // The services the worker needs, without the HTTP layer: tenants and datasets as the API makes them.
      ts = await createTestStore(kind);
      store = ts.store;
      dir = mkdtempSync(join(tmpdir(), 'tenantml-shared-'));
      const keyring = new KeyRing(newDataKey(), store.tenants);
      artifacts = new TenantArtifacts(new FsBlobStore(join(dir, 'artifacts')), keyring);
      const at = new Date().toISOString();
      await ensureSharedNamespace(store, keyring, at);
      const audit = new AuditService(store.audit, systemClock);
      const tenants = new TenantService(store.tenants, keyring, artifacts, audit, systemClock, cryptoRandom);
      const datasets = new DatasetService(store, tenants, artifacts, systemClock, cryptoRandom);
      for (const [id, sharedTraining] of [
        ['alpha', true],
        ['beta', true],
        ['gamma', false],
      ] as const) {
        await tenants.create({ id, name: `Tenant ${id}`, sharedTraining }, OPERATOR);
      }
      for (const [id, body] of [
        ['alpha', tenantCsv(ALPHA_ROWS, { identifying: true })],
        ['beta', tenantCsv(50)], // version 1: not the latest, never pooled
        ['beta', tenantCsv(BETA_ROWS)],
        ['gamma', tenantCsv(60, { gamma: true })],
      ] as const) {
        const scope = mintTenantScope(id, { keyId: 'test', role: 'admin' });
        await datasets.upload(scope, 'churn', 'csv', Readable.from([Buffer.from(body)]));
      }
      deps = {
        store,
        artifacts,
        // Records whose data keys were unwrapped for a job: a tenant's key is its data's only way out.
        keyring: {
          dataKey: (id: string) => {
            keysAsked.push(id);
            return keyring.dataKey(id);
          },
        },
        blobs: { kind: 'fs', root: join(dir, 'artifacts') },
        onFinished: async (j) => {
          finished.push(j);
        },
      };
      const w = await startWorkers(deps, {
        slots: 1,
        pollMs: 50,
        heartbeatMs: 200,
        leaseMs: 2000,
        requeueEveryMs: 300,
        testHooks: true,
        onEvent: (e) => {
          events.push(e);
          const hook = e.type === 'child-started' ? onChildStarted.get(e.jobId) : undefined;
          if (hook) pending.push(hook());
        },
      });
      stopWorkers = () => w.supervisor.stop(0);
    });
    after(async () => {
      await stopWorkers?.();
      await ts?.cleanup();
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    test('the sources are the consenting tenants’ latest versions, narrowed by pool.tenants', async () => {
      const all = await selectSharedSources(store, sharedSpec());
      assert.deepEqual(
        all.map((v) => [v.tenantId, v.name, v.version, v.rows]),
        [
          ['alpha', 'churn', 1, ALPHA_ROWS],
          ['beta', 'churn', 2, BETA_ROWS],
        ],
      );
      const narrowed = await selectSharedSources(store, sharedSpec({ pool: { tenants: ['beta', 'gamma'] } }));
      assert.deepEqual(
        narrowed.map((v) => v.tenantId),
        ['beta'],
        'naming a tenant does not stand in for its consent',
      );
      assert.deepEqual(await selectSharedSources(store, sharedSpec({ dataset: 'absent' })), []);
    });

    test('the pooled frame holds no identifying column, no e-mail or phone, and no row of the tenant without consent', async () => {
      // The job as a worker would have claimed it (not queued: the running workers would take it).
      const job: Job = {
        id: 'job_inspect',
        tenantId: SHARED_NAMESPACE,
        kind: 'train',
        state: 'running',
        priority: 0,
        spec: sharedSpec(),
        attempts: 1,
        maxAttempts: 3,
        leaseOwner: 'test',
        leaseExpiresAt: null,
        cancelRequested: false,
        progress: null,
        limits: { timeoutSeconds: 60, cpuSeconds: 60, heapMb: 256 },
        cpuSeconds: 0,
        wallSeconds: 0,
        error: null,
        result: null,
        createdAt: new Date().toISOString(),
        createdBy: 'test',
        startedAt: null,
        finishedAt: null,
      };
      keysAsked.length = 0;
      const prepared = await prepareStart(deps, job);
      assert.ok('start' in prepared, JSON.stringify(prepared));
      const { start } = prepared;
      assert.deepEqual(
        start.sources.map((s) => s.tenantId),
        ['alpha', 'beta'],
      );
      assert.deepEqual([...new Set(keysAsked)].sort(), ['alpha', 'beta'], 'gamma’s key was unwrapped');

      const seen = await loadTrainingFrame(start);
      const { frame } = seen;
      const names = frame.columns.map((c) => c.name);
      assert.ok(!names.includes('email'), `columns: ${names.join(', ')}`);
      assert.ok(names.includes('notes'), 'the notes column is pooled (scrubbed, not dropped)');
      assert.equal(frame.nRows, ALPHA_ROWS + BETA_ROWS);
      const strings = frame.columns.filter((c): c is StringColumn => c.kind === 'string');
      let phoneTokens = 0;
      for (const c of strings) {
        for (const v of c.values) {
          if (v === null) continue;
          assert.ok(!v.includes('@'), `an e-mail address in ${c.name}: ${v}`);
          assert.ok(!/\d{3} \d{4}/.test(v), `a phone number in ${c.name}: ${v}`);
          assert.ok(!v.includes(GAMMA_NOTE) && v !== GAMMA_COLOUR, 'a row of the tenant without consent');
          if (v.includes('<PHONE_NUMBER>')) phoneTokens++;
        }
      }
      assert.equal(phoneTokens, PHONES_IN_ALPHA);
      const x1 = frame.columns.find((c) => c.name === 'x1');
      assert.ok(x1 && x1.kind === 'number');
      assert.ok(!x1.values.includes(GAMMA_X1), 'a row of the tenant without consent');
      assert.deepEqual(seen.contributions, [
        { tenantId: 'alpha', dataset: 'churn', version: 1, rows: ALPHA_ROWS },
        { tenantId: 'beta', dataset: 'churn', version: 2, rows: BETA_ROWS },
      ]);
      assert.ok(seen.deidentification?.droppedColumns.includes('email'));
      assert.equal(seen.deidentification?.replaced.PHONE_NUMBER, PHONES_IN_ALPHA);
      assert.ok((seen.deidentification?.replaced.EMAIL_ADDRESS ?? 0) > 0);

      // The per-tenant cap reaches the pooling, and the contributions record what was really taken.
      const capped = await loadTrainingFrame({
        ...start,
        job: { ...job, spec: sharedSpec({ pool: { maxRowsPerTenant: 30 } }) },
      });
      assert.equal(capped.frame.nRows, 60);
      assert.deepEqual(
        capped.contributions?.map((c) => [c.tenantId, c.rows]),
        [
          ['alpha', 30],
          ['beta', 30],
        ],
      );
    });

    test('a shared job registers a shared version with exactly the consenting tenants as its sources', {
      timeout: 60_000,
    }, async () => {
      keysAsked.length = 0;
      await enqueue(SHARED_NAMESPACE, 'job_shared', sharedSpec({ audience: 'all' }));
      const job = await waitForJob(SHARED_NAMESPACE, 'job_shared');
      assert.equal(job.state, 'succeeded', job.error ?? '');
      assert.deepEqual(job.result, { model: 'pooled', version: 1 });
      assert.ok(!keysAsked.includes('gamma'));

      const shared = sharedScope(SYSTEM);
      const v = await store.models.version(shared, 'pooled', 1);
      assert.ok(v);
      assert.equal(v.tenantId, SHARED_NAMESPACE);
      assert.equal(v.mode, 'shared');
      assert.equal(v.status, 'ok');
      assert.equal(v.base, null);
      assert.deepEqual(v.datasets, [
        { tenantId: 'alpha', name: 'churn', version: 1, rows: ALPHA_ROWS },
        { tenantId: 'beta', name: 'churn', version: 2, rows: BETA_ROWS },
      ]);
      const prov = await store.models.provenance(shared, 'pooled', 1);
      assert.deepEqual(prov.map((p) => [p.source.tenantId, p.source.version, p.source.rows, p.via]).sort(), [
        ['alpha', 1, ALPHA_ROWS, null],
        ['beta', 2, BETA_ROWS, null],
      ]);
      assert.deepEqual(await store.models.holdingDataOf('gamma'), []);
      assert.equal((await store.models.get(shared, 'pooled'))?.audience, 'all');
      // Stored in the shared namespace, under its own key: a base for tuned models.
      const fitted = JSON.parse((await artifacts.get(shared, `${v.artifact}/fitted.json`)).toString('utf8'));
      assert.equal(fitted.format, 'tenantml.fitted/1');
      const model = JSON.parse((await artifacts.get(shared, `${v.artifact}/model.json`)).toString('utf8'));
      assert.ok(!model.inputSchema.some((c: { name: string }) => c.name === 'email'));
      // Its reference profile covers the pooled features the model reads, never the dropped column.
      const profile = JSON.parse(
        (await artifacts.get(shared, `${v.artifact}/profile.json`)).toString('utf8'),
      );
      assert.equal(profile.format, 'tenantml.profile/1');
      assert.deepEqual(
        profile.features.map((f: { name: string }) => f.name),
        model.inputSchema.map((c: { name: string }) => c.name),
      );
      assert.ok(finished.some((j) => j.id === 'job_shared' && j.state === 'succeeded'));
    });

    test('a tuned job trains from the shared version in the tenant’s own namespace', {
      timeout: 60_000,
    }, async () => {
      await enqueue('beta', 'job_tuned', {
        model: 'mine',
        dataset: 'churn',
        datasetVersion: 2,
        target: 'label',
        algorithm: 'auto',
        mode: 'tuned',
        base: { model: 'pooled', version: 1 },
        params: {},
        seed: 9,
        validFraction: 0.25,
      });
      const job = await waitForJob('beta', 'job_tuned');
      assert.equal(job.state, 'succeeded', job.error ?? '');
      assert.equal(job.result?.model, 'mine');
      assert.equal(job.result?.version, 1);
      const baseMetrics = job.result?.baseMetrics;
      assert.ok(baseMetrics && Number.isFinite(baseMetrics.accuracy), JSON.stringify(job.result));

      const beta = mintTenantScope('beta', SYSTEM);
      const v = await store.models.version(beta, 'mine', 1);
      assert.ok(v);
      assert.equal(v.tenantId, 'beta');
      assert.equal(v.mode, 'tuned');
      assert.deepEqual(v.base, { model: 'pooled', version: 1 });
      assert.deepEqual(v.datasets, [{ tenantId: 'beta', name: 'churn', version: 2, rows: BETA_ROWS }]);
      // The base's sources come with it, marked as coming through the base.
      const prov = await store.models.provenance(beta, 'mine', 1);
      assert.ok(
        prov.some((p) => p.source.tenantId === 'alpha' && p.via?.model === 'pooled' && p.via.version === 1),
        JSON.stringify(prov),
      );
      // The artifacts are the tenant's own: under its prefix, encrypted with its key.
      const root = join(dir, 'artifacts');
      assert.ok(existsSync(join(root, 'tenants', 'beta', v.artifact, 'model.onnx')));
      assert.ok(!existsSync(join(root, 'tenants', SHARED_NAMESPACE, v.artifact)));
      const onnx = await artifacts.get(beta, `${v.artifact}/model.onnx`);
      assert.ok(onnx.length > 0);
      const model = JSON.parse((await artifacts.get(beta, `${v.artifact}/model.json`)).toString('utf8'));
      assert.equal(model.algorithm, 'linear', 'a tuned model keeps its base’s algorithm');
      const profile = JSON.parse((await artifacts.get(beta, `${v.artifact}/profile.json`)).toString('utf8'));
      assert.equal(profile.format, 'tenantml.profile/1');
      assert.equal(profile.rows, model.trainRows, 'profiled on the training rows');
      assert.deepEqual(
        profile.features.map((f: { name: string }) => f.name),
        model.inputSchema.map((c: { name: string }) => c.name),
      );
    });

    test('consent withdrawn after the sources were chosen: the version registers tainted', {
      timeout: 60_000,
    }, async () => {
      onChildStarted.set('job_race', async () => {
        await store.tenants.update('alpha', { sharedTraining: false }, 'test', new Date().toISOString());
      });
      try {
        await enqueue(
          SHARED_NAMESPACE,
          'job_race',
          sharedSpec({
            model: 'pooled-race',
            algorithm: 'gbdt',
            // Slow enough that the withdrawal lands while the child trains.
            params: { nRounds: 10, earlyStoppingRounds: 0, __test: { sleepPerIterationMs: 100 } },
          }),
        );
        const job = await waitForJob(SHARED_NAMESPACE, 'job_race');
        await Promise.all(pending);
        assert.equal(job.state, 'succeeded', job.error ?? '');
        const v = await store.models.version(sharedScope(SYSTEM), 'pooled-race', 1);
        assert.ok(v);
        assert.equal(v.status, 'tainted');
        assert.match(v.taint?.reason ?? '', /alpha withdrew its shared-training consent/);
        assert.deepEqual(
          v.datasets.map((d) => d.tenantId),
          ['alpha', 'beta'],
          'it did train on alpha’s rows: provenance says so',
        );
      } finally {
        await store.tenants.update('alpha', { sharedTraining: true }, 'test', new Date().toISOString());
      }
    });

    test('a tuned model trained from a tainted base registers tainted too', { timeout: 60_000 }, async () => {
      await enqueue('beta', 'job_on_tainted', {
        model: 'mine-on-race',
        dataset: 'churn',
        datasetVersion: 2,
        target: 'label',
        algorithm: 'auto',
        mode: 'tuned',
        base: { model: 'pooled-race', version: 1 },
        params: { nRounds: 5 },
        seed: 3,
        validFraction: 0.25,
      });
      const job = await waitForJob('beta', 'job_on_tainted');
      assert.equal(job.state, 'succeeded', job.error ?? '');
      const v = await store.models.version(mintTenantScope('beta', SYSTEM), 'mine-on-race', 1);
      assert.equal(v?.status, 'tainted');
      assert.match(v?.taint?.reason ?? '', /its base pooled-race@1 is tainted/);
    });

    test('a missing base, or no consenting tenant with the dataset, is a permanent, readable failure', {
      timeout: 60_000,
    }, async () => {
      await enqueue('beta', 'job_nobase', {
        model: 'orphan',
        dataset: 'churn',
        datasetVersion: 2,
        target: 'label',
        algorithm: 'auto',
        mode: 'tuned',
        base: { model: 'absent', version: 3 },
        params: {},
        seed: 1,
        validFraction: 0.2,
      });
      await enqueue(
        SHARED_NAMESPACE,
        'job_nobody',
        sharedSpec({ model: 'empty', pool: { tenants: ['gamma'] } }),
      );
      const nobase = await waitForJob('beta', 'job_nobase');
      assert.equal(nobase.state, 'failed');
      assert.equal(nobase.attempts, 1, 'retrying cannot bring a base back');
      assert.match(nobase.error ?? '', /the base model 'absent' version 3 does not exist/);
      const nobody = await waitForJob(SHARED_NAMESPACE, 'job_nobody');
      assert.equal(nobody.state, 'failed');
      assert.equal(nobody.attempts, 1);
      assert.match(nobody.error ?? '', /no tenant with shared-training consent has a dataset named 'churn'/);
      assert.ok(!events.some((e) => e.type === 'child-started' && e.jobId === 'job_nobase'));
      assert.equal(await store.models.get(sharedScope(SYSTEM), 'empty'), null);
    });
  });
}
