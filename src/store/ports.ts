// The metadata store's port. Services receive a Store; SQLite and PostgreSQL adapters implement it
// (src/store/sql/). Every tenant-owned call takes a TenantScope; the few calls that are not scoped
// (tenant administration, key lookup before the tenant is known) say so in their names.
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

export interface Store {
  readonly dialect: 'sqlite' | 'postgres';
  readonly capabilities: StoreCapabilities;
  readonly tenants: TenantRepo;
  readonly keys: KeyRepo;
  readonly datasets: DatasetRepo;
  readonly audit: AuditRepo;
  /** True when the database answers. */
  ping(): Promise<boolean>;
  close(): Promise<void>;
}
