// Inference metrics on the platform's own prom-client registry (never the global one, so two platforms
// in one process — tests, benchmarks — never share counters). Labels are ids only: tenant, model name,
// outcome; with the tenant label switched off every tenant's series fold into one.
import { Counter, Gauge, Histogram, Registry } from 'prom-client';

type AdmissionStat =
  | 'running'
  | 'queued'
  | 'inFlight'
  | 'admitted'
  | 'rateLimited'
  | 'shed'
  | 'limiterErrors'
  | 'held';

export interface InferenceMetricsOptions {
  tenantLabel: boolean;
}

export class InferenceMetrics {
  readonly registry = new Registry();
  private readonly tenantLabel: boolean;
  private readonly requests: Counter<'tenant' | 'model' | 'outcome'>;
  private readonly rows: Counter<'tenant' | 'model'>;
  private readonly latency: Histogram<'tenant' | 'model'>;
  private readonly cacheEvents: Counter<'tenant' | 'event'>;
  private readonly loadSeconds: Histogram;
  readonly cacheBytes: Gauge;
  readonly cacheEntries: Gauge;
  readonly logDropped: Counter;
  readonly logWritten: Counter;
  readonly batchCalls: Counter;
  private readonly engineLoads: Counter<'engine' | 'reason'>;

  constructor(opts: InferenceMetricsOptions) {
    this.tenantLabel = opts.tenantLabel;
    const registers = [this.registry];
    this.requests = new Counter({
      name: 'tenantml_predict_requests_total',
      help: 'Predict requests, by outcome (ok, client_error, server_error)',
      labelNames: ['tenant', 'model', 'outcome'],
      registers,
    });
    this.rows = new Counter({
      name: 'tenantml_predict_rows_total',
      help: 'Instances predicted',
      labelNames: ['tenant', 'model'],
      registers,
    });
    this.latency = new Histogram({
      name: 'tenantml_predict_latency_seconds',
      help: 'Predict latency inside the server, from resolution to answer',
      labelNames: ['tenant', 'model'],
      buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers,
    });
    this.cacheEvents = new Counter({
      name: 'tenantml_model_cache_events_total',
      help: 'Model cache hits, misses, loads, failed loads and evictions',
      labelNames: ['tenant', 'event'],
      registers,
    });
    this.loadSeconds = new Histogram({
      name: 'tenantml_model_load_seconds',
      help: 'Time to read, decrypt, verify and open one model version',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5],
      registers,
    });
    this.cacheBytes = new Gauge({
      name: 'tenantml_model_cache_bytes',
      help: 'Estimated bytes held by the model cache',
      registers,
    });
    this.cacheEntries = new Gauge({
      name: 'tenantml_model_cache_entries',
      help: 'Model versions loaded',
      registers,
    });
    this.logDropped = new Counter({
      name: 'tenantml_prediction_log_dropped_total',
      help: 'Prediction-log entries dropped because the buffer was full or a write failed',
      registers,
    });
    this.logWritten = new Counter({
      name: 'tenantml_prediction_log_written_total',
      help: 'Prediction-log entries written',
      registers,
    });
    this.batchCalls = new Counter({
      name: 'tenantml_onnx_runs_total',
      help: 'Model runs, native or ONNX Runtime (several requests share one when micro-batching)',
      registers,
    });
    this.engineLoads = new Counter({
      name: 'tenantml_model_engine_loads_total',
      help: 'Model versions loaded, by the engine that runs them (native, onnxruntime) and why not native (none, unsupported_op, parity, error, forced)',
      labelNames: ['engine', 'reason'],
      registers,
    });
  }

  /**
   * A model version was loaded onto `engine`; `reason` is why it is not native (a bounded kind: the
   * loaded model's fallbackKind), `none` when it is.
   */
  engineLoaded(
    engine: 'native' | 'onnxruntime',
    reason: 'none' | 'unsupported_op' | 'parity' | 'error' | 'forced' = 'none',
  ): void {
    this.engineLoads.inc({ engine, reason });
  }

  /** Admission state (no tenant label): read at scrape time. */
  watchAdmission(stats: () => Record<AdmissionStat, number>): void {
    const registers = [this.registry];
    const gauge = (name: string, help: string, key: AdmissionStat) =>
      new Gauge({
        name,
        help,
        registers,
        collect() {
          this.set(stats()[key]);
        },
      });
    gauge('tenantml_admission_running', 'Predict requests running now', 'running');
    gauge('tenantml_admission_queued', 'Predict requests waiting for a slot', 'queued');
    gauge('tenantml_admission_in_flight', 'Predict requests admitted and not yet answered', 'inFlight');
    gauge('tenantml_admission_admitted_total', 'Predict requests admitted since start', 'admitted');
    gauge(
      'tenantml_admission_rate_limited_total',
      'Predict requests refused with 429 since start',
      'rateLimited',
    );
    gauge('tenantml_admission_shed_total', 'Predict requests shed with 503 since start', 'shed');
    gauge('tenantml_admission_held', 'Predict refusals (429) being held before they are sent', 'held');
    gauge(
      'tenantml_admission_limiter_errors_total',
      'Rate-limit store failures answered from memory',
      'limiterErrors',
    );
  }

  private tenant(t: string): string {
    return this.tenantLabel ? t : '';
  }

  request(
    tenant: string,
    model: string,
    outcome: 'ok' | 'client_error' | 'server_error',
    rows: number,
    seconds?: number,
  ): void {
    const t = this.tenant(tenant);
    this.requests.inc({ tenant: t, model, outcome });
    if (outcome === 'ok') {
      this.rows.inc({ tenant: t, model }, rows);
      if (seconds !== undefined) this.latency.observe({ tenant: t, model }, seconds);
    }
  }

  cache(tenant: string, event: 'hit' | 'miss' | 'load' | 'load_failed' | 'eviction'): void {
    this.cacheEvents.inc({ tenant: this.tenant(tenant), event });
  }

  loaded(seconds: number): void {
    this.loadSeconds.observe(seconds);
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
