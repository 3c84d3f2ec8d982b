// The metadata store's port. Services receive a Store; SQLite and PostgreSQL adapters implement it
// (src/store/sql/). Every tenant-owned call takes a TenantScope; the few calls that are not scoped
// (tenant administration, key lookup before the tenant is known) say so in their names.
import type { Job, JobFilter, JobProgress, JobState, ModelMode, TrainSpec } from '../core/jobs.ts';
import type { TenantScope } from '../core/scope.ts';
import type { Quotas, Tier } from '../core/tiers.ts';
import type {
  ApiKeyRecord,
  AuditEntry,
  ConsentChange,
  Dataset,
  DatasetVersion,
  NewAuditEntry,
  Tenant,
} from '../core/types.ts';

export interface StoreCapabilities {
  /** The database enforces tenant isolation itself (PostgreSQL row-level security). */
  rowLevelSecurity: boolean;
  /** Only one process may write (SQLite): workers must share the API's process tree. */
  singleWriter: boolean;
  /** Several processes on several machines may share the store. */
  crossProcess: boolean;
}

export interface NewTenant {
  id: string;
  name: string;
  tier: Tier;
  sharedTraining: boolean;
  quotaOverrides: Partial<Quotas>;
  /** The tenant's data key, already wrapped by the master key. */
  wrappedDataKey: Buffer;
}

export interface TenantPatch {
  name?: string;
  tier?: Tier;
  sharedTraining?: boolean;
  quotaOverrides?: Partial<Quotas>;
}

/** Operator-level tenant administration. Not tenant-scoped: only operator routes and the system call it. */
export interface TenantRepo {
  /** Conflict (AppError) on a duplicate id. Records the initial consent as the first consent change. */
  create(t: NewTenant, actorKeyId: string, at: string): Promise<Tenant>;
  list(): Promise<Tenant[]>;
  get(id: string): Promise<Tenant | null>;
  /** Applies the patch; records a consent change when sharedTraining changes. Null if absent. */
  update(id: string, patch: TenantPatch, actorKeyId: string, at: string): Promise<Tenant | null>;
  /**
   * Deletes the tenant and every row it owns, including its wrapped data key and its audit chain, in one
   * transaction. False if absent.
   */
  delete(id: string): Promise<boolean>;
  consentHistory(scope: TenantScope): Promise<ConsentChange[]>;
  /** The wrapped data key, or null once destroyed. */
  wrappedDataKey(id: string): Promise<Buffer | null>;
}

export interface KeyRepo {
  create(scope: TenantScope, rec: ApiKeyRecord): Promise<void>;
  /** Lookup by public key id, before any tenant is known (authentication). */
  findForAuth(keyId: string): Promise<ApiKeyRecord | null>;
  list(scope: TenantScope): Promise<ApiKeyRecord[]>;
  /** Sets revokedAt; false if there is no such key in this tenant. */
  revoke(scope: TenantScope, keyId: string, at: string): Promise<boolean>;
  /** Records last use; best effort, never fails the request. */
  touch(keyId: string, at: string): Promise<void>;
}

export interface DatasetRepo {
  list(scope: TenantScope): Promise<Dataset[]>;
  get(scope: TenantScope, name: string): Promise<Dataset | null>;
  versions(scope: TenantScope, name: string): Promise<DatasetVersion[]>;
  version(scope: TenantScope, name: string, version: number): Promise<DatasetVersion | null>;
  /**
   * Adds the next version atomically (creating the dataset on its first version) and returns it with its
   * number. `maxDatasets` is checked in the same transaction when the name is new.
   */
  addVersion(
    scope: TenantScope,
    v: Omit<DatasetVersion, 'version' | 'tenantId'>,
    limits: { maxDatasets: number },
  ): Promise<DatasetVersion>;
  /** Removes the dataset and all its versions; returns the removed versions (for their artifacts). */
  delete(scope: TenantScope, name: string): Promise<DatasetVersion[] | null>;
  count(scope: TenantScope): Promise<number>;
  /** Sum of storedBytes over all versions. */
  storedBytes(scope: TenantScope): Promise<number>;
}

export interface AuditQuery {
  limit?: number;
  /** Entries with seq greater than this. */
  after?: number;
}

export interface AuditRepo {
  /**
   * Appends to the entry's chain (the tenant's, or the operator chain when tenantId is null), safely under
   * concurrent appends. A tenant's chain is deleted with the tenant, so its tenant must exist: record a
   * tenant's deletion on the operator chain.
   */
  append(e: NewAuditEntry): Promise<AuditEntry>;
  /** A tenant's own entries. */
  list(scope: TenantScope, q?: AuditQuery): Promise<AuditEntry[]>;
  /** Every chain (operator). `tenantId` narrows to one chain; `null` is the operator chain. */
  listAll(q?: AuditQuery & { tenantId?: string | null }): Promise<AuditEntry[]>;
  /** Every entry of one chain in order, for verification. */
  chain(tenantId: string | null): Promise<AuditEntry[]>;
  /**
   * The chain's recorded tip, kept apart from the entries so that verification (verifyChain's `head`)
   * notices entries cut from the end. Null before the first append.
   */
  head(tenantId: string | null): Promise<{ seq: number; hash: string } | null>;
  /** Removes a tenant's chain (tenant deletion). */
  deleteChain(tenantId: string): Promise<void>;
}

export interface NewJob {
  id: string;
  kind: 'train';
  priority: number;
  spec: TrainSpec;
  maxAttempts: number;
  limits: Job['limits'];
  createdAt: string;
  createdBy: string;
}

export interface ClaimRequest {
  workerId: string;
  /** ISO time; the lease runs to now + leaseMs. */
  now: string;
  leaseMs: number;
  /** Jobs running across all workers beyond which nothing more is claimed. */
  globalCap: number;
  /** Half-life of the decayed CPU usage that the fair scheduler charges to a tenant, seconds. */
  halfLifeSeconds: number;
}

export interface JobOutcome {
  /** succeeded | cancelled | timed_out are final; `failed` requeues while attempts remain. */
  state: Extract<JobState, 'succeeded' | 'failed' | 'cancelled' | 'timed_out'>;
  error?: string;
  /** Of this attempt (added to the job's totals, and charged to the tenant's fair-share usage). */
  cpuSeconds: number;
  wallSeconds: number;
  result?: { model: string; version: number };
  /** `false` for a failure that another attempt cannot fix (bad data): the job fails for good. */
  retry?: boolean;
  at: string;
  /**
   * Half-life of the fair-share usage the attempt's CPU-seconds are added to: pass the claims' own
   * ClaimRequest.halfLifeSeconds. Default DEFAULT_HALF_LIFE_SECONDS (src/jobs/fair-share.ts).
   */
  halfLifeSeconds?: number;
}

export interface JobRepo {
  /** Queues a job; refuses with `queue_full` (429, Retry-After) at the tenant's queued-jobs quota. */
  enqueue(scope: TenantScope, job: NewJob, limits: { maxQueued: number }): Promise<Job>;
  get(scope: TenantScope, id: string): Promise<Job | null>;
  list(scope: TenantScope, filter?: JobFilter): Promise<Job[]>;
  /** Queued → cancelled at once; running → cancelRequested (the worker stops it). Null if absent. */
  requestCancel(scope: TenantScope, id: string, at: string): Promise<Job | null>;
  /**
   * Worker side (system). Atomically claims the next job by weighted fair share across tenants, within
   * each tenant's concurrency cap and the global cap, or returns null.
   */
  claim(req: ClaimRequest): Promise<Job | null>;
  /** Renews the lease and records progress; `ok: false` when the lease was lost. */
  heartbeat(
    jobId: string,
    workerId: string,
    leaseExpiresAt: string,
    progress: JobProgress | null,
  ): Promise<{ ok: boolean; cancelRequested: boolean }>;
  /**
   * Ends the attempt if this worker still holds the lease; null otherwise (someone else owns it). A failed
   * attempt of a job whose cancel was requested ends it as cancelled instead of requeueing it.
   */
  finish(jobId: string, workerId: string, outcome: JobOutcome): Promise<Job | null>;
  /**
   * Returns jobs whose lease expired to the queue (or fails them when attempts ran out; cancels them when
   * a cancel was requested).
   */
  requeueExpired(now: string): Promise<{ requeued: string[]; failed: string[]; cancelled: string[] }>;
  /** Queued and running jobs per tenant (metrics, benchmarks). */
  counts(): Promise<{ tenantId: string; queued: number; running: number }[]>;
}

export interface ModelVersion {
  tenantId: string;
  model: string;
  version: number;
  mode: ModelMode;
  task: string;
  algorithm: string;
  params: Record<string, unknown>;
  metrics: Record<string, number>;
  /** The dataset versions that trained it (one for tenant models). */
  datasets: { tenantId: string; name: string; version: number; rows: number }[];
  /** Artifact prefix under the tenant: `<prefix>/model.onnx`, `featurizer.json`, `model.json`. */
  artifact: string;
  /** sha256 of model.onnx, hex. */
  checksum: string;
  /** The job that trained it; unique, so a retried job never registers twice. */
  jobId: string | null;
  /** Tuned versions: the base they were trained from. */
  base: { model: string; version: number } | null;
  createdAt: string;
  createdBy: string;
}

export interface ModelSummary {
  name: string;
  latestVersion: number;
  liveVersion: number | null;
  versions: number;
  createdAt: string;
}

/** One change of a model's live version, kept so that a rollback knows where to go back to. */
export interface ModelLiveChange {
  model: string;
  /** The version live before the change (null when none was). */
  fromVersion: number | null;
  toVersion: number;
  /** Key id of whoever made the change. */
  actor: string;
  at: string;
  reason: 'promote' | 'rollback';
}

export interface ModelRepo {
  /**
   * Registers the next version (creating the model on its first). Idempotent on jobId: a second call
   * with the same job id returns the version registered the first time.
   */
  register(scope: TenantScope, v: Omit<ModelVersion, 'version' | 'tenantId'>): Promise<ModelVersion>;
  list(scope: TenantScope): Promise<ModelSummary[]>;
  get(scope: TenantScope, name: string): Promise<ModelSummary | null>;
  versions(scope: TenantScope, name: string): Promise<ModelVersion[]>;
  version(scope: TenantScope, name: string, version: number): Promise<ModelVersion | null>;
  /**
   * Makes `version` live and records the change. Promoting the version already live changes nothing.
   * `not_found` (AppError) when the model or the version does not exist in this tenant.
   */
  promote(
    scope: TenantScope,
    name: string,
    version: number,
    actorKeyId: string,
    at: string,
  ): Promise<ModelSummary>;
  /**
   * Makes live again the version that was live before the current one: promotions stack up, each rollback
   * undoes one. `not_found` for a missing model; `conflict` when no earlier live version is left.
   */
  rollback(scope: TenantScope, name: string, actorKeyId: string, at: string): Promise<ModelSummary>;
  /** The model's live-version changes, oldest first; empty for a missing model. */
  liveHistory(scope: TenantScope, name: string): Promise<ModelLiveChange[]>;
}

export interface Store {
  readonly dialect: 'sqlite' | 'postgres';
  readonly capabilities: StoreCapabilities;
  readonly tenants: TenantRepo;
  readonly keys: KeyRepo;
  readonly datasets: DatasetRepo;
  readonly audit: AuditRepo;
  readonly jobs: JobRepo;
  readonly models: ModelRepo;
  /** True when the database answers. */
  ping(): Promise<boolean>;
  close(): Promise<void>;
}
