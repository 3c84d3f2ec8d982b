// The weighted fair scheduler's decision, pure: given every tenant with queued work, the order in which
// to try tenants for the next free slot. The job store feeds it counts and usage read inside its claiming
// transaction (docs/scheduling.md explains the formula with a worked example).

/**
 * CPU-seconds that weigh as much as one running job in a tenant's score: a tenant that burned 30 CPU-seconds
 * recently (decayed) counts like a tenant with one more job running.
 */
export const CPU_UNIT_SECONDS = 30;

/** A suggested half-life of the decayed CPU usage (ClaimRequest.halfLifeSeconds), seconds. */
export const DEFAULT_HALF_LIFE_SECONDS = 600;

/** One tenant that has at least one queued job, as the scheduler sees it. */
export interface TenantLoad {
  tenantId: string;
  /** Its jobs running now. */
  running: number;
  /** Its CPU-seconds of finished attempts, decayed to now (decayUsage). */
  decayedCpuSeconds: number;
  /** Its tier weight (TIER_WEIGHTS); a share of busy slots is proportional to it. */
  weight: number;
  /** Its concurrency cap (quota concurrentJobs). */
  cap: number;
  /** When its oldest queued job was queued (epoch ms): the tie-break, oldest first. */
  oldestQueuedAt: number;
}

export interface ClusterLoad {
  /** Jobs running across all tenants and workers. */
  running: number;
  /** Jobs that may run at once across all tenants and workers. */
  cap: number;
}

/** (running + decayedCpuSeconds / CPU_UNIT_SECONDS) / weight; lower is served first. */
export function fairShareScore(t: Pick<TenantLoad, 'running' | 'decayedCpuSeconds' | 'weight'>): number {
  const weight = t.weight > 0 ? t.weight : 1; // a misconfigured weight must not divide by zero
  return (t.running + Math.max(0, t.decayedCpuSeconds) / CPU_UNIT_SECONDS) / weight;
}

/**
 * The tenants to try, best first: lowest score, ties by oldest queued job, then by id (deterministic).
 * Tenants at their cap are left out, and nobody is listed when the cluster is full. Work-conserving:
 * nothing else holds a tenant back, so a lone tenant with work fills every free slot up to its own cap.
 */
export function fairShareOrder(tenants: readonly TenantLoad[], cluster: ClusterLoad): string[] {
  if (cluster.running >= cluster.cap) return [];
  return tenants
    .filter((t) => t.running < t.cap)
    .map((t) => ({ t, score: fairShareScore(t) }))
    .sort(
      (a, b) =>
        a.score - b.score ||
        a.t.oldestQueuedAt - b.t.oldestQueuedAt ||
        (a.t.tenantId < b.t.tenantId ? -1 : a.t.tenantId > b.t.tenantId ? 1 : 0),
    )
    .map(({ t }) => t.tenantId);
}

/**
 * A usage value recorded at `fromMs`, decayed to `toMs`: value · 2^(−Δt / halfLife). It never grows when
 * the clocks disagree (Δt < 0), and a half-life of zero or less keeps no memory at all.
 */
export function decayUsage(value: number, fromMs: number, toMs: number, halfLifeSeconds: number): number {
  if (!(value > 0)) return 0;
  if (!(halfLifeSeconds > 0)) return 0;
  const dt = (toMs - fromMs) / 1000;
  if (!(dt > 0)) return value;
  return value * 2 ** (-dt / halfLifeSeconds);
}
