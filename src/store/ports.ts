// The metadata store's port. Services receive a Store; SQLite and PostgreSQL adapters implement it
// (src/store/sql/). Every tenant-owned call takes a TenantScope; the few calls that are not scoped
// (tenant administration, key lookup before the tenant is known) say so in their names.
import type { AdviceResult } from '../core/advice.ts';
import type {
  Audience,
  Job,
  JobFilter,
  JobProgress,
  JobResult,
  JobState,
  ModelMode,
  ModelRef,
  TrainSpec,
} from '../core/jobs.ts';
import type {
  Budget,
  UsageEvent,
  Granularity as UsageGranularity,
  UsageKind,
  UsageOrigin,
} from '../core/metering.ts';
import type {
  AlertEvent,
  AlertPayload,
  Granularity,
  PolicyTrigger,
  RetrainPolicy,
} from '../core/monitoring.ts';
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
  result?: JobResult;
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
  /** System: one job by id, whatever its tenant (the worker reading back a job that requeueExpired ended). */
  getById(jobId: string): Promise<Job | null>;
  /** Queued and running jobs per tenant (metrics, benchmarks). */
  counts(): Promise<{ tenantId: string; queued: number; running: number }[]>;
  /** The tenant's queued and running jobs, counted (GET /v1/quotas). */
  countOf(scope: TenantScope): Promise<{ queued: number; running: number }>;
}

export interface ModelVersion {
  /** The owning namespace: a tenant, or SHARED_NAMESPACE for shared models. */
  tenantId: string;
  model: string;
  version: number;
  mode: ModelMode;
  task: string;
  algorithm: string;
  params: Record<string, unknown>;
  metrics: Record<string, number>;
  /**
   * The dataset versions that trained it: one for tenant and tuned models (the tenant's own), one per
   * contributing tenant for pooled shared models, none for imported ones. `rows` is what each gave.
   */
  datasets: { tenantId: string; name: string; version: number; rows: number }[];
  /** Artifact prefix under the namespace: `<prefix>/model.onnx`, `featurizer.json`, `model.json`, `fitted.json`. */
  artifact: string;
  /** sha256 of model.onnx, hex. */
  checksum: string;
  /** The job that trained it; unique, so a retried job never registers twice. Null for imports. */
  jobId: string | null;
  /** Tuned versions: the shared version they were trained from. */
  base: ModelRef | null;
  /**
   * `tainted`: it holds data that may no longer be used (consent withdrawn, dataset or tenant deleted),
   * or its base does. A tainted live version is replaced as soon as a clean successor registers.
   */
  status: ModelStatus;
  taint: { at: string; reason: string } | null;
  createdAt: string;
  createdBy: string;
}

export type ModelStatus = 'ok' | 'tainted';

/** What `register` is given: the number, namespace and taint fields are the store's. */
export type NewModelVersion = Omit<ModelVersion, 'version' | 'tenantId' | 'status' | 'taint'> & {
  /** Register already tainted (a source lost its consent while the job ran). */
  taint?: { at: string; reason: string };
  /** An advisor's candidate: never made live by registering (only by promotion or autoPromote). */
  candidate?: boolean;
};

/** One source of data inside one model version: the answer to "which models hold tenant X's data?". */
export interface ProvenanceRecord {
  /** The model version's namespace (SHARED_NAMESPACE, or the tenant of a tuned model). */
  tenantId: string;
  model: string;
  version: number;
  mode: ModelMode;
  status: ModelStatus;
  live: boolean;
  source: { tenantId: string; dataset: string; version: number; rows: number };
  /** Set when the data came in through a tuned model's base (the base version), else null. */
  via: ModelRef | null;
}

export interface ModelSummary {
  name: string;
  latestVersion: number;
  liveVersion: number | null;
  versions: number;
  /** Shared models: who may resolve them (null until published; tenant models: always null). */
  audience: Audience | null;
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
  /** `successor`: a clean version registered while the live one was tainted, and replaced it. */
  reason: 'promote' | 'rollback' | 'successor';
}

export interface ModelRepo {
  /**
   * Registers the next version (creating the model on its first) and records its provenance: one row
   * per entry of `datasets`, plus — for a tuned version — a copy of its base's rows marked `via` the
   * base. The new version becomes live when the model has none live, or when the live version is
   * tainted and the new one is clean (recorded as a `successor` change). Idempotent on jobId: a second
   * call with the same job id returns the version registered the first time.
   */
  register(scope: TenantScope, v: NewModelVersion): Promise<ModelVersion>;
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
  /** Shared namespace: sets who may resolve the model. `not_found` for a missing model. */
  setAudience(scope: TenantScope, name: string, audience: Audience): Promise<ModelSummary>;
  /** The provenance rows of one version (its sources, with the ones that came through its base). */
  provenance(scope: TenantScope, name: string, version: number): Promise<ProvenanceRecord[]>;
  /**
   * System (every namespace): every model version holding data of `sourceTenantId` — directly or
   * through a tuned model's base — optionally only data from its dataset `dataset`. Oldest first.
   */
  holdingDataOf(sourceTenantId: string, dataset?: string): Promise<ProvenanceRecord[]>;
  /**
   * System: marks the given versions tainted, and with them every tuned version (any tenant) whose base
   * is one of them, in one transaction. Already tainted versions keep their first reason. Returns the
   * versions newly tainted.
   */
  taint(versions: (ModelRef & { tenantId: string })[], reason: string, at: string): Promise<ModelVersion[]>;
  /** System: tuned versions in every tenant whose base is a version of the shared model `model`. */
  tunedOn(model: string): Promise<ModelVersion[]>;
}

export interface Advice {
  id: string;
  tenantId: string;
  model: string;
  dataset: string;
  datasetVersion: number;
  target: string;
  /** The shared version evaluated (the one the tenant would resolve), null when none is published to it. */
  shared: ModelRef | null;
  /** The candidate training jobs: tenant-specific, and tuned when a shared base exists. */
  jobs: { tenant: string; tuned: string | null };
  autoPromote: boolean;
  state: 'running' | 'done' | 'failed';
  result: AdviceResult | null;
  /** Why it failed (no data values). */
  error: string | null;
  createdAt: string;
  createdBy: string;
  finishedAt: string | null;
}

export interface AdviceRepo {
  create(
    scope: TenantScope,
    a: Omit<Advice, 'tenantId' | 'state' | 'result' | 'error' | 'finishedAt'>,
  ): Promise<Advice>;
  get(scope: TenantScope, id: string): Promise<Advice | null>;
  /** Newest first. */
  list(scope: TenantScope, model?: string): Promise<Advice[]>;
  /** Ends a running advice (once: a second call returns null and changes nothing). */
  finish(
    scope: TenantScope,
    id: string,
    end: { state: 'done' | 'failed'; result: AdviceResult | null; error: string | null; at: string },
  ): Promise<Advice | null>;
}

// ---- the MLOps loop: monitoring windows, feedback, retraining policies, webhooks ------------------

/** One monitoring window of one model version: a mergeable aggregate of what was predicted in it. */
export interface MonitorWindow {
  tenantId: string;
  model: string;
  version: number;
  granularity: Granularity;
  /** ISO start of the window (core/monitoring.ts windowStart). */
  start: string;
  /** Predictions folded in. */
  rows: number;
  /** The mergeable aggregate (src/ml/drift WindowAggregate), stored as JSON. */
  aggregate: unknown;
  /** The latest assessment of the window (src/ml/drift WindowReport), null until assessed. */
  report: unknown;
  updatedAt: string;
}

/** How far the monitoring loop has read one model's prediction log. */
export interface MonitorCursor {
  model: string;
  /** The last prediction-log batch key folded in (keys sort by time); null before the first. */
  lastKey: string | null;
  updatedAt: string;
}

export interface FeedbackItem {
  model: string;
  predictionId: string;
  /** The true label (classification) or value (regression), as the client sent it. */
  label: string | number | boolean;
  receivedAt: string;
}

export interface MonitorRepo {
  cursor(scope: TenantScope, model: string): Promise<MonitorCursor | null>;
  /**
   * Saves the windows (insert or replace by model, version, granularity, start) and moves the cursor, in
   * one transaction: a crash never folds a batch twice or loses one. With `expectedLastKey` (the cursor's
   * lastKey when the caller read it; null for none) the commit happens only if the cursor has not moved
   * meanwhile — otherwise `conflict` (AppError) and nothing is written — so two monitoring processes can
   * never fold the same batch twice.
   */
  commit(
    scope: TenantScope,
    model: string,
    windows: MonitorWindow[],
    cursor: MonitorCursor | null,
    expectedLastKey?: string | null,
  ): Promise<void>;
  window(
    scope: TenantScope,
    model: string,
    version: number,
    granularity: Granularity,
    start: string,
  ): Promise<MonitorWindow | null>;
  /** Newest first. */
  windows(
    scope: TenantScope,
    model: string,
    q?: { granularity?: Granularity; version?: number; from?: string; to?: string; limit?: number },
  ): Promise<MonitorWindow[]>;
  /** System: the tenant models that have a live version (what the loop watches), in a stable order, paged. */
  watched(
    after: { tenantId: string; model: string } | null,
    limit: number,
  ): Promise<{ tenantId: string; model: string; liveVersion: number }[]>;
  /** Stores feedback; idempotent on (model, predictionId): the first label is kept, repeats are counted. */
  addFeedback(scope: TenantScope, items: FeedbackItem[]): Promise<{ accepted: number; duplicates: number }>;
  /** Feedback not yet folded into a window, oldest first. */
  pendingFeedback(scope: TenantScope, model: string, limit: number): Promise<FeedbackItem[]>;
  /** Marks feedback folded (`matched`) or given up (`unmatched`: its prediction is not in the log). */
  settleFeedback(
    scope: TenantScope,
    model: string,
    predictionIds: string[],
    outcome: 'matched' | 'unmatched',
  ): Promise<void>;
}

export interface PolicyRecord {
  model: string;
  policy: RetrainPolicy;
  lastFiredAt: string | null;
  lastTrigger: PolicyTrigger | null;
  updatedAt: string;
}

export interface PolicyRepo {
  get(scope: TenantScope, model: string): Promise<PolicyRecord | null>;
  put(scope: TenantScope, model: string, policy: RetrainPolicy, at: string): Promise<PolicyRecord>;
  /** False if there was none. */
  delete(scope: TenantScope, model: string): Promise<boolean>;
  /** Records that the policy fired (the cooldown counts from here). */
  fired(scope: TenantScope, model: string, trigger: PolicyTrigger, at: string): Promise<void>;
  /** System: every policy with its tenant. */
  listAll(): Promise<(PolicyRecord & { tenantId: string })[]>;
}

export interface Webhook {
  id: string;
  tenantId: string;
  url: string;
  events: AlertEvent[];
  createdAt: string;
  createdBy: string;
}

export interface WebhookDelivery {
  id: string;
  tenantId: string;
  webhookId: string;
  event: AlertEvent;
  payload: AlertPayload;
  state: 'pending' | 'delivered' | 'failed';
  attempts: number;
  /** When the next attempt is due (pending), or null. */
  nextAttemptAt: string | null;
  lastStatus: number | null;
  lastError: string | null;
  createdAt: string;
  deliveredAt: string | null;
}

export interface WebhookRepo {
  /** `secret` is the signing secret, already encrypted with the tenant's data key. */
  create(scope: TenantScope, w: Webhook, secret: Buffer): Promise<Webhook>;
  list(scope: TenantScope): Promise<Webhook[]>;
  get(scope: TenantScope, id: string): Promise<Webhook | null>;
  /** The encrypted signing secret, or null. */
  secret(scope: TenantScope, id: string): Promise<Buffer | null>;
  /** Removes the webhook and its pending deliveries; false if absent. */
  delete(scope: TenantScope, id: string): Promise<boolean>;
  /** Queues deliveries (pending, due at `nextAttemptAt`). */
  enqueue(scope: TenantScope, deliveries: WebhookDelivery[]): Promise<void>;
  /**
   * System: claims up to `limit` pending deliveries due at `now`, pushing their due time to `leaseUntil`
   * so that no other worker sends them meanwhile. Oldest first.
   */
  claimDue(now: string, leaseUntil: string, limit: number): Promise<WebhookDelivery[]>;
  /** System: records an attempt's outcome. */
  record(
    id: string,
    r: Pick<
      WebhookDelivery,
      'state' | 'attempts' | 'nextAttemptAt' | 'lastStatus' | 'lastError' | 'deliveredAt'
    >,
  ): Promise<void>;
  /** Newest first. */
  deliveries(scope: TenantScope, webhookId: string, limit: number): Promise<WebhookDelivery[]>;
}

/** One sum of usage: a tenant, a period (its start, ISO), a kind and an origin. */
export interface UsageSum {
  tenantId: string;
  period: string;
  kind: UsageKind;
  origin: UsageOrigin;
  quantity: number;
}

export interface UsageQuery {
  /** [from, to), ISO instants; events are bucketed by their `at`. */
  from: string;
  to: string;
  granularity: UsageGranularity;
}

/** Metered usage (docs/metering.md). Events are immutable; sums are read per period. */
export interface UsageRepo {
  /**
   * System: stores events (any tenants); an event whose id is already stored is skipped, so a replayed
   * batch counts once. Events of a tenant that no longer exists are dropped. Returns how many were new.
   */
  record(
    events: UsageEvent[],
    opts?: {
      /** Called, after the commit, for each event newly stored (the Prometheus usage counter counts these). */
      onStored?(e: Pick<UsageEvent, 'tenantId' | 'kind' | 'quantity'>): void;
    },
  ): Promise<number>;
  /** The tenant's sums per period, kind and origin over the range. */
  sums(scope: TenantScope, q: UsageQuery): Promise<UsageSum[]>;
  /** System/operator: every tenant's sums (the shared namespace included). */
  sumsAll(q: UsageQuery): Promise<UsageSum[]>;
}

/** Budgets and the thresholds already alerted (each alerts once a month). */
export interface BudgetRepo {
  get(scope: TenantScope): Promise<Budget | null>;
  put(scope: TenantScope, b: Budget, at: string): Promise<Budget>;
  /** Removes the budget; false if there was none. */
  delete(scope: TenantScope): Promise<boolean>;
  /** System: every tenant's budget (the alert evaluator). */
  listAll(): Promise<{ tenantId: string; budget: Budget }[]>;
  /** Thresholds alerted in `month` (`YYYY-MM`). */
  alerted(scope: TenantScope, month: string): Promise<number[]>;
  /** Records that `threshold` alerted in `month`; false when it already had (exactly one caller wins). */
  markAlerted(scope: TenantScope, month: string, threshold: number, at: string): Promise<boolean>;
}

/** Operator: tier defaults edited at run time, layered over the built-in TIER_QUOTAS. */
export interface TierQuotaRepo {
  /** The edited quotas of every tier (absent: the built-in defaults hold). */
  all(): Promise<Partial<Record<Tier, Partial<Quotas>>>>;
  /** Replaces a tier's edits: `quotas` holds every edited quota of that tier ({} restores the defaults). */
  set(tier: Tier, quotas: Partial<Quotas>, at: string): Promise<void>;
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
  readonly advice: AdviceRepo;
  readonly monitor: MonitorRepo;
  readonly policies: PolicyRepo;
  readonly webhooks: WebhookRepo;
  readonly usage: UsageRepo;
  readonly budgets: BudgetRepo;
  readonly tierQuotas: TierQuotaRepo;
  /** True when the database answers. */
  ping(): Promise<boolean>;
  close(): Promise<void>;
}
