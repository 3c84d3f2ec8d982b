// The messages between the supervisor and a training child, over the IPC channel of `fork` (advanced
// serialization, so byte arrays cross as bytes). Tenants' data keys travel only here: never in argv,
// the environment or a file.
import type { Job, JobProgress } from '../core/jobs.ts';
import type { DatasetSchema } from '../core/types.ts';
import type { PoolContribution, PooledData } from '../ml/pool.ts';

export type { PoolContribution };

/** Where the child reads the dataset from. Only the filesystem adapter exists so far. */
export interface BlobLocation {
  kind: 'fs';
  /** The artifacts root folder (FsBlobStore's root). */
  root: string;
}

/** Test-only behaviour, honoured only when the supervisor was started with `testHooks: true`. */
export interface TestHooks {
  /** Sleeps this long (without using CPU) at every progress report of training. */
  sleepPerIterationMs?: number;
  /** Burns this much CPU time before training. */
  burnCpuMs?: number;
  /** Keeps allocating memory until the heap limit is hit. */
  exhaustHeap?: boolean;
  /** Exits with this code before training. */
  exitCode?: number;
}

/**
 * One dataset version the child reads: the job's own for tenant and tuned jobs, one per contributing
 * tenant for shared jobs. Each is decrypted with its own tenant's key, which travels with it.
 */
export interface TrainingSource {
  tenantId: string;
  /** Dataset name and version (what provenance records). */
  name: string;
  version: number;
  /** Artifact key under the source tenant's prefix (it is also bound into the encryption). */
  artifact: string;
  rows: number;
  schema: DatasetSchema;
  /** The source tenant's 32-byte data key. */
  dataKey: Uint8Array;
}

/**
 * A stored model version's artifacts, already decrypted by the supervisor, as JSON text: a tuned job's
 * base, or a challenger job's champion.
 */
export interface BaseArtifacts {
  fitted: string;
  featurizer: string;
  model: string;
}

/** The one message the parent sends: everything the child needs to train. */
export interface StartMessage {
  type: 'start';
  job: Job;
  sources: TrainingSource[];
  /** Tuned jobs only. */
  base?: BaseArtifacts;
  /** Challenger jobs whose champion's artifacts could be read: evaluated on this job's validation rows. */
  champion?: BaseArtifacts;
  blobs: BlobLocation;
  testHooks: boolean;
}

export type ParentMessage = StartMessage;

/** CPU time of the child as it measured itself (`process.cpuUsage()`), microseconds. */
export interface CpuReport {
  user: number;
  system: number;
}

export interface ProgressMessage {
  type: 'progress';
  progress: JobProgress;
}

export interface ResultMessage {
  type: 'result';
  onnx: Uint8Array;
  /** featurizer.json and model.json, already serialised. */
  featurizerJson: string;
  modelJson: string;
  task: string;
  algorithm: string;
  params: Record<string, unknown>;
  metrics: Record<string, number>;
  /** fitted.json: the fitted parameters, so that this model can be the base of a tuned one. */
  fittedJson: string;
  /** Shared jobs: the rows each tenant's dataset version gave after pooling. */
  contributions?: PoolContribution[];
  /** Shared jobs: what de-identification removed (column names and counts, never values). */
  deidentification?: PooledData['deidentification'];
  /** Tuned jobs: the base model evaluated on this job's validation rows. */
  baseMetrics?: Record<string, number>;
  /** Challenger jobs: the champion evaluated on this job's validation rows (same names as `metrics`). */
  championMetrics?: Record<string, number>;
  /** Challenger jobs without championMetrics: why (no data values), for the worker's log. */
  championSkipped?: string;
  /** profile.json: the reference profile (src/ml/drift/profile.ts) monitoring compares traffic with. */
  profileJson?: string;
  /** Why there is no profile (no data values), for the worker's log; the model registers without one. */
  profileSkipped?: string;
  /** Wall time the profile took in the child, milliseconds (logged: what profiling costs a job). */
  profileMs?: number;
  cpu: CpuReport;
}

/** Training refused or failed inside the child; `message` carries no data values. */
export interface ErrorMessage {
  type: 'error';
  message: string;
  /** True when retrying cannot help (the data or the parameters do not allow training). */
  permanent: boolean;
  cpu: CpuReport;
}

/** Sent last, just before the child exits on its own. */
export interface UsageMessage {
  type: 'usage';
  cpu: CpuReport;
}

export type ChildMessage = ProgressMessage | ResultMessage | ErrorMessage | UsageMessage;

export const cpuSecondsOf = (r: CpuReport): number => (r.user + r.system) / 1e6;
