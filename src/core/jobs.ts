// Training jobs: their states, the one table of legal transitions, and what a job carries.
// Pure: the job store, the scheduler and the workers all ask this module whether a move is allowed.
import type { Task } from '../ml/types.ts';

export const JOB_STATES = ['queued', 'running', 'succeeded', 'failed', 'cancelled', 'timed_out'] as const;
export type JobState = (typeof JOB_STATES)[number];
export const TERMINAL_STATES: ReadonlySet<JobState> = new Set([
  'succeeded',
  'failed',
  'cancelled',
  'timed_out',
]);

/** What can happen to a job. `lease_expired` is a worker that stopped heartbeating (died). */
export type JobEvent = 'claim' | 'succeed' | 'fail' | 'cancel' | 'timeout' | 'lease_expired';

/**
 * The state after `event`, or null when the move is illegal. A failed attempt or a lost lease goes back
 * to the queue while attempts remain; otherwise the job fails for good.
 */
export function nextState(state: JobState, event: JobEvent, attemptsLeft: number): JobState | null {
  switch (state) {
    case 'queued':
      if (event === 'claim') return 'running';
      if (event === 'cancel') return 'cancelled';
      return null;
    case 'running':
      if (event === 'succeed') return 'succeeded';
      if (event === 'cancel') return 'cancelled';
      if (event === 'timeout') return 'timed_out';
      if (event === 'fail' || event === 'lease_expired') return attemptsLeft > 0 ? 'queued' : 'failed';
      return null;
    default:
      return null; // terminal states never move
  }
}

export type TrainAlgorithm = 'auto' | 'linear' | 'gbdt';
export type ModelMode = 'tenant' | 'shared' | 'tuned';

/** A concrete model version, e.g. the shared base of a tuned model. */
export interface ModelRef {
  model: string;
  version: number;
}

/** Shared training: how the consenting tenants' data is pooled (src/ml/pool.ts). */
export interface PoolSpec {
  /** Rows taken at most from one tenant (a seeded uniform sample), so one large tenant cannot dominate. */
  maxRowsPerTenant?: number;
  /** Feature columns to pool; by default those present, with a compatible type, in most tenants' data. */
  features?: string[];
  /** Tenants who may contribute (default: every consenting tenant). Consent is still required. */
  tenants?: string[];
}

/** What a training job is asked to do; validated before it is queued. */
export interface TrainSpec {
  model: string;
  /** Dataset name (shared training: the name looked up in every consenting tenant). */
  dataset: string;
  /** The tenant's dataset version; 0 for shared training (each tenant's latest, chosen when it starts). */
  datasetVersion: number;
  target: string;
  task?: Task;
  algorithm: TrainAlgorithm;
  /** `shared` jobs run in the shared namespace (SHARED_NAMESPACE) and pool consenting tenants' data. */
  mode: ModelMode;
  /** Tuned models: the shared version they start from, fixed when the job is queued. */
  base?: ModelRef;
  /** Shared models only. */
  pool?: PoolSpec;
  /** Shared models only: who may use the model (set when its first version registers). */
  audience?: Audience;
  /** The advice (POST /v1/models/{name}/advise) this job is a candidate for. */
  advice?: string;
  /** Why the platform queued it itself (a retraining after a taint, a retraining policy); absent for requested jobs. */
  reason?:
    | 'retrain-after-taint'
    | 'retune-on-successor'
    | `policy:${'drift' | 'performance' | 'new-rows' | 'schedule'}`;
  /**
   * A challenger: the version it registers is a candidate (never live by registering), and the job also
   * measures this champion version on its own validation rows (JobResult.championMetrics).
   */
  champion?: ModelRef;
  params: Record<string, unknown>;
  seed: number;
  validFraction: number;
}

/** Who may resolve a shared model: every tenant, or the listed ones. */
export type Audience = 'all' | string[];

/** The newest progress a running job reported (shown by GET /v1/jobs/{id} and its event stream). */
export interface JobProgress {
  phase: 'loading' | 'featurizing' | 'training' | 'evaluating' | 'exporting' | 'saving';
  iteration?: number;
  totalIterations?: number;
  /** The current validation metric, e.g. {name: 'logloss', value: 0.31}. */
  metric?: { name: string; value: number };
  /** Seconds left, estimated from the iteration rate. */
  etaSeconds?: number;
  at: string;
}

export interface Job {
  id: string;
  tenantId: string;
  kind: 'train';
  state: JobState;
  /** Higher runs first within the tenant; FIFO among equals. */
  priority: number;
  spec: TrainSpec;
  attempts: number;
  maxAttempts: number;
  leaseOwner: string | null;
  leaseExpiresAt: string | null;
  cancelRequested: boolean;
  progress: JobProgress | null;
  /** Limits fixed when queued, from the tenant's tier and quotas. */
  limits: { timeoutSeconds: number; cpuSeconds: number; heapMb: number };
  /** Measured from the child processes' resource usage, summed over attempts. */
  cpuSeconds: number;
  wallSeconds: number;
  /** Why the last attempt failed (readable, no data values). */
  error: string | null;
  /** Set on success: the model version it registered (and, for tuned models, the base's metrics on the same validation rows). */
  result: JobResult | null;
  createdAt: string;
  createdBy: string;
  startedAt: string | null;
  finishedAt: string | null;
}

export interface JobFilter {
  state?: JobState;
  model?: string;
  limit?: number;
}

export interface JobResult {
  model: string;
  version: number;
  /** Tuned jobs: the base model evaluated on this job's validation rows (what the advisor compares). */
  baseMetrics?: Record<string, number>;
  /** Challenger jobs: the champion evaluated on this job's validation rows. */
  championMetrics?: Record<string, number>;
}
