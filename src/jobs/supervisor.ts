// The worker supervisor: N slots; claims the next job (fair share, in the store) whenever a slot is free,
// runs each in its own child process (child.ts) under a heap limit, a wall-clock timeout and a CPU-time
// limit, renews the lease with progress, stops the child on cancel, and stores and registers the result.
// It runs inside `npm start` beside the API or alone (`tenantml worker`), any number against one store.
import { type ChildProcess, fork } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { hostname } from 'node:os';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { type Clock, cryptoRandom, type Random, systemClock } from '../core/clock.ts';
import { newId } from '../core/ids.ts';
import type { Job, JobProgress } from '../core/jobs.ts';
import { mintTenantScope, SYSTEM } from '../core/scope.ts';
import type { TenantArtifacts } from '../services/artifacts.ts';
import type { KeyRing } from '../services/keyring.ts';
import type { JobOutcome, Store } from '../store/ports.ts';
import { DEFAULT_HALF_LIFE_SECONDS } from './fair-share.ts';
import type { BlobLocation, ChildMessage, ErrorMessage, ResultMessage, StartMessage } from './protocol.ts';
import { CpuMeter } from './usage.ts';

export interface WorkerLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

const silent: WorkerLog = { info() {}, warn() {}, error() {} };

export interface WorkerDeps {
  store: Pick<Store, 'jobs' | 'models' | 'datasets'>;
  /** Writes the model artifacts (encrypted under the tenant's prefix). */
  artifacts: Pick<TenantArtifacts, 'put'>;
  /** Unwraps the tenant's data key, handed to the child over IPC so it can decrypt the dataset. */
  keyring: Pick<KeyRing, 'dataKey'>;
  /** Where the child reads the dataset blob from. */
  blobs: BlobLocation;
  clock?: Clock;
  random?: Random;
  log?: WorkerLog;
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

const CHILD_ENTRY = fileURLToPath(new URL('./child.ts', import.meta.url));

function tsxLoaderUrl(): string {
  return pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
}

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
  private datasetRows = 0;
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
    const scope = mintTenantScope(job.tenantId, SYSTEM);
    this.heartbeat = setInterval(() => void this.beat(), sup.opt.heartbeatMs);
    try {
      const version = await sup.deps.store.datasets.version(scope, job.spec.dataset, job.spec.datasetVersion);
      if (!version)
        return await this.finish({
          state: 'failed',
          error: 'the dataset version no longer exists',
          retry: false,
        });
      this.datasetRows = version.rows;
      const dataKey = await sup.deps.keyring.dataKey(job.tenantId);
      const exited = this.spawn();
      const start: StartMessage = {
        type: 'start',
        job,
        dataset: { artifact: version.artifact, rows: version.rows, schema: version.schema },
        blobs: sup.deps.blobs,
        dataKey: new Uint8Array(dataKey),
        testHooks: sup.opt.testHooks,
      };
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
      execArgv: ['--import', sup.loaderUrl, `--max-old-space-size=${Math.max(16, job.limits.heapMb)}`],
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
    const scope = mintTenantScope(job.tenantId, SYSTEM);
    this.progress = { phase: 'saving', at: sup.clock.now().toISOString() };
    const prefix = `models/${job.spec.model}/${job.id}`;
    const onnx = Buffer.from(r.onnx.buffer, r.onnx.byteOffset, r.onnx.byteLength);
    await sup.deps.artifacts.put(scope, `${prefix}/model.onnx`, onnx);
    await sup.deps.artifacts.put(scope, `${prefix}/featurizer.json`, Buffer.from(r.featurizerJson, 'utf8'));
    await sup.deps.artifacts.put(scope, `${prefix}/model.json`, Buffer.from(r.modelJson, 'utf8'));
    if (this.stopReason) return; // the lease was lost (or the worker is stopping) while saving
    const version = await sup.deps.store.models.register(scope, {
      model: job.spec.model,
      mode: 'tenant',
      task: r.task,
      algorithm: r.algorithm,
      params: r.params,
      metrics: r.metrics,
      datasets: [
        {
          tenantId: job.tenantId,
          name: job.spec.dataset,
          version: job.spec.datasetVersion,
          rows: this.datasetRows,
        },
      ],
      artifact: prefix,
      checksum: createHash('sha256').update(onnx).digest('hex'),
      jobId: job.id,
      base: null,
      createdAt: sup.clock.now().toISOString(),
      createdBy: job.createdBy,
    });
    await this.finish({ state: 'succeeded', result: { model: version.model, version: version.version } });
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
  readonly loaderUrl = tsxLoaderUrl();
  private readonly running = new Map<string, RunningJob>();
  private stopping = false;
  private loopDone: Promise<void> | null = null;
  private wakeUp: (() => void) | null = null;
  private requeueTimer: NodeJS.Timeout | null = null;

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
      all.then(() => false),
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
