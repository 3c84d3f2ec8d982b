// The real platform (real store, artifact folder, key ring, tenants, datasets) with workers beside it,
// for the training integration tests. Jobs that need test hooks (slow, crash, heap, CPU) are queued
// straight into the job table: the API refuses their `__test` params.
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { cryptoRandom, systemClock } from '../../../src/core/clock.ts';
import type { Job, TrainSpec } from '../../../src/core/jobs.ts';
import { mintTenantScope, SYSTEM, type TenantScope } from '../../../src/core/scope.ts';
import {
  type Supervisor,
  startWorkers,
  type WorkerDeps,
  type WorkerEvent,
  type WorkerOptions,
} from '../../../src/jobs/supervisor.ts';
import { clockTicksPerSecond } from '../../../src/jobs/usage.ts';
import { TrainingService } from '../../../src/services/training.ts';
import type { NewJob } from '../../../src/store/ports.ts';
import { createTestPlatform, type TestPlatform } from '../../helpers/platform.ts';
import type { StoreKind } from '../../helpers/stores.ts';

export const TENANT = 'acme';

/** CPU seconds of this process's children that have exited and been reaped (cutime + cstime). */
export function reapedChildrenCpuSeconds(): number {
  const text = readFileSync('/proc/self/stat', 'utf8');
  const f = text
    .slice(text.lastIndexOf(')') + 1)
    .trim()
    .split(/\s+/);
  return (Number(f[13]) + Number(f[14])) / clockTicksPerSecond(); // fields 16 and 17
}

/** 300 rows of a learnable binary problem, with a text column and an identifying one. */
/** A linear training job on the dataset `tiny` (version 1, target `label`), as the job table takes it. */
export function tinyJob(id: string, spec: Partial<TrainSpec> = {}, over: Partial<NewJob> = {}): NewJob {
  return {
    id,
    kind: 'train',
    priority: 0,
    spec: {
      model: 'churn',
      dataset: 'tiny',
      datasetVersion: 1,
      target: 'label',
      algorithm: 'linear',
      mode: 'tenant',
      params: {},
      seed: 11,
      validFraction: 0.2,
      ...spec,
    },
    maxAttempts: 3,
    limits: { timeoutSeconds: 120, cpuSeconds: 120, heapMb: 256 },
    createdAt: new Date().toISOString(),
    createdBy: 'test',
    ...over,
  };
}

export function csv(n = 300): string {
  const lines = ['x1,x2,colour,email,score,label'];
  for (let i = 0; i < n; i++) {
    const x1 = ((i * 37) % 101) / 10;
    const x2 = ((i * 53) % 89) / 10;
    const colour = ['red', 'green', 'blue'][i % 3];
    const label = x1 + x2 + (colour === 'red' ? 2 : 0) > 10 ? 'yes' : 'no';
    lines.push(`${x1},${x2},${colour},user${i}@example.com,${(x1 * 3.7 + x2).toFixed(3)},${label}`);
  }
  return `${lines.join('\n')}\n`;
}

export interface Harness {
  tp: TestPlatform;
  scope: TenantScope;
  training: TrainingService;
  events: (WorkerEvent & { t: number })[];
  /** Queues a job straight into the job table (test hooks allowed). */
  enqueue(id: string, spec: Partial<TrainSpec>, over?: Partial<NewJob>): Promise<Job>;
  workers(opts?: WorkerOptions, deps?: Partial<WorkerDeps>): Promise<Supervisor>;
  job(id: string): Promise<Job>;
  waitForJob(id: string, pred: (j: Job) => boolean, ms?: number): Promise<Job>;
  cleanup(): Promise<void>;
}

export async function createHarness(
  kind: StoreKind,
  tenantExtra: Record<string, unknown> = {},
): Promise<Harness> {
  // The platform's own workers stay off: these tests start theirs, with test hooks on.
  const tp = await createTestPlatform(kind, { env: { TENANTML_WORKER_SLOTS: '0' } });
  const t = await tp.tenant(TENANT, tenantExtra);
  const up = await tp.upload(t.admin, 'tiny', csv());
  if (up.status !== 201) throw new Error(`upload: ${up.status} ${JSON.stringify(up.body)}`);
  const scope = mintTenantScope(TENANT, { keyId: 'test', role: 'admin' });
  const { store } = tp.platform;
  const training = new TrainingService({
    store,
    tenants: tp.platform.services.tenants,
    clock: systemClock,
    random: cryptoRandom,
  });
  const events: Harness['events'] = [];
  const stops: (() => Promise<void>)[] = [];
  const job = async (id: string): Promise<Job> => {
    const j = await store.jobs.get(scope, id);
    if (!j) throw new Error(`no job ${id}`);
    return j;
  };
  return {
    tp,
    scope,
    training,
    events,
    enqueue: (id, spec, over = {}) =>
      store.jobs.enqueue(mintTenantScope(TENANT, SYSTEM), tinyJob(id, spec, over), { maxQueued: 100 }),
    async workers(opts = {}, deps = {}) {
      const w = await startWorkers(
        {
          store,
          artifacts: tp.platform.services.artifacts,
          keyring: tp.platform.services.keyring,
          blobs: { kind: 'fs', root: tp.platform.config.artifactsDir },
          ...deps,
        },
        {
          slots: 1,
          pollMs: 50,
          heartbeatMs: 200,
          leaseMs: 2000,
          requeueEveryMs: 300,
          testHooks: true,
          ...opts,
          onEvent: (e) => events.push({ ...e, t: performance.now() }),
        },
      );
      stops.push(() => w.supervisor.stop(0));
      return w.supervisor;
    },
    job,
    async waitForJob(id, pred, ms = 30_000) {
      const end = Date.now() + ms;
      for (;;) {
        const j = await job(id);
        if (pred(j)) return j;
        if (Date.now() > end) throw new Error(`job ${id} is ${j.state} (${j.error ?? ''}) after ${ms} ms`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    async cleanup() {
      await Promise.all(stops.map((s) => s()));
      await tp.cleanup();
    },
  };
}

/** A worker supervisor in its own OS process (worker-process.ts), with its events as parsed lines. */
export function spawnWorker(
  url: string,
  dataDir: string,
  flags: string[] = [],
): {
  proc: ChildProcess;
  events: Record<string, unknown>[];
  waitFor(type: string, ms?: number): Promise<Record<string, unknown>>;
} {
  const proc = spawn(
    process.execPath,
    ['--import', 'tsx', new URL('./worker-process.ts', import.meta.url).pathname, url, dataDir, ...flags],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const events: Record<string, unknown>[] = [];
  const waiters: (() => void)[] = [];
  createInterface({ input: proc.stdout! }).on('line', (line) => {
    try {
      events.push(JSON.parse(line));
    } catch {
      return;
    }
    for (const w of waiters.splice(0)) w();
  });
  const waitFor = (type: string, ms = 30_000): Promise<Record<string, unknown>> =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`worker process: no ${type} event in ${ms} ms`)), ms);
      const check = (): void => {
        const e = events.find((x) => x.type === type);
        if (e) {
          clearTimeout(timer);
          resolve(e);
        } else waiters.push(check);
      };
      check();
    });
  return { proc, events, waitFor };
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
