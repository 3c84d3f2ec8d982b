// Configuration: read from the environment only at the edge (CLI, server start), validated once here,
// then frozen. Every bad value is reported at once, each with the variable's name.
import { isAbsolute, join, resolve } from 'node:path';

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

import { DEFAULT_PRICES, type PriceTable, type SharedCostPolicy } from './metering.ts';

export interface Config {
  /** Folder for the SQLite file, the artifacts and generated keys (embedded profile). */
  readonly dataDir: string;
  readonly host: string;
  readonly port: number;
  /** `postgres://…` or a SQLite file path. */
  readonly databaseUrl: string;
  /** PostgreSQL owner connection for migrations; defaults to databaseUrl. */
  readonly databaseAdminUrl: string | undefined;
  readonly profile: 'embedded' | 'distributed';
  /** Where artifacts live (filesystem adapter). */
  readonly artifactsDir: string;
  /** The operator's admin key; undefined → generated on first start and kept in dataDir. */
  readonly adminKey: string | undefined;
  /** 32-byte master key that wraps tenant data keys; undefined → generated on first start (embedded). */
  readonly masterKey: Buffer | undefined;
  readonly logLevel: LogLevel;
  /** Largest dataset upload, bytes. */
  readonly maxUploadBytes: number;
  /** Largest JSON request body on other routes, bytes. */
  readonly maxJsonBytes: number;
  readonly redisUrl: string | undefined;
  /** A Redis rate-limit answer slower than this counts as a failure and memory answers instead, ms. */
  readonly redisTimeoutMs: number;
  /** A 429 of the predict path waits this long before it is sent, ms; 0: at once. */
  readonly rateLimitHoldMs: number;
  /** TENANTML_RATE_LIMIT_BURST_SECONDS: a tenant's rate buckets hold this many seconds of its quotas. */
  readonly rateLimitBurstSeconds: number;
  /** TENANTML_HEAP_GROWING_PERCENT: the serving process's V8 heap growing factor, 1 + this/100; 0: V8's own. */
  readonly heapGrowingPercent: number;
  /** Training jobs this process runs at once (`tenantml start` and `tenantml worker`); 0: none. */
  readonly workerSlots: number;
  /**
   * `tenantml start`: API processes serving one port (a pool; docs/serving-pool.md). 1: the API runs in the
   * started process itself; more: that process supervises them, runs the training workers and holds the
   * pool's shared rate-limit buckets (unless TENANTML_REDIS_URL holds them) and its metrics.
   */
  readonly serveProcesses: number;
  /** Training jobs running at once across all workers. */
  readonly globalJobCap: number;
  /**
   * What happens to a model version found to hold data that may no longer be used (consent withdrawn,
   * dataset or tenant deleted): served until a clean successor replaces it, or blocked at once.
   */
  readonly taintedServing: 'until-successor' | 'block';
  /** Inference: what the model cache may hold (estimated bytes of loaded sessions and featurizers). */
  readonly inferenceCacheBytes: number;
  /** Inference: requests for one model version arriving within this many ms run as one call; 0: off. */
  readonly inferenceBatchWindowMs: number;
  /** Inference: how long a model-name resolution is reused before the store is asked again, ms; 0: every request. */
  readonly inferenceResolveTtlMs: number;
  /** Inference: predict requests running at once in this process; more wait in admission's fair queue. */
  readonly inferenceConcurrency: number;
  /** Inference: most instances one predict request may carry. */
  readonly inferenceMaxInstances: number;
  /** Inference: `auto` runs tenantml's own graphs on the native engine (else ONNX Runtime); `onnxruntime`: always ORT. */
  readonly inferenceEngine: 'auto' | 'onnxruntime';
  /** Inference: share of predictions written to the tenant's prediction log, 0–1. */
  readonly predictionLogSampleRate: number;
  /** Inference: how often buffered prediction-log entries are written, ms. */
  readonly predictionLogFlushMs: number;
  /** Inference metrics carry a `tenant` label (off keeps the series count bounded with many tenants). */
  readonly metricsTenantLabel: boolean;
  /** Monitoring: the width of a window over the prediction log. */
  /** Webhooks may reach loopback, private and link-local addresses (off: SSRF protection). */
  readonly webhooksAllowPrivate: boolean;
  readonly monitorGranularity: 'hour' | 'day';
  /** Monitoring: seconds between two cycles of the loop (worker role). */
  readonly monitorIntervalSeconds: number;
  /** Monitoring: fewest predictions for a window to be judged (fewer: insufficient_data, never an alert). */
  readonly monitorMinRows: number;
  /** Monitoring: share of drifted features at which the dataset counts as drifted, in (0, 1]. */
  readonly monitorDriftShare: number;
  /** Monitoring: feedback may name a prediction made up to this many hours before; older is unmatched. */
  readonly feedbackHorizonHours: number;
  /** This worker's share of the monitored models: index and count of worker replicas (0 of 1: all). */
  readonly monitorShard: { index: number; count: number };
  /** Metering: on (default) records usage events; off records none (benchmarks compare the two). */
  readonly metering: boolean;
  /** Metering: how often buffered usage (predictions) is written to the store, ms. */
  readonly meteringFlushMs: number;
  /** Pricing: the price table (TENANTML_PRICES, JSON, merged over DEFAULT_PRICES). */
  readonly prices: PriceTable;
  /** Who pays for training shared models: the contributing tenants by rows, or the operator. */
  readonly sharedCost: SharedCostPolicy;
  /** Tracing: the OTLP/HTTP traces endpoint (…/v1/traces), or null for no tracing. */
  readonly otlpTracesEndpoint: string | null;
}

export class ConfigError extends Error {
  readonly problems: string[];
  constructor(problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

type Env = Record<string, string | undefined>;

/** Settings of the `tenantml` client commands; the server ignores them (they may share a shell). */
export const CLIENT_VARIABLES: ReadonlySet<string> = new Set([
  'TENANTML_URL',
  'TENANTML_API_KEY',
  'TENANTML_TENANT',
]);

/** The environment variables tenantml reads, with their meaning (the README's configuration table). */
export const CONFIG_VARIABLES = {
  TENANTML_DATA_DIR: 'data folder (SQLite file, artifacts, generated keys); default ./data',
  TENANTML_HOST: 'address to listen on; default 0.0.0.0',
  TENANTML_PORT: 'port to listen on; default 8080',
  TENANTML_DATABASE_URL: 'postgres://user@host/db, or a SQLite file path; default <data dir>/tenantml.db',
  TENANTML_DATABASE_ADMIN_URL:
    'PostgreSQL owner connection used for migrations; default TENANTML_DATABASE_URL',
  TENANTML_ADMIN_KEY:
    "the operator's key (at least 32 characters); default: generated into <data dir>/admin.key",
  TENANTML_MASTER_KEY:
    '32 bytes, base64 or hex, wrapping every tenant data key; default: generated into <data dir>/master.key',
  TENANTML_LOG_LEVEL: 'fatal|error|warn|info|debug|trace|silent; default info',
  TENANTML_MAX_UPLOAD_BYTES: 'largest dataset upload in bytes; default 268435456 (256 MiB)',
  TENANTML_MAX_JSON_BYTES: 'largest JSON request body in bytes; default 1048576 (1 MiB)',
  TENANTML_REDIS_URL: 'redis://host:port for rate-limit counters shared by API replicas; default in memory',
  TENANTML_REDIS_TIMEOUT_MS:
    'a Redis rate-limit answer slower than this (ms) counts as a failure: the replica counts in memory for a second; default 100',
  TENANTML_RATE_LIMIT_HOLD_MS:
    'a predict request refused with 429 (rate budget or in-flight cap) is answered only after this many ms, so a client ignoring Retry-After waits on its own connection; 0 answers at once; default 100',
  TENANTML_RATE_LIMIT_BURST_SECONDS:
    "a tenant's rate buckets hold this many seconds of its requestsPerSecond and predictionsPerSecond (its largest burst) and refill continuously at the quota; default 1",
  TENANTML_HEAP_GROWING_PERCENT:
    "`tenantml start`: V8's old generation grows to at most 1 + this/100 times what survived the last full collection (bounds the serving process's memory; more frequent collections); 0 leaves V8's own factor (up to 4×); default 30",
  TENANTML_WORKER_SLOTS: 'training jobs this process runs at once; 0 serves the API only; default 2',
  TENANTML_SERVE_PROCESSES:
    '`tenantml start`: API processes sharing the port (a serving pool: limits shared, cache budget split, metrics summed); default 1',
  TENANTML_GLOBAL_JOB_CAP: 'training jobs running at once across all workers; default 64',
  TENANTML_TAINTED_SERVING:
    'until-successor|block: keep serving a tainted model version until its retrained successor exists, or stop at once; default until-successor',
  TENANTML_METERING: 'on|off: record usage events (metering, budgets); default on',
  TENANTML_METERING_FLUSH_MS: 'how often buffered usage is written to the store, ms; default 5000',
  TENANTML_PRICES:
    'price table as JSON: currency, cpuSecond, per1000Predictions, gbMonth, monitoringRun; default {"currency":"USD","cpuSecond":0.00005,"per1000Predictions":0.01,"gbMonth":0.1,"monitoringRun":0.0001}',
  TENANTML_SHARED_COST:
    'contributors|operator: who pays for training shared models (contributors by rows, or the operator); default contributors',
  TENANTML_OTLP_TRACES_ENDPOINT:
    'OTLP/HTTP traces endpoint (e.g. http://collector:4318/v1/traces); also read: OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, OTEL_EXPORTER_OTLP_ENDPOINT; default: no tracing',
  TENANTML_INFERENCE_CACHE_BYTES:
    'memory budget of the model cache (loaded ONNX sessions and featurizers), bytes; default 268435456 (256 MiB)',
  TENANTML_INFERENCE_BATCH_WINDOW_MS:
    'predict requests for one model version arriving within this window (ms) run as one ONNX call; 0 waits for none (requests read in one event-loop turn share a call); default 0',
  TENANTML_INFERENCE_MAX_INSTANCES: 'most instances one predict request may carry; default 1000',
  TENANTML_INFERENCE_ENGINE:
    'auto|onnxruntime: auto runs every graph the native engine supports exactly (the ones tenantml trains) natively and the rest in ONNX Runtime; onnxruntime runs everything in ONNX Runtime; default auto',
  TENANTML_INFERENCE_CONCURRENCY:
    'predict requests running at once in this process; more wait in the fair queue across tenants; default 4',
  TENANTML_INFERENCE_RESOLVE_TTL_MS:
    'how long a resolved model version is reused before the store is asked again (a promotion takes effect within it), ms; 0 asks on every request; default 1000',
  TENANTML_PREDICTION_LOG_SAMPLE_RATE:
    "share of predictions written to the tenant's encrypted prediction log, 0 to 1; default 1",
  TENANTML_PREDICTION_LOG_FLUSH_MS:
    'how often the prediction log writes its buffered entries, ms; default 5000',
  TENANTML_METRICS_TENANT_LABEL:
    'true|false: inference metrics carry a tenant label (false keeps /metrics small with many tenants); default true',
  TENANTML_WEBHOOKS_ALLOW_PRIVATE:
    'true|false: let webhooks reach loopback, private and link-local addresses (refused by default: a tenant could otherwise probe the internal network); default false',
  TENANTML_MONITOR_GRANULARITY: 'hour|day: the width of a monitoring window; default hour',
  TENANTML_MONITOR_INTERVAL_SECONDS: 'seconds between two monitoring cycles (worker role); default 60',
  TENANTML_MONITOR_MIN_ROWS:
    'fewest predictions in a window for drift to be judged (fewer: insufficient_data); default 50',
  TENANTML_MONITOR_DRIFT_SHARE:
    'share of drifted features at which a window counts as dataset drift, in (0, 1]; default 0.5',
  TENANTML_MONITOR_SHARD:
    'i/n: this worker replica monitors the i-th of n shares of the models (0/2 and 1/2 on two workers); default 0/1, all',
  TENANTML_FEEDBACK_HORIZON_HOURS:
    'feedback may name a prediction made up to this many hours before (older is unmatched); default 168',
} as const;

function int(env: Env, name: string, def: number, min: number, max: number, problems: string[]): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return def;
  if (!/^\d+$/.test(raw.trim())) {
    problems.push(`${name} must be a whole number (got ${JSON.stringify(raw)})`);
    return def;
  }
  const n = Number(raw.trim());
  if (n < min || n > max) problems.push(`${name} must be between ${min} and ${max} (got ${n})`);
  return n;
}

export function parseMasterKey(raw: string): Buffer | null {
  const s = raw.trim();
  if (/^[0-9a-fA-F]{64}$/.test(s)) return Buffer.from(s, 'hex');
  if (/^[A-Za-z0-9+/_-]{43}=?$/.test(s)) {
    const b = Buffer.from(s.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
    return b.length === 32 ? b : null;
  }
  return null;
}

/** Validates the environment into a frozen Config, or throws ConfigError listing every problem. */
export function loadConfig(env: Env, cwd: string): Config {
  const problems: string[] = [];
  for (const key of Object.keys(env)) {
    if (
      key.startsWith('TENANTML_') &&
      !(key in CONFIG_VARIABLES) &&
      !CLIENT_VARIABLES.has(key) &&
      !key.startsWith('TENANTML_TEST_')
    ) {
      problems.push(`${key} is not a tenantml setting (known: ${Object.keys(CONFIG_VARIABLES).join(', ')})`);
    }
  }
  const dataDirRaw = env.TENANTML_DATA_DIR?.trim() || './data';
  const dataDir = isAbsolute(dataDirRaw) ? dataDirRaw : resolve(cwd, dataDirRaw);
  const host = env.TENANTML_HOST?.trim() || '0.0.0.0';
  const port = int(env, 'TENANTML_PORT', 8080, 0, 65535, problems);

  let databaseUrl = env.TENANTML_DATABASE_URL?.trim() || join(dataDir, 'tenantml.db');
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(databaseUrl)) {
    if (!/^postgres(ql)?:\/\//i.test(databaseUrl) && !databaseUrl.startsWith('sqlite://')) {
      problems.push(
        `TENANTML_DATABASE_URL must be postgres://… or a SQLite file path (got a ${databaseUrl.split(':')[0]} URL)`,
      );
    }
  } else if (databaseUrl !== ':memory:' && !isAbsolute(databaseUrl)) {
    databaseUrl = resolve(cwd, databaseUrl);
  }
  const databaseAdminUrl = env.TENANTML_DATABASE_ADMIN_URL?.trim() || undefined;
  if (databaseAdminUrl && !/^postgres(ql)?:\/\//i.test(databaseAdminUrl)) {
    problems.push('TENANTML_DATABASE_ADMIN_URL must be a postgres:// URL');
  }
  const isPostgres = /^postgres(ql)?:\/\//i.test(databaseUrl);

  const adminKey = env.TENANTML_ADMIN_KEY?.trim() || undefined;
  if (adminKey !== undefined && adminKey.length < 32) {
    problems.push(`TENANTML_ADMIN_KEY must be at least 32 characters (got ${adminKey.length})`);
  }
  let masterKey: Buffer | undefined;
  if (env.TENANTML_MASTER_KEY?.trim()) {
    const parsed = parseMasterKey(env.TENANTML_MASTER_KEY);
    if (parsed === null)
      problems.push('TENANTML_MASTER_KEY must be 32 bytes as 64 hex digits or 43–44 base64 characters');
    else masterKey = parsed;
  }

  const logLevel = (env.TENANTML_LOG_LEVEL?.trim() || 'info') as LogLevel;
  if (!LOG_LEVELS.includes(logLevel)) {
    problems.push(
      `TENANTML_LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')} (got ${JSON.stringify(logLevel)})`,
    );
  }
  const maxUploadBytes = int(
    env,
    'TENANTML_MAX_UPLOAD_BYTES',
    256 * 1024 * 1024,
    1024,
    64 * 1024 ** 3,
    problems,
  );
  const maxJsonBytes = int(env, 'TENANTML_MAX_JSON_BYTES', 1024 * 1024, 1024, 1024 ** 3, problems);
  const redisUrl = env.TENANTML_REDIS_URL?.trim() || undefined;
  if (redisUrl && !/^rediss?:\/\//.test(redisUrl)) problems.push('TENANTML_REDIS_URL must be a redis:// URL');
  const redisTimeoutMs = int(env, 'TENANTML_REDIS_TIMEOUT_MS', 100, 1, 60_000, problems);
  const rateLimitHoldMs = int(env, 'TENANTML_RATE_LIMIT_HOLD_MS', 100, 0, 60_000, problems);
  const rateLimitBurstSeconds = int(env, 'TENANTML_RATE_LIMIT_BURST_SECONDS', 1, 1, 3600, problems);
  const heapGrowingPercent = int(env, 'TENANTML_HEAP_GROWING_PERCENT', 30, 0, 1000, problems);

  const workerSlots = int(env, 'TENANTML_WORKER_SLOTS', 2, 0, 256, problems);
  const serveProcesses = int(env, 'TENANTML_SERVE_PROCESSES', 1, 1, 64, problems);
  const globalJobCap = int(env, 'TENANTML_GLOBAL_JOB_CAP', 64, 1, 100_000, problems);

  const taintedServing = (env.TENANTML_TAINTED_SERVING?.trim() ||
    'until-successor') as Config['taintedServing'];
  if (taintedServing !== 'until-successor' && taintedServing !== 'block') {
    problems.push(
      `TENANTML_TAINTED_SERVING must be until-successor or block (got ${JSON.stringify(taintedServing)})`,
    );
  }

  const inferenceCacheBytes = int(
    env,
    'TENANTML_INFERENCE_CACHE_BYTES',
    256 * 1024 * 1024,
    1024 * 1024,
    1024 ** 4,
    problems,
  );
  const inferenceBatchWindowMs = int(env, 'TENANTML_INFERENCE_BATCH_WINDOW_MS', 0, 0, 1000, problems);
  const inferenceConcurrency = int(env, 'TENANTML_INFERENCE_CONCURRENCY', 4, 1, 10_000, problems);
  const inferenceResolveTtlMs = int(env, 'TENANTML_INFERENCE_RESOLVE_TTL_MS', 1000, 0, 600_000, problems);
  const inferenceMaxInstances = int(env, 'TENANTML_INFERENCE_MAX_INSTANCES', 1000, 1, 1_000_000, problems);
  const inferenceEngine = (env.TENANTML_INFERENCE_ENGINE?.trim() || 'auto') as Config['inferenceEngine'];
  if (inferenceEngine !== 'auto' && inferenceEngine !== 'onnxruntime')
    problems.push(
      `TENANTML_INFERENCE_ENGINE must be auto or onnxruntime (got ${JSON.stringify(inferenceEngine)})`,
    );
  let predictionLogSampleRate = 1;
  const rateRaw = env.TENANTML_PREDICTION_LOG_SAMPLE_RATE?.trim();
  if (rateRaw) {
    const r = /^(0|1|0?\.\d+|1\.0*)$/.test(rateRaw) ? Number(rateRaw) : Number.NaN;
    if (Number.isNaN(r))
      problems.push(
        `TENANTML_PREDICTION_LOG_SAMPLE_RATE must be a number from 0 to 1 (got ${JSON.stringify(rateRaw)})`,
      );
    else predictionLogSampleRate = r;
  }
  const predictionLogFlushMs = int(env, 'TENANTML_PREDICTION_LOG_FLUSH_MS', 5000, 10, 3_600_000, problems);
  const labelRaw = env.TENANTML_METRICS_TENANT_LABEL?.trim().toLowerCase() || 'true';
  if (labelRaw !== 'true' && labelRaw !== 'false')
    problems.push(`TENANTML_METRICS_TENANT_LABEL must be true or false (got ${JSON.stringify(labelRaw)})`);
  const metricsTenantLabel = labelRaw !== 'false';
  const privateRaw = env.TENANTML_WEBHOOKS_ALLOW_PRIVATE?.trim().toLowerCase() || 'false';
  if (privateRaw !== 'true' && privateRaw !== 'false')
    problems.push(
      `TENANTML_WEBHOOKS_ALLOW_PRIVATE must be true or false (got ${JSON.stringify(privateRaw)})`,
    );
  const webhooksAllowPrivate = privateRaw === 'true';
  const monitorGranularity = (env.TENANTML_MONITOR_GRANULARITY?.trim() ||
    'hour') as Config['monitorGranularity'];
  if (monitorGranularity !== 'hour' && monitorGranularity !== 'day')
    problems.push(
      `TENANTML_MONITOR_GRANULARITY must be hour or day (got ${JSON.stringify(monitorGranularity)})`,
    );
  const monitorIntervalSeconds = int(env, 'TENANTML_MONITOR_INTERVAL_SECONDS', 60, 1, 86_400, problems);
  const monitorMinRows = int(env, 'TENANTML_MONITOR_MIN_ROWS', 50, 1, 1_000_000, problems);
  let monitorDriftShare = 0.5;
  const shareRaw = env.TENANTML_MONITOR_DRIFT_SHARE?.trim();
  if (shareRaw) {
    const v = /^\d*\.?\d+$/.test(shareRaw) ? Number(shareRaw) : Number.NaN;
    if (!(v > 0 && v <= 1))
      problems.push(
        `TENANTML_MONITOR_DRIFT_SHARE must be a number in (0, 1] (got ${JSON.stringify(shareRaw)})`,
      );
    else monitorDriftShare = v;
  }
  const feedbackHorizonHours = int(env, 'TENANTML_FEEDBACK_HORIZON_HOURS', 168, 1, 24 * 366, problems);
  const shardRaw = env.TENANTML_MONITOR_SHARD?.trim() || '0/1';
  const shardMatch = /^(\d{1,4})\/(\d{1,4})$/.exec(shardRaw);
  const monitorShard = shardMatch
    ? { index: Number(shardMatch[1]), count: Number(shardMatch[2]) }
    : { index: 0, count: 1 };
  if (!shardMatch || monitorShard.count < 1 || monitorShard.index >= monitorShard.count)
    problems.push(`TENANTML_MONITOR_SHARD must be i/n with 0 <= i < n (got ${JSON.stringify(shardRaw)})`);

  const meteringRaw = env.TENANTML_METERING?.trim().toLowerCase() || 'on';
  if (meteringRaw !== 'on' && meteringRaw !== 'off')
    problems.push(`TENANTML_METERING must be on or off (got ${JSON.stringify(meteringRaw)})`);
  const metering = meteringRaw !== 'off';
  const meteringFlushMs = int(env, 'TENANTML_METERING_FLUSH_MS', 5000, 10, 3_600_000, problems);
  const prices = parsePrices(env.TENANTML_PRICES, problems);
  const sharedCost = (env.TENANTML_SHARED_COST?.trim() || 'contributors') as SharedCostPolicy;
  if (sharedCost !== 'contributors' && sharedCost !== 'operator')
    problems.push(
      `TENANTML_SHARED_COST must be contributors or operator (got ${JSON.stringify(sharedCost)})`,
    );
  const otlpTracesEndpoint = otlpEndpoint(env, problems);

  if (problems.length) throw new ConfigError(problems);
  return Object.freeze({
    dataDir,
    host,
    port,
    databaseUrl,
    databaseAdminUrl,
    profile: isPostgres ? 'distributed' : 'embedded',
    artifactsDir: join(dataDir, 'artifacts'),
    adminKey,
    masterKey,
    logLevel,
    maxUploadBytes,
    maxJsonBytes,
    redisUrl,
    redisTimeoutMs,
    rateLimitHoldMs,
    rateLimitBurstSeconds,
    heapGrowingPercent,
    workerSlots,
    serveProcesses,
    globalJobCap,
    taintedServing,
    inferenceCacheBytes,
    inferenceBatchWindowMs,
    inferenceMaxInstances,
    inferenceEngine,
    inferenceResolveTtlMs,
    inferenceConcurrency,
    predictionLogSampleRate,
    predictionLogFlushMs,
    metricsTenantLabel,
    webhooksAllowPrivate,
    monitorGranularity,
    monitorIntervalSeconds,
    monitorMinRows,
    monitorDriftShare,
    feedbackHorizonHours,
    monitorShard,
    metering,
    meteringFlushMs,
    prices,
    sharedCost,
    otlpTracesEndpoint,
  });
}

/** TENANTML_PRICES: a JSON object of PriceTable members (each a number ≥ 0; currency a 3-letter code). */
function parsePrices(raw: string | undefined, problems: string[]): PriceTable {
  const text = raw?.trim();
  if (!text) return { ...DEFAULT_PRICES };
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    problems.push('TENANTML_PRICES must be a JSON object, e.g. {"cpuSecond":0.00005}');
    return { ...DEFAULT_PRICES };
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    problems.push('TENANTML_PRICES must be a JSON object, e.g. {"cpuSecond":0.00005}');
    return { ...DEFAULT_PRICES };
  }
  const out: PriceTable = { ...DEFAULT_PRICES };
  for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
    if (k === 'currency') {
      if (typeof x === 'string' && /^[A-Z]{3}$/.test(x)) out.currency = x;
      else problems.push(`TENANTML_PRICES.currency must be a 3-letter code (got ${JSON.stringify(x)})`);
    } else if (k in DEFAULT_PRICES) {
      if (typeof x === 'number' && Number.isFinite(x) && x >= 0)
        (out as unknown as Record<string, number>)[k] = x;
      else problems.push(`TENANTML_PRICES.${k} must be a number ≥ 0 (got ${JSON.stringify(x)})`);
    } else {
      problems.push(`TENANTML_PRICES.${k} is not a price; known: ${Object.keys(DEFAULT_PRICES).join(', ')}`);
    }
  }
  return out;
}

/** TENANTML_OTLP_TRACES_ENDPOINT, else OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, else OTEL_EXPORTER_OTLP_ENDPOINT + /v1/traces. */
function otlpEndpoint(env: Env, problems: string[]): string | null {
  const own = env.TENANTML_OTLP_TRACES_ENDPOINT?.trim() || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim();
  const base = env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim();
  const url = own || (base ? `${base.replace(/\/+$/, '')}/v1/traces` : '');
  if (!url) return null;
  try {
    const u = new URL(url);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('protocol');
    return u.toString();
  } catch {
    problems.push(`the OTLP traces endpoint must be an http(s) URL (got ${JSON.stringify(url)})`);
    return null;
  }
}
