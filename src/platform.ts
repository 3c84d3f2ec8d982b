// The composition root: configuration in, a running platform out. It is the one place that picks
// adapters (SQLite or PostgreSQL, filesystem blobs) and hands them to the services.
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { ApiDeps } from './api/context.ts';
import { buildServer, type ServerState } from './api/server.ts';
import { type Clock, cryptoRandom, type Random, systemClock } from './core/clock.ts';
import { type Config, ConfigError, parseMasterKey } from './core/config.ts';
import type { Job } from './core/jobs.ts';
import { mintTenantScope, SYSTEM } from './core/scope.ts';
import { type Periodic, startPeriodic } from './jobs/periodic.ts';
import {
  startWorkers,
  type WorkerDeps,
  type WorkerEvent,
  type WorkerLog,
  type WorkerOptions,
} from './jobs/supervisor.ts';
import { createObservability, type Observability } from './observability/observability.ts';
import { createMemoryBuckets } from './runtime/limits/memory-limiter.ts';
import { createPoolLimiter } from './runtime/limits/pool-limiter.ts';
import type { NativeHooks } from './runtime/loaded-model.ts';
import { poolMetrics } from './runtime/pool/metrics.ts';
import { type ServingPool, startServingPool } from './runtime/pool/primary.ts';
import { type MetricsJson, type PoolChannel, parentChannel } from './runtime/pool/protocol.ts';
import { AdvisorService } from './services/advisor.ts';
import { TenantArtifacts } from './services/artifacts.ts';
import { AuditService } from './services/audit.ts';
import { AuthService, generateOperatorKey } from './services/auth.ts';
import { DatasetService } from './services/datasets/service.ts';
import { createInference } from './services/inference/index.ts';
import { PredictionLog } from './services/inference/prediction-log.ts';
import { KeyRing } from './services/keyring.ts';
import { BudgetService } from './services/metering/budgets.ts';
import { createMeter, type Meter } from './services/metering/meter.ts';
import { meterFinishedJob, monitoringRunEvent } from './services/metering/sources.ts';
import { StorageSampler, storageBytes } from './services/metering/storage.ts';
import { UsageService } from './services/metering/usage.ts';
import { dailyLogReader, MonitoringService } from './services/monitoring/index.ts';
import { ProvenanceService, type Withdrawal } from './services/provenance.ts';
import { QuotaService } from './services/quotas.ts';
import { SharedModelsService } from './services/shared-models.ts';
import { ensureSharedNamespace } from './services/shared-namespace.ts';
import { TenantService } from './services/tenants.ts';
import { TrainingService } from './services/training.ts';
import { WebhookDispatcher } from './services/webhooks/dispatcher.ts';
import { WebhookService } from './services/webhooks/service.ts';
import { FsBlobStore } from './store/artifacts/fs.ts';
import type { BlobStore } from './store/artifacts/ports.ts';
import { withModelChanges } from './store/model-changes.ts';
import type { Store } from './store/ports.ts';
import { openStore } from './store/sql/index.ts';

export interface Platform {
  readonly config: Config;
  readonly app: FastifyInstance & { state: ServerState };
  readonly store: Store;
  readonly blobs: BlobStore;
  readonly services: Omit<ApiDeps, 'config' | 'store' | 'clock'> & {
    keyring: KeyRing;
    artifacts: TenantArtifacts;
  };
  /** The training supervisor of this process, when it runs workers. */
  readonly workers: Awaited<ReturnType<typeof startWorkers>> | null;
  /** Usage metering of this process (flush() writes what is buffered; tests and benchmarks call it). */
  readonly meter: Meter;
  /** The operator key in force (from the environment or the generated file). */
  readonly adminKey: string;
  /** Set when the operator key was generated into (or read from) the data folder. */
  readonly adminKeyFile?: string;
  close(): Promise<void>;
}

export interface PlatformOptions {
  clock?: Clock;
  random?: Random;
  /** An already open store (tests share one across servers). */
  store?: Store;
  /** Where log lines go (default: standard output). */
  logStream?: { write(line: string): void };
  /** Overrides for the training workers this process runs (when `config.workerSlots` > 0). */
  workers?: WorkerOptions;
  /** Stand-ins for the native inference engine's compiler and parity probe (tests). */
  inferenceNative?: NativeHooks;
  /**
   * This process is an API process of a serving pool (docs/serving-pool.md): the channel to its primary,
   * which holds the rate-limit buckets (unless Redis does) and gathers GET /metrics over the pool.
   */
  pool?: PoolChannel;
}

/** Reads a secret kept in the data folder, or creates it with mode 0600 on first start. */
async function secretFile(path: string, create: () => string): Promise<{ value: string; created: boolean }> {
  try {
    return { value: (await readFile(path, 'utf8')).trim(), created: false };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    const value = create();
    await writeFile(path, `${value}\n`, { mode: 0o600, flag: 'wx' });
    await chmod(path, 0o600);
    return { value, created: true };
  }
}

/** The master key and the operator key: from the configuration, or kept in (first generated into) the data folder. */
async function secrets(
  config: Config,
  random: Random,
): Promise<{ masterKey: Buffer; adminKey: string; adminKeyFile?: string }> {
  await mkdir(config.dataDir, { recursive: true, mode: 0o700 });
  let masterKey = config.masterKey;
  if (!masterKey) {
    const path = join(config.dataDir, 'master.key');
    const parsed = parseMasterKey((await secretFile(path, () => random.bytes(32).toString('base64'))).value);
    if (!parsed) throw new ConfigError([`${path} does not hold a 32-byte key`]);
    masterKey = parsed;
  }
  if (config.adminKey) return { masterKey, adminKey: config.adminKey };
  const adminKeyFile = join(config.dataDir, 'admin.key');
  const adminKey = (await secretFile(adminKeyFile, () => generateOperatorKey(random))).value;
  return { masterKey, adminKey, adminKeyFile };
}

interface LifecycleDeps {
  config: Config;
  store: Store;
  training: TrainingService;
  artifacts: TenantArtifacts;
  blobs: BlobStore;
  keyring: KeyRing;
  audit: AuditService;
  clock: Clock;
  random: Random;
  warn: (o: object, m: string) => void;
  /** Metering (issue 8): training jobs, monitoring runs and storage samples record usage through it. */
  meter: Meter;
  /** Budgets and quotas (issue 8): the month's usage and cost of a tenant. */
  usage: Pick<UsageService, 'monthToDate'>;
}

/**
 * The model lifecycle beyond training itself, wherever a worker runs: provenance and retraining after a
 * withdrawal, the advisor, alerts, and the monitoring loop. `onFinished` is what happens after a training
 * job ends: the advisor completes its advice, a clean shared successor triggers the retuning of tuned
 * models whose base was tainted, a challenger is judged against its champion, a failure alerts.
 */
function modelLifecycle(d: LifecycleDeps) {
  const { config, store, training, clock, random, warn } = d;
  const provenance = new ProvenanceService({ store, training, clock, log: { warn } });
  const advisor = new AdvisorService({ store, training, clock, random });
  const webhooks = new WebhookService(
    { repo: store.webhooks, keyring: d.keyring, clock, random, log: { warn } },
    { allowPrivate: config.webhooksAllowPrivate },
  );
  // Reads the tenants' prediction logs (sample rate 0: this instance never writes).
  const predictionLog = new PredictionLog({
    artifacts: d.artifacts,
    blobs: d.blobs,
    clock,
    random,
    sampleRate: 0,
    flushMs: 60_000,
  });
  const monitoring = new MonitoringService({
    store,
    log: dailyLogReader(predictionLog, d.blobs),
    artifacts: d.artifacts,
    training,
    alerts: webhooks,
    audit: d.audit,
    clock,
    settings: {
      granularity: config.monitorGranularity,
      minRows: config.monitorMinRows,
      driftShare: config.monitorDriftShare,
      feedbackHorizonHours: config.feedbackHorizonHours,
    },
    onError: (err, ctx) => warn({ ...ctx, err: String(err) }, 'monitoring: a model was skipped this cycle'),
    onJudged: (tenantId, model, g, start) =>
      d.meter.record([monitoringRunEvent(tenantId, model, g, start, clock.now().toISOString())]),
  });
  // Each step on its own: one that fails (logged) never keeps the others from running.
  const steps: ((job: Job) => Promise<unknown>)[] = [
    (job) => advisor.onJobFinished(mintTenantScope(job.tenantId, SYSTEM), job),
    (job) => provenance.onJobFinished(job),
    (job) => monitoring.onJobFinished(job),
    // Metering: the job's CPU, wall time and rows, with ids from the job id (a second call counts once).
    (job) =>
      meterFinishedJob(
        { store, sharedCost: config.sharedCost, meter: d.meter },
        mintTenantScope(job.tenantId, SYSTEM),
        job,
      ),
  ];
  const onFinished = async (job: Job): Promise<void> => {
    for (const step of steps)
      await step(job).catch((err) => warn({ jobId: job.id, err: String(err) }, 'after-job step failed'));
  };
  // Budgets: alerts once per threshold and month, the hard limit (docs/budgets.md).
  const budgets = new BudgetService({
    repo: store.budgets,
    monthToDate: (scope, month) => d.usage.monthToDate(scope, month),
    webhooks,
    audit: d.audit,
    clock,
    currency: config.prices.currency,
    warn,
  });
  // After the job's usage is recorded (the metering step above): its cost may cross a threshold.
  steps.push((job) => budgets.evaluate(job.tenantId));
  return { provenance, advisor, webhooks, monitoring, budgets, onFinished };
}

/** The worker role's periodic work: a monitoring cycle, and webhook deliveries. */
function startBackground(d: LifecycleDeps, lifecycle: ReturnType<typeof modelLifecycle>): Periodic {
  const dispatcher = new WebhookDispatcher(
    {
      repo: d.store.webhooks,
      keyring: d.keyring,
      clock: d.clock,
      random: () => d.random.bytes(4).readUInt32LE(0) / 0x1_0000_0000,
      log: { warn: d.warn },
    },
    { allowPrivate: d.config.webhooksAllowPrivate },
  );
  // Metering: storage byte-hours of every tenant, once at start and then every hour (unless metering is off).
  const storage = new StorageSampler({
    store: d.store,
    blobs: d.blobs,
    clock: d.clock,
    scopeOf: (tenantId) => mintTenantScope(tenantId, SYSTEM),
    record: async (events) => {
      d.meter.record(events);
      await d.meter.flush();
    },
    warn: d.warn,
  });
  const metering = d.config.metering;
  const first = metering
    ? storage.sample().catch((err) => d.warn({ err: String(err) }, 'metering: storage sample failed'))
    : Promise.resolve();
  const periodic = startPeriodic(
    [
      ...(metering ? [{ name: 'storage', everyMs: STORAGE_SAMPLE_MS, run: () => storage.sample() }] : []),
      {
        name: 'monitoring',
        everyMs: d.config.monitorIntervalSeconds * 1000,
        run: () => lifecycle.monitoring.cycle(shardOption(d.config)),
      },
      { name: 'webhooks', everyMs: WEBHOOK_POLL_MS, run: () => dispatcher.runOnce() },
      { name: 'budgets', everyMs: BUDGET_EVALUATE_MS, run: () => lifecycle.budgets.evaluate() },
    ],
    { warn: d.warn },
  );
  return {
    async stop() {
      await first;
      await periodic.stop();
    },
  };
}

/** How often storage is sampled for storage_byte_hours (each sample covers at most this hour). */
const STORAGE_SAMPLE_MS = 3_600_000;

/** The worker's share of the monitored models, as cycle() takes it (none: all of them). */
function shardOption(config: Config): { shard?: { index: number; count: number } } {
  return config.monitorShard.count > 1 ? { shard: config.monitorShard } : {};
}

/** How often due webhook deliveries are looked for. */
const WEBHOOK_POLL_MS = 2000;

/** How often every budget is checked for thresholds reached (usage of predictions and storage accrues). */
const BUDGET_EVALUATE_MS = 30_000;

/** Quotas in one place (issue 8): the operator's tier edits, read at most every TIER_EDITS_TTL_MS. */
function quotaServiceOf(
  store: Store,
  blobs: BlobStore,
  clock: Clock,
  usage: Pick<UsageService, 'monthToDate'>,
  warn: (o: object, m: string) => void,
): QuotaService {
  return new QuotaService({
    repo: store.tierQuotas,
    clock,
    usage: {
      store,
      storageBytes: (scope) => storageBytes({ store, blobs }, scope),
      monthToDate: (scope, month) => usage.monthToDate(scope, month),
    },
    warn,
  });
}

/**
 * The training supervisor as the configuration asks for it (slots, global cap, artifact folder); its
 * events feed the job metrics and spans, then the caller's own observer if it gave one.
 */
function startConfiguredWorkers(
  config: Config,
  deps: Omit<WorkerDeps, 'blobs'>,
  opts: PlatformOptions,
  observability: Observability,
): ReturnType<typeof startWorkers> {
  const own = opts.workers?.onEvent;
  const onEvent = (e: WorkerEvent): void => {
    observability.jobs.onEvent(e);
    own?.(e);
  };
  return startWorkers(
    { ...deps, blobs: { kind: 'fs', root: config.artifactsDir } },
    { slots: config.workerSlots, globalCap: config.globalJobCap, ...opts.workers, onEvent },
  );
}

/**
 * What the API process and a worker-only process both build on the store: encrypted artifacts and their
 * keys, the audit chain, metering and usage, quotas, tenants, training and the model lifecycle. The API
 * process adds HTTP, auth, datasets and inference on top; `warn` is where either logs.
 */
async function controlPlane(
  config: Config,
  store: Store,
  masterKey: Buffer,
  o: {
    clock: Clock;
    random: Random;
    warn: (o: object, m: string) => void;
    observability: Observability;
  },
) {
  const { clock, random, warn, observability } = o;
  const blobs = new FsBlobStore(config.artifactsDir);
  const keyring = new KeyRing(masterKey, store.tenants);
  await ensureSharedNamespace(store, keyring, clock.now().toISOString());
  const artifacts = new TenantArtifacts(blobs, keyring);
  const audit = new AuditService(store.audit, clock);
  const meter = createMeter(config, {
    repo: store.usage,
    clock,
    random,
    warn,
    onAdd: (tenantId, kind, quantity) => observability.registry.countUsage(tenantId, kind, quantity),
  });
  // Reading usage and cost (GET /v1/usage, the operator's report, budgets).
  const usage = new UsageService({ store, prices: config.prices, clock, sharedCost: config.sharedCost });
  // Quotas in one place: the tier edits; budgets and the hard limit are built with the lifecycle.
  const quotaService = quotaServiceOf(store, blobs, clock, usage, warn);
  // A withdrawal (consent off, dataset or tenant deleted) reaches provenance, built just below.
  const withdraw = (w: Withdrawal) => lifecycle.provenance.withdraw(w);
  const tenants = new TenantService(
    store.tenants,
    keyring,
    artifacts,
    audit,
    clock,
    random,
    withdraw,
    quotaService,
  );
  const training = new TrainingService({
    store,
    tenants,
    clock,
    random,
    usage,
    budgets: { checkTraining: (scope) => lifecycle.budgets.checkTraining(scope) },
  });
  const lifecycleDeps: LifecycleDeps = {
    config,
    store,
    training,
    artifacts,
    blobs,
    keyring,
    audit,
    clock,
    random,
    warn,
    meter,
    usage,
  };
  const lifecycle = modelLifecycle(lifecycleDeps);
  return {
    blobs,
    keyring,
    artifacts,
    audit,
    meter,
    usage,
    quotaService,
    withdraw,
    tenants,
    training,
    lifecycleDeps,
    lifecycle,
  };
}

export async function createPlatform(config: Config, opts: PlatformOptions = {}): Promise<Platform> {
  const clock = opts.clock ?? systemClock;
  const random = opts.random ?? cryptoRandom;
  const { masterKey, adminKey, adminKeyFile } = await secrets(config, random);

  // Registry changes made in this process reach predictions at once (the inference plane reuses
  // resolutions for TENANTML_INFERENCE_RESOLVE_TTL_MS; other processes' changes arrive within that).
  let modelsChanged = (): void => {};
  const store = withModelChanges(
    opts.store ?? (await openStore({ url: config.databaseUrl, adminUrl: config.databaseAdminUrl })),
    () => modelsChanged(),
  );
  // Metrics (GET /metrics) and traces (OTLP, when configured): docs/observability.md.
  const observability = createObservability(config, config.workerSlots > 0 ? 'api+worker' : 'api');
  const plane = await controlPlane(config, store, masterKey, {
    clock,
    random,
    warn: (o, m) => app.log.warn(o, m),
    observability,
  });
  const { blobs, keyring, artifacts, audit, meter, usage, quotaService, withdraw, tenants, training } = plane;
  const { lifecycleDeps, lifecycle } = plane;
  const auth = new AuthService(adminKey, store.keys, clock, random);
  // The storageBytes quota counts every stored byte of the tenant: datasets, models, prediction logs.
  const datasets = new DatasetService(store, tenants, artifacts, clock, random, withdraw, (scope) =>
    storageBytes({ store, blobs }, scope).then((b) => b.total),
  );
  const sharedModels = new SharedModelsService({ store, artifacts, clock, random });
  // In a serving pool the buckets are the primary's (Redis's when configured) and a scrape sums the pool.
  const pool = opts.pool;
  const poolLimiter =
    pool && !config.redisUrl
      ? (onError: (err: unknown) => void) =>
          createPoolLimiter({
            channel: pool,
            timeoutMs: config.redisTimeoutMs,
            retryAfterFailureMs: 1000,
            clock,
            onError,
          })
      : undefined;
  const poolScrapes = pool
    ? poolMetrics(pool, () => observability.registry.registry, POOL_SCRAPE_TIMEOUT_MS)
    : undefined;
  const { inference, metrics } = createInference({
    config,
    store,
    artifacts,
    blobs,
    keyring, // the prediction log's writer thread takes the tenants' data keys from it at each flush
    clock,
    random,
    tenants,
    warn: (o, m) => app.log.warn(o, m),
    info: (o, m) => app.log.info(o, m), // why a model version runs in ONNX Runtime
    native: opts.inferenceNative,
    meter,
    predictionBlock: (tenantId) => lifecycle.budgets.predictionBlock(tenantId),
    onQuotaChange: (listener) => quotaService.onChange(listener),
    limiter: poolLimiter,
  });
  modelsChanged = () => inference.forgetResolutions();
  // A deleted tenant's buffered predictions are dropped before its folder goes (never written into it).
  tenants.beforeArtifactsDeleted = (id) => inference.predictionLog.forgetTenant(id);
  const webhooks = lifecycle.webhooks;
  const services = {
    webhooks,
    keyring,
    artifacts,
    audit,
    auth,
    tenants,
    datasets,
    training,
    inference,
    metrics,
    sharedModels,
    provenance: lifecycle.provenance,
    advisor: lifecycle.advisor,
    usage,
    budgets: lifecycle.budgets,
    quotaService,
  };
  observability.registry.include(metrics.registry);
  const app = await buildServer(
    { config, store, clock, ...services },
    { logStream: opts.logStream, observability, metrics: poolScrapes },
  );
  // Training runs in child processes under this supervisor, never on the API's event loop.
  const workers =
    config.workerSlots > 0
      ? await startConfiguredWorkers(
          config,
          { store, artifacts, keyring, clock, random, log: app.log, onFinished: lifecycle.onFinished },
          opts,
          observability,
        )
      : null;
  observability.jobs.watch(
    store,
    workers ? { active: () => workers.supervisor.active, total: workers.supervisor.opt.slots } : undefined,
  );
  // The monitoring cycle and webhook deliveries run where training runs: the worker role.
  const background = config.workerSlots > 0 ? startBackground(lifecycleDeps, lifecycle) : null;

  let closed = false;
  return {
    config,
    app,
    store,
    blobs,
    services,
    workers,
    meter,
    adminKey,
    adminKeyFile,
    async close() {
      if (closed) return;
      closed = true;
      app.state.shuttingDown = true;
      await app.close(); // waits for requests in flight
      await inference.close(); // writes the prediction log's last batch, releases sessions
      await background?.stop();
      await workers?.stop();
      await meter.close(); // writes the usage summed since the last flush
      await observability.close(); // sends the last spans
      poolScrapes?.stop();
      if (!opts.store) await store.close();
    },
  };
}

/** How long an API process of a pool waits for the primary's sum of the pool's metrics, ms. */
const POOL_SCRAPE_TIMEOUT_MS = 5000;

/** The URL a client uses for a server listening on `host` (any address: localhost) and `port`. */
function serviceUrl(host: string, port: number): string {
  return `http://${host === '0.0.0.0' || host === '::' ? 'localhost' : host}:${port}`;
}

/** Serves the platform on the configured address (what `tenantml start` and `npm start` run). */
export async function startPlatform(
  config: Config,
  opts: PlatformOptions = {},
): Promise<{ url: string; adminKeyFile?: string; platform: Platform; close(): Promise<void> }> {
  const platform = await createPlatform(config, opts);
  await platform.app.listen({ host: config.host, port: config.port });
  const addr = platform.app.server.address();
  const url = serviceUrl(config.host, typeof addr === 'object' && addr ? addr.port : config.port);
  platform.app.log.info({ url, database: platform.store.dialect }, 'tenantml is serving');
  if (platform.adminKeyFile) {
    platform.app.log.info(
      { adminKeyFile: platform.adminKeyFile },
      'operator key is in this file (mode 0600)',
    );
  }
  return { url, adminKeyFile: platform.adminKeyFile, platform, close: () => platform.close() };
}

/**
 * A worker-only process (`tenantml worker`): the same store and artifacts as the API, the training
 * supervisor, no HTTP. Run any number of them against one PostgreSQL.
 */
export async function startWorkerProcess(
  config: Config,
  opts: PlatformOptions & { log?: WorkerLog } = {},
): Promise<{ close(): Promise<void>; store: Store; metrics(): Promise<MetricsJson> }> {
  const clock = opts.clock ?? systemClock;
  const random = opts.random ?? cryptoRandom;
  if (config.workerSlots === 0)
    throw new ConfigError(['TENANTML_WORKER_SLOTS must be at least 1 for a worker']);
  const { masterKey } = await secrets(config, random);
  const store =
    opts.store ?? (await openStore({ url: config.databaseUrl, adminUrl: config.databaseAdminUrl }));
  // No HTTP here: the worker's series reach a scrape only as a serving pool's primary (`metrics` below);
  // a separate worker's observability is its job spans (when tracing is on).
  const observability = createObservability(config, 'worker');
  const { artifacts, keyring, meter, lifecycleDeps, lifecycle } = await controlPlane(
    config,
    store,
    masterKey,
    {
      clock,
      random,
      warn: (o, m) => opts.log?.warn(o, m),
      observability,
    },
  );
  const workers = await startConfiguredWorkers(
    config,
    { store, artifacts, keyring, clock, random, log: opts.log, onFinished: lifecycle.onFinished },
    opts,
    observability,
  );
  observability.jobs.watch(store, {
    active: () => workers.supervisor.active,
    total: workers.supervisor.opt.slots,
  });
  const background = startBackground(lifecycleDeps, lifecycle);
  return {
    store,
    metrics: () => observability.registry.registry.getMetricsAsJSON(),
    async close() {
      await background.stop();
      await workers.stop();
      await meter.close();
      await observability.close();
      if (!opts.store) await store.close();
    },
  };
}

/**
 * `tenantml start` with TENANTML_SERVE_PROCESSES above 1: this process prepares the data folder (secrets,
 * migrations) once, runs the training workers and the background loops when it has worker slots, holds
 * the pool's rate-limit buckets (unless Redis does), and starts the API processes, which run the same
 * command as API processes of the pool (`startPoolProcess`). Closing stops the API processes (their
 * requests finish), then the workers.
 */
export async function startPoolPrimary(
  config: Config,
  log: WorkerLog & { info(obj: Record<string, unknown>, msg: string): void },
): Promise<{ url: string; adminKeyFile?: string; close(): Promise<void> }> {
  const { adminKeyFile } = await secrets(config, cryptoRandom);
  // Migrations run here, once, before several processes open the store (the worker role opens it too).
  let worker: Awaited<ReturnType<typeof startWorkerProcess>> | null = null;
  if (config.workerSlots > 0) worker = await startWorkerProcess(config, { log });
  else await (await openStore({ url: config.databaseUrl, adminUrl: config.databaseAdminUrl })).close();
  let pool: ServingPool;
  try {
    pool = await startServingPool({
      processes: config.serveProcesses,
      buckets: config.redisUrl ? null : createMemoryBuckets({ clock: systemClock }),
      ownMetrics: worker ? () => worker.metrics() : undefined,
      log,
    });
  } catch (err) {
    await worker?.close();
    throw err;
  }
  return {
    url: serviceUrl(config.host, pool.port),
    adminKeyFile,
    async close() {
      await pool.close();
      await worker?.close();
    },
  };
}

/**
 * An API process of a serving pool: the platform without training workers, its share of the model-cache
 * budget, the primary's buckets and metrics over the IPC channel, on the pool's shared port.
 */
export function startPoolProcess(config: Config): ReturnType<typeof startPlatform> {
  const share: Config = {
    ...config,
    workerSlots: 0,
    inferenceCacheBytes: Math.max(
      1024 * 1024,
      Math.floor(config.inferenceCacheBytes / config.serveProcesses),
    ),
  };
  return startPlatform(share, { pool: parentChannel() });
}
