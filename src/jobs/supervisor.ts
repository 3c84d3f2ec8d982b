// The worker supervisor: N slots; claims the next job (fair share, in the store) whenever a slot is free,
// runs each in its own child process (child.ts) under a heap limit, a wall-clock timeout and a CPU-time
// limit, renews the lease with progress, stops the child on cancel, and stores and registers the result.
// It decides what a job may read: its own dataset version, a tuned job's shared base, or — for a shared
// job — the consenting tenants' latest versions, chosen when the job starts and re-checked when it registers.
// It runs inside `npm start` beside the API or alone (`tenantml worker`), any number against one store.
import { type ChildProcess, fork } from 'node:child_process';
import { createHash } from 'node:crypto';
import { hostname } from 'node:os';
import { fileURLToPath } from 'node:url';
import { type Clock, cryptoRandom, type Random, systemClock } from '../core/clock.ts';
import { isAppError } from '../core/errors.ts';
import { newId } from '../core/ids.ts';
import { type Job, type JobProgress, TERMINAL_STATES, type TrainSpec } from '../core/jobs.ts';
import { siblingModule } from '../core/module-url.ts';
import { mintTenantScope, SHARED_NAMESPACE, SYSTEM, sharedScope } from '../core/scope.ts';
import type { DatasetVersion } from '../core/types.ts';
import { childLoaderArgs } from '../runtime/entry.ts';
import type { TenantArtifacts } from '../services/artifacts.ts';
import type { KeyRing } from '../services/keyring.ts';
import type { JobOutcome, Store } from '../store/ports.ts';
import { DEFAULT_HALF_LIFE_SECONDS } from './fair-share.ts';
import type {
  BaseArtifacts,
  BlobLocation,
  ChildMessage,
  ErrorMessage,
  PoolContribution,
  ResultMessage,
  StartMessage,
  TrainingSource,
} from './protocol.ts';
import { CpuMeter } from './usage.ts';

export interface WorkerLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

const silent: WorkerLog = { info() {}, warn() {}, error() {} };

export interface WorkerDeps {
  /** `tenants`: shared jobs choose their contributors by consent, and re-check it when they register. */
  store: Pick<Store, 'jobs' | 'models' | 'datasets' | 'tenants'>;
  /** Writes the model artifacts (encrypted under the tenant's prefix); reads a tuned job's base. */
  artifacts: Pick<TenantArtifacts, 'put' | 'get'>;
  /** Unwraps the tenants' data keys, handed to the child over IPC so it can decrypt the datasets. */
  keyring: Pick<KeyRing, 'dataKey'>;
  /** Where the child reads the dataset blob from. */
  blobs: BlobLocation;
  clock?: Clock;
  random?: Random;
  log?: WorkerLog;
  /**
   * Called once the outcome of a job that ended for good (succeeded, failed without a retry left,
   * cancelled, timed out) is recorded: the platform hangs the advisor and the retraining flow here. Its
   * errors are logged, never thrown; it runs beside the worker and does not hold a slot.
   */
  onFinished?: (job: Job) => Promise<void>;
}

/** What the supervisor reports as it goes (logs, metrics, tests). */
export type WorkerEvent =
  | { type: 'claimed'; jobId: string; tenantId: string }
  | { type: 'child-started'; jobId: string; pid: number }
  | {
      type: 'child-exited';
      jobId: string;
      pid: number;
      code: number | null;
      signal: string | null;
      at: number;
    }
  | { type: 'finished'; jobId: string; outcome: JobOutcome; job: Job | null }
  | { type: 'lease-lost'; jobId: string }
  | { type: 'abandoned'; jobId: string };

export interface WorkerOptions {
  /** Jobs run at once by this supervisor (default 2). */
  slots?: number;
  workerId?: string;
  /** How often to look for work when idle (default 250 ms); a freed slot looks at once. */
  pollMs?: number;
  /** Lease renewal and cancel check (default 500 ms; keep it ≤ 1 s so cancel stops within 2 s). */
  heartbeatMs?: number;
  /** Lease length (default 10 s): a dead worker's job returns to the queue this long after its last beat. */
  leaseMs?: number;
  /** How often the child's CPU time is read (default 200 ms). */
  cpuSampleMs?: number;
  /** How often expired leases are returned to the queue (default 1 s). */
  requeueEveryMs?: number;
  /** How long stop() lets running jobs finish before killing them (default 10 s). */
  graceMs?: number;
  /** Jobs running across all workers beyond which nothing more is claimed (default 1000). */
  globalCap?: number;
  /** Half-life of the CPU usage the fair scheduler charges to a tenant (default DEFAULT_HALF_LIFE_SECONDS). */
  halfLifeSeconds?: number;
  /** Honour `params.__test` hooks in the child (tests only; the API refuses such params). */
  testHooks?: boolean;
  onEvent?: (e: WorkerEvent) => void;
}

const CHILD_URL = siblingModule(import.meta.url, './child.ts');
const CHILD_ENTRY = fileURLToPath(CHILD_URL);

/** Keeps the last few KiB of the child's standard error, for crash reasons. */
class Tail {
  private text = '';
  push(chunk: Buffer): void {
    this.text = (this.text + chunk.toString('utf8')).slice(-8192);
  }
  toString(): string {
    return this.text;
  }
}

const OOM_RE = /heap out of memory|Reached heap limit|Allocation failed - JavaScript heap/i;

/** The last meaningful line of a crash's standard error, with quoted text (possible data) removed. */
export function lastErrorLine(stderr: string): string | null {
  const lines = stderr
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.length > 0 && !l.startsWith('at ') && !/^\^+$/.test(l) && !l.startsWith('Node.js v'));
  const pick = [...lines].reverse().find((l) => /(Error|FATAL|Uncaught|Exception)\b/.test(l)) ?? lines.at(-1);
  if (!pick) return null;
  const redacted = pick.replace(/(["'`]).*?\1/g, '…').replace(/\s+/g, ' ');
  return redacted.length > 160 ? `${redacted.slice(0, 159)}…` : redacted;
}

/** Why a child that exited without a result failed, readable and free of data values. */
export function crashReason(
  code: number | null,
  signal: string | null,
  stderr: string,
  heapMb: number,
): string {
  if (OOM_RE.test(stderr) || signal === 'SIGABRT' || code === 134) {
    return `out of memory (heap limit ${heapMb} MiB)`;
  }
  const how = signal
    ? `was killed by signal ${signal}`
    : code === null
      ? 'did not start'
      : `exited with code ${code}`;
  const line = lastErrorLine(stderr);
  return `the training process ${how}${line ? `: ${line}` : ''}`;
}

/**
 * Shared jobs: the dataset versions that will be pooled, chosen when the job starts — the latest version
 * of `spec.dataset` of every tenant whose sharedTraining consent is on (and that `spec.pool.tenants`
 * names, when it names any). A tenant outside this list never has its key unwrapped for the job.
 */
export async function selectSharedSources(
  store: Pick<Store, 'tenants' | 'datasets'>,
  spec: TrainSpec,
): Promise<DatasetVersion[]> {
  const allowed = spec.pool?.tenants ? new Set(spec.pool.tenants) : null;
  const out: DatasetVersion[] = [];
  for (const t of await store.tenants.list()) {
    if (t.id === SHARED_NAMESPACE || !t.sharedTraining || (allowed && !allowed.has(t.id))) continue;
    const scope = mintTenantScope(t.id, SYSTEM);
    const dataset = await store.datasets.get(scope, spec.dataset);
    if (!dataset) continue;
    const version = await store.datasets.version(scope, spec.dataset, dataset.latestVersion);
    if (version) out.push(version); // null: deleted since the lookup
  }
  return out.sort((a, b) => (a.tenantId < b.tenantId ? -1 : a.tenantId > b.tenantId ? 1 : 0));
}

/**
 * What a job needs before its child starts, or why it can never run (a permanent failure). A challenger
 * whose champion cannot be read still runs: `championSkipped` says why it will carry no championMetrics.
 */
export type Preparation = { start: StartMessage; championSkipped?: string } | { error: string };

const missingBlob = (err: unknown): boolean => (err as NodeJS.ErrnoException | undefined)?.code === 'ENOENT';

/**
 * Gathers everything the child is sent: the dataset versions it reads with their tenants' keys, and a
 * tuned job's base artifacts (read from the shared namespace). Exported so that a test can feed the very
 * message a job would get to the runner's loadTrainingFrame.
 */
export async function prepareStart(
  deps: Pick<WorkerDeps, 'store' | 'artifacts' | 'keyring' | 'blobs'>,
  job: Job,
  testHooks = false,
): Promise<Preparation> {
  const { spec } = job;
  const source = async (v: DatasetVersion): Promise<TrainingSource> => ({
    tenantId: v.tenantId,
    name: v.name,
    version: v.version,
    artifact: v.artifact,
    rows: v.rows,
    schema: v.schema,
    dataKey: new Uint8Array(await deps.keyring.dataKey(v.tenantId)),
  });
  const sources: TrainingSource[] = [];
  let base: BaseArtifacts | undefined;
  if (spec.mode === 'shared') {
    if (job.tenantId !== SHARED_NAMESPACE)
      return { error: 'a shared model is trained in the shared namespace' };
    for (const v of await selectSharedSources(deps.store, spec)) {
      try {
        sources.push(await source(v));
      } catch (err) {
        // The tenant was deleted since it was selected: its data key is gone, and so is its consent.
        if (!(isAppError(err) && err.code === 'not_found')) throw err;
      }
    }
  } else {
    const scope = mintTenantScope(job.tenantId, SYSTEM);
    const version = await deps.store.datasets.version(scope, spec.dataset, spec.datasetVersion);
    if (!version) return { error: 'the dataset version no longer exists' };
    sources.push(await source(version));
  }
  if (spec.mode === 'tuned') {
    if (!spec.base) return { error: 'a tuned model needs a base model' };
    const { model, version } = spec.base;
    const shared = sharedScope(SYSTEM);
    const rec = await deps.store.models.version(shared, model, version);
    if (!rec) return { error: `the base model '${model}' version ${version} does not exist` };
    try {
      const read = async (file: string): Promise<string> =>
        (await deps.artifacts.get(shared, `${rec.artifact}/${file}`)).toString('utf8');
      base = {
        fitted: await read('fitted.json'),
        featurizer: await read('featurizer.json'),
        model: await read('model.json'),
      };
    } catch (err) {
      if (!missingBlob(err)) throw err;
      return {
        error: `the base model '${model}' version ${version} cannot be tuned: it has no fitted parameters (imported models cannot be a base)`,
      };
    }
  }
  const champion = spec.champion ? await readChampion(deps, job) : undefined;
  return {
    start: {
      type: 'start',
      job,
      sources,
      ...(base ? { base } : {}),
      ...(champion && 'artifacts' in champion ? { champion: champion.artifacts } : {}),
      blobs: deps.blobs,
      testHooks,
    },
    ...(champion && 'skipped' in champion ? { championSkipped: champion.skipped } : {}),
  };
}

/**
 * A challenger's champion, read from the job's own namespace like a tuned job's base. Whatever stops
 * the reading (no such version, no fitted.json — an imported model —, an unreadable blob) only takes the
 * comparison away: the decision-maker then judges the challenger without it.
 */
async function readChampion(
  deps: Pick<WorkerDeps, 'store' | 'artifacts'>,
  job: Job,
): Promise<{ artifacts: BaseArtifacts } | { skipped: string }> {
  const { model, version } = job.spec.champion as NonNullable<TrainSpec['champion']>;
  const ref = `${model}@${version}`;
  const scope = mintTenantScope(job.tenantId, SYSTEM);
  try {
    const rec = await deps.store.models.version(scope, model, version);
    if (!rec) return { skipped: `the champion ${ref} does not exist` };
    const read = async (file: string): Promise<string> =>
      (await deps.artifacts.get(scope, `${rec.artifact}/${file}`)).toString('utf8');
    return {
      artifacts: {
        fitted: await read('fitted.json'),
        featurizer: await read('featurizer.json'),
        model: await read('model.json'),
      },
    };
  } catch (err) {
    if (missingBlob(err))
      return { skipped: `the champion ${ref} has no fitted parameters (an imported model?)` };
    const e = err as NodeJS.ErrnoException;
    return {
      skipped: `the champion ${ref}'s artifacts could not be read (${e?.name ?? 'Error'}${e?.code ? ` ${e.code}` : ''})`,
    };
  }
}

/**
 * Why a version about to register (or just registered) may not hold the data it was trained on: a
 * contributor of a shared model withdrew consent, or lost its dataset version or itself, while the job
 * ran; or a tuned model's base became tainted. Null when nothing changed.
 */
export async function lostSources(
  store: Pick<Store, 'tenants' | 'datasets' | 'models'>,
  job: Job,
  contributions: PoolContribution[],
): Promise<string | null> {
  const reasons: string[] = [];
  for (const c of contributions) {
    const tenant = await store.tenants.get(c.tenantId);
    if (!tenant) reasons.push(`tenant ${c.tenantId} was deleted`);
    else if (!tenant.sharedTraining)
      reasons.push(`tenant ${c.tenantId} withdrew its shared-training consent`);
    else if (!(await store.datasets.version(mintTenantScope(c.tenantId, SYSTEM), c.dataset, c.version)))
      reasons.push(`dataset ${c.dataset} version ${c.version} of tenant ${c.tenantId} was deleted`);
  }
  if (reasons.length) reasons[reasons.length - 1] += ' while it was training';
  const base = job.spec.mode === 'tuned' ? job.spec.base : undefined;
  if (base) {
    const rec = await store.models.version(sharedScope(SYSTEM), base.model, base.version);
    if (!rec || rec.status === 'tainted') reasons.push(`its base ${base.model}@${base.version} is tainted`);
  }
  return reasons.length ? reasons.join('; ') : null;
}

type Stop =
  | { kind: 'cancelled' }
  | { kind: 'timed_out'; seconds: number }
  | { kind: 'cpu'; seconds: number }
  | { kind: 'lease_lost' }
  | { kind: 'abandoned' };

/** One job in one slot: its child, its timers, and the path to exactly one outcome. */
class RunningJob {
  private child: ChildProcess | null = null;
  private progress: JobProgress | null = null;
  private stopReason: Stop | null = null;
  private result: ResultMessage | null = null;
  private failure: ErrorMessage | null = null;
  private meter = new CpuMeter(undefined);
  private readonly stderr = new Tail();
  private timers: NodeJS.Timeout[] = [];
  private heartbeat: NodeJS.Timeout | null = null;
  private exited = false;
  /** Rows of the job's own dataset version (tenant and tuned jobs). */
  private ownRows = 0;
  private beating = false;
  private readonly startedMs = performance.now();
  readonly done: Promise<void>;

  constructor(
    readonly job: Job,
    private readonly sup: Supervisor,
  ) {
    this.done = this.run().catch((err) => {
      this.sup.log.error({ jobId: job.id, err: String(err) }, 'worker: job run failed');
    });
  }

  /** Stops the job (cancel, timeout, CPU, lost lease, shutdown); the first reason wins. */
  async stop(reason: Stop): Promise<void> {
    if (this.stopReason) return;
    // Once the child is gone, only a lost lease or a shutdown may still stop the saving of its result.
    if (this.exited && reason.kind !== 'lease_lost' && reason.kind !== 'abandoned') return;
    this.stopReason = reason;
    if (this.child && this.child.exitCode === null && this.child.signalCode === null) {
      await this.meter.sample(); // the freshest kernel figure before the process is gone
      this.child.kill('SIGKILL');
    }
  }

  private async run(): Promise<void> {
    const { job, sup } = this;
    this.heartbeat = setInterval(() => void this.beat(), sup.opt.heartbeatMs);
    try {
      const prepared = await prepareStart(sup.deps, job, sup.opt.testHooks);
      if ('error' in prepared)
        return await this.finish({ state: 'failed', error: prepared.error, retry: false });
      const { start } = prepared;
      if (prepared.championSkipped) this.championSkipped(prepared.championSkipped);
      this.ownRows = start.sources[0]?.rows ?? 0;
      const exited = this.spawn();
      this.child?.send(start);
      this.every(sup.opt.cpuSampleMs, () => this.checkCpu());
      if (job.limits.timeoutSeconds > 0) {
        this.timers.push(
          setTimeout(
            () => void this.stop({ kind: 'timed_out', seconds: job.limits.timeoutSeconds }),
            job.limits.timeoutSeconds * 1000,
          ),
        );
      }
      const { code, signal } = await exited;
      this.exited = true;
      for (const t of this.timers) clearInterval(t);
      await this.afterExit(code, signal);
    } catch (err) {
      this.sup.log.error({ jobId: job.id, err: String(err) }, 'worker: job failed to run');
      if (this.child && this.child.exitCode === null) this.child.kill('SIGKILL');
      await this.finish({
        state: 'failed',
        error: `the worker could not run the job (${(err as Error).name})`,
      });
    } finally {
      for (const t of this.timers) clearInterval(t);
      if (this.heartbeat) clearInterval(this.heartbeat);
    }
  }

  private spawn(): Promise<{ code: number | null; signal: string | null }> {
    const { job, sup } = this;
    const child = fork(CHILD_ENTRY, [], {
      execArgv: [...sup.loaderArgs, `--max-old-space-size=${Math.max(16, job.limits.heapMb)}`],
      serialization: 'advanced',
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      // Nothing of the parent's environment: it may hold the master key.
      env: { PATH: process.env.PATH ?? '', NODE_ENV: process.env.NODE_ENV ?? 'production' },
    });
    this.child = child;
    this.meter = new CpuMeter(child.pid);
    child.stderr?.on('data', (c: Buffer) => this.stderr.push(c));
    child.on('message', (m: ChildMessage) => this.onMessage(m));
    child.on('error', (err) =>
      sup.log.warn({ jobId: job.id, err: String(err) }, 'worker: child process error'),
    );
    if (child.pid !== undefined) sup.emit({ type: 'child-started', jobId: job.id, pid: child.pid });
    child.once('exit', (code, signal) => {
      sup.emit({
        type: 'child-exited',
        jobId: job.id,
        pid: child.pid ?? -1,
        code,
        signal,
        at: performance.now(),
      });
    });
    // 'close' comes after 'exit' once the IPC channel and stderr are drained: no message is still in flight.
    return new Promise((resolve) => {
      child.once('close', (code, signal) => resolve({ code, signal }));
      // A process that never started emits 'error' and nothing else.
      if (child.pid === undefined) {
        child.once('error', () => {
          this.stderr.push(Buffer.from('Error: spawn failed\n'));
          resolve({ code: null, signal: null });
        });
      }
    });
  }

  private onMessage(m: ChildMessage): void {
    switch (m.type) {
      case 'progress':
        this.progress = m.progress;
        break;
      case 'result':
        this.result = m;
        this.meter.report(m.cpu);
        break;
      case 'error':
        this.failure = m;
        this.meter.report(m.cpu);
        break;
      case 'usage':
        this.meter.report(m.cpu);
        break;
    }
  }

  private championSkipped(reason: string): void {
    const { job, sup } = this;
    sup.log.warn(
      { jobId: job.id, tenantId: job.tenantId, champion: job.spec.champion, reason },
      'worker: the challenger carries no championMetrics',
    );
  }

  private every(ms: number, fn: () => Promise<void> | void): void {
    this.timers.push(setInterval(() => void fn(), ms));
  }

  private async checkCpu(): Promise<void> {
    if (this.stopReason || this.result) return;
    const limit = this.job.limits.cpuSeconds;
    const used = await this.meter.sample();
    if (limit > 0 && used >= limit) await this.stop({ kind: 'cpu', seconds: limit });
  }

  private async beat(): Promise<void> {
    if (this.beating) return;
    this.beating = true;
    const { sup, job } = this;
    try {
      const until = new Date(sup.clock.now().getTime() + sup.opt.leaseMs).toISOString();
      const r = await sup.deps.store.jobs.heartbeat(job.id, sup.workerId, until, this.progress);
      if (!r.ok) {
        sup.emit({ type: 'lease-lost', jobId: job.id });
        sup.log.warn({ jobId: job.id }, 'worker: lease lost; stopping the job');
        await this.stop({ kind: 'lease_lost' });
      } else if (r.cancelRequested && !this.result) {
        await this.stop({ kind: 'cancelled' });
      }
    } catch (err) {
      sup.log.warn({ jobId: job.id, err: String(err) }, 'worker: heartbeat failed');
    } finally {
      this.beating = false;
    }
  }

  private async afterExit(code: number | null, signal: string | null): Promise<void> {
    const reason = this.stopReason;
    const limits = this.job.limits;
    if (reason?.kind === 'lease_lost' || reason?.kind === 'abandoned') return; // someone else finishes it
    if (this.result && reason?.kind !== 'timed_out' && reason?.kind !== 'cancelled') {
      return this.succeed(this.result);
    }
    if (reason?.kind === 'cancelled')
      return this.finish({ state: 'cancelled', error: 'cancelled on request' });
    if (reason?.kind === 'timed_out')
      return this.finish({ state: 'timed_out', error: `wall-clock limit of ${reason.seconds} s reached` });
    if (reason?.kind === 'cpu')
      return this.finish({ state: 'failed', error: `CPU-time limit of ${reason.seconds} s reached` });
    if (this.failure) {
      // A refusal by the training itself (too few rows, a bad parameter) is the same every attempt.
      return this.finish({ state: 'failed', error: this.failure.message, retry: !this.failure.permanent });
    }
    return this.finish({
      state: 'failed',
      error: crashReason(code, signal, this.stderr.toString(), limits.heapMb),
    });
  }

  /**
   * Stores the artifacts at a path fixed by the job id and registers the version (idempotent on the job
   * id), then finishes. A retry after a crash anywhere here overwrites the same files and gets the same
   * version back, so one successful job yields exactly one model version.
   */
  private async succeed(r: ResultMessage): Promise<void> {
    const { job, sup } = this;
    const { spec } = job;
    const { store } = sup.deps;
    const scope = mintTenantScope(job.tenantId, SYSTEM);
    this.progress = { phase: 'saving', at: sup.clock.now().toISOString() };
    const prefix = `models/${spec.model}/${job.id}`;
    const onnx = Buffer.from(r.onnx.buffer, r.onnx.byteOffset, r.onnx.byteLength);
    await sup.deps.artifacts.put(scope, `${prefix}/model.onnx`, onnx);
    await sup.deps.artifacts.put(scope, `${prefix}/featurizer.json`, Buffer.from(r.featurizerJson, 'utf8'));
    await sup.deps.artifacts.put(scope, `${prefix}/model.json`, Buffer.from(r.modelJson, 'utf8'));
    // Every trained model can be the base of a tuned one: its fitted parameters are kept beside it.
    await sup.deps.artifacts.put(scope, `${prefix}/fitted.json`, Buffer.from(r.fittedJson, 'utf8'));
    // The reference monitoring compares this version's traffic with; without it monitoring says so.
    if (r.profileJson)
      await sup.deps.artifacts.put(scope, `${prefix}/profile.json`, Buffer.from(r.profileJson, 'utf8'));
    else sup.log.warn({ jobId: job.id, reason: r.profileSkipped }, 'worker: the version has no profile');
    if (r.profileMs !== undefined)
      sup.log.info(
        { jobId: job.id, profileMs: r.profileMs, profileBytes: r.profileJson?.length ?? 0 },
        'worker: reference profile built',
      );
    if (spec.champion && !r.championMetrics && r.championSkipped) this.championSkipped(r.championSkipped);
    if (this.stopReason) return; // the lease was lost (or the worker is stopping) while saving

    const contributions = spec.mode === 'shared' ? (r.contributions ?? []) : [];
    const datasets =
      spec.mode === 'shared'
        ? contributions.map((c) => ({
            tenantId: c.tenantId,
            name: c.dataset,
            version: c.version,
            rows: c.rows,
          }))
        : [{ tenantId: job.tenantId, name: spec.dataset, version: spec.datasetVersion, rows: this.ownRows }];
    // Consent withdrawn (or data deleted) while the job ran: the version registers already tainted, so
    // it is never served and the retraining flow replaces it.
    const lost = await lostSources(store, job, contributions);
    const at = sup.clock.now().toISOString();
    const version = await store.models.register(scope, {
      model: spec.model,
      mode: spec.mode,
      task: r.task,
      algorithm: r.algorithm,
      params: r.params,
      metrics: r.metrics,
      datasets,
      artifact: prefix,
      checksum: createHash('sha256').update(onnx).digest('hex'),
      jobId: job.id,
      base: spec.mode === 'tuned' ? (spec.base ?? null) : null,
      createdAt: at,
      createdBy: job.createdBy,
      ...(lost ? { taint: { at, reason: lost } } : {}),
      // Advice candidates and challengers go live only by a decision (promotion), never by registering.
      ...(spec.advice || spec.champion ? { candidate: true } : {}),
    });
    // A withdrawal that landed between the check above and the registration looked for the versions
    // holding the tenant's data before this one existed: look once more, now that it does.
    if (version.status !== 'tainted' && (contributions.length > 0 || spec.mode === 'tuned')) {
      const late = await lostSources(store, job, contributions);
      if (late)
        await store.models.taint(
          [{ tenantId: job.tenantId, model: version.model, version: version.version }],
          late,
          sup.clock.now().toISOString(),
        );
    }
    if (spec.audience !== undefined && version.version === 1)
      await store.models.setAudience(scope, spec.model, spec.audience);
    await this.finish({
      state: 'succeeded',
      result: {
        model: version.model,
        version: version.version,
        ...(r.baseMetrics ? { baseMetrics: r.baseMetrics } : {}),
        ...(r.championMetrics ? { championMetrics: r.championMetrics } : {}),
      },
    });
  }

  private async finish(o: Omit<JobOutcome, 'cpuSeconds' | 'wallSeconds' | 'at'>): Promise<void> {
    const { job, sup } = this;
    const outcome: JobOutcome = {
      ...o,
      cpuSeconds: Math.round(this.meter.seconds * 1000) / 1000,
      wallSeconds: Math.round(performance.now() - this.startedMs) / 1000,
      at: sup.clock.now().toISOString(),
      halfLifeSeconds: sup.opt.halfLifeSeconds,
    };
    let finished: Job | null = null;
    for (let attempt = 0; ; attempt++) {
      try {
        finished = await sup.deps.store.jobs.finish(job.id, sup.workerId, outcome);
        break;
      } catch (err) {
        if (attempt >= 2) {
          sup.log.error({ jobId: job.id, err: String(err) }, 'worker: could not record the outcome');
          return; // the lease expires and the job is retried
        }
        await new Promise((r) => setTimeout(r, 200 * (attempt + 1)));
      }
    }
    if (!finished)
      sup.log.warn({ jobId: job.id }, 'worker: the lease was lost before the outcome was recorded');
    else if (TERMINAL_STATES.has(finished.state)) sup.notifyFinished(finished);
    sup.log.info(
      { jobId: job.id, tenantId: job.tenantId, state: o.state, cpuSeconds: outcome.cpuSeconds },
      'worker: job finished',
    );
    sup.emit({ type: 'finished', jobId: job.id, outcome, job: finished });
  }
}

export class Supervisor {
  readonly workerId: string;
  readonly opt: Required<Omit<WorkerOptions, 'workerId' | 'onEvent'>>;
  readonly clock: Clock;
  readonly log: WorkerLog;
  readonly loaderArgs = childLoaderArgs(CHILD_URL);
  private readonly running = new Map<string, RunningJob>();
  private stopping = false;
  private loopDone: Promise<void> | null = null;
  private wakeUp: (() => void) | null = null;
  private requeueTimer: NodeJS.Timeout | null = null;
  /** onFinished calls still running (stop() waits for them within its grace period). */
  private readonly hooks = new Set<Promise<void>>();

  constructor(
    readonly deps: WorkerDeps,
    private readonly options: WorkerOptions = {},
  ) {
    this.clock = deps.clock ?? systemClock;
    this.log = deps.log ?? silent;
    this.workerId =
      options.workerId ?? `${hostname()}-${process.pid}-${newId('w', deps.random ?? cryptoRandom, 6)}`;
    this.opt = {
      slots: options.slots ?? 2,
      pollMs: options.pollMs ?? 250,
      heartbeatMs: options.heartbeatMs ?? 500,
      leaseMs: options.leaseMs ?? 10_000,
      cpuSampleMs: options.cpuSampleMs ?? 200,
      requeueEveryMs: options.requeueEveryMs ?? 1000,
      graceMs: options.graceMs ?? 10_000,
      globalCap: options.globalCap ?? 1000,
      halfLifeSeconds: options.halfLifeSeconds ?? DEFAULT_HALF_LIFE_SECONDS,
      testHooks: options.testHooks ?? false,
    };
    if (!(Number.isInteger(this.opt.slots) && this.opt.slots >= 0))
      throw new Error('slots must be an integer >= 0');
    if (this.opt.heartbeatMs >= this.opt.leaseMs) throw new Error('heartbeatMs must be shorter than leaseMs');
  }

  /** Jobs running in this supervisor now. */
  get active(): number {
    return this.running.size;
  }

  emit(e: WorkerEvent): void {
    try {
      this.options.onEvent?.(e);
    } catch {
      // an observer's failure never stops a worker
    }
  }

  /** Runs the onFinished hook beside the worker: a slow or failing hook never holds a slot. */
  notifyFinished(job: Job): void {
    const hook = this.deps.onFinished;
    if (!hook) return;
    const run = (async () => {
      try {
        await hook(job);
      } catch (err) {
        this.log.error({ jobId: job.id, err: String(err) }, 'worker: the onFinished hook failed');
      }
    })();
    this.hooks.add(run);
    void run.finally(() => this.hooks.delete(run));
  }

  start(): void {
    if (this.loopDone) return;
    this.loopDone = this.loop();
    this.requeueTimer = setInterval(() => void this.requeue(), this.opt.requeueEveryMs);
  }

  private async requeue(): Promise<void> {
    try {
      const r = await this.deps.store.jobs.requeueExpired(this.clock.now().toISOString());
      if (r.requeued.length || r.failed.length || r.cancelled.length)
        this.log.info(r, 'worker: expired leases returned to the queue');
      // A job its dead worker can no longer finish ends here: it gets its after-job hook all the same.
      for (const id of [...r.failed, ...r.cancelled]) {
        const job = await this.deps.store.jobs.getById(id);
        if (job) this.notifyFinished(job);
      }
    } catch (err) {
      this.log.warn({ err: String(err) }, 'worker: requeueExpired failed');
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(done, ms);
      function done(): void {
        clearTimeout(t);
        resolve();
      }
      this.wakeUp = done;
    });
  }

  private wake(): void {
    const w = this.wakeUp;
    this.wakeUp = null;
    w?.();
  }

  private async loop(): Promise<void> {
    await this.requeue();
    while (!this.stopping) {
      let claimed: Job | null = null;
      if (this.running.size < this.opt.slots) {
        try {
          claimed = await this.deps.store.jobs.claim({
            workerId: this.workerId,
            now: this.clock.now().toISOString(),
            leaseMs: this.opt.leaseMs,
            globalCap: this.opt.globalCap,
            halfLifeSeconds: this.opt.halfLifeSeconds,
          });
        } catch (err) {
          this.log.warn({ err: String(err) }, 'worker: claim failed');
        }
      }
      if (claimed && !this.stopping) {
        this.launch(claimed);
        continue; // another slot may be free: look again at once
      }
      await this.sleep(this.opt.pollMs);
    }
  }

  private launch(job: Job): void {
    this.emit({ type: 'claimed', jobId: job.id, tenantId: job.tenantId });
    this.log.info({ jobId: job.id, tenantId: job.tenantId, attempt: job.attempts }, 'worker: job claimed');
    const run = new RunningJob(job, this);
    this.running.set(job.id, run);
    void run.done.then(() => {
      this.running.delete(job.id);
      this.wake(); // a slot is free
    });
  }

  /**
   * Stops claiming, lets running jobs finish for up to `graceMs`, then kills the rest and leaves their
   * leases to expire, so another worker retries them.
   */
  async stop(graceMs = this.opt.graceMs): Promise<void> {
    this.stopping = true;
    if (this.requeueTimer) clearInterval(this.requeueTimer);
    this.wake();
    await this.loopDone;
    const all = Promise.all([...this.running.values()].map((r) => r.done));
    let timer: NodeJS.Timeout | undefined;
    const timedOut = await Promise.race([
      all.then(() => Promise.all([...this.hooks])).then(() => false),
      new Promise<boolean>((r) => {
        timer = setTimeout(() => r(true), graceMs);
      }),
    ]);
    clearTimeout(timer);
    if (timedOut) {
      for (const r of this.running.values()) {
        this.emit({ type: 'abandoned', jobId: r.job.id });
        await r.stop({ kind: 'abandoned' });
      }
      await all;
    }
  }
}

/** Starts a supervisor (the composition root and `tenantml worker` call this). */
export async function startWorkers(
  deps: WorkerDeps,
  opts: WorkerOptions = {},
): Promise<{ stop(): Promise<void>; supervisor: Supervisor }> {
  const supervisor = new Supervisor(deps, opts);
  supervisor.start();
  return { supervisor, stop: () => supervisor.stop() };
}
