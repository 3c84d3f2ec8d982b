// The predict use case: admission → resolve the version (per request, so a promotion swaps atomically
// while requests in flight finish on the version they resolved) → the cached session (loaded, decrypted
// in memory and checksum-verified on first use) → check instances → micro-batched ONNX run → answer,
// then a sampled copy to the tenant's prediction log and the metrics. Logs carry ids, never values.
import { createHash } from 'node:crypto';
import type { Clock, Random } from '../../core/clock.ts';
import { AppError, isAppError } from '../../core/errors.ts';
import { newId } from '../../core/ids.ts';
import { SHARED_NAMESPACE, SYSTEM, sharedScope, type TenantScope } from '../../core/scope.ts';
import type { FeaturizerState } from '../../ml/featurizer.ts';
import type { Outputs } from '../../runtime/batcher.ts';
import type { Admission, AdmissionQuotas, OnGone } from '../../runtime/limits/admission.ts';
import {
  type ImportedIo,
  type InferenceEngine,
  type LoadedModel,
  loadModel,
  type ModelSpec,
  type NativeHooks,
} from '../../runtime/loaded-model.ts';
import type { InferenceMetrics } from '../../runtime/metrics.ts';
import { type Lease, ModelCache } from '../../runtime/model-cache.ts';
import type { TenantArtifacts } from '../artifacts.ts';
import type { Meter } from '../metering/meter.ts';
import type { RegistryService, Resolved } from '../registry.ts';
import { type TtlMemo, ttlMemo } from '../ttl-memo.ts';
import { checkInstances, inputMatrix } from './instances.ts';
import type { PredictionLog } from './prediction-log.ts';

/** A tenant's admission inputs: its effective quotas and its tier's share of contended slots. */
export interface TenantLimits {
  quotas: AdmissionQuotas;
  weight: number;
}

export interface InferenceDeps {
  registry: Pick<RegistryService, 'resolve'>;
  artifacts: Pick<TenantArtifacts, 'get'>;
  metrics: InferenceMetrics;
  log: PredictionLog;
  clock: Clock;
  random: Random;
  cacheBytes: number;
  batchWindowMs: number;
  maxInstances: number;
  /**
   * How long a resolution (tenant, name → version) is reused, ms; 0 asks the store on every request.
   * Each request still runs wholly on the one version it resolved; a promotion reaches new requests
   * within this time, on every replica.
   */
  resolveTtlMs?: number;
  /** Per-tenant rate limits and fair queuing, asked before any work (with `limitsOf`). */
  admission?: Admission;
  limitsOf?: (tenantId: string) => Promise<TenantLimits>;
  /**
   * The 402 a tenant's budget answers its predictions now (BudgetService.predictionBlock), or undefined;
   * synchronously when it knows at once (the common case: no promise on the predict path).
   */
  predictionBlock?: (tenantId: string) => AppError | undefined | Promise<AppError | undefined>;
  /** Where load failures are reported (ids only). */
  warn?: (obj: Record<string, unknown>, msg: string) => void;
  /** Where each load that runs in ONNX Runtime says why (ids and the reason, never data). */
  info?: (obj: Record<string, unknown>, msg: string) => void;
  /** Stand-ins for the native engine's compiler and parity probe (tests). */
  native?: NativeHooks;
  /** Which engine runs models (default `auto`: native when it supports the graph exactly). */
  engine?: InferenceEngine;
  /** Metering (issue 8): each successful predict adds its requests, rows and compute share (O(1)). */
  meter?: Pick<Meter, 'prediction'>;
}

export interface Prediction {
  id: string;
  label?: string;
  probabilities?: Record<string, number>;
  value?: number;
}

export interface PredictResult {
  id: string;
  model: { name: string; version: number; mode: string };
  predictions: Prediction[];
  /** Response headers from admission (RateLimit-*). */
  headers: Record<string, string>;
}

/**
 * Observes the phases of one predict request: the route passes its request span's recorder when tracing
 * is on (src/observability/http.ts). Times are epoch ms; attributes are ids and counts, never values.
 */
export type PredictPhases = (
  phase: 'resolve' | 'load' | 'run',
  startMs: number,
  endMs: number,
  attributes?: Record<string, string | number>,
) => void;

/** Epoch milliseconds with sub-millisecond precision (span times). */
const epochMs = (): number => performance.timeOrigin + performance.now();

export interface ModelMetadata {
  name: string;
  version: number;
  task: string;
  classes?: string[];
  inputs: { name: string; type: string }[];
}

/** Training data columns the model left out (target, identifying): accepted in instances and ignored. */
function ignoredColumns(f: FeaturizerState | null): Set<string> {
  return new Set(f ? f.dropped.map((d) => d.name) : []);
}

const round = (x: number): number => (Number.isFinite(x) ? Number(x.toPrecision(7)) : x);

export class InferenceService {
  readonly cache: ModelCache<LoadedModel & { ignored: Set<string> }>;

  constructor(private readonly deps: InferenceDeps) {
    // 404s are kept too, so a flood of unknown names costs no query; a store error is asked again.
    this.resolutions = ttlMemo<Resolved>({
      ttlMs: deps.resolveTtlMs ?? 0,
      clock: deps.clock,
      maxKeys: 100_000,
      keepFailure: (err) => isAppError(err) && err.code === 'not_found',
    });
    this.cache = new ModelCache(deps.cacheBytes, {
      hit: (k) => deps.metrics.cache(tenantOfKey(k), 'hit'),
      miss: (k) => deps.metrics.cache(tenantOfKey(k), 'miss'),
      loaded: (k, ms, ok) => {
        deps.metrics.cache(tenantOfKey(k), ok ? 'load' : 'load_failed');
        if (ok) deps.metrics.loaded(ms / 1000);
        this.syncGauges();
      },
      evicted: (k) => {
        deps.metrics.cache(tenantOfKey(k), 'eviction');
        this.syncGauges();
      },
    });
  }

  private syncGauges(): void {
    this.deps.metrics.cacheBytes.set(this.cache.bytes);
    this.deps.metrics.cacheEntries.set(this.cache.size);
  }

  /** The prediction log (its reader serves monitoring). */
  get predictionLog(): PredictionLog {
    return this.deps.log;
  }

  /** The loaded model `scope`'s tenant gets for `name`, held until the lease is released. */
  async lease(
    scope: TenantScope,
    name: string,
    phases?: PredictPhases,
  ): Promise<{ resolved: Resolved; lease: Lease<LoadedModel & { ignored: Set<string> }> }> {
    const t0 = phases ? epochMs() : 0;
    const resolved = await this.resolve(scope, name);
    const ids = phases && { 'tenantml.model': resolved.model, 'tenantml.model_version': resolved.version };
    phases?.('resolve', t0, epochMs(), ids);
    const key = cacheKeyOf(resolved);
    let loadStart = 0; // set when this request loads the version (a cache miss)
    const lease = await this.cache.acquire(key, () => {
      if (phases) loadStart = epochMs();
      return this.load(scope, resolved, key);
    });
    if (phases && loadStart) phases('load', loadStart, epochMs(), ids);
    return { resolved, lease };
  }

  // Request ids: the time (ms, base 36), a random prefix per process and a counter — unique without a
  // random draw per request; the time lets late feedback find its prediction's log batch without a scan.
  private idPrefix = '';
  private idCounter = 0;
  private nextRequestId(nowMs: number): string {
    if (!this.idPrefix) this.idPrefix = newId('req', this.deps.random, 8).slice(4);
    const t = nowMs.toString(36);
    return `req_${t}-${this.idPrefix}${(this.idCounter++).toString(36).padStart(4, '0')}`;
  }

  private readonly resolutions: TtlMemo<Resolved>;

  /** The ISO text of the last millisecond asked for: requests within one millisecond share it. */
  private iso = { ms: Number.NaN, text: '' };
  private isoOf(ms: number): string {
    if (ms !== this.iso.ms) this.iso = { ms, text: new Date(ms).toISOString() };
    return this.iso.text;
  }

  /**
   * Drops every reused resolution: the platform calls it when this process changes the registry (a
   * promotion, a registered successor, a taint), so such a change reaches the very next request here.
   */
  forgetResolutions(): void {
    this.resolutions.clear();
  }

  /** The registry's answer, reused for resolveTtlMs. */
  private resolve(scope: TenantScope, name: string): Promise<Resolved> {
    const load = () => this.deps.registry.resolve(scope, name);
    if ((this.deps.resolveTtlMs ?? 0) <= 0) return load();
    return this.resolutions.get(`${scope.tenantId}\u0000${name}`, load);
  }

  private async load(
    scope: TenantScope,
    resolved: Resolved,
    key: string,
  ): Promise<LoadedModel & { ignored: Set<string> }> {
    const at = resolved.namespace === SHARED_NAMESPACE ? sharedScope(SYSTEM) : scope;
    const prefix = resolved.record.artifact;
    const get = (name: string): Promise<Buffer> => this.deps.artifacts.get(at, `${prefix}/${name}`);
    try {
      // The three read at once (an imported model has no featurizer: its absent file is not an error).
      const [onnx, modelJsonRaw, featurizerRaw] = await Promise.all([
        get('model.onnx'),
        get('model.json'),
        get('featurizer.json').catch((err: unknown) => err),
      ]);
      const digest = createHash('sha256').update(onnx).digest('hex');
      if (digest !== resolved.record.checksum)
        throw new Error('model.onnx does not match its registered checksum');
      const mj = JSON.parse(modelJsonRaw.toString('utf8')) as {
        task: string;
        classes?: string[];
        inputSchema: { name: string; type: string }[];
        imported?: ImportedIo;
      };
      let featurizer: FeaturizerState | null = null;
      let featurizerBytes = 0;
      if (!mj.imported) {
        if (!(featurizerRaw instanceof Buffer)) throw featurizerRaw;
        const raw = featurizerRaw;
        featurizerBytes = raw.byteLength;
        featurizer = JSON.parse(raw.toString('utf8')) as FeaturizerState;
      }
      const spec: ModelSpec = {
        task: mj.task,
        classes: mj.classes,
        inputSchema: mj.inputSchema,
        featurizer,
        imported: mj.imported ?? null,
      };
      const m = await loadModel(key, onnx, spec, {
        batchWindowMs: this.deps.batchWindowMs,
        featurizerBytes: featurizerBytes + modelJsonRaw.byteLength,
        onRun: () => this.deps.metrics.batchCalls.inc(),
        engine: this.deps.engine,
        native: this.deps.native,
      });
      this.deps.metrics.engineLoaded(m.engine, m.fallbackKind ?? 'none');
      if (m.engine === 'onnxruntime') {
        const ids = { namespace: resolved.namespace, model: resolved.model, version: resolved.version };
        if (m.fallbackKind === 'error')
          this.deps.warn?.(
            ids,
            'inference: the native engine failed to compile the model; ONNX Runtime runs it',
          );
        this.deps.info?.(
          { ...ids, engine: m.engine, reason: m.fallbackKind, detail: m.fallbackReason },
          'inference: the model version runs in ONNX Runtime',
        );
      }
      return Object.assign(m, { ignored: ignoredColumns(featurizer) });
    } catch (err) {
      this.deps.warn?.(
        { namespace: resolved.namespace, model: resolved.model, version: resolved.version, err: String(err) },
        'inference: the model version could not be loaded',
      );
      throw new AppError('internal', 'the model version could not be loaded');
    }
  }

  /** Metadata of the version `name` resolves to (inputs and outputs), for the Open Inference Protocol. */
  async metadata(scope: TenantScope, name: string): Promise<ModelMetadata> {
    const { resolved, lease } = await this.lease(scope, name);
    try {
      const s = lease.value.spec;
      return {
        name: resolved.model,
        version: resolved.version,
        task: s.task,
        classes: s.classes,
        inputs: s.inputSchema.map((f) => ({ name: f.name, type: f.type })),
      };
    } finally {
      lease.release();
    }
  }

  /**
   * `cancel`: tells when the client went away, so a request still waiting for a slot leaves the queue
   * (an `OnGone` hook is called only when the request has to wait).
   */
  async predict(
    scope: TenantScope,
    name: string,
    instances: unknown[],
    opts: { cancel?: AbortSignal | OnGone; phases?: PredictPhases } = {},
  ): Promise<PredictResult> {
    const started = performance.now();
    const tenant = scope.tenantId;
    let modelLabel = '';
    try {
      if (instances.length === 0) {
        throw new AppError('validation_failed', 'instances must hold at least one instance', {
          errors: [{ field: 'instances', message: 'must hold at least one instance' }],
        });
      }
      const max = this.deps.maxInstances;
      if (instances.length > max) {
        throw new AppError('validation_failed', `at most ${max} instances per request`, {
          errors: [
            {
              field: 'instances',
              index: max,
              message: `at most ${max} instances per request (got ${instances.length})`,
            },
          ],
        });
      }
      const ticket = await this.admit(tenant, instances.length, opts.cancel);
      try {
        const { resolved, lease } = await this.lease(scope, name, opts.phases);
        modelLabel = resolved.model;
        try {
          const runStart = opts.phases ? epochMs() : 0;
          const m = lease.value;
          checkInstances(m.spec, instances, m.ignored);
          const X = inputMatrix(m.spec, instances);
          const { outputs: out, computeMs } = await m.batcher.submit(X, instances.length);
          opts.phases?.('run', runStart, epochMs(), { 'tenantml.rows': instances.length });
          const nowMs = this.deps.clock.now().getTime();
          const requestId = this.nextRequestId(nowMs);
          const predictions = format(m.spec, out, instances.length, requestId);
          const ms = performance.now() - started;
          this.record(scope, resolved, requestId, instances, predictions, ms, nowMs);
          this.deps.metrics.request(tenant, modelLabel, 'ok', instances.length, ms / 1000);
          const meter = this.deps.meter;
          if (meter) {
            meter.prediction(tenant, modelLabel, instances.length, computeMs / 1000);
          }
          return {
            id: requestId,
            model: { name: resolved.model, version: resolved.version, mode: resolved.mode },
            predictions,
            headers: { ...ticket?.headers },
          };
        } finally {
          lease.release();
        }
      } finally {
        ticket?.release();
      }
    } catch (err) {
      const client = isAppError(err) && err.status < 500;
      this.deps.metrics.request(
        tenant,
        modelLabel,
        client ? 'client_error' : 'server_error',
        instances.length,
      );
      throw err;
    }
  }

  /**
   * The 429 a request of this tenant gets anyway because its rate buckets are known to have no room for
   * even a one-row request yet, or undefined. Asked before the request body is read, so a flood over
   * budget costs no body parsing, validation or featurizing; the request is counted like any refused one.
   */
  async spent(tenantId: string): Promise<AppError | undefined> {
    // A budget's hard limit (services/metering/budgets.ts) refuses before the body is read, like a 429.
    const b = this.deps.predictionBlock?.(tenantId);
    const blocked = b instanceof Promise ? await b : b; // awaited only when the budget must be read
    if (blocked) {
      this.deps.metrics.request(tenantId, '', 'client_error', 0);
      return blocked;
    }
    const { admission, limitsOf } = this.deps;
    if (!admission || !limitsOf) return undefined;
    let quotas: AdmissionQuotas;
    try {
      ({ quotas } = await limitsOf(tenantId));
    } catch {
      return undefined; // the request itself meets the failure, the usual way
    }
    const refused = admission.spent(tenantId, quotas);
    if (refused) {
      this.deps.metrics.request(tenantId, '', 'client_error', 0);
      await admission.holdRefusal();
    }
    return refused;
  }

  private async admit(tenantId: string, rows: number, cancel?: AbortSignal | OnGone) {
    const b = this.deps.predictionBlock?.(tenantId);
    const blocked = b instanceof Promise ? await b : b;
    if (blocked) throw blocked;
    const { admission, limitsOf } = this.deps;
    if (!admission || !limitsOf) return null;
    const { quotas, weight } = await limitsOf(tenantId);
    try {
      return await admission.admit(tenantId, rows, quotas, { weight, cancel });
    } catch (err) {
      // A 429 waits holdMs before it is sent (Retry-After is a second at least anyway).
      if (isAppError(err) && err.code === 'rate_limited') await admission.holdRefusal();
      throw err;
    }
  }

  private record(
    scope: TenantScope,
    resolved: Resolved,
    requestId: string,
    instances: unknown[],
    predictions: Prediction[],
    ms: number,
    nowMs: number,
  ): void {
    const log = this.deps.log;
    let at: string | undefined;
    const latencyMs = Math.round(ms * 1000) / 1000;
    for (let i = 0; i < predictions.length; i++) {
      if (!log.sample()) continue;
      at ??= this.isoOf(nowMs);
      const p = predictions[i];
      // The prediction without its id (a value, or class probabilities and a label).
      const output =
        p.value !== undefined ? { value: p.value } : { probabilities: p.probabilities, label: p.label };
      log.append(scope, {
        id: p.id,
        requestId,
        at,
        model: resolved.model,
        version: resolved.version,
        mode: resolved.mode,
        namespace: resolved.namespace,
        features: instances[i],
        output,
        latencyMs,
      });
    }
  }

  async close(): Promise<void> {
    await this.deps.admission?.close();
    await this.deps.log.close();
    await this.cache.close();
  }
}

// A resolution is reused for resolveTtlMs: its cache key is made once, not per request.
const cacheKeys = new WeakMap<Resolved, string>();
function cacheKeyOf(resolved: Resolved): string {
  let key = cacheKeys.get(resolved);
  if (key === undefined) {
    key = `${resolved.namespace}/${resolved.model}/${resolved.version}/${resolved.record.checksum}`;
    cacheKeys.set(resolved, key);
  }
  return key;
}

function tenantOfKey(key: string): string {
  return key.slice(0, key.indexOf('/'));
}

/** Splits the run's outputs into one prediction per instance. */
function format(spec: ModelSpec, out: Outputs, n: number, requestId: string): Prediction[] {
  const names = spec.imported?.outputs ?? { label: 'label', probabilities: 'probabilities', value: 'value' };
  const preds: Prediction[] = [];
  const value = names.value ? out[names.value] : undefined;
  const probs = names.probabilities ? out[names.probabilities] : undefined;
  const label = names.label ? out[names.label] : undefined;
  const classes = spec.classes;
  for (let i = 0; i < n; i++) {
    const p: Prediction = { id: `${requestId}.${i}` };
    if (spec.task === 'regression' || (value && !probs && !label)) {
      if (value) {
        const w = value.data.length / n;
        p.value = round(Number(value.data[i * w]));
      }
    } else {
      if (probs) {
        const k = probs.data.length / n;
        const o: Record<string, number> = {};
        for (let j = 0; j < k; j++) o[classes?.[j] ?? String(j)] = round(Number(probs.data[i * k + j]));
        p.probabilities = o;
      }
      if (label) {
        const raw = label.data[i];
        p.label = typeof raw === 'string' ? raw : (classes?.[Number(raw)] ?? String(raw));
      } else if (p.probabilities) {
        let best = '';
        let bp = Number.NEGATIVE_INFINITY;
        for (const [c, v] of Object.entries(p.probabilities)) if (v > bp) [best, bp] = [c, v];
        p.label = best;
      }
    }
    preds.push(p);
  }
  return preds;
}
