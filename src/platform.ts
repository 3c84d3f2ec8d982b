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
import { startWorkers, type WorkerDeps, type WorkerLog, type WorkerOptions } from './jobs/supervisor.ts';
import { AdvisorService } from './services/advisor.ts';
import { TenantArtifacts } from './services/artifacts.ts';
import { AuditService } from './services/audit.ts';
import { AuthService, generateOperatorKey } from './services/auth.ts';
import { DatasetService } from './services/datasets/service.ts';
import { createInference } from './services/inference/index.ts';
import { KeyRing } from './services/keyring.ts';
import { ProvenanceService, type Withdrawal } from './services/provenance.ts';
import { SharedModelsService } from './services/shared-models.ts';
import { ensureSharedNamespace } from './services/shared-namespace.ts';
import { TenantService } from './services/tenants.ts';
import { TrainingService } from './services/training.ts';
import { WebhookService } from './services/webhooks/service.ts';
import { FsBlobStore } from './store/artifacts/fs.ts';
import type { BlobStore } from './store/artifacts/ports.ts';
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

/**
 * What happens after a training job ends, wherever the worker runs: the advisor completes its advice, and
 * a clean shared successor triggers the retraining of tuned models whose base was tainted.
 */
function modelLifecycle(
  store: Store,
  training: TrainingService,
  clock: Clock,
  random: Random,
  warn: (o: object, m: string) => void,
) {
  const provenance = new ProvenanceService({ store, training, clock, log: { warn } });
  const advisor = new AdvisorService({ store, training, clock, random });
  const onFinished = async (job: Job): Promise<void> => {
    await advisor.onJobFinished(mintTenantScope(job.tenantId, SYSTEM), job);
    await provenance.onJobFinished(job);
  };
  return { provenance, advisor, onFinished };
}

/** The training supervisor as the configuration asks for it (slots, global cap, artifact folder). */
function startConfiguredWorkers(
  config: Config,
  deps: Omit<WorkerDeps, 'blobs'>,
  opts: PlatformOptions,
): ReturnType<typeof startWorkers> {
  return startWorkers(
    { ...deps, blobs: { kind: 'fs', root: config.artifactsDir } },
    { slots: config.workerSlots, globalCap: config.globalJobCap, ...opts.workers },
  );
}

export async function createPlatform(config: Config, opts: PlatformOptions = {}): Promise<Platform> {
  const clock = opts.clock ?? systemClock;
  const random = opts.random ?? cryptoRandom;
  const { masterKey, adminKey, adminKeyFile } = await secrets(config, random);

  const store =
    opts.store ?? (await openStore({ url: config.databaseUrl, adminUrl: config.databaseAdminUrl }));
  const blobs = new FsBlobStore(config.artifactsDir);
  const keyring = new KeyRing(masterKey, store.tenants);
  await ensureSharedNamespace(store, keyring, clock.now().toISOString());
  const artifacts = new TenantArtifacts(blobs, keyring);
  const audit = new AuditService(store.audit, clock);
  const auth = new AuthService(adminKey, store.keys, clock, random);
  // A withdrawal (consent off, dataset or tenant deleted) reaches provenance, built just below.
  const withdraw = (w: Withdrawal) => lifecycle.provenance.withdraw(w);
  const tenants = new TenantService(store.tenants, keyring, artifacts, audit, clock, random, withdraw);
  const datasets = new DatasetService(store, tenants, artifacts, clock, random, withdraw);
  const training = new TrainingService({ store, tenants, clock, random });
  const lifecycle = modelLifecycle(store, training, clock, random, (o, m) => app.log.warn(o, m));
  const sharedModels = new SharedModelsService({ store, artifacts, clock, random });
  const { inference, metrics } = createInference({
    config,
    store,
    artifacts,
    blobs,
    clock,
    random,
    tenants,
    warn: (o, m) => app.log.warn(o, m),
  });
  // Lead: allowPrivate from TENANTML_WEBHOOKS_ALLOW_PRIVATE once the config has it (default: refuse).
  const webhooks = new WebhookService({
    repo: store.webhooks,
    keyring,
    clock,
    random,
    log: { warn: (o, m) => app.log.warn(o, m) },
  });
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
  };
  const app = await buildServer({ config, store, clock, ...services }, { logStream: opts.logStream });
  // Training runs in child processes under this supervisor, never on the API's event loop.
  const workers =
    config.workerSlots > 0
      ? await startConfiguredWorkers(
          config,
          { store, artifacts, keyring, clock, random, log: app.log, onFinished: lifecycle.onFinished },
          opts,
        )
      : null;

  let closed = false;
  return {
    config,
    app,
    store,
    blobs,
    services,
    workers,
    adminKey,
    adminKeyFile,
    async close() {
      if (closed) return;
      closed = true;
      app.state.shuttingDown = true;
      await app.close(); // waits for requests in flight
      await inference.close(); // writes the prediction log's last batch, releases sessions
      await workers?.stop();
      if (!opts.store) await store.close();
    },
  };
}

/** Serves the platform on the configured address (what `tenantml start` and `npm start` run). */
export async function startPlatform(
  config: Config,
  opts: PlatformOptions = {},
): Promise<{ url: string; adminKeyFile?: string; platform: Platform; close(): Promise<void> }> {
  const platform = await createPlatform(config, opts);
  await platform.app.listen({ host: config.host, port: config.port });
  const addr = platform.app.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : config.port;
  const url = `http://${config.host === '0.0.0.0' || config.host === '::' ? 'localhost' : config.host}:${port}`;
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
): Promise<{ close(): Promise<void>; store: Store }> {
  const clock = opts.clock ?? systemClock;
  const random = opts.random ?? cryptoRandom;
  if (config.workerSlots === 0)
    throw new ConfigError(['TENANTML_WORKER_SLOTS must be at least 1 for a worker']);
  const { masterKey } = await secrets(config, random);
  const store =
    opts.store ?? (await openStore({ url: config.databaseUrl, adminUrl: config.databaseAdminUrl }));
  const keyring = new KeyRing(masterKey, store.tenants);
  await ensureSharedNamespace(store, keyring, clock.now().toISOString());
  const artifacts = new TenantArtifacts(new FsBlobStore(config.artifactsDir), keyring);
  const audit = new AuditService(store.audit, clock);
  const tenants = new TenantService(store.tenants, keyring, artifacts, audit, clock, random);
  const training = new TrainingService({ store, tenants, clock, random });
  const lifecycle = modelLifecycle(store, training, clock, random, (o, m) => opts.log?.warn(o, m));
  const workers = await startConfiguredWorkers(
    config,
    { store, artifacts, keyring, clock, random, log: opts.log, onFinished: lifecycle.onFinished },
    opts,
  );
  return {
    store,
    async close() {
      await workers.stop();
      if (!opts.store) await store.close();
    },
  };
}
