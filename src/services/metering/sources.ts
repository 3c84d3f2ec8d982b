// Where usage with its own identity comes from (docs/metering.md): a finished training job and a model
// judged by the monitoring loop. Their event ids derive from what they measure (the job id; the tenant,
// model and window), so a replay — a second after-job call, a monitoring cycle run again — counts once.
import type { Job } from '../../core/jobs.ts';
import { apportion, type SharedCostPolicy, type UsageEvent, type UsageKind } from '../../core/metering.ts';
import type { Granularity } from '../../core/monitoring.ts';
import { SHARED_NAMESPACE, type TenantScope } from '../../core/scope.ts';
import type { Store } from '../../store/ports.ts';
import type { Meter } from './meter.ts';

export interface TrainingUsageDeps {
  store: Pick<Store, 'models'> & { tenants: Pick<Store['tenants'], 'get'> };
  sharedCost: SharedCostPolicy;
}

/** The three quantities of a job, with the suffix of their event ids. */
const TRAINING_LINES: { kind: UsageKind; suffix: string }[] = [
  { kind: 'training_cpu_seconds', suffix: 'cpu' },
  { kind: 'training_wall_seconds', suffix: 'wall' },
  { kind: 'training_rows', suffix: 'rows' },
];

/**
 * The usage events of a finished job (any outcome): its metered CPU-seconds and wall-seconds (summed over
 * attempts) and — when it registered a version — the rows that version was trained from (the dataset
 * rows each source gave, held-out validation rows included). A shared job's usage goes to the tenants
 * whose rows trained the version, in proportion to those rows (origin `shared`), when the policy is
 * `contributors`; it stays on the shared namespace under `operator`, and also when the job registered no
 * version (nothing says whose rows it read). `scope` is the job's own namespace.
 */
export async function trainingUsage(
  deps: TrainingUsageDeps,
  scope: TenantScope,
  job: Job,
): Promise<UsageEvent[]> {
  if (scope.tenantId !== job.tenantId) throw new Error('the scope is not the job’s tenant');
  const at = job.finishedAt ?? job.createdAt;
  const version = job.result
    ? await deps.store.models.version(scope, job.result.model, job.result.version)
    : null;
  const sources = version?.datasets ?? [];
  const rows = sources.reduce((s, d) => s + Math.max(0, d.rows), 0);
  const quantities: Record<UsageKind, number> = {
    training_cpu_seconds: job.cpuSeconds,
    training_wall_seconds: job.wallSeconds,
    training_rows: rows,
  } as Record<UsageKind, number>;
  const events: UsageEvent[] = [];
  const shared = job.tenantId === SHARED_NAMESPACE;
  if (shared && deps.sharedCost === 'contributors' && rows > 0) {
    // One contributor may appear once per dataset version: its rows are summed.
    const byTenant = new Map<string, number>();
    for (const d of sources) byTenant.set(d.tenantId, (byTenant.get(d.tenantId) ?? 0) + Math.max(0, d.rows));
    const contributors = [...byTenant].map(([tenantId, r]) => ({ tenantId, rows: r }));
    // A contributor deleted since (its data withdrawn with it) cannot be charged: its share stays with
    // the operator (the shared namespace), so no cost is lost.
    const gone = new Set<string>();
    for (const c of contributors) if (!(await deps.store.tenants.get(c.tenantId))) gone.add(c.tenantId);
    for (const { kind, suffix } of TRAINING_LINES) {
      let operatorShare = 0;
      for (const share of apportion(quantities[kind], contributors)) {
        if (!(share.quantity > 0)) continue;
        if (gone.has(share.tenantId)) {
          operatorShare += share.quantity;
          continue;
        }
        events.push({
          id: `job:${job.id}:${suffix}:${share.tenantId}`,
          tenantId: share.tenantId,
          kind,
          quantity: share.quantity,
          at,
          subject: `${SHARED_NAMESPACE}/${job.spec.model}`,
          origin: 'shared',
        });
      }
      if (operatorShare > 0)
        events.push({
          id: `job:${job.id}:${suffix}:${SHARED_NAMESPACE}`,
          tenantId: SHARED_NAMESPACE,
          kind,
          quantity: operatorShare,
          at,
          subject: job.spec.model,
          origin: 'own',
        });
    }
    return events;
  }
  for (const { kind, suffix } of TRAINING_LINES) {
    const q = quantities[kind];
    if (!(q > 0)) continue;
    events.push({
      id: `job:${job.id}:${suffix}`,
      tenantId: job.tenantId,
      kind,
      quantity: q,
      at,
      subject: job.spec.model,
      origin: 'own',
    });
  }
  return events;
}

/**
 * One monitoring run: a model judged in a cycle, counted once per model and monitoring window (a cycle
 * run again over the same window, by a retry or another worker, is the same event).
 */
export function monitoringRunEvent(
  tenantId: string,
  model: string,
  granularity: Granularity,
  windowStart: string,
  at: string,
): UsageEvent {
  return {
    id: `monitor:${tenantId}:${model}:${granularity}:${windowStart}`,
    tenantId,
    kind: 'monitoring_runs',
    quantity: 1,
    at,
    subject: model,
    origin: 'own',
  };
}

/**
 * The after-job step (platform.ts): records the finished job's usage and writes it at once. `scope` is the
 * job's own namespace. Called again for the same job (a replay, a second hook), it adds nothing.
 */
export async function meterFinishedJob(
  deps: TrainingUsageDeps & { meter: Pick<Meter, 'record' | 'flush'> },
  scope: TenantScope,
  job: Job,
): Promise<void> {
  deps.meter.record(await trainingUsage(deps, scope, job));
  await deps.meter.flush();
}
