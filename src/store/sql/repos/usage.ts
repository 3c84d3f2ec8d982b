// Metered usage (docs/metering.md). A batch is stored in one system transaction:
// 1. the events, in chunks of one statement each: `insert … select … from (values …) join tenants …
//    on conflict (id) do nothing returning …`, so a replayed id is skipped and an event of a tenant that
//    no longer exists is dropped instead of failing the foreign key;
// 2. what those statements returned — the events newly stored, and only those — added to the hourly
//    rollup `usage_hourly` (tenant, hour, kind, origin), in key order.
// Sums read the rollup for the whole hours of a range and the events themselves only for a partial first
// or last hour, so a month costs at most hours × kinds × origins rows per tenant however many events the
// meter wrote. Periods come from the hour (`YYYY-MM-DDTHH:00:00.000Z`), whose prefixes are the day and month.
import { type RawBuilder, sql } from 'kysely';
import {
  type Granularity,
  nextPeriod,
  periodStart,
  type UsageEvent,
  type UsageKind,
  type UsageOrigin,
} from '../../../core/metering.ts';
import type { TenantScope } from '../../../core/scope.ts';
import type { UsageQuery, UsageRepo, UsageSum } from '../../ports.ts';
import type { Db, SqlContext } from '../context.ts';
import { num } from './rows.ts';

/** Rows per statement: at most 8 parameters each, far below both databases' parameter limits. */
const CHUNK = 1000;

/** PostgreSQL's foreign_key_violation: a tenant deleted between the join and the insert's check. */
const FK_VIOLATION = '23503';

/** The start of the period of a row, from its hour column; constants only. */
const PERIOD: Record<Granularity, RawBuilder<string>> = {
  hour: sql<string>`hour`,
  day: sql<string>`substr(hour, 1, 10) || 'T00:00:00.000Z'`,
  month: sql<string>`substr(hour, 1, 7) || '-01T00:00:00.000Z'`,
};

const iso = (t: string): string => new Date(t).toISOString();
const byText = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

interface Added {
  tenant_id: string;
  hour: string;
  kind: string;
  origin: string;
  quantity: number | string;
}

/** Inserts one chunk; returns the rows it stored (replays and unknown tenants are not among them). */
async function insertChunk(trx: Db, rows: UsageEvent[]): Promise<Added[]> {
  const values = sql.join(
    rows.map(
      (e) =>
        sql`(${e.id}, ${e.tenantId}, ${e.kind}, ${e.quantity}, ${iso(e.at)}, ${periodStart(e.at, 'hour')}, ${e.subject}, ${e.origin})`,
    ),
  );
  // VALUES columns are column1…column8 on both databases. `where true` lets SQLite parse the upsert
  // clause after a select.
  const r =
    await sql<Added>`insert into usage_events (id, tenant_id, kind, quantity, at, hour, subject, origin)
    select v.column1, v.column2, v.column3, cast(v.column4 as double precision), v.column5, v.column6,
      v.column7, v.column8
    from (values ${values}) as v
    join tenants t on t.id = v.column2
    where true
    on conflict (id) do nothing
    returning tenant_id, hour, kind, origin, quantity`.execute(trx);
  return r.rows;
}

/** Adds the newly stored events to the hourly rollup, one statement per chunk of keys, in key order. */
async function addToRollup(trx: Db, added: Added[]): Promise<void> {
  const sums = new Map<string, Added & { quantity: number }>();
  for (const a of added) {
    const key = `${a.tenant_id}\u0000${a.hour}\u0000${a.kind}\u0000${a.origin}`;
    const s = sums.get(key);
    if (s) s.quantity += num(a.quantity);
    else sums.set(key, { ...a, quantity: num(a.quantity) });
  }
  // Key order: concurrent batches lock the rows they share in one order, so they never deadlock.
  const rows = [...sums].sort(([a], [b]) => byText(a, b)).map(([, s]) => s);
  for (let i = 0; i < rows.length; i += CHUNK) {
    await trx
      .insertInto('usage_hourly')
      .values(rows.slice(i, i + CHUNK))
      .onConflict((oc) =>
        oc
          .columns(['tenant_id', 'hour', 'kind', 'origin'])
          .doUpdateSet({ quantity: sql<number>`usage_hourly.quantity + excluded.quantity` }),
      )
      .execute();
  }
}

type Row = { tenant_id: string; period: string; kind: string; origin: string; quantity: number | string };

/** Whole hours [fromHour, toHour) from the rollup. */
function rollupSums(trx: Db, g: Granularity, fromHour: string, toHour: string, tenantId: string | null) {
  const period = PERIOD[g];
  let q = trx
    .selectFrom('usage_hourly')
    .select(['tenant_id', period.as('period'), 'kind', 'origin', sql<number>`sum(quantity)`.as('quantity')])
    .where('hour', '>=', fromHour)
    .where('hour', '<', toHour);
  if (tenantId !== null) q = q.where('tenant_id', '=', tenantId);
  return q.groupBy(['tenant_id', period, 'kind', 'origin']).execute() as Promise<Row[]>;
}

/** Part of one hour, [from, to) on the events' instants. */
function partialHourSums(
  trx: Db,
  g: Granularity,
  hour: string,
  from: string,
  to: string,
  tenantId: string | null,
) {
  const period = PERIOD[g];
  let q = trx
    .selectFrom('usage_events')
    .select(['tenant_id', period.as('period'), 'kind', 'origin', sql<number>`sum(quantity)`.as('quantity')])
    .where('hour', '=', hour)
    .where('at', '>=', from)
    .where('at', '<', to);
  if (tenantId !== null) q = q.where('tenant_id', '=', tenantId);
  return q.groupBy(['tenant_id', period, 'kind', 'origin']).execute() as Promise<Row[]>;
}

async function sumsOf(trx: Db, q: UsageQuery, tenantId: string | null): Promise<UsageSum[]> {
  const from = iso(q.from);
  const to = iso(q.to);
  if (!(from < to)) return [];
  const g = q.granularity;
  const fromFloor = periodStart(from, 'hour');
  // The first whole hour and the end of the last one.
  const firstWhole = fromFloor === from ? from : nextPeriod(fromFloor, 'hour');
  const endWhole = periodStart(to, 'hour');
  const parts: Row[][] = [];
  if (firstWhole > endWhole) {
    // from and to lie in the same hour.
    parts.push(await partialHourSums(trx, g, fromFloor, from, to, tenantId));
  } else {
    if (from < firstWhole) parts.push(await partialHourSums(trx, g, fromFloor, from, firstWhole, tenantId));
    if (firstWhole < endWhole) parts.push(await rollupSums(trx, g, firstWhole, endWhole, tenantId));
    if (endWhole < to) parts.push(await partialHourSums(trx, g, endWhole, endWhole, to, tenantId));
  }
  const merged = new Map<string, UsageSum>();
  for (const rows of parts)
    for (const r of rows) {
      const key = `${r.tenant_id}\u0000${r.period}\u0000${r.kind}\u0000${r.origin}`;
      const s = merged.get(key);
      if (s) s.quantity += num(r.quantity);
      else
        merged.set(key, {
          tenantId: r.tenant_id,
          period: r.period,
          kind: r.kind as UsageKind,
          origin: r.origin as UsageOrigin,
          quantity: num(r.quantity),
        });
    }
  return [...merged].sort(([a], [b]) => byText(a, b)).map(([, s]) => s);
}

export function usageRepo(ctx: SqlContext): UsageRepo {
  const insertAll = (events: UsageEvent[]) =>
    ctx.system(async (trx) => {
      const added: Added[] = [];
      for (let i = 0; i < events.length; i += CHUNK)
        added.push(...(await insertChunk(trx, events.slice(i, i + CHUNK))));
      await addToRollup(trx, added);
      return added;
    });
  return {
    record: async (events, opts) => {
      if (events.length === 0) return 0;
      const stored = await insertUnique(events);
      // After the commit: only what is now stored for good is reported.
      if (opts?.onStored)
        for (const a of stored)
          opts.onStored({ tenantId: a.tenant_id, kind: a.kind as UsageKind, quantity: num(a.quantity) });
      return stored.length;
    },

    sums: (scope: TenantScope, q) => ctx.scoped(scope, (trx) => sumsOf(trx, q, scope.tenantId)),

    sumsAll: (q) => ctx.system((trx) => sumsOf(trx, q, null)),
  };

  async function insertUnique(events: UsageEvent[]): Promise<Added[]> {
    // The same id twice in one batch is one event (the insert would skip it too; this keeps chunks small).
    // Sorted by id: concurrent batches that share ids wait on each other in one order, never deadlock.
    const unique = [...new Map(events.map((e) => [e.id, e])).values()].sort((a, b) => byText(a.id, b.id));
    try {
      return await insertAll(unique);
    } catch (e) {
      // A tenant deleted while the batch was inserted: the retry's join no longer finds it.
      if ((e as { code?: string }).code === FK_VIOLATION) return insertAll(unique);
      throw e;
    }
  }
}
