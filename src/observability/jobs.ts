// Job and scheduler observability: attempts finished by outcome with their CPU and wall seconds, and one
// span per job run in this worker (both fed by the supervisor's events); queued and running jobs per
// tenant and the scheduler's queue depth, read from the store at scrape time with one cheap count query,
// reused for a second so that several scrapers (or replicas' scrapes) cost the store little.
import { type Span, SpanStatusCode, type Tracer } from '@opentelemetry/api';
import { Counter, Gauge, Histogram } from 'prom-client';
import type { WorkerEvent } from '../jobs/supervisor.ts';
import type { Store } from '../store/ports.ts';
import type { PlatformRegistry } from './registry.ts';
import { parentContext } from './tracing.ts';

type Counts = Awaited<ReturnType<Store['jobs']['counts']>>;

/** How long one count of the job table serves scrapes, ms. */
const COUNTS_TTL_MS = 1000;

const SECONDS_BUCKETS = [0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600];

export class JobMetrics {
  private readonly finished: Counter<'tenant' | 'outcome'>;
  private readonly cpu: Histogram<'outcome'>;
  private readonly wall: Histogram<'outcome'>;
  /** Runs claimed here and not yet ended: their tenant and span. */
  private readonly runs = new Map<string, { tenant: string; span: Span | null }>();

  constructor(
    private readonly platform: PlatformRegistry,
    private readonly tracer: Tracer | null,
  ) {
    const registers = [platform.own];
    this.finished = new Counter({
      name: 'tenantml_jobs_finished_total',
      help: 'Training job attempts run in this process, by outcome (succeeded, failed, retried, cancelled, timed_out, lease_lost, abandoned)',
      labelNames: ['tenant', 'outcome'],
      registers,
    });
    this.cpu = new Histogram({
      name: 'tenantml_job_cpu_seconds',
      help: 'CPU seconds of one training job attempt (its child process)',
      labelNames: ['outcome'],
      buckets: SECONDS_BUCKETS,
      registers,
    });
    this.wall = new Histogram({
      name: 'tenantml_job_wall_seconds',
      help: 'Wall-clock seconds of one training job attempt, from claim to recorded outcome',
      labelNames: ['outcome'],
      buckets: SECONDS_BUCKETS,
      registers,
    });
    platform.changed();
  }

  /**
   * Queued and running jobs per tenant (`tenantml_jobs`), the scheduler's queue depth, and — where this
   * process runs workers — its busy slots. A failed count leaves the last values (and is not thrown:
   * a scrape never fails because the store is slow to answer once).
   */
  watch(store: Pick<Store, 'jobs'>, slots?: { active(): number; total: number }): void {
    const registers = [this.platform.own];
    let cached: { at: number; counts: Promise<Counts> } | null = null;
    const counts = (): Promise<Counts> => {
      const now = performance.now();
      if (!cached || now - cached.at > COUNTS_TTL_MS) {
        const p = store.jobs.counts();
        cached = { at: now, counts: p };
        p.catch(() => {
          if (cached?.counts === p) cached = null;
        });
      }
      return cached.counts;
    };
    const tenant = (id: string) => this.platform.tenant(id);
    new Gauge({
      name: 'tenantml_jobs',
      // Read from the shared store: every process of a serving pool reads the same (docs/serving-pool.md).
      aggregator: 'max',
      help: 'Training jobs queued and running now, across every worker, by tenant and state',
      labelNames: ['tenant', 'state'],
      registers,
      async collect() {
        let rows: Counts;
        try {
          rows = await counts();
        } catch {
          return;
        }
        this.reset();
        for (const r of rows) {
          this.inc({ tenant: tenant(r.tenantId), state: 'queued' }, r.queued);
          this.inc({ tenant: tenant(r.tenantId), state: 'running' }, r.running);
        }
      },
    });
    new Gauge({
      name: 'tenantml_scheduler_queue_depth',
      // Read from the shared store: every process of a serving pool reads the same (docs/serving-pool.md).
      aggregator: 'max',
      help: 'Training jobs waiting to be claimed, all tenants',
      registers,
      async collect() {
        try {
          this.set((await counts()).reduce((n, r) => n + r.queued, 0));
        } catch {
          // keep the last value
        }
      },
    });
    if (slots) {
      new Gauge({
        name: 'tenantml_worker_slots',
        help: 'Job slots of the supervisor in this process',
        registers,
        collect() {
          this.set(slots.total);
        },
      });
      new Gauge({
        name: 'tenantml_worker_slots_busy',
        help: 'Job slots of the supervisor in this process running a job now',
        registers,
        collect() {
          this.set(slots.active());
        },
      });
    }
    this.platform.changed();
  }

  /** The supervisor's event hook: counts finished attempts and opens and closes each run's span. */
  readonly onEvent = (e: WorkerEvent): void => {
    switch (e.type) {
      case 'claimed': {
        const span =
          this.tracer?.startSpan(
            'job.run',
            { attributes: { 'tenantml.job_id': e.jobId, 'tenantml.tenant_id': e.tenantId } },
            parentContext(null),
          ) ?? null;
        this.runs.set(e.jobId, { tenant: e.tenantId, span });
        break;
      }
      case 'finished': {
        // The store's answer says whether a failed attempt goes back to the queue; no answer: the lease was lost.
        const outcome = !e.job ? 'lease_lost' : e.job.state === 'queued' ? 'retried' : e.outcome.state;
        this.end(e.jobId, outcome, e.outcome.cpuSeconds, e.outcome.wallSeconds);
        break;
      }
      case 'lease-lost':
        this.end(e.jobId, 'lease_lost');
        break;
      case 'abandoned':
        this.end(e.jobId, 'abandoned');
        break;
    }
  };

  /** Counts the attempt's outcome (once per claimed run) and ends its span. */
  private end(jobId: string, outcome: string, cpuSeconds?: number, wallSeconds?: number): void {
    const run = this.runs.get(jobId);
    if (!run) return;
    this.runs.delete(jobId);
    this.finished.inc({ tenant: this.platform.tenant(run.tenant), outcome });
    if (cpuSeconds !== undefined) this.cpu.observe({ outcome }, cpuSeconds);
    if (wallSeconds !== undefined) this.wall.observe({ outcome }, wallSeconds);
    const span = run.span;
    if (!span) return;
    span.setAttribute('tenantml.job_outcome', outcome);
    if (cpuSeconds !== undefined) span.setAttribute('tenantml.cpu_seconds', cpuSeconds);
    if (wallSeconds !== undefined) span.setAttribute('tenantml.wall_seconds', wallSeconds);
    if (outcome !== 'succeeded' && outcome !== 'cancelled') span.setStatus({ code: SpanStatusCode.ERROR });
    span.end();
  }

  /** Ends the runs whose outcome was never recorded here (the process is stopping). */
  close(): void {
    for (const id of [...this.runs.keys()]) this.end(id, 'unknown');
  }
}
