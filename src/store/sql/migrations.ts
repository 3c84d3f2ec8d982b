// The schema's history: an ordered list of migrations, applied once each and recorded in
// `schema_migrations`. Running them is idempotent and safe at every start, and from several processes at
// once: PostgreSQL takes an advisory transaction lock, SQLite a write lock (BEGIN IMMEDIATE), and all
// pending migrations apply in one transaction (both databases have transactional DDL).
import { type Kysely, sql } from 'kysely';

export type SqlDialect = 'sqlite' | 'postgres';

/** The PostgreSQL role every application query runs as: not an owner, not a superuser, DML only. */
export const APP_ROLE = 'tenantml_app';

/** Column types that differ between the dialects; migrations write `${t.bool}` and so on. */
export interface TypeNames {
  bool: string;
  bytes: string;
  bigint: string;
  /** A double-precision float. */
  float: string;
  /** An auto-numbered integer primary key. */
  serialKey: string;
}

const TYPES: Record<SqlDialect, TypeNames> = {
  sqlite: {
    bool: 'integer',
    bytes: 'blob',
    bigint: 'integer',
    float: 'real',
    serialKey: 'integer primary key autoincrement',
  },
  postgres: {
    bool: 'boolean',
    bytes: 'bytea',
    bigint: 'bigint',
    float: 'double precision',
    serialKey: 'bigint generated always as identity primary key',
  },
};

export interface TenantTable {
  table: string;
  /** The column naming the owning tenant (row-level security compares it with app.tenant_id). */
  column: string;
}

export interface Migration {
  id: number;
  name: string;
  /** Single statements (better-sqlite3 prepares one at a time), in order. */
  up(t: TypeNames, dialect: SqlDialect): string[];
  /**
   * Tables this migration creates that a tenant owns. On PostgreSQL the runner enables and forces
   * row-level security on each with the one tenant policy, and grants DML on it to the application role.
   */
  tenantTables: TenantTable[];
  /**
   * Tables the application uses that no tenant owns (operator-level data): DML grants, no tenant policy.
   * A table with a tenant column belongs in tenantTables instead (a schema test checks).
   */
  appTables?: string[];
}

export const MIGRATIONS: readonly Migration[] = [
  {
    id: 1,
    name: 'tenants, keys, datasets, audit',
    up: (t) => [
      `create table tenants (
        id text primary key,
        name text not null,
        tier text not null,
        shared_training ${t.bool} not null,
        quota_overrides text not null default '{}',
        created_at text not null,
        updated_at text not null
      )`,
      `create table tenant_data_keys (
        tenant_id text primary key references tenants(id) on delete cascade,
        wrapped_key ${t.bytes} not null,
        created_at text not null
      )`,
      `create table consent_changes (
        id ${t.serialKey},
        tenant_id text not null references tenants(id) on delete cascade,
        shared_training ${t.bool} not null,
        changed_by text not null,
        changed_at text not null
      )`,
      'create index consent_changes_tenant on consent_changes (tenant_id, id)',
      `create table api_keys (
        id text primary key,
        tenant_id text not null references tenants(id) on delete cascade,
        role text not null,
        hash text not null,
        created_at text not null,
        created_by text not null,
        revoked_at text,
        last_used_at text
      )`,
      'create index api_keys_tenant on api_keys (tenant_id, created_at)',
      `create table datasets (
        tenant_id text not null references tenants(id) on delete cascade,
        name text not null,
        created_at text not null,
        latest_version integer not null,
        primary key (tenant_id, name)
      )`,
      `create table dataset_versions (
        tenant_id text not null references tenants(id) on delete cascade,
        name text not null,
        version integer not null,
        rows ${t.bigint} not null,
        schema text not null,
        sha256 text not null,
        stored_bytes ${t.bigint} not null,
        artifact text not null,
        format text not null,
        created_at text not null,
        created_by text not null,
        primary key (tenant_id, name, version),
        foreign key (tenant_id, name) references datasets(tenant_id, name) on delete cascade
      )`,
      `create table audit_heads (
        chain text primary key,
        tenant_id text references tenants(id) on delete cascade,
        seq integer not null,
        hash text not null,
        check ((tenant_id is null and chain = '_operator') or chain = tenant_id)
      )`,
      `create table audit_entries (
        chain text not null,
        seq integer not null,
        tenant_id text references tenants(id) on delete cascade,
        actor_key_id text not null,
        actor_role text not null,
        action text not null,
        target text not null,
        outcome text not null,
        request_id text,
        at text not null,
        prev_hash text not null,
        hash text not null,
        primary key (chain, seq),
        check ((tenant_id is null and chain = '_operator') or chain = tenant_id)
      )`,
      'create index audit_entries_at on audit_entries (at, chain, seq)',
    ],
    tenantTables: [
      { table: 'tenants', column: 'id' },
      { table: 'tenant_data_keys', column: 'tenant_id' },
      { table: 'consent_changes', column: 'tenant_id' },
      { table: 'api_keys', column: 'tenant_id' },
      { table: 'datasets', column: 'tenant_id' },
      { table: 'dataset_versions', column: 'tenant_id' },
      { table: 'audit_heads', column: 'tenant_id' },
      { table: 'audit_entries', column: 'tenant_id' },
    ],
  },
  {
    id: 2,
    name: 'jobs, fair-share usage, models and their versions',
    up: (t) => [
      // seq orders jobs FIFO exactly even when two share a created_at; id is the public handle.
      `create table jobs (
        seq ${t.serialKey},
        id text not null unique,
        tenant_id text not null references tenants(id) on delete cascade,
        kind text not null,
        state text not null,
        priority integer not null,
        model text not null,
        spec text not null,
        attempts integer not null,
        max_attempts integer not null,
        lease_owner text,
        lease_expires_at text,
        cancel_requested ${t.bool} not null,
        progress text,
        limits text not null,
        cpu_seconds ${t.float} not null,
        wall_seconds ${t.float} not null,
        error text,
        result text,
        created_at text not null,
        created_by text not null,
        started_at text,
        finished_at text
      )`,
      'create index jobs_claim on jobs (state, tenant_id, priority, created_at, seq)',
      'create index jobs_lease on jobs (state, lease_expires_at)',
      'create index jobs_list on jobs (tenant_id, created_at, seq)',
      // One row per tenant that has used CPU: the value as of updated_at, decayed lazily when read.
      `create table fair_share_usage (
        tenant_id text primary key references tenants(id) on delete cascade,
        cpu_seconds ${t.float} not null,
        updated_at text not null
      )`,
      `create table models (
        tenant_id text not null references tenants(id) on delete cascade,
        name text not null,
        latest_version integer not null,
        live_version integer,
        created_at text not null,
        primary key (tenant_id, name)
      )`,
      `create table model_versions (
        tenant_id text not null references tenants(id) on delete cascade,
        model text not null,
        version integer not null,
        mode text not null,
        task text not null,
        algorithm text not null,
        params text not null,
        metrics text not null,
        datasets text not null,
        artifact text not null,
        checksum text not null,
        job_id text unique,
        base text,
        created_at text not null,
        created_by text not null,
        primary key (tenant_id, model, version),
        foreign key (tenant_id, model) references models(tenant_id, name) on delete cascade
      )`,
    ],
    tenantTables: [
      { table: 'jobs', column: 'tenant_id' },
      { table: 'fair_share_usage', column: 'tenant_id' },
      { table: 'models', column: 'tenant_id' },
      { table: 'model_versions', column: 'tenant_id' },
    ],
  },
  {
    id: 3,
    name: 'model live-version history (promotion and rollback)',
    up: (t) => [
      // id orders the changes exactly; a rollback replays them to find the version live before.
      `create table model_live_history (
        id ${t.serialKey},
        tenant_id text not null references tenants(id) on delete cascade,
        model text not null,
        from_version integer,
        to_version integer not null,
        actor text not null,
        at text not null,
        reason text not null check (reason in ('promote', 'rollback')),
        foreign key (tenant_id, model) references models(tenant_id, name) on delete cascade
      )`,
      'create index model_live_history_model on model_live_history (tenant_id, model, id)',
    ],
    tenantTables: [{ table: 'model_live_history', column: 'tenant_id' }],
  },
  {
    id: 4,
    name: 'shared and tuned models: version status and taint, audience, provenance, advice',
    up: (t, dialect) => [
      // The backfills below read and write tenant rows. On PostgreSQL the owner is subject to the forced
      // row-level security too (unless a superuser), so the migration declares itself a system path,
      // transaction-local like every other use.
      ...(dialect === 'postgres' ? ["select set_config('app.scope', 'system', true)"] : []),
      `alter table model_versions add column status text not null default 'ok' check (status in ('ok', 'tainted'))`,
      'alter table model_versions add column tainted_at text',
      'alter table model_versions add column taint_reason text',
      // The base ref again as plain columns: "tuned versions on this base" is then one indexed query on
      // both dialects instead of JSON parsing.
      'alter table model_versions add column base_model text',
      'alter table model_versions add column base_version integer',
      ...backfillBase(dialect),
      'create index model_versions_base on model_versions (base_model, base_version)',
      // JSON: "all" or an array of tenant ids; null while a shared model is unpublished.
      'alter table models add column audience text',
      ...allowSuccessorChanges(dialect),
      // tenant_id is the namespace of the model version; source_tenant_id deliberately has no foreign key:
      // the row must outlive the source tenant, so that the operator still sees which shared versions
      // hold a deleted tenant's data.
      `create table model_provenance (
        id ${t.serialKey},
        tenant_id text not null references tenants(id) on delete cascade,
        model text not null,
        version integer not null,
        source_tenant_id text not null,
        dataset text not null,
        dataset_version integer not null,
        rows ${t.bigint} not null,
        via_model text,
        via_version integer,
        foreign key (tenant_id, model, version) references model_versions(tenant_id, model, version) on delete cascade
      )`,
      ...backfillProvenance(dialect),
      'create index model_provenance_version on model_provenance (tenant_id, model, version, id)',
      'create index model_provenance_source on model_provenance (source_tenant_id, dataset)',
      // seq orders a tenant's advice newest first even when two share a created_at.
      `create table advice (
        seq ${t.serialKey},
        id text not null,
        tenant_id text not null references tenants(id) on delete cascade,
        model text not null,
        dataset text not null,
        dataset_version integer not null,
        target text not null,
        shared text,
        jobs text not null,
        auto_promote ${t.bool} not null,
        state text not null check (state in ('running', 'done', 'failed')),
        result text,
        error text,
        created_at text not null,
        created_by text not null,
        finished_at text,
        unique (tenant_id, id)
      )`,
      'create index advice_list on advice (tenant_id, model, created_at, seq)',
    ],
    tenantTables: [
      { table: 'model_provenance', column: 'tenant_id' },
      { table: 'advice', column: 'tenant_id' },
    ],
  },
  {
    id: 5,
    name: 'the MLOps loop: monitoring windows and cursors, feedback, retraining policies, webhooks',
    up: (t) => [
      // One row per window of one version; re-folding a window replaces it (commit upserts on the key).
      `create table monitor_windows (
        tenant_id text not null references tenants(id) on delete cascade,
        model text not null,
        version integer not null,
        granularity text not null check (granularity in ('hour', 'day')),
        start text not null,
        rows ${t.bigint} not null,
        aggregate text not null,
        report text,
        updated_at text not null,
        primary key (tenant_id, model, version, granularity, start)
      )`,
      // The windows listing filters a model by granularity and reads newest first across versions.
      'create index monitor_windows_recent on monitor_windows (tenant_id, model, granularity, start)',
      // No foreign key to models: a tenant's cursor may follow a shared model (resolved from _shared).
      `create table monitor_cursors (
        tenant_id text not null references tenants(id) on delete cascade,
        model text not null,
        last_key text,
        updated_at text not null,
        primary key (tenant_id, model)
      )`,
      // seq orders feedback received in the same millisecond; label is JSON (string, number or boolean).
      `create table monitor_feedback (
        seq ${t.serialKey},
        tenant_id text not null references tenants(id) on delete cascade,
        model text not null,
        prediction_id text not null,
        label text not null,
        received_at text not null,
        state text not null check (state in ('pending', 'matched', 'unmatched')),
        unique (tenant_id, model, prediction_id)
      )`,
      'create index monitor_feedback_pending on monitor_feedback (tenant_id, model, state, received_at, seq)',
      `create table retrain_policies (
        tenant_id text not null references tenants(id) on delete cascade,
        model text not null,
        policy text not null,
        last_fired_at text,
        last_trigger text,
        updated_at text not null,
        primary key (tenant_id, model)
      )`,
      `create table webhooks (
        tenant_id text not null references tenants(id) on delete cascade,
        id text not null,
        url text not null,
        events text not null,
        secret ${t.bytes} not null,
        created_at text not null,
        created_by text not null,
        primary key (tenant_id, id)
      )`,
      // A delivery goes with its webhook (the cascade): it can only be read through the webhook, and its
      // payload names the tenant's models, so nothing should outlive the subscription.
      `create table webhook_deliveries (
        seq ${t.serialKey},
        id text not null unique,
        tenant_id text not null references tenants(id) on delete cascade,
        webhook_id text not null,
        event text not null,
        payload text not null,
        state text not null check (state in ('pending', 'delivered', 'failed')),
        attempts integer not null,
        next_attempt_at text,
        last_status integer,
        last_error text,
        created_at text not null,
        delivered_at text,
        foreign key (tenant_id, webhook_id) references webhooks(tenant_id, id) on delete cascade
      )`,
      'create index webhook_deliveries_due on webhook_deliveries (state, next_attempt_at)',
      'create index webhook_deliveries_list on webhook_deliveries (tenant_id, webhook_id, created_at, seq)',
    ],
    tenantTables: [
      { table: 'monitor_windows', column: 'tenant_id' },
      { table: 'monitor_cursors', column: 'tenant_id' },
      { table: 'monitor_feedback', column: 'tenant_id' },
      { table: 'retrain_policies', column: 'tenant_id' },
      { table: 'webhooks', column: 'tenant_id' },
      { table: 'webhook_deliveries', column: 'tenant_id' },
    ],
  },
  {
    id: 6,
    name: 'metering: usage events and their hourly rollup, budgets and their alerts, tier quota edits',
    up: (t) => [
      // One row per usage event; the id makes a replay a no-op (insert … on conflict do nothing). A
      // deleted tenant's usage goes with it (the cascade), like every other row of the tenant: the
      // operator's report of past months no longer shows it. `hour` is the start of the hour holding `at`
      // (ISO), from which the day and month of an event are read without date functions.
      `create table usage_events (
        id text primary key,
        tenant_id text not null references tenants(id) on delete cascade,
        kind text not null,
        quantity ${t.float} not null,
        at text not null,
        hour text not null,
        subject text,
        origin text not null check (origin in ('own', 'shared'))
      )`,
      'create index usage_events_range on usage_events (tenant_id, hour)',
      // The operator's sums read a range's partial first and last hours across tenants.
      'create index usage_events_hour on usage_events (hour)',
      // The hourly rollup that sums read: the events newly stored by a batch are added to it in the same
      // transaction, so a month costs at most hours × kinds × origins rows per tenant, however many events.
      `create table usage_hourly (
        tenant_id text not null references tenants(id) on delete cascade,
        hour text not null,
        kind text not null,
        origin text not null,
        quantity ${t.float} not null,
        primary key (tenant_id, hour, kind, origin)
      )`,
      // alert_at: JSON array of fractions of monthly.
      `create table budgets (
        tenant_id text primary key references tenants(id) on delete cascade,
        monthly ${t.float} not null,
        alert_at text not null,
        hard_limit ${t.bool} not null,
        block_predictions ${t.bool} not null,
        override_month text,
        updated_at text not null
      )`,
      // Not tied to the budget row: deleting and re-creating a budget does not alert the month again.
      `create table budget_alerts (
        tenant_id text not null references tenants(id) on delete cascade,
        month text not null,
        threshold ${t.float} not null,
        at text not null,
        primary key (tenant_id, month, threshold)
      )`,
      // Operator-level: the edited quotas of a tier (JSON object), layered over the built-in defaults.
      `create table tier_quotas (
        tier text primary key,
        quotas text not null,
        updated_at text not null
      )`,
    ],
    tenantTables: [
      { table: 'usage_events', column: 'tenant_id' },
      { table: 'usage_hourly', column: 'tenant_id' },
      { table: 'budgets', column: 'tenant_id' },
      { table: 'budget_alerts', column: 'tenant_id' },
    ],
    appTables: ['tier_quotas'],
  },
];

/** Fills base_model/base_version of tuned versions registered before migration 4. */
function backfillBase(dialect: SqlDialect): string[] {
  if (dialect === 'postgres')
    return [
      `update model_versions set base_model = base::json->>'model', base_version = (base::json->>'version')::integer
        where base is not null`,
    ];
  return [
    `update model_versions set base_model = json_extract(base, '$.model'), base_version = json_extract(base, '$.version')
      where base is not null`,
  ];
}

/**
 * Versions registered before migration 4 recorded their sources only in the datasets JSON; their rows
 * are copied out so that "which models hold tenant X's data" covers them too. (No version had a shared
 * base before this migration, so there are no via rows to make.)
 */
function backfillProvenance(dialect: SqlDialect): string[] {
  const columns = 'tenant_id, model, version, source_tenant_id, dataset, dataset_version, rows';
  if (dialect === 'postgres')
    return [
      `insert into model_provenance (${columns})
        select v.tenant_id, v.model, v.version, e.d->>'tenantId', e.d->>'name', (e.d->>'version')::integer,
          (e.d->>'rows')::bigint
        from model_versions v cross join lateral json_array_elements(v.datasets::json) with ordinality as e(d, n)
        order by v.tenant_id, v.model, v.version, e.n`,
    ];
  return [
    `insert into model_provenance (${columns})
      select v.tenant_id, v.model, v.version, json_extract(d.value, '$.tenantId'), json_extract(d.value, '$.name'),
        json_extract(d.value, '$.version'), json_extract(d.value, '$.rows')
      from model_versions v, json_each(v.datasets) d
      order by v.tenant_id, v.model, v.version, d.key`,
  ];
}

/**
 * model_live_history's reason check gains 'successor'. PostgreSQL swaps the constraint; SQLite cannot alter
 * a check, so the table is rebuilt with its rows, ids and index (nothing references it).
 */
function allowSuccessorChanges(dialect: SqlDialect): string[] {
  const check = "check (reason in ('promote', 'rollback', 'successor'))";
  if (dialect === 'postgres')
    return [
      'alter table model_live_history drop constraint model_live_history_reason_check',
      `alter table model_live_history add constraint model_live_history_reason_check ${check}`,
    ];
  return [
    `create table model_live_history_v4 (
      id integer primary key autoincrement,
      tenant_id text not null references tenants(id) on delete cascade,
      model text not null,
      from_version integer,
      to_version integer not null,
      actor text not null,
      at text not null,
      reason text not null ${check},
      foreign key (tenant_id, model) references models(tenant_id, name) on delete cascade
    )`,
    `insert into model_live_history_v4 (id, tenant_id, model, from_version, to_version, actor, at, reason)
      select id, tenant_id, model, from_version, to_version, actor, at, reason from model_live_history`,
    'drop table model_live_history',
    'alter table model_live_history_v4 rename to model_live_history',
    'create index model_live_history_model on model_live_history (tenant_id, model, id)',
  ];
}

/** Every tenant-owned table of the current schema. */
export function tenantTables(): TenantTable[] {
  return MIGRATIONS.flatMap((m) => m.tenantTables);
}

// Arbitrary constant: the advisory lock key that serializes migration runs within one database.
const MIGRATION_LOCK_KEY = 74_176_330_001;

/**
 * The application role is cluster-wide, so another database of the same cluster may be creating it at
 * this very moment (parallel test suites do): a duplicate is tolerated. When the owner is not a superuser
 * it must be a member of the role to `SET ROLE` to it; that grant is attempted and may be refused.
 */
const ENSURE_APP_ROLE = `
do $$
begin
  if not exists (select 1 from pg_roles where rolname = '${APP_ROLE}') then
    begin
      create role ${APP_ROLE} nologin nosuperuser nobypassrls nocreatedb nocreaterole;
    exception when duplicate_object or unique_violation then null;
    end;
  end if;
  if not (select rolsuper from pg_roles where rolname = current_user)
     and not pg_has_role(current_user, '${APP_ROLE}', 'MEMBER') then
    begin
      execute format('grant ${APP_ROLE} to %I', current_user);
    exception when insufficient_privilege or invalid_grant_operation then null;
    end;
  end if;
  execute format('grant usage on schema %I to ${APP_ROLE}', current_schema());
end
$$`;

/**
 * The one policy of every tenant-owned table. A row is visible (and writable) when its tenant column
 * equals the transaction's `app.tenant_id`, or when the transaction declared itself a system path with
 * `app.scope = 'system'` (tenant administration, key lookup during authentication, the operator's audit
 * listing). Both are set with set_config(…, true), so they end with the transaction and a pooled
 * connection never carries them into the next one; unset, current_setting(…, true) is null or '' and
 * matches nothing.
 */
export function tenantPolicy(table: string, column: string): string[] {
  const rule = `${column} = current_setting('app.tenant_id', true) or current_setting('app.scope', true) = 'system'`;
  return [
    `alter table ${table} enable row level security`,
    `alter table ${table} force row level security`,
    `create policy tenant_isolation on ${table} using (${rule}) with check (${rule})`,
    `grant select, insert, update, delete on ${table} to ${APP_ROLE}`,
  ];
}

/**
 * Applies the pending migrations; returns the ids applied by this call. Runs on an owner connection
 * (PostgreSQL: the admin URL, before any `SET ROLE`). `upTo` stops after that migration: tests build a
 * database as an older release left it, then upgrade it.
 */
export async function migrate(
  // biome-ignore lint/suspicious/noExplicitAny: runs before and beneath the typed schema
  db: Kysely<any>,
  dialect: SqlDialect,
  upTo = Number.POSITIVE_INFINITY,
): Promise<number[]> {
  return db.connection().execute(async (conn) => {
    const run = (text: string) => sql.raw(text).execute(conn);
    await run(dialect === 'postgres' ? 'begin' : 'begin immediate');
    try {
      if (dialect === 'postgres') {
        await run(`select pg_advisory_xact_lock(${MIGRATION_LOCK_KEY})`);
        await run(ENSURE_APP_ROLE);
      }
      await run(
        'create table if not exists schema_migrations (id integer primary key, name text not null, applied_at text not null)',
      );
      const done = await sql<{ id: number }>`select id from schema_migrations`.execute(conn);
      const applied = new Set(done.rows.map((r) => Number(r.id)));
      const now = new Date().toISOString();
      const ran: number[] = [];
      for (const m of MIGRATIONS) {
        if (applied.has(m.id) || m.id > upTo) continue;
        for (const stmt of m.up(TYPES[dialect], dialect)) await run(stmt);
        if (dialect === 'postgres') {
          for (const t of m.tenantTables) for (const stmt of tenantPolicy(t.table, t.column)) await run(stmt);
          for (const table of m.appTables ?? [])
            await run(`grant select, insert, update, delete on ${table} to ${APP_ROLE}`);
        }
        await sql`insert into schema_migrations (id, name, applied_at) values (${m.id}, ${m.name}, ${now})`.execute(
          conn,
        );
        ran.push(m.id);
      }
      await run('commit');
      return ran;
    } catch (e) {
      await run('rollback').catch(() => {});
      throw e;
    }
  });
}
