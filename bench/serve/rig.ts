// The serve benchmark's rig: the bench model and its requests, a predict server in a process of its own
// (server-process.ts: the platform from the build, SQLite, silent logs, no workers) with a tenant and a
// live model, the load generator in a child process, and Zipf traffic.
import { type ChildProcess, fork } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { setPriority, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ColumnSchema, ColumnType } from '../../src/core/types.ts';
import { type TrainedModel, trainModel } from '../../src/ml/train.ts';
import type { Job, JobResult } from './loadgen.ts';
import { ServerProcess, startPool } from './server-process.ts';

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
 * A server in its own process, run from the build (server-process.ts), with one tenant and one live model
 * (`m100`), answered once (the model is loaded): the single-row predict request to send it.
 */
export async function predictServer(
  env: Record<string, string>,
  tenantId: string,
  trained: TrainedModel,
): Promise<{ s: ServerProcess; job: PredictJob }> {
  const s = await ServerProcess.start(env);
  try {
    return { s, job: await preparePredict(s, tenantId, trained) };
  } catch (err) {
    await s.close();
    throw err;
  }
}

/** A premium tenant with BIG_QUOTAS, its key and `trained` live as m100; one prediction checked. */
async function preparePredict(
  s: ServerProcess,
  tenantId: string,
  trained: TrainedModel,
): Promise<PredictJob> {
  const key = await s.tenant(tenantId, BIG_QUOTAS);
  await s.register(tenantId, 'm100', trained);
  const job: PredictJob = {
    method: 'POST',
    path: '/v1/models/m100/predict',
    headers: { Authorization: `Bearer ${key}` },
    body: JSON.stringify({ instances: [instance(1)] }),
  };
  const warm = await s.inject({
    method: 'POST',
    url: job.path,
    headers: { ...job.headers, 'content-type': 'application/json' },
    payload: job.body,
  });
  if (warm.status !== 200) throw new Error(`warm-up predict: ${warm.status} ${warm.body}`);
  return job;
}

/**
 * `predictServer`'s tenant, key and model served by a serving pool of `processes` API processes: a
 * ServerProcess prepares the data folder (and checks a prediction), then the pool serves it.
 */
export async function predictPool(
  processes: number,
  env: Record<string, string>,
  tenantId: string,
  trained: TrainedModel,
): Promise<{ pool: Awaited<ReturnType<typeof startPool>>; job: PredictJob; close(): Promise<void> }> {
  const dataDir = await mkdtemp(join(tmpdir(), 'tenantml-bench-pool-'));
  try {
    const setup = await ServerProcess.start(env, { dataDir });
    let job: PredictJob;
    try {
      job = await preparePredict(setup, tenantId, trained);
    } finally {
      await setup.close();
    }
    const pool = await startPool(processes, dataDir, env);
    return {
      pool,
      job,
      async close() {
        await pool.close();
        await rm(dataDir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await rm(dataDir, { recursive: true, force: true });
    throw err;
  }
}

/** The load generator, in its own process. */
export class LoadGen {
  private child: ChildProcess;
  /** `nice`: the generator's scheduling priority, 0 (normal) … 19 (lowest). */
  constructor(opts: { nice?: number } = {}) {
    this.child = fork(join(here, 'loadgen.ts'), [], { execArgv: ['--import', 'tsx'], stdio: 'inherit' });
    if (opts.nice) setPriority(this.child.pid!, opts.nice);
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
