// The serve benchmark's rig: a real platform listening on loopback (SQLite, silent logs, no workers),
// tenants created through its API, model versions written the way a finished training job writes them,
// the load generator in a child process, and readings of the process (RSS, OS threads).
import { type ChildProcess, fork } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../../src/core/config.ts';
import { mintTenantScope, SYSTEM } from '../../src/core/scope.ts';
import type { ColumnSchema, ColumnType } from '../../src/core/types.ts';
import { type TrainedModel, trainModel } from '../../src/ml/train.ts';
import { type Platform, startPlatform } from '../../src/platform.ts';
import type { Job, JobResult } from './loadgen.ts';

const here = dirname(fileURLToPath(import.meta.url));

export const N_FEATURES = 10;

const col = (name: string, type: ColumnType): ColumnSchema => ({
  name,
  type,
  nullable: false,
  missing: 0,
  distinct: 100,
  distinctApprox: false,
  identifying: false,
  identifyingReasons: [],
});

/** A binary GBDT of `trees` trees on 10 numeric features (2,000 generated rows, no early stopping). */
export function trainBenchModel(trees: number, depth: number, seed = 1): TrainedModel {
  let s = seed * 7919 + 7;
  const r = () => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return s / 2147483648;
  };
  const rows = [];
  for (let i = 0; i < 2000; i++) {
    const o: Record<string, number | string> = {};
    let z = 0;
    for (let j = 0; j < N_FEATURES; j++) {
      const v = r() * 2 - 1;
      o[`f${j}`] = v;
      z += v * (j % 3 === 0 ? 1 : -0.5);
    }
    o.label = z + (r() - 0.5) > 0 ? 'yes' : 'no';
    rows.push(o);
  }
  return trainModel({
    rows,
    schema: {
      columns: [
        ...Array.from({ length: N_FEATURES }, (_, j) => col(`f${j}`, 'numeric')),
        col('label', 'categorical'),
      ],
    },
    target: 'label',
    task: 'binary',
    algorithm: 'gbdt',
    params: { nRounds: trees, maxDepth: depth, earlyStoppingRounds: 0 },
    seed,
  });
}

export function instance(i = 0): Record<string, number> {
  const o: Record<string, number> = {};
  for (let j = 0; j < N_FEATURES; j++) o[`f${j}`] = Math.sin(i * 13 + j) * 0.9;
  return o;
}

export interface Served {
  platform: Platform;
  url: string;
  port: number;
  adminKey: string;
  close(): Promise<void>;
}

/** TENANTML_* variables of the bench's own environment reach every server it starts (a step's own win). */
export function settingsFromEnvironment(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env))
    if (k.startsWith('TENANTML_') && v !== undefined) out[k] = v;
  return out;
}

export async function serve(env: Record<string, string> = {}): Promise<Served> {
  const dataDir = await mkdtemp(join(tmpdir(), 'tenantml-bench-serve-'));
  const config = loadConfig(
    {
      TENANTML_DATA_DIR: dataDir,
      TENANTML_HOST: '127.0.0.1',
      TENANTML_PORT: '0',
      TENANTML_LOG_LEVEL: 'silent',
      TENANTML_WORKER_SLOTS: '0',
      ...settingsFromEnvironment(),
      ...env,
    },
    dataDir,
  );
  const running = await startPlatform(config);
  const port = Number(new URL(running.url).port);
  return {
    platform: running.platform,
    url: running.url,
    port,
    adminKey: running.platform.adminKey,
    async close() {
      await running.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** Creates a tenant through the API (with quota overrides) and returns a predict key for it. */
export async function tenant(
  s: Served,
  id: string,
  quotaOverrides: Record<string, number> = {},
): Promise<string> {
  const auth = { authorization: `Bearer ${s.adminKey}` };
  const t = await s.platform.app.inject({
    method: 'POST',
    url: '/v1/tenants',
    headers: auth,
    payload: { id, name: id, tier: 'premium', quotaOverrides },
  });
  if (t.statusCode !== 201) throw new Error(`tenant ${id}: ${t.statusCode} ${t.body}`);
  const k = await s.platform.app.inject({
    method: 'POST',
    url: `/v1/tenants/${id}/keys`,
    headers: auth,
    payload: { role: 'predict' },
  });
  return JSON.parse(k.body).key as string;
}

/** Quotas no bench request should meet (the steps measure the server, not a tenant's limits). */
export const BIG_QUOTAS = {
  requestsPerSecond: 1_000_000,
  predictionsPerSecond: 1_000_000,
  inFlightRequests: 10_000,
};

/** A request as the load generator sends it. */
export interface PredictJob {
  method: 'POST';
  path: string;
  headers: Record<string, string>;
  body: string;
}

/**
 * A server with one tenant and one live model (`m100`), answered once (the model is loaded): the
 * single-row predict request to send it.
 */
export async function predictServer(
  env: Record<string, string>,
  tenantId: string,
  trained: TrainedModel,
): Promise<{ s: Served; job: PredictJob }> {
  const s = await serve(env);
  const key = await tenant(s, tenantId, BIG_QUOTAS);
  await registerModel(s, tenantId, 'm100', trained);
  const job: PredictJob = {
    method: 'POST',
    path: '/v1/models/m100/predict',
    headers: { Authorization: `Bearer ${key}` },
    body: JSON.stringify({ instances: [instance(1)] }),
  };
  const warm = await s.platform.app.inject({
    method: 'POST',
    url: job.path,
    headers: { ...job.headers, 'content-type': 'application/json' },
    payload: job.body,
  });
  if (warm.statusCode !== 200) {
    await s.close();
    throw new Error(`warm-up predict: ${warm.statusCode} ${warm.body}`);
  }
  return { s, job };
}

/** Writes a trained model into the tenant's namespace and registers it (live: the model's first version). */
export async function registerModel(
  s: Served,
  tenantId: string,
  model: string,
  trained: TrainedModel,
): Promise<void> {
  const scope = mintTenantScope(tenantId, SYSTEM);
  const onnx = Buffer.from(trained.onnx!);
  const prefix = `models/${model}/bench`;
  const art = s.platform.services.artifacts;
  await art.put(scope, `${prefix}/model.onnx`, onnx);
  await art.put(scope, `${prefix}/featurizer.json`, Buffer.from(JSON.stringify(trained.featurizer)));
  await art.put(scope, `${prefix}/model.json`, Buffer.from(JSON.stringify(trained.modelJson)));
  await s.platform.store.models.register(scope, {
    model,
    mode: 'tenant',
    task: trained.modelJson.task,
    algorithm: trained.modelJson.algorithm,
    params: trained.modelJson.params,
    metrics: {},
    datasets: [],
    artifact: prefix,
    checksum: createHash('sha256').update(onnx).digest('hex'),
    jobId: null,
    base: null,
    createdAt: new Date().toISOString(),
    createdBy: 'bench',
  });
}

/** The load generator, in its own process. */
export class LoadGen {
  private child: ChildProcess;
  constructor() {
    this.child = fork(join(here, 'loadgen.ts'), [], { execArgv: ['--import', 'tsx'], stdio: 'inherit' });
  }
  run(port: number, jobs: Job[]): Promise<JobResult[]> {
    return new Promise((resolve) => {
      this.child.once('message', (m) => resolve(m as JobResult[]));
      this.child.send({ port, jobs });
    });
  }
  close(): void {
    this.child.send('exit');
  }
}

export function threads(): number {
  return Number(/Threads:\s*(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? Number.NaN);
}

export const rssMb = (): number => process.memoryUsage().rss / 1024 / 1024;

/** Zipf(s) over n items: ranks 0..n-1 drawn from a seeded generator. */
export function zipf(n: number, s: number, count: number, seed = 42): number[] {
  const cdf = new Float64Array(n);
  let acc = 0;
  for (let k = 0; k < n; k++) {
    acc += 1 / (k + 1) ** s;
    cdf[k] = acc;
  }
  let x = seed;
  const rnd = () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 0x1_0000_0000;
  };
  const out: number[] = [];
  for (let i = 0; i < count; i++) {
    const u = rnd() * acc;
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cdf[mid] < u) lo = mid + 1;
      else hi = mid;
    }
    out.push(lo);
  }
  return out;
}
