// The monitoring loop: for every watched tenant model, folds the prediction-log batches written since its
// cursor and the feedback received since the last cycle into per-version windows, commits windows and
// cursor together, assesses the windows it touched, emits alerts and fires retraining policies; and, when
// a challenger job ends, decides whether it replaces its champion.

import type { Clock } from '../../core/clock.ts';
import { isAppError } from '../../core/errors.ts';
import type { Job, TrainSpec } from '../../core/jobs.ts';
import type { AlertEvent, Granularity, PolicyTrigger } from '../../core/monitoring.ts';
import { windowStart } from '../../core/monitoring.ts';
import { mintTenantScope, SYSTEM, type TenantScope } from '../../core/scope.ts';
import {
  emptyAggregate,
  foldFeedback,
  foldPrediction,
  type WindowAggregate,
} from '../../ml/drift/aggregate.ts';
import { assessWindow, noReferenceReport, type WindowReport } from '../../ml/drift/assess.ts';
import { PROFILE_FORMAT, type ReferenceProfile } from '../../ml/drift/profile.ts';
import { createRng } from '../../ml/rng.ts';
import { fnv1a32 } from '../../ml/text.ts';
import type { FeedbackItem, ModelVersion, MonitorWindow, PolicyRecord, Store } from '../../store/ports.ts';
import type { TenantArtifacts } from '../artifacts.ts';
import type { AuditService } from '../audit.ts';
import type { PredictionRecord } from '../inference/prediction-log.ts';
import type { TrainingService, TrainRequest } from '../training.ts';
import { batchDay, batchStamp, dayOf, type PredictionLogReader, predictionTime } from './log-keys.ts';
import {
  DEFAULT_ALERT_MARGIN,
  DEFAULT_PROMOTE_MARGIN,
  decideChallenger,
  firingTrigger,
  isPerformanceDrop,
  primaryMetric,
} from './policy.ts';

export interface MonitoringSettings {
  granularity: Granularity;
  minRows: number;
  driftShare: number;
  /** Feedback may name a prediction made up to this many hours before. */
  feedbackHorizonHours: number;
}

/** Where alerts go (WebhookService.emit); it never throws. */
export interface AlertSink {
  emit(
    scope: TenantScope,
    event: AlertEvent,
    body: { model?: string; version?: number; data: Record<string, unknown> },
  ): Promise<number>;
}

export interface MonitoringDeps {
  store: Pick<Store, 'monitor' | 'policies' | 'models' | 'datasets' | 'jobs'>;
  log: PredictionLogReader;
  artifacts: Pick<TenantArtifacts, 'get'>;
  training: Pick<TrainingService, 'submit'>;
  alerts: AlertSink;
  audit: Pick<AuditService, 'record'>;
  clock: Clock;
  settings: MonitoringSettings;
  /** Seeds the reservoir sampling (reproducible windows in tests). */
  seed?: number;
  /** Reference profiles kept across cycles (by tenant and model checksum). */
  profileCacheSize?: number;
  /** Models processed at once (their I/O overlaps). */
  concurrency?: number;
  /** How old a batch's flush stamp must be before it is folded (default SETTLE_MS). */
  settleMs?: number;
  /** Most log batches folded per model in one cycle; the rest wait for the next. */
  maxBatchesPerModel?: number;
  onError?(err: unknown, context: { tenantId?: string; model?: string; jobId?: string }): void;
  /**
   * Metering (issue 8): called once per model judged in a cycle (windows assessed and committed) with the
   * newest window judged; the meter records one monitoring run per model and window.
   */
  onJudged?(tenantId: string, model: string, granularity: Granularity, windowStart: string): void;
}

export interface CycleStats {
  models: number;
  batches: number;
  records: number;
  /** Windows written (new or updated). */
  windows: number;
  alerts: number;
  jobs: number;
  /** Feedback folded into a window, and given up (its prediction is not in the log). */
  feedbackMatched: number;
  feedbackUnmatched: number;
  /** Models whose cycle failed (logged through onError; retried next cycle from the same cursor). */
  errors: number;
  ms: number;
}

/** What a window's report holds beyond the statistics: the reference it was judged against. */
export type StoredReport = WindowReport & {
  /** Feedback worse than the version's validation metric beyond the margin. */
  performanceDrop: boolean;
  reference: { metric: 'accuracy' | 'rmse'; value: number } | null;
};

/** A batch's flush stamp must be this old before it is folded: a slower writer's batch never lands behind the cursor. */
export const SETTLE_MS = 30_000;
/** Feedback whose prediction is not found this long after it was made is given up. */
const GIVE_UP_MS = 10 * 60_000;
const FEEDBACK_PER_CYCLE = 5_000;
/** Batches read to find late feedback's predictions, per model and cycle. */
const LOOKUP_BATCHES = 32;
const PAGE = 500;

interface VersionInfo {
  record: ModelVersion | null;
  profile: ReferenceProfile | null;
}

interface Work {
  window: MonitorWindow;
  agg: WindowAggregate | null;
  profile: ReferenceProfile | null;
  info: VersionInfo;
  before: StoredReport | null;
  dirty: boolean;
}

/** Which of `count` shards a tenant model belongs to (FNV-1a of tenant and name): stable across processes. */
export function shardOf(tenantId: string, model: string, count: number): number {
  return fnv1a32(`${tenantId}/${model}`) % count;
}

export class MonitoringService {
  private readonly profiles = new Map<string, ReferenceProfile | null>();
  private readonly random: () => number;

  constructor(private readonly deps: MonitoringDeps) {
    const rng = createRng(deps.seed ?? 0x6d6f6e);
    this.random = () => rng.next();
  }

  /**
   * One pass over every watched model (or, with `shard`, over the models whose hash falls in it: several
   * worker processes may split the models between them, each cycling its own shard). Never throws for
   * one model's failure (it is counted and logged).
   */
  async cycle(opts: { shard?: { index: number; count: number } } = {}): Promise<CycleStats> {
    const shard = opts.shard && opts.shard.count > 1 ? opts.shard : null;
    const t0 = performance.now();
    const stats: CycleStats = {
      models: 0,
      batches: 0,
      records: 0,
      windows: 0,
      alerts: 0,
      jobs: 0,
      feedbackMatched: 0,
      feedbackUnmatched: 0,
      errors: 0,
      ms: 0,
    };
    const policies = new Map<string, PolicyRecord>();
    for (const p of await this.deps.store.policies.listAll())
      policies.set(`${p.tenantId}\u0000${p.model}`, p);
    const concurrency = Math.max(1, this.deps.concurrency ?? 4);
    let after: { tenantId: string; model: string } | null = null;
    for (;;) {
      const all = await this.deps.store.monitor.watched(after, PAGE);
      if (all.length === 0) break;
      const page = shard ? all.filter((m) => shardOf(m.tenantId, m.model, shard.count) === shard.index) : all;
      let next = 0;
      const worker = async (): Promise<void> => {
        while (next < page.length) {
          const m = page[next++];
          stats.models++;
          try {
            await this.cycleModel(
              m.tenantId,
              m.model,
              m.liveVersion,
              policies.get(`${m.tenantId}\u0000${m.model}`) ?? null,
              stats,
            );
          } catch (err) {
            stats.errors++;
            this.deps.onError?.(err, { tenantId: m.tenantId, model: m.model });
          }
        }
      };
      await Promise.all(Array.from({ length: Math.min(concurrency, page.length) }, worker));
      const last = all[all.length - 1];
      after = { tenantId: last.tenantId, model: last.model };
      if (all.length < PAGE) break;
    }
    stats.ms = Math.round(performance.now() - t0);
    return stats;
  }

  private async cycleModel(
    tenantId: string,
    model: string,
    liveVersion: number,
    policy: PolicyRecord | null,
    stats: CycleStats,
  ): Promise<void> {
    const { store, log, clock, settings } = this.deps;
    const scope = mintTenantScope(tenantId, SYSTEM);
    const now = clock.now();
    const nowMs = now.getTime();
    const cursor = await store.monitor.cursor(scope, model);
    const lastKey = cursor?.lastKey ?? null;
    const fromDay = lastKey ? batchDay(lastKey) : null;
    const today = dayOf(nowMs);
    const listed = (await log.list(scope, model, fromDay ? { from: fromDay, to: today } : {})).sort();
    const fresh: string[] = [];
    for (const k of listed) {
      if (lastKey && k <= lastKey) continue;
      const stamp = batchStamp(k);
      if (Number.isNaN(stamp)) continue; // not a batch of the prediction log
      if (stamp > nowMs - (this.deps.settleMs ?? SETTLE_MS)) break; // this one and every later one wait
      fresh.push(k);
      if (fresh.length >= (this.deps.maxBatchesPerModel ?? 2_000)) break;
    }

    const versions = new Map<number, Promise<VersionInfo>>();
    const info = (v: number): Promise<VersionInfo> => {
      let p = versions.get(v);
      if (!p) {
        p = this.versionInfo(scope, model, v);
        versions.set(v, p);
      }
      return p;
    };
    const work = new Map<string, Work>();
    const windowOf = async (version: number, at: string): Promise<Work> => {
      const start = windowStart(at, settings.granularity);
      const key = `${version}\u0000${start}`;
      let w = work.get(key);
      if (w) return w;
      const vi = await info(version);
      const stored = await store.monitor.window(scope, model, version, settings.granularity, start);
      w = work.get(key); // another await may have made it meanwhile
      if (w) return w;
      const agg = vi.profile
        ? ((stored?.aggregate as WindowAggregate | null) ?? emptyAggregate(vi.profile))
        : null;
      w = {
        window: stored ?? {
          tenantId,
          model,
          version,
          granularity: settings.granularity,
          start,
          rows: 0,
          aggregate: null,
          report: null,
          updatedAt: now.toISOString(),
        },
        agg,
        profile: vi.profile,
        info: vi,
        before: (stored?.report as StoredReport | null) ?? null,
        dirty: false,
      };
      work.set(key, w);
      return w;
    };

    // Feedback first, so that the batches read below also serve to find its predictions.
    const pending = await store.monitor.pendingFeedback(scope, model, FEEDBACK_PER_CYCLE);
    const wanted = new Map<string, FeedbackItem>();
    for (const f of pending) wanted.set(f.predictionId, f);
    const found = new Map<string, PredictionRecord>();

    // The hot path (once per logged prediction): a window already open is found without an await.
    const starts = new Map<string, string>();
    const foldInto = (w: Work, rec: PredictionRecord): void => {
      w.window.rows++;
      if (w.agg && w.profile)
        foldPrediction(
          w.agg,
          w.profile,
          (rec.features ?? {}) as Record<string, unknown>,
          rec.output,
          this.random,
        );
      w.dirty = true;
    };
    for (const key of fresh) {
      const recs = await log.read(scope, key);
      stats.batches++;
      // Records of a batch are in time order: the previous record's window is nearly always this one's.
      let lastHour = '';
      let lastVersion = -1;
      let last: Work | null = null;
      for (const rec of recs) {
        if (rec.model !== model || rec.namespace !== tenantId) continue;
        if (typeof rec.version !== 'number' || typeof rec.at !== 'string') continue;
        stats.records++;
        const hourKey = rec.at.slice(0, 13);
        if (last === null || hourKey !== lastHour || rec.version !== lastVersion) {
          let start = starts.get(hourKey);
          if (start === undefined) {
            start = windowStart(rec.at, settings.granularity);
            starts.set(hourKey, start);
          }
          // No await unless the window is new: a promise per record costs as much as the fold itself.
          last = work.get(`${rec.version}\u0000${start}`) ?? (await windowOf(rec.version, rec.at));
          lastHour = hourKey;
          lastVersion = rec.version;
        }
        foldInto(last, rec);
        if (wanted.size > 0 && wanted.has(rec.id)) found.set(rec.id, rec);
      }
    }

    // Late feedback: its id carries the prediction's time, so only the first batches flushed after it
    // are read (the log writes in time order), never the whole log.
    const horizonMs = settings.feedbackHorizonHours * 3_600_000;
    const unmatched: string[] = [];
    const lookups = new Map<string, Promise<Map<string, PredictionRecord>>>();
    let lookupBudget = LOOKUP_BATCHES;
    const dayKeys = new Map<string, Promise<string[]>>();
    for (const f of pending) {
      if (found.has(f.predictionId)) continue;
      const t = predictionTime(f.predictionId);
      const tooOld = t === null ? nowMs - Date.parse(f.receivedAt) > GIVE_UP_MS : nowMs - t > horizonMs;
      if (tooOld) {
        unmatched.push(f.predictionId);
        continue;
      }
      if (t === null) continue;
      const day = dayOf(t);
      let keys = dayKeys.get(day);
      if (!keys) {
        keys = log.list(scope, model, { from: day, to: day }).then((ks) => ks.sort());
        dayKeys.set(day, keys);
      }
      const candidates = (await keys).filter((k) => batchStamp(k) >= t - 1000).slice(0, 3);
      let rec: PredictionRecord | undefined;
      for (const k of candidates) {
        let batch = lookups.get(k);
        if (!batch) {
          if (lookupBudget <= 0) break;
          lookupBudget--;
          batch = log.read(scope, k).then((rs) => new Map(rs.map((r) => [r.id, r])));
          lookups.set(k, batch);
        }
        rec = (await batch).get(f.predictionId);
        if (rec) break;
      }
      if (rec && rec.namespace === tenantId) found.set(f.predictionId, rec);
      else if (nowMs - t > GIVE_UP_MS) unmatched.push(f.predictionId);
    }
    lookups.clear();

    const matched: string[] = [];
    for (const f of pending) {
      const rec = found.get(f.predictionId);
      if (!rec) continue;
      const w = await windowOf(rec.version, rec.at);
      if (w.agg && w.profile) foldFeedback(w.agg, w.profile, rec.output, f.label);
      w.dirty = true;
      matched.push(f.predictionId);
    }

    const touched = [...work.values()].filter((w) => w.dirty);
    for (const w of touched) this.assess(w, policy);
    let nextKey = fresh.length > 0 ? fresh[fresh.length - 1] : lastKey;
    // An idle model's cursor moves to the end of a day that is long over (no batch can still land in
    // it), so that the days listed each cycle stay a few, however long the model was idle.
    const closedDay = dayOf(nowMs - 2 * 86_400_000);
    if (nextKey && (batchDay(nextKey) ?? closedDay) < closedDay)
      nextKey = `predictions/${model}/${closedDay}/~`;
    if (touched.length > 0 || nextKey !== lastKey) {
      const out = touched.map((w) => ({ ...w.window, aggregate: w.agg, updatedAt: now.toISOString() }));
      try {
        await store.monitor.commit(
          scope,
          model,
          out,
          { model, lastKey: nextKey, updatedAt: now.toISOString() },
          lastKey,
        );
      } catch (err) {
        // Another process folded this model meanwhile (its cursor moved): its result stands, ours goes.
        if (isAppError(err) && err.code === 'conflict') return;
        throw err;
      }
      stats.windows += out.length;
      if (touched.length > 0 && this.deps.onJudged) {
        const newest = touched.map((w) => w.window.start).sort()[touched.length - 1];
        this.deps.onJudged(tenantId, model, settings.granularity, newest);
      }
    }
    // Settled after the commit: a crash in between folds that feedback again next cycle (counted twice
    // in one window) rather than losing it.
    if (matched.length > 0) await store.monitor.settleFeedback(scope, model, matched, 'matched');
    if (unmatched.length > 0) await store.monitor.settleFeedback(scope, model, unmatched, 'unmatched');
    stats.feedbackMatched += matched.length;
    stats.feedbackUnmatched += unmatched.length;

    const driftNow = await this.alertWindows(scope, model, touched, stats, liveVersion);
    await this.evaluatePolicy(scope, model, liveVersion, policy, driftNow, stats);
  }

  private async versionInfo(scope: TenantScope, model: string, version: number): Promise<VersionInfo> {
    const record = await this.deps.store.models.version(scope, model, version);
    if (!record) return { record: null, profile: null };
    const key = `${scope.tenantId}\u0000${record.checksum}`;
    if (this.profiles.has(key)) {
      const p = this.profiles.get(key) ?? null;
      this.profiles.delete(key); // re-inserted: the Map's order is the LRU order
      this.profiles.set(key, p);
      return { record, profile: p };
    }
    let profile: ReferenceProfile | null = null;
    try {
      const raw = await this.deps.artifacts.get(scope, `${record.artifact}/profile.json`);
      const parsed = JSON.parse(raw.toString('utf8')) as ReferenceProfile;
      profile = parsed.format === PROFILE_FORMAT ? parsed : null;
    } catch (err) {
      // Imported models and versions trained before profiles existed have none: 'no_reference'.
      if (
        (err as NodeJS.ErrnoException)?.code !== 'ENOENT' &&
        (err as { code?: string })?.code !== 'not_found'
      )
        this.deps.onError?.(err, { tenantId: scope.tenantId, model });
    }
    this.profiles.set(key, profile);
    const cap = this.deps.profileCacheSize ?? 256;
    while (this.profiles.size > cap) this.profiles.delete(this.profiles.keys().next().value as string);
    return { record, profile };
  }

  private assess(w: Work, policy: PolicyRecord | null): void {
    const { minRows, driftShare } = this.deps.settings;
    const base =
      w.agg && w.profile
        ? assessWindow(w.profile, w.agg, { minRows, driftShare })
        : noReferenceReport(w.window.rows);
    const record = w.info.record;
    let reference: StoredReport['reference'] = null;
    let performanceDrop = false;
    if (record && base.performance) {
      const { name } = primaryMetric(record.task);
      const value = record.metrics[name];
      if (typeof value === 'number' && Number.isFinite(value)) {
        reference = { metric: name, value };
        const margin = policy?.policy.onPerformanceDrop ?? DEFAULT_ALERT_MARGIN;
        performanceDrop =
          base.performance.n >= minRows &&
          base.performance.metric === name &&
          isPerformanceDrop(name, base.performance.value, value, margin);
      }
    }
    w.window.rows = w.agg ? w.agg.rows : w.window.rows;
    w.window.report = { ...base, performanceDrop, reference } satisfies StoredReport;
  }

  /**
   * Drift and performance alerts when they start: the window was not already in that state, nor was the
   * window before it. Returns what the policy may act on (live-version windows only).
   */
  private async alertWindows(
    scope: TenantScope,
    model: string,
    touched: Work[],
    stats: CycleStats,
    liveVersion: number,
  ): Promise<{ drift: boolean; performanceDrop: boolean }> {
    const out = { drift: false, performanceDrop: false };
    const g = this.deps.settings.granularity;
    for (const w of touched) {
      const r = w.window.report as StoredReport;
      // Read at most once per window, and only when an alert might start (drift and a drop may both ask).
      let prev: Promise<StoredReport | null> | undefined;
      const prevState = (): Promise<StoredReport | null> => {
        if (prev) return prev;
        const d = new Date(w.window.start);
        if (g === 'day') d.setUTCDate(d.getUTCDate() - 1);
        else d.setUTCHours(d.getUTCHours() - 1);
        prev = this.deps.store.monitor
          .window(scope, model, w.window.version, g, d.toISOString())
          .then((p) => (p?.report as StoredReport | null) ?? null);
        return prev;
      };
      if (r.datasetDrift) {
        if (w.window.version === liveVersion) out.drift = true;
        if (!w.before?.datasetDrift && !(await prevState())?.datasetDrift) {
          await this.emit(
            scope,
            'drift',
            model,
            w.window.version,
            {
              window: w.window.start,
              granularity: g,
              rows: r.rows,
              driftedShare: r.driftedShare,
              features: r.features
                .filter((f) => f.drifted)
                .map((f) => ({
                  name: f.name,
                  method: f.method,
                  statistic: f.statistic,
                  pValue: f.pValue ?? null,
                })),
              prediction: r.prediction?.drifted ?? false,
            },
            stats,
          );
        }
      }
      if (r.performanceDrop) {
        if (w.window.version === liveVersion) out.performanceDrop = true;
        if (!w.before?.performanceDrop && !(await prevState())?.performanceDrop) {
          await this.emit(
            scope,
            'performance_drop',
            model,
            w.window.version,
            {
              window: w.window.start,
              granularity: g,
              metric: r.performance?.metric,
              value: r.performance?.value,
              feedback: r.performance?.n,
              reference: r.reference,
            },
            stats,
          );
        }
      }
    }
    return out;
  }

  private async emit(
    scope: TenantScope,
    event: AlertEvent,
    model: string | undefined,
    version: number | undefined,
    data: Record<string, unknown>,
    stats?: CycleStats,
  ): Promise<void> {
    await this.deps.alerts.emit(scope, event, {
      ...(model !== undefined ? { model } : {}),
      ...(version !== undefined ? { version } : {}),
      data,
    });
    if (stats) stats.alerts++;
  }

  private async evaluatePolicy(
    scope: TenantScope,
    model: string,
    liveVersion: number,
    policy: PolicyRecord | null,
    /** Drift or a performance drop in a window of the live version, this cycle. */
    seen: { drift: boolean; performanceDrop: boolean },
    stats: CycleStats,
  ): Promise<void> {
    if (!policy) return;
    const { store, clock } = this.deps;
    const now = clock.now();
    let newRows: number | null = null;
    let live: ModelVersion | null = null;
    if (policy.policy.onNewRows !== undefined) {
      live = await store.models.version(scope, model, liveVersion);
      const trained = live?.datasets[0];
      const ds = trained ? await store.datasets.get(scope, trained.name) : null;
      if (trained && ds && ds.latestVersion > trained.version) {
        const latest = await store.datasets.version(scope, trained.name, ds.latestVersion);
        if (latest) newRows = latest.rows - trained.rows;
      } else if (trained && ds) newRows = 0;
    }
    const trigger = firingTrigger({
      policy: policy.policy,
      lastFiredAt: policy.lastFiredAt,
      updatedAt: policy.updatedAt,
      now,
      drift: seen.drift,
      performanceDrop: seen.performanceDrop,
      newRows,
    });
    if (!trigger) return;
    live ??= await store.models.version(scope, model, liveVersion);
    if (await this.fire(scope, model, live, trigger)) {
      await store.policies.fired(scope, model, trigger, now.toISOString());
      policy.lastFiredAt = now.toISOString();
      policy.lastTrigger = trigger;
      stats.jobs++;
    }
  }

  /** Queues the challenger: the live version's spec again, on the dataset's latest version. */
  private async fire(
    scope: TenantScope,
    model: string,
    live: ModelVersion | null,
    trigger: PolicyTrigger,
  ): Promise<boolean> {
    if (!live?.jobId) return false; // an imported version has no training spec to repeat
    const job = await this.deps.store.jobs.get(scope, live.jobId);
    if (!job) return false;
    const s = job.spec;
    const request: TrainRequest = {
      dataset: s.dataset,
      target: s.target,
      ...(s.task ? { task: s.task } : {}),
      algorithm: s.algorithm,
      params: s.params,
      validFraction: s.validFraction,
      ...(s.mode === 'tuned' && s.base
        ? { mode: 'tuned' as const, base: `${s.base.model}@${s.base.version}` }
        : {}),
    };
    try {
      await this.deps.training.submit(scope, model, request, {
        champion: { model, version: live.version },
        reason: `policy:${trigger}` as TrainSpec['reason'],
      });
      return true;
    } catch (err) {
      // A full queue or a dataset gone: tried again next cycle (the policy has not fired).
      this.deps.onError?.(err, { tenantId: scope.tenantId, model });
      return false;
    }
  }

  /**
   * Called by the worker when a job ends. A failed job alerts; a challenger that succeeded is compared
   * with its champion on the champion's metrics measured on the challenger's own validation rows, and
   * promoted only when better by the policy's margin; the decision and its reasons go to the audit log.
   */
  async onJobFinished(job: Job): Promise<void> {
    const scope = mintTenantScope(job.tenantId, SYSTEM);
    const model = job.spec.model;
    if (job.state === 'failed' || job.state === 'timed_out') {
      await this.emit(scope, 'job_failed', model, undefined, {
        jobId: job.id,
        state: job.state,
        error: job.error,
        reason: job.spec.reason ?? null,
      });
      return;
    }
    const champion = job.spec.champion;
    if (job.state !== 'succeeded' || !champion || !job.result) return;
    const { store, clock } = this.deps;
    const [challenger, summary, policy] = await Promise.all([
      store.models.version(scope, model, job.result.version),
      store.models.get(scope, model),
      store.policies.get(scope, model),
    ]);
    if (!challenger) return;
    const d = decideChallenger({
      task: challenger.task,
      challengerMetrics: challenger.metrics,
      championMetrics: job.result.championMetrics,
      margin: policy?.policy.promoteMargin ?? DEFAULT_PROMOTE_MARGIN,
      championStillLive: summary?.liveVersion === champion.version,
    });
    if (challenger.status === 'tainted') {
      d.promote = false;
      d.reasons.push('the challenger is tainted');
    }
    let outcome: 'promoted' | 'rejected' = d.promote ? 'promoted' : 'rejected';
    if (d.promote) {
      try {
        await store.models.promote(scope, model, challenger.version, SYSTEM.keyId, clock.now().toISOString());
      } catch (err) {
        outcome = 'rejected';
        d.reasons.push(`promotion failed: ${(err as Error).message}`);
      }
    }
    await this.deps.audit.record({
      actor: SYSTEM,
      tenantId: job.tenantId,
      action: 'model.challenger',
      target: `${model}@${challenger.version} vs @${champion.version}: ${outcome}; ${d.reasons.join('; ')}`,
      outcome: 'ok',
    });
    await this.emit(
      scope,
      outcome === 'promoted' ? 'promotion' : 'challenger_rejected',
      model,
      challenger.version,
      {
        jobId: job.id,
        champion: champion.version,
        challenger: challenger.version,
        metric: d.metric,
        challengerValue: d.challenger,
        championValue: d.champion,
        margin: d.margin,
        reasons: d.reasons,
        reason: job.spec.reason ?? null,
      },
    );
  }
}
