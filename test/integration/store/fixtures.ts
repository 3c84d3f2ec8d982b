// Shared inputs for the store conformance suite, and the loop that runs a suite against every adapter.
import assert from 'node:assert/strict';
import { after, before, describe } from 'node:test';
import type { TrainSpec } from '../../../src/core/jobs.ts';
import { type Actor, mintTenantScope, SYSTEM, type TenantScope } from '../../../src/core/scope.ts';
import type { ApiKeyRecord, DatasetVersion } from '../../../src/core/types.ts';
import type {
  Advice,
  MonitorWindow,
  NewJob,
  NewModelVersion,
  NewTenant,
  Store,
  Webhook,
  WebhookDelivery,
} from '../../../src/store/ports.ts';
import { createTestStore, STORE_KINDS, type StoreKind, type TestStore } from '../../helpers/stores.ts';

export const T0 = '2026-01-01T00:00:00.000Z';
export const at = (minutes: number): string => new Date(Date.parse(T0) + minutes * 60_000).toISOString();

export const scopeOf = (tenantId: string, actor: Actor = SYSTEM): TenantScope =>
  mintTenantScope(tenantId, actor);

export function newTenant(id: string, over: Partial<NewTenant> = {}): NewTenant {
  return {
    id,
    name: `Tenant ${id}`,
    tier: 'free',
    sharedTraining: false,
    quotaOverrides: {},
    wrappedDataKey: Buffer.from(`wrapped-key-of-${id}`),
    ...over,
  };
}

export function versionInput(
  name: string,
  over: Partial<Omit<DatasetVersion, 'version' | 'tenantId'>> = {},
): Omit<DatasetVersion, 'version' | 'tenantId'> {
  return {
    name,
    rows: 3,
    schema: {
      columns: [
        {
          name: 'x',
          type: 'numeric',
          nullable: false,
          missing: 0,
          distinct: 3,
          distinctApprox: false,
          identifying: false,
          identifyingReasons: [],
          min: 1,
          max: 3,
        },
      ],
    },
    sha256: 'a'.repeat(64),
    storedBytes: 100,
    artifact: `datasets/${name}/blob`,
    format: 'csv',
    createdAt: T0,
    createdBy: 'tk_creator',
    ...over,
  };
}

export function keyRecord(id: string, tenantId: string, over: Partial<ApiKeyRecord> = {}): ApiKeyRecord {
  return {
    id,
    tenantId,
    role: 'admin',
    hash: 'b'.repeat(64),
    createdAt: T0,
    createdBy: 'operator',
    revokedAt: null,
    lastUsedAt: null,
    ...over,
  };
}

export function trainSpec(model: string, over: Partial<TrainSpec> = {}): TrainSpec {
  return {
    model,
    dataset: 'sales',
    datasetVersion: 1,
    target: 'y',
    algorithm: 'auto',
    mode: 'tenant',
    params: {},
    seed: 7,
    validFraction: 0.2,
    ...over,
  };
}

export function jobInput(id: string, over: Partial<NewJob> = {}): NewJob {
  return {
    id,
    kind: 'train',
    priority: 0,
    spec: trainSpec('churn'),
    maxAttempts: 3,
    limits: { timeoutSeconds: 600, cpuSeconds: 300, heapMb: 512 },
    createdAt: T0,
    createdBy: 'tk_creator',
    ...over,
  };
}

export function modelVersionInput(model: string, over: Partial<NewModelVersion> = {}): NewModelVersion {
  return {
    model,
    mode: 'tenant',
    task: 'binary',
    algorithm: 'gbdt',
    params: { rounds: 50, learningRate: 0.1 },
    metrics: { auc: 0.91, logloss: 0.31 },
    datasets: [{ tenantId: 'x', name: 'sales', version: 1, rows: 1000 }],
    artifact: `models/${model}/blob`,
    checksum: 'c'.repeat(64),
    jobId: null,
    base: null,
    createdAt: T0,
    createdBy: 'tk_creator',
    ...over,
  };
}

/**
 * A tenant with at least one row in every tenant-owned table. Its training job is queued, claimed and
 * finished here, so the store must hold no other queued job the claim could prefer.
 */
export async function seedTenant(store: Store, id: string): Promise<void> {
  const scope = scopeOf(id);
  await store.tenants.create(newTenant(id), 'operator', T0);
  await store.tenants.update(id, { sharedTraining: true }, 'operator', at(1));
  await store.keys.create(scope, keyRecord(`tk_${id}_1`, id));
  await store.datasets.addVersion(scope, versionInput(`${id}-data`, { sha256: id.padEnd(64, '0') }), {
    maxDatasets: 10,
  });
  await store.datasets.addVersion(scope, versionInput('common-name', { sha256: id.padEnd(64, '1') }), {
    maxDatasets: 10,
  });
  await store.audit.append({
    tenantId: id,
    actorKeyId: `tk_${id}_1`,
    actorRole: 'admin',
    action: 'dataset.upload',
    target: `${id}-data`,
    outcome: 'ok',
    requestId: 'req-1',
    at: at(2),
  });
  const job = await store.jobs.enqueue(scope, jobInput(`job_${id}_1`, { createdAt: at(3) }), {
    maxQueued: 10,
  });
  const claimed = await store.jobs.claim({
    workerId: 'seed-worker',
    now: at(3),
    leaseMs: 60_000,
    globalCap: 1000,
    halfLifeSeconds: 600,
  });
  if (claimed?.id !== job.id) throw new Error(`seedTenant(${id}): the claim took another tenant's job`);
  await store.jobs.finish(job.id, 'seed-worker', {
    state: 'succeeded',
    cpuSeconds: 2,
    wallSeconds: 3,
    result: { model: 'churn', version: 1 },
    at: at(4),
  });
  await store.models.register(
    scope,
    modelVersionInput('churn', {
      jobId: job.id,
      datasets: [{ tenantId: id, name: `${id}-data`, version: 1, rows: 3 }],
    }),
  );
  // A second version, promoted: a row in model_live_history.
  await store.models.register(scope, modelVersionInput('churn', { createdAt: at(5) }));
  await store.models.promote(scope, 'churn', 2, `tk_${id}_1`, at(6));
  await store.advice.create(scope, adviceInput(`adv_${id}_1`, { createdAt: at(7) }));
  // The MLOps loop's tables: a window with its cursor, feedback, a policy, a webhook with a delivery.
  await store.monitor.commit(scope, 'churn', [windowInput(id, 'churn', { start: at(0) })], {
    model: 'churn',
    lastKey: 'predictions/churn/2026-01-01/0001.ndjson',
    updatedAt: at(8),
  });
  await store.monitor.addFeedback(scope, [
    { model: 'churn', predictionId: `pred_${id}_1`, label: 'yes', receivedAt: at(8) },
  ]);
  await store.policies.put(scope, 'churn', { onDrift: true }, at(8));
  await store.webhooks.create(scope, webhookInput(`wh_${id}_1`, id), Buffer.from(`secret-of-${id}`));
  await store.webhooks.enqueue(scope, [deliveryInput(`dl_${id}_1`, id, `wh_${id}_1`, { createdAt: at(9) })]);
  // Metering: a usage event, a budget and an alerted threshold.
  await store.usage.record([
    {
      id: `ue_${id}_1`,
      tenantId: id,
      kind: 'training_cpu_seconds',
      quantity: 2,
      at: at(4),
      subject: job.id,
      origin: 'own',
    },
  ]);
  await store.budgets.put(
    scope,
    { monthly: 10, alertAt: [0.5, 1], hardLimit: false, blockPredictions: false, overrideMonth: null },
    at(10),
  );
  await store.budgets.markAlerted(scope, '2026-01', 0.5, at(10));
}

export function windowInput(
  tenantId: string,
  model: string,
  over: Partial<MonitorWindow> = {},
): MonitorWindow {
  return {
    tenantId,
    model,
    version: 1,
    granularity: 'hour',
    start: T0,
    rows: 10,
    aggregate: { rows: 10, features: { x: [1, 2, 3] } },
    report: null,
    updatedAt: T0,
    ...over,
  };
}

export function webhookInput(id: string, tenantId: string, over: Partial<Webhook> = {}): Webhook {
  return {
    id,
    tenantId,
    url: `https://hooks.example.com/${id}`,
    events: ['drift', 'promotion'],
    createdAt: T0,
    createdBy: 'tk_creator',
    ...over,
  };
}

export function deliveryInput(
  id: string,
  tenantId: string,
  webhookId: string,
  over: Partial<WebhookDelivery> = {},
): WebhookDelivery {
  const createdAt = over.createdAt ?? T0;
  return {
    id,
    tenantId,
    webhookId,
    event: 'drift',
    payload: {
      id: `evt_${id}`,
      event: 'drift',
      tenantId,
      at: createdAt,
      model: 'churn',
      version: 1,
      data: { share: 0.6 },
    },
    state: 'pending',
    attempts: 0,
    nextAttemptAt: createdAt,
    lastStatus: null,
    lastError: null,
    createdAt,
    deliveredAt: null,
    ...over,
  };
}

type NewAdvice = Omit<Advice, 'tenantId' | 'state' | 'result' | 'error' | 'finishedAt'>;

export function adviceInput(id: string, over: Partial<NewAdvice> = {}): NewAdvice {
  return {
    id,
    model: 'churn',
    dataset: 'sales',
    datasetVersion: 1,
    target: 'y',
    shared: null,
    jobs: { tenant: `job_${id}_tenant`, tuned: null },
    autoPromote: false,
    createdAt: T0,
    createdBy: 'tk_creator',
    ...over,
  };
}

/** Runs `body` once per adapter, each with its own fresh store. */
export function describeStores(
  name: string,
  body: (s: { kind: StoreKind; t: () => TestStore; store: () => Store }) => void,
): void {
  for (const kind of STORE_KINDS) {
    describe(`${name} [${kind}]`, () => {
      let ts: TestStore | undefined;
      before(async () => {
        ts = await createTestStore(kind);
      });
      after(async () => {
        await ts?.cleanup();
      });
      body({
        kind,
        t: () => ts as TestStore,
        store: () => (ts as TestStore).store,
      });
    });
  }
}

/** A PostgreSQL client connected as the application role (not the tables' owner: RLS applies). */
interface AppClient {
  query(sql: string): Promise<{ rows: Record<string, unknown>[]; rowCount: number | null }>;
}

/**
 * Row-level security on tenant tables, checked with bare SQL as the application role: with
 * app.tenant_id = A every table shows A's rows only (and has some), B's rows can be neither updated nor
 * deleted, each `plants` statement (writing a row for B, or moving A's to B) is refused, and with no
 * tenant set nothing is visible. `owner` runs a query as the owner (to see that B's rows exist).
 */
export async function assertRowLevelSecurity(
  app: AppClient,
  owner: (sql: string) => Promise<Record<string, unknown>[]>,
  t: { a: string; b: string; tables: readonly string[]; plants: readonly string[]; refusal?: RegExp },
): Promise<void> {
  for (const table of t.tables) {
    const [row] = await owner(`select count(*) as n from ${table} where tenant_id = '${t.b}'`);
    assert.ok(Number(row.n) > 0, `${table}: B's rows exist`);
  }
  await app.query('begin');
  try {
    await app.query(`select set_config('app.tenant_id', '${t.a}', true)`);
    for (const table of t.tables) {
      const { rows } = await app.query(`select * from ${table}`);
      assert.ok(rows.length > 0, `${table}: A's rows are visible`);
      assert.deepEqual([...new Set(rows.map((r) => r.tenant_id))], [t.a], table);
      const upd = await app.query(`update ${table} set tenant_id = tenant_id where tenant_id = '${t.b}'`);
      assert.equal(upd.rowCount, 0, `${table}: update of B's rows`);
      const del = await app.query(`delete from ${table} where tenant_id = '${t.b}'`);
      assert.equal(del.rowCount, 0, `${table}: delete of B's rows`);
    }
    for (const stmt of t.plants) {
      await app.query('savepoint p');
      await assert.rejects(app.query(stmt), t.refusal ?? /row-level security/, stmt);
      await app.query('rollback to savepoint p');
    }
  } finally {
    await app.query('rollback').catch(() => {});
  }
  for (const table of t.tables) {
    const { rows } = await app.query(`select * from ${table}`);
    assert.equal(rows.length, 0, `${table}: no tenant set, nothing`);
  }
}
