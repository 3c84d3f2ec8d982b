// The meter: where usage enters (docs/metering.md). High-rate usage (predictions) is summed in memory per
// tenant, hour, kind and subject — one map lookup and one addition per call, nothing else on the request
// path — and written to the store as UsageEvents every `flushMs` and on close. Usage that already has its
// own idempotent id (training jobs, storage samples, monitoring runs) is queued as is with `record`.
// A write that fails keeps its batch, ids included, and is retried: a write that landed but reported an
// error is then skipped by id instead of counted twice.
import type { Clock, Random } from '../../core/clock.ts';
import { newId } from '../../core/ids.ts';
import { USAGE_KINDS, type UsageEvent, type UsageKind, usageEventProblem } from '../../core/metering.ts';
import type { UsageRepo } from '../../store/ports.ts';

export interface Meter {
  /** Adds usage to the in-memory sums (O(1)); written at the next flush. */
  add(tenantId: string, kind: UsageKind, quantity: number, subject?: string | null): void;
  /**
   * One answered predict request (the predict path's one call): a request, its rows and its share of
   * compute time, for `model`. The same as three add() calls, at a third of their cost.
   */
  prediction(tenantId: string, model: string, rows: number, cpuSeconds: number): void;
  /**
   * Queues events that carry their own ids (a replay of the same id counts once); written at the next
   * flush. An invalid event (see usageEventProblem: a quantity that is not finite and > 0, a bad instant,
   * kind or origin) is dropped and logged.
   */
  record(events: UsageEvent[]): void;
  /** Writes what is summed and queued; resolves with the events newly stored. Never rejects. */
  flush(): Promise<number>;
  /** Stops the timer and writes what is left. */
  close(): Promise<void>;
  /** Events waiting to be written (sums not yet turned into events excluded). */
  readonly pending: number;
}

export interface MeterOptions {
  repo: Pick<UsageRepo, 'record'>;
  clock: Clock;
  random: Random;
  /** How often the sums and the queue are written, ms (0: only on flush() and close()). */
  flushMs: number;
  /**
   * Called for each event the store took as new, after its commit (e.g. the Prometheus usage counter): a
   * replayed event, or one another process already stored (storage samples, a job's usage), is not
   * counted again. Predictions reach it once per flush as their sums, so the predict path pays nothing.
   */
  onAdd?: (tenantId: string, kind: UsageKind, quantity: number) => void;
  /** A failed write (ids only; the batch is kept and retried). */
  warn?: (obj: Record<string, unknown>, msg: string) => void;
  /** Most events kept for retry while the store fails; beyond it the oldest are dropped (and logged). */
  maxPending?: number;
}

const HOUR_MS = 3_600_000;
const KIND_INDEX: ReadonlyMap<string, number> = new Map(USAGE_KINDS.map((k, i) => [k, i]));
const PREDICT_REQUESTS = USAGE_KINDS.indexOf('predict_requests');
const PREDICTED_ROWS = USAGE_KINDS.indexOf('predicted_rows');
const INFERENCE_CPU = USAGE_KINDS.indexOf('inference_cpu_seconds');
/** The subject of usage added without one (a map key cannot be null). */
const NO_SUBJECT = '';

/** One hour's sums: tenant → subject → a quantity per kind (indexed like USAGE_KINDS). */
type HourSums = Map<string, Map<string, Float64Array>>;

export class BufferedMeter implements Meter {
  private sums = new Map<number, HourSums>();
  /** The hour of the last add and its sums: the common case needs no lookup of the hour. */
  private curHour = -1;
  private curSums: HourSums | null = null;
  private queue: UsageEvent[] = [];
  private readonly prefix: string;
  private counter = 0;
  private inFlight: Promise<number> | null = null;
  private timer: NodeJS.Timeout | null = null;
  private closed = false;

  constructor(private readonly opts: MeterOptions) {
    // A random prefix per process and a counter: unique across processes without a draw per event.
    this.prefix = newId('u', opts.random, 10);
    if (opts.flushMs > 0) {
      this.timer = setInterval(() => void this.flush(), opts.flushMs);
      this.timer.unref();
    }
  }

  get pending(): number {
    return this.queue.length;
  }

  add(tenantId: string, kind: UsageKind, quantity: number, subject: string | null = null): void {
    if (!(quantity > 0) || !Number.isFinite(quantity)) return;
    const k = KIND_INDEX.get(kind);
    if (k === undefined) return;
    this.sumsOf(tenantId, subject ?? NO_SUBJECT)[k] += quantity;
  }

  prediction(tenantId: string, model: string, rows: number, cpuSeconds: number): void {
    const q = this.sumsOf(tenantId, model);
    q[PREDICT_REQUESTS] += 1;
    if (rows > 0 && Number.isFinite(rows)) q[PREDICTED_ROWS] += rows;
    if (cpuSeconds > 0 && Number.isFinite(cpuSeconds)) q[INFERENCE_CPU] += cpuSeconds;
  }

  /** The running sums of this hour for a tenant and subject (created on first use). */
  private sumsOf(tenantId: string, subject: string): Float64Array {
    const hour = Math.floor(this.opts.clock.now().getTime() / HOUR_MS);
    let bucket = this.curSums;
    if (hour !== this.curHour || bucket === null) {
      bucket = this.sums.get(hour) ?? null;
      if (bucket === null) {
        bucket = new Map();
        this.sums.set(hour, bucket);
      }
      this.curHour = hour;
      this.curSums = bucket;
    }
    let bySubject = bucket.get(tenantId);
    if (bySubject === undefined) {
      bySubject = new Map();
      bucket.set(tenantId, bySubject);
    }
    let q = bySubject.get(subject);
    if (q === undefined) {
      q = new Float64Array(USAGE_KINDS.length);
      bySubject.set(subject, q);
    }
    return q;
  }

  record(events: UsageEvent[]): void {
    for (const e of events) {
      // An event the store cannot take would fail its whole batch at every retry (or, stored, make the
      // month's sums NaN): it is dropped here, logged by its ids.
      const problem = usageEventProblem(e);
      if (problem !== null) {
        this.opts.warn?.(
          { id: e.id, tenantId: e.tenantId, kind: e.kind, problem },
          'metering: an invalid usage event was dropped',
        );
        continue;
      }
      this.queue.push(e);
    }
  }

  /** Turns the sums into events with fresh ids and appends them to the queue. */
  private drainSums(): void {
    if (this.sums.size === 0) return;
    const sums = this.sums;
    this.sums = new Map();
    this.curHour = -1;
    this.curSums = null;
    for (const [hour, bucket] of sums) {
      const at = new Date(hour * HOUR_MS).toISOString();
      for (const [tenantId, bySubject] of bucket) {
        for (const [subject, q] of bySubject) {
          for (let k = 0; k < q.length; k++) {
            if (q[k] === 0) continue;
            this.queue.push({
              id: `${this.prefix}-${(this.counter++).toString(36)}`,
              tenantId,
              kind: USAGE_KINDS[k],
              quantity: q[k],
              at,
              subject: subject === NO_SUBJECT ? null : subject,
              origin: 'own',
            });
          }
        }
      }
    }
  }

  flush(): Promise<number> {
    // One write at a time; a flush asked for meanwhile runs after it (it may have new usage to write).
    const prev = this.inFlight ?? Promise.resolve(0);
    const next = prev.then(() => this.write());
    this.inFlight = next;
    void next.finally(() => {
      if (this.inFlight === next) this.inFlight = null;
    });
    return next;
  }

  private async write(): Promise<number> {
    this.drainSums();
    if (this.queue.length === 0) return 0;
    const batch = this.queue;
    this.queue = [];
    try {
      const onAdd = this.opts.onAdd;
      return await this.opts.repo.record(
        batch,
        onAdd ? { onStored: (e) => onAdd(e.tenantId, e.kind, e.quantity) } : undefined,
      );
    } catch (err) {
      // Kept with the same ids, ahead of anything queued meanwhile; retried at the next flush.
      this.queue = batch.concat(this.queue);
      const max = this.opts.maxPending ?? 100_000;
      if (this.queue.length > max) {
        const dropped = this.queue.length - max;
        this.queue = this.queue.slice(dropped);
        this.opts.warn?.({ dropped }, 'metering: usage events dropped (the store kept failing)');
      }
      this.opts.warn?.(
        { events: batch.length, err: String(err) },
        'metering: usage could not be written; kept for the next flush',
      );
      return 0;
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    // A couple of tries: a store that fails once more loses what is left (logged by write()).
    for (let i = 0; i < 3; i++) {
      await this.flush();
      if (this.queue.length === 0) return;
    }
  }
}

/** The meter when metering is off: everything is dropped. */
export class NoopMeter implements Meter {
  readonly pending = 0;
  add(_tenantId: string, _kind: UsageKind, _quantity: number, _subject?: string | null): void {}
  prediction(_tenantId: string, _model: string, _rows: number, _cpuSeconds: number): void {}
  record(_events: UsageEvent[]): void {}
  flush(): Promise<number> {
    return Promise.resolve(0);
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}

/** The meter the configuration asks for (`metering: false` → a no-op). */
export function createMeter(
  config: { metering: boolean; meteringFlushMs: number },
  opts: Omit<MeterOptions, 'flushMs'>,
): Meter {
  return config.metering ? new BufferedMeter({ ...opts, flushMs: config.meteringFlushMs }) : new NoopMeter();
}
