// The fairness benchmark's test bed: the real platform (store, artifact folder, key ring, tenants,
// datasets) and the real worker supervisor, with every job's life recorded from the supervisor's events.
// Jobs carry the `burnCpuMs` test hook, so they are queued straight into the job table (the API refuses
// `__test` params) — otherwise exactly what TrainingService.submit queues.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import pg from 'pg';
import { loadConfig } from '../../src/core/config.ts';
import { mintTenantScope, SYSTEM, type TenantScope } from '../../src/core/scope.ts';
import { effectiveQuotas, type Quotas, type Tier } from '../../src/core/tiers.ts';
import { type Supervisor, startWorkers, type WorkerOptions } from '../../src/jobs/supervisor.ts';
import { createPlatform, type Platform } from '../../src/platform.ts';
import { MAX_ATTEMPTS } from '../../src/services/training.ts';
import type { Store } from '../../src/store/ports.ts';
import { openStore } from '../../src/store/sql/index.ts';

export const DEFAULT_POSTGRES_URL = 'postgres://postgres@127.0.0.1:5432/test';

export interface RigOptions {
  /** `postgres://…` of a server on which a fresh database is created (and dropped after); else SQLite. */
  postgresUrl?: string;
  /** CPU time every job burns through the test hook before it trains, ms. */
  burnMs: number;
  /** Rows of each tenant's dataset (a tiny learnable binary problem). */
  rows: number;
  /** Supervisor options on top of its defaults (slots, testHooks and onEvent are set here). */
  workers?: Omit<WorkerOptions, 'slots' | 'testHooks' | 'onEvent'>;
  slots: number;
}

/** One job's life, in performance.now() milliseconds of this process. */
export interface JobRecord {
  id: string;
  tenantId: string;
  queuedAt: number;
  claimedAt?: number;
  childStartedAt?: number;
  childExitedAt?: number;
  /** When the outcome was recorded and the slot freed. */
  finishedAt?: number;
  state?: string;
  /** CPU-seconds of the attempt as the supervisor metered it (what the scheduler is charged). */
  cpuSeconds?: number;
}

/** A small learnable binary problem; `seed` varies the rows between tenants. */
export function tinyCsv(rows: number, seed: number): string {
  const lines = ['x1,x2,colour,label'];
  for (let i = 0; i < rows; i++) {
    const x1 = (((i + seed) * 37) % 101) / 10;
    const x2 = (((i + seed) * 53) % 89) / 10;
    const colour = ['red', 'green', 'blue'][i % 3];
    const label = x1 + x2 + (colour === 'red' ? 2 : 0) > 10 ? 'yes' : 'no';
    lines.push(`${x1},${x2},${colour},${label}`);
  }
  return `${lines.join('\n')}\n`;
}

export class Rig {
  readonly records = new Map<string, JobRecord>();
  /** Called after every recorded event (scenarios wait on it and top up backlogs from it). */
  onChange: ((r: JobRecord, event: string) => void) | null = null;
  private supervisor: Supervisor | null = null;
  private stopWorkers: (() => Promise<void>) | null = null;
  private readonly quotas = new Map<string, Quotas>();
  private seq = 0;
  private readonly waiters = new Set<() => void>();

  private constructor(
    readonly platform: Platform,
    readonly store: Store,
    readonly opts: RigOptions,
    readonly dialect: string,
    private readonly cleanups: (() => Promise<void>)[],
  ) {}

  static async open(opts: RigOptions): Promise<Rig> {
    const dataDir = mkdtempSync(join(tmpdir(), 'tenantml-fairness-'));
    const cleanups: (() => Promise<void>)[] = [async () => rmSync(dataDir, { recursive: true, force: true })];
    let url = join(dataDir, 'tenantml.db');
    if (opts.postgresUrl) {
      const database = `tenantml_bench_${randomBytes(6).toString('hex')}`;
      const control = new pg.Client({ connectionString: opts.postgresUrl });
      await control.connect();
      await control.query(`create database ${database}`);
      cleanups.unshift(async () => {
        await control.query(`drop database if exists ${database} with (force)`);
        await control.end();
      });
      const u = new URL(opts.postgresUrl);
      u.pathname = `/${database}`;
      url = u.toString();
    }
    try {
      const store = await openStore({ url });
      cleanups.unshift(() => store.close());
      // The platform's own workers stay off: the benchmark starts its own, with the test hook honoured.
      const config = loadConfig(
        { TENANTML_DATA_DIR: dataDir, TENANTML_LOG_LEVEL: 'silent', TENANTML_WORKER_SLOTS: '0' },
        dataDir,
      );
      const platform = await createPlatform(config, { store });
      cleanups.unshift(() => platform.close());
      return new Rig(platform, store, opts, store.dialect, cleanups);
    } catch (err) {
      for (const c of cleanups) await c().catch(() => {});
      throw err;
    }
  }

  /** Creates a tenant of `tier` (with quota overrides) and uploads its dataset `tiny`. */
  async tenant(id: string, tier: Tier, overrides: Partial<Quotas> = {}): Promise<void> {
    const { tenants, datasets } = this.platform.services;
    const t = await tenants.create(
      { id, name: `bench ${id}`, tier, quotaOverrides: overrides },
      { keyId: 'bench', role: 'operator' },
    );
    this.quotas.set(id, tenants.quotas(t));
    await datasets.upload(
      this.scope(id),
      'tiny',
      'csv',
      Readable.from([tinyCsv(this.opts.rows, this.quotas.size * 7)]),
    );
  }

  private scope(tenantId: string): TenantScope {
    return mintTenantScope(tenantId, { keyId: 'bench', role: 'admin' });
  }

  /** Queues `n` jobs for the tenant, one after another (FIFO order = this order). */
  async enqueue(tenantId: string, n: number): Promise<JobRecord[]> {
    const q = this.quotas.get(tenantId) ?? effectiveQuotas('standard');
    const out: JobRecord[] = [];
    for (let i = 0; i < n; i++) {
      const id = `job_${tenantId}_${(this.seq++).toString().padStart(5, '0')}`;
      const rec: JobRecord = { id, tenantId, queuedAt: performance.now() };
      this.records.set(id, rec);
      await this.store.jobs.enqueue(
        mintTenantScope(tenantId, SYSTEM),
        {
          id,
          kind: 'train',
          priority: 0,
          spec: {
            model: 'bench',
            dataset: 'tiny',
            datasetVersion: 1,
            target: 'label',
            algorithm: 'linear',
            mode: 'tenant',
            params: { __test: { burnCpuMs: this.opts.burnMs } },
            seed: this.seq,
            validFraction: 0.2,
          },
          maxAttempts: MAX_ATTEMPTS,
          limits: {
            timeoutSeconds: q.jobTimeoutSeconds,
            cpuSeconds: q.cpuSecondsPerJob,
            heapMb: q.jobHeapMb,
          },
          createdAt: new Date().toISOString(),
          createdBy: 'bench',
        },
        { maxQueued: q.queuedJobs },
      );
      out.push(rec);
    }
    return out;
  }

  /** Starts the real supervisor with the benchmark's slots and the test hooks honoured. */
  async startWorkers(): Promise<void> {
    const { platform } = this;
    const w = await startWorkers(
      {
        store: this.store,
        artifacts: platform.services.artifacts,
        keyring: platform.services.keyring,
        blobs: { kind: 'fs', root: platform.config.artifactsDir },
      },
      {
        ...this.opts.workers,
        slots: this.opts.slots,
        testHooks: true,
        onEvent: (e) => {
          const now = performance.now();
          const r = this.records.get(e.jobId);
          if (!r) return;
          if (e.type === 'claimed') r.claimedAt = now;
          else if (e.type === 'child-started') r.childStartedAt = now;
          else if (e.type === 'child-exited') r.childExitedAt = e.at;
          else if (e.type === 'finished') {
            r.finishedAt = now;
            r.state = e.outcome.state;
            r.cpuSeconds = e.outcome.cpuSeconds;
          } else return;
          this.onChange?.(r, e.type);
          for (const w of [...this.waiters]) w();
        },
      },
    );
    this.supervisor = w.supervisor;
    this.stopWorkers = w.stop;
  }

  /** Resolves true when `pred` holds (checked after every job event), false after `ms` without it. */
  until(pred: () => boolean, ms: number): Promise<boolean> {
    return new Promise((resolve) => {
      const check = (): void => {
        if (!pred()) return;
        this.waiters.delete(check);
        clearTimeout(timer);
        resolve(true);
      };
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        resolve(false);
      }, ms);
      this.waiters.add(check);
      check();
    });
  }

  /**
   * Cancels the tenants' queued jobs and waits up to `ms` until the supervisor runs nothing (with `ms` 0,
   * only cancels).
   */
  async drain(tenantIds: readonly string[], ms = 120_000): Promise<void> {
    const at = new Date().toISOString();
    for (const r of this.records.values()) {
      if (tenantIds.includes(r.tenantId) && r.claimedAt === undefined)
        await this.store.jobs.requestCancel(this.scope(r.tenantId), r.id, at);
    }
    if (ms === 0) return;
    const end = Date.now() + ms;
    while ((this.supervisor?.active ?? 0) > 0) {
      if (Date.now() > end) throw new Error('fairness bench: jobs still running after the drain timeout');
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  async close(): Promise<void> {
    await this.stopWorkers?.();
    for (const c of this.cleanups) await c().catch(() => {});
  }
}
