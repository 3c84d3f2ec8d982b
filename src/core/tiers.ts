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
}

export const QUOTA_NAMES = [
  'datasets',
  'rowsPerDataset',
  'columnsPerDataset',
  'storageBytes',
  'concurrentJobs',
  'queuedJobs',
  'predictionsPerSecond',
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
  }),
  standard: Object.freeze({
    datasets: 50,
    rowsPerDataset: 2_000_000,
    columnsPerDataset: 500,
    storageBytes: 5 * 1024 * MB,
    concurrentJobs: 2,
    queuedJobs: 20,
    predictionsPerSecond: 200,
  }),
  premium: Object.freeze({
    datasets: 500,
    rowsPerDataset: 20_000_000,
    columnsPerDataset: 2_000,
    storageBytes: 100 * 1024 * MB,
    concurrentJobs: 8,
    queuedJobs: 100,
    predictionsPerSecond: 2_000,
  }),
});

/** The quotas in force: the tier's defaults with the tenant's overrides on top. */
export function effectiveQuotas(tier: Tier, overrides: Partial<Quotas> = {}): Quotas {
  return { ...TIER_QUOTAS[tier], ...overrides };
}
