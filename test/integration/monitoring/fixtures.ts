// Generated data for the monitoring tests: a binary model over x1 (numeric) and c (categorical) with its
// reference profile, a platform with a ManualClock, and helpers that write prediction-log batches the way
// the inference plane does (through the real PredictionLog) and run monitoring cycles hour by hour.
import { ManualClock } from '../../../src/core/clock.ts';
import type { AlertEvent } from '../../../src/core/monitoring.ts';
import { mintTenantScope, SYSTEM, type TenantScope } from '../../../src/core/scope.ts';
import { buildProfile, type ReferenceProfile } from '../../../src/ml/drift/profile.ts';
import { frameFromColumns } from '../../../src/ml/frame.ts';
import { createRng, type Rng } from '../../../src/ml/rng.ts';
import { dailyLogReader } from '../../../src/services/monitoring/log-keys.ts';
import { type MonitoringDeps, MonitoringService } from '../../../src/services/monitoring/service.ts';
import type { ModelVersion } from '../../../src/store/ports.ts';
import { createTestPlatform, type TestPlatform } from '../../helpers/platform.ts';
import type { StoreKind } from '../../helpers/stores.ts';

export const T0 = '2026-11-02T00:00:00.000Z';
export const HOUR = 3_600_000;

export interface Shift {
  /** Added to x1 (reference: standard normal). */
  x1?: number;
  /** Share of feedback labels flipped against the true rule (a label shift: P(y|x) changes). */
  flip?: number;
}

export type Row = { x1: number; c: string };

function normal(rng: Rng): number {
  const u = 1 - rng.next();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng.next());
}

export function draw(rng: Rng, shift: Shift = {}): Row {
  const u = rng.next();
  return { x1: (shift.x1 ?? 0) + normal(rng), c: u < 0.5 ? 'a' : u < 0.8 ? 'b' : 'c' };
}

const sigmoid = (z: number): number => 1 / (1 + Math.exp(-z));
export function output(r: Row): { label: string; probabilities: Record<string, number> } {
  const p = sigmoid(2 * r.x1 + (r.c === 'c' ? 0.5 : 0));
  return { label: p >= 0.5 ? 'yes' : 'no', probabilities: { no: 1 - p, yes: p } };
}

export function referenceProfile(n: number, seed: number): ReferenceProfile {
  const rng = createRng(seed);
  const rows = Array.from({ length: n }, () => draw(rng));
  const frame = frameFromColumns([
    { kind: 'number', name: 'x1', type: 'numeric', values: Float64Array.from(rows, (r) => r.x1) },
    { kind: 'string', name: 'c', type: 'categorical', values: rows.map((r) => r.c) },
  ]);
  const predictions = new Float64Array(n * 2);
  rows.forEach((r, i) => {
    const p = output(r).probabilities.yes;
    predictions[2 * i] = 1 - p;
    predictions[2 * i + 1] = p;
  });
  return buildProfile({
    frame,
    features: [
      { name: 'x1', type: 'numeric' },
      { name: 'c', type: 'categorical' },
    ],
    rows: Int32Array.from(rows.keys()),
    task: 'binary',
    classes: ['no', 'yes'],
    predictions,
    predRows: n,
    seed,
  });
}

export function trainingCsv(n: number, seed: number): string {
  const rng = createRng(seed);
  const lines = ['x1,c,y'];
  for (let i = 0; i < n; i++) {
    const r = draw(rng);
    lines.push(`${r.x1.toFixed(4)},${r.c},${output(r).label}`);
  }
  return `${lines.join('\n')}\n`;
}

export interface Alert {
  tenantId: string;
  event: AlertEvent;
  model?: string;
  version?: number;
  data: Record<string, unknown>;
}

export interface World {
  tp: TestPlatform;
  clock: ManualClock;
  monitoring: MonitoringService;
  alerts: Alert[];
  errors: unknown[];
  scope(tenantId: string): TenantScope;
  /** A live version of `model` (trained, as if, by a queued job on dataset `sales`), with or without a profile. */
  model(
    tenantId: string,
    model: string,
    opts?: { profile?: ReferenceProfile | null; accuracy?: number },
  ): Promise<ModelVersion>;
  /**
   * Writes `n` predictions made during the hour starting at `hourStart` as one log batch (flushed at
   * half past), and returns their prediction ids with the rows and outputs.
   */
  predict(
    tenantId: string,
    model: string,
    version: number,
    hourStart: number,
    n: number,
    rng: Rng,
    shift?: Shift,
  ): Promise<{ id: string; row: Row; label: string }[]>;
  /** Moves the clock past the end of the hour starting at `hourStart` and runs one cycle. */
  cycleAfter(hourStart: number): ReturnType<MonitoringService['cycle']>;
  cleanup(): Promise<void>;
}

let counter = 0;

export async function createWorld(
  kind: StoreKind,
  settings: {
    minRows?: number;
    driftShare?: number;
    /** Metering's hook: a model judged in a cycle (tests of monitoring runs). */
    onJudged?: MonitoringDeps['onJudged'];
  } = {},
): Promise<World> {
  const clock = new ManualClock(T0);
  const tp = await createTestPlatform(kind, { clock, env: { TENANTML_WORKER_SLOTS: '0' } });
  const alerts: Alert[] = [];
  const errors: unknown[] = [];
  const { services, store } = tp.platform;
  const log = services.inference.predictionLog;
  const monitoring = new MonitoringService({
    store,
    log: dailyLogReader(log, tp.platform.blobs),
    artifacts: services.artifacts,
    training: services.training,
    alerts: {
      async emit(scope, event, body) {
        alerts.push({ tenantId: scope.tenantId, event, ...body });
        return services.webhooks.emit(scope, event, body);
      },
    },
    audit: services.audit,
    clock,
    settings: {
      granularity: 'hour',
      minRows: settings.minRows ?? 50,
      driftShare: settings.driftShare ?? 0.5,
      feedbackHorizonHours: 168,
    },
    seed: 7,
    onError: (err) => errors.push(err),
    onJudged: settings.onJudged,
  });
  const scope = (tenantId: string) => mintTenantScope(tenantId, SYSTEM);

  return {
    tp,
    clock,
    monitoring,
    alerts,
    errors,
    scope,
    async model(tenantId, model, opts = {}) {
      const s = scope(tenantId);
      const job = await services.training.submit(s, model, {
        dataset: 'sales',
        target: 'y',
        algorithm: 'linear',
      });
      const artifact = `models/${model}/${job.id}`;
      const v = await store.models.register(s, {
        model,
        mode: 'tenant',
        task: 'binary',
        algorithm: 'linear',
        params: {},
        metrics: { accuracy: opts.accuracy ?? 0.9, auc: 0.95 },
        datasets: [{ tenantId, name: 'sales', version: 1, rows: 300 }],
        artifact,
        checksum: job.id.padEnd(64, '0').slice(0, 64),
        jobId: job.id,
        base: null,
        createdAt: clock.now().toISOString(),
        createdBy: 'tk_test',
      });
      const profile = opts.profile === undefined ? referenceProfile(5000, 11) : opts.profile;
      if (profile)
        await services.artifacts.put(s, `${artifact}/profile.json`, Buffer.from(JSON.stringify(profile)));
      return v;
    },
    async predict(tenantId, model, version, hourStart, n, rng, shift = {}) {
      const s = scope(tenantId);
      const out: { id: string; row: Row; label: string }[] = [];
      for (let i = 0; i < n; i++) {
        const atMs = hourStart + Math.floor((i / n) * (HOUR / 2));
        const row = draw(rng, shift);
        const o = output(row);
        const requestId = `req_${atMs.toString(36)}-t${(counter++).toString(36)}`;
        const id = `${requestId}.0`;
        log.append(s, {
          id,
          requestId,
          at: new Date(atMs).toISOString(),
          model,
          version,
          mode: 'tenant',
          namespace: tenantId,
          features: row,
          output: o,
          latencyMs: 1,
        });
        out.push({ id, row, label: o.label });
      }
      clock.set(new Date(hourStart + HOUR / 2));
      await log.flush();
      return out;
    },
    async cycleAfter(hourStart) {
      clock.set(new Date(hourStart + HOUR + 60_000));
      return monitoring.cycle();
    },
    cleanup: () => tp.cleanup(),
  };
}
