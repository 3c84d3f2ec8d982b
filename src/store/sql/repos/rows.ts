// Rows to domain objects. Both dialects read back through here, which absorbs their differences:
// booleans as 0/1 or true/false, bigints and counts as numbers or strings.
import type { Selectable } from 'kysely';
import type { Quotas, Tier } from '../../../core/tiers.ts';
import type {
  ApiKeyRecord,
  AuditEntry,
  AuditOutcome,
  ConsentChange,
  DatasetSchema,
  DatasetVersion,
  Role,
  Tenant,
} from '../../../core/types.ts';
import type {
  ApiKeysTable,
  AuditEntriesTable,
  ConsentChangesTable,
  DatasetVersionsTable,
  TenantsTable,
} from '../schema.ts';

export const bool = (v: boolean | number): boolean => v === true || v === 1;
export const num = (v: number | string | bigint | null | undefined): number => (v == null ? 0 : Number(v));

export function toTenant(r: Selectable<TenantsTable>): Tenant {
  return {
    id: r.id,
    name: r.name,
    tier: r.tier as Tier,
    sharedTraining: bool(r.shared_training),
    quotaOverrides: JSON.parse(r.quota_overrides) as Partial<Quotas>,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

export function toConsent(
  r: Pick<Selectable<ConsentChangesTable>, 'tenant_id' | 'shared_training' | 'changed_by' | 'changed_at'>,
): ConsentChange {
  return {
    tenantId: r.tenant_id,
    sharedTraining: bool(r.shared_training),
    changedBy: r.changed_by,
    changedAt: r.changed_at,
  };
}

export function toKey(r: Selectable<ApiKeysTable>): ApiKeyRecord {
  return {
    id: r.id,
    tenantId: r.tenant_id,
    role: r.role as Role,
    hash: r.hash,
    createdAt: r.created_at,
    createdBy: r.created_by,
    revokedAt: r.revoked_at,
    lastUsedAt: r.last_used_at,
  };
}

export function toVersion(r: Selectable<DatasetVersionsTable>): DatasetVersion {
  return {
    tenantId: r.tenant_id,
    name: r.name,
    version: num(r.version),
    rows: num(r.rows),
    schema: JSON.parse(r.schema) as DatasetSchema,
    sha256: r.sha256,
    storedBytes: num(r.stored_bytes),
    artifact: r.artifact,
    format: r.format as DatasetVersion['format'],
    createdAt: r.created_at,
    createdBy: r.created_by,
  };
}

export function toAuditEntry(r: Selectable<AuditEntriesTable>): AuditEntry {
  return {
    seq: num(r.seq),
    tenantId: r.tenant_id,
    actorKeyId: r.actor_key_id,
    actorRole: r.actor_role as AuditEntry['actorRole'],
    action: r.action,
    target: r.target,
    outcome: r.outcome as AuditOutcome,
    requestId: r.request_id,
    at: r.at,
    prevHash: r.prev_hash,
    hash: r.hash,
  };
}
