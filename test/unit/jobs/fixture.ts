// A worker's surroundings for the supervisor's unit tests: a real artifact folder with one encrypted
// dataset version, a real key ring, and the in-memory job and model repositories.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type { RawCell } from '../../../src/core/cells.ts';
import type { TrainSpec } from '../../../src/core/jobs.ts';
import { SchemaInferrer } from '../../../src/core/schema-inference.ts';
import { mintTenantScope, SYSTEM, type TenantScope } from '../../../src/core/scope.ts';
import type { DatasetVersion } from '../../../src/core/types.ts';
import {
  Supervisor,
  type WorkerDeps,
  type WorkerEvent,
  type WorkerOptions,
} from '../../../src/jobs/supervisor.ts';
import { TenantArtifacts } from '../../../src/services/artifacts.ts';
import { encodeRows } from '../../../src/services/datasets/codec.ts';
import { KeyRing } from '../../../src/services/keyring.ts';
import { newDataKey, wrapKey } from '../../../src/store/artifacts/envelope.ts';
import { FsBlobStore } from '../../../src/store/artifacts/fs.ts';
import type { DatasetRepo, TenantRepo } from '../../../src/store/ports.ts';
import { MemoryJobs, MemoryModels } from './memory-repos.ts';

export const TENANT = 'acme';

/** A small, learnable binary problem: y depends on x1 + x2 and on the category. */
export function tinyRows(n: number): { columns: string[]; rows: RawCell[][] } {
  const rows: RawCell[][] = [];
  for (let i = 0; i < n; i++) {
    const x1 = ((i * 37) % 101) / 10;
    const x2 = ((i * 53) % 89) / 10;
    const cat = ['red', 'green', 'blue'][i % 3];
    const y = x1 + x2 + (cat === 'red' ? 2 : 0) > 10 ? 'yes' : 'no';
    rows.push([x1, x2, cat, y]);
  }
  return { columns: ['x1', 'x2', 'colour', 'label'], rows };
}

export interface Fixture {
  dir: string;
  scope: TenantScope;
  jobs: MemoryJobs;
  models: MemoryModels;
  artifacts: TenantArtifacts;
  version: DatasetVersion;
  events: (WorkerEvent & { t: number })[];
  dataKey(): Promise<Buffer>;
  supervisor(opts?: WorkerOptions, extra?: Pick<WorkerDeps, 'onFinished'>): Supervisor;
  spec(over?: Partial<TrainSpec>): TrainSpec;
  cleanup(): Promise<void>;
}

export async function createFixture(nRows = 200): Promise<Fixture> {
  const dir = mkdtempSync(join(tmpdir(), 'tenantml-jobs-'));
  const blobs = new FsBlobStore(join(dir, 'artifacts'));
  const master = newDataKey();
  const wrapped = wrapKey(master, TENANT, newDataKey());
  const keyring = new KeyRing(master, { wrappedDataKey: async (id) => (id === TENANT ? wrapped : null) });
  const artifacts = new TenantArtifacts(blobs, keyring);
  const scope = mintTenantScope(TENANT, SYSTEM);

  const { columns, rows } = tinyRows(nRows);
  const inferrer = new SchemaInferrer();
  inferrer.syncColumns(columns);
  inferrer.observe(rows);
  const artifact = 'datasets/tiny/dv_1.rows';
  async function* batches() {
    yield rows;
  }
  await artifacts.putStream(scope, artifact, Readable.from(encodeRows(batches(), columns)));
  const version: DatasetVersion = {
    tenantId: TENANT,
    name: 'tiny',
    version: 1,
    rows: nRows,
    schema: inferrer.finish(),
    sha256: '0'.repeat(64),
    storedBytes: 0,
    artifact,
    format: 'csv',
    createdAt: '2026-01-01T00:00:00.000Z',
    createdBy: 'test',
  };
  const datasets = {
    version: async (s: TenantScope, name: string, v: number) =>
      s.tenantId === TENANT && name === 'tiny' && v === 1 ? version : null,
  } as unknown as DatasetRepo;

  // Only shared jobs look tenants up; these tests run tenant jobs.
  const tenants = {
    list: async () => [],
    get: async () => null,
  } as unknown as TenantRepo;

  const jobs = new MemoryJobs();
  const models = new MemoryModels();
  const events: Fixture['events'] = [];
  const started: Supervisor[] = [];
  return {
    dir,
    scope,
    jobs,
    models,
    artifacts,
    version,
    events,
    dataKey: () => keyring.dataKey(TENANT),
    supervisor(opts = {}, extra = {}) {
      const s = new Supervisor(
        {
          ...extra,
          store: { jobs, models, datasets, tenants },
          artifacts,
          keyring,
          blobs: { kind: 'fs', root: join(dir, 'artifacts') },
        },
        {
          slots: 1,
          pollMs: 50,
          heartbeatMs: 200,
          leaseMs: 2000,
          testHooks: true,
          ...opts,
          onEvent: (e) => {
            events.push({ ...e, t: performance.now() });
            opts.onEvent?.(e);
          },
        },
      );
      started.push(s);
      return s;
    },
    spec: (over = {}) => ({
      model: 'churn',
      dataset: 'tiny',
      datasetVersion: 1,
      target: 'label',
      algorithm: 'linear',
      mode: 'tenant',
      params: {},
      seed: 7,
      validFraction: 0.2,
      ...over,
    }),
    async cleanup() {
      await Promise.all(started.map((s) => s.stop(0)));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Resolves when `pred` holds, polling every 20 ms; rejects after `ms`. */
export async function waitFor<T>(
  what: string,
  pred: () => T | undefined | null | false,
  ms = 15_000,
): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = pred();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
