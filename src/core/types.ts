// Domain types shared by services, stores and the API. Timestamps are ISO-8601 strings in UTC.
import type { Quotas, Tier } from './tiers.ts';

export type Role = 'admin' | 'predict';
export const ROLES: readonly Role[] = ['admin', 'predict'];

export interface Tenant {
  id: string;
  name: string;
  tier: Tier;
  sharedTraining: boolean;
  quotaOverrides: Partial<Quotas>;
  createdAt: string;
  updatedAt: string;
}

export interface ConsentChange {
  tenantId: string;
  sharedTraining: boolean;
  /** Key id of whoever changed it (`operator` for the operator's key). */
  changedBy: string;
  changedAt: string;
}

export interface ApiKeyRecord {
  id: string;
  tenantId: string;
  role: Role;
  /** sha256 of the secret, hex. The secret itself is never stored. */
  hash: string;
  createdAt: string;
  createdBy: string;
  revokedAt: string | null;
  lastUsedAt: string | null;
}

/** The type a column was inferred to hold. */
export type ColumnType = 'numeric' | 'integer' | 'boolean' | 'categorical' | 'text' | 'datetime';

export interface ColumnSchema {
  name: string;
  type: ColumnType;
  nullable: boolean;
  /** Cells that were empty or null. */
  missing: number;
  /** Distinct non-null values, counted exactly up to a cap, then marked approximate. */
  distinct: number;
  distinctApprox: boolean;
  /** True when the column looks like it identifies a person (by name or by content). */
  identifying: boolean;
  /** Why it was flagged: 'name:email', 'content:email', … */
  identifyingReasons: string[];
  /** Numeric columns: min and max seen. */
  min?: number;
  max?: number;
}

export interface DatasetSchema {
  columns: ColumnSchema[];
}

export interface Dataset {
  tenantId: string;
  name: string;
  createdAt: string;
  latestVersion: number;
  versions: number;
}

export interface DatasetVersion {
  tenantId: string;
  name: string;
  version: number;
  rows: number;
  schema: DatasetSchema;
  /** sha256 of the uploaded body as received, hex. */
  sha256: string;
  /** Bytes of the stored (encrypted) artifact. */
  storedBytes: number;
  /** Artifact key under the tenant's prefix. */
  artifact: string;
  format: 'csv' | 'json' | 'ndjson';
  createdAt: string;
  createdBy: string;
}

export type AuditOutcome = 'ok' | 'denied' | 'failed';

export interface AuditEntry {
  /** Position in its chain, from 1. */
  seq: number;
  /** The tenant whose chain it belongs to; null for operator-level entries (tenant creation, …). */
  tenantId: string | null;
  actorKeyId: string;
  actorRole: 'operator' | Role | 'system';
  action: string;
  target: string;
  outcome: AuditOutcome;
  requestId: string | null;
  at: string;
  prevHash: string;
  hash: string;
}

export type NewAuditEntry = Omit<AuditEntry, 'seq' | 'prevHash' | 'hash'>;
