// The tables as Kysely sees them. Both dialects share these shapes: timestamps are ISO text, JSON is text,
// bytes are Buffers. Booleans read back as 0/1 from SQLite and true/false from PostgreSQL, and counts or
// bigints may read back as strings from PostgreSQL, so repositories convert on the way out (rows.ts).
import type { ColumnType, Generated } from 'kysely';

/** Read as number (SQLite) or string (PostgreSQL bigint); written as number. */
type BigIntColumn = ColumnType<number | string, number, number>;
/** Read as 0/1 (SQLite) or boolean (PostgreSQL); written as boolean (the SQLite adapter binds 0/1). */
type BoolColumn = ColumnType<boolean | number, boolean, boolean>;

export interface TenantsTable {
  id: string;
  name: string;
  tier: string;
  shared_training: BoolColumn;
  /** JSON object of quota overrides. */
  quota_overrides: string;
  created_at: string;
  updated_at: string;
}

/** The tenant's data key wrapped by the master key. Deleting the row is the crypto-shredding. */
export interface TenantDataKeysTable {
  tenant_id: string;
  wrapped_key: Buffer;
  created_at: string;
}

export interface ConsentChangesTable {
  id: Generated<BigIntColumn>;
  tenant_id: string;
  shared_training: BoolColumn;
  changed_by: string;
  changed_at: string;
}

export interface ApiKeysTable {
  id: string;
  tenant_id: string;
  role: string;
  hash: string;
  created_at: string;
  created_by: string;
  revoked_at: string | null;
  last_used_at: string | null;
}

export interface DatasetsTable {
  tenant_id: string;
  name: string;
  created_at: string;
  /** The last version number handed out; the next addVersion takes latest_version + 1. */
  latest_version: number;
}

export interface DatasetVersionsTable {
  tenant_id: string;
  name: string;
  version: number;
  rows: BigIntColumn;
  /** JSON DatasetSchema. */
  schema: string;
  sha256: string;
  stored_bytes: BigIntColumn;
  artifact: string;
  format: string;
  created_at: string;
  created_by: string;
}

/**
 * One row per audit chain: its tip. Appends lock it (UPDATE … RETURNING) so concurrent appends to one
 * chain serialize, and verification compares the entries against it so that cutting the tail shows.
 */
export interface AuditHeadsTable {
  /** The tenant id, or OPERATOR_CHAIN for the operator's chain. */
  chain: string;
  tenant_id: string | null;
  seq: number;
  hash: string;
}

export interface AuditEntriesTable {
  chain: string;
  seq: number;
  tenant_id: string | null;
  actor_key_id: string;
  actor_role: string;
  action: string;
  target: string;
  outcome: string;
  request_id: string | null;
  at: string;
  prev_hash: string;
  hash: string;
}

/** Training jobs. JSON members (spec, progress, limits, result) are text. */
export interface JobsTable {
  /** Insertion order: the FIFO tie-break among jobs queued in the same millisecond. */
  seq: Generated<BigIntColumn>;
  id: string;
  tenant_id: string;
  kind: string;
  state: string;
  priority: number;
  /** spec.model, kept apart for filtering. */
  model: string;
  spec: string;
  attempts: number;
  max_attempts: number;
  lease_owner: string | null;
  lease_expires_at: string | null;
  cancel_requested: BoolColumn;
  progress: string | null;
  limits: string;
  cpu_seconds: number;
  wall_seconds: number;
  error: string | null;
  result: string | null;
  created_at: string;
  created_by: string;
  started_at: string | null;
  finished_at: string | null;
}

/** A tenant's CPU-seconds as of updated_at; the fair scheduler decays it lazily (src/jobs/fair-share.ts). */
export interface FairShareUsageTable {
  tenant_id: string;
  cpu_seconds: number;
  updated_at: string;
}

export interface ModelsTable {
  tenant_id: string;
  name: string;
  /** The last version number handed out. */
  latest_version: number;
  /** The version predictions use; the first registered version until the registry promotes another. */
  live_version: number | null;
  /** Shared models: JSON Audience ("all" or tenant ids); null while unpublished, and for tenant models. */
  audience: string | null;
  created_at: string;
}

export interface ModelVersionsTable {
  tenant_id: string;
  model: string;
  version: number;
  mode: string;
  task: string;
  algorithm: string;
  /** JSON objects and arrays: params, metrics, datasets, base (null when not tuned). */
  params: string;
  metrics: string;
  datasets: string;
  artifact: string;
  checksum: string;
  job_id: string | null;
  base: string | null;
  /** The base ref again as columns, for the queries across tenants (tunedOn, taint's cascade). */
  base_model: string | null;
  base_version: number | null;
  /** 'ok' | 'tainted'; tainted_at and taint_reason are set with the first taint and then kept. */
  status: ColumnType<string, string | undefined, string>;
  tainted_at: string | null;
  taint_reason: string | null;
  created_at: string;
  created_by: string;
}

/** Every change of a model's live version, in order (id), by promotion or rollback. */
export interface ModelLiveHistoryTable {
  id: Generated<BigIntColumn>;
  tenant_id: string;
  model: string;
  from_version: number | null;
  to_version: number;
  actor: string;
  at: string;
  /** 'promote' | 'rollback' | 'successor' */
  reason: string;
}

/**
 * One source of data in one model version. tenant_id is the version's namespace; source_tenant_id has
 * no foreign key, so the row outlives the source tenant. via_* name the base when the data came in
 * through a tuned model's base.
 */
export interface ModelProvenanceTable {
  id: Generated<BigIntColumn>;
  tenant_id: string;
  model: string;
  version: number;
  source_tenant_id: string;
  dataset: string;
  dataset_version: number;
  rows: BigIntColumn;
  via_model: string | null;
  via_version: number | null;
}

/** A comparison of the three approaches for one tenant's model. JSON members (shared, jobs, result) are text. */
export interface AdviceTable {
  /** Insertion order: the newest-first tie-break. */
  seq: Generated<BigIntColumn>;
  id: string;
  tenant_id: string;
  model: string;
  dataset: string;
  dataset_version: number;
  target: string;
  shared: string | null;
  jobs: string;
  auto_promote: BoolColumn;
  /** 'running' | 'done' | 'failed' */
  state: string;
  result: string | null;
  error: string | null;
  created_at: string;
  created_by: string;
  finished_at: string | null;
}

/** One monitoring window of one model version. aggregate and report are JSON (src/ml/drift). */
export interface MonitorWindowsTable {
  tenant_id: string;
  model: string;
  version: number;
  /** 'hour' | 'day' */
  granularity: string;
  start: string;
  rows: BigIntColumn;
  aggregate: string;
  report: string | null;
  updated_at: string;
}

/** How far the monitoring loop has read one model's prediction log in one tenant's namespace. */
export interface MonitorCursorsTable {
  tenant_id: string;
  model: string;
  last_key: string | null;
  updated_at: string;
}

/** True labels sent for predictions; the first per prediction is kept. */
export interface MonitorFeedbackTable {
  /** Insertion order: the oldest-first tie-break. */
  seq: Generated<BigIntColumn>;
  tenant_id: string;
  model: string;
  prediction_id: string;
  /** JSON: the label as the client sent it (string, number or boolean). */
  label: string;
  received_at: string;
  /** 'pending' | 'matched' | 'unmatched' */
  state: string;
}

export interface RetrainPoliciesTable {
  tenant_id: string;
  model: string;
  /** JSON RetrainPolicy. */
  policy: string;
  last_fired_at: string | null;
  last_trigger: string | null;
  updated_at: string;
}

export interface WebhooksTable {
  tenant_id: string;
  id: string;
  url: string;
  /** JSON array of AlertEvent. */
  events: string;
  /** The signing secret, encrypted with the tenant's data key by the caller. */
  secret: Buffer;
  created_at: string;
  created_by: string;
}

export interface WebhookDeliveriesTable {
  /** Insertion order: the oldest-first tie-break for claims and listings. */
  seq: Generated<BigIntColumn>;
  id: string;
  tenant_id: string;
  webhook_id: string;
  event: string;
  /** JSON AlertPayload. */
  payload: string;
  /** 'pending' | 'delivered' | 'failed' */
  state: string;
  attempts: number;
  /** Due time while pending (a claim pushes it to the lease's end); null once delivered or failed. */
  next_attempt_at: string | null;
  last_status: number | null;
  last_error: string | null;
  created_at: string;
  delivered_at: string | null;
}

/** One metered event (migration 6). Immutable; the id makes a replay count once. */
export interface UsageEventsTable {
  id: string;
  tenant_id: string;
  /** A UsageKind. */
  kind: string;
  quantity: number;
  at: string;
  /** The start of the hour holding `at` (ISO): the day and month are its prefixes. */
  hour: string;
  subject: string | null;
  /** 'own' | 'shared' */
  origin: string;
}

/** Usage summed per tenant, hour, kind and origin: what the sums read (kept by UsageRepo.record). */
export interface UsageHourlyTable {
  tenant_id: string;
  hour: string;
  kind: string;
  origin: string;
  quantity: number;
}

export interface BudgetsTable {
  tenant_id: string;
  monthly: number;
  /** JSON array of fractions of monthly. */
  alert_at: string;
  hard_limit: BoolColumn;
  block_predictions: BoolColumn;
  /** `YYYY-MM` the operator lifted the hard limit for, or null. */
  override_month: string | null;
  updated_at: string;
}

/** A threshold that alerted in a month: the primary key makes each alert once. */
export interface BudgetAlertsTable {
  tenant_id: string;
  /** `YYYY-MM` */
  month: string;
  threshold: number;
  at: string;
}

/** The operator's edits of a tier's default quotas (not tenant-owned). */
export interface TierQuotasTable {
  tier: string;
  /** JSON object: Partial<Quotas>. */
  quotas: string;
  updated_at: string;
}

export interface SchemaMigrationsTable {
  id: number;
  name: string;
  applied_at: string;
}

export interface DB {
  tenants: TenantsTable;
  tenant_data_keys: TenantDataKeysTable;
  consent_changes: ConsentChangesTable;
  api_keys: ApiKeysTable;
  datasets: DatasetsTable;
  dataset_versions: DatasetVersionsTable;
  audit_heads: AuditHeadsTable;
  audit_entries: AuditEntriesTable;
  jobs: JobsTable;
  fair_share_usage: FairShareUsageTable;
  models: ModelsTable;
  model_versions: ModelVersionsTable;
  model_live_history: ModelLiveHistoryTable;
  model_provenance: ModelProvenanceTable;
  advice: AdviceTable;
  monitor_windows: MonitorWindowsTable;
  monitor_cursors: MonitorCursorsTable;
  monitor_feedback: MonitorFeedbackTable;
  retrain_policies: RetrainPoliciesTable;
  webhooks: WebhooksTable;
  webhook_deliveries: WebhookDeliveriesTable;
  usage_events: UsageEventsTable;
  usage_hourly: UsageHourlyTable;
  budgets: BudgetsTable;
  budget_alerts: BudgetAlertsTable;
  tier_quotas: TierQuotasTable;
  schema_migrations: SchemaMigrationsTable;
}

/** The chain key of the operator's audit chain; `_` cannot start a tenant id, so it never collides. */
export const OPERATOR_CHAIN = '_operator';
