// Service tiers and the default quotas they carry. A tenant may have per-quota overrides.

export const TIERS = ['free', 'standard', 'premium'] as const;
export type Tier = (typeof TIERS)[number];

export interface Quotas {
  /** Datasets a tenant may hold (names, not versions). */
  datasets: number;
  /** Rows in one dataset version. */
  rowsPerDataset: number;
  /** Columns in one dataset version. */
  columnsPerDataset: number;
  /** Bytes of stored artifacts (datasets, models, logs), as stored (encrypted). */
  storageBytes: number;
  /** Training jobs running at once. */
  concurrentJobs: number;
  /** Training jobs waiting in the queue. */
  queuedJobs: number;
  /** Predictions per second (rows). */
  predictionsPerSecond: number;
  /** Prediction requests per second, however many rows each carries (docs/limits.md). */
  requestsPerSecond: number;
  /** Prediction requests admitted and not yet answered (queued or running), per tenant. */
  inFlightRequests: number;
  /** Rows one training job may train on. */
  trainingRows: number;
  /** CPU-seconds one training job may use before it is stopped. */
  cpuSecondsPerJob: number;
  /** Wall-clock seconds one training job may run before it times out. */
  jobTimeoutSeconds: number;
  /** Heap limit of a training job's child process, MiB. */
  jobHeapMb: number;
  /** Training CPU-seconds per calendar month (UTC), all jobs together; beyond it new jobs are refused. */
  cpuSecondsPerMonth: number;
}

export const QUOTA_NAMES = [
  'datasets',
  'rowsPerDataset',
  'columnsPerDataset',
  'storageBytes',
  'concurrentJobs',
  'queuedJobs',
  'predictionsPerSecond',
  'requestsPerSecond',
  'inFlightRequests',
  'trainingRows',
  'cpuSecondsPerJob',
  'jobTimeoutSeconds',
  'jobHeapMb',
  'cpuSecondsPerMonth',
] as const satisfies readonly (keyof Quotas)[];

const MB = 1024 * 1024;

export const TIER_QUOTAS: Readonly<Record<Tier, Readonly<Quotas>>> = Object.freeze({
  free: Object.freeze({
    datasets: 5,
    rowsPerDataset: 100_000,
    columnsPerDataset: 100,
    storageBytes: 100 * MB,
    concurrentJobs: 1,
    queuedJobs: 5,
    predictionsPerSecond: 20,
    requestsPerSecond: 10,
    inFlightRequests: 4,
    trainingRows: 100_000,
    cpuSecondsPerJob: 300,
    jobTimeoutSeconds: 600,
    jobHeapMb: 512,
    cpuSecondsPerMonth: 3_600,
  }),
  standard: Object.freeze({
    datasets: 50,
    rowsPerDataset: 2_000_000,
    columnsPerDataset: 500,
    storageBytes: 5 * 1024 * MB,
    concurrentJobs: 2,
    queuedJobs: 20,
    predictionsPerSecond: 200,
    requestsPerSecond: 100,
    inFlightRequests: 16,
    trainingRows: 2_000_000,
    cpuSecondsPerJob: 3_600,
    jobTimeoutSeconds: 3_600,
    jobHeapMb: 2_048,
    cpuSecondsPerMonth: 100_000,
  }),
  premium: Object.freeze({
    datasets: 500,
    rowsPerDataset: 20_000_000,
    columnsPerDataset: 2_000,
    storageBytes: 100 * 1024 * MB,
    concurrentJobs: 8,
    queuedJobs: 100,
    predictionsPerSecond: 2_000,
    requestsPerSecond: 1_000,
    inFlightRequests: 64,
    trainingRows: 20_000_000,
    cpuSecondsPerJob: 14_400,
    jobTimeoutSeconds: 14_400,
    jobHeapMb: 6_144,
    cpuSecondsPerMonth: 1_000_000,
  }),
});

/** The operator's run-time edits of tier defaults (store: TierQuotaRepo), layered over TIER_QUOTAS. */
export type TierEdits = Partial<Record<Tier, Partial<Quotas>>>;

/**
 * The quotas in force: the tier's built-in defaults, the operator's edits of that tier on top, the
 * tenant's own overrides on top of both.
 */
export function effectiveQuotas(
  tier: Tier,
  overrides: Partial<Quotas> = {},
  tierEdits: TierEdits = {},
): Quotas {
  return { ...TIER_QUOTAS[tier], ...tierEdits[tier], ...overrides };
}

/**
 * Each tier's weight in the fair scheduler: a tenant's share of busy training slots is proportional to
 * it when several tenants wait (docs/scheduling.md).
 */
export const TIER_WEIGHTS: Readonly<Record<Tier, number>> = Object.freeze({
  free: 1,
  standard: 2,
  premium: 4,
});
