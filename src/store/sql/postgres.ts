// The PostgreSQL adapter: a pg Pool, with tenant isolation enforced a second time by row-level security.
//
// Roles. Superusers and table owners bypass row-level security (owners only without FORCE, which we set,
// but an owner can still switch it off), so the application must never query as either:
// - Migrations run as the owner, on `adminUrl` (default: `url`). They create the NOLOGIN role
//   `tenantml_app` if it is absent (tolerating a concurrent creation), grant it DML on the tables and
//   nothing else, and enable + force RLS with one policy per tenant-owned table (see migrations.ts).
// - Two URLs given: the application connects with `url`, a login role that is a member of (or granted
//   like) `tenantml_app`. This is the strong setup: nothing the application sends can regain owner rights.
// - One URL given: every pooled connection runs `SET ROLE tenantml_app` as it is created, before it
//   serves any query, so every query runs as the non-owner role. This guards against application bugs
//   (a forgotten tenant filter), not against injected SQL, which could `RESET ROLE`; use two URLs for that.
// - At open, after the role switch, `current_user` is checked: a superuser, a BYPASSRLS role or a member of
//   the tables' owner refuses to start, since row-level security would silently not apply.
//
// Scoping. Tenant-scoped calls run in a transaction that first does
// `select set_config('app.tenant_id', <id>, true)`; system paths set `app.scope = 'system'` instead.
// `true` makes both transaction-local, so a pooled connection never carries a tenant over.
import { CompiledQuery, Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import type { SqlContext } from './context.ts';
import { APP_ROLE, migrate } from './migrations.ts';
import type { DB } from './schema.ts';

export interface PostgresOptions {
  url: string;
  adminUrl?: string;
  poolSize?: number;
}

export interface PostgresHandle {
  ctx: SqlContext;
  close(): Promise<void>;
}

// Two-key advisory locks: the class of lock, then the hashed id. Distinct from the migration lock's space.
const TENANT_LOCK_CLASS = 7417;

/** Runs the migrations on an owner connection, then closes it. */
async function migrateAsOwner(adminUrl: string): Promise<void> {
  const admin = new Kysely<DB>({
    dialect: new PostgresDialect({
      pool: new pg.Pool({ connectionString: adminUrl, max: 1 }).on('error', () => {}),
    }),
  });
  try {
    await migrate(admin, 'postgres');
  } finally {
    await admin.destroy();
  }
}

interface RoleCheck {
  user: string;
  rolsuper: boolean;
  rolbypassrls: boolean;
  owner_member: boolean;
}

/** Refuses a connection on which row-level security would not apply. */
async function assertRlsApplies(db: Kysely<DB>): Promise<void> {
  const { rows } = await sql<RoleCheck>`
    select current_user as user, r.rolsuper, r.rolbypassrls,
      coalesce((select pg_has_role(current_user, c.relowner, 'MEMBER')
                from pg_class c where c.oid = to_regclass('tenants')), false) as owner_member
    from pg_roles r where r.rolname = current_user`.execute(db);
  const r = rows[0];
  if (!r) throw new Error('tenantml: could not read the current PostgreSQL role');
  const why = r.rolsuper
    ? 'is a superuser'
    : r.rolbypassrls
      ? 'has BYPASSRLS'
      : r.owner_member
        ? 'owns the tables (or is a member of their owner)'
        : null;
  if (why)
    throw new Error(
      `tenantml: refusing to start: the application's PostgreSQL role "${r.user}" ${why}, so row-level ` +
        `security would not isolate tenants. Connect with a role granted like ${APP_ROLE} (url), and give ` +
        'the owner as adminUrl.',
    );
}

export async function openPostgres(opts: PostgresOptions): Promise<PostgresHandle> {
  await migrateAsOwner(opts.adminUrl ?? opts.url);
  const switchRole = opts.adminUrl === undefined;
  const pool = new pg.Pool({ connectionString: opts.url, max: opts.poolSize ?? 10 });
  // An idle connection the server closes (restart, failover) must not crash the process: the pool drops
  // it and the next query opens a new one.
  pool.on('error', () => {});
  const db = new Kysely<DB>({
    dialect: new PostgresDialect({
      pool,
      // Awaited before the connection serves anything: a failed SET ROLE fails the query, never runs it.
      onCreateConnection: switchRole
        ? async (conn) => {
            await conn.executeQuery(CompiledQuery.raw(`set role ${APP_ROLE}`));
          }
        : undefined,
    }),
  });
  try {
    await assertRlsApplies(db);
  } catch (e) {
    await db.destroy();
    throw e;
  }
  const inTx = <T>(name: 'app.tenant_id' | 'app.scope', value: string, fn: (trx: Kysely<DB>) => Promise<T>) =>
    db.transaction().execute(async (trx) => {
      await sql`select set_config(${name}, ${value}, true)`.execute(trx);
      return fn(trx);
    });
  const ctx: SqlContext = {
    dialect: 'postgres',
    capabilities: { rowLevelSecurity: true, singleWriter: false, crossProcess: true },
    db,
    scoped: (scope, fn) => inTx('app.tenant_id', scope.tenantId, fn),
    system: (fn) => inTx('app.scope', 'system', fn),
    lockTenant: async (trx, tenantId) => {
      await sql`select pg_advisory_xact_lock(${TENANT_LOCK_CLASS}, hashtext(${tenantId}))`.execute(trx);
    },
  };
  return { ctx, close: () => db.destroy() };
}
