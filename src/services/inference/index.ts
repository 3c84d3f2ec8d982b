// Builds the inference plane from the platform's configuration and adapters (what the composition root
// calls): metrics registry, prediction log, model cache and the predict service.
import type { Clock, Random } from '../../core/clock.ts';
import type { Config } from '../../core/config.ts';
import { InferenceMetrics } from '../../runtime/metrics.ts';
import type { BlobStore } from '../../store/artifacts/ports.ts';
import type { Store } from '../../store/ports.ts';
import type { TenantArtifacts } from '../artifacts.ts';
import { RegistryService } from '../registry.ts';
import { PredictionLog } from './prediction-log.ts';
import { type Admission, InferenceService } from './service.ts';

export interface InferenceWiring {
  config: Pick<
    Config,
    | 'inferenceCacheBytes'
    | 'inferenceBatchWindowMs'
    | 'inferenceMaxInstances'
    | 'predictionLogSampleRate'
    | 'predictionLogFlushMs'
    | 'metricsTenantLabel'
    | 'taintedServing'
  >;
  store: Pick<Store, 'models'>;
  artifacts: TenantArtifacts;
  blobs: BlobStore;
  clock: Clock;
  random: Random;
  admission?: Admission;
  warn?: (obj: Record<string, unknown>, msg: string) => void;
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
  });
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
    admission: w.admission,
    warn: w.warn,
  });
  return { inference, metrics };
}

export { PredictionLog, type PredictionRecord } from './prediction-log.ts';
export { type Admission, InferenceService } from './service.ts';
