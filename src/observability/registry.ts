// The platform's one Prometheus registry (docs/observability.md): HTTP, jobs and the scheduler queue,
// usage counters and the process defaults, plus the inference plane's own registry folded in. Never the
// global registry, so two platforms in one process (tests, benchmarks) never share counters. Labels are
// ids only; the tenant label obeys TENANTML_METRICS_TENANT_LABEL (off: every tenant's series fold into one).
import { Counter, collectDefaultMetrics, Registry } from 'prom-client';
import { USAGE_KINDS } from '../core/metering.ts';

const KNOWN_KINDS: ReadonlySet<string> = new Set(USAGE_KINDS);

let processRegistry: Registry | null = null;

/**
 * The process metrics (CPU, memory, event loop, GC): one set per process, whatever the number of
 * platforms in it — they describe the process, and each collectDefaultMetrics call starts its own
 * observers, which would pile up with every platform a test suite creates.
 */
function processMetrics(): Registry {
  if (!processRegistry) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry });
  }
  return processRegistry;
}

export interface PlatformRegistryOptions {
  /** Series carry a `tenant` label (TENANTML_METRICS_TENANT_LABEL). */
  tenantLabel: boolean;
}

export class PlatformRegistry {
  /** The platform's own series (HTTP, jobs, usage); scrapes read this merged with the others. */
  readonly own = new Registry();
  readonly tenantLabel: boolean;
  private readonly included: Registry[] = [];
  private view: Registry | null = null;
  private readonly usage: Counter<'tenant' | 'kind'>;

  constructor(opts: PlatformRegistryOptions) {
    this.tenantLabel = opts.tenantLabel;
    this.usage = new Counter({
      name: 'tenantml_usage_total',
      help: 'Metered usage by kind, in the unit the kind names (rows, seconds, byte-hours, runs)',
      labelNames: ['tenant', 'kind'],
      registers: [this.own],
    });
  }

  /** The tenant label value: the id, or '' with the tenant label switched off. */
  tenant(id: string): string {
    return this.tenantLabel ? id : '';
  }

  /** Folds another registry's series (the inference plane's) into this one's scrapes. */
  include(registry: Registry): void {
    this.included.push(registry);
    this.view = null;
  }

  /** Called after metrics are added to `own` (so the next scrape sees them). */
  changed(): void {
    this.view = null;
  }

  /** One registry holding every series of this platform and the process's defaults. */
  get registry(): Registry {
    this.view ??= Registry.merge([this.own, ...this.included, processMetrics()]);
    return this.view;
  }

  /**
   * Counts metered usage (the meter's `onAdd` hook calls this for every event it accepts). A kind
   * outside USAGE_KINDS is counted as `other`, and a quantity that is not a positive number is ignored,
   * so that a caller's mistake can neither throw nor add series.
   */
  countUsage(tenantId: string, kind: string, quantity: number): void {
    if (!(quantity > 0) || !Number.isFinite(quantity)) return;
    this.usage.inc({ tenant: this.tenant(tenantId), kind: KNOWN_KINDS.has(kind) ? kind : 'other' }, quantity);
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
