// The fairness benchmark's arithmetic, pure: served CPU in a window of completed jobs, Jain's index, slot
// utilisation from busy intervals. No clock, no I/O: the scenarios hand in what they recorded.

/** A finished job as the measures see it: who, when it ended, the CPU-seconds it was charged. */
export interface Served {
  tenantId: string;
  /** When it finished (any monotonic unit); orders the jobs. */
  at: number;
  cpuSeconds: number;
}

export interface CpuWindow {
  /** CPU-seconds per tenant of the jobs in the window (every listed tenant present, 0 if none). */
  served: Record<string, number>;
  /** Jobs per tenant in the window. */
  jobs: Record<string, number>;
  /** CPU-seconds of the jobs skipped as warm-up. */
  warmupCpu: number;
  /** CPU-seconds in the window (≥ the requested size unless the jobs ran out). */
  windowCpu: number;
  /** Finish time of the first and the last job in the window (NaN when empty). */
  from: number;
  to: number;
  /** False when the jobs ran out before the window was full. */
  complete: boolean;
}

/**
 * The jobs in finishing order: the first ones until `warmupCpu` CPU-seconds have been served are skipped,
 * the following ones until `windowCpu` more have been served form the window. Whole jobs only: a job
 * counts where it finishes.
 */
export function cpuWindow(
  finished: readonly Served[],
  tenants: readonly string[],
  warmupCpu: number,
  windowCpu: number,
): CpuWindow {
  const served: Record<string, number> = {};
  const jobs: Record<string, number> = {};
  for (const t of tenants) {
    served[t] = 0;
    jobs[t] = 0;
  }
  const sorted = [...finished].sort((a, b) => a.at - b.at);
  let warm = 0;
  let inWindow = 0;
  let from = Number.NaN;
  let to = Number.NaN;
  let i = 0;
  for (; i < sorted.length && warm < warmupCpu; i++) warm += sorted[i].cpuSeconds;
  for (; i < sorted.length && inWindow < windowCpu; i++) {
    const s = sorted[i];
    if (!(s.tenantId in served)) continue; // not one of the measured tenants
    served[s.tenantId] += s.cpuSeconds;
    jobs[s.tenantId] += 1;
    inWindow += s.cpuSeconds;
    if (Number.isNaN(from)) from = s.at;
    to = s.at;
  }
  return { served, jobs, warmupCpu: warm, windowCpu: inWindow, from, to, complete: inWindow >= windowCpu };
}

/**
 * Jain's fairness index (Σx)² / (n·Σx²): 1 when all are equal, 1/n when one gets everything. Pass each
 * tenant's service divided by its weight to judge weighted fairness.
 */
export function jainIndex(xs: readonly number[]): number {
  if (xs.length === 0) return Number.NaN;
  let sum = 0;
  let squares = 0;
  for (const x of xs) {
    sum += x;
    squares += x * x;
  }
  return squares === 0 ? 1 : (sum * sum) / (xs.length * squares);
}

/**
 * Busy slot-time within [from, to] divided by slots × (to − from): the intervals are each job's time in a
 * slot; the parts outside the span are cut off.
 */
export function utilisation(
  intervals: readonly { start: number; end: number }[],
  from: number,
  to: number,
  slots: number,
): number {
  if (!(to > from) || !(slots > 0)) return Number.NaN;
  let busy = 0;
  for (const { start, end } of intervals) {
    const s = Math.max(start, from);
    const e = Math.min(end, to);
    if (e > s) busy += e - s;
  }
  return busy / (slots * (to - from));
}

export function mean(xs: readonly number[]): number {
  return xs.length === 0 ? Number.NaN : xs.reduce((a, b) => a + b, 0) / xs.length;
}
