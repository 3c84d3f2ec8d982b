// Builds the inference plane from the platform's configuration and adapters (what the composition root
// calls): metrics registry, prediction log, model cache and the predict service.
import type { Clock, Random } from '../../core/clock.ts';
import type { Config } from '../../core/config.ts';
import type { AppError } from '../../core/errors.ts';
import { TIER_WEIGHTS } from '../../core/tiers.ts';
import type { Tenant } from '../../core/types.ts';
import { type Admission, type AdmissionOptions, createAdmission } from '../../runtime/limits/admission.ts';
import type { NativeHooks } from '../../runtime/loaded-model.ts';
import { InferenceMetrics } from '../../runtime/metrics.ts';
import type { BlobStore } from '../../store/artifacts/ports.ts';
import type { Store } from '../../store/ports.ts';
import type { TenantArtifacts } from '../artifacts.ts';
import type { KeyRing } from '../keyring.ts';
import { RegistryService } from '../registry.ts';
import type { TenantService } from '../tenants.ts';
import { ttlMemo } from '../ttl-memo.ts';
import { PredictionLog } from './prediction-log.ts';
import { type InferenceDeps, InferenceService, type TenantLimits } from './service.ts';

/** How long a tenant's quotas and tier are reused before they are read again: a change applies within it. */
const LIMITS_TTL_MS = 1000;

export interface InferenceWiring {
  config: Pick<
    Config,
    | 'inferenceCacheBytes'
    | 'inferenceBatchWindowMs'
    | 'inferenceMaxInstances'
    | 'inferenceEngine'
    | 'inferenceResolveTtlMs'
    | 'inferenceConcurrency'
    | 'predictionLogSampleRate'
    | 'predictionLogFlushMs'
    | 'artifactsDir'
    | 'metricsTenantLabel'
    | 'taintedServing'
    | 'redisUrl'
    | 'redisTimeoutMs'
    | 'rateLimitHoldMs'
    | 'rateLimitBurstSeconds'
  >;
  store: Pick<Store, 'models'>;
  artifacts: TenantArtifacts;
  blobs: BlobStore;
  /**
   * The tenants' data keys: with a filesystem blob store the prediction log writes through a worker
   * thread, which gets the keys of the tenants it writes for from here at each flush.
   */
  keyring?: Pick<KeyRing, 'dataKey'>;
  clock: Clock;
  random: Random;
  /** Tenants' quotas and tiers, for admission. */
  tenants: Pick<TenantService, 'get' | 'quotas'> & Partial<Pick<TenantService, 'quotasOf'>>;
  /**
   * Budgets (services/metering/budgets.ts): the 402 a tenant's predictions get at its hard limit, from
   * a state kept a few seconds; and where quota changes are heard (they drop the limits memo at once).
   */
  predictionBlock?: (tenantId: string) => AppError | undefined | Promise<AppError | undefined>;
  onQuotaChange?: (listener: (tenantId?: string) => void) => void;
  /** Admission to use instead of the default one (tests, benchmarks); `false`: none. */
  admission?: Admission | false;
  /** The rate-limit buckets of the default admission when neither memory nor Redis (the serving pool's). */
  limiter?: AdmissionOptions['limiter'];
  warn?: (obj: Record<string, unknown>, msg: string) => void;
  /** Info-level log: why a model version runs in ONNX Runtime (ids and reason). */
  info?: (obj: Record<string, unknown>, msg: string) => void;
  /** Stand-ins for the native engine's compiler and parity probe (tests). */
  native?: NativeHooks;
  /** Metering of successful predictions (src/services/metering/meter.ts). */
  meter?: InferenceDeps['meter'];
}

export function createInference(w: InferenceWiring): {
  inference: InferenceService;
  metrics: InferenceMetrics;
} {
  const metrics = new InferenceMetrics({ tenantLabel: w.config.metricsTenantLabel });
  const log = new PredictionLog({
    artifacts: w.artifacts,
    blobs: w.blobs,
    clock: w.clock,
    random: w.random,
    sampleRate: w.config.predictionLogSampleRate,
    flushMs: w.config.predictionLogFlushMs,
    onDropped: (n) => metrics.logDropped.inc(n),
    onWritten: (n) => metrics.logWritten.inc(n),
    onError: (err) => w.warn?.({ err: String(err) }, 'prediction log: a batch could not be written'),
    thread:
      w.keyring && w.blobs.kind === 'fs'
        ? { root: w.config.artifactsDir, dataKey: (id) => w.keyring!.dataKey(id) }
        : undefined,
  });
  const admission =
    w.admission === false
      ? undefined
      : (w.admission ??
        createAdmission({
          // The work is CPU-bound on the event loop (ONNX Runtime runs on the calling thread): more slots add
          // no throughput, they only move the waiting from the fair queue (a quiet tenant first) into the
          // event loop (first come, first served).
          maxConcurrent: w.config.inferenceConcurrency,
          redisUrl: w.config.redisUrl,
          redisTimeoutMs: w.config.redisTimeoutMs,
          holdMs: w.config.rateLimitHoldMs,
          burstSeconds: w.config.rateLimitBurstSeconds,
          limiter: w.limiter,
          clock: w.clock,
          onLimiterError: (err) =>
            w.warn?.({ err: String(err) }, 'rate-limit store failed; counting in memory'),
        }));
  if (admission) metrics.watchAdmission(() => admission.stats());
  const inference = new InferenceService({
    registry: new RegistryService({ store: w.store, taintedServing: w.config.taintedServing }),
    artifacts: w.artifacts,
    metrics,
    log,
    clock: w.clock,
    random: w.random,
    cacheBytes: w.config.inferenceCacheBytes,
    batchWindowMs: w.config.inferenceBatchWindowMs,
    maxInstances: w.config.inferenceMaxInstances,
    resolveTtlMs: w.config.inferenceResolveTtlMs,
    engine: w.config.inferenceEngine,
    admission,
    limitsOf: tenantLimits(w),
    predictionBlock: w.predictionBlock,
    warn: w.warn,
    info: w.info,
    native: w.native,
    meter: w.meter,
  });
  return { inference, metrics };
}

/**
 * A tenant's quotas and weight, read at most once per LIMITS_TTL_MS per tenant (a quota edit made in this
 * process drops them at once).
 */
function tenantLimits(w: InferenceWiring): (id: string) => Promise<TenantLimits> {
  const { tenants, clock } = w;
  // A failed read (tenant deleted) is not kept: the next request asks again.
  const memo = ttlMemo<TenantLimits>({ ttlMs: LIMITS_TTL_MS, clock, maxKeys: 10_000 });
  w.onQuotaChange?.(() => memo.clear());
  const quotasOf = (t: Tenant) => (tenants.quotasOf ? tenants.quotasOf(t) : tenants.quotas(t));
  return (id: string) =>
    memo.get(id, async () => {
      const t = await tenants.get(id);
      return { quotas: await quotasOf(t), weight: TIER_WEIGHTS[t.tier] };
    });
}

export { PredictionLog, type PredictionRecord } from './prediction-log.ts';
export { InferenceService } from './service.ts';
