// What the repositories need from a dialect, declared once: how to run a tenant-scoped or a system
// transaction and how to serialize a tenant's writers.
// Repositories branch on these members, never on the dialect's name.
import type { Kysely } from 'kysely';
import type { TenantScope } from '../../core/scope.ts';
import type { StoreCapabilities } from '../ports.ts';
import type { SqlDialect } from './migrations.ts';
import type { DB } from './schema.ts';

export type Db = Kysely<DB>;

export interface SqlContext {
  readonly dialect: SqlDialect;
  readonly capabilities: StoreCapabilities;
  readonly db: Db;
  /**
   * Runs fn in a transaction bound to one tenant. On PostgreSQL the transaction first sets
   * `app.tenant_id`, so row-level security admits only that tenant's rows whatever the query says.
   */
  scoped<T>(scope: TenantScope, fn: (trx: Db) => Promise<T>): Promise<T>;
  /**
   * Runs fn in a transaction that may cross tenants (`app.scope = 'system'` on PostgreSQL). Only
   * tenant administration, key lookup during authentication and the operator's audit paths use it.
   */
  system<T>(fn: (trx: Db) => Promise<T>): Promise<T>;
  /**
   * Serializes writers of one tenant until the transaction ends (quota checks that count, then insert).
   * SQLite needs nothing: its single connection already runs one transaction at a time.
   */
  lockTenant(trx: Db, tenantId: string): Promise<void>;
}
