// Metered usage (docs/metering.md). Events are inserted in chunks of one statement each, inside one system
// transaction per batch: `insert … select … from (values …) join tenants … on conflict (id) do nothing`,
// so a replayed id is skipped and an event of a tenant that no longer exists is dropped instead of
// failing the foreign key. Sums group by the stored `hour` column, whose prefixes are the day and month.
import { type RawBuilder, sql } from 'kysely';
import {
  type Granularity,
  periodStart,
  type UsageEvent,
  type UsageKind,
  type UsageOrigin,
} from '../../../core/metering.ts';
import type { TenantScope } from '../../../core/scope.ts';
import type { UsageQuery, UsageRepo, UsageSum } from '../../ports.ts';
import type { Db, SqlContext } from '../context.ts';
import { num } from './rows.ts';

/** Rows per insert statement: 7 parameters each stays far below both databases' parameter limits. */
const CHUNK = 1000;

/** PostgreSQL's foreign_key_violation: a tenant deleted between the join and the insert's check. */
const FK_VIOLATION = '23503';

/** The start of the period of an event, from its hour (`YYYY-MM-DDTHH:00:00.000Z`); constants only. */
const PERIOD: Record<Granularity, RawBuilder<string>> = {
  hour: sql<string>`hour`,
  day: sql<string>`substr(hour, 1, 10) || 'T00:00:00.000Z'`,
  month: sql<string>`substr(hour, 1, 7) || '-01T00:00:00.000Z'`,
};

const iso = (t: string): string => new Date(t).toISOString();

async function insertChunk(trx: Db, rows: UsageEvent[]): Promise<number> {
  const values = sql.join(
    rows.map(
      (e) =>
        sql`(${e.id}, ${e.tenantId}, ${e.kind}, ${e.quantity}, ${iso(e.at)}, ${periodStart(e.at, 'hour')}, ${e.subject}, ${e.origin})`,
    ),
  );
  // VALUES columns are column1…column8 on both databases. `where true` lets SQLite parse the upsert
  // clause after a select.
  const r = await sql`insert into usage_events (id, tenant_id, kind, quantity, at, hour, subject, origin)
    select v.column1, v.column2, v.column3, cast(v.column4 as double precision), v.column5, v.column6,
      v.column7, v.column8
    from (values ${values}) as v
    join tenants t on t.id = v.column2
    where true
    on conflict (id) do nothing`.execute(trx);
  return Number(r.numAffectedRows ?? 0n);
}

function toSum(r: {
  tenant_id: string;
  period: string;
  kind: string;
  origin: string;
  quantity: number | string;
}): UsageSum {
  return {
    tenantId: r.tenant_id,
    period: r.period,
    kind: r.kind as UsageKind,
    origin: r.origin as UsageOrigin,
    quantity: num(r.quantity),
  };
}

async function sumsOf(trx: Db, q: UsageQuery, tenantId: string | null): Promise<UsageSum[]> {
  const from = iso(q.from);
  const to = iso(q.to);
  const period = PERIOD[q.granularity];
  let query = trx
    .selectFrom('usage_events')
    .select(['tenant_id', period.as('period'), 'kind', 'origin', sql<number>`sum(quantity)`.as('quantity')])
    // hour <= at, so these bounds on hour only narrow the index range; `at` decides.
    .where('hour', '>=', periodStart(from, 'hour'))
    .where('hour', '<', to)
    .where('at', '>=', from)
    .where('at', '<', to);
  if (tenantId !== null) query = query.where('tenant_id', '=', tenantId);
  const rows = await query
    .groupBy(['tenant_id', period, 'kind', 'origin'])
    .orderBy('tenant_id')
    .orderBy(period)
    .orderBy('kind')
    .orderBy('origin')
    .execute();
  return rows.map(toSum);
}

export function usageRepo(ctx: SqlContext): UsageRepo {
  const insertAll = (events: UsageEvent[]) =>
    ctx.system(async (trx) => {
      let added = 0;
      for (let i = 0; i < events.length; i += CHUNK)
        added += await insertChunk(trx, events.slice(i, i + CHUNK));
      return added;
    });
  return {
    record: async (events) => {
      if (events.length === 0) return 0;
      // The same id twice in one batch is one event (the insert would skip it too; this keeps chunks small).
      // Sorted by id: concurrent batches that share ids wait on each other in one order, never deadlock.
      const unique = [...new Map(events.map((e) => [e.id, e])).values()].sort((a, b) =>
        a.id < b.id ? -1 : a.id > b.id ? 1 : 0,
      );
      try {
        return await insertAll(unique);
      } catch (e) {
        // A tenant deleted while the batch was inserted: the retry's join no longer finds it.
        if ((e as { code?: string }).code === FK_VIOLATION) return insertAll(unique);
        throw e;
      }
    },

    sums: (scope: TenantScope, q) => ctx.scoped(scope, (trx) => sumsOf(trx, q, scope.tenantId)),

    sumsAll: (q) => ctx.system((trx) => sumsOf(trx, q, null)),
  };
}
