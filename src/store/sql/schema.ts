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
  schema_migrations: SchemaMigrationsTable;
}

/** The chain key of the operator's audit chain; `_` cannot start a tenant id, so it never collides. */
export const OPERATOR_CHAIN = '_operator';
